//! Print latency on the TCP printer simulator: from the print call to the moment the simulator
//! has decoded the job's last byte (the cut), for a typical receipt with a QR code.
//!
//! Run: `cargo bench -p device-drivers --bench printer_latency` (prints p50 / p99 / max).
//! Two figures: `print` = build the receipt bytes + write them (no status exchange);
//! `print_receipt` = status before, job, status after, until the call returns (what the stall
//! workflow waits for). The simulator does not draw PNGs here; drawing is not the printer's
//! latency.

use device_drivers::printer::sim::{PrinterSim, PrinterSimEvent, PrinterSimOptions};
use device_drivers::printer::{
    EscPosPrinter, PaperWidth, PrinterConfig, QrMode, ReceiptPrinter, render_receipt, test_receipt,
};
use std::time::{Duration, Instant};

const N: usize = 1000;
const WARMUP: usize = 50;

fn report(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let p = |q: usize| v[(v.len() * q / 100).min(v.len() - 1)];
    println!(
        "{name:<28} n={:<5} p50={:>8.3?} p99={:>8.3?} max={:>8.3?}",
        v.len(),
        p(50),
        p(99),
        v[v.len() - 1]
    );
}

async fn run(width: PaperWidth, qr: QrMode) {
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = PrinterSimOptions {
        width,
        render_png: false,
        ..Default::default()
    };
    let sim = PrinterSim::bind(
        &"tcp://127.0.0.1:0".parse().expect("uri"),
        dir.path().into(),
        opts,
    )
    .await
    .expect("bind");
    let uri = sim.uri().expect("uri");
    let mut events = sim.handle().subscribe();
    tokio::spawn(sim.run());
    let stream = tokio::net::TcpStream::connect(uri.trim_start_matches("tcp://"))
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut config = PrinterConfig::new(width);
    config.style.qr_mode = qr;
    let mut printer = EscPosPrinter::new(stream, config);
    let receipt = test_receipt(
        "https://trace.example.cn/t/4407011234567890#v1",
        "2026-11-22 11:50",
    );

    let mut cut = Vec::with_capacity(N);
    let mut build = Vec::with_capacity(N);
    let mut bytes_len = 0;
    for i in 0..WARMUP + N {
        let t0 = Instant::now();
        let bytes = render_receipt(&receipt, &config.style).expect("render");
        let built = t0.elapsed();
        bytes_len = bytes.len();
        printer.print(&bytes).await.expect("print");
        let r = loop {
            if let PrinterSimEvent::Printed(r) = events.recv().await.expect("event") {
                break r;
            }
        };
        if i >= WARMUP {
            cut.push(r.cut_at.duration_since(t0));
            build.push(built);
        }
    }
    let mut full = Vec::with_capacity(N);
    for i in 0..WARMUP + N {
        let t0 = Instant::now();
        let out = printer
            .print_receipt(&receipt)
            .await
            .expect("print_receipt");
        let done = t0.elapsed();
        assert!(out.printed());
        loop {
            if let PrinterSimEvent::Printed(_) = events.recv().await.expect("event") {
                break;
            }
        }
        if i >= WARMUP {
            full.push(done);
        }
    }
    println!("{width:?} {qr:?}: receipt is {bytes_len} bytes");
    report("  build bytes", build);
    report("  print -> last byte at sim", cut);
    report("  print_receipt (2 status)", full);
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
            for qr in [QrMode::Native, QrMode::Raster] {
                run(width, qr).await;
            }
        }
    });
}
