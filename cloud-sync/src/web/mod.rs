//! HTTP: the public trace page `/t/{code}`, the code form, `/healthz` and `/metrics`.
//!
//! Why the page is shaped this way: consumers open it from a receipt's QR inside WeChat's
//! browser on a phone, often on a weak signal, so it is one small server-rendered HTML response
//! with its CSS inline and no script. Every word comes from [`i18n`].
//!
//! Enumeration: a code's 13-digit body is a keyed permutation (trace-core `ticket`), so guessing
//! needs ~10^13 tries per stall; the page adds nothing that helps: every well-formed code that is
//! not a stored ticket gets byte-for-byte the same 404 page whatever the reason (unknown device,
//! never issued, not yet synced), and a found ticket shows only its own stall's data. A wrong
//! check digit is answered differently (400, "typo"), which reveals nothing since anyone can
//! compute a check digit.

pub mod i18n;
mod views;

use crate::service::metrics::Metrics;
use crate::store::CloudStore;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use i18n::Lang;
use serde::Deserialize;
use std::sync::Arc;
use trace_core::TicketCode;
use trace_core::ticket::TicketCodeError;

pub(crate) const CSS: &str = include_str!("../../templates/style.css");

#[derive(Clone)]
pub(crate) struct App<S> {
    pub store: S,
    pub metrics: Arc<Metrics>,
}

pub(crate) fn router<S: CloudStore + Clone>(app: App<S>) -> Router {
    Router::new()
        .route("/", get(form))
        .route("/t", get(form))
        .route("/t/{code}", get(trace::<S>))
        .route("/healthz", get(healthz::<S>))
        .route("/metrics", get(metrics::<S>))
        .with_state(app)
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    lang: Option<String>,
    code: Option<String>,
}

async fn form(Query(q): Query<PageQuery>) -> Response {
    let lang = Lang::from_param(q.lang.as_deref());
    if let Some(code) = q.code.as_deref() {
        let digits: String = code
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if !digits.is_empty() && digits.len() <= 40 && digits.chars().all(|c| c.is_ascii_digit()) {
            return Redirect::to(&format!("/t/{digits}?lang={}", lang.tag())).into_response();
        }
    }
    let m = lang.msgs();
    page(
        StatusCode::OK,
        views::lookup(lang, "/t", m.enter_code, "", ""),
    )
}

async fn trace<S: CloudStore>(
    State(app): State<App<S>>,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = Lang::from_param(q.lang.as_deref());
    let m = lang.msgs();
    let path = format!("/t/{raw}");
    let code = match TicketCode::parse(&raw) {
        Ok(c) => c,
        Err(TicketCodeError::CheckDigit) => {
            return page(
                StatusCode::BAD_REQUEST,
                views::lookup(lang, &path, m.typo_title, m.typo_body, &raw),
            );
        }
        Err(_) => return not_found(lang, &path),
    };
    match app.store.ticket(&code.to_string()).await {
        Ok(Some(view)) => {
            Metrics::inc(&app.metrics.trace_pages);
            page(StatusCode::OK, views::trace(lang, &path, &code, &view))
        }
        Ok(None) => not_found(lang, &path),
        Err(e) => {
            tracing::error!(error = %e, "ticket lookup failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
    }
}

fn not_found(lang: Lang, path: &str) -> Response {
    let m = lang.msgs();
    // The typed code is not echoed: the 404 body is the same for every unknown code.
    page(
        StatusCode::NOT_FOUND,
        views::lookup(lang, path, m.not_found_title, m.not_found_body, ""),
    )
}

fn page(status: StatusCode, t: Result<String, askama::Error>) -> Response {
    match t {
        Ok(body) => {
            let mut r = (status, Html(body)).into_response();
            let h = r.headers_mut();
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page error\n").into_response()
        }
    }
}

async fn healthz<S: CloudStore>(State(app): State<App<S>>) -> Response {
    match app.store.stats().await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}\n")).into_response(),
    }
}

async fn metrics<S: CloudStore>(State(app): State<App<S>>) -> Response {
    let (stats, devices) = match (app.store.stats().await, app.store.list_devices().await) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(e), _) | (_, Err(e)) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}\n")).into_response();
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(&stats, &devices),
    )
        .into_response()
}

/// Render a template (kept here so views stay pure data).
pub(crate) fn render<T: Template>(t: &T) -> Result<String, askama::Error> {
    t.render()
}
