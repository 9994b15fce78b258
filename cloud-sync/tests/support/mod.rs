//! Shared fixtures of the service tests: a cloud started in-process, brokers (embedded or a
//! Mosquitto we start on a free port), a test box that seals, signs and publishes batches and
//! collects the cloud's acks, and a tiny HTTP client.
#![allow(dead_code)]

use cloud_sync::store::{CloudStore, DeviceRecord};
use cloud_sync::{CloudConfig, RunningCloud, testkit};
use rumqttc::{AsyncClient, Event, Incoming, LastWill, MqttOptions, PublishOptions, QoS};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use trace_core::wire::envelope::{self, Compression};
use trace_core::wire::sign::{SignKey, SignedEnvelope};
use trace_core::{Ack, DeviceId, Entry, EntryBatch, HashAlg, topics};

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,rumqttd=error".into()),
        )
        .with_test_writer()
        .try_init();
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Mosquitto we started with our own config; killed (by its pid) on drop.
pub struct Mosquitto {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn mosquitto_bin() -> PathBuf {
    for p in ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("mosquitto is not installed: apt-get install mosquitto mosquitto-clients");
}

/// Start `mosquitto -c` on a free loopback port; `extra` is appended to the listener config
/// (auth lines); files named in `files` are written into the config folder first.
pub async fn start_mosquitto(extra: &str, files: &[(&str, String)]) -> Mosquitto {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let port = free_port();
    let conf = dir.path().join("mosquitto.conf");
    let extra = extra.replace("{dir}", &dir.path().display().to_string());
    std::fs::write(
        &conf,
        format!("per_listener_settings false\nlistener {port} 127.0.0.1\nmessage_size_limit 0\npersistence false\nlog_dest stderr\nlog_type error\n{extra}\n"),
    )
    .unwrap();
    let mut child = Command::new(mosquitto_bin())
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start mosquitto");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    for _ in 0..500 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Mosquitto {
                port,
                child,
                _dir: dir,
            };
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("mosquitto did not start listening on {addr}");
}

pub enum BrokerKind {
    Embedded,
    Mosquitto(u16),
}

/// Start a cloud on port 0 with its data in `dir`, wait until it is subscribed.
pub async fn start_cloud(
    dir: &Path,
    broker: &BrokerKind,
    tweak: impl FnOnce(&mut CloudConfig),
) -> (RunningCloud, oneshot::Sender<()>) {
    let mut cfg = CloudConfig {
        data_dir: dir.to_owned(),
        http: "127.0.0.1:0".parse().unwrap(),
        ..CloudConfig::default()
    };
    match broker {
        BrokerKind::Embedded => cfg.mqtt.embedded_broker = Some("127.0.0.1:0".parse().unwrap()),
        BrokerKind::Mosquitto(port) => cfg.mqtt.url = format!("mqtt://127.0.0.1:{port}"),
    }
    tweak(&mut cfg);
    let (tx, rx) = oneshot::channel::<()>();
    let cloud = cloud_sync::serve(cfg, async move {
        let _ = rx.await;
    })
    .await
    .expect("cloud starts");
    tokio::time::timeout(Duration::from_secs(20), cloud.mqtt_ready())
        .await
        .expect("cloud subscribed within 20 s");
    (cloud, tx)
}

pub fn broker_port(cloud: &RunningCloud) -> u16 {
    cloud.mqtt_addr.rsplit_once(':').unwrap().1.parse().unwrap()
}

/// A simulated box: identity, keys, its sealed chain.
pub struct TestBox {
    pub id: DeviceId,
    pub device_no: u32,
    pub key: SignKey,
    pub code_key: [u8; 32],
    pub chain: Vec<Entry>,
}

static NEXT: AtomicU32 = AtomicU32::new(1);

impl TestBox {
    pub fn new(name: &str, entries: u64) -> TestBox {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let id = DeviceId::new(name).unwrap();
        let device_no = 100_000 + n;
        let code_key = [u8::try_from(n % 250).unwrap() + 1; 32];
        let key = SignKey::ed25519_from_seed(&[u8::try_from(n % 250).unwrap() + 3; 32]);
        let chain =
            testkit::minted_stall_chain(&id, device_no, &code_key, HashAlg::Sha256, entries);
        TestBox {
            id,
            device_no,
            key,
            code_key,
            chain,
        }
    }

