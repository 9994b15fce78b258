-- baytrace edge ledger, schema version 1.
-- Released migrations are never edited: add a new numbered file instead.

-- Facts about this ledger that never change after `init`.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- The append-only, hash-chained series. `kind` + `body` hold any event kind, so a new
-- vocabulary kind needs no schema change.
CREATE TABLE entries (
    seq       INTEGER PRIMARY KEY,          -- dense from 1, the device's monotonic sequence
    id        TEXT    NOT NULL UNIQUE,      -- ULID
    at        INTEGER NOT NULL,             -- device wall clock, UTC ms
    v         INTEGER NOT NULL,             -- vocabulary version
    kind      TEXT    NOT NULL,
    body      TEXT    NOT NULL,             -- JSON of the event body
    prev_hash BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash      BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only: record a correction (void) as a new entry');
END;

CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only: they can never be deleted');
END;

-- The head as last committed. Kept beside `entries` so `verify` notices a deleted tail.
CREATE TABLE head (
    one      INTEGER PRIMARY KEY CHECK (one = 1),
    seq      INTEGER NOT NULL,
    hash     BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;
INSERT INTO head (one, seq, hash) VALUES (1, 0, zeroblob(32));

-- The sync mark: the cloud has acknowledged every entry up to `synced_seq`; the outbox is
-- every entry after it. Only moves forward.
CREATE TABLE sync_mark (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    synced_seq INTEGER NOT NULL
) STRICT;
INSERT INTO sync_mark (one, synced_seq) VALUES (1, 0);

-- Projections: derived state, updated in the same transaction as the append.
-- Text-keyed tables are WITHOUT ROWID: one b-tree instead of table + index. It matters for
-- ticket_codes, whose keys are unguessable hence random, so every insert lands on a random
-- leaf page.
CREATE TABLE kind_counts (
    kind TEXT PRIMARY KEY NOT NULL,
    n    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE ticket_codes (
    ticket_code TEXT PRIMARY KEY NOT NULL,
    seq         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE stock (
    product TEXT NOT NULL,
    batch   TEXT NOT NULL,
    grams   INTEGER NOT NULL DEFAULT 0,
    count   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (product, batch)
) STRICT, WITHOUT ROWID;

CREATE TABLE voids (
    target_seq INTEGER PRIMARY KEY NOT NULL,
    void_seq   INTEGER NOT NULL,
    reason     TEXT NOT NULL
) STRICT;
