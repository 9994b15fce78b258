//! 电子秤标签: a sticker from the label scale, scanned at the counter, becomes a sale line.
//!
//! The scale knows products by the item code the 资料 screen pushed with each PLU key
//! ([`item_code`], shared with `ui::records::plu_table` so the two can never disagree); the
//! label carries that code and either the weight or the price ([`trace_core::label`]). This
//! module turns a scanned text into the line the sale screen adds and the sale ticket records:
//! product, weight (or count), the product's unit price, and the amount — the label's own
//! amount when it printed one, because that is what the customer saw and agreed to pay.
//!
//! A price label carries no weight, so the weight is worked back from the price (what a
//! supermarket till does with a 金额码): the stock the FIFO lots lose is then right to within
//! a gram's worth of rounding.

use super::product::Product;
use super::{FieldError, MAX_LINE_GRAMS};
use serde::Serialize;
use trace_core::label::{LabelError, LabelLayout, Measure};
use trace_core::units::{Quantity, line_amount};
use trace_core::{Grams, PriceUnit};

/// The item code a product's PLU key is pushed to the scale with: its library code as a
/// number when it has one that fits the scale's 7 digits, else the key number. `None` for a
/// product without a scale key (the scale cannot print its labels).
pub fn item_code(p: &Product) -> Option<u32> {
    let plu = p.plu?;
    Some(
        p.code
            .as_deref()
            .and_then(|c| c.parse::<u32>().ok())
            .filter(|c| *c < 10_000_000)
            .unwrap_or(plu),
    )
}

/// A scanned label as a sale line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelLine {
    /// The barcode as scanned (trimmed): the ticket sends it back and the server reads it again.
    pub label: String,
    pub product: String,
    pub unit: PriceUnit,
    /// The product's price per `unit`, fen.
    pub price: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grams: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// The line's amount, fen.
    pub amount: i64,
    /// What the label carried.
    pub measure: Measure,
}

/// Why a label is refused, as a catalogue key (field `label`).
fn refusal(e: LabelError) -> FieldError {
    let key = match e {
        LabelError::NotEan13 | LabelError::NotVariableMeasure => "err_label_format",
        LabelError::CheckDigit | LabelError::PriceCheckDigit | LabelError::DoesNotFit => {
            "err_label_check"
        }
        LabelError::UnknownFlag(_) => "err_label_flag",
    };
    let f = FieldError::new("label", key);
    match e {
        LabelError::UnknownFlag(flag) => f.with(format!("2{flag}")),
        _ => f,
    }
}

/// `a × b / c` rounded half-up, for non-negative values; `c > 0`.
fn mul_div_round(a: i64, b: i64, c: i64) -> i64 {
    let n = i128::from(a) * i128::from(b);
    let c = i128::from(c);
    i64::try_from((2 * n + c) / (2 * c)).unwrap_or(i64::MAX)
}

