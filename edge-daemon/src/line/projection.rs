//! The line projection: `codes_allocated`, `codes_encoded` and `codes_scrapped` entries kept as
//! disjoint serial ranges per pool, attributed to line jobs, inside the ledger's append
//! transaction.
//!
//! Why it refuses: the per-batch reconciliation `allocated = encoded + scrapped + unused` is only
//! exact if no serial of a line job is settled twice or settled without being allocated. So an
//! entry that would settle a line job's serial a second time, or a range reaching outside the
//! allocations, is refused and nothing is recorded. Ranges that touch no line job's allocation
//! (codes generated for external printers, say) are other modules' business and pass through.
//!
//! Attribution: an allocation belongs to the pool's active job in `line_jobs` at the moment it
//! is appended (at most one per pool, a unique index says so). Settled ranges belong to the job
//! of the allocation they fall in.

use rusqlite::{Connection, OptionalExtension, params};
use trace_core::Event;
use trace_core::event::CodeRange;

/// Apply one entry. `Ok(Err(reason))` refuses the entry (the ledger rolls back).
pub(crate) fn apply(
    conn: &Connection,
    seq: i64,
    event: &Event,
) -> rusqlite::Result<Result<(), String>> {
    match event {
        Event::CodesAllocated(a) => allocated(conn, seq, &a.pool, a.range),
        Event::CodesEncoded(e) => settle_all(conn, seq, &e.pool, &e.ranges, "encoded"),
        Event::CodesScrapped(s) => settle_all(conn, seq, &s.pool, &s.ranges, "scrapped"),
        _ => Ok(Ok(())),
    }
}

fn to_i64(v: u64) -> Result<i64, String> {
    i64::try_from(v).map_err(|_| format!("serial {v} is out of range"))
}

/// Rows of `table` in `pool` overlapping `[a, b]`. Ranges in a table are disjoint, so only
/// rows starting inside `[a, b]` and the last one starting before `a` can overlap.
fn overlapping(
    conn: &Connection,
    table: &str,
    pool: &str,
    a: i64,
    b: i64,
) -> rusqlite::Result<Vec<(i64, i64, Option<String>)>> {
    let sql = format!(
        "SELECT first, last, job FROM {table} WHERE pool = ?1 AND first <= ?3 AND last >= ?2 \
         AND first >= COALESCE((SELECT MAX(first) FROM {table} WHERE pool = ?1 AND first <= ?2), ?2)"
    );
    let mut st = conn.prepare_cached(&sql)?;
    st.query_map(params![pool, a, b], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?
    .collect()
}

fn allocated(
    conn: &Connection,
    seq: i64,
    pool: &str,
    r: CodeRange,
) -> rusqlite::Result<Result<(), String>> {
    let (a, b) = match (to_i64(r.first), to_i64(r.last)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    let job: Option<String> = conn
        .prepare_cached(
            "SELECT job FROM line_jobs WHERE pool = ?1 AND state IN ('running', 'paused')",
        )?
        .query_row([pool], |r| r.get(0))
        .optional()?;
    let clash = overlapping(conn, "line_alloc", pool, a, b)?;
    if !clash.is_empty() {
        if job.is_some() || clash.iter().any(|(_, _, j)| j.is_some()) {
            return Ok(Err(format!(
                "serials {a}..={b} of pool {pool} overlap an earlier allocation"
            )));
        }
        // Another module allocating twice is its own concern; the line never saw these.
        return Ok(Ok(()));
    }
    conn.prepare_cached(
        "INSERT INTO line_alloc (pool, first, last, job, seq) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![pool, a, b, job, seq])?;
    Ok(Ok(()))
}

fn settle_all(
    conn: &Connection,
    seq: i64,
    pool: &str,
    ranges: &[CodeRange],
    state: &str,
) -> rusqlite::Result<Result<(), String>> {
    for r in ranges {
        if let Err(e) = settle(conn, seq, pool, *r, state)? {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

fn settle(
    conn: &Connection,
    seq: i64,
    pool: &str,
    r: CodeRange,
    state: &str,
) -> rusqlite::Result<Result<(), String>> {
    let (a, b) = match (to_i64(r.first), to_i64(r.last)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    let allocs = overlapping(conn, "line_alloc", pool, a, b)?;
    let jobs: Vec<&String> = allocs.iter().filter_map(|(_, _, j)| j.as_ref()).collect();
    if jobs.is_empty() {
        return Ok(Ok(()));
    }
    let covered: i64 = allocs
        .iter()
        .map(|(f, l, _)| (*l).min(b) - (*f).max(a) + 1)
        .sum();
    if covered != b - a + 1 || jobs.len() != allocs.len() || jobs.iter().any(|j| *j != jobs[0]) {
        return Ok(Err(format!(
            "serials {a}..={b} of pool {pool} are not all allocated to one line job"
        )));
    }
    if let Some((f, l, _)) = overlapping(conn, "line_settled", pool, a, b)?.first() {
        return Ok(Err(format!(
            "serials {}..={} of pool {pool} are already encoded or scrapped",
            a.max(*f),
            b.min(*l)
        )));
    }
    conn.prepare_cached(
        "INSERT INTO line_settled (pool, first, last, state, job, seq) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![pool, a, b, state, jobs[0], seq])?;
    Ok(Ok(()))
}
