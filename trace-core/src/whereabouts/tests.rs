//! The walk on small hand-built chains; the realistic three-box chain is tested end to end in
//! `edge-daemon/tests/producer_whereabouts.rs`.

use super::*;
use crate::event::{
    Aggregation, Disaggregation, ProductionBatch, RawLotUse, RawMaterialPurchase, ScanReceipt,
    Shipment, Void,
};
use crate::hash::{Digest, HashAlg};
use crate::ids::ResidentId;
use crate::units::Grams;
use crate::{EntryDraft, Timestamp};

/// A device's entries, sealed in order.
struct Dev {
    id: DeviceId,
    entries: Vec<Entry>,
}

impl Dev {
    fn new(id: &str) -> Dev {
        Dev {
            id: DeviceId::new(id.to_owned()).unwrap(),
            entries: Vec::new(),
        }
    }

    fn add(&mut self, e: impl Into<Event>) -> u64 {
        let seq = self.entries.len() as u64 + 1;
        let prev = self.entries.last().map_or(Digest::ZERO, |e| e.hash);
        let mut d = EntryDraft::new(e.into());
        d.at = Timestamp(1);
        self.entries
            .push(Entry::seal(d, self.id.clone(), seq, prev, HashAlg::Sha256).unwrap());
        seq
    }
}

fn codes(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn line(batch: &str, n: u64, c: &[&str]) -> GoodsLine {
    let mut l = GoodsLine::counted("腊肠 500g", batch, n);
    l.codes = codes(c);
    l
}

fn ship(no: &str, to: Party, lines: Vec<GoodsLine>, top: &[&str]) -> Shipment {
    Shipment {
        shipment_no: no.into(),
        customer: to,
        lines,
        codes: codes(top),
        plate_number: None,
        destination: None,
        order_no: None,
    }
}

fn case(parent: &str, kids: &[&str]) -> Aggregation {
    Aggregation {
        parent: parent.into(),
        parent_level: CodeLevel::Case,
        children: codes(kids),
    }
}

/// Producer P: lot L1 → batch B1 → units U1..U4 → cases C1 {U1,U2}, C2 {U3,U4};
/// C1 to distributor D (a box), C2 to a shop with no box. D sells U1 to a retailer.
fn chain() -> (Dev, Dev) {
    let mut p = Dev::new("factory-01");
    p.add(RawMaterialPurchase {
        supplier: Party::named("肉联厂"),
        material: "猪肉".into(),
        lot: "L1".into(),
        material_code: None,
        grams: Some(Grams(100_000)),
        count: None,
        amount: None,
        supplier_batch: None,
        production_date: None,
        expiry_date: None,
        upstream_code: None,
        certificates: vec![],
        documents: vec![],
    });
    p.add(ProductionBatch {
        batch: "B1".into(),
        product: "腊肠 500g".into(),
        produced_on: "2026-11-20".into(),
        raw_lots: vec![RawLotUse {
            lot: "L1".into(),
            material: "猪肉".into(),
            grams: Some(Grams(2_000)),
            count: None,
        }],
        product_code: None,
        gtin: None,
        expires_on: None,
        count: Some(4),
        grams: None,
        line: None,
        documents: vec![],
    });
    p.add(case("C1", &["U1", "U2"]));
    p.add(case("C2", &["U3", "U4"]));
    p.add(ship(
        "S1",
        Party::named("分销商甲"),
        vec![line("B1", 2, &["C1"])],
        &["C1"],
    ));
    let mut shop = Party::named("张三小卖部");
    shop.id_number = Some(ResidentId::parse("11010519491231002X").unwrap());
    shop.phone = Some("13812345678".into());
    p.add(ship("S2", shop, vec![line("B1", 2, &["C2"])], &["C2"]));

    let mut d = Dev::new("dist-01");
    d.add(ScanReceipt {
        supplier: Party::named("腊味厂"),
        codes: codes(&["C1"]),
        lines: vec![line("B1", 2, &["C1"])],
        shipment_no: Some("S1".into()),
        contents: vec![case("C1", &["U1", "U2"])],
    });
    d.add(Disaggregation {
        parent: "C1".into(),
        children: codes(&["U1"]),
        reason: Some("拆箱销售".into()),
    });
    d.add(ship(
        "D1",
        Party::named("零售店乙"),
        vec![line("B1", 1, &["U1"])],
        &["U1"],
    ));
    (p, d)
}

fn trail<'a>(r: &'a Report, code: &str) -> &'a CodeTrail {
    r.codes
        .iter()
        .find(|t| t.code == code)
        .unwrap_or_else(|| panic!("{code} not in the report"))
}

