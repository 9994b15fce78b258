//! Must show: no acknowledged entry is lost to kill -9.
//!
//! A child appends in a tight loop and prints each seq only after its commit returned; we
//! SIGKILL it at a random moment (after a random number of acknowledgements, so the kill
//! lands anywhere in the append/fsync cycle), then reopen: every acknowledged seq is present
//! and the chain verifies. Rounds alternate single appends and the group-commit writer, on
//! the same ledger, so recovery from one crash is the starting point of the next.

mod common;
use common::*;
use edge_daemon::ledger::{Ledger, LedgerOptions};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const ROUNDS: usize = 24;

#[test]
fn acknowledged_entries_survive_sigkill() {
    let d = tempfile::tempdir().unwrap();
    let db = ledger_with(d.path(), 0);
    let mut acknowledged: Vec<u64> = Vec::new();
    for round in 0..ROUNDS {
        let mut cmd = Command::new(BIN);
        cmd.args(["ledger", "stress-append", "--db", p(&db)]);
        if round % 2 == 1 {
            cmd.args(["--group", "4"]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let kill_after = rand::random_range(1..=150usize);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut this_round = Vec::new();
        for line in lines.by_ref() {
            this_round.push(line.unwrap().parse::<u64>().unwrap());
            if this_round.len() == kill_after {
                kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
                break;
            }
        }
        // Lines printed before the kill landed were acknowledged too.
        for line in lines {
            match line {
                Ok(l) if !l.is_empty() => this_round.push(l.parse().unwrap()),
                _ => break,
            }
        }
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: child exited by itself: {status}"
        );
        acknowledged.extend(&this_round);

        let l = Ledger::open(&db, &LedgerOptions::default())
            .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        let head = l.head().unwrap().seq;
        let max = *acknowledged.iter().max().unwrap();
        assert!(
            head >= max,
            "round {round}: head {head} < acknowledged {max}"
        );
        for &s in &this_round {
            assert!(
                l.get(s).unwrap().is_some(),
                "round {round}: acknowledged seq {s} lost"
            );
        }
        drop(l);
        let v = edge(&["ledger", "verify", "--db", p(&db)]);
        assert_eq!(v.status.code(), Some(0), "round {round}: {}", stderr(&v));
    }
    // Every acknowledgement names a distinct entry, and all of them are still there.
    let mut sorted = acknowledged.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        acknowledged.len(),
        "a seq was acknowledged twice"
    );
    let l = Ledger::open(&db, &LedgerOptions::default()).unwrap();
    let head = l.head().unwrap().seq;
    let present = l.range(1..=head).unwrap();
    assert_eq!(present.len() as u64, head);
    assert!(sorted.iter().all(|s| *s <= head));
}
