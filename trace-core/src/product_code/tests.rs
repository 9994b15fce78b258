//! Round trips and the properties the design promises.

use super::*;
use crate::event::CodeLevel;
use proptest::prelude::*;
use std::collections::HashSet;

fn key() -> CodeKey {
    CodeKey::derive(&[9; 32], "GZ0A", 1)
}

fn dl_template() -> Template {
    Template {
        id: "milk-250ml-unit".into(),
        issuer: "GZ0A".into(),
        number: 1,
        level: CodeLevel::Unit,
        gtin: Some("6901234567892".into()),
        product_code: None,
        fields: vec![
            Field::Batch {
                max_len: 10,
                encrypted: false,
            },
            Field::ProductionDate { encrypted: true },
            Field::ExpiryDate { encrypted: false },
        ],
        serial_capacity: 1_000_000_000,
        code_length: 20,
        cipher: CipherKind::Aes,
        output: Output::DigitalLink {
            host: "id.example.com".into(),
        },
    }
}

fn url_template(cipher: CipherKind) -> Template {
    Template {
        id: "sauce-case".into(),
        issuer: "GZ0A".into(),
        number: 7,
        level: CodeLevel::Case,
        gtin: None,
        product_code: Some("SAUCE-500".into()),
        fields: vec![
            Field::Batch {
                max_len: 8,
                encrypted: true,
            },
            Field::ExpiryDate { encrypted: false },
        ],
        serial_capacity: 10_000_000,
        code_length: 28,
        cipher,
        output: Output::Url {
            base: "https://t.example.com".into(),
        },
    }
}

fn vars(batch: &str, prod: Option<&str>, exp: Option<&str>) -> CodeVars {
    CodeVars {
        batch: Some(batch.into()),
        production_date: prod.map(|d| Day::parse(d).unwrap()),
        expiry_date: exp.map(|d| Day::parse(d).unwrap()),
    }
}

#[test]
fn digital_link_shape_and_round_trip() {
    let codec = ProductCodec::new(dl_template(), &key()).unwrap();
    let v = vars("B20261122", Some("2026-11-22"), Some("2027-05-22"));
    let batch = codec.for_batch(&v).unwrap();
    let code = batch.code_for(42).unwrap();
    let prefix = "https://id.example.com/01/06901234567892/10/B20261122/21/GZ0A01";
    assert!(code.starts_with(prefix), "{code}");
    assert!(code.ends_with("?17=270522"), "{code}");
    assert_eq!(code.len(), batch.code_len());
    // The production date is encrypted: it is nowhere in clear.
    assert!(!code.contains("11="), "{code}");
    let scanned = ScannedCode::parse(&code).unwrap();
    let d = codec.decode(&scanned).unwrap();
    assert_eq!(d.serial, 42);
    assert_eq!(d.vars, v);
    assert_eq!(d.level, CodeLevel::Unit);
    assert_eq!(d.template, "milk-250ml-unit");
}

#[test]
fn url_form_sm4_round_trip_and_typed_input() {
    let codec = ProductCodec::new(url_template(CipherKind::Sm4), &key()).unwrap();
    let v = vars("L0703", None, Some("2027-01-31"));
    let b = codec.for_batch(&v).unwrap();
    let code = b.code_for(9_999_999).unwrap();
    let token = code.strip_prefix("https://t.example.com/c/").unwrap();
    assert_eq!(token.len(), 28);
    // Typed in lower case with grouping dashes: same code.
    let typed: String = token
        .to_ascii_lowercase()
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("-");
    let d = codec.decode(&ScannedCode::parse(&typed).unwrap()).unwrap();
    assert_eq!((d.serial, d.vars), (9_999_999, v));
    assert_eq!(
        b.code_for(10_000_000),
        Err(SerialOutOfRange {
            serial: 10_000_000,
            capacity: 10_000_000
        })
    );
}

