//! Start, pause, stop and resume a job in-process: pausing settles everything in flight and
//! leaves the coder stopped with an empty buffer; a clean stop leaves the unsent allocated codes
//! `unused`, and the resumed job prints them (nothing is scrapped that was never sent); the
//! batch reconciles with the simulator's print log throughout.

mod line_support;

use device_drivers::coder::CoderConfig;
use device_drivers::coder::CoderProtocol;
use device_drivers::coder::sim::CoderSimOptions;
use edge_daemon::ledger::{Ledger, LedgerOptions, LedgerWriter, WriterOptions};
use edge_daemon::line::{
    Control, JobSpec, LineConfig, LineStats, LineStore, PrefixFormat, Water, run_job,
};
use line_support::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const N: u64 = 600;

#[test]
fn pause_settles_and_a_clean_stop_keeps_unsent_codes_for_the_resumed_job() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_box(dir.path());
    let log = dir.path().join("print.log");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let opts = CoderSimOptions {
        line_speed: 400,
        buffer_capacity: 64,
        print_log: Some(log.clone()),
        ..CoderSimOptions::default()
    };
    let (uri, sim) = start_sim(&rt, CoderProtocol::Imaje9040, opts);
    let writer = LedgerWriter::spawn(
        Ledger::open(&db, &LedgerOptions::default()).unwrap(),
        WriterOptions::default(),
    )
    .unwrap();
    let store = LineStore::open(&db).unwrap();
    let cfg = LineConfig {
        spec: JobSpec {
            job: "J1".into(),
            batch: "B1".into(),
            pool: "P1".into(),
            template: None,
            coder: "imaje sim".into(),
            target: N,
        },
        water: Water {
            alloc_block: 1_000,
            ..Water::default()
        },
        coder: CoderConfig::default_for(CoderProtocol::Imaje9040),
        transport: uri.parse().unwrap(),
        format: Arc::new(PrefixFormat {
            prefix: "C".into(),
            width: 8,
        }),
        poll: Duration::from_millis(2),
        flush_every: Duration::from_millis(50),
    };
    let handle = writer.handle();
    let (stats_tx, mut stats) = watch::channel(LineStats::default());

    // Run, pause once 100 are confirmed, resume, stop once 300 are confirmed.
    let (ctl, rx) = watch::channel(Control::Run);
    let first = rt.block_on(async {
        let job = run_job(&handle, &store, &cfg, rx, &stats_tx);
        let drive = async {
            stats.wait_for(|s| s.encoded >= 100).await.unwrap();
            ctl.send(Control::Pause).unwrap();
            stats.wait_for(|s| s.paused).await.unwrap();
            let s = sim.stats();
            assert!(!s.running, "paused: the coder is stopped");
            assert_eq!(s.buffered, 0, "paused: the coder's buffer is empty");
            let mid = store.reconcile("B1").unwrap();
            assert_eq!(mid.encoded, read_log(&log).len() as u64, "{mid:?}");
            assert_eq!(stats.borrow().in_flight, 0);
            ctl.send(Control::Run).unwrap();
            stats.wait_for(|s| s.encoded >= 300).await.unwrap();
            ctl.send(Control::Stop).unwrap();
        };
        let (out, ()) = tokio::join!(job, drive);
        out.unwrap()
    });
    assert!(first.encoded >= 300 && first.encoded < N, "{first:?}");
    let stopped = store.reconcile("B1").unwrap();
    assert_eq!(stopped.encoded, read_log(&log).len() as u64);
    assert_eq!(stopped.allocated, 1_000, "one allocation block");
    assert!(stopped.unused > 0, "unsent codes stay unused: {stopped:?}");
    assert_eq!(
        stopped.allocated,
        stopped.encoded + stopped.scrapped + stopped.unused
    );

    // Resume the same job: it prints the unused codes first, then finishes.
    let (_ctl, rx) = watch::channel(Control::Run);
    let done = rt
        .block_on(run_job(&handle, &store, &cfg, rx, &stats_tx))
        .unwrap();
    assert_eq!(done.encoded, N);
    let end = store.reconcile("B1").unwrap();
    let printed = read_log(&log);
    assert_distinct("print log", &printed);
    assert_eq!(end.encoded, printed.len() as u64);
    assert_eq!(
        end.allocated, 1_000,
        "no new allocation was needed: {end:?}"
    );
    assert_eq!(
        end.scrapped, stopped.scrapped,
        "nothing unsent was scrapped"
    );
    assert_eq!(end.allocated, end.encoded + end.scrapped + end.unused);
    drop(handle);
    writer.shutdown().unwrap();
}
