//! Shared fixtures for the stall UI tests: a box with a real ledger file, the simulated scale,
//! printer and scanner on loopback TCP, the UI served in-process on port 0, real headless
//! Chromium through chromedriver, and a tiny HTTP client for API-level checks.
#![allow(dead_code)]

use device_drivers::manager::{
    DeviceConfig, ExternalDeviceConfig, ScaleDeviceConfig, ScannerDeviceConfig,
};
use device_drivers::printer::sim::{
    PrinterSim, PrinterSimEvent, PrinterSimHandle, PrinterSimOptions, SimReceipt,
};
use device_drivers::scale::ScaleProtocol;
use device_drivers::scale::sim::{ScaleSim, ScaleSimOptions, run_scale_sim};
use device_drivers::scanner::ScannerProtocol;
use device_drivers::scanner::sim::{ScannerSim, ScannerSimOptions, run_scanner_sim};
use device_drivers::sim::SimListen;
use edge_daemon::config::UiConfig;
use edge_daemon::ledger::{Ledger, LedgerOptions, LedgerWriter, WriterOptions};
use edge_daemon::stall::Product;
use edge_daemon::ui::{Role, UiOptions, UiServer, UiUser};
use fantoccini::{Client, ClientBuilder, Locator};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;
use trace_core::event::{Certificate, CertificateKind, Purchase};
use trace_core::fragment::KeyDirectory;
use trace_core::wire::sign::SignKey;
use trace_core::{DeviceId, EntryDraft, Event, Fen, Grams, HashAlg, PriceUnit, TicketCodec};

pub const OWNER_PIN: &str = "2468";
pub const STAFF_PIN: &str = "1357";
pub const PUBLIC_BASE: &str = "https://trace.example.cn";

pub fn products() -> Vec<Product> {
    vec![
        Product {
            name: "猪肉".into(),
            price_fen: 1_680,
            unit: PriceUnit::Jin,
            plu: Some(1),
            code: Some("0101".into()),
            origin: Some("广东省江门市".into()),
        },
        Product {
            name: "菜心".into(),
            price_fen: 450,
            unit: PriceUnit::Jin,
            plu: Some(2),
            code: None,
            origin: None,
        },
        Product {
            name: "鸡蛋".into(),
            price_fen: 90,
            unit: PriceUnit::Item,
            plu: None,
            code: None,
            origin: None,
        },
        Product {
            name: "草鱼".into(),
            price_fen: 1_150,
            unit: PriceUnit::Kg,
            plu: Some(4),
            code: None,
            origin: None,
        },
    ]
}

pub fn users() -> Vec<UiUser> {
    vec![
        UiUser {
            name: "陈老板".into(),
            role: Role::Owner,
            pin: None,
            pin_hash: Some(edge_daemon::ui::pins::hash_pin(OWNER_PIN).unwrap()),
        },
        UiUser {
            name: "阿明".into(),
            role: Role::Staff,
            pin: Some(STAFF_PIN.into()),
            pin_hash: None,
        },
    ]
}

#[derive(Default)]
pub struct BoxSetup {
    /// Codes the simulated scanner sends, repeating, one every `scan_every`.
    pub scans: Vec<String>,
    pub scan_every: Option<Duration>,
    pub key_directory: Option<KeyDirectory>,
    pub max_photo_kb: Option<u64>,
    /// Downlink documents applied (as the sync client would) before the UI starts.
    pub downlinks: Vec<trace_core::DownlinkDoc>,
    /// A Dahua TM label scale simulator to push PLU keys to.
    pub dahua: bool,
}

pub struct StallBox {
    pub dir: tempfile::TempDir,
    pub device: DeviceId,
    pub server: Option<UiServer>,
    pub writer: Option<LedgerWriter>,
    pub scale: ScaleSim,
    pub printer: PrinterSimHandle,
    pub printer_out: PathBuf,
    pub printer_uri: String,
    pub scanner: Option<ScannerSim>,
    pub dahua: Option<ScaleSim>,
    pub base: String,
    pub opts: UiOptions,
    printer_task: tokio::task::JoinHandle<()>,
}

