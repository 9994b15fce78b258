use super::*;
use proptest::prelude::*;

#[test]
fn known_check_digits() {
    let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
    // GTIN-13s from products, and the GS1 General Specifications' price check examples.
    assert_eq!(gs1_check_digit(&d("629104150021")), 3);
    assert_eq!(gs1_check_digit(&d("950110153100")), 0);
    assert_eq!(price_check_digit(&d("2875")), Some(9));
    assert_eq!(price_check_digit(&d("14685")), Some(6));
    assert_eq!(price_check_digit(&d("123")), None);
}

#[test]
fn known_labels_in_the_default_layout() {
    let l = LabelLayout::default();
    l.validate().unwrap();
    // 猪肉 (library code 0101 → item 101), 27.28 元 on a price label.
    assert_eq!(
        l.parse("2100101027284").unwrap(),
        Label {
            flag: 1,
            item: 101,
            measure: Measure::Price,
            amount: 2_728,
        }
    );
    // The same item, 812 g on a weight label; whitespace from the scanner is ignored.
    assert_eq!(
        l.parse(" 2200101008129\r\n").unwrap(),
        Label {
            flag: 2,
            item: 101,
            measure: Measure::Weight,
            amount: 812,
        }
    );
    assert_eq!(
        l.encode(&Label {
            flag: 0,
            item: 4,
            measure: Measure::Price,
            amount: 345,
        })
        .unwrap(),
        "2000004003456"
    );
}

#[test]
fn what_is_not_a_usable_label() {
    let l = LabelLayout::default();
    assert_eq!(l.parse("210010102728"), Err(LabelError::NotEan13));
    assert_eq!(l.parse("21001010272845"), Err(LabelError::NotEan13));
    assert_eq!(l.parse("21001010272a4"), Err(LabelError::NotEan13));
    assert_eq!(
        l.parse("https://trace.example.cn/t/1"),
        Err(LabelError::NotEan13)
    );
    // A packaged product's GTIN: valid, but not an in-store label.
    assert_eq!(
        l.parse("6291041500213"),
        Err(LabelError::NotVariableMeasure)
    );
    assert_eq!(l.parse("2100101027285"), Err(LabelError::CheckDigit));
    // Flag 7 is configured as neither.
    let seven = format!(
        "270010102728{}",
        gs1_check_digit(&[2, 7, 0, 0, 1, 0, 1, 0, 2, 7, 2, 8])
    );
    assert_eq!(l.parse(&seven), Err(LabelError::UnknownFlag(7)));
    // Encoding refuses what does not fit, and a flag of the other measure.
    let too_big = Label {
        flag: 1,
        item: 100_000,
        measure: Measure::Price,
        amount: 1,
    };
    assert_eq!(l.encode(&too_big), Err(LabelError::DoesNotFit));
    let wrong_flag = Label {
        flag: 2,
        item: 1,
        measure: Measure::Price,
        amount: 1,
    };
    assert_eq!(l.encode(&wrong_flag), Err(LabelError::DoesNotFit));
}

#[test]
fn a_price_check_layout_catches_an_altered_amount() {
    let l = LabelLayout {
        item_digits: 4,
        amount_digits: 5,
        price_check: true,
        ..LabelLayout::default()
    };
    l.validate().unwrap();
    let label = Label {
        flag: 1,
        item: 101,
        measure: Measure::Price,
        amount: 14_685,
    };
    let s = l.encode(&label).unwrap();
    // 2 1 0101 6 14685 C: the price check digit of 14685 is 6.
    assert_eq!(&s[..12], "210101614685");
    assert_eq!(l.parse(&s).unwrap(), label);
    // Change the amount and recompute only the EAN check digit: the price check still fails.
    let mut d: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
    d[11] = 6;
    d[12] = gs1_check_digit(&d[..12]);
    let forged: String = d.iter().map(|x| char::from(b'0' + x)).collect();
    assert_eq!(l.parse(&forged), Err(LabelError::PriceCheckDigit));
}

#[test]
fn layouts_that_cannot_be_an_ean13_name_the_key() {
    let bad = |l: LabelLayout| l.validate().unwrap_err().key;
    let d = LabelLayout::default;
    assert_eq!(
        bad(LabelLayout {
            item_digits: 6,
            ..d()
        }),
        "item_digits"
    );
    assert_eq!(
        bad(LabelLayout {
            item_digits: 0,
            amount_digits: 10,
            ..d()
        }),
        "item_digits"
    );
    assert_eq!(
        bad(LabelLayout {
            item_digits: 4,
            amount_digits: 5,
            ..d()
        }),
        "item_digits"
    );
    assert_eq!(
        bad(LabelLayout {
            item_digits: 3,
            amount_digits: 6,
            price_check: true,
            ..d()
        }),
        "price_check"
    );
    assert_eq!(
        bad(LabelLayout {
            price_flags: vec![1, 12],
            ..d()
        }),
        "price_flags"
    );
    assert_eq!(
        bad(LabelLayout {
            weight_flags: vec![1],
            ..d()
        }),
        "weight_flags"
    );
    assert_eq!(
        bad(LabelLayout {
            price_flags: vec![],
            weight_flags: vec![],
            ..d()
        }),
        "price_flags"
    );
}

fn layouts() -> impl Strategy<Value = LabelLayout> {
    (
        1u8..=6,
        any::<bool>(),
        proptest::collection::vec(0u8..=9, 1..4),
    )
        .prop_filter_map("a valid layout", |(item, check, mut flags)| {
            flags.sort_unstable();
            flags.dedup();
            let weight_flags = flags.split_off(flags.len() / 2);
            let l = LabelLayout {
                item_digits: item,
                amount_digits: 10 - item - u8::from(check),
                price_check: check,
                price_flags: flags,
                weight_flags,
            };
            l.validate().is_ok().then_some(l)
        })
}

fn label_in(l: &LabelLayout) -> impl Strategy<Value = Label> + use<> {
    let flags: Vec<(u8, Measure)> = l
        .price_flags
        .iter()
        .map(|f| (*f, Measure::Price))
        .chain(l.weight_flags.iter().map(|f| (*f, Measure::Weight)))
        .collect();
    let max_item = 10u32.pow(u32::from(l.item_digits)) - 1;
    let max_amount = 10u32.pow(u32::from(l.amount_digits)) - 1;
    (
        proptest::sample::select(flags),
        0..=max_item,
        0..=max_amount,
    )
        .prop_map(|((flag, measure), item, amount)| Label {
            flag,
            item,
            measure,
            amount,
        })
}

proptest! {
    #[test]
    fn encode_then_parse_round_trips(
        (layout, label) in layouts().prop_flat_map(|l| { let s = label_in(&l); (Just(l), s) })
    ) {
        let text = layout.encode(&label).unwrap();
        prop_assert_eq!(text.len(), 13);
        prop_assert_eq!(layout.parse(&text).unwrap(), label);
    }

    /// Every single-digit substitution, at every position, breaks the check digit.
    #[test]
    fn every_single_digit_error_is_caught(
        (layout, label) in layouts().prop_flat_map(|l| { let s = label_in(&l); (Just(l), s) })
    ) {
        let text = layout.encode(&label).unwrap();
        let good: Vec<u8> = text.bytes().map(|b| b - b'0').collect();
        for pos in 0..13 {
            for digit in 0..10u8 {
                if digit == good[pos] {
                    continue;
                }
                let mut d = good.clone();
                d[pos] = digit;
                prop_assert_ne!(gs1_check_digit(&d[..12]), d[12]);
                let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
                prop_assert_eq!(layout.parse(&s), Err(LabelError::CheckDigit));
            }
        }
    }
}
