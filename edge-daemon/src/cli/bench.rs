//! `bench ledger`: the ledger against a bare INSERT on this box's own disk, in one run.
//!
//! Phases, all WAL + synchronous=FULL: single appends (latency per call) vs one-row INSERT
//! transactions, interleaved; a burst through the group-commit writer and a burst through `append_batch`
//! vs batched INSERTs of the same bytes; last, the same INSERTs plus the ledger's two unique
//! indexes (a floor, not a baseline). The scratch files live beside the ledger and are removed
//! afterwards.

use crate::baseline::{BareTable, rows_for};
use crate::ledger::{Ledger, LedgerOptions, LedgerWriter, WriterOptions};
use crate::synth;
use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use trace_core::{DeviceId, HashAlg};

const BATCH: usize = 1000;

#[derive(Debug, Serialize)]
struct Phase {
    name: &'static str,
    entries: u64,
    entries_per_s: u64,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    /// Throughput relative to the matching bare-INSERT phase (1.0 for the baselines).
    vs_bare: String,
}

fn phase(name: &'static str, lat: &mut [Duration], total: Duration) -> Phase {
    lat.sort_unstable();
    let pick = |q: usize| {
        lat.get((lat.len().saturating_sub(1) * q) / 100)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    };
    let n = lat.len() as u64;
    let per_s = u128::from(n) * 1_000_000 / total.as_micros().max(1);
    Phase {
        name,
        entries: n,
        entries_per_s: u64::try_from(per_s).unwrap_or(u64::MAX),
        p50_us: pick(50),
        p99_us: pick(99),
        max_us: pick(100),
        vs_bare: String::new(),
    }
}

fn ratio(a: &Phase, base: &Phase) -> String {
    let r = u128::from(a.entries_per_s) * 100 / u128::from(base.entries_per_s.max(1));
    format!("{}.{:02}", r / 100, r % 100)
}

