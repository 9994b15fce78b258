//! Identifiers of legal and natural persons: 统一社会信用代码 and 居民身份证号.
//!
//! Why validate here: both numbers are typed by hand at registration and on purchase records, and
//! a regulator's platform rejects (or, worse, mis-links) a record with a mistyped code. Both
//! standards carry a check character, so nearly every typo is caught at the counter, with an error
//! that says which character is wrong instead of "invalid".
//!
//! - 统一社会信用代码 (GB 32100-2015): 18 characters from `0-9 A-H J-N P-R T U W-Y` (no I O Z S V),
//!   positions 3–8 the GB/T 2260 region code, position 18 a MOD 31 check character.
//! - 居民身份证号 (GB 11643-1999): 17 digits (region, birth date YYYYMMDD, sequence) and an ISO 7064
//!   MOD 11-2 check character, `0-9` or `X`.
//!
//! A resident id is personal information (PIPL): its `Display` and `Debug` are masked; the full
//! number is only available through [`ResidentId::as_str`].

use super::mask::mask_resident_id;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a typed entity id is not valid. Positions are 1-based, as a person counts them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntityIdError {
    #[error("must be {expected} characters, got {found}")]
    Length { expected: usize, found: usize },
    #[error("character {ch:?} at position {position} is not allowed here ({allowed})")]
    Char {
        position: usize,
        ch: char,
        allowed: &'static str,
    },
    #[error("check character is wrong: expected {expected:?}, found {found:?}")]
    CheckChar { expected: char, found: char },
    #[error("birth date {0:?} (positions 7-14) is not a calendar date")]
    BirthDate(String),
}

/// GB 32100 code alphabet; a character's value is its index.
const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A 统一社会信用代码, validated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    /// Parse a typed code. Lowercase letters and surrounding spaces are accepted and normalised.
    pub fn parse(s: &str) -> Result<Self, EntityIdError> {
        let norm: String = s.trim().to_ascii_uppercase();
        let chars: Vec<char> = norm.chars().collect();
        if chars.len() != 18 {
            return Err(EntityIdError::Length {
                expected: 18,
                found: chars.len(),
            });
        }
        let mut values = [0u32; 18];
        for (i, &ch) in chars.iter().enumerate() {
            let position = i + 1;
            if (3..=8).contains(&position) && !ch.is_ascii_digit() {
                return Err(EntityIdError::Char {
                    position,
                    ch,
                    allowed: "a digit of the region code",
                });
            }
            let v = uscc_value(ch).ok_or(EntityIdError::Char {
                position,
                ch,
                allowed: "0-9 and A-Z except I O Z S V",
            })?;
            values[i] = v;
        }
        let expected = uscc_check_char(&values[..17]);
        if chars[17] != expected {
            return Err(EntityIdError::CheckChar {
                expected,
                found: chars[17],
            });
        }
        Ok(CreditCode(norm))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The GB/T 2260 region code of the registering authority (positions 3–8).
    pub fn region(&self) -> &str {
        &self.0[2..8]
    }
}

fn uscc_value(ch: char) -> Option<u32> {
    let b = u8::try_from(ch).ok()?;
    USCC_CHARSET
        .iter()
        .position(|&c| c == b)
        .and_then(|p| u32::try_from(p).ok())
}

/// The check character for 17 code values: `31 - (Σ value·weight mod 31)`, 31 mapping to `0`.
fn uscc_check_char(values: &[u32]) -> char {
    let sum: u32 = values.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
    let c = (31 - sum % 31) % 31;
    char::from(USCC_CHARSET[c as usize])
}

/// A 居民身份证号 (18-digit, second generation), validated. Display and Debug are masked.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResidentId(String);

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

