-- Production-line jobs (issue 6, clause 4.2.7): which job owns which serials, and the
-- evidence mapping that lets a restarted box settle what the coder printed while it was away.
-- Released migrations are never edited: add a new numbered file instead.

-- A job = batch + pool/template + coder. Operational state written by `line run` before it
-- allocates anything; the projection below attributes allocations to the pool's active job.
CREATE TABLE line_jobs (
    job        TEXT PRIMARY KEY NOT NULL,
    batch      TEXT NOT NULL,
    pool       TEXT NOT NULL,
    template   TEXT,
    coder      TEXT NOT NULL,              -- protocol and URI, for people
    target     INTEGER NOT NULL CHECK (target > 0),  -- items to encode
    state      TEXT NOT NULL CHECK (state IN ('running', 'paused', 'stopped', 'done')),
    created_at INTEGER NOT NULL
) STRICT;

-- One job at a time feeds from a pool, so an allocation has exactly one owner.
CREATE UNIQUE INDEX line_jobs_active_pool ON line_jobs (pool) WHERE state IN ('running', 'paused');
CREATE INDEX line_jobs_batch ON line_jobs (batch);

-- From `base_serial` on, serial s of the job takes coder position base_position + (s - base_serial),
-- until the next row. Written (durably) before the first code of the row is sent.
CREATE TABLE line_sessions (
    job           TEXT NOT NULL REFERENCES line_jobs (job),
    n             INTEGER NOT NULL,
    base_serial   INTEGER NOT NULL,
    base_position INTEGER NOT NULL,
    PRIMARY KEY (job, n)
) STRICT;

-- Projection of codes_allocated: disjoint serial ranges per pool, with the job they went to.
CREATE TABLE line_alloc (
    pool  TEXT NOT NULL,
    first INTEGER NOT NULL,
    last  INTEGER NOT NULL,
    job   TEXT,
    seq   INTEGER NOT NULL,
    PRIMARY KEY (pool, first)
) STRICT, WITHOUT ROWID;
CREATE INDEX line_alloc_job ON line_alloc (job);

-- Projection of codes_encoded / codes_scrapped for serials of line jobs: disjoint, each inside
-- an allocation, so allocated = encoded + scrapped + unused holds by construction.
CREATE TABLE line_settled (
    pool  TEXT NOT NULL,
    first INTEGER NOT NULL,
    last  INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('encoded', 'scrapped')),
    job   TEXT,
    seq   INTEGER NOT NULL,
    PRIMARY KEY (pool, first)
) STRICT, WITHOUT ROWID;
CREATE INDEX line_settled_job ON line_settled (job, state);
