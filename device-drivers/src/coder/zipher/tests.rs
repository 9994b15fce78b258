use super::*;
use crate::testutil::{assert_streams, feed_chunks};
use bytes::BytesMut;
use proptest::prelude::*;

fn enc_cmd(c: &ZipherCommand) -> Vec<u8> {
    let mut b = BytesMut::new();
    c.encode(&mut b);
    b.to_vec()
}

fn enc_reply(r: &ZipherReply) -> Vec<u8> {
    let mut b = BytesMut::new();
    r.encode(&mut b);
    b.to_vec()
}

#[test]
fn commands_are_byte_exact() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases: Vec<(ZipherCommand, &[u8])> = vec![
        (
            ZipherCommand::Sel {
                job: "LABEL1".into(),
                values: s(&["B001", "2026-11-22"]),
            },
            b"SEL|LABEL1|B001|2026-11-22|\r",
        ),
        (
            ZipherCommand::Jda {
                fields: vec![
                    ("batch".into(), "B001".into()),
                    ("best".into(), "2027".into()),
                ],
            },
            b"JDA|batch=B001|best=2027|\r",
        ),
        (
            ZipherCommand::Sho {
                fields: s(&["code"]),
            },
            b"SHO|code|\r",
        ),
        (
            ZipherCommand::Sdo {
                values: s(&["A1", "A2"]),
            },
            b"SDO|A1|A2|\r",
        ),
        (ZipherCommand::Src, b"SRC\r"),
        (ZipherCommand::Scb, b"SCB\r"),
        (ZipherCommand::Sni, b"SNI\r"),
        (ZipherCommand::Slr, b"SLR\r"),
        (ZipherCommand::Gst, b"GST\r"),
        (ZipherCommand::Gft, b"GFT\r"),
        (ZipherCommand::Sst(3), b"SST|3|\r"),
        (ZipherCommand::Caf, b"CAF\r"),
    ];
    for (cmd, bytes) in cases {
        assert_eq!(enc_cmd(&cmd), bytes, "{cmd:?}");
        let got = feed_chunks(&mut ZipherDeviceCodec::default(), bytes, 1);
        assert_eq!(got, vec![cmd]);
    }
}

#[test]
fn replies_are_byte_exact() {
    let cases: Vec<(ZipherReply, &[u8])> = vec![
        (ZipherReply::Ack, b"ACK\r"),
        (ZipherReply::Err, b"ERR\r"),
        (ZipherReply::Sfs(4096), b"SFS|4096|\r"),
        (ZipherReply::Src(12), b"SRC|12|\r"),
        (ZipherReply::Sni(101), b"SNI|101|\r"),
        (ZipherReply::Slr(100), b"SLR|100|\r"),
        (
            ZipherReply::Sts {
                overall: 3,
                error: 0,
                job: "LABEL1".into(),
                batch_count: 5,
                total_count: 1005,
            },
            b"STS|3|0|LABEL1|5|1005|\r",
        ),
        (
            ZipherReply::Flt(vec![ZipherFault {
                code: 1201,
                text: "Printhead fault".into(),
                clearable: true,
            }]),
            b"FLT|1|1201|Printhead fault|1|\r",
        ),
        (ZipherReply::Flt(vec![]), b"FLT|0|\r"),
    ];
    for (r, bytes) in cases {
        assert_eq!(enc_reply(&r), bytes, "{r:?}");
        assert_eq!(feed_chunks(&mut ZipherCodec::default(), bytes, 1), vec![r]);
    }
}

#[test]
fn nak_and_crlf_and_pipe_forms_are_accepted() {
    let got = feed_chunks(&mut ZipherCodec::default(), b"NAK\r\nACK|\r\n", 1);
    assert_eq!(got, vec![ZipherReply::Err, ZipherReply::Ack]);
    let got = feed_chunks(&mut ZipherDeviceCodec::default(), b"SRC|\r", 64);
    assert_eq!(got, vec![ZipherCommand::Src]);
}

