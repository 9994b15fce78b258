//! `baytrace-cloud` configuration: defaults, then a TOML file, then the command line.
//!
//! Why one serde struct with `deny_unknown_fields`: a misspelt key in an operator's file must
//! fail at start-up with the file, line and key named (toml's error does that), not be silently
//! ignored while the cloud runs with a default the operator thought they had changed.

use crate::store::StoreSpec;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the cloud takes its MQTT from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// `mqtt://host:port` (plain) or `mqtts://host:port` (TLS) of an external broker
    /// (Mosquitto). Ignored when `embedded_broker` is set: the cloud then connects to its own.
    pub url: String,
    /// PEM CA certificate(s) the broker's TLS certificate must chain to (`mqtts://` only).
    /// Absent: the system's root certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Start an in-process broker (rumqttd) listening here (`127.0.0.1:0` = any free port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedded_broker: Option<SocketAddr>,
    /// The cloud's own MQTT account (the ACL lets it read every `up`/`state`, write `ack`/`down`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Shared-subscription group: every cloud instance in the group gets a share of the `up`
    /// traffic. Empty = plain subscription (one instance only).
    pub share_group: String,
    /// Largest accepted batch after decompression, bytes.
    pub max_payload: usize,
    /// Client id prefix; a random suffix keeps instances apart.
    pub client_id: String,
}

/// Where the cloud keeps its data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite` (the data folder's `cloud.sqlite`), `sqlite:PATH`, or
    /// `postgres://user[:password]@host[:port]/database` (several instances, one database).
    pub url: String,
    /// PostgreSQL: the schema holding the tables (created if missing); absent = `public`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// PostgreSQL: pooled connections per instance.
    pub pool_size: usize,
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &crate::postgres::redact_url(&self.url))
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// The whole configuration of `baytrace-cloud serve`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudConfig {
    /// Folder holding `cloud.sqlite` (created if missing).
    pub data_dir: PathBuf,
    /// HTTP listen address of the trace page, `/healthz` and `/metrics`.
    pub http: SocketAddr,
    /// Public host name printed into device credentials (the QR URLs point at it).
    pub public_host: String,
    pub mqtt: MqttConfig,
    pub store: StoreConfig,
}

impl std::fmt::Debug for CloudConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut mqtt = self.mqtt.clone();
        if mqtt.password.is_some() {
            mqtt.password = Some("<redacted>".into());
        }
        f.debug_struct("CloudConfig")
            .field("data_dir", &self.data_dir)
            .field("http", &self.http)
            .field("public_host", &self.public_host)
            .field("mqtt", &mqtt)
            .field("store", &self.store)
            .finish()
    }
}

impl Default for CloudConfig {
    fn default() -> Self {
        CloudConfig {
            data_dir: PathBuf::from("baytrace-cloud-data"),
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_host: "localhost:8080".into(),
            mqtt: MqttConfig {
                url: "mqtt://127.0.0.1:1883".into(),
                ca_file: None,
                embedded_broker: None,
                username: None,
                password: None,
                share_group: "baytrace-cloud".into(),
                max_payload: 4 * 1024 * 1024,
                client_id: "baytrace-cloud".into(),
            },
            store: StoreConfig {
                url: "sqlite".into(),
                schema: None,
                pool_size: 16,
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl CloudConfig {
    /// Read a TOML file; keys not given keep their defaults.
    pub fn load(path: &Path) -> Result<CloudConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let cfg = Self::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_owned(),
                message,
            },
            other => other,
        })?;
        Ok(cfg)
    }

    /// Parse TOML text over the defaults and validate.
    pub fn from_toml(text: &str) -> Result<CloudConfig, ConfigError> {
        // Merge over the defaults at the TOML level, so a file may give only what it changes.
        let mut base = toml::Value::try_from(CloudConfig::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let over: toml::Value = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::new(),
            message: e.to_string(),
        })?;
        merge(&mut base, over);
        let cfg: CloudConfig =
            base.try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: PathBuf::new(),
                    message: e.to_string(),
                })?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.mqtt.embedded_broker.is_none() {
            parse_mqtt_url(&self.mqtt.url)?;
        }
        if self.mqtt.max_payload < 1024 || self.mqtt.max_payload > 256 * 1024 * 1024 {
            return Err(ConfigError::Invalid(format!(
                "mqtt.max_payload {} is outside 1 KiB..=256 MiB",
                self.mqtt.max_payload
            )));
        }
        if self.mqtt.share_group.contains(['/', '+', '#']) {
            return Err(ConfigError::Invalid(
                "mqtt.share_group must not contain '/', '+' or '#'".into(),
            ));
        }
        self.store_spec()?;
        if !(1..=1024).contains(&self.store.pool_size) {
            return Err(ConfigError::Invalid(format!(
                "store.pool_size {} is outside 1..=1024",
                self.store.pool_size
            )));
        }
        if self.mqtt.client_id.is_empty() {
            return Err(ConfigError::Invalid("mqtt.client_id is empty".into()));
        }
        Ok(())
    }

    /// The default configuration as commented TOML (`config print-default`).
    pub fn default_toml() -> String {
        include_str!("../../config/cloud.example.toml").to_owned()
    }

    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("cloud.sqlite")
    }

    /// The store `[store]` names, checked.
    pub fn store_spec(&self) -> Result<StoreSpec, ConfigError> {
        let mut spec =
            StoreSpec::parse(&self.store.url, self.store_path()).map_err(ConfigError::Invalid)?;
        if let StoreSpec::Postgres(pg) = &mut spec {
            pg.schema = self.store.schema.clone();
            pg.pool_size = self.store.pool_size;
        } else if self.store.schema.is_some() {
            return Err(ConfigError::Invalid(
                "store.schema is for postgres:// stores only".into(),
            ));
        }
        Ok(spec)
    }
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// A parsed broker URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

