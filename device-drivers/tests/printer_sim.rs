//! The ESC/POS driver against the printer simulator, over loopback TCP and a pty pair.
//!
//! The key test: `print_test` sent to the simulator produces a PNG whose QR, decoded by a real
//! QR decoder (rqrr) from the file, is exactly the URL that was sent — for the native `GS ( k`
//! QR and the `GS v 0` raster fallback, on 58 mm and 80 mm paper.
//!
//! Needs a CJK font for the Chinese-rendering test: `apt-get install fonts-wqy-zenhei`.
#![cfg(feature = "sim")]

use device_drivers::printer::sim::font::CjkFont;
use device_drivers::printer::sim::{
    PrinterSim, PrinterSimEvent, PrinterSimHandle, PrinterSimOptions, SimReceipt, SlowConsumption,
};
use device_drivers::printer::{
    EscPosPrinter, PaperWidth, PrintOutcome, PrinterConfig, PrinterErrorKind, PrinterStatus,
    QrMode, ReceiptPrinter, print_test, render_receipt, test_receipt,
};
use device_drivers::sim::SimListen;
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::broadcast;

const URL: &str = "https://trace.example.cn/t/4407011234567890#v1";

struct Running {
    uri: String,
    handle: PrinterSimHandle,
    events: broadcast::Receiver<PrinterSimEvent>,
    _task: tokio::task::JoinHandle<()>,
}

async fn start(listen: &str, dir: &Path, opts: PrinterSimOptions) -> Running {
    let listen: SimListen = listen.parse().unwrap();
    let sim = PrinterSim::bind(&listen, dir.to_owned(), opts)
        .await
        .unwrap();
    let uri = sim.uri().unwrap();
    let handle = sim.handle();
    let events = handle.subscribe();
    let task = tokio::spawn(async move {
        sim.run().await.unwrap();
    });
    Running {
        uri,
        handle,
        events,
        _task: task,
    }
}

async fn tcp(uri: &str) -> TcpStream {
    TcpStream::connect(uri.strip_prefix("tcp://").unwrap())
        .await
        .unwrap()
}

/// The next event that is not `Connected`.
async fn next_event(rx: &mut broadcast::Receiver<PrinterSimEvent>) -> PrinterSimEvent {
    loop {
        match rx.recv().await.unwrap() {
            PrinterSimEvent::Connected => continue,
            e => return e,
        }
    }
}

async fn next_receipt(rx: &mut broadcast::Receiver<PrinterSimEvent>) -> SimReceipt {
    match next_event(rx).await {
        PrinterSimEvent::Printed(r) => r,
        other => panic!("expected a printed receipt, got {other:?}"),
    }
}

fn decode_qr_from_png(path: &Path) -> Vec<String> {
    let img = image::open(path).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .map(|g| g.decode().expect("a QR grid that does not decode").1)
        .collect()
}

async fn print_test_round_trip(width: PaperWidth, qr: QrMode) {
    let dir = tempfile::tempdir().unwrap();
    let opts = PrinterSimOptions {
        width,
        ..Default::default()
    };
    let mut sim = start("tcp://127.0.0.1:0", dir.path(), opts).await;
    let report = print_test(tcp(&sim.uri).await, width, URL, qr)
        .await
        .unwrap();
    assert!(report.outcome.printed(), "{report:?}");
    let r = next_receipt(&mut sim.events).await;
    let png = r.png_path.as_ref().unwrap();
    assert!(png.exists() && r.bin_path.exists());
    assert_eq!(std::fs::read(&r.bin_path).unwrap().len(), r.bytes);
    assert_eq!(
        decode_qr_from_png(png),
        vec![URL.to_string()],
        "{width:?} {qr:?}"
    );
    match qr {
        QrMode::Native => assert_eq!(r.qr_payloads, vec![URL.as_bytes().to_vec()]),
        QrMode::Raster => assert_eq!((r.qr_payloads.len(), r.rasters), (0, 1)),
    }
    assert!(r.text.iter().any(|l| l.contains("鲜猪肉")), "{:?}", r.text);
    let img = image::open(png).unwrap();
    assert_eq!(img.width() as usize, width.dots() + 32);
}

#[tokio::test]
async fn print_test_native_qr_58_decodes_from_png() {
    print_test_round_trip(PaperWidth::Mm58, QrMode::Native).await;
}

