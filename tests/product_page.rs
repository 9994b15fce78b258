//! End to end, issue 6: a line box mints product codes on its real ledger
//! (`edge_daemon::codes`), its sync client carries the entries over MQTT to the real cloud
//! (`cloud_sync::serve` on its embedded broker), and the cloud's public page answers for each
//! code over HTTP: the product page; "此码已停用" once the box disables a range; the normal page
//! again once it re-enables it; the same 404 for a forged code and a serial never issued; the
//! typo page for a wrong check symbol; the GS1 Digital Link form on its own path. Screenshots of
//! the pages in headless Chromium go to `target/ui-screenshots/cloud-product-*.png`.

use cloud_sync::provision::{DeviceCredentials, NewDevice, add_device};
use cloud_sync::{CloudConfig, RunningCloud};
use edge_daemon::codes;
use edge_daemon::ledger::{Ledger, LedgerOptions};
use edge_daemon::producer;
use edge_daemon::sync::{SyncHandle, SyncOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trace_core::event::{
    CodeLevel, CodeRange, Party, ProductRecord, ProductionBatch, RawLotUse, RawMaterialPurchase,
};
use trace_core::product_code::{CipherKind, CodeVars, Day, Field, Output, Template};
use trace_core::{DeviceId, Grams, HashAlg};

const ENTITY: &str = "湾区乳业（佛山）有限公司";

async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(buf[..split].to_vec()).unwrap();
    assert!(
        !head.to_ascii_lowercase().contains("chunked"),
        "pages are sent whole: {head}"
    );
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (
        status,
        String::from_utf8(buf[split + 4..].to_vec()).unwrap(),
    )
}

/// The path of a printed code on our host: what a phone requests after scanning it.
fn path_of(code: &str) -> String {
    let rest = code.split_once("://").expect("an URL").1;
    rest[rest.find('/').expect("a path")..].to_owned()
}

fn unit_template() -> Template {
    Template {
        id: "milk-250-unit".into(),
        issuer: "FS01".into(),
        number: 3,
        level: CodeLevel::Unit,
        gtin: Some("6901234567892".into()),
        product_code: None,
        fields: vec![Field::ProductionDate { encrypted: true }],
        serial_capacity: 100_000,
        code_length: 18,
        cipher: CipherKind::Sm4,
        output: Output::Url {
            base: "https://trace.example".into(),
        },
    }
}

fn case_template(host: &str) -> Template {
    Template {
        id: "milk-250-case".into(),
        issuer: "FS01".into(),
        number: 4,
        level: CodeLevel::Case,
        gtin: Some("16901234567899".into()),
        product_code: None,
        fields: vec![
            Field::Batch {
                max_len: 10,
                encrypted: false,
            },
            Field::ExpiryDate { encrypted: false },
        ],
        serial_capacity: 10_000,
        code_length: 16,
        cipher: CipherKind::Aes,
        output: Output::DigitalLink { host: host.into() },
    }
}

