//! The line screen in real headless Chromium, against a coder simulator on loopback TCP: log
//! in, start the job and watch the pushed counters rise; pause (the counters stop, the coder
//! is stopped with an empty buffer, and every code it printed is confirmed); resume; a head
//! fault injected at the coder shows on the screen in plain words and clears; stop (two taps).
//! Then from the simulator's own print log: no code twice, each code decodes to the job's
//! batch, `line reconcile` balances and counts exactly the log as encoded. Screenshots of each
//! state (zh-CN, and the fault in English) go to `target/ui-screenshots/`.
//!
//! The box is made as an installer makes it (`baytrace-edge init`, `codes template add`, a
//! `[line]` section in `edge.toml`) and the screen is started the way `baytrace-edge run`
//! starts it (`lineui::prepare` → `serve`).

mod line_support;
mod ui_support;

use device_drivers::coder::CoderProtocol;
use device_drivers::coder::sim::{CoderSimHandle, CoderSimOptions};
use edge_daemon::codes::CodeDirectory;
use edge_daemon::config::EdgeConfig;
use edge_daemon::keys::DeviceKeys;
use edge_daemon::ledger::{Ledger, LedgerOptions, LedgerWriter, WriterOptions};
use edge_daemon::lineui::LineUiServer;
use line_support::{edge_ok, p, read_log, reconcile};
use std::path::PathBuf;
use std::time::Duration;
use ui_support::{Browser, browser};

const PIN: &str = "2468";
const BATCH: &str = "B261122L01";
const TEMPLATE: &str = r#"
id = "milk-unit"
issuer = "GZ0A"
number = 3
level = "unit"
gtin = "6901234567892"
serial_capacity = 1000000
code_length = 29
cipher = "aes"
output = { form = "url", base = "https://t.example.com" }
fields = [
  { field = "batch", max_len = 10, encrypted = true },
  { field = "production_date", encrypted = true },
]
"#;

struct LineBox {
    _dir: tempfile::TempDir,
    config: PathBuf,
    db: PathBuf,
    log: PathBuf,
    sim: CoderSimHandle,
    server: Option<LineUiServer>,
    writer: Option<LedgerWriter>,
    base: String,
}

/// A box as an installer leaves it: `init`, the template saved, a `[line]` job on a TIJ coder
/// simulator (served on this runtime) in `edge.toml`. Returns (dir, config, print log, sim).
async fn make_line_box(line_speed: u32) -> (tempfile::TempDir, PathBuf, PathBuf, CoderSimHandle) {
    let dir = tempfile::tempdir().unwrap();
    let boxdir = dir.path().join("box");
    edge_ok(&["init", "--dir", p(&boxdir), "--device", "line-a01"]);
    let config = boxdir.join("edge.toml");
    let tfile = dir.path().join("t.toml");
    std::fs::write(&tfile, TEMPLATE).unwrap();
    edge_ok(&[
        "codes",
        "template",
        "add",
        "--config",
        p(&config),
        "--file",
        p(&tfile),
    ]);
    let log = dir.path().join("print.log");
    let opts = CoderSimOptions {
        line_speed,
        buffer_capacity: 64,
        print_log: Some(log.clone()),
        // The operator clears the head fault in this test, not a timer.
        fault_clears_after: Duration::from_secs(3_600),
        ..CoderSimOptions::default()
    };
    let listen = "tcp://127.0.0.1:0".parse().unwrap();
    let sim = device_drivers::coder::sim::CoderSim::bind(CoderProtocol::Tij, &listen, opts)
        .await
        .unwrap();
    let uri = sim.describe().unwrap();
    let handle = sim.handle();
    tokio::spawn(sim.run());
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(&format!(
        r#"
[line]
listen = "127.0.0.1:0"
line_name = "1号灌装线"
job = "L1-20261122-01"
batch = "{BATCH}"
template = "milk-unit"
product = "全脂纯牛奶 250 mL"
count = 100000
production_date = "2026-11-22"
users = [{{ name = "王班长", role = "owner", pin = "{PIN}" }}]
[line.coder]
protocol = "tij"
connect = "{uri}"
[line.water]
low = 10
high = 30
"#
    ));
    std::fs::write(&config, toml).unwrap();
    (dir, config, log, handle)
}

