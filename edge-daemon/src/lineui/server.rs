//! The line screen's axum router: the embedded page, login, the job's facts, the live counters
//! (SSE) and the four buttons.

use super::controller::{LineController, LineView, Refused};
use crate::ui::auth::{COOKIE, Session, Sessions, check_users, token_from_cookies};
use crate::ui::{UiError, UiUser};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

const INDEX: &str = include_str!("assets/index.html");
const LINE_JS: &str = include_str!("assets/line.js");
const LINE_CSS: &str = include_str!("assets/line.css");

/// What the screen says about the job besides the counters.
#[derive(Debug, Clone, Serialize)]
pub struct LineInfo {
    pub line_name: String,
    pub job: String,
    pub batch: String,
    pub template: String,
    pub product: String,
    /// GTIN or the enterprise's product code, from the template.
    pub product_code: Option<String>,
    /// Protocol and address.
    pub coder: String,
    pub target: u64,
    pub high_water: u32,
}

pub struct LineUiState {
    pub controller: LineController,
    pub info: LineInfo,
    users: Vec<UiUser>,
    sessions: Sessions,
    /// Set when the server stops: live streams end, so the graceful shutdown is not held up
    /// by a screen that stays connected.
    stopping: tokio::sync::watch::Receiver<bool>,
}

/// A running line screen.
pub struct LineUiServer {
    pub addr: SocketAddr,
    state: Arc<LineUiState>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for LineUiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineUiServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl LineUiServer {
    pub fn controller(&self) -> &LineController {
        &self.state.controller
    }

    /// Stop the job cleanly (what is in flight is settled), then stop serving.
    pub async fn stop(self) {
        self.state.controller.shutdown().await;
        let _ = self.stop.send(true);
        if tokio::time::timeout(std::time::Duration::from_secs(5), self.task)
            .await
            .is_err()
        {
            tracing::warn!("line screen: requests still open after 5 s; leaving them");
        }
    }
}

/// Bind `listen` and serve the screen for `controller`'s job. Inside a runtime.
pub async fn serve(
    listen: SocketAddr,
    controller: LineController,
    info: LineInfo,
    users: Vec<UiUser>,
) -> Result<LineUiServer, UiError> {
    check_users(&users).map_err(UiError::Config)?;
    let bind_err = |e: std::io::Error| UiError::Bind {
        addr: listen.to_string(),
        detail: e.to_string(),
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    let (stop, mut stop_rx) = tokio::sync::watch::channel(false);
    let state = Arc::new(LineUiState {
        controller,
        info,
        users,
        sessions: Sessions::default(),
        stopping: stop_rx.clone(),
    });
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "line screen server stopped");
        }
    });
    Ok(LineUiServer {
        addr,
        state,
        stop,
        task,
    })
}

pub fn router(state: Arc<LineUiState>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { page(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/line.js",
            get(|| async { page(LINE_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/line.css",
            get(|| async { page(LINE_CSS, "text/css; charset=utf-8") }),
        )
        .route("/api/i18n/{lang}", get(i18n))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/boot", get(boot))
        .route("/api/events", get(events))
        .route("/api/control", post(control))
        .route("/api/reconcile", get(reconcile))
        .with_state(state)
}

fn page(body: &'static str, ct: &'static str) -> Response {
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

fn refuse(code: StatusCode, key: &str) -> Response {
    (code, Json(json!({ "error": key }))).into_response()
}

/// No session: 401 with the key the page shows.
struct NotLoggedIn;

impl IntoResponse for NotLoggedIn {
    fn into_response(self) -> Response {
        refuse(StatusCode::UNAUTHORIZED, "err_login")
    }
}

fn session(st: &LineUiState, headers: &HeaderMap) -> Result<Session, NotLoggedIn> {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(token_from_cookies)
        .and_then(|t| st.sessions.get(t))
        .ok_or(NotLoggedIn)
}

async fn i18n(Path(lang): Path<String>) -> Response {
    match super::i18n::catalogue(&lang) {
        Some(v) => Json(v).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Deserialize)]
struct LoginBody {
    pin: String,
}

async fn login(State(st): State<Arc<LineUiState>>, Json(b): Json<LoginBody>) -> Response {
    match st.sessions.login(&st.users, &b.pin) {
        Some((token, s)) => {
            let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
            let mut r = Json(json!({"user": s.user, "role": s.role})).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        None => refuse(StatusCode::UNAUTHORIZED, "err_pin"),
    }
}

async fn logout(State(st): State<Arc<LineUiState>>, headers: HeaderMap) -> Response {
    if let Some(t) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(token_from_cookies)
    {
        st.sessions.logout(t);
    }
    Json(json!({"ok": true})).into_response()
}

async fn boot(State(st): State<Arc<LineUiState>>, headers: HeaderMap) -> Response {
    let s = match session(&st, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    Json(json!({
        "user": s.user,
        "role": s.role,
        "info": st.info,
        "view": st.controller.view(),
    }))
    .into_response()
}

/// The counters, pushed: the current view at once, then every change.
async fn events(
    State(st): State<Arc<LineUiState>>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, NotLoggedIn> {
    session(&st, &headers)?;
    let mut rx = st.controller.subscribe();
    let first = rx.borrow_and_update().clone();
    let live = futures::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let v: LineView = rx.borrow_and_update().clone();
        Some((v, rx))
    });
    use futures::StreamExt;
    let mut stopping = st.stopping.clone();
    let stream = futures::stream::iter([first])
        .chain(live)
        .take_until(async move {
            let _ = stopping.wait_for(|s| *s).await;
        })
        .map(|v| Ok(SseEvent::default().data(serde_json::to_string(&v).unwrap_or_default())));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Start,
    Pause,
    Resume,
    Stop,
}

#[derive(Deserialize)]
struct ControlBody {
    action: Action,
}

async fn control(
    State(st): State<Arc<LineUiState>>,
    headers: HeaderMap,
    Json(b): Json<ControlBody>,
) -> Response {
    let s = match session(&st, &headers) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let c = &st.controller;
    let done = match b.action {
        Action::Start => c.start().await,
        Action::Pause => c.pause(),
        Action::Resume => c.resume(),
        Action::Stop => c.stop(),
    };
    match done {
        Ok(()) => {
            tracing::info!(user = %s.user, job = %st.info.job, action = ?action_name(&b.action), "line control");
            Json(json!({"ok": true})).into_response()
        }
        Err(r @ (Refused::State | Refused::Done)) => refuse(StatusCode::CONFLICT, r.key()),
    }
}

fn action_name(a: &Action) -> &'static str {
    match a {
        Action::Start => "start",
        Action::Pause => "pause",
        Action::Resume => "resume",
        Action::Stop => "stop",
    }
}

async fn reconcile(State(st): State<Arc<LineUiState>>, headers: HeaderMap) -> Response {
    if let Err(r) = session(&st, &headers) {
        return r.into_response();
    }
    let st2 = st.clone();
    match tokio::task::spawn_blocking(move || st2.controller.reconcile()).await {
        Ok(Ok(r)) => Json(json!({"batch": st.info.batch, "reconcile": r})).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "line reconcile failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "err_store")
        }
        Err(e) => {
            tracing::error!(error = %e, "line reconcile task failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "err_store")
        }
    }
}
