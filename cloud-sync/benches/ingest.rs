//! Cloud ingest into file-backed SQLite, side by side with a bare rusqlite INSERT of the same
//! rows, and `ticket(code)` lookups with ~1,000,000 entries stored.
//!
//! `cargo bench -p cloud-sync --bench ingest`. Targets (issue 4): ingest ≥ 30,000 entries/s;
//! the later `/t/{code}` page ≥ 5,000 req/s at 64 concurrent with p99 < 20 ms, so the store
//! lookup must leave most of that budget to HTTP and rendering.
//!
//! Environment: `BENCH_TICKET_ENTRIES` (default 1,000,000) sizes the lookup store, which is
//! built once under the target directory and reused by later runs.

use cloud_sync::store::CloudStore;
use cloud_sync::{SqliteConfig, SqliteStore, Synchronous, testkit};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rusqlite::{Connection, params};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use trace_core::{DeviceId, Entry, HashAlg, Timestamp};

const BATCH: usize = 500;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The baseline: the same rows into a table of the same shape, one transaction per batch, no
/// verification and no projections, straight from the calling thread.
struct Bare {
    conn: Connection,
}

impl Bare {
    fn open(path: &Path, sync: Synchronous) -> Bare {
        let conn = Connection::open(path).expect("open bare");
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        let s = if sync == Synchronous::Full {
            "FULL"
        } else {
            "NORMAL"
        };
        conn.pragma_update(None, "synchronous", s).unwrap();
        conn.pragma_update(None, "cache_size", -65_536).unwrap();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS entries (
                dev INTEGER NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL,
                v INTEGER NOT NULL, kind TEXT NOT NULL, event TEXT NOT NULL,
                prev_hash BLOB NOT NULL, hash BLOB NOT NULL, received_at INTEGER NOT NULL,
                PRIMARY KEY (dev, seq))",
        )
        .unwrap();
        Bare { conn }
    }

    fn insert(&mut self, dev: i64, batch: &[Entry]) {
        let now = Timestamp::now().0;
        let tx = self.conn.transaction().unwrap();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO entries (dev, seq, id, at, v, kind, event, prev_hash, hash, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .unwrap();
            for e in batch {
                stmt.execute(params![
                    dev,
                    i64::try_from(e.seq).unwrap(),
                    e.id.to_string(),
                    e.at.0,
                    e.v,
                    e.event.kind(),
                    serde_json::to_string(&e.event).unwrap(),
                    e.prev_hash.0.as_slice(),
                    e.hash.0.as_slice(),
                    now
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
}

/// `iters` batches of a fresh device's chain (generated outside the timing).
fn batches(dev: &DeviceId, device_no: u32, iters: u64) -> Vec<Vec<Entry>> {
    testkit::stall_chain(dev, device_no, HashAlg::Sha256, iters * BATCH as u64)
        .chunks(BATCH)
        .map(<[Entry]>::to_vec)
        .collect()
}

fn ingest(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    for (sync, label) in [(Synchronous::Full, "full"), (Synchronous::Normal, "normal")] {
        let mut cfg = SqliteConfig::new(dir.path().join(format!("cloud-{label}.db")));
        cfg.synchronous = sync;
        let store = SqliteStore::open(cfg).expect("open store");
        let mut bare = Bare::open(&dir.path().join(format!("bare-{label}.db")), sync);
        let mut next_no = 0u32;
        let mut group = c.benchmark_group(format!("ingest_batch500_sync_{label}"));
        group
            .throughput(Throughput::Elements(BATCH as u64))
            .sample_size(10)
            .measurement_time(Duration::from_secs(8));
        group.bench_function("cloud_ingest", |b| {
            b.iter_custom(|iters| {
                next_no += 1;
                let dev = testkit::device(next_no);
                rt.block_on(store.register_device(testkit::record(&dev, next_no, HashAlg::Sha256)))
                    .unwrap();
                let work = batches(&dev, next_no, iters);
                let start = Instant::now();
                rt.block_on(async {
                    for batch in work {
                        let o = store.ingest(&dev, batch).await.unwrap();
                        assert_eq!(o.stored as usize, BATCH);
                    }
                });
                start.elapsed()
            });
        });
        // Four boxes at once, as the MQTT loop sees them: verification of one batch overlaps
        // the writer's commit of another.
        group.bench_function("cloud_ingest_4_devices", |b| {
            b.iter_custom(|iters| {
                let per = iters.div_ceil(4);
                let mut work = Vec::new();
                for _ in 0..4 {
                    next_no += 1;
                    let dev = testkit::device(next_no);
                    rt.block_on(store.register_device(testkit::record(
                        &dev,
                        next_no,
                        HashAlg::Sha256,
                    )))
                    .unwrap();
                    let b = batches(&dev, next_no, per);
                    work.push((dev, b));
                }
                let start = Instant::now();
                rt.block_on(async {
                    let tasks: Vec<_> = work
                        .into_iter()
                        .map(|(dev, batches)| {
                            let store = store.clone();
                            tokio::spawn(async move {
                                for batch in batches {
                                    store.ingest(&dev, batch).await.unwrap();
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                });
                // Scale to `iters` batches: 4 × per may exceed it by up to 3 batches.
                start.elapsed() * u32::try_from(iters).unwrap() / u32::try_from(per * 4).unwrap()
            });
        });
        group.bench_function("bare_insert", |b| {
            b.iter_custom(|iters| {
                next_no += 1;
                let dev = testkit::device(next_no);
                let work = batches(&dev, next_no, iters);
                let start = Instant::now();
                for batch in &work {
                    bare.insert(i64::from(next_no), batch);
                }
                start.elapsed()
            });
        });
        group.finish();
    }
}

const DEVICES: u32 = 20;

/// A store with `total` entries over [`DEVICES`] stalls, built once and kept.
fn lookup_store(rt: &tokio::runtime::Runtime, total: u64) -> (SqliteStore, u64) {
    let per_device = total / u64::from(DEVICES);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ticket-lookup-{total}"));
    let done = dir.join("complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut cfg = SqliteConfig::new(dir.join("cloud.db"));
        cfg.synchronous = Synchronous::Normal;
        let store = SqliteStore::open(cfg).unwrap();
        let start = Instant::now();
        for no in 1..=DEVICES {
            let dev = testkit::device(no);
            rt.block_on(store.register_device(testkit::record(&dev, no, HashAlg::Sha256)))
                .unwrap();
            let chain = testkit::stall_chain(&dev, no, HashAlg::Sha256, per_device);
            rt.block_on(async {
                for batch in chain.chunks(BATCH) {
                    store.ingest(&dev, batch.to_vec()).await.unwrap();
                }
            });
        }
        eprintln!(
            "built lookup store: {} entries in {:.1?}",
            per_device * u64::from(DEVICES),
            start.elapsed()
        );
        drop(store);
        std::fs::write(&done, b"").unwrap();
    }
    let store = SqliteStore::open(SqliteConfig::new(dir.join("cloud.db"))).unwrap();
    (store, per_device)
}

/// A stall_chain sale code, spread over devices and seqs by a xorshift.
fn code_for(x: &mut u64, per_device: u64) -> String {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    let no = u32::try_from(*x % u64::from(DEVICES)).unwrap() + 1;
    let mut n = 7 + (*x >> 8) % (per_device - 8);
    if n.is_multiple_of(50) {
        n += 1;
    }
    testkit::ticket_code(no, n)
}

fn ticket_lookup(c: &mut Criterion) {
    let rt = runtime();
    let total = std::env::var("BENCH_TICKET_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000u64);
    let (store, per_device) = lookup_store(&rt, total);
    let t0 = Instant::now();
    let stored = rt.block_on(store.stats()).unwrap().entries;
    println!("stats() on {stored} entries: {:?}", t0.elapsed());

    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut group = c.benchmark_group(format!("ticket_lookup_{stored}_entries"));
    group.sample_size(30);
    group.bench_function("single", |b| {
        b.iter(|| {
            let code = code_for(&mut x, per_device);
            let v = rt.block_on(store.ticket(&code)).unwrap();
            assert!(v.is_some(), "{code} must resolve");
        });
    });
    group.finish();

    // 64 concurrent callers for a fixed time: throughput and tail latency.
    let store = Arc::new(store);
    let run_for = Duration::from_secs(6);
    let (count, mut lat) = rt.block_on(async {
        let deadline = Instant::now() + run_for;
        let tasks: Vec<_> = (0..64u64)
            .map(|t| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let mut x = 0x2545_F491_4F6C_DD1Du64 ^ (t + 1);
                    let mut lat = Vec::new();
                    while Instant::now() < deadline {
                        let code = code_for(&mut x, per_device);
                        let t0 = Instant::now();
                        let v = store.ticket(&code).await.unwrap();
                        lat.push(t0.elapsed());
                        assert!(v.is_some());
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        (all.len(), all)
    });
    lat.sort_unstable();
    let pct = |p: usize| lat[(lat.len() * p / 100).min(lat.len() - 1)];
    println!(
        "ticket_lookup 64 concurrent, {stored} entries: {} lookups/s, p50 {:?}, p99 {:?}, max {:?} ({count} lookups in {run_for:?})",
        count as u128 * 1000 / run_for.as_millis(),
        pct(50),
        pct(99),
        lat[lat.len() - 1]
    );
}

/// The CPU part of ingest alone: re-hashing each entry (canonical JSON + SHA-256 / SM3).
fn verify(c: &mut Criterion) {
    let dev = testkit::device(1);
    let mut group = c.benchmark_group("verify_batch500");
    group.throughput(Throughput::Elements(BATCH as u64));
    for alg in [HashAlg::Sha256, HashAlg::Sm3] {
        let batch = testkit::stall_chain(&dev, 1, alg, BATCH as u64);
        group.bench_function(alg.as_str(), |b| {
            b.iter(|| assert!(batch.iter().all(|e| e.hash_is_valid(alg))));
        });
    }
    group.finish();
}

criterion_group!(benches, verify, ingest, ticket_lookup);
criterion_main!(benches);
