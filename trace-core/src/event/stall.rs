//! v3 market-stall kinds: the owner's correction of where a sale line's goods came from
//! (台账 attribution) and the owner's own income/expense categories (收支分类).
//!
//! Why new kinds rather than new fields: both are facts of their own, recorded after the
//! entries they concern; the sale and the cash movement are never edited.

use super::error::{self as check, EventError};
use super::market::CashDirection;
use crate::units::Grams;
use serde::{Deserialize, Serialize};

/// A share of a sale line taken from one purchase lot (the purchase entry's seq).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotShare {
    pub purchase_seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// 来源更正: the purchase lots sale line `line` of entry `sale_seq` came from, replacing the
/// FIFO attribution (or an earlier correction) as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleAttribution {
    pub sale_seq: u64,
    /// Index of the line in the sale ticket.
    pub line: u32,
    pub lots: Vec<LotShare>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl SaleAttribution {
    pub fn validate(&self) -> Result<(), EventError> {
        check::positive("sale_seq", i64::try_from(self.sale_seq).unwrap_or(i64::MAX))?;
        check::non_empty_list("lots", &self.lots)?;
        let seqs: Vec<String> = self
            .lots
            .iter()
            .map(|l| l.purchase_seq.to_string())
            .collect();
        check::distinct("lots.purchase_seq", &seqs)?;
        for (i, l) in self.lots.iter().enumerate() {
            let f = format!("lots[{i}]");
            check::positive(
                &format!("{f}.purchase_seq"),
                i64::try_from(l.purchase_seq).unwrap_or(i64::MAX),
            )?;
            let g = l.grams.map_or(0, |g| g.0);
            let c = l.count.unwrap_or(0);
            if g < 0 || (g == 0 && c == 0) || (g > 0 && c > 0) {
                return Err(EventError::MissingQuantity {
                    field: f,
                    needs: "a positive weight or a positive count, not both",
                });
            }
        }
        Ok(())
    }
}

/// 收支分类: a category the owner added to (or `removed` from) the 收支 form's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashCategory {
    pub direction: CashDirection,
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

impl CashCategory {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("name", &self.name)
    }
}