impl ResidentId {
    /// Parse a typed number; a lowercase `x` is accepted and normalised.
    pub fn parse(s: &str) -> Result<Self, EntityIdError> {
        let norm = s.trim().to_ascii_uppercase();
        let chars: Vec<char> = norm.chars().collect();
        if chars.len() != 18 {
            return Err(EntityIdError::Length {
                expected: 18,
                found: chars.len(),
            });
        }
        let mut sum = 0u32;
        for (i, &ch) in chars[..17].iter().enumerate() {
            let d = ch.to_digit(10).ok_or(EntityIdError::Char {
                position: i + 1,
                ch,
                allowed: "a digit",
            })?;
            sum += d * ID_WEIGHTS[i];
        }
        let last = chars[17];
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(EntityIdError::Char {
                position: 18,
                ch: last,
                allowed: "a digit or X",
            });
        }
        let birth = &norm[6..14];
        if !is_calendar_date(birth) {
            return Err(EntityIdError::BirthDate(birth.to_owned()));
        }
        let expected = char::from(ID_CHECK[(sum % 11) as usize]);
        if last != expected {
            return Err(EntityIdError::CheckChar {
                expected,
                found: last,
            });
        }
        Ok(ResidentId(norm))
    }

    /// The full number. Handle with care: personal information.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `4401**********123X`: for screens, receipts and logs.
    pub fn masked(&self) -> String {
        mask_resident_id(&self.0)
    }
}

/// `YYYYMMDD` with a plausible year (1800–2199) and a day that exists in that month.
fn is_calendar_date(s: &str) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (
        s[0..4].parse::<u32>(),
        s[4..6].parse::<u32>(),
        s[6..8].parse::<u32>(),
    ) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1800..=2199).contains(&y) && (1..=days).contains(&d)
}

macro_rules! string_id_impls {
    ($t:ident) => {
        impl TryFrom<String> for $t {
            type Error = EntityIdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $t::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl FromStr for $t {
            type Err = EntityIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $t::parse(s)
            }
        }
    };
}
string_id_impls!(CreditCode);
string_id_impls!(ResidentId);

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published codes of well-known companies (checked against the GB 32100 algorithm).
    const VALID_USCC: &[&str] = &[
        "91350100M000100Y43",
        "914403001922038216",
        "9144030071526726XG",
        "91440300708461136T",
        "91110108551385082Q",
        "91330100799655058B",
    ];

    #[test]
    fn valid_credit_codes() {
        for c in VALID_USCC {
            let code = CreditCode::parse(c).unwrap_or_else(|e| panic!("{c}: {e}"));
            assert_eq!(code.as_str(), *c);
        }
        assert_eq!(
            CreditCode::parse(" 91350100m000100y43 ").unwrap().region(),
            "350100"
        );
    }

    #[test]
    fn credit_code_errors_say_what_is_wrong() {
        assert_eq!(
            CreditCode::parse("91350100M000100Y4"),
            Err(EntityIdError::Length {
                expected: 18,
                found: 17
            })
        );
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(EntityIdError::CheckChar {
                expected: '3',
                found: '4'
            })
        );
        assert!(matches!(
            CreditCode::parse("91350100MO00100Y43"),
            Err(EntityIdError::Char {
                position: 10,
                ch: 'O',
                ..
            })
        ));
        assert!(matches!(
            CreditCode::parse("9135A100M000100Y43"),
            Err(EntityIdError::Char { position: 5, .. })
        ));
    }

    #[test]
    fn every_single_character_change_is_caught() {
        for c in VALID_USCC {
            for i in 0..18 {
                for &alt in USCC_CHARSET {
                    let mut b = c.as_bytes().to_vec();
                    if b[i] == alt {
                        continue;
                    }
                    b[i] = alt;
                    let s = String::from_utf8(b).unwrap();
                    assert!(CreditCode::parse(&s).is_err(), "{s} accepted");
                }
            }
        }
    }

    #[test]
    fn resident_ids() {
        // GB 11643 sample numbers plus computed ones.
        for s in [
            "11010519491231002X",
            "440524188001010014",
            "440106199001011235",
            "440304198506120043",
        ] {
            ResidentId::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        assert_eq!(
            ResidentId::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
        assert_eq!(
            ResidentId::parse("440106199001011231"),
            Err(EntityIdError::CheckChar {
                expected: '5',
                found: '1'
            })
        );
        assert!(matches!(
            ResidentId::parse("4401061990010112A5"),
            Err(EntityIdError::Char { position: 17, .. })
        ));
        assert!(matches!(
            ResidentId::parse("440106199002301235"),
            Err(EntityIdError::BirthDate(_))
        ));
        assert!(matches!(
            ResidentId::parse("1234"),
            Err(EntityIdError::Length { found: 4, .. })
        ));
    }

    #[test]
    fn resident_id_is_masked_when_shown() {
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(id.to_string(), "1101**********002X");
        assert!(!format!("{id:?}").contains("19491231"));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"11010519491231002X\"");
        assert!(serde_json::from_str::<ResidentId>("\"110105194912310021\"").is_err());
    }
}