#[test]
fn aes_and_sm4_and_keys_give_different_codes() {
    let v = vars("L0703", None, Some("2027-01-31"));
    let a = ProductCodec::new(url_template(CipherKind::Aes), &key()).unwrap();
    let s = ProductCodec::new(url_template(CipherKind::Sm4), &key()).unwrap();
    let other = ProductCodec::new(url_template(CipherKind::Aes), &CodeKey([1; 16])).unwrap();
    let (ca, cs, co) = (
        a.for_batch(&v).unwrap().code_for(5).unwrap(),
        s.for_batch(&v).unwrap().code_for(5).unwrap(),
        other.for_batch(&v).unwrap().code_for(5).unwrap(),
    );
    assert_ne!(ca, cs);
    assert_ne!(ca, co);
    // The wrong key does not decode a code to the same serial, and mostly not at all.
    let wrong = other.decode(&ScannedCode::parse(&ca).unwrap());
    assert!(wrong.as_ref().map_or(true, |d| d.serial != 5), "{wrong:?}");
}

#[test]
fn malformed_and_foreign_input() {
    let codec = ProductCodec::new(dl_template(), &key()).unwrap();
    let b = codec
        .for_batch(&vars("B1", Some("2026-11-22"), Some("2027-05-22")))
        .unwrap();
    let code = b.code_for(1).unwrap();
    // One symbol changed in the token → the check symbol refuses it.
    let mut bad = code.clone().into_bytes();
    let pos = code.find("/21/").unwrap() + 4 + 8;
    bad[pos] = if bad[pos] == b'7' { b'8' } else { b'7' };
    assert_eq!(
        ScannedCode::parse(std::str::from_utf8(&bad).unwrap()),
        Err(ScanError::CheckSymbol)
    );
    assert_eq!(ScannedCode::parse("  "), Err(ScanError::Empty));
    assert!(matches!(
        ScannedCode::parse("https://weixin.qq.com/x"),
        Err(ScanError::NotACode(_))
    ));
    assert!(matches!(
        ScannedCode::parse("GZ0A01UUU"),
        Err(ScanError::Symbol { position: 7, .. })
    ));
    // Wrong GTIN in the link (valid check digit, other product).
    let other_gtin = code.replace("06901234567892", "09501101530003");
    assert!(matches!(
        codec.decode(&ScannedCode::parse(&other_gtin).unwrap()),
        Err(DecodeError::Gs1Mismatch(_))
    ));
    let wrong_check_gtin = code.replace("06901234567892", "06901234567893");
    assert!(matches!(
        ScannedCode::parse(&wrong_check_gtin),
        Err(ScanError::DigitalLink(_))
    ));
    // Another template of the issuer.
    let url = ProductCodec::new(url_template(CipherKind::Aes), &key()).unwrap();
    assert!(matches!(
        url.decode(&ScannedCode::parse(&code).unwrap()),
        Err(DecodeError::OtherTemplate { number: 1, .. })
    ));
}

#[test]
fn guesses_rarely_decode() {
    // Flip the encrypted segment to random values with a valid check symbol: about 2^-20 of
    // them decode, so in 20,000 tries essentially none.
    let codec = ProductCodec::new(url_template(CipherKind::Aes), &key()).unwrap();
    let mut hits = 0;
    for i in 0..20_000u64 {
        let mut tok = String::from("GZ0A07");
        let seg = u128::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C834) >> 13;
        base32::push_fixed(&mut tok, seg & ((1 << 105) - 1), 21);
        let c = base32::Check::default().feed_all(tok.as_bytes()).unwrap();
        tok.push(c.symbol_char());
        if codec.decode(&ScannedCode::parse(&tok).unwrap()).is_ok() {
            hits += 1;
        }
    }
    assert!(hits <= 2, "{hits} random tokens decoded");
}

