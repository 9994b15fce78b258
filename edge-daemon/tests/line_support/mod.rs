//! Shared by the line tests: a box ledger, a coder simulator in this process, the
//! `baytrace-edge line run` child, and readers for the print log and the ledger.
#![allow(dead_code)]

use device_drivers::coder::CoderProtocol;
use device_drivers::coder::sim::{CoderSim, CoderSimHandle, CoderSimOptions};
use device_drivers::sim::SimListen;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_baytrace-edge");

pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

pub fn edge(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run baytrace-edge")
}

pub fn edge_ok(args: &[&str]) -> String {
    let o = edge(args);
    assert!(
        o.status.success(),
        "baytrace-edge {args:?} failed: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A fresh box; returns its ledger path.
pub fn new_box(dir: &Path) -> PathBuf {
    let boxdir = dir.join("box");
    edge_ok(&["init", "--dir", p(&boxdir), "--device", "line-a01"]);
    boxdir.join("ledger.sqlite3")
}

/// Bind a simulator on a free port and serve it on `rt`; returns its URI and a handle.
pub fn start_sim(
    rt: &tokio::runtime::Runtime,
    protocol: CoderProtocol,
    opts: CoderSimOptions,
) -> (String, CoderSimHandle) {
    let listen: SimListen = "tcp://127.0.0.1:0".parse().unwrap();
    let sim = rt
        .block_on(CoderSim::bind(protocol, &listen, opts))
        .expect("bind the coder simulator");
    let uri = sim.describe().unwrap();
    let handle = sim.handle();
    rt.spawn(sim.run());
    (uri, handle)
}

pub struct JobArgs<'a> {
    pub db: &'a Path,
    pub job: &'a str,
    pub batch: &'a str,
    pub pool: &'a str,
    pub count: u64,
    pub protocol: CoderProtocol,
    pub uri: &'a str,
    pub prefix: &'a str,
}

pub fn spawn_line(a: &JobArgs<'_>) -> Child {
    Command::new(BIN)
        .args([
            "line",
            "run",
            "--db",
            p(a.db),
            "--job",
            a.job,
            "--batch",
            a.batch,
            "--pool",
            a.pool,
            "--count",
            &a.count.to_string(),
            "--protocol",
            a.protocol.name(),
            "--coder",
            a.uri,
            "--code-prefix",
            a.prefix,
            "--width",
            "8",
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn baytrace-edge line run")
}

/// The simulator's print log: one printed code per line.
pub fn read_log(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[derive(Debug, serde::Deserialize, PartialEq, Eq)]
pub struct Reconciliation {
    pub allocated: u64,
    pub encoded: u64,
    pub scrapped: u64,
    pub unused: u64,
}

pub fn reconcile(db: &Path, batch: &str) -> Reconciliation {
    let out = edge_ok(&[
        "line",
        "reconcile",
        "--db",
        p(db),
        "--batch",
        batch,
        "--json",
    ]);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Serials per state and the scrap reasons, read back from the ledger's own entries.
#[derive(Debug, Default)]
pub struct LedgerCodes {
    pub allocated: Vec<u64>,
    pub encoded: Vec<u64>,
    pub scrapped: Vec<u64>,
    pub scrap_reasons: Vec<String>,
}

pub fn ledger_codes(db: &Path) -> LedgerCodes {
    let out = edge_ok(&["ledger", "export", "--db", p(db), "--format", "jsonl"]);
    let mut c = LedgerCodes::default();
    let expand = |r: &serde_json::Value| -> Vec<u64> {
        let (a, b) = (r["first"].as_u64().unwrap(), r["last"].as_u64().unwrap());
        (a..=b).collect()
    };
    for line in out.lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        let body = &e["body"];
        match e["kind"].as_str().unwrap() {
            "codes_allocated" => c.allocated.extend(expand(&body["range"])),
            "codes_encoded" => {
                for r in body["ranges"].as_array().unwrap() {
                    c.encoded.extend(expand(r));
                }
            }
            "codes_scrapped" => {
                for r in body["ranges"].as_array().unwrap() {
                    c.scrapped.extend(expand(r));
                }
                c.scrap_reasons
                    .push(body["reason"].as_str().unwrap().to_string());
            }
            _ => {}
        }
    }
    c
}

/// No element twice.
pub fn assert_distinct(what: &str, v: &[String]) {
    let mut seen = HashSet::with_capacity(v.len());
    for x in v {
        assert!(seen.insert(x), "{what}: {x} appears twice");
    }
}
