//! Must show (issue 6): a whereabouts query from a raw lot returns every shipped unit and case
//! with its destination, through aggregation and distributor sales, on a realistic chain —
//! raw lots → batch → units → cases → two distributors → retailers — whose entries live in
//! three separate ledgers (the producer's box and two distributors' boxes). The query runs
//! over the union (the pure trace-core function, as the cloud will) and on each box for its
//! own part, and through the real `baytrace-edge producer whereabouts` binary.

mod producer_support;

use edge_daemon::producer;
use producer_support::{build, code, codes};
use std::collections::BTreeMap;
use std::process::Command;
use trace_core::whereabouts::{Location, Query, Report, Step, whereabouts};
use trace_core::{Entry, event::CodeLevel};

fn all_entries(l: &edge_daemon::ledger::Ledger) -> Vec<Entry> {
    let head = l.head().unwrap().seq;
    l.range(1..=head).unwrap()
}

fn where_now(r: &Report) -> BTreeMap<String, String> {
    r.codes
        .iter()
        .map(|t| {
            let at = match &t.location {
                Location::Delivered { to, .. } => to.name.clone(),
                Location::InStock { device } => device.as_str().to_owned(),
            };
            (t.code.clone(), at)
        })
        .collect()
}

#[test]
fn from_a_raw_lot_to_every_retailer_across_three_boxes() {
    let dir = tempfile::tempdir().unwrap();
    let chain = build(dir.path());
    let union: Vec<Entry> = [&chain.factory, &chain.d1, &chain.d2]
        .into_iter()
        .flat_map(all_entries)
        .collect();

    let r = whereabouts(&union, &Query::Lot("RL-PORK-01".into()));
    // Every B1 unit (48) and case (4), each where the scenario put it; nothing of B2.
    assert_eq!(where_now(&r), chain.expected);
    assert_eq!((r.units, r.cases), (48, 4));
    assert_eq!(
        r.batches
            .iter()
            .map(|b| b.batch.as_str())
            .collect::<Vec<_>>(),
        ["B1"]
    );
    assert_eq!(r.lots.len(), 1);
    assert!(r.codes.iter().all(|t| t.batch.as_deref() == Some("B1")));

    // Destinations with quantities and documents, first hands first.
    let d: Vec<(&str, usize, u64, u64)> = r
        .destinations
        .iter()
        .map(|d| (d.shipment_no.as_str(), d.hop, d.units, d.cases))
        .collect();
    assert_eq!(
        d,
        [
            ("S-001", 1, 24, 2),
            ("S-002", 1, 24, 2),
            ("D2-0001", 2, 12, 1),
            ("D2-0002", 2, 12, 0),
            ("D1-0001", 2, 5, 0),
            ("D1-0002", 2, 12, 1),
        ]
    );
    let s2 = &r.destinations[1];
    assert_eq!(s2.to.name, "香港乙贸易公司");
    assert_eq!(s2.order_no.as_deref(), Some("SO-S-002"));
    assert_eq!(s2.lines.len(), 1, "only the B1 line of the mixed shipment");
    assert_eq!(s2.lines[0].count, Some(24));

    // One unit's journey, hand to hand.
    let u1 = r.codes.iter().find(|t| t.code == code("U0001")).unwrap();
    assert_eq!(u1.level, Some(CodeLevel::Unit));
    let steps: Vec<String> = u1
        .steps
        .iter()
        .map(|s| match s {
            Step::Shipped {
                at,
                shipment_no,
                inside,
                ..
            } => {
                format!(
                    "{}:ship {shipment_no} in {}",
                    at.device,
                    inside.rsplit('/').next().unwrap()
                )
            }
            Step::Received {
                at, shipment_no, ..
            } => {
                format!(
                    "{}:recv {}",
                    at.device,
                    shipment_no.as_deref().unwrap_or("-")
                )
            }
        })
        .collect();
    assert_eq!(
        steps,
        [
            "factory-gz-01:ship S-001 in C0001",
            "dist-sz-01:recv S-001",
            "dist-sz-01:ship D1-0001 in U0001",
        ]
    );

    // The other raw lot reaches only B2, which is still at D2.
    let r2 = whereabouts(&union, &Query::Lot("RL-PORK-02".into()));
    assert_eq!((r2.units, r2.cases), (12, 1));
    assert!(where_now(&r2).values().all(|v| v == "dist-hk-01"));

    // By code: a case brings its units.
    let rc = whereabouts(&union, &Query::Code(code("C0002")));
    assert_eq!((rc.units, rc.cases), (12, 1));
    assert!(where_now(&rc).values().all(|v| v == "福田某超市"));
}

