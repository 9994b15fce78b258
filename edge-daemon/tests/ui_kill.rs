//! "Nothing acknowledged on screen is lost if the box is killed the moment after": run the
//! real `baytrace-edge run` with its UI, make a sale through HTTP, SIGKILL the box as soon as
//! the response arrives, reopen the ledger: the sale and its ticket code are there and the
//! chain verifies. Several rounds, each starting from the previous crash.

mod ui_support;

use edge_daemon::ledger::{Ledger, LedgerOptions};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::BufRead;
use std::process::{Command, Stdio};
use ui_support::*;

const BIN: &str = env!("CARGO_BIN_EXE_baytrace-edge");

struct Reap(std::process::Child);
impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_acknowledged_on_screen_survives_sigkill() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("box");
    let o = Command::new(BIN)
        .args([
            "init",
            "--dir",
            dir.to_str().unwrap(),
            "--device",
            "stall-kill-01",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cfg = dir.join("edge.toml");
    let mut t: toml::Table = std::fs::read_to_string(&cfg).unwrap().parse().unwrap();
    let ui = t.get_mut("ui").and_then(|u| u.as_table_mut()).unwrap();
    ui.insert("listen".into(), "127.0.0.1:0".into());
    ui.insert("device_no".into(), 440_199.into());
    ui.insert("stall_name".into(), "测试档".into());
    ui.insert("users".into(), toml::Value::try_from(users()).unwrap());
    ui.insert(
        "products".into(),
        toml::Value::try_from(products()).unwrap(),
    );
    std::fs::write(&cfg, toml::to_string(&t).unwrap()).unwrap();

    let mut codes = Vec::new();
    for round in 0..3 {
        let mut child = Reap(
            Command::new(BIN)
                .args(["run", "--config", cfg.to_str().unwrap()])
                .env("NO_COLOR", "1")
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let err = child.0.stderr.take().unwrap();
        // The UI's address is in the log line that says it serves.
        let base = tokio::task::spawn_blocking(move || {
            let mut lines = std::io::BufReader::new(err).lines();
            let mut log = String::new();
            for l in lines.by_ref() {
                let l = l.unwrap();
                log.push_str(&l);
                log.push('\n');
                if let Some(i) = l.find("url=http://") {
                    let url = l[i + 4..].split_whitespace().next().unwrap().to_owned();
                    std::thread::spawn(move || for _ in lines {});
                    return url.trim_end_matches('/').to_owned();
                }
                assert!(!l.contains("box ready"), "no UI started:\n{log}");
            }
            panic!("the box exited:\n{log}");
        })
        .await
        .unwrap();
        let cookie = login_cookie(&base, STAFF_PIN).await;
        let (s, v) = post_json(
            &base,
            "/api/sale",
            &cookie,
            serde_json::json!({"lines": [{"product": "鸡蛋", "count": 3 + round}], "payment": "cash"}),
        )
        .await;
        // The moment the screen would show "recorded": kill -9.
        kill(Pid::from_raw(child.0.id() as i32), Signal::SIGKILL).unwrap();
        assert_eq!(s, 200, "{v}");
        let _ = child.0.wait();
        codes.push(v["code"].as_str().unwrap().to_owned());

        let l = Ledger::open(&dir.join("ledger.sqlite3"), &LedgerOptions::default()).unwrap();
        let report = l.verify().unwrap();
        assert!(report.first_bad.is_none(), "{report:?}");
        for c in &codes {
            assert!(
                l.ticket_seq(c).unwrap().is_some(),
                "ticket {c} lost in round {round}"
            );
        }
    }
}
