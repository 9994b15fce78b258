//! The axum router: the embedded page, the JSON API and the live event stream.

use super::auth::{COOKIE, Role, Session, check_users, token_from_cookies};
use super::books;
use super::devices::{DeviceHub, UiEvent};
use super::options::{UiError, UiOptions};
use super::purchase::{PurchaseError, fill_from_scan, record, store_photo};
use super::records::{self, all_users, current_products};
use super::sale::{SaleError, recent_tickets, repay, reprint, sell};
use super::state::{StoreError, UiState};
use crate::ledger::WriterHandle;
use crate::stall::FieldError;
use crate::stall::purchase::PurchaseInput;
use crate::stall::sale::SaleInput;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use trace_core::Event;
use trace_core::event::{PaymentMethod, Void};

const INDEX: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// A running UI server.
pub struct UiServer {
    pub addr: SocketAddr,
    state: Arc<UiState>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for UiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl UiServer {
    pub fn state(&self) -> &Arc<UiState> {
        &self.state
    }

    /// Stop serving, let requests in flight finish, stop the device supervisors.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        if let Ok(s) = Arc::try_unwrap(self.state) {
            s.devices.shutdown().await;
        }
    }
}

/// Check the options, start the devices, bind `ui.listen` and serve. Inside a runtime.
pub async fn start(opts: UiOptions, writer: WriterHandle) -> Result<UiServer, UiError> {
    for w in check_users(&opts.ui.users).map_err(UiError::Config)? {
        tracing::warn!("{w}");
    }
    let listener = tokio::net::TcpListener::bind(opts.ui.listen)
        .await
        .map_err(|e| UiError::Bind {
            addr: opts.ui.listen.to_string(),
            detail: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| UiError::Bind {
        addr: opts.ui.listen.to_string(),
        detail: e.to_string(),
    })?;
    let devices = DeviceHub::start(&opts.ui.devices, opts.ui.paper_mm).map_err(UiError::Devices)?;
    let state =
        Arc::new(UiState::new(opts, writer, devices).map_err(|e| UiError::Config(e.to_string()))?);
    let (stop, mut stop_rx) = tokio::sync::watch::channel(false);
    let app = router(state.clone());
    let poll_state = state.clone();
    let mut poll_stop = stop_rx.clone();
    tokio::spawn(async move {
        loop {
            poll_state.devices.poll_printer().await;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = poll_stop.changed() => return,
            }
        }
    });
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "local UI server stopped");
        }
    });
    Ok(UiServer {
        addr,
        state,
        stop,
        task,
    })
}

