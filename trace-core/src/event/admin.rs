//! Events about the ledger and the box itself: recall alerts received, downlink documents
//! applied, and voids (the only way to correct an entry: entries are never edited; a correction
//! is a `void` of the wrong entry followed by the right one, or a stock adjustment).

use super::error::{self as check, EventError};
use crate::entry::Timestamp;
use crate::hash::Digest;
use crate::wire::DocType;
use serde::{Deserialize, Serialize};

/// 召回预警 as received by this box (from the cloud's downlink), recorded so the merchant's
/// acknowledgement and the affected stock are on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallAlert {
    pub alert_id: String,
    pub product: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batches: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    /// 1 (most severe) to 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<Timestamp>,
}

impl RecallAlert {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("alert_id", &self.alert_id)?;
        check::non_empty("product", &self.product)?;
        check::non_empty("reason", &self.reason)?;
        if let Some(l) = self.level
            && !(1..=3).contains(&l)
        {
            return Err(EventError::Contradiction {
                field: "level".into(),
                value: l.to_string(),
                what: "level outside 1-3",
            });
        }
        Ok(())
    }
}

/// A downlink document (catalog, PLU map, key directory, …) the box applied, so what the box
/// displayed and priced with at any moment can be reconstructed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownlinkApplied {
    pub doc_type: DocType,
    pub version: u64,
    /// Hash of the document's canonical bytes.
    pub digest: Digest,
}

impl DownlinkApplied {
    pub fn validate(&self) -> Result<(), EventError> {
        if self.doc_type == DocType::Unknown {
            return Err(EventError::Contradiction {
                field: "doc_type".into(),
                value: "unknown".into(),
                what: "document type this version does not know",
            });
        }
        Ok(())
    }
}

/// Correction: voids an earlier entry (by its seq). Entries are never edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Void {
    pub target_seq: u64,
    pub reason: String,
}

impl Void {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("reason", &self.reason)?;
        check::positive(
            "target_seq",
            i64::try_from(self.target_seq).unwrap_or(i64::MAX),
        )
    }
}
