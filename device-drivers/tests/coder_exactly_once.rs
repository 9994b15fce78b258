//! The exactly-once promise, per protocol, against the simulator's own print log: 2,000 codes
//! pushed at line speed with a low/high-water feeder, a disconnect and a head fault injected
//! (and back-pressure where the protocol has it), every unconfirmed code scrapped after each
//! fault. Then: no code printed twice, confirmed == log exactly, and every code accounted for.

mod coder_support;

use coder_support::{Feeder, codes, read_log, run_line};
use device_drivers::coder::CoderProtocol;
use device_drivers::coder::sim::{BufferPolicy, CoderSim, CoderSimOptions, FaultAt, InjectedFault};
use device_drivers::sim::SimListen;
use std::collections::HashSet;
use std::time::Duration;

const N: usize = 2_000;

async fn exactly_once(p: CoderProtocol, policy: BufferPolicy) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("print.log");
    let feeder = Feeder::default();
    // CLARiTY refuses a whole SDO line when it does not fit, so its buffer holds the high-water
    // mark; the others get a smaller buffer to exercise back-pressure.
    let capacity = match p {
        CoderProtocol::Zipher => 64,
        _ => 20,
    };
    let opts = CoderSimOptions {
        line_speed: 1_000,
        buffer_capacity: capacity,
        print_log: Some(log.clone()),
        on_disconnect: policy,
        faults: vec![
            FaultAt {
                after_printed: 600,
                fault: InjectedFault::Disconnect,
            },
            FaultAt {
                after_printed: 1_300,
                fault: InjectedFault::HeadFault,
            },
        ],
        fault_clears_after: Duration::from_millis(50),
        ..Default::default()
    };
    let sim = CoderSim::bind(p, &"tcp://127.0.0.1:0".parse::<SimListen>().unwrap(), opts)
        .await
        .unwrap();
    let uri = sim.describe().unwrap();
    let task = tokio::spawn(sim.run());
    let all = codes(&format!("{p}-"), N);
    let out = run_line(p, &uri, all.clone(), &feeder).await;
    task.abort();

    let printed = read_log(&log);
    let unique: HashSet<&String> = printed.iter().collect();
    assert_eq!(unique.len(), printed.len(), "{p}: a code was printed twice");
    assert_eq!(
        out.confirmed, printed,
        "{p}: confirmed codes differ from the print log"
    );
    assert_eq!(
        out.confirmed.len() + out.scrapped.len() + out.unused.len(),
        N,
        "{p}: a code is unaccounted for"
    );
    let mut settled: Vec<&String> = out.confirmed.iter().chain(&out.scrapped).collect();
    settled.sort();
    settled.dedup();
    assert_eq!(
        settled.len(),
        out.confirmed.len() + out.scrapped.len(),
        "{p}: settled twice"
    );
    assert!(out.unused.is_empty(), "{p}: the line stopped early");
    assert!(out.reconnects >= 1, "{p}: the disconnect was not exercised");
    assert!(out.faults_seen >= 1, "{p}: the head fault was not seen");
    assert!(out.resyncs >= 2, "{p}: {out:?}");
    if p != CoderProtocol::Zipher {
        assert!(
            out.refused_and_reused > 0,
            "{p}: back-pressure was not exercised"
        );
    }
    eprintln!(
        "{p} {policy:?}: confirmed {} scrapped {} refused-and-reused {} resyncs {} reconnects {}",
        out.confirmed.len(),
        out.scrapped.len(),
        out.refused_and_reused,
        out.resyncs,
        out.reconnects
    );
}

#[tokio::test]
async fn zipher_prints_each_code_at_most_once() {
    exactly_once(CoderProtocol::Zipher, BufferPolicy::Keep).await;
}

#[tokio::test]
async fn tij_prints_each_code_at_most_once() {
    exactly_once(CoderProtocol::Tij, BufferPolicy::Keep).await;
}

#[tokio::test]
async fn imaje_prints_each_code_at_most_once() {
    exactly_once(CoderProtocol::Imaje9040, BufferPolicy::Keep).await;
}

#[tokio::test]
async fn text_tcp_prints_each_code_at_most_once() {
    exactly_once(CoderProtocol::TextTcp, BufferPolicy::Keep).await;
}

#[tokio::test]
async fn a_buffer_cleared_on_disconnect_is_scrapped_not_resent() {
    exactly_once(CoderProtocol::Tij, BufferPolicy::Clear).await;
}

/// The check above has teeth: a controller that re-sends its unconfirmed codes after a
/// reconnect, instead of clearing and scrapping, gets them printed twice, and the print log
/// shows it.
#[tokio::test]
async fn a_naive_resend_after_a_disconnect_prints_twice() {
    let p = CoderProtocol::Tij;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("print.log");
    let opts = CoderSimOptions {
        line_speed: 500,
        print_log: Some(log.clone()),
        on_disconnect: BufferPolicy::Keep,
        ..Default::default()
    };
    let sim = CoderSim::bind(p, &"tcp://127.0.0.1:0".parse::<SimListen>().unwrap(), opts)
        .await
        .unwrap();
    let uri = sim.describe().unwrap();
    let handle = sim.handle();
    let task = tokio::spawn(sim.run());
    let batch = codes("N", 5);
    let mut c = coder_support::connect(p, &uri).await.unwrap();
    use device_drivers::coder::Coder;
    c.clear_buffer().await.unwrap();
    c.queue(&batch).await.unwrap();
    handle.disconnect();
    while c.buffer_count().await.is_ok() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut c = coder_support::connect(p, &uri).await.unwrap();
    c.queue(&batch).await.unwrap();
    c.start().await.unwrap();
    while handle.stats().printed < 10 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort();
    let printed = read_log(&log);
    let unique: HashSet<&String> = printed.iter().collect();
    assert_eq!(printed.len(), 10);
    assert_eq!(
        unique.len(),
        5,
        "the naive re-send should have printed every code twice"
    );
}
