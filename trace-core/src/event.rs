//! The event vocabulary, v1.
//!
//! Every business action on a box is one of these, wrapped in an [`crate::Entry`]. Serialised
//! adjacently tagged (`{"kind": "sale_ticket", "body": {...}}`); the `kind` strings and field
//! names are part of the wire and hash contract: **do not rename or reorder meaning**; add new
//! optional fields with `#[serde(default, skip_serializing_if = ...)]` so older entries keep
//! their hashes, and new kinds as new variants.

use crate::units::{Fen, Grams};
use serde::{Deserialize, Serialize};

/// Version of the event vocabulary an entry was written with. Hashed with the entry.
pub const VOCABULARY_VERSION: u16 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum Event {
    /// 销售开单: a sale ticket with its trace code.
    SaleTicket(SaleTicket),
    /// 进货: a purchase into the stall's stock.
    Purchase(Purchase),
    /// Correction: voids an earlier entry (by its seq). Entries are never edited.
    Void(Void),
}

impl Event {
    /// The `kind` tag as stored in the ledger's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::SaleTicket(_) => "sale_ticket",
            Event::Purchase(_) => "purchase",
            Event::Void(_) => "void",
        }
    }
}

/// How a sale line is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceUnit {
    /// Per 斤 (500 g).
    Jin,
    /// Per kg.
    Kg,
    /// Per counted item.
    Item,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    WechatPay,
    Alipay,
    /// 赊账: needs a buyer.
    Credit,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    pub product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    pub unit_price: Fen,
    pub price_unit: PriceUnit,
    pub amount: Fen,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleTicket {
    /// The 20-digit ticket trace code printed on the receipt.
    pub ticket_code: String,
    pub lines: Vec<SaleLine>,
    pub total: Fen,
    pub payment: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub supplier: String,
    pub product: String,
    pub batch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    pub amount: Fen,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Void {
    pub target_seq: u64,
    pub reason: String,
}
