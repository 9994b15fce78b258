//! `line run` and `line reconcile`: a production job headless against a coder, and the
//! per-batch account `allocated = encoded + scrapped + unused`.

use crate::config::EdgeConfig;
use crate::keys::DeviceKeys;
use crate::ledger::{Ledger, LedgerOptions, LedgerWriter, OpenCheck, WriterOptions};
use crate::line::{
    CodeFormat, Control, JobSpec, LineConfig, LineStats, LineStore, PrefixFormat, Water, run_job,
};
use anyhow::Context;
use clap::{Args, Subcommand};
use device_drivers::coder::{CoderConfig, CoderProtocol};
use device_drivers::transport::TransportConfig;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Subcommand)]
pub enum LineCommand {
    /// Run (or resume) a production job: print COUNT codes of a batch through a coder, each at
    /// most once.
    #[command(after_help = "Examples:
  baytrace-edge line run --db ledger.sqlite3 --job J-0001 --batch B20261122 --pool P1 \\
      --count 5000 --protocol zipher --coder tcp://192.168.1.50:3002
  baytrace-edge line run --db ledger.sqlite3 --job J-0002 --batch B20261122 --pool P1 \\
      --count 200 --protocol tij --coder serial:///dev/ttyUSB0?baud=115200 --low-water 5 --high-water 20

Running the same --job again resumes it: the coder is stopped and cleared, its own evidence
(last printed index / print counter) settles every code the last run left in flight, and
printing continues with fresh codes. Ctrl-C or SIGTERM stops cleanly. Prints a JSON summary.")]
    Run(Box<RunArgs>),
    /// Print allocated, encoded, scrapped and unused codes of a batch's line jobs.
    #[command(after_help = "Example:
  baytrace-edge line reconcile --db ledger.sqlite3 --batch B20261122 --json

allocated = encoded + scrapped + unused, exactly.")]
    Reconcile {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        batch: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The box's ledger.
    #[arg(long)]
    pub db: PathBuf,
    /// Job id; the same id resumes the job.
    #[arg(long)]
    pub job: String,
    #[arg(long)]
    pub batch: String,
    /// Code pool the serials come from.
    #[arg(long)]
    pub pool: String,
    /// Code template (recorded with the allocation).
    #[arg(long)]
    pub template: Option<String>,
    /// Items to print (codes to encode).
    #[arg(long)]
    pub count: u64,
    /// Coder protocol: zipher, tij, imaje-9040, text-tcp.
    #[arg(long)]
    pub protocol: CoderProtocol,
    /// Where the coder is: tcp://HOST:PORT or serial:///dev/…
    #[arg(long)]
    pub coder: TransportConfig,
    /// Top up only while the coder holds fewer codes than this.
    #[arg(long, default_value_t = 10)]
    pub low_water: u32,
    /// Top up to this many codes in the coder.
    #[arg(long, default_value_t = 30)]
    pub high_water: u32,
    /// Most codes in one send.
    #[arg(long, default_value_t = 16)]
    pub max_batch: usize,
    /// Serials per allocation entry.
    #[arg(long, default_value_t = 256)]
    pub alloc_block: u64,
    /// The box's config (edge.toml). With it, --template names a template saved by `codes
    /// template add`, and each printed code is that template's code for this batch (made with
    /// the box's code key; --pool must be the template id). Without it, the printed code is
    /// PREFIX + serial (a plain counter, for tests and coders that number items themselves).
    #[arg(long, requires = "template")]
    pub config: Option<PathBuf>,
    /// YYYY-MM-DD, for templates with a production date field (needs --config).
    #[arg(long, requires = "config")]
    pub production_date: Option<String>,
    /// YYYY-MM-DD, for templates with an expiry date field (needs --config).
    #[arg(long, requires = "config")]
    pub expiry_date: Option<String>,
    /// Printed code = PREFIX + serial (zero-padded to --width), when no --config is given.
    #[arg(long, default_value = "")]
    pub code_prefix: String,
    #[arg(long, default_value_t = 10)]
    pub width: usize,
    /// Poll interval while the coder's buffer is full enough, in ms.
    #[arg(long, default_value_t = 2)]
    pub poll_ms: u64,
}

pub fn dispatch(cmd: LineCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LineCommand::Reconcile { db, batch, json } => reconcile(&db, &batch, json),
        LineCommand::Run(a) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(run(*a))
        }
    }
}

fn reconcile(db: &std::path::Path, batch: &str, json: bool) -> anyhow::Result<ExitCode> {
    // Opening through the ledger checks the file and brings the schema up to date.
    drop(Ledger::open(db, &LedgerOptions::default())?);
    let r = LineStore::open(db)?.reconcile(batch)?;
    if json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "batch {batch}: allocated {} = encoded {} + scrapped {} + unused {}",
            r.allocated, r.encoded, r.scrapped, r.unused
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let water = Water {
        low: a.low_water,
        high: a.high_water,
        max_batch: a.max_batch,
        alloc_block: a.alloc_block,
    };
    water.validate().map_err(anyhow::Error::msg)?;
    if a.count == 0 {
        anyhow::bail!("--count must be at least 1");
    }
    let ledger = Ledger::open(
        &a.db,
        &LedgerOptions {
            check: OpenCheck::Quick,
            ..LedgerOptions::default()
        },
    )?;
    let format: Arc<dyn CodeFormat> = match &a.config {
        Some(config) => template_format(&ledger, config, &a)?,
        None => Arc::new(PrefixFormat {
            prefix: a.code_prefix.clone(),
            width: a.width,
        }),
    };
    let writer = LedgerWriter::spawn(ledger, WriterOptions::default())?;
    let store = LineStore::open(&a.db)?;
    let cfg = LineConfig {
        spec: JobSpec {
            job: a.job.clone(),
            batch: a.batch,
            pool: a.pool,
            template: a.template,
            coder: format!("{} {}", a.protocol, a.coder),
            target: a.count,
        },
        water,
        coder: CoderConfig::default_for(a.protocol),
        transport: a.coder,
        format,
        poll: Duration::from_millis(a.poll_ms),
        flush_every: Duration::from_millis(100),
    };
    let (ctl_tx, ctl_rx) = watch::channel(Control::Run);
    tokio::spawn(async move {
        interrupted().await;
        let _ = ctl_tx.send(Control::Stop);
    });
    let (stats_tx, _stats_rx) = watch::channel(LineStats::default());
    let handle = writer.handle();
    let outcome = run_job(&handle, &store, &cfg, ctl_rx, &stats_tx).await;
    drop(handle);
    writer.shutdown().context("closing the ledger")?;
    let stats = outcome.with_context(|| format!("line job {}", a.job))?;
    println!("{}", serde_json::to_string(&stats)?);
    Ok(ExitCode::SUCCESS)
}

async fn interrupted() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// The printed code of each serial: the template's code for this batch (see `--config`).
fn template_format(
    ledger: &Ledger,
    config: &std::path::Path,
    a: &RunArgs,
) -> anyhow::Result<Arc<dyn CodeFormat>> {
    let template = a
        .template
        .as_deref()
        .context("--config needs --template (clap enforces it)")?;
    if a.pool != template {
        anyhow::bail!(
            "--pool {} must be the template id {template:?}: a template's serials come from its own pool",
            a.pool
        );
    }
    let c = EdgeConfig::load(config)?;
    let keys = DeviceKeys::read(&c.signing_key_path(), &c.ticket_key_path())?;
    Ok(crate::line::config::template_format(
        ledger,
        &keys.ticket_key,
        template,
        &a.batch,
        a.production_date.as_deref(),
        a.expiry_date.as_deref(),
    )?)
}