/// `mqtt://host[:port]` (default 1883) or `mqtts://host[:port]` (TLS, default 8883).
pub fn parse_mqtt_url(url: &str) -> Result<BrokerUrl, ConfigError> {
    let (rest, tls) = if let Some(r) = url.strip_prefix("mqtts://") {
        (r, true)
    } else if let Some(r) = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
    {
        (r, false)
    } else {
        return Err(ConfigError::Invalid(format!(
            "mqtt.url {url:?} must start with mqtt:// or mqtts://"
        )));
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| ConfigError::Invalid(format!("mqtt.url {url:?}: bad port {p:?}")))?,
        ),
        None => (rest, if tls { 8883 } else { 1883 }),
    };
    if host.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "mqtt.url {url:?} has no host"
        )));
    }
    Ok(BrokerUrl {
        host: host.to_owned(),
        port,
        tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_is_the_default() {
        let cfg = CloudConfig::from_toml(&CloudConfig::default_toml()).unwrap();
        assert_eq!(cfg, CloudConfig::default());
    }

    #[test]
    fn partial_files_merge_and_typos_fail() {
        let cfg = CloudConfig::from_toml("[mqtt]\nshare_group = \"g2\"\n").unwrap();
        assert_eq!(cfg.mqtt.share_group, "g2");
        assert_eq!(cfg.mqtt.url, CloudConfig::default().mqtt.url);
        let err = CloudConfig::from_toml("[mqtt]\nshare_grup = \"g2\"\n").unwrap_err();
        assert!(err.to_string().contains("share_grup"), "{err}");
        assert!(CloudConfig::from_toml("[mqtt]\nurl = \"http://x\"\n").is_err());
        assert!(CloudConfig::from_toml("[mqtt]\nmax_payload = 3\n").is_err());
    }

    #[test]
    fn mqtt_urls() {
        let u = |h: &str, port, tls| BrokerUrl {
            host: h.into(),
            port,
            tls,
        };
        assert_eq!(
            parse_mqtt_url("mqtt://127.0.0.1:18830").unwrap(),
            u("127.0.0.1", 18830, false)
        );
        assert_eq!(
            parse_mqtt_url("mqtt://broker").unwrap(),
            u("broker", 1883, false)
        );
        assert_eq!(
            parse_mqtt_url("mqtts://broker").unwrap(),
            u("broker", 8883, true)
        );
        assert_eq!(parse_mqtt_url("mqtts://b:9").unwrap(), u("b", 9, true));
        assert!(parse_mqtt_url("https://b").is_err());
        assert!(parse_mqtt_url("mqtt://:1").is_err());
        assert!(parse_mqtt_url("mqtt://h:x").is_err());
    }

    #[test]
    fn store_section() {
        let cfg = CloudConfig::from_toml(
            "[store]\nurl = \"postgres://bt:pw@db/bt\"\nschema = \"market1\"\npool_size = 4\n",
        )
        .unwrap();
        let StoreSpec::Postgres(pg) = cfg.store_spec().unwrap() else {
            panic!("postgres")
        };
        assert_eq!((pg.schema.as_deref(), pg.pool_size), (Some("market1"), 4));
        assert!(!format!("{cfg:?}").contains(":pw@"));
        assert_eq!(
            CloudConfig::default().store_spec().unwrap(),
            StoreSpec::Sqlite(CloudConfig::default().store_path())
        );
        assert!(CloudConfig::from_toml("[store]\nurl = \"mysql://x\"\n").is_err());
        assert!(CloudConfig::from_toml("[store]\npool_size = 0\n").is_err());
        assert!(CloudConfig::from_toml("[store]\nschema = \"s\"\n").is_err());
    }

    #[test]
    fn password_is_redacted() {
        let mut cfg = CloudConfig::default();
        cfg.mqtt.password = Some("hunter2".into());
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}
