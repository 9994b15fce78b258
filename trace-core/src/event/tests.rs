//! Vocabulary tests: every kind serialises under its tag, validates when well-formed, and the
//! typical mistakes are refused with the right error.

use super::*;
use crate::hash::{Digest, HashAlg};
use crate::ids::{CreditCode, RegionCode};
use crate::ticket::TicketCodec;
use crate::units::{Fen, Grams};

fn ticket_code() -> String {
    TicketCodec::new(1, &[3u8; 32])
        .unwrap()
        .mint(7)
        .unwrap()
        .to_string()
}

fn line(product: &str, grams: i64, unit_price: i64, amount: i64) -> SaleLine {
    SaleLine {
        product: product.into(),
        product_code: None,
        grams: Some(Grams(grams)),
        count: None,
        unit_price: Fen(unit_price),
        price_unit: PriceUnit::Jin,
        amount: Fen(amount),
        batch: Some("B20261122-01".into()),
        origin: None,
    }
}

pub(crate) fn sale() -> SaleTicket {
    SaleTicket {
        ticket_code: ticket_code(),
        lines: vec![
            line("猪五花", 750, 1680, 2520),
            line("菜心", 1000, 300, 600),
        ],
        total: Fen(3120),
        payment: PaymentMethod::WechatPay,
        buyer: None,
        buyer_id: None,
        fees: vec![],
    }
}

fn purchase() -> Purchase {
    Purchase {
        supplier: "从化菜场".into(),
        product: "菜心".into(),
        batch: "P-1".into(),
        grams: Some(Grams(50_000)),
        count: None,
        amount: Fen(15_000),
        origin: Some("广东省-广州市-从化区".into()),
        upstream_code: None,
        origin_code: Some(RegionCode::parse("440117").unwrap()),
        supplier_party: None,
        product_code: None,
        unit_price: None,
        price_unit: None,
        plate_number: Some("粤A12345".into()),
        vouchers: vec![BlobRef {
            digest: HashAlg::Sha256.digest(&[b"photo"]),
            media_type: "image/jpeg".into(),
            name: None,
        }],
        certificates: vec![Certificate {
            kind: CertificateKind::ComplianceCertificate,
            number: "HG-440117-0001".into(),
            issuer: None,
            photo: None,
        }],
    }
}

fn partner() -> PartnerRecord {
    PartnerRecord {
        partner_id: "s1".into(),
        name: "福州某公司".into(),
        kind: PartyKind::Enterprise,
        credit_code: Some(CreditCode::parse("91350100M000100Y43").unwrap()),
        id_number: None,
        legal_rep: None,
        contact: None,
        phone: Some("13812345678".into()),
        address: None,
        region: None,
        licence_no: None,
    }
}

fn goods() -> GoodsLine {
    GoodsLine {
        product: "腊肠 500g".into(),
        batch: "20261120A".into(),
        product_code: None,
        count: Some(24),
        grams: None,
        production_date: Some("2026-11-20".into()),
        expiry_date: Some("2027-05-20".into()),
    }
}

fn removed() -> RecordRemoved {
    RecordRemoved {
        id: "x1".into(),
        reason: None,
    }
}