#[test]
fn vars_are_checked() {
    let codec = ProductCodec::new(dl_template(), &key()).unwrap();
    assert_eq!(
        codec
            .for_batch(&vars("B1", None, Some("2027-05-22")))
            .unwrap_err(),
        VarsError::Missing("production_date")
    );
    assert!(matches!(
        codec
            .for_batch(&vars("b-1", Some("2026-11-22"), Some("2027-05-22")))
            .unwrap_err(),
        VarsError::Batch { .. }
    ));
    assert!(matches!(
        codec
            .for_batch(&vars("B1", Some("2026-11-22"), Some("2026-05-22")))
            .unwrap_err(),
        VarsError::ExpiryBeforeProduction { .. }
    ));
    let url = ProductCodec::new(url_template(CipherKind::Aes), &key()).unwrap();
    assert_eq!(
        url.for_batch(&vars("B1", Some("2026-11-22"), Some("2027-05-22")))
            .unwrap_err(),
        VarsError::NotInTemplate("production_date")
    );
}

#[test]
fn preview_shows_layout_and_samples() {
    let codec = ProductCodec::new(url_template(CipherKind::Aes), &key()).unwrap();
    let p = codec
        .preview(&vars("L0703", None, Some("2027-01-31")), 3)
        .unwrap();
    assert_eq!(p.sample.len(), 3);
    assert_eq!(p.plain_symbols, 3);
    assert_eq!(p.encrypted_symbols, 28 - 7 - 3);
    assert!(p.guard_bits >= template::GUARD_BITS);
}

fn arb_batch() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[0-9A-Z]{1,10}").unwrap()
}

proptest! {
    #[test]
    fn round_trip(serial in 0u64..1_000_000_000, batch in arb_batch(),
                  prod in 0u16..20_000, shelf in 0u16..1_000, sm4 in any::<bool>()) {
        let mut t = dl_template();
        if sm4 {
            t.cipher = CipherKind::Sm4;
        }
        let codec = ProductCodec::new(t, &key()).unwrap();
        let v = CodeVars {
            batch: Some(batch),
            production_date: Some(Day(prod)),
            expiry_date: Some(Day(prod + shelf)),
        };
        let code = codec.for_batch(&v).unwrap().code_for(serial).unwrap();
        let d = codec.decode(&ScannedCode::parse(&code).unwrap()).unwrap();
        prop_assert_eq!(d.serial, serial);
        prop_assert_eq!(d.vars, v);
    }

    #[test]
    fn url_round_trip(serial in 0u64..10_000_000, batch in proptest::string::string_regex("[0-9A-Z]{1,8}").unwrap(),
                      exp in 0u16..30_000) {
        let codec = ProductCodec::new(url_template(CipherKind::Aes), &key()).unwrap();
        let v = CodeVars { batch: Some(batch), production_date: None, expiry_date: Some(Day(exp)) };
        let code = codec.for_batch(&v).unwrap().code_for(serial).unwrap();
        let d = codec.decode(&ScannedCode::parse(&code).unwrap()).unwrap();
        prop_assert_eq!((d.serial, d.vars), (serial, v));
    }

    #[test]
    fn each_code_matches_code_for(first in 0u64..999_999_000, n in 1u64..40) {
        let codec = ProductCodec::new(dl_template(), &key()).unwrap();
        let b = codec.for_batch(&vars("B1", Some("2026-11-22"), Some("2027-05-22"))).unwrap();
        let mut got = Vec::new();
        b.each_code(first, first + n - 1, |s, c| got.push((s, c.to_owned()))).unwrap();
        let want: Vec<_> = (first..first + n).map(|s| (s, b.code_for(s).unwrap())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn distinct_serials_distinct_codes(start in 0u64..999_000_000, step in 1u64..1000) {
        let codec = ProductCodec::new(dl_template(), &key()).unwrap();
        let b = codec.for_batch(&vars("B1", Some("2026-11-22"), Some("2027-05-22"))).unwrap();
        let mut seen = HashSet::new();
        for i in 0..500u64 {
            let s = start + i * step;
            if s >= 1_000_000_000 { break; }
            prop_assert!(seen.insert(b.code_for(s).unwrap()));
        }
    }
}
