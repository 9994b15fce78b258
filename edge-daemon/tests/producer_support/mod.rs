//! A realistic producer → two distributors → retailers chain on three boxes, each with its
//! own SQLite ledger file, built through the producer operations.
#![allow(dead_code)]

use edge_daemon::ledger::{Ledger, LedgerOptions};
use edge_daemon::producer::{
    self, CodeFacts, EntityInput, PartnerInput, PartnerRole, ShipmentInput, TableLookup,
};
use std::collections::BTreeMap;
use std::path::Path;
use trace_core::event::{
    CodeLevel, OrderLine, Party, PartyKind, ProductionBatch, RawLotUse, RawMaterialPurchase,
    SalesOrder, SubjectKind,
};
use trace_core::{CreditCode, DeviceId, Grams, HashAlg};

pub const PREFIX: &str = "https://t.baytrace.cn/p/91440101MA5911110H/";
pub const FACTORY_USCC: &str = "91440101MA5911110H";
pub const D1_USCC: &str = "91440106MA5A222202";
pub const D2_USCC: &str = "91440104MA5B33330D";
pub const PRODUCT: &str = "广式腊肠 500g";

pub fn code(s: &str) -> String {
    format!("{PREFIX}{s}")
}

pub fn codes(range: std::ops::RangeInclusive<u32>, level: &str) -> Vec<String> {
    range.map(|i| code(&format!("{level}{i:04}"))).collect()
}

pub fn new_ledger(dir: &Path, device: &str) -> Ledger {
    Ledger::create(
        &dir.join(format!("{device}.sqlite3")),
        DeviceId::new(device.to_owned()).unwrap(),
        HashAlg::Sha256,
        &LedgerOptions::default(),
    )
    .unwrap()
}

pub fn enterprise(name: &str, uscc: &str) -> Party {
    Party {
        kind: Some(PartyKind::Enterprise),
        credit_code: Some(CreditCode::parse(uscc).unwrap()),
        ..Party::named(name)
    }
}

/// The factory's code table: units U0001–U0048 of batch B1, U0101–U0112 of B2; cases C0001–
/// C0004 (B1) and C0011 (B2); the codes module's decoder does this on a real box.
pub fn factory_lookup() -> TableLookup {
    let mut t = TableLookup::new(PREFIX);
    let facts = |level, batch: &str| CodeFacts {
        level,
        product: PRODUCT.into(),
        batch: Some(batch.into()),
        production_date: Some("2026-11-20".into()),
        expiry_date: Some("2027-05-20".into()),
    };
    for c in codes(1..=48, "U") {
        t.insert(c, facts(CodeLevel::Unit, "B1"));
    }
    for c in codes(101..=112, "U") {
        t.insert(c, facts(CodeLevel::Unit, "B2"));
    }
    for c in codes(1..=4, "C") {
        t.insert(c, facts(CodeLevel::Case, "B1"));
    }
    t.insert(code("C0011"), facts(CodeLevel::Case, "B2"));
    t
}

fn raw(lot: &str, material: &str, supplier: &str, grams: i64) -> RawMaterialPurchase {
    RawMaterialPurchase {
        supplier: Party::named(supplier),
        material: material.into(),
        lot: lot.into(),
        material_code: None,
        grams: Some(Grams(grams)),
        count: None,
        amount: None,
        supplier_batch: Some(format!("{lot}-S")),
        production_date: Some("2026-11-18".into()),
        expiry_date: Some("2026-11-25".into()),
        upstream_code: None,
        certificates: vec![],
        documents: vec![],
    }
}

fn batch(batch: &str, lots: &[(&str, &str, i64)], count: u64) -> ProductionBatch {
    ProductionBatch {
        batch: batch.into(),
        product: PRODUCT.into(),
        produced_on: "2026-11-20".into(),
        raw_lots: lots
            .iter()
            .map(|(lot, material, grams)| RawLotUse {
                lot: (*lot).into(),
                material: (*material).into(),
                grams: Some(Grams(*grams)),
                count: None,
            })
            .collect(),
        product_code: None,
        gtin: None,
        expires_on: Some("2027-05-20".into()),
        count: Some(count),
        grams: None,
        line: Some("L1".into()),
        documents: vec![],
    }
}

