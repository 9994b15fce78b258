//! The installer CLI of `baytrace-edge`, as a library so tests drive it in-process or through
//! the real binary.
//!
//! Why every command is small and explicit: the person running it is a field installer with
//! a laptop and a box, or support on the phone with a merchant; `--help` teaches with
//! examples, errors say what to do, and exit codes are stable for scripts:
//! 0 success, 1 error (nothing changed), 2 usage, 3 `ledger verify` found a broken chain.

mod bench;
mod codes;
mod commands;
pub mod devices;
pub mod line;
mod line_bench;
mod producer;
mod progress;
mod supervisor;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use trace_core::{DeviceId, HashAlg};

/// Exit status when `ledger verify` finds a broken chain.
pub const EXIT_BROKEN_CHAIN: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "baytrace-edge",
    version,
    about = "baytrace edge box: the stall / production-line ledger, devices and sync",
    long_about = "baytrace-edge runs on the box at a market stall or a packing line. It keeps \
the append-only, hash-chained ledger of every sale, purchase and correction, and (in later \
releases) drives the scale, printer, scanner and coder and syncs to the cloud.",
    after_help = "Examples:
  Set up a new box (writes edge.toml, keys and an empty ledger):
    baytrace-edge init --dir /var/lib/baytrace --device stall-a01
  Start it:
    baytrace-edge run --config /var/lib/baytrace/edge.toml
  Is everything synced?
    baytrace-edge status --config /var/lib/baytrace/edge.toml
  Check the ledger has not been altered:
    baytrace-edge ledger verify --db /var/lib/baytrace/ledger.sqlite3
  Back up while running, restore onto a new path:
    baytrace-edge backup --db /var/lib/baytrace/ledger.sqlite3 --to /mnt/usb/ledger-2026-11-22.sqlite3
    baytrace-edge restore --from /mnt/usb/ledger-2026-11-22.sqlite3 --db /var/lib/baytrace/ledger.sqlite3

Exit status: 0 ok, 1 error (nothing was changed), 2 usage, 3 ledger verify found a broken chain."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new box: config, device keys and an empty ledger in DIR.
    #[command(after_help = "Examples:
  baytrace-edge init --dir /var/lib/baytrace --device stall-a01
  baytrace-edge init --dir ./line-3 --device factory-gz-line3 --hash sm3

Refuses to overwrite anything that exists. Keys are written with mode 0600; register the
printed public key with the cloud.")]
    Init {
        /// Directory to create (or an empty existing one).
        #[arg(long)]
        dir: PathBuf,
        /// This box's id: a-z, 0-9 and '-', 3 to 64 characters.
        #[arg(long)]
        device: DeviceId,
        /// Hash chain algorithm, fixed for the life of the ledger.
        #[arg(long, value_enum, default_value_t = HashArg::Sha256)]
        hash: HashArg,
    },
    /// Run the box: open and verify the ledger, then wait for Ctrl-C or SIGTERM.
    #[command(after_help = "Example:
  baytrace-edge run --config /var/lib/baytrace/edge.toml

Refuses to start on a damaged ledger or an invalid config (exit 1).")]
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Take the credentials `baytrace-cloud device add` issued into this box (keys, [sync]).
    #[command(after_help = "Example:
  baytrace-edge register --credentials stall-a01.credentials.json --config /var/lib/baytrace/edge.toml

Replaces the box's signing and ticket keys with the cloud's (the old files are kept as
*.before-register), enables sync and sets the broker. Refuses credentials for another device.
Delete the credentials file from your laptop afterwards.")]
    Register {
        #[arg(long)]
        credentials: PathBuf,
        #[arg(long)]
        config: PathBuf,
    },
    /// Show the device, the ledger head and the sync backlog.
    #[command(after_help = "Examples:
  baytrace-edge status --config /var/lib/baytrace/edge.toml
  baytrace-edge status --db ledger.sqlite3 --json")]
    Status {
        #[command(flatten)]
        target: Target,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Inspect the ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Write a consistent copy of the ledger (safe while the box is running).
    #[command(after_help = "Example:
  baytrace-edge backup --db /var/lib/baytrace/ledger.sqlite3 --to /mnt/usb/ledger-2026-11-22.sqlite3

Never overwrites: pick a new file name each time.")]
    Backup {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup to a new ledger file, after verifying the backup's chain.
    #[command(
        after_help = "Example (stop the box first, move the damaged file aside):
  systemctl stop baytrace-edge
  mv /var/lib/baytrace/ledger.sqlite3 /var/lib/baytrace/ledger.damaged.sqlite3
  baytrace-edge restore --from /mnt/usb/ledger-2026-11-22.sqlite3 --db /var/lib/baytrace/ledger.sqlite3

Never overwrites an existing ledger."
    )]
    Restore {
        #[arg(long)]
        from: PathBuf,
        #[arg(long)]
        db: PathBuf,
    },
    /// Check or print the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Measure the ledger on this box's disk.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Product codes: templates, generate/export, disable/enable, lookup (4.2.5, 4.2.6).
    #[command(subcommand)]
    Codes(codes::CodesCommand),
    /// Production line: run a coder job, reconcile a batch.
    #[command(subcommand)]
    Line(line::LineCommand),
    /// Producer / distributor records: whereabouts (去向查询), stock per batch.
    #[command(subcommand)]
    Producer(producer::ProducerCommand),
    /// The stall touchscreen: hash a PIN for edge.toml.
    #[command(subcommand)]
    Ui(UiCommand),
    /// Installer device commands: devices, scale, print-test, scanner, sim.
    #[command(flatten)]
    Devices(devices::DeviceCommand),
}

