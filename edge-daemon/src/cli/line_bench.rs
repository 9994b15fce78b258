//! `bench line`: feed one coder simulator over loopback with confirmations, through the full
//! job engine (durable allocation, session rows, confirmations in the ledger), side by side in
//! the same run with the baseline: the bare driver loop over the same protocol (same water
//! marks, confirmed from the same evidence, nothing written anywhere).
//!
//! The simulator prints at `--line-speed` (default far above any real line) so the figure is
//! the box's ceiling, not the coder's.

use crate::ledger::{Ledger, LedgerOptions, LedgerWriter, WriterOptions};
use crate::line::{
    Control, JobSpec, LineConfig, LineStats, LineStore, PrefixFormat, Water, run_job,
};
use anyhow::{Context, bail};
use device_drivers::coder::sim::{CoderSim, CoderSimOptions};
use device_drivers::coder::{AnyCoder, Coder, CoderConfig, CoderProtocol, InFlight};
use device_drivers::sim::SimListen;
use device_drivers::transport::TransportConfig;
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use trace_core::{DeviceId, HashAlg};

#[derive(Debug, Serialize)]
struct Row {
    protocol: CoderProtocol,
    items: u64,
    job_items_per_s: u64,
    bare_items_per_s: u64,
    /// Job throughput relative to the bare loop, percent.
    job_vs_bare_pct: u64,
}

fn per_s(n: u64, d: Duration) -> u64 {
    u64::try_from(u128::from(n) * 1_000_000 / d.as_micros().max(1)).unwrap_or(u64::MAX)
}

async fn sim(
    p: CoderProtocol,
    line_speed: u32,
    capacity: usize,
) -> anyhow::Result<(TransportConfig, tokio::task::JoinHandle<()>)> {
    let opts = CoderSimOptions {
        line_speed,
        buffer_capacity: capacity,
        start_running: false,
        ..CoderSimOptions::default()
    };
    let listen: SimListen = "tcp://127.0.0.1:0".parse().map_err(anyhow::Error::msg)?;
    let s = CoderSim::bind(p, &listen, opts).await?;
    let uri: TransportConfig = s.describe()?.parse()?;
    let task = tokio::spawn(async move {
        let _ = s.run().await;
    });
    Ok((uri, task))
}

/// The baseline: the same feeding loop with nothing durable.
async fn bare(
    p: CoderProtocol,
    uri: &TransportConfig,
    n: u64,
    w: Water,
) -> anyhow::Result<Duration> {
    let fmt = PrefixFormat {
        prefix: "B".into(),
        width: 10,
    };
    let mut c = AnyCoder::connect(uri.open().await?, &CoderConfig::default_for(p)).await?;
    let t0 = Instant::now();
    let base = c.clear_buffer().await?;
    c.start().await?;
    let mut inflight: InFlight<u64> = InFlight::new(base);
    let (mut next, mut done) = (1u64, 0u64);
    while done < n {
        done += inflight.confirm(c.evidence().await?)?.len() as u64;
        if !c.status().await?.faults.is_empty() {
            bail!("the simulator faulted during the baseline");
        }
        let count = c.buffer_count().await?;
        let room = u64::from(w.high.saturating_sub(count));
        let k = room
            .min(w.max_batch as u64)
            .min(n - done - inflight.len() as u64);
        if count < w.low && k > 0 {
            let serials: Vec<u64> = (next..next + k).collect();
            let codes: Vec<String> = serials.iter().map(|s| fmt.format_serial(*s)).collect();
            for s in &serials {
                inflight.push(*s);
            }
            let out = c.queue(&codes).await?;
            let refused = inflight.refuse_last(codes.len() - out.accepted);
            next += k - refused.len() as u64;
        } else {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    Ok(t0.elapsed())
}

async fn job(
    dir: &Path,
    p: CoderProtocol,
    uri: &TransportConfig,
    n: u64,
    w: Water,
) -> anyhow::Result<Duration> {
    let db = dir.join(format!("line-{p}.sqlite3"));
    let device = DeviceId::new("bench-line-0001").context("device id")?;
    let ledger = Ledger::create(&db, device, HashAlg::Sha256, &LedgerOptions::default())?;
    let writer = LedgerWriter::spawn(ledger, WriterOptions::default())?;
    let store = LineStore::open(&db)?;
    let cfg = LineConfig {
        spec: JobSpec {
            job: format!("bench-{p}"),
            batch: "BENCH".into(),
            pool: format!("bench-{p}"),
            template: None,
            coder: format!("{p} {uri}"),
            target: n,
        },
        water: w,
        coder: CoderConfig::default_for(p),
        transport: uri.clone(),
        format: Arc::new(PrefixFormat {
            prefix: "J".into(),
            width: 10,
        }),
        poll: Duration::from_millis(2),
        flush_every: Duration::from_millis(100),
    };
    let (_ctl, rx) = watch::channel(Control::Run);
    let (stats, _) = watch::channel(LineStats::default());
    let h = writer.handle();
    let t0 = Instant::now();
    let out = run_job(&h, &store, &cfg, rx, &stats).await?;
    let took = t0.elapsed();
    drop(h);
    writer.shutdown()?;
    if out.encoded != n {
        bail!("the job encoded {} of {n}", out.encoded);
    }
    Ok(took)
}

pub fn run(dir: &Path, items: u64, line_speed: u32, json: bool) -> anyhow::Result<ExitCode> {
    if items == 0 || line_speed == 0 {
        bail!("--items and --line-speed must be at least 1");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if std::fs::read_dir(dir)?.next().is_some() {
        bail!("{} is not empty; give a new directory", dir.display());
    }
    let w = Water {
        low: 10,
        high: 30,
        max_batch: 16,
        alloc_block: 256,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    for p in CoderProtocol::ALL {
        let row = rt.block_on(async {
            let (uri, t1) = sim(p, line_speed, 64).await?;
            let bare_t = bare(p, &uri, items, w).await?;
            t1.abort();
            let (uri, t2) = sim(p, line_speed, 64).await?;
            let job_t = job(dir, p, &uri, items, w).await?;
            t2.abort();
            let (j, b) = (per_s(items, job_t), per_s(items, bare_t));
            anyhow::Ok(Row {
                protocol: p,
                items,
                job_items_per_s: j,
                bare_items_per_s: b,
                job_vs_bare_pct: j * 100 / b.max(1),
            })
        })?;
        if !json {
            println!(
                "{:<11} {} items: job {:>6} items/s, bare driver loop {:>6} items/s ({}%)",
                row.protocol.name(),
                row.items,
                row.job_items_per_s,
                row.bare_items_per_s,
                row.job_vs_bare_pct
            );
        }
        rows.push(row);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(ExitCode::SUCCESS)
}