impl StallBox {
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("ledger.sqlite3")
    }

    /// A read connection on the ledger file, as another process would open it.
    pub fn read(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).unwrap()
    }

    pub fn head(&self) -> i64 {
        self.read()
            .query_row("SELECT seq FROM head", [], |r| r.get(0))
            .unwrap()
    }

    pub fn count(&self, kind: &str) -> i64 {
        self.read()
            .query_row(
                "SELECT COUNT(*) FROM entries WHERE kind = ?1",
                [kind],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Stop the UI and the writer, reopen the ledger file and serve again (a restart of the
    /// box, same data directory). The base URL changes.
    pub async fn restart(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
        if let Some(w) = self.writer.take() {
            tokio::task::spawn_blocking(move || w.shutdown().unwrap())
                .await
                .unwrap();
        }
        let ledger = Ledger::open(&self.db(), &LedgerOptions::default()).unwrap();
        let writer = LedgerWriter::spawn(ledger, WriterOptions::default()).unwrap();
        let server = edge_daemon::ui::start(self.opts.clone(), writer.handle())
            .await
            .unwrap();
        self.base = format!("http://{}", server.addr);
        self.server = Some(server);
        self.writer = Some(writer);
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
        if let Some(w) = self.writer.take() {
            tokio::task::spawn_blocking(move || w.shutdown().unwrap())
                .await
                .unwrap();
        }
        self.printer_task.abort();
    }
}

/// The box a seller upstream would be: its key and device id, for signing receipts.
pub fn upstream_key() -> (DeviceId, SignKey, TicketCodec) {
    (
        DeviceId::new("wholesale-b07").unwrap(),
        SignKey::ed25519_from_seed(&[42u8; 32]),
        TicketCodec::new(440_107, &[7u8; 32]).unwrap(),
    )
}

pub async fn start_box(setup: BoxSetup) -> StallBox {
    let dir = tempfile::tempdir().unwrap();
    let device = DeviceId::new("stall-test-a01").unwrap();
    let db = dir.path().join("ledger.sqlite3");
    let mut ledger = Ledger::create(
        &db,
        device.clone(),
        HashAlg::Sha256,
        &LedgerOptions::default(),
    )
    .unwrap();
    // Yesterday's delivery of pork: the FIFO batch every pork sale comes from.
    ledger
        .append(EntryDraft::new(Event::Purchase(Purchase {
            supplier: "江南批发 12 号档".into(),
            product: "猪肉".into(),
            batch: "JN-20261121-007".into(),
            grams: Some(Grams(50_000)),
            count: None,
            amount: Fen(117_600),
            origin: Some("广东省江门市台山市".into()),
            upstream_code: None,
            origin_code: None,
            supplier_party: None,
            product_code: None,
            unit_price: None,
            price_unit: None,
            plate_number: Some("粤A·D3100".into()),
            vouchers: Vec::new(),
            certificates: vec![Certificate {
                kind: CertificateKind::ComplianceCertificate,
                number: "HGZ-4401-2026-001200".into(),
                issuer: None,
                photo: None,
            }],
        })))
        .unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    if let Some(kd) = &setup.key_directory {
        // As the sync client keeps a downlink document.
        let doc = trace_core::DownlinkDoc::new(
            trace_core::wire::DocType::KeyDirectory,
            1,
            serde_json::to_value(kd).unwrap(),
        );
        std::fs::write(
            docs.join("key_directory.json"),
            serde_json::to_vec(&doc).unwrap(),
        )
        .unwrap();
    }
    for doc in &setup.downlinks {
        let applied = edge_daemon::sync::apply_downlink(
            &mut ledger,
            &docs,
            &serde_json::to_vec(doc).unwrap(),
        )
        .unwrap();
        assert!(applied, "downlink {doc:?} not applied");
    }
    let writer = LedgerWriter::spawn(ledger, WriterOptions::default()).unwrap();

    let scale = run_scale_sim(
        ScaleProtocol::ToledoContinuous,
        SimListen::Tcp(([127, 0, 0, 1], 0).into()),
        ScaleSimOptions::default(),
    )
    .await
    .unwrap();
    let printer_out = dir.path().join("printer-out");
    let printer_sim = PrinterSim::bind(
        &SimListen::Tcp(([127, 0, 0, 1], 0).into()),
        printer_out.clone(),
        PrinterSimOptions::default(),
    )
    .await
    .unwrap();
    let printer_uri = printer_sim.uri().unwrap();
    let printer = printer_sim.handle();
    let printer_task = tokio::spawn(async move {
        let _ = printer_sim.run().await;
    });
    let mut devices = vec![
        DeviceConfig::ToledoContinuous(ScaleDeviceConfig {
            name: "counter-scale".into(),
            connect: scale.uri().parse().unwrap(),
            poll_interval_ms: 500,
            options: Default::default(),
        }),
        DeviceConfig::Escpos(ExternalDeviceConfig {
            name: "receipt".into(),
            connect: printer_uri.parse().unwrap(),
            options: serde_json::Value::Null,
        }),
    ];
    let scanner = if setup.scans.is_empty() {
        None
    } else {
        let s = run_scanner_sim(
            ScannerProtocol::SerialLine,
            SimListen::Tcp(([127, 0, 0, 1], 0).into()),
            ScannerSimOptions {
                codes: setup.scans.clone(),
                interval: setup.scan_every.unwrap_or(Duration::from_millis(700)),
                repeat: true,
                ..ScannerSimOptions::default()
            },
        )
        .await
        .unwrap();
        devices.push(DeviceConfig::SerialLine(ScannerDeviceConfig {
            name: "scanner".into(),
            connect: s.uri().parse().unwrap(),
            options: Default::default(),
        }));
        Some(s)
    };
    let dahua = if setup.dahua {
        let d = run_scale_sim(
            ScaleProtocol::DahuaTm,
            SimListen::Tcp(([127, 0, 0, 1], 0).into()),
            ScaleSimOptions::default(),
        )
        .await
        .unwrap();
        devices.push(DeviceConfig::DahuaTm(ScaleDeviceConfig {
            name: "label-scale".into(),
            connect: d.uri().parse().unwrap(),
            poll_interval_ms: 500,
            options: Default::default(),
        }));
        Some(d)
    } else {
        None
    };
    let ui = UiConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        market: "江南果菜综合市场".into(),
        stall_name: "陈记鲜档".into(),
        stall_no: "A-01".into(),
        users: users(),
        products: products(),
        devices,
        max_photo_kb: setup.max_photo_kb.unwrap_or(64),
        ..UiConfig::default()
    };
    let opts = UiOptions {
        ui,
        device: device.clone(),
        ledger: db,
        codec: TicketCodec::new(440_101, &[5u8; 32]).unwrap(),
        sign_key: SignKey::ed25519_from_seed(&[8u8; 32]),
        public_base: PUBLIC_BASE.into(),
        docs_dir: docs,
        blobs_dir: dir.path().join("blobs"),
    };
    let server = edge_daemon::ui::start(opts.clone(), writer.handle())
        .await
        .unwrap();
    let base = format!("http://{}", server.addr);
    StallBox {
        dir,
        device,
        server: Some(server),
        writer: Some(writer),
        scale,
        printer,
        printer_out,
        printer_uri,
        scanner,
        dahua,
        base,
        opts,
        printer_task,
    }
}

/// The next receipt the printer simulator cuts (or refuses), skipping connection events.
pub async fn next_printed(
    rx: &mut tokio::sync::broadcast::Receiver<PrinterSimEvent>,
) -> Option<SimReceipt> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Ok(PrinterSimEvent::Printed(r))) => return Some(r),
            Ok(Ok(PrinterSimEvent::NotPrinted { .. })) => return None,
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => panic!("printer events: {e}"),
            Err(_) => panic!("no receipt within 30 s"),
        }
    }
}

