//! The installer's path through the real binary: `init`, `register` with the credentials
//! `baytrace-cloud device add` wrote, `run` (which starts sync), `status --json`.

mod sync_support;

use cloud_sync::provision::CredentialsFile;
use std::path::Path;
use std::process::{Command, Stdio};
use sync_support::*;
use trace_core::{Ack, topics};

const BIN: &str = env!("CARGO_BIN_EXE_baytrace-edge");

fn edge(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run baytrace-edge")
}

fn ok(args: &[&str]) -> String {
    let o = edge(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_then_run_syncs_and_status_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let boxdir = dir.path().join("box");
    ok(&["init", "--dir", s(&boxdir), "--device", DEVICE]);
    let config = boxdir.join("edge.toml");
    let db = boxdir.join("ledger.sqlite3");
    let cloud = cloud(None).await;
    let cred = cloud.add_device().await;
    let cred_file = cred.write_to(dir.path()).unwrap();

    // Credentials for another box are refused and change nothing.
    let mut other = cred.clone();
    other.device = trace_core::DeviceId::new("stall-zz9").unwrap();
    let other_dir = dir.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other_file = other.write_to(&other_dir).unwrap();
    let before = std::fs::read(&config).unwrap();
    let o = edge(&[
        "register",
        "--credentials",
        s(&other_file),
        "--config",
        s(&config),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("stall-zz9"));
    assert_eq!(std::fs::read(&config).unwrap(), before);

    ok(&[
        "register",
        "--credentials",
        s(&cred_file),
        "--config",
        s(&config),
    ]);
    let key = std::fs::read_to_string(boxdir.join("keys/signing.key")).unwrap();
    assert_eq!(key.trim(), cred.signing_key);
    assert!(boxdir.join("keys/signing.key.before-register").exists());
    let cfg = edge_daemon::config::EdgeConfig::load(&config).unwrap();
    assert!(cfg.config.sync.enabled);
    assert_eq!(cfg.config.sync.broker, cred.mqtt.url);
    // Twice is harmless.
    ok(&[
        "register",
        "--credentials",
        s(&cred_file),
        "--config",
        s(&config),
    ]);

    ok(&["ledger", "stress-append", "--db", s(&db), "--count", "300"]);
    let status: serde_json::Value =
        serde_json::from_str(&ok(&["status", "--config", s(&config), "--json"])).unwrap();
    assert_eq!(status["backlog"], 300);
    assert!(status["oldest_unsynced_at"].is_string());

    // `run` syncs; the cloud's ack with hwm 300 is the event we wait for.
    let (_obs, mut acks) = observer(&cloud.host, cloud.port, &topics::ack(&device())).await;
    let mut child = Command::new(BIN)
        .args(["run", "--config", s(&config)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    loop {
        let (_, payload) = acks.recv().await.expect("acks");
        let ack: Ack = serde_json::from_slice(&payload).unwrap();
        if ack.hwm == 300 {
            break;
        }
    }
    // The box marks after the ack; SIGTERM then lets it stop cleanly.
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    let mut status: serde_json::Value;
    loop {
        status = serde_json::from_str(&ok(&["status", "--config", s(&config), "--json"])).unwrap();
        if status["synced_seq"] == 300 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(child.wait().unwrap().success());
    for k in [
        "device",
        "head_seq",
        "head_hash",
        "synced_seq",
        "backlog",
        "oldest_unsynced_at",
    ] {
        assert!(status.get(k).is_some(), "status --json has {k}");
    }
    assert_eq!(status["device"], DEVICE);
    assert_eq!(status["head_seq"], 300);
    assert_eq!(status["backlog"], 0);
    assert!(status["oldest_unsynced_at"].is_null());
    let ledger =
        edge_daemon::ledger::Ledger::open(&db, &edge_daemon::ledger::LedgerOptions::default())
            .unwrap();
    cloud.assert_matches(&ledger).await;
}
