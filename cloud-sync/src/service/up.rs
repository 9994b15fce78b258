//! One `up` message from a box: authenticate, decode, ingest, answer with an `Ack`.
//!
//! Why the checks run in this order: each is cheaper than the next and none trusts what it has
//! not yet verified. The topic names the device (the broker's ACL ties it to the MQTT login);
//! the signature ties the bytes to that device's registered key (so a broker with its ACL off,
//! or a forwarded copy, cannot inject); only then is the envelope decompressed (size-capped
//! before allocation) and parsed; and the batch must name the same device as the topic. A
//! refusal at any step changes nothing in the store, is logged with its reason and counted.

use crate::store::{CloudStore, DeviceRecord, ErrorKind, IngestOutcome, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;
use trace_core::wire::envelope::{self, EnvelopeError, EnvelopeErrorKind};
use trace_core::wire::sign::{SignAlg, SignError, SignedEnvelope, VerifyKey};
use trace_core::wire::{BatchError, WIRE_VERSION};
use trace_core::{Ack, DeviceId, EntryBatch, SeqRange};

/// Why an `up` message was refused. [`Refusal::reason`] is the metrics label.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("device {0} is not registered")]
    UnknownDevice(DeviceId),
    #[error("registered key of device {0} is unusable")]
    BadRegisteredKey(DeviceId),
    #[error("not a signed envelope: {0}")]
    Framing(SignError),
    #[error("signature refused: {0}")]
    Signature(SignError),
    #[error("envelope refused: {0}")]
    Envelope(EnvelopeError),
    #[error("batch refused: {0}")]
    Batch(BatchError),
    #[error("batch names device {batch}, the topic {topic}")]
    DeviceMismatch { topic: DeviceId, batch: DeviceId },
    #[error("store refused the batch: {0}")]
    Store(StoreError),
}

impl Refusal {
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::UnknownDevice(_) => "unknown_device",
            Refusal::BadRegisteredKey(_) => "bad_registered_key",
            Refusal::Framing(_) => "not_signed",
            Refusal::Signature(_) => "bad_signature",
            Refusal::Envelope(e) => match e.kind() {
                EnvelopeErrorKind::Oversized => "oversized",
                EnvelopeErrorKind::Unsupported => "unsupported_envelope",
                EnvelopeErrorKind::Corrupt => match e {
                    EnvelopeError::Json(_) => "bad_json",
                    _ => "corrupt_envelope",
                },
            },
            Refusal::Batch(BatchError::Version(_)) => "wire_version",
            Refusal::Batch(_) => "bad_batch",
            Refusal::DeviceMismatch { .. } => "device_mismatch",
            Refusal::Store(_) => "store_refused",
        }
    }
}

/// What became of an `up` message.
#[derive(Debug)]
pub enum UpOutcome {
    /// Ingested (stored, duplicate or quarantined entries); publish this ack.
    Acked(Ack, IngestOutcome),
    /// Refused; nothing changed.
    Refused(Refusal),
    /// The store failed: no ack, the box re-sends after its timeout.
    Failed(StoreError),
}

/// The device → public key cache. A miss reads the registry, so devices added by
/// `baytrace-cloud device add` while the service runs are found without a restart.
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<DeviceId, VerifyKey>>,
}

impl KeyCache {
    async fn get<S: CloudStore>(
        &self,
        store: &S,
        device: &DeviceId,
    ) -> Result<VerifyKey, UpOutcome> {
        if let Some(k) = self
            .keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(device)
        {
            return Ok(k.clone());
        }
        let rec = match store.get_device(device).await {
            Ok(Some(rec)) => rec,
            Ok(None) => return Err(UpOutcome::Refused(Refusal::UnknownDevice(device.clone()))),
            Err(e) => return Err(UpOutcome::Failed(e)),
        };
        let key = verify_key_of(&rec)
            .ok_or_else(|| UpOutcome::Refused(Refusal::BadRegisteredKey(device.clone())))?;
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(device.clone(), key.clone());
        Ok(key)
    }
}

/// The registry stores raw public-key bytes: 32 bytes are Ed25519, SEC1 points are SM2.
pub fn verify_key_of(rec: &DeviceRecord) -> Option<VerifyKey> {
    let alg = if rec.public_key.len() == 32 {
        SignAlg::Ed25519
    } else {
        SignAlg::Sm2
    };
    VerifyKey::from_bytes(alg, &rec.public_key).ok()
}