    pub fn record(&self) -> DeviceRecord {
        DeviceRecord {
            id: self.id.clone(),
            entity: format!("老陈鲜肉 {}", self.device_no % 1000),
            market: "东门市场".into(),
            stall_no: format!("A-{}", self.device_no % 1000),
            device_no: self.device_no,
            public_key: self.key.verify_key().to_bytes(),
            code_key: self.code_key,
            hash_alg: HashAlg::Sha256,
        }
    }

    pub async fn register(&self, cloud: &RunningCloud) {
        cloud.store.register_device(self.record()).await.unwrap();
    }

    /// Entries `from..=to` (1-based seqs) as a signed `up` payload.
    pub fn payload(&self, from: u64, to: u64) -> Vec<u8> {
        let entries = self.chain[(from - 1) as usize..to as usize].to_vec();
        seal(&EntryBatch::new(self.id.clone(), entries), &self.key)
    }
}

pub fn seal(batch: &EntryBatch, key: &SignKey) -> Vec<u8> {
    let env = envelope::encode(batch, Compression::Lz4).unwrap();
    SignedEnvelope::sign(env, key).unwrap().to_bytes()
}

pub fn sign_raw(bytes: Vec<u8>, key: &SignKey) -> Vec<u8> {
    SignedEnvelope::sign(bytes, key).unwrap().to_bytes()
}

/// An MQTT 5 connection posing as a box: publishes on its `up`, receives its `ack`s.
pub struct Publisher {
    pub client: AsyncClient,
    pub acks: mpsc::UnboundedReceiver<Ack>,
    pub device: DeviceId,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn connect_box(
    port: u16,
    device: &DeviceId,
    login: Option<(&str, &str)>,
    will: bool,
) -> Publisher {
    let mut opts = MqttOptions::new(
        format!("{device}-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
        rumqttc::Broker::tcp("127.0.0.1", port),
    );
    opts.set_keep_alive(5);
    opts.set_max_packet_size(Some(64 * 1024 * 1024));
    if let Some((u, p)) = login {
        opts.set_credentials(u.to_owned(), p.as_bytes().to_vec());
    }
    if will {
        let offline = trace_core::DeviceState::offline(device.clone(), trace_core::Timestamp(0));
        opts.set_last_will(LastWill::new(
            topics::state(device),
            serde_json::to_vec(&offline).unwrap(),
            QoS::AtLeastOnce,
            true,
            None,
        ));
    }
    let (client, mut eventloop) = AsyncClient::builder(opts).unbounded().build();
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = oneshot::channel();
    let ack_topic = topics::ack(device);
    let sub_client = client.clone();
    let task = tokio::spawn(async move {
        let mut ready = Some(ready_tx);
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                    let _ = sub_client
                        .subscribe(ack_topic.clone(), QoS::AtLeastOnce)
                        .await;
                }
                Ok(Event::Incoming(Incoming::SubAck(_))) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                }
                Ok(Event::Incoming(Incoming::Publish(p))) => {
                    if let Ok(ack) = serde_json::from_slice::<Ack>(&p.payload) {
                        let _ = tx.send(ack);
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), ready_rx)
        .await
        .expect("box connected and subscribed")
        .unwrap();
    Publisher {
        client,
        acks: rx,
        device: device.clone(),
        task,
    }
}

impl Publisher {
    pub async fn up(&self, payload: Vec<u8>) {
        self.up_on(&self.device.clone(), payload).await;
    }

    pub async fn up_on(&self, device: &DeviceId, payload: Vec<u8>) {
        self.client
            .publish(
                topics::up(device),
                payload,
                PublishOptions::new(QoS::AtLeastOnce),
            )
            .await
            .unwrap();
    }

    /// The next ack (10 s at most).
    pub async fn ack(&mut self) -> Ack {
        tokio::time::timeout(Duration::from_secs(10), self.acks.recv())
            .await
            .expect("ack within 10 s")
            .expect("ack channel open")
    }

    /// Acks until one with `hwm` arrives.
    pub async fn ack_with_hwm(&mut self, hwm: u64) -> Ack {
        loop {
            let a = self.ack().await;
            if a.hwm == hwm {
                return a;
            }
        }
    }
}

/// Poll `cond` every 20 ms for up to 10 s (for effects with no event to await, e.g. a refusal).
pub async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Minimal HTTP/1.1 GET: (status, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(buf[..split].to_vec()).unwrap();
    let body = &buf[split + 4..];
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_vec()
    };
    (status, String::from_utf8(body).unwrap())
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = s.windows(2).position(|w| w == b"\r\n") {
        let len = std::str::from_utf8(&s[..eol]).unwrap().trim();
        let n = usize::from_str_radix(len, 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        let rest = &s[eol + 2..];
        out.extend_from_slice(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}
