//! `edge.toml`: the box's configuration, in layers: defaults → file → environment.
//!
//! Why this shape: an installer edits one small file; everything not written there has a
//! default, so the file says only what is particular to this box. Unknown keys are errors
//! (`deny_unknown_fields`), because a misspelt key silently ignored is a box configured wrong
//! with nobody told. Every error names the file, line and key. The environment overrides a
//! single key as `BAYTRACE_<SECTION>__<KEY>` (double underscore between levels, since keys
//! contain single ones), e.g. `BAYTRACE_DEVICE__HASH_ALG=sm3`; values parse as TOML values and
//! fall back to strings. Relative paths are relative to the config file's directory.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use trace_core::{DeviceId, HashAlg};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeConfig {
    pub device: DeviceConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub keys: KeysConfig,
    #[serde(default)]
    pub sync: SyncConfig,
    #[serde(default)]
    pub ui: UiConfig,
    #[serde(default)]
    pub log: LogConfig,
    /// A production line box: the job it runs and its line screen (see `crate::line::config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<crate::line::config::LineSection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// This box's identity: `a-z 0-9 -`, 3–64 characters; part of every MQTT topic.
    pub id: DeviceId,
    /// Hash chain algorithm; fixed when the ledger is created.
    #[serde(default)]
    pub hash_alg: HashAlg,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    /// The ledger file, relative to `data_dir`.
    pub ledger: PathBuf,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("."),
            ledger: PathBuf::from("ledger.sqlite3"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// Ed25519 signing key (32 raw bytes, hex), relative to `data_dir`. Mode 0600.
    pub signing_key: PathBuf,
    /// 32-byte ticket code key (hex), relative to `data_dir`. Mode 0600.
    pub ticket_key: PathBuf,
}

impl Default for KeysConfig {
    fn default() -> Self {
        KeysConfig {
            signing_key: PathBuf::from("keys/signing.key"),
            ticket_key: PathBuf::from("keys/ticket.key"),
        }
    }
}

/// Cloud sync over MQTT (see `crate::sync`). Every key has a default, so configs written
/// before sync existed still load; `baytrace-edge register` fills `broker` and `credentials`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    pub enabled: bool,
    /// `mqtt://host:port`.
    pub broker: String,
    /// The credentials JSON `baytrace-cloud device add` issued (MQTT login), relative to
    /// `data_dir`. None: connect without a login (embedded broker on one machine).
    pub credentials: Option<PathBuf>,
    /// Entries per `up` message.
    pub batch_size: usize,
    /// Batches published and not yet acknowledged by the cloud (pipelining).
    pub inflight: usize,
    /// After a (re)connect, this many newest entries go before the backlog (live-first).
    pub live_first: u64,
    /// Re-send everything unacknowledged after this long without an `Ack`.
    pub ack_timeout_secs: u64,
    /// How often the retained `state` is refreshed.
    pub state_interval_secs: u64,
    /// How often the ledger head is checked for new entries.
    pub poll_ms: u64,
    /// Alarm (log + `disk_low` fault) when the ledger's file system has less free space.
    pub disk_low_mb: u64,
    /// Host of the public trace page (receipts' QR codes), from the credentials.
    pub public_host: Option<String>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            enabled: false,
            broker: "mqtt://127.0.0.1:1883".into(),
            credentials: None,
            batch_size: 500,
            inflight: 8,
            live_first: 200,
            ack_timeout_secs: 10,
            state_interval_secs: 30,
            poll_ms: 100,
            disk_low_mb: 64,
            public_host: None,
        }
    }
}

