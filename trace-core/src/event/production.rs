//! Pre-packaged food production (预包装食品 standard §4.2): raw material purchases and production
//! batches linked to the raw lots they consumed, which is what makes 去向查询 and recall work.

use super::common::{BlobRef, Certificate, Party};
use super::error::{self as check, EventError};
use crate::units::{Fen, Grams};
use serde::{Deserialize, Serialize};

/// 原料采购: a lot of raw material received from a supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawMaterialPurchase {
    pub supplier: Party,
    pub material: String,
    /// The raw lot number this receipt creates (入库批次).
    pub lot: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Fen>,
    /// The supplier's own batch number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_batch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<Certificate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<BlobRef>,
}

impl RawMaterialPurchase {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("supplier.name", &self.supplier.name)?;
        check::non_empty("material", &self.material)?;
        check::non_empty("lot", &self.lot)?;
        check::some_quantity("quantity", self.grams, self.count)?;
        if let Some(a) = self.amount {
            check::non_negative("amount", a.0)?;
        }
        check::opt_date("production_date", &self.production_date)?;
        check::opt_date("expiry_date", &self.expiry_date)
    }
}

/// How much of one raw lot went into a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawLotUse {
    pub lot: String,
    pub material: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// 生产批次: a batch produced, linked to its raw lots, with its inspection/production documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductionBatch {
    pub batch: String,
    pub product: String,
    /// YYYY-MM-DD.
    pub produced_on: String,
    pub raw_lots: Vec<RawLotUse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
    /// Units produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Grams>,
    /// Production line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// 检验报告, 生产记录.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<BlobRef>,
}

impl ProductionBatch {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("batch", &self.batch)?;
        check::non_empty("product", &self.product)?;
        check::date("produced_on", &self.produced_on)?;
        check::opt_date("expires_on", &self.expires_on)?;
        check::opt_grams("grams", self.grams)?;
        check::non_empty_list("raw_lots", &self.raw_lots)?;
        for (i, l) in self.raw_lots.iter().enumerate() {
            check::non_empty(&format!("raw_lots[{i}].material"), &l.material)?;
            check::opt_grams(&format!("raw_lots[{i}].grams"), l.grams)?;
        }
        check::distinct("raw_lots.lot", self.raw_lots.iter().map(|l| &l.lot))
    }
}
