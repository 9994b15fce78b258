//! Load measurement of the running cloud (not criterion: a fixed-duration load like wrk's).
//!
//! `cargo bench -p cloud-sync --bench serve_load`
//!
//! 1. `/t/{code}` with `LOAD_ENTRIES` entries stored (default 1,000,000; built once under
//!    `target/tmp/serve-load-N/` and reused), `LOAD_CONNS` keep-alive connections (default 64)
//!    for `LOAD_SECS` seconds (default 10), random existing codes: requests/s, p50, p99.
//! 2. Ingest through the embedded broker: one box publishes `LOAD_INGEST` entries (default
//!    100,000) in signed lz4 batches of 500 at QoS 1 as fast as the client goes; time until the
//!    cloud's ack reports them all.
//!
//! The load generator runs in the same process on the same 2 cores as the server, so the
//! figures are a floor for the server alone.

// Rates and percentiles are measurement output, not money or weight.
#![allow(clippy::float_arithmetic)]

use cloud_sync::store::{CloudStore, DeviceRecord};
use cloud_sync::{CloudConfig, SqliteConfig, SqliteStore, Synchronous, testkit};
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, PublishOptions, QoS};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use trace_core::wire::envelope::{self, Compression};
use trace_core::wire::sign::{SignKey, SignedEnvelope};
use trace_core::{Ack, DeviceId, EntryBatch, HashAlg, TicketCodec, topics};

const DEVICES: u64 = 20;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn device(i: u64) -> (DeviceId, u32, [u8; 32]) {
    let no = 200_000 + u32::try_from(i).unwrap();
    (
        DeviceId::new(format!("load-{i:03}")).unwrap(),
        no,
        [u8::try_from(i % 250).unwrap() + 1; 32],
    )
}

fn is_sale(n: u64) -> bool {
    !(n <= 6 || n.is_multiple_of(50))
}

async fn build_store(dir: &PathBuf, total: u64) {
    let marker = dir.join("complete");
    if marker.exists() {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let mut cfg = SqliteConfig::new(dir.join("cloud.sqlite"));
    cfg.synchronous = Synchronous::Normal;
    let store = SqliteStore::open(cfg).unwrap();
    let per = total / DEVICES;
    let t0 = Instant::now();
    for i in 0..DEVICES {
        let (id, no, code_key) = device(i);
        store
            .register_device(DeviceRecord {
                id: id.clone(),
                entity: format!("负载档 {i}"),
                market: "负载市场".into(),
                stall_no: format!("{i}"),
                device_no: no,
                public_key: SignKey::ed25519_from_seed(&[1; 32]).verify_key().to_bytes(),
                code_key,
                hash_alg: HashAlg::Sha256,
            })
            .await
            .unwrap();
        let chain = testkit::minted_stall_chain(&id, no, &code_key, HashAlg::Sha256, per);
        for batch in chain.chunks(1000) {
            store.ingest(&id, batch.to_vec()).await.unwrap();
        }
        eprintln!(
            "built device {i}: {} entries so far, {:?}",
            per * (i + 1),
            t0.elapsed()
        );
    }
    drop(store);
    std::fs::write(marker, b"ok").unwrap();
}

fn codes(total: u64, count: usize) -> Vec<String> {
    let per = total / DEVICES;
    let codecs: Vec<TicketCodec> = (0..DEVICES)
        .map(|i| {
            let (_, no, key) = device(i);
            TicketCodec::new(no, &key).unwrap()
        })
        .collect();
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let d = usize::try_from(x % DEVICES).unwrap();
        let n = 1 + (x >> 8) % per;
        if is_sale(n) {
            out.push(codecs[d].mint(n).unwrap().to_string());
        }
    }
    out
}

/// One keep-alive connection: GET, read headers, read Content-Length bytes.
async fn get(
    r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: &mut tokio::net::tcp::OwnedWriteHalf,
    addr: SocketAddr,
    path: &str,
) -> u16 {
    w.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut len = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line).await.unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).await.unwrap();
    status
}

