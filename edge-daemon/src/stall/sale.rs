//! 开单: from the buttons tapped on the sale screen to a validated sale ticket.
//!
//! Every check names the field it refuses, and a refused sale writes nothing: the caller only
//! mints a ticket code and appends when [`build`] returned `Ok`.

use super::label::{LabelLine, resolve};
use super::product::{Product, find};
use super::{FieldError, MAX_COUNT, MAX_LINE_GRAMS, MAX_UNIT_PRICE};
use serde::Deserialize;
use trace_core::event::{Fee, PaymentMethod, SaleLine, SaleTicket};
use trace_core::label::LabelLayout;
use trace_core::units::{Quantity, line_amount};
use trace_core::{Fen, Grams, PriceUnit};

#[derive(Debug, Clone, Deserialize)]
pub struct LineInput {
    /// Empty on a label line: the label names the product.
    #[serde(default)]
    pub product: String,
    #[serde(default)]
    pub grams: Option<i64>,
    #[serde(default)]
    pub count: Option<i64>,
    /// 元 as typed; `None` or empty: the product's price.
    #[serde(default)]
    pub unit_price: Option<String>,
    #[serde(default)]
    pub price_unit: Option<PriceUnit>,
    /// A scanned scale label (EAN-13): product, quantity and amount come from it, read again
    /// here; a product or quantity sent beside it must agree with it.
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FeeInput {
    pub name: String,
    /// 元 as typed; a leading `-` makes it a discount.
    pub amount: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SaleInput {
    pub lines: Vec<LineInput>,
    #[serde(default)]
    pub fees: Vec<FeeInput>,
    pub payment: PaymentMethod,
    /// A customer record id (needed for credit, optional otherwise).
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub customer_name: Option<String>,
}

/// Where a line's goods came from, as the ledger knows it (FIFO batch and its origin).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    pub batch: Option<String>,
    pub origin: Option<String>,
}

/// Parse 元 that may be negative (a discount).
pub fn parse_signed_yuan(s: &str) -> Option<Fen> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let f = Fen::parse_yuan(body).ok()?;
    Some(if neg { Fen(-f.0) } else { f })
}

/// A label line as the ledger records it, after checking that what the screen sent beside the
/// label (product, weight, count) is what the label says: a screen that showed one thing must
/// not print another.
fn label_line(
    l: &LineInput,
    text: &str,
    layout: &LabelLayout,
    products: &[Product],
    f: &dyn Fn(&str) -> String,
) -> Result<(LabelLine, Product), FieldError> {
    let line = resolve(text, layout, products).map_err(|e| FieldError {
        field: f("label"),
        ..e
    })?;
    let p = find(products, &line.product)
        .cloned()
        .ok_or_else(|| FieldError::new(f("label"), "err_label_unknown"))?;
    let product = l.product.trim();
    let disagrees = (!product.is_empty() && product != line.product)
        || l.grams.is_some_and(|g| Some(g) != line.grams)
        || l.count
            .is_some_and(|c| Some(c) != line.count.map(i64::from))
        || l.unit_price
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty())
        || l.price_unit.is_some_and(|u| u != line.unit);
    if disagrees {
        return Err(FieldError::new(f("label"), "err_label_mismatch").with(&line.product));
    }
    Ok((line, p))
}

