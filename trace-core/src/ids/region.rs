//! GB/T 2260 administrative region codes (产地, registration region).
//!
//! Why a type: the regulator's platforms filter origin by region code, so a purchase records the
//! 6-digit code next to the free-text place name. We validate the shape (six digits, a province
//! prefix that exists: 11–82), not membership in the current edition of the table, which changes
//! every year and would make old ledger entries fail to load.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A 6-digit GB/T 2260 region code, e.g. `440106` (广州市天河区).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    #[error("region code must be 6 digits, got {0:?}")]
    Shape(String),
    #[error("region code {0:?} does not start with a province code (11-82)")]
    Province(String),
}

impl RegionCode {
    pub fn parse(s: &str) -> Result<Self, RegionCodeError> {
        let s = s.trim();
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionCodeError::Shape(s.to_owned()));
        }
        let province: u32 = s[..2].parse().unwrap_or(0);
        if !(11..=82).contains(&province) {
            return Err(RegionCodeError::Province(s.to_owned()));
        }
        Ok(RegionCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The province part, e.g. `44` for 广东.
    pub fn province(&self) -> &str {
        &self.0[..2]
    }
}

impl TryFrom<String> for RegionCode {
    type Error = RegionCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        RegionCode::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(r: RegionCode) -> String {
        r.0
    }
}

impl FromStr for RegionCode {
    type Err = RegionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RegionCode::parse(s)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes() {
        assert_eq!(RegionCode::parse("440106").unwrap().province(), "44");
        assert!(matches!(
            RegionCode::parse("4401"),
            Err(RegionCodeError::Shape(_))
        ));
        assert!(matches!(
            RegionCode::parse("44010a"),
            Err(RegionCodeError::Shape(_))
        ));
        assert!(matches!(
            RegionCode::parse("990000"),
            Err(RegionCodeError::Province(_))
        ));
        assert!(serde_json::from_str::<RegionCode>("\"000000\"").is_err());
    }
}
