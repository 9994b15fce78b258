//! 扫标签: a label-scale sticker scanned on the sale screen, read into the line the screen
//! adds. Nothing is recorded here: the ticket sends the label back with the sale, and
//! `stall::sale::build` reads it again (the screen is a preview, the server decides).

use super::records::current_products;
use super::server::{ApiError, ApiResult, session};
use super::state::UiState;
use crate::stall::label::resolve;
use crate::stall::records::plain;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct LabelBody {
    text: String,
}

/// `POST /api/label {text}` → `{line}`, or 422 with the refusal on the field `label`.
pub async fn read_label(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(b): Json<LabelBody>,
) -> ApiResult {
    session(&st, &headers)?;
    let products = plain(current_products(&st).await?);
    match resolve(&b.text, &st.opts.ui.label, &products) {
        Ok(line) => Ok(Json(json!({ "line": line }))),
        Err(e) => Err(ApiError::Invalid(vec![e])),
    }
}
