//! `baytrace-cloud`: the command line over the `cloud_sync` library.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use cloud_sync::provision::{self, CredentialsFile, NewDevice};
use cloud_sync::{AnyStore, CloudConfig, CloudStore, StoreSpec};
use std::net::SocketAddr;
use std::path::PathBuf;
use trace_core::{DeviceId, HashAlg};

/// The baytrace cloud: receives every stall box's ledger over MQTT, verifies and stores it, and
/// serves the public trace page a consumer opens by scanning a receipt.
///
/// Typical one-machine start:   baytrace-cloud serve --data /var/lib/baytrace --embedded-broker 127.0.0.1:1883
/// With Mosquitto (production): baytrace-cloud serve --config /etc/baytrace/cloud.toml
/// Commission a box:            baytrace-cloud device add --id stall-a01 --entity 老陈鲜肉 --market 东门市场 --stall-no A-12 --data /var/lib/baytrace
#[derive(Parser)]
#[command(name = "baytrace-cloud", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the cloud: MQTT ingest, trace page (/t/{code}), /healthz and /metrics.
    ///
    /// Settings come from the defaults, then --config FILE, then these flags.
    Serve(ServeArgs),
    /// Register boxes and show their sync health.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Quarantined boxes: list them, release one after investigation.
    #[command(subcommand)]
    Quarantine(QuarantineCmd),
    /// Check or print the configuration file.
    #[command(subcommand)]
    Config(ConfigCmd),
}

/// Which store a command opens: `--store URL`, else the data folder's cloud.sqlite.
#[derive(Args)]
struct StoreArgs {
    /// Folder of cloud.sqlite (SQLite store).
    #[arg(
        long,
        default_value = "baytrace-cloud-data",
        env = "BAYTRACE_CLOUD_DATA"
    )]
    data: PathBuf,
    /// sqlite:PATH or postgres://user@host/database instead of the data folder's cloud.sqlite.
    #[arg(long, env = "BAYTRACE_CLOUD_STORE")]
    store: Option<String>,
    /// PostgreSQL schema holding the tables [default: public].
    #[arg(long)]
    schema: Option<String>,
}

impl StoreArgs {
    async fn open(&self) -> anyhow::Result<AnyStore> {
        let url = self.store.as_deref().unwrap_or("sqlite");
        let mut spec = StoreSpec::parse(url, self.data.join("cloud.sqlite"))
            .map_err(|e| anyhow::anyhow!("--store: {e}"))?;
        match &mut spec {
            StoreSpec::Sqlite(path) => {
                anyhow::ensure!(self.schema.is_none(), "--schema is for postgres:// stores");
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
            }
            StoreSpec::Postgres(pg) => {
                pg.schema = self.schema.clone();
                pg.pool_size = 2;
            }
        }
        let shown = format!("{spec:?}");
        AnyStore::open(spec)
            .await
            .with_context(|| format!("opening the store {shown}"))
    }
}

