//! `verify`: re-walk the chain and name the first entry that does not hold.
//!
//! Why the first: everything after a bad entry chains from it, so later mismatches are
//! consequences, not findings. What counts as bad, checked in seq order from 1:
//! a missing seq (gap or deleted tail), a `prev_hash` that is not the previous stored hash,
//! a stored hash that does not match the recomputed one, a row that does not decode. The
//! `head` row and the sync mark are cross-checked, so deleting the newest entries is caught too.

use super::row::{SELECT_COLUMNS, StoredRow};
use super::{Ledger, LedgerError, error::SqlContext};
use serde::Serialize;
use trace_core::{DeviceId, Digest, HashAlg};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The seq is absent: deleted, or rows renumbered.
    Missing,
    /// A seq outside 1..: rows renumbered.
    OutOfRange,
    /// `prev_hash` is not the previous entry's hash: rows reordered, replaced or inserted.
    BrokenLink,
    /// The content does not hash to the stored hash: content or hash edited.
    HashMismatch,
    /// The row does not decode (body JSON, id, hash length).
    Undecodable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadEntry {
    pub seq: i64,
    pub problem: Problem,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub device: DeviceId,
    pub hash_alg: HashAlg,
    /// Entries that verified before the first bad one (all of them when intact).
    pub entries_ok: u64,
    pub head_seq: u64,
    pub head_hash: Digest,
    pub first_bad: Option<BadEntry>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none()
    }
}

impl Ledger {
    /// Walk the whole chain. `Err` only for storage failures; a broken chain is a report.
    pub fn verify(&self) -> Result<VerifyReport, LedgerError> {
        self.verify_with_progress(&mut |_| {})
    }

    /// As [`Ledger::verify`], calling `progress(entries_done)` every 1024 entries.
    pub fn verify_with_progress(
        &self,
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, LedgerError> {
        let path = self.path();
        let mut stmt = self
            .conn()
            .prepare(&format!(
                "SELECT {SELECT_COLUMNS} FROM entries ORDER BY seq"
            ))
            .ctx(path, "verifying")?;
        let rows = stmt
            .query_map([], StoredRow::from_row)
            .ctx(path, "verifying")?;
        let mut expected: i64 = 1;
        let mut prev = Digest::ZERO;
        let mut first_bad = None;
        for r in rows {
            let r = r.ctx(path, "verifying")?;
            match self.check_row(r, expected, prev) {
                Ok(hash) => prev = hash,
                Err(bad) => {
                    first_bad = Some(bad);
                    break;
                }
            }
            expected += 1;
            let done = u64::try_from(expected - 1).unwrap_or(0);
            if done.is_multiple_of(1024) {
                progress(done);
            }
        }
        let last = expected - 1;
        let head = self.head()?;
        let synced = self.synced_seq()?;
        let head_seq = i64::try_from(head.seq).unwrap_or(i64::MAX);
        if first_bad.is_none() && head_seq > last {
            first_bad = Some(BadEntry {
                seq: last + 1,
                problem: Problem::Missing,
                detail: format!(
                    "the ledger head is entry {head_seq} but the chain ends at {last}: newest entries deleted"
                ),
            });
        } else if first_bad.is_none() && head_seq == last && head.hash != prev {
            first_bad = Some(BadEntry {
                seq: last,
                problem: Problem::HashMismatch,
                detail: "the stored head hash differs from the last entry's hash".into(),
            });
        } else if first_bad.is_none() && i64::try_from(synced).unwrap_or(i64::MAX) > last {
            first_bad = Some(BadEntry {
                seq: last + 1,
                problem: Problem::Missing,
                detail: format!(
                    "the cloud acknowledged up to {synced} but the chain ends at {last}"
                ),
            });
        }
        Ok(VerifyReport {
            device: self.device().clone(),
            hash_alg: self.hash_alg(),
            entries_ok: u64::try_from(last).unwrap_or(0),
            head_seq: u64::try_from(last).unwrap_or(0),
            head_hash: prev,
            first_bad,
        })
    }

    /// The entry's (verified) hash, or why it is bad.
    fn check_row(&self, r: StoredRow, expected: i64, prev: Digest) -> Result<Digest, BadEntry> {
        let seq = r.seq;
        if seq < 1 {
            return Err(BadEntry {
                seq,
                problem: Problem::OutOfRange,
                detail: format!("seq {seq} is not a valid sequence number"),
            });
        }
        if seq != expected {
            return Err(BadEntry {
                seq: expected,
                problem: Problem::Missing,
                detail: format!("entry {expected} is missing (next present is {seq})"),
            });
        }
        let entry = match r.decode(self.device()) {
            Ok(e) => e,
            Err(d) => {
                return Err(BadEntry {
                    seq,
                    problem: Problem::Undecodable,
                    detail: d,
                });
            }
        };
        if entry.prev_hash != prev {
            return Err(BadEntry {
                seq,
                problem: Problem::BrokenLink,
                detail: format!(
                    "prev_hash {} is not the hash of entry {} ({prev})",
                    entry.prev_hash,
                    seq - 1
                ),
            });
        }
        match entry.compute_hash(self.hash_alg()) {
            Ok(h) if h == entry.hash => Ok(h),
            Ok(h) => Err(BadEntry {
                seq,
                problem: Problem::HashMismatch,
                detail: format!("stored hash {} but the content hashes to {h}", entry.hash),
            }),
            Err(e) => Err(BadEntry {
                seq,
                problem: Problem::Undecodable,
                detail: e.to_string(),
            }),
        }
    }
}
