//! Inspections: sampling tests (抽检, published on the stall's page) and the market's daily
//! patrol (日常检查).

use super::common::{BlobRef, Verdict};
use super::error::{self as check, EventError};
use crate::entry::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestItem {
    /// e.g. 有机磷和氨基甲酸酯类农药残留, 瘦肉精, 甲醛.
    pub item: String,
    pub result: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Measured value as reported, with its unit (`"12.5%"`): kept as text, not computed on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// 抽检: a sample tested (by the market's lab, a regulator or the merchant). `result` is `Fail`
/// exactly when some item failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplingInspection {
    pub sample_no: String,
    pub product: String,
    pub items: Vec<TestItem>,
    pub result: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tested_at: Option<Timestamp>,
    /// Show on the public page (抽检公示).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub publish: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<BlobRef>,
}

impl SamplingInspection {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("sample_no", &self.sample_no)?;
        check::non_empty("product", &self.product)?;
        check::non_empty_list("items", &self.items)?;
        for (i, it) in self.items.iter().enumerate() {
            check::non_empty(&format!("items[{i}].item"), &it.item)?;
        }
        let from_items = if self.items.iter().any(|i| i.result == Verdict::Fail) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        if from_items != self.result {
            return Err(EventError::VerdictMismatch {
                declared: self.result,
                from_items,
            });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckItem {
    pub item: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// 日常检查: a patrol's electronic checklist for one stall or area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyInspection {
    pub inspector: String,
    pub items: Vec<CheckItem>,
    /// The stall or area checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// 整改要求 when something was not ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectification: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<BlobRef>,
}

impl DailyInspection {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("inspector", &self.inspector)?;
        check::non_empty_list("items", &self.items)?;
        for (i, it) in self.items.iter().enumerate() {
            check::non_empty(&format!("items[{i}].item"), &it.item)?;
        }
        Ok(())
    }
}
