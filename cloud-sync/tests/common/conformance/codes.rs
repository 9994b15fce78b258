//! Product codes (issue 6): the projections of `code_template`, `codes_allocated`,
//! `codes_disabled` / `codes_enabled`, `production_batch` and `product_upsert`, and
//! `CloudStore::product_code` resolving real codes minted with each box's derived key.

use super::Backend;
use cloud_sync::store::CloudStore;
use cloud_sync::testkit;
use trace_core::event::{
    CodeLevel, CodeRange, CodeTemplateSaved, CodesAllocated, CodesDisabled, CodesEnabled,
    CodesToggled, ProductRecord, ProductionBatch, RawLotUse,
};
use trace_core::product_code::{CodeVars, Day, Field, Output, ScannedCode, Template};
use trace_core::{Event, HashAlg};

fn alloc(t: &Template, first: u64, last: u64, batch: &str) -> Event {
    Event::CodesAllocated(CodesAllocated {
        pool: t.id.clone(),
        level: t.level,
        range: CodeRange { first, last },
        template: Some(t.id.clone()),
        batch: Some(batch.into()),
    })
}

fn toggled(t: &Template, first: u64, last: u64, reason: Option<&str>) -> CodesToggled {
    CodesToggled {
        pool: t.id.clone(),
        ranges: vec![CodeRange { first, last }],
        reason: reason.map(str::to_owned),
    }
}

fn scan(code: &str) -> ScannedCode {
    ScannedCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"))
}

