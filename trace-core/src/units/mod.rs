//! Money in integer fen (分), weight in integer grams. 元, 斤 (500 g) and kg are display units.
//!
//! No floats: a float cannot represent 0.1 元 exactly, and sums of prices must reconcile to the
//! fen across edge, cloud and the regulator's uplink.

mod parse;
mod price;

pub use parse::{ParseAmountError, WeightUnit};
pub use price::{PriceError, PriceUnit, Quantity, line_amount};

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in fen (1 元 = 100 fen). Negative for refunds and discounts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

/// A weight in grams (1 斤 = 500 g).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Grams(pub i64);

impl Fen {
    /// "12.30" (元, always two decimals).
    pub fn yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self.yuan_string())
    }
}

impl Grams {
    /// Weight in 斤 with two decimals, rounded half away from zero: 1234 g -> "2.47".
    pub fn jin_string(self) -> String {
        fixed_2(self.0, 500)
    }

    /// Weight in kg with three decimals: 1234 g -> "1.234".
    pub fn kg_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:03}", a / 1000, a % 1000)
    }
}

impl fmt::Display for Grams {
    /// Grams below 1 kg as `750 g`, heavier as kg with three decimals (`1.234 kg`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.unsigned_abs() < 1000 {
            write!(f, "{} g", self.0)
        } else {
            write!(f, "{} kg", self.kg_string())
        }
    }
}

/// `value / unit` shown with two decimals, rounded half away from zero, integers only.
fn fixed_2(value: i64, unit: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let a = i128::from(value).unsigned_abs();
    let u = i128::from(unit).unsigned_abs();
    let hundredths = (a * 100 + u / 2) / u;
    format!("{sign}{}.{:02}", hundredths / 100, hundredths % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_units() {
        assert_eq!(Fen(1230).yuan_string(), "12.30");
        assert_eq!(Fen(-5).yuan_string(), "-0.05");
        assert_eq!(Grams(1234).jin_string(), "2.47");
        assert_eq!(Grams(500).jin_string(), "1.00");
        assert_eq!(Grams(1234).kg_string(), "1.234");
        assert_eq!(Grams(750).to_string(), "750 g");
        assert_eq!(Grams(1234).to_string(), "1.234 kg");
        assert_eq!(Fen(1230).to_string(), "¥12.30");
        assert_eq!(Grams(-250).jin_string(), "-0.50");
    }
}
