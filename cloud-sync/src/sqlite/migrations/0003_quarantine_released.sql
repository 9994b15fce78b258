-- Entries an operator's `quarantine release` took out of quarantine: never stored as ledger
-- entries, kept for the audit trail.
CREATE TABLE quarantine_released (
    dev         INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    hash        BLOB NOT NULL,
    reason      TEXT NOT NULL,
    entry       TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    released_at INTEGER NOT NULL
);
CREATE INDEX quarantine_released_dev ON quarantine_released (dev, seq);
