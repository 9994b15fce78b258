//! 欠账: balances per customer and their ageing, read from the `stall_credit*` projections.
//!
//! Ageing is FIFO: repayments settle the oldest credit sales first, so a customer's age is the
//! time since their oldest sale not yet fully paid.

use rusqlite::{Connection, params};
use serde::Serialize;
use trace_core::{Fen, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// The key sales and repayments are kept under (customer id, or `name:<buyer>`).
    pub customer: String,
    pub name: String,
    pub credit: Fen,
    pub repaid: Fen,
    pub owed: Fen,
    /// When the oldest credit sale not yet fully repaid was made.
    pub oldest_unpaid_at: Option<Timestamp>,
}

pub fn balances(conn: &Connection) -> Result<Vec<Balance>, rusqlite::Error> {
    let mut st = conn.prepare_cached(
        "SELECT customer, name, credit, repaid FROM stall_credit ORDER BY credit - repaid DESC, name",
    )?;
    let rows: Vec<(String, String, i64, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut sales = conn.prepare_cached(
        "SELECT amount, at FROM stall_credit_sales WHERE customer = ?1 ORDER BY seq",
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (customer, name, credit, repaid) in rows {
        let mut left = repaid;
        let mut oldest = None;
        let mut q = sales.query(params![customer])?;
        while let Some(r) = q.next()? {
            let (amount, at): (i64, i64) = (r.get(0)?, r.get(1)?);
            if left >= amount {
                left -= amount;
            } else {
                oldest = Some(Timestamp(at));
                break;
            }
        }
        out.push(Balance {
            customer,
            name,
            credit: Fen(credit),
            repaid: Fen(repaid),
            owed: Fen(credit - repaid),
            oldest_unpaid_at: oldest,
        });
    }
    Ok(out)
}

pub fn balance_of(conn: &Connection, customer: &str) -> Result<Option<Balance>, rusqlite::Error> {
    Ok(balances(conn)?.into_iter().find(|b| b.customer == customer))
}
