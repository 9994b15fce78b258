//! The demo's factory line box, set up the way an installer sets up a real one: its own folder
//! with keys, ledger and an `edge.toml` whose `[line]` section names the job; a unit code
//! template (GTIN with its check digit, encrypted serial and production date, our public URL
//! form) saved in its ledger; a simulated coder printing at packing-line speed into a print
//! log; and the line screen served the way `baytrace-edge run` serves it, with the job
//! started as an operator's tap on 开始 would start it. Each printed code is the template's
//! code for the demo batch, made with the template key derived from the box's code key, so it
//! decodes back to the batch and its serial.
//!
//! The simulator injects a disconnect and a head fault now and then, so a long-running demo
//! shows the job settling (scrapping what it cannot prove printed) and carrying on with fresh
//! codes, and the screen showing each fault. Stopping the demo stops the job cleanly:
//! in-flight codes are settled, and `baytrace-edge line reconcile --db LINE_DB --batch
//! B-DEMO-0001` balances.

use anyhow::Context;
use device_drivers::coder::CoderProtocol;
use device_drivers::coder::sim::{CoderSim, CoderSimOptions, FaultAt, InjectedFault};
use device_drivers::sim::SimListen;
use edge_daemon::config::EdgeConfig;
use edge_daemon::keys::DeviceKeys;
use edge_daemon::ledger::{Ledger, LedgerOptions, LedgerWriter, WriterOptions};
use edge_daemon::lineui::{LineUiServer, LineView};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use trace_core::product_code::Template;
use trace_core::{DeviceId, HashAlg};

pub const BATCH: &str = "B-DEMO-0001";
/// PIN of the line screen's shift leader in the demo.
pub const LINE_PIN: &str = "6666";
const PROTOCOL: CoderProtocol = CoderProtocol::Zipher;
const DEVICE: &str = "demo-factory-line1";
const TEMPLATE_ID: &str = "milk-250ml-unit";
/// A unit code: GTIN 6901234567892 (valid GS1 check digit), the serial and the production
/// date encrypted, printed as our public URL.
const TEMPLATE: &str = r#"
id = "milk-250ml-unit"
issuer = "GD01"
number = 1
level = "unit"
gtin = "6901234567892"
serial_capacity = 100000000
code_length = 29
cipher = "aes"
output = { form = "url", base = "https://trace.example.cn" }
fields = [{ field = "production_date", encrypted = true }]
"#;

pub struct LineBox {
    dir: PathBuf,
    coder_uri: String,
    ui: Option<LineUiServer>,
    writer: Option<LedgerWriter>,
    sim: tokio::task::JoinHandle<()>,
}

impl LineBox {
    /// Start the coder simulator, the line screen on `ui_listen` and the job. `items_per_s`
    /// is the line speed.
    pub async fn start(
        dir: PathBuf,
        items_per_s: u32,
        ui_listen: SocketAddr,
    ) -> anyhow::Result<LineBox> {
        std::fs::create_dir_all(&dir)?;
        let opts = CoderSimOptions {
            line_speed: items_per_s.max(1),
            buffer_capacity: 64,
            print_log: Some(dir.join("coder-print.log")),
            faults: (1..1_000u64)
                .flat_map(|k| {
                    [
                        FaultAt {
                            after_printed: k * 500,
                            fault: InjectedFault::Disconnect,
                        },
                        FaultAt {
                            after_printed: k * 500 + 250,
                            fault: InjectedFault::HeadFault,
                        },
                    ]
                })
                .collect(),
            fault_clears_after: Duration::from_secs(2),
            ..CoderSimOptions::default()
        };
        let listen: SimListen = "tcp://127.0.0.1:0".parse().map_err(anyhow::Error::msg)?;
        let sim = CoderSim::bind(PROTOCOL, &listen, opts)
            .await
            .context("cannot start the coder simulator")?;
        let coder_uri = sim.describe()?;
        let sim = tokio::spawn(async move {
            if let Err(e) = sim.run().await {
                tracing::warn!(error = %e, "coder simulator stopped");
            }
        });

        // The box as `baytrace-edge init` + `codes template add` + an edited edge.toml.
        let config = write_config(&dir, &coder_uri, ui_listen)?;
        let c = EdgeConfig::load(&config)?;
        let (keys_signing, keys_ticket) = (c.signing_key_path(), c.ticket_key_path());
        if !keys_ticket.exists() {
            DeviceKeys::generate().write(&keys_signing, &keys_ticket)?;
        }
        let db = c.ledger_path();
        let ledger = tokio::task::spawn_blocking(move || open_ledger(&db)).await??;
        let prepared = edge_daemon::lineui::prepare(&c, &ledger)?
            .context("the factory box's edge.toml has a [line] section")?;
        let writer = LedgerWriter::spawn(ledger, WriterOptions::default())?;
        let ui = prepared
            .serve(writer.handle())
            .await
            .context("cannot start the line screen")?;
        // The operator's 开始.
        if let Err(r) = ui.controller().start().await {
            tracing::warn!(refused = r.key(), "the demo's line job did not start");
        }
        Ok(LineBox {
            dir,
            coder_uri,
            ui: Some(ui),
            writer: Some(writer),
            sim,
        })
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("ledger.sqlite3")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("edge.toml")
    }

