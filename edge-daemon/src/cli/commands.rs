//! What each subcommand does. Thin: the work is in the library modules.

use super::{BenchCommand, Command, ConfigCommand, EXIT_BROKEN_CHAIN, LedgerCommand, Target};
use crate::config::{EdgeConfig, LogFormat};
use crate::keys::DeviceKeys;
use crate::ledger::{Ledger, LedgerOptions, LedgerWriter, OpenCheck, WriterOptions};
use crate::timefmt::rfc3339;
use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trace_core::{DeviceId, HashAlg};

pub(super) fn dispatch(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Init { dir, device, hash } => init(&dir, device, hash.into()),
        Command::Devices(cmd) => super::devices::dispatch(cmd),
        Command::Codes(cmd) => super::codes::dispatch(cmd),
        Command::Line(cmd) => super::line::dispatch(cmd),
        Command::Producer(cmd) => super::producer::dispatch(cmd),
        Command::Ui(super::UiCommand::HashPin) => hash_pin(),
        Command::Run { config } => run(&config),
        Command::Status { target, json } => status(&target, json),
        Command::Register {
            credentials,
            config,
        } => register(&credentials, &config),
        Command::Ledger(LedgerCommand::Verify { db, json }) => verify(&db, json),
        Command::Ledger(LedgerCommand::Export { db, out, .. }) => export(&db, out.as_deref()),
        Command::Ledger(LedgerCommand::StressAppend { db, count, group }) => {
            stress_append(&db, count, group)
        }
        Command::Backup { db, to } => {
            let l = Ledger::open(&db, &LedgerOptions::default())?;
            l.backup_to(&to)?;
            let head = l.head()?;
            println!(
                "backed up {} entries of {} to {}",
                head.seq,
                l.device(),
                to.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { from, db } => {
            let report = Ledger::restore(&from, &db)?;
            println!(
                "restored {} verified entries of {} from {} to {}",
                report.head_seq,
                report.device,
                from.display(),
                db.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Validate { file }) => {
            let c = EdgeConfig::load(&file)?;
            println!(
                "{}: ok (device {}, ledger {})",
                file.display(),
                c.config.device.id,
                c.ledger_path().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::PrintDefault) => {
            let id = DeviceId::new("stall-0001").context("example device id")?;
            print!("{}", EdgeConfig::for_device(id, HashAlg::Sha256).to_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Ledger {
            db,
            entries,
            single,
            json,
        }) => super::bench::run(&db, entries, single.unwrap_or(entries.min(1000)), json),
        Command::Bench(BenchCommand::Line {
            dir,
            items,
            line_speed,
            json,
        }) => super::line_bench::run(&dir, items, line_speed, json),
    }
}

fn init(dir: &Path, device: DeviceId, alg: HashAlg) -> anyhow::Result<ExitCode> {
    let config_path = dir.join("edge.toml");
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read directory {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: refusing to overwrite an existing box; choose a new directory",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cfg = EdgeConfig::for_device(device.clone(), alg);
    let loaded = crate::config::LoadedConfig {
        config: cfg.clone(),
        file: config_path.clone(),
        base: dir.to_path_buf(),
    };
    // Ledger first: it is the piece that can fail for disk reasons; keys and config follow.
    let ledger = Ledger::create(
        &loaded.ledger_path(),
        device.clone(),
        alg,
        &LedgerOptions::default(),
    )?;
    let keys = DeviceKeys::generate();
    keys.write(&loaded.signing_key_path(), &loaded.ticket_key_path())?;
    write_new(&config_path, cfg.to_toml().as_bytes())?;
    println!("initialised box {device} in {}", dir.display());
    println!("  config:     {}", config_path.display());
    println!(
        "  ledger:     {} ({})",
        ledger.path().display(),
        alg.as_str()
    );
    println!(
        "  public key: {} (register it with the cloud)",
        keys.public_hex()
    );
    println!("next: baytrace-edge run --config {}", config_path.display());
    Ok(ExitCode::SUCCESS)
}

fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn init_logging(level: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => b.try_init(),
        LogFormat::Json => b.json().try_init(),
    };
}

fn run(config: &Path) -> anyhow::Result<ExitCode> {
    let c = EdgeConfig::load(config)?;
    init_logging(&c.config.log.level, c.config.log.format);
    let opts = LedgerOptions {
        check: OpenCheck::Quick,
        ..LedgerOptions::default()
    };
    let ledger = Ledger::open(&c.ledger_path(), &opts)?;
    let report = ledger.verify()?;
    if let Some(bad) = &report.first_bad {
        bail!(
            "ledger {} is broken at entry {} ({:?}: {}); refusing to start: restore from a backup",
            ledger.path().display(),
            bad.seq,
            bad.problem,
            bad.detail
        );
    }
    if ledger.device() != &c.config.device.id {
        bail!(
            "ledger {} belongs to device {}, but the config says {}; fix device.id",
            ledger.path().display(),
            ledger.device(),
            c.config.device.id
        );
    }
    let status = ledger.status()?;
    tracing::info!(
        device = %status.device,
        ledger = %ledger.path().display(),
        head_seq = status.head_seq,
        synced_seq = status.synced_seq,
        backlog = status.backlog,
        "ledger open and verified"
    );
    // Sync opens its own connection (WAL), so the writer keeps the ledger it was given.
    let sync_opts = if c.config.sync.enabled {
        Some(crate::sync::SyncOptions::from_config(&c)?)
    } else {
        None
    };
    // The box's own tickets are indexed by their counter, which needs the code key (the UI
    // resolves it the same way; if it cannot, the UI reports why when it starts).
    let mut ledger = ledger;
    if let Ok(o) = crate::ui::UiOptions::from_config(&c) {
        ledger.set_ticket_codec(o.codec);
    }
    // The line screen reads the template with the ledger before it goes to the writer. Like
    // the stall UI, a line screen that cannot start leaves the box recording and syncing.
    let line = match crate::lineui::prepare(&c, &ledger) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "line screen not started");
            None
        }
    };
    let writer = LedgerWriter::spawn(ledger, WriterOptions::default())?;
    // Two workers: the MQTT event loop keeps flowing while the sync driver reads the ledger.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        // Handlers first, then "ready": a supervisor may signal as soon as it sees the log.
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let sync = match sync_opts {
            Some(o) => {
                tracing::info!(broker = %format!("{}:{}", o.host, o.port), "cloud sync starting");
                Some(crate::sync::spawn(o)?)
            }
            None => {
                tracing::info!("cloud sync is off ([sync] enabled = false; see `register`)");
                None
            }
        };
        // The UI is the counter's tool, not the ledger's guardian: if it cannot start (port
        // taken, bad [ui] section) the box still records scale events and syncs, and says why.
        let ui = if c.config.ui.enabled {
            let started = match crate::ui::UiOptions::from_config(&c) {
                Ok(o) => crate::ui::start(o, writer.handle()).await,
                Err(e) => Err(e),
            };
            match started {
                Ok(s) => {
                    tracing::info!(url = %format!("http://{}/", s.addr), "local UI serving");
                    Some(s)
                }
                Err(e) => {
                    tracing::error!(error = %e, "local UI not started");
                    None
                }
            }
        } else {
            tracing::info!("local UI is off ([ui] enabled = false)");
            None
        };
        let line = match line {
            Some(p) => match p.serve(writer.handle()).await {
                Ok(s) => {
                    tracing::info!(url = %format!("http://{}/", s.addr), "line screen serving");
                    Some(s)
                }
                Err(e) => {
                    tracing::error!(error = %e, "line screen not started");
                    None
                }
            },
            None => None,
        };
        // The "ready" line (tests and supervisors wait for it).
        tracing::info!(
            ui = %ui.as_ref().map_or_else(|| "off".to_owned(), |s| format!("http://{}/", s.addr)),
            "box ready: the ledger is open{}",
            if sync.is_some() { " and syncing" } else { "" }
        );
        super::supervisor::ready_and_watchdog();
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        if let Some(u) = ui {
            u.stop().await;
        }
        // Settles what is in flight on the coder before the ledger closes.
        if let Some(l) = line {
            l.stop().await;
        }
        if let Some(s) = sync
            && let Err(e) = s.stop().await
        {
            tracing::error!(error = %e, "cloud sync ended with an error");
        }
        anyhow::Ok(())
    })?;
    tracing::info!("stopping");
    writer.shutdown()?;
    tracing::info!("stopped; ledger closed cleanly");
    Ok(ExitCode::SUCCESS)
}

