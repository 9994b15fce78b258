//! Ledger append cost against a bare rusqlite INSERT of the same bytes, side by side, under
//! the same WAL + synchronous=FULL on the same disk.
//!
//! Groups: `append_single` (one entry per transaction: latency, fsync-bound) and `burst_1000`
//! (1000 entries: through the group-commit writer, through `append_batch`, and as one bare
//! batched INSERT transaction; plus `bare_insert_batch_with_ledger_indexes`, the same INSERT
//! with the ledger's unique entry-id and ticket-code indexes, and `seal_only_no_db`, the CPU
//! cost of sealing alone). Target: the ledger's burst throughput ≥ 50% of the bare one.
//! Run: `cargo bench -p edge-daemon --bench ledger`.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use edge_daemon::baseline::{BareTable, rows_for};
use edge_daemon::ledger::{Ledger, LedgerOptions, LedgerWriter, WriterOptions};
use edge_daemon::synth;
use std::time::Duration;
use trace_core::{DeviceId, EntryDraft, HashAlg, TicketCodec};

fn device() -> DeviceId {
    DeviceId::new("bench-0001").unwrap()
}

/// The benchmark box's ticket-code key: sales carry codes minted as a box mints its own, and
/// the ledger has the key (as `baytrace-edge run` does), so it indexes them by counter.
fn codec() -> TicketCodec {
    TicketCodec::new(1, &[0x5a; 32]).unwrap()
}

fn ledger(dir: &std::path::Path, name: &str) -> Ledger {
    let mut l = Ledger::create(
        &dir.join(name),
        device(),
        HashAlg::Sha256,
        &LedgerOptions::default(),
    )
    .unwrap();
    l.set_ticket_codec(codec());
    l
}

/// Unique synthetic sales (distinct ticket codes) across all iterations.
struct Drafts(u64);
impl Drafts {
    fn take(&mut self, k: u64) -> Vec<EntryDraft> {
        let codec = codec();
        let v = (self.0..self.0 + k)
            .map(|n| synth::minted_sale(n, &codec))
            .collect();
        self.0 += k;
        v
    }
}

fn append_single(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut l = ledger(dir.path(), "single.sqlite3");
    let mut bare = BareTable::open(&dir.path().join("bare-single.sqlite3")).unwrap();
    let rows = rows_for(
        Drafts(1).take(2000),
        &device(),
        HashAlg::Sha256,
        Some(&codec()),
    );
    let mut drafts = Drafts(1);
    let mut g = c.benchmark_group("append_single");
    g.throughput(Throughput::Elements(1))
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    g.bench_function("ledger_append", |b| {
        b.iter_batched(
            || drafts.take(1).pop().unwrap(),
            |d| l.append(d).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let mut i = 0;
    g.bench_function("bare_insert", |b| {
        b.iter(|| {
            i = (i + 1) % rows.len();
            bare.insert_one(&rows[i]).unwrap()
        })
    });
    g.finish();
}

fn burst(c: &mut Criterion) {
    const N: u64 = 1000;
    let dir = tempfile::tempdir().unwrap();
    let writer = LedgerWriter::spawn(
        ledger(dir.path(), "group.sqlite3"),
        WriterOptions::default(),
    )
    .unwrap();
    let h = writer.handle();
    let mut batch_ledger = ledger(dir.path(), "batch.sqlite3");
    let mut bare = BareTable::open(&dir.path().join("bare-burst.sqlite3")).unwrap();
    let mut floor =
        BareTable::open_with_ledger_indexes(&dir.path().join("bare-indexed.sqlite3")).unwrap();
    let mut drafts = Drafts(1);
    let mut g = c.benchmark_group("burst_1000");
    g.throughput(Throughput::Elements(N))
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    g.bench_function("ledger_group_commit", |b| {
        b.iter_batched(
            || drafts.take(N),
            |ds| {
                let pending: Vec<_> = ds.into_iter().map(|d| h.submit(d).unwrap()).collect();
                for p in pending {
                    p.wait().unwrap();
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("ledger_append_batch", |b| {
        b.iter_batched(
            || drafts.take(N),
            |ds| batch_ledger.append_batch(ds).unwrap(),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("bare_insert_batch", |b| {
        b.iter_batched(
            || rows_for(drafts.take(N), &device(), HashAlg::Sha256, Some(&codec())),
            |rows| bare.insert_batch(&rows).unwrap(),
            BatchSize::LargeInput,
        )
    });
    // Not a baseline: the bare INSERT plus the two unique indexes the ledger must keep (entry
    // id, random ticket code), to show how much of the gap is those indexes alone.
    g.bench_function("bare_insert_batch_with_ledger_indexes", |b| {
        b.iter_batched(
            || rows_for(drafts.take(N), &device(), HashAlg::Sha256, Some(&codec())),
            |rows| floor.insert_batch(&rows).unwrap(),
            BatchSize::LargeInput,
        )
    });
    // Not a ledger path: the CPU floor of sealing (canonical JSON + SHA-256) with no SQL,
    // to show how much of the gap to the bare INSERT is the hash chain itself.
    g.bench_function("seal_only_no_db", |b| {
        b.iter_batched(
            || drafts.take(N),
            |ds| rows_for(ds, &device(), HashAlg::Sha256, Some(&codec())),
            BatchSize::LargeInput,
        )
    });
    g.finish();
    drop(h);
    writer.shutdown().unwrap();
}

criterion_group!(benches, append_single, burst);
criterion_main!(benches);
