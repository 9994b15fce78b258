//! `[line]` in `edge.toml`: the production job a line box runs and the screen it serves.
//!
//! Why in the config file and not typed at the screen: the job (batch, template, coder) is
//! decided by production planning and set up by the installer; the operator at the line only
//! starts, pauses, resumes and stops it. A box with a `[line]` section serves the line screen
//! from `baytrace-edge run`.
//!
//! ```toml
//! [line]
//! listen = "0.0.0.0:8090"
//! line_name = "1号灌装线"
//! job = "L1-20261122-01"
//! batch = "B20261122"
//! template = "milk-250ml-unit"     # saved with `codes template add`; its pool feeds the job
//! product = "全脂纯牛奶 250 mL"
//! count = 50000
//! production_date = "2026-11-22"
//! users = [{ name = "王班长", role = "owner", pin = "2468" }]
//! [line.coder]
//! protocol = "zipher"
//! connect = "tcp://192.168.1.50:3002"
//! [line.water]
//! low = 10
//! high = 30
//! ```
//!
//! Raw → validated: serde refuses unknown keys and bad types with the file's line; then
//! [`LineSection::validate`] checks what types cannot (water marks, dates, PINs) and names the
//! dotted key, which `config` turns into file:line:key.

use super::{CodeFormat, LineConfig, LineError, Water};
use crate::ledger::Ledger;
use crate::ui::UiUser;
use device_drivers::coder::{CoderConfig, CoderProtocol};
use device_drivers::transport::TransportConfig;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use trace_core::product_code::{CodeVars, Day, Field};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSection {
    /// Where the line screen listens.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Shown at the top of the screen (`1号灌装线`).
    #[serde(default)]
    pub line_name: String,
    /// Job id; the same id resumes the job after a restart.
    pub job: String,
    /// Production batch the codes belong to.
    pub batch: String,
    /// Code template id (`codes template add`); serials come from its own pool.
    pub template: String,
    /// Product name shown on the screen.
    #[serde(default)]
    pub product: String,
    /// Items to print.
    pub count: u64,
    /// YYYY-MM-DD, for templates with a production date field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_date: Option<String>,
    /// YYYY-MM-DD, for templates with an expiry date field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<String>,
    /// Poll interval while the coder's buffer is full enough, ms.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// Who may operate the line (PIN 4–8 digits). Owners and staff alike may start, pause,
    /// resume and stop.
    #[serde(default)]
    pub users: Vec<UiUser>,
    pub coder: LineCoder,
    #[serde(default)]
    pub water: LineWater,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineCoder {
    /// zipher, tij, imaje-9040, text-tcp.
    pub protocol: CoderProtocol,
    /// `tcp://HOST:PORT` or `serial:///dev/ttyUSB0?baud=115200`.
    pub connect: TransportConfig,
    /// The protocol's own settings (job name, machine number, text dialect…), as
    /// `device_drivers::coder::CoderConfig` names them; defaults when absent.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub options: serde_json::Value,
}

/// Buffer water marks (see `line::Water`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineWater {
    /// Top up only while the coder holds fewer codes than this.
    pub low: u32,
    /// Top up to this many codes; keep it below the coder's buffer size.
    pub high: u32,
    /// Most codes in one send.
    pub max_batch: usize,
    /// Serials per allocation entry.
    pub alloc_block: u64,
}

impl Default for LineWater {
    fn default() -> Self {
        let w = Water::default();
        LineWater {
            low: w.low,
            high: w.high,
            max_batch: w.max_batch,
            alloc_block: w.alloc_block,
        }
    }
}

impl From<LineWater> for Water {
    fn from(w: LineWater) -> Water {
        Water {
            low: w.low,
            high: w.high,
            max_batch: w.max_batch,
            alloc_block: w.alloc_block,
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8090))
}

fn default_poll_ms() -> u64 {
    5
}

/// A value types could not refuse: the dotted key (below `line`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineConfigError {
    pub key: &'static str,
    pub message: String,
}

impl LineSection {
    /// Check what serde cannot. The first problem, naming its key.
    pub fn validate(&self) -> Result<(), LineConfigError> {
        let bad = |key, message: String| Err(LineConfigError { key, message });
        for (key, v) in [
            ("job", &self.job),
            ("batch", &self.batch),
            ("template", &self.template),
        ] {
            if v.trim().is_empty() {
                return bad(key, "must not be empty".into());
            }
        }
        if self.count == 0 {
            return bad("count", "must be at least 1".into());
        }
        for (key, d) in [
            ("production_date", &self.production_date),
            ("expiry_date", &self.expiry_date),
        ] {
            if let Some(d) = d
                && let Err(e) = Day::parse(d)
            {
                return bad(key, format!("{d:?}: {e} (write YYYY-MM-DD)"));
            }
        }
        let w = self.water;
        if w.high == 0 {
            return bad("water.high", "must be at least 1".into());
        }
        if w.low > w.high {
            return bad(
                "water.low",
                format!(
                    "{} is above water.high ({}); keep low <= high",
                    w.low, w.high
                ),
            );
        }
        if w.max_batch == 0 {
            return bad("water.max_batch", "must be at least 1".into());
        }
        if w.alloc_block == 0 {
            return bad("water.alloc_block", "must be at least 1".into());
        }
        if self.users.is_empty() {
            return bad(
                "users",
                "list at least one operator: users = [{ name = \"…\", role = \"owner\", pin = \"2468\" }]"
                    .into(),
            );
        }
        if let Err(m) = crate::ui::auth::check_users(&self.users) {
            return bad("users", m.replace("ui.users", "line.users"));
        }
        if let Err(m) = self.coder_config() {
            return bad("coder.options", m);
        }
        Ok(())
    }

