//! The event vocabulary, v1.
//!
//! Every business action on a box is one of these, wrapped in an [`crate::Entry`]. Serialised
//! adjacently tagged (`{"kind": "sale_ticket", "body": {...}}`); the `kind` strings and field
//! names are part of the wire and hash contract: **do not rename or reorder meaning**; add new
//! optional fields with `#[serde(default, skip_serializing_if = ...)]` so older entries keep
//! their hashes, and new kinds as new variants (then bump [`VOCABULARY_VERSION`] so an older
//! cloud can tell "unknown kind from a newer box" from "garbage").
//!
//! The vocabulary covers both GBA platform standards: the 食用农产品 market (stall registration,
//! purchase, sale ticket, scale, income/expense, credit, records, inspections) and 预包装食品
//! production and distribution (raw materials, production batches, code lifecycle, aggregation,
//! shipment, receipt by scan, stock). Files are split by area:
//!
//! | file | kinds |
//! |---|---|
//! | `market` | `purchase`, `sale_ticket`, `weighing`, `income_expense`, `repayment` |
//! | `registry` | `registration`, `account_change`, `{staff,product,supplier,customer}_{upsert,remove}` |
//! | `inspection` | `sampling_inspection`, `daily_inspection` |
//! | `production` | `raw_material_purchase`, `production_batch` |
//! | `codes` | `codes_allocated`, `codes_encoded`, `codes_commissioned`, `codes_scrapped`, `aggregation`, `disaggregation`; v2: `code_template`, `codes_disabled`, `codes_enabled` |
//! | `logistics` | `shipment`, `scan_receipt`, `stock_take`, `stock_adjustment`; v3: `sales_order` |
//! | `admin` | `recall_alert`, `downlink_applied`, `void` |
//! | `stall` | v3: `sale_attribution`, `cash_category` |
//!
//! A credit sale (赊账) is a `sale_ticket` with `payment: credit` and a buyer; `repayment` settles
//! it. [`Event::validate`] checks each kind's invariants before the ledger accepts it.

mod admin;
mod codes;
mod common;
mod error;
mod inspection;
mod logistics;
mod market;
mod production;
mod registry;
#[cfg(test)]
#[cfg(test)]
pub(crate) mod samples;
mod stall;
#[cfg(test)]
mod tests;

/// Re-exported here because sale lines name it; it lives with the price arithmetic.
pub use crate::units::PriceUnit;
pub use admin::{DownlinkApplied, RecallAlert, Void};
pub use codes::{
    Aggregation, CodeLevel, CodeRange, CodeTemplateSaved, CodesAllocated, CodesCommissioned,
    CodesEncoded, CodesScrapped, CodesToggled, Disaggregation,
};
pub use common::{
    BlobRef, Certificate, CertificateKind, Fee, Party, PartyKind, PaymentMethod, Verdict,
};
pub use error::EventError;
pub use inspection::{CheckItem, DailyInspection, SamplingInspection, TestItem};
pub use logistics::{
    GoodsLine, OrderLine, SalesOrder, ScanReceipt, Shipment, StockAdjustment, StockCount, StockTake,
};
pub use market::{
    CashDirection, IncomeExpense, Purchase, Repayment, SaleLine, SaleTicket, Weighing,
};
pub use production::{ProductionBatch, RawLotUse, RawMaterialPurchase};
pub use registry::{
    AccountAction, AccountChange, PartnerRecord, ProductRecord, RecordRemoved, Registration, Role,
    StaffRecord, SubjectKind,
};
pub use stall::{CashCategory, LotShare, SaleAttribution};

use serde::{Deserialize, Serialize};

/// Version of the event vocabulary an entry was written with. Hashed with the entry.
pub const VOCABULARY_VERSION: u16 = 3;

