//! # Producer and distributor records (预包装食品 生产企业端 §4.2, 流通企业端 §4.3)
//!
//! Domain operations on the box's ledger: raw material purchases, production batches linked to
//! raw lots, aggregation of units into cases and pallets (by scanning or by count) and its
//! undoing, sale orders and the shipments that fulfil them (linking the codes scanned at
//! dispatch), partners, the entity record and
//! main products; for a distributor: receipt by scanning the upstream's codes (a case brings
//! its units), sales by scanning, stock per batch with its history, stock-take with adjustment
//! entries, income and expense; and the whereabouts query over the box's own entries.
//!
//! Why operations instead of letting callers append events: each one checks what the scanner
//! delivered against what the box knows (is the code ours, enabled, already in a case, already
//! shipped) and refuses with a typed [`ProducerError`] *before* anything is written; what it
//! appends is one `append_batch`, so it is all recorded or nothing. The `prod_*` projections
//! ([`projection`]) enforce the same invariants again inside the append transaction.
//!
//! Codes are opaque strings here: which enterprise, product and batch a code belongs to comes
//! from a [`CodeLookup`] (the codes module's decoder on a real box).

mod directory_lookup;
mod distributor;
mod error;
mod lookup;
mod orders;
mod packing;
pub(crate) mod projection;
mod query;
mod records;
mod shipping;
#[cfg(test)]
mod tests;

pub use directory_lookup::DirectoryLookup;
pub use distributor::{StockDifference, receive_by_hand, receive_by_scan, sell, stock_take};
pub use error::ProducerError;
pub use lookup::{CodeFacts, CodeLookup, CodeRejection, TableLookup};
pub use orders::{
    CashCategory, CashSummary, OrderLineView, OrderView, cash_summary, record_income_expense,
    record_sales_order, sales_orders,
};
pub use packing::{aggregate, aggregate_by_count, disaggregate};
pub use query::{Move, StockRow, moves, stock, whereabouts};
pub use records::{
    EntityInput, EntityView, PartnerInput, PartnerRole, PartnerView, add_main_product,
    entity_record, main_products, partners, record_batch, record_entity, record_raw_purchase,
    remove_main_product, upsert_partner,
};
pub use shipping::{Manifest, ShipmentInput, manifest, ship};
