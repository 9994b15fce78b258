-- baytrace edge ledger: sale orders (销售单, 预包装食品 §4.2.3 / §4.3.2), projected from
-- `sales_order` entries in the same transaction as the append, like every projection.
-- (Named for the line-screen work it landed with; self-contained: it touches no other table.)
-- Released migrations are never edited: add a new numbered file instead.

-- One row per order number on this box: a number is taken once; shipments and a distributor's
-- sales that name an order must find it here.
CREATE TABLE prod_orders (
    order_no   TEXT PRIMARY KEY NOT NULL,
    customer   TEXT NOT NULL,
    ordered_on TEXT NOT NULL,
    seq        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