pub fn router(state: Arc<UiState>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { page(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/app.js",
            get(|| async { page(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/app.css",
            get(|| async { page(APP_CSS, "text/css; charset=utf-8") }),
        )
        .route("/api/i18n/{lang}", get(i18n))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/boot", get(boot))
        .route("/api/events", get(events))
        .route("/api/sale", post(sale))
        .route("/api/sale/{seq}/reprint", post(reprint_h))
        .route("/api/tickets", get(tickets))
        .route("/api/void/{seq}", post(void))
        .route("/api/credit", get(credit))
        .route("/api/repayment", post(repayment))
        .route("/api/customers", post(records::add_customer))
        .route("/api/suppliers", post(records::add_supplier))
        .route("/api/partners", get(records::list_partners))
        .route(
            "/api/products",
            get(records::list_products).post(records::save_product),
        )
        .route(
            "/api/staff",
            get(records::list_staff).post(records::save_staff),
        )
        .route("/api/scale/push", post(records::push_scale))
        .route("/api/ledger", get(books::ledger))
        .route("/api/ledger.csv", get(books::ledger_csv))
        .route("/api/ledger/sale/{seq}/{line}", get(books::line_sources))
        .route("/api/ledger/attribution", post(books::attribute))
        .route("/api/cash/categories", get(books::cash_categories))
        .route("/api/cash/category", post(books::add_category))
        .route("/api/cash", post(books::record_cash))
        .route("/api/cash/summary", get(books::summary))
        .route("/api/inspections", get(books::inspections))
        .route("/api/board/exit", post(books::board_exit))
        .route("/api/scan", post(scan))
        .route("/api/label", post(super::label::read_label))
        .route("/api/purchase", post(purchase))
        .route(
            "/api/photo",
            post(photo).layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route("/api/report/daily", get(daily))
        .with_state(state)
}

fn page(body: &'static str, ct: &'static str) -> Response {
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

/// What a handler answers when it does not succeed.
pub enum ApiError {
    Login,
    Forbidden,
    NotFound,
    Invalid(Vec<FieldError>),
    Store(StoreError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Store(e)
    }
}

impl From<SaleError> for ApiError {
    fn from(e: SaleError) -> Self {
        match e {
            SaleError::Invalid(v) => ApiError::Invalid(v),
            SaleError::Store(s) => ApiError::Store(s),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, body) = match self {
            ApiError::Login => (StatusCode::UNAUTHORIZED, json!({"error": "err_login"})),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, json!({"error": "err_forbidden"})),
            ApiError::NotFound => (StatusCode::NOT_FOUND, json!({"error": "err_not_found"})),
            ApiError::Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "err_form", "errors": errors}),
            ),
            ApiError::Store(e) => {
                tracing::error!(error = %e, "local UI request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "err_store", "detail": e.to_string()}),
                )
            }
        };
        (code, Json(body)).into_response()
    }
}

pub type ApiResult = Result<Json<Value>, ApiError>;

pub fn session(state: &UiState, headers: &HeaderMap) -> Result<Session, ApiError> {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(token_from_cookies)
        .and_then(|t| state.sessions.get(t))
        .ok_or(ApiError::Login)
}

pub fn owner(state: &UiState, headers: &HeaderMap) -> Result<Session, ApiError> {
    let s = session(state, headers)?;
    if s.role == Role::Owner {
        Ok(s)
    } else {
        Err(ApiError::Forbidden)
    }
}

async fn i18n(Path(lang): Path<String>) -> Response {
    match super::i18n::catalogue(&lang) {
        Some(v) => Json(v).into_response(),
        None => ApiError::NotFound.into_response(),
    }
}

#[derive(Deserialize)]
struct LoginBody {
    pin: String,
}

async fn login(State(st): State<Arc<UiState>>, Json(b): Json<LoginBody>) -> Response {
    let users = match all_users(&st).await {
        Ok(u) => u,
        Err(e) => return ApiError::Store(e).into_response(),
    };
    // argon2 per hashed user: off the async threads.
    let sessions = st.clone();
    let found = tokio::task::spawn_blocking(move || {
        let users: Vec<_> = users.into_iter().map(|(_, u)| u).collect();
        sessions.sessions.login(&users, &b.pin)
    })
    .await
    .ok()
    .flatten();
    match found {
        Some((token, s)) => {
            let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
            let mut r = Json(json!({"user": s.user, "role": s.role})).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        None => (StatusCode::UNAUTHORIZED, Json(json!({"error": "err_pin"}))).into_response(),
    }
}

async fn logout(State(st): State<Arc<UiState>>, headers: HeaderMap) -> Json<Value> {
    if let Some(t) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(token_from_cookies)
    {
        st.sessions.logout(t);
    }
    Json(json!({"ok": true}))
}

fn partners(c: &rusqlite::Connection, role: &str) -> Result<Vec<Value>, StoreError> {
    let mut s = c.prepare_cached(
        "SELECT partner_id, name FROM stall_partners WHERE role = ?1 AND removed = 0 ORDER BY name",
    )?;
    let rows = s.query_map([role], |r| {
        Ok(json!({"id": r.get::<_, String>(0)?, "name": r.get::<_, String>(1)?}))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// 当日进货 per product: today's latest batch, its origin and the total bought today, shown
/// on the product keys.
fn todays_lots(c: &rusqlite::Connection) -> Result<Value, StoreError> {
    let since = crate::stall::day::day_start(trace_core::Timestamp::now().0);
    let mut s = c.prepare_cached(
        "SELECT product, batch, origin, grams, count FROM stall_lots \
         WHERE at >= ?1 AND voided = 0 ORDER BY seq",
    )?;
    let mut out = serde_json::Map::new();
    let rows = s.query_map([since], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    for row in rows {
        let (product, batch, origin, g, n) = row?;
        let prev = out.get(&product);
        let grams = prev.and_then(|p| p["grams"].as_i64()).unwrap_or(0) + g;
        let count = prev.and_then(|p| p["count"].as_i64()).unwrap_or(0) + n;
        out.insert(
            product,
            json!({"batch": batch, "origin": origin, "grams": grams, "count": count}),
        );
    }
    Ok(Value::Object(out))
}

async fn boot(State(st): State<Arc<UiState>>, headers: HeaderMap) -> ApiResult {
    let s = session(&st, &headers)?;
    let (customers, suppliers, today, lot_suppliers) = st
        .db(|c| {
            let mut s = c.prepare_cached(
                "SELECT DISTINCT supplier FROM stall_lots ORDER BY supplier LIMIT 500",
            )?;
            let lot_suppliers = s
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok((
                partners(c, "customer")?,
                partners(c, "supplier")?,
                todays_lots(c)?,
                lot_suppliers,
            ))
        })
        .await?;
    let products = current_products(&st).await?;
    let ui = &st.opts.ui;
    Ok(Json(json!({
        "user": s.user,
        "role": s.role,
        "stall": {"market": ui.market, "name": ui.stall_name, "no": ui.stall_no},
        "products": products,
        "today": today,
        "lot_suppliers": lot_suppliers,
        "customers": customers,
        "suppliers": suppliers,
        "weight": st.devices.weight(),
        "printer": st.devices.printer_state(),
        "regions": super::regions::all(),
        "max_photo_kb": ui.max_photo_kb,
    })))
}

async fn events(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    session(&st, &headers)?;
    let w = st.devices.weight();
    // The current state first, so a page that (re)connects is right at once.
    let first = vec![
        UiEvent::Weight {
            grams: w.grams,
            stable: w.stable,
            ok: w.ok,
            connected: w.connected,
        },
        UiEvent::Printer {
            state: st.devices.printer_state(),
        },
    ];
    let rx = st.devices.subscribe();
    let live = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(ev) => return Some((ev, rx)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    use futures::StreamExt;
    let stream = futures::stream::iter(first)
        .chain(live)
        .map(|ev| Ok(SseEvent::default().data(serde_json::to_string(&ev).unwrap_or_default())));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn sale(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(input): Json<SaleInput>,
) -> ApiResult {
    session(&st, &headers)?;
    let done = sell(&st, input).await?;
    Ok(Json(serde_json::to_value(done).unwrap_or_default()))
}

async fn reprint_h(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Path(seq): Path<u64>,
) -> ApiResult {
    session(&st, &headers)?;
    match reprint(&st, seq).await? {
        Some(done) => Ok(Json(serde_json::to_value(done).unwrap_or_default())),
        None => Err(ApiError::NotFound),
    }
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<i64>,
}

async fn tickets(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Query(q): Query<Limit>,
) -> ApiResult {
    session(&st, &headers)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let rows = st.db(move |c| recent_tickets(c, limit)).await?;
    Ok(Json(json!({ "tickets": rows })))
}

#[derive(Deserialize)]
struct VoidBody {
    reason: String,
}

/// 作废: owners only; the sale stays in the ledger, a void entry follows it.
async fn void(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Path(seq): Path<u64>,
    Json(b): Json<VoidBody>,
) -> ApiResult {
    owner(&st, &headers)?;
    if b.reason.trim().is_empty() {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "reason",
            "err_required",
        )]));
    }
    let e = st
        .append(Event::Void(Void {
            target_seq: seq,
            reason: b.reason.trim().to_owned(),
        }))
        .await?;
    Ok(Json(json!({"seq": e.seq})))
}

async fn credit(State(st): State<Arc<UiState>>, headers: HeaderMap) -> ApiResult {
    session(&st, &headers)?;
    let rows = st.db(|c| Ok(crate::stall::credit::balances(c)?)).await?;
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|b| {
            json!({
                "customer": b.customer,
                "name": b.name,
                "credit": b.credit.yuan_string(),
                "repaid": b.repaid.yuan_string(),
                "owed": b.owed.yuan_string(),
                "owed_fen": b.owed.0,
                "oldest_unpaid_at": b.oldest_unpaid_at.map(|t| t.0),
                "age_days": b.oldest_unpaid_at.map(|t| (trace_core::Timestamp::now().0 - t.0) / 86_400_000),
            })
        })
        .collect();
    Ok(Json(json!({ "balances": rows })))
}

#[derive(Deserialize)]
struct RepayBody {
    customer: String,
    #[serde(default)]
    customer_id: Option<String>,
    amount: String,
    payment: PaymentMethod,
}

async fn repayment(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(b): Json<RepayBody>,
) -> ApiResult {
    session(&st, &headers)?;
    let seq = repay(&st, b.customer, b.customer_id, &b.amount, b.payment).await?;
    Ok(Json(json!({ "seq": seq })))
}

#[derive(Deserialize)]
struct ScanBody {
    text: String,
}

async fn scan(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(b): Json<ScanBody>,
) -> Result<Response, ApiError> {
    session(&st, &headers)?;
    let products = records::current_products(&st).await?;
    let products: Vec<_> = products.into_iter().map(|v| v.product).collect();
    Ok(
        match fill_from_scan(&b.text, &st.opts.docs_dir, &products) {
            Ok(fill) => Json(json!({"ok": true, "fill": fill})).into_response(),
            Err(refused) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"ok": false, "error": refused.key, "detail": refused.detail})),
            )
                .into_response(),
        },
    )
}

