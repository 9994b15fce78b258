use super::*;
use crate::printer::builder::EscPos;
use proptest::prelude::*;

fn sample_document() -> Vec<u8> {
    let mut b = EscPos::new();
    b.init()
        .align(Align::Center)
        .size(2, 2)
        .bold(true)
        .line("湾区市场")
        .size(1, 1)
        .bold(false)
        .align(Align::Left)
        .line("鲜猪肉  2.47斤  29.64");
    b.qr(b"https://t.example/q/1234", 6, EcLevel::Q).unwrap();
    b.qr_raster(b"https://t.example/q/1234", 4, EcLevel::M, 384)
        .unwrap();
    b.push(&Element::StatusRequest(2));
    b.feed(4).cut(Cut::Partial).drawer_kick(0, 50, 500);
    b.into_bytes()
}

fn parse_chunked(bytes: &[u8], chunk: usize) -> (Vec<Element>, ParserStats) {
    let mut p = Parser::new();
    let mut out = Vec::new();
    for c in bytes.chunks(chunk.max(1)) {
        p.push(c);
        while let Some(e) = p.next_element() {
            out.push(e);
        }
    }
    while let Some(e) = p.finish() {
        out.push(e);
    }
    (out, p.stats())
}

#[test]
fn whole_document_parses_to_its_elements() {
    let (els, stats) = parse_all(&sample_document());
    assert_eq!(stats.unknown_bytes, 0);
    assert_eq!(els[0], Element::Init);
    assert!(els.contains(&Element::Text("湾区市场".into())));
    assert!(els.contains(&Element::ChineseMode(true)));
    assert!(els.contains(&Element::Qr(QrCommand::Store(
        b"https://t.example/q/1234".to_vec()
    ))));
    assert!(els.contains(&Element::Qr(QrCommand::ErrorCorrection(EcLevel::Q))));
    assert!(els.iter().any(|e| matches!(e, Element::Raster(_))));
    assert!(els.contains(&Element::StatusRequest(2)));
    assert_eq!(els[els.len() - 2], Element::Cut(Cut::Partial));
}

#[test]
fn byte_by_byte_equals_coalesced() {
    let doc = sample_document();
    let whole = parse_all(&doc);
    for chunk in [1, 2, 3, 7, 64, 1000] {
        assert_eq!(parse_chunked(&doc, chunk), whole, "chunk size {chunk}");
    }
    // Two documents coalesced into one push.
    let mut two = doc.clone();
    two.extend_from_slice(&doc);
    let (els, _) = parse_all(&two);
    assert_eq!(els.len(), whole.0.len() * 2);
}

#[test]
fn noise_between_commands_is_skipped_and_counted() {
    let doc = sample_document();
    let (clean, _) = parse_all(&doc);
    // Insert noise control bytes at every element boundary.
    let mut noisy = Vec::new();
    for e in &clean {
        noisy.extend_from_slice(&[0x00, 0x07, 0x7f]);
        e.encode(&mut noisy);
    }
    for chunk in [1, 5, 4096] {
        let (els, stats) = parse_chunked(&noisy, chunk);
        assert_eq!(els, clean);
        assert_eq!(stats.unknown_bytes, 3 * clean.len() as u64);
    }
}

#[test]
fn unknown_and_invalid_commands_are_skipped() {
    let (els, stats) = parse_all(&[
        0x1b, 0x07, b'A', 0x1b, b'a', 9, 0x1d, b'!', 0x88, b'B', 0x10, 0x04, 9, 0x0a,
    ]);
    // A skipped command ends a text run, as any control byte does.
    assert_eq!(
        els,
        vec![
            Element::Text("A".into()),
            Element::Text("B".into()),
            Element::LineFeed
        ]
    );
    assert_eq!(stats.unknown_bytes, 2 + 3 + 3 + 3);
    // Known-but-ignored commands are consumed whole: margin, ASB.
    let (els, stats) = parse_all(&[0x1d, b'L', 0, 0x0a, 0x1d, b'a', 0x0a, b'x']);
    assert_eq!(els, vec![Element::Text("x".into())]);
    assert_eq!(stats.ignored_commands, 2);
}

