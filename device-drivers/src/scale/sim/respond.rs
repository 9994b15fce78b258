//! The simulated scale's answers: pure functions from command bytes and state to reply bytes.

use super::{ScaleSimOptions, ScaleSimState};
use crate::scale::ScaleProtocol;
use crate::scale::ascii::{AsciiIndicatorConfig, AsciiLine, AsciiMode, AsciiState};
use crate::scale::cas::{self, CasFrame, CasReply};
use crate::scale::continuous::{self, ContinuousConfig};
use crate::scale::dahua::{CLEAR_ALL_PLUS, PluRecord, REPLY_END};
use crate::scale::mtsics::{self, MtSicsCommand, MtSicsReply, Refusal};
use crate::scale::toledo8217::{self, Toledo8217Reply, Toledo8217Status};
use bytes::{Buf, BytesMut};

fn line(s: String) -> Vec<u8> {
    let mut v = s.into_bytes();
    v.extend_from_slice(b"\r\n");
    v
}

/// Consume every complete command in `input` and return the replies, in order.
pub fn respond(
    protocol: ScaleProtocol,
    input: &mut BytesMut,
    st: &mut ScaleSimState,
    ascii: &AsciiIndicatorConfig,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    match protocol {
        ScaleProtocol::MtSics => {
            while let Some(i) = input.iter().position(|b| *b == b'\n') {
                let raw = input.split_to(i + 1);
                let text = String::from_utf8_lossy(&raw).trim().to_string();
                st.repeating = false;
                let reply = match MtSicsCommand::parse(&text) {
                    Some(c) => mt_sics_reply(c, st),
                    None => Some(MtSicsReply::Error("ES".into())),
                };
                if let Some(r) = reply {
                    let mut b = BytesMut::new();
                    mtsics::encode_reply(&r, &mut b);
                    out.push(b.to_vec());
                }
            }
        }
        ScaleProtocol::Toledo8217 => {
            while !input.is_empty() {
                let b = input.get_u8();
                if st.echo {
                    if b == b'F' {
                        st.echo = false;
                    } else {
                        out.push(vec![b]);
                    }
                    continue;
                }
                match b {
                    b'W' => {
                        let mut buf = BytesMut::new();
                        toledo8217::encode_reply(&t8217_reply(st), &mut buf);
                        out.push(buf.to_vec());
                    }
                    b'Z' => st.zero_offset = st.weight_grams,
                    b'T' => st.tare_grams = st.gross(),
                    b'C' => st.tare_grams = 0,
                    b'E' => {
                        st.echo = true;
                        out.push(b"\x02E\r".to_vec());
                    }
                    _ => {}
                }
            }
        }
        ScaleProtocol::ToledoContinuous => {
            while let Some(i) = input.iter().position(|b| *b == b'\n') {
                let raw = input.split_to(i + 1);
                match raw.first() {
                    Some(b'Z') => st.zero_offset = st.weight_grams,
                    Some(b'T') => st.tare_grams = st.gross(),
                    Some(b'C') => st.tare_grams = 0,
                    _ => {}
                }
            }
        }
        ScaleProtocol::Cas => loop {
            match input.first() {
                None => break,
                Some(&cas::ENQ) => {
                    input.advance(1);
                    out.push(vec![cas::ACK]);
                }
                Some(&cas::DC1) => {
                    input.advance(1);
                    let mut b = BytesMut::new();
                    cas::encode_reply(&CasReply::Weight(cas_frame(st)), &mut b);
                    out.push(b.to_vec());
                }
                Some(b'<') => {
                    let Some(i) = input.iter().position(|b| *b == b'\t') else {
                        break;
                    };
                    let key = input.split_to(i + 1);
                    match &key[..] {
                        b"<ZK>\t" => st.zero_offset = st.weight_grams,
                        b"<TK>\t" if st.tare_grams != 0 => st.tare_grams = 0,
                        b"<TK>\t" => st.tare_grams = st.gross(),
                        _ => {}
                    }
                }
                Some(_) => input.advance(1),
            }
        },
        ScaleProtocol::AsciiIndicator => {
            while let Some(i) = input.iter().position(|b| *b == b'\n') {
                let raw = input.split_to(i + 1);
                let cmd = String::from_utf8_lossy(&raw).trim().to_string();
                let mode = if st.tare_grams != 0 {
                    AsciiMode::Net
                } else {
                    AsciiMode::Gross
                };
                match cmd.as_str() {
                    c if c == ascii.read_command || c == "RN" => {
                        out.push(line(ascii.format_line(&ascii_line(st, mode))))
                    }
                    "RG" => out.push(line(ascii.format_line(&ascii_line(st, AsciiMode::Gross)))),
                    "RT" => out.push(line(ascii.format_line(&ascii_line(st, AsciiMode::Tare)))),
                    c if c == ascii.zero_command => st.zero_offset = st.weight_grams,
                    c if c == ascii.tare_command => st.tare_grams = st.gross(),
                    c if c == ascii.clear_tare_command => st.tare_grams = 0,
                    _ => {}
                }
            }
        }
        ScaleProtocol::DahuaTm => {
            while let Some(i) = input.windows(2).position(|w| w == b"\r\n") {
                let raw = input.split_to(i + 2);
                let cmd = String::from_utf8_lossy(&raw[..i]).to_string();
                let reply: &[u8] = if cmd == CLEAR_ALL_PLUS {
                    st.plus.clear();
                    b"OK"
                } else if let Some(p) = PluRecord::parse_command(&cmd) {
                    st.plus.insert(p.plu, p);
                    b"OK"
                } else {
                    b"ERR"
                };
                out.push([reply, REPLY_END].concat());
            }
        }
    }
    out
}