/// One well-formed example of every kind.
pub(crate) fn samples() -> Vec<Event> {
    let range = CodeRange {
        first: 1,
        last: 1000,
    };
    vec![
        sale().into(),
        purchase().into(),
        Void {
            target_seq: 3,
            reason: "输错价格".into(),
        }
        .into(),
        Registration {
            subject: SubjectKind::Stall,
            name: "陈记猪肉档".into(),
            credit_code: None,
            id_number: Some(crate::ids::ResidentId::parse("440106199001011235").unwrap()),
            legal_rep: None,
            contact: Some("陈生".into()),
            phone: None,
            address: None,
            region: None,
            licence_no: None,
            market: Some("东山市场".into()),
            stall_no: Some("A-01".into()),
            stall_area: None,
            stall_type: None,
            contract_no: None,
            business_scope: None,
            documents: vec![],
        }
        .into(),
        AccountChange {
            account: "cashier1".into(),
            action: AccountAction::Created,
            role: Some(Role::Cashier),
            staff_id: None,
            by: Some("owner".into()),
        }
        .into(),
        StaffRecord {
            staff_id: "st1".into(),
            name: "李四".into(),
            role: None,
            phone: None,
            health_cert_no: Some("JK123".into()),
            health_cert_expires: Some("2027-01-31".into()),
        }
        .into(),
        StaffRemove(removed()).into(),
        ProductRecord {
            product_id: "p1".into(),
            name: "猪五花".into(),
            category: None,
            spec: None,
            gtin: None,
            plu: Some(12),
            unit_price: Some(Fen(1680)),
            price_unit: Some(PriceUnit::Jin),
            shelf_life_days: None,
        }
        .into(),
        ProductRemove(removed()).into(),
        SupplierUpsert(partner()).into(),
        SupplierRemove(removed()).into(),
        CustomerUpsert(partner()).into(),
        CustomerRemove(removed()).into(),
        Weighing {
            gross: Grams(1250),
            tare: Grams(50),
            net: Grams(1200),
            stable: true,
            product: None,
            plu: Some(12),
            unit_price: None,
            price_unit: None,
            scale: None,
        }
        .into(),
        IncomeExpense {
            direction: CashDirection::Expense,
            category: "租金".into(),
            amount: Fen(300_000),
            payment: PaymentMethod::Cash,
            counterparty: None,
            note: None,
            vouchers: vec![],
        }
        .into(),
        Repayment {
            customer: "王老板".into(),
            amount: Fen(5000),
            payment: PaymentMethod::Cash,
            customer_id: None,
            ticket_codes: vec![ticket_code()],
        }
        .into(),
        SamplingInspection {
            sample_no: "S-1".into(),
            product: "菜心".into(),
            items: vec![TestItem {
                item: "有机磷农药残留".into(),
                result: Verdict::Pass,
                method: Some("速测".into()),
                value: None,
                limit: None,
            }],
            result: Verdict::Pass,
            batch: None,
            stall_no: None,
            org: None,
            inspector: None,
            tested_at: None,
            publish: true,
            report: None,
        }
        .into(),
        DailyInspection {
            inspector: "巡查员1".into(),
            items: vec![CheckItem {
                item: "公示牌".into(),
                ok: true,
                note: None,
            }],
            target: Some("A-01".into()),
            rectification: None,
            photos: vec![],
        }
        .into(),
        RawMaterialPurchase {
            supplier: Party::named("肉联厂"),
            material: "猪肉".into(),
            lot: "R-1".into(),
            material_code: None,
            grams: Some(Grams(1_000_000)),
            count: None,
            amount: None,
            supplier_batch: None,
            production_date: Some("2026-11-01".into()),
            expiry_date: None,
            upstream_code: None,
            certificates: vec![],
            documents: vec![],
        }
        .into(),
        ProductionBatch {
            batch: "20261120A".into(),
            product: "腊肠 500g".into(),
            produced_on: "2026-11-20".into(),
            raw_lots: vec![RawLotUse {
                lot: "R-1".into(),
                material: "猪肉".into(),
                grams: Some(Grams(600_000)),
                count: None,
            }],
            product_code: None,
            gtin: Some("06901234567892".into()),
            expires_on: None,
            count: Some(1000),
            grams: None,
            line: None,
            documents: vec![],
        }
        .into(),
        CodesAllocated {
            pool: "unit".into(),
            level: CodeLevel::Unit,
            range,
            template: None,
        }
        .into(),
        CodesEncoded {
            pool: "unit".into(),
            ranges: vec![range],
            batch: None,
            coder: None,
        }
        .into(),
        CodesCommissioned {
            pool: "unit".into(),
            ranges: vec![range],
            batch: "20261120A".into(),
        }
        .into(),
        CodesScrapped {
            pool: "unit".into(),
            ranges: vec![CodeRange { first: 7, last: 7 }],
            reason: "喷码模糊".into(),
        }
        .into(),
        Aggregation {
            parent: "C1".into(),
            parent_level: CodeLevel::Case,
            children: vec!["U1".into(), "U2".into()],
        }
        .into(),
        Disaggregation {
            parent: "C1".into(),
            children: vec![],
            reason: None,
        }
        .into(),
        Shipment {
            shipment_no: "SH-1".into(),
            customer: Party::named("某超市"),
            lines: vec![goods()],
            codes: vec!["C1".into()],
            plate_number: None,
            destination: None,
            order_no: None,
        }
        .into(),
        ScanReceipt {
            supplier: Party::named("某厂"),
            codes: vec!["C1".into()],
            lines: vec![goods()],
            shipment_no: None,
        }
        .into(),
        StockTake {
            lines: vec![StockCount {
                product: "菜心".into(),
                batch: "P-1".into(),
                book_grams: Some(Grams(5000)),
                counted_grams: Some(Grams(4800)),
                book_count: None,
                counted_count: None,
            }],
            counted_by: None,
        }
        .into(),
        StockAdjustment {
            product: "菜心".into(),
            batch: "P-1".into(),
            reason: "损耗".into(),
            delta_grams: Some(Grams(-200)),
            delta_count: None,
        }
        .into(),
        RecallAlert {
            alert_id: "R-2026-1".into(),
            product: "腊肠".into(),
            reason: "亚硝酸盐超标".into(),
            batches: vec!["20261120A".into()],
            codes: vec![],
            level: Some(1),
            issued_by: None,
            issued_at: None,
        }
        .into(),
        DownlinkApplied {
            doc_type: crate::wire::DocType::Catalog,
            version: 3,
            digest: Digest::ZERO,
        }
        .into(),
    ]
}

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