/// Run every check on one `up` payload from `device` (taken from the topic) and ingest it.
pub async fn handle_up<S: CloudStore>(
    store: &S,
    keys: &KeyCache,
    max_payload: usize,
    device: &DeviceId,
    payload: &[u8],
) -> UpOutcome {
    let batch = match check_up(store, keys, max_payload, device, payload).await {
        Ok(b) => b,
        Err(outcome) => return outcome,
    };
    outcome_of(device, store.ingest(device, batch.entries).await)
}

/// [`handle_up`] for several payloads of one device, in arrival order: each is checked alone
/// (a refusal affects only its own payload), the accepted ones are ingested together with
/// [`CloudStore::ingest_many`] (one commit for the lot), and the outcomes come back in order.
pub async fn handle_up_group<S: CloudStore>(
    store: &S,
    keys: &KeyCache,
    max_payload: usize,
    device: &DeviceId,
    payloads: &[&[u8]],
) -> Vec<UpOutcome> {
    let mut outcomes: Vec<Option<UpOutcome>> = Vec::with_capacity(payloads.len());
    let mut batches = Vec::new();
    for payload in payloads {
        match check_up(store, keys, max_payload, device, payload).await {
            Ok(b) => {
                outcomes.push(None);
                batches.push(b.entries);
            }
            Err(outcome) => outcomes.push(Some(outcome)),
        }
    }
    let mut stored = if batches.is_empty() {
        Vec::new()
    } else {
        store.ingest_many(device, batches).await
    }
    .into_iter();
    outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| match stored.next() {
                Some(r) => outcome_of(device, r),
                None => UpOutcome::Failed(crate::store::StoreError::Task(
                    "the store answered fewer batches than it was given".into(),
                )),
            })
        })
        .collect()
}

/// Every check before the store: framing, signature, envelope, version, device, batch shape.
async fn check_up<S: CloudStore>(
    store: &S,
    keys: &KeyCache,
    max_payload: usize,
    device: &DeviceId,
    payload: &[u8],
) -> Result<EntryBatch, UpOutcome> {
    let signed =
        SignedEnvelope::from_bytes(payload).map_err(|e| UpOutcome::Refused(Refusal::Framing(e)))?;
    let key = keys.get(store, device).await?;
    let inner = signed
        .verify(&key)
        .map_err(|e| UpOutcome::Refused(Refusal::Signature(e)))?;
    let batch: EntryBatch = envelope::decode(inner, max_payload)
        .map_err(|e| UpOutcome::Refused(Refusal::Envelope(e)))?;
    if batch.v != WIRE_VERSION {
        return Err(UpOutcome::Refused(Refusal::Batch(BatchError::Version(
            batch.v,
        ))));
    }
    if &batch.device != device {
        return Err(UpOutcome::Refused(Refusal::DeviceMismatch {
            topic: device.clone(),
            batch: batch.device,
        }));
    }
    batch
        .check()
        .map_err(|e| UpOutcome::Refused(Refusal::Batch(e)))?;
    Ok(batch)
}

