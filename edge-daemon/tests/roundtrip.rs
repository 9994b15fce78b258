//! The installer's path end to end through the real binary: init, status, append, backup,
//! restore, export, and the help that teaches.

mod common;
use common::*;
use trace_core::{Entry, HashAlg};

#[test]
fn init_status_backup_restore_export() {
    let d = tempfile::tempdir().unwrap();
    let boxdir = d.path().join("box");
    let out = edge_ok(&[
        "init",
        "--dir",
        p(&boxdir),
        "--device",
        "stall-a01",
        "--hash",
        "sm3",
    ]);
    assert!(out.contains("public key:"), "{out}");
    for f in [
        "edge.toml",
        "ledger.sqlite3",
        "keys/signing.key",
        "keys/ticket.key",
        "keys/signing.pub",
    ] {
        assert!(boxdir.join(f).exists(), "{f} missing");
    }
    let key_before = std::fs::read(boxdir.join("keys/signing.key")).unwrap();
    // Refuses to overwrite an existing box.
    let again = edge(&["init", "--dir", p(&boxdir), "--device", "stall-b02"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));
    assert_eq!(
        std::fs::read(boxdir.join("keys/signing.key")).unwrap(),
        key_before
    );

    let cfg = boxdir.join("edge.toml");
    edge_ok(&["config", "validate", p(&cfg)]);
    let s: serde_json::Value =
        serde_json::from_str(&edge_ok(&["status", "--config", p(&cfg), "--json"])).unwrap();
    assert_eq!(s["device"], "stall-a01");
    assert_eq!(s["hash_alg"], "sm3");
    assert_eq!(s["head_seq"], 0);
    assert_eq!(s["oldest_unsynced_at"], serde_json::Value::Null);

    let db = boxdir.join("ledger.sqlite3");
    edge_ok(&[
        "ledger",
        "stress-append",
        "--db",
        p(&db),
        "--count",
        "30",
        "--group",
        "3",
    ]);
    let s: serde_json::Value =
        serde_json::from_str(&edge_ok(&["status", "--db", p(&db), "--json"])).unwrap();
    assert_eq!(
        (s["head_seq"].as_u64(), s["backlog"].as_u64()),
        (Some(30), Some(30))
    );
    assert!(s["oldest_unsynced_at"].as_str().unwrap().ends_with('Z'));
    let text = edge_ok(&["status", "--config", p(&cfg)]);
    assert!(text.contains("backlog:            30"), "{text}");

    let backup = d.path().join("backup.sqlite3");
    edge_ok(&["backup", "--db", p(&db), "--to", p(&backup)]);
    let o = edge(&["backup", "--db", p(&db), "--to", p(&backup)]);
    assert_eq!(o.status.code(), Some(1), "backup must not overwrite");
    let restored = d.path().join("restored.sqlite3");
    let out = edge_ok(&["restore", "--from", p(&backup), "--db", p(&restored)]);
    assert!(out.contains("restored 30 verified entries"), "{out}");
    let o = edge(&["restore", "--from", p(&backup), "--db", p(&db)]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "restore must not overwrite a ledger"
    );
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    edge_ok(&["ledger", "verify", "--db", p(&restored)]);

    let jsonl = edge_ok(&[
        "ledger",
        "export",
        "--db",
        p(&restored),
        "--format",
        "jsonl",
    ]);
    let entries: Vec<Entry> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 30);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert!(
            e.hash_is_valid(HashAlg::Sm3),
            "entry {} does not re-hash",
            e.seq
        );
        if i > 0 {
            assert_eq!(e.prev_hash, entries[i - 1].hash);
        }
    }
    let out = d.path().join("export.jsonl");
    edge_ok(&[
        "ledger",
        "export",
        "--db",
        p(&db),
        "--format",
        "jsonl",
        "--out",
        p(&out),
    ]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), jsonl);
    let o = edge(&[
        "ledger",
        "export",
        "--db",
        p(&db),
        "--format",
        "jsonl",
        "--out",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(1), "export must not overwrite");
}

#[test]
fn help_teaches_with_examples() {
    let top = edge_ok(&["--help"]);
    assert!(
        top.contains("Examples:") && top.contains("baytrace-edge init --dir"),
        "{top}"
    );
    for sub in [
        vec!["init", "--help"],
        vec!["ledger", "verify", "--help"],
        vec!["bench", "ledger", "--help"],
        vec!["restore", "--help"],
    ] {
        let h = edge_ok(&sub);
        assert!(h.contains("Example"), "{sub:?}: {h}");
    }
    assert!(!top.contains("stress-append"));
    let o = edge(&["status"]);
    assert_eq!(o.status.code(), Some(2), "usage error: {}", stderr(&o));
}

#[test]
fn print_default_is_a_valid_config() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("edge.toml");
    std::fs::write(&cfg, edge_ok(&["config", "print-default"])).unwrap();
    let out = edge_ok(&["config", "validate", p(&cfg)]);
    assert!(out.contains("device stall-0001"), "{out}");
}

#[test]
fn run_starts_on_a_good_ledger_and_stops_on_sigterm() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use std::io::{BufRead, BufReader};
    let d = tempfile::tempdir().unwrap();
    let db = ledger_with(d.path(), 5);
    let cfg = db.parent().unwrap().join("edge.toml");
    /// Kills the daemon if an assertion fails first, so the test cannot hang.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Reap(
        std::process::Command::new(BIN)
            .args(["run", "--config", p(&cfg)])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let mut log = String::new();
    for l in lines.by_ref() {
        let l = l.unwrap();
        log.push_str(&l);
        log.push('\n');
        if l.contains("box ready") {
            break;
        }
    }
    assert!(
        log.contains("ledger open and verified") && log.contains("head_seq=5"),
        "{log}"
    );
    kill(Pid::from_raw(child.0.id() as i32), Signal::SIGTERM).unwrap();
    for l in lines {
        log.push_str(&l.unwrap());
        log.push('\n');
    }
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("ledger closed cleanly"), "{log}");
}

#[test]
fn bench_ledger_reports_every_phase_and_can_rerun() {
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("bench.sqlite3");
    for run in 1..=2u64 {
        let out = edge_ok(&[
            "bench",
            "ledger",
            "--db",
            p(&db),
            "--entries",
            "200",
            "--single",
            "10",
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let phases = v["phases"].as_array().unwrap();
        assert_eq!(phases.len(), 5, "{v}");
        assert!(
            phases
                .iter()
                .all(|p| p["entries_per_s"].as_u64().unwrap() > 0),
            "{v}"
        );
        assert_eq!(v["head_seq"], run * 410, "{v}");
    }
    edge_ok(&["ledger", "verify", "--db", p(&db)]);
    let leftovers = std::fs::read_dir(d.path()).unwrap().count();
    assert_eq!(leftovers, 1, "the bare baseline file must be removed");
}
