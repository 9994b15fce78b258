//! Identifiers: boxes ([`DeviceId`]), legal and natural persons ([`CreditCode`], [`ResidentId`]),
//! regions ([`RegionCode`]) and display masks for personal numbers.
//!
//! Ledger entry ids are [`ulid::Ulid`] (`Ulid::generate()`): sortable by creation time and unique
//! without coordination, so a box mints them offline.

mod entity;
mod mask;
mod region;

pub use entity::{CreditCode, EntityIdError, ResidentId};
pub use mask::{mask_middle, mask_phone, mask_resident_id};
pub use region::{RegionCode, RegionCodeError};
pub use ulid::Ulid;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A box's identity: 3–64 characters of `a-z 0-9 -`, starting with a letter or digit.
///
/// Why so narrow: it is a path segment of the MQTT topic `bt/v1/dev/{device}/…` and of broker
/// ACLs, so `/ + # $` and anything a shell or URL would mangle are excluded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("device id must be 3 to 64 characters, got {0}")]
    DeviceIdLength(usize),
    #[error(
        "device id may contain only a-z, 0-9 and '-', and must start with a letter or digit: {0:?}"
    )]
    DeviceIdChars(String),
}

impl DeviceId {
    pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
        let s = s.into();
        let n = s.chars().count();
        if !(3..=64).contains(&n) {
            return Err(IdError::DeviceIdLength(n));
        }
        let ok = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if !ok {
            return Err(IdError::DeviceIdChars(s));
        }
        Ok(DeviceId(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DeviceId::new(s)
    }
}

impl From<DeviceId> for String {
    fn from(d: DeviceId) -> String {
        d.0
    }
}

impl FromStr for DeviceId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeviceId::new(s)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids() {
        assert!(DeviceId::new("stall-a01").is_ok());
        assert_eq!(DeviceId::new("ab"), Err(IdError::DeviceIdLength(2)));
        assert!(matches!(
            DeviceId::new("Stall/1"),
            Err(IdError::DeviceIdChars(_))
        ));
        assert!(DeviceId::new("-abc").is_err());
        assert!(serde_json::from_str::<DeviceId>("\"a+b#c\"").is_err());
    }
}
