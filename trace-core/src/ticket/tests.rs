use super::*;
use proptest::prelude::*;
use std::collections::HashSet;

const KEY: [u8; 32] = [7u8; 32];

fn codec() -> TicketCodec {
    TicketCodec::new(123_456, &KEY).unwrap()
}

#[test]
fn damm_known_vector() {
    // The textbook example: 572 has check digit 4.
    assert_eq!(damm(&[5, 7, 2]), 4);
    assert_eq!(damm(&[5, 7, 2, 4]), 0);
}

#[test]
#[allow(clippy::needless_range_loop)] // indices are the quasigroup's elements
fn damm_table_is_a_weakly_totally_antisymmetric_quasigroup() {
    for a in 0..10 {
        assert_eq!(DAMM[a][a], 0, "diagonal");
        let row: HashSet<u8> = DAMM[a].iter().copied().collect();
        let col: HashSet<u8> = (0..10).map(|r| DAMM[r][a]).collect();
        assert_eq!((row.len(), col.len()), (10, 10), "latin square");
    }
    for c in 0..10 {
        for x in 0..10 {
            for y in 0..10 {
                if x != y {
                    assert_ne!(DAMM[DAMM[c][x] as usize][y], DAMM[DAMM[c][y] as usize][x]);
                }
            }
        }
    }
}

#[test]
fn mint_decode_round_trip_and_shape() {
    let c = codec();
    for counter in [0, 1, 2, 999, COUNTER_LIMIT - 1] {
        let code = c.mint(counter).unwrap();
        let s = code.to_string();
        assert_eq!(s.len(), 20);
        assert!(s.starts_with("123456"));
        assert_eq!(code.device_no(), 123_456);
        assert_eq!(TicketCode::parse(&s).unwrap(), code);
        assert_eq!(c.decode(&code).unwrap(), counter);
    }
    assert_eq!(
        c.mint(COUNTER_LIMIT),
        Err(TicketCodecError::CounterOutOfRange(COUNTER_LIMIT))
    );
}

#[test]
fn grouped_and_typed_forms() {
    let code = codec().mint(42).unwrap();
    let g = code.grouped();
    assert_eq!(g.len(), 24);
    assert_eq!(g.replace(' ', ""), code.to_string());
    assert_eq!(TicketCode::parse(&g).unwrap(), code);
    let dashed = format!("{}-{}", &code.to_string()[..10], &code.to_string()[10..]);
    assert_eq!(TicketCode::parse(&dashed).unwrap(), code);
    assert_eq!(TicketCode::parse(&format!(" {g}\t")).unwrap(), code);
    assert_eq!(
        TicketCode::parse(" 1x"),
        Err(TicketCodeError::NotDigit {
            position: 3,
            ch: 'x'
        })
    );
    let json = serde_json::to_string(&code).unwrap();
    assert_eq!(json, format!("\"{code}\""));
    assert_eq!(serde_json::from_str::<TicketCode>(&json).unwrap(), code);
}

#[test]
fn parse_errors_say_what_is_wrong() {
    assert_eq!(
        TicketCode::parse("1234"),
        Err(TicketCodeError::Length { found: 4 })
    );
    assert_eq!(
        TicketCode::parse("1234 5678 9O12 3456 7890"),
        Err(TicketCodeError::NotDigit {
            position: 12,
            ch: 'O'
        })
    );
    let mut s = codec().mint(5).unwrap().to_string().into_bytes();
    s[19] = b'0' + (s[19] - b'0' + 1) % 10;
    assert_eq!(
        TicketCode::parse(std::str::from_utf8(&s).unwrap()),
        Err(TicketCodeError::CheckDigit)
    );
}

#[test]
fn device_numbers_are_checked() {
    assert_eq!(
        TicketCodec::new(0, &KEY).unwrap_err(),
        TicketCodecError::DeviceNo(0)
    );
    assert!(TicketCodec::new(1_000_000, &KEY).is_err());
    assert!(TicketCodec::new(999_999, &KEY).is_ok());
    let other = TicketCodec::new(654_321, &KEY).unwrap();
    let code = other.mint(1).unwrap();
    assert_eq!(
        codec().decode(&code),
        Err(TicketCodecError::WrongDevice {
            expected: 123_456,
            found: 654_321
        })
    );
    assert!(!format!("{other:?}").contains("7, 7"));
}

/// No two counters of a sampled window share a code (the permutation is injective there), and
/// every code decodes back to its own counter.
#[test]
fn permutation_has_no_collisions_on_sampled_ranges() {
    let c = codec();
    let mut seen = HashSet::new();
    for start in [0u64, 5_000_000_000_000, COUNTER_LIMIT - 50_000] {
        for counter in start..start + 50_000 {
            let code = c.mint(counter).unwrap();
            assert!(seen.insert(code), "collision at counter {counter}");
            if counter % 997 == 0 {
                assert_eq!(c.decode(&code).unwrap(), counter);
            }
        }
    }
}

