-- baytrace cloud store, PostgreSQL. Released migrations are never edited; add a new file.
-- The same tables as the SQLite schema (sqlite/migrations 0001..0003) so both backends answer
-- alike: seq and times (UTC ms) are BIGINT, hashes 32-byte BYTEA, money in fen.

CREATE TABLE devices (
    key           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    entity        TEXT NOT NULL,
    device_no     BIGINT NOT NULL UNIQUE,
    public_key    BYTEA NOT NULL,
    code_key      BYTEA NOT NULL,
    hash_alg      TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    market        TEXT NOT NULL DEFAULT '',
    stall_no      TEXT NOT NULL DEFAULT ''
);

-- Ingest state, one row per device. Ingest locks it (FOR UPDATE): batches of one device are
-- serialised even when several cloud instances share the subscription.
CREATE TABLE device_state (
    dev              BIGINT PRIMARY KEY REFERENCES devices(key),
    hwm              BIGINT NOT NULL DEFAULT 0,
    head_hash        BYTEA,
    max_seq          BIGINT NOT NULL DEFAULT 0,
    entry_count      BIGINT NOT NULL DEFAULT 0,
    last_seen        BIGINT,
    lag_ms           BIGINT,
    quarantined_at   BIGINT,
    online           BOOLEAN NOT NULL DEFAULT FALSE,
    ticket_count     BIGINT NOT NULL DEFAULT 0,
    purchase_count   BIGINT NOT NULL DEFAULT 0,
    quarantine_count BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE gaps (
    dev   BIGINT NOT NULL,
    first BIGINT NOT NULL,
    last  BIGINT NOT NULL,
    PRIMARY KEY (dev, first)
);

CREATE TABLE entries (
    dev         BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    id          TEXT NOT NULL,
    at          BIGINT NOT NULL,
    v           INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    event       TEXT NOT NULL,
    prev_hash   BYTEA NOT NULL,
    hash        BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (dev, seq)
);

CREATE TABLE quarantine (
    dev         BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    hash        BYTEA NOT NULL,
    reason      TEXT NOT NULL,
    entry       TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (dev, seq, hash)
);

-- Entries an operator's `quarantine release` took out of quarantine: never stored as ledger
-- entries, kept for the audit trail.
CREATE TABLE quarantine_released (
    dev         BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    hash        BYTEA NOT NULL,
    reason      TEXT NOT NULL,
    entry       TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    released_at BIGINT NOT NULL
);
CREATE INDEX quarantine_released_dev ON quarantine_released (dev, seq);

CREATE TABLE alerts (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dev        BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    seq        BIGINT,
    detail     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE tickets (
    code TEXT PRIMARY KEY,
    dev  BIGINT NOT NULL,
    seq  BIGINT NOT NULL
);

CREATE TABLE ticket_lines (
    dev     BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    product TEXT NOT NULL,
    batch   TEXT,
    grams   BIGINT,
    amount  BIGINT NOT NULL,
    PRIMARY KEY (dev, seq, line_no)
);

CREATE TABLE purchases (
    dev           BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    supplier      TEXT NOT NULL,
    product       TEXT NOT NULL,
    batch         TEXT NOT NULL,
    grams         BIGINT,
    amount        BIGINT NOT NULL,
    origin        TEXT,
    upstream_code TEXT,
    PRIMARY KEY (dev, seq)
);
CREATE INDEX purchases_product ON purchases (dev, product, seq);
CREATE INDEX purchases_batch ON purchases (dev, batch, seq);

CREATE TABLE voids (
    dev        BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    target_seq BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    PRIMARY KEY (dev, seq)
);
CREATE INDEX voids_target ON voids (dev, target_seq);
