//! Must show: `ledger verify` exits 0 on an intact ledger and, after an attacker edits rows with
//! the sqlite3 CLI (dropping the append-only triggers first), exits non-zero naming the first
//! bad sequence number.

mod common;
use common::*;

const DROP_TRIGGERS: &str = "DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;";

fn tampered(sql: &str, expect_seq: u64, expect_problem: &str) {
    let d = tempfile::tempdir().unwrap();
    let db = ledger_with(d.path(), 12);
    let ok = edge(&["ledger", "verify", "--db", p(&db)]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("ok: 12 entries"), "{}", stdout(&ok));

    sqlite3(&db, &format!("{DROP_TRIGGERS} {sql}"));
    let o = edge(&["ledger", "verify", "--db", p(&db)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{sql}: {err}");
    assert!(
        err.contains(&format!(
            "first bad entry is seq {expect_seq} ({expect_problem})"
        )),
        "{sql}: {err}"
    );
    let json = edge(&["ledger", "verify", "--db", p(&db), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["first_bad"]["seq"], expect_seq, "{v}");
}

#[test]
fn triggers_stop_plain_edits() {
    let d = tempfile::tempdir().unwrap();
    let db = ledger_with(d.path(), 3);
    let o = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE entries SET body = '{}' WHERE seq = 2")
        .output()
        .expect("the sqlite3 CLI is required: apt-get install sqlite3");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("append-only"), "{}", stderr(&o));
    assert_eq!(
        edge(&["ledger", "verify", "--db", p(&db)]).status.code(),
        Some(0)
    );
}

#[test]
fn changed_body_is_named() {
    tampered(
        r#"UPDATE entries SET body = replace(body, '"total":', '"total":9') WHERE seq = 7;"#,
        7,
        "HashMismatch",
    );
}

#[test]
fn body_that_no_longer_parses_is_named() {
    tampered(
        r#"UPDATE entries SET body = '{"ticket_code":1}' WHERE seq = 4;"#,
        4,
        "Undecodable",
    );
}

#[test]
fn changed_hash_is_named() {
    tampered(
        "UPDATE entries SET hash = randomblob(32) WHERE seq = 5;",
        5,
        "HashMismatch",
    );
}

#[test]
fn swapped_rows_are_named() {
    tampered(
        "UPDATE entries SET seq = -1 WHERE seq = 4; \
         UPDATE entries SET seq = 4 WHERE seq = 9; \
         UPDATE entries SET seq = 9 WHERE seq = -1;",
        4,
        "BrokenLink",
    );
}

#[test]
fn deleted_row_is_named() {
    tampered("DELETE FROM entries WHERE seq = 6;", 6, "Missing");
}

#[test]
fn deleted_tail_is_named() {
    tampered("DELETE FROM entries WHERE seq >= 11;", 11, "Missing");
}

#[test]
fn changed_timestamp_is_named() {
    tampered(
        "UPDATE entries SET at = at + 1 WHERE seq = 3;",
        3,
        "HashMismatch",
    );
}
