//! Product code lifecycle on a production line (生码管理, 设备对接): a pool of serials is
//! allocated to the box, encoded (sent to the coder and printed), commissioned (activated for a
//! batch) or scrapped, and codes are aggregated into cases and pallets.
//!
//! Why ranges: a line prints hundreds of codes a minute; one entry per code would make the ledger
//! the bottleneck. Serials within a pool are dense, so an event records inclusive ranges and the
//! projection expands them. Every issued serial ends in exactly one of encoded-then-commissioned
//! or scrapped, which is what "every issued code is accounted for" checks.

use super::error::{self as check, EventError};
use serde::{Deserialize, Serialize};

/// Packaging level a code identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeLevel {
    Unit,
    Case,
    Pallet,
    Batch,
}

/// Serials `first..=last` of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CodeRange {
    pub first: u64,
    pub last: u64,
}

impl CodeRange {
    /// Number of serials; `None` for a reversed range (and for the full `0..=u64::MAX`, whose
    /// length does not fit a u64).
    pub fn len(&self) -> Option<u64> {
        self.last
            .checked_sub(self.first)
            .and_then(|d| d.checked_add(1))
    }

    /// A reversed range holds no serials (and is refused by `validate`).
    pub fn is_empty(&self) -> bool {
        self.first > self.last
    }

    pub fn contains(&self, serial: u64) -> bool {
        (self.first..=self.last).contains(&serial)
    }
}

/// Ranges must be forward and pairwise disjoint.
pub(crate) fn check_ranges(field: &str, ranges: &[CodeRange]) -> Result<(), EventError> {
    check::non_empty_list(field, ranges)?;
    for r in ranges {
        if r.first > r.last {
            return Err(EventError::ReversedRange {
                field: field.to_owned(),
                first: r.first,
                last: r.last,
            });
        }
    }
    let mut sorted: Vec<CodeRange> = ranges.to_vec();
    sorted.sort_by_key(|r| r.first);
    for w in sorted.windows(2) {
        if w[1].first <= w[0].last {
            return Err(EventError::OverlappingRanges {
                field: field.to_owned(),
                at: w[1].first,
            });
        }
    }
    Ok(())
}

/// 码池分配: serials reserved for this box from the enterprise's code pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodesAllocated {
    pub pool: String,
    pub level: CodeLevel,
    pub range: CodeRange,
    /// The code template the serials are rendered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The production batch the serials were generated for (codes generated ahead of printing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

impl CodesAllocated {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("pool", &self.pool)?;
        check_ranges("range", std::slice::from_ref(&self.range))
    }
}

/// 赋码: serials confirmed printed by the coder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodesEncoded {
    pub pool: String,
    pub ranges: Vec<CodeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// Which coder printed them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coder: Option<String>,
}

impl CodesEncoded {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("pool", &self.pool)?;
        check_ranges("ranges", &self.ranges)
    }
}

/// 激活: serials activated for a batch (the public page resolves them from now on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodesCommissioned {
    pub pool: String,
    pub ranges: Vec<CodeRange>,
    pub batch: String,
}

impl CodesCommissioned {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("pool", &self.pool)?;
        check::non_empty("batch", &self.batch)?;
        check_ranges("ranges", &self.ranges)
    }
}

/// 报废 / 停用: serials that must never resolve (misprint, coder fault, unused remainder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodesScrapped {
    pub pool: String,
    pub ranges: Vec<CodeRange>,
    pub reason: String,
}

impl CodesScrapped {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("pool", &self.pool)?;
        check::non_empty("reason", &self.reason)?;
        check_ranges("ranges", &self.ranges)
    }
}

/// 模板: a code template saved (or replaced, same `id`) by the enterprise (4.2.5). Synced so
/// the cloud can decode the template's codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeTemplateSaved {
    pub template: crate::product_code::Template,
}

impl CodeTemplateSaved {
    pub fn validate(&self) -> Result<(), EventError> {
        self.template
            .validate()
            .map(|_| ())
            .map_err(|e| EventError::Invalid {
                field: "template".into(),
                reason: e.to_string(),
            })
    }
}

/// 停用 / 启用: serials of a pool taken out of (or back into) service (4.2.6). A disabled code
/// still decodes, but the public page and every scan say it is disabled. The latest entry
/// covering a serial decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodesToggled {
    pub pool: String,
    pub ranges: Vec<CodeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl CodesToggled {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("pool", &self.pool)?;
        check_ranges("ranges", &self.ranges)
    }
}

/// 关联: child codes packed into a parent (unit→case, case→pallet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregation {
    pub parent: String,
    pub parent_level: CodeLevel,
    pub children: Vec<String>,
}

impl Aggregation {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("parent", &self.parent)?;
        check::non_empty_list("children", &self.children)?;
        check::distinct("children", &self.children)?;
        if self.children.contains(&self.parent) {
            return Err(EventError::Contradiction {
                field: "children".into(),
                value: self.parent.clone(),
                what: "parent listed as its own child",
            });
        }
        Ok(())
    }
}

/// 解除关联: children taken out of a parent (empty `children` = all of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disaggregation {
    pub parent: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Disaggregation {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("parent", &self.parent)?;
        check::distinct("children", &self.children)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r = |first, last| CodeRange { first, last };
        assert_eq!(r(5, 9).len(), Some(5));
        assert!(r(9, 5).is_empty());
        assert!(check_ranges("r", &[r(1, 10), r(11, 20)]).is_ok());
        assert_eq!(
            check_ranges("r", &[r(11, 20), r(1, 11)]),
            Err(EventError::OverlappingRanges {
                field: "r".into(),
                at: 11
            })
        );
        assert!(matches!(
            check_ranges("r", &[r(3, 2)]),
            Err(EventError::ReversedRange { .. })
        ));
        assert!(matches!(
            check_ranges("r", &[]),
            Err(EventError::Empty { .. })
        ));
        assert_eq!(r(0, u64::MAX).len(), None);
    }
}
