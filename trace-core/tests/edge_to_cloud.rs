//! The public API end to end, as the edge and the cloud use it: a box mints a ticket code,
//! records a validated sale, seals a hash chain, packs and signs an `up` batch; the cloud checks
//! the topic, the signature, the envelope, the batch, the chain, and resolves the ticket code back
//! to the counter it was minted from.

use trace_core::event::{Event, PaymentMethod, SaleLine, SaleTicket, Void};
use trace_core::ticket::TicketCode;
use trace_core::units::{Quantity, WeightUnit, line_amount};
use trace_core::wire::envelope::{self, Compression, DEFAULT_MAX_PAYLOAD};
use trace_core::wire::sign::{SignKey, SignedEnvelope, VerifyKey};
use trace_core::{
    Ack, DeviceId, Digest, Entry, EntryBatch, EntryDraft, Fen, Grams, HashAlg, PriceUnit, SeqRange,
    TicketCodec, Timestamp, Ulid, topics,
};

const CODE_KEY: [u8; 32] = [42u8; 32];

fn sale(codec: &TicketCodec, counter: u64, typed_price: &str, typed_weight: &str) -> Event {
    let unit_price = Fen::parse_yuan(typed_price).unwrap();
    let grams = Grams::parse(typed_weight, WeightUnit::Jin).unwrap();
    let amount = line_amount(unit_price, PriceUnit::Jin, Quantity::Weight(grams)).unwrap();
    Event::SaleTicket(SaleTicket {
        ticket_code: codec.mint(counter).unwrap().to_string(),
        lines: vec![SaleLine {
            product: "猪五花".into(),
            product_code: None,
            grams: Some(grams),
            count: None,
            unit_price,
            price_unit: PriceUnit::Jin,
            amount,
            batch: Some("B1".into()),
            origin: None,
        }],
        total: amount,
        payment: PaymentMethod::Cash,
        buyer: None,
        buyer_id: None,
        fees: vec![],
    })
}

#[test]
fn a_sale_travels_from_box_to_cloud_and_resolves() {
    let alg = HashAlg::Sm3;
    let device = DeviceId::new("stall-a01").unwrap();
    let codec = TicketCodec::new(1, &CODE_KEY).unwrap();
    let box_key = SignKey::ed25519_from_seed(&[5u8; 32]);

    // Edge: three validated events, chained.
    let events = vec![
        sale(&codec, 0, "16.80", "1.5斤"),
        sale(&codec, 1, "3", "0.62kg"),
        Event::Void(Void {
            target_seq: 2,
            reason: "客人退货".into(),
        }),
    ];
    let mut prev = Digest::ZERO;
    let mut entries = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        event.validate().unwrap();
        let seq = i as u64 + 1;
        let draft = EntryDraft {
            id: Ulid::generate(),
            at: Timestamp(1_763_800_000_000),
            event,
        };
        let e = Entry::seal(draft, device.clone(), seq, prev, alg).unwrap();
        prev = e.hash;
        entries.push(e);
    }
    let batch = EntryBatch::new(device.clone(), entries);
    let payload = envelope::encode(&batch, Compression::Lz4).unwrap();
    let signed = SignedEnvelope::sign(payload, &box_key).unwrap().to_bytes();
    let topic = topics::up(&device);

    // Cloud: who sent it, is it authentic, is it well-formed, does the chain verify?
    let (from, kind) = topics::parse(&topic).unwrap();
    assert_eq!((from.as_str(), kind), ("stall-a01", topics::TopicKind::Up));
    let directory_key =
        VerifyKey::from_bytes(box_key.alg(), &box_key.verify_key().to_bytes()).unwrap();
    let opened = SignedEnvelope::from_bytes(&signed).unwrap();
    let bytes = opened.verify(&directory_key).unwrap();
    let got: EntryBatch = envelope::decode(bytes, DEFAULT_MAX_PAYLOAD).unwrap();
    got.check().unwrap();
    assert_eq!(got.device, from);
    let mut prev = Digest::ZERO;
    for e in &got.entries {
        assert_eq!(e.prev_hash, prev);
        assert!(e.hash_is_valid(alg));
        e.event.validate().unwrap();
        prev = e.hash;
    }
    assert_eq!(got.ranges(), vec![SeqRange::new(1, 3)]);
    let ack = Ack::new(from, 3, vec![]);
    assert_eq!(ack.hwm, 3);

    // Public page: a consumer types the second receipt's code with spaces.
    let Event::SaleTicket(t) = &got.entries[1].event else {
        panic!("not a sale")
    };
    assert_eq!(t.total, Fen(372)); // 3.00 元/斤 × 620 g = 3.72 元
    let typed = t.code().unwrap().grouped();
    let code = TicketCode::parse(&typed).unwrap();
    let cloud_codec = TicketCodec::new(code.device_no(), &CODE_KEY).unwrap();
    assert_eq!(cloud_codec.decode(&code).unwrap(), 1);
}