/// Check the input and build the ticket with `code`. `provenance(product)` gives the batch a
/// line is sold from; `layout` reads scanned label lines. All problems are reported at once.
pub fn build(
    input: &SaleInput,
    products: &[Product],
    layout: &LabelLayout,
    code: &str,
    provenance: &dyn Fn(&str) -> Provenance,
) -> Result<SaleTicket, Vec<FieldError>> {
    let mut errs = Vec::new();
    if input.lines.is_empty() {
        errs.push(FieldError::new("lines", "err_no_lines"));
    }
    let mut lines = Vec::with_capacity(input.lines.len());
    let mut sum: i64 = 0;
    for (i, l) in input.lines.iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        if let Some(text) = l.label.as_deref().filter(|t| !t.trim().is_empty()) {
            match label_line(l, text, layout, products, &f) {
                Ok((line, p)) => {
                    sum = sum.saturating_add(line.amount);
                    let prov = provenance(&p.name);
                    lines.push(SaleLine {
                        product: p.name.clone(),
                        product_code: p.code.clone(),
                        grams: line.grams.map(Grams),
                        count: line.count,
                        unit_price: p.price(),
                        price_unit: p.unit,
                        amount: Fen(line.amount),
                        batch: prov.batch,
                        origin: prov.origin.or_else(|| p.origin.clone()),
                    });
                }
                Err(e) => errs.push(e),
            }
            continue;
        }
        let Some(p) = find(products, &l.product) else {
            errs.push(FieldError::new(f("product"), "err_unknown_product").with(&l.product));
            continue;
        };
        let unit = l.price_unit.unwrap_or(p.unit);
        let price = match l.unit_price.as_deref().map(str::trim) {
            None | Some("") => Some(p.price()),
            Some(t) => match Fen::parse_yuan(t) {
                Ok(v) if v.0 <= MAX_UNIT_PRICE => Some(v),
                Ok(_) => {
                    errs.push(
                        FieldError::new(f("unit_price"), "err_price_range")
                            .with(Fen(MAX_UNIT_PRICE).yuan_string()),
                    );
                    None
                }
                Err(_) => {
                    errs.push(FieldError::new(f("unit_price"), "err_price_format"));
                    None
                }
            },
        };
        let qty = match unit {
            PriceUnit::Item => match l.count {
                Some(c) if c >= 1 && c <= i64::from(MAX_COUNT) => {
                    Some(Quantity::Count(u32::try_from(c).unwrap_or(MAX_COUNT)))
                }
                _ => {
                    errs.push(
                        FieldError::new(f("count"), "err_count_range").with(MAX_COUNT.to_string()),
                    );
                    None
                }
            },
            PriceUnit::Jin | PriceUnit::Kg => match l.grams {
                Some(g) if (1..=MAX_LINE_GRAMS).contains(&g) => Some(Quantity::Weight(Grams(g))),
                _ => {
                    errs.push(
                        FieldError::new(f("grams"), "err_weight_range")
                            .with(Grams(MAX_LINE_GRAMS).kg_string()),
                    );
                    None
                }
            },
        };
        let (Some(price), Some(qty)) = (price, qty) else {
            continue;
        };
        let Ok(amount) = line_amount(price, unit, qty) else {
            errs.push(FieldError::new(f("grams"), "err_weight_range"));
            continue;
        };
        sum = sum.saturating_add(amount.0);
        let prov = provenance(&p.name);
        lines.push(SaleLine {
            product: p.name.clone(),
            product_code: p.code.clone(),
            grams: match qty {
                Quantity::Weight(g) => Some(g),
                Quantity::Count(_) => None,
            },
            count: match qty {
                Quantity::Count(c) => Some(c),
                Quantity::Weight(_) => None,
            },
            unit_price: price,
            price_unit: unit,
            amount,
            batch: prov.batch,
            origin: prov.origin.or_else(|| p.origin.clone()),
        });
    }
    let mut fees = Vec::new();
    for (i, fee) in input.fees.iter().enumerate() {
        let name = fee.name.trim();
        if name.is_empty() {
            errs.push(FieldError::new(format!("fees[{i}].name"), "err_required"));
            continue;
        }
        match parse_signed_yuan(&fee.amount) {
            Some(a) if a.0.abs() <= MAX_UNIT_PRICE => {
                sum = sum.saturating_add(a.0);
                fees.push(Fee {
                    name: name.to_owned(),
                    amount: a,
                });
            }
            _ => errs.push(FieldError::new(
                format!("fees[{i}].amount"),
                "err_price_format",
            )),
        }
    }
    if sum < 0 {
        errs.push(FieldError::new("fees", "err_discount_too_big"));
    }
    let name = input
        .customer_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let id = input
        .customer_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if input.payment == PaymentMethod::Credit && name.is_none() {
        errs.push(FieldError::new("customer", "err_credit_needs_customer"));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let t = SaleTicket {
        ticket_code: code.to_owned(),
        lines,
        total: Fen(sum),
        payment: input.payment,
        buyer: name.map(str::to_owned),
        buyer_id: id.map(str::to_owned),
        fees,
    };
    // The event's own rules are the last word; a refusal here is a bug above, not bad input.
    t.validate()
        .map_err(|e| vec![FieldError::new("lines", "err_invalid").with(e.to_string())])?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn products() -> Vec<Product> {
        vec![
            Product {
                name: "猪肉".into(),
                price_fen: 1_680,
                unit: PriceUnit::Jin,
                plu: Some(1),
                code: None,
                origin: Some("广东省江门市".into()),
            },
            Product {
                name: "鸡蛋".into(),
                price_fen: 90,
                unit: PriceUnit::Item,
                plu: None,
                code: None,
                origin: None,
            },
        ]
    }

    fn code() -> String {
        trace_core::TicketCodec::new(1, &[1; 32])
            .unwrap()
            .mint(1)
            .unwrap()
            .to_string()
    }

    fn line(product: &str, grams: Option<i64>, count: Option<i64>) -> LineInput {
        LineInput {
            product: product.into(),
            grams,
            count,
            unit_price: None,
            price_unit: None,
            label: None,
        }
    }

    fn layout() -> LabelLayout {
        LabelLayout::default()
    }

    fn label(measure: trace_core::label::Measure, item: u32, amount: u32) -> String {
        let l = layout();
        l.encode(&trace_core::label::Label {
            flag: l.flag_for(measure).unwrap(),
            item,
            measure,
            amount,
        })
        .unwrap()
    }

    fn label_line(text: &str) -> LineInput {
        LineInput {
            label: Some(text.into()),
            ..line("", None, None)
        }
    }

    #[test]
    fn label_lines_record_the_labels_weight_and_amount() {
        use trace_core::label::Measure;
        // 猪肉 is key 1 (no library code in these products): a weight label and a price label
        // that says 30.00 where 900 g at 16.80/斤 would be 30.24. The label's amount wins.
        let i = input(
            vec![
                label_line(&label(Measure::Weight, 1, 812)),
                LineInput {
                    product: "猪肉".into(),
                    grams: Some(893),
                    ..label_line(&label(Measure::Price, 1, 3_000))
                },
                line("鸡蛋", None, Some(2)),
            ],
            PaymentMethod::Cash,
        );
        let t = build(&i, &products(), &layout(), &code(), &|_| {
            Provenance::default()
        })
        .unwrap();
        let got: Vec<_> = t
            .lines
            .iter()
            .map(|l| (l.product.as_str(), l.grams, l.amount))
            .collect();
        assert_eq!(
            got,
            vec![
                ("猪肉", Some(Grams(812)), Fen(2_728)),
                ("猪肉", Some(Grams(893)), Fen(3_000)),
                ("鸡蛋", None, Fen(180)),
            ]
        );
        assert_eq!(t.lines[1].unit_price, Fen(1_680));
        assert_eq!(t.total, Fen(2_728 + 3_000 + 180));
    }

    #[test]
    fn a_tampered_or_contradicted_label_is_refused() {
        use trace_core::label::Measure;
        let good = label(Measure::Weight, 1, 812);
        let mut bytes = good.clone().into_bytes();
        bytes[11] = if bytes[11] == b'9' {
            b'1'
        } else {
            bytes[11] + 1
        };
        let tampered = String::from_utf8(bytes).unwrap();
        let i = input(
            vec![
                label_line(&tampered),
                LineInput {
                    grams: Some(2_000),
                    ..label_line(&good)
                },
                LineInput {
                    product: "鸡蛋".into(),
                    ..label_line(&good)
                },
                LineInput {
                    unit_price: Some("1".into()),
                    ..label_line(&good)
                },
                label_line(&label(Measure::Weight, 77, 500)),
            ],
            PaymentMethod::Cash,
        );
        let errs = build(&i, &products(), &layout(), &code(), &|_| {
            Provenance::default()
        })
        .unwrap_err();
        let got: Vec<(&str, &str)> = errs.iter().map(|e| (e.field.as_str(), e.key)).collect();
        assert_eq!(
            got,
            vec![
                ("lines[0].label", "err_label_check"),
                ("lines[1].label", "err_label_mismatch"),
                ("lines[2].label", "err_label_mismatch"),
                ("lines[3].label", "err_label_mismatch"),
                ("lines[4].label", "err_label_unknown"),
            ]
        );
    }

    fn input(lines: Vec<LineInput>, payment: PaymentMethod) -> SaleInput {
        SaleInput {
            lines,
            fees: Vec::new(),
            payment,
            customer_id: None,
            customer_name: None,
        }
    }

    #[test]
    fn weighed_and_counted_lines_with_a_discount() {
        let mut i = input(
            vec![line("猪肉", Some(812), None), line("鸡蛋", None, Some(6))],
            PaymentMethod::Cash,
        );
        i.fees.push(FeeInput {
            name: "抹零".into(),
            amount: "-0.68".into(),
        });
        let t = build(&i, &products(), &layout(), &code(), &|_| Provenance {
            batch: Some("B1".into()),
            origin: None,
        })
        .unwrap();
        // 812 g at 16.80/斤 = 27.2832 → 27.28; 6 × 0.90 = 5.40; − 0.68.
        assert_eq!(t.lines[0].amount, Fen(2_728));
        assert_eq!(t.lines[1].amount, Fen(540));
        assert_eq!(t.total, Fen(2_728 + 540 - 68));
        assert_eq!(t.lines[0].origin.as_deref(), Some("广东省江门市"));
        assert_eq!(t.lines[0].batch.as_deref(), Some("B1"));
    }

    #[test]
    fn bad_input_names_each_field() {
        let mut i = input(
            vec![
                line("猪肉", Some(-5), None),
                line("龙肉", Some(500), None),
                line("猪肉", Some(900_000), None),
                LineInput {
                    unit_price: Some("12.345".into()),
                    ..line("猪肉", Some(500), None)
                },
                LineInput {
                    unit_price: Some("99999".into()),
                    ..line("猪肉", Some(500), None)
                },
                line("鸡蛋", None, Some(0)),
            ],
            PaymentMethod::Credit,
        );
        i.fees.push(FeeInput {
            name: "优惠".into(),
            amount: "abc".into(),
        });
        let errs = build(&i, &products(), &layout(), &code(), &|_| {
            Provenance::default()
        })
        .unwrap_err();
        let got: Vec<(&str, &str)> = errs.iter().map(|e| (e.field.as_str(), e.key)).collect();
        assert_eq!(
            got,
            vec![
                ("lines[0].grams", "err_weight_range"),
                ("lines[1].product", "err_unknown_product"),
                ("lines[2].grams", "err_weight_range"),
                ("lines[3].unit_price", "err_price_format"),
                ("lines[4].unit_price", "err_price_range"),
                ("lines[5].count", "err_count_range"),
                ("fees[0].amount", "err_price_format"),
                ("customer", "err_credit_needs_customer"),
            ]
        );
    }

    #[test]
    fn discount_beyond_the_total_is_refused() {
        let mut i = input(vec![line("鸡蛋", None, Some(1))], PaymentMethod::Cash);
        i.fees.push(FeeInput {
            name: "优惠".into(),
            amount: "-5".into(),
        });
        let errs = build(&i, &products(), &layout(), &code(), &|_| {
            Provenance::default()
        })
        .unwrap_err();
        assert_eq!(errs[0].key, "err_discount_too_big");
    }
}
