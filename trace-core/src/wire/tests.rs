//! Round-trip properties for every wire type, the envelope and the signed envelope.

use super::envelope::{self, Compression, DEFAULT_MAX_PAYLOAD, EnvelopeError};
use super::sign::{SignKey, SignedEnvelope};
use super::*;
use crate::proptests::{device_id, digest, entry, timestamp};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn seq_range() -> impl Strategy<Value = SeqRange> {
    (any::<u64>(), any::<u64>()).prop_map(|(a, b)| SeqRange::new(a.min(b), a.max(b)))
}

fn doc_type() -> impl Strategy<Value = DocType> {
    proptest::sample::select(vec![
        DocType::Catalog,
        DocType::PluMap,
        DocType::KeyDirectory,
        DocType::Inspections,
        DocType::RecallAlert,
        DocType::Config,
        DocType::Unknown,
    ])
}

fn fault_kind() -> impl Strategy<Value = FaultKind> {
    proptest::sample::select(vec![
        FaultKind::PaperOut,
        FaultKind::PrinterOffline,
        FaultKind::ScaleUnstable,
        FaultKind::ScaleOverload,
        FaultKind::ScaleOffline,
        FaultKind::ScannerOffline,
        FaultKind::CoderFault,
        FaultKind::CoderOffline,
        FaultKind::DiskLow,
        FaultKind::ClockSkew,
        FaultKind::Other,
    ])
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn entry_batch() -> impl Strategy<Value = EntryBatch> {
    (device_id(), proptest::collection::vec(entry(), 0..6))
        .prop_map(|(d, es)| EntryBatch::new(d, es))
}

fn ack() -> impl Strategy<Value = Ack> {
    (
        device_id(),
        any::<u64>(),
        proptest::collection::vec(seq_range(), 0..5),
        any::<bool>(),
    )
        .prop_map(|(device, hwm, missing, quarantined)| Ack {
            v: WIRE_VERSION,
            device,
            hwm,
            missing,
            quarantined,
        })
}

fn device_state() -> impl Strategy<Value = DeviceState> {
    let fault = (
        "[a-z0-9-]{1,10}",
        fault_kind(),
        timestamp(),
        proptest::option::of(any::<String>()),
    )
        .prop_map(|(source, kind, since, detail)| DeviceFault {
            source,
            kind,
            since,
            detail,
        });
    let applied =
        (doc_type(), any::<u64>()).prop_map(|(doc_type, version)| AppliedDoc { doc_type, version });
    (
        (
            device_id(),
            any::<bool>(),
            timestamp(),
            any::<u64>(),
            digest(),
            any::<u64>(),
            any::<u64>(),
        ),
        (
            proptest::option::of(timestamp()),
            proptest::collection::vec(fault, 0..4),
            proptest::option::of(any::<u64>()),
            proptest::collection::vec(applied, 0..4),
            proptest::option::of("[0-9.]{1,8}"),
        ),
    )
        .prop_map(
            |(
                (device, online, at, head_seq, head_hash, synced_seq, backlog),
                (oldest, faults, disk, applied_docs, software),
            )| {
                DeviceState {
                    v: WIRE_VERSION,
                    device,
                    online,
                    at,
                    head_seq,
                    head_hash,
                    synced_seq,
                    backlog,
                    oldest_unsynced_at: oldest,
                    faults,
                    disk_free_bytes: disk,
                    applied_docs,
                    software,
                }
            },
        )
}

fn downlink_doc() -> impl Strategy<Value = DownlinkDoc> {
    (doc_type(), any::<u64>(), json_value()).prop_map(|(t, v, b)| DownlinkDoc::new(t, v, b))
}

/// JSON and both envelope forms give back the same value.
fn round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_vec(value).unwrap();
    prop_assert_eq!(&serde_json::from_slice::<T>(&json).unwrap(), value);
    for c in [Compression::None, Compression::Lz4] {
        let bytes = envelope::encode(value, c).unwrap();
        prop_assert_eq!(
            &envelope::decode::<T>(&bytes, DEFAULT_MAX_PAYLOAD).unwrap(),
            value
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn entry_batch_round_trips(b in entry_batch()) {
        round_trip(&b)?;
        // Hashes survive the trip through the wire.
        let bytes = envelope::encode(&b, Compression::Lz4).unwrap();
        let back: EntryBatch = envelope::decode(&bytes, DEFAULT_MAX_PAYLOAD).unwrap();
        for (x, y) in back.entries.iter().zip(&b.entries) {
            prop_assert_eq!(x.canonical().unwrap(), y.canonical().unwrap());
        }
    }

    #[test]
    fn ack_round_trips(a in ack()) { round_trip(&a)?; }

    #[test]
    fn device_state_round_trips(s in device_state()) { round_trip(&s)?; }

    #[test]
    fn downlink_doc_round_trips(d in downlink_doc()) { round_trip(&d)?; }

    #[test]
    fn seq_ranges_round_trip(r in seq_range()) { round_trip(&r)?; }

    #[test]
    fn envelope_round_trips_any_bytes(payload in proptest::collection::vec(any::<u8>(), 0..4096), lz4 in any::<bool>()) {
        let c = if lz4 { Compression::Lz4 } else { Compression::None };
        let bytes = envelope::encode_bytes(&payload, c).unwrap();
        prop_assert_eq!(envelope::decode_bytes(&bytes, payload.len()).unwrap(), payload.clone());
        if !payload.is_empty() {
            let too_large = matches!(
                envelope::decode_bytes(&bytes, payload.len() - 1),
                Err(EnvelopeError::TooLarge { .. })
            );
            prop_assert!(too_large);
            // Every truncation is refused, never mis-read.
            for cut in [bytes.len() - 1, bytes.len() / 2, 10, 3] {
                if cut < bytes.len() {
                    prop_assert!(envelope::decode_bytes(&bytes[..cut], DEFAULT_MAX_PAYLOAD).is_err());
                }
            }
        }
    }

    /// Arbitrary input never panics and never yields more than the cap.
    #[test]
    fn envelope_decoder_survives_garbage(mut bytes in proptest::collection::vec(any::<u8>(), 0..256), header in any::<bool>()) {
        if header && bytes.len() >= 6 {
            bytes[..4].copy_from_slice(&envelope::MAGIC);
            bytes[4] = envelope::ENVELOPE_VERSION;
            bytes[5] &= 1;
        }
        if let Ok(p) = envelope::decode_bytes(&bytes, 1024) {
            prop_assert!(p.len() <= 1024);
        }
    }

    #[test]
    fn signed_envelope_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..512), seed in any::<[u8; 32]>()) {
        let key = SignKey::ed25519_from_seed(&seed);
        let env = SignedEnvelope::sign(payload.clone(), &key).unwrap();
        let back = SignedEnvelope::from_bytes(&env.to_bytes()).unwrap();
        prop_assert_eq!(&back, &env);
        prop_assert_eq!(back.verify(&key.verify_key()).unwrap(), &payload[..]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn sm2_signed_envelope_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..256), secret in any::<[u8; 32]>()) {
        // Not every 32-byte string is a valid scalar (zero, ≥ n): those are refused, not used.
        let Ok(key) = SignKey::sm2_from_bytes(&secret) else { return Ok(()) };
        let env = SignedEnvelope::sign(payload.clone(), &key).unwrap();
        let back = SignedEnvelope::from_bytes(&env.to_bytes()).unwrap();
        prop_assert_eq!(back.verify(&key.verify_key()).unwrap(), &payload[..]);
    }
}

