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
    let signed = match SignedEnvelope::from_bytes(payload) {
        Ok(s) => s,
        Err(e) => return UpOutcome::Refused(Refusal::Framing(e)),
    };
    let key = match keys.get(store, device).await {
        Ok(k) => k,
        Err(outcome) => return outcome,
    };
    let inner = match signed.verify(&key) {
        Ok(bytes) => bytes,
        Err(e) => return UpOutcome::Refused(Refusal::Signature(e)),
    };
    let batch: EntryBatch = match envelope::decode(inner, max_payload) {
        Ok(b) => b,
        Err(e) => return UpOutcome::Refused(Refusal::Envelope(e)),
    };
    if batch.v != WIRE_VERSION {
        return UpOutcome::Refused(Refusal::Batch(BatchError::Version(batch.v)));
    }
    if &batch.device != device {
        return UpOutcome::Refused(Refusal::DeviceMismatch {
            topic: device.clone(),
            batch: batch.device,
        });
    }
    if let Err(e) = batch.check() {
        return UpOutcome::Refused(Refusal::Batch(e));
    }
    match store.ingest(device, batch.entries).await {
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
