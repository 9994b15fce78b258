//! The device's secret keys, written once by `init`.
//!
//! Two keys, because they do two different jobs: an Ed25519 signing key proves entries and the
//! signed ticket copies come from this box (the cloud registers its public half), and a 32-byte
//! ticket code key drives the keyed permutation that makes ticket codes unguessable. Files are
//! hex text, created with mode 0600 and `create_new`, so `init` can never overwrite a key (a
//! lost signing key orphans every receipt it signed).

use ed25519_dalek::SigningKey;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path} already exists: refusing to overwrite a device key")]
    Exists { path: PathBuf },
    #[error("cannot write {path}: {detail}")]
    Write { path: PathBuf, detail: String },
    #[error("cannot read key {path}: {detail}")]
    Read { path: PathBuf, detail: String },
}

impl KeyError {
    pub fn kind(&self) -> std::io::ErrorKind {
        match self {
            KeyError::Exists { .. } => std::io::ErrorKind::AlreadyExists,
            KeyError::Write { .. } | KeyError::Read { .. } => std::io::ErrorKind::Other,
        }
    }
}

/// Keys created by `init`; secrets are redacted from `Debug`.
pub struct DeviceKeys {
    pub signing: SigningKey,
    pub ticket_key: [u8; 32],
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKeys")
            .field(
                "public",
                &hex::encode(self.signing.verifying_key().as_bytes()),
            )
            .field("signing", &"<redacted>")
            .field("ticket_key", &"<redacted>")
            .finish()
    }
}

impl DeviceKeys {
    pub fn generate() -> Self {
        DeviceKeys {
            signing: SigningKey::from_bytes(&rand::random::<[u8; 32]>()),
            ticket_key: rand::random(),
        }
    }

    /// The public key to register with the cloud, hex.
    pub fn public_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().as_bytes())
    }

    /// Write both secrets (0600, never overwriting) and the public key beside the signing key.
    pub fn write(&self, signing: &Path, ticket: &Path) -> Result<(), KeyError> {
        write_new(signing, &hex::encode(self.signing.to_bytes()), 0o600)?;
        write_new(ticket, &hex::encode(self.ticket_key), 0o600)?;
        write_new(&signing.with_extension("pub"), &self.public_hex(), 0o644)
    }

    pub fn read(signing: &Path, ticket: &Path) -> Result<Self, KeyError> {
        Ok(DeviceKeys {
            signing: SigningKey::from_bytes(&read_32(signing)?),
            ticket_key: read_32(ticket)?,
        })
    }
}

fn write_new(path: &Path, hex_text: &str, mode: u32) -> Result<(), KeyError> {
    let err = |e: std::io::Error| KeyError::Write {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists {
                    path: path.to_path_buf(),
                }
            } else {
                err(e)
            }
        })?;
    f.write_all(format!("{hex_text}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(err)
}

fn read_32(path: &Path) -> Result<[u8; 32], KeyError> {
    let err = |detail: String| KeyError::Read {
        path: path.to_path_buf(),
        detail,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let bytes = hex::decode(text.trim()).map_err(|e| err(format!("not hex: {e}")))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| err(format!("expected 32 bytes, found {}", b.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn written_keys_are_private_read_back_and_never_overwritten() {
        let d = tempfile::tempdir().unwrap();
        let (s, t) = (
            d.path().join("k/signing.key"),
            d.path().join("k/ticket.key"),
        );
        let k = DeviceKeys::generate();
        k.write(&s, &t).unwrap();
        for p in [&s, &t] {
            let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        let back = DeviceKeys::read(&s, &t).unwrap();
        assert_eq!(back.public_hex(), k.public_hex());
        assert_eq!(back.ticket_key, k.ticket_key);
        let again = DeviceKeys::generate().write(&s, &t).unwrap_err();
        assert!(matches!(again, KeyError::Exists { .. }));
        assert_eq!(
            DeviceKeys::read(&s, &t).unwrap().public_hex(),
            k.public_hex()
        );
        assert!(!format!("{back:?}").contains(&hex::encode(back.ticket_key)));
    }
}