/// Read `text` with `layout` and find its product among `products`. Every refusal is a
/// [`FieldError`] on the field `label`; nothing is half-built.
pub fn resolve(
    text: &str,
    layout: &LabelLayout,
    products: &[Product],
) -> Result<LabelLine, FieldError> {
    let label = layout.parse(text).map_err(refusal)?;
    let code = label.item.to_string();
    let mut found = products.iter().filter(|p| item_code(p) == Some(label.item));
    let p = match (found.next(), found.next()) {
        (Some(p), None) => p,
        (None, _) => return Err(FieldError::new("label", "err_label_unknown").with(code)),
        // Two keys pushed with one code: the label cannot say which was sold.
        (Some(_), Some(_)) => {
            return Err(FieldError::new("label", "err_label_ambiguous").with(code));
        }
    };
    let amount = i64::from(label.amount);
    let weight_range =
        || FieldError::new("label", "err_label_weight").with(Grams(MAX_LINE_GRAMS).kg_string());
    let (grams, count, amount) = match (p.unit, label.measure) {
        (PriceUnit::Item, Measure::Weight) => {
            return Err(FieldError::new("label", "err_label_unit").with(&p.name));
        }
        (PriceUnit::Item, Measure::Price) => {
            // Several items on one sticker: as many as the price buys, at least one.
            let n = if p.price_fen > 0 {
                mul_div_round(amount, 1, p.price_fen).max(1)
            } else {
                1
            };
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            (None, Some(n), amount)
        }
        (unit, Measure::Weight) => {
            if !(1..=MAX_LINE_GRAMS).contains(&amount) {
                return Err(weight_range());
            }
            let a = line_amount(p.price(), unit, Quantity::Weight(Grams(amount)))
                .map_err(|_| weight_range())?;
            (Some(amount), None, a.0)
        }
        (unit, Measure::Price) => {
            if p.price_fen <= 0 {
                return Err(FieldError::new("label", "err_label_no_price").with(&p.name));
            }
            let per = if unit == PriceUnit::Jin { 500 } else { 1000 };
            let g = mul_div_round(amount, per, p.price_fen);
            if !(1..=MAX_LINE_GRAMS).contains(&g) {
                return Err(weight_range());
            }
            (Some(g), None, amount)
        }
    };
    Ok(LabelLine {
        label: text.trim().to_owned(),
        product: p.name.clone(),
        unit: p.unit,
        price: p.price_fen,
        grams,
        count,
        amount,
        measure: label.measure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_core::label::Label;

    fn products() -> Vec<Product> {
        let p = |name: &str, price, unit, plu, code: Option<&str>| Product {
            name: name.into(),
            price_fen: price,
            unit,
            plu,
            code: code.map(str::to_owned),
            origin: None,
        };
        vec![
            p("猪肉", 1_680, PriceUnit::Jin, Some(1), Some("0101")),
            p("菜心", 450, PriceUnit::Jin, Some(2), None),
            p("鸡蛋", 90, PriceUnit::Item, Some(3), Some("0601")),
            p("草鱼", 1_150, PriceUnit::Kg, None, Some("0301")),
        ]
    }

    fn label(measure: Measure, item: u32, amount: u32) -> String {
        let l = LabelLayout::default();
        l.encode(&Label {
            flag: l.flag_for(measure).unwrap(),
            item,
            measure,
            amount,
        })
        .unwrap()
    }

    #[test]
    fn weight_and_price_labels_become_lines() {
        let l = LabelLayout::default();
        // 812 g of pork (item 101 = library code 0101) at 16.80/斤 = 27.28.
        let w = resolve(&label(Measure::Weight, 101, 812), &l, &products()).unwrap();
        assert_eq!(
            (w.product.as_str(), w.grams, w.amount),
            ("猪肉", Some(812), 2_728)
        );
        // A price label for 菜心 (no code: its key number 2): the label's 5.63 wins, the
        // weight is worked back from 4.50/斤: 5.63 × 500 / 4.50 = 625.6 → 626 g.
        let p = resolve(&label(Measure::Price, 2, 563), &l, &products()).unwrap();
        assert_eq!(
            (p.product.as_str(), p.grams, p.amount),
            ("菜心", Some(626), 563)
        );
        // Counted: a 2.70 sticker for eggs at 0.90 is three.
        let e = resolve(&label(Measure::Price, 601, 270), &l, &products()).unwrap();
        assert_eq!((e.count, e.grams, e.amount), (Some(3), None, 270));
    }

    #[test]
    fn refusals_name_the_reason() {
        let l = LabelLayout::default();
        let key = |text: &str| resolve(text, &l, &products()).unwrap_err().key;
        // 草鱼 has a code but no scale key: the scale never had it.
        assert_eq!(key(&label(Measure::Weight, 301, 500)), "err_label_unknown");
        assert_eq!(key(&label(Measure::Weight, 9, 500)), "err_label_unknown");
        let mut bad = label(Measure::Weight, 101, 812).into_bytes();
        bad[9] = if bad[9] == b'9' { b'0' } else { bad[9] + 1 };
        assert_eq!(key(std::str::from_utf8(&bad).unwrap()), "err_label_check");
        assert_eq!(key("6291041500213"), "err_label_format");
        assert_eq!(key("hello"), "err_label_format");
        assert_eq!(key(&label(Measure::Weight, 101, 0)), "err_label_weight");
        assert_eq!(key(&label(Measure::Weight, 601, 300)), "err_label_unit");
        let mut twice = products();
        twice[1].code = Some("101".into());
        let e = resolve(&label(Measure::Weight, 101, 812), &l, &twice).unwrap_err();
        assert_eq!(
            (e.key, e.arg.as_deref()),
            ("err_label_ambiguous", Some("101"))
        );
        let seven = [2, 7, 0, 0, 1, 0, 1, 0, 0, 8, 1, 2];
        let check = trace_core::label::gs1_check_digit(&seven);
        let seven = format!("270010100812{check}");
        let e = resolve(&seven, &l, &products()).unwrap_err();
        assert_eq!(e.key, "err_label_flag");
    }

    #[test]
    fn the_item_code_is_what_the_plu_push_sends() {
        let ps = products();
        let codes: Vec<_> = ps.iter().map(item_code).collect();
        assert_eq!(codes, vec![Some(101), Some(2), Some(601), None]);
    }
}