/// A line box with its screen served in this process, as `baytrace-edge run` serves it.
async fn start_line_box(line_speed: u32) -> LineBox {
    let (dir, config, log, handle) = make_line_box(line_speed).await;
    let c = EdgeConfig::load(&config).unwrap();
    let db = c.ledger_path();
    let ledger = Ledger::open(&db, &LedgerOptions::default()).unwrap();
    let prepared = edge_daemon::lineui::prepare(&c, &ledger)
        .unwrap()
        .expect("a [line] section");
    let writer = LedgerWriter::spawn(ledger, WriterOptions::default()).unwrap();
    let server = prepared.serve(writer.handle()).await.unwrap();
    let base = format!("http://{}", server.addr);
    LineBox {
        _dir: dir,
        config,
        db,
        log,
        sim: handle,
        server: Some(server),
        writer: Some(writer),
        base,
    }
}

impl LineBox {
    async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
        if let Some(w) = self.writer.take() {
            tokio::task::spawn_blocking(move || w.shutdown().unwrap())
                .await
                .unwrap();
        }
    }
}

async fn count(b: &Browser, id: &str) -> u64 {
    b.js(&format!(
        "Number(document.querySelector('#{id}').dataset.n || 0)"
    ))
    .await
    .as_u64()
    .unwrap()
}