/// The stall's touchscreen UI and the devices it drives (see `crate::ui`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    pub enabled: bool,
    pub listen: SocketAddr,
    /// Printed on every receipt.
    pub market: String,
    pub stall_name: String,
    pub stall_no: String,
    /// Base of the public trace URL in the receipt QR (`{public_base}/t/{code}`). Default:
    /// `https://{sync.public_host}` once registered.
    pub public_base: Option<String>,
    /// Ticket-code device number when the box is not registered yet (the registered one
    /// comes from the credentials).
    pub device_no: Option<u32>,
    /// Receipt paper width, 58 or 80 mm.
    pub paper_mm: u16,
    /// Largest voucher photo accepted, KiB.
    pub max_photo_kb: u64,
    /// Who may log in with which PIN (4–8 digits).
    pub users: Vec<crate::ui::UiUser>,
    /// The product buttons of the sale screen.
    pub products: Vec<crate::stall::Product>,
    /// Scale, scanner and receipt printer (`driver = "toledo-continuous"`, `"escpos"`, …).
    pub devices: Vec<device_drivers::manager::DeviceConfig>,
    /// How the label scale lays out the EAN-13 on its stickers (`[ui.label]`), read when a
    /// label is scanned on the sale screen.
    pub label: trace_core::label::LabelLayout,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            market: String::new(),
            stall_name: String::new(),
            stall_no: String::new(),
            public_base: None,
            device_no: None,
            paper_mm: 80,
            max_photo_kb: 2048,
            users: Vec::new(),
            products: Vec::new(),
            devices: Vec::new(),
            label: trace_core::label::LabelLayout::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter, e.g. `info` or `edge_daemon=debug,info`.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {detail}")]
    Read { path: PathBuf, detail: String },
    #[error("{path}:{line}:{column}: key `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        key: String,
        message: String,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
}

impl EdgeConfig {
    /// A config for `device` with every other value at its default.
    pub fn for_device(device: DeviceId, hash_alg: HashAlg) -> Self {
        EdgeConfig {
            device: DeviceConfig {
                id: device,
                hash_alg,
            },
            storage: StorageConfig::default(),
            keys: KeysConfig::default(),
            sync: SyncConfig::default(),
            ui: UiConfig::default(),
            log: LogConfig::default(),
            line: None,
        }
    }

    /// The text `config print-default` prints and `init` writes.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).unwrap_or_default();
        format!(
            "# baytrace-edge configuration. Every key except device.id has a default.\n\
             # Override one key from the environment as BAYTRACE_<SECTION>__<KEY>,\n\
             # e.g. BAYTRACE_LOG__LEVEL=debug. Relative paths are relative to this file.\n\n{body}"
        )
    }

    /// Load `path` (layers: defaults, the file, then `BAYTRACE_…` from the environment).
    pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
        Self::load_with_env(path, std::env::vars())
    }

    pub fn load_with_env(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<LoadedConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let file_cfg: EdgeConfig = parse(&text).map_err(|e| located(path, &text, &e))?;
        let overrides: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("BAYTRACE_") && k.contains("__"))
            .collect();
        let config = if overrides.is_empty() {
            file_cfg
        } else {
            apply_env(&text, &overrides)?
        };
        if let Some(line) = &config.line
            && let Err(e) = line.validate()
        {
            return Err(key_error(
                path,
                &text,
                &format!("line.{}", e.key),
                e.message,
            ));
        }
        if let Err(e) = config.ui.label.validate() {
            return Err(key_error(
                path,
                &text,
                &format!("ui.label.{}", e.key),
                e.message,
            ));
        }
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Ok(LoadedConfig {
            config,
            file: path.to_path_buf(),
            base,
        })
    }
}

fn parse(text: &str) -> Result<EdgeConfig, toml::de::Error> {
    toml::from_str(text)
}

/// Overlay `BAYTRACE_A__B=value` onto the file's table and deserialise again.
fn apply_env(text: &str, overrides: &[(String, String)]) -> Result<EdgeConfig, ConfigError> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Env {
        var: "(file)".into(),
        message: e.to_string(),
    })?;
    for (var, raw) in overrides {
        let keys: Vec<String> = var["BAYTRACE_".len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        let mut t = &mut table;
        for k in &keys[..keys.len() - 1] {
            t = t
                .entry(k.clone())
                .or_insert_with(|| toml::Value::Table(Default::default()))
                .as_table_mut()
                .ok_or_else(|| ConfigError::Env {
                    var: var.clone(),
                    message: format!("`{k}` is not a section"),
                })?;
        }
        t.insert(keys[keys.len() - 1].clone(), value);
        EdgeConfig::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
            ConfigError::Env {
                var: var.clone(),
                message: e.message().to_string(),
            }
        })?;
    }
    EdgeConfig::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Env {
        var: "BAYTRACE_*".into(),
        message: e.message().to_string(),
    })
}

