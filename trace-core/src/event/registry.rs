//! Registration and master data: the stall or enterprise itself (主体备案 / 档口管理), login
//! accounts, and the merchant's records of staff, products, suppliers and customers (个人信息,
//! 往来主体管理). Records are upserted whole and removed by id, so the current state of a record
//! is the last upsert not followed by a removal.

use super::common::{BlobRef, PartyKind};
use super::error::{self as check, EventError};
use crate::ids::{CreditCode, RegionCode, ResidentId};
use crate::units::{Fen, PriceUnit};
use serde::{Deserialize, Serialize};

/// What kind of operator registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A market stall (档口).
    Stall,
    MarketOperator,
    Wholesaler,
    Retailer,
    Producer,
    Distributor,
}

/// 主体备案 / 档口登记: the identity of the operator behind this box. A later registration
/// entry supersedes an earlier one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub subject: SubjectKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<CreditCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<ResidentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_rep: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
    /// 营业执照 / 食品经营许可证 number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    /// 档口编号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_no: Option<String>,
    /// 档口区域 / 档口类型.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_area: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_type: Option<String>,
    /// 档口合同编号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_no: Option<String>,
    /// 经营范围.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_scope: Option<String>,
    /// 食品安全承诺书 and licence photos.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<BlobRef>,
}

impl Registration {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("name", &self.name)?;
        if self.credit_code.is_none() && self.id_number.is_none() {
            return Err(EventError::NoIdentity);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Manager,
    Cashier,
    Operator,
    Inspector,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountAction {
    Created,
    RoleChanged,
    Disabled,
    Enabled,
    PasswordReset,
}

/// A change to a login account on the box (audit trail for GB/T 22239 level 2). Never holds
/// a password or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChange {
    pub account: String,
    pub action: AccountAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    /// Who made the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl AccountChange {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("account", &self.account)?;
        if matches!(
            self.action,
            AccountAction::Created | AccountAction::RoleChanged
        ) && self.role.is_none()
        {
            return Err(EventError::Empty {
                field: "role".into(),
            });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRecord {
    pub staff_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// 健康证 number and its expiry (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_cert_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_cert_expires: Option<String>,
}

impl StaffRecord {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("staff_id", &self.staff_id)?;
        check::non_empty("name", &self.name)?;
        check::opt_date("health_cert_expires", &self.health_cert_expires)
    }
}

/// 主营产品 / 商品: what the merchant sells, with its scale key and default price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRecord {
    pub product_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plu: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Fen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_unit: Option<PriceUnit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelf_life_days: Option<u32>,
}

impl ProductRecord {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("product_id", &self.product_id)?;
        check::non_empty("name", &self.name)?;
        if let Some(p) = self.unit_price {
            check::non_negative("unit_price", p.0)?;
        }
        Ok(())
    }
}

/// A supplier or customer (往来主体): enterprise with 统一社会信用代码, or person with 身份证号.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRecord {
    pub partner_id: String,
    pub name: String,
    pub kind: PartyKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<CreditCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<ResidentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_rep: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_no: Option<String>,
}

impl PartnerRecord {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("partner_id", &self.partner_id)?;
        check::non_empty("name", &self.name)?;
        match self.kind {
            PartyKind::Enterprise if self.id_number.is_some() => Err(EventError::Contradiction {
                field: "id_number".into(),
                value: "enterprise".into(),
                what: "personal id on an enterprise",
            }),
            PartyKind::Person if self.credit_code.is_some() => Err(EventError::Contradiction {
                field: "credit_code".into(),
                value: "person".into(),
                what: "credit code on a person",
            }),
            _ => Ok(()),
        }
    }
}

/// Removal of a staff/product/supplier/customer record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRemoved {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RecordRemoved {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("id", &self.id)
    }
}
