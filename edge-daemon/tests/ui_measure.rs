//! Measurements for the notes (issue 5 targets), printed, never asserted:
//! - tap on 打印 (the HTTP request leaving the page) → last receipt byte at the printer
//!   simulator (its cut), p50/p99, beside the baseline of sending the same receipt bytes
//!   straight to the printer (no UI, no ledger) in the same run;
//! - page load on the box (index, app.js, app.css, catalogue, boot data), p50/p99, beside the
//!   baseline of the catalogue request alone;
//! - RSS of `baytrace-edge run` with the UI, scale + printer devices and sync to a Mosquitto.
//!
//! Run: `cargo test --workspace --test ui_measure -- --nocapture` (`BT_EDGE_BIN=target/release/baytrace-edge`
//! to measure a release build's RSS).

mod ui_support;

use device_drivers::printer::{EscPosPrinter, PaperWidth, PrinterConfig};
use std::time::{Duration, Instant};
use ui_support::*;

/// The `permille`th per-mille value (nearest rank).
fn pct(v: &mut [Duration], permille: usize) -> Duration {
    v.sort();
    v[((v.len() - 1) * permille).div_ceil(1000)]
}

fn ms(d: Duration) -> String {
    let us = d.as_micros();
    format!("{}.{} ms", us / 1000, (us % 1000) / 100)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measure_print_latency_and_page_load() {
    const N: usize = 40;
    let stall = start_box(BoxSetup::default()).await;
    let cookie = login_cookie(&stall.base, STAFF_PIN).await;
    let mut tap = Vec::with_capacity(N);
    let mut direct = Vec::with_capacity(N);
    for i in 0..N {
        let mut rx = stall.printer.subscribe();
        let t0 = Instant::now();
        let (s, v) = post_json(
            &stall.base,
            "/api/sale",
            &cookie,
            serde_json::json!({"lines": [{"product": "猪肉", "grams": 500 + i}], "payment": "cash"}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let r = next_printed(&mut rx).await.expect("printed");
        tap.push(r.cut_at.duration_since(t0));
        // Baseline: this very receipt's bytes, straight to the printer.
        let bytes = std::fs::read(&r.bin_path).unwrap();
        let mut rx = stall.printer.subscribe();
        let t0 = Instant::now();
        let uri = printer_uri(&stall);
        let mut p = EscPosPrinter::new(
            uri.open().await.unwrap(),
            PrinterConfig::new(PaperWidth::Mm80),
        );
        p.print_job(&bytes).await.unwrap();
        let r = next_printed(&mut rx).await.expect("printed");
        direct.push(r.cut_at.duration_since(t0));
    }
    let mut page = Vec::with_capacity(N);
    let mut cat = Vec::with_capacity(N);
    for _ in 0..N {
        let t0 = Instant::now();
        for path in ["/", "/app.js", "/app.css", "/api/i18n/zh-CN", "/api/boot"] {
            let (s, _, _) = http(&stall.base, "GET", path, Some(&cookie), "text/plain", b"").await;
            assert_eq!(s, 200, "{path}");
        }
        page.push(t0.elapsed());
        let t0 = Instant::now();
        let (s, _, _) = http(
            &stall.base,
            "GET",
            "/api/i18n/zh-CN",
            None,
            "text/plain",
            b"",
        )
        .await;
        assert_eq!(s, 200);
        cat.push(t0.elapsed());
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("MEASURE load average: {}", load.trim());
    println!(
        "MEASURE tap→last receipt byte ({N} sales, ledger fsync + sign + render + print): p50 {} p99 {}",
        ms(pct(&mut tap.clone(), 500)),
        ms(pct(&mut tap, 990))
    );
    println!(
        "MEASURE baseline same bytes straight to the printer: p50 {} p99 {}",
        ms(pct(&mut direct.clone(), 500)),
        ms(pct(&mut direct, 990))
    );
    println!(
        "MEASURE page load (5 requests): p50 {} p99 {}",
        ms(pct(&mut page.clone(), 500)),
        ms(pct(&mut page, 990))
    );
    println!(
        "MEASURE baseline one small request: p50 {} p99 {}",
        ms(pct(&mut cat.clone(), 500)),
        ms(pct(&mut cat, 990))
    );
    assert_eq!(stall.count("sale_ticket"), N as i64);
    stall.stop().await;
}

fn printer_uri(stall: &StallBox) -> device_drivers::transport::TransportConfig {
    stall.printer_uri.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measure_rss_of_the_box_with_ui_devices_and_sync() {
    use device_drivers::manager::{DeviceConfig, ExternalDeviceConfig, ScaleDeviceConfig};
    use std::io::BufRead;
    // BT_EDGE_BIN measures another build of the box (a release binary is what ships; the
    // test's own is a debug build, larger and slower).
    let bin = std::env::var("BT_EDGE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_baytrace-edge").to_owned());
    assert!(
        std::path::Path::new("/usr/sbin/mosquitto").exists(),
        "mosquitto is missing (scripts/test installs it)"
    );
    let d = tempfile::tempdir().unwrap();
    // Mosquitto on a free port, as the box's broker.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = d.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\n"),
    )
    .unwrap();
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _broker = Reap(
        std::process::Command::new("/usr/sbin/mosquitto")
            .args(["-c", conf.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Simulated devices, in this process.
    let stall = start_box(BoxSetup::default()).await;
    stall.scale.update(|s| s.weight_grams = 640);
    let dir = d.path().join("box");
    let o = std::process::Command::new(&bin)
        .args([
            "init",
            "--dir",
            dir.to_str().unwrap(),
            "--device",
            "stall-rss-01",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let cfg = dir.join("edge.toml");
    let mut t: toml::Table = std::fs::read_to_string(&cfg).unwrap().parse().unwrap();
    let sync = t.get_mut("sync").and_then(|u| u.as_table_mut()).unwrap();
    sync.insert("enabled".into(), true.into());
    sync.insert("broker".into(), format!("mqtt://127.0.0.1:{port}").into());
    let ui = t.get_mut("ui").and_then(|u| u.as_table_mut()).unwrap();
    ui.insert("listen".into(), "127.0.0.1:0".into());
    ui.insert("device_no".into(), 440_198.into());
    ui.insert("users".into(), toml::Value::try_from(users()).unwrap());
    ui.insert(
        "products".into(),
        toml::Value::try_from(products()).unwrap(),
    );
    let devices = vec![
        DeviceConfig::ToledoContinuous(ScaleDeviceConfig {
            name: "scale".into(),
            connect: stall.scale.uri().parse().unwrap(),
            poll_interval_ms: 500,
            options: Default::default(),
        }),
        DeviceConfig::Escpos(ExternalDeviceConfig {
            name: "printer".into(),
            connect: stall.printer_uri.parse().unwrap(),
            options: serde_json::json!({}),
        }),
    ];
    ui.insert("devices".into(), toml::Value::try_from(devices).unwrap());
    std::fs::write(&cfg, toml::to_string(&t).unwrap()).unwrap();
    let mut child = Reap(
        std::process::Command::new(&bin)
            .args(["run", "--config", cfg.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let err = child.0.stderr.take().unwrap();
    let base = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(err).lines();
        for l in lines.by_ref() {
            let l = l.unwrap();
            if let Some(i) = l.find("url=http://") {
                let url = l[i + 4..].split_whitespace().next().unwrap().to_owned();
                std::thread::spawn(move || for _ in lines {});
                return url.trim_end_matches('/').to_owned();
            }
        }
        panic!("the box exited");
    })
    .await
    .unwrap();
    let cookie = login_cookie(&base, OWNER_PIN).await;
    for i in 0..30 {
        let (s, v) = post_json(
            &base,
            "/api/sale",
            &cookie,
            serde_json::json!({"lines": [{"product": "菜心", "grams": 300 + i}], "payment": "cash"}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let (s, _, _) = http(&base, "GET", "/", None, "text/plain", b"").await;
        assert_eq!(s, 200);
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.0.id())).unwrap();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap_or("VmRSS: ?")
        .to_owned();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?")
        .to_owned();
    println!(
        "MEASURE {bin} run (UI + scale + printer + sync to Mosquitto, 30 sales): {rss}, peak {hwm}"
    );
    drop(child);
    stall.stop().await;
}
