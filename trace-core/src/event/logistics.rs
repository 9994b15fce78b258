//! Goods moving between operators and counted in stock: shipment (发货), receipt by scanning the
//! upstream's codes (扫码进货), stock-take (盘点) and adjustment.

use super::codes::Aggregation;
use super::common::Party;
use super::error::{self as check, EventError};
use crate::ids::RegionCode;
use crate::units::Grams;
use serde::{Deserialize, Serialize};

/// One product/batch line of a shipment or receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsLine {
    pub product: String,
    pub batch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<String>,
    /// Codes (any level) scanned for this line: what ties a batch to the cases and units that
    /// carried it, so a whereabouts query needs no code decoder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
}

impl GoodsLine {
    /// A line known by product, batch and unit count only.
    pub fn counted(product: impl Into<String>, batch: impl Into<String>, count: u64) -> GoodsLine {
        GoodsLine {
            product: product.into(),
            batch: batch.into(),
            product_code: None,
            count: Some(count),
            grams: None,
            production_date: None,
            expiry_date: None,
            codes: Vec::new(),
        }
    }

    fn validate(&self, field: &str) -> Result<(), EventError> {
        check::non_empty(&format!("{field}.product"), &self.product)?;
        check::non_empty(&format!("{field}.batch"), &self.batch)?;
        check::some_quantity(field, self.grams, self.count)?;
        check::opt_date(&format!("{field}.production_date"), &self.production_date)?;
        check::opt_date(&format!("{field}.expiry_date"), &self.expiry_date)?;
        check::distinct(&format!("{field}.codes"), &self.codes)
    }
}

fn check_lines(lines: &[GoodsLine]) -> Result<(), EventError> {
    lines
        .iter()
        .enumerate()
        .try_for_each(|(i, l)| l.validate(&format!("lines[{i}]")))
}

/// One line of a sale order: what was ordered. The batch may not be decided when the order is
/// taken (the shipment's lines, derived from the codes scanned, say which went).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<String>,
}

/// 销售单 (§4.2.3, §4.3.2): a customer's order — order no., customer, products and quantities,
/// date. Shipments (and a distributor's sales) that fulfil it name it by `order_no`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesOrder {
    pub order_no: String,
    pub customer: Party,
    /// YYYY-MM-DD, the day the order was taken.
    pub ordered_on: String,
    pub lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SalesOrder {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("order_no", &self.order_no)?;
        check::non_empty("customer.name", &self.customer.name)?;
        check::date("ordered_on", &self.ordered_on)?;
        check::non_empty_list("lines", &self.lines)?;
        for (i, l) in self.lines.iter().enumerate() {
            let f = format!("lines[{i}]");
            check::non_empty(&format!("{f}.product"), &l.product)?;
            check::some_quantity(&f, l.grams, l.count)?;
            if l.count == Some(0) || l.grams.is_some_and(|g| g.0 == 0) {
                return Err(EventError::Invalid {
                    field: f,
                    reason: "an ordered quantity must be more than zero".into(),
                });
            }
            check::opt_date(&format!("{f}.production_date"), &l.production_date)?;
            check::opt_date(&format!("{f}.expiry_date"), &l.expiry_date)?;
        }
        Ok(())
    }
}

/// 发货: goods leave for a customer; the scanned case/pallet codes tie the shipment to units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub shipment_no: String,
    pub customer: Party,
    pub lines: Vec<GoodsLine>,
    /// Top-level codes scanned at dispatch (pallets, cases or units).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<RegionCode>,
    /// The sale order this ships.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_no: Option<String>,
}

impl Shipment {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("shipment_no", &self.shipment_no)?;
        check::non_empty("customer.name", &self.customer.name)?;
        check::non_empty_list("lines", &self.lines)?;
        check_lines(&self.lines)?;
        check::distinct("codes", &self.codes)
    }
}

/// 扫码进货: a distributor receives goods by scanning the upstream's codes; the lines are filled
/// from what the codes resolve to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanReceipt {
    pub supplier: Party,
    pub codes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<GoodsLine>,
    /// The upstream shipment number, when the codes named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_no: Option<String>,
    /// What the scanned cases and pallets hold, as the upstream packed them (from its shipment
    /// data): recorded so this box can later sell single units out of a received case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<Aggregation>,
}

impl ScanReceipt {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("supplier.name", &self.supplier.name)?;
        check::non_empty_list("codes", &self.codes)?;
        check::distinct("codes", &self.codes)?;
        check_lines(&self.lines)?;
        self.contents.iter().try_for_each(Aggregation::validate)
    }
}

/// One counted line of a stock-take: what the books said and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockCount {
    pub product: String,
    pub batch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub book_grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub book_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_count: Option<u64>,
}

/// 盘点: the counted stock becomes the projection's stock for each line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockTake {
    pub lines: Vec<StockCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_by: Option<String>,
}

impl StockTake {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty_list("lines", &self.lines)?;
        for (i, l) in self.lines.iter().enumerate() {
            let f = format!("lines[{i}]");
            check::non_empty(&format!("{f}.product"), &l.product)?;
            check::non_empty(&format!("{f}.batch"), &l.batch)?;
            check::opt_grams(&format!("{f}.book_grams"), l.book_grams)?;
            check::some_quantity(&f, l.counted_grams, l.counted_count)?;
        }
        Ok(())
    }
}

/// A correction of stock outside a stock-take (spoilage, loss, found goods). Signed deltas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockAdjustment {
    pub product: String,
    pub batch: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_count: Option<i64>,
}

impl StockAdjustment {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("product", &self.product)?;
        check::non_empty("batch", &self.batch)?;
        check::non_empty("reason", &self.reason)?;
        let g = self.delta_grams.map_or(0, |g| g.0);
        let c = self.delta_count.unwrap_or(0);
        if g == 0 && c == 0 {
            return Err(EventError::MissingQuantity {
                field: "delta".into(),
                needs: "a non-zero weight or count change",
            });
        }
        Ok(())
    }
}
