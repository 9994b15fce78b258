-- baytrace cloud store, SQLite. Released migrations are never edited; add a new file.
-- Integers: seq and times (UTC ms) are INTEGER; hashes are 32-byte BLOBs; money in fen.

CREATE TABLE devices (
    key           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    entity        TEXT NOT NULL,
    device_no     INTEGER NOT NULL UNIQUE,
    public_key    BLOB NOT NULL,
    code_key      BLOB NOT NULL,
    hash_alg      TEXT NOT NULL,
    registered_at INTEGER NOT NULL
);

-- Ingest state, one row per device, rewritten once per batch.
CREATE TABLE device_state (
    dev            INTEGER PRIMARY KEY REFERENCES devices(key),
    hwm            INTEGER NOT NULL DEFAULT 0,
    head_hash      BLOB,
    max_seq        INTEGER NOT NULL DEFAULT 0,
    entry_count    INTEGER NOT NULL DEFAULT 0,
    last_seen      INTEGER,
    lag_ms         INTEGER,
    quarantined_at INTEGER,
    online         INTEGER NOT NULL DEFAULT 0,
    -- Counters for stats(): counting rows of millions of entries is too slow for /metrics.
    ticket_count     INTEGER NOT NULL DEFAULT 0,
    purchase_count   INTEGER NOT NULL DEFAULT 0,
    quarantine_count INTEGER NOT NULL DEFAULT 0
);

-- Missing ranges below max_seq (inclusive).
CREATE TABLE gaps (
    dev   INTEGER NOT NULL,
    first INTEGER NOT NULL,
    last  INTEGER NOT NULL,
    PRIMARY KEY (dev, first)
) WITHOUT ROWID;

-- The verified ledgers. `event` is the entry's event as JSON ({"kind":..,"body":..}).
CREATE TABLE entries (
    dev         INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    id          TEXT NOT NULL,
    at          INTEGER NOT NULL,
    v           INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    event       TEXT NOT NULL,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (dev, seq)
);

-- Entries kept aside: never in `entries`, kept whole for the operator.
CREATE TABLE quarantine (
    dev         INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    hash        BLOB NOT NULL,
    reason      TEXT NOT NULL,
    entry       TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (dev, seq, hash)
);

CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    dev        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    seq        INTEGER,
    detail     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Projections, written in the ingest transaction.
CREATE TABLE tickets (
    code TEXT PRIMARY KEY,
    dev  INTEGER NOT NULL,
    seq  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE ticket_lines (
    dev        INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    line_no    INTEGER NOT NULL,
    product    TEXT NOT NULL,
    batch      TEXT,
    grams      INTEGER,
    amount     INTEGER NOT NULL,
    PRIMARY KEY (dev, seq, line_no)
) WITHOUT ROWID;

CREATE TABLE purchases (
    dev           INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    supplier      TEXT NOT NULL,
    product       TEXT NOT NULL,
    batch         TEXT NOT NULL,
    grams         INTEGER,
    amount        INTEGER NOT NULL,
    origin        TEXT,
    upstream_code TEXT,
    PRIMARY KEY (dev, seq)
) WITHOUT ROWID;
CREATE INDEX purchases_product ON purchases (dev, product, seq);
CREATE INDEX purchases_batch ON purchases (dev, batch, seq);

CREATE TABLE voids (
    dev        INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    target_seq INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    PRIMARY KEY (dev, seq)
) WITHOUT ROWID;
CREATE INDEX voids_target ON voids (dev, target_seq);
