//! Unit tests of the pure helpers; the operations are tested on real ledger files in
//! `edge-daemon/tests/producer_*.rs`.

use super::lookup::{CodeFacts, CodeLookup, CodeRejection, TableLookup};
use super::shipping::{split_by_key, units_under};
use std::collections::HashMap;
use trace_core::event::CodeLevel;

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn a_mixed_pallet_splits_into_its_single_batch_cases() {
    let kids: HashMap<String, Vec<String>> = HashMap::from([
        (s("P"), vec![s("C1"), s("C2")]),
        (s("C1"), vec![s("U1"), s("U2")]),
        (s("C2"), vec![s("U3"), s("U4")]),
    ]);
    let mut key = HashMap::from([(s("U1"), 1), (s("U2"), 1), (s("U3"), 2), (s("U4"), 2)]);
    assert_eq!(units_under("P", &kids), ["U1", "U2", "U3", "U4"]);
    assert_eq!(split_by_key("C1", &kids, &key), [(1, s("C1"))]);
    assert_eq!(split_by_key("P", &kids, &key), [(1, s("C1")), (2, s("C2"))]);
    // A case that itself mixes batches goes down to its units.
    key.insert(s("U2"), 2);
    assert_eq!(
        split_by_key("P", &kids, &key),
        [(1, s("U1")), (2, s("U2")), (2, s("C2"))]
    );
    // One batch throughout: the pallet stays whole.
    let one: HashMap<String, i32> = key.keys().map(|k| (k.clone(), 7)).collect();
    assert_eq!(split_by_key("P", &kids, &one), [(7, s("P"))]);
}

#[test]
fn table_lookup_rejections() {
    let mut t = TableLookup::new("https://t.example/p/ENT1/");
    let facts = CodeFacts {
        level: CodeLevel::Unit,
        product: s("腊肠"),
        batch: Some(s("B1")),
        production_date: None,
        expiry_date: None,
    };
    t.insert("https://t.example/p/ENT1/U1", facts.clone());
    t.insert("https://t.example/p/ENT1/U2", facts.clone());
    t.disable("https://t.example/p/ENT1/U2");
    assert_eq!(t.lookup("https://t.example/p/ENT1/U1"), Ok(facts));
    assert_eq!(
        t.lookup("https://t.example/p/ENT1/U2"),
        Err(CodeRejection::Disabled)
    );
    assert_eq!(
        t.lookup("https://t.example/p/ENT1/U3"),
        Err(CodeRejection::Unknown)
    );
    assert_eq!(
        t.lookup("https://t.example/p/ENT9/U1"),
        Err(CodeRejection::ForeignEnterprise(s(
            "https://t.example/p/ENT9"
        )))
    );
    assert!(matches!(
        t.lookup(" \u{7}"),
        Err(CodeRejection::Malformed(_))
    ));
}
