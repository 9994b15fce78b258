//! The credentials file the cloud issues for a box (`baytrace-cloud device add`) and the box
//! takes (`baytrace-edge register`): one contract, defined once, so the two sides cannot drift.
//!
//! JSON, `v` = 1: do not rename fields; add new ones as optional, as for the wire types.
//! Reading and writing the file is the callers' I/O; this module only parses and checks.

use crate::wire::sign::SignKey;
use crate::{DeviceId, HashAlg};
use serde::{Deserialize, Serialize};

pub const CREDENTIALS_VERSION: u16 = 1;

/// The box's MQTT login.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MqttCredentials {
    /// Broker URL the box connects to, `mqtt://host:port`.
    pub url: String,
    /// Equals the device id: the Mosquitto ACL pattern `bt/v1/dev/%u/#` relies on it.
    pub username: String,
    pub password: String,
}

/// Everything a box needs to join.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCredentials {
    pub v: u16,
    pub device: DeviceId,
    pub entity: String,
    /// 6-digit number the box's ticket codes start with.
    pub device_no: u32,
    pub hash_alg: HashAlg,
    /// `"ed25519"`: the batch signature algorithm.
    pub sign_alg: String,
    /// Hex of the 32-byte Ed25519 seed (the box's private signing key).
    pub signing_key: String,
    /// Hex of the 32-byte public key the cloud registered.
    pub public_key: String,
    /// Hex of the 32-byte ticket-code key (`TicketCodec::new(device_no, key)`).
    pub code_key: String,
    pub mqtt: MqttCredentials,
    /// Host of the public trace page; receipts' QR codes point at `/t/{code}` on it.
    pub public_host: String,
}

impl std::fmt::Debug for DeviceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCredentials")
            .field("device", &self.device)
            .field("device_no", &self.device_no)
            .field("public_key", &self.public_key)
            .field("secrets", &"<redacted>")
            .finish()
    }
}

/// What is wrong with a credentials file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("credentials are not valid JSON of version {CREDENTIALS_VERSION}: {0}")]
    Json(String),
    #[error("credentials version {0} is unknown (this build reads {CREDENTIALS_VERSION})")]
    Version(u16),
    #[error("sign_alg {0:?} is unsupported; use ed25519")]
    SignAlg(String),
    #[error("credentials field {0} is not 32 bytes of hex")]
    NotHex32(&'static str),
    #[error("signing_key does not match public_key: the file was edited or mixed up")]
    KeyMismatch,
}

impl DeviceCredentials {
    /// Parse and check: version, algorithm, key sizes, and that the signing key is the one whose
    /// public half the cloud registered.
    pub fn from_json(bytes: &[u8]) -> Result<DeviceCredentials, CredentialsError> {
        let c: DeviceCredentials =
            serde_json::from_slice(bytes).map_err(|e| CredentialsError::Json(e.to_string()))?;
        if c.v != CREDENTIALS_VERSION {
            return Err(CredentialsError::Version(c.v));
        }
        if c.sign_alg != "ed25519" {
            return Err(CredentialsError::SignAlg(c.sign_alg));
        }
        let public = hex32("public_key", &c.public_key)?;
        c.code_key()?;
        if c.sign_key()?.verify_key().to_bytes() != public {
            return Err(CredentialsError::KeyMismatch);
        }
        Ok(c)
    }

    /// The box's signing key.
    pub fn sign_key(&self) -> Result<SignKey, CredentialsError> {
        Ok(SignKey::ed25519_from_seed(&hex32(
            "signing_key",
            &self.signing_key,
        )?))
    }

    /// The ticket-code key.
    pub fn code_key(&self) -> Result<[u8; 32], CredentialsError> {
        hex32("code_key", &self.code_key)
    }
}

fn hex32(field: &'static str, s: &str) -> Result<[u8; 32], CredentialsError> {
    hex::decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(CredentialsError::NotHex32(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DeviceCredentials {
        let seed = [7u8; 32];
        let public = SignKey::ed25519_from_seed(&seed).verify_key().to_bytes();
        DeviceCredentials {
            v: CREDENTIALS_VERSION,
            device: DeviceId::new("stall-a01").unwrap(),
            entity: "陈记鲜档".into(),
            device_no: 123_456,
            hash_alg: HashAlg::Sha256,
            sign_alg: "ed25519".into(),
            signing_key: hex::encode(seed),
            public_key: hex::encode(public),
            code_key: hex::encode([9u8; 32]),
            mqtt: MqttCredentials {
                url: "mqtt://127.0.0.1:1883".into(),
                username: "stall-a01".into(),
                password: "pw".into(),
            },
            public_host: "trace.example".into(),
        }
    }

    #[test]
    fn round_trip_and_checks() {
        let c = sample();
        let json = serde_json::to_vec(&c).unwrap();
        assert_eq!(DeviceCredentials::from_json(&json).unwrap(), c);
        assert!(
            !format!("{c:?}").contains(&c.signing_key),
            "Debug redacts secrets"
        );

        let mut other = sample();
        other.public_key = hex::encode([1u8; 32]);
        let json = serde_json::to_vec(&other).unwrap();
        assert_eq!(
            DeviceCredentials::from_json(&json),
            Err(CredentialsError::KeyMismatch)
        );

        let mut bad = sample();
        bad.code_key = "abcd".into();
        let json = serde_json::to_vec(&bad).unwrap();
        assert_eq!(
            DeviceCredentials::from_json(&json),
            Err(CredentialsError::NotHex32("code_key"))
        );
        let mut v2 = sample();
        v2.v = 2;
        let json = serde_json::to_vec(&v2).unwrap();
        assert_eq!(
            DeviceCredentials::from_json(&json),
            Err(CredentialsError::Version(2))
        );
        assert!(matches!(
            DeviceCredentials::from_json(b"{"),
            Err(CredentialsError::Json(_))
        ));
    }
}
