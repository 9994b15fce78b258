//! Each coder driver against its simulator, over loopback TCP and over a pty pair, plus the
//! failure modes seen one at a time: garbage and slow replies, a head fault as a value,
//! back-pressure, a disconnect.

mod coder_support;

use coder_support::{connect, read_log};
use device_drivers::coder::sim::{BufferPolicy, CoderSim, CoderSimOptions, HEAD_FAULT};
use device_drivers::coder::{
    Coder, CoderErrorKind, CoderProtocol, CoderState, InFlight, PrintEvidence,
};
use device_drivers::sim::SimListen;
use std::time::Duration;

async fn start_sim(
    p: CoderProtocol,
    listen: SimListen,
    opts: CoderSimOptions,
) -> (
    String,
    device_drivers::coder::sim::CoderSimHandle,
    tokio::task::JoinHandle<()>,
) {
    let sim = CoderSim::bind(p, &listen, opts).await.expect("bind");
    let uri = sim.describe().unwrap();
    let h = sim.handle();
    let task = tokio::spawn(async move {
        let _ = sim.run().await;
    });
    (uri, h, task)
}

fn tcp() -> SimListen {
    "tcp://127.0.0.1:0".parse().unwrap()
}

/// Job, fields, clear, queue five codes, print them, confirm them from evidence.
async fn smoke(p: CoderProtocol, listen: SimListen, garbage: bool) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("print.log");
    let opts = CoderSimOptions {
        line_speed: 200,
        print_log: Some(log.clone()),
        garbage_every: garbage.then_some(2),
        reply_delay: if garbage {
            Duration::from_millis(3)
        } else {
            Duration::ZERO
        },
        ..Default::default()
    };
    let (uri, sim, task) = start_sim(p, listen, opts).await;
    let mut c = connect(p, &uri).await.expect("connect");
    match c.select_job("LABEL1").await {
        Ok(()) => {}
        Err(e) => assert_eq!(e.kind(), CoderErrorKind::Unsupported, "{e}"),
    }
    match c.set_fields(&[("batch".into(), "B7".into())]).await {
        Ok(()) => {}
        Err(e) => assert_eq!(e.kind(), CoderErrorKind::Unsupported, "{e}"),
    }
    let base = c.clear_buffer().await.unwrap();
    let mut inflight = InFlight::new(base);
    let codes: Vec<String> = (1..=5)
        .map(|i| format!("https://t.example/c/{p}{i}"))
        .collect();
    for code in &codes {
        inflight.push(code.clone());
    }
    let out = c.queue(&codes).await.unwrap();
    assert_eq!(out.accepted, 5);
    assert_eq!(c.buffer_count().await.unwrap(), 5);
    assert_eq!(c.status().await.unwrap().state, stopped_state(p));
    c.start().await.unwrap();
    let mut confirmed = Vec::new();
    while confirmed.len() < 5 {
        confirmed.extend(inflight.confirm(c.evidence().await.unwrap()).unwrap());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(confirmed, codes);
    assert_eq!(c.buffer_count().await.unwrap(), 0);
    let st = c.status().await.unwrap();
    assert!(st.is_printing(), "{st:?}");
    c.stop().await.unwrap();
    assert_eq!(read_log(&log), codes);
    assert_eq!(sim.stats().printed, 5);
    if garbage {
        assert!(c.skipped() > 0, "garbage was not seen");
    }
    task.abort();
}

fn stopped_state(p: CoderProtocol) -> CoderState {
    match p {
        CoderProtocol::Zipher => CoderState::Offline,
        _ => CoderState::Stopped,
    }
}

#[tokio::test]
async fn every_driver_over_tcp() {
    for p in CoderProtocol::ALL {
        smoke(p, tcp(), false).await;
    }
}

#[tokio::test]
async fn every_driver_over_a_pty() {
    for p in CoderProtocol::ALL {
        smoke(p, SimListen::Pty, false).await;
    }
}

#[tokio::test]
async fn garbage_and_slow_replies_are_survived_and_counted() {
    for p in CoderProtocol::ALL {
        smoke(p, tcp(), true).await;
    }
}

#[tokio::test]
async fn a_head_fault_is_a_value_and_stops_printing() {
    for p in CoderProtocol::ALL {
        let opts = CoderSimOptions {
            fault_clears_after: Duration::from_secs(3600),
            ..Default::default()
        };
        let (uri, sim, task) = start_sim(p, tcp(), opts).await;
        let mut c = connect(p, &uri).await.unwrap();
        c.clear_buffer().await.unwrap();
        c.start().await.unwrap();
        sim.inject_head_fault();
        let st = c.status().await.unwrap();
        assert!(!st.is_printing(), "{p}: {st:?}");
        assert_eq!(st.faults.len(), 1, "{p}: {st:?}");
        if p == CoderProtocol::Zipher {
            assert_eq!(st.faults[0].code, HEAD_FAULT);
        }
        // Starting while faulted is refused, not an error of the link.
        let e = c.start().await.unwrap_err();
        assert_eq!(e.kind(), CoderErrorKind::Refused, "{p}: {e}");
        sim.clear_fault();
        c.start().await.unwrap();
        assert!(c.status().await.unwrap().is_printing());
        task.abort();
    }
}

#[tokio::test]
async fn a_full_buffer_pushes_back() {
    for p in CoderProtocol::ALL {
        let opts = CoderSimOptions {
            buffer_capacity: 3,
            ..Default::default()
        };
        let (uri, _sim, task) = start_sim(p, tcp(), opts).await;
        let mut c = connect(p, &uri).await.unwrap();
        c.clear_buffer().await.unwrap();
        let codes: Vec<String> = (0..5).map(|i| format!("F{i}")).collect();
        match c.queue(&codes).await {
            Ok(out) => {
                assert!(out.full, "{p}: {out:?}");
                assert_eq!(out.accepted, 3, "{p}");
            }
            // CLARiTY answers a whole SDO line with ERR: its fate is for resync to settle.
            Err(e) => {
                assert_eq!(p, CoderProtocol::Zipher);
                assert_eq!(e.kind(), CoderErrorKind::Refused);
            }
        }
        assert!(c.buffer_count().await.unwrap() <= 3);
        task.abort();
    }
}

#[tokio::test]
async fn a_disconnect_keeps_or_clears_the_buffer_by_policy() {
    for policy in [BufferPolicy::Keep, BufferPolicy::Clear] {
        for p in CoderProtocol::ALL {
            let opts = CoderSimOptions {
                on_disconnect: policy,
                ..Default::default()
            };
            let (uri, sim, task) = start_sim(p, tcp(), opts).await;
            let mut c = connect(p, &uri).await.unwrap();
            c.clear_buffer().await.unwrap();
            c.queue(&["K1".to_string(), "K2".to_string()])
                .await
                .unwrap();
            sim.disconnect();
            let e = loop {
                match c.buffer_count().await {
                    Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    Err(e) => break e,
                }
            };
            assert_eq!(e.kind(), CoderErrorKind::Transport, "{p}: {e}");
            let mut c = connect(p, &uri).await.unwrap();
            let want = match policy {
                BufferPolicy::Keep => 2,
                BufferPolicy::Clear => 0,
            };
            assert_eq!(sim.stats().buffered, want, "{p} {policy:?}");
            // Evidence is readable straight after a reconnect.
            assert!(matches!(
                c.evidence().await.unwrap(),
                PrintEvidence::LastPrintedIndex(0) | PrintEvidence::PrintCounter(0)
            ));
            task.abort();
        }
    }
}
