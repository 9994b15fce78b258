//! The `baytrace-cloud` binary: provisioning, device list, config commands, and a real
//! `serve --embedded-broker` process answering `/healthz`.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_baytrace-cloud"))
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run baytrace-cloud");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn device_add_then_list_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, out, err) = run(bin()
        .args([
            "device",
            "add",
            "--id",
            "stall-cli-1",
            "--entity",
            "东门市场 7 档",
            "--device-no",
            "4242",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(dir.path()));
    assert!(ok, "{err}");
    let path = out.trim();
    use cloud_sync::provision::CredentialsFile;
    let cred = cloud_sync::provision::DeviceCredentials::read(path.as_ref()).unwrap();
    assert_eq!(cred.device.as_str(), "stall-cli-1");
    assert_eq!(cred.device_no, 4242);
    assert_eq!(cred.mqtt.username, "stall-cli-1");
    assert!(cred.sign_key().is_ok() && cred.code_key().is_ok());
    let (ok, _, err) = run(bin()
        .args([
            "device",
            "add",
            "--id",
            "stall-cli-2",
            "--entity",
            "x",
            "--device-no",
            "4242",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(dir.path()));
    assert!(!ok, "a taken device number is refused");
    assert!(err.contains("4242"), "{err}");

    let (ok, out, err) = run(bin()
        .args(["device", "list", "--json"])
        .arg("--data")
        .arg(&data));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &v.as_array().unwrap()[0];
    for key in [
        "id",
        "hwm",
        "head_hash",
        "missing",
        "quarantined",
        "online",
        "last_seen",
    ] {
        assert!(d.get(key).is_some(), "{key} missing in {d}");
    }
    assert_eq!(d["id"], "stall-cli-1");
    assert_eq!(d["hwm"], 0);
}

#[test]
fn config_commands() {
    let (ok, text, _) = run(bin().args(["config", "print-default"]));
    assert!(ok);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cloud.toml");
    std::fs::write(&f, &text).unwrap();
    let (ok, out, err) = run(bin().args(["config", "validate"]).arg(&f));
    assert!(ok, "{err}");
    assert!(out.contains("is valid"));
    std::fs::write(&f, "[mqtt]\nshare_grup = 1\n").unwrap();
    let (ok, _, err) = run(bin().args(["config", "validate"]).arg(&f));
    assert!(!ok);
    assert!(
        err.contains("share_grup") && err.contains("cloud.toml"),
        "{err}"
    );
    let (ok, help, _) = run(bin().arg("--help"));
    assert!(ok && help.contains("device add"));
}

#[tokio::test]
async fn serve_embedded_process_answers_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--embedded-broker",
            "127.0.0.1:0",
        ])
        .arg("--data")
        .arg(dir.path())
        .env("RUST_LOG", "error")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    // The start line names the HTTP address: "… trace page http://127.0.0.1:PORT/t/{code} …".
    let line = tokio::task::spawn_blocking(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("trace page http://"))
    })
    .await
    .unwrap();
    let result = async {
        let line = line.expect("start line");
        let addr = line
            .split("http://")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        support::http_get(addr.parse().unwrap(), "/healthz").await
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(result, (200, "ok\n".to_owned()));
}
