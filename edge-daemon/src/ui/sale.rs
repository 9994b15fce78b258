//! 开单 and what follows it: mint the code, commit the entry, print the receipt with its
//! signed QR; reprints (补打); repayments (还款).

use super::devices::PrintResult;
use super::state::{StoreError, UiState};
use crate::stall::sale::{Provenance, SaleInput};
use crate::stall::{FieldError, sale};
use device_drivers::printer::{PaperWidth, Receipt, ReceiptLine, ReceiptStyle, render_receipt};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::sync::Arc;
use trace_core::event::{PaymentMethod, Repayment, SaleTicket};
use trace_core::fragment::{FragmentLine, TicketFragment};
use trace_core::{Event, Fen, Grams, PriceUnit, Timestamp};

#[derive(Debug, Clone, Serialize)]
pub struct SaleDone {
    pub seq: u64,
    pub ticket_no: u64,
    pub code: String,
    pub url: String,
    pub total: String,
    pub printed: bool,
    pub printer: &'static str,
}

#[derive(Debug)]
pub enum SaleError {
    Invalid(Vec<FieldError>),
    Store(StoreError),
}

impl From<StoreError> for SaleError {
    fn from(e: StoreError) -> Self {
        SaleError::Store(e)
    }
}

fn sales_so_far(c: &Connection) -> Result<u64, rusqlite::Error> {
    let n: Option<i64> = c
        .query_row(
            "SELECT n FROM kind_counts WHERE kind = 'sale_ticket'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// FIFO: the oldest purchase lot of `product` with something left, and its origin (the
/// indexed `stall_lots` projection; the ledger attributes the line the same way on append).
pub fn fifo_batch(c: &Connection, product: &str) -> Result<Provenance, rusqlite::Error> {
    c.prepare_cached(
        "SELECT batch, origin FROM stall_lots \
         WHERE product = ?1 AND (left_grams > 0 OR left_count > 0) \
         ORDER BY seq LIMIT 1",
    )?
    .query_row(params![product], |r| {
        Ok(Provenance {
            batch: r.get(0)?,
            origin: r.get(1)?,
        })
    })
    .optional()
    .map(Option::unwrap_or_default)
}

/// Record a sale, then print it. `Invalid` means nothing was recorded.
pub async fn sell(state: &Arc<UiState>, input: SaleInput) -> Result<SaleDone, SaleError> {
    let _one_at_a_time = state.sale_lock.lock().await;
    let config = state.opts.ui.products.clone();
    let layout = state.opts.ui.label.clone();
    let codec = state.opts.codec.clone();
    let built = state
        .db(move |c| {
            let products =
                crate::stall::records::plain(crate::stall::records::products(c, &config)?);
            let counter = sales_so_far(c)? + 1;
            let code = codec
                .mint(counter)
                .map_err(|e| StoreError::Other(e.to_string()))?;
            let prov = |p: &str| fifo_batch(c, p).unwrap_or_default();
            Ok((
                counter,
                sale::build(&input, &products, &layout, &code.to_string(), &prov),
            ))
        })
        .await?;
    let (ticket_no, ticket) = match built {
        (n, Ok(t)) => (n, t),
        (_, Err(errs)) => return Err(SaleError::Invalid(errs)),
    };
    let entry = state.append(Event::SaleTicket(ticket.clone())).await?;
    drop(_one_at_a_time);
    let (url, result) = print(state, entry.seq, ticket_no, entry.at, &ticket, false).await?;
    Ok(SaleDone {
        seq: entry.seq,
        ticket_no,
        code: ticket.ticket_code,
        url,
        total: ticket.total.yuan_string(),
        printed: result.printed,
        printer: result.state,
    })
}

/// The public URL with the signed fragment, as the QR carries it.
pub fn receipt_url(state: &UiState, at: Timestamp, t: &SaleTicket) -> Result<String, StoreError> {
    let frag = TicketFragment {
        device: state.opts.device.clone(),
        code: t.ticket_code.clone(),
        at,
        total: t.total,
        fees: t.fees.iter().map(|f| (f.name.clone(), f.amount)).collect(),
        lines: t
            .lines
            .iter()
            .map(|l| FragmentLine {
                product: l.product.clone(),
                price_unit: l.price_unit,
                quantity: match l.price_unit {
                    PriceUnit::Item => u64::from(l.count.unwrap_or(0)),
                    _ => u64::try_from(l.grams.map_or(0, |g| g.0)).unwrap_or(0),
                },
                unit_price: l.unit_price,
                amount: l.amount,
                batch: l.batch.clone(),
                origin: l.origin.clone(),
            })
            .collect(),
    }
    .sign(&state.opts.sign_key)
    .map_err(|e| StoreError::Other(e.to_string()))?;
    Ok(format!(
        "{}/t/{}#{frag}",
        state.opts.public_base, t.ticket_code
    ))
}

async fn print(
    state: &Arc<UiState>,
    seq: u64,
    ticket_no: u64,
    at: Timestamp,
    t: &SaleTicket,
    reprint: bool,
) -> Result<(String, PrintResult), StoreError> {
    let url = receipt_url(state, at, t)?;
    let ui = &state.opts.ui;
    let receipt = Receipt {
        market: ui.market.clone(),
        stall_name: ui.stall_name.clone(),
        stall_no: ui.stall_no.clone(),
        ticket_no: ticket_no.to_string(),
        datetime: trace_core::time::gba_minutes(at),
        lines: t
            .lines
            .iter()
            .map(|l| ReceiptLine {
                product: match l.count {
                    Some(n) => format!("{}×{n}", l.product),
                    None => l.product.clone(),
                },
                weight: l.grams.unwrap_or(Grams(0)),
                unit_price: l.unit_price,
                amount: l.amount,
            })
            .collect(),
        total: t.total,
        qr_url: url.clone(),
        trace_code: t.ticket_code.clone(),
        reprint,
    };
    let width = PaperWidth::from_mm(ui.paper_mm).unwrap_or(PaperWidth::Mm80);
    let bytes = render_receipt(&receipt, &ReceiptStyle::new(width))
        .map_err(|e| StoreError::Other(e.to_string()))?;
    let result = state.devices.print(&bytes).await;
    let seq_i = i64::try_from(seq).unwrap_or(i64::MAX);
    let (printed, answer) = (result.printed, result.state);
    state
        .db(move |c| {
            c.execute(
                "INSERT INTO stall_print (seq, printed, attempts, reprints, last) \
                 VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT(seq) DO UPDATE SET \
                 printed = MAX(printed, ?2), attempts = attempts + 1, \
                 reprints = reprints + ?3, last = ?4",
                params![seq_i, i64::from(printed), i64::from(reprint), answer],
            )?;
            Ok(())
        })
        .await?;
    Ok((url, result))
}

/// A sale as the screens list it.
#[derive(Debug, Clone, Serialize)]
pub struct TicketRow {
    pub seq: u64,
    pub at: i64,
    pub time: String,
    pub code: String,
    pub total: String,
    pub payment: PaymentMethod,
    pub buyer: Option<String>,
    pub products: String,
    pub printed: bool,
    pub voided: bool,
}

pub fn recent_tickets(c: &Connection, limit: i64) -> Result<Vec<TicketRow>, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT e.seq, e.at, e.body, COALESCE(p.printed, 0), v.target_seq IS NOT NULL \
         FROM entries e LEFT JOIN stall_print p ON p.seq = e.seq \
         LEFT JOIN voids v ON v.target_seq = e.seq \
         WHERE e.kind = 'sale_ticket' ORDER BY e.seq DESC LIMIT ?1",
    )?;
    let rows = st.query_map(params![limit], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)? != 0,
            r.get::<_, bool>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, body, printed, voided) = row?;
        let t: SaleTicket =
            serde_json::from_str(&body).map_err(|e| StoreError::Other(e.to_string()))?;
        out.push(TicketRow {
            seq: u64::try_from(seq).unwrap_or(0),
            at,
            time: trace_core::time::gba_minutes(Timestamp(at)),
            code: t.ticket_code,
            total: t.total.yuan_string(),
            payment: t.payment,
            buyer: t.buyer,
            products: t
                .lines
                .iter()
                .map(|l| l.product.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            printed,
            voided,
        });
    }
    Ok(out)
}

