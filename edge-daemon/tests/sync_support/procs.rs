//! The real binaries as children, for the tests that SIGKILL them: `baytrace-cloud serve` (on
//! its embedded broker or on a Mosquitto) and `baytrace-edge run`; plus the 100,000-entry
//! ledger fixture every scale test starts from, built once per test binary.

use super::{DEVICE, device, free_port, ledger_with, wait_listening};
use cloud_sync::provision::{CredentialsFile, DeviceCredentials, NewDevice, add_device};
use cloud_sync::{CloudStore, SqliteConfig, SqliteStore};
use edge_daemon::ledger::{Ledger, LedgerOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;
use trace_core::HashAlg;

const EDGE: &str = env!("CARGO_BIN_EXE_baytrace-edge");

/// `baytrace-cloud`, built beside `baytrace-edge` by `cargo test --workspace` (what
/// `scripts/test` runs). Panics, never skips, when it is not there.
fn cloud_bin() -> PathBuf {
    let p = Path::new(EDGE).with_file_name("baytrace-cloud");
    assert!(
        p.exists(),
        "{} is missing: build the whole workspace (cargo test --workspace)",
        p.display()
    );
    p
}

/// The path of a 100,000-sale ledger of the test device (closed, WAL checkpointed), built once
/// per test binary in Cargo's target tmp dir (overwritten by the next run).
pub fn fixture_100k() -> &'static Path {
    static FIXTURE: OnceLock<PathBuf> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("sync-scale-fixture-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (path, ledger) = ledger_with(&dir, 100_000);
        drop(ledger);
        let stable = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sync-scale-fixture.sqlite3");
        std::fs::rename(&path, &stable).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        stable
    })
}

/// A private copy of the fixture as `dir/ledger.sqlite3`.
pub fn ledger_copy(dir: &Path) -> PathBuf {
    let src = fixture_100k();
    let dst = dir.join("ledger.sqlite3");
    std::fs::copy(src, &dst).unwrap();
    dst
}

/// Open a ledger file (the box may be running: WAL lets us read beside it).
pub fn open_ledger(path: &Path) -> Ledger {
    Ledger::open(path, &LedgerOptions::default()).unwrap()
}

/// Which broker the cloud child uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broker {
    /// `serve --embedded-broker`: the broker lives and dies with the cloud process.
    Embedded,
    /// `serve --mqtt mqtt://127.0.0.1:PORT` (a Mosquitto the test started).
    Mosquitto(u16),
}

/// `baytrace-cloud serve` as a child on fixed (free) ports, so a restart listens where the box
/// already looks.
pub struct CloudProc {
    pub data: PathBuf,
    pub http_port: u16,
    pub mqtt_port: u16,
    broker: Broker,
    log: PathBuf,
    child: Option<Child>,
}

impl CloudProc {
    /// Register the test device in a fresh store under `dir`, then start serving.
    pub async fn start(dir: &Path, broker: Broker) -> (CloudProc, DeviceCredentials) {
        let data = dir.join("cloud");
        std::fs::create_dir_all(&data).unwrap();
        let mqtt_port = match broker {
            Broker::Embedded => free_port(),
            Broker::Mosquitto(p) => p,
        };
        let cred = {
            let store = SqliteStore::open(SqliteConfig::new(data.join("cloud.sqlite"))).unwrap();
            add_device(
                &store,
                NewDevice {
                    id: device(),
                    entity: "陈记鲜档".into(),
                    market: "东门市场".into(),
                    stall_no: "1".into(),
                    device_no: None,
                    hash_alg: HashAlg::Sha256,
                    mqtt_url: format!("mqtt://127.0.0.1:{mqtt_port}"),
                    public_host: "trace.example".into(),
                },
            )
            .await
            .expect("device registered")
        };
        let mut c = CloudProc {
            log: dir.join("cloud.log"),
            data,
            http_port: free_port(),
            mqtt_port,
            broker,
            child: None,
        };
        c.spawn();
        (c, cred)
    }

    /// Start the child and wait until its HTTP side (started after the store and the MQTT
    /// link) accepts connections.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "cloud already running");
        let mut cmd = Command::new(cloud_bin());
        cmd.arg("serve")
            .arg("--data")
            .arg(&self.data)
            .arg("--http")
            .arg(format!("127.0.0.1:{}", self.http_port));
        match self.broker {
            Broker::Embedded => cmd
                .arg("--embedded-broker")
                .arg(format!("127.0.0.1:{}", self.mqtt_port)),
            Broker::Mosquitto(p) => cmd.arg("--mqtt").arg(format!("mqtt://127.0.0.1:{p}")),
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = cmd
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_listening(self.http_port, "baytrace-cloud serve");
    }

    /// SIGKILL: no shutdown path runs.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGINT (its Ctrl-C shutdown) and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(&c, nix::sys::signal::Signal::SIGINT);
            let st = c.wait().unwrap();
            assert!(st.success(), "cloud exit {st}; log {}", self.log.display());
        }
    }

    /// The store file, opened beside the running child (WAL: reads do not block it).
    pub fn store(&self) -> SqliteStore {
        SqliteStore::open(SqliteConfig::new(self.data.join("cloud.sqlite"))).unwrap()
    }
}

impl Drop for CloudProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The cloud's contiguous high-water mark for the test device.
pub async fn cloud_hwm(store: &impl CloudStore) -> u64 {
    store
        .list_devices()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.id == device())
        .map_or(0, |d| d.hwm)
}

/// Poll (every 20 ms; the state is in another process) until `f` holds, bounded as a guard
/// against a hang only.
pub async fn until<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(900);
    while !f().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `baytrace-edge run` as a child: initialised, registered with `cred`, ledger replaced by
/// `ledger_src`'s copy.
pub struct BoxProc {
    pub config: PathBuf,
    pub ledger: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl BoxProc {
    pub fn setup(dir: &Path, cred: &DeviceCredentials) -> BoxProc {
        let boxdir = dir.join("box");
        edge_ok(&["init", "--dir", s(&boxdir), "--device", DEVICE]);
        let config = boxdir.join("edge.toml");
        let cred_file = cred.write_to(dir).unwrap();
        edge_ok(&[
            "register",
            "--credentials",
            s(&cred_file),
            "--config",
            s(&config),
        ]);
        // A short ack timeout: a batch published while the cloud is dead (and so dropped by a
        // broker with no subscriber) is re-sent soon.
        let mut loaded = edge_daemon::config::EdgeConfig::load(&config).unwrap();
        loaded.config.sync.ack_timeout_secs = 3;
        std::fs::write(&config, loaded.config.to_toml()).unwrap();
        let ledger = loaded.ledger_path();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", ledger.display()));
        }
        std::fs::copy(fixture_100k(), &ledger).unwrap();
        BoxProc {
            config,
            ledger,
            log: dir.join("box.log"),
            child: None,
        }
    }

    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "box already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(EDGE)
            .args(["run", "--config", s(&self.config)])
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// SIGKILL mid-whatever.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(&c, nix::sys::signal::Signal::SIGTERM);
            let st = c.wait().unwrap();
            assert!(st.success(), "box exit {st}; log {}", self.log.display());
        }
    }

    /// The box's sync mark, read beside the running child.
    pub fn synced_seq(&self) -> u64 {
        open_ledger(&self.ledger).synced_seq().unwrap()
    }
}

impl Drop for BoxProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn signal(c: &Child, sig: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(c.id()).unwrap());
    nix::sys::signal::kill(pid, sig).unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn edge_ok(args: &[&str]) {
    let o = Command::new(EDGE)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A minimal HTTP/1.1 GET (status, body) against the cloud's page server.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
