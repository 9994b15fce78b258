//! Market-stall events (食用农产品 standard §4.3): purchase, sale ticket, scale weighing,
//! income/expense, credit repayment.

use super::common::{BlobRef, Certificate, Fee, Party, PaymentMethod};
use super::error::{self as check, EventError};
use crate::ids::RegionCode;
use crate::units::{Fen, Grams, PriceError, PriceUnit, Quantity, line_amount};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    pub product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    pub unit_price: Fen,
    pub price_unit: PriceUnit,
    pub amount: Fen,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// Origin shown to the consumer who scans the receipt (产地).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl SaleLine {
    /// What `amount` is when nobody overrode it: `unit_price × quantity` rounded half-up to the
    /// fen (see [`crate::units::line_amount`]).
    pub fn priced_amount(&self) -> Result<Fen, PriceError> {
        let qty = match self.price_unit {
            PriceUnit::Item => Quantity::Count(self.count.unwrap_or(0)),
            PriceUnit::Jin | PriceUnit::Kg => Quantity::Weight(self.grams.unwrap_or_default()),
        };
        line_amount(self.unit_price, self.price_unit, qty)
    }

    fn validate(&self, field: &str) -> Result<(), EventError> {
        check::non_empty(&format!("{field}.product"), &self.product)?;
        check::opt_grams(&format!("{field}.grams"), self.grams)?;
        check::non_negative(&format!("{field}.unit_price"), self.unit_price.0)?;
        let needs = match self.price_unit {
            PriceUnit::Item if self.count.is_none() => Some("a count"),
            PriceUnit::Jin | PriceUnit::Kg if self.grams.is_none() => Some("a weight"),
            _ => None,
        };
        if let Some(needs) = needs {
            return Err(EventError::MissingQuantity {
                field: field.to_owned(),
                needs,
            });
        }
        Ok(())
    }
}

/// 销售开单: a sale ticket with its trace code. `total = Σ line amounts + Σ fees`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleTicket {
    /// The 20-digit ticket trace code printed on the receipt.
    pub ticket_code: String,
    pub lines: Vec<SaleLine>,
    pub total: Fen,
    pub payment: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<String>,
    /// The buyer's customer record, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fees: Vec<Fee>,
}

impl SaleTicket {
    /// The ticket code, parsed (for decoding its counter or printing it grouped).
    pub fn code(&self) -> Result<crate::ticket::TicketCode, crate::ticket::TicketCodeError> {
        crate::ticket::TicketCode::parse(&self.ticket_code)
    }

    pub fn validate(&self) -> Result<(), EventError> {
        self.code()?;
        check::non_empty_list("lines", &self.lines)?;
        let mut sum: i128 = 0;
        for (i, line) in self.lines.iter().enumerate() {
            line.validate(&format!("lines[{i}]"))?;
            sum += i128::from(line.amount.0);
        }
        for (i, fee) in self.fees.iter().enumerate() {
            check::non_empty(&format!("fees[{i}].name"), &fee.name)?;
            sum += i128::from(fee.amount.0);
        }
        let expected = i64::try_from(sum).map(Fen).unwrap_or(Fen(i64::MAX));
        if i128::from(self.total.0) != sum {
            return Err(EventError::TotalMismatch {
                expected,
                found: self.total,
            });
        }
        check::non_negative("total", self.total.0)?;
        if self.payment == PaymentMethod::Credit
            && self.buyer.as_deref().is_none_or(|b| b.trim().is_empty())
        {
            return Err(EventError::CreditNeedsBuyer);
        }
        Ok(())
    }
}

/// 进货: goods into the stall's stock (standard §4.3.2: 进货凭证, 批次, 车牌号, 产地, 数量, 重量, 价格).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub supplier: String,
    pub product: String,
    pub batch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<Grams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    pub amount: Fen,
    /// Origin as written (`广东省-广州市-从化区`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The upstream seller's trace code (scanned ticket or certificate QR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_code: Option<String>,
    /// GB/T 2260 code of the origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_code: Option<RegionCode>,
    /// The supplier's record and identity, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_party: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Fen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_unit: Option<PriceUnit>,
    /// 车牌号 of the delivering vehicle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_number: Option<String>,
    /// 进货凭证: photos of delivery notes, invoices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vouchers: Vec<BlobRef>,
    /// 承诺达标合格证, 检疫证明, … numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<Certificate>,
}

impl Purchase {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("supplier", &self.supplier)?;
        check::non_empty("product", &self.product)?;
        check::non_empty("batch", &self.batch)?;
        check::some_quantity("quantity", self.grams, self.count)?;
        check::non_negative("amount", self.amount.0)?;
        if let Some(p) = self.unit_price {
            check::non_negative("unit_price", p.0)?;
        }
        for (i, c) in self.certificates.iter().enumerate() {
            check::non_empty(&format!("certificates[{i}].number"), &c.number)?;
        }
        Ok(())
    }
}

/// A stable reading taken from the scale (电子秤集成), kept even when no sale follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weighing {
    pub gross: Grams,
    pub tare: Grams,
    pub net: Grams,
    pub stable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The scale key (PLU) pressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plu: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Fen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_unit: Option<PriceUnit>,
    /// Which scale, when the box has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<String>,
}

impl Weighing {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_negative("gross", self.gross.0)?;
        check::non_negative("tare", self.tare.0)?;
        check::non_negative("net", self.net.0)?;
        if self.gross.0.checked_sub(self.tare.0) != Some(self.net.0) {
            return Err(EventError::NetWeight {
                gross: self.gross,
                tare: self.tare,
                net: self.net,
            });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CashDirection {
    Income,
    Expense,
}

/// 收支: a cash movement outside sales and purchases (rent, wages, a refund received, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeExpense {
    pub direction: CashDirection,
    pub category: String,
    /// Always positive; the direction gives the sign.
    pub amount: Fen,
    pub payment: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vouchers: Vec<BlobRef>,
}

impl IncomeExpense {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("category", &self.category)?;
        check::positive("amount", self.amount.0)
    }
}

/// 还款: a customer pays back (part of) what they owe from credit sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repayment {
    pub customer: String,
    pub amount: Fen,
    pub payment: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The credit tickets this settles, when the merchant says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ticket_codes: Vec<String>,
}

impl Repayment {
    pub fn validate(&self) -> Result<(), EventError> {
        check::non_empty("customer", &self.customer)?;
        check::positive("amount", self.amount.0)?;
        if self.payment == PaymentMethod::Credit {
            return Err(EventError::RepaymentOnCredit);
        }
        for code in &self.ticket_codes {
            crate::ticket::TicketCode::parse(code)?;
        }
        Ok(())
    }
}
