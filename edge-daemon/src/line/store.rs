//! The line's own rows in the ledger file (`line_jobs`, `line_sessions`) and its read queries
//! over the projection (`line_alloc`, `line_settled`).
//!
//! Why a second connection: jobs and sessions are operational state, not ledger facts, and the
//! ledger connection belongs to the group-commit writer's thread. SQLite in WAL mode serialises
//! the two writers; `synchronous=FULL` makes a session row durable before the first code it
//! maps is sent, which is what crash recovery relies on.

use super::LineError;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use trace_core::event::CodeRange;

/// What a job is, as `line run` was asked to run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobSpec {
    pub job: String,
    pub batch: String,
    pub pool: String,
    pub template: Option<String>,
    pub coder: String,
    /// Items to encode.
    pub target: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Paused,
    Stopped,
    Done,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Stopped => "stopped",
            JobState::Done => "done",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => JobState::Running,
            "paused" => JobState::Paused,
            "stopped" => JobState::Stopped,
            "done" => JobState::Done,
            _ => return None,
        })
    }
}

/// `allocated = encoded + scrapped + unused`, per batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub allocated: u64,
    pub encoded: u64,
    pub scrapped: u64,
    pub unused: u64,
}

/// Session row: from `base_serial` on, serial s takes position `base_position + (s - base_serial)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub base_serial: u64,
    pub base_position: u64,
}

