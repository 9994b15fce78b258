//! Must show: bad input gets a clear error, a non-zero exit, and changes nothing.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

fn refused(args: &[&str], needle: &str) -> String {
    let o = edge(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{args:?} should fail: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in: {err}"
    );
    err
}

#[test]
fn corrupt_pages_are_refused_and_left_alone() {
    let d = tempfile::tempdir().unwrap();
    let db = ledger_with(d.path(), 40);
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    assert!(bytes.len() > 6 * page);
    for b in &mut bytes[3 * page..6 * page] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let before = snapshot(&db);
    refused(&["ledger", "verify", "--db", p(&db)], "is damaged");
    let restored = d.path().join("restored.sqlite3");
    refused(
        &["restore", "--from", p(&db), "--db", p(&restored)],
        "is damaged",
    );
    assert!(!restored.exists());
    assert_eq!(snapshot(&db), before);
}

#[test]
fn garbage_header_is_not_a_ledger() {
    let d = tempfile::tempdir().unwrap();
    let db = ledger_with(d.path(), 5);
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[..16].copy_from_slice(b"NOT A LEDGER....");
    std::fs::write(&db, &bytes).unwrap();
    let before = snapshot(&db);
    for args in [
        vec!["status", "--db", p(&db)],
        vec!["ledger", "verify", "--db", p(&db)],
        vec!["ledger", "stress-append", "--db", p(&db), "--count", "1"],
    ] {
        refused(&args, "is not a baytrace ledger");
    }
    assert_eq!(snapshot(&db), before);
}

#[test]
fn truncated_file_is_refused_and_left_alone() {
    let d = tempfile::tempdir().unwrap();
    let db = ledger_with(d.path(), 40);
    for cut in [2, 3] {
        let full = std::fs::read(&db).unwrap();
        let len = full.len() * (cut - 1) / cut + 100; // mid-page, and then more than half
        let t = d.path().join(format!("trunc-{cut}.sqlite3"));
        std::fs::write(&t, &full[..len]).unwrap();
        let before = snapshot(&t);
        refused(&["status", "--db", p(&t)], "truncated");
        refused(&["ledger", "verify", "--db", p(&t)], "truncated");
        assert_eq!(snapshot(&t), before);
    }
    // Cut exactly at a page boundary: the header's page count still gives it away.
    let full = std::fs::read(&db).unwrap();
    let t = d.path().join("trunc-page.sqlite3");
    std::fs::write(&t, &full[..4096 * 4]).unwrap();
    refused(&["ledger", "verify", "--db", p(&t)], "truncated");
}

#[test]
fn newer_schema_is_refused_unchanged() {
    let d = tempfile::tempdir().unwrap();
    let db = ledger_with(d.path(), 3);
    sqlite3(&db, "PRAGMA user_version = 99;");
    let before = snapshot(&db);
    refused(&["status", "--db", p(&db)], "schema version 99");
    refused(
        &["ledger", "stress-append", "--db", p(&db), "--count", "1"],
        "upgrade baytrace-edge",
    );
    assert_eq!(snapshot(&db), before);
}

/// Run as an unprivileged user when we are root (root ignores permission bits).
fn as_user(args: &[&str]) -> std::process::Output {
    let mut c = Command::new(BIN);
    c.args(args);
    // Files we create are owned by our effective uid.
    let probe = tempfile::NamedTempFile::new().unwrap();
    if std::os::unix::fs::MetadataExt::uid(&probe.as_file().metadata().unwrap()) == 0 {
        c.uid(65534).gid(65534);
    }
    c.output().unwrap()
}

#[test]
fn read_only_directory_is_refused_unchanged() {
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = ledger_with(d.path(), 3);
    let dir = db.parent().unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = snapshot(&db);
    for args in [
        vec!["ledger", "stress-append", "--db", p(&db), "--count", "1"],
        vec!["status", "--db", p(&db)],
    ] {
        let o = as_user(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("is not writable"), "{args:?}: {err}");
    }
    let o = as_user(&[
        "init",
        "--dir",
        p(&dir.join("new")),
        "--device",
        "stall-b02",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!dir.join("new").exists());
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(snapshot(&db), before);
}

#[test]
fn full_disk_keeps_every_acknowledged_entry() {
    let d = tempfile::tempdir().unwrap();
    let db = ledger_with(d.path(), 0);
    // File size limit of 96 KiB (POSIX `ulimit -f` counts 512-byte blocks); SIGXFSZ ignored
    // so the write fails with EFBIG like a full disk, instead of killing the process.
    let script = format!(
        "trap '' XFSZ; ulimit -f 192; exec '{}' ledger stress-append --db '{}'",
        BIN,
        p(&db)
    );
    let o = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("nothing was committed") && err.contains("file size limit"),
        "{err}"
    );
    let acked: Vec<u64> = stdout(&o).lines().map(|l| l.parse().unwrap()).collect();
    assert!(!acked.is_empty(), "the limit left no room at all: {err}");
    let v = edge(&["ledger", "verify", "--db", p(&db)]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    let s: serde_json::Value =
        serde_json::from_str(&edge_ok(&["status", "--db", p(&db), "--json"])).unwrap();
    assert_eq!(s["head_seq"], *acked.last().unwrap(), "{s}");
}

#[test]
fn invalid_config_names_file_line_and_key() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("edge.toml");
    let text = "[device]\nid = \"stall-a01\"\n\n[storage]\ndata_dri = \"/var/lib/baytrace\"\n";
    std::fs::write(&cfg, text).unwrap();
    let err = refused(&["config", "validate", p(&cfg)], "edge.toml:5:");
    assert!(err.contains("storage.data_dri"), "{err}");
    refused(&["run", "--config", p(&cfg)], "storage.data_dri");
    std::fs::write(&cfg, "[device]\nid = \"stall-a01\"\nhash_alg = \"md5\"\n").unwrap();
    let err = refused(&["config", "validate", p(&cfg)], "edge.toml:3:");
    assert!(err.contains("device.hash_alg"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        "[device]\nid = \"stall-a01\"\nhash_alg = \"md5\"\n"
    );
    refused(
        &["config", "validate", p(&d.path().join("missing.toml"))],
        "cannot read config",
    );
}

#[test]
fn example_config_validates() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/edge.example.toml");
    let out = edge_ok(&["config", "validate", example]);
    assert!(out.contains(": ok"), "{out}");
    let cfg =
        edge_daemon::config::EdgeConfig::load_with_env(std::path::Path::new(example), []).unwrap();
    assert_eq!(cfg.config.device.id.as_str(), "stall-a01");
}
