//! Parsing amounts typed by a person: 元 to [`Fen`], 斤 / kg / g to [`Grams`].
//!
//! Design: a decimal string is read as an integer mantissa and a count of decimals, then scaled
//! with integer arithmetic. Nothing is rounded: a value that does not land on a whole fen or gram
//! (three decimals of 元, `0.0005 kg`, `0.001 斤` = 0.5 g) is an error, because a silently
//! rounded price or weight is exactly the kind of discrepancy a regulator asks about.

use super::{Fen, Grams};

/// Why a typed amount was refused. Positions are 1-based character positions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseAmountError {
    #[error("nothing to read: the amount is empty")]
    Empty,
    #[error("negative amounts are not accepted here")]
    Negative,
    #[error("character {ch:?} at position {position} is not a digit or decimal point")]
    Char { position: usize, ch: char },
    #[error("more than one decimal point")]
    TwoPoints,
    #[error("too many decimals: at most {max}, got {found}")]
    TooManyDecimals { max: usize, found: usize },
    #[error("{0} is not a whole number of grams")]
    NotWholeGrams(String),
    #[error("amount is too large")]
    Overflow,
    #[error("unknown weight unit {0:?}; use 斤, kg/公斤 or g/克")]
    Unit(String),
}

/// A non-negative decimal as `mantissa / 10^decimals`.
struct Decimal {
    mantissa: u128,
    decimals: usize,
}

fn parse_decimal(s: &str) -> Result<Decimal, ParseAmountError> {
    let s = s.trim();
    if s.starts_with('-') {
        return Err(ParseAmountError::Negative);
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut mantissa: u128 = 0;
    let mut decimals = None::<usize>;
    let mut digits = 0usize;
    for (i, ch) in s.chars().enumerate() {
        match ch {
            '.' | '．' if decimals.is_some() => return Err(ParseAmountError::TwoPoints),
            '.' | '．' => decimals = Some(0),
            '0'..='9' => {
                let d = u128::from(u32::from(ch) - u32::from('0'));
                mantissa = mantissa
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(d))
                    .ok_or(ParseAmountError::Overflow)?;
                digits += 1;
                if let Some(n) = decimals.as_mut() {
                    *n += 1;
                }
            }
            _ => {
                return Err(ParseAmountError::Char {
                    position: i + 1,
                    ch,
                });
            }
        }
    }
    if digits == 0 {
        return Err(ParseAmountError::Empty);
    }
    Ok(Decimal {
        mantissa,
        decimals: decimals.unwrap_or(0),
    })
}

/// Scale `d` to an integer count of `per_unit / divisor` sub-units; error unless exact.
fn scale(
    d: &Decimal,
    per_unit: u128,
    max_decimals: usize,
) -> Result<(u128, u128), ParseAmountError> {
    if d.decimals > max_decimals {
        return Err(ParseAmountError::TooManyDecimals {
            max: max_decimals,
            found: d.decimals,
        });
    }
    let div = 10u128.pow(u32::try_from(d.decimals).map_err(|_| ParseAmountError::Overflow)?);
    let num = d
        .mantissa
        .checked_mul(per_unit)
        .ok_or(ParseAmountError::Overflow)?;
    Ok((num / div, num % div))
}

fn to_i64(v: u128) -> Result<i64, ParseAmountError> {
    i64::try_from(v).map_err(|_| ParseAmountError::Overflow)
}

impl Fen {
    /// Parse 元 as typed: `"12"`, `"12.3"`, `"12.30"`, `"0.05"`, `"¥12.30"`, `"12.30元"`.
    /// At most two decimals; negative amounts are refused (refunds are their own entries).
    pub fn parse_yuan(s: &str) -> Result<Fen, ParseAmountError> {
        let t = s.trim();
        let t = t
            .strip_prefix('¥')
            .or_else(|| t.strip_prefix('￥'))
            .unwrap_or(t);
        let t = t.strip_suffix('元').unwrap_or(t);
        let d = parse_decimal(t)?;
        let (fen, _) = scale(&d, 100, 2)?;
        Ok(Fen(to_i64(fen)?))
    }
}

/// A weight unit a person may type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightUnit {
    Gram,
    Jin,
    Kg,
}

impl WeightUnit {
    fn grams(self) -> u128 {
        match self {
            WeightUnit::Gram => 1,
            WeightUnit::Jin => 500,
            WeightUnit::Kg => 1000,
        }
    }

    fn from_suffix(s: &str) -> Option<WeightUnit> {
        match s.trim().to_lowercase().as_str() {
            "g" | "克" => Some(WeightUnit::Gram),
            "斤" | "jin" => Some(WeightUnit::Jin),
            "kg" | "公斤" | "千克" => Some(WeightUnit::Kg),
            _ => None,
        }
    }
}

