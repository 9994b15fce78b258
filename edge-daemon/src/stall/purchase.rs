//! 进货: the purchase form → a validated purchase entry (standard §4.3.2).

use super::product::find;
use super::{FieldError, MAX_PURCHASE_GRAMS, MAX_UNIT_PRICE, Product};
use serde::Deserialize;
use trace_core::event::{BlobRef, Certificate, CertificateKind, Purchase};
use trace_core::units::WeightUnit;
use trace_core::{Fen, Grams, PriceUnit, RegionCode};

#[derive(Debug, Clone, Deserialize)]
pub struct CertInput {
    pub kind: CertificateKind,
    pub number: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PurchaseInput {
    pub supplier: String,
    #[serde(default)]
    pub supplier_id: Option<String>,
    pub product: String,
    pub batch: String,
    #[serde(default)]
    pub plate_number: Option<String>,
    /// GB/T 2260 code of the origin (6 digits).
    #[serde(default)]
    pub origin_code: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub count: Option<i64>,
    #[serde(default)]
    pub grams: Option<i64>,
    /// Weight as typed, kg (the form's field); wins over `grams`.
    #[serde(default)]
    pub weight: Option<String>,
    /// 元 per `price_unit`, as typed.
    #[serde(default)]
    pub unit_price: Option<String>,
    #[serde(default)]
    pub price_unit: Option<PriceUnit>,
    /// Total paid, 元 as typed; computed from the unit price when empty.
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub certificates: Vec<CertInput>,
    #[serde(default)]
    pub upstream_code: Option<String>,
    /// Photos already stored by the upload endpoint.
    #[serde(skip)]
    pub vouchers: Vec<BlobRef>,
}

/// Certificate numbers as issued: 6–40 letters, digits and `-`, at least four digits.
pub fn valid_certificate_number(n: &str) -> bool {
    let n = n.trim();
    (6..=40).contains(&n.len())
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && n.chars().filter(char::is_ascii_digit).count() >= 4
}

fn opt(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub fn build(input: &PurchaseInput, products: &[Product]) -> Result<Purchase, Vec<FieldError>> {
    let mut errs = Vec::new();
    let supplier = input.supplier.trim();
    if supplier.is_empty() {
        errs.push(FieldError::new("supplier", "err_required"));
    }
    let product = find(products, input.product.trim());
    if product.is_none() {
        errs.push(FieldError::new("product", "err_unknown_product").with(&input.product));
    }
    let batch = input.batch.trim();
    if batch.is_empty() {
        errs.push(FieldError::new("batch", "err_required"));
    }
    let typed = match opt(&input.weight) {
        Some(w) => Some(Grams::parse_in(w, WeightUnit::Kg).map(|g| g.0)),
        None => input.grams.map(Ok),
    };
    let grams = match typed {
        None => None,
        Some(Ok(g)) if (1..=MAX_PURCHASE_GRAMS).contains(&g) => Some(Grams(g)),
        Some(Err(_)) => {
            errs.push(FieldError::new("grams", "err_weight_format"));
            None
        }
        Some(Ok(_)) => {
            errs.push(
                FieldError::new("grams", "err_weight_range")
                    .with(Grams(MAX_PURCHASE_GRAMS).kg_string()),
            );
            None
        }
    };
    let count = match input.count {
        None => None,
        Some(c) if (1..=1_000_000).contains(&c) => u32::try_from(c).ok(),
        Some(_) => {
            errs.push(FieldError::new("count", "err_count_range").with("1000000"));
            None
        }
    };
    if typed.is_none() && input.count.is_none() {
        errs.push(FieldError::new("grams", "err_quantity_needed"));
    }
    let unit = input
        .price_unit
        .or(product.map(|p| p.unit))
        .unwrap_or(PriceUnit::Jin);
    let unit_price = match opt(&input.unit_price) {
        None => None,
        Some(t) => match Fen::parse_yuan(t) {
            Ok(v) if v.0 <= MAX_UNIT_PRICE => Some(v),
            Ok(_) => {
                errs.push(
                    FieldError::new("unit_price", "err_price_range")
                        .with(Fen(MAX_UNIT_PRICE).yuan_string()),
                );
                None
            }
            Err(_) => {
                errs.push(FieldError::new("unit_price", "err_price_format"));
                None
            }
        },
    };
    let amount = match opt(&input.amount) {
        Some(t) => match Fen::parse_yuan(t) {
            Ok(v) if v.0 <= 100_000_000 => Some(v),
            Ok(_) => {
                errs.push(FieldError::new("amount", "err_price_range").with("1000000.00"));
                None
            }
            Err(_) => {
                errs.push(FieldError::new("amount", "err_price_format"));
                None
            }
        },
        None => unit_price.and_then(|p| {
            let q = match unit {
                PriceUnit::Item => trace_core::units::Quantity::Count(count?),
                _ => trace_core::units::Quantity::Weight(grams?),
            };
            trace_core::units::line_amount(p, unit, q).ok()
        }),
    };
    if amount.is_none() && opt(&input.amount).is_none() && unit_price.is_none() {
        errs.push(FieldError::new("unit_price", "err_price_needed"));
    }
    let origin_code = match opt(&input.origin_code) {
        None => None,
        Some(c) => match RegionCode::parse(c) {
            Ok(r) => Some(r),
            Err(_) => {
                errs.push(FieldError::new("origin_code", "err_region"));
                None
            }
        },
    };
    let mut certificates = Vec::new();
    for (i, c) in input.certificates.iter().enumerate() {
        if valid_certificate_number(&c.number) {
            certificates.push(Certificate {
                kind: c.kind,
                number: c.number.trim().to_owned(),
                issuer: None,
                photo: None,
            });
        } else {
            errs.push(FieldError::new(
                format!("certificates[{i}].number"),
                "err_certificate",
            ));
        }
    }
    let plate = opt(&input.plate_number);
    if let Some(p) = plate
        && (p.chars().count() > 12 || p.chars().count() < 5)
    {
        errs.push(FieldError::new("plate_number", "err_plate"));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let p = Purchase {
        supplier: supplier.to_owned(),
        product: input.product.trim().to_owned(),
        batch: batch.to_owned(),
        grams,
        count,
        amount: amount.unwrap_or_default(),
        origin: opt(&input.origin).map(str::to_owned),
        upstream_code: opt(&input.upstream_code).map(str::to_owned),
        origin_code,
        supplier_party: None,
        product_code: product.and_then(|p| p.code.clone()),
        unit_price,
        price_unit: unit_price.map(|_| unit),
        plate_number: plate.map(str::to_owned),
        vouchers: input.vouchers.clone(),
        certificates,
    };
    p.validate()
        .map_err(|e| vec![FieldError::new("product", "err_invalid").with(e.to_string())])?;
    Ok(p)
}
