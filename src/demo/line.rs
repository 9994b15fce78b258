//! The demo's factory line box: its own ledger, a simulated coder printing at packing-line
//! speed into a print log, and one production job feeding it codes, each printed at most once.
//!
//! The simulator injects a disconnect and a head fault now and then, so a long-running demo
//! shows the job settling (scrapping what it cannot prove printed) and carrying on with fresh
//! codes. Stopping the demo stops the job cleanly: in-flight codes are settled, and
//! `baytrace-edge line reconcile --db LINE_DB --batch B-DEMO-0001` balances.

use anyhow::Context;
use device_drivers::coder::sim::{CoderSim, CoderSimOptions, FaultAt, InjectedFault};
use device_drivers::coder::{CoderConfig, CoderProtocol};
use device_drivers::sim::SimListen;
use edge_daemon::ledger::{Ledger, LedgerOptions, LedgerWriter, WriterOptions};
use edge_daemon::line::{
    Control, JobSpec, LineConfig, LineStats, LineStore, PrefixFormat, Water, run_job,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use trace_core::{DeviceId, HashAlg};

pub const BATCH: &str = "B-DEMO-0001";
const PROTOCOL: CoderProtocol = CoderProtocol::Zipher;

pub struct LineBox {
    dir: PathBuf,
    coder_uri: String,
    control: watch::Sender<Control>,
    stats: watch::Receiver<LineStats>,
    job: tokio::task::JoinHandle<anyhow::Result<LineStats>>,
    sim: tokio::task::JoinHandle<()>,
}

impl LineBox {
    /// Start the coder simulator and the job. `items_per_s` is the line speed.
    pub async fn start(dir: PathBuf, items_per_s: u32) -> anyhow::Result<LineBox> {
        std::fs::create_dir_all(&dir)?;
        let db = dir.join("ledger.sqlite3");
        let path = db.clone();
        let ledger = tokio::task::spawn_blocking(move || open_ledger(&path)).await??;
        let writer = LedgerWriter::spawn(ledger, WriterOptions::default())?;
        let store = LineStore::open(&db)?;

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

        let cfg = LineConfig {
            spec: JobSpec {
                job: "LINE1-JOB1".into(),
                batch: BATCH.into(),
                pool: "DEMO-POOL".into(),
                template: Some("unit-url".into()),
                coder: format!("{PROTOCOL} {coder_uri}"),
                target: 10_000_000,
            },
            water: Water::default(),
            coder: CoderConfig::default_for(PROTOCOL),
            transport: coder_uri.parse()?,
            format: Arc::new(PrefixFormat {
                prefix: format!("{BATCH}-"),
                width: 8,
            }),
            poll: Duration::from_millis(5),
            flush_every: Duration::from_millis(200),
        };
        let (control, ctl_rx) = watch::channel(Control::Run);
        let (stats_tx, stats) = watch::channel(LineStats::default());
        let job = tokio::spawn(async move {
            let handle = writer.handle();
            let out = run_job(&handle, &store, &cfg, ctl_rx, &stats_tx).await;
            drop(handle);
            tokio::task::spawn_blocking(move || writer.shutdown()).await??;
            Ok(out?)
        });
        Ok(LineBox {
            dir,
            coder_uri,
            control,
            stats,
            job,
            sim,
        })
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("ledger.sqlite3")
    }

    pub fn coder_log(&self) -> PathBuf {
        self.dir.join("coder-print.log")
    }

    pub fn coder_uri(&self) -> String {
        self.coder_uri.clone()
    }

    pub fn stats(&self) -> LineStats {
        self.stats.borrow().clone()
    }

    /// Stop the job cleanly (settle what is in flight), then the simulator.
    pub async fn stop(self) -> anyhow::Result<LineStats> {
        let _ = self.control.send(Control::Stop);
        let out = self.job.await.context("the line job panicked")?;
        self.sim.abort();
        out
    }
}

fn open_ledger(db: &Path) -> anyhow::Result<Ledger> {
    if db.exists() {
        return Ok(Ledger::open(db, &LedgerOptions::default())?);
    }
    let device = DeviceId::new("demo-factory-line1")?;
    Ok(Ledger::create(
        db,
        device,
        HashAlg::Sha256,
        &LedgerOptions::default(),
    )?)
}
