//! The stall's projections (tables `stall_*`, migration 0005), kept by the ledger's append
//! transaction through one call in `ledger::projection::apply`.
//!
//! Why here and not in `ledger/projection.rs`: they are the stall's business (credit,
//! partners), and the ledger should not grow a column per screen. They only ever add rows or
//! sums, so a rebuild from `entries` gives the same tables.

use rusqlite::{Connection, params};
use trace_core::Event;
use trace_core::event::PaymentMethod;

/// The key a credit balance is kept under: the customer's record id, else the buyer's name.
pub fn credit_key(id: Option<&str>, name: &str) -> String {
    id.filter(|s| !s.trim().is_empty())
        .map_or_else(|| format!("name:{}", name.trim()), str::to_owned)
}

pub(crate) fn apply(conn: &Connection, seq: i64, event: &Event) -> Result<(), rusqlite::Error> {
    match event {
        Event::SaleTicket(t) if t.payment == PaymentMethod::Credit => {
            let name = t.buyer.as_deref().unwrap_or_default();
            let key = credit_key(t.buyer_id.as_deref(), name);
            conn.prepare_cached(
                "INSERT INTO stall_credit_sales (seq, customer, ticket_code, amount, at) \
                 SELECT ?1, ?2, ?3, ?4, at FROM entries WHERE seq = ?1",
            )?
            .execute(params![seq, key, t.ticket_code, t.total.0])?;
            conn.prepare_cached(
                "INSERT INTO stall_credit (customer, name, credit) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(customer) DO UPDATE SET credit = credit + ?3, name = ?2",
            )?
            .execute(params![key, name, t.total.0])?;
        }
        Event::Repayment(r) => {
            let key = credit_key(r.customer_id.as_deref(), &r.customer);
            conn.prepare_cached(
                "INSERT INTO stall_credit (customer, name, repaid) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(customer) DO UPDATE SET repaid = repaid + ?3",
            )?
            .execute(params![key, r.customer, r.amount.0])?;
        }
        Event::CustomerUpsert(p) => partner(conn, "customer", &p.0.partner_id, &p.0.name, seq)?,
        Event::SupplierUpsert(p) => partner(conn, "supplier", &p.0.partner_id, &p.0.name, seq)?,
        Event::CustomerRemove(r) => removed(conn, "customer", &r.0.id)?,
        Event::SupplierRemove(r) => removed(conn, "supplier", &r.0.id)?,
        _ => {}
    }
    Ok(())
}

fn partner(
    conn: &Connection,
    role: &str,
    id: &str,
    name: &str,
    seq: i64,
) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(
        "INSERT INTO stall_partners (role, partner_id, name, seq, removed) \
         VALUES (?1, ?2, ?3, ?4, 0) ON CONFLICT(role, partner_id) \
         DO UPDATE SET name = ?3, seq = ?4, removed = 0",
    )?
    .execute(params![role, id, name, seq])?;
    Ok(())
}

fn removed(conn: &Connection, role: &str, id: &str) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(
        "UPDATE stall_partners SET removed = 1 WHERE role = ?1 AND partner_id = ?2",
    )?
    .execute(params![role, id])?;
    Ok(())
}
