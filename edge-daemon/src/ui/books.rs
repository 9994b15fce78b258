//! 台账, 收支 and 抽检公示 handlers: the ledger list and its CSV, the owner's attribution
//! correction, income/expense entries and the daily summary, the inspection board.

use super::records::all_users;
use super::server::{ApiError, ApiResult, owner, session};
use super::state::{StoreError, UiState};
use crate::stall::FieldError;
use crate::stall::cash::{self, CashInput};
use crate::stall::day::{day_start, parse_day};
use crate::stall::ledger::{CSV_COLUMNS, LedgerFilter, csv, open_lots, query, shares};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use trace_core::event::{CashDirection, LotShare, SaleAttribution};
use trace_core::{Event, Grams};

const MAX_ROWS: usize = 2_000;

pub async fn ledger(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Query(f): Query<LedgerFilter>,
) -> ApiResult {
    session(&st, &headers)?;
    let b = f.check().map_err(ApiError::Invalid)?;
    let rows = st.db(move |c| Ok(query(c, &b, 300)?)).await?;
    Ok(Json(json!({ "rows": rows })))
}

#[derive(Deserialize)]
pub struct CsvQuery {
    #[serde(flatten)]
    filter: LedgerFilter,
    #[serde(default)]
    lang: Option<String>,
}

/// The filtered 台账 as a CSV download, headed in the screen's language.
pub async fn ledger_csv(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Query(q): Query<CsvQuery>,
) -> Result<Response, ApiError> {
    session(&st, &headers)?;
    let b = q.filter.check().map_err(ApiError::Invalid)?;
    let rows = st.db(move |c| Ok(query(c, &b, MAX_ROWS)?)).await?;
    let lang = q.lang.unwrap_or_else(|| "zh-CN".into());
    let word = |k: &str| super::i18n::text(&lang, k).unwrap_or(k).to_owned();
    let header_row: Vec<String> = CSV_COLUMNS.iter().map(|k| word(k)).collect();
    let body = csv(&rows, &header_row, &word);
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"ledger.csv\""),
    );
    Ok(r)
}

