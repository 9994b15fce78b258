-- baytrace edge ledger, schema version 4: producer and distributor projections (预包装食品
-- 生产企业端 / 流通企业端). Derived from `entries` like every projection, in the same transaction.
-- Released migrations are never edited: add a new numbered file instead.

-- Raw material lots received (原料采购, §4.2.1). One row per lot number on this box.
CREATE TABLE prod_raw_lots (
    lot      TEXT PRIMARY KEY NOT NULL,
    material TEXT NOT NULL,
    supplier TEXT NOT NULL,
    seq      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Production batches (§4.2.2) and the raw lots each consumed.
CREATE TABLE prod_batches (
    batch   TEXT PRIMARY KEY NOT NULL,
    product TEXT NOT NULL,
    seq     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE prod_batch_lots (
    lot   TEXT NOT NULL,
    batch TEXT NOT NULL,
    PRIMARY KEY (lot, batch)
) STRICT, WITHOUT ROWID;

-- The packing as it stands now: each child in at most one parent (a unit in one case, a
-- case on one pallet). Disaggregation deletes rows; the entries keep the history.
CREATE TABLE prod_packs (
    child  TEXT PRIMARY KEY NOT NULL,
    parent TEXT NOT NULL,
    seq    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX prod_packs_parent ON prod_packs (parent);

-- Packaging level of each parent code (case, pallet).
CREATE TABLE prod_parents (
    code  TEXT PRIMARY KEY NOT NULL,
    level TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Codes that left this box (shipped, sold), a case's units included: a code leaves once.
CREATE TABLE prod_dispatched (
    code        TEXT PRIMARY KEY NOT NULL,
    seq         INTEGER NOT NULL,
    shipment_no TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Codes scanned in on this box (a distributor's 扫码进货), a case's units included.
CREATE TABLE prod_received (
    code    TEXT PRIMARY KEY NOT NULL,
    seq     INTEGER NOT NULL,
    product TEXT,
    batch   TEXT
) STRICT, WITHOUT ROWID;

-- Stock per product and batch (finished goods and raw lots alike), and its history (出入库记录).
CREATE TABLE prod_stock (
    product TEXT NOT NULL,
    batch   TEXT NOT NULL,
    grams   INTEGER NOT NULL DEFAULT 0,
    count   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (product, batch)
) STRICT, WITHOUT ROWID;

CREATE TABLE prod_moves (
    seq     INTEGER NOT NULL,
    product TEXT NOT NULL,
    batch   TEXT NOT NULL,
    kind    TEXT NOT NULL,      -- raw_in, raw_used, produced, shipped, received, adjusted
    doc     TEXT,               -- shipment number, batch number, adjustment reason
    grams   INTEGER NOT NULL,
    count   INTEGER NOT NULL
) STRICT;
CREATE INDEX prod_moves_item ON prod_moves (product, batch, seq);
