//! 台账 (standard §4.3.5): purchases and sales filtered by date, product, supplier and
//! customer, each sale line with the purchase lots it came from, and the same rows as CSV.
//!
//! Why the supplier filter also finds sales: after a food-safety incident the question is
//! "what did we sell of that supplier's goods, and to whom" — the attribution answers it.

use super::FieldError;
use super::day::{DAY_MS, day_name, parse_day};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use trace_core::{Fen, Grams, Timestamp};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LedgerFilter {
    /// `YYYY-MM-DD`, inclusive; empty: no bound.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub supplier: Option<String>,
    #[serde(default)]
    pub customer: Option<String>,
    /// `purchase`, `sale` or empty for both.
    #[serde(default)]
    pub kind: Option<String>,
}

/// The filter checked: a millisecond range and trimmed names.
#[derive(Debug, Clone, Default)]
pub struct Bounds {
    from: i64,
    to: i64,
    product: Option<String>,
    supplier: Option<String>,
    customer: Option<String>,
    purchases: bool,
    sales: bool,
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl LedgerFilter {
    pub fn check(&self) -> Result<Bounds, Vec<FieldError>> {
        let mut errs = Vec::new();
        let mut day = |f: &'static str, v: &Option<String>, end: bool| match opt(v) {
            None => Some(if end { i64::MAX } else { i64::MIN }),
            Some(s) => match parse_day(&s) {
                Some(t) => Some(if end { t + DAY_MS } else { t }),
                None => {
                    errs.push(FieldError::new(f, "err_date"));
                    None
                }
            },
        };
        let from = day("from", &self.from, false);
        let to = day("to", &self.to, true);
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            errs.push(FieldError::new("to", "err_date_order"));
        }
        let (purchases, sales) = match opt(&self.kind).as_deref() {
            None => (true, true),
            Some("purchase") => (true, false),
            Some("sale") => (false, true),
            Some(_) => {
                errs.push(FieldError::new("kind", "err_invalid"));
                (true, true)
            }
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        let customer = opt(&self.customer);
        Ok(Bounds {
            from: from.unwrap_or(i64::MIN),
            to: to.unwrap_or(i64::MAX),
            product: opt(&self.product),
            supplier: opt(&self.supplier),
            // Customers buy; they sell nothing to the stall.
            purchases: purchases && customer.is_none(),
            sales,
            customer,
        })
    }
}

/// One purchase lot a sale line came from.
#[derive(Debug, Clone, Serialize)]
pub struct Share {
    /// The purchase entry; 0 when no purchase on record covered it.
    pub lot: u64,
    pub batch: Option<String>,
    pub supplier: Option<String>,
    pub origin: Option<String>,
    pub grams: i64,
    pub count: i64,
    /// Set by an owner's correction (its entry), not by FIFO.
    pub corrected: bool,
}

/// A row of the 台账: a purchase, or one line of a sale.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub kind: &'static str,
    pub seq: u64,
    pub line: u32,
    pub at: i64,
    pub time: String,
    pub product: String,
    pub batch: Option<String>,
    /// Supplier of a purchase, buyer of a sale.
    pub party: Option<String>,
    pub phone: Option<String>,
    pub origin: Option<String>,
    pub grams: i64,
    pub count: i64,
    pub amount: String,
    pub payment: Option<String>,
    pub code: Option<String>,
    pub certificates: Vec<String>,
    pub plate: Option<String>,
    pub vouchers: usize,
    pub voided: bool,
    pub sources: Vec<Share>,
}

pub fn shares(c: &Connection, sale: u64, line: u32) -> Result<Vec<Share>, rusqlite::Error> {
    let mut s = c.prepare_cached(
        "SELECT a.lot_seq, l.batch, l.supplier, l.origin, a.grams, a.count, a.by_seq <> a.sale_seq \
         FROM stall_alloc a LEFT JOIN stall_lots l ON l.seq = a.lot_seq \
         WHERE a.sale_seq = ?1 AND a.line = ?2 ORDER BY a.lot_seq = 0, a.lot_seq",
    )?;
    let rows = s.query_map(
        params![i64::try_from(sale).unwrap_or(i64::MAX), line],
        |r| {
            Ok(Share {
                lot: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                batch: r.get(1)?,
                supplier: r.get(2)?,
                origin: r.get(3)?,
                grams: r.get(4)?,
                count: r.get(5)?,
                corrected: r.get(6)?,
            })
        },
    )?;
    rows.collect()
}