/// Shareable between tasks (the line screen reads while the job writes): the connection sits
/// behind a mutex, held only for one statement or query at a time.
pub struct LineStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl LineStore {
    /// Open the line tables of an existing ledger (migrated by [`crate::ledger::Ledger::open`]).
    pub fn open(path: &Path) -> Result<LineStore, LineError> {
        let conn = Connection::open(path).map_err(|e| LineError::sql(path, e))?;
        let setup = || -> rusqlite::Result<()> {
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            Ok(())
        };
        setup().map_err(|e| LineError::sql(path, e))?;
        Ok(LineStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done statement: SQLite rolled it back.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sql(&self, e: rusqlite::Error) -> LineError {
        LineError::sql(&self.path, e)
    }

    /// Create the job, or return the stored one when it exists with the same spec (a restart).
    pub fn create_or_resume(&self, spec: &JobSpec) -> Result<JobState, LineError> {
        if let Some((stored, state)) = self.job(&spec.job)? {
            if stored.batch != spec.batch || stored.pool != spec.pool {
                return Err(LineError::Invalid(format!(
                    "job {} exists for batch {} and pool {}; pick a new job id",
                    spec.job, stored.batch, stored.pool
                )));
            }
            return Ok(state);
        }
        let target = i64::try_from(spec.target)
            .map_err(|_| LineError::Invalid(format!("target {} is too large", spec.target)))?;
        let r = self.conn().execute(
            "INSERT INTO line_jobs (job, batch, pool, template, coder, target, state, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7)",
            params![
                spec.job,
                spec.batch,
                spec.pool,
                spec.template,
                spec.coder,
                target,
                trace_core::Timestamp::now().0
            ],
        );
        match r {
            Ok(_) => Ok(JobState::Running),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(LineError::Invalid(format!(
                    "another job is active on pool {}; stop it first",
                    spec.pool
                )))
            }
            Err(e) => Err(self.sql(e)),
        }
    }

    pub fn job(&self, job: &str) -> Result<Option<(JobSpec, JobState)>, LineError> {
        self.conn()
            .query_row(
                "SELECT job, batch, pool, template, coder, target, state FROM line_jobs WHERE job = ?1",
                [job],
                |r| {
                    let target: i64 = r.get(5)?;
                    let state: String = r.get(6)?;
                    Ok((
                        JobSpec {
                            job: r.get(0)?,
                            batch: r.get(1)?,
                            pool: r.get(2)?,
                            template: r.get(3)?,
                            coder: r.get(4)?,
                            target: u64::try_from(target).unwrap_or(0),
                        },
                        JobState::parse(&state).unwrap_or(JobState::Stopped),
                    ))
                },
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    pub fn set_state(&self, job: &str, state: JobState) -> Result<(), LineError> {
        self.conn()
            .execute(
                "UPDATE line_jobs SET state = ?2 WHERE job = ?1",
                params![job, state.as_str()],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Record a session row; durable when this returns.
    pub fn add_session(&self, job: &str, s: Session) -> Result<(), LineError> {
        let (bs, bp) = (to_i64(s.base_serial)?, to_i64(s.base_position)?);
        self.conn()
            .execute(
                "INSERT INTO line_sessions (job, n, base_serial, base_position) \
                 VALUES (?1, (SELECT COALESCE(MAX(n), 0) + 1 FROM line_sessions WHERE job = ?1), ?2, ?3)",
                params![job, bs, bp],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    pub fn sessions(&self, job: &str) -> Result<Vec<Session>, LineError> {
        let conn = self.conn();
        let mut st = conn
            .prepare(
                "SELECT base_serial, base_position FROM line_sessions WHERE job = ?1 ORDER BY n",
            )
            .map_err(|e| self.sql(e))?;
        st.query_map([job], |r| {
            let (s, p): (i64, i64) = (r.get(0)?, r.get(1)?);
            Ok(Session {
                base_serial: u64::try_from(s).unwrap_or(0),
                base_position: u64::try_from(p).unwrap_or(0),
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sql(e))
    }

    /// The first serial never allocated from `pool` (by anyone this box knows of).
    pub fn pool_next(&self, pool: &str) -> Result<u64, LineError> {
        let last: Option<i64> = self
            .conn()
            .query_row(
                "SELECT MAX(last) FROM line_alloc WHERE pool = ?1",
                [pool],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))?;
        Ok(last.map_or(1, |l| u64::try_from(l).unwrap_or(0) + 1))
    }

    /// Serial ranges allocated to `job` and neither encoded nor scrapped, in order.
    pub fn unsettled(&self, job: &str) -> Result<Vec<CodeRange>, LineError> {
        let allocs = self.ranges("SELECT first, last FROM line_alloc WHERE job = ?1", job)?;
        let settled = self.ranges("SELECT first, last FROM line_settled WHERE job = ?1", job)?;
        Ok(subtract(allocs, settled))
    }

    fn ranges(&self, sql: &str, job: &str) -> Result<Vec<CodeRange>, LineError> {
        let conn = self.conn();
        let mut st = conn.prepare(sql).map_err(|e| self.sql(e))?;
        let mut v: Vec<CodeRange> = st
            .query_map([job], |r| {
                let (a, b): (i64, i64) = (r.get(0)?, r.get(1)?);
                Ok(CodeRange {
                    first: u64::try_from(a).unwrap_or(0),
                    last: u64::try_from(b).unwrap_or(0),
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql(e))?;
        v.sort_by_key(|r| r.first);
        Ok(v)
    }

    /// Counts for one job: (encoded, scrapped).
    pub fn job_counts(&self, job: &str) -> Result<(u64, u64), LineError> {
        let q = |state: &str| -> Result<u64, LineError> {
            let n: i64 = self
                .conn()
                .query_row(
                    "SELECT COALESCE(SUM(last - first + 1), 0) FROM line_settled \
                     WHERE job = ?1 AND state = ?2",
                    params![job, state],
                    |r| r.get(0),
                )
                .map_err(|e| self.sql(e))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        Ok((q("encoded")?, q("scrapped")?))
    }

    /// The reconciliation of every line job of `batch`.
    pub fn reconcile(&self, batch: &str) -> Result<Reconciliation, LineError> {
        let jobs: i64 = self
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM line_jobs WHERE batch = ?1",
                [batch],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))?;
        if jobs == 0 {
            return Err(LineError::Invalid(format!("no line job for batch {batch}")));
        }
        let sum = |sql: &str| -> Result<u64, LineError> {
            let n: i64 = self
                .conn()
                .query_row(sql, [batch], |r| r.get(0))
                .map_err(|e| self.sql(e))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let allocated = sum(
            "SELECT COALESCE(SUM(a.last - a.first + 1), 0) FROM line_alloc a \
             JOIN line_jobs j ON j.job = a.job WHERE j.batch = ?1",
        )?;
        let encoded = sum(
            "SELECT COALESCE(SUM(s.last - s.first + 1), 0) FROM line_settled s \
             JOIN line_jobs j ON j.job = s.job WHERE j.batch = ?1 AND s.state = 'encoded'",
        )?;
        let scrapped = sum(
            "SELECT COALESCE(SUM(s.last - s.first + 1), 0) FROM line_settled s \
             JOIN line_jobs j ON j.job = s.job WHERE j.batch = ?1 AND s.state = 'scrapped'",
        )?;
        // Settled ranges lie inside the job's allocations and are disjoint (the projection
        // refuses anything else), so the remainder is exactly the allocated, unsettled serials.
        let unused = allocated
            .checked_sub(encoded + scrapped)
            .ok_or_else(|| LineError::Invalid("settled more serials than allocated".into()))?;
        Ok(Reconciliation {
            allocated,
            encoded,
            scrapped,
            unused,
        })
    }
}

fn to_i64(v: u64) -> Result<i64, LineError> {
    i64::try_from(v).map_err(|_| LineError::Invalid(format!("{v} is out of range")))
}

/// `allocs` minus `settled`; both sorted by `first`, each disjoint.
pub(crate) fn subtract(allocs: Vec<CodeRange>, settled: Vec<CodeRange>) -> Vec<CodeRange> {
    let mut out = Vec::new();
    let mut s = settled.into_iter().peekable();
    for a in allocs {
        let mut cur = a.first;
        while let Some(x) = s.peek().copied() {
            if x.last < cur {
                s.next();
                continue;
            }
            if x.first > a.last {
                break;
            }
            if x.first > cur {
                out.push(CodeRange {
                    first: cur,
                    last: x.first - 1,
                });
            }
            cur = x.last.saturating_add(1);
            if x.last >= a.last {
                break;
            }
            s.next();
        }
        if cur <= a.last && cur >= a.first {
            out.push(CodeRange {
                first: cur,
                last: a.last,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(first: u64, last: u64) -> CodeRange {
        CodeRange { first, last }
    }

    #[test]
    fn subtract_leaves_exactly_the_gaps() {
        assert_eq!(subtract(vec![r(1, 10)], vec![]), vec![r(1, 10)]);
        assert_eq!(subtract(vec![r(1, 10)], vec![r(1, 10)]), vec![]);
        assert_eq!(
            subtract(
                vec![r(1, 10), r(20, 30)],
                vec![r(3, 4), r(9, 22), r(30, 30)]
            ),
            vec![r(1, 2), r(5, 8), r(23, 29)]
        );
        assert_eq!(
            subtract(vec![r(1, 5), r(6, 9)], vec![r(1, 3)]),
            vec![r(4, 5), r(6, 9)]
        );
    }
}
