//! Producer master data on a real ledger file: the entity record (§4.2.8) is superseded by a
//! later one and shown masked; main products (§4.2.9) are added and removed; a production
//! batch must name raw lots this box received; raw lot and batch numbers are unique.

mod producer_support;

use edge_daemon::producer::{self, EntityInput, ProducerError};
use producer_support::{FACTORY_USCC, new_ledger};
use trace_core::Grams;
use trace_core::event::{
    Party, ProductRecord, ProductionBatch, RawLotUse, RawMaterialPurchase, SubjectKind,
};

fn entity(name: &str, phone: &str) -> EntityInput {
    EntityInput {
        subject: SubjectKind::Producer,
        name: name.into(),
        credit_code: Some(FACTORY_USCC.to_lowercase()),
        id_number: None,
        premises_type: Some("生产车间".into()),
        address: Some("广州市白云区".into()),
        legal_rep: Some("李四".into()),
        contact: Some("王五".into()),
        phone: Some(phone.into()),
        licence_no: None,
    }
}

#[test]
fn entity_record_and_main_products() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = new_ledger(dir.path(), "factory-rec-01");
    assert_eq!(producer::entity_record(&l).unwrap(), None);
    producer::record_entity(&mut l, entity("旧名称食品厂", "13800001111")).unwrap();
    producer::record_entity(&mut l, entity("广州某腊味食品有限公司", "13900002222")).unwrap();
    let e = producer::entity_record(&l).unwrap().unwrap();
    assert_eq!(e.name, "广州某腊味食品有限公司");
    assert_eq!(
        e.credit_code.unwrap().as_str(),
        FACTORY_USCC,
        "typed lowercase, stored normalised"
    );
    assert_eq!(e.phone.as_deref(), Some("139****2222"));

    let product = |id: &str, name: &str| ProductRecord {
        product_id: id.into(),
        name: name.into(),
        category: Some("肉制品".into()),
        spec: Some("500g".into()),
        gtin: None,
        plu: None,
        unit_price: None,
        price_unit: None,
        shelf_life_days: Some(180),
    };
    producer::add_main_product(&mut l, product("P-001", "广式腊肠")).unwrap();
    producer::add_main_product(&mut l, product("P-002", "腊肉")).unwrap();
    producer::add_main_product(&mut l, product("P-001", "广式腊肠 500g")).unwrap();
    producer::remove_main_product(&mut l, "P-002").unwrap();
    let names: Vec<String> = producer::main_products(&l)
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["广式腊肠 500g"]);
    let head = l.head().unwrap().seq;
    assert!(matches!(
        producer::remove_main_product(&mut l, "P-002").unwrap_err(),
        ProducerError::Unknown { .. }
    ));
    assert_eq!(l.head().unwrap().seq, head);
}

#[test]
fn batches_need_received_raw_lots_and_numbers_are_unique() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = new_ledger(dir.path(), "factory-rec-02");
    let raw = RawMaterialPurchase {
        supplier: Party::named("东莞肉联厂"),
        material: "猪后腿肉".into(),
        lot: "RL-1".into(),
        material_code: None,
        grams: Some(Grams(10_000)),
        count: None,
        amount: None,
        supplier_batch: None,
        production_date: Some("2026-11-18".into()),
        expiry_date: Some("2026-11-25".into()),
        upstream_code: None,
        certificates: vec![],
        documents: vec![],
    };
    producer::record_raw_purchase(&mut l, raw.clone()).unwrap();
    let e = producer::record_raw_purchase(&mut l, raw).unwrap_err();
    assert!(
        matches!(
            e,
            ProducerError::Duplicate {
                what: "raw lot",
                seq: 1,
                ..
            }
        ),
        "{e}"
    );
    let batch = |lot: &str| ProductionBatch {
        batch: "B1".into(),
        product: "广式腊肠".into(),
        produced_on: "2026-11-20".into(),
        raw_lots: vec![RawLotUse {
            lot: lot.into(),
            material: "猪后腿肉".into(),
            grams: Some(Grams(4_000)),
            count: None,
        }],
        product_code: None,
        gtin: None,
        expires_on: None,
        count: Some(20),
        grams: None,
        line: None,
        documents: vec![],
    };
    let head = l.head().unwrap().seq;
    let e = producer::record_batch(&mut l, batch("RL-404")).unwrap_err();
    assert!(
        matches!(&e, ProducerError::Unknown { what: "raw lot", name } if name == "RL-404"),
        "{e}"
    );
    let mut bad = batch("RL-1");
    bad.produced_on = "2026-13-01".into();
    assert!(matches!(
        producer::record_batch(&mut l, bad).unwrap_err(),
        ProducerError::Event(_)
    ));
    assert_eq!(l.head().unwrap().seq, head);
    producer::record_batch(&mut l, batch("RL-1")).unwrap();
    assert!(matches!(
        producer::record_batch(&mut l, batch("RL-1")).unwrap_err(),
        ProducerError::Duplicate { what: "batch", .. }
    ));
    // The raw lot's history: received, then drawn by the batch.
    let m: Vec<(String, i64)> = producer::moves(&l, "猪后腿肉", "RL-1")
        .unwrap()
        .into_iter()
        .map(|m| (m.kind, m.grams))
        .collect();
    assert_eq!(m, [("raw_in".into(), 10_000), ("raw_used".into(), -4_000)]);
}