impl Grams {
    /// Parse a number of `unit`: `Grams::parse_in("1.5", WeightUnit::Jin)` is 750 g.
    /// At most 3 decimals; the result must be a whole number of grams.
    pub fn parse_in(s: &str, unit: WeightUnit) -> Result<Grams, ParseAmountError> {
        let d = parse_decimal(s)?;
        let (g, rem) = scale(&d, unit.grams(), 3)?;
        if rem != 0 {
            return Err(ParseAmountError::NotWholeGrams(s.trim().to_owned()));
        }
        Ok(Grams(to_i64(g)?))
    }

    /// Parse a weight with an optional unit suffix (`"1.5斤"`, `"0.75 kg"`, `"750g"`, `"2公斤"`);
    /// a bare number is read in `default`.
    pub fn parse(s: &str, default: WeightUnit) -> Result<Grams, ParseAmountError> {
        let t = s.trim();
        let split = t
            .char_indices()
            .find(|&(_, c)| {
                !(c.is_ascii_digit() || c == '.' || c == '．' || c == '-' || c == '+' || c == ' ')
            })
            .map_or(t.len(), |(i, _)| i);
        let (num, suffix) = t.split_at(split);
        let unit = if suffix.is_empty() {
            default
        } else {
            WeightUnit::from_suffix(suffix)
                .ok_or_else(|| ParseAmountError::Unit(suffix.to_owned()))?
        };
        Grams::parse_in(num, unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan() {
        assert_eq!(Fen::parse_yuan("12.3"), Ok(Fen(1230)));
        assert_eq!(Fen::parse_yuan("12.30"), Ok(Fen(1230)));
        assert_eq!(Fen::parse_yuan("0.05"), Ok(Fen(5)));
        assert_eq!(Fen::parse_yuan(" 12 "), Ok(Fen(1200)));
        assert_eq!(Fen::parse_yuan(".5"), Ok(Fen(50)));
        assert_eq!(Fen::parse_yuan("¥8.80"), Ok(Fen(880)));
        assert_eq!(Fen::parse_yuan("8.8元"), Ok(Fen(880)));
        assert_eq!(
            Fen::parse_yuan("1.234"),
            Err(ParseAmountError::TooManyDecimals { max: 2, found: 3 })
        );
        assert_eq!(Fen::parse_yuan("-1"), Err(ParseAmountError::Negative));
        assert_eq!(Fen::parse_yuan(""), Err(ParseAmountError::Empty));
        assert_eq!(Fen::parse_yuan("."), Err(ParseAmountError::Empty));
        assert_eq!(Fen::parse_yuan("1.2.3"), Err(ParseAmountError::TwoPoints));
        assert_eq!(
            Fen::parse_yuan("1,5"),
            Err(ParseAmountError::Char {
                position: 2,
                ch: ','
            })
        );
        assert_eq!(
            Fen::parse_yuan("99999999999999999999"),
            Err(ParseAmountError::Overflow)
        );
        assert_eq!(
            Fen::parse_yuan("999999999999999999999999999999999999999999"),
            Err(ParseAmountError::Overflow)
        );
        assert_eq!(Fen::parse_yuan("92233720368547758.07"), Ok(Fen(i64::MAX)));
        assert_eq!(
            Fen::parse_yuan("92233720368547758.08"),
            Err(ParseAmountError::Overflow)
        );
    }

    #[test]
    fn weights() {
        assert_eq!(Grams::parse_in("1.5", WeightUnit::Jin), Ok(Grams(750)));
        assert_eq!(Grams::parse_in("1.502", WeightUnit::Jin), Ok(Grams(751)));
        assert_eq!(
            Grams::parse_in("1.501", WeightUnit::Jin),
            Err(ParseAmountError::NotWholeGrams("1.501".into()))
        );
        assert_eq!(Grams::parse_in("0.75", WeightUnit::Kg), Ok(Grams(750)));
        assert_eq!(
            Grams::parse_in("0.7505", WeightUnit::Kg),
            Err(ParseAmountError::TooManyDecimals { max: 3, found: 4 })
        );
        assert_eq!(Grams::parse("1.5斤", WeightUnit::Gram), Ok(Grams(750)));
        assert_eq!(Grams::parse("2 公斤", WeightUnit::Gram), Ok(Grams(2000)));
        assert_eq!(Grams::parse("750g", WeightUnit::Jin), Ok(Grams(750)));
        assert_eq!(Grams::parse("3", WeightUnit::Jin), Ok(Grams(1500)));
        assert_eq!(Grams::parse("1.2KG", WeightUnit::Jin), Ok(Grams(1200)));
        assert_eq!(
            Grams::parse("-1斤", WeightUnit::Jin),
            Err(ParseAmountError::Negative)
        );
        assert_eq!(
            Grams::parse("1两", WeightUnit::Jin),
            Err(ParseAmountError::Unit("两".into()))
        );
    }
}
