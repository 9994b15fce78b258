//! Scale labels: the EAN-13 variable-measure barcodes a barcode-label scale prints.
//!
//! A wet-market label scale (Dahua TM, and most Chinese label scales) weighs, prints a sticker
//! and puts the sale in an EAN-13 whose prefix `2x` marks it as a GS1 *restricted circulation
//! number* (in-store only, never a GTIN). Dahua's own sales-record upload is not public, so the
//! stall box does what a supermarket till does: the merchant scans the sticker and the box reads
//! product and measure out of the barcode.
//!
//! ```text
//!   2 F IIIII AAAAA C          the default (common Dahua / China) layout
//!   │ │ │     │     └ GS1 mod-10 check digit over the 12 digits before it
//!   │ │ │     └ amount: price in fen or weight in grams (the flag says which)
//!   │ │ └ item code: the code the PLU table gave the scale (product library code)
//!   │ └ flag: which flags mean "price" and which "weight" is configuration
//!   └ 2: in-store variable-measure number
//! ```
//!
//! The layout is configurable ([`LabelLayout`]) because scales are: item digits, amount digits
//! and an optional GS1 *price check digit* in front of a 4- or 5-digit amount always fill the
//! ten digits between the prefix and the check digit.
//!
//! Why only the GS1 check: a label is printed at the same counter it is scanned at, so what it
//! must catch is a smudged or misread digit — mod-10 with weights 3/1 catches every single-digit
//! error (tested exhaustively below). It is not a signature; a forged label is as good as the
//! scale's own, which is also true of the paper price tag it replaces.
//!
//! Pure: text in, [`Label`] out, and back ([`LabelLayout::encode`], for simulators and tests).

use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// What a label's amount field carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The price the customer pays, fen.
    Price,
    /// The net weight, grams.
    Weight,
}

/// A decoded label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Label {
    /// The digit after the leading `2`.
    pub flag: u8,
    /// The item code (the scale's PLU item code).
    pub item: u32,
    pub measure: Measure,
    /// Fen when `measure` is `Price`, grams when `Weight`.
    pub amount: u32,
}

/// How a scale lays out its labels. Every field has the common default; `validate` before use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelLayout {
    /// Digits of the item code after the two-digit prefix.
    pub item_digits: u8,
    /// Digits of the amount (price in fen or weight in grams).
    pub amount_digits: u8,
    /// A GS1 price check digit between the item code and a 4- or 5-digit amount.
    pub price_check: bool,
    /// Flags (the digit after the leading `2`) whose amount is the price in fen.
    pub price_flags: Vec<u8>,
    /// Flags whose amount is the weight in grams.
    pub weight_flags: Vec<u8>,
}

impl Default for LabelLayout {
    /// `2` + flag + 5-digit item code + 5-digit amount + check; `20`/`21` carry the price,
    /// `22` the weight (set these to what the scale's barcode setting says).
    fn default() -> Self {
        LabelLayout {
            item_digits: 5,
            amount_digits: 5,
            price_check: false,
            price_flags: vec![0, 1],
            weight_flags: vec![2],
        }
    }
}

/// A layout that cannot describe an EAN-13: `key` is the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LayoutError {
    pub key: &'static str,
    pub message: String,
}

/// Why a scanned text is not a usable label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("not a 13-digit EAN-13")]
    NotEan13,
    #[error("EAN-13 without the in-store prefix 2")]
    NotVariableMeasure,
    #[error("check digit wrong")]
    CheckDigit,
    #[error("price check digit wrong")]
    PriceCheckDigit,
    #[error("flag {0} is neither a price nor a weight flag")]
    UnknownFlag(u8),
    /// Encoding only: the value does not fit the layout's digits, or the flag contradicts the
    /// measure.
    #[error("does not fit the label layout")]
    DoesNotFit,
}

/// The GS1 mod-10 check digit of `digits` (weights 3,1,3,… from the right).
pub fn gs1_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

// GS1 General Specifications 7.9.4: the weighted products of the price check digit.
const W2_MINUS: [u8; 10] = [0, 2, 4, 6, 8, 9, 1, 3, 5, 7];
const W3: [u8; 10] = [0, 3, 6, 9, 2, 5, 8, 1, 4, 7];
const W5_PLUS: [u8; 10] = [0, 5, 1, 6, 2, 7, 3, 8, 4, 9];
const W5_MINUS: [u8; 10] = [0, 5, 9, 4, 8, 3, 7, 2, 6, 1];

/// The GS1 price check digit of a 4- or 5-digit amount; `None` for other lengths.
pub fn price_check_digit(amount: &[u8]) -> Option<u8> {
    let w = |t: &[u8; 10], d: u8| u32::from(t[usize::from(d % 10)]);
    match amount {
        [a, b, c, d] => {
            let sum = w(&W2_MINUS, *a) + w(&W2_MINUS, *b) + w(&W3, *c) + w(&W5_MINUS, *d);
            Some(((sum * 3) % 10) as u8)
        }
        [a, b, c, d, e] => {
            let sum = w(&W5_PLUS, *a)
                + w(&W2_MINUS, *b)
                + w(&W5_MINUS, *c)
                + w(&W5_PLUS, *d)
                + w(&W2_MINUS, *e);
            let want = ((10 - sum % 10) % 10) as u8;
            // The check digit is the one whose "5−" product is `want`.
            W5_MINUS.iter().position(|p| *p == want).map(|i| i as u8)
        }
        _ => None,
    }
}