struct Cloud {
    running: RunningCloud,
    mqtt: (String, u16),
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn cloud() -> Cloud {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = CloudConfig {
        data_dir: dir.path().join("cloud"),
        http: "127.0.0.1:0".parse().unwrap(),
        ..CloudConfig::default()
    };
    cfg.mqtt.embedded_broker = Some("127.0.0.1:0".parse().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let running = cloud_sync::serve(cfg, async move {
        let _ = rx.await;
    })
    .await
    .expect("cloud starts");
    running.mqtt_ready().await;
    let (host, port) = running.mqtt_addr.rsplit_once(':').unwrap();
    let mqtt = (host.to_owned(), port.parse().unwrap());
    Cloud {
        running,
        mqtt,
        _stop: tx,
        _dir: dir,
    }
}

async fn synced(h: &SyncHandle, ledger: &Ledger) {
    let head = ledger.head().unwrap().seq;
    // Bounded only as a guard against a hang.
    tokio::time::timeout(Duration::from_secs(120), h.synced_to(head))
        .await
        .expect("the box synced its ledger");
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let d = target.join("ui-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The page as a phone shows it (390 px wide), by headless Chromium.
fn screenshot(addr: SocketAddr, path: &str, name: &str) {
    let chromium = "/usr/bin/chromium";
    assert!(
        Path::new(chromium).exists(),
        "{chromium} is missing: apt-get install chromium (scripts/test does)"
    );
    let profile = tempfile::tempdir().unwrap();
    let file = screenshot_dir().join(format!("cloud-product-{name}.png"));
    let _ = std::fs::remove_file(&file);
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-background-networking",
            "--window-size=390,844",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", file.display()))
        .arg(format!("http://{addr}{path}"))
        .output()
        .expect("chromium runs");
    let png = std::fs::read(&file).unwrap_or_else(|e| {
        panic!(
            "no screenshot {} ({e}): {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(png.starts_with(b"\x89PNG"), "{} is a PNG", file.display());
}

fn record_batch(ledger: &mut Ledger, batch: &str) {
    producer::record_raw_purchase(
        ledger,
        RawMaterialPurchase {
            supplier: Party::named("南海生牛乳合作社"),
            material: "生牛乳".into(),
            lot: format!("RAW-{batch}"),
            material_code: None,
            grams: Some(Grams(500_000)),
            count: None,
            amount: None,
            supplier_batch: None,
            production_date: None,
            expiry_date: None,
            upstream_code: None,
            certificates: Vec::new(),
            documents: Vec::new(),
        },
    )
    .unwrap();
    producer::record_batch(
        ledger,
        ProductionBatch {
            batch: batch.into(),
            product: "MILK-250".into(),
            produced_on: "2026-11-22".into(),
            raw_lots: vec![RawLotUse {
                lot: format!("RAW-{batch}"),
                material: "生牛乳".into(),
                grams: Some(Grams(480_000)),
                count: None,
            }],
            product_code: None,
            gtin: Some("6901234567892".into()),
            expires_on: Some("2026-12-06".into()),
            count: Some(1_920),
            grams: None,
            line: Some("L1".into()),
            documents: Vec::new(),
        },
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_codes_minted_on_a_box_resolve_on_the_public_page() {
    let cloud = cloud().await;
    let addr = cloud.running.http_addr;
    let device = DeviceId::new("line-fs01").unwrap();
    let cred: DeviceCredentials = add_device(
        &cloud.running.store,
        NewDevice {
            id: device.clone(),
            entity: ENTITY.into(),
            market: String::new(),
            stall_no: String::new(),
            device_no: None,
            hash_alg: HashAlg::Sha256,
            mqtt_url: format!("mqtt://{}:{}", cloud.mqtt.0, cloud.mqtt.1),
            public_host: "trace.example".into(),
        },
    )
    .await
    .unwrap();
    let secret = cred.code_key().unwrap();

    // The box: its product library, a production batch, two templates, codes for the batch.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let mut ledger = Ledger::create(
        &path,
        device.clone(),
        HashAlg::Sha256,
        &LedgerOptions::default(),
    )
    .unwrap();
    producer::add_main_product(
        &mut ledger,
        ProductRecord {
            product_id: "MILK-250".into(),
            name: "湾区鲜牛奶 250ml".into(),
            category: Some("乳制品".into()),
            spec: Some("250ml".into()),
            gtin: Some("6901234567892".into()),
            plu: None,
            unit_price: None,
            price_unit: None,
            shelf_life_days: Some(14),
        },
    )
    .unwrap();
    record_batch(&mut ledger, "B20261122");
    codes::save_template(&mut ledger, unit_template()).unwrap();
    codes::save_template(&mut ledger, case_template(&addr.to_string())).unwrap();
    let units = codes::allocate(&mut ledger, "milk-250-unit", Some("B20261122"), 20).unwrap();
    assert_eq!(units.range, CodeRange { first: 0, last: 19 });
    codes::allocate(&mut ledger, "milk-250-case", Some("B20261122"), 2).unwrap();
    // A pallet template with nothing but the GTIN outside the token: `/01/{gtin}/21/{token}`.
    let mut pallet = case_template(&addr.to_string());
    pallet.id = "milk-250-pallet".into();
    pallet.number = 5;
    pallet.level = CodeLevel::Pallet;
    pallet.fields = Vec::new();
    codes::save_template(&mut ledger, pallet).unwrap();
    codes::allocate(&mut ledger, "milk-250-pallet", Some("B20261122"), 1).unwrap();
    let unit_codes = codes::batch_encoder(
        &ledger,
        &secret,
        "milk-250-unit",
        &CodeVars {
            production_date: Day::parse("2026-11-22").ok(),
            ..CodeVars::default()
        },
    )
    .unwrap();
    let case_codes = codes::batch_encoder(
        &ledger,
        &secret,
        "milk-250-case",
        &CodeVars {
            batch: Some("B20261122".into()),
            expiry_date: Day::parse("2026-12-06").ok(),
            ..CodeVars::default()
        },
    )
    .unwrap();
    let unit = |s: u64| unit_codes.code_for(s).unwrap();

    // The box syncs over MQTT, as in the field.
    let mut opts = SyncOptions::new(
        device.clone(),
        path.clone(),
        cred.sign_key().unwrap(),
        cloud.mqtt.0.clone(),
        cloud.mqtt.1,
    );
    opts.ack_timeout = Duration::from_secs(5);
    let sync = edge_daemon::sync::spawn(opts).unwrap();
    synced(&sync, &ledger).await;

    // The printed URL's path is exactly what the cloud serves.
    let code7 = unit(7);
    let p7 = path_of(&code7);
    assert!(p7.starts_with("/c/FS01"), "{code7}");
    let (status, page) = http_get(addr, &p7).await;
    assert_eq!(status, 200, "{page}");
    for want in [
        "产品追溯",
        "湾区鲜牛奶 250ml",
        "06901234567892",
        "B20261122",
        "2026-11-22",
        "2026-12-06",
        ENTITY,
        "单品码",
    ] {
        assert!(page.contains(want), "{want} missing from {page}");
    }
    assert!(!page.contains("此码已停用"));
    screenshot(addr, &p7, "unit-zh-CN");

    // The GS1 Digital Link of a case, on its own path; the dates ride in its query and the
    // language links keep them.
    let case = case_codes.code_for(1).unwrap();
    let pc = path_of(&case);
    assert!(
        pc.starts_with("/01/16901234567899/10/B20261122/21/FS01"),
        "{pc}"
    );
    assert!(pc.ends_with("?17=261206"), "{pc}");
    let (status, page) = http_get(addr, &format!("{pc}&lang=zh-HK")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("箱碼") && page.contains("2026-12-06") && page.contains("生產企業"));
    assert!(page.contains("?17=261206&#38;lang=en"), "{page}");
    let pallet = codes::batch_encoder(&ledger, &secret, "milk-250-pallet", &CodeVars::default())
        .unwrap()
        .code_for(0)
        .unwrap();
    let pp = path_of(&pallet);
    assert!(pp.starts_with("/01/16901234567899/21/FS01"), "{pp}");
    let (status, page) = http_get(addr, &pp).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("托盘码") && page.contains("B20261122") && page.contains("2026-12-06"));
    // Without its AI 17 the link does not identify the case: not found.
    let (status, _) = http_get(addr, pc.split('?').next().unwrap()).await;
    assert_eq!(status, 404);

    // The box disables serials 5..=9 (停用): synced, their page says so; others unchanged.
    codes::set_disabled(
        &mut ledger,
        "milk-250-unit",
        vec![CodeRange { first: 5, last: 9 }],
        true,
        Some("包装破损，已下架".into()),
    )
    .unwrap();
    synced(&sync, &ledger).await;
    let (status, page) = http_get(addr, &p7).await;
    assert_eq!(status, 200);
    assert!(page.contains("此码已停用"), "{page}");
    assert!(page.contains("包装破损，已下架") && page.contains("湾区鲜牛奶 250ml"));
    screenshot(addr, &p7, "disabled-zh-CN");
    let (_, en) = http_get(addr, &format!("{p7}?lang=en")).await;
    assert!(en.contains("This code has been disabled") && en.contains("Best before"));
    screenshot(addr, &format!("{p7}?lang=en"), "disabled-en");
    let (_, hk) = http_get(addr, &format!("{p7}?lang=zh-HK")).await;
    assert!(hk.contains("此碼已停用"), "{hk}");
    let (_, other) = http_get(addr, &path_of(&unit(4))).await;
    assert!(
        !other.contains("此码已停用"),
        "serial 4 is not in the range"
    );

    // Enabled again (启用): the normal page.
    codes::set_disabled(
        &mut ledger,
        "milk-250-unit",
        vec![CodeRange { first: 5, last: 9 }],
        false,
        None,
    )
    .unwrap();
    synced(&sync, &ledger).await;
    let (status, page) = http_get(addr, &p7).await;
    assert_eq!(status, 200);
    assert!(!page.contains("此码已停用") && page.contains("湾区鲜牛奶 250ml"));

    // A serial never allocated (its code is genuine) and a forged code (another key, the same
    // shape and a valid check symbol) get the very same page.
    let never = path_of(&unit(500));
    let forged_codes = {
        let t = unit_template();
        let key = trace_core::product_code::CodeKey::derive(&[9; 32], &t.issuer, t.number);
        trace_core::product_code::ProductCodec::new(t, &key)
            .unwrap()
            .for_batch(unit_codes.vars())
            .unwrap()
    };
    let forged = path_of(&forged_codes.code_for(7).unwrap());
    let (s1, p1) = http_get(addr, &never).await;
    let (s2, p2) = http_get(addr, &forged).await;
    assert_eq!((s1, s2), (404, 404));
    assert_eq!(p1.replace(&never, "X"), p2.replace(&forged, "X"));
    assert!(p1.contains("未找到该追溯码") && p1.contains("action=\"/c\""));
    screenshot(addr, &forged, "not-found-zh-CN");

    // One symbol mistyped: told so, with the typed code in the form to correct.
    let token = p7.trim_start_matches("/c/");
    let i = 9;
    let wrong = if &token[i..=i] == "A" { "B" } else { "A" };
    let typo = format!("{}{wrong}{}", &token[..i], &token[i + 1..]);
    let (status, page) = http_get(addr, &format!("/c/{typo}")).await;
    assert_eq!(status, 400);
    assert!(page.contains("追溯码有误") && page.contains(&format!("value=\"{typo}\"")));
    screenshot(addr, &format!("/c/{typo}"), "typo-zh-CN");

    // Typed into the form by hand, lower case with spaces: redirected to the code's page.
    let spaced = format!("{}+{}", &token[..6].to_lowercase(), &token[6..]);
    let (status, _) = http_get(addr, &format!("/c?code={spaced}&lang=en")).await;
    assert_eq!(status, 303);
    let (status, page) = http_get(addr, &format!("/c/{}", token.to_lowercase())).await;
    assert_eq!(status, 200, "{page}");

    // Nine pages found above, more from the screenshots; the 404s and the typo not counted.
    let (_, m) = http_get(addr, "/metrics").await;
    let found: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("baytrace_product_pages_total "))
        .and_then(|v| v.parse().ok())
        .expect("counter listed");
    assert!((9..=12).contains(&found), "{found}");

    // The box still resolves the same codes the same way (one truth, two places).
    let dirn = codes::CodeDirectory::new(device.clone(), secret);
    assert_eq!(dirn.resolve(&ledger, &code7).unwrap().serial, 7);
    assert!(matches!(
        dirn.accept(&ledger, &forged_codes.code_for(7).unwrap()),
        Err(codes::CodeRejection::Unknown(_))
    ));
    sync.stop().await.unwrap();
}
