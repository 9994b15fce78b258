//! The real `baytrace-cloud serve --store …` process, on PostgreSQL and on a SQLite file:
//! boxes publish signed batches over MQTT (out of order, duplicated), the cloud acks them, the
//! trace page resolves a sale, and an operator releases a quarantined box with the
//! `quarantine` commands while the cloud runs, after which the box's re-sent entries are
//! verified and stored.

#[macro_use]
mod common;
mod support;

use cloud_sync::store::CloudStore;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use support::*;
use trace_core::{EntryBatch, Event, Timestamp};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_baytrace-cloud"))
}

/// Kills the serve child (by its handle) however the test ends.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `serve` with `store_args`; returns the child, its HTTP address and MQTT port.
async fn start(data: &std::path::Path, store_args: &[String]) -> (Serve, SocketAddr, u16) {
    let mut child = bin()
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--embedded-broker",
            "127.0.0.1:0",
        ])
        .arg("--data")
        .arg(data)
        .args(store_args)
        .env("RUST_LOG", "error")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let serve = Serve(child);
    // "baytrace-cloud: trace page http://ADDR/t/{code}  metrics http://ADDR/metrics  mqtt HOST:PORT"
    let line = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        let found = lines
            .by_ref()
            .map_while(Result::ok)
            .find(|l| l.contains("trace page http://"));
        // Keep draining so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        found
    })
    .await
    .unwrap()
    .expect("serve printed its start line (is PostgreSQL running?)");
    let http = line
        .split("http://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let port = line.rsplit(':').next().unwrap().trim().parse().unwrap();
    (serve, http, port)
}

fn cli(data: &std::path::Path, store_args: &[String], args: &[&str]) -> (bool, String, String) {
    let out = bin()
        .args(args)
        .arg("--data")
        .arg(data)
        .args(store_args)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn end_to_end<S: CloudStore>(store: S, store_args: Vec<String>) {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_serve, http, port) = start(&data, &store_args).await;

    // The operator registers two boxes (in the same store the running cloud uses).
    let a = TestBox::new("stall-pg-a", 240);
    let b = TestBox::new("stall-pg-b", 60);
    store.register_device(a.record()).await.unwrap();
    store.register_device(b.record()).await.unwrap();

    // A: live-first then backlog, with duplicates.
    let mut pa = connect_box(port, &a.id, None, false).await;
    for (from, to) in [(201, 240), (1, 100), (101, 200), (1, 100), (150, 240)] {
        pa.up(a.payload(from, to)).await;
    }
    let ack = pa.ack_with_hwm(240).await;
    assert!(ack.missing.is_empty() && !ack.quarantined);

    // The trace page of a sale of A, served from this store.
    let Event::SaleTicket(t) = &a.chain[56].event else {
        panic!("seq 57 is a sale")
    };
    let (status, body) = http_get(http, &format!("/t/{}", t.ticket_code)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&a.record().entity), "{body}");

    // B: 1..=20 honest, then 21..=40 with entry 25 altered in transit → quarantined.
    let mut pb = connect_box(port, &b.id, None, false).await;
    pb.up(b.payload(1, 20)).await;
    pb.ack_with_hwm(20).await;
    let mut altered = b.chain[20..40].to_vec();
    altered[4].at = Timestamp(altered[4].at.0 + 1);
    pb.up(seal(&EntryBatch::new(b.id.clone(), altered), &b.key))
        .await;
    let ack = pb.ack().await;
    assert!(ack.quarantined && ack.hwm == 24, "{ack:?}");

    let (ok, out, err) = cli(&data, &store_args, &["quarantine", "list", "--json"]);
    assert!(ok, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{out}");
    assert_eq!(list[0]["device"], b.id.as_str());
    assert_eq!(list[0]["hwm"], 24);
    assert_eq!(list[0]["held_entries"], 16);
    assert_eq!(list[0]["cause"]["kind"], "bad_hash");

    // Releasing the healthy box is refused and changes nothing.
    let (ok, _, err) = cli(
        &data,
        &store_args,
        &["quarantine", "release", "--device", a.id.as_str()],
    );
    assert!(!ok && err.contains("not quarantined"), "{err}");
    let (ok, out, err) = cli(
        &data,
        &store_args,
        &[
            "quarantine",
            "release",
            "--device",
            b.id.as_str(),
            "--note",
            "bad modem, replaced",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let released: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&released["archived_entries"], &released["hwm"]),
        (&serde_json::json!(16), &serde_json::json!(24))
    );
    let (ok, out, _) = cli(&data, &store_args, &["quarantine", "list", "--json"]);
    assert!(ok && out.trim() == "[]", "{out}");

    // The box re-sends from its acked hwm: verified again and stored this time.
    pb.up(b.payload(25, 60)).await;
    let ack = pb.ack_with_hwm(60).await;
    assert!(!ack.quarantined && ack.missing.is_empty());

    let (ok, out, err) = cli(&data, &store_args, &["device", "list", "--json"]);
    assert!(ok, "{err}");
    let devices: serde_json::Value = serde_json::from_str(&out).unwrap();
    let hwms: Vec<(String, u64)> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_owned(),
                d["hwm"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(hwms, vec![(a.id.to_string(), 240), (b.id.to_string(), 60)]);
    assert_eq!(store.entries(&b.id, 1..=60).await.unwrap(), b.chain);
    assert_eq!(store.entries(&a.id, 1..=240).await.unwrap(), a.chain);
    let alerts = store.alerts(0, 10).await.unwrap();
    let kinds: Vec<&str> = alerts.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, ["bad_hash", "quarantine_released"]);
    assert!(alerts[1].detail.contains("bad modem"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_postgres() {
    let pg = common::PgBackend::new();
    let store = pg.open().await;
    end_to_end(
        store,
        vec![
            "--store".into(),
            common::pg_url(),
            "--schema".into(),
            pg.schema.clone(),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elsewhere.db");
    let store =
        cloud_sync::SqliteStore::open(cloud_sync::SqliteConfig::new(&path)).expect("sqlite");
    end_to_end(store, vec![format!("--store=sqlite:{}", path.display())]).await;
}