pub(super) fn run(db: &Path, entries: u64, single: u64, json: bool) -> anyhow::Result<ExitCode> {
    let opts = LedgerOptions::default();
    let mut ledger = if db.exists() {
        Ledger::open(db, &opts)?
    } else {
        Ledger::create(db, DeviceId::new("bench-0001")?, HashAlg::Sha256, &opts)?
    };
    let base_path = scratch(db, ".bare-baseline");
    let mut bare = BareTable::open(&base_path)
        .with_context(|| format!("cannot create the baseline file {}", base_path.display()))?;
    let device = ledger.device().clone();
    let alg = ledger.hash_alg();
    // Synthetic ticket codes are a bijection of n; starting from the clock in µs keeps a
    // rerun on the same file (which used fewer n than a run takes µs) from reusing codes.
    let mut n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(0));
    let mut next = move || {
        n += 1;
        synth::sale(n)
    };

    // 1. Single appends vs one-row transactions, interleaved one for one so both see the
    //    same disk (fsync times swing when other processes write).
    let pb = super::progress::bar(single * 2, "single appends");
    let rows = rows_for((0..single).map(|_| next()).collect(), &device, alg);
    let drafts: Vec<_> = (0..single).map(|_| next()).collect();
    let (mut lat, mut lat_bare) = (Vec::with_capacity(rows.len()), Vec::new());
    let (mut spent, mut spent_bare) = (Duration::ZERO, Duration::ZERO);
    for (d, r) in drafts.into_iter().zip(&rows) {
        let t = Instant::now();
        ledger.append(d)?;
        lat.push(t.elapsed());
        spent += t.elapsed();
        let t = Instant::now();
        bare.insert_one(r)?;
        lat_bare.push(t.elapsed());
        spent_bare += t.elapsed();
        pb.inc(2);
    }
    let single_ledger = phase("single append (ledger)", &mut lat, spent);
    let single_bare = phase("single INSERT (bare)", &mut lat_bare, spent_bare);
    pb.finish_and_clear();

    // 2. Bursts.
    let pb = super::progress::bar(entries * 4, "bursts");
    let drafts: Vec<_> = (0..entries).map(|_| next()).collect();
    let writer = LedgerWriter::spawn(ledger, WriterOptions::default())?;
    let h = writer.handle();
    let t0 = Instant::now();
    let mut pending = Vec::with_capacity(drafts.len());
    for d in drafts {
        pending.push((Instant::now(), h.submit(d)?));
    }
    lat.clear();
    for (t, p) in pending {
        p.wait()?;
        lat.push(t.elapsed());
        pb.inc(1);
    }
    let group = phase("burst group commit (ledger)", &mut lat, t0.elapsed());
    drop(h);
    let mut ledger = writer.shutdown()?;

    let drafts: Vec<_> = (0..entries).map(|_| next()).collect();
    lat.clear();
    let t0 = Instant::now();
    let mut it = drafts.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<_> = it.by_ref().take(BATCH).collect();
        let k = chunk.len();
        let t = Instant::now();
        ledger.append_batch(chunk)?;
        lat.extend(std::iter::repeat_n(t.elapsed(), k));
        pb.inc(k as u64);
    }
    let batch = phase("burst append_batch (ledger)", &mut lat, t0.elapsed());

    let rows = rows_for((0..entries).map(|_| next()).collect(), &device, alg);
    lat.clear();
    let t0 = Instant::now();
    for chunk in rows.chunks(BATCH) {
        let t = Instant::now();
        bare.insert_batch(chunk)?;
        lat.extend(std::iter::repeat_n(t.elapsed(), chunk.len()));
        pb.inc(chunk.len() as u64);
    }
    let bare_batch = phase("burst INSERT x1000 (bare)", &mut lat, t0.elapsed());
    drop(bare);

    // Not a baseline: the bare INSERT plus the ledger's two unique indexes (entry id, random
    // ticket code): how much of the gap those alone explain on this disk.
    let floor_path = scratch(db, ".bare-indexed");
    let mut floor = BareTable::open_with_ledger_indexes(&floor_path)
        .with_context(|| format!("cannot create the scratch file {}", floor_path.display()))?;
    let rows = rows_for((0..entries).map(|_| next()).collect(), &device, alg);
    lat.clear();
    let t0 = Instant::now();
    for chunk in rows.chunks(BATCH) {
        let t = Instant::now();
        floor.insert_batch(chunk)?;
        lat.extend(std::iter::repeat_n(t.elapsed(), chunk.len()));
        pb.inc(chunk.len() as u64);
    }
    let floor_batch = phase("burst INSERT+indexes (floor)", &mut lat, t0.elapsed());
    pb.finish_and_clear();
    drop(floor);
    for p in [&base_path, &floor_path] {
        for suffix in ["", "-wal", "-shm"] {
            let mut s = p.as_os_str().to_owned();
            s.push(suffix);
            let _ = std::fs::remove_file(std::path::PathBuf::from(s));
        }
    }

    let mut phases = [single_ledger, single_bare, group, batch, bare_batch];
    let mut floor_batch = floor_batch;
    phases[0].vs_bare = ratio(&phases[0], &phases[1]);
    phases[1].vs_bare = "1.00".into();
    phases[2].vs_bare = ratio(&phases[2], &phases[4]);
    phases[3].vs_bare = ratio(&phases[3], &phases[4]);
    phases[4].vs_bare = "1.00".into();
    floor_batch.vs_bare = ratio(&floor_batch, &phases[4]);
    if json {
        let v = serde_json::json!({
            "ledger": db,
            "durability": "WAL, synchronous=FULL",
            "head_seq": ledger.head()?.seq,
            "phases": phases,
            // Not a ledger phase: bare INSERT + the ledger's unique id and ticket-code indexes.
            "floor": floor_batch,
        });
        println!("{v}");
    } else {
        println!(
            "bench ledger: {} (WAL, synchronous=FULL), head now {}",
            db.display(),
            ledger.head()?.seq
        );
        println!(
            "{:<30} {:>8} {:>10} {:>9} {:>9} {:>9} {:>8}",
            "phase", "entries", "entries/s", "p50 ms", "p99 ms", "max ms", "vs bare"
        );
        for p in phases.iter().chain([&floor_batch]) {
            println!(
                "{:<30} {:>8} {:>10} {:>9} {:>9} {:>9} {:>8}",
                p.name,
                p.entries,
                p.entries_per_s,
                ms(p.p50_us),
                ms(p.p99_us),
                ms(p.max_us),
                p.vs_bare
            );
        }
        println!(
            "burst latencies are submit-to-acknowledgement; batches of {BATCH} for append_batch and bare."
        );
        println!(
            "floor = bare INSERT + the ledger's unique entry-id and ticket-code indexes: not a \
             baseline, the cost of those indexes alone."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A scratch file beside the ledger: `db` + `suffix`.
fn scratch(db: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

fn ms(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}