#[tokio::test]
async fn print_test_native_qr_80_decodes_from_png() {
    print_test_round_trip(PaperWidth::Mm80, QrMode::Native).await;
}

#[tokio::test]
async fn print_test_raster_qr_58_decodes_from_png() {
    print_test_round_trip(PaperWidth::Mm58, QrMode::Raster).await;
}

#[tokio::test]
async fn print_test_raster_qr_80_decodes_from_png() {
    print_test_round_trip(PaperWidth::Mm80, QrMode::Raster).await;
}

#[test]
fn a_cjk_font_is_installed() {
    let f = CjkFont::find_system()
        .expect("no CJK font under /usr/share/fonts: apt-get install fonts-wqy-zenhei");
    assert!(f.path().exists());
}

#[tokio::test]
async fn driver_over_a_pty_pair() {
    let dir = tempfile::tempdir().unwrap();
    let opts = PrinterSimOptions {
        width: PaperWidth::Mm58,
        ..Default::default()
    };
    let mut sim = start("pty://", dir.path(), opts).await;
    let path = sim.uri.strip_prefix("serial://").unwrap().to_string();
    let port = tokio_serial::SerialStream::open(&tokio_serial::new(&path, 115_200)).unwrap();
    let mut p = EscPosPrinter::new(port, PrinterConfig::new(PaperWidth::Mm58));
    assert_eq!(p.status().await.unwrap(), PrinterStatus::default());
    let mut receipt = test_receipt(URL, "2026-11-22 11:50");
    receipt.reprint = true;
    assert!(p.print_receipt(&receipt).await.unwrap().printed());
    let r = next_receipt(&mut sim.events).await;
    assert!(r.text.iter().any(|l| l.contains("补打")));
    assert_eq!(
        decode_qr_from_png(r.png_path.as_ref().unwrap()),
        vec![URL.to_string()]
    );
    // The raw file holds exactly what was sent for the job (after the first status exchange).
    let job = render_receipt(&receipt, &p.config().style).unwrap();
    let bin = std::fs::read(&r.bin_path).unwrap();
    assert!(bin.ends_with(&job), "the .bin ends with the job bytes");
    // Raster data is arbitrary binary (XON/XOFF, NUL, 0xFF…): the pty must carry it untouched.
    let mut style = p.config().style;
    style.qr_mode = QrMode::Raster;
    let raster_job = render_receipt(&receipt, &style).unwrap();
    assert!(p.print_job(&raster_job).await.unwrap().printed());
    let r = next_receipt(&mut sim.events).await;
    assert_eq!(r.rasters, 1);
    assert_eq!(
        decode_qr_from_png(r.png_path.as_ref().unwrap()),
        vec![URL.to_string()]
    );
    // Closing the port is the end of the stream for the simulator (EIO on the pty master).
    drop(p);
    match next_event(&mut sim.events).await {
        PrinterSimEvent::Disconnected { mid_job, .. } => assert!(!mid_job),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn paper_out_cover_open_offline_are_values_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = start(
        "tcp://127.0.0.1:0",
        dir.path(),
        PrinterSimOptions::default(),
    )
    .await;
    let mut p = EscPosPrinter::new(tcp(&sim.uri).await, PrinterConfig::new(PaperWidth::Mm80));
    let receipt = test_receipt(URL, "x");
    let cases = [
        PrinterStatus {
            paper_out: true,
            ..Default::default()
        },
        PrinterStatus {
            cover_open: true,
            ..Default::default()
        },
        PrinterStatus {
            offline: true,
            ..Default::default()
        },
    ];
    for state in cases {
        sim.handle.set_state(state);
        let out = p.print_receipt(&receipt).await.unwrap();
        let PrintOutcome::NotSent(s) = out else {
            panic!("{state:?}: {out:?}");
        };
        assert!(!s.ready());
        assert_eq!(s.paper_out, state.paper_out);
        assert_eq!(s.cover_open, state.cover_open);
    }
    // Paper near end still prints, and says so.
    let near = PrinterStatus {
        paper_near_end: true,
        ..Default::default()
    };
    sim.handle.set_state(near);
    let out = p.print_receipt(&receipt).await.unwrap();
    assert!(matches!(out, PrintOutcome::Printed(s) if s.paper_near_end));
    let r = next_receipt(&mut sim.events).await;
    assert_eq!(r.index, 1, "none of the refused jobs reached the paper");

    // Bytes pushed at a printer without paper are not printed.
    sim.handle.set_state(cases[0]);
    p.print(&render_receipt(&receipt, &p.config().style).unwrap())
        .await
        .unwrap();
    match next_event(&mut sim.events).await {
        PrinterSimEvent::NotPrinted { status, bytes } => assert!(status.paper_out && bytes > 100),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn disconnect_mid_job_is_a_transport_error() {
    let dir = tempfile::tempdir().unwrap();
    let opts = PrinterSimOptions {
        disconnect_after_bytes: Some(12 + 200),
        ..Default::default()
    };
    let mut sim = start("tcp://127.0.0.1:0", dir.path(), opts).await;
    let mut p = EscPosPrinter::new(tcp(&sim.uri).await, PrinterConfig::new(PaperWidth::Mm80));
    let e = p.print_receipt(&test_receipt(URL, "x")).await.unwrap_err();
    assert_eq!(e.kind(), PrinterErrorKind::Transport, "{e}");
    match next_event(&mut sim.events).await {
        PrinterSimEvent::Disconnected {
            bytes_received,
            mid_job,
            ..
        } => {
            assert_eq!(bytes_received, 212);
            assert!(mid_job);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no receipt written"
    );
}

#[tokio::test]
async fn silent_printer_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let opts = PrinterSimOptions {
        mute_status: true,
        ..Default::default()
    };
    let sim = start("tcp://127.0.0.1:0", dir.path(), opts).await;
    let mut config = PrinterConfig::new(PaperWidth::Mm80);
    config.status_timeout = Duration::from_millis(200);
    let mut p = EscPosPrinter::new(tcp(&sim.uri).await, config);
    assert_eq!(
        p.status().await.unwrap_err().kind(),
        PrinterErrorKind::Timeout
    );
}

#[tokio::test]
async fn slow_printer_still_gets_the_whole_job() {
    let dir = tempfile::tempdir().unwrap();
    let opts = PrinterSimOptions {
        slow: Some(SlowConsumption {
            bytes: 64,
            every: Duration::from_millis(1),
        }),
        render_png: false,
        ..Default::default()
    };
    let mut sim = start("tcp://127.0.0.1:0", dir.path(), opts).await;
    let mut p = EscPosPrinter::new(tcp(&sim.uri).await, PrinterConfig::new(PaperWidth::Mm80));
    let receipt = test_receipt(URL, "x");
    assert!(p.print_receipt(&receipt).await.unwrap().printed());
    let r = next_receipt(&mut sim.events).await;
    assert_eq!(r.qr_payloads, vec![URL.as_bytes().to_vec()]);
    assert!(r.png_path.is_none());
    let job = render_receipt(&receipt, &p.config().style).unwrap();
    assert_eq!(r.bytes, 12 + job.len(), "status request + the job");
}

#[tokio::test]
async fn garbage_before_and_between_jobs_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = start(
        "tcp://127.0.0.1:0",
        dir.path(),
        PrinterSimOptions::default(),
    )
    .await;
    let receipt = test_receipt(URL, "x");
    let job = render_receipt(
        &receipt,
        &device_drivers::printer::ReceiptStyle::new(PaperWidth::Mm80),
    )
    .unwrap();
    let mut s = tcp(&sim.uri).await;
    let mut stream = vec![0x00, 0x07, 0x1b, 0x07, 0x1d, 0xfe, 0x7f];
    stream.extend_from_slice(&job);
    stream.extend_from_slice(&[0x1c, 0x99, 0x10, 0x04, 0x09]);
    stream.extend_from_slice(&job);
    for chunk in stream.chunks(97) {
        s.write_all(chunk).await.unwrap();
    }
    for _ in 0..2 {
        let r = next_receipt(&mut sim.events).await;
        assert_eq!(r.qr_payloads, vec![URL.as_bytes().to_vec()]);
        assert!(r.text.iter().any(|l| l.contains("合计")));
    }
    drop(s);
    match next_event(&mut sim.events).await {
        PrinterSimEvent::Disconnected {
            unknown_bytes,
            mid_job,
            ..
        } => {
            assert_eq!(unknown_bytes, 1 + 1 + 2 + 2 + 1 + 2 + 3);
            assert!(!mid_job);
        }
        other => panic!("{other:?}"),
    }
}