#[test]
fn incomplete_command_waits_then_is_dropped_at_end() {
    let mut p = Parser::new();
    p.push(&[0x1d, 0x28, 0x6b, 0x05, 0x00, 0x31]);
    assert_eq!(p.next_element(), None);
    assert_eq!(p.position(), 0);
    p.push(&[0x50, 0x30, b'A', b'B']);
    assert_eq!(
        p.next_element(),
        Some(Element::Qr(QrCommand::Store(b"AB".to_vec())))
    );
    assert_eq!(p.position(), 10);
    p.push(&[0x1b]);
    assert_eq!(p.finish(), None);
    assert_eq!(p.stats().unknown_bytes, 1);
}

#[test]
fn oversized_raster_header_is_garbage() {
    // 0xffff × 0xffff bytes would swallow the rest of the stream: the header is skipped.
    let (els, stats) = parse_all(&[0x1d, b'v', b'0', 0, 0xff, 0xff, 0xff, 0xff, b'o', b'k']);
    assert_eq!(stats.unknown_bytes, 3 + 1, "GS v 0, then the NUL mode byte");
    assert_eq!(els.len(), 1);
    assert!(matches!(&els[0], Element::Text(t) if t.ends_with("ok")));
}

fn cjk_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            (0x20u8..0x7f).prop_map(char::from),
            (0x4e00u32..0x9fa5).prop_map(|c| char::from_u32(c).unwrap_or('中')),
        ],
        1..20,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn element() -> impl Strategy<Value = Element> {
    prop_oneof![
        Just(Element::Init),
        cjk_text().prop_map(Element::Text),
        Just(Element::LineFeed),
        any::<u8>().prop_map(Element::Feed),
        proptest::option::of(any::<u8>()).prop_map(Element::LineSpacing),
        any::<bool>().prop_map(Element::Bold),
        (0u8..3).prop_map(Element::Underline),
        prop_oneof![Just(Align::Left), Just(Align::Center), Just(Align::Right)]
            .prop_map(Element::Align),
        (1u8..=8, 1u8..=8).prop_map(|(width, height)| Element::Size { width, height }),
        any::<bool>().prop_map(Element::Reverse),
        any::<bool>().prop_map(Element::ChineseMode),
        (1u8..=16).prop_map(|n| Element::Qr(QrCommand::ModuleSize(n))),
        prop_oneof![
            Just(EcLevel::L),
            Just(EcLevel::M),
            Just(EcLevel::Q),
            Just(EcLevel::H)
        ]
        .prop_map(|e| Element::Qr(QrCommand::ErrorCorrection(e))),
        proptest::collection::vec(any::<u8>(), 0..300)
            .prop_map(|d| Element::Qr(QrCommand::Store(d))),
        Just(Element::Qr(QrCommand::Print)),
        Just(Element::Qr(QrCommand::Model(50))),
        (1u16..8, 1u16..16)
            .prop_flat_map(|(w, h)| (
                Just(w),
                Just(h),
                proptest::collection::vec(any::<u8>(), usize::from(w * h))
            ))
            .prop_map(|(width_bytes, height, data)| Element::Raster(Raster {
                mode: 0,
                width_bytes,
                height,
                data
            })),
        prop_oneof![
            Just(Cut::Full),
            Just(Cut::Partial),
            any::<u8>().prop_map(Cut::FeedPartial),
            any::<u8>().prop_map(Cut::FeedFull)
        ]
        .prop_map(Element::Cut),
        (0u8..2, any::<u8>(), any::<u8>()).prop_map(|(pin, on, off)| Element::DrawerKick {
            pin,
            on,
            off
        }),
        (1u8..=4).prop_map(Element::StatusRequest),
    ]
}

/// Adjacent text runs are one run on the wire.
fn normalise(v: Vec<Element>) -> Vec<Element> {
    let mut out: Vec<Element> = Vec::new();
    for e in v {
        if let (Element::Text(t), Some(Element::Text(prev))) = (&e, out.last_mut()) {
            prev.push_str(t);
            continue;
        }
        out.push(e);
    }
    out
}

proptest! {
    #[test]
    fn elements_round_trip(els in proptest::collection::vec(element(), 0..40), chunk in 1usize..50) {
        let mut bytes = Vec::new();
        for e in &els {
            e.encode(&mut bytes);
        }
        let (back, stats) = parse_chunked(&bytes, chunk);
        prop_assert_eq!(stats.unknown_bytes, 0);
        prop_assert_eq!(back, normalise(els));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000), chunk in 1usize..64) {
        let (els, stats) = parse_chunked(&bytes, chunk);
        // Everything is accounted for: nothing is silently lost without being counted.
        prop_assert!(stats.elements >= els.len() as u64);
        prop_assert_eq!(parse_chunked(&bytes, 4096).0, els);
    }
}
