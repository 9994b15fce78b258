//! Producer master data and records: raw material purchases (§4.2.1), production batches
//! (§4.2.2), the entity record (§4.2.8), main products (§4.2.9), partners (§4.2.10).
//!
//! Identity numbers come in as typed text and are parsed here (GB 32100 check character,
//! GB 11643 check digit and birth date), so a mistyped 统一社会信用代码 or 身份证号 is refused
//! with the position or check character at fault. Views for screens and output mask 身份证号 and
//! phone numbers.

use super::ProducerError;
use super::query::{batch_seq, entries_of, lot_seq};
use crate::ledger::Ledger;
use serde::Serialize;
use std::collections::BTreeMap;
use trace_core::event::{
    CustomerRemove, CustomerUpsert, PartnerRecord, PartyKind, ProductRecord, ProductionBatch,
    RawMaterialPurchase, RecordRemoved, Registration, SubjectKind, SupplierRemove, SupplierUpsert,
};
use trace_core::ids::mask_phone;
use trace_core::{CreditCode, Entry, EntryDraft, Event, RegionCode, ResidentId};

/// Validate every event, then append them in one transaction: all or nothing.
pub(crate) fn append_all(
    ledger: &mut Ledger,
    events: Vec<Event>,
) -> Result<Vec<Entry>, ProducerError> {
    for e in &events {
        e.validate()?;
    }
    Ok(ledger.append_batch(events.into_iter().map(EntryDraft::new).collect())?)
}

fn one(ledger: &mut Ledger, e: impl Into<Event>) -> Result<Entry, ProducerError> {
    let mut v = append_all(ledger, vec![e.into()])?;
    v.pop()
        .ok_or_else(|| ProducerError::Missing("no entry appended".into()))
}

/// 原料采购: a raw lot received. The lot number is unique on the box.
pub fn record_raw_purchase(
    ledger: &mut Ledger,
    p: RawMaterialPurchase,
) -> Result<Entry, ProducerError> {
    p.validate()?;
    if let Some(seq) = lot_seq(ledger, &p.lot)? {
        return Err(ProducerError::Duplicate {
            what: "raw lot",
            name: p.lot,
            seq,
        });
    }
    one(ledger, p)
}

