//! The device manager against simulators: events, reconnect with backoff, commands, health.

use device_drivers::manager::{
    Backoff, DeviceConfig, DeviceEvent, DeviceEventKind, DeviceManager, HealthState, ManagerError,
};
use device_drivers::scale::CommandOutcome;
use device_drivers::scale::ScaleProtocol;
use device_drivers::scale::dahua::PluRecord;
use device_drivers::scale::sim::{ScaleSimOptions, run_scale_sim};
use device_drivers::scanner::ScannerProtocol;
use device_drivers::scanner::sim::{ScannerSimOptions, run_scanner_sim};
use device_drivers::sim::SimListen;
use std::time::Duration;
use tokio::sync::broadcast;

fn tcp() -> SimListen {
    "tcp://127.0.0.1:0".parse().unwrap()
}

fn devices(json: serde_json::Value) -> Vec<DeviceConfig> {
    serde_json::from_value(json).unwrap()
}

const FAST: Backoff = Backoff {
    initial_ms: 10,
    max_ms: 40,
};

/// Next event for `device` matching `pred`, skipping others.
async fn next_matching(
    rx: &mut broadcast::Receiver<DeviceEvent>,
    device: &str,
    pred: impl Fn(&DeviceEventKind) -> bool,
) -> DeviceEventKind {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(e) if e.device == device && pred(&e.kind) => return e.kind,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("event channel closed: {e}"),
            }
        }
    };
    // A hang is a failure with a message, not a stuck CI job.
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .unwrap_or_else(|_| panic!("no matching event for {device}"))
}

