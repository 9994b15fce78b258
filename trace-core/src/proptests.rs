//! Shared proptest strategies, and the canonical-encoding stability properties.

use crate::entry::{Entry, EntryDraft, Timestamp};
use crate::event::{Event, PaymentMethod, SaleLine, SaleTicket};
use crate::hash::{Digest, HashAlg};
use crate::ids::DeviceId;
use crate::units::{Fen, Grams, PriceUnit};
use proptest::prelude::*;
use ulid::Ulid;

pub(crate) fn device_id() -> impl Strategy<Value = DeviceId> {
    "[a-z0-9][a-z0-9-]{2,30}".prop_map(|s| DeviceId::new(s).unwrap())
}

pub(crate) fn digest() -> impl Strategy<Value = Digest> {
    any::<[u8; 32]>().prop_map(Digest)
}

pub(crate) fn timestamp() -> impl Strategy<Value = Timestamp> {
    any::<i64>().prop_map(Timestamp)
}

fn sale_line() -> impl Strategy<Value = SaleLine> {
    (
        any::<String>(),
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<i64>().prop_map(Grams)),
        proptest::option::of(any::<u32>()),
        any::<i64>(),
        prop_oneof![
            Just(PriceUnit::Jin),
            Just(PriceUnit::Kg),
            Just(PriceUnit::Item)
        ],
        any::<i64>(),
        proptest::option::of("[A-Z0-9-]{1,12}"),
    )
        .prop_map(
            |(product, product_code, grams, count, unit_price, price_unit, amount, batch)| {
                SaleLine {
                    product,
                    product_code,
                    grams,
                    count,
                    unit_price: Fen(unit_price),
                    price_unit,
                    amount: Fen(amount),
                    batch,
                    origin: None,
                }
            },
        )
}

/// Random sale tickets (not necessarily valid: the codec must carry anything) plus one sample of
/// every kind.
pub(crate) fn event() -> impl Strategy<Value = Event> {
    let sale = (
        "[0-9]{20}",
        proptest::collection::vec(sale_line(), 0..4),
        any::<i64>(),
        proptest::option::of(any::<String>()),
    )
        .prop_map(|(ticket_code, lines, total, buyer)| {
            Event::SaleTicket(SaleTicket {
                ticket_code,
                lines,
                total: Fen(total),
                payment: PaymentMethod::Credit,
                buyer,
                buyer_id: None,
                fees: vec![],
            })
        });
    prop_oneof![
        sale,
        proptest::sample::select(crate::event::samples::samples())
    ]
}

prop_compose! {
    pub(crate) fn entry()(
        device in device_id(),
        seq in 1u64..u64::MAX,
        id in any::<u128>(),
        at in timestamp(),
        event in event(),
        prev in digest(),
        sm3 in any::<bool>(),
    ) -> Entry {
        let alg = if sm3 { HashAlg::Sm3 } else { HashAlg::Sha256 };
        let draft = EntryDraft { id: Ulid(id), at, event };
        Entry::seal(draft, device, seq, prev, alg).unwrap()
    }
}

fn alg_of(e: &Entry) -> HashAlg {
    if e.hash_is_valid(HashAlg::Sha256) {
        HashAlg::Sha256
    } else {
        HashAlg::Sm3
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// serialize → deserialize → the same canonical bytes and the same, still valid, hash;
    /// also through pretty-printed JSON and through a generic `Value` (key order independent).
    #[test]
    fn canonical_encoding_is_stable(e in entry()) {
        let alg = alg_of(&e);
        prop_assert!(e.hash_is_valid(alg));
        let compact = serde_json::to_string(&e).unwrap();
        let pretty = serde_json::to_string_pretty(&e).unwrap();
        for json in [compact, pretty] {
            let back: Entry = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &e);
            prop_assert_eq!(back.canonical().unwrap(), e.canonical().unwrap());
            prop_assert_eq!(back.compute_hash(alg).unwrap(), e.hash);
        }
        let value: serde_json::Value = serde_json::to_value(&e).unwrap();
        prop_assert_eq!(crate::canonical_bytes(&value).unwrap(), crate::canonical_bytes(&e).unwrap());
        // The canonical bytes are themselves JSON that reads back to the same entry.
        let canon = crate::canonical_bytes(&e).unwrap();
        let reread: Entry = serde_json::from_slice(&canon).unwrap();
        prop_assert_eq!(reread, e);
    }

    /// Any change to the hashed content changes the hash.
    #[test]
    fn edits_break_the_hash(e in entry(), delta in 1u64..1000) {
        let alg = alg_of(&e);
        let mut moved = e.clone();
        moved.seq = e.seq.wrapping_add(delta).max(1);
        prop_assume!(moved.seq != e.seq);
        prop_assert!(!moved.hash_is_valid(alg));
        let mut redated = e.clone();
        redated.at = Timestamp(e.at.0.wrapping_add(delta as i64));
        prop_assert!(!redated.hash_is_valid(alg));
        let mut relinked = e;
        relinked.prev_hash.0[0] ^= 1;
        prop_assert!(!relinked.hash_is_valid(alg));
    }
}
