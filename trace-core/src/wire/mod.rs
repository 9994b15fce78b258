//! Sync wire types: what travels between a box and the cloud over MQTT.
//!
//! **Do not reorder or rename** fields or enum tags of these types: old boxes stay in the field
//! for years, and the cloud must read what every deployed version sends. Changes are additive
//! (new optional fields with `#[serde(default)]`); a breaking change bumps [`WIRE_VERSION`] and
//! the topic prefix (`bt/v2/…`). Every message carries `v`, so a receiver can refuse a version it
//! does not know instead of misreading it.
//!
//! Flow (DESIGN.md "Sync"): the box publishes [`EntryBatch`]es on `up` inside a binary
//! [`envelope`] (lz4-compressed JSON); the cloud answers on `ack` with the contiguous high-water
//! mark and the ranges it is still missing; the box publishes its health as a retained
//! [`DeviceState`] on `state`; the cloud sends versioned [`DownlinkDoc`]s on `down`.

pub mod envelope;
pub mod sign;
#[cfg(test)]
mod tests;
pub mod topics;

use crate::entry::{Entry, Timestamp};
use crate::hash::Digest;
use crate::ids::DeviceId;
use serde::{Deserialize, Serialize};

/// Version of the wire types, carried as `v` in every message.
pub const WIRE_VERSION: u16 = 1;

/// Inclusive range of sequence numbers `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeqRange {
    pub from: u64,
    pub to: u64,
}

impl SeqRange {
    pub fn new(from: u64, to: u64) -> SeqRange {
        SeqRange { from, to }
    }

    pub fn contains(&self, seq: u64) -> bool {
        (self.from..=self.to).contains(&seq)
    }

    /// Number of sequence numbers in the range (0 when reversed).
    pub fn len(&self) -> u64 {
        if self.to < self.from {
            0
        } else {
            self.to - self.from + 1
        }
    }

    pub fn is_empty(&self) -> bool {
        self.to < self.from
    }
}

/// Why an entry batch is not acceptable as sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("wire version {0} is not supported (this build speaks {WIRE_VERSION})")]
    Version(u16),
    #[error("entry seq {seq} belongs to device {found}, the batch to {expected}")]
    ForeignEntry {
        seq: u64,
        expected: DeviceId,
        found: DeviceId,
    },
    #[error("entry seq {0} appears twice in the batch")]
    DuplicateSeq(u64),
}

/// Entries of one device, `up` topic. Contiguous or not: live-first sync sends the newest entry
/// ahead of a backlog, and a re-send answers `missing` ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryBatch {
    pub v: u16,
    pub device: DeviceId,
    pub entries: Vec<Entry>,
}

impl EntryBatch {
    pub fn new(device: DeviceId, entries: Vec<Entry>) -> EntryBatch {
        EntryBatch {
            v: WIRE_VERSION,
            device,
            entries,
        }
    }

    /// The structural checks a receiver makes before looking at hashes: known version, every
    /// entry of the batch's device (a box may not write into another's series), no seq twice.
    pub fn check(&self) -> Result<(), BatchError> {
        if self.v != WIRE_VERSION {
            return Err(BatchError::Version(self.v));
        }
        let mut seen = std::collections::HashSet::with_capacity(self.entries.len());
        for e in &self.entries {
            if e.device != self.device {
                return Err(BatchError::ForeignEntry {
                    seq: e.seq,
                    expected: self.device.clone(),
                    found: e.device.clone(),
                });
            }
            if !seen.insert(e.seq) {
                return Err(BatchError::DuplicateSeq(e.seq));
            }
        }
        Ok(())
    }

    /// The seq ranges the batch covers, merged and sorted.
    pub fn ranges(&self) -> Vec<SeqRange> {
        let mut seqs: Vec<u64> = self.entries.iter().map(|e| e.seq).collect();
        seqs.sort_unstable();
        seqs.dedup();
        let mut out: Vec<SeqRange> = Vec::new();
        for s in seqs {
            match out.last_mut() {
                Some(r) if r.to + 1 == s => r.to = s,
                _ => out.push(SeqRange::new(s, s)),
            }
        }
        out
    }
}