fn digits_of(mut v: u64, n: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; n];
    for slot in out.iter_mut().rev() {
        *slot = (v % 10) as u8;
        v /= 10;
    }
    (v == 0).then_some(out)
}

fn value_of(d: &[u8]) -> u32 {
    d.iter().fold(0u32, |acc, x| acc * 10 + u32::from(*x))
}

impl LabelLayout {
    /// Check that the layout fills an EAN-13 and that its flags are distinct digits.
    pub fn validate(&self) -> Result<(), LayoutError> {
        let err = |key, message: &str| {
            Err(LayoutError {
                key,
                message: message.to_owned(),
            })
        };
        if !(1..=7).contains(&self.item_digits) {
            return err("item_digits", "item code digits must be 1–7");
        }
        if !(4..=6).contains(&self.amount_digits) {
            return err("amount_digits", "amount digits must be 4–6");
        }
        if self.price_check && !(4..=5).contains(&self.amount_digits) {
            return err(
                "price_check",
                "a GS1 price check digit needs a 4- or 5-digit amount",
            );
        }
        let used = self.item_digits + self.amount_digits + u8::from(self.price_check);
        if used != 10 {
            return Err(LayoutError {
                key: "item_digits",
                message: format!(
                    "item digits + amount digits{} = {used}, but an EAN-13 has 10 between the \
                     prefix `2x` and the check digit",
                    if self.price_check {
                        " + the price check digit"
                    } else {
                        ""
                    }
                ),
            });
        }
        if self.price_flags.is_empty() && self.weight_flags.is_empty() {
            return err("price_flags", "name at least one price or weight flag");
        }
        for (key, list) in [
            ("price_flags", &self.price_flags),
            ("weight_flags", &self.weight_flags),
        ] {
            if list.iter().any(|f| *f > 9) {
                return err(key, "flags are single digits 0–9");
            }
        }
        if self
            .price_flags
            .iter()
            .any(|f| self.weight_flags.contains(f))
        {
            return err("weight_flags", "a flag cannot mean both price and weight");
        }
        Ok(())
    }

    fn measure_of(&self, flag: u8) -> Option<Measure> {
        if self.price_flags.contains(&flag) {
            Some(Measure::Price)
        } else if self.weight_flags.contains(&flag) {
            Some(Measure::Weight)
        } else {
            None
        }
    }

    /// Read a scanned label. Surrounding whitespace is ignored; anything else that is not
    /// exactly 13 digits is `NotEan13`.
    pub fn parse(&self, text: &str) -> Result<Label, LabelError> {
        let t = text.trim();
        if t.len() != 13 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LabelError::NotEan13);
        }
        let d: Vec<u8> = t.bytes().map(|b| b - b'0').collect();
        if gs1_check_digit(&d[..12]) != d[12] {
            return Err(LabelError::CheckDigit);
        }
        if d[0] != 2 {
            return Err(LabelError::NotVariableMeasure);
        }
        let flag = d[1];
        let measure = self.measure_of(flag).ok_or(LabelError::UnknownFlag(flag))?;
        let item_end = 2 + usize::from(self.item_digits);
        let amount_start = item_end + usize::from(self.price_check);
        let amount = &d[amount_start..12];
        if self.price_check && price_check_digit(amount) != Some(d[item_end]) {
            return Err(LabelError::PriceCheckDigit);
        }
        Ok(Label {
            flag,
            item: value_of(&d[2..item_end]),
            measure,
            amount: value_of(amount),
        })
    }

    /// Print `label` as its 13 digits (what the scale puts under the bars).
    pub fn encode(&self, label: &Label) -> Result<String, LabelError> {
        if label.flag > 9 || self.measure_of(label.flag) != Some(label.measure) {
            return Err(LabelError::DoesNotFit);
        }
        let mut d = vec![2, label.flag];
        d.extend(
            digits_of(u64::from(label.item), usize::from(self.item_digits))
                .ok_or(LabelError::DoesNotFit)?,
        );
        let amount = digits_of(u64::from(label.amount), usize::from(self.amount_digits))
            .ok_or(LabelError::DoesNotFit)?;
        if self.price_check {
            d.push(price_check_digit(&amount).ok_or(LabelError::DoesNotFit)?);
        }
        d.extend(amount);
        if d.len() != 12 {
            return Err(LabelError::DoesNotFit);
        }
        d.push(gs1_check_digit(&d));
        Ok(d.iter().map(|x| char::from(b'0' + x)).collect())
    }

    /// The first flag that carries `measure`, for emitting labels.
    pub fn flag_for(&self, measure: Measure) -> Option<u8> {
        match measure {
            Measure::Price => self.price_flags.first().copied(),
            Measure::Weight => self.weight_flags.first().copied(),
        }
    }
}