macro_rules! events {
    ($( $(#[$doc:meta])* $variant:ident($body:ty) = $tag:literal, )*) => {
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind", content = "body", rename_all = "snake_case")]
        pub enum Event {
            $( $(#[$doc])* #[serde(rename = $tag)] $variant($body), )*
        }

        impl Event {
            /// Every kind tag of this vocabulary version, in declaration order.
            pub const KINDS: &'static [&'static str] = &[$($tag),*];

            /// The `kind` tag as stored in the ledger's `kind` column.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( Event::$variant(_) => $tag, )*
                }
            }

            /// Check the kind's invariants (non-empty names, consistent amounts, …).
            pub fn validate(&self) -> Result<(), EventError> {
                match self {
                    $( Event::$variant(b) => b.validate(), )*
                }
            }
        }

        $(
            impl From<$body> for Event {
                fn from(b: $body) -> Event {
                    Event::$variant(b)
                }
            }
        )*
    };
}

/// Record kinds that share a body type get a wrapper per kind so `From` stays unambiguous.
macro_rules! record_kinds {
    ($($name:ident($inner:ty)),* $(,)?) => {
        $(
            #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
            #[serde(transparent)]
            pub struct $name(pub $inner);

            impl $name {
                pub fn validate(&self) -> Result<(), EventError> {
                    self.0.validate()
                }
            }
        )*
    };
}

record_kinds!(
    CodesDisabled(CodesToggled),
    CodesEnabled(CodesToggled),
    SupplierUpsert(PartnerRecord),
    CustomerUpsert(PartnerRecord),
    StaffRemove(RecordRemoved),
    ProductRemove(RecordRemoved),
    SupplierRemove(RecordRemoved),
    CustomerRemove(RecordRemoved),
);

events! {
    /// 销售开单: a sale ticket with its trace code.
    SaleTicket(SaleTicket) = "sale_ticket",
    /// 进货: a purchase into the stall's stock.
    Purchase(Purchase) = "purchase",
    /// Correction: voids an earlier entry (by its seq). Entries are never edited.
    Void(Void) = "void",
    /// 主体备案 / 档口登记.
    Registration(Registration) = "registration",
    /// Login account created, changed, disabled.
    AccountChange(AccountChange) = "account_change",
    StaffUpsert(StaffRecord) = "staff_upsert",
    StaffRemove(StaffRemove) = "staff_remove",
    ProductUpsert(ProductRecord) = "product_upsert",
    ProductRemove(ProductRemove) = "product_remove",
    SupplierUpsert(SupplierUpsert) = "supplier_upsert",
    SupplierRemove(SupplierRemove) = "supplier_remove",
    CustomerUpsert(CustomerUpsert) = "customer_upsert",
    CustomerRemove(CustomerRemove) = "customer_remove",
    /// A stable scale reading.
    Weighing(Weighing) = "weighing",
    /// 收支.
    IncomeExpense(IncomeExpense) = "income_expense",
    /// 还款 of credit sales.
    Repayment(Repayment) = "repayment",
    /// 抽检 result.
    SamplingInspection(SamplingInspection) = "sampling_inspection",
    /// 日常检查.
    DailyInspection(DailyInspection) = "daily_inspection",
    /// 原料采购.
    RawMaterialPurchase(RawMaterialPurchase) = "raw_material_purchase",
    /// 生产批次.
    ProductionBatch(ProductionBatch) = "production_batch",
    CodesAllocated(CodesAllocated) = "codes_allocated",
    CodesEncoded(CodesEncoded) = "codes_encoded",
    CodesCommissioned(CodesCommissioned) = "codes_commissioned",
    CodesScrapped(CodesScrapped) = "codes_scrapped",
    /// Unit→case→pallet.
    Aggregation(Aggregation) = "aggregation",
    Disaggregation(Disaggregation) = "disaggregation",
    /// 发货.
    Shipment(Shipment) = "shipment",
    /// Distributor receipt by scanning codes.
    ScanReceipt(ScanReceipt) = "scan_receipt",
    /// 盘点.
    StockTake(StockTake) = "stock_take",
    StockAdjustment(StockAdjustment) = "stock_adjustment",
    /// 召回预警 received.
    RecallAlert(RecallAlert) = "recall_alert",
    /// A downlink document applied on the box.
    DownlinkApplied(DownlinkApplied) = "downlink_applied",
    /// v2: a code template saved (4.2.5).
    CodeTemplate(CodeTemplateSaved) = "code_template",
    /// v2: codes disabled (停用, 4.2.6).
    CodesDisabled(CodesDisabled) = "codes_disabled",
    /// v2: codes enabled again (启用, 4.2.6).
    CodesEnabled(CodesEnabled) = "codes_enabled",
    /// v3: the owner corrects which purchase lots a sale line came from (台账).
    SaleAttribution(SaleAttribution) = "sale_attribution",
    /// v3: an income/expense category added or removed (收支分类).
    CashCategory(CashCategory) = "cash_category",
    /// v3: a sale order (销售单, 4.2.3 / 4.3.2); shipments name it by `order_no`.
    SalesOrder(SalesOrder) = "sales_order",
}
