//! Realistic, deterministic ledgers for tests, benchmarks and demos.
//!
//! Why in the library rather than under `tests/`: the conformance suite, the unit tests, the
//! criterion benches and (later) the demo's simulated stall all need the same valid chains of
//! sale and purchase entries, sealed exactly as a box seals them.

use crate::store::DeviceRecord;
use trace_core::event::CodeLevel;
use trace_core::event::{
    Certificate, CertificateKind, PaymentMethod, PriceUnit, Purchase, SaleLine, SaleTicket, Void,
};
use trace_core::product_code::{CipherKind, CodeKey, Field, Output, ProductCodec, Template};
use trace_core::{DeviceId, Digest, Entry, EntryDraft, Event, Fen, Grams, HashAlg, Timestamp};
use ulid::Ulid;

const PRODUCTS: [(&str, i64); 6] = [
    ("鲜猪肉", 1_680),
    ("草鱼", 1_200),
    ("菜心", 450),
    ("鸡蛋", 700),
    ("牛腩", 4_200),
    ("番茄", 380),
];

/// A valid device id `stall-{n}`.
pub fn device(n: u32) -> DeviceId {
    DeviceId::new(format!("stall-{n:04}")).expect("valid id")
}

/// A registry record for `id` with deterministic keys.
pub fn record(id: &DeviceId, device_no: u32, alg: HashAlg) -> DeviceRecord {
    DeviceRecord {
        id: id.clone(),
        entity: format!("东门市场 {device_no:03} 档"),
        market: "东门市场".into(),
        stall_no: format!("{device_no:03}"),
        device_no,
        public_key: vec![7; 32],
        code_key: [u8::try_from(device_no % 251).unwrap_or(0); 32],
        hash_alg: alg,
    }
}

/// The ticket code the testkit gives sale `n` of device number `device_no` (20 digits).
pub fn ticket_code(device_no: u32, n: u64) -> String {
    format!("{device_no:06}{n:014}")
}

/// The product a purchase `n` brings in and later sales sell.
pub fn product(n: u64) -> &'static str {
    PRODUCTS[usize::try_from(n % 6).unwrap_or(0)].0
}

/// Sale `n`: 1–3 weighed lines priced per 斤, integer fen.
pub fn sale_draft(device_no: u32, n: u64) -> EntryDraft {
    let lines: Vec<SaleLine> = (0..1 + n % 3)
        .map(|i| {
            let (name, price) = PRODUCTS[usize::try_from((n + i) % 6).unwrap_or(0)];
            let grams = 350 + i64::try_from((n * 37 + i * 101) % 2_000).unwrap_or(0);
            SaleLine {
                product: name.to_string(),
                product_code: None,
                grams: Some(Grams(grams)),
                count: None,
                unit_price: Fen(price),
                price_unit: PriceUnit::Jin,
                amount: Fen((grams * price + 250) / 500),
                batch: Some(batch((n + i) % 6)),
                origin: None,
            }
        })
        .collect();
    let total = Fen(lines.iter().map(|l| l.amount.0).sum());
    draft(
        n,
        Event::SaleTicket(SaleTicket {
            ticket_code: ticket_code(device_no, n),
            lines,
            total,
            payment: PaymentMethod::WechatPay,
            buyer: None,
            buyer_id: None,
            fees: Vec::new(),
        }),
    )
}

/// The batch label purchases of product `k` carry.
pub fn batch(k: u64) -> String {
    format!("PB-20260301-{k:02}")
}

/// Purchase `n` of product `n % 6` from a wholesaler.
pub fn purchase_draft(n: u64) -> EntryDraft {
    draft(
        n,
        Event::Purchase(Purchase {
            supplier: "江南果菜批发市场 12 号".into(),
            product: product(n).into(),
            batch: batch(n % 6),
            grams: Some(Grams(50_000)),
            count: None,
            amount: Fen(60_000),
            origin: Some("广东省惠州市".into()),
            upstream_code: Some(format!("UP{n:010}")),
            origin_code: None,
            supplier_party: None,
            product_code: None,
            unit_price: None,
            price_unit: None,
            plate_number: None,
            vouchers: Vec::new(),
            certificates: vec![Certificate {
                kind: CertificateKind::ComplianceCertificate,
                number: format!("HG-4413-{n:06}"),
                issuer: None,
                photo: None,
            }],
        }),
    )
}

