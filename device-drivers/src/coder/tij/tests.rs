use super::protocol::{cmd, status};
use super::*;
use crate::testutil::{assert_streams, feed_chunks};
use bytes::BytesMut;
use proptest::prelude::*;

fn enc_req(r: &TijRequest) -> Vec<u8> {
    let mut b = BytesMut::new();
    r.encode(&mut b);
    b.to_vec()
}

fn enc_reply(r: &TijReply) -> Vec<u8> {
    let mut b = BytesMut::new();
    r.encode(&mut b);
    b.to_vec()
}

#[test]
fn handshake_matches_the_reference_bytes() {
    let hs = TijRequest::new(1, cmd::HANDSHAKE, vec![]);
    assert_eq!(enc_req(&hs), [0x1B, 0x02, 0x01, 0x00, 0x1B, 0x03, 0xC4]);
}

#[test]
fn requests_are_byte_exact() {
    let cases: Vec<(TijRequest, Vec<u8>)> = vec![
        (
            TijRequest::fill_remote(1, &[b"AB"]),
            vec![
                0x1B, 0x02, 0x01, 0x1D, 0x01, 0x02, b'A', b'B', 0x1B, 0x03, 0x21,
            ],
        ),
        (
            TijRequest::new(1, cmd::BUFFER_COUNT, vec![]),
            vec![0x1B, 0x02, 0x01, 0x33, 0x1B, 0x03, 0x91],
        ),
        (
            TijRequest::new(1, cmd::CLEAR_REMOTE, vec![]),
            vec![0x1B, 0x02, 0x01, 0x21, 0x1B, 0x03, 0xA3],
        ),
        (
            TijRequest::new(1, cmd::PRINT_TOTAL, vec![]),
            vec![0x1B, 0x02, 0x01, 0x09, 0x1B, 0x03, 0xBB],
        ),
        (
            TijRequest::new(1, cmd::START_JET, vec![]),
            vec![0x1B, 0x02, 0x01, 0x11, 0x1B, 0x03, 0xB3],
        ),
        (
            TijRequest::new(1, cmd::STOP_JET, vec![]),
            vec![0x1B, 0x02, 0x01, 0x12, 0x1B, 0x03, 0xB2],
        ),
        (
            TijRequest::new(1, cmd::ALARM_STATUS, vec![]),
            vec![0x1B, 0x02, 0x01, 0x14, 0x1B, 0x03, 0xB0],
        ),
        (
            TijRequest::new(1, cmd::KEEP_LAST_FIELD, vec![0]),
            vec![0x1B, 0x02, 0x01, 0x36, 0x00, 0x1B, 0x03, 0x8E],
        ),
        (
            TijRequest::new(1, cmd::SET_MAX_BUFFERED, vec![0, 100]),
            vec![0x1B, 0x02, 0x01, 0x34, 0x00, 0x64, 0x1B, 0x03, 0x2C],
        ),
        (
            TijRequest::new(1, cmd::LOAD_MESSAGE, vec![1, b'J']),
            vec![0x1B, 0x02, 0x01, 0x1E, 0x01, b'J', 0x1B, 0x03, 0x5B],
        ),
    ];
    for (req, bytes) in cases {
        assert_eq!(enc_req(&req), bytes, "{req:?}");
        // The checksum makes the byte sum of the whole frame 0 mod 256.
        assert_eq!(bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b)), 0);
        assert_eq!(
            feed_chunks(&mut TijDeviceCodec::default(), &bytes, 1),
            vec![req]
        );
    }
}

#[test]
fn replies_are_byte_exact() {
    let full = TijReply {
        machine: 1,
        ack: true,
        status: status::BUFFER_STILL_FULL,
        cmd: cmd::FILL_REMOTE,
        data: vec![],
    };
    let bytes = vec![0x1B, 0x06, 0x01, 0x43, 0x1D, 0x1B, 0x03, 0x60];
    assert_eq!(enc_reply(&full), bytes);
    assert_streams::<TijCodec>(&bytes, std::slice::from_ref(&full));
    let count = TijReply {
        machine: 1,
        ack: true,
        status: 0,
        cmd: cmd::PRINT_TOTAL,
        data: vec![0, 0, 0x01, 0x2C],
    };
    let bytes = vec![
        0x1B, 0x06, 0x01, 0x00, 0x09, 0x00, 0x00, 0x01, 0x2C, 0x1B, 0x03, 0x8A,
    ];
    assert_eq!(enc_reply(&count), bytes);
    let nak = TijReply {
        machine: 1,
        ack: false,
        status: status::PRINTER_ERROR,
        cmd: cmd::START_JET,
        data: vec![],
    };
    assert_eq!(
        enc_reply(&nak),
        [0x1B, 0x15, 0x01, 0x01, 0x11, 0x1B, 0x03, 0x9F]
    );
}

