//! Aggregation (关联) at the packer: units into a case, cases onto a pallet, by scanning each
//! child or by count from the line's feed of printed codes; and its undoing.
//!
//! Why the checks are strict: a unit recorded in two cases, or a case re-packed after it left,
//! sends a recall to the wrong customer. So a child must be ours, enabled, of the level the
//! parent holds, in no other parent, and still on this box.

use super::ProducerError;
use super::lookup::CodeLookup;
use super::query::{children, dispatched, parent_of};
use super::records::append_all;
use crate::ledger::Ledger;
use std::collections::HashSet;
use trace_core::Entry;
use trace_core::event::{Aggregation, CodeLevel, Disaggregation};

/// The level a parent of `level` holds.
fn holds(level: CodeLevel) -> Option<CodeLevel> {
    match level {
        CodeLevel::Case => Some(CodeLevel::Unit),
        CodeLevel::Pallet => Some(CodeLevel::Case),
        CodeLevel::Unit | CodeLevel::Batch => None,
    }
}

/// Pack `children` (as scanned) into `parent`. All are checked before anything is written.
pub fn aggregate(
    ledger: &mut Ledger,
    lookup: &dyn CodeLookup,
    parent: &str,
    level: CodeLevel,
    scanned: &[String],
) -> Result<Entry, ProducerError> {
    let expected = holds(level).ok_or(ProducerError::ParentLevel {
        code: parent.to_owned(),
        expected: CodeLevel::Case,
        found: level,
    })?;
    let facts = lookup
        .lookup(parent)
        .map_err(|rejection| ProducerError::Code {
            code: parent.to_owned(),
            rejection,
        })?;
    if facts.level != level {
        return Err(ProducerError::ParentLevel {
            code: parent.to_owned(),
            expected: level,
            found: facts.level,
        });
    }
    if let Some(shipment_no) = dispatched(ledger, parent)? {
        return Err(ProducerError::AlreadyShipped {
            code: parent.to_owned(),
            shipment_no,
        });
    }
    let mut seen = HashSet::new();
    for c in scanned {
        if !seen.insert(c.as_str()) {
            return Err(ProducerError::ScannedTwice { code: c.clone() });
        }
        let f = lookup.lookup(c).map_err(|rejection| ProducerError::Code {
            code: c.clone(),
            rejection,
        })?;
        if f.level != expected {
            return Err(ProducerError::Level {
                code: c.clone(),
                parent: level,
                expected,
                found: f.level,
            });
        }
        if let Some(shipment_no) = dispatched(ledger, c)? {
            return Err(ProducerError::AlreadyShipped {
                code: c.clone(),
                shipment_no,
            });
        }
        if let Some((p, seq)) = parent_of(ledger, c)? {
            return Err(ProducerError::AlreadyPacked {
                code: c.clone(),
                parent: p,
                seq,
            });
        }
    }
    let mut v = append_all(
        ledger,
        vec![
            Aggregation {
                parent: parent.to_owned(),
                parent_level: level,
                children: scanned.to_vec(),
            }
            .into(),
        ],
    )?;
    v.pop()
        .ok_or_else(|| ProducerError::Missing("no entry appended".into()))
}

/// Pack the next `count` codes of `feed` (the line's printed codes, in the order they reach
/// the packer) that are not packed or shipped yet. Fewer than `count` available: refused.
pub fn aggregate_by_count(
    ledger: &mut Ledger,
    lookup: &dyn CodeLookup,
    parent: &str,
    level: CodeLevel,
    count: usize,
    feed: &[String],
) -> Result<Entry, ProducerError> {
    let mut take = Vec::with_capacity(count);
    for c in feed {
        if take.len() == count {
            break;
        }
        if parent_of(ledger, c)?.is_none() && dispatched(ledger, c)?.is_none() && c != parent {
            take.push(c.clone());
        }
    }
    if take.len() < count || count == 0 {
        return Err(ProducerError::NotEnough {
            wanted: count,
            available: take.len(),
        });
    }
    aggregate(ledger, lookup, parent, level, &take)
}

/// Take `children` out of `parent` (all of them when empty), before it ships.
pub fn disaggregate(
    ledger: &mut Ledger,
    parent: &str,
    take_out: &[String],
    reason: Option<String>,
) -> Result<Entry, ProducerError> {
    if let Some(shipment_no) = dispatched(ledger, parent)? {
        return Err(ProducerError::AlreadyShipped {
            code: parent.to_owned(),
            shipment_no,
        });
    }
    if take_out.is_empty() && children(ledger, parent)?.is_empty() {
        return Err(ProducerError::Missing(format!(
            "{parent} holds nothing to take out"
        )));
    }
    for c in take_out {
        if parent_of(ledger, c)?.is_none_or(|(p, _)| p != parent) {
            return Err(ProducerError::NotInParent {
                code: c.clone(),
                parent: parent.to_owned(),
            });
        }
    }
    let mut v = append_all(
        ledger,
        vec![
            Disaggregation {
                parent: parent.to_owned(),
                children: take_out.to_vec(),
                reason,
            }
            .into(),
        ],
    )?;
    v.pop()
        .ok_or_else(|| ProducerError::Missing("no entry appended".into()))
}