    /// The driver settings: the protocol's defaults, or its `options`.
    pub fn coder_config(&self) -> Result<CoderConfig, String> {
        match &self.coder.options {
            serde_json::Value::Null => Ok(CoderConfig::default_for(self.coder.protocol)),
            serde_json::Value::Object(m) => {
                let mut m = m.clone();
                m.insert(
                    "protocol".into(),
                    serde_json::Value::String(self.coder.protocol.name().into()),
                );
                serde_json::from_value(serde_json::Value::Object(m))
                    .map_err(|e| format!("not valid for protocol {}: {e}", self.coder.protocol))
            }
            _ => Err("must be a table of the protocol's settings".into()),
        }
    }

    /// The job to run: codes of the template for this batch, made with the box's code key.
    /// Fails when the template is not saved on this box or the batch does not suit it.
    pub fn job_config(
        &self,
        ledger: &Ledger,
        code_key: &[u8; 32],
    ) -> Result<LineConfig, LineError> {
        let coder = self.coder_config().map_err(LineError::Invalid)?;
        let format = template_format(
            ledger,
            code_key,
            &self.template,
            &self.batch,
            self.production_date.as_deref(),
            self.expiry_date.as_deref(),
        )?;
        Ok(LineConfig {
            spec: super::JobSpec {
                job: self.job.clone(),
                batch: self.batch.clone(),
                pool: self.template.clone(),
                template: Some(self.template.clone()),
                coder: format!("{} {}", self.coder.protocol, self.coder.connect),
                target: self.count,
            },
            water: self.water.into(),
            coder,
            transport: self.coder.connect.clone(),
            format,
            poll: Duration::from_millis(self.poll_ms.max(1)),
            flush_every: Duration::from_millis(100),
        })
    }
}

/// `serial → the template's code for this batch`: what the coder prints.
pub fn template_format(
    ledger: &Ledger,
    code_key: &[u8; 32],
    template: &str,
    batch: &str,
    production_date: Option<&str>,
    expiry_date: Option<&str>,
) -> Result<Arc<dyn CodeFormat>, LineError> {
    let codec = crate::codes::codec(ledger, code_key, template).map_err(|e| {
        LineError::Invalid(format!(
            "template {template:?}: {e} (save it with `codes template add`)"
        ))
    })?;
    let day = |s: Option<&str>, what: &str| -> Result<Option<Day>, LineError> {
        s.map(|d| Day::parse(d).map_err(|e| LineError::Invalid(format!("{what} {d:?}: {e}"))))
            .transpose()
    };
    // The batch rides in the code only when the template has a batch field; the allocation
    // records it either way.
    let has_batch = codec
        .template()
        .fields
        .iter()
        .any(|f| matches!(f, Field::Batch { .. }));
    let vars = CodeVars {
        batch: has_batch.then(|| batch.to_owned()),
        production_date: day(production_date, "production date")?,
        expiry_date: day(expiry_date, "expiry date")?,
    };
    let codes = codec.for_batch(&vars).map_err(|e| {
        LineError::Invalid(format!(
            "batch {batch} does not suit template {template:?}: {e}"
        ))
    })?;
    Ok(Arc::new(move |serial: u64| {
        // Allocations past the template's capacity are refused by the codes projection before
        // any serial is sent, so every serial the job formats is in range.
        codes
            .code_for(serial)
            .expect("the codes projection refuses serials beyond the template's capacity")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(extra: &str) -> Result<LineSection, String> {
        let text = format!(
            "job = \"J1\"\nbatch = \"B1\"\ntemplate = \"t\"\ncount = 10\n\
             users = [{{ name = \"王\", role = \"owner\", pin = \"2468\" }}]\n{extra}\n\
             [coder]\nprotocol = \"zipher\"\nconnect = \"tcp://127.0.0.1:3002\"\n"
        );
        let s: LineSection = toml::from_str(&text).map_err(|e| e.to_string())?;
        s.validate()
            .map_err(|e| format!("{}: {}", e.key, e.message))?;
        Ok(s)
    }

    #[test]
    fn a_minimal_section_takes_defaults() {
        let s = section("").unwrap();
        assert_eq!(Water::from(s.water), Water::default());
        assert!(matches!(s.coder_config().unwrap(), CoderConfig::Zipher(_)));
        assert_eq!(s.listen, default_listen());
    }

    #[test]
    fn what_types_cannot_refuse_names_its_key() {
        let e = section("[water]\nlow = 40\nhigh = 30").unwrap_err();
        assert!(e.starts_with("water.low:"), "{e}");
        let e = section("production_date = \"2026-13-01\"").unwrap_err();
        assert!(e.starts_with("production_date:"), "{e}");
        let mut s = section("").unwrap();
        s.count = 0;
        assert_eq!(s.validate().unwrap_err().key, "count");
        let e = section("[coder.options]\nmachine = \"x\"").unwrap_err();
        assert!(e.starts_with("coder.options:"), "{e}");
    }
}
