//! Building blocks shared by several event kinds: parties, certificates, attachments, fees.
//!
//! Field names here are part of the hash contract like everything in `event`: add optional fields,
//! never rename.

use crate::hash::Digest;
use crate::ids::{CreditCode, RegionCode, ResidentId};
use crate::units::Fen;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    WechatPay,
    Alipay,
    /// 赊账: needs a buyer.
    Credit,
    Other,
}

/// A photo or document stored beside the ledger, referenced by content hash (SHA-256 of the
/// bytes), so the entry's hash also pins the attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    pub digest: Digest,
    /// `image/jpeg`, `application/pdf`, …
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Kinds of accompanying certificates the market and food-safety rules ask to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateKind {
    /// 承诺达标合格证 (mandatory for listed agricultural products from 2026-02-01).
    ComplianceCertificate,
    /// 动物检疫合格证明.
    AnimalQuarantine,
    /// 肉品品质检验合格证.
    MeatInspection,
    /// 入境货物检验检疫证明 (imports).
    EntryInspection,
    /// A test report (自检 / 委托检测).
    TestReport,
    /// 产地证明 or a certificate not listed here.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub kind: CertificateKind,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<BlobRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    Enterprise,
    Person,
}

/// A counterparty as recorded on a document (supplier, customer, consignee). `partner_id`
/// points at the supplier/customer record when there is one; the other fields are what the
/// document said at the time, kept even if the record changes later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PartyKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<CreditCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<ResidentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
}

impl Party {
    /// A party known only by name.
    pub fn named(name: impl Into<String>) -> Party {
        Party {
            name: name.into(),
            partner_id: None,
            kind: None,
            credit_code: None,
            id_number: None,
            phone: None,
            address: None,
            region: None,
        }
    }
}

/// An extra charge on a sale ticket (额外费用: 加工费, 运费, …); negative for a discount (抹零).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub name: String,
    pub amount: Fen,
}

/// Pass/fail of a test or inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}
