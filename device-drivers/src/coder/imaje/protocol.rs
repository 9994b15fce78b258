//! Markem-Imaje 9040/9042 CIJ binary protocol codec.
//!
//! Frame `cmd(1) len(2, BE) data(len) chk(1)`, `chk` = XOR of every preceding byte of the frame.
//! A reply is `06` (ACK) or `15` (NAK) followed by such a frame; the one-byte request `05` (ENQ)
//! is answered by a lone `06` ("ready to dialog"), which the driver's decoder is told to expect.
//! The frame has no start marker, so resynchronisation after noise leans on the checksum and on
//! a length bound (255 bytes: a wild length cannot stall the stream for long).
//! Facts: devices.md §4.3. Inferred and configurable in the driver: the reply checksum covering
//! the frame after the ACK byte, NAK data = one error byte (2 = buffer full), external variables
//! being queued in a FIFO, and a buffer-clear command (default 0x5C).

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

pub const ENQ: u8 = 0x05;
pub const ACK: u8 = 0x06;
pub const NAK: u8 = 0x15;
pub const VAR_WRAP: u8 = 0x12;
pub const MAX_DATA: usize = 255;

pub mod cmd {
    pub const PARAMETERS: u8 = 0x20;
    pub const START_STOP: u8 = 0x30;
    pub const JET_STATUS: u8 = 0x32;
    pub const PRINT_COUNTER: u8 = 0x39;
    pub const RESET_COUNTER: u8 = 0x3A;
    pub const FAULTS: u8 = 0x3B;
    pub const EXTERNAL_VARIABLES: u8 = 0x5B;
    /// Inferred: clear the external-variable buffer.
    pub const CLEAR_VARIABLES: u8 = 0x5C;
}

/// Start/stop modes for [`cmd::START_STOP`].
pub mod mode {
    pub const LONG_STOP: u8 = 0;
    pub const SHORT_STOP: u8 = 1;
    pub const START: u8 = 255;
}

