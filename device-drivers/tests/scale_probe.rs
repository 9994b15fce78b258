//! `probe`: which protocol answers on a port, against each simulator.

use device_drivers::discover::{ProbeResult, probe};
use device_drivers::scale::ScaleProtocol;
use device_drivers::scale::sim::{ScaleSimOptions, run_scale_sim};
use device_drivers::sim::SimListen;
use device_drivers::transport::TransportConfig;
use std::time::Duration;

#[tokio::test]
async fn probe_names_the_protocol_that_answered() {
    for p in [
        ScaleProtocol::MtSics,
        ScaleProtocol::Toledo8217,
        ScaleProtocol::ToledoContinuous,
        ScaleProtocol::Cas,
        ScaleProtocol::AsciiIndicator,
    ] {
        let sim = run_scale_sim(
            p,
            "tcp://127.0.0.1:0".parse().unwrap(),
            ScaleSimOptions::default(),
        )
        .await
        .unwrap();
        let t: TransportConfig = sim.uri().parse().unwrap();
        let report = probe(&t, Duration::from_millis(300)).await;
        assert_eq!(report.answered, vec![p.name().to_string()], "{report:#?}");
        let json = serde_json::to_value(&report).unwrap();
        assert!(
            json["attempts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["result"] == "not_probed")
        );
    }
}

#[tokio::test]
async fn probe_over_a_pty_and_on_a_dead_port() {
    let sim = run_scale_sim(
        ScaleProtocol::MtSics,
        SimListen::Pty,
        ScaleSimOptions::default(),
    )
    .await
    .unwrap();
    let t: TransportConfig = sim.uri().parse().unwrap();
    // A pty carries one connection: the first probe (MT-SICS) gets it.
    let report = probe(&t, Duration::from_millis(300)).await;
    assert_eq!(report.answered, vec!["mt-sics"]);

    let t: TransportConfig = "serial:///dev/baytrace-no-such-port".parse().unwrap();
    let report = probe(&t, Duration::from_millis(50)).await;
    assert!(report.answered.is_empty());
    assert!(report.attempts.iter().any(
        |a| matches!(&a.result, ProbeResult::Error { detail } if detail.contains("cannot open"))
    ));
}
