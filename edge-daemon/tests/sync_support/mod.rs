//! Shared helpers for the `sync_*` integration tests: an in-process cloud (`cloud_sync::serve`)
//! on the embedded broker or on a Mosquitto the test starts on a free port, a registered box
//! with a filled ledger, and an MQTT observer.
#![allow(dead_code)]

pub mod procs;

use cloud_sync::provision::{DeviceCredentials, NewDevice, add_device};
use cloud_sync::{CloudConfig, CloudStore, RunningCloud};
use edge_daemon::ledger::{Ledger, LedgerOptions};
use edge_daemon::sync::{SyncHandle, SyncOptions};
use edge_daemon::synth;
use rumqttc::{AsyncClient, Event, EventLoop, Incoming, MqttOptions, QoS, SessionMode};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::sync::oneshot;
use trace_core::{DeviceId, HashAlg};

pub const DEVICE: &str = "stall-s01";

pub fn device() -> DeviceId {
    DeviceId::new(DEVICE).unwrap()
}

/// A cloud running in-process until dropped... or until `stop` is sent.
pub struct Cloud {
    pub running: RunningCloud,
    pub host: String,
    pub port: u16,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// Start the cloud on its embedded broker (`broker` None) or on `broker` (Mosquitto).
pub async fn cloud(broker: Option<u16>) -> Cloud {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = CloudConfig {
        data_dir: dir.path().join("cloud"),
        http: "127.0.0.1:0".parse().unwrap(),
        ..CloudConfig::default()
    };
    match broker {
        Some(port) => cfg.mqtt.url = format!("mqtt://127.0.0.1:{port}"),
        None => cfg.mqtt.embedded_broker = Some("127.0.0.1:0".parse().unwrap()),
    }
    let (tx, rx) = oneshot::channel::<()>();
    let running = cloud_sync::serve(cfg, async move {
        let _ = rx.await;
    })
    .await
    .expect("cloud starts");
    running.mqtt_ready().await;
    let (host, port) = running.mqtt_addr.rsplit_once(':').unwrap();
    let (host, port) = (host.to_owned(), port.parse().unwrap());
    Cloud {
        running,
        host,
        port,
        _stop: tx,
        _dir: dir,
    }
}

impl Cloud {
    /// `baytrace-cloud device add` for the test device.
    pub async fn add_device(&self) -> DeviceCredentials {
        add_device(
            &self.running.store,
            NewDevice {
                id: device(),
                entity: "陈记鲜档".into(),
                market: "东门市场".into(),
                stall_no: "1".into(),
                device_no: None,
                hash_alg: HashAlg::Sha256,
                mqtt_url: format!("mqtt://{}:{}", self.host, self.port),
                public_host: "trace.example".into(),
            },
        )
        .await
        .expect("device registered")
    }

