//! Bad input at the packer, at dispatch, at the distributor's door and in the partner form:
//! each is refused with a clear, typed error and nothing is recorded — neither an entry nor a
//! change to the stock, packing or dispatch projections.

mod producer_support;

use edge_daemon::ledger::{Ledger, LedgerError};
use edge_daemon::producer::{
    self, CodeRejection, PartnerInput, PartnerRole, ProducerError, ShipmentInput,
};
use producer_support::{build, code, codes, factory_lookup, new_ledger};
use trace_core::event::{Aggregation, CodeLevel, Party, PartyKind, Shipment};
use trace_core::whereabouts::Query;
use trace_core::{EntryDraft, ids::EntityIdError};

/// Everything a refusal must leave alone: head, stock, and what whereabouts sees.
fn state(l: &Ledger) -> (u64, String) {
    let stock = serde_json::to_string(&producer::stock(l).unwrap()).unwrap();
    let w = producer::whereabouts(l, &Query::Batch("B1".into())).unwrap();
    (
        l.head().unwrap().seq,
        format!("{stock}{}", serde_json::to_string(&w).unwrap()),
    )
}

fn ship_input(no: &str, codes: Vec<String>) -> ShipmentInput {
    ShipmentInput {
        shipment_no: no.into(),
        customer: Party::named("某客户"),
        order_no: None,
        plate_number: None,
        codes,
    }
}

