//! 收支: income and expense entries with categories, and the day's summary.
//!
//! Sales paid at the counter and repayments count as income on their own (the projection
//! files them under 销售 / 还款), so the merchant records only what the box cannot see:
//! rent, wages, utilities, the wholesaler's bill. Credit sales are not income until repaid.

use super::FieldError;
use super::day::{DAY_MS, day_name};
use super::projection::{REPAYMENT_CATEGORY, SALES_CATEGORY};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use trace_core::Fen;
use trace_core::event::{CashCategory, CashDirection, IncomeExpense, PaymentMethod};

/// The list every stall starts with; the owner adds to it.
pub const DEFAULT_EXPENSE: &[&str] = &["进货款", "摊位费", "水电", "人工", "运输", "包装", "其他"];
pub const DEFAULT_INCOME: &[&str] = &[SALES_CATEGORY, "其他"];
/// Largest single amount, fen (1,000,000 元): more is a typo.
pub const MAX_AMOUNT: i64 = 100_000_000;

fn dir_name(d: CashDirection) -> &'static str {
    match d {
        CashDirection::Income => "income",
        CashDirection::Expense => "expense",
    }
}

/// The categories offered for `direction`: defaults, then the owner's, minus removed ones.
pub fn categories(c: &Connection, d: CashDirection) -> Result<Vec<String>, rusqlite::Error> {
    let defaults = match d {
        CashDirection::Income => DEFAULT_INCOME,
        CashDirection::Expense => DEFAULT_EXPENSE,
    };
    let mut out: Vec<String> = defaults.iter().map(|s| (*s).to_owned()).collect();
    let mut s = c.prepare_cached(
        "SELECT name, removed FROM stall_categories WHERE direction = ?1 ORDER BY seq",
    )?;
    let rows = s.query_map([dir_name(d)], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
    })?;
    for row in rows {
        let (name, removed) = row?;
        out.retain(|n| *n != name);
        if !removed {
            out.push(name);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Deserialize)]
pub struct CashInput {
    pub direction: CashDirection,
    pub category: String,
    /// 元 as typed.
    pub amount: String,
    pub payment: PaymentMethod,
    #[serde(default)]
    pub counterparty: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Check the form; every problem at once, by field.
pub fn build(
    c: &Connection,
    i: &CashInput,
) -> Result<Result<IncomeExpense, Vec<FieldError>>, rusqlite::Error> {
    let mut errs = Vec::new();
    let cats = categories(c, i.direction)?;
    let category = i.category.trim();
    if category.is_empty() {
        errs.push(FieldError::new("category", "err_required"));
    } else if !cats.iter().any(|n| n == category) {
        errs.push(FieldError::new("category", "err_unknown_category").with(category));
    }
    let amount = match Fen::parse_yuan(i.amount.trim()) {
        Ok(a) if a.0 > 0 && a.0 <= MAX_AMOUNT => Some(a),
        Ok(a) if a.0 > MAX_AMOUNT => {
            errs.push(
                FieldError::new("amount", "err_price_range").with(Fen(MAX_AMOUNT).yuan_string()),
            );
            None
        }
        Ok(_) => {
            errs.push(FieldError::new("amount", "err_amount_positive"));
            None
        }
        // `-5` and `abc` alike: amounts are positive, the direction gives the sign.
        Err(_) if i.amount.trim().starts_with('-') => {
            errs.push(FieldError::new("amount", "err_amount_positive"));
            None
        }
        Err(_) => {
            errs.push(FieldError::new("amount", "err_price_format"));
            None
        }
    };
    if i.payment == PaymentMethod::Credit {
        errs.push(FieldError::new("payment", "err_invalid"));
    }
    let text = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let note = text(&i.note);
    if note.as_deref().is_some_and(|n| n.chars().count() > 100) {
        errs.push(FieldError::new("note", "err_too_long").with("100"));
    }
    match (amount, errs.is_empty()) {
        (Some(amount), true) => Ok(Ok(IncomeExpense {
            direction: i.direction,
            category: category.to_owned(),
            amount,
            payment: i.payment,
            counterparty: text(&i.counterparty),
            note,
            vouchers: Vec::new(),
        })),
        _ => Ok(Err(errs)),
    }
}

/// A new category: named, not a duplicate.
pub fn new_category(
    c: &Connection,
    d: CashDirection,
    name: &str,
) -> Result<Result<CashCategory, Vec<FieldError>>, rusqlite::Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 12 {
        return Ok(Err(vec![FieldError::new("name", "err_required")]));
    }
    if name == REPAYMENT_CATEGORY || categories(c, d)?.iter().any(|n| n == name) {
        return Ok(Err(vec![
            FieldError::new("name", "err_duplicate").with(name),
        ]));
    }
    Ok(Ok(CashCategory {
        direction: d,
        name: name.to_owned(),
        removed: false,
    }))
}

