//! Helpers for the integration tests: the real `baytrace-edge` binary, the `sqlite3` CLI,
//! fresh ledgers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_baytrace-edge");

pub fn edge(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run baytrace-edge")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Run `baytrace-edge` and require success.
pub fn edge_ok(args: &[&str]) -> String {
    let o = edge(args);
    assert!(
        o.status.success(),
        "baytrace-edge {args:?} failed: {}\n{}",
        o.status,
        stderr(&o)
    );
    stdout(&o)
}

pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// A fresh box in `dir/box` with `n` synthetic sales; returns the ledger path.
pub fn ledger_with(dir: &Path, n: u64) -> PathBuf {
    let boxdir = dir.join("box");
    edge_ok(&["init", "--dir", p(&boxdir), "--device", "stall-a01"]);
    let db = boxdir.join("ledger.sqlite3");
    if n > 0 {
        let out = edge_ok(&[
            "ledger",
            "stress-append",
            "--db",
            p(&db),
            "--count",
            &n.to_string(),
        ]);
        assert_eq!(out.lines().count() as u64, n);
    }
    db
}

/// Run SQL through the `sqlite3` CLI, as an attacker with shell access would.
pub fn sqlite3(db: &Path, sql: &str) {
    let o = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .unwrap_or_else(|e| {
            panic!("the sqlite3 CLI is required for this test ({e}): apt-get install sqlite3")
        });
    assert!(o.status.success(), "sqlite3 {sql:?}: {}", stderr(&o));
}

/// The file's bytes plus whether -wal/-shm exist, to prove a refusal changed nothing.
pub fn snapshot(db: &Path) -> (Vec<u8>, bool, bool) {
    let side = |s: &str| {
        let mut o = db.as_os_str().to_owned();
        o.push(s);
        PathBuf::from(o).exists()
    };
    (std::fs::read(db).unwrap(), side("-wal"), side("-shm"))
}
