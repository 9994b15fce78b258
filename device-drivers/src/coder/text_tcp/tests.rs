use super::*;
use crate::testutil::{assert_streams, feed_chunks};
use proptest::prelude::*;
use tokio_util::codec::Encoder;

#[test]
fn patterns_match_and_capture() {
    assert_eq!(Pattern::new("OK*").matches("OK"), Some(vec![]));
    assert_eq!(Pattern::new("OK*").matches("OK 12"), Some(vec![]));
    assert_eq!(Pattern::new("OK*").matches("NOK"), None);
    assert_eq!(
        Pattern::new("COUNT {n}").matches("COUNT 1234"),
        Some(vec![1234])
    );
    assert_eq!(Pattern::new("COUNT {n}").matches("COUNT x"), None);
    assert_eq!(Pattern::new("COUNT {n}").matches("COUNT 12 "), None);
    assert_eq!(
        Pattern::new("STATUS {n} {n}").matches("STATUS 1 0"),
        Some(vec![1, 0])
    );
    assert_eq!(Pattern::new("{n}0").matches("100"), Some(vec![10]));
    assert_eq!(
        Pattern::new("*=<{n}>*").matches("mark=<7> done"),
        Some(vec![7])
    );
    assert_eq!(Pattern::new("").matches(""), Some(vec![]));
}

#[test]
fn templates_render() {
    assert_eq!(render("PUSH {code}", &[("code", "A1")]), "PUSH A1");
    assert_eq!(
        render("SET {name} {value}", &[("name", "lot"), ("value", "B7")]),
        "SET lot B7"
    );
}

#[test]
fn lines_are_byte_exact_and_stream() {
    let mut c = TextLineCodec::default();
    let mut b = bytes::BytesMut::new();
    c.encode("PUSH A1".to_string(), &mut b).unwrap();
    assert_eq!(&b[..], b"PUSH A1\r\n");
    let mut c = TextLineCodec::new("\n");
    let mut b = bytes::BytesMut::new();
    c.encode("COUNT 5".to_string(), &mut b).unwrap();
    assert_eq!(&b[..], b"COUNT 5\n");
    assert_streams::<TextLineCodec>(
        b"OK\r\nCOUNT 5\r\n\r\nBUF 3\n",
        &["OK".to_string(), "COUNT 5".into(), "BUF 3".into()],
    );
}

#[test]
fn bad_utf8_is_skipped_and_counted() {
    let mut d = TextLineCodec::default();
    let got = feed_chunks(&mut d, b"\xff\xfe\r\nOK\r\n", 1);
    assert_eq!(got, vec!["OK".to_string()]);
    assert_eq!(d.skipped(), 1);
}

proptest! {
    #[test]
    fn lines_round_trip(lines in prop::collection::vec("[^\r\n]{1,40}", 1..6), chunk in 1usize..16) {
        let mut c = TextLineCodec::default();
        let mut b = bytes::BytesMut::new();
        for l in &lines {
            c.encode(l.clone(), &mut b).unwrap();
        }
        prop_assert_eq!(feed_chunks(&mut TextLineCodec::default(), &b, chunk), lines);
    }

    #[test]
    fn rendered_numbers_match_their_pattern(prefix in "[A-Z]{1,6}", n in any::<u64>().prop_map(|n| n % 10_000_000_000_000_000_000)) {
        let p = Pattern::new(&format!("{prefix} {{n}}"));
        prop_assert_eq!(p.matches(&format!("{prefix} {n}")), Some(vec![n]));
    }

    #[test]
    fn patterns_never_panic(p in "[a-z*{}n ]{0,12}", s in "[a-z0-9 ]{0,20}") {
        let _ = Pattern::new(&p).matches(&s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = feed_chunks(&mut TextLineCodec::default(), &bytes, 5);
    }
}
