//! Line amounts: unit price × quantity, in integers.
//!
//! Rounding rule (documented because receipts, ledgers and the regulator must agree): the exact
//! amount `unit_price × grams / grams_per_unit` is a rational number of fen; it is rounded to the
//! nearest fen, **half away from zero** (for the non-negative prices of a sale this is plain
//! half-up: 0.5 fen becomes 1 fen). Per-item prices are exact. The arithmetic is done in i128,
//! so no intermediate product can overflow; only a result beyond i64 fen is an error.

use super::{Fen, Grams};
use serde::{Deserialize, Serialize};

/// How a sale line is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceUnit {
    /// Per 斤 (500 g).
    Jin,
    /// Per kg.
    Kg,
    /// Per counted item.
    Item,
}

impl PriceUnit {
    /// The display suffix: `元/斤`, `元/kg`, `元/件`.
    pub fn label(self) -> &'static str {
        match self {
            PriceUnit::Jin => "元/斤",
            PriceUnit::Kg => "元/kg",
            PriceUnit::Item => "元/件",
        }
    }
}

/// How much was sold, as the price unit needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Weight(Grams),
    Count(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("a price per {unit:?} needs a {needs}")]
    WrongQuantity {
        unit: PriceUnit,
        needs: &'static str,
    },
    #[error("negative weight {0} g")]
    NegativeWeight(i64),
    #[error("amount is too large")]
    Overflow,
}

/// `a / b` rounded to nearest, half away from zero. `b > 0`.
fn div_round(a: i128, b: i128) -> i128 {
    let q = a / b;
    let r = a % b;
    if 2 * r.abs() >= b { q + a.signum() } else { q }
}

/// The amount of a line: `unit_price × quantity`, rounded to the fen as the module doc says.
pub fn line_amount(unit_price: Fen, unit: PriceUnit, qty: Quantity) -> Result<Fen, PriceError> {
    let price = i128::from(unit_price.0);
    let exact = match (unit, qty) {
        (PriceUnit::Jin | PriceUnit::Kg, Quantity::Weight(g)) => {
            if g.0 < 0 {
                return Err(PriceError::NegativeWeight(g.0));
            }
            let per = if unit == PriceUnit::Jin { 500 } else { 1000 };
            div_round(price * i128::from(g.0), per)
        }
        (PriceUnit::Item, Quantity::Count(n)) => price * i128::from(n),
        (PriceUnit::Item, Quantity::Weight(_)) => {
            return Err(PriceError::WrongQuantity {
                unit,
                needs: "count",
            });
        }
        (_, Quantity::Count(_)) => {
            return Err(PriceError::WrongQuantity {
                unit,
                needs: "weight",
            });
        }
    };
    i64::try_from(exact)
        .map(Fen)
        .map_err(|_| PriceError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        // 12.80 元/斤 × 750 g = 19.20 元.
        assert_eq!(
            line_amount(Fen(1280), PriceUnit::Jin, Quantity::Weight(Grams(750))),
            Ok(Fen(1920))
        );
        // 9.99 元/斤 × 333 g = 665.334 fen -> 665.
        assert_eq!(
            line_amount(Fen(999), PriceUnit::Jin, Quantity::Weight(Grams(333))),
            Ok(Fen(665))
        );
        // 1 fen/斤 × 250 g = 0.5 fen -> 1 (half up).
        assert_eq!(
            line_amount(Fen(1), PriceUnit::Jin, Quantity::Weight(Grams(250))),
            Ok(Fen(1))
        );
        assert_eq!(
            line_amount(Fen(1), PriceUnit::Jin, Quantity::Weight(Grams(249))),
            Ok(Fen(0))
        );
        // Refund line: symmetric.
        assert_eq!(
            line_amount(Fen(-1), PriceUnit::Jin, Quantity::Weight(Grams(250))),
            Ok(Fen(-1))
        );
        // 25.00 元/kg × 1.234 kg = 30.85 元.
        assert_eq!(
            line_amount(Fen(2500), PriceUnit::Kg, Quantity::Weight(Grams(1234))),
            Ok(Fen(3085))
        );
        assert_eq!(
            line_amount(Fen(350), PriceUnit::Item, Quantity::Count(3)),
            Ok(Fen(1050))
        );
        assert!(matches!(
            line_amount(Fen(350), PriceUnit::Item, Quantity::Weight(Grams(1))),
            Err(PriceError::WrongQuantity { .. })
        ));
        assert!(matches!(
            line_amount(Fen(350), PriceUnit::Kg, Quantity::Count(1)),
            Err(PriceError::WrongQuantity { .. })
        ));
        assert_eq!(
            line_amount(Fen(1), PriceUnit::Kg, Quantity::Weight(Grams(-5))),
            Err(PriceError::NegativeWeight(-5))
        );
        assert_eq!(
            line_amount(Fen(i64::MAX), PriceUnit::Item, Quantity::Count(2)),
            Err(PriceError::Overflow)
        );
    }
}
