//! GS1 identification keys: the GTIN and its mod-10 check digit.
//!
//! GTIN-8, -12, -13 and -14 share one check digit rule: from the right, digits are weighted
//! 3, 1, 3, 1, … (the check digit itself excluded) and the check digit tops the sum up to a
//! multiple of ten. GS1 Digital Link always carries the 14-digit form (`/01/{gtin14}`), so a
//! shorter GTIN is left-padded with zeros, which leaves the check digit unchanged.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A GTIN with a correct check digit, held as its 14-digit form.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gtin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    #[error("a GTIN has 8, 12, 13 or 14 digits, {0:?} has {1}")]
    Length(String, usize),
    #[error("a GTIN has only digits, {0:?} does not")]
    NotDigits(String),
    #[error("GTIN {gtin} has check digit {found}, the digits before it need {expected}")]
    CheckDigit {
        gtin: String,
        expected: u8,
        found: u8,
    },
}

/// The GS1 mod-10 check digit of `body` (all digits but the check digit).
pub fn gs1_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * if i.is_multiple_of(2) { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl Gtin {
    pub fn parse(s: &str) -> Result<Gtin, GtinError> {
        let s = s.trim();
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GtinError::NotDigits(s.to_owned()));
        }
        if ![8, 12, 13, 14].contains(&s.len()) {
            return Err(GtinError::Length(s.to_owned(), s.len()));
        }
        let digits: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
        let (body, check) = digits.split_at(digits.len() - 1);
        let expected = gs1_check_digit(body);
        if expected != check[0] {
            return Err(GtinError::CheckDigit {
                gtin: s.to_owned(),
                expected,
                found: check[0],
            });
        }
        Ok(Gtin(format!("{s:0>14}")))
    }

    /// The 14-digit form used in GS1 Digital Link and element strings.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gtin({})", self.0)
    }
}

impl TryFrom<String> for Gtin {
    type Error = GtinError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Gtin::parse(&s)
    }
}

impl From<Gtin> for String {
    fn from(g: Gtin) -> String {
        g.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_gtins() {
        // GS1's own examples: GTIN-13 and GTIN-14 of the Digital Link standard.
        assert_eq!(
            Gtin::parse("9501101530003").unwrap().as_str(),
            "09501101530003"
        );
        assert!(Gtin::parse("09506000134352").is_ok());
        assert!(Gtin::parse("96385074").is_ok()); // GTIN-8
        assert!(Gtin::parse("036000291452").is_ok()); // UPC-A
        assert_eq!(
            Gtin::parse("9501101530004"),
            Err(GtinError::CheckDigit {
                gtin: "9501101530004".into(),
                expected: 3,
                found: 4
            })
        );
        assert!(matches!(
            Gtin::parse("950110153000"),
            Err(GtinError::CheckDigit { .. })
        ));
        assert!(matches!(
            Gtin::parse("95011015300"),
            Err(GtinError::Length(..))
        ));
        assert!(matches!(
            Gtin::parse("95011O1530003"),
            Err(GtinError::NotDigits(..))
        ));
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        let good = b"09506000134352";
        for pos in 0..good.len() {
            for d in b'0'..=b'9' {
                if d == good[pos] {
                    continue;
                }
                let mut bad = *good;
                bad[pos] = d;
                let s = std::str::from_utf8(&bad).unwrap();
                assert!(Gtin::parse(s).is_err(), "{s} accepted");
            }
        }
    }
}