#[test]
fn noise_is_skipped_and_counted() {
    let mut bytes = b"\x00\xffgarbage\rACK\r".to_vec();
    bytes.extend_from_slice(b"SLR|x|\rSTS|3|0|\r\xc3\x28\rSLR|7|\r");
    let mut d = ZipherCodec::default();
    let got = feed_chunks(&mut d, &bytes, 1);
    assert_eq!(got, vec![ZipherReply::Ack, ZipherReply::Slr(7)]);
    assert_eq!(d.skipped(), 4);
    assert_streams::<ZipherCodec>(&bytes, &[ZipherReply::Ack, ZipherReply::Slr(7)]);
}

#[test]
fn an_endless_line_is_dropped_not_buffered() {
    let mut d = ZipherCodec::default();
    let long = vec![b'A'; protocol::MAX_LINE + 10];
    let mut buf = BytesMut::from(&long[..]);
    use tokio_util::codec::Decoder;
    assert_eq!(d.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty());
    assert_eq!(d.skipped(), 1);
}

fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 ._:/-]{0,16}"
}

fn command() -> impl Strategy<Value = ZipherCommand> {
    prop_oneof![
        (text(), prop::collection::vec(text(), 0..4))
            .prop_map(|(job, values)| ZipherCommand::Sel { job, values }),
        prop::collection::vec(("[a-z]{1,8}", text()), 0..4)
            .prop_map(|fields| ZipherCommand::Jda { fields }),
        prop::collection::vec(text(), 0..4).prop_map(|fields| ZipherCommand::Sho { fields }),
        prop::collection::vec(text(), 0..8).prop_map(|values| ZipherCommand::Sdo { values }),
        Just(ZipherCommand::Src),
        Just(ZipherCommand::Scb),
        Just(ZipherCommand::Sni),
        Just(ZipherCommand::Slr),
        Just(ZipherCommand::Gst),
        Just(ZipherCommand::Gft),
        Just(ZipherCommand::Caf),
        any::<u8>().prop_map(ZipherCommand::Sst),
    ]
}

fn reply() -> impl Strategy<Value = ZipherReply> {
    prop_oneof![
        Just(ZipherReply::Ack),
        Just(ZipherReply::Err),
        any::<u64>().prop_map(ZipherReply::Sfs),
        any::<u64>().prop_map(ZipherReply::Src),
        any::<u64>().prop_map(ZipherReply::Sni),
        any::<u64>().prop_map(ZipherReply::Slr),
        (any::<u8>(), any::<u8>(), text(), any::<u64>(), any::<u64>()).prop_map(
            |(overall, error, job, batch_count, total_count)| ZipherReply::Sts {
                overall,
                error,
                job,
                batch_count,
                total_count
            }
        ),
        prop::collection::vec((any::<u32>(), text(), any::<bool>()), 0..3).prop_map(|f| {
            ZipherReply::Flt(
                f.into_iter()
                    .map(|(code, text, clearable)| ZipherFault {
                        code,
                        text,
                        clearable,
                    })
                    .collect(),
            )
        }),
    ]
}

proptest! {
    #[test]
    fn commands_round_trip(cmds in prop::collection::vec(command(), 1..6), chunk in 1usize..20) {
        // A SEL whose job is empty and has no values encodes as `SEL||`, which is still a SEL.
        let bytes: Vec<u8> = cmds.iter().flat_map(enc_cmd).collect();
        let got = feed_chunks(&mut ZipherDeviceCodec::default(), &bytes, chunk);
        prop_assert_eq!(got, cmds);
    }

    #[test]
    fn replies_round_trip(rs in prop::collection::vec(reply(), 1..6), chunk in 1usize..20) {
        let bytes: Vec<u8> = rs.iter().flat_map(enc_reply).collect();
        let got = feed_chunks(&mut ZipherCodec::default(), &bytes, chunk);
        prop_assert_eq!(got, rs);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = feed_chunks(&mut ZipherCodec::default(), &bytes, 3);
        let _ = feed_chunks(&mut ZipherDeviceCodec::default(), &bytes, 5);
    }
}