#[test]
fn each_box_answers_for_its_own_part() {
    let dir = tempfile::tempdir().unwrap();
    let chain = build(dir.path());

    // The producer: all 52 B1 codes, each delivered to the distributor it was shipped to.
    let r = producer::whereabouts(&chain.factory, &Query::Lot("RL-PORK-01".into())).unwrap();
    assert_eq!((r.units, r.cases), (48, 4));
    let now = where_now(&r);
    for c in codes(1..=24, "U") {
        assert_eq!(now[&c], "深圳甲分销有限公司", "{c}");
    }
    for c in codes(25..=48, "U") {
        assert_eq!(now[&c], "香港乙贸易公司", "{c}");
    }
    assert!(r.destinations.iter().all(|d| d.hop == 1));

    // Distributor 1 knows no raw lot, but knows batch B1 from its receipt: its 24 units and
    // two cases, each sold or in stock — exactly the union's answer for them.
    let r = producer::whereabouts(&chain.d1, &Query::Batch("B1".into())).unwrap();
    assert_eq!((r.units, r.cases), (24, 2));
    let expected: BTreeMap<String, String> = chain
        .expected
        .iter()
        .filter(|(c, _)| where_now(&r).contains_key(*c))
        .map(|(c, w)| (c.clone(), w.clone()))
        .collect();
    assert_eq!(expected.len(), 26);
    assert_eq!(where_now(&r), expected);
    assert!(
        producer::whereabouts(&chain.d1, &Query::Lot("RL-PORK-01".into()))
            .unwrap()
            .codes
            .is_empty()
    );
}

#[test]
fn distributor_stock_history_and_stock_take() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = build(dir.path());
    let p = producer_support::PRODUCT;
    let row = |l: &edge_daemon::ledger::Ledger| {
        producer::stock(l)
            .unwrap()
            .into_iter()
            .find(|r| r.product == p && r.batch == "B1")
            .unwrap()
    };
    // D1 received 24, sold 5 + 12.
    assert_eq!(row(&chain.d1).count, 7);
    let kinds: Vec<(String, i64)> = producer::moves(&chain.d1, p, "B1")
        .unwrap()
        .into_iter()
        .map(|m| (m.kind, m.count))
        .collect();
    assert_eq!(
        kinds,
        [
            ("received".into(), 24),
            ("shipped".into(), -5),
            ("shipped".into(), -12)
        ]
    );
    // The factory: 48 + 12 produced, all shipped; raw lots drawn down by the batches.
    assert_eq!(row(&chain.factory).count, 0);
    let pork = producer::stock(&chain.factory)
        .unwrap()
        .into_iter()
        .find(|r| r.batch == "RL-PORK-01")
        .unwrap();
    assert_eq!(pork.grams, 60_000 - 24_000);

    // Stock-take: one unit missing at D1 → a difference and an adjustment entry.
    let (entries, diffs) = producer::stock_take(
        &mut chain.d1,
        &[(p.to_owned(), "B1".to_owned(), 6, None)],
        Some("仓管 陈".into()),
    )
    .unwrap();
    assert_eq!(entries.len(), 2, "the stock-take and one adjustment");
    assert_eq!(diffs[0].count_diff(), -1);
    assert_eq!(row(&chain.d1).count, 6);
    // Counting again with nothing changed records no adjustment.
    let (entries, diffs) = producer::stock_take(
        &mut chain.d1,
        &[(p.to_owned(), "B1".to_owned(), 6, None)],
        None,
    )
    .unwrap();
    assert_eq!((entries.len(), diffs[0].count_diff()), (1, 0));
}

#[test]
fn whereabouts_cli_on_a_real_ledger_file() {
    let dir = tempfile::tempdir().unwrap();
    let chain = build(dir.path());
    let db = chain.factory.path().to_path_buf();
    drop(chain);
    let out = Command::new(env!("CARGO_BIN_EXE_baytrace-edge"))
        .args([
            "producer",
            "whereabouts",
            "--db",
            db.to_str().unwrap(),
            "--lot",
            "RL-PORK-01",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["query"],
        serde_json::json!({"by": "lot", "value": "RL-PORK-01"})
    );
    assert_eq!(v["units"], 48);
    assert_eq!(v["cases"], 4);
    assert_eq!(v["codes"].as_array().unwrap().len(), 52);
    assert_eq!(v["destinations"][0]["shipment_no"], "S-001");
    assert_eq!(
        v["destinations"][0]["to"]["credit_code"],
        producer_support::D1_USCC
    );

    let by_code = Command::new(env!("CARGO_BIN_EXE_baytrace-edge"))
        .args([
            "producer",
            "whereabouts",
            "--db",
            db.to_str().unwrap(),
            "--code",
            &code("C0011"),
        ])
        .output()
        .unwrap();
    assert!(by_code.status.success());
    let text = String::from_utf8_lossy(&by_code.stdout);
    assert!(
        text.contains("12 unit code(s), 1 case/pallet code(s), 1 destination(s)"),
        "{text}"
    );

    let stock = Command::new(env!("CARGO_BIN_EXE_baytrace-edge"))
        .args(["producer", "stock", "--db", db.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(stock.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&stock.stdout).unwrap();
    let pork = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["batch"] == "RL-PORK-01")
        .unwrap();
    assert_eq!(pork["grams"], 36_000);

    // Two selectors at once is a usage error.
    let bad = Command::new(env!("CARGO_BIN_EXE_baytrace-edge"))
        .args([
            "producer",
            "whereabouts",
            "--db",
            db.to_str().unwrap(),
            "--lot",
            "A",
            "--batch",
            "B",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