async fn page_load(addr: SocketAddr, codes: Vec<String>, conns: u64, secs: u64) {
    let codes = std::sync::Arc::new(codes);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..conns {
        let codes = codes.clone();
        tasks.push(tokio::spawn(async move {
            let s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let (r, mut w) = s.into_split();
            let mut r = BufReader::new(r);
            let mut lat = Vec::new();
            let mut i = usize::try_from(c).unwrap() * 997;
            while Instant::now() < deadline {
                let path = format!("/t/{}", codes[i % codes.len()]);
                i += 1;
                let t = Instant::now();
                let status = get(&mut r, &mut w, addr, &path).await;
                assert_eq!(status, 200, "{path}");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let t0 = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = t0.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "trace page: {} requests in {:.1} s over {conns} connections = {:.0} req/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3,
    );
}

async fn ingest_load(cloud: &cloud_sync::RunningCloud, port: u16, entries: u64, via: &str) {
    // A fresh device each run, so a reused store does not make the batches duplicates.
    let run = u32::try_from(trace_core::Timestamp::now().0 % 600_000).unwrap();
    let no = 300_000 + run;
    let id = DeviceId::new(format!("load-ingest-{run}")).unwrap();
    let key = SignKey::ed25519_from_seed(&[9; 32]);
    cloud
        .store
        .register_device(DeviceRecord {
            id: id.clone(),
            entity: "ingest".into(),
            market: String::new(),
            stall_no: String::new(),
            device_no: no,
            public_key: key.verify_key().to_bytes(),
            code_key: [3; 32],
            hash_alg: HashAlg::Sha256,
        })
        .await
        .unwrap();
    let chain = testkit::minted_stall_chain(&id, no, &[3; 32], HashAlg::Sha256, entries);
    let payloads: Vec<Vec<u8>> = chain
        .chunks(500)
        .map(|b| {
            let env = envelope::encode(&EntryBatch::new(id.clone(), b.to_vec()), Compression::Lz4)
                .unwrap();
            SignedEnvelope::sign(env, &key).unwrap().to_bytes()
        })
        .collect();
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    let mut opts = MqttOptions::new("load-box", rumqttc::Broker::tcp("127.0.0.1", port));
    opts.set_max_packet_size(Some(64 << 20));
    let (client, mut ev) = AsyncClient::builder(opts).capacity(64).build();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let ack_topic = topics::ack(&id);
    let sub = client.clone();
    tokio::spawn(async move {
        let mut done = Some(done_tx);
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                    sub.subscribe(ack_topic.clone(), QoS::AtLeastOnce)
                        .await
                        .unwrap();
                }
                Ok(Event::Incoming(Incoming::Publish(p))) => {
                    let ack: Ack = serde_json::from_slice(&p.payload).unwrap();
                    if ack.hwm == entries
                        && let Some(d) = done.take()
                    {
                        let _ = d.send(Instant::now());
                    }
                }
                Ok(_) => {}
                // The broker going away at the end of the run ends this task.
                Err(_) => break,
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t0 = Instant::now();
    for p in payloads {
        client
            .publish(topics::up(&id), p, PublishOptions::new(QoS::AtLeastOnce))
            .await
            .unwrap();
    }
    let end = tokio::time::timeout(Duration::from_secs(600), done_rx)
        .await
        .expect("all acked")
        .unwrap();
    let secs = end.duration_since(t0).as_secs_f64();
    println!(
        "ingest via {via}: {entries} entries ({:.1} MB signed lz4) in {secs:.2} s = {:.0} entries/s (acked, synchronous=FULL)",
        bytes as f64 / 1e6,
        entries as f64 / secs
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let total = env("LOAD_ENTRIES", 1_000_000);
    let conns = env("LOAD_CONNS", 64);
    let secs = env("LOAD_SECS", 10);
    let ingest = env("LOAD_INGEST", 100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-load-{total}"));
        build_store(&dir, total).await;
        let codes = codes(total, 100_000);
        let cfg = CloudConfig {
            data_dir: dir.clone(),
            http: "127.0.0.1:0".parse().unwrap(),
            ..CloudConfig::default()
        };
        let mut cfg = cfg;
        cfg.mqtt.embedded_broker = Some("127.0.0.1:0".parse().unwrap());
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let cloud = cloud_sync::serve(cfg, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
        cloud.mqtt_ready().await;
        println!("store: {total} entries over {DEVICES} devices");
        page_load(cloud.http_addr, codes, conns, secs).await;
        let port = cloud.embedded_broker.unwrap().v5.port();
        ingest_load(&cloud, port, ingest, "embedded broker").await;
        let _ = stop.send(());
        cloud.wait().await.unwrap();
        mosquitto_ingest(ingest).await;
    });
}

/// The same ingest through a Mosquitto started on a free port (skipped without mosquitto),
/// into a fresh store.
async fn mosquitto_ingest(entries: u64) {
    let Some(bin) = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        println!("ingest via Mosquitto: skipped (apt-get install mosquitto)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.path().join("m.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\nmessage_size_limit 0\nmax_queued_messages 100000\n"),
    )
    .unwrap();
    let mut child = std::process::Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .spawn()
        .unwrap();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cfg = CloudConfig {
        data_dir: dir.path().join("data"),
        http: "127.0.0.1:0".parse().unwrap(),
        mqtt: cloud_sync::config::MqttConfig {
            url: format!("mqtt://127.0.0.1:{port}"),
            ..CloudConfig::default().mqtt
        },
        ..CloudConfig::default()
    };
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let cloud = cloud_sync::serve(cfg, async move {
        let _ = rx.await;
    })
    .await
    .unwrap();
    cloud.mqtt_ready().await;
    ingest_load(&cloud, port, entries, "Mosquitto").await;
    let _ = stop.send(());
    cloud.wait().await.unwrap();
    let _ = child.kill();
    let _ = child.wait();
}
