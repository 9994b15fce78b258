//! HTTP: the public trace page `/t/{code}`, the product-code page (`/c/{token}` and the GS1
//! Digital Link path `/01/…/21/{token}`), the code forms, `/healthz` and `/metrics`.
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
//!
//! Product codes follow the same rule (see [`crate::codes`]): a forged code, an unknown
//! template and a serial never allocated get the same 404; a wrong check symbol gets the typo
//! page; a disabled code shows its product under a "此码已停用" notice (200: the code is real).

pub mod i18n;
mod views;

use crate::service::metrics::Metrics;
use crate::store::CloudStore;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use i18n::Lang;
use serde::Deserialize;
use std::sync::Arc;
use trace_core::TicketCode;
use trace_core::product_code::{ScanError, ScannedCode};
use trace_core::ticket::TicketCodeError;
use views::Form;

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
        .route("/c", get(product_form))
        .route("/c/{token}", get(product_code::<S>))
        .route("/01/{*rest}", get(digital_link::<S>))
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
        views::lookup(lang, Form::Ticket, "/t", m.enter_code, "", ""),
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
                views::lookup(lang, Form::Ticket, &path, m.typo_title, m.typo_body, &raw),
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
        views::lookup(
            lang,
            Form::Ticket,
            path,
            m.not_found_title,
            m.not_found_body,
            "",
        ),
    )
}

/// `/c?code=…`: the product-code form. A code that reads (a bare token, typed with spaces or
/// dashes, or a whole pasted URL) goes to its page, which tells a typo or an unknown code.
async fn product_form(Query(q): Query<PageQuery>) -> Response {
    let lang = Lang::from_param(q.lang.as_deref());
    let typed = q.code.as_deref().map(str::trim).unwrap_or("");
    if !typed.is_empty() && typed.len() <= 200 {
        match ScannedCode::parse(typed) {
            Ok(s) if s.gs1.is_none() => {
                return Redirect::to(&format!("/c/{}?lang={}", s.token, lang.tag()))
                    .into_response();
            }
            // A pasted Digital Link: its page is its own path (dates ride in its query).
            Ok(_) => {
                if let Some(i) = typed.find("/01/") {
                    let sep = if typed[i..].contains('?') { '&' } else { '?' };
                    let to = format!("{}{sep}lang={}", &typed[i..], lang.tag());
                    return Redirect::to(&to).into_response();
                }
            }
            Err(ScanError::CheckSymbol) => return product_typo(lang, "/c", typed),
            Err(_) => return product_not_found(lang, "/c"),
        }
    }
    let m = lang.msgs();
    page(
        StatusCode::OK,
        views::lookup(lang, Form::Product, "/c", m.enter_product_code, "", ""),
    )
}

/// `/c/{token}`: the public-URL form of a product code (`{base}/c/{token}`, as
/// `BatchCodes` prints it).
async fn product_code<S: CloudStore>(
    State(app): State<App<S>>,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = Lang::from_param(q.lang.as_deref());
    let path = format!("/c/{raw}");
    // A path segment has no '/', so this reads it as a bare token (spaces and dashes allowed).
    resolve_product(&app, lang, &path, &raw, ScannedCode::parse(&raw)).await
}

/// `/01/{gtin}[/10/{batch}]/21/{token}[?11=YYMMDD&17=YYMMDD]`: the GS1 Digital Link form, with
/// every variant `ScannedCode` reads (other query attributes are ignored).
async fn digital_link<S: CloudStore>(
    State(app): State<App<S>>,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = Lang::from_param(q.lang.as_deref());
    // The page's own address without `lang`, so the language links keep the dates.
    let kept: Vec<&str> = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .collect();
    let mut path = format!("/01/{rest}");
    if !kept.is_empty() {
        path.push('?');
        path.push_str(&kept.join("&"));
    }
    let typed = rest.rsplit('/').next().unwrap_or("").to_owned();
    resolve_product(&app, lang, &path, &typed, ScannedCode::parse(&path)).await
}

async fn resolve_product<S: CloudStore>(
    app: &App<S>,
    lang: Lang,
    path: &str,
    typed: &str,
    scanned: Result<ScannedCode, ScanError>,
) -> Response {
    let code = match scanned {
        Ok(c) => c,
        // Anyone can compute a check symbol: telling a typo reveals nothing.
        Err(ScanError::CheckSymbol) => return product_typo(lang, path, typed),
        Err(_) => return product_not_found(lang, path),
    };
    match app.store.product_code(&code).await {
        Ok(Some(view)) => {
            Metrics::inc(&app.metrics.product_pages);
            page(StatusCode::OK, views::product(lang, path, &view))
        }
        Ok(None) => product_not_found(lang, path),
        Err(e) => {
            tracing::error!(error = %e, "product code lookup failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
    }
}

fn product_typo(lang: Lang, path: &str, typed: &str) -> Response {
    let m = lang.msgs();
    page(
        StatusCode::BAD_REQUEST,
        views::lookup(
            lang,
            Form::Product,
            path,
            m.code_typo_title,
            m.code_typo_body,
            typed,
        ),
    )
}

/// The same page for every product code that does not resolve, whatever the reason (does not
/// read, unknown issuer or template, forged, never allocated, not yet synced): no oracle.
fn product_not_found(lang: Lang, path: &str) -> Response {
    let m = lang.msgs();
    page(
        StatusCode::NOT_FOUND,
        views::lookup(
            lang,
            Form::Product,
            path,
            m.code_not_found_title,
            m.code_not_found_body,
            "",
        ),
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
