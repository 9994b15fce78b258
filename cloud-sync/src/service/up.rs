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