#[derive(Subcommand)]
enum QuarantineCmd {
    /// Quarantined boxes: since when, what the cloud holds (hwm), entries held aside, cause.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Lift a box's quarantine after investigating the cause.
    ///
    /// The held-aside entries are archived (table quarantine_released), never stored. The box
    /// still counts everything after the cloud's hwm as unsynced and re-sends it (at its next
    /// reconnect, or when its next new entry makes the cloud ask for the hole); each re-sent
    /// entry is verified again from scratch. A chain that really is broken is quarantined
    /// again at once, with a new alert.
    Release {
        #[command(flatten)]
        store: StoreArgs,
        /// The box to release.
        #[arg(long)]
        device: String,
        /// What the investigation found (kept in the audit alert).
        #[arg(long, default_value = "")]
        note: String,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// TOML configuration file (see `baytrace-cloud config print-default`).
    #[arg(long, env = "BAYTRACE_CLOUD_CONFIG")]
    config: Option<PathBuf>,
    /// Folder for cloud.sqlite [default: baytrace-cloud-data].
    #[arg(long, env = "BAYTRACE_CLOUD_DATA")]
    data: Option<PathBuf>,
    /// HTTP listen address, e.g. 0.0.0.0:8080 (port 0 = any free port).
    #[arg(long)]
    http: Option<SocketAddr>,
    /// External broker, e.g. mqtt://127.0.0.1:1883 or mqtts://broker.example:8883 (Mosquitto).
    #[arg(long, conflicts_with = "embedded_broker")]
    mqtt: Option<String>,
    /// Run an in-process MQTT 5 broker on this address instead (no ACL: one-machine installs).
    #[arg(long, value_name = "ADDR")]
    embedded_broker: Option<SocketAddr>,
    /// CA certificate (PEM) of the broker's TLS certificate, for mqtts:// URLs.
    #[arg(long)]
    mqtt_ca: Option<PathBuf>,
    /// Shared-subscription group; "" for a plain subscription.
    #[arg(long)]
    share_group: Option<String>,
    /// Store: sqlite (the data folder's cloud.sqlite), sqlite:PATH or postgres://user@host/db.
    #[arg(long, env = "BAYTRACE_CLOUD_STORE")]
    store: Option<String>,
    /// PostgreSQL schema holding the tables [default: public].
    #[arg(long)]
    schema: Option<String>,
}

#[derive(Subcommand)]
// Parsed once per run: the size difference of the variants costs nothing.
#[allow(clippy::large_enum_variant)]
enum DeviceCmd {
    /// Issue a box's credentials: signing key, ticket-code key, MQTT login.
    ///
    /// Writes {id}.credentials.json (mode 0600) for `baytrace-edge init`; carry it to the box
    /// and delete it afterwards: it holds the box's private key.
    Add {
        /// Device id, e.g. stall-a01 (lowercase letters, digits, dashes).
        #[arg(long)]
        id: String,
        /// The stall or enterprise name, as consumers should read it (e.g. 老陈鲜肉).
        #[arg(long)]
        entity: String,
        /// The market the stall is in (e.g. 东门市场).
        #[arg(long, default_value = "")]
        market: String,
        /// The stall's number in its market (e.g. A-12).
        #[arg(long, default_value = "")]
        stall_no: String,
        /// 6-digit number printed at the start of its ticket codes [default: random free].
        #[arg(long)]
        device_no: Option<u32>,
        #[command(flatten)]
        store: StoreArgs,
        /// Ledger hash: sha256 or sm3.
        #[arg(long, default_value = "sha256")]
        hash: String,
        /// Broker URL the box will use.
        #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
        mqtt_url: String,
        /// Host of the public trace page.
        #[arg(long, default_value = "localhost:8080")]
        public_host: String,
        /// Folder for the credentials file [default: current folder].
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Also add the MQTT login to this Mosquitto password file (runs mosquitto_passwd).
        #[arg(long)]
        mosquitto_passwd: Option<PathBuf>,
    },
    /// Every box's sync health: id, hwm, head_hash, missing, quarantined, online, last_seen.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Parse and check a configuration file; errors name the key.
    Validate { file: PathBuf },
    /// Print the default configuration, commented.
    PrintDefault,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rumqttd=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().cmd {
        Cmd::Serve(a) => {
            let mut cfg = match &a.config {
                Some(f) => CloudConfig::load(f)?,
                None => CloudConfig::default(),
            };
            if let Some(d) = a.data {
                cfg.data_dir = d;
            }
            if let Some(h) = a.http {
                cfg.http = h;
            }
            if let Some(m) = a.mqtt {
                cfg.mqtt.url = m;
                cfg.mqtt.embedded_broker = None;
            }
            if let Some(b) = a.embedded_broker {
                cfg.mqtt.embedded_broker = Some(b);
            }
            if let Some(ca) = a.mqtt_ca {
                cfg.mqtt.ca_file = Some(ca);
            }
            if let Some(g) = a.share_group {
                cfg.mqtt.share_group = g;
            }
            if let Some(st) = a.store {
                cfg.store.url = st;
            }
            if let Some(sc) = a.schema {
                cfg.store.schema = Some(sc);
            }
            cfg.validate()?;
            // SIGTERM (systemd, docker) and Ctrl-C both stop cleanly.
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .context("cannot install the SIGTERM handler")?;
            let shutdown = async move {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = term.recv() => {},
                }
            };
            let running = cloud_sync::serve(cfg, shutdown).await?;
            eprintln!(
                "baytrace-cloud: trace page http://{}/t/{{code}}  metrics http://{}/metrics  mqtt {}",
                running.http_addr, running.http_addr, running.mqtt_addr
            );
            notify_ready_and_watchdog();
            running.wait().await?;
        }
        Cmd::Device(DeviceCmd::Add {
            id,
            entity,
            market,
            stall_no,
            device_no,
            store,
            hash,
            mqtt_url,
            public_host,
            out,
            mosquitto_passwd,
        }) => {
            let id = DeviceId::new(id).context("invalid --id")?;
            let hash_alg = match hash.as_str() {
                "sha256" => HashAlg::Sha256,
                "sm3" => HashAlg::Sm3,
                other => anyhow::bail!("--hash {other:?}: use sha256 or sm3"),
            };
            let store = store.open().await?;
            let cred = provision::add_device(
                &store,
                NewDevice {
                    id,
                    entity,
                    market,
                    stall_no,
                    device_no,
                    hash_alg,
                    mqtt_url,
                    public_host,
                },
            )
            .await?;
            let path = cred.write_to(&out)?;
            if let Some(pw) = mosquitto_passwd {
                provision::mosquitto_passwd(&pw, &cred.mqtt.username, &cred.mqtt.password)?;
                eprintln!(
                    "added MQTT login {} to {}",
                    cred.mqtt.username,
                    pw.display()
                );
            }
            println!("{}", path.display());
            eprintln!(
                "registered {} (device no. {:06}); give {} to the box (baytrace-edge init) and then delete it",
                cred.device,
                cred.device_no,
                path.display()
            );
        }
        Cmd::Device(DeviceCmd::List { store, json }) => {
            let store = store.open().await?;
            let devices = store.list_devices().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&devices)?);
            } else {
                println!(
                    "{:<24} {:>10} {:>8} {:>6} {:>11} {:>7}",
                    "id", "hwm", "max_seq", "gaps", "quarantined", "online"
                );
                for d in devices {
                    println!(
                        "{:<24} {:>10} {:>8} {:>6} {:>11} {:>7}",
                        d.id.as_str(),
                        d.hwm,
                        d.max_seq,
                        d.missing.len(),
                        d.quarantined,
                        d.online
                    );
                }
            }
        }
        Cmd::Quarantine(QuarantineCmd::List { store, json }) => {
            let list = store.open().await?.quarantines().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no device is quarantined");
            } else {
                println!(
                    "{:<24} {:>10} {:>6} {:>15}  cause",
                    "id", "hwm", "held", "held seqs"
                );
                for q in list {
                    let seqs = q
                        .held_seqs
                        .map_or_else(String::new, |(a, b)| format!("{a}..={b}"));
                    let cause = q
                        .cause
                        .map_or_else(String::new, |c| format!("{}: {}", c.kind, c.detail));
                    println!(
                        "{:<24} {:>10} {:>6} {:>15}  {cause}",
                        q.device.as_str(),
                        q.hwm,
                        q.held_entries,
                        seqs
                    );
                }
            }
        }
        Cmd::Quarantine(QuarantineCmd::Release {
            store,
            device,
            note,
            json,
        }) => {
            let device = DeviceId::new(device).context("invalid --device")?;
            let out = store
                .open()
                .await?
                .release_quarantine(&device, &note)
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "released {}: {} held entries archived (not stored); it re-sends from seq {} and each entry is verified again",
                    out.device,
                    out.archived_entries,
                    out.hwm + 1
                );
            }
        }
        Cmd::Config(ConfigCmd::Validate { file }) => {
            let cfg = CloudConfig::load(&file)?;
            println!("{} is valid", file.display());
            eprintln!("{cfg:#?}");
        }
        Cmd::Config(ConfigCmd::PrintDefault) => print!("{}", CloudConfig::default_toml()),
    }
    Ok(())
}

/// systemd's notify protocol (the unit is `Type=notify` with `WatchdogSec`): READY once serving,
/// then watchdog pings from the runtime so a wedged one is restarted. No-ops without systemd.
fn notify_ready_and_watchdog() {
    use sd_notify::NotifyState;
    if let Err(e) = sd_notify::notify(false, &[NotifyState::Ready]) {
        tracing::warn!(error = %e, "could not tell systemd the cloud is ready");
    }
    let mut usec = 0;
    if sd_notify::watchdog_enabled(false, &mut usec) {
        let period =
            std::time::Duration::from_micros(usec / 2).max(std::time::Duration::from_millis(100));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let _ = sd_notify::notify(false, &[NotifyState::Watchdog]);
            }
        });
    }
}