fn mt_sics_reply(c: MtSicsCommand, st: &mut ScaleSimState) -> Option<MtSicsReply> {
    Some(match c {
        MtSicsCommand::S if st.overload => MtSicsReply::WeightRefused(Refusal::Over),
        MtSicsCommand::S if st.unstable => MtSicsReply::WeightRefused(Refusal::NotExecutable),
        MtSicsCommand::SI if st.overload => MtSicsReply::WeightRefused(Refusal::Over),
        MtSicsCommand::S | MtSicsCommand::SI => MtSicsReply::Weight {
            stable: !st.unstable,
            grams: st.displayed(),
        },
        MtSicsCommand::SIR => {
            st.repeating = true;
            return None;
        }
        MtSicsCommand::Z if st.unstable => MtSicsReply::ZeroRefused(Refusal::NotExecutable),
        MtSicsCommand::Z | MtSicsCommand::ZI => {
            st.zero_offset = st.weight_grams;
            MtSicsReply::Zeroed
        }
        MtSicsCommand::T if st.unstable => MtSicsReply::TareRefused(Refusal::NotExecutable),
        MtSicsCommand::T | MtSicsCommand::TI => {
            st.tare_grams = st.gross();
            MtSicsReply::Tare {
                grams: st.tare_grams,
            }
        }
        MtSicsCommand::TA => MtSicsReply::Tare {
            grams: st.tare_grams,
        },
        MtSicsCommand::TAC => {
            st.tare_grams = 0;
            MtSicsReply::TareCleared
        }
        MtSicsCommand::Reset => MtSicsReply::Ident {
            command: "I4".into(),
            text: "BAYSIM0001".into(),
        },
        MtSicsCommand::Ident(n) => MtSicsReply::Ident {
            command: format!("I{n}"),
            text: "baytrace MT-SICS simulator".into(),
        },
    })
}

fn t8217_reply(st: &ScaleSimState) -> Toledo8217Reply {
    let net = st.tare_grams != 0;
    let mut bits = 0u8;
    if st.unstable {
        bits |= 0x01;
    }
    if st.overload {
        bits |= 0x02;
    }
    if st.displayed() < 0 {
        bits |= 0x04;
    }
    if bits != 0 {
        if net {
            bits |= 0x20;
        }
        Toledo8217Reply::Status(Toledo8217Status(bits))
    } else {
        Toledo8217Reply::Weight {
            grams: st.displayed(),
            net,
        }
    }
}

fn cas_frame(st: &ScaleSimState) -> CasFrame {
    CasFrame::for_grams(st.displayed(), !st.unstable, st.overload)
}