#[test]
fn lot_reaches_every_unit_and_case_across_boxes() {
    let (p, d) = chain();
    let r = whereabouts(p.entries.iter().chain(&d.entries), &Query::Lot("L1".into()));
    assert_eq!(r.batches.len(), 1);
    assert_eq!(r.lots[0].material, "猪肉");
    let got: Vec<&str> = r.codes.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(got, ["C1", "C2", "U1", "U2", "U3", "U4"]);
    assert_eq!((r.units, r.cases), (4, 2));

    // U1: producer → distributor (in C1) → scanned in → sold alone to the retailer.
    let u1 = trail(&r, "U1");
    assert_eq!(u1.steps.len(), 3);
    assert!(
        matches!(&u1.steps[0], Step::Shipped { inside, shipment_no, .. } if inside == "C1" && shipment_no == "S1")
    );
    assert!(matches!(&u1.steps[1], Step::Received { at, .. } if at.device.as_str() == "dist-01"));
    assert!(
        matches!(&u1.location, Location::Delivered { to, shipment_no } if to.name == "零售店乙" && shipment_no == "D1")
    );
    // U2 stayed in the distributor's stock.
    assert!(
        matches!(&trail(&r, "U2").location, Location::InStock { device } if device.as_str() == "dist-01")
    );
    assert_eq!(trail(&r, "U3").level, Some(CodeLevel::Unit));
    assert_eq!(trail(&r, "C2").level, Some(CodeLevel::Case));

    let dests: Vec<(&str, usize, u64, u64)> = r
        .destinations
        .iter()
        .map(|d| (d.shipment_no.as_str(), d.hop, d.units, d.cases))
        .collect();
    assert_eq!(dests, [("S1", 1, 2, 1), ("S2", 1, 2, 1), ("D1", 2, 1, 0)]);
}

#[test]
fn personal_numbers_are_masked_in_the_report() {
    let (p, d) = chain();
    let r = whereabouts(
        p.entries.iter().chain(&d.entries),
        &Query::Batch("B1".into()),
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("11010519491231002X"), "{json}");
    assert!(!json.contains("13812345678"));
    let shop = &r
        .destinations
        .iter()
        .find(|d| d.shipment_no == "S2")
        .unwrap()
        .to;
    assert_eq!(shop.id_number.as_deref(), Some("1101**********002X"));
    assert_eq!(shop.phone.as_deref(), Some("138****5678"));
}

#[test]
fn one_box_sees_its_own_part() {
    let (p, d) = chain();
    // The distributor alone: no production data, but its receipt names the batch.
    let r = whereabouts(&d.entries, &Query::Batch("B1".into()));
    let u1 = trail(&r, "U1");
    assert!(matches!(&u1.steps[0], Step::Received { from, .. } if from.name == "腊味厂"));
    assert_eq!(u1.steps.len(), 2);
    assert!(
        r.codes.iter().all(|t| t.code != "U3"),
        "C2 never reached it"
    );
    // The producer alone: U1 ends at the distributor.
    let r = whereabouts(&p.entries, &Query::Code("C1".into()));
    assert!(
        matches!(&trail(&r, "U1").location, Location::Delivered { to, .. } if to.name == "分销商甲")
    );
}

#[test]
fn a_unit_taken_out_before_shipping_did_not_travel() {
    let mut p = Dev::new("factory-01");
    p.add(case("C1", &["U1", "U2"]));
    p.add(Disaggregation {
        parent: "C1".into(),
        children: codes(&["U2"]),
        reason: None,
    });
    p.add(ship(
        "S1",
        Party::named("甲"),
        vec![line("B1", 1, &["C1"])],
        &["C1"],
    ));
    let r = whereabouts(&p.entries, &Query::Code("C1".into()));
    assert!(r.codes.iter().any(|t| t.code == "U1"));
    assert!(r.codes.iter().all(|t| t.code != "U2"), "{:?}", r.codes);
}

#[test]
fn a_voided_shipment_is_not_a_destination() {
    let mut p = Dev::new("factory-01");
    let s = p.add(ship(
        "S1",
        Party::named("甲"),
        vec![line("B1", 1, &["U1"])],
        &["U1"],
    ));
    p.add(Void {
        target_seq: s,
        reason: "录错".into(),
    });
    p.add(ship(
        "S2",
        Party::named("乙"),
        vec![line("B1", 1, &["U1"])],
        &["U1"],
    ));
    let r = whereabouts(&p.entries, &Query::Batch("B1".into()));
    let nos: Vec<&str> = r
        .destinations
        .iter()
        .map(|d| d.shipment_no.as_str())
        .collect();
    assert_eq!(nos, ["S2"]);
}

#[test]
fn unknown_query_is_empty_not_an_error() {
    let (p, _) = chain();
    let r = whereabouts(&p.entries, &Query::Lot("NOPE".into()));
    assert!(r.codes.is_empty() && r.destinations.is_empty() && r.batches.is_empty());
}