fn outcome_of(device: &DeviceId, r: Result<IngestOutcome, crate::store::StoreError>) -> UpOutcome {
    match r {
        Ok(outcome) => {
            let mut ack = Ack::new(
                device.clone(),
                outcome.hwm,
                outcome
                    .missing
                    .iter()
                    .map(|&(from, to)| SeqRange::new(from, to))
                    .collect(),
            );
            ack.quarantined = outcome.device_quarantined;
            UpOutcome::Acked(ack, outcome)
        }
        Err(e) if e.kind() == ErrorKind::Backend => UpOutcome::Failed(e),
        Err(e) => UpOutcome::Refused(Refusal::Store(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SqliteConfig, SqliteStore, testkit};
    use trace_core::HashAlg;
    use trace_core::wire::envelope::Compression;
    use trace_core::wire::sign::SignKey;

    async fn setup(key: &SignKey) -> (tempfile::TempDir, SqliteStore, DeviceId) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(SqliteConfig::new(dir.path().join("c.sqlite"))).unwrap();
        let id = testkit::device(1);
        let mut rec = testkit::record(&id, 1, HashAlg::Sha256);
        rec.public_key = key.verify_key().to_bytes();
        store.register_device(rec).await.unwrap();
        (dir, store, id)
    }

    fn sealed(id: &DeviceId, key: &SignKey, n: u64) -> Vec<u8> {
        let chain = testkit::stall_chain(id, 1, HashAlg::Sha256, n);
        let env = envelope::encode(&EntryBatch::new(id.clone(), chain), Compression::Lz4).unwrap();
        SignedEnvelope::sign(env, key).unwrap().to_bytes()
    }

    #[tokio::test]
    async fn sm2_and_ed25519_boxes_are_both_verified() {
        for key in [
            SignKey::ed25519_from_seed(&[4; 32]),
            SignKey::sm2_from_bytes(&[6; 32]).unwrap(),
        ] {
            let (_d, store, id) = setup(&key).await;
            let keys = KeyCache::default();
            match handle_up(&store, &keys, 1 << 20, &id, &sealed(&id, &key, 12)).await {
                UpOutcome::Acked(ack, out) => {
                    assert_eq!((ack.hwm, out.stored), (12, 12));
                    assert!(ack.missing.is_empty() && !ack.quarantined);
                }
                other => panic!("{:?}: {other:?}", key.alg()),
            }
            // Same bytes again: acked as duplicates, nothing new.
            match handle_up(&store, &keys, 1 << 20, &id, &sealed(&id, &key, 12)).await {
                UpOutcome::Acked(_, out) => assert_eq!((out.stored, out.duplicates), (0, 12)),
                other => panic!("{other:?}"),
            }
        }
    }

    fn seal_part(id: &DeviceId, key: &SignKey, chain: &[trace_core::Entry]) -> Vec<u8> {
        let env = envelope::encode(
            &EntryBatch::new(id.clone(), chain.to_vec()),
            Compression::Lz4,
        )
        .unwrap();
        SignedEnvelope::sign(env, key).unwrap().to_bytes()
    }

    #[tokio::test]
    async fn a_group_commits_together_and_a_refusal_in_it_stays_alone() {
        let key = SignKey::ed25519_from_seed(&[4; 32]);
        let (_d, store, id) = setup(&key).await;
        let keys = KeyCache::default();
        let chain = testkit::stall_chain(&id, 1, HashAlg::Sha256, 30);
        let forged = SignKey::ed25519_from_seed(&[9; 32]);
        // In arrival order: 11..=20 before 1..=10 (out of order), a forgery, 21..=30, and
        // 1..=10 again (duplicates).
        let payloads = [
            seal_part(&id, &key, &chain[10..20]),
            seal_part(&id, &key, &chain[0..10]),
            seal_part(&id, &forged, &chain[20..30]),
            seal_part(&id, &key, &chain[20..30]),
            seal_part(&id, &key, &chain[0..10]),
        ];
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let out = handle_up_group(&store, &keys, 1 << 20, &id, &refs).await;
        let seen: Vec<String> = out
            .iter()
            .map(|o| match o {
                UpOutcome::Acked(a, o) => format!("ack {} +{} ={}", a.hwm, o.stored, o.duplicates),
                UpOutcome::Refused(r) => r.reason().to_owned(),
                UpOutcome::Failed(e) => format!("failed {e}"),
            })
            .collect();
        // Each ack says what was durable after its own batch, as if ingested one by one.
        assert_eq!(
            seen,
            [
                "ack 0 +10 =0",
                "ack 20 +10 =0",
                "bad_signature",
                "ack 30 +10 =0",
                "ack 30 +0 =10"
            ]
        );
        match &out[0] {
            UpOutcome::Acked(a, _) => assert_eq!(a.missing, vec![SeqRange::new(1, 10)]),
            other => panic!("{other:?}"),
        }
        assert_eq!(store.stats().await.unwrap().entries, 30);
    }

    #[tokio::test]
    async fn refusals_name_their_reason_and_store_nothing() {
        let key = SignKey::ed25519_from_seed(&[4; 32]);
        let (_d, store, id) = setup(&key).await;
        let keys = KeyCache::default();
        let other = SignKey::ed25519_from_seed(&[5; 32]);
        let ghost = DeviceId::new("stall-ghost").unwrap();
        let cases: Vec<(&DeviceId, Vec<u8>, &str)> = vec![
            (&id, b"nonsense".to_vec(), "not_signed"),
            (&id, sealed(&id, &other, 3), "bad_signature"),
            (&ghost, sealed(&ghost, &key, 3), "unknown_device"),
            (&id, sealed(&id, &key, 300), "oversized"),
        ];
        for (dev, payload, reason) in cases {
            match handle_up(&store, &keys, 16 * 1024, dev, &payload).await {
                UpOutcome::Refused(r) => assert_eq!(r.reason(), reason, "{r}"),
                other => panic!("{reason}: {other:?}"),
            }
        }
        assert_eq!(store.stats().await.unwrap().entries, 0);
    }
}
