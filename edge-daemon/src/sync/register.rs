//! `baytrace-edge register`: take the credentials file `baytrace-cloud device add` issued into
//! the box's keys and config.
//!
//! Why the cloud's keys replace the box's own: the cloud generates the signing key and keeps
//! only its public half (see cloud-sync `provision`), so the box must sign with exactly that
//! key. Entries already in the ledger do not depend on it (the chain is hashes; signatures are
//! per message), so replacing it is safe; the previous key files are kept beside the new ones
//! (`*.before-register`) for support, never silently lost.
//!
//! The file format mirrors cloud-sync's `DeviceCredentials` (`v` = 1); it is read here with a
//! struct of its own so the box does not depend on the cloud crate.

use super::SyncError;
use crate::config::{EdgeConfig, LoadedConfig};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use trace_core::wire::sign::SignKey;
use trace_core::{DeviceId, HashAlg};

pub const CREDENTIALS_VERSION: u16 = 1;
/// Where `register` keeps the credentials, relative to `data_dir`.
pub const CREDENTIALS_FILE: &str = "keys/cloud.credentials.json";

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MqttLogin {
    pub url: String,
    pub username: String,
    pub password: String,
}

/// The cloud-issued credentials of one box.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudCredentials {
    pub v: u16,
    pub device: DeviceId,
    pub entity: String,
    pub device_no: u32,
    pub hash_alg: HashAlg,
    pub sign_alg: String,
    pub signing_key: String,
    pub public_key: String,
    pub code_key: String,
    pub mqtt: MqttLogin,
    pub public_host: String,
}

impl std::fmt::Debug for CloudCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudCredentials")
            .field("device", &self.device)
            .field("device_no", &self.device_no)
            .field("public_key", &self.public_key)
            .field("secrets", &"<redacted>")
            .finish()
    }
}

fn bad(path: &Path, detail: impl Into<String>) -> SyncError {
    SyncError::Credentials {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

fn hex32(path: &Path, field: &str, s: &str) -> Result<[u8; 32], SyncError> {
    hex::decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad(path, format!("{field} is not 32 bytes of hex")))
}

impl CloudCredentials {
    /// Read and check a credentials file: version, algorithm, and that the signing key is the
    /// one whose public half the cloud registered.
    pub fn read(path: &Path) -> Result<CloudCredentials, SyncError> {
        let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
        let c: CloudCredentials =
            serde_json::from_slice(&bytes).map_err(|e| bad(path, e.to_string()))?;
        if c.v != CREDENTIALS_VERSION {
            return Err(bad(path, format!("credentials version {} unknown", c.v)));
        }
        if c.sign_alg != "ed25519" {
            return Err(bad(path, format!("sign_alg {:?} unsupported", c.sign_alg)));
        }
        let public = hex32(path, "public_key", &c.public_key)?;
        hex32(path, "code_key", &c.code_key)?;
        if c.sign_key(path)?.verify_key().to_bytes() != public {
            return Err(bad(path, "signing_key does not match public_key"));
        }
        Ok(c)
    }

    pub fn sign_key(&self, path: &Path) -> Result<SignKey, SyncError> {
        Ok(SignKey::ed25519_from_seed(&hex32(
            path,
            "signing_key",
            &self.signing_key,
        )?))
    }
}

/// What `register` changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub device: DeviceId,
    pub broker: String,
    pub public_host: String,
    pub credentials: PathBuf,
}

/// Install `credentials` into the box configured by `config`: key files, a private copy of the
/// credentials, and `[sync]` (enabled, broker, credentials, public host). Refuses credentials
/// for another device or hash algorithm, changing nothing. Running it twice is harmless.
pub fn register(credentials: &Path, config: &Path) -> Result<Registered, SyncError> {
    let cred = CloudCredentials::read(credentials)?;
    let loaded = EdgeConfig::load_with_env(config, std::iter::empty())
        .map_err(|e| bad(config, e.to_string()))?;
    let cfg = &loaded.config;
    if cfg.device.id != cred.device {
        return Err(bad(
            credentials,
            format!(
                "these credentials are for {}, but this box is {}",
                cred.device, cfg.device.id
            ),
        ));
    }
    if cfg.device.hash_alg != cred.hash_alg {
        return Err(bad(
            credentials,
            format!(
                "the cloud registered hash {}, this box uses {}",
                cred.hash_alg.as_str(),
                cfg.device.hash_alg.as_str()
            ),
        ));
    }
    install_keys(&loaded, &cred)?;
    let copy = loaded.data_dir().join(CREDENTIALS_FILE);
    let json = serde_json::to_vec_pretty(&cred).map_err(|e| bad(credentials, e.to_string()))?;
    write_atomic(&copy, &json, 0o600)?;
    let mut new_cfg = cfg.clone();
    new_cfg.sync.enabled = true;
    new_cfg.sync.broker = cred.mqtt.url.clone();
    new_cfg.sync.credentials = Some(PathBuf::from(CREDENTIALS_FILE));
    new_cfg.sync.public_host = Some(cred.public_host.clone());
    write_atomic(config, new_cfg.to_toml().as_bytes(), 0o644)?;
    Ok(Registered {
        device: cred.device,
        broker: cred.mqtt.url,
        public_host: cred.public_host,
        credentials: copy,
    })
}

fn install_keys(loaded: &LoadedConfig, cred: &CloudCredentials) -> Result<(), SyncError> {
    let signing = format!("{}\n", cred.signing_key.to_ascii_lowercase());
    let ticket = format!("{}\n", cred.code_key.to_ascii_lowercase());
    let public = format!("{}\n", cred.public_key.to_ascii_lowercase());
    let sp = loaded.signing_key_path();
    for (path, text, mode) in [
        (sp.clone(), signing, 0o600),
        (loaded.ticket_key_path(), ticket, 0o600),
        (sp.with_extension("pub"), public, 0o644),
    ] {
        if let Ok(old) = std::fs::read_to_string(&path)
            && old.trim() != text.trim()
        {
            let keep = PathBuf::from(format!("{}.before-register", path.display()));
            if !keep.exists() {
                std::fs::rename(&path, &keep).map_err(|e| bad(&path, e.to_string()))?;
            }
        }
        write_atomic(&path, text.as_bytes(), mode)?;
    }
    Ok(())
}

/// Write `bytes` to `path` through a temporary file and a rename, synced, with `mode`.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SyncError> {
    let err = |e: std::io::Error| bad(path, e.to_string());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(err)?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}
