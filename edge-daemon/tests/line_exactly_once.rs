//! Must show (issue 6, 4.2.7): for each coder protocol, 30,000 codes through its simulator with
//! faults injected — a disconnect about every 2,000 items, a small buffer (back-pressure), head
//! faults, and the box (`baytrace-edge line run`, a child process) SIGKILLed twice — and then,
//! from the simulator's own print log: no code printed twice, the ledger's encoded codes are
//! exactly the codes in the log, and `line reconcile` equals the log
//! (encoded == log lines; allocated = encoded + scrapped + unused).
//!
//! The simulator runs in this process so it outlives the killed box and keeps printing what
//! its buffer held, as a real coder would; the restarted box must settle those from the
//! coder's evidence.

mod line_support;

use device_drivers::coder::CoderProtocol;
use device_drivers::coder::sim::{BufferPolicy, CoderSimOptions, FaultAt, InjectedFault};
use line_support::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::HashSet;
use std::io::Read;
use std::time::{Duration, Instant};

const N: u64 = 30_000;
/// Items per second the simulator prints at (the brief asks for at least 1,000).
const LINE_SPEED: u32 = 1_500;
/// Box kills land after these many prints.
const KILLS: [u64; 2] = [9_100, 19_700];
/// Generous: the run takes ~25 s unloaded; this only stops a hung test.
const PATIENCE: Duration = Duration::from_secs(600);

fn faults() -> Vec<FaultAt> {
    let mut f: Vec<FaultAt> = (1..15)
        .map(|k| FaultAt {
            after_printed: k * 2_000 + 37,
            fault: InjectedFault::Disconnect,
        })
        .collect();
    for at in [5_500, 14_300, 24_900] {
        f.push(FaultAt {
            after_printed: at,
            fault: InjectedFault::HeadFault,
        });
    }
    f
}

fn wait_printed(
    h: &device_drivers::coder::sim::CoderSimHandle,
    n: u64,
    child: &mut std::process::Child,
) {
    let t0 = Instant::now();
    while h.stats().printed < n {
        if let Some(st) = child.try_wait().unwrap() {
            panic!(
                "the box exited early ({st}) at {} printed",
                h.stats().printed
            );
        }
        assert!(
            t0.elapsed() < PATIENCE,
            "stuck at {} printed",
            h.stats().printed
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn exactly_once(protocol: CoderProtocol) {
    let dir = tempfile::tempdir().unwrap();
    let db = new_box(dir.path());
    let log = dir.path().join("print.log");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let opts = CoderSimOptions {
        line_speed: LINE_SPEED,
        // Below the box's high-water mark (30), so the coder refuses codes: back-pressure.
        buffer_capacity: 24,
        print_log: Some(log.clone()),
        on_disconnect: BufferPolicy::Keep,
        faults: faults(),
        fault_clears_after: Duration::from_millis(40),
        ..CoderSimOptions::default()
    };
    let (uri, sim) = start_sim(&rt, protocol, opts);
    let prefix = format!("{}-", protocol.name());
    let args = JobArgs {
        db: &db,
        job: "J1",
        batch: "B20261122",
        pool: "P1",
        count: N,
        protocol,
        uri: &uri,
        prefix: &prefix,
    };
    let started = Instant::now();
    for at in KILLS {
        let mut child = spawn_line(&args);
        wait_printed(&sim, at, &mut child);
        kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
        let st = child.wait().unwrap();
        assert!(!st.success(), "{protocol}: the box was not killed: {st}");
    }
    let mut child = spawn_line(&args);
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            t0.elapsed() < PATIENCE,
            "{protocol}: the last run never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        status.success(),
        "{protocol}: line run failed: {status}\n{err}"
    );
    let elapsed = started.elapsed();
    let final_stats: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    // Everything printed has been read back by now; stop the simulator before reading its log.
    let sim_printed = sim.stats().printed;
    drop(rt);

    let printed = read_log(&log);
    assert_eq!(printed.len() as u64, sim_printed);
    assert_distinct(&format!("{protocol} print log"), &printed);

    let r = reconcile(&db, "B20261122");
    assert_eq!(r.encoded, N, "{protocol}: the job stops at its target");
    assert_eq!(
        r.encoded,
        printed.len() as u64,
        "{protocol}: encoded != codes in the log"
    );
    assert_eq!(
        r.allocated,
        r.encoded + r.scrapped + r.unused,
        "{protocol}: {r:?}"
    );

    // Not just the counts: the very codes.
    let c = ledger_codes(&db);
    let fmt = |s: &u64| format!("{prefix}{s:08}");
    let encoded: HashSet<String> = c.encoded.iter().map(fmt).collect();
    assert_eq!(
        encoded.len(),
        c.encoded.len(),
        "{protocol}: a serial encoded twice"
    );
    let logged: HashSet<String> = printed.iter().cloned().collect();
    assert_eq!(
        encoded, logged,
        "{protocol}: encoded codes differ from the print log"
    );
    let scrapped: HashSet<String> = c.scrapped.iter().map(fmt).collect();
    assert_eq!(
        scrapped.len(),
        c.scrapped.len(),
        "{protocol}: a serial scrapped twice"
    );
    assert!(
        scrapped.is_disjoint(&logged),
        "{protocol}: a scrapped code was printed"
    );
    assert_eq!(c.allocated.len() as u64, r.allocated);
    assert_eq!(c.scrapped.len() as u64, r.scrapped);

    // Every kind of trouble was met, and left its trace in the scrap reasons.
    let reasons = c.scrap_reasons.join("\n");
    assert!(
        reasons.contains("stopped unexpectedly"),
        "{protocol}: no crash recovery seen:\n{reasons}"
    );
    // A fault the coder reported (as opposed to a failed exchange) names it in the reason.
    let link = [
        "closed the connection",
        "transport error",
        "no reply",
        "unexpected reply",
    ];
    assert!(
        c.scrap_reasons
            .iter()
            .any(|r| r.contains("sent but not confirmed before:")
                && !link.iter().any(|l| r.contains(l))),
        "{protocol}: no head fault seen:\n{reasons}"
    );
    assert!(
        final_stats["reconnects"].as_u64().unwrap() >= 1,
        "{protocol}: no disconnect in the last run: {final_stats}"
    );
    eprintln!(
        "{protocol}: {N} codes encoded in {:.1} s ({} items/s incl. 2 crashes and {} faults); \
         reconcile {r:?}; load: {}",
        elapsed.as_secs_f64(),
        u128::from(N) * 1000 / elapsed.as_millis().max(1),
        faults().len(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
}

#[test]
fn zipher_prints_each_code_at_most_once() {
    exactly_once(CoderProtocol::Zipher);
}

#[test]
fn tij_prints_each_code_at_most_once() {
    exactly_once(CoderProtocol::Tij);
}

#[test]
fn imaje_prints_each_code_at_most_once() {
    exactly_once(CoderProtocol::Imaje9040);
}

#[test]
fn text_tcp_prints_each_code_at_most_once() {
    exactly_once(CoderProtocol::TextTcp);
}
