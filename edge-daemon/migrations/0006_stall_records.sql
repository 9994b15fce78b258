-- baytrace edge ledger, schema version 6: the stall's ledger (台账), income/expense (收支),
-- records (资料) and inspections (抽检公示) projections (issue 5).
-- Released migrations are never edited: add a new numbered file instead.
-- Every table but stall_pins is derived from `entries` in the append transaction; the
-- INSERTs at the end rebuild them for entries written before this version.

-- 进货 lots: one row per purchase, with what is left to attribute sales to (FIFO).
CREATE TABLE stall_lots (
    seq         INTEGER PRIMARY KEY,       -- the purchase entry
    at          INTEGER NOT NULL,
    product     TEXT NOT NULL,
    batch       TEXT NOT NULL,
    supplier    TEXT NOT NULL,
    origin      TEXT,
    grams       INTEGER NOT NULL DEFAULT 0,
    count       INTEGER NOT NULL DEFAULT 0,
    amount      INTEGER NOT NULL DEFAULT 0,
    left_grams  INTEGER NOT NULL DEFAULT 0,
    left_count  INTEGER NOT NULL DEFAULT 0,
    voided      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX stall_lots_product ON stall_lots (product, seq);
CREATE INDEX stall_lots_at ON stall_lots (at);
CREATE INDEX stall_lots_supplier ON stall_lots (supplier, seq);

-- 销售 lines, one row per line of a sale ticket.
CREATE TABLE stall_sale_lines (
    seq      INTEGER NOT NULL,             -- the sale entry
    line     INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    product  TEXT NOT NULL,
    grams    INTEGER NOT NULL DEFAULT 0,
    count    INTEGER NOT NULL DEFAULT 0,
    amount   INTEGER NOT NULL,
    payment  TEXT NOT NULL,
    buyer    TEXT,
    voided   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (seq, line)
) STRICT, WITHOUT ROWID;
CREATE INDEX stall_sale_lines_at ON stall_sale_lines (at);
CREATE INDEX stall_sale_lines_product ON stall_sale_lines (product, at);

-- Which lots each sale line came from: FIFO at the sale, replaced by a `sale_attribution`.
-- lot_seq 0: no purchase on record covered it.
CREATE TABLE stall_alloc (
    sale_seq INTEGER NOT NULL,
    line     INTEGER NOT NULL,
    lot_seq  INTEGER NOT NULL,
    grams    INTEGER NOT NULL DEFAULT 0,
    count    INTEGER NOT NULL DEFAULT 0,
    by_seq   INTEGER NOT NULL,             -- the sale, or the correction that set it
    PRIMARY KEY (sale_seq, line, lot_seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX stall_alloc_lot ON stall_alloc (lot_seq);

-- 收支: every cash movement: income/expense entries, paid sales (销售), repayments (还款).
CREATE TABLE stall_cash (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('income', 'expense')),
    category  TEXT NOT NULL,
    amount    INTEGER NOT NULL,
    payment   TEXT NOT NULL,
    source    TEXT NOT NULL                -- the entry kind
) STRICT;
CREATE INDEX stall_cash_at ON stall_cash (at);

CREATE TABLE stall_categories (
    direction TEXT NOT NULL,
    name      TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    removed   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (direction, name)
) STRICT, WITHOUT ROWID;

-- 资料: products and staff as last upserted (body: the record's JSON).
CREATE TABLE stall_products (
    product_id TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    removed    INTEGER NOT NULL DEFAULT 0,
    body       TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE stall_staff (
    staff_id TEXT PRIMARY KEY NOT NULL,
    name     TEXT NOT NULL,
    role     TEXT,
    seq      INTEGER NOT NULL,
    removed  INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

-- PIN hashes (argon2 PHC strings) of staff added on the box. Not derived from entries and
-- never synced: a hash of a 4–8 digit PIN must not leave the box (AccountChange says the
-- same of passwords). Written before the staff_upsert entry it belongs to.
CREATE TABLE stall_pins (
    staff_id TEXT PRIMARY KEY NOT NULL,
    pin_hash TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- 抽检公示: the latest result per sample number.
CREATE TABLE stall_inspections (
    sample_no TEXT PRIMARY KEY NOT NULL,
    seq       INTEGER NOT NULL,
    product   TEXT NOT NULL,
    result    TEXT NOT NULL,
    publish   INTEGER NOT NULL DEFAULT 0,
    body      TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Rebuild from the entries already written.
INSERT INTO stall_lots (seq, at, product, batch, supplier, origin, grams, count, amount,
                        left_grams, left_count, voided)
SELECT e.seq, e.at, json_extract(e.body, '$.product'), json_extract(e.body, '$.batch'),
       json_extract(e.body, '$.supplier'), json_extract(e.body, '$.origin'),
       COALESCE(json_extract(e.body, '$.grams'), 0), COALESCE(json_extract(e.body, '$.count'), 0),
       json_extract(e.body, '$.amount'),
       COALESCE(json_extract(e.body, '$.grams'), 0), COALESCE(json_extract(e.body, '$.count'), 0),
       e.seq IN (SELECT target_seq FROM voids)
FROM entries e WHERE e.kind = 'purchase';

INSERT INTO stall_sale_lines (seq, line, at, product, grams, count, amount, payment, buyer, voided)
SELECT e.seq, l.key, e.at, json_extract(l.value, '$.product'),
       COALESCE(json_extract(l.value, '$.grams'), 0), COALESCE(json_extract(l.value, '$.count'), 0),
       json_extract(l.value, '$.amount'), json_extract(e.body, '$.payment'),
       json_extract(e.body, '$.buyer'), e.seq IN (SELECT target_seq FROM voids)
FROM entries e, json_each(e.body, '$.lines') l WHERE e.kind = 'sale_ticket';

-- Older sales named one batch per line: attribute the line to that batch's latest lot.
INSERT INTO stall_alloc (sale_seq, line, lot_seq, grams, count, by_seq)
SELECT s.seq, s.line,
       COALESCE((SELECT MAX(p.seq) FROM stall_lots p WHERE p.product = s.product
                   AND p.batch = json_extract(e.body, '$.lines[' || s.line || '].batch')
                   AND p.seq < s.seq), 0),
       s.grams, s.count, s.seq
FROM stall_sale_lines s JOIN entries e ON e.seq = s.seq WHERE s.voided = 0;

UPDATE stall_lots SET
    left_grams = MAX(0, grams - COALESCE((SELECT SUM(a.grams) FROM stall_alloc a WHERE a.lot_seq = stall_lots.seq), 0)),
    left_count = MAX(0, count - COALESCE((SELECT SUM(a.count) FROM stall_alloc a WHERE a.lot_seq = stall_lots.seq), 0));
UPDATE stall_lots SET left_grams = 0, left_count = 0 WHERE voided = 1;

INSERT INTO stall_cash (seq, at, direction, category, amount, payment, source)
SELECT e.seq, e.at, 'income', '销售', json_extract(e.body, '$.total'), json_extract(e.body, '$.payment'), e.kind
FROM entries e WHERE e.kind = 'sale_ticket' AND json_extract(e.body, '$.payment') <> 'credit'
  AND e.seq NOT IN (SELECT target_seq FROM voids);
INSERT INTO stall_cash (seq, at, direction, category, amount, payment, source)
SELECT e.seq, e.at, 'income', '还款', json_extract(e.body, '$.amount'), json_extract(e.body, '$.payment'), e.kind
FROM entries e WHERE e.kind = 'repayment' AND e.seq NOT IN (SELECT target_seq FROM voids);
INSERT INTO stall_cash (seq, at, direction, category, amount, payment, source)
SELECT e.seq, e.at, json_extract(e.body, '$.direction'), json_extract(e.body, '$.category'),
       json_extract(e.body, '$.amount'), json_extract(e.body, '$.payment'), e.kind
FROM entries e WHERE e.kind = 'income_expense' AND e.seq NOT IN (SELECT target_seq FROM voids);

INSERT OR REPLACE INTO stall_products (product_id, name, seq, removed, body)
SELECT json_extract(body, '$.product_id'), json_extract(body, '$.name'), seq, 0, body
FROM entries WHERE kind = 'product_upsert' ORDER BY seq;
UPDATE stall_products SET removed = 1 WHERE EXISTS (
    SELECT 1 FROM entries r WHERE r.kind = 'product_remove'
      AND json_extract(r.body, '$.id') = stall_products.product_id AND r.seq > stall_products.seq);

INSERT OR REPLACE INTO stall_staff (staff_id, name, role, seq, removed)
SELECT json_extract(body, '$.staff_id'), json_extract(body, '$.name'), json_extract(body, '$.role'), seq, 0
FROM entries WHERE kind = 'staff_upsert' ORDER BY seq;
UPDATE stall_staff SET removed = 1 WHERE EXISTS (
    SELECT 1 FROM entries r WHERE r.kind = 'staff_remove'
      AND json_extract(r.body, '$.id') = stall_staff.staff_id AND r.seq > stall_staff.seq);

INSERT OR REPLACE INTO stall_inspections (sample_no, seq, product, result, publish, body)
SELECT json_extract(body, '$.sample_no'), seq, json_extract(body, '$.product'),
       json_extract(body, '$.result'), COALESCE(json_extract(body, '$.publish'), 0), body
FROM entries WHERE kind = 'sampling_inspection' ORDER BY seq;
