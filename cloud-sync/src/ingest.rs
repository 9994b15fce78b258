//! The ingest rules, backend-neutral: what becomes of each entry of a batch.
//!
//! Why pure: SQLite and PostgreSQL must decide identically whether an entry is stored, a
//! duplicate or quarantined, and the decision is the subtle part (out-of-order batches, links
//! checked in both directions, quarantine that sticks). A backend does only I/O around it:
//!
//! 1. [`prepare`] validates and sorts the batch (refusals happen here, before any write);
//! 2. it loads the device's [`DeviceIngestState`] and fetches the stored [`Link`]s that
//!    [`needed_links`] names (usually one row: the entry before the batch);
//! 3. [`verify`] checks each entry against its own hash (pure CPU: a backend runs it wherever
//!    it is cheapest, e.g. off its serial writer), then [`classify`] gives a [`Verdict`] per
//!    entry and advances the state;
//! 4. it writes stored entries, quarantined entries, the alert and the new state in the same
//!    transaction.
//!
//! Design (per entry, in seq order):
//! - own hash invalid → quarantine (`bad_hash`): the content was altered after sealing;
//! - seq already stored: same hash → duplicate (no-op), other hash → quarantine (`conflict`);
//! - device already quarantined → quarantine (`after_break`): once a chain is in doubt nothing
//!   more of it is trusted until an operator has looked;
//! - the link to a stored neighbour fails (seq-1's hash ≠ prev_hash, or this hash ≠ seq+1's
//!   prev_hash; seq 1 must follow [`Digest::ZERO`]) → quarantine (`chain_break`). A neighbour
//!   that has not arrived yet is checked when it arrives, so every link is checked exactly once
//!   whatever the arrival order;
//! - otherwise → store.

use crate::ranges::SeqRanges;
use crate::store::StoreError;
use std::collections::HashMap;
use trace_core::{DeviceId, Digest, Entry, HashAlg};

/// The two hashes of a stored entry that chain checks compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub prev_hash: Digest,
    pub hash: Digest,
}