/// Decode every QR code in a PNG.
pub fn qr_texts(png: &Path) -> Vec<String> {
    let img = image::open(png).unwrap().to_luma8();
    let mut p = rqrr::PreparedImage::prepare(img);
    p.detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, s)| s))
        .collect()
}

pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let d = target.join("ui-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub struct Browser {
    pub c: Client,
    driver: std::process::Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Real headless Chromium through chromedriver. Fails (never skips) when either is missing:
/// `scripts/test` installs them.
pub async fn browser(width: u32, height: u32) -> Browser {
    for bin in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install chromium and chromium-driver (scripts/test does)"
        );
    }
    let port = free_port();
    let mut driver = std::process::Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start chromedriver");
    // chromedriver says when it listens; wait for that line rather than sleeping.
    let out = driver.stdout.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(out).lines();
        let ok = lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("started successfully"));
        // Keep draining so chromedriver never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ok
    });
    assert!(
        tokio::time::timeout(Duration::from_secs(30), ready)
            .await
            .expect("chromedriver did not start within 30 s")
            .unwrap(),
        "chromedriver exited before listening"
    );
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--no-first-run", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars",
                format!("--user-data-dir={}", profile.path().display()),
                format!("--window-size={width},{height}"),
            ],
        }),
    );
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect to chromedriver");
    let b = Browser {
        c,
        driver,
        _profile: profile,
    };
    b.viewport(width, height).await;
    b
}