#[derive(Deserialize)]
struct PurchaseBody {
    #[serde(flatten)]
    input: PurchaseInput,
    #[serde(default)]
    photos: Vec<String>,
}

async fn purchase(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(b): Json<PurchaseBody>,
) -> ApiResult {
    session(&st, &headers)?;
    match record(&st, b.input, b.photos).await {
        Ok(seq) => Ok(Json(json!({"seq": seq}))),
        Err(PurchaseError::Invalid(v)) => Err(ApiError::Invalid(v)),
        Err(PurchaseError::Store(e)) => Err(ApiError::Store(e)),
    }
}

/// A voucher photo, raw bytes. Refused over `ui.max_photo_kb` (kept locally; the box's disk
/// is small and the 4G link slow) and unless it is a JPEG or PNG.
async fn photo(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult {
    session(&st, &headers)?;
    let max = st.opts.ui.max_photo_kb.saturating_mul(1024);
    if body.len() as u64 > max {
        return Err(ApiError::Invalid(vec![
            FieldError::new("photo", "err_photo_too_big").with(format!("{} KB", max / 1024)),
        ]));
    }
    let is_image = body.starts_with(&[0xff, 0xd8, 0xff]) || body.starts_with(b"\x89PNG");
    if !is_image {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "photo",
            "err_photo_type",
        )]));
    }
    let blobs = st.opts.blobs_dir.clone();
    let digest = tokio::task::spawn_blocking(move || store_photo(&blobs, &body))
        .await
        .map_err(|e| StoreError::Other(e.to_string()))??;
    Ok(Json(json!({ "digest": digest })))
}

