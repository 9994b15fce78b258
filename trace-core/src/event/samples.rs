//! One well-formed example of every event kind, for tests across the crate.
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

pub(crate) fn line(product: &str, grams: i64, unit_price: i64, amount: i64) -> SaleLine {
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

pub(crate) fn purchase() -> Purchase {
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

pub(crate) fn partner() -> PartnerRecord {
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
        codes: vec![],
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
            batch: None,
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
            contents: vec![],
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
        CodeTemplateSaved {
            template: crate::product_code::Template {
                id: "milk-unit".into(),
                issuer: "GZ0A".into(),
                number: 1,
                level: CodeLevel::Unit,
                gtin: Some("6901234567892".into()),
                product_code: None,
                fields: vec![crate::product_code::Field::Batch {
                    max_len: 10,
                    encrypted: false,
                }],
                serial_capacity: 1_000_000,
                code_length: 16,
                cipher: crate::product_code::CipherKind::Sm4,
                output: crate::product_code::Output::DigitalLink {
                    host: "id.example.com".into(),
                },
            },
        }
        .into(),
        CodesDisabled(CodesToggled {
            pool: "unit".into(),
            ranges: vec![CodeRange { first: 7, last: 9 }],
            reason: Some("标签破损".into()),
        })
        .into(),
        CodesEnabled(CodesToggled {
            pool: "unit".into(),
            ranges: vec![CodeRange { first: 8, last: 8 }],
            reason: None,
        })
        .into(),
        SaleAttribution {
            sale_seq: 9,
            line: 0,
            lots: vec![
                LotShare {
                    purchase_seq: 2,
                    grams: Some(Grams(300)),
                    count: None,
                },
                LotShare {
                    purchase_seq: 5,
                    grams: Some(Grams(512)),
                    count: None,
                },
            ],
            reason: Some("先卖了新到的货".into()),
        }
        .into(),
        CashCategory {
            direction: CashDirection::Expense,
            name: "冰块".into(),
            removed: false,
        }
        .into(),
        SalesOrder {
            order_no: "SO-1".into(),
            customer: Party::named("某超市"),
            ordered_on: "2026-11-21".into(),
            lines: vec![OrderLine {
                product: "腊肠 500g".into(),
                product_code: None,
                batch: None,
                count: Some(24),
                grams: None,
                production_date: None,
                expiry_date: None,
            }],
            note: None,
        }
        .into(),
    ]
}