fn ascii_line(st: &ScaleSimState, mode: AsciiMode) -> AsciiLine {
    let state = if st.overload {
        AsciiState::Overload
    } else if st.unstable {
        AsciiState::Unstable
    } else {
        AsciiState::Stable
    };
    let grams = match mode {
        AsciiMode::Gross => st.gross(),
        AsciiMode::Net => st.displayed(),
        AsciiMode::Tare => st.tare_grams,
    };
    AsciiLine {
        state,
        mode,
        grams: if st.overload { None } else { Some(grams) },
    }
}

/// The frame a streaming protocol sends on each tick, if streaming.
pub(super) fn streamed_frame(
    protocol: ScaleProtocol,
    st: &ScaleSimState,
    opts: &ScaleSimOptions,
    ascii: &AsciiIndicatorConfig,
) -> Option<Vec<u8>> {
    let mut b = BytesMut::new();
    match protocol {
        ScaleProtocol::ToledoContinuous => {
            let f = continuous::frame_for(st.displayed(), st.tare_grams, st.unstable, st.overload);
            continuous::encode_frame(&ContinuousConfig::default(), &f, &mut b);
        }
        ScaleProtocol::AsciiIndicator if opts.ascii_continuous => {
            let mode = if st.tare_grams != 0 {
                AsciiMode::Net
            } else {
                AsciiMode::Gross
            };
            return Some(line(ascii.format_line(&ascii_line(st, mode))));
        }
        ScaleProtocol::MtSics if st.repeating => {
            let r = mt_sics_reply(MtSicsCommand::SI, &mut st.clone())?;
            mtsics::encode_reply(&r, &mut b);
        }
        _ => return None,
    }
    Some(b.to_vec())
}

pub(super) fn noise(protocol: ScaleProtocol) -> &'static [u8] {
    match protocol {
        ScaleProtocol::MtSics | ScaleProtocol::AsciiIndicator => b"#~\xfe?\r\n",
        ScaleProtocol::DahuaTm => b"#~",
        _ => b"\xff\x7e\x00",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: ScaleProtocol, st: &mut ScaleSimState, input: &[u8]) -> Vec<Vec<u8>> {
        let mut b = BytesMut::from(input);
        respond(p, &mut b, st, &AsciiIndicatorConfig::default())
    }

    #[test]
    fn mt_sics_answers_and_keeps_state() {
        let mut st = ScaleSimState {
            weight_grams: 1500,
            ..Default::default()
        };
        assert_eq!(
            run(ScaleProtocol::MtSics, &mut st, b"SI\r\nT\r\nSI\r\nXX\r\n"),
            vec![
                b"S S      1.500 kg\r\n".to_vec(),
                b"T S      1.500 kg\r\n".to_vec(),
                b"S S      0.000 kg\r\n".to_vec(),
                b"ES\r\n".to_vec()
            ]
        );
        st.overload = true;
        assert_eq!(
            run(ScaleProtocol::MtSics, &mut st, b"S\r\n"),
            vec![b"S +\r\n".to_vec()]
        );
    }

    #[test]
    fn toledo_8217_echo_probe() {
        let mut st = ScaleSimState::default();
        let out: Vec<u8> = run(ScaleProtocol::Toledo8217, &mut st, b"Ehello").concat();
        assert_eq!(out, toledo8217::PROBE_REPLY);
        assert!(run(ScaleProtocol::Toledo8217, &mut st, b"F").is_empty());
        st.unstable = true;
        assert_eq!(
            run(ScaleProtocol::Toledo8217, &mut st, b"W"),
            vec![b"\x02?A\r".to_vec()]
        );
    }

    #[test]
    fn cas_needs_the_full_key_code() {
        let mut st = ScaleSimState {
            weight_grams: 800,
            ..Default::default()
        };
        assert!(run(ScaleProtocol::Cas, &mut st, b"<ZK").is_empty());
        assert_eq!(
            run(ScaleProtocol::Cas, &mut st, b"\x05"),
            vec![vec![cas::ACK]]
        );
        run(ScaleProtocol::Cas, &mut st, b"<ZK>\t");
        assert_eq!(st.zero_offset, 800);
    }
}