    pub fn coder_log(&self) -> PathBuf {
        self.dir.join("coder-print.log")
    }

    pub fn coder_uri(&self) -> String {
        self.coder_uri.clone()
    }

    /// The line screen's address.
    pub fn ui_url(&self) -> Option<String> {
        self.ui.as_ref().map(|u| format!("http://{}/", u.addr))
    }

    pub fn stats(&self) -> Option<LineView> {
        self.ui.as_ref().map(|u| u.controller().view())
    }

    /// Stop the job cleanly (settle what is in flight), the screen, the ledger, the simulator.
    pub async fn stop(mut self) -> anyhow::Result<LineView> {
        let ui = self.ui.take().context("the line box was stopped twice")?;
        let controller_view = {
            ui.controller().shutdown().await;
            ui.controller().view()
        };
        ui.stop().await;
        if let Some(w) = self.writer.take() {
            tokio::task::spawn_blocking(move || w.shutdown()).await??;
        }
        self.sim.abort();
        if let Some(e) = &controller_view.error {
            anyhow::bail!("the line job failed: {e}");
        }
        Ok(controller_view)
    }
}

/// `edge.toml` of the factory box: written on every start, since the simulated coder listens
/// on a new port each time.
fn write_config(dir: &Path, coder_uri: &str, ui_listen: SocketAddr) -> anyhow::Result<PathBuf> {
    let mut c = EdgeConfig::for_device(DeviceId::new(DEVICE)?, HashAlg::Sha256);
    c.ui.enabled = false;
    let mut text = c.to_toml();
    text.push_str(&format!(
        r#"
[line]
listen = "{ui_listen}"
line_name = "1号灌装线"
job = "L1-MILK-0001"
batch = "{BATCH}"
template = "{TEMPLATE_ID}"
product = "全脂纯牛奶 250 mL"
count = 10000000
production_date = "2026-11-22"
users = [
  {{ name = "王班长", role = "owner", pin = "{LINE_PIN}" }},
]

[line.coder]
protocol = "{PROTOCOL}"
connect = "{coder_uri}"

[line.water]
# Below the simulated coder's 64-code buffer: a CLARiTY coder answers a too-big send with ERR.
low = 10
high = 30
"#
    ));
    let path = dir.join("edge.toml");
    let tmp = dir.join("edge.toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The ledger, created with the template on the first start.
fn open_ledger(db: &Path) -> anyhow::Result<Ledger> {
    let opts = LedgerOptions::default();
    let mut ledger = if db.exists() {
        Ledger::open(db, &opts)?
    } else {
        Ledger::create(db, DeviceId::new(DEVICE)?, HashAlg::Sha256, &opts)?
    };
    if edge_daemon::codes::template(&ledger, TEMPLATE_ID).is_err() {
        let t: Template = toml::from_str(TEMPLATE)?;
        edge_daemon::codes::save_template(&mut ledger, t)?;
    }
    Ok(ledger)
}