async fn state(b: &Browser) -> String {
    b.js("document.querySelector('#state').dataset.state")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

async fn until_state(b: &Browser, s: &str) {
    b.until(
        &format!("state {s}"),
        &format!("document.querySelector('#state').dataset.state === '{s}'"),
    )
    .await;
}

async fn until_encoded_above(b: &Browser, n: u64) {
    b.until(
        &format!("more than {n} printed"),
        &format!("Number(document.querySelector('#c-encoded').dataset.n) > {n}"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_starts_pauses_resumes_and_stops_a_job_and_every_code_is_accounted_for() {
    let mut line = start_line_box(150).await;
    let b = browser(1280, 800).await;
    b.c.goto(&line.base).await.unwrap();
    b.find("#login .key[data-key='1']").await;
    b.shot("line-01-login").await;
    b.login(&line.base, PIN).await;
    until_state(&b, "idle").await;
    assert_eq!(
        b.js("document.querySelector('#j-product').textContent")
            .await,
        "全脂纯牛奶 250 mL (6901234567892)"
    );
    assert!(
        b.js("!document.querySelector('#btn-pause').offsetParent && !!document.querySelector('#btn-start').offsetParent")
            .await
            .as_bool()
            .unwrap(),
        "only Start is offered before the job starts"
    );
    b.shot("line-02-idle").await;

    // Start: the counters are pushed and rise.
    b.click("#btn-start").await;
    until_state(&b, "running").await;
    until_encoded_above(&b, 30).await;
    let n1 = count(&b, "c-encoded").await;
    until_encoded_above(&b, n1 + 30).await;
    b.until(
        "a speed",
        "Number(document.querySelector('#c-rate').dataset.n) > 0",
    )
    .await;
    b.shot("line-03-running").await;

    // Pause: settled from the coder's evidence; the coder is stopped with nothing queued.
    b.click("#btn-pause").await;
    until_state(&b, "paused").await;
    let sim = line.sim.stats();
    assert!(!sim.running, "the coder is stopped while paused");
    assert_eq!(sim.buffered, 0, "nothing is left queued in the coder");
    let paused_at = count(&b, "c-encoded").await;
    assert_eq!(
        paused_at, sim.printed,
        "every code the coder printed is confirmed on the screen"
    );
    assert_eq!(count(&b, "c-buffered").await, 0);
    b.shot("line-04-paused").await;
    // Nothing moves while paused (an absence can only be watched for a while).
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        line.sim.stats().printed,
        sim.printed,
        "printed while paused"
    );
    assert_eq!(count(&b, "c-encoded").await, paused_at);
    assert_eq!(count(&b, "c-rate").await, 0);

    // Resume.
    b.click("#btn-resume").await;
    until_state(&b, "running").await;
    until_encoded_above(&b, paused_at + 30).await;

    // A head fault at the coder: the screen says what it is and what to do, and carries on
    // once the operator cleared it.
    line.sim.inject_head_fault();
    b.until(
        "the head fault on screen",
        "document.querySelector('#fault').dataset.kind === 'coder' && !document.querySelector('#fault').classList.contains('hidden')",
    )
    .await;
    let text = b
        .js("document.querySelector('#fault').textContent")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains("喷码机报故障") && text.contains("喷头") && text.contains("TIJ alarm"),
        "{text}"
    );
    until_state(&b, "held").await;
    let printed_in_fault = line.sim.stats().printed;
    b.shot("line-05-head-fault").await;
    b.click("#lang-en").await;
    b.until(
        "the fault in English",
        "document.querySelector('#fault').textContent.includes('print head')",
    )
    .await;
    b.shot("line-06-head-fault-en").await;
    b.click("#lang-zh-CN").await;
    line.sim.clear_fault();
    b.until(
        "the fault cleared",
        "document.querySelector('#fault').classList.contains('hidden')",
    )
    .await;
    b.until(
        "printing again",
        &format!("Number(document.querySelector('#c-encoded').dataset.n) > {printed_in_fault}"),
    )
    .await;
    assert_eq!(state(&b).await, "running");

    // Stop: the first tap only arms it.
    b.click("#btn-stop").await;
    assert_eq!(state(&b).await, "running", "one tap does not stop the line");
    b.click("#btn-stop").await;
    until_state(&b, "stopped").await;
    b.until(
        "the reconciliation",
        "!document.querySelector('#reconcile').classList.contains('hidden') && document.querySelector('#rc-verdict').className === 'ok'",
    )
    .await;
    b.shot("line-07-stopped").await;
    b.viewport(1024, 600).await;
    b.shot("line-08-stopped-1024x600").await;
    let on_screen = count(&b, "c-encoded").await;
    let scrapped_on_screen = count(&b, "c-scrapped").await;
    b.c.clone().close().await.unwrap();
    drop(b);
    line.stop().await;

    // From the simulator's own print log.
    let printed = read_log(&line.log);
    line_support::assert_distinct("print log", &printed);
    assert_eq!(
        printed.len() as u64,
        on_screen,
        "the screen counted the log"
    );
    let r = reconcile(&line.db, BATCH);
    assert_eq!(r.encoded, printed.len() as u64, "{r:?}");
    assert_eq!(r.scrapped, scrapped_on_screen, "{r:?}");
    assert_eq!(r.allocated, r.encoded + r.scrapped + r.unused, "{r:?}");
    assert!(
        r.scrapped > 0,
        "pausing and the head fault scrapped what was in flight: {r:?}"
    );
    let c = EdgeConfig::load(&line.config).unwrap();
    let keys = DeviceKeys::read(&c.signing_key_path(), &c.ticket_key_path()).unwrap();
    let ledger = Ledger::open(&line.db, &LedgerOptions::default()).unwrap();
    let dir = CodeDirectory::new(ledger.device().clone(), keys.ticket_key);
    for code in &printed {
        let info = dir
            .accept(&ledger, code)
            .unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(info.batch.as_deref(), Some(BATCH), "{code}");
    }
    // The CLI's reconciliation agrees.
    let out = edge_ok(&[
        "line",
        "reconcile",
        "--db",
        p(&line.db),
        "--batch",
        BATCH,
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["encoded"], r.encoded);
    assert_eq!(v["allocated"], r.allocated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_are_refused_out_of_turn_and_without_a_login() {
    let mut line = start_line_box(50).await;
    let base = line.base.clone();
    let (s, _, body) = ui_support::http(
        &base,
        "POST",
        "/api/control",
        None,
        "application/json",
        br#"{"action":"start"}"#,
    )
    .await;
    assert_eq!(s, 401, "{}", String::from_utf8_lossy(&body));
    let (s, _, _) = ui_support::http(
        &base,
        "POST",
        "/api/login",
        None,
        "application/json",
        br#"{"pin":"0000"}"#,
    )
    .await;
    assert_eq!(s, 401);
    let cookie = ui_support::login_cookie(&base, PIN).await;
    for action in ["pause", "resume", "stop"] {
        let (s, v) = ui_support::post_json(
            &base,
            "/api/control",
            &cookie,
            serde_json::json!({ "action": action }),
        )
        .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (409, Some("err_line_state")),
            "{action}"
        );
    }
    let (s, _) = ui_support::post_json(
        &base,
        "/api/control",
        &cookie,
        serde_json::json!({ "action": "explode" }),
    )
    .await;
    assert!((400..500).contains(&s), "{s}");
    // Nothing was allocated by any of that.
    assert!(line_support::ledger_codes(&line.db).allocated.is_empty());
    let (s, v) = ui_support::post_json(
        &base,
        "/api/control",
        &cookie,
        serde_json::json!({ "action": "start" }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = ui_support::post_json(
        &base,
        "/api/control",
        &cookie,
        serde_json::json!({ "action": "start" }),
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (409, Some("err_line_state")));
    line.stop().await;
    let r = reconcile(&line.db, BATCH);
    assert_eq!(r.allocated, r.encoded + r.scrapped + r.unused, "{r:?}");
}

/// `baytrace-edge run` with a `[line]` section serves the line screen; SIGTERM stops the box
/// cleanly, settling what the started job had in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baytrace_edge_run_serves_the_line_screen() {
    use std::io::BufRead;
    let (_dir, config, log, _sim) = make_line_box(100).await;
    let mut child = std::process::Command::new(line_support::BIN)
        .args(["run", "--config", p(&config)])
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let base = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(err).lines();
        let mut seen = String::new();
        for l in lines.by_ref().map_while(Result::ok) {
            seen.push_str(&l);
            seen.push('\n');
            if l.contains("line screen serving")
                && let Some(i) = l.find("url=http://")
            {
                let url = l[i + 4..].split_whitespace().next().unwrap().to_owned();
                std::thread::spawn(move || for _ in lines {});
                return url.trim_end_matches('/').to_owned();
            }
            assert!(!l.contains("box ready"), "no line screen:\n{seen}");
        }
        panic!("baytrace-edge run ended:\n{seen}");
    })
    .await
    .unwrap();
    let (s, _, page) = ui_support::http(&base, "GET", "/", None, "text/plain", b"").await;
    assert_eq!(s, 200);
    assert!(String::from_utf8_lossy(&page).contains("/line.js"));
    let cookie = ui_support::login_cookie(&base, PIN).await;
    let (s, v) = ui_support::post_json(
        &base,
        "/api/control",
        &cookie,
        serde_json::json!({ "action": "start" }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // Wait for printing to start (the print log grows), then stop the box.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while read_log(&log).len() < 20 {
        assert!(tokio::time::Instant::now() < deadline, "nothing printed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    let db = config.parent().unwrap().join("ledger.sqlite3");
    let printed = read_log(&log);
    let r = reconcile(&db, BATCH);
    assert_eq!(r.encoded, printed.len() as u64, "settled on SIGTERM: {r:?}");
    assert_eq!(r.allocated, r.encoded + r.scrapped + r.unused, "{r:?}");
}