/// 生产批次: every raw lot it names must have been received on this box.
pub fn record_batch(ledger: &mut Ledger, b: ProductionBatch) -> Result<Entry, ProducerError> {
    b.validate()?;
    if let Some(seq) = batch_seq(ledger, &b.batch)? {
        return Err(ProducerError::Duplicate {
            what: "batch",
            name: b.batch,
            seq,
        });
    }
    for l in &b.raw_lots {
        if lot_seq(ledger, &l.lot)?.is_none() {
            return Err(ProducerError::Unknown {
                what: "raw lot",
                name: l.lot.clone(),
            });
        }
    }
    one(ledger, b)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerRole {
    Supplier,
    Customer,
}

/// A partner as typed on the screen: identity numbers still text.
#[derive(Debug, Clone, Default)]
pub struct PartnerInput {
    pub partner_id: String,
    pub name: String,
    /// `None` is refused: an enterprise or a person.
    pub kind: Option<PartyKind>,
    pub credit_code: Option<String>,
    pub id_number: Option<String>,
    pub legal_rep: Option<String>,
    pub contact: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub region: Option<RegionCode>,
}

fn parse_credit(s: Option<&str>) -> Result<Option<CreditCode>, ProducerError> {
    s.map(|c| {
        CreditCode::parse(c).map_err(|source| ProducerError::InvalidId {
            field: "credit_code (统一社会信用代码)",
            source,
        })
    })
    .transpose()
}

fn parse_resident(s: Option<&str>) -> Result<Option<ResidentId>, ProducerError> {
    s.map(|c| {
        ResidentId::parse(c).map_err(|source| ProducerError::InvalidId {
            field: "id_number (身份证号)",
            source,
        })
    })
    .transpose()
}

/// 往来主体: an enterprise needs its 统一社会信用代码, a person their 身份证号.
pub fn upsert_partner(
    ledger: &mut Ledger,
    role: PartnerRole,
    p: PartnerInput,
) -> Result<Entry, ProducerError> {
    let kind = p
        .kind
        .ok_or_else(|| ProducerError::Missing("partner kind: enterprise or person".into()))?;
    let credit_code = parse_credit(p.credit_code.as_deref())?;
    let id_number = parse_resident(p.id_number.as_deref())?;
    match kind {
        PartyKind::Enterprise if credit_code.is_none() => {
            return Err(ProducerError::Missing(
                "an enterprise partner needs its 统一社会信用代码 (credit_code)".into(),
            ));
        }
        PartyKind::Person if id_number.is_none() => {
            return Err(ProducerError::Missing(
                "a person partner needs their 身份证号 (id_number)".into(),
            ));
        }
        _ => {}
    }
    let rec = PartnerRecord {
        partner_id: p.partner_id,
        name: p.name,
        kind,
        credit_code,
        id_number,
        legal_rep: p.legal_rep,
        contact: p.contact,
        phone: p.phone,
        address: p.address,
        region: p.region,
        licence_no: None,
    };
    match role {
        PartnerRole::Supplier => one(ledger, SupplierUpsert(rec)),
        PartnerRole::Customer => one(ledger, CustomerUpsert(rec)),
    }
}

/// A partner as shown on a screen or printed: 身份证号 and phone masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartnerView {
    pub role: PartnerRole,
    pub partner_id: String,
    pub name: String,
    pub kind: PartyKind,
    pub credit_code: Option<CreditCode>,
    pub id_number: Option<String>,
    pub legal_rep: Option<String>,
    pub contact: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl PartnerView {
    fn new(role: PartnerRole, r: PartnerRecord) -> PartnerView {
        PartnerView {
            role,
            partner_id: r.partner_id,
            name: r.name,
            kind: r.kind,
            credit_code: r.credit_code,
            id_number: r.id_number.map(|i| i.masked()),
            legal_rep: r.legal_rep,
            contact: r.contact,
            phone: r.phone.as_deref().map(mask_phone),
            address: r.address,
        }
    }
}

/// Current partners: the last upsert of each not followed by its removal.
pub fn partners(ledger: &Ledger) -> Result<Vec<PartnerView>, ProducerError> {
    let mut cur: BTreeMap<(u8, String), PartnerView> = BTreeMap::new();
    let kinds = [
        "supplier_upsert",
        "supplier_remove",
        "customer_upsert",
        "customer_remove",
    ];
    for e in entries_of(ledger, &kinds)? {
        match e.event {
            Event::SupplierUpsert(SupplierUpsert(r)) => {
                cur.insert(
                    (0, r.partner_id.clone()),
                    PartnerView::new(PartnerRole::Supplier, r),
                );
            }
            Event::CustomerUpsert(CustomerUpsert(r)) => {
                cur.insert(
                    (1, r.partner_id.clone()),
                    PartnerView::new(PartnerRole::Customer, r),
                );
            }
            Event::SupplierRemove(SupplierRemove(r)) => {
                cur.remove(&(0, r.id));
            }
            Event::CustomerRemove(CustomerRemove(r)) => {
                cur.remove(&(1, r.id));
            }
            _ => {}
        }
    }
    Ok(cur.into_values().collect())
}

/// 主体备案信息 as typed (§4.2.8: 企业名称, 场所类型, 统一信用代码/身份证, 住所, 法人, 联系人, 联系方式).
#[derive(Debug, Clone)]
pub struct EntityInput {
    pub subject: SubjectKind,
    pub name: String,
    pub credit_code: Option<String>,
    pub id_number: Option<String>,
    /// 场所类型 (factory, warehouse, shop …).
    pub premises_type: Option<String>,
    pub address: Option<String>,
    pub legal_rep: Option<String>,
    pub contact: Option<String>,
    pub phone: Option<String>,
    pub licence_no: Option<String>,
}

/// Record (or update: a later registration supersedes) the entity behind this box.
pub fn record_entity(ledger: &mut Ledger, e: EntityInput) -> Result<Entry, ProducerError> {
    let reg = Registration {
        subject: e.subject,
        name: e.name,
        credit_code: parse_credit(e.credit_code.as_deref())?,
        id_number: parse_resident(e.id_number.as_deref())?,
        legal_rep: e.legal_rep,
        contact: e.contact,
        phone: e.phone,
        address: e.address,
        region: None,
        licence_no: e.licence_no,
        market: None,
        stall_no: None,
        stall_area: None,
        stall_type: e.premises_type,
        contract_no: None,
        business_scope: None,
        documents: vec![],
    };
    one(ledger, reg)
}

/// The current entity record (the last registration), for display: numbers masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityView {
    pub subject: SubjectKind,
    pub name: String,
    pub credit_code: Option<CreditCode>,
    pub id_number: Option<String>,
    pub premises_type: Option<String>,
    pub address: Option<String>,
    pub legal_rep: Option<String>,
    pub contact: Option<String>,
    pub phone: Option<String>,
}

pub fn entity_record(ledger: &Ledger) -> Result<Option<EntityView>, ProducerError> {
    Ok(entries_of(ledger, &["registration"])?
        .into_iter()
        .filter_map(|e| match e.event {
            Event::Registration(r) => Some(r),
            _ => None,
        })
        .next_back()
        .map(|r| EntityView {
            subject: r.subject,
            name: r.name,
            credit_code: r.credit_code,
            id_number: r.id_number.map(|i| i.masked()),
            premises_type: r.stall_type,
            address: r.address,
            legal_rep: r.legal_rep,
            contact: r.contact,
            phone: r.phone.as_deref().map(mask_phone),
        }))
}

/// 主营品种: a product chosen from the product library joins the enterprise's list.
pub fn add_main_product(ledger: &mut Ledger, p: ProductRecord) -> Result<Entry, ProducerError> {
    one(ledger, p)
}

/// Remove a product from the main products.
pub fn remove_main_product(ledger: &mut Ledger, product_id: &str) -> Result<Entry, ProducerError> {
    if !main_products(ledger)?
        .iter()
        .any(|p| p.product_id == product_id)
    {
        return Err(ProducerError::Unknown {
            what: "main product",
            name: product_id.to_owned(),
        });
    }
    one(
        ledger,
        trace_core::event::ProductRemove(RecordRemoved {
            id: product_id.to_owned(),
            reason: None,
        }),
    )
}

/// The current main products, by id.
pub fn main_products(ledger: &Ledger) -> Result<Vec<ProductRecord>, ProducerError> {
    let mut cur = BTreeMap::new();
    for e in entries_of(ledger, &["product_upsert", "product_remove"])? {
        match e.event {
            Event::ProductUpsert(p) => {
                cur.insert(p.product_id.clone(), p);
            }
            Event::ProductRemove(r) => {
                cur.remove(&r.0.id);
            }
            _ => {}
        }
    }
    Ok(cur.into_values().collect())
}