/// A sale line's sources and the lots it could be attributed to instead.
pub async fn line_sources(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Path((seq, line)): Path<(u64, u32)>,
) -> ApiResult {
    session(&st, &headers)?;
    let v = st
        .db(move |c| {
            let seq_i = i64::try_from(seq).unwrap_or(i64::MAX);
            let row: Option<(String, i64, i64)> = c
                .query_row(
                    "SELECT product, grams, count FROM stall_sale_lines WHERE seq = ?1 AND line = ?2",
                    params![seq_i, line],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((product, grams, count)) = row else {
                return Ok(None);
            };
            Ok(Some(json!({
                "product": product,
                "grams": grams,
                "count": count,
                "sources": shares(c, seq, line)?,
                "lots": open_lots(c, &product)?,
            })))
        })
        .await?;
    v.map(Json).ok_or(ApiError::NotFound)
}

#[derive(Deserialize)]
pub struct ShareInput {
    lot: u64,
    /// kg as typed (weighed lines) …
    #[serde(default)]
    kg: Option<String>,
    /// … or items (counted lines).
    #[serde(default)]
    count: Option<i64>,
}

#[derive(Deserialize)]
pub struct AttributionBody {
    sale_seq: u64,
    line: u32,
    shares: Vec<ShareInput>,
    #[serde(default)]
    reason: Option<String>,
}

/// 更正来源 (owner only): a new `sale_attribution` entry; the projection refuses shares
/// that do not add up or exceed what a lot has left, and then nothing is appended.
pub async fn attribute(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(b): Json<AttributionBody>,
) -> ApiResult {
    owner(&st, &headers)?;
    let mut errs = Vec::new();
    let mut lots = Vec::new();
    for (i, s) in b.shares.iter().enumerate() {
        let kg = s.kg.as_deref().map(str::trim).filter(|k| !k.is_empty());
        let (grams, count) = match (kg, s.count) {
            (Some(k), None) => match Grams::parse_in(k, trace_core::units::WeightUnit::Kg) {
                Ok(g) if g.0 > 0 => (Some(g), None),
                _ => {
                    errs.push(FieldError::new(format!("shares[{i}]"), "err_weight_format"));
                    continue;
                }
            },
            (None, Some(c)) if c > 0 => (None, u32::try_from(c).ok()),
            _ => {
                errs.push(FieldError::new(
                    format!("shares[{i}]"),
                    "err_quantity_needed",
                ));
                continue;
            }
        };
        lots.push(LotShare {
            purchase_seq: s.lot,
            grams,
            count,
        });
    }
    if lots.is_empty() && errs.is_empty() {
        errs.push(FieldError::new("shares", "err_quantity_needed"));
    }
    if !errs.is_empty() {
        return Err(ApiError::Invalid(errs));
    }
    let a = SaleAttribution {
        sale_seq: b.sale_seq,
        line: b.line,
        lots,
        reason: b
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
    };
    if a.validate().is_err() {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "shares",
            "err_shares",
        )]));
    }
    match st.append(Event::SaleAttribution(a)).await {
        Ok(e) => Ok(Json(json!({ "seq": e.seq }))),
        // The projection's refusal (shares do not add up, a lot has too little left).
        Err(StoreError::Ledger(e)) if e.kind() == crate::ledger::LedgerErrorKind::Rejected => {
            tracing::info!(error = %e, "source correction refused");
            Err(ApiError::Invalid(vec![FieldError::new(
                "shares",
                "err_shares",
            )]))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn cash_categories(State(st): State<Arc<UiState>>, headers: HeaderMap) -> ApiResult {
    session(&st, &headers)?;
    let (income, expense) = st
        .db(|c| {
            Ok((
                cash::categories(c, CashDirection::Income)?,
                cash::categories(c, CashDirection::Expense)?,
            ))
        })
        .await?;
    Ok(Json(json!({ "income": income, "expense": expense })))
}

pub async fn record_cash(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(input): Json<CashInput>,
) -> ApiResult {
    owner(&st, &headers)?;
    let built = st.db(move |c| Ok(cash::build(c, &input)?)).await?;
    let ie = built.map_err(ApiError::Invalid)?;
    let e = st.append(Event::IncomeExpense(ie)).await?;
    Ok(Json(json!({ "seq": e.seq })))
}

#[derive(Deserialize)]
pub struct CategoryBody {
    direction: CashDirection,
    name: String,
}

pub async fn add_category(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(b): Json<CategoryBody>,
) -> ApiResult {
    owner(&st, &headers)?;
    let built = st
        .db(move |c| Ok(cash::new_category(c, b.direction, &b.name)?))
        .await?;
    let cat = built.map_err(ApiError::Invalid)?;
    let name = cat.name.clone();
    st.append(Event::CashCategory(cat)).await?;
    Ok(Json(json!({ "name": name })))
}

#[derive(Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    day: Option<String>,
}

/// 日报: income, expense, net, by category and by payment method (owner only).
pub async fn summary(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Query(q): Query<DayQuery>,
) -> ApiResult {
    owner(&st, &headers)?;
    let from = match q.day.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => day_start(trace_core::Timestamp::now().0),
        Some(d) => parse_day(d)
            .ok_or_else(|| ApiError::Invalid(vec![FieldError::new("day", "err_date")]))?,
    };
    let s = st.db(move |c| Ok(cash::summary(c, from)?)).await?;
    Ok(Json(serde_json::to_value(s).unwrap_or_default()))
}

/// 抽检公示: the published sampling results, newest first.
pub async fn inspections(State(st): State<Arc<UiState>>, headers: HeaderMap) -> ApiResult {
    session(&st, &headers)?;
    let rows = st
        .db(|c| {
            let mut s = c.prepare_cached(
                "SELECT body FROM stall_inspections WHERE publish = 1 ORDER BY seq DESC LIMIT 50",
            )?;
            let rows = s.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for body in rows {
                let mut v: Value = serde_json::from_str(&body?).unwrap_or_default();
                if let Some(t) = v["tested_at"].as_i64() {
                    v["tested_day"] = json!(crate::stall::day::day_name(t));
                }
                out.push(v);
            }
            Ok(out)
        })
        .await?;
    Ok(Json(json!({ "results": rows })))
}

#[derive(Deserialize)]
pub struct PinBody {
    pin: String,
}

/// Leave the customer-facing board: only an owner's PIN does it.
pub async fn board_exit(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(b): Json<PinBody>,
) -> ApiResult {
    session(&st, &headers)?;
    let users = all_users(&st).await?;
    let ok = tokio::task::spawn_blocking(move || {
        super::pins::valid_pin(b.pin.trim())
            && users
                .iter()
                .any(|(_, u)| u.role == super::auth::Role::Owner && u.matches(b.pin.trim()))
    })
    .await
    .map_err(|e| StoreError::Other(e.to_string()))?;
    if ok {
        Ok(Json(json!({ "ok": true })))
    } else {
        Err(ApiError::Invalid(vec![FieldError::new("pin", "err_pin")]))
    }
}