#[test]
fn fill_remote_layout_round_trips() {
    let r = TijRequest::fill_remote(3, &[b"CODE1", b"X"]);
    assert_eq!(
        r.remote_fields().unwrap(),
        vec![b"CODE1".to_vec(), b"X".to_vec()]
    );
    assert_eq!(
        TijRequest::new(3, cmd::FILL_REMOTE, vec![2, 5, b'A']).remote_fields(),
        None
    );
}

#[test]
fn esc_etx_inside_data_is_not_the_end() {
    let r = TijReply {
        machine: 1,
        ack: true,
        status: 0,
        cmd: cmd::PRINT_TOTAL,
        data: vec![0x00, 0x00, 0x1B, 0x03],
    };
    assert_streams::<TijCodec>(&enc_reply(&r), std::slice::from_ref(&r));
}

#[test]
fn bad_checksum_truncation_and_noise_are_skipped_and_counted() {
    let good = TijReply {
        machine: 1,
        ack: true,
        status: 0,
        cmd: cmd::BUFFER_COUNT,
        data: vec![0, 7],
    };
    let mut corrupt = enc_reply(&good);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xFF;
    let mut truncated = enc_reply(&good);
    truncated.truncate(6);
    let mut bytes = b"\x00\xffnoise".to_vec();
    bytes.extend(corrupt);
    bytes.extend(truncated);
    bytes.extend(enc_reply(&good));
    bytes.extend(b"trailing\x13");
    bytes.extend(enc_reply(&good));
    let mut d = TijCodec::default();
    let got = feed_chunks(&mut d, &bytes, bytes.len());
    assert_eq!(got, vec![good.clone(), good.clone()]);
    assert!(d.skipped() >= 3, "skipped {}", d.skipped());
    assert_streams::<TijCodec>(&bytes, &[good.clone(), good]);
}

fn request() -> impl Strategy<Value = TijRequest> {
    (
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(machine, cmd, data)| TijRequest { machine, cmd, data })
}

fn reply() -> impl Strategy<Value = TijReply> {
    (
        any::<u8>(),
        any::<bool>(),
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(machine, ack, status, cmd, data)| TijReply {
            machine,
            ack,
            status,
            cmd,
            data,
        })
}

/// Arbitrary binary data can contain `1B 03` plus a byte that happens to be a valid sum, or a
/// frame start: that is the price of an unescaped protocol, so round-trips use data without ESC.
fn no_esc_req() -> impl Strategy<Value = TijRequest> {
    request().prop_filter("no ESC in data", |r| !r.data.contains(&0x1B))
}

fn no_esc_reply() -> impl Strategy<Value = TijReply> {
    reply().prop_filter("no ESC in data", |r| !r.data.contains(&0x1B))
}

proptest! {
    #[test]
    fn requests_round_trip(rs in prop::collection::vec(no_esc_req(), 1..5), chunk in 1usize..16) {
        let bytes: Vec<u8> = rs.iter().flat_map(enc_req).collect();
        prop_assert_eq!(feed_chunks(&mut TijDeviceCodec::default(), &bytes, chunk), rs);
    }

    #[test]
    fn replies_round_trip(rs in prop::collection::vec(no_esc_reply(), 1..5), chunk in 1usize..16) {
        let bytes: Vec<u8> = rs.iter().flat_map(enc_reply).collect();
        prop_assert_eq!(feed_chunks(&mut TijCodec::default(), &bytes, chunk), rs);
    }

    #[test]
    fn single_frame_with_any_data_round_trips(r in reply()) {
        // Alone in the stream, even data with ESC bytes comes back intact.
        let got = feed_chunks(&mut TijCodec::default(), &enc_reply(&r), 64);
        prop_assert!(got.len() <= 1);
        if let Some(g) = got.first() {
            // A `1B 03 <sum>` prefix inside the data may close the frame early with a valid sum;
            // then what comes back is a shorter frame, never garbage outside the input.
            prop_assert_eq!(g.cmd, r.cmd);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = feed_chunks(&mut TijCodec::default(), &bytes, 7);
        let _ = feed_chunks(&mut TijDeviceCodec::default(), &bytes, 13);
    }
}