pub async fn product_codes<B: Backend>(b: &B) {
    let s = b.create().await;
    let (d1, d2) = (testkit::device(1), testkit::device(2));
    let (r1, r2) = (
        testkit::record(&d1, 1, HashAlg::Sha256),
        testkit::record(&d2, 2, HashAlg::Sm3),
    );
    s.register_device(r1.clone()).await.unwrap();
    s.register_device(r2.clone()).await.unwrap();

    let unit = testkit::code_template("milk-unit", 1);
    // A GS1 Digital Link template: plain batch and expiry as AIs 10 and 17.
    let mut dl = testkit::code_template("milk-dl", 2);
    dl.fields = vec![
        Field::Batch {
            max_len: 8,
            encrypted: false,
        },
        Field::ExpiryDate { encrypted: false },
    ];
    dl.output = Output::DigitalLink {
        host: "id.example.com".into(),
    };
    dl.code_length = 16;
    let batch = |b: &str, produced: &str, expires: &str| {
        Event::ProductionBatch(ProductionBatch {
            batch: b.into(),
            product: "MILK250".into(),
            produced_on: produced.into(),
            raw_lots: vec![RawLotUse {
                lot: "RL-1".into(),
                material: "生牛乳".into(),
                grams: None,
                count: Some(1),
            }],
            product_code: None,
            gtin: Some("6901234567892".into()),
            expires_on: Some(expires.into()),
            count: Some(10),
            grams: None,
            line: None,
            documents: Vec::new(),
        })
    };
    let events = vec![
        /* 1 */
        Event::ProductUpsert(ProductRecord {
            product_id: "MILK250".into(),
            name: "鲜牛奶 250ml".into(),
            category: None,
            spec: None,
            gtin: Some("6901234567892".into()),
            plu: None,
            unit_price: None,
            price_unit: None,
            shelf_life_days: Some(14),
        }),
        /* 2 */
        Event::CodeTemplate(CodeTemplateSaved {
            template: unit.clone(),
        }),
        /* 3 */ alloc(&unit, 0, 9, "B7"),
        /* 4 */ batch("B7", "2026-11-22", "2026-12-06"),
        /* 5 */
        Event::CodesDisabled(CodesDisabled(toggled(&unit, 3, 5, Some("包装破损")))),
        /* 6 */ Event::CodesEnabled(CodesEnabled(toggled(&unit, 4, 4, None))),
        /* 7 */ alloc(&unit, 10, 14, "B8"),
        /* 8 */
        Event::CodeTemplate(CodeTemplateSaved {
            template: dl.clone(),
        }),
        /* 9 */ alloc(&dl, 0, 2, "B9"),
    ];
    let drafts = events
        .into_iter()
        .zip(1u64..)
        .map(|(e, n)| testkit::event_draft(n, e))
        .collect();
    let chain = testkit::seal_chain(&d1, HashAlg::Sha256, drafts);
    // Live-first: the newest entries arrive before the template they need.
    let o = s.ingest(&d1, chain[4..].to_vec()).await.unwrap();
    assert_eq!((o.stored, o.quarantined), (5, 0));
    let c1 = testkit::product_codec(&r1, &unit);
    let vars = CodeVars {
        production_date: Day::parse("2026-11-22").ok(),
        ..CodeVars::default()
    };
    let codes = c1.for_batch(&vars).unwrap();
    let code0 = codes.code_for(0).unwrap();
    assert!(code0.starts_with("https://trace.example/c/GZ0A"), "{code0}");
    assert_eq!(
        s.product_code(&scan(&code0)).await.unwrap(),
        None,
        "template not synced yet"
    );
    let o = s.ingest(&d1, chain[..4].to_vec()).await.unwrap();
    assert_eq!((o.stored, o.hwm), (4, 9));

    let v = s
        .product_code(&scan(&code0))
        .await
        .unwrap()
        .expect("code 0 resolves");
    assert_eq!(v.device, d1);
    assert_eq!(v.entity, r1.entity);
    assert_eq!(
        (v.template.as_str(), v.level),
        ("milk-unit", CodeLevel::Unit)
    );
    assert_eq!(v.gtin.as_deref(), Some("06901234567892"));
    assert_eq!(v.product_name.as_deref(), Some("鲜牛奶 250ml"));
    assert_eq!(v.batch.as_deref(), Some("B7"));
    assert_eq!(
        v.production_date,
        Day::parse("2026-11-22").ok(),
        "from the code"
    );
    assert_eq!(
        v.expiry_date,
        Day::parse("2026-12-06").ok(),
        "from the batch"
    );
    assert_eq!(
        (v.serial, v.allocated_seq, v.disabled.clone()),
        (0, 3, None)
    );
    assert_eq!(v.token, scan(&code0).token);

    // Typed by hand, lower case with spaces: the same code.
    let typed = scan(&code0).token.to_lowercase();
    let typed = format!("{} {}", &typed[..8], &typed[8..]);
    assert_eq!(s.product_code(&scan(&typed)).await.unwrap(), Some(v));

    // 3 and 5 disabled (with the reason), 4 disabled then enabled again by a later entry.
    let state = |serial: u64| {
        let code = codes.code_for(serial).unwrap();
        let s = &s;
        async move { s.product_code(&scan(&code)).await.unwrap() }
    };
    for serial in [3, 5] {
        let d = state(serial).await.expect("resolves").disabled;
        let d = d.expect("disabled");
        assert_eq!((d.seq, d.reason.as_deref()), (5, Some("包装破损")));
    }
    assert_eq!(state(4).await.expect("resolves").disabled, None);
    assert_eq!(state(2).await.expect("resolves").disabled, None);

    // Batch B8 has no batch record: the name comes from the product library by GTIN.
    let v12 = state(12).await.expect("resolves");
    assert_eq!(v12.batch.as_deref(), Some("B8"));
    assert_eq!(v12.product_name.as_deref(), Some("鲜牛奶 250ml"));
    assert_eq!(v12.expiry_date, None);

    // Never allocated, and forged (a valid check symbol, not issued): the same `None`.
    assert_eq!(state(15).await, None);
    assert_eq!(state(999).await, None);
    let other_key = testkit::product_codec(&testkit::record(&d1, 77, HashAlg::Sha256), &unit);
    let forged = other_key.for_batch(&vars).unwrap().code_for(0).unwrap();
    assert_eq!(s.product_code(&scan(&forged)).await.unwrap(), None);

    // The Digital Link form: batch and expiry from its AIs.
    let dl_vars = CodeVars {
        batch: Some("B9".into()),
        expiry_date: Day::parse("2027-01-31").ok(),
        ..CodeVars::default()
    };
    let dl_code = testkit::product_codec(&r1, &dl)
        .for_batch(&dl_vars)
        .unwrap()
        .code_for(1)
        .unwrap();
    assert!(
        dl_code.starts_with("https://id.example.com/01/06901234567892/10/B9/21/GZ0A"),
        "{dl_code}"
    );
    let v = s
        .product_code(&scan(&dl_code))
        .await
        .unwrap()
        .expect("digital link resolves");
    assert_eq!(
        (v.template.as_str(), v.batch.as_deref(), v.expiry_date),
        ("milk-dl", Some("B9"), Day::parse("2027-01-31").ok())
    );

    // Another box of the same enterprise with the same issuer and template number: each code
    // resolves to the box whose key it was minted with.
    let unit2 = testkit::code_template("milk-unit-line2", 1);
    let chain2 = testkit::seal_chain(
        &d2,
        HashAlg::Sm3,
        vec![
            testkit::event_draft(
                1,
                Event::CodeTemplate(CodeTemplateSaved {
                    template: unit2.clone(),
                }),
            ),
            testkit::event_draft(2, alloc(&unit2, 0, 4, "L2-1")),
        ],
    );
    s.ingest(&d2, chain2).await.unwrap();
    let code_b = testkit::product_codec(&r2, &unit2)
        .for_batch(&vars)
        .unwrap()
        .code_for(0)
        .unwrap();
    let v = s
        .product_code(&scan(&code_b))
        .await
        .unwrap()
        .expect("box 2");
    assert_eq!(
        (&v.device, v.batch.as_deref(), v.product_name.clone()),
        (&d2, Some("L2-1"), None)
    );
    assert_eq!(
        s.product_code(&scan(&code0))
            .await
            .unwrap()
            .map(|v| v.device),
        Some(d1.clone())
    );

    // Enable the rest again (a later entry), and the state survives a restart.
    let more = testkit::seal_chain(
        &d1,
        HashAlg::Sha256,
        chain
            .iter()
            .map(|e| trace_core::EntryDraft {
                id: e.id,
                at: e.at,
                event: e.event.clone(),
            })
            .chain([testkit::event_draft(
                10,
                Event::CodesEnabled(CodesEnabled(toggled(&unit, 0, 9, None))),
            )])
            .collect(),
    );
    assert_eq!(more[..9], chain[..]);
    let o = s.ingest(&d1, more[9..].to_vec()).await.unwrap();
    assert_eq!((o.stored, o.quarantined), (1, 0));
    let s = b.reopen(s).await;
    let code3 = codes.code_for(3).unwrap();
    let v = s
        .product_code(&scan(&code3))
        .await
        .unwrap()
        .expect("resolves");
    assert_eq!(v.disabled, None, "enabled again");
    assert_eq!(
        s.product_code(&scan(&code_b))
            .await
            .unwrap()
            .map(|v| v.device),
        Some(d2)
    );
}