    /// The cloud's view must equal the box's ledger exactly: same count, same seqs and hashes,
    /// same head, nothing missing, nothing duplicated.
    pub async fn assert_matches(&self, ledger: &Ledger) {
        assert_store_matches(&self.running.store, ledger).await;
    }
}

/// `store` must hold exactly `ledger`'s entries: same count, same seqs and hashes, same head,
/// nothing missing, nothing duplicated, not quarantined.
pub async fn assert_store_matches(store: &impl CloudStore, ledger: &Ledger) {
    let head = ledger.head().unwrap();
    let devices = store.list_devices().await.unwrap();
    let d = devices.iter().find(|d| d.id == device()).expect("device");
    assert_eq!(d.hwm, head.seq, "cloud hwm");
    assert_eq!(d.max_seq, head.seq);
    assert_eq!(d.entries, head.seq, "entry count (no duplicates)");
    assert_eq!(d.head_hash, Some(head.hash), "head hash");
    assert!(d.missing.is_empty(), "missing {:?}", d.missing);
    assert!(!d.quarantined);
    assert_eq!(store.stats().await.unwrap().entries, head.seq);
    let mut from = 1;
    while from <= head.seq {
        let to = (from + 4_999).min(head.seq);
        let cloud = store.entries(&device(), from..=to).await.unwrap();
        let edge = ledger.range(from..=to).unwrap();
        assert_eq!(cloud.len(), edge.len());
        for (c, e) in cloud.iter().zip(&edge) {
            assert_eq!((c.seq, c.hash), (e.seq, e.hash));
        }
        from = to + 1;
    }
}

/// A fresh ledger for the test device with `n` synthetic sales.
pub fn ledger_with(dir: &Path, n: u64) -> (PathBuf, Ledger) {
    let path = dir.join("ledger.sqlite3");
    let mut l = Ledger::create(&path, device(), HashAlg::Sha256, &LedgerOptions::default())
        .expect("ledger");
    append_sales(&mut l, 1, n);
    (path, l)
}

/// Append sales `first..first+n` in transactions of 1,000.
pub fn append_sales(l: &mut Ledger, first: u64, n: u64) {
    let mut k = first;
    while k < first + n {
        let end = (k + 1_000).min(first + n);
        l.append_batch((k..end).map(synth::sale).collect()).unwrap();
        k = end;
    }
}

pub fn sync_opts(cloud: &Cloud, cred: &DeviceCredentials, ledger: &Path) -> SyncOptions {
    let mut o = SyncOptions::new(
        device(),
        ledger.to_path_buf(),
        cred.sign_key().unwrap(),
        cloud.host.clone(),
        cloud.port,
    );
    o.ack_timeout = Duration::from_secs(5);
    o
}

/// Wait (bounded only as a guard against a hang) until the sync mark reaches `seq`.
pub async fn synced(h: &SyncHandle, seq: u64) {
    tokio::time::timeout(Duration::from_secs(900), h.synced_to(seq))
        .await
        .expect("sync finished");
    assert!(h.progress().borrow().synced_seq >= seq);
}

/// An MQTT client subscribed to `filter` (returns after the SUBACK), draining its event loop
/// into a channel of (topic, payload).
pub async fn observer(
    host: &str,
    port: u16,
    filter: &str,
) -> (
    AsyncClient,
    tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
) {
    let mut mo = MqttOptions::new(
        format!("observer-{:08x}", rand::random::<u32>()),
        rumqttc::Broker::tcp(host.to_owned(), port),
    );
    mo.set_session_mode(SessionMode::Clean);
    mo.set_max_packet_size(Some(64 * 1024 * 1024));
    let (client, mut el): (AsyncClient, EventLoop) = AsyncClient::builder(mo).unbounded().build();
    client
        .subscribe(filter.to_owned(), QoS::AtLeastOnce)
        .await
        .unwrap();
    loop {
        match el.poll().await.expect("observer connects") {
            Event::Incoming(Incoming::SubAck(_)) => break,
            _ => continue,
        }
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(ev) = el.poll().await {
            if let Event::Incoming(Incoming::Publish(p)) = ev {
                let topic = String::from_utf8_lossy(&p.topic).into_owned();
                if tx.send((topic, p.payload.to_vec())).is_err() {
                    break;
                }
            }
        }
    });
    (client, rx)
}

/// A Mosquitto started for one test on a free port; killed (by its pid) when dropped.
pub struct Mosquitto {
    pub port: u16,
    child: Child,
    conf: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound to port 0, then released for a child to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start `mosquitto -c FILE` on a free loopback port. Panics (never skips) when mosquitto is
/// not installed: `apt-get install mosquitto`.
pub fn mosquitto() -> Mosquitto {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
             max_inflight_messages 0\nmax_queued_messages 100000\nmessage_size_limit 0\n"
        ),
    )
    .unwrap();
    let child = spawn_mosquitto(&conf);
    // Owned at once, so every path below kills and reaps it.
    let m = Mosquitto {
        port,
        child,
        conf,
        _dir: dir,
    };
    m.wait_listening();
    m
}

fn spawn_mosquitto(conf: &Path) -> Child {
    Command::new("mosquitto")
        .arg("-c")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto must be installed for this test (apt-get install mosquitto)")
}

impl Mosquitto {
    /// SIGKILL the broker (every session and queued message is lost: persistence is off) and
    /// start a fresh one on the same port.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn_mosquitto(&self.conf);
        self.wait_listening();
    }

    fn wait_listening(&self) {
        wait_listening(self.port, "mosquitto");
    }
}

/// Wait until something accepts TCP connections on `port` (a child we started).
pub fn wait_listening(port: u16, what: &str) {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    for _ in 0..1_000 {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{what} did not start listening on {addr}");
}
