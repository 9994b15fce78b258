use super::oracle::canonical_bytes_via_value;
use super::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[test]
fn keys_are_sorted_and_whitespace_dropped() {
    let v = json!({"b": 1, "a": [true, null, "x"], "c": {"z": -3, "y": "\n"}});
    assert_eq!(
        canonical_bytes(&v).unwrap(),
        br#"{"a":[true,null,"x"],"b":1,"c":{"y":"\n","z":-3}}"#.to_vec()
    );
}

#[test]
fn field_order_does_not_matter() {
    #[derive(Serialize)]
    struct A {
        x: u32,
        y: &'static str,
    }
    #[derive(Serialize)]
    struct B {
        y: &'static str,
        x: u32,
    }
    assert_eq!(
        canonical_bytes(&A { x: 1, y: "猪肉" }).unwrap(),
        canonical_bytes(&B { y: "猪肉", x: 1 }).unwrap()
    );
}

#[test]
fn floats_are_refused_with_their_path() {
    let v = json!({"lines": [{"price": 1.5}]});
    assert_eq!(
        canonical_bytes(&v),
        Err(CanonicalError::Float("$.lines[0].price".into()))
    );
    #[derive(Serialize)]
    enum E {
        V { w: Vec<f64> },
    }
    assert_eq!(
        canonical_bytes(&E::V { w: vec![1.0] }),
        Err(CanonicalError::Float("$.V.w[0]".into()))
    );
    assert_eq!(
        canonical_bytes(&2.5f32),
        Err(CanonicalError::Float("$".into()))
    );
}

#[test]
fn control_characters_use_jcs_escapes() {
    assert_eq!(
        canonical_bytes("a\u{1}\"\\\u{1f}\u{7f}").unwrap(),
        "\"a\\u0001\\\"\\\\\\u001f\u{7f}\"".as_bytes().to_vec()
    );
}

/// Keys sort by their raw bytes, not by their escaped form (`"` < `#`, but `\` > `#`).
#[test]
fn keys_sort_by_raw_bytes() {
    let mut m = BTreeMap::new();
    m.insert("a#", 1);
    m.insert("a\"", 2);
    m.insert("é", 3);
    m.insert("z", 4);
    let got = canonical_bytes(&m).unwrap();
    assert_eq!(got, canonical_bytes_via_value(&m).unwrap());
    assert_eq!(got, r#"{"a\"":2,"a#":1,"z":4,"é":3}"#.as_bytes().to_vec());
}

/// Serde shapes the events do not use today still encode like serde_json would.
#[test]
fn every_serde_shape_matches_the_oracle() {
    #[derive(Serialize)]
    struct Unit;
    #[derive(Serialize)]
    struct Newtype(i8);
    #[derive(Serialize)]
    struct Tuple(u8, &'static str);
    #[derive(Serialize)]
    enum E {
        U,
        N(Option<u16>),
        T(i32, bool),
        S { b: (), a: char },
    }
    #[derive(Serialize)]
    struct Inner {
        z: i128,
        y: u128,
    }
    #[derive(Serialize)]
    struct All {
        unit: Unit,
        newtype: Newtype,
        tuple: Tuple,
        es: Vec<E>,
        #[serde(with = "serde_bytes_like")]
        raw: Vec<u8>,
        ints: BTreeMap<i64, bool>,
        #[serde(flatten)]
        inner: Inner,
        none: Option<String>,
    }
    mod serde_bytes_like {
        pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }
    let v = All {
        unit: Unit,
        newtype: Newtype(-8),
        tuple: Tuple(255, "t"),
        es: vec![
            E::U,
            E::N(Some(7)),
            E::N(None),
            E::T(-1, true),
            E::S { b: (), a: 'ü' },
        ],
        raw: vec![0, 1, 255],
        ints: [(-5, true), (10, false), (2, true)].into_iter().collect(),
        inner: Inner {
            z: -(1 << 62),
            y: u128::from(u64::MAX),
        },
        none: None,
    };
    assert_eq!(
        String::from_utf8(canonical_bytes(&v).unwrap()).unwrap(),
        String::from_utf8(canonical_bytes_via_value(&v).unwrap()).unwrap()
    );
    // Out-of-range 128-bit integers are refused by both.
    assert!(canonical_bytes(&u128::MAX).is_err());
    assert!(canonical_bytes_via_value(&u128::MAX).is_err());
}

#[test]
fn output_vec_is_left_alone_on_error() {
    let mut out = b"prefix".to_vec();
    canonical_bytes_into(&json!([1, 2]), &mut out).unwrap();
    assert_eq!(out, b"prefix[1,2]".to_vec());
    assert!(canonical_bytes_into(&json!({"a": [0.5]}), &mut out).is_err());
    assert_eq!(out, b"prefix[1,2]".to_vec());
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Mostly integral floats are still floats: both must refuse them.
        prop::num::f64::NORMAL.prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "[\\x00-\\x7f]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[\\x00-\\x7f]{0,4}|\\PC{0,3}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn same_outcome(new: Result<Vec<u8>, CanonicalError>, old: Result<Vec<u8>, CanonicalError>) {
    match (new, old) {
        (Ok(a), Ok(b)) => assert_eq!(String::from_utf8(a), String::from_utf8(b)),
        // With several floats the two may name different ones (declaration vs key order).
        (Err(CanonicalError::Float(_)), Err(CanonicalError::Float(_))) => {}
        (a, b) => panic!("streaming {a:?} vs oracle {b:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn streaming_equals_oracle_on_json(v in json_value()) {
        same_outcome(canonical_bytes(&v), canonical_bytes_via_value(&v));
    }

    #[test]
    fn streaming_equals_oracle_on_events(e in crate::proptests::event()) {
        same_outcome(canonical_bytes(&e), canonical_bytes_via_value(&e));
    }

    #[test]
    fn streaming_equals_oracle_on_entries(e in crate::proptests::entry()) {
        same_outcome(canonical_bytes(&e), canonical_bytes_via_value(&e));
        same_outcome(e.canonical(), canonical_bytes_via_value(&e.hashed()));
    }
}

/// Every sample of every kind encodes to the oracle's bytes.
#[test]
fn every_event_kind_matches_the_oracle() {
    for e in crate::event::samples::samples() {
        same_outcome(canonical_bytes(&e), canonical_bytes_via_value(&e));
    }
}

#[test]
fn escapes_are_found_anywhere_in_long_strings() {
    for len in 1..40 {
        for pos in 0..len {
            for special in ['"', '\\', '\n', '\u{1}', '\u{1f}', '\u{7f}', 'é', '猪'] {
                let s: String = (0..len)
                    .map(|i| if i == pos { special } else { 'a' })
                    .collect();
                // serde_json escapes strings exactly as JCS does (short escapes, else \u00xx).
                assert_eq!(
                    canonical_bytes(&s).unwrap(),
                    serde_json::to_vec(&s).unwrap(),
                    "{s:?}"
                );
            }
        }
    }
}
