//! 资料 (standard §4.3.6): the stall's main products and staff as the ledger records them,
//! laid over what `edge.toml` configured.
//!
//! Design: a configured product has the id `cfg:{name}`; a `product_upsert` with that id
//! replaces it, one with any other id adds a product, a `product_remove` hides either. So the
//! config stays the starting point and every change made at the counter is a ledger entry
//! that survives restarts and syncs.

use super::library::known_code;
use super::product::Product;
use super::{FieldError, MAX_UNIT_PRICE};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use trace_core::event::ProductRecord;
use trace_core::{Fen, PriceUnit};

/// A product as the screens see it: the button, plus the record id to edit it by.
#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub id: String,
    #[serde(flatten)]
    pub product: Product,
}

pub fn config_id(name: &str) -> String {
    format!("cfg:{name}")
}

fn from_record(r: &ProductRecord, base: Option<&Product>) -> Product {
    Product {
        name: r.name.clone(),
        price_fen: r
            .unit_price
            .map_or_else(|| base.map_or(0, |b| b.price_fen), |p| p.0),
        unit: r
            .price_unit
            .or(base.map(|b| b.unit))
            .unwrap_or(PriceUnit::Jin),
        plu: r.plu,
        code: r.category.clone(),
        origin: base.and_then(|b| b.origin.clone()),
    }
}

/// The effective product list: configured ones overlaid by the ledger's records.
pub fn products(c: &Connection, config: &[Product]) -> Result<Vec<ProductView>, rusqlite::Error> {
    let mut out: Vec<ProductView> = config
        .iter()
        .map(|p| ProductView {
            id: config_id(&p.name),
            product: p.clone(),
        })
        .collect();
    let mut s =
        c.prepare_cached("SELECT product_id, removed, body FROM stall_products ORDER BY seq")?;
    let rows = s.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, bool>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (id, removed, body) = row?;
        let Ok(rec) = serde_json::from_str::<ProductRecord>(&body) else {
            continue;
        };
        let at = out.iter().position(|v| v.id == id);
        if removed {
            if let Some(i) = at {
                out.remove(i);
            }
            continue;
        }
        let base = at.map(|i| out[i].product.clone());
        let view = ProductView {
            id: id.clone(),
            product: from_record(&rec, base.as_ref()),
        };
        match at {
            Some(i) => out[i] = view,
            None => out.push(view),
        }
    }
    Ok(out)
}

pub fn plain(views: Vec<ProductView>) -> Vec<Product> {
    views.into_iter().map(|v| v.product).collect()
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProductInput {
    /// Empty: a new product.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// Library or category code.
    #[serde(default)]
    pub code: Option<String>,
    /// 元 per `unit`, as typed.
    pub price: String,
    pub unit: PriceUnit,
    /// The scale key, 1–4000; empty: none.
    #[serde(default)]
    pub plu: Option<String>,
}

/// Check a product form against the current list (names and PLU keys are unique).
pub fn build_product(
    input: &ProductInput,
    current: &[ProductView],
) -> Result<ProductRecord, Vec<FieldError>> {
    let mut errs = Vec::new();
    let id = input
        .id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if let Some(id) = &id
        && !current.iter().any(|v| &v.id == id)
    {
        errs.push(FieldError::new("id", "err_not_found"));
    }
    let others = || current.iter().filter(|v| Some(&v.id) != id.as_ref());
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 16 {
        errs.push(FieldError::new("name", "err_required"));
    } else if others().any(|v| v.product.name == name) {
        errs.push(FieldError::new("name", "err_duplicate").with(name));
    }
    let code = input
        .code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(c) = code
        && !known_code(c)
    {
        errs.push(FieldError::new("code", "err_unknown_code").with(c));
    }
    let price = match Fen::parse_yuan(input.price.trim()) {
        Ok(p) if p.0 > 0 && p.0 <= MAX_UNIT_PRICE => Some(p),
        Ok(p) if p.0 > MAX_UNIT_PRICE => {
            errs.push(
                FieldError::new("price", "err_price_range").with(Fen(MAX_UNIT_PRICE).yuan_string()),
            );
            None
        }
        _ => {
            errs.push(FieldError::new("price", "err_price_format"));
            None
        }
    };
    let plu = match input
        .plu
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(t) => match t.parse::<u32>() {
            Ok(n) if (1..=4000).contains(&n) => {
                if let Some(o) = others().find(|v| v.product.plu == Some(n)) {
                    errs.push(FieldError::new("plu", "err_plu_taken").with(&o.product.name));
                }
                Some(n)
            }
            _ => {
                errs.push(FieldError::new("plu", "err_plu_range"));
                None
            }
        },
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(ProductRecord {
        product_id: id.unwrap_or_else(|| format!("p-{}", trace_core::Ulid::generate())),
        name: name.to_owned(),
        category: code.map(str::to_owned),
        spec: None,
        gtin: None,
        plu,
        unit_price: price,
        price_unit: Some(input.unit),
        shelf_life_days: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> Vec<ProductView> {
        vec![ProductView {
            id: "cfg:猪肉".into(),
            product: Product {
                name: "猪肉".into(),
                price_fen: 1_680,
                unit: PriceUnit::Jin,
                plu: Some(1),
                code: Some("0101".into()),
                origin: None,
            },
        }]
    }

    fn input(name: &str, price: &str, plu: Option<&str>) -> ProductInput {
        ProductInput {
            id: None,
            name: name.into(),
            code: Some("0402".into()),
            price: price.into(),
            unit: PriceUnit::Jin,
            plu: plu.map(str::to_owned),
        }
    }

    #[test]
    fn duplicate_plu_names_and_bad_prices_are_refused_by_field() {
        let errs = build_product(&input("猪肉", "-3", Some("1")), &current()).unwrap_err();
        let got: Vec<_> = errs.iter().map(|e| (e.field.as_str(), e.key)).collect();
        assert_eq!(
            got,
            vec![
                ("name", "err_duplicate"),
                ("price", "err_price_format"),
                ("plu", "err_plu_taken"),
            ]
        );
        let mut i = input("白菜", "2.5", Some("9999"));
        i.code = Some("9999".into());
        let errs = build_product(&i, &current()).unwrap_err();
        let got: Vec<_> = errs.iter().map(|e| e.key).collect();
        assert_eq!(got, vec!["err_unknown_code", "err_plu_range"]);
        // Editing a product may keep its own key.
        let mut own = input("猪肉", "18", Some("1"));
        own.id = Some("cfg:猪肉".into());
        let r = build_product(&own, &current()).unwrap();
        assert_eq!(
            (r.product_id.as_str(), r.unit_price),
            ("cfg:猪肉", Some(Fen(1_800)))
        );
    }
}
