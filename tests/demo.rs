//! End-to-end: `baytrace demo` as a person runs it. The real binary starts the embedded broker,
//! the cloud, the simulated stall box with its scale and printer on free ports; each sale ends
//! as a receipt PNG whose QR, decoded with a real QR decoder, is the trace URL of a ticket that
//! is in the box's ledger, the ledger's chain verifies, and the box's sync client has carried
//! the sale to the cloud's store, where the trace page looks it up.

use edge_daemon::ledger::{Ledger, LedgerOptions};
use std::path::Path;
use std::process::Command;
use trace_core::TicketCode;

fn decode_qr(png: &Path) -> String {
    let img = image::open(png).expect("receipt PNG opens").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR on the receipt {}", png.display());
    grids[0].decode().expect("QR decodes").1
}

/// One HTTP/1.1 request on a fresh connection; (status, body).
fn http(base: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, raw)
}

#[test]
fn demo_sells_and_prints_receipts_whose_qr_is_the_trace_url() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ports_file = dir.path().join("ports.json");
    let child = Command::new(env!("CARGO_BIN_EXE_baytrace"))
        .args(["demo", "--sale-every", "1", "--sales", "2", "--data-dir"])
        .arg(&data)
        .arg("--ports-file")
        .arg(&ports_file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("baytrace runs");
    // While it runs (the ports file comes before the first sale, a second before the last):
    // the line screen answers with its page, and its login works with the demo's PIN.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !ports_file.exists() {
        assert!(std::time::Instant::now() < deadline, "no ports file");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let running: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ports_file).unwrap()).unwrap();
    let line_ui = running["line_ui"]
        .as_str()
        .expect("the line screen is served")
        .to_owned();
    let (status, page) = http(&line_ui, "GET", "/", "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("/line.js"), "{page}");
    let (status, body) = http(&line_ui, "POST", "/api/login", r#"{"pin":"6666"}"#);
    assert_eq!(status, 200, "{body}");
    let out = child.wait_with_output().expect("baytrace runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let ports: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ports_file).unwrap()).unwrap();
    for key in [
        "cloud_http",
        "mqtt",
        "stall_ui",
        "stall_db",
        "printer_out",
        "line_ui",
        "line_db",
        "line_config",
        "coder_log",
    ] {
        assert!(ports.get(key).is_some(), "ports file has {key}: {ports}");
    }
    let cloud = ports["cloud_http"].as_str().unwrap();
    let ui = ports["stall_ui"].as_str().expect("the stall UI is served");
    assert!(
        ui.starts_with("http://127.0.0.1:") && !ui.contains(":0/"),
        "{ui}"
    );
    assert!(cloud.starts_with("http://127.0.0.1:"), "{cloud}");
    assert!(
        !cloud.ends_with(":8080") && !cloud.ends_with(":0"),
        "a free port was taken: {cloud}"
    );

    // Two receipts, each QR the trace URL of a ticket in the ledger.
    let printer_out = Path::new(ports["printer_out"].as_str().unwrap());
    let db = Path::new(ports["stall_db"].as_str().unwrap());
    let ledger = Ledger::open(db, &LedgerOptions::default()).unwrap();
    let mut codes: Vec<String> = Vec::new();
    for i in 1..=2 {
        let png = printer_out.join(format!("receipt-{i:04}.png"));
        let url = decode_qr(&png);
        let code = url
            .strip_prefix(&format!("{cloud}/t/"))
            .unwrap_or_else(|| panic!("QR {url} is not a trace URL on {cloud}"));
        // After `#`: the signed copy of the lines (for the buyer's box, never sent to a server).
        let (code, fragment) = code
            .split_once('#')
            .unwrap_or_else(|| panic!("QR {url} carries no signed fragment"));
        assert!(fragment.len() > 100, "{url}");
        let code = TicketCode::parse(code).expect("a valid ticket code");
        assert!(
            ledger.ticket_seq(&code.to_string()).unwrap().is_some(),
            "ticket {code} of receipt {i} is in the ledger"
        );
        assert!(
            stdout.contains(&code.to_string()),
            "the demo printed the link for {code}"
        );
        codes.push(code.to_string());
    }
    assert_eq!(codes.len(), 2);
    let report = ledger.verify().unwrap();
    assert!(report.first_bad.is_none(), "ledger verifies: {report:?}");

    // The factory line printed codes, none twice, each the template's code for the demo batch
    // (decoded with the box's key), and its batch reconciles with the print log.
    let log = std::fs::read_to_string(ports["coder_log"].as_str().unwrap()).unwrap();
    let printed: Vec<&str> = log.lines().collect();
    assert!(!printed.is_empty(), "the coder printed nothing");
    let distinct: std::collections::HashSet<&&str> = printed.iter().collect();
    assert_eq!(distinct.len(), printed.len(), "a code was printed twice");
    let line_cfg =
        edge_daemon::config::EdgeConfig::load(Path::new(ports["line_config"].as_str().unwrap()))
            .unwrap();
    let keys = edge_daemon::keys::DeviceKeys::read(
        &line_cfg.signing_key_path(),
        &line_cfg.ticket_key_path(),
    )
    .unwrap();
    let line_ledger = Ledger::open(&line_cfg.ledger_path(), &LedgerOptions::default()).unwrap();
    let directory =
        edge_daemon::codes::CodeDirectory::new(line_ledger.device().clone(), keys.ticket_key);
    for code in &printed {
        assert!(code.starts_with("https://trace.example.cn/c/"), "{code}");
        let info = directory
            .accept(&line_ledger, code)
            .unwrap_or_else(|e| panic!("printed code {code}: {e}"));
        assert_eq!(info.batch.as_deref(), Some("B-DEMO-0001"), "{code}");
        assert_eq!(info.template, "milk-250ml-unit");
    }
    let line_db = Path::new(ports["line_db"].as_str().unwrap());
    let r = edge_daemon::line::LineStore::open(line_db)
        .unwrap()
        .reconcile("B-DEMO-0001")
        .unwrap();
    assert_eq!(r.encoded, printed.len() as u64, "{r:?}");
    assert_eq!(r.allocated, r.encoded + r.scrapped + r.unused, "{r:?}");

    // The demo waits for each sale's ack before the next; both reached the cloud's store.
    assert_eq!(stdout.matches("synced to the cloud").count(), 2, "{stdout}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = cloud_sync::SqliteStore::open(cloud_sync::SqliteConfig::new(
        data.canonicalize()
            .unwrap()
            .join("cloud")
            .join("cloud.sqlite"),
    ))
    .expect("the cloud store opens");
    for code in codes {
        let view = rt
            .block_on(cloud_sync::CloudStore::ticket(&store, code.as_str()))
            .unwrap();
        let view = view.unwrap_or_else(|| panic!("ticket {code} is in the cloud's store"));
        assert_eq!(view.lines.len(), 1, "{view:?}");
    }
}
