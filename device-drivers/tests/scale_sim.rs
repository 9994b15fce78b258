//! Each scale driver against its simulator, over loopback TCP and over a pty pair.

use device_drivers::scale::dahua::PluRecord;
use device_drivers::scale::sim::{ScaleSimOptions, run_scale_sim};
use device_drivers::scale::{
    CommandOutcome, Scale, ScaleDriver, ScaleError, ScaleOptions, ScaleProtocol, WeightReading,
    WeightStatus, readings,
};
use device_drivers::sim::SimListen;
use device_drivers::transport::TransportConfig;
use futures::StreamExt;

const READING_PROTOCOLS: [ScaleProtocol; 5] = [
    ScaleProtocol::MtSics,
    ScaleProtocol::Toledo8217,
    ScaleProtocol::ToledoContinuous,
    ScaleProtocol::Cas,
    ScaleProtocol::AsciiIndicator,
];

fn listens() -> [SimListen; 2] {
    ["tcp://127.0.0.1:0".parse().unwrap(), SimListen::Pty]
}

async fn connect(p: ScaleProtocol, uri: &str) -> ScaleDriver {
    let t: TransportConfig = uri.parse().unwrap();
    ScaleDriver::connect(p, &t, &ScaleOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_protocol_reads_its_simulator() {
    for listen in listens() {
        for p in READING_PROTOCOLS {
            let sim = run_scale_sim(p, listen.clone(), ScaleSimOptions::default())
                .await
                .unwrap();
            let mut scale = connect(p, sim.uri()).await;
            let r = scale.read_weight().await.unwrap();
            assert_eq!(
                r,
                WeightReading::weight(1234, true, false, 0),
                "{p} over {listen:?}"
            );
            sim.update(|s| s.weight_grams = 2500);
            // A continuous scale may still have a frame of the old weight in flight.
            let mut r = scale.read_weight().await.unwrap();
            for _ in 0..5 {
                if r.grams == 2500 {
                    break;
                }
                r = scale.read_weight().await.unwrap();
            }
            assert_eq!(r.grams, 2500, "{p} over {listen:?}");
            assert_eq!(scale.decode_stats().bad_frames, 0);
        }
    }
}

#[tokio::test]
async fn unstable_and_overload_are_values() {
    for p in READING_PROTOCOLS {
        let sim = run_scale_sim(
            p,
            "tcp://127.0.0.1:0".parse().unwrap(),
            ScaleSimOptions {
                unstable: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut scale = connect(p, sim.uri()).await;
        let r = scale.read_weight().await.unwrap();
        assert!(!r.stable, "{p}: {r:?}");
        assert_eq!(r.status, WeightStatus::Unstable, "{p}");
        sim.update(|s| {
            s.unstable = false;
            s.overload = true;
        });
        let mut r = scale.read_weight().await.unwrap();
        for _ in 0..5 {
            if r.status == WeightStatus::Overload {
                break;
            }
            r = scale.read_weight().await.unwrap();
        }
        assert_eq!(r.status, WeightStatus::Overload, "{p}");
        assert!(!r.is_usable());
    }
}

#[tokio::test]
async fn garbage_between_frames_is_skipped_and_counted() {
    for p in READING_PROTOCOLS {
        let sim = run_scale_sim(
            p,
            "tcp://127.0.0.1:0".parse().unwrap(),
            ScaleSimOptions {
                garbage: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut scale = connect(p, sim.uri()).await;
        for _ in 0..3 {
            assert_eq!(scale.read_weight().await.unwrap().grams, 1234, "{p}");
        }
        let stats = scale.decode_stats();
        assert!(
            stats.bad_frames + stats.skipped_bytes > 0,
            "{p}: noise not counted: {stats:?}"
        );
        assert!(stats.frames >= 3);
    }
}

#[tokio::test]
async fn zero_and_tare_reach_the_scale() {
    for p in READING_PROTOCOLS {
        let sim = run_scale_sim(
            p,
            "tcp://127.0.0.1:0".parse().unwrap(),
            ScaleSimOptions::default(),
        )
        .await
        .unwrap();
        let mut scale = connect(p, sim.uri()).await;
        let outcome = scale.tare().await.unwrap();
        if p == ScaleProtocol::MtSics {
            assert_eq!(outcome, CommandOutcome::Done);
        } else {
            assert_eq!(outcome, CommandOutcome::Sent);
        }
        // Unconfirmed commands: read until the scale shows the tare taken.
        let mut r = scale.read_weight().await.unwrap();
        for _ in 0..10 {
            if r.grams == 0 {
                break;
            }
            r = scale.read_weight().await.unwrap();
        }
        assert_eq!(r.grams, 0, "{p}");
        assert_eq!(sim.state().tare_grams, 1234, "{p}");
        if p != ScaleProtocol::Cas {
            assert!(r.net, "{p}: {r:?}");
        }
        scale.clear_tare().await.unwrap();
        scale.zero().await.unwrap();
        let mut r = scale.read_weight().await.unwrap();
        for _ in 0..10 {
            if sim.state().zero_offset == 1234 && !r.net {
                break;
            }
            r = scale.read_weight().await.unwrap();
        }
        assert_eq!(sim.state().zero_offset, 1234, "{p}");
        assert_eq!(r.grams, 0, "{p}");
    }
}

#[tokio::test]
async fn disconnect_mid_frame_ends_the_stream() {
    for listen in listens() {
        for p in READING_PROTOCOLS {
            let sim = run_scale_sim(
                p,
                listen.clone(),
                ScaleSimOptions {
                    disconnect_after: Some(2),
                    hz: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            let scale = connect(p, sim.uri()).await;
            let got: Vec<_> = readings(scale, std::time::Duration::from_millis(1))
                .collect()
                .await;
            let oks = got.iter().filter(|r| r.is_ok()).count();
            // CAS answers each reading with two frames (ACK, then the weight).
            let want = if p == ScaleProtocol::Cas { 1 } else { 2 };
            assert_eq!(oks, want, "{p} over {listen:?}: {got:?}");
            assert!(
                matches!(got.last(), Some(Err(ScaleError::Disconnected))),
                "{p} over {listen:?}: {got:?}"
            );
        }
    }
}

#[tokio::test]
async fn slow_replies_time_out() {
    let sim = run_scale_sim(
        ScaleProtocol::MtSics,
        "tcp://127.0.0.1:0".parse().unwrap(),
        ScaleSimOptions {
            reply_delay: std::time::Duration::from_millis(400),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let t: TransportConfig = sim.uri().parse().unwrap();
    let opts = ScaleOptions {
        reply_timeout: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    let mut scale = ScaleDriver::connect(ScaleProtocol::MtSics, &t, &opts)
        .await
        .unwrap();
    assert!(matches!(
        scale.read_weight().await,
        Err(ScaleError::Timeout(_))
    ));
}

#[tokio::test]
async fn dahua_plu_download_reaches_the_scale() {
    for listen in listens() {
        let sim = run_scale_sim(ScaleProtocol::DahuaTm, listen, ScaleSimOptions::default())
            .await
            .unwrap();
        let mut scale = connect(ScaleProtocol::DahuaTm, sim.uri()).await;
        let plus = vec![
            PluRecord {
                plu: 1,
                item_code: 1001,
                unit_price_fen: 2600,
                mode: Default::default(),
                shelf_life_days: 2,
                tare_grams: 0,
                label_no: 1,
                name: "五花肉".into(),
            },
            PluRecord {
                plu: 2,
                item_code: 1002,
                unit_price_fen: 1200,
                mode: Default::default(),
                shelf_life_days: 1,
                tare_grams: 5,
                label_no: 1,
                name: "青菜".into(),
            },
        ];
        assert_eq!(scale.download_plus(&plus, true).await.unwrap(), 2);
        let got: Vec<_> = sim.state().plus.into_values().collect();
        assert_eq!(got, plus);
        assert!(matches!(
            scale.read_weight().await,
            Err(ScaleError::Unsupported { .. })
        ));
        // A record that cannot be encoded changes nothing on the scale.
        let bad = vec![PluRecord {
            name: "€".into(),
            ..plus[0].clone()
        }];
        assert!(scale.download_plus(&bad, true).await.is_err());
        assert_eq!(sim.state().plus.len(), 2);
    }
}

#[tokio::test]
async fn pty_simulator_waits_for_the_driver_to_open_the_port() {
    for p in [ScaleProtocol::MtSics, ScaleProtocol::ToledoContinuous] {
        let sim = run_scale_sim(p, SimListen::Pty, ScaleSimOptions::default())
            .await
            .unwrap();
        // Let the simulator take its side of the pty and start reading before any driver has
        // the port open (it reads EIO until then): it must keep waiting, not give up.
        while sim.state().connections == 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        let mut scale = connect(p, sim.uri()).await;
        assert_eq!(scale.read_weight().await.unwrap().grams, 1234, "{p}");
        // The driver closes the port and opens it again, as the supervisor does.
        drop(scale);
        let mut scale = connect(p, sim.uri()).await;
        assert_eq!(scale.read_weight().await.unwrap().grams, 1234, "{p}");
    }
}
