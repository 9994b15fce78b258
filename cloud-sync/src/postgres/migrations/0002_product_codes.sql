-- The same tables as sqlite/migrations/0004_product_codes.sql.
-- Product codes (issue 6, 预包装食品 4.2.5–4.2.6): what the public page needs to resolve a code a
-- line box printed. Projections of synced entries, written in the ingest transaction. Entries
-- arrive out of order (live-first), so each row keeps the seq that wrote it, and "the latest
-- wins" is decided by seq, never by arrival.

-- `code_template`: one row per (device, template id); a box keeps (issuer, number) to one id.
CREATE TABLE code_templates (
    dev    BIGINT NOT NULL,
    id     TEXT NOT NULL,
    issuer TEXT NOT NULL,
    number BIGINT NOT NULL,
    body   TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    PRIMARY KEY (dev, id)
);
CREATE INDEX code_templates_prefix ON code_templates (issuer, number);

-- `codes_allocated`: serials handed out, disjoint ranges per (device, pool).
CREATE TABLE code_allocations (
    dev   BIGINT NOT NULL,
    pool  TEXT NOT NULL,
    first BIGINT NOT NULL,
    last  BIGINT NOT NULL,
    batch TEXT,
    seq   BIGINT NOT NULL,
    PRIMARY KEY (dev, pool, first)
);

-- `codes_disabled` / `codes_enabled`: ranges may overlap; the highest seq covering a serial
-- decides.
CREATE TABLE code_toggles (
    dev      BIGINT NOT NULL,
    pool     TEXT NOT NULL,
    first    BIGINT NOT NULL,
    last     BIGINT NOT NULL,
    seq      BIGINT NOT NULL,
    disabled BOOLEAN NOT NULL,
    reason   TEXT,
    PRIMARY KEY (dev, pool, first, seq)
);

-- `production_batch`: product and dates for codes that do not carry them.
CREATE TABLE production_batches (
    dev          BIGINT NOT NULL,
    batch        TEXT NOT NULL,
    product      TEXT NOT NULL,
    gtin         TEXT,
    product_code TEXT,
    produced_on  TEXT NOT NULL,
    expires_on   TEXT,
    seq          BIGINT NOT NULL,
    PRIMARY KEY (dev, batch)
);

-- `product_upsert`: the product library, for a product's name (GTIN in its 14-digit form).
CREATE TABLE products (
    dev        BIGINT NOT NULL,
    product_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    gtin       TEXT,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (dev, product_id)
);
CREATE INDEX products_gtin ON products (dev, gtin);