fn register(credentials: &Path, config: &Path) -> anyhow::Result<ExitCode> {
    let r = crate::sync::register(credentials, config)?;
    println!("registered box {} with the cloud", r.device);
    println!("  broker:      {}", r.broker);
    println!("  public host: {}", r.public_host);
    println!("  credentials: {} (0600)", r.credentials.display());
    println!(
        "next: restart the box (baytrace-edge run --config {}); then delete {}",
        config.display(),
        credentials.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn target_db(target: &Target) -> anyhow::Result<PathBuf> {
    match (&target.config, &target.db) {
        (Some(c), _) => Ok(EdgeConfig::load(c)?.ledger_path()),
        (None, Some(db)) => Ok(db.clone()),
        (None, None) => bail!("give --config FILE or --db FILE"),
    }
}

fn status(target: &Target, json: bool) -> anyhow::Result<ExitCode> {
    let db = target_db(target)?;
    let l = Ledger::open(&db, &LedgerOptions::default())?;
    let s = l.status()?;
    if json {
        let v = serde_json::json!({
            "device": s.device,
            "hash_alg": s.hash_alg,
            "ledger": db,
            "head_seq": s.head_seq,
            "head_hash": s.head_hash,
            "synced_seq": s.synced_seq,
            "backlog": s.backlog,
            "oldest_unsynced_at": s.oldest_unsynced_at.map(rfc3339),
        });
        println!("{v}");
    } else {
        println!("device:             {}", s.device);
        println!(
            "ledger:             {} ({})",
            db.display(),
            s.hash_alg.as_str()
        );
        println!("head_seq:           {}", s.head_seq);
        println!("head_hash:          {}", s.head_hash);
        println!("synced_seq:         {}", s.synced_seq);
        println!("backlog:            {}", s.backlog);
        println!(
            "oldest_unsynced_at: {}",
            s.oldest_unsynced_at.map_or_else(|| "-".into(), rfc3339)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(db: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let opts = LedgerOptions {
        check: OpenCheck::Quick,
        ..LedgerOptions::default()
    };
    let l = Ledger::open(db, &opts)?;
    let pb = super::progress::bar(l.head()?.seq, "verifying");
    let report = l.verify_with_progress(&mut |n| pb.set_position(n))?;
    pb.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string(&report)?);
    }
    match &report.first_bad {
        None => {
            if !json {
                println!(
                    "ok: {} entries of {} verify ({}), head {}",
                    report.entries_ok,
                    report.device,
                    report.hash_alg.as_str(),
                    report.head_hash
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(bad) => {
            eprintln!(
                "BROKEN: first bad entry is seq {} ({:?}): {}",
                bad.seq, bad.problem, bad.detail
            );
            eprintln!(
                "{} entries before it verify. Keep this file as evidence; restore from a backup with `baytrace-edge restore`.",
                report.entries_ok
            );
            Ok(ExitCode::from(EXIT_BROKEN_CHAIN))
        }
    }
}

fn export(db: &Path, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let l = Ledger::open(db, &LedgerOptions::default())?;
    let head = l.head()?.seq;
    let mut w: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(p)
                .with_context(|| format!("cannot create {} (it must not exist)", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let pb = super::progress::bar(head, "exporting");
    let mut from = 1;
    while from <= head {
        let to = (from + 999).min(head);
        for e in l.range(from..=to)? {
            serde_json::to_writer(&mut w, &e)?;
            w.write_all(b"\n")?;
        }
        pb.set_position(to);
        from = to + 1;
    }
    w.flush()?;
    pb.finish_and_clear();
    if let Some(p) = out {
        eprintln!("exported {head} entries to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Print each acknowledged seq on stdout, flushed, only after its commit returned.
fn stress_append(db: &Path, count: Option<u64>, group: Option<usize>) -> anyhow::Result<ExitCode> {
    let mut l = Ledger::open(db, &LedgerOptions::default())?;
    let start = l.head()?.seq;
    let limit = count.unwrap_or(u64::MAX);
    let Some(threads) = group else {
        for i in 0..limit {
            let e = l.append(crate::synth::sale(start + i + 1))?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", e.seq)?;
            out.flush()?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    let writer = LedgerWriter::spawn(l, WriterOptions::default())?;
    let next = std::sync::atomic::AtomicU64::new(start + 1);
    let result: anyhow::Result<()> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                let h = writer.handle();
                let next = &next;
                s.spawn(move || -> anyhow::Result<()> {
                    loop {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if n - start > limit {
                            return Ok(());
                        }
                        let e = h.append(crate::synth::sale(n))?;
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "{}", e.seq)?;
                        out.flush()?;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("appender panicked"))??;
        }
        Ok(())
    });
    writer.shutdown()?;
    result?;
    Ok(ExitCode::SUCCESS)
}

/// `ui hash-pin`: one line from stdin → the argon2 PHC string on stdout.
fn hash_pin() -> anyhow::Result<ExitCode> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let pin = line.trim();
    if !crate::ui::pins::valid_pin(pin) {
        anyhow::bail!("the PIN must be 4–8 digits (read from stdin)");
    }
    let h = crate::ui::pins::hash_pin(pin).map_err(anyhow::Error::msg)?;
    println!("{h}");
    Ok(ExitCode::SUCCESS)
}