pub fn void_draft(n: u64, target_seq: u64) -> EntryDraft {
    draft(
        n,
        Event::Void(Void {
            target_seq,
            reason: "顾客退货".into(),
        }),
    )
}

fn draft(n: u64, event: Event) -> EntryDraft {
    EntryDraft {
        id: Ulid::from_parts(1_772_000_000_000 + n, u128::from(n)),
        at: Timestamp(1_772_000_000_000 + i64::try_from(n).unwrap_or(0) * 1_000),
        event,
    }
}

/// Seal `drafts` as seqs `1..` of `device`.
pub fn seal_chain(device: &DeviceId, alg: HashAlg, drafts: Vec<EntryDraft>) -> Vec<Entry> {
    let mut prev = Digest::ZERO;
    drafts
        .into_iter()
        .zip(1u64..)
        .map(|(d, seq)| {
            let e = Entry::seal(d, device.clone(), seq, prev, alg).expect("integers only");
            prev = e.hash;
            e
        })
        .collect()
}

/// A stall's day: the first six entries buy each product, then sales, with a purchase every
/// 50th entry. `count` entries, seqs `1..=count`.
pub fn stall_chain(device: &DeviceId, device_no: u32, alg: HashAlg, count: u64) -> Vec<Entry> {
    let drafts = (1..=count)
        .map(|n| {
            if n <= 6 || n.is_multiple_of(50) {
                purchase_draft(n)
            } else {
                sale_draft(device_no, n)
            }
        })
        .collect();
    seal_chain(device, alg, drafts)
}

/// As [`stall_chain`], with sale `n`'s ticket code minted by the device's real codec (counter
/// `n`), so the codes pass `TicketCode::parse` and the public page finds them.
pub fn minted_stall_chain(
    device: &DeviceId,
    device_no: u32,
    code_key: &[u8; 32],
    alg: HashAlg,
    count: u64,
) -> Vec<Entry> {
    let codec = trace_core::TicketCodec::new(device_no, code_key).expect("valid device number");
    let drafts = (1..=count)
        .map(|n| {
            if n <= 6 || n.is_multiple_of(50) {
                purchase_draft(n)
            } else {
                let mut d = sale_draft(device_no, n);
                if let Event::SaleTicket(t) = &mut d.event {
                    t.ticket_code = codec.mint(n).expect("counter in range").to_string();
                }
                d
            }
        })
        .collect();
    seal_chain(device, alg, drafts)
}

/// An entry draft of any event, at the testkit's clock for `n`.
pub fn event_draft(n: u64, event: Event) -> EntryDraft {
    draft(n, event)
}

/// A unit-code template of issuer `GZ0A` (issue 6) in the public-URL form: the production
/// date is encrypted in the code, the batch comes from the allocation. 1,000 serials, 16
/// symbols.
pub fn code_template(id: &str, number: u16) -> Template {
    Template {
        id: id.to_owned(),
        issuer: "GZ0A".into(),
        number,
        level: CodeLevel::Unit,
        gtin: Some("6901234567892".into()),
        product_code: None,
        fields: vec![Field::ProductionDate { encrypted: true }],
        serial_capacity: 1_000,
        code_length: 16,
        cipher: CipherKind::Aes,
        output: Output::Url {
            base: "https://trace.example".into(),
        },
    }
}

/// The codec a box registered as `rec` encodes `t`'s codes with (its key derived from the
/// box's code key, as on the box).
pub fn product_codec(rec: &DeviceRecord, t: &Template) -> ProductCodec {
    let key = CodeKey::derive(&rec.code_key, &t.issuer, t.number);
    ProductCodec::new(t.clone(), &key).expect("valid template")
}
