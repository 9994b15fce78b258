//! Scanner drivers against the scanner simulator, over loopback TCP and a pty pair.

use device_drivers::scanner::line::Suffix;
use device_drivers::scanner::newland::LengthField;
use device_drivers::scanner::sim::{ScannerSimOptions, run_scanner_sim};
use device_drivers::scanner::{
    Scanner, ScannerDriver, ScannerError, ScannerOptions, ScannerProtocol, Symbology, scans,
};
use device_drivers::sim::SimListen;
use device_drivers::transport::TransportConfig;
use futures::StreamExt;
use std::time::Duration;

const CODES: [&str; 3] = [
    "6901234567892",
    "https://trace.example.cn/t/0012345678?s=ab_c",
    "猪肉-批次42",
];

fn opts(codes: &[&str]) -> ScannerSimOptions {
    ScannerSimOptions {
        codes: codes.iter().map(|s| s.to_string()).collect(),
        interval: Duration::from_millis(5),
        ..Default::default()
    }
}

async fn read_n(
    p: ScannerProtocol,
    uri: &str,
    o: &ScannerOptions,
    n: usize,
) -> (Vec<String>, ScannerDriver) {
    let t: TransportConfig = uri.parse().unwrap();
    let mut d = ScannerDriver::connect(p, &t, o).await.unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(d.next_scan().await.unwrap().text);
    }
    (out, d)
}

#[tokio::test]
async fn both_protocols_over_tcp_and_pty() {
    for listen in ["tcp://127.0.0.1:0".parse().unwrap(), SimListen::Pty] {
        for (p, suffix) in [
            (ScannerProtocol::SerialLine, Suffix::Cr),
            (ScannerProtocol::SerialLine, Suffix::Lf),
            (ScannerProtocol::SerialLine, Suffix::CrLf),
            (ScannerProtocol::NewlandPack, Suffix::Cr),
        ] {
            let sim = run_scanner_sim(
                p,
                listen.clone(),
                ScannerSimOptions {
                    suffix,
                    ..opts(&CODES)
                },
            )
            .await
            .unwrap();
            let o = ScannerOptions {
                suffix,
                ..Default::default()
            };
            let (got, d) = read_n(p, sim.uri(), &o, 3).await;
            assert_eq!(got, CODES, "{p} {suffix:?} over {listen:?}");
            assert_eq!(d.decode_stats().bad_frames, 0);
        }
    }
}

#[tokio::test]
async fn suffixless_codes_end_on_the_inter_char_timeout() {
    let sim = run_scanner_sim(
        ScannerProtocol::SerialLine,
        "tcp://127.0.0.1:0".parse().unwrap(),
        ScannerSimOptions {
            suffix: Suffix::None,
            // Codes 300 ms apart, bytes 1 ms apart: the 80 ms timeout separates codes only.
            interval: Duration::from_millis(300),
            byte_delay: Duration::from_millis(1),
            ..opts(&CODES[..2])
        },
    )
    .await
    .unwrap();
    let o = ScannerOptions {
        suffix: Suffix::None,
        inter_char_timeout_ms: 80,
        ..Default::default()
    };
    let (got, _) = read_n(ScannerProtocol::SerialLine, sim.uri(), &o, 2).await;
    assert_eq!(got, &CODES[..2]);
}

#[tokio::test]
async fn noise_is_counted_and_aim_ids_name_the_symbology() {
    for p in [ScannerProtocol::SerialLine, ScannerProtocol::NewlandPack] {
        let sim = run_scanner_sim(
            p,
            "tcp://127.0.0.1:0".parse().unwrap(),
            ScannerSimOptions {
                garbage: true,
                aim: Some("]Q1".into()),
                newland_length: LengthField::BinaryU16,
                ..opts(&CODES)
            },
        )
        .await
        .unwrap();
        let o = ScannerOptions {
            aim_prefix: true,
            newland_length: LengthField::BinaryU16,
            ..Default::default()
        };
        let t: TransportConfig = sim.uri().parse().unwrap();
        let mut d = ScannerDriver::connect(p, &t, &o).await.unwrap();
        for want in CODES {
            let s = d.next_scan().await.unwrap();
            assert_eq!(s.text, want, "{p}");
            assert_eq!(s.symbology, Some(Symbology::Qr));
        }
        let st = d.decode_stats();
        assert!(st.bad_frames + st.skipped_bytes >= 3, "{p}: {st:?}");
    }
}

#[tokio::test]
async fn disconnect_mid_code_ends_the_stream_without_a_false_scan() {
    for listen in ["tcp://127.0.0.1:0".parse().unwrap(), SimListen::Pty] {
        for p in [ScannerProtocol::SerialLine, ScannerProtocol::NewlandPack] {
            let sim = run_scanner_sim(
                p,
                listen.clone(),
                ScannerSimOptions {
                    disconnect_after: Some(2),
                    ..opts(&CODES)
                },
            )
            .await
            .unwrap();
            let t: TransportConfig = sim.uri().parse().unwrap();
            let d = ScannerDriver::connect(p, &t, &ScannerOptions::default())
                .await
                .unwrap();
            let got: Vec<_> = scans(d).collect().await;
            let texts: Vec<_> = got
                .iter()
                .filter_map(|r| r.as_ref().ok().map(|s| s.text.clone()))
                .collect();
            assert_eq!(texts, &CODES[..2], "{p} over {listen:?}");
            assert!(matches!(got.last(), Some(Err(ScannerError::Disconnected))));
        }
    }
}

#[tokio::test]
async fn evdev_needs_an_evdev_transport() {
    let t: TransportConfig = "tcp://127.0.0.1:9".parse().unwrap();
    let e = ScannerDriver::connect(ScannerProtocol::Evdev, &t, &ScannerOptions::default())
        .await
        .err()
        .unwrap();
    assert!(matches!(e, ScannerError::WrongTransport { .. }));
    let t: TransportConfig = "evdev:///dev/input/baytrace-absent".parse().unwrap();
    let e = ScannerDriver::connect(ScannerProtocol::Evdev, &t, &ScannerOptions::default())
        .await
        .err()
        .unwrap();
    assert!(matches!(e, ScannerError::Io(_)), "{e:?}");
}
