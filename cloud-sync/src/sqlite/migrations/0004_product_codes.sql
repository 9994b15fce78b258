-- Product codes (issue 6, 预包装食品 4.2.5–4.2.6): what the public page needs to resolve a code a
-- line box printed. Projections of synced entries, written in the ingest transaction. Entries
-- arrive out of order (live-first), so each row keeps the seq that wrote it, and "the latest
-- wins" is decided by seq, never by arrival.

-- `code_template`: one row per (device, template id); a box keeps (issuer, number) to one id.
CREATE TABLE code_templates (
    dev    INTEGER NOT NULL,
    id     TEXT NOT NULL,
    issuer TEXT NOT NULL,
    number INTEGER NOT NULL,
    body   TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (dev, id)
) WITHOUT ROWID;
CREATE INDEX code_templates_prefix ON code_templates (issuer, number);

-- `codes_allocated`: serials handed out, disjoint ranges per (device, pool).
CREATE TABLE code_allocations (
    dev   INTEGER NOT NULL,
    pool  TEXT NOT NULL,
    first INTEGER NOT NULL,
    last  INTEGER NOT NULL,
    batch TEXT,
    seq   INTEGER NOT NULL,
    PRIMARY KEY (dev, pool, first)
) WITHOUT ROWID;

-- `codes_disabled` / `codes_enabled`: ranges may overlap; the highest seq covering a serial
-- decides.
CREATE TABLE code_toggles (
    dev      INTEGER NOT NULL,
    pool     TEXT NOT NULL,
    first    INTEGER NOT NULL,
    last     INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    disabled INTEGER NOT NULL,
    reason   TEXT,
    PRIMARY KEY (dev, pool, first, seq)
) WITHOUT ROWID;

-- `production_batch`: product and dates for codes that do not carry them.
CREATE TABLE production_batches (
    dev          INTEGER NOT NULL,
    batch        TEXT NOT NULL,
    product      TEXT NOT NULL,
    gtin         TEXT,
    product_code TEXT,
    produced_on  TEXT NOT NULL,
    expires_on   TEXT,
    seq          INTEGER NOT NULL,
    PRIMARY KEY (dev, batch)
) WITHOUT ROWID;

-- `product_upsert`: the product library, for a product's name (GTIN in its 14-digit form).
CREATE TABLE products (
    dev        INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    gtin       TEXT,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (dev, product_id)
) WITHOUT ROWID;
CREATE INDEX products_gtin ON products (dev, gtin);
