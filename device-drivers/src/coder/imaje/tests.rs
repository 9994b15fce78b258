use super::protocol::{cmd, counter_data, parse_counter, parse_external_variables};
use super::*;
use crate::testutil::{assert_streams, feed_chunks};
use bytes::BytesMut;
use proptest::prelude::*;

fn enc_req(r: &ImajeRequest) -> Vec<u8> {
    let mut b = BytesMut::new();
    r.encode(&mut b);
    b.to_vec()
}

fn enc_reply(r: &ImajeReply) -> Vec<u8> {
    let mut b = BytesMut::new();
    r.encode(&mut b);
    b.to_vec()
}

fn frame(c: u8, data: &[u8]) -> ImajeRequest {
    ImajeRequest::Frame {
        cmd: c,
        data: data.to_vec(),
    }
}

#[test]
fn requests_match_the_reference_bytes() {
    let cases: Vec<(ImajeRequest, Vec<u8>)> = vec![
        (ImajeRequest::Enq, vec![0x05]),
        (
            frame(cmd::PRINT_COUNTER, &[1]),
            vec![0x39, 0x00, 0x01, 0x01, 0x39],
        ),
        (frame(cmd::FAULTS, &[]), vec![0x3B, 0x00, 0x00, 0x3B]),
        (frame(cmd::PARAMETERS, &[]), vec![0x20, 0x00, 0x00, 0x20]),
        (
            frame(cmd::START_STOP, &[255]),
            vec![0x30, 0x00, 0x01, 0xFF, 0xCE],
        ),
        (
            frame(cmd::START_STOP, &[1]),
            vec![0x30, 0x00, 0x01, 0x01, 0x30],
        ),
        (
            frame(cmd::JET_STATUS, &[1]),
            vec![0x32, 0x00, 0x01, 0x01, 0x32],
        ),
        (
            frame(cmd::CLEAR_VARIABLES, &[1]),
            vec![0x5C, 0x00, 0x01, 0x01, 0x5C],
        ),
        (
            ImajeRequest::external_variables(1, &[b"AB"]),
            vec![0x5B, 0x00, 0x05, 0x01, 0x12, b'A', b'B', 0x12, 0x5C],
        ),
    ];
    for (req, bytes) in cases {
        assert_eq!(enc_req(&req), bytes, "{req:?}");
        assert_eq!(
            feed_chunks(&mut ImajeDeviceCodec::default(), &bytes, 1),
            vec![req]
        );
    }
}

#[test]
fn replies_are_byte_exact() {
    let counter = ImajeReply::Frame {
        ack: true,
        cmd: cmd::PRINT_COUNTER,
        data: counter_data(42),
    };
    let mut want = vec![0x06, 0x39, 0x00, 0x0A];
    want.extend(b"0000000042");
    want.push(want[1..].iter().fold(0, |a, b| a ^ b));
    assert_eq!(enc_reply(&counter), want);
    assert_streams::<ImajeCodec>(&want, std::slice::from_ref(&counter));
    let full = ImajeReply::Frame {
        ack: false,
        cmd: cmd::EXTERNAL_VARIABLES,
        data: vec![2],
    };
    assert_eq!(enc_reply(&full), [0x15, 0x5B, 0x00, 0x01, 0x02, 0x58]);
    assert_eq!(enc_reply(&ImajeReply::Ready), [0x06]);
}

#[test]
fn ready_is_decoded_only_when_expected() {
    let mut d = ImajeCodec::default();
    d.expect_ready();
    let ack = ImajeReply::Frame {
        ack: true,
        cmd: cmd::START_STOP,
        data: vec![],
    };
    let mut bytes = vec![0x06];
    bytes.extend(enc_reply(&ack));
    assert_eq!(feed_chunks(&mut d, &bytes, 1), vec![ImajeReply::Ready, ack]);
}

#[test]
fn noise_and_bad_checksums_are_skipped_and_counted() {
    let good = ImajeReply::Frame {
        ack: true,
        cmd: cmd::JET_STATUS,
        data: vec![7],
    };
    let mut bad = enc_reply(&good);
    let n = bad.len();
    bad[n - 1] ^= 0x55;
    let mut bytes = b"noise!".to_vec();
    bytes.extend(bad);
    bytes.extend(enc_reply(&good));
    bytes.extend(b"\x00\xff");
    bytes.extend(enc_reply(&good));
    let mut d = ImajeCodec::default();
    assert_eq!(
        feed_chunks(&mut d, &bytes, 1),
        vec![good.clone(), good.clone()]
    );
    assert!(d.skipped() >= 8, "skipped {}", d.skipped());
    assert_streams::<ImajeCodec>(&bytes, &[good.clone(), good]);
}

#[test]
fn counters_and_variables_parse() {
    assert_eq!(parse_counter(b"0000001234"), Some(1234));
    assert_eq!(parse_counter(b"12a"), None);
    assert_eq!(parse_counter(b""), None);
    let ImajeRequest::Frame { data, .. } = ImajeRequest::external_variables(2, &[b"X1", b"Y"])
    else {
        panic!()
    };
    assert_eq!(
        parse_external_variables(&data),
        Some((2, vec![b"X1".to_vec(), b"Y".to_vec()]))
    );
    assert_eq!(parse_external_variables(&[1, 0x12, b'A']), None);
}

fn request() -> impl Strategy<Value = ImajeRequest> {
    prop_oneof![
        Just(ImajeRequest::Enq),
        (
            any::<u8>().prop_filter("not ENQ", |c| *c != 0x05),
            prop::collection::vec(any::<u8>(), 0..60)
        )
            .prop_map(|(cmd, data)| ImajeRequest::Frame { cmd, data }),
    ]
}

fn reply() -> impl Strategy<Value = ImajeReply> {
    (
        any::<bool>(),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..60),
    )
        .prop_map(|(ack, cmd, data)| ImajeReply::Frame { ack, cmd, data })
}

proptest! {
    #[test]
    fn requests_round_trip(rs in prop::collection::vec(request(), 1..6), chunk in 1usize..16) {
        let bytes: Vec<u8> = rs.iter().flat_map(enc_req).collect();
        prop_assert_eq!(feed_chunks(&mut ImajeDeviceCodec::default(), &bytes, chunk), rs);
    }

    #[test]
    fn replies_round_trip(rs in prop::collection::vec(reply(), 1..6), chunk in 1usize..16) {
        let bytes: Vec<u8> = rs.iter().flat_map(enc_reply).collect();
        prop_assert_eq!(feed_chunks(&mut ImajeCodec::default(), &bytes, chunk), rs);
    }

    #[test]
    fn counter_round_trips(n in 0u64..10_000_000_000) {
        prop_assert_eq!(parse_counter(&counter_data(n)), Some(n));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = feed_chunks(&mut ImajeCodec::default(), &bytes, 7);
        let _ = feed_chunks(&mut ImajeDeviceCodec::default(), &bytes, 13);
    }
}
