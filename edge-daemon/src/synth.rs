//! Realistic synthetic entries for benchmarks, load commands and tests.
//!
//! Why realistic: the cost of an append is dominated by the fsync, but the JSON, hashing and
//! projection work grows with the body, so a benchmark over empty bodies would flatter us. A
//! wet-market sale has 1–4 lines of Chinese product names, weights in grams, per-斤 prices and
//! batch numbers that hit the stock projection.

use trace_core::event::{PaymentMethod, PriceUnit, Purchase, SaleLine, SaleTicket};
use trace_core::{EntryDraft, Event, Fen, Grams, TicketCodec, Timestamp};
use ulid::Ulid;

const PRODUCTS: &[(&str, i64)] = &[
    ("鲜猪肉", 1_600),
    ("五花肉", 1_800),
    ("排骨", 2_800),
    ("鸡蛋", 600),
    ("白菜", 250),
    ("菜心", 450),
    ("草鱼", 1_200),
    ("基围虾", 4_500),
];

/// A 20-digit ticket code, distinct for every `n` (multiplying by an odd constant permutes
/// u64). Synthetic: not the keyed permutation real minting uses.
pub fn ticket_code(n: u64) -> String {
    format!("{:020}", n.wrapping_mul(6_364_136_223_846_793_005))
}

/// A sale like [`sale`] whose code is minted by `codec` from counter `n`, as a box mints its
/// own: the ledger then indexes it by counter (`Ledger::set_ticket_codec`). `n` must be below
/// the codec's counter limit (10^13).
pub fn minted_sale(n: u64, codec: &TicketCodec) -> EntryDraft {
    let mut d = sale(n);
    if let (Event::SaleTicket(t), Ok(code)) = (&mut d.event, codec.mint(n)) {
        t.ticket_code = code.to_string();
    }
    d
}

/// The batch number of product `p` in the synthetic catalogue.
pub fn batch(p: usize) -> String {
    format!("B2026112{}-{:03}", p % 10, p)
}

/// A sale of 1–4 lines, deterministic in `n`; `n` also makes the ticket code unique.
pub fn sale(n: u64) -> EntryDraft {
    let lines_n = 1 + (n % 4) as usize;
    let mut lines = Vec::with_capacity(lines_n);
    let mut total = 0i64;
    for i in 0..lines_n {
        let p = ((n as usize) + i * 3) % PRODUCTS.len();
        let (name, per_jin) = PRODUCTS[p];
        let grams = 250 + ((n * 37 + i as u64 * 101) % 2_000) as i64;
        // Price per 斤 (500 g), rounded half up to the fen in integers.
        let amount = (grams * per_jin + 250) / 500;
        total += amount;
        lines.push(SaleLine {
            product: name.to_string(),
            product_code: Some(format!("P{p:04}")),
            grams: Some(Grams(grams)),
            count: None,
            unit_price: Fen(per_jin),
            price_unit: PriceUnit::Jin,
            amount: Fen(amount),
            batch: Some(batch(p)),
            origin: Some("广东省江门市".into()),
        });
    }
    draft(Event::SaleTicket(SaleTicket {
        ticket_code: ticket_code(n),
        lines,
        total: Fen(total),
        payment: if n.is_multiple_of(3) {
            PaymentMethod::WechatPay
        } else {
            PaymentMethod::Cash
        },
        buyer: None,
        buyer_id: None,
        fees: Vec::new(),
    }))
}

/// A purchase of 50 kg of product `p` (index into the synthetic catalogue).
pub fn purchase(p: usize) -> EntryDraft {
    let p = p % PRODUCTS.len();
    draft(Event::Purchase(Purchase {
        supplier: "江门市新会区供货商".into(),
        product: PRODUCTS[p].0.to_string(),
        batch: batch(p),
        grams: Some(Grams(50_000)),
        count: None,
        amount: Fen(PRODUCTS[p].1 * 80),
        origin: Some("广东省江门市".into()),
        upstream_code: None,
        origin_code: None,
        supplier_party: None,
        product_code: None,
        unit_price: None,
        price_unit: None,
        plate_number: None,
        vouchers: Vec::new(),
        certificates: Vec::new(),
    }))
}

/// A fresh ULID keeps ids unique across runs on the same file; the clock is real.
fn draft(event: Event) -> EntryDraft {
    EntryDraft {
        id: Ulid::generate(),
        at: Timestamp::now(),
        event,
    }
}
