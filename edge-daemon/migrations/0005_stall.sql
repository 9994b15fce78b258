-- baytrace edge ledger, schema version 5: the market stall's projections (issue 5).
-- Released migrations are never edited: add a new numbered file instead.
-- Like every projection these are derived from `entries` in the append transaction and can
-- be rebuilt from it; none is a source of truth.

-- 往来主体 / 资料: the current customers and suppliers (last upsert not followed by a removal).
CREATE TABLE stall_partners (
    role       TEXT NOT NULL CHECK (role IN ('customer', 'supplier')),
    partner_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    removed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (role, partner_id)
) STRICT, WITHOUT ROWID;

-- 欠账: every credit sale, oldest first, for balances and ageing (repayments settle the
-- oldest first when they name no ticket).
CREATE TABLE stall_credit_sales (
    seq         INTEGER PRIMARY KEY,
    customer    TEXT NOT NULL,           -- customer id, or the buyer's name when none
    ticket_code TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX stall_credit_sales_customer ON stall_credit_sales (customer, seq);

CREATE TABLE stall_credit (
    customer TEXT PRIMARY KEY NOT NULL,
    name     TEXT NOT NULL,
    credit   INTEGER NOT NULL DEFAULT 0, -- Σ credit sales, fen
    repaid   INTEGER NOT NULL DEFAULT 0  -- Σ repayments, fen
) STRICT, WITHOUT ROWID;

-- Receipt printing state. Not derived from entries: the printer's answer is not a ledger
-- fact. A sale without a row here was never confirmed printed (the box died between the
-- commit and the print), which is exactly "issued, unprinted".
CREATE TABLE stall_print (
    seq      INTEGER PRIMARY KEY,
    printed  INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    reprints INTEGER NOT NULL DEFAULT 0,
    last     TEXT                        -- the printer's last answer, for the screen
) STRICT;