#[derive(Debug, Subcommand)]
pub enum UiCommand {
    /// Read a 4–8 digit PIN from stdin and print its argon2 hash for `pin_hash` in edge.toml.
    #[command(after_help = "Example:
  echo 2468 | baytrace-edge ui hash-pin
  # then in edge.toml:
  # [[ui.users]]
  # name = \"陈老板\"
  # role = \"owner\"
  # pin_hash = \"$argon2id$v=19$m=8192,t=2,p=1$…\"

The PIN is read from stdin, not from an argument, so it stays out of the shell history and
the process list. Each run uses a fresh salt, so the same PIN hashes differently each time.")]
    HashPin,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// The box's edge.toml (the ledger path is read from it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A ledger file directly.
    #[arg(long)]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Re-walk the hash chain; exit 0 if intact, 3 naming the first bad entry.
    #[command(after_help = "Example:
  baytrace-edge ledger verify --db /var/lib/baytrace/ledger.sqlite3

Checks every page (quick_check), then every entry in order: no seq missing, each prev_hash
is the previous hash, each hash matches the recomputed one, each body parses.")]
    Verify {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Write every entry as one JSON object per line.
    #[command(after_help = "Examples:
  baytrace-edge ledger export --db ledger.sqlite3 --format jsonl > entries.jsonl
  baytrace-edge ledger export --db ledger.sqlite3 --format jsonl --out entries.jsonl

Each line is a complete entry (device, seq, id, at, v, kind, body, prev_hash, hash) that any
JCS tool can re-hash.")]
    Export {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        /// Write here (must not exist) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Test hook: append synthetic sales, printing each acknowledged seq after its commit.
    #[command(hide = true)]
    StressAppend {
        #[arg(long)]
        db: PathBuf,
        /// Stop after this many (default: until killed or an error).
        #[arg(long)]
        count: Option<u64>,
        /// Use the group-commit writer with this many concurrent appenders.
        #[arg(long)]
        group: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Parse FILE with the environment overrides; print errors with line and key.
    #[command(after_help = "Example:
  baytrace-edge config validate /var/lib/baytrace/edge.toml")]
    Validate { file: PathBuf },
    /// Print a complete config with every default.
    #[command(after_help = "Example:
  baytrace-edge config print-default > edge.toml")]
    PrintDefault,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Feed a coder simulator over loopback: the job engine vs the bare driver loop.
    #[command(after_help = "Example:
  baytrace-edge bench line --dir /tmp/bench-line --items 5000

For each coder protocol, in one run: the full job (durable allocation, session rows,
confirmations in a fresh ledger in DIR) and the bare driver loop (same water marks, same
evidence, nothing written), each against its own simulator printing at --line-speed.")]
    Line {
        /// A new or empty directory for the scratch ledgers.
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 5_000)]
        items: u64,
        /// Items per second the simulator prints.
        #[arg(long, default_value_t = 20_000)]
        line_speed: u32,
        #[arg(long)]
        json: bool,
    },
    /// Append N synthetic sales and compare with a bare SQLite INSERT on the same disk.
    #[command(after_help = "Example:
  baytrace-edge bench ledger --db /tmp/bench.sqlite3 --entries 10000

Measures, in one run: single-entry append latency (p50/p99/max) against a bare one-row
INSERT per transaction, and burst throughput through the group-commit writer and
append_batch against bare batched INSERTs of the same bytes. Same WAL + synchronous=FULL.
Creates the ledger if missing (device bench-0001).")]
    Ledger {
        #[arg(long)]
        db: PathBuf,
        /// Entries per burst phase.
        #[arg(long, default_value_t = 10_000)]
        entries: u64,
        /// Entries for the single-append latency phase (default: min(entries, 1000)).
        #[arg(long)]
        single: Option<u64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HashArg {
    Sha256,
    Sm3,
}

impl From<HashArg> for HashAlg {
    fn from(h: HashArg) -> HashAlg {
        match h {
            HashArg::Sha256 => HashAlg::Sha256,
            HashArg::Sm3 => HashAlg::Sm3,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
}

/// Run a parsed command line; errors are printed here, the caller only exits.
pub fn run(cli: Cli) -> ExitCode {
    match commands::dispatch(cli.command) {
        Ok(code) => code,
        // `ledger export | head`: the reader left; not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let pipe = std::io::ErrorKind::BrokenPipe;
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == pipe)
        || e.downcast_ref::<serde_json::Error>()
            .and_then(serde_json::Error::io_error_kind)
            == Some(pipe)
}