/// 补打: print an issued ticket again, marked as a reprint.
pub async fn reprint(state: &Arc<UiState>, seq: u64) -> Result<Option<SaleDone>, StoreError> {
    let seq_i = i64::try_from(seq).map_err(|_| StoreError::Other("seq".into()))?;
    let found = state
        .db(move |c| {
            let row: Option<(i64, String)> = c
                .query_row(
                    "SELECT at, body FROM entries WHERE seq = ?1 AND kind = 'sale_ticket'",
                    params![seq_i],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            // The ticket number is its rank among sales, as when it was first printed.
            let no: i64 = c.query_row(
                "SELECT COUNT(*) FROM entries WHERE kind = 'sale_ticket' AND seq <= ?1",
                params![seq_i],
                |r| r.get(0),
            )?;
            Ok(row.map(|r| (r, no)))
        })
        .await?;
    let Some(((at, body), no)) = found else {
        return Ok(None);
    };
    let t: SaleTicket =
        serde_json::from_str(&body).map_err(|e| StoreError::Other(e.to_string()))?;
    let ticket_no = u64::try_from(no).unwrap_or(0);
    let (url, r) = print(state, seq, ticket_no, Timestamp(at), &t, true).await?;
    Ok(Some(SaleDone {
        seq,
        ticket_no,
        code: t.ticket_code,
        url,
        total: t.total.yuan_string(),
        printed: r.printed,
        printer: r.state,
    }))
}

/// 还款: validate and record a repayment.
pub async fn repay(
    state: &Arc<UiState>,
    customer: String,
    customer_id: Option<String>,
    amount: &str,
    payment: PaymentMethod,
) -> Result<u64, SaleError> {
    let mut errs = Vec::new();
    if customer.trim().is_empty() {
        errs.push(FieldError::new("customer", "err_required"));
    }
    let amount = match Fen::parse_yuan(amount) {
        Ok(a) if a.0 > 0 && a.0 <= 100_000_000 => Some(a),
        _ => {
            errs.push(FieldError::new("amount", "err_price_format"));
            None
        }
    };
    if payment == PaymentMethod::Credit {
        errs.push(FieldError::new("payment", "err_invalid"));
    }
    let (Some(amount), true) = (amount, errs.is_empty()) else {
        return Err(SaleError::Invalid(errs));
    };
    let e = state
        .append(Event::Repayment(Repayment {
            customer: customer.trim().to_owned(),
            amount,
            payment,
            customer_id: customer_id.filter(|s| !s.trim().is_empty()),
            ticket_codes: Vec::new(),
        }))
        .await?;
    Ok(e.seq)
}
