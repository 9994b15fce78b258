//! Weight text → integer grams, without floats.
//!
//! Why integers: weight is money at a stall (price per 斤 × weight); a float that prints
//! `1.2349999` on a receipt is a dispute. Scales send decimal text in kg, g or lb; we scale
//! the decimal mantissa with integer arithmetic and round half away from zero to the gram.
//! Pounds are converted with the exact definition 1 lb = 453.592 37 g, so an lb reading carries
//! at most ±0.5 g rounding error (scales in lb are rare here; the error is documented, not hidden).

use serde::{Deserialize, Serialize};

/// A unit a scale reports in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WeightUnit {
    #[default]
    Kg,
    G,
    Lb,
}

impl WeightUnit {
    /// Parse a unit as scales print it (`kg`, `KG`, `g`, `lb`).
    pub fn parse(s: &str) -> Option<WeightUnit> {
        match s.trim().to_ascii_lowercase().as_str() {
            "kg" => Some(WeightUnit::Kg),
            "g" => Some(WeightUnit::G),
            "lb" | "lbs" => Some(WeightUnit::Lb),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WeightUnit::Kg => "kg",
            WeightUnit::G => "g",
            WeightUnit::Lb => "lb",
        }
    }
}

/// Why a weight text is not a weight.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightParseError {
    #[error("weight {0:?} is not a decimal number")]
    NotANumber(String),
    #[error("weight {0:?} has too many digits")]
    TooLong(String),
}

/// Largest number of digits accepted; 18 keeps every intermediate inside i128 with room.
const MAX_DIGITS: usize = 18;

/// Parse `"-1.234"`, `"+ 123.456"`, `"  0.050"` in `unit` into grams.
pub fn parse_grams(text: &str, unit: WeightUnit) -> Result<i64, WeightParseError> {
    let t = text.trim();
    let (negative, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let rest = rest.trim_start();
    let bad = || WeightParseError::NotANumber(text.to_string());
    if rest.is_empty() {
        return Err(bad());
    }
    let mut mantissa: i128 = 0;
    let mut decimals: u32 = 0;
    let mut seen_point = false;
    let mut digits = 0usize;
    for b in rest.bytes() {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits > MAX_DIGITS {
                    return Err(WeightParseError::TooLong(text.to_string()));
                }
                mantissa = mantissa * 10 + i128::from(b - b'0');
                if seen_point {
                    decimals += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return Err(bad()),
        }
    }
    if digits == 0 {
        return Err(bad());
    }
    let mantissa = if negative { -mantissa } else { mantissa };
    Ok(scaled_to_grams(mantissa, -(decimals as i32), unit))
}

/// `mantissa × 10^exponent` `unit` in grams, rounded half away from zero.
pub fn scaled_to_grams(mantissa: i128, exponent: i32, unit: WeightUnit) -> i64 {
    // grams = mantissa × 10^exponent × num / den
    let (num, den): (i128, i128) = match unit {
        WeightUnit::Kg => (1000, 1),
        WeightUnit::G => (1, 1),
        WeightUnit::Lb => (45_359_237, 100_000),
    };
    let exp = exponent.clamp(-30, 30);
    let (num, den) = if exp >= 0 {
        (num * 10i128.pow(exp as u32), den)
    } else {
        (num, den * 10i128.pow((-exp) as u32))
    };
    let value = mantissa.saturating_mul(num);
    let q = value / den;
    let r = value % den;
    let rounded = if 2 * r.abs() >= den {
        q + value.signum()
    } else {
        q
    };
    rounded.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Grams as kg text with three decimals (`1234` → `"1.234"`, `-50` → `"-0.050"`), as the
/// simulators print it.
pub fn format_kg(grams: i64) -> String {
    let sign = if grams < 0 { "-" } else { "" };
    let g = grams.unsigned_abs();
    format!("{sign}{}.{:03}", g / 1000, g % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_units_and_decimals() {
        assert_eq!(parse_grams("1.234", WeightUnit::Kg), Ok(1234));
        assert_eq!(parse_grams("+ 123.456", WeightUnit::Kg), Ok(123_456));
        assert_eq!(parse_grams("  -0.050", WeightUnit::Kg), Ok(-50));
        assert_eq!(parse_grams("0001.250", WeightUnit::Kg), Ok(1250));
        assert_eq!(parse_grams("12", WeightUnit::Kg), Ok(12_000));
        assert_eq!(parse_grams("100.00", WeightUnit::G), Ok(100));
        assert_eq!(parse_grams("100.5", WeightUnit::G), Ok(101));
        assert_eq!(parse_grams("-100.5", WeightUnit::G), Ok(-101));
        assert_eq!(parse_grams("100.49", WeightUnit::G), Ok(100));
        assert_eq!(parse_grams("1.2345", WeightUnit::Kg), Ok(1235));
        // 1 lb = 453.59237 g; 2.5 lb = 1133.98 g.
        assert_eq!(parse_grams("1", WeightUnit::Lb), Ok(454));
        assert_eq!(parse_grams("2.50", WeightUnit::Lb), Ok(1134));
        assert_eq!(parse_grams(".5", WeightUnit::Kg), Ok(500));
    }

    #[test]
    fn rejects_non_numbers() {
        for bad in ["", "-", "1.2.3", "12a", "1,5", "OL", " + ", "."] {
            assert!(parse_grams(bad, WeightUnit::Kg).is_err(), "{bad:?}");
        }
        assert!(matches!(
            parse_grams("1234567890123456789", WeightUnit::G),
            Err(WeightParseError::TooLong(_))
        ));
    }

    #[test]
    fn scaled_frames() {
        assert_eq!(scaled_to_grams(2345, -3, WeightUnit::Kg), 2345);
        assert_eq!(scaled_to_grams(12, 2, WeightUnit::Kg), 1_200_000);
        assert_eq!(scaled_to_grams(12345, -5, WeightUnit::Kg), 123);
    }

    proptest! {
        #[test]
        fn kg_text_round_trips(g in -999_999_999i64..999_999_999) {
            prop_assert_eq!(parse_grams(&format_kg(g), WeightUnit::Kg), Ok(g));
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = parse_grams(&s, WeightUnit::Lb);
        }
    }
}
