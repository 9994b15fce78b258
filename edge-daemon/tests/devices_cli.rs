//! The installer CLI contract (issue 3), through the real `baytrace-edge` binary: simulators
//! started with `sim …` as child processes, drivers run with `scale`, `print-test`, `scanner`,
//! `devices probe` against the URI each simulator prints on its first line.
//!
//! Every child is killed and reaped when its guard drops, pass or fail. A command that should
//! end on its own is bounded by a generous guard so a regression fails instead of hanging CI.

use device_drivers::coder::{AnyCoder, Coder, CoderConfig, CoderProtocol};
use device_drivers::transport::TransportConfig;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_baytrace-edge");
/// Only against hangs; nothing here is expected to take more than a few seconds.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// A running simulator: killed and reaped on drop.
struct Sim {
    child: Child,
    uri: String,
    lines: mpsc::Receiver<String>,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(BIN)
            .arg("sim")
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn baytrace-edge sim");
        let lines = line_reader(child.stdout.take().expect("piped stdout"));
        let mut sim = Sim {
            child,
            uri: String::new(),
            lines,
        };
        sim.uri = sim.next_line();
        assert!(
            sim.uri.starts_with("tcp://127.0.0.1:") || sim.uri.starts_with("serial:///dev/"),
            "first line is the URI: {:?}",
            sim.uri
        );
        sim
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("pid"))
    }

    fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(HANG_GUARD) {
            Ok(l) => l,
            Err(e) => {
                let status = self.child.try_wait();
                panic!("no line from the simulator ({e}); child status {status:?}")
            }
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child that must not outlive a failed test.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn line_reader(out: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Run a command that ends on its own; killed if it hangs.
fn edge(args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn baytrace-edge");
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    let (tx, rx) = mpsc::channel();
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        let err = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stderr.read_to_end(&mut v);
            v
        });
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        let status = child.wait().expect("wait");
        let _ = tx.send(Output {
            status,
            stdout: out,
            stderr: err.join().unwrap_or_default(),
        });
    });
    match rx.recv_timeout(HANG_GUARD) {
        Ok(o) => o,
        Err(_) => {
            let _ = kill(pid, Signal::SIGKILL);
            panic!("baytrace-edge {args:?} hung");
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn edge_ok(args: &[&str]) -> String {
    let o = edge(args);
    assert!(
        o.status.success(),
        "baytrace-edge {args:?}: {}\nstdout: {}\nstderr: {}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

const CONTRACT_1234: &str =
    r#"{"grams":1234,"stable":true,"net":false,"tare_grams":0,"status":"ok"}"#;

#[test]
fn scale_read_json_is_exactly_the_contract() {
    for protocol in ["toledo-continuous", "mt-sics", "cas", "toledo-8217"] {
        let sim = Sim::start(&[
            "scale",
            "--protocol",
            protocol,
            "--listen",
            "tcp://127.0.0.1:0",
            "--weight",
            "1234",
        ]);
        let out = edge_ok(&[
            "scale",
            "read",
            "--protocol",
            protocol,
            "--connect",
            &sim.uri,
            "--json",
        ]);
        assert_eq!(out, format!("{CONTRACT_1234}\n"), "{protocol}");
    }
}

#[test]
fn scale_states_are_values_in_the_json() {
    let sim = Sim::start(&[
        "scale",
        "--protocol",
        "mt-sics",
        "--listen",
        "tcp://127.0.0.1:0",
        "--weight",
        "2500",
        "--unstable",
    ]);
    let out = edge_ok(&[
        "scale",
        "read",
        "--protocol",
        "mt-sics",
        "--connect",
        &sim.uri,
        "--json",
    ]);
    assert_eq!(
        out,
        "{\"grams\":2500,\"stable\":false,\"net\":false,\"tare_grams\":0,\"status\":\"unstable\"}\n"
    );

    let sim = Sim::start(&[
        "scale",
        "--protocol",
        "toledo-continuous",
        "--overload",
        "--garbage",
    ]);
    let out = edge_ok(&[
        "scale",
        "read",
        "--protocol",
        "toledo-continuous",
        "--connect",
        &sim.uri,
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "overload", "{out}");
    // Human form names the weight in kg.
    let human = edge_ok(&[
        "scale",
        "read",
        "--protocol",
        "toledo-continuous",
        "--connect",
        &sim.uri,
    ]);
    assert!(human.contains("OVERLOAD"), "{human}");
}

#[test]
fn scale_watch_streams_one_json_line_per_reading() {
    for protocol in ["toledo-continuous", "mt-sics"] {
        let sim = Sim::start(&["scale", "--protocol", protocol, "--hz", "50"]);
        let out = edge_ok(&[
            "scale",
            "watch",
            "--protocol",
            protocol,
            "--connect",
            &sim.uri,
            "--json",
            "--count",
            "3",
            "--interval-ms",
            "10",
        ]);
        assert_eq!(out, format!("{CONTRACT_1234}\n").repeat(3), "{protocol}");
    }
}

fn decode_qr_from_png(path: &Path) -> Vec<String> {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .map(|g| g.decode().expect("a QR grid that does not decode").1)
        .collect()
}

/// `printed N png=PATH bin=PATH bytes=N qr=…` → the PNG path.
fn png_of(line: &str) -> String {
    assert!(line.starts_with("printed "), "{line}");
    line.split(' ')
        .find_map(|f| f.strip_prefix("png="))
        .unwrap_or_else(|| panic!("no png= in {line:?}"))
        .to_string()
}

fn print_test_round_trip(width: &str, extra: &[&str], url: &str) {
    print_test_round_trip_on("tcp://127.0.0.1:0", width, extra, url);
}

fn print_test_round_trip_on(listen: &str, width: &str, extra: &[&str], url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("receipts");
    let mut sim = Sim::start(&[
        "printer",
        "--protocol",
        "escpos",
        "--listen",
        listen,
        "--out",
        out_dir.to_str().unwrap(),
        "--width",
        width,
    ]);
    let mut args = vec![
        "print-test",
        "--connect",
        &sim.uri,
        "--width",
        width,
        "--url",
        url,
    ];
    args.extend_from_slice(extra);
    let report = edge_ok(&args);
    assert!(report.contains("printed test receipt"), "{report}");
    assert!(report.contains("online"), "{report}");
    let png = png_of(&sim.next_line());
    assert!(Path::new(&png).starts_with(&out_dir), "{png}");
    assert_eq!(decode_qr_from_png(Path::new(&png)), vec![url.to_string()]);
    let bin = Path::new(&png).with_extension("bin");
    let bytes = std::fs::read(&bin).unwrap();
    // The raw job carries the GB18030 Chinese of the test receipt (打印测试).
    let (gb, _, _) = encoding_rs::GB18030.encode("打印测试");
    assert!(bytes.windows(gb.len()).any(|w| w == &gb[..]), "{bin:?}");
}

#[test]
fn print_test_58mm_native_qr_decodes_to_the_url() {
    print_test_round_trip("58", &[], "https://trace.example.cn/t/A01-000042?v=1&s=gz");
}

#[test]
fn print_test_80mm_raster_qr_decodes_to_the_url() {
    print_test_round_trip(
        "80",
        &["--raster"],
        "https://trace.example.cn/t/B07-20261122-0099",
    );
}

#[test]
fn print_test_over_a_pty_like_a_serial_printer() {
    // Raster QR data is arbitrary binary: the serial path must carry it untouched.
    print_test_round_trip_on(
        "pty://",
        "58",
        &["--raster"],
        "https://trace.example.cn/t/C03-000007",
    );
}

#[test]
fn print_test_reports_a_printer_out_of_paper() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(&[
        "printer",
        "--out",
        dir.path().to_str().unwrap(),
        "--faults",
        "paper-out",
        "--no-png",
    ]);
    let o = edge(&["print-test", "--connect", &sim.uri]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("paper out"), "{}", text(&o.stdout));
    assert!(text(&o.stderr).contains("not ready"), "{}", text(&o.stderr));
}

#[test]
fn scanner_watch_receives_the_codes() {
    for protocol in ["serial-line", "newland-pack"] {
        let sim = Sim::start(&[
            "scanner",
            "--protocol",
            protocol,
            "--code",
            "6901234567892",
            "--code",
            "GZ-A01-000042",
            "--interval-ms",
            "5",
        ]);
        let out = edge_ok(&[
            "scanner",
            "watch",
            "--connect",
            &sim.uri,
            "--protocol",
            protocol,
            "--json",
            "--count",
            "2",
        ]);
        assert_eq!(
            out,
            "{\"text\":\"6901234567892\",\"symbology\":null}\n\
             {\"text\":\"GZ-A01-000042\",\"symbology\":null}\n",
            "{protocol}"
        );
    }
    // Plain text mode, default protocol serial-line.
    let sim = Sim::start(&["scanner", "--protocol", "serial-line", "--code", "X1"]);
    let out = edge_ok(&["scanner", "watch", "--connect", &sim.uri, "--count", "1"]);
    assert_eq!(out, "X1\n");
}

#[test]
fn devices_probe_names_the_scale_protocol() {
    let sim = Sim::start(&["scale", "--protocol", "mt-sics"]);
    let out = edge_ok(&[
        "devices",
        "probe",
        &sim.uri,
        "--json",
        "--timeout-ms",
        "300",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["answered"], serde_json::json!(["mt-sics"]), "{out}");
    assert_eq!(v["uri"], sim.uri.as_str());

    let human = edge_ok(&["devices", "probe", &sim.uri, "--timeout-ms", "300"]);
    assert!(human.contains("answered: mt-sics"), "{human}");
    assert!(
        human.contains(&format!(
            "scale read --protocol mt-sics --connect {}",
            sim.uri
        )),
        "{human}"
    );
}

#[test]
fn devices_list_prints_a_json_array() {
    let out = edge_ok(&["devices", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.is_array(), "{out}");
}

#[tokio::test]
async fn sim_coder_zipher_accepts_a_connection_and_answers() {
    for listen in ["tcp://127.0.0.1:0", "pty://"] {
        coder_round_trip(listen).await;
    }
}

async fn coder_round_trip(listen: &str) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("printed.txt");
    let sim = Sim::start(&[
        "coder",
        "--protocol",
        "zipher",
        "--listen",
        listen,
        "--print-log",
        log.to_str().unwrap(),
        "--buffer-size",
        "10",
    ]);
    let transport: TransportConfig = sim.uri.parse().unwrap();
    let stream = transport.open().await.unwrap();
    let mut coder = AnyCoder::connect(stream, &CoderConfig::default_for(CoderProtocol::Zipher))
        .await
        .unwrap();
    let status = coder.status().await.unwrap();
    assert!(status.faults.is_empty(), "{status:?}");
    assert_eq!(coder.buffer_count().await.unwrap(), 0);
    let codes: Vec<String> = (0..3).map(|i| format!("GZ{i:04}")).collect();
    let q = coder.queue(&codes).await.unwrap();
    assert_eq!(q.accepted, 3);
    assert!(log.exists(), "--print-log is created at start");
}

#[test]
fn unknown_protocol_names_list_the_valid_ones() {
    let o = edge(&[
        "scale",
        "read",
        "--protocol",
        "mettler",
        "--connect",
        "tcp://127.0.0.1:9",
    ]);
    assert_eq!(code(&o), 2);
    let e = text(&o.stderr);
    assert!(
        e.contains("mt-sics, toledo-8217, toledo-continuous, cas, ascii-indicator, dahua-tm"),
        "{e}"
    );

    let o = edge(&["sim", "scale", "--protocol", "escpos"]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("is a printer protocol"),
        "{}",
        text(&o.stderr)
    );

    let o = edge(&["sim", "coder", "--protocol", "videojet"]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("zipher, tij, imaje-9040, text-tcp"),
        "{}",
        text(&o.stderr)
    );

    let o = edge(&[
        "scanner",
        "watch",
        "--connect",
        "tcp://127.0.0.1:9",
        "--protocol",
        "hid",
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("serial-line, newland-pack, evdev"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn bad_uris_are_usage_errors_that_say_what_is_accepted() {
    let o = edge(&[
        "scale",
        "read",
        "--protocol",
        "cas",
        "--connect",
        "/dev/ttyUSB0",
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("serial:///dev/"),
        "{}",
        text(&o.stderr)
    );

    let o = edge(&["print-test", "--connect", "tcp://printer"]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("tcp://HOST:PORT"),
        "{}",
        text(&o.stderr)
    );

    let o = edge(&["sim", "scale", "--protocol", "cas", "--listen", "udp://x"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("pty://"), "{}", text(&o.stderr));

    let o = edge(&[
        "print-test",
        "--connect",
        "tcp://127.0.0.1:9100",
        "--width",
        "76",
    ]);
    assert_eq!(code(&o), 2);
}

/// A port nothing listens on: bind one, note it, close it.
fn dead_port_uri() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("tcp://{}", l.local_addr().unwrap());
    drop(l);
    uri
}

#[test]
fn connection_failures_say_what_to_check() {
    let dead = dead_port_uri();
    for args in [
        vec!["scale", "read", "--protocol", "mt-sics", "--connect", &dead],
        vec!["print-test", "--connect", &dead],
        vec!["scanner", "watch", "--connect", &dead],
    ] {
        let o = edge(&args);
        assert_eq!(code(&o), 1, "{args:?}");
        let e = text(&o.stderr);
        assert!(e.contains(&dead), "{args:?}: {e}");
        assert!(e.contains("hint: check the cable"), "{args:?}: {e}");
    }

    let o = edge(&["devices", "probe", &dead, "--timeout-ms", "100"]);
    assert_eq!(code(&o), 1);
    assert!(text(&o.stderr).contains("no protocol answered"));

    // A scale that talks another protocol: the hint is about baud and protocol.
    let sim = Sim::start(&["scale", "--protocol", "cas"]);
    let o = edge(&[
        "scale",
        "read",
        "--protocol",
        "mt-sics",
        "--connect",
        &sim.uri,
        "--timeout-ms",
        "200",
    ]);
    assert_eq!(code(&o), 1);
    let e = text(&o.stderr);
    assert!(e.contains("did not answer") && e.contains("baud"), "{e}");
}

#[test]
fn dahua_has_no_weight_and_the_cli_says_which_protocol_to_use() {
    let sim = Sim::start(&["scale", "--protocol", "dahua-tm"]);
    let o = edge(&[
        "scale",
        "read",
        "--protocol",
        "dahua-tm",
        "--connect",
        &sim.uri,
    ]);
    assert_eq!(code(&o), 1);
    let e = text(&o.stderr);
    assert!(
        e.contains("cannot read a weight") && e.contains("PLU"),
        "{e}"
    );
}

#[test]
fn evdev_scanners_cannot_be_simulated_and_say_so() {
    let o = edge(&["sim", "scanner", "--protocol", "evdev"]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stderr).contains("keyboard-wedge"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn help_teaches_with_examples() {
    for args in [
        vec!["devices", "list", "--help"],
        vec!["devices", "probe", "--help"],
        vec!["scale", "read", "--help"],
        vec!["scale", "watch", "--help"],
        vec!["print-test", "--help"],
        vec!["scanner", "watch", "--help"],
        vec!["sim", "scale", "--help"],
        vec!["sim", "printer", "--help"],
        vec!["sim", "scanner", "--help"],
        vec!["sim", "coder", "--help"],
    ] {
        let out = edge_ok(&args);
        assert!(out.contains("Examples:"), "{args:?}");
        assert!(out.contains("baytrace-edge "), "{args:?}");
    }
    let top = edge_ok(&["--help"]);
    for cmd in ["devices", "scale", "print-test", "scanner", "sim"] {
        assert!(
            top.lines()
                .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
            "{cmd} in the top-level command list:\n{top}"
        );
    }
}

#[test]
fn scale_sim_over_a_pty_reads_like_a_serial_scale() {
    let sim = Sim::start(&["scale", "--protocol", "mt-sics", "--listen", "pty://"]);
    assert!(sim.uri.starts_with("serial:///dev/pts/"), "{}", sim.uri);
    let out = edge_ok(&[
        "scale",
        "read",
        "--protocol",
        "mt-sics",
        "--connect",
        &sim.uri,
        "--json",
    ]);
    assert_eq!(out, format!("{CONTRACT_1234}\n"));
}

#[test]
fn simulators_and_watchers_stop_cleanly_on_sigterm_and_ctrl_c() {
    let mut sim = Sim::start(&["scale", "--protocol", "toledo-continuous"]);
    let mut watch = KillOnDrop(
        Command::new(BIN)
            .args([
                "scale",
                "watch",
                "--protocol",
                "toledo-continuous",
                "--connect",
                &sim.uri,
                "--json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let watch_pid = Pid::from_raw(i32::try_from(watch.0.id()).unwrap());
    let lines = line_reader(watch.0.stdout.take().unwrap());
    // Streaming until interrupted: a first reading arrives, then Ctrl-C (SIGINT) ends it.
    assert_eq!(lines.recv_timeout(HANG_GUARD).unwrap(), CONTRACT_1234);
    kill(watch_pid, Signal::SIGINT).unwrap();
    assert!(watch.0.wait().unwrap().success());

    kill(sim.pid(), Signal::SIGTERM).unwrap();
    let status = sim.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_cable_pulled_mid_stream_ends_watch_with_a_hint_and_no_half_reading() {
    // After 2 frames the simulator sends half a frame and hangs up.
    let sim = Sim::start(&[
        "scale",
        "--protocol",
        "toledo-continuous",
        "--disconnect-after",
        "2",
        "--hz",
        "50",
    ]);
    let o = edge(&[
        "scale",
        "watch",
        "--protocol",
        "toledo-continuous",
        "--connect",
        &sim.uri,
        "--json",
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(text(&o.stdout), format!("{CONTRACT_1234}\n").repeat(2));
    let e = text(&o.stderr);
    assert!(
        e.contains("closed the connection") && e.contains("hint:"),
        "{e}"
    );

    let sim = Sim::start(&[
        "scanner",
        "--protocol",
        "newland-pack",
        "--code",
        "AA",
        "--code",
        "BB",
        "--code",
        "CC",
        "--disconnect-after",
        "2",
        "--interval-ms",
        "5",
    ]);
    let o = edge(&[
        "scanner",
        "watch",
        "--protocol",
        "newland-pack",
        "--connect",
        &sim.uri,
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(text(&o.stdout), "AA\nBB\n");
    assert!(text(&o.stderr).contains("hint:"), "{}", text(&o.stderr));
}