/// Turn a toml error into file:line:column plus the dotted key at that place.
fn located(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let offset = e.span().map_or(0, |s| s.start).min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        column,
        key: key_at(text, offset, e.message()),
        message: e.message().to_string(),
    }
}

/// The dotted key at `offset`: the `[section]` above it plus the `key =` on its line; for
/// "unknown field"/"missing field" messages the named field.
fn key_at(text: &str, offset: usize, message: &str) -> String {
    let mut section = String::new();
    let mut key = None;
    let mut pos = 0;
    for l in text.split_inclusive('\n') {
        let t = l.trim();
        if pos > offset {
            break;
        }
        if t.starts_with('[') {
            section = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            key = None;
        } else if offset < pos + l.len() {
            key = t
                .split_once('=')
                .map(|(k, _)| k.trim().trim_matches('"').to_string());
        }
        pos += l.len();
    }
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| message.split_once(p))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(k, _)| k.to_string());
    let leaf = named.or(key);
    match (section.is_empty(), leaf) {
        (true, Some(k)) => k,
        (false, Some(k)) => format!("{section}.{k}"),
        (false, None) => section,
        (true, None) => "(top level)".into(),
    }
}

/// A value serde accepted but validation refused: file:line of the dotted `key` (or of the
/// nearest section header above it that the file has).
fn key_error(path: &Path, text: &str, key: &str, message: String) -> ConfigError {
    let mut section = String::new();
    let mut found: Option<usize> = None;
    let mut header: Option<usize> = None;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') && !t.starts_with("[[") {
            section = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            if key.starts_with(&format!("{section}.")) {
                header = Some(i);
            }
            continue;
        }
        let Some((k, _)) = t.split_once('=') else {
            continue;
        };
        let k = k.trim().trim_matches('"');
        let full = if section.is_empty() {
            k.to_string()
        } else {
            format!("{section}.{k}")
        };
        if full == key {
            found = Some(i);
            break;
        }
    }
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line: found.or(header).map_or(1, |i| i + 1),
        column: 1,
        key: key.to_string(),
        message,
    }
}

/// A config with the place it came from, for resolving relative paths.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: EdgeConfig,
    pub file: PathBuf,
    pub base: PathBuf,
}

impl LoadedConfig {
    pub fn data_dir(&self) -> PathBuf {
        let d = &self.config.storage.data_dir;
        if d.as_os_str() == "." {
            self.base.clone()
        } else {
            self.base.join(d)
        }
    }

    pub fn ledger_path(&self) -> PathBuf {
        self.data_dir().join(&self.config.storage.ledger)
    }

    pub fn signing_key_path(&self) -> PathBuf {
        self.data_dir().join(&self.config.keys.signing_key)
    }

    pub fn ticket_key_path(&self) -> PathBuf {
        self.data_dir().join(&self.config.keys.ticket_key)
    }