#[test]
fn packer_and_dispatch_refusals_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut lookup = factory_lookup();
    let mut f = new_ledger(dir.path(), "factory-bad-01");
    let units = codes(1..=48, "U");
    producer::aggregate(
        &mut f,
        &lookup,
        &code("C0001"),
        CodeLevel::Case,
        &units[0..12],
    )
    .unwrap();
    let before = state(&f);

    // A code of another enterprise.
    let foreign = "https://t.baytrace.cn/p/91440106MA5A222202/U0001".to_owned();
    let e = producer::aggregate(
        &mut f,
        &lookup,
        &code("C0002"),
        CodeLevel::Case,
        &[units[12].clone(), foreign],
    )
    .unwrap_err();
    assert!(
        matches!(&e, ProducerError::Code { rejection: CodeRejection::ForeignEnterprise(o), .. } if o.contains("91440106MA5A222202")),
        "{e}"
    );
    assert!(e.to_string().contains("another enterprise"), "{e}");

    // A disabled code, scanned directly or inside a case at dispatch.
    lookup.disable(&units[3]);
    let e = producer::ship(&mut f, &lookup, ship_input("S-1", vec![code("C0001")])).unwrap_err();
    assert!(
        matches!(&e, ProducerError::Code { rejection: CodeRejection::Disabled, code } if *code == units[3]),
        "{e}"
    );
    let e = producer::aggregate(
        &mut f,
        &lookup,
        &code("C0002"),
        CodeLevel::Case,
        &[units[3].clone()],
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            ProducerError::Code {
                rejection: CodeRejection::Disabled,
                ..
            }
        ),
        "{e}"
    );
    lookup = factory_lookup();

    // Aggregating a unit twice: into another case, or into the same one again.
    let e = producer::aggregate(
        &mut f,
        &lookup,
        &code("C0002"),
        CodeLevel::Case,
        &units[11..13],
    )
    .unwrap_err();
    assert!(
        matches!(&e, ProducerError::AlreadyPacked { code: c, parent, .. } if *c == units[11] && *parent == code("C0001")),
        "{e}"
    );
    let e = producer::aggregate(
        &mut f,
        &lookup,
        &code("C0001"),
        CodeLevel::Case,
        &units[0..1],
    )
    .unwrap_err();
    assert!(matches!(e, ProducerError::AlreadyPacked { .. }), "{e}");
    // The same unit twice in one scan; a case put into a case; a unit shipped out of a case.
    let twice = vec![units[20].clone(), units[20].clone()];
    let e =
        producer::aggregate(&mut f, &lookup, &code("C0002"), CodeLevel::Case, &twice).unwrap_err();
    assert!(matches!(e, ProducerError::ScannedTwice { .. }), "{e}");
    let e = producer::aggregate(
        &mut f,
        &lookup,
        &code("C0002"),
        CodeLevel::Case,
        &[code("C0001")],
    )
    .unwrap_err();
    assert!(matches!(e, ProducerError::Level { .. }), "{e}");
    let e = producer::ship(&mut f, &lookup, ship_input("S-1", vec![units[0].clone()])).unwrap_err();
    assert!(matches!(e, ProducerError::InsideParent { .. }), "{e}");
    // By count with too few loose units left in the feed.
    let e = producer::aggregate_by_count(
        &mut f,
        &lookup,
        &code("C0002"),
        CodeLevel::Case,
        12,
        &units[0..20],
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            ProducerError::NotEnough {
                wanted: 12,
                available: 8
            }
        ),
        "{e}"
    );
    // Taking out a unit that is not in the case.
    let e = producer::disaggregate(&mut f, &code("C0001"), &[units[30].clone()], None).unwrap_err();
    assert!(matches!(e, ProducerError::NotInParent { .. }), "{e}");
    assert_eq!(
        state(&f),
        before,
        "refusals changed the ledger or a projection"
    );

    // Shipping a code twice: the case again, or a unit that left inside it.
    producer::ship(&mut f, &lookup, ship_input("S-1", vec![code("C0001")])).unwrap();
    let before = state(&f);
    let e = producer::ship(&mut f, &lookup, ship_input("S-2", vec![code("C0001")])).unwrap_err();
    assert!(
        matches!(&e, ProducerError::AlreadyShipped { shipment_no, .. } if shipment_no == "S-1"),
        "{e}"
    );
    producer::disaggregate(&mut f, &code("C0001"), &[units[0].clone()], None).unwrap_err();
    let e = producer::aggregate(
        &mut f,
        &lookup,
        &code("C0002"),
        CodeLevel::Case,
        &[units[5].clone()],
    )
    .unwrap_err();
    assert!(matches!(e, ProducerError::AlreadyShipped { .. }), "{e}");
    let e =
        producer::ship(&mut f, &lookup, ship_input("S-1", vec![units[40].clone()])).unwrap_err();
    assert!(
        matches!(
            e,
            ProducerError::Duplicate {
                what: "shipment",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(state(&f), before);
}

/// The projections refuse a contradiction even from a caller that skips the operations.
#[test]
fn the_ledger_itself_refuses_double_packing_and_double_shipping() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = new_ledger(dir.path(), "factory-raw-01");
    let agg = |parent: &str, kids: &[&str]| {
        EntryDraft::new(
            Aggregation {
                parent: parent.into(),
                parent_level: CodeLevel::Case,
                children: kids.iter().map(|k| (*k).to_owned()).collect(),
            }
            .into(),
        )
    };
    l.append(agg("C1", &["U1", "U2"])).unwrap();
    let before = state(&l);
    let e = l.append(agg("C2", &["U3", "U2"])).unwrap_err();
    assert!(
        matches!(&e, LedgerError::Rejected(m) if m.contains("U2 is already in C1")),
        "{e}"
    );
    let ship = |no: &str, codes: &[&str]| {
        EntryDraft::new(
            Shipment {
                shipment_no: no.into(),
                customer: Party::named("甲"),
                lines: vec![trace_core::event::GoodsLine::counted("腊肠", "B1", 2)],
                codes: codes.iter().map(|k| (*k).to_owned()).collect(),
                plate_number: None,
                destination: None,
                order_no: None,
            }
            .into(),
        )
    };
    l.append(ship("S1", &["C1"])).unwrap();
    let before_2 = state(&l);
    assert_ne!(before, before_2);
    let e = l.append(ship("S2", &["U1"])).unwrap_err();
    assert!(
        matches!(&e, LedgerError::Rejected(m) if m.contains("U1 already left this box in shipment S1")),
        "{e}"
    );
    // A batch with one bad draft commits none of it.
    let e = l
        .append_batch(vec![agg("C9", &["U9"]), ship("S3", &["C1"])])
        .unwrap_err();
    assert!(matches!(e, LedgerError::Rejected(_)), "{e}");
    assert_eq!(state(&l), before_2);
}

#[test]
fn malformed_credit_codes_and_id_numbers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = new_ledger(dir.path(), "factory-ids-01");
    let head = l.head().unwrap().seq;
    let enterprise = |uscc: &str| PartnerInput {
        partner_id: "C1".into(),
        name: "某公司".into(),
        kind: Some(PartyKind::Enterprise),
        credit_code: Some(uscc.into()),
        ..PartnerInput::default()
    };
    // Wrong check character (last one changed).
    let e = producer::upsert_partner(
        &mut l,
        PartnerRole::Customer,
        enterprise("91440101MA5911110J"),
    )
    .unwrap_err();
    assert!(
        matches!(
            &e,
            ProducerError::InvalidId {
                source: EntityIdError::CheckChar {
                    expected: 'H',
                    found: 'J'
                },
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("统一社会信用代码"), "{e}");
    let e =
        producer::upsert_partner(&mut l, PartnerRole::Customer, enterprise("9144010")).unwrap_err();
    assert!(
        matches!(
            e,
            ProducerError::InvalidId {
                source: EntityIdError::Length { .. },
                ..
            }
        ),
        "{e}"
    );
    // An enterprise without its code; a person without an id number.
    let mut no_code = enterprise("x");
    no_code.credit_code = None;
    assert!(matches!(
        producer::upsert_partner(&mut l, PartnerRole::Customer, no_code).unwrap_err(),
        ProducerError::Missing(_)
    ));
    let person = |id: &str| PartnerInput {
        partner_id: "P1".into(),
        name: "张三".into(),
        kind: Some(PartyKind::Person),
        id_number: Some(id.into()),
        phone: Some("13812345678".into()),
        ..PartnerInput::default()
    };
    let e = producer::upsert_partner(&mut l, PartnerRole::Supplier, person("110105194912310021"))
        .unwrap_err();
    assert!(
        matches!(
            e,
            ProducerError::InvalidId {
                source: EntityIdError::CheckChar { .. },
                ..
            }
        ),
        "{e}"
    );
    let e = producer::upsert_partner(&mut l, PartnerRole::Supplier, person("11010519491331002X"))
        .unwrap_err();
    assert!(
        matches!(
            e,
            ProducerError::InvalidId {
                source: EntityIdError::BirthDate(_),
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        l.head().unwrap().seq,
        head,
        "a refused partner was recorded"
    );

    // The valid ones are recorded, and shown masked.
    producer::upsert_partner(&mut l, PartnerRole::Supplier, person("11010519491231002x")).unwrap();
    producer::upsert_partner(
        &mut l,
        PartnerRole::Customer,
        enterprise("91440101MA5911110H"),
    )
    .unwrap();
    let shown = producer::partners(&l).unwrap();
    assert_eq!(shown.len(), 2);
    let json = serde_json::to_string(&shown).unwrap();
    assert!(
        !json.contains("11010519491231002X") && !json.contains("13812345678"),
        "{json}"
    );
    assert!(
        json.contains("1101**********002X") && json.contains("138****5678"),
        "{json}"
    );
}

#[test]
fn distributor_refusals_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = build(dir.path());
    let manifests = [
        producer::manifest(&chain.factory, "S-001").unwrap(),
        producer::manifest(&chain.factory, "S-002").unwrap(),
    ];
    let before = state(&chain.d1);
    // Received twice (the case again, or a unit of it).
    let e = producer::receive_by_scan(&mut chain.d1, &manifests, &[code("C0001")]).unwrap_err();
    assert!(
        matches!(
            e,
            ProducerError::Duplicate {
                what: "received code",
                ..
            }
        ),
        "{e}"
    );
    // A code no supplier's shipment data names.
    let e = producer::receive_by_scan(&mut chain.d1, &manifests, &[code("C0099")]).unwrap_err();
    assert!(matches!(e, ProducerError::NotInManifest { .. }), "{e}");
    // Selling what was never received here, what was already sold, or a unit and its case.
    let e = producer::sell(&mut chain.d1, ship_input("X-1", vec![code("C0003")])).unwrap_err();
    assert!(matches!(e, ProducerError::NotInStock { .. }), "{e}");
    let e = producer::sell(&mut chain.d1, ship_input("X-1", vec![code("U0001")])).unwrap_err();
    assert!(matches!(e, ProducerError::AlreadyShipped { .. }), "{e}");
    let e = producer::sell(
        &mut chain.d1,
        ship_input("X-1", vec![code("C0001"), code("U0008")]),
    )
    .unwrap_err();
    assert!(matches!(e, ProducerError::ScannedTwice { .. }), "{e}");
    assert_eq!(state(&chain.d1), before);
}

/// A shipment recorded by mistake is voided (entries are never edited): its codes can ship
/// again, its stock comes back, and whereabouts no longer lists it. A disaggregation cannot be
/// voided, nor the packing of a case that has left.
#[test]
fn a_voided_shipment_releases_its_codes() {
    let dir = tempfile::tempdir().unwrap();
    let lookup = factory_lookup();
    let mut f = new_ledger(dir.path(), "factory-void-01");
    let units = codes(1..=48, "U");
    let packed = producer::aggregate(
        &mut f,
        &lookup,
        &code("C0001"),
        CodeLevel::Case,
        &units[0..12],
    )
    .unwrap();
    let count = |l: &Ledger| {
        producer::stock(l)
            .unwrap()
            .into_iter()
            .map(|r| r.count)
            .sum::<i64>()
    };
    let wrong =
        producer::ship(&mut f, &lookup, ship_input("S-WRONG", vec![code("C0001")])).unwrap();
    assert_eq!(count(&f), -12);
    let void = |target: u64| {
        EntryDraft::new(
            trace_core::event::Void {
                target_seq: target,
                reason: "发错客户".into(),
            }
            .into(),
        )
    };
    let e = f.append(void(packed.seq)).unwrap_err();
    assert!(
        matches!(&e, LedgerError::Rejected(m) if m.contains("already been shipped")),
        "{e}"
    );
    f.append(void(wrong.seq)).unwrap();
    assert_eq!(count(&f), 0);
    producer::ship(&mut f, &lookup, ship_input("S-RIGHT", vec![code("C0001")])).unwrap();
    let w = producer::whereabouts(&f, &Query::Code(code("C0001"))).unwrap();
    let nos: Vec<&str> = w
        .destinations
        .iter()
        .map(|d| d.shipment_no.as_str())
        .collect();
    assert_eq!(nos, ["S-RIGHT"]);
    assert_eq!(w.units, 12);

    let out = producer::disaggregate(&mut f, &code("C0002"), &[], None).unwrap_err();
    assert!(matches!(out, ProducerError::Missing(_)), "{out}");
    producer::aggregate(
        &mut f,
        &lookup,
        &code("C0002"),
        CodeLevel::Case,
        &units[12..14],
    )
    .unwrap();
    let d = producer::disaggregate(&mut f, &code("C0002"), &units[12..13], None).unwrap();
    let e = f.append(void(d.seq)).unwrap_err();
    assert!(
        matches!(&e, LedgerError::Rejected(m) if m.contains("pack them again")),
        "{e}"
    );
}
