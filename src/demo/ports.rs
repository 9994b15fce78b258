//! The demo's ports file: where everything listens, for scripts and tests.

use anyhow::Context;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Written as JSON. Keys are a contract with scripts; add, don't rename.
#[derive(Debug, Serialize)]
pub struct Ports {
    /// Base URL of the cloud: trace pages at `/t/{code}`, `/healthz`, `/metrics`.
    pub cloud_http: String,
    /// The embedded MQTT broker, `mqtt://host:port`.
    pub mqtt: String,
    /// The stall box's touchscreen UI (PIN 8888 owner, 1234 staff); null if it did not start.
    pub stall_ui: Option<String>,
    /// The stall box's ledger (SQLite).
    pub stall_db: PathBuf,
    /// Where the printer simulator writes each receipt as PNG and raw bytes.
    pub printer_out: PathBuf,
    /// The simulated scale and printer, as driver URIs.
    pub scale: String,
    pub printer: String,
    /// How the box reaches the cloud: "mqtt" when the sync client runs, else why not.
    pub sync: String,
    /// The factory line box's line screen (PIN 6666); null if it did not start.
    pub line_ui: Option<String>,
    /// The factory line box's ledger (SQLite): `baytrace-edge line reconcile --db` it.
    pub line_db: PathBuf,
    /// The factory line box's `edge.toml` (its `[line]` job, keys and ledger).
    pub line_config: PathBuf,
    /// The coder simulator's print log: one printed code per line.
    pub coder_log: PathBuf,
    /// The simulated coder, as a driver URI.
    pub coder: String,
}

impl Ports {
    /// Write atomically: a reader never sees half a file.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(self)?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }

    pub fn print(&self, path: &Path) {
        println!("baytrace demo is running. Open:");
        println!(
            "  trace pages (cloud)    {}/t/<code>   (each sale prints its link)",
            self.cloud_http
        );
        println!(
            "  health / metrics       {0}/healthz   {0}/metrics",
            self.cloud_http
        );
        println!("  MQTT broker            {}", self.mqtt);
        println!("  receipts (PNG + bytes) {}", self.printer_out.display());
        println!("  stall ledger           {}", self.stall_db.display());
        println!("  simulated scale        {}", self.scale);
        println!("  simulated printer      {}", self.printer);
        println!("  box → cloud sync       {}", self.sync);
        println!("  factory line ledger    {}", self.line_db.display());
        println!("  coder print log        {}", self.coder_log.display());
        println!("  simulated coder        {}", self.coder);
        match &self.stall_ui {
            Some(u) => println!(
                "  stall touchscreen UI   {u}   (PIN {} owner, {} staff)",
                super::stall::OWNER_PIN,
                super::stall::STAFF_PIN
            ),
            None => println!("  stall touchscreen UI   not built yet"),
        }
        match &self.line_ui {
            Some(u) => println!(
                "  line screen            {u}   (PIN {})",
                super::line::LINE_PIN
            ),
            None => println!("  line screen            not started"),
        }
        println!("Endpoints as JSON: {}. Ctrl-C stops.", path.display());
    }
}