impl Browser {
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.c
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Wait until the page's `cond` (a JS expression) is true.
    pub async fn until(&self, what: &str, cond: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let v = self
                .c
                .execute(&format!("return !!({cond});"), vec![])
                .await
                .unwrap();
            if v == serde_json::Value::Bool(true) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let html = self.c.source().await.unwrap_or_default();
                panic!("timed out waiting for {what} ({cond}); page:\n{html}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Make the page's viewport `width`×`height` (the window has decorations even headless).
    pub async fn viewport(&self, width: u32, height: u32) {
        self.c.set_window_size(width, height).await.unwrap();
        let extra = self
            .js("[window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]")
            .await;
        let dw = u32::try_from(extra[0].as_u64().unwrap_or(0)).unwrap_or(0);
        let dh = u32::try_from(extra[1].as_u64().unwrap_or(0)).unwrap_or(0);
        self.c
            .set_window_size(width + dw, height + dh)
            .await
            .unwrap();
        self.until(
            "the viewport size",
            &format!("window.innerWidth === {width} && window.innerHeight === {height}"),
        )
        .await;
    }

    pub async fn js(&self, expr: &str) -> serde_json::Value {
        self.c
            .execute(&format!("return {expr};"), vec![])
            .await
            .unwrap()
    }

    pub async fn shot(&self, name: &str) -> PathBuf {
        let png = self.c.screenshot().await.unwrap();
        let p = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&p, png).unwrap();
        println!("screenshot: {}", p.display());
        p
    }

    pub async fn login(&self, base: &str, pin: &str) {
        self.c.goto(base).await.unwrap();
        self.find("#login .key[data-key='1']").await;
        for d in pin.chars() {
            self.click(&format!("#login .key[data-key='{d}']")).await;
        }
        self.click("#pin-ok").await;
        self.until("the app after login", "!document.querySelector('#app').classList.contains('hidden') && document.querySelector('#user-name').textContent.length > 0").await;
    }
}

/// A minimal HTTP/1.1 client for API checks (one request per connection).
pub async fn http(
    base: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    (status, headers, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(nl) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..nl]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[nl + 2 + n + 2..];
    }
}

pub async fn login_cookie(base: &str, pin: &str) -> String {
    let (status, headers, body) = http(
        base,
        "POST",
        "/api/login",
        None,
        "application/json",
        format!("{{\"pin\":\"{pin}\"}}").as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let c = headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .expect("session cookie")
        .1
        .clone();
    c.split(';').next().unwrap().to_owned()
}

pub async fn post_json(
    base: &str,
    path: &str,
    cookie: &str,
    v: serde_json::Value,
) -> (u16, serde_json::Value) {
    let (s, _, b) = http(
        base,
        "POST",
        path,
        Some(cookie),
        "application/json",
        v.to_string().as_bytes(),
    )
    .await;
    (
        s,
        serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
    )
}

pub async fn get_json(base: &str, path: &str, cookie: &str) -> (u16, serde_json::Value) {
    let (s, _, b) = http(base, "GET", path, Some(cookie), "text/plain", b"").await;
    (
        s,
        serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
    )
}
