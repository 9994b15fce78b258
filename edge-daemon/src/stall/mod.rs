//! # The market stall's business rules (商户端, standard §4.3)
//!
//! Pure pieces the touchscreen UI ([`crate::ui`]) drives: turning what was tapped into a
//! validated [`SaleTicket`](trace_core::event::SaleTicket) or
//! [`Purchase`](trace_core::event::Purchase) with errors that name the form field
//! ([`FieldError`]), credit balances and ageing ([`credit`]), and the stall's projections
//! ([`projection`]). Nothing here does network or device I/O; reads take a `rusqlite`
//! connection to the ledger file (WAL lets them run beside the writer).
//!
//! Why field errors carry a catalogue key and not text: the same refusal is shown in three
//! languages next to the field that caused it, and tests check the key, not a translation.

pub mod cash;
pub mod credit;
pub mod day;
pub mod label;
pub mod ledger;
pub mod library;
pub mod lots;
pub mod product;
pub mod projection;
pub mod purchase;
pub mod records;
pub mod sale;

pub use product::Product;

use serde::Serialize;

/// One refused form field: `field` is the input's name in the form, `key` a message key of
/// the UI catalogue, `arg` an optional value the message shows (a limit, a name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub key: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arg: Option<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, key: &'static str) -> Self {
        FieldError {
            field: field.into(),
            key,
            arg: None,
        }
    }

    pub fn with(mut self, arg: impl Into<String>) -> Self {
        self.arg = Some(arg.into());
        self
    }
}

/// Heaviest single weighed line accepted: a stall scale's capacity is 30–150 kg; more is a
/// typo or a broken reading.
pub const MAX_LINE_GRAMS: i64 = 150_000;
/// Heaviest purchase line (a delivery of several crates).
pub const MAX_PURCHASE_GRAMS: i64 = 20_000_000;
/// Highest unit price accepted, fen (10 000 元 per 斤/kg/item).
pub const MAX_UNIT_PRICE: i64 = 1_000_000;
/// Most items on one counted line.
pub const MAX_COUNT: u32 = 10_000;

#[cfg(test)]
mod tests;