/// The cloud's answer on `ack`: everything `<= hwm` is stored and verified; `missing` lists gaps
/// above it that the cloud knows of (it has later entries); `quarantined` means the chain did not
/// verify and the cloud stopped accepting this device's entries until an operator looks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub v: u16,
    pub device: DeviceId,
    /// Contiguous high-water mark: seqs `1..=hwm` are stored. 0 when nothing is.
    pub hwm: u64,
    #[serde(default)]
    pub missing: Vec<SeqRange>,
    #[serde(default)]
    pub quarantined: bool,
}

impl Ack {
    pub fn new(device: DeviceId, hwm: u64, missing: Vec<SeqRange>) -> Ack {
        Ack {
            v: WIRE_VERSION,
            device,
            hwm,
            missing,
            quarantined: false,
        }
    }
}

/// A peripheral or box condition reported in [`DeviceState`]. Values, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    PaperOut,
    PrinterOffline,
    ScaleUnstable,
    ScaleOverload,
    ScaleOffline,
    ScannerOffline,
    CoderFault,
    CoderOffline,
    DiskLow,
    ClockSkew,
    /// A kind a newer box reports that this build does not know.
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceFault {
    /// Which peripheral (`scale-1`, `printer`), or `box`.
    pub source: String,
    pub kind: FaultKind,
    pub since: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A downlink document the box has applied, and which version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedDoc {
    pub doc_type: DocType,
    pub version: u64,
}

/// Retained health on `state` (the broker's last will publishes `online: false`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    pub v: u16,
    pub device: DeviceId,
    pub online: bool,
    /// When the box produced this report (its clock).
    pub at: Timestamp,
    pub head_seq: u64,
    pub head_hash: Digest,
    /// Highest seq the cloud acknowledged contiguously.
    pub synced_seq: u64,
    /// Entries not yet acknowledged.
    pub backlog: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_unsynced_at: Option<Timestamp>,
    #[serde(default)]
    pub faults: Vec<DeviceFault>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_free_bytes: Option<u64>,
    #[serde(default)]
    pub applied_docs: Vec<AppliedDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<String>,
}

impl DeviceState {
    /// The last-will payload: only `online: false` carries meaning.
    pub fn offline(device: DeviceId, at: Timestamp) -> DeviceState {
        DeviceState {
            v: WIRE_VERSION,
            device,
            online: false,
            at,
            head_seq: 0,
            head_hash: Digest::ZERO,
            synced_seq: 0,
            backlog: 0,
            oldest_unsynced_at: None,
            faults: Vec::new(),
            disk_free_bytes: None,
            applied_docs: Vec::new(),
            software: None,
        }
    }
}

/// What a downlink document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocType {
    /// Product catalog for the box.
    Catalog,
    /// Scale key (PLU) to product map.
    PluMap,
    /// Public keys of other boxes, for verifying signed tickets offline.
    KeyDirectory,
    /// Inspection results to publish at the stall.
    Inspections,
    RecallAlert,
    Config,
    /// A type a newer cloud sends that this build does not know: acknowledged, not applied.
    #[serde(other)]
    Unknown,
}

/// A versioned document on `down`. A box applies a document only if `version` is newer than the
/// one it has of that `doc_type`; the body's schema belongs to the doc type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownlinkDoc {
    pub v: u16,
    pub doc_type: DocType,
    pub version: u64,
    pub body: serde_json::Value,
}

impl DownlinkDoc {
    pub fn new(doc_type: DocType, version: u64, body: serde_json::Value) -> DownlinkDoc {
        DownlinkDoc {
            v: WIRE_VERSION,
            doc_type,
            version,
            body,
        }
    }
}