/// Different keys give unrelated bodies: the same counters under two keys agree in about a
/// tenth of digit positions (chance), never systematically.
#[test]
fn different_keys_give_unrelated_codes() {
    let a = codec();
    let b = TicketCodec::new(123_456, &[8u8; 32]).unwrap();
    let mut same_digits = 0usize;
    let n = 2_000u64;
    for counter in 0..n {
        let (ca, cb) = (a.mint(counter).unwrap(), b.mint(counter).unwrap());
        assert_ne!(ca, cb);
        same_digits += (6..19).filter(|&i| ca.0[i] == cb.0[i]).count();
    }
    let total = 13 * n as usize;
    // Expected 10%; allow 8-12%.
    assert!(
        same_digits * 100 > total * 8 && same_digits * 100 < total * 12,
        "{same_digits}/{total}"
    );
}

/// Consecutive counters do not give nearby codes (what an enumerating attacker would exploit).
#[test]
fn consecutive_counters_scatter() {
    let c = codec();
    let bodies: Vec<u64> = (0..1000).map(|n| c.mint(n).unwrap().body()).collect();
    let close = bodies
        .windows(2)
        .filter(|w| w[0].abs_diff(w[1]) < 1_000_000)
        .count();
    assert!(close < 3, "{close} consecutive pairs within 10^6");
}

fn mutations(s: &[u8; 20]) -> Vec<[u8; 20]> {
    let mut out = Vec::new();
    for i in 0..20 {
        for d in 0..10 {
            if d != s[i] {
                let mut m = *s;
                m[i] = d;
                out.push(m);
            }
        }
        if i + 1 < 20 && s[i] != s[i + 1] {
            let mut m = *s;
            m.swap(i, i + 1);
            out.push(m);
        }
    }
    out
}

fn render(d: &[u8; 20]) -> String {
    d.iter().map(|d| char::from(b'0' + d)).collect()
}

/// Exhaustive over all single-digit substitutions and adjacent transpositions of many random
/// bodies (including the check digit's own position).
#[test]
fn damm_catches_every_single_error_and_adjacent_swap() {
    let mut rng_state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..300 {
        let mut body = [0u8; 19];
        for d in body.iter_mut() {
            rng_state ^= rng_state << 13;
            rng_state ^= rng_state >> 7;
            rng_state ^= rng_state << 17;
            *d = (rng_state % 10) as u8;
        }
        let mut full = [0u8; 20];
        full[..19].copy_from_slice(&body);
        full[19] = damm(&body);
        assert!(TicketCode::parse(&render(&full)).is_ok());
        for m in mutations(&full) {
            assert_eq!(
                TicketCode::parse(&render(&m)),
                Err(TicketCodeError::CheckDigit),
                "{}",
                render(&m)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_mint_parse_decode(device in 1u32..=MAX_DEVICE_NO, key in any::<[u8; 32]>(), counter in 0..COUNTER_LIMIT) {
        let c = TicketCodec::new(device, &key).unwrap();
        let code = c.mint(counter).unwrap();
        let parsed = TicketCode::parse(&code.grouped()).unwrap();
        prop_assert_eq!(parsed, code);
        prop_assert_eq!(parsed.device_no(), device);
        prop_assert_eq!(c.decode(&parsed).unwrap(), counter);
    }

    #[test]
    fn prop_any_single_change_or_swap_is_rejected(counter in 0..COUNTER_LIMIT, pos in 0usize..20, delta in 1u8..10, swap in any::<bool>()) {
        let code = codec().mint(counter).unwrap();
        let mut m = code.0;
        if swap && pos < 19 {
            prop_assume!(m[pos] != m[pos + 1]);
            m.swap(pos, pos + 1);
        } else {
            m[pos] = (m[pos] + delta) % 10;
        }
        prop_assert_eq!(TicketCode::parse(&render(&m)), Err(TicketCodeError::CheckDigit));
    }
}

/// Codes already printed on receipts must keep decoding: these were minted by the codec as
/// released, so any change to the permutation (rounds, round function, cycle walking) fails here.
#[test]
fn minted_codes_are_pinned() {
    let c = codec();
    let got: Vec<String> = [0u64, 1, 2, 999, 1_000_000, COUNTER_LIMIT - 1]
        .iter()
        .map(|&n| c.mint(n).unwrap().to_string())
        .collect();
    assert_eq!(got, PINNED);
}

const PINNED: [&str; 6] = [
    "12345683269734494023",
    "12345669446987631961",
    "12345690307592066928",
    "12345679900203701911",
    "12345689859978810784",
    "12345691262324825335",
];

proptest! {
    /// The hand-written round function is HMAC-SHA256 as the `hmac` crate computes it.
    #[test]
    fn prop_round_is_hmac_sha256(device in 1u32..=MAX_DEVICE_NO, key in any::<[u8; 32]>(), round in 0u8..12, half in 0u64..(1 << 22)) {
        use hmac::{Hmac, KeyInit, Mac};
        let c = TicketCodec::new(device, &key).unwrap();
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(b"baytrace/ticket/v1");
        mac.update(&device.to_be_bytes());
        mac.update(&[round]);
        mac.update(&(half as u32).to_be_bytes());
        let out = mac.finalize().into_bytes();
        let want = u64::from(u32::from_be_bytes([out[0], out[1], out[2], out[3]])) & ((1 << 22) - 1);
        prop_assert_eq!(c.round(round, half), want);
    }
}
