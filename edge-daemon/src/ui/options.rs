//! What the UI needs from the box's configuration, resolved once at start.

use crate::config::{LoadedConfig, UiConfig};
use crate::keys::DeviceKeys;
use std::path::PathBuf;
use trace_core::wire::sign::SignKey;
use trace_core::{DeviceId, TicketCodec};

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("local UI: {0}")]
    Config(String),
    #[error("local UI cannot listen on {addr}: {detail}")]
    Bind { addr: String, detail: String },
    #[error("local UI devices: {0}")]
    Devices(String),
}

/// Everything the UI server runs with.
#[derive(Debug, Clone)]
pub struct UiOptions {
    pub ui: UiConfig,
    pub device: DeviceId,
    pub ledger: PathBuf,
    pub codec: TicketCodec,
    pub sign_key: SignKey,
    /// `https://trace.example.cn` — receipts' QR: `{public_base}/t/{code}#{fragment}`.
    pub public_base: String,
    /// Downlink documents (`key_directory.json`, `inspections.json`, …).
    pub docs_dir: PathBuf,
    /// Voucher photos, by content hash.
    pub blobs_dir: PathBuf,
}

impl UiOptions {
    pub fn from_config(c: &LoadedConfig) -> Result<UiOptions, UiError> {
        let keys = DeviceKeys::read(&c.signing_key_path(), &c.ticket_key_path())
            .map_err(|e| UiError::Config(e.to_string()))?;
        // The registered device number wins: codes must be unique across the whole market.
        let registered = c
            .sync_credentials_path()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| trace_core::credentials::DeviceCredentials::from_json(&b).ok());
        let device_no = registered
            .as_ref()
            .map(|r| r.device_no)
            .or(c.config.ui.device_no)
            .ok_or_else(|| {
                UiError::Config(
                    "no ticket device number: register the box (baytrace-edge register) or set \
                     ui.device_no"
                        .into(),
                )
            })?;
        let codec = TicketCodec::new(device_no, &keys.ticket_key)
            .map_err(|e| UiError::Config(format!("ui.device_no: {e}")))?;
        let public_base = c
            .config
            .ui
            .public_base
            .clone()
            .or_else(|| {
                c.config
                    .sync
                    .public_host
                    .as_ref()
                    .map(|h| format!("https://{h}"))
            })
            .unwrap_or_else(|| "https://trace.invalid".into());
        Ok(UiOptions {
            ui: c.config.ui.clone(),
            device: c.config.device.id.clone(),
            ledger: c.ledger_path(),
            codec,
            sign_key: SignKey::Ed25519(keys.signing),
            public_base: public_base.trim_end_matches('/').to_owned(),
            docs_dir: c.data_dir().join("docs"),
            blobs_dir: c.data_dir().join("blobs"),
        })
    }
}