fn phones(c: &Connection) -> Result<std::collections::HashMap<String, String>, rusqlite::Error> {
    let mut s = c.prepare_cached(
        "SELECT p.name, json_extract(e.body, '$.phone') FROM stall_partners p \
         JOIN entries e ON e.seq = p.seq WHERE p.removed = 0 AND json_extract(e.body, '$.phone') IS NOT NULL",
    )?;
    let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The rows matching `b`, newest first, at most `limit`.
pub fn query(c: &Connection, b: &Bounds, limit: usize) -> Result<Vec<Row>, rusqlite::Error> {
    let phones = phones(c)?;
    let mut out = Vec::new();
    if b.purchases {
        let mut s = c.prepare_cached(
            "SELECT l.seq, l.at, l.product, l.batch, l.supplier, l.origin, l.grams, l.count, l.amount, \
             l.voided, e.body FROM stall_lots l JOIN entries e ON e.seq = l.seq \
             WHERE l.at >= ?1 AND l.at < ?2 AND (?3 IS NULL OR l.product = ?3) \
             AND (?4 IS NULL OR l.supplier = ?4) ORDER BY l.seq DESC LIMIT ?5",
        )?;
        let rows = s.query_map(
            params![b.from, b.to, b.product, b.supplier, limit as i64],
            |r| {
                let body: String = r.get(10)?;
                let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let supplier: String = r.get(4)?;
                Ok(Row {
                    kind: "purchase",
                    seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    line: 0,
                    at: r.get(1)?,
                    time: String::new(),
                    product: r.get(2)?,
                    batch: Some(r.get(3)?),
                    phone: phones.get(&supplier).cloned(),
                    party: Some(supplier),
                    origin: r.get(5)?,
                    grams: r.get(6)?,
                    count: r.get(7)?,
                    amount: Fen(r.get(8)?).yuan_string(),
                    payment: None,
                    code: v["upstream_code"].as_str().map(str::to_owned),
                    certificates: v["certificates"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|c| c["number"].as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    plate: v["plate_number"].as_str().map(str::to_owned),
                    vouchers: v["vouchers"].as_array().map_or(0, Vec::len),
                    voided: r.get(9)?,
                    sources: Vec::new(),
                })
            },
        )?;
        for r in rows {
            out.push(r?);
        }
    }
    if b.sales {
        let mut s = c.prepare_cached(
            "SELECT s.seq, s.line, s.at, s.product, s.grams, s.count, s.amount, s.payment, s.buyer, \
             s.voided, json_extract(e.body, '$.ticket_code') FROM stall_sale_lines s \
             JOIN entries e ON e.seq = s.seq \
             WHERE s.at >= ?1 AND s.at < ?2 AND (?3 IS NULL OR s.product = ?3) \
             AND (?4 IS NULL OR s.buyer = ?4) \
             AND (?5 IS NULL OR EXISTS (SELECT 1 FROM stall_alloc a JOIN stall_lots l ON l.seq = a.lot_seq \
                  WHERE a.sale_seq = s.seq AND a.line = s.line AND l.supplier = ?5)) \
             ORDER BY s.seq DESC, s.line LIMIT ?6",
        )?;
        let rows = s.query_map(
            params![
                b.from,
                b.to,
                b.product,
                b.customer,
                b.supplier,
                limit as i64
            ],
            |r| {
                let buyer: Option<String> = r.get(8)?;
                Ok(Row {
                    kind: "sale",
                    seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    line: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    at: r.get(2)?,
                    time: String::new(),
                    product: r.get(3)?,
                    batch: None,
                    phone: buyer.as_ref().and_then(|n| phones.get(n).cloned()),
                    party: buyer,
                    origin: None,
                    grams: r.get(4)?,
                    count: r.get(5)?,
                    amount: Fen(r.get(6)?).yuan_string(),
                    payment: Some(r.get(7)?),
                    code: r.get(10)?,
                    certificates: Vec::new(),
                    plate: None,
                    vouchers: 0,
                    voided: r.get(9)?,
                    sources: Vec::new(),
                })
            },
        )?;
        for r in rows {
            out.push(r?);
        }
    }
    out.sort_by(|a, b| {
        b.at.cmp(&a.at)
            .then(b.seq.cmp(&a.seq))
            .then(a.line.cmp(&b.line))
    });
    out.truncate(limit);
    for r in &mut out {
        r.time = trace_core::time::gba_minutes(Timestamp(r.at));
        if r.kind == "sale" {
            r.sources = shares(c, r.seq, r.line)?;
            if let Some(first) = r.sources.first() {
                r.batch.clone_from(&first.batch);
                r.origin.clone_from(&first.origin);
            }
        }
    }
    Ok(out)
}

/// A spreadsheet cell: quoted, and a leading `= + - @` defused so Excel never runs it as a
/// formula (a supplier named `=HYPERLINK(…)` is data, not code).
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The CSV header, by catalogue key (the caller translates).
pub const CSV_COLUMNS: &[&str] = &[
    "csv_kind",
    "time",
    "product",
    "batch",
    "csv_party",
    "csv_phone",
    "origin",
    "weight_kg",
    "count",
    "amount_yuan",
    "payment",
    "trace_code",
    "csv_certificates",
    "plate",
    "csv_sources",
    "csv_voided",
];

/// UTF-8 with a BOM (Excel opens Chinese right only then), CRLF line ends.
pub fn csv(rows: &[Row], header: &[String], word: &dyn Fn(&str) -> String) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    out.push_str(&header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for r in rows {
        let sources = r
            .sources
            .iter()
            .map(|s| {
                let q = if s.grams > 0 {
                    format!("{}kg", Grams(s.grams).kg_string())
                } else {
                    format!("×{}", s.count)
                };
                match (&s.batch, &s.supplier) {
                    (Some(b), Some(sup)) => format!("{b}/{sup} {q}"),
                    _ => format!("{} {q}", word("no_purchase")),
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        let fields = [
            word(if r.kind == "sale" {
                "csv_sale"
            } else {
                "csv_purchase"
            }),
            r.time.clone(),
            r.product.clone(),
            r.batch.clone().unwrap_or_default(),
            r.party.clone().unwrap_or_default(),
            r.phone.clone().unwrap_or_default(),
            r.origin.clone().unwrap_or_default(),
            if r.grams > 0 {
                Grams(r.grams).kg_string()
            } else {
                String::new()
            },
            if r.count > 0 {
                r.count.to_string()
            } else {
                String::new()
            },
            r.amount.clone(),
            r.payment
                .as_deref()
                .map(|p| word(pay_key(p)))
                .unwrap_or_default(),
            r.code.clone().unwrap_or_default(),
            r.certificates.join(" "),
            r.plate.clone().unwrap_or_default(),
            sources,
            if r.voided {
                word("csv_voided")
            } else {
                String::new()
            },
        ];
        out.push_str(&fields.iter().map(|f| cell(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Lots of `product` with something left, oldest first: what an owner can attribute to.
pub fn open_lots(c: &Connection, product: &str) -> Result<Vec<serde_json::Value>, rusqlite::Error> {
    let mut s = c.prepare_cached(
        "SELECT seq, at, batch, supplier, origin, left_grams, left_count FROM stall_lots \
         WHERE product = ?1 AND voided = 0 ORDER BY seq DESC LIMIT 50",
    )?;
    let rows = s.query_map([product], |r| {
        Ok(serde_json::json!({
            "lot": r.get::<_, i64>(0)?,
            "day": day_name(r.get(1)?),
            "batch": r.get::<_, String>(2)?,
            "supplier": r.get::<_, String>(3)?,
            "origin": r.get::<_, Option<String>>(4)?,
            "left_grams": r.get::<_, i64>(5)?,
            "left_count": r.get::<_, i64>(6)?,
        }))
    })?;
    rows.collect()
}

/// The catalogue key of a payment method's name.
pub fn pay_key(p: &str) -> &'static str {
    match p {
        "cash" => "pay_cash",
        "wechat_pay" => "pay_wechat",
        "alipay" => "pay_alipay",
        "credit" => "pay_credit",
        _ => "pay_other",
    }
}