/// 日报: today's sales by payment method and income/expense. Owners only.
async fn daily(State(st): State<Arc<UiState>>, headers: HeaderMap) -> ApiResult {
    owner(&st, &headers)?;
    let v = st
        .db(|c| {
            let mut s = c.prepare_cached(
                "SELECT json_extract(body, '$.payment'), COUNT(*), SUM(json_extract(body, '$.total')) \
                 FROM entries WHERE kind = 'sale_ticket' AND seq NOT IN (SELECT target_seq FROM voids) \
                 AND at >= ?1 GROUP BY 1 ORDER BY 1",
            )?;
            let since = day_start(trace_core::Timestamp::now().0);
            let rows = s.query_map([since], |r| {
                Ok(json!({
                    "payment": r.get::<_, String>(0)?,
                    "tickets": r.get::<_, i64>(1)?,
                    "total": trace_core::Fen(r.get::<_, i64>(2)?).yuan_string(),
                }))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await?;
    Ok(Json(json!({ "by_payment": v })))
}

/// Midnight in the Greater Bay Area (UTC+8) of the day containing `ms`.
fn day_start(ms: i64) -> i64 {
    const DAY: i64 = 86_400_000;
    const GBA: i64 = 8 * 3_600_000;
    (ms + GBA).div_euclid(DAY) * DAY - GBA
}
