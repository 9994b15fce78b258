//! Costs of the hot paths: minting/decoding ticket codes (every sale), sealing an entry (every
//! append), and packing an `up` batch (every sync).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use trace_core::entry::{Entry, EntryDraft, Timestamp};
use trace_core::event::{Event, PaymentMethod, SaleLine, SaleTicket};
use trace_core::wire::envelope::{self, Compression, DEFAULT_MAX_PAYLOAD};
use trace_core::{DeviceId, Digest, EntryBatch, Fen, Grams, HashAlg, PriceUnit, TicketCodec, Ulid};

fn sale(codec: &TicketCodec, n: u64) -> Event {
    let line = |product: &str, grams: i64, price: i64| SaleLine {
        product: product.into(),
        product_code: Some(format!("P{grams}")),
        grams: Some(Grams(grams)),
        count: None,
        unit_price: Fen(price),
        price_unit: PriceUnit::Jin,
        amount: Fen(price * grams / 500),
        batch: Some("B20261122-01".into()),
        origin: Some("广东省-广州市-从化区".into()),
    };
    let lines = vec![
        line("猪五花", 750, 1680),
        line("菜心", 1000, 300),
        line("西红柿", 620, 450),
    ];
    let total = Fen(lines.iter().map(|l| l.amount.0).sum());
    Event::SaleTicket(SaleTicket {
        ticket_code: codec.mint(n).unwrap().to_string(),
        lines,
        total,
        payment: PaymentMethod::WechatPay,
        buyer: None,
        buyer_id: None,
        fees: vec![],
    })
}

fn batch(codec: &TicketCodec, n: u64) -> EntryBatch {
    let dev = DeviceId::new("stall-a01").unwrap();
    let mut prev = Digest::ZERO;
    let entries = (1..=n)
        .map(|seq| {
            let draft = EntryDraft {
                id: Ulid(u128::from(seq)),
                at: Timestamp(1_763_800_000_000 + seq as i64),
                event: sale(codec, seq),
            };
            let e = Entry::seal(draft, dev.clone(), seq, prev, HashAlg::Sha256).unwrap();
            prev = e.hash;
            e
        })
        .collect();
    EntryBatch::new(dev, entries)
}

fn benches(c: &mut Criterion) {
    let codec = TicketCodec::new(123_456, &[7u8; 32]).unwrap();
    let mut n = 0u64;
    c.bench_function("ticket_mint", |b| {
        b.iter(|| {
            n = (n + 1) % 1_000_000;
            black_box(codec.mint(black_box(n)).unwrap())
        })
    });
    let code = codec.mint(42).unwrap();
    c.bench_function("ticket_decode", |b| {
        b.iter(|| black_box(codec.decode(black_box(&code)).unwrap()))
    });

    let dev = DeviceId::new("stall-a01").unwrap();
    let event = sale(&codec, 1);
    for alg in [HashAlg::Sha256, HashAlg::Sm3] {
        c.bench_function(&format!("entry_seal_{}", alg.as_str()), |b| {
            b.iter(|| {
                let draft = EntryDraft {
                    id: Ulid(1),
                    at: Timestamp(0),
                    event: event.clone(),
                };
                black_box(Entry::seal(draft, dev.clone(), 1, Digest::ZERO, alg).unwrap())
            })
        });
    }

    let b200 = batch(&codec, 200);
    let json_len = serde_json::to_vec(&b200).unwrap().len();
    let packed = envelope::encode(&b200, Compression::Lz4).unwrap();
    let tenths = json_len * 10 / packed.len();
    eprintln!(
        "200-entry batch: {json_len} bytes JSON, {} bytes lz4 envelope ({}.{}x)",
        packed.len(),
        tenths / 10,
        tenths % 10
    );
    c.bench_function("envelope_encode_200", |b| {
        b.iter(|| black_box(envelope::encode(black_box(&b200), Compression::Lz4).unwrap()))
    });
    c.bench_function("envelope_decode_200", |b| {
        b.iter(|| {
            black_box(
                envelope::decode::<EntryBatch>(black_box(&packed), DEFAULT_MAX_PAYLOAD).unwrap(),
            )
        })
    });
}

criterion_group! {
    name = core;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = benches
}
criterion_main!(core);