impl Link {
    pub fn of(e: &Entry) -> Self {
        Link {
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineReason {
    BadHash,
    Conflict,
    ChainBreak,
    AfterBreak,
}

impl QuarantineReason {
    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineReason::BadHash => "bad_hash",
            QuarantineReason::Conflict => "conflict",
            QuarantineReason::ChainBreak => "chain_break",
            QuarantineReason::AfterBreak => "after_break",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Store,
    Duplicate,
    Quarantine(QuarantineReason),
}

/// What a backend persists per device between batches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceIngestState {
    pub ranges: SeqRanges,
    pub quarantined: bool,
}

/// The verdicts of a batch (parallel to the prepared entries) and, when this batch put the
/// device into quarantine, the entry and reason that did it (for the alert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub verdicts: Vec<Verdict>,
    pub quarantined_by: Option<(u64, QuarantineReason, String)>,
}

/// Refuse batches that are not wholly `device`'s or carry an impossible seq, and sort by seq.
/// Runs before any write, so a refused batch changes nothing.
pub fn prepare(device: &DeviceId, mut entries: Vec<Entry>) -> Result<Vec<Entry>, StoreError> {
    for e in &entries {
        if &e.device != device {
            return Err(StoreError::DeviceMismatch {
                batch: device.clone(),
                entry: e.device.clone(),
                seq: e.seq,
            });
        }
        if e.seq == 0 || i64::try_from(e.seq).is_err() {
            return Err(StoreError::InvalidSeq(e.seq));
        }
    }
    // Stable: two copies of one seq keep their batch order.
    entries.sort_by_key(|e| e.seq);
    Ok(entries)
}

/// Stored seqs whose links [`classify`] will compare: each entry's own seq and its neighbours.
/// Ascending, without duplicates; usually just the seq before the batch.
pub fn needed_links(ranges: &SeqRanges, entries: &[Entry]) -> Vec<u64> {
    let mut out: Vec<u64> = entries
        .iter()
        .flat_map(|e| [e.seq - 1, e.seq, e.seq.saturating_add(1)])
        .filter(|s| ranges.contains(*s))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Does each entry match its own hash? The CPU-heavy part of ingest (canonical JSON and a
/// digest per entry), kept apart so a backend can run it off its serial writer.
pub fn verify(alg: HashAlg, entries: &[Entry]) -> Vec<bool> {
    entries.iter().map(|e| e.hash_is_valid(alg)).collect()
}

/// A batch with its CPU work done before it reaches a backend's writer (the SQLite writer
/// thread, a PostgreSQL connection): refused or sorted by [`prepare`], each entry checked
/// against its own hash by [`verify`], events encoded for storage.
pub(crate) struct Verified {
    pub(crate) entries: Vec<Entry>,
    pub(crate) alg: HashAlg,
    pub(crate) valid: Vec<bool>,
    pub(crate) events: Vec<String>,
}

impl Verified {
    pub(crate) fn new(
        device: &DeviceId,
        entries: Vec<Entry>,
        alg: HashAlg,
    ) -> Result<Self, StoreError> {
        let entries = prepare(device, entries)?;
        let valid = verify(alg, &entries);
        let events = entries
            .iter()
            .map(|e| serde_json::to_string(&e.event))
            .collect::<Result<_, _>>()
            .map_err(|err| StoreError::Corrupt(format!("event encoding: {err}")))?;
        Ok(Verified {
            entries,
            alg,
            valid,
            events,
        })
    }
}

/// Decide every entry of a prepared batch. `valid` is [`verify`]'s answer for `entries`;
/// `links` holds the stored links [`needed_links`] named (missing ones are treated as a corrupt
/// store by the caller, not here).
pub fn classify(
    state: &mut DeviceIngestState,
    valid: &[bool],
    entries: &[Entry],
    mut links: HashMap<u64, Link>,
) -> Classified {
    let mut verdicts = Vec::with_capacity(entries.len());
    let mut quarantined_by = None;
    for (i, e) in entries.iter().enumerate() {
        let verdict = decide(state, valid.get(i).copied().unwrap_or(false), e, &links);
        match verdict {
            Verdict::Store => {
                state.ranges.insert(e.seq);
                links.insert(e.seq, Link::of(e));
            }
            Verdict::Quarantine(reason) if !state.quarantined => {
                state.quarantined = true;
                quarantined_by = Some((e.seq, reason, describe(reason, e, &links)));
            }
            _ => {}
        }
        verdicts.push(verdict);
    }
    Classified {
        verdicts,
        quarantined_by,
    }
}

fn decide(
    state: &DeviceIngestState,
    valid: bool,
    e: &Entry,
    links: &HashMap<u64, Link>,
) -> Verdict {
    if !valid {
        return Verdict::Quarantine(QuarantineReason::BadHash);
    }
    if state.ranges.contains(e.seq) {
        return match links.get(&e.seq) {
            Some(l) if l.hash == e.hash => Verdict::Duplicate,
            _ => Verdict::Quarantine(QuarantineReason::Conflict),
        };
    }
    if state.quarantined {
        return Verdict::Quarantine(QuarantineReason::AfterBreak);
    }
    let prev_ok = if e.seq == 1 {
        e.prev_hash == Digest::ZERO
    } else {
        links
            .get(&(e.seq - 1))
            .is_none_or(|l| l.hash == e.prev_hash)
    };
    let next_ok = links
        .get(&(e.seq + 1))
        .is_none_or(|l| l.prev_hash == e.hash);
    if prev_ok && next_ok {
        Verdict::Store
    } else {
        Verdict::Quarantine(QuarantineReason::ChainBreak)
    }
}

fn describe(reason: QuarantineReason, e: &Entry, links: &HashMap<u64, Link>) -> String {
    match reason {
        QuarantineReason::BadHash => format!(
            "entry {} does not match its own hash {}: altered after sealing",
            e.seq, e.hash
        ),
        QuarantineReason::Conflict => format!(
            "entry {} re-sent with hash {} but stored with {}",
            e.seq,
            e.hash,
            links
                .get(&e.seq)
                .map_or_else(|| "?".to_string(), |l| l.hash.to_hex())
        ),
        QuarantineReason::ChainBreak => format!(
            "entry {} (prev_hash {}, hash {}) does not link to its stored neighbours",
            e.seq, e.prev_hash, e.hash
        ),
        QuarantineReason::AfterBreak => format!("entry {} arrived after a break", e.seq),
    }
}

#[cfg(test)]
mod tests;
