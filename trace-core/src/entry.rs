//! The ledger entry and how it is sealed into the hash chain.
//!
//! `hash = H(prev_hash ‖ canonical(entry without hash and prev_hash))`. The canonical form
//! covers the device, the dense sequence number, the entry id, the device's wall-clock time, the
//! vocabulary version and the event, so moving, renumbering, re-dating or editing an entry breaks
//! the chain at exactly that entry.

use crate::canonical::{CanonicalError, canonical_bytes};
use crate::event::{Event, VOCABULARY_VERSION};
use crate::hash::{Digest, HashAlg};
use crate::ids::DeviceId;
use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// Wall-clock time in UTC milliseconds since the Unix epoch, as the device saw it.
/// Reported, never trusted for ordering: `seq` orders a device's entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// What a caller hands the ledger: the ledger assigns `seq` and `prev_hash` and seals it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDraft {
    pub id: Ulid,
    pub at: Timestamp,
    pub event: Event,
}

impl EntryDraft {
    pub fn new(event: Event) -> Self {
        EntryDraft {
            id: Ulid::generate(),
            at: Timestamp::now(),
            event,
        }
    }
}

/// A sealed ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub device: DeviceId,
    pub seq: u64,
    pub id: Ulid,
    pub at: Timestamp,
    /// Vocabulary version the event was written with.
    pub v: u16,
    #[serde(flatten)]
    pub event: Event,
    pub prev_hash: Digest,
    pub hash: Digest,
}

/// The hashed part of an entry. Borrowed so hashing does not clone the event.
#[derive(Serialize)]
struct Hashed<'a> {
    device: &'a DeviceId,
    seq: u64,
    id: &'a Ulid,
    at: Timestamp,
    v: u16,
    #[serde(flatten)]
    event: &'a Event,
}

impl Entry {
    /// Seal a draft as entry `seq` of `device`, chained after `prev_hash`.
    pub fn seal(
        draft: EntryDraft,
        device: DeviceId,
        seq: u64,
        prev_hash: Digest,
        alg: HashAlg,
    ) -> Result<Entry, CanonicalError> {
        let mut e = Entry {
            device,
            seq,
            id: draft.id,
            at: draft.at,
            v: VOCABULARY_VERSION,
            event: draft.event,
            prev_hash,
            hash: Digest::ZERO,
        };
        e.hash = e.compute_hash(alg)?;
        Ok(e)
    }

    /// The canonical bytes the hash is taken over (without `prev_hash`, which is prefixed).
    pub fn canonical(&self) -> Result<Vec<u8>, CanonicalError> {
        canonical_bytes(&Hashed {
            device: &self.device,
            seq: self.seq,
            id: &self.id,
            at: self.at,
            v: self.v,
            event: &self.event,
        })
    }

    /// Recompute this entry's hash from its content and `prev_hash`.
    pub fn compute_hash(&self, alg: HashAlg) -> Result<Digest, CanonicalError> {
        let body = self.canonical()?;
        Ok(alg.digest(&[&self.prev_hash.0, &body]))
    }

    /// Does the stored hash match the content?
    pub fn hash_is_valid(&self, alg: HashAlg) -> bool {
        self.compute_hash(alg).is_ok_and(|h| h == self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Void;

    fn draft(n: u64) -> EntryDraft {
        EntryDraft {
            id: Ulid::from_parts(1_700_000_000_000, u128::from(n)),
            at: Timestamp(1_700_000_000_000),
            event: Event::Void(Void {
                target_seq: n,
                reason: "测试".into(),
            }),
        }
    }

    #[test]
    fn chain_links_and_detects_edits() {
        let dev = DeviceId::new("stall-a01").unwrap();
        let a = Entry::seal(draft(1), dev.clone(), 1, Digest::ZERO, HashAlg::Sha256).unwrap();
        let b = Entry::seal(draft(2), dev, 2, a.hash, HashAlg::Sha256).unwrap();
        assert!(a.hash_is_valid(HashAlg::Sha256) && b.hash_is_valid(HashAlg::Sha256));
        assert!(!b.hash_is_valid(HashAlg::Sm3));
        let mut edited = b.clone();
        edited.seq = 3;
        assert!(!edited.hash_is_valid(HashAlg::Sha256));
    }

    #[test]
    fn json_round_trip_keeps_hash() {
        let dev = DeviceId::new("stall-a01").unwrap();
        let a = Entry::seal(draft(1), dev, 1, Digest::ZERO, HashAlg::Sm3).unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains("\"kind\":\"void\""));
        let back: Entry = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        assert!(back.hash_is_valid(HashAlg::Sm3));
    }
}