#[tokio::test]
async fn scale_and_scanner_events_with_reconnect() {
    let scale = run_scale_sim(
        ScaleProtocol::ToledoContinuous,
        tcp(),
        ScaleSimOptions {
            hz: 50,
            disconnect_after: Some(3),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let scanner = run_scanner_sim(
        ScannerProtocol::NewlandPack,
        tcp(),
        ScannerSimOptions {
            codes: vec!["6901234567892".into()],
            interval: Duration::from_millis(5),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mgr = DeviceManager::start(
        devices(serde_json::json!([
            {"driver": "toledo-continuous", "name": "scale", "connect": scale.uri()},
            {"driver": "newland-pack", "name": "scanner", "connect": scanner.uri()},
            {"driver": "escpos", "name": "printer", "connect": "tcp://127.0.0.1:9", "options": {"width": 80}},
        ])),
        FAST,
    )
    .unwrap();
    let mut rx = mgr.subscribe();
    let k = next_matching(&mut rx, "scanner", |k| {
        matches!(k, DeviceEventKind::Scan { .. })
    })
    .await;
    let DeviceEventKind::Scan { scan } = k else {
        unreachable!()
    };
    assert_eq!(scan.text, "6901234567892");

    let k = next_matching(&mut rx, "scale", |k| {
        matches!(k, DeviceEventKind::Reading { .. })
    })
    .await;
    let DeviceEventKind::Reading { reading } = k else {
        unreachable!()
    };
    assert_eq!(reading.grams, 1234);
    // The simulator hangs up after 3 frames: a disconnect with a reason, then a reconnect.
    let k = next_matching(&mut rx, "scale", |k| {
        matches!(k, DeviceEventKind::Disconnected { .. })
    })
    .await;
    let DeviceEventKind::Disconnected { reason } = k else {
        unreachable!()
    };
    assert!(reason.contains("closed"), "{reason}");
    next_matching(&mut rx, "scale", |k| {
        matches!(k, DeviceEventKind::Connected { .. })
    })
    .await;
    next_matching(&mut rx, "scale", |k| {
        matches!(k, DeviceEventKind::Reading { .. })
    })
    .await;

    let health = mgr.health();
    let s = health.iter().find(|h| h.name == "scale").unwrap();
    assert!(s.reconnects >= 1, "{s:?}");
    assert!(s.events >= 4);
    assert!(s.decode.frames >= 4);
    let p = health.iter().find(|h| h.name == "printer").unwrap();
    assert_eq!(p.state, HealthState::External);
    assert!(scale.state().connections >= 2);

    mgr.shutdown().await;
}

#[tokio::test]
async fn unreachable_device_faults_and_recovers_when_it_appears() {
    // Reserve a port, then free it so the first attempts are refused.
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let mgr = DeviceManager::start(
        devices(serde_json::json!([
            {"driver": "mt-sics", "name": "s", "connect": format!("tcp://{addr}"), "poll_interval_ms": 5}
        ])),
        FAST,
    )
    .unwrap();
    let mut rx = mgr.subscribe();
    let k = next_matching(&mut rx, "s", |k| matches!(k, DeviceEventKind::Fault { .. })).await;
    let DeviceEventKind::Fault { message } = k else {
        unreachable!()
    };
    assert!(message.contains("cannot open"), "{message}");
    assert_ne!(mgr.health()[0].state, HealthState::Connected);
    // The scale comes up on that port.
    let sim = run_scale_sim(
        ScaleProtocol::MtSics,
        SimListen::Tcp(addr),
        ScaleSimOptions::default(),
    )
    .await
    .unwrap();
    next_matching(&mut rx, "s", |k| {
        matches!(k, DeviceEventKind::Connected { .. })
    })
    .await;
    next_matching(&mut rx, "s", |k| {
        matches!(k, DeviceEventKind::Reading { .. })
    })
    .await;
    assert_eq!(mgr.health()[0].state, HealthState::Connected);

    // Commands go through the supervisor between readings.
    let h = mgr.handle();
    assert_eq!(h.tare("s").await.unwrap(), CommandOutcome::Done);
    assert_eq!(sim.state().tare_grams, 1234);
    let k = next_matching(
        &mut rx,
        "s",
        |k| matches!(k, DeviceEventKind::Reading { reading } if reading.net),
    )
    .await;
    let DeviceEventKind::Reading { reading } = k else {
        unreachable!()
    };
    assert_eq!((reading.grams, reading.tare_grams), (0, 1234));
    assert!(matches!(
        h.zero("nope").await,
        Err(ManagerError::NoSuchDevice(_))
    ));
    mgr.shutdown().await;
}

#[tokio::test]
async fn pty_scale_is_supervised() {
    let sim = run_scale_sim(
        ScaleProtocol::Cas,
        SimListen::Pty,
        ScaleSimOptions::default(),
    )
    .await
    .unwrap();
    let mgr = DeviceManager::start(
        devices(serde_json::json!([
            {"driver": "cas", "name": "cas", "connect": sim.uri(), "poll_interval_ms": 5}
        ])),
        FAST,
    )
    .unwrap();
    let mut rx = mgr.subscribe();
    let k = next_matching(&mut rx, "cas", |k| {
        matches!(k, DeviceEventKind::Reading { .. })
    })
    .await;
    let DeviceEventKind::Reading { reading } = k else {
        unreachable!()
    };
    assert_eq!(reading.grams, 1234);
    let handle = mgr.handle();
    mgr.shutdown().await;
    assert_eq!(handle.health()[0].state, HealthState::Stopped);
}

#[tokio::test]
async fn dahua_download_through_the_manager_and_config_errors() {
    let sim = run_scale_sim(ScaleProtocol::DahuaTm, tcp(), ScaleSimOptions::default())
        .await
        .unwrap();
    let mgr = DeviceManager::start(
        devices(serde_json::json!([
            {"driver": "dahua-tm", "name": "label", "connect": sim.uri()},
            {"driver": "cas", "name": "counter", "connect": "tcp://127.0.0.1:9"}
        ])),
        FAST,
    )
    .unwrap();
    let h = mgr.handle();
    let plu = PluRecord {
        plu: 7,
        item_code: 7,
        unit_price_fen: 3000,
        mode: Default::default(),
        shelf_life_days: 1,
        tare_grams: 0,
        label_no: 1,
        name: "鲜鱼".into(),
    };
    assert_eq!(
        h.download_plus("label", std::slice::from_ref(&plu), true)
            .await
            .unwrap(),
        1
    );
    assert_eq!(sim.state().plus.get(&7), Some(&plu));
    assert!(matches!(
        h.download_plus("counter", &[plu], true).await,
        Err(ManagerError::NotAScale(_))
    ));
    let label = mgr
        .health()
        .into_iter()
        .find(|d| d.name == "label")
        .unwrap();
    assert_eq!(label.state, HealthState::OnDemand);
    mgr.shutdown().await;

    let clash = devices(serde_json::json!([
        {"driver": "cas", "name": "a", "connect": "serial:///dev/ttyUSB0"},
        {"driver": "serial-line", "name": "b", "connect": "serial:///dev/ttyUSB0?baud=115200"}
    ]));
    assert!(DeviceManager::start(clash, FAST).is_err());
}
