//! The ledger entry and how it is sealed into the hash chain.
//!
//! The hash contract (it defines every stored hash; changing it breaks every chain):
//!
//! ```text
//! hash = H(prev_hash ‖ seq as 8 bytes big-endian ‖ canonical(entry without seq, prev_hash, hash))
//! ```
//!
//! `H` is the deployment's [`HashAlg`]; `canonical` is [`crate::canonical_bytes`] of the
//! device, the entry id, the device's wall-clock time, the vocabulary version and the event
//! (flattened as `kind` and `body`). Moving, renumbering, re-dating or editing an entry breaks
//! the chain at exactly that entry: `seq` is still hashed, only outside the canonical JSON.
//!
//! Why `seq` is outside the canonical form: the canonical bytes are the expensive part of
//! sealing, and `seq` is only known to whoever holds the ledger's write lock. With `seq` out, a
//! caller encodes its draft ([`EntryDraft::prepare`]) on its own thread, and the ledger's single
//! writer only hashes a few hundred bytes per entry inside its critical section.

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

    /// Compute the canonical bytes this draft will be hashed over as an entry of `device`.
    /// Refuses what has no canonical form (a float anywhere).
    pub fn prepare(self, device: DeviceId) -> Result<PreparedDraft, CanonicalError> {
        let canonical = canonical_bytes(&Hashed {
            device: &device,
            id: &self.id,
            at: self.at,
            v: VOCABULARY_VERSION,
            event: &self.event,
        })?;
        Ok(PreparedDraft {
            draft: self,
            device,
            canonical,
        })
    }
}

/// A draft with its canonical bytes computed: sealing it needs only `seq`, `prev_hash` and one
/// hash over a few hundred bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedDraft {
    draft: EntryDraft,
    device: DeviceId,
    canonical: Vec<u8>,
}

impl PreparedDraft {
    pub fn draft(&self) -> &EntryDraft {
        &self.draft
    }

    pub fn device(&self) -> &DeviceId {
        &self.device
    }

    /// The canonical bytes (the hash contract's third part).
    pub fn canonical(&self) -> &[u8] {
        &self.canonical
    }

    /// The hash this draft gets as entry `seq` after `prev_hash`.
    pub fn hash_at(&self, seq: u64, prev_hash: &Digest, alg: HashAlg) -> Digest {
        chain_hash(alg, prev_hash, seq, &self.canonical)
    }

    /// Seal as entry `seq`, chained after `prev_hash`.
    pub fn seal(self, seq: u64, prev_hash: Digest, alg: HashAlg) -> Entry {
        let hash = self.hash_at(seq, &prev_hash, alg);
        self.into_entry(seq, prev_hash, hash)
    }

    /// Build the entry with a hash already computed by [`PreparedDraft::hash_at`] for the same
    /// `seq` and `prev_hash` (a ledger that hashed inside its transaction and builds entries
    /// after the commit).
    pub fn into_entry(self, seq: u64, prev_hash: Digest, hash: Digest) -> Entry {
        Entry {
            device: self.device,
            seq,
            id: self.draft.id,
            at: self.draft.at,
            v: VOCABULARY_VERSION,
            event: self.draft.event,
            prev_hash,
            hash,
        }
    }
}

fn chain_hash(alg: HashAlg, prev_hash: &Digest, seq: u64, canonical: &[u8]) -> Digest {
    alg.digest(&[&prev_hash.0, &seq.to_be_bytes(), canonical])
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

/// The canonically encoded part of an entry. Borrowed so hashing does not clone the event.
#[derive(Serialize)]
pub(crate) struct Hashed<'a> {
    device: &'a DeviceId,
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
        Ok(draft.prepare(device)?.seal(seq, prev_hash, alg))
    }

    pub(crate) fn hashed(&self) -> Hashed<'_> {
        Hashed {
            device: &self.device,
            id: &self.id,
            at: self.at,
            v: self.v,
            event: &self.event,
        }
    }

    /// The canonical bytes of the hash contract: everything but `seq`, `prev_hash` and `hash`,
    /// which are hashed as fixed-width prefixes instead.
    pub fn canonical(&self) -> Result<Vec<u8>, CanonicalError> {
        canonical_bytes(&self.hashed())
    }

    /// Recompute this entry's hash from its content, `seq` and `prev_hash`.
    pub fn compute_hash(&self, alg: HashAlg) -> Result<Digest, CanonicalError> {
        let body = self.canonical()?;
        Ok(chain_hash(alg, &self.prev_hash, self.seq, &body))
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

    /// The hash contract, pinned: this exact entry must keep these exact canonical bytes and
    /// this exact hash forever (changed deliberately once, when `seq` moved out of the
    /// canonical form, before any release).
    #[test]
    fn hash_contract_is_stable() {
        let dev = DeviceId::new("stall-a01").unwrap();
        let prev = Digest([7u8; 32]);
        let mut e = Entry::seal(draft(5), dev, 42, prev, HashAlg::Sha256).unwrap();
        // Pinned as vocabulary v1 wrote it: an entry keeps its bytes and hash however far the
        // vocabulary grows after it (its `v` is stored and hashed with it).
        e.v = 1;
        e.hash = HashAlg::Sha256.digest(&[&prev.0, &42u64.to_be_bytes(), &e.canonical().unwrap()]);
        let canonical = String::from_utf8(e.canonical().unwrap()).unwrap();
        assert_eq!(
            canonical,
            concat!(
                r#"{"at":1700000000000,"body":{"reason":"测试","target_seq":5},"#,
                r#""device":"stall-a01","id":"01HF7YAT000000000000000005","kind":"void","v":1}"#
            )
        );
        let mut input = prev.0.to_vec();
        input.extend_from_slice(&42u64.to_be_bytes());
        input.extend_from_slice(canonical.as_bytes());
        assert_eq!(e.hash, HashAlg::Sha256.digest(&[&input]));
        assert_eq!(
            e.hash.to_hex(),
            "0d77dcb2f7b444eed4a3006c52ed576c9b4f6675f0ef0c6c79ec92685d49b1d5"
        );
    }

    #[test]
    fn prepared_and_direct_sealing_agree() {
        let dev = DeviceId::new("stall-a01").unwrap();
        let p = draft(9).prepare(dev.clone()).unwrap();
        let h = p.hash_at(3, &Digest::ZERO, HashAlg::Sm3);
        let e = p.clone().into_entry(3, Digest::ZERO, h);
        assert_eq!(e, p.seal(3, Digest::ZERO, HashAlg::Sm3));
        assert_eq!(
            e,
            Entry::seal(draft(9), dev, 3, Digest::ZERO, HashAlg::Sm3).unwrap()
        );
        assert!(e.hash_is_valid(HashAlg::Sm3));
    }
}
