//! `bench ledger`: the ledger against a bare INSERT on this box's own disk, in one run.
//!
//! Phases, all WAL + synchronous=FULL: single appends (latency per call) vs one-row INSERT
//! transactions, interleaved; bursts of 1000 through the group-commit writer and through
//! `append_batch` vs batched INSERTs of the same bytes, plus the same INSERTs with the ledger's
//! two unique indexes (a floor, not a baseline), interleaved round by round. The scratch files
//! live beside the ledger and are removed afterwards.

use crate::baseline::{BareTable, rows_for};
use crate::ledger::{Ledger, LedgerOptions, LedgerWriter, WriterOptions};
use crate::synth;
use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use trace_core::{DeviceId, HashAlg, TicketCodec};

const BATCH: usize = 1000;
/// The benchmark box's ticket-code key (a benchmark ledger is not a real box's).
const BENCH_CODE_KEY: [u8; 32] = [0x5a; 32];

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

/// Latencies and total time of one burst phase, summed over the rounds.
#[derive(Default)]
struct Timer {
    lat: Vec<Duration>,
    spent: Duration,
}

impl Timer {
    /// `k` entries acknowledged together after `took`.
    fn add(&mut self, took: Duration, k: usize) {
        self.lat.extend(std::iter::repeat_n(took, k));
        self.spent += took;
    }

    fn phase(&mut self, name: &'static str) -> Phase {
        phase(name, &mut self.lat, self.spent)
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
    // Sales carry codes minted as a box mints its own (keyed permutation of a counter), and
    // the ledger has the key, as `baytrace-edge run` does: it indexes them by counter. A rerun
    // on the same file continues above the counters it holds.
    let codec = TicketCodec::new(1, &BENCH_CODE_KEY)?;
    ledger.set_ticket_codec(codec.clone());
    let mut n = ledger.max_ticket_counter()?;
    let minting = codec.clone();
    let mut next = move || {
        n += 1;
        synth::minted_sale(n, &minting)
    };
    let codec = Some(&codec);

    let load_before = load_average();
    // 1. Single appends vs one-row transactions, interleaved one for one so both see the
    //    same disk (fsync times swing when other processes write).
    let pb = super::progress::bar(single * 2, "single appends");
    let rows = rows_for((0..single).map(|_| next()).collect(), &device, alg, codec);
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

    // 2. Bursts, in rounds of BATCH: each round runs every phase once, one after the other,
    //    so all phases see the same load (on a shared machine the disk and CPUs swing by 2x
    //    within seconds; phases run back to back would compare different machines). Each
    //    phase's drafts are made before its clock starts; the bare rows are sealed (hashed,
    //    body text) before theirs, as the baseline is only the database's work.
    let pb = super::progress::bar(entries * 4, "bursts");
    let floor_path = scratch(db, ".bare-indexed");
    let mut floor = BareTable::open_with_ledger_indexes(&floor_path)
        .with_context(|| format!("cannot create the scratch file {}", floor_path.display()))?;
    let mut timers = [
        Timer::default(),
        Timer::default(),
        Timer::default(),
        Timer::default(),
    ];
    let mut done = 0u64;
    while done < entries {
        let k = usize::try_from((entries - done).min(BATCH as u64)).unwrap_or(BATCH);
        // Group commit: k independent submissions through the writer thread.
        let drafts: Vec<_> = (0..k).map(|_| next()).collect();
        let writer = LedgerWriter::spawn(ledger, WriterOptions::default())?;
        let h = writer.handle();
        let t0 = Instant::now();
        let mut pending = Vec::with_capacity(k);
        for d in drafts {
            pending.push((Instant::now(), h.submit(d)?));
        }
        for (t, p) in pending {
            p.wait()?;
            timers[0].lat.push(t.elapsed());
        }
        timers[0].spent += t0.elapsed();
        drop(h);
        ledger = writer.shutdown()?;

        // append_batch: the same k as one call.
        let drafts: Vec<_> = (0..k).map(|_| next()).collect();
        let t = Instant::now();
        ledger.append_batch(drafts)?;
        timers[1].add(t.elapsed(), k);

        // Bare, then bare + the ledger's indexes: the same bytes in one transaction.
        for (table, timer) in [(&mut bare, 2), (&mut floor, 3)] {
            let rows = rows_for((0..k).map(|_| next()).collect(), &device, alg, codec);
            let t = Instant::now();
            table.insert_batch(&rows)?;
            timers[timer].add(t.elapsed(), k);
        }
        done += k as u64;
        pb.inc(4 * k as u64);
    }
    drop(bare);
    let [mut g, mut b, mut bb, mut f] = timers;
    let group = g.phase("burst group commit (ledger)");
    let batch = b.phase("burst append_batch (ledger)");
    let bare_batch = bb.phase("burst INSERT x1000 (bare)");
    // Not a baseline: the bare INSERT plus the ledger's two unique indexes (entry id, random
    // ticket code): how much of the gap those alone explain on this disk.
    let floor_batch = f.phase("burst INSERT+indexes (floor)");
    pb.finish_and_clear();
    drop(floor);
    for p in [&base_path, &floor_path] {
        for suffix in ["", "-wal", "-shm"] {
            let mut s = p.as_os_str().to_owned();
            s.push(suffix);
            let _ = std::fs::remove_file(std::path::PathBuf::from(s));
        }
    }

    let load = load_before
        .zip(load_average())
        .map(|(a, b)| format!("{a} / {b}"));
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
            "load_average": load,
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
            "bursts of {BATCH}, every phase once per round, interleaved; latencies are \
             submit-to-acknowledgement."
        );
        if let Some(load) = &load {
            println!("load average (1, 5, 15 min) before and after: {load}");
        }
        println!(
            "floor = bare INSERT + the ledger's unique entry-id and ticket-code indexes: not a \
             baseline, the cost of those indexes alone."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The machine's load average (Linux), to read the figures by: on a shared machine a ratio
/// is meaningful, absolute throughput much less.
fn load_average() -> Option<String> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
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
