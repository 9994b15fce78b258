//! Vocabulary tests: every kind serialises under its tag, validates when well-formed, and the
//! typical mistakes are refused with the right error.

use super::samples::{line, partner, purchase, sale, samples};
use super::*;
use crate::units::{Fen, Grams};
#[test]
fn every_kind_has_a_sample_tag_and_round_trip() {
    let samples = samples();
    let kinds: Vec<&str> = samples.iter().map(Event::kind).collect();
    assert_eq!(
        kinds,
        Event::KINDS,
        "one sample per kind, in declaration order"
    );
    let unique: std::collections::HashSet<_> = Event::KINDS.iter().collect();
    assert_eq!(unique.len(), Event::KINDS.len());
    for e in &samples {
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(v["kind"], e.kind());
        let tag_ok = e
            .kind()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_');
        assert!(tag_ok, "{} is not snake_case", e.kind());
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(&back, e);
        e.validate()
            .unwrap_or_else(|err| panic!("{}: {err}", e.kind()));
        crate::canonical_bytes(e).unwrap();
    }
}

/// The hash contract: this exact sale ticket must keep this exact canonical form forever.
#[test]
fn sale_ticket_canonical_form_is_stable() {
    let mut t = sale();
    t.ticket_code = "00000112345678901234".into();
    let bytes = crate::canonical_bytes(&Event::SaleTicket(t)).unwrap();
    let expected = concat!(
        r#"{"body":{"lines":[{"amount":2520,"batch":"B20261122-01","grams":750,"price_unit":"jin","#,
        r#""product":"猪五花","unit_price":1680},{"amount":600,"batch":"B20261122-01","grams":1000,"#,
        r#""price_unit":"jin","product":"菜心","unit_price":300}],"payment":"wechat_pay","#,
        r#""ticket_code":"00000112345678901234","total":3120},"kind":"sale_ticket"}"#
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
}

#[test]
fn sale_ticket_invariants() {
    let mut t = sale();
    t.total = Fen(3000);
    assert_eq!(
        t.validate(),
        Err(EventError::TotalMismatch {
            expected: Fen(3120),
            found: Fen(3000)
        })
    );

    let mut t = sale();
    t.fees.push(Fee {
        name: "抹零".into(),
        amount: Fen(-20),
    });
    assert!(matches!(
        t.validate(),
        Err(EventError::TotalMismatch { .. })
    ));
    t.total = Fen(3100);
    assert_eq!(t.validate(), Ok(()));

    let mut t = sale();
    t.payment = PaymentMethod::Credit;
    assert_eq!(t.validate(), Err(EventError::CreditNeedsBuyer));
    t.buyer = Some("  ".into());
    assert_eq!(t.validate(), Err(EventError::CreditNeedsBuyer));
    t.buyer = Some("王老板".into());
    assert_eq!(t.validate(), Ok(()));

    let mut t = sale();
    t.lines[1].product = " ".into();
    assert_eq!(
        t.validate(),
        Err(EventError::Empty {
            field: "lines[1].product".into()
        })
    );

    let mut t = sale();
    t.lines[0].grams = Some(Grams(-1));
    assert!(matches!(t.validate(), Err(EventError::Negative { .. })));

    let mut t = sale();
    t.lines[0].grams = None;
    assert!(matches!(
        t.validate(),
        Err(EventError::MissingQuantity { .. })
    ));

    let mut t = sale();
    t.lines.clear();
    t.total = Fen(0);
    assert!(matches!(t.validate(), Err(EventError::Empty { .. })));

    let mut t = sale();
    t.ticket_code = "1234".into();
    assert!(matches!(t.validate(), Err(EventError::TicketCode(_))));
}

#[test]
fn priced_amount_follows_the_rounding_rule() {
    let l = line("猪五花", 750, 1680, 2520);
    assert_eq!(l.priced_amount(), Ok(Fen(2520)));
}

#[test]
fn other_invariants() {
    let mut p = purchase();
    p.grams = None;
    assert!(matches!(
        p.validate(),
        Err(EventError::MissingQuantity { .. })
    ));

    let w = Weighing {
        gross: Grams(100),
        tare: Grams(10),
        net: Grams(80),
        stable: true,
        product: None,
        plu: None,
        unit_price: None,
        price_unit: None,
        scale: None,
    };
    assert!(matches!(w.validate(), Err(EventError::NetWeight { .. })));

    let r = Repayment {
        customer: "a".into(),
        amount: Fen(1),
        payment: PaymentMethod::Credit,
        customer_id: None,
        ticket_codes: vec![],
    };
    assert_eq!(r.validate(), Err(EventError::RepaymentOnCredit));

    let mut s = match &samples()[16] {
        Event::SamplingInspection(s) => s.clone(),
        other => panic!("{}", other.kind()),
    };
    s.items[0].result = Verdict::Fail;
    assert_eq!(
        s.validate(),
        Err(EventError::VerdictMismatch {
            declared: Verdict::Pass,
            from_items: Verdict::Fail
        })
    );

    let a = Aggregation {
        parent: "C1".into(),
        parent_level: CodeLevel::Case,
        children: vec!["U1".into(), "U1".into()],
    };
    assert!(matches!(a.validate(), Err(EventError::Duplicate { .. })));
    let a = Aggregation {
        parent: "C1".into(),
        parent_level: CodeLevel::Case,
        children: vec!["C1".into()],
    };
    assert!(matches!(
        a.validate(),
        Err(EventError::Contradiction { .. })
    ));

    let mut reg = match &samples()[3] {
        Event::Registration(r) => r.clone(),
        other => panic!("{}", other.kind()),
    };
    reg.id_number = None;
    assert_eq!(reg.validate(), Err(EventError::NoIdentity));

    let mut pb = match &samples()[19] {
        Event::ProductionBatch(b) => b.clone(),
        other => panic!("{}", other.kind()),
    };
    pb.produced_on = "2026-02-30".into();
    assert!(matches!(pb.validate(), Err(EventError::BadDate { .. })));
    pb.produced_on = "2026-02-28".into();
    pb.raw_lots.clear();
    assert!(matches!(pb.validate(), Err(EventError::Empty { .. })));

    let adj = StockAdjustment {
        product: "a".into(),
        batch: "b".into(),
        reason: "c".into(),
        delta_grams: Some(Grams(0)),
        delta_count: None,
    };
    assert!(matches!(
        adj.validate(),
        Err(EventError::MissingQuantity { .. })
    ));

    let mut partner = partner();
    partner.kind = PartyKind::Person;
    assert!(matches!(
        partner.validate(),
        Err(EventError::Contradiction { .. })
    ));

    assert!(
        Void {
            target_seq: 0,
            reason: "x".into()
        }
        .validate()
        .is_err()
    );
    let ie = IncomeExpense {
        direction: CashDirection::Income,
        category: "x".into(),
        amount: Fen(0),
        payment: PaymentMethod::Cash,
        counterparty: None,
        note: None,
        vouchers: vec![],
    };
    assert!(matches!(ie.validate(), Err(EventError::NotPositive { .. })));
}

#[test]
fn invalid_ids_do_not_deserialize_into_events() {
    let mut v = serde_json::to_value(Event::from(SupplierUpsert(partner()))).unwrap();
    v["body"]["credit_code"] = "91350100M000100Y44".into();
    assert!(serde_json::from_value::<Event>(v).is_err());
}

/// An entry written by the original three-kind vocabulary still reads and keeps its hash.
#[test]
fn legacy_purchase_json_still_reads() {
    let json = r#"{"kind":"purchase","body":{"supplier":"a","product":"b","batch":"c","grams":5,"amount":10}}"#;
    let e: Event = serde_json::from_str(json).unwrap();
    let bytes = crate::canonical_bytes(&e).unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        r#"{"body":{"amount":10,"batch":"c","grams":5,"product":"b","supplier":"a"},"kind":"purchase"}"#
    );
}