#[derive(Debug, Clone, Serialize)]
pub struct Sum {
    pub direction: String,
    pub key: String,
    pub n: i64,
    pub amount: String,
    pub fen: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DaySummary {
    pub day: String,
    pub income: String,
    pub expense: String,
    pub net: String,
    pub income_fen: i64,
    pub expense_fen: i64,
    pub by_category: Vec<Sum>,
    pub by_payment: Vec<Sum>,
    /// The day's entries, newest first.
    pub entries: Vec<serde_json::Value>,
}

fn sums(c: &Connection, col: &str, from: i64) -> Result<Vec<Sum>, rusqlite::Error> {
    // `col` is one of two fixed column names, never user input.
    let sql = format!(
        "SELECT direction, {col}, COUNT(*), SUM(amount) FROM stall_cash \
         WHERE at >= ?1 AND at < ?2 GROUP BY 1, 2 ORDER BY 1 DESC, 4 DESC"
    );
    let mut s = c.prepare_cached(&sql)?;
    let rows = s.query_map(params![from, from + DAY_MS], |r| {
        let fen: i64 = r.get(3)?;
        Ok(Sum {
            direction: r.get(0)?,
            key: r.get(1)?,
            n: r.get(2)?,
            amount: Fen(fen).yuan_string(),
            fen,
        })
    })?;
    rows.collect()
}

/// The summary of the GBA day starting at `from` (ms, see `day::day_start`).
pub fn summary(c: &Connection, from: i64) -> Result<DaySummary, rusqlite::Error> {
    let by_category = sums(c, "category", from)?;
    let by_payment = sums(c, "payment", from)?;
    let total = |d: &str| {
        by_category
            .iter()
            .filter(|s| s.direction == d)
            .map(|s| s.fen)
            .sum::<i64>()
    };
    let (income, expense) = (total("income"), total("expense"));
    let mut s = c.prepare_cached(
        "SELECT seq, at, direction, category, amount, payment, source FROM stall_cash \
         WHERE at >= ?1 AND at < ?2 AND source = 'income_expense' ORDER BY seq DESC LIMIT 200",
    )?;
    let entries = s
        .query_map(params![from, from + DAY_MS], |r| {
            Ok(serde_json::json!({
                "seq": r.get::<_, i64>(0)?,
                "time": trace_core::time::gba_minutes(trace_core::Timestamp(r.get(1)?)),
                "direction": r.get::<_, String>(2)?,
                "category": r.get::<_, String>(3)?,
                "amount": Fen(r.get(4)?).yuan_string(),
                "payment": r.get::<_, String>(5)?,
            }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(DaySummary {
        day: day_name(from),
        income: Fen(income).yuan_string(),
        expense: Fen(expense).yuan_string(),
        net: Fen(income - expense).yuan_string(),
        income_fen: income,
        expense_fen: expense,
        by_category,
        by_payment,
        entries,
    })
}