/// NAK error bytes (inferred).
pub mod nak {
    pub const GENERIC: u8 = 1;
    pub const BUFFER_FULL: u8 = 2;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImajeRequest {
    Enq,
    Frame { cmd: u8, data: Vec<u8> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImajeReply {
    /// `06` answering ENQ.
    Ready,
    Frame {
        ack: bool,
        cmd: u8,
        data: Vec<u8>,
    },
}

pub fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

fn put_frame(dst: &mut BytesMut, cmd: u8, data: &[u8]) {
    let start = dst.len();
    dst.put_u8(cmd);
    dst.put_u16(u16::try_from(data.len().min(MAX_DATA)).unwrap_or(0));
    dst.put_slice(&data[..data.len().min(MAX_DATA)]);
    let c = xor(&dst[start..]);
    dst.put_u8(c);
}

impl ImajeRequest {
    pub fn encode(&self, dst: &mut BytesMut) {
        match self {
            ImajeRequest::Enq => dst.put_u8(ENQ),
            ImajeRequest::Frame { cmd, data } => put_frame(dst, *cmd, data),
        }
    }

    /// `5B`: set external variables for one print (jet, then each variable wrapped in 0x12).
    pub fn external_variables(jet: u8, vars: &[&[u8]]) -> Self {
        let mut data = vec![jet];
        for v in vars {
            data.push(VAR_WRAP);
            data.extend_from_slice(v);
            data.push(VAR_WRAP);
        }
        ImajeRequest::Frame {
            cmd: cmd::EXTERNAL_VARIABLES,
            data,
        }
    }
}

/// Inverse of [`ImajeRequest::external_variables`]: (jet, variables).
pub fn parse_external_variables(data: &[u8]) -> Option<(u8, Vec<Vec<u8>>)> {
    let (jet, mut rest) = data.split_first()?;
    let mut vars = Vec::new();
    while !rest.is_empty() {
        let body = rest.strip_prefix(&[VAR_WRAP])?;
        let end = body.iter().position(|b| *b == VAR_WRAP)?;
        vars.push(body[..end].to_vec());
        rest = &body[end + 1..];
    }
    Some((*jet, vars))
}

impl ImajeReply {
    pub fn encode(&self, dst: &mut BytesMut) {
        match self {
            ImajeReply::Ready => dst.put_u8(ACK),
            ImajeReply::Frame { ack, cmd, data } => {
                dst.put_u8(if *ack { ACK } else { NAK });
                put_frame(dst, *cmd, data);
            }
        }
    }
}

/// Try to read one frame at `src[at..]`. `Err(())` = not a frame here, `Ok(None)` = need more.
fn frame_at(src: &BytesMut, at: usize) -> Result<Option<(u8, Vec<u8>, usize)>, ()> {
    if src.len() < at + 3 {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([src[at + 1], src[at + 2]]));
    if len > MAX_DATA {
        return Err(());
    }
    let total = at + 3 + len + 1;
    if src.len() < total {
        return Ok(None);
    }
    if xor(&src[at..total - 1]) != src[total - 1] {
        return Err(());
    }
    Ok(Some((src[at], src[at + 3..total - 1].to_vec(), total)))
}

/// Driver side: requests out, replies in.
#[derive(Debug, Default)]
pub struct ImajeCodec {
    skipped: u64,
    expect_ready: bool,
}

impl ImajeCodec {
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The next `06` is the lone answer to ENQ, not the start of a frame.
    pub fn expect_ready(&mut self) {
        self.expect_ready = true;
    }
}

impl Decoder for ImajeCodec {
    type Item = ImajeReply;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<ImajeReply>, std::io::Error> {
        loop {
            let Some(&first) = src.first() else {
                return Ok(None);
            };
            if first != ACK && first != NAK {
                src.advance(1);
                self.skipped += 1;
                continue;
            }
            if self.expect_ready && first == ACK {
                src.advance(1);
                self.expect_ready = false;
                return Ok(Some(ImajeReply::Ready));
            }
            match frame_at(src, 1) {
                Ok(None) => return Ok(None),
                Ok(Some((cmd, data, total))) => {
                    src.advance(total);
                    return Ok(Some(ImajeReply::Frame {
                        ack: first == ACK,
                        cmd,
                        data,
                    }));
                }
                Err(()) => {
                    src.advance(1);
                    self.skipped += 1;
                }
            }
        }
    }
}

impl Encoder<ImajeRequest> for ImajeCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: ImajeRequest, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        item.encode(dst);
        Ok(())
    }
}

/// Device side (the simulator): requests in, replies out.
#[derive(Debug, Default)]
pub struct ImajeDeviceCodec {
    skipped: u64,
}

impl ImajeDeviceCodec {
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

impl Decoder for ImajeDeviceCodec {
    type Item = ImajeRequest;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<ImajeRequest>, std::io::Error> {
        loop {
            let Some(&first) = src.first() else {
                return Ok(None);
            };
            if first == ENQ {
                src.advance(1);
                return Ok(Some(ImajeRequest::Enq));
            }
            match frame_at(src, 0) {
                Ok(None) => return Ok(None),
                Ok(Some((cmd, data, total))) => {
                    src.advance(total);
                    return Ok(Some(ImajeRequest::Frame { cmd, data }));
                }
                Err(()) => {
                    src.advance(1);
                    self.skipped += 1;
                }
            }
        }
    }
}

impl Encoder<ImajeReply> for ImajeDeviceCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: ImajeReply, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        item.encode(dst);
        Ok(())
    }
}

/// The print counter reply: ASCII decimal digits.
pub fn parse_counter(data: &[u8]) -> Option<u64> {
    if data.is_empty() || data.len() > 19 || !data.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(data).ok()?.parse().ok()
}

/// The print counter reply for `n` (ten digits, zero-padded).
pub fn counter_data(n: u64) -> Vec<u8> {
    format!("{n:010}").into_bytes()
}