    /// The MQTT credentials file, when `[sync] credentials` is set.
    pub fn sync_credentials_path(&self) -> Option<PathBuf> {
        self.config
            .sync
            .credentials
            .as_ref()
            .map(|c| self.data_dir().join(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("edge.toml");
        std::fs::write(&p, text).unwrap();
        (d, p)
    }

    #[test]
    fn defaults_fill_what_the_file_omits() {
        let (_d, p) = write("[device]\nid = \"stall-a01\"\n");
        let c = EdgeConfig::load_with_env(&p, []).unwrap();
        assert_eq!(c.config.device.hash_alg, HashAlg::Sha256);
        assert_eq!(c.ledger_path(), p.parent().unwrap().join("ledger.sqlite3"));
    }

    #[test]
    fn print_default_round_trips() {
        let c = EdgeConfig::for_device(DeviceId::new("stall-a01").unwrap(), HashAlg::Sm3);
        let (_d, p) = write(&c.to_toml());
        assert_eq!(EdgeConfig::load_with_env(&p, []).unwrap().config, c);
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let (_d, p) = write("[device]\nid = \"stall-a01\"\n\n[storage]\ndata_dri = \"/x\"\n");
        let e = EdgeConfig::load_with_env(&p, []).unwrap_err().to_string();
        assert!(e.contains("edge.toml:5:"), "{e}");
        assert!(e.contains("storage.data_dri"), "{e}");
    }

    #[test]
    fn bad_value_names_line_and_key() {
        let (_d, p) = write("[device]\nid = \"Stall A\"\n");
        let e = EdgeConfig::load_with_env(&p, []).unwrap_err().to_string();
        assert!(e.contains(":2:") && e.contains("device.id"), "{e}");
        let (_d, p) = write("[device]\nid = \"stall-a01\"\n[ui]\nlisten = \"nowhere\"\n");
        let e = EdgeConfig::load_with_env(&p, []).unwrap_err().to_string();
        assert!(e.contains(":4:") && e.contains("ui.listen"), "{e}");
    }

    #[test]
    fn a_bad_line_section_names_line_and_key() {
        let base = "[device]\nid = \"line-a01\"\n\n[line]\njob = \"J1\"\nbatch = \"B1\"\n\
                    template = \"t\"\ncount = 10\n\
                    users = [{ name = \"王\", role = \"owner\", pin = \"2468\" }]\n\
                    [line.coder]\nprotocol = \"tij\"\nconnect = \"tcp://127.0.0.1:9\"\n";
        let (_d, p) = write(base);
        assert!(
            EdgeConfig::load_with_env(&p, [])
                .unwrap()
                .config
                .line
                .is_some()
        );
        let (_d, p) = write(&format!("{base}[line.water]\nlow = 50\nhigh = 20\n"));
        let e = EdgeConfig::load_with_env(&p, []).unwrap_err().to_string();
        assert!(
            e.contains("edge.toml:14:") && e.contains("line.water.low"),
            "{e}"
        );
        let (_d, p) = write(&base.replace("protocol = \"tij\"", "protocol = \"laser\""));
        let e = EdgeConfig::load_with_env(&p, []).unwrap_err().to_string();
        assert!(
            e.contains(":11:") && e.contains("line.coder.protocol"),
            "{e}"
        );
    }

    #[test]
    fn a_label_layout_that_is_no_ean13_names_line_and_key() {
        let base = "[device]\nid = \"stall-a01\"\n\n[ui.label]\n";
        let (_d, p) = write(&format!("{base}item_digits = 4\namount_digits = 6\n"));
        let c = EdgeConfig::load_with_env(&p, []).unwrap().config;
        assert_eq!(c.ui.label.amount_digits, 6);
        let (_d, p) = write(&format!("{base}price_flags = [1]\nitem_digits = 6\n"));
        let e = EdgeConfig::load_with_env(&p, []).unwrap_err().to_string();
        assert!(
            e.contains("edge.toml:6:") && e.contains("ui.label.item_digits"),
            "{e}"
        );
        let (_d, p) = write(&format!("{base}weight_flags = [1]\n"));
        let e = EdgeConfig::load_with_env(&p, []).unwrap_err().to_string();
        assert!(
            e.contains("edge.toml:5:") && e.contains("ui.label.weight_flags"),
            "{e}"
        );
        let (_d, p) = write(&format!("{base}flags = [1]\n"));
        let e = EdgeConfig::load_with_env(&p, []).unwrap_err().to_string();
        assert!(e.contains(":5:") && e.contains("ui.label.flags"), "{e}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let (_d, p) = write("[device]\nid = \"stall-a01\"\n");
        let env = [
            ("BAYTRACE_DEVICE__HASH_ALG".to_string(), "sm3".to_string()),
            ("BAYTRACE_SYNC__ENABLED".to_string(), "true".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let c = EdgeConfig::load_with_env(&p, env).unwrap().config;
        assert_eq!(c.device.hash_alg, HashAlg::Sm3);
        assert!(c.sync.enabled);
        let bad = [("BAYTRACE_DEVICE__COLOUR".to_string(), "red".to_string())];
        let e = EdgeConfig::load_with_env(&p, bad).unwrap_err().to_string();
        assert!(
            e.contains("BAYTRACE_DEVICE__COLOUR") && e.contains("colour"),
            "{e}"
        );
    }
}