pub struct Chain {
    pub factory: Ledger,
    pub d1: Ledger,
    pub d2: Ledger,
    /// Every B1 code (units and cases) → the name of where it should be now
    /// (a retailer, a distributor's box id for stock).
    pub expected: BTreeMap<String, String>,
}

/// Sale order `SO-{no}`: `count` units of the product for `to`.
pub fn sales_order(no: &str, to: Party, count: u64) -> SalesOrder {
    SalesOrder {
        order_no: format!("SO-{no}"),
        customer: to,
        ordered_on: "2026-11-21".into(),
        lines: vec![OrderLine {
            product: PRODUCT.into(),
            product_code: None,
            batch: None,
            count: Some(count),
            grams: None,
            production_date: None,
            expiry_date: None,
        }],
        note: None,
    }
}

fn ship_input(no: &str, to: Party, codes: Vec<String>) -> ShipmentInput {
    ShipmentInput {
        shipment_no: no.into(),
        customer: to,
        order_no: Some(format!("SO-{no}")),
        plate_number: Some("粤A12345".into()),
        codes,
    }
}

/// Raw lots → batches → units → cases → two distributors → retailers.
pub fn build(dir: &Path) -> Chain {
    let lookup = factory_lookup();
    let mut f = new_ledger(dir, "factory-gz-01");
    let mut d1 = new_ledger(dir, "dist-sz-01");
    let mut d2 = new_ledger(dir, "dist-hk-01");

    producer::record_entity(
        &mut f,
        EntityInput {
            subject: SubjectKind::Producer,
            name: "广州某腊味食品有限公司".into(),
            credit_code: Some(FACTORY_USCC.into()),
            id_number: None,
            premises_type: Some("生产车间".into()),
            address: Some("广州市白云区".into()),
            legal_rep: Some("李四".into()),
            contact: Some("王五".into()),
            phone: Some("13800001111".into()),
            licence_no: Some("SC10444010100001".into()),
        },
    )
    .unwrap();
    for (id, name, uscc) in [
        ("D1", "深圳甲分销有限公司", D1_USCC),
        ("D2", "香港乙贸易公司", D2_USCC),
    ] {
        producer::upsert_partner(
            &mut f,
            PartnerRole::Customer,
            PartnerInput {
                partner_id: id.into(),
                name: name.into(),
                kind: Some(PartyKind::Enterprise),
                credit_code: Some(uscc.into()),
                ..PartnerInput::default()
            },
        )
        .unwrap();
    }

    // Raw lots; B2 uses a different pork lot, so it must never appear in RL-PORK-01's answer.
    producer::record_raw_purchase(&mut f, raw("RL-PORK-01", "猪后腿肉", "东莞肉联厂", 60_000))
        .unwrap();
    producer::record_raw_purchase(&mut f, raw("RL-CASING-01", "天然肠衣", "肠衣供应商", 2_000))
        .unwrap();
    producer::record_raw_purchase(&mut f, raw("RL-PORK-02", "猪后腿肉", "东莞肉联厂", 20_000))
        .unwrap();
    producer::record_batch(
        &mut f,
        batch(
            "B1",
            &[
                ("RL-PORK-01", "猪后腿肉", 24_000),
                ("RL-CASING-01", "天然肠衣", 500),
            ],
            48,
        ),
    )
    .unwrap();
    producer::record_batch(
        &mut f,
        batch("B2", &[("RL-PORK-02", "猪后腿肉", 6_000)], 12),
    )
    .unwrap();

    // Packing: two cases by scanning, two by count from the line's feed, B2 by scanning.
    let units = codes(1..=48, "U");
    producer::aggregate(
        &mut f,
        &lookup,
        &code("C0001"),
        CodeLevel::Case,
        &units[0..12],
    )
    .unwrap();
    producer::aggregate(
        &mut f,
        &lookup,
        &code("C0002"),
        CodeLevel::Case,
        &units[12..24],
    )
    .unwrap();
    producer::aggregate_by_count(&mut f, &lookup, &code("C0003"), CodeLevel::Case, 12, &units)
        .unwrap();
    producer::aggregate_by_count(&mut f, &lookup, &code("C0004"), CodeLevel::Case, 12, &units)
        .unwrap();
    producer::aggregate(
        &mut f,
        &lookup,
        &code("C0011"),
        CodeLevel::Case,
        &codes(101..=112, "U"),
    )
    .unwrap();

    let d1_party = enterprise("深圳甲分销有限公司", D1_USCC);
    let d2_party = enterprise("香港乙贸易公司", D2_USCC);
    // Each shipment and sale fulfils a sale order (销售单) taken first on the shipping box.
    let order = |l: &mut Ledger, no: &str, to: &Party, n: u64| {
        producer::record_sales_order(l, sales_order(no, to.clone(), n)).unwrap();
    };
    order(&mut f, "S-001", &d1_party, 24);
    order(&mut f, "S-002", &d2_party, 36);
    order(&mut d1, "D1-0001", &Party::named("罗湖某便利店"), 5);
    order(&mut d1, "D1-0002", &Party::named("福田某超市"), 12);
    order(&mut d2, "D2-0001", &Party::named("旺角某士多"), 12);
    order(&mut d2, "D2-0002", &Party::named("铜锣湾某超市"), 12);
    producer::ship(
        &mut f,
        &lookup,
        ship_input("S-001", d1_party, vec![code("C0001"), code("C0002")]),
    )
    .unwrap();
    producer::ship(
        &mut f,
        &lookup,
        ship_input(
            "S-002",
            d2_party,
            vec![code("C0003"), code("C0004"), code("C0011")],
        ),
    )
    .unwrap();

    // The shipment data reaches the distributors' boxes (synced document); they scan in.
    let m1 = producer::manifest(&f, "S-001").unwrap();
    let m2 = producer::manifest(&f, "S-002").unwrap();
    let manifests = [m1, m2];
    producer::receive_by_scan(&mut d1, &manifests, &[code("C0001"), code("C0002")]).unwrap();
    producer::receive_by_scan(
        &mut d2,
        &manifests,
        &[code("C0003"), code("C0004"), code("C0011")],
    )
    .unwrap();

    // D1: five single units out of C0001 to a retailer, C0002 whole to another.
    let mut expected = BTreeMap::new();
    let r1 = units[0..5].to_vec();
    producer::sell(
        &mut d1,
        ship_input("D1-0001", Party::named("罗湖某便利店"), r1.clone()),
    )
    .unwrap();
    producer::sell(
        &mut d1,
        ship_input("D1-0002", Party::named("福田某超市"), vec![code("C0002")]),
    )
    .unwrap();
    // D2: C0003 whole to one retailer, every unit of C0004 singly to another; C0011 stays.
    producer::sell(
        &mut d2,
        ship_input("D2-0001", Party::named("旺角某士多"), vec![code("C0003")]),
    )
    .unwrap();
    let c4_units = units[36..48].to_vec();
    producer::sell(
        &mut d2,
        ship_input("D2-0002", Party::named("铜锣湾某超市"), c4_units.clone()),
    )
    .unwrap();

    for u in &r1 {
        expected.insert(u.clone(), "罗湖某便利店".to_owned());
    }
    for u in &units[5..12] {
        expected.insert(u.clone(), "dist-sz-01".to_owned());
    }
    expected.insert(code("C0001"), "dist-sz-01".to_owned());
    for u in units[12..24].iter().chain([&code("C0002")]) {
        expected.insert(u.clone(), "福田某超市".to_owned());
    }
    for u in units[24..36].iter().chain([&code("C0003")]) {
        expected.insert(u.clone(), "旺角某士多".to_owned());
    }
    for u in &c4_units {
        expected.insert(u.clone(), "铜锣湾某超市".to_owned());
    }
    // C0004 itself was opened unit by unit: the empty case stays at D2.
    expected.insert(code("C0004"), "dist-hk-01".to_owned());
    Chain {
        factory: f,
        d1,
        d2,
        expected,
    }
}
