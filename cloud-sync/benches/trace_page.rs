//! `/t/{code}` under load, on either store (not criterion: a fixed-duration load like wrk's).
//!
//! `cargo bench -p cloud-sync --bench trace_page` (SQLite), or with
//! `LOAD_STORE=postgres://postgres@127.0.0.1:5432/test` (PostgreSQL, schema `bt_load_N`, kept
//! for reuse). `LOAD_ENTRIES` (default 1,000,000 over 20 devices, built once and reused),
//! `LOAD_CONNS` keep-alive connections (default 64), `LOAD_SECS` (default 10), `LOAD_ROUNDS`
//! (default 2). Prints requests/s, p50, p99, max per round.
//!
//! Unlike `serve_load`, the server and the load generator run on separate runtimes (one worker
//! thread each, the machine has 2 cores), so the generator's tasks do not queue behind the
//! server's on the same workers; both still share the cores.

// Rates and percentiles are measurement output, not money or weight.
#![allow(clippy::float_arithmetic)]

use cloud_sync::store::{CloudStore, DeviceRecord};
use cloud_sync::{
    AnyStore, CloudConfig, PgConfig, SqliteConfig, SqliteStore, Synchronous, testkit,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use trace_core::wire::sign::SignKey;
use trace_core::{DeviceId, HashAlg, TicketCodec};

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

/// Fill `store` with `total` entries unless a previous run did.
async fn fill<S: CloudStore>(store: &S, total: u64) {
    if store.stats().await.unwrap().entries >= total {
        return;
    }
    let per = total / DEVICES;
    let t0 = Instant::now();
    for i in 0..DEVICES {
        let (id, no, code_key) = device(i);
        if store.get_device(&id).await.unwrap().is_none() {
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
        }
        let chain = testkit::minted_stall_chain(&id, no, &code_key, HashAlg::Sha256, per);
        for batch in chain.chunks(1000) {
            store.ingest(&id, batch.to_vec()).await.unwrap();
        }
        eprintln!("built device {i}: {:?}", t0.elapsed());
    }
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

async fn get(
    r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: &mut tokio::net::tcp::OwnedWriteHalf,
    req: &[u8],
    body: &mut Vec<u8>,
    line: &mut String,
) -> u16 {
    w.write_all(req).await.unwrap();
    line.clear();
    r.read_line(line).await.unwrap();
    let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut len = 0usize;
    loop {
        line.clear();
        r.read_line(line).await.unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    body.resize(len, 0);
    r.read_exact(body).await.unwrap();
    status
}

async fn page_load(addr: SocketAddr, codes: std::sync::Arc<Vec<String>>, conns: u64, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..conns {
        let codes = codes.clone();
        tasks.push(tokio::spawn(async move {
            let s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let (r, mut w) = s.into_split();
            let mut r = BufReader::new(r);
            let (mut body, mut line) = (Vec::new(), String::new());
            let mut lat = Vec::new();
            let mut i = usize::try_from(c).unwrap() * 997;
            while Instant::now() < deadline {
                let req = format!(
                    "GET /t/{} HTTP/1.1\r\nHost: {addr}\r\n\r\n",
                    codes[i % codes.len()]
                );
                i += 1;
                let t = Instant::now();
                let status = get(&mut r, &mut w, req.as_bytes(), &mut body, &mut line).await;
                assert_eq!(status, 200, "{req}");
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

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let total = env("LOAD_ENTRIES", 1_000_000);
    let conns = env("LOAD_CONNS", 64);
    let secs = env("LOAD_SECS", 10);
    let rounds = env("LOAD_ROUNDS", 2);
    let pg = std::env::var("LOAD_STORE")
        .ok()
        .filter(|s| s.starts_with("postgres"));
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("trace-page-{total}"));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = format!("bt_load_{total}");
    let (cloud, stop) = server.block_on(async {
        // Build with fsync off (a benchmark fixture), then serve it as configured.
        let mut cfg = CloudConfig {
            data_dir: dir.clone(),
            http: "127.0.0.1:0".parse().unwrap(),
            ..CloudConfig::default()
        };
        cfg.mqtt.embedded_broker = Some("127.0.0.1:0".parse().unwrap());
        match &pg {
            Some(url) => {
                let mut c = PgConfig::new(url.clone());
                c.schema = Some(schema.clone());
                let store = AnyStore::from(cloud_sync::PgStore::open(c).await.unwrap());
                fill(&store, total).await;
                cfg.store.url = url.clone();
                cfg.store.schema = Some(schema.clone());
            }
            None => {
                let mut c = SqliteConfig::new(cfg.store_path());
                c.synchronous = Synchronous::Normal;
                let store = SqliteStore::open(c).unwrap();
                fill(&store, total).await;
            }
        }
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let cloud = cloud_sync::serve(cfg, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
        (cloud, stop)
    });
    let codes = std::sync::Arc::new(codes(total, 100_000));
    println!(
        "store: {} with {total} entries over {DEVICES} devices; load: {}",
        cloud.store.backend(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    for _ in 0..rounds {
        client.block_on(page_load(cloud.http_addr, codes.clone(), conns, secs));
    }
    let _ = stop.send(());
    server.block_on(cloud.wait()).unwrap();
}
