//! The stall's projections (tables `stall_*`, migration 0005), kept by the ledger's append
//! transaction through one call in `ledger::projection::apply`.
//!
//! Why here and not in `ledger/projection.rs`: they are the stall's business (credit,
//! partners), and the ledger should not grow a column per screen. They only ever add rows or
//! sums, so a rebuild from `entries` gives the same tables.

use super::lots::{self, Checked};
use rusqlite::{Connection, OptionalExtension, params};
use trace_core::Event;
use trace_core::event::{CashDirection, PaymentMethod};

/// The key a credit balance is kept under: the customer's record id, else the buyer's name.
pub fn credit_key(id: Option<&str>, name: &str) -> String {
    id.filter(|s| !s.trim().is_empty())
        .map_or_else(|| format!("name:{}", name.trim()), str::to_owned)
}

/// A value's serde name (`wechat_pay`, `expense`).
fn tag<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn cash(
    conn: &Connection,
    seq: i64,
    at: i64,
    direction: CashDirection,
    category: &str,
    amount: i64,
    payment: PaymentMethod,
    source: &str,
) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(
        "INSERT INTO stall_cash (seq, at, direction, category, amount, payment, source) \
         VALUES (?1, ?7, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        seq,
        tag(direction),
        category,
        amount,
        tag(payment),
        source,
        at
    ])?;
    Ok(())
}

/// Category names the projection files automatic cash rows under.
pub const SALES_CATEGORY: &str = "销售";
pub const REPAYMENT_CATEGORY: &str = "还款";

/// `at` is the entry's device time (passed in: reading it back from `entries` per row cost a
/// lookup each in bursts).
pub(crate) fn apply(conn: &Connection, seq: i64, at: i64, event: &Event) -> Checked {
    match event {
        Event::SaleTicket(t) => {
            lots::sale(conn, seq, at, t)?;
            if t.payment != PaymentMethod::Credit {
                cash(
                    conn,
                    seq,
                    at,
                    CashDirection::Income,
                    SALES_CATEGORY,
                    t.total.0,
                    t.payment,
                    "sale_ticket",
                )?;
            }
        }
        Event::Purchase(p) => lots::purchase(conn, seq, at, p)?,
        Event::SaleAttribution(a) => return lots::attribution(conn, seq, a),
        Event::Void(v) => {
            let target = i64::try_from(v.target_seq).unwrap_or(i64::MAX);
            let kind: Option<String> = conn
                .query_row("SELECT kind FROM entries WHERE seq = ?1", [target], |r| {
                    r.get(0)
                })
                .optional()?;
            lots::void(conn, target, kind.as_deref().unwrap_or_default())?;
            conn.prepare_cached("DELETE FROM stall_cash WHERE seq = ?1")?
                .execute([target])?;
        }
        Event::IncomeExpense(x) => cash(
            conn,
            seq,
            at,
            x.direction,
            &x.category,
            x.amount.0,
            x.payment,
            "income_expense",
        )?,
        Event::CashCategory(c) => {
            conn.prepare_cached(
                "INSERT INTO stall_categories (direction, name, seq, removed) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(direction, name) DO UPDATE SET seq = ?3, removed = ?4",
            )?
            .execute(params![tag(c.direction), c.name, seq, c.removed])?;
        }
        Event::ProductUpsert(p) => {
            let body = serde_json::to_string(p).unwrap_or_default();
            conn.prepare_cached(
                "INSERT INTO stall_products (product_id, name, seq, removed, body) VALUES (?1, ?2, ?3, 0, ?4) \
                 ON CONFLICT(product_id) DO UPDATE SET name = ?2, seq = ?3, removed = 0, body = ?4",
            )?
            .execute(params![p.product_id, p.name, seq, body])?;
        }
        Event::ProductRemove(r) => {
            conn.prepare_cached("UPDATE stall_products SET removed = 1 WHERE product_id = ?1")?
                .execute([&r.0.id])?;
        }
        Event::StaffUpsert(s) => {
            conn.prepare_cached(
                "INSERT INTO stall_staff (staff_id, name, role, seq, removed) VALUES (?1, ?2, ?3, ?4, 0) \
                 ON CONFLICT(staff_id) DO UPDATE SET name = ?2, role = ?3, seq = ?4, removed = 0",
            )?
            .execute(params![s.staff_id, s.name, s.role.map(tag), seq])?;
        }
        Event::StaffRemove(r) => {
            conn.prepare_cached("UPDATE stall_staff SET removed = 1 WHERE staff_id = ?1")?
                .execute([&r.0.id])?;
        }
        Event::SamplingInspection(i) => {
            let body = serde_json::to_string(i).unwrap_or_default();
            conn.prepare_cached(
                "INSERT INTO stall_inspections (sample_no, seq, product, result, publish, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(sample_no) DO UPDATE SET \
                 seq = ?2, product = ?3, result = ?4, publish = ?5, body = ?6",
            )?
            .execute(params![
                i.sample_no,
                seq,
                i.product,
                tag(i.result),
                i.publish,
                body
            ])?;
        }
        _ => {}
    }
    credit_and_partners(conn, seq, at, event)?;
    Ok(Ok(()))
}

fn credit_and_partners(
    conn: &Connection,
    seq: i64,
    at: i64,
    event: &Event,
) -> Result<(), rusqlite::Error> {
    match event {
        Event::SaleTicket(t) if t.payment == PaymentMethod::Credit => {
            let name = t.buyer.as_deref().unwrap_or_default();
            let key = credit_key(t.buyer_id.as_deref(), name);
            conn.prepare_cached(
                "INSERT INTO stall_credit_sales (seq, customer, ticket_code, amount, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![seq, key, t.ticket_code, t.total.0, at])?;
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
            cash(
                conn,
                seq,
                at,
                CashDirection::Income,
                REPAYMENT_CATEGORY,
                r.amount.0,
                r.payment,
                "repayment",
            )?;
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
