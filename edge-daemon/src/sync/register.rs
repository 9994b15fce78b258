//! `baytrace-edge register`: take the credentials file `baytrace-cloud device add` issued into
//! the box's keys and config.
//!
//! Why the cloud's keys replace the box's own: the cloud generates the signing key and keeps
//! only its public half (see cloud-sync `provision`), so the box must sign with exactly that
//! key. Entries already in the ledger do not depend on it (the chain is hashes; signatures are
//! per message), so replacing it is safe; the previous key files are kept beside the new ones
//! (`*.before-register`) for support, never silently lost.
//!
//! The file format is `trace_core::credentials` (`v` = 1), shared with the cloud that writes it.

use super::SyncError;
use crate::config::{EdgeConfig, LoadedConfig};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use trace_core::DeviceId;

pub use trace_core::credentials::DeviceCredentials as CloudCredentials;

/// Where `register` keeps the credentials, relative to `data_dir`.
pub const CREDENTIALS_FILE: &str = "keys/cloud.credentials.json";

fn bad(path: &Path, detail: impl Into<String>) -> SyncError {
    SyncError::Credentials {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

/// Read and check a credentials file (version, algorithm, and that the signing key is the one
/// whose public half the cloud registered).
pub fn read_credentials(path: &Path) -> Result<CloudCredentials, SyncError> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
    CloudCredentials::from_json(&bytes).map_err(|e| bad(path, e.to_string()))
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
    let cred = read_credentials(credentials)?;
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
