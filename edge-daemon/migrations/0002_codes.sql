-- baytrace edge ledger, schema version 2: product code templates, pools and disabled ranges
-- (issue 6, 4.2.5/4.2.6). Projections of `code_template`, `codes_allocated`,
-- `codes_disabled` and `codes_enabled` entries, rebuilt from `entries` if ever in doubt.

-- The latest saved version of each template. (issuer, number) is what a code carries.
CREATE TABLE codes_templates (
    id     TEXT PRIMARY KEY NOT NULL,
    issuer TEXT NOT NULL,
    number INTEGER NOT NULL,
    body   TEXT NOT NULL,            -- JSON of trace_core::product_code::Template
    seq    INTEGER NOT NULL,         -- entry that saved this version
    UNIQUE (issuer, number)
) STRICT;

-- One serial space per pool; serials below next_serial have been handed out, ever. Never
-- moves back, so a crash or a repeated command cannot issue a serial twice.
CREATE TABLE codes_pools (
    pool        TEXT PRIMARY KEY NOT NULL,
    next_serial INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Each allocation: which batch its serials were generated for.
CREATE TABLE codes_allocations (
    pool   TEXT NOT NULL,
    first  INTEGER NOT NULL,
    last   INTEGER NOT NULL,
    batch  TEXT,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (pool, first)
) STRICT, WITHOUT ROWID;

-- Disable / enable history by range; the latest entry covering a serial decides.
CREATE TABLE codes_toggles (
    pool     TEXT NOT NULL,
    first    INTEGER NOT NULL,
    last     INTEGER NOT NULL,
    disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    reason   TEXT,
    seq      INTEGER NOT NULL
) STRICT;
CREATE INDEX codes_toggles_by_pool ON codes_toggles (pool, first);