#[test]
fn batch_checks_and_ranges() {
    use crate::entry::{Entry, EntryDraft};
    use crate::event::{Event, Void};
    use crate::hash::HashAlg;
    let dev = DeviceId::new("stall-a01").unwrap();
    let other = DeviceId::new("stall-b02").unwrap();
    let mk = |d: &DeviceId, seq| {
        let draft = EntryDraft {
            id: ulid::Ulid(u128::from(seq)),
            at: Timestamp(0),
            event: Event::Void(Void {
                target_seq: 1,
                reason: "x".into(),
            }),
        };
        Entry::seal(
            draft,
            d.clone(),
            seq,
            crate::hash::Digest::ZERO,
            HashAlg::Sha256,
        )
        .unwrap()
    };
    let b = EntryBatch::new(
        dev.clone(),
        vec![
            mk(&dev, 9),
            mk(&dev, 1),
            mk(&dev, 2),
            mk(&dev, 3),
            mk(&dev, 7),
        ],
    );
    assert_eq!(b.check(), Ok(()));
    assert_eq!(
        b.ranges(),
        vec![
            SeqRange::new(1, 3),
            SeqRange::new(7, 7),
            SeqRange::new(9, 9)
        ]
    );
    let foreign = EntryBatch::new(dev.clone(), vec![mk(&other, 1)]);
    assert!(matches!(
        foreign.check(),
        Err(BatchError::ForeignEntry { seq: 1, .. })
    ));
    let dup = EntryBatch::new(dev.clone(), vec![mk(&dev, 1), mk(&dev, 1)]);
    assert_eq!(dup.check(), Err(BatchError::DuplicateSeq(1)));
    let mut old = EntryBatch::new(dev, vec![]);
    old.v = 2;
    assert_eq!(old.check(), Err(BatchError::Version(2)));
    assert_eq!(SeqRange::new(5, 4).len(), 0);
    assert_eq!(SeqRange::new(5, 9).len(), 5);
}

#[test]
fn unknown_enum_values_from_newer_peers_are_tolerated() {
    let d: DownlinkDoc =
        serde_json::from_str(r#"{"v":1,"doc_type":"price_board","version":3,"body":{}}"#).unwrap();
    assert_eq!(d.doc_type, DocType::Unknown);
    let f: DeviceFault =
        serde_json::from_str(r#"{"source":"box","kind":"fan_stalled","since":0}"#).unwrap();
    assert_eq!(f.kind, FaultKind::Other);
}

/// The wire shape other implementations rely on.
#[test]
fn ack_json_shape() {
    let a = Ack::new(
        DeviceId::new("stall-a01").unwrap(),
        41,
        vec![SeqRange::new(43, 45)],
    );
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        r#"{"v":1,"device":"stall-a01","hwm":41,"missing":[{"from":43,"to":45}],"quarantined":false}"#
    );
}
