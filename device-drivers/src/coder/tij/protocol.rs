//! Chinese TIJ "ESC STX" binary protocol codec (HP-cartridge online coders, "TIJ 6.6").
//!
//! Request `1B 02 <machine> <cmd> <data…> 1B 03 <chk>`, reply
//! `1B 06|15 <machine> <status> <cmd> <data…> 1B 03 <chk>` (06 ACK, 15 NAK), where
//! `chk = (0x100 − Σ bytes from the first 1B through 03) & 0xFF`. Data is not escaped, so a
//! `1B 03` inside binary data is possible: the decoder takes the first terminator whose checksum
//! holds, and gives up on a start as soon as another frame start shows up before a valid end.
//! Facts: devices.md §4.6 (single source). Inferred, and so kept in one place here: the data
//! layouts of 1D (field count, then length-prefixed fields), 1E (length-prefixed name), 33
//! (u16 BE), counters 07–0A (u32 BE), 14 (alarm code, printing flag), 34 (u16 BE), 36 (0/1).

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

pub const ESC: u8 = 0x1B;
pub const STX: u8 = 0x02;
pub const ETX: u8 = 0x03;
pub const ACK: u8 = 0x06;
pub const NAK: u8 = 0x15;
/// Longest frame we wait for before giving up on a start byte.
pub const MAX_FRAME: usize = 1024;

pub mod cmd {
    pub const HANDSHAKE: u8 = 0x00;
    pub const PRINT_SUBTOTAL: u8 = 0x07;
    pub const PRODUCT_SUBTOTAL: u8 = 0x08;
    pub const PRINT_TOTAL: u8 = 0x09;
    pub const PRODUCT_TOTAL: u8 = 0x0A;
    pub const START_JET: u8 = 0x11;
    pub const STOP_JET: u8 = 0x12;
    pub const ALARM_STATUS: u8 = 0x14;
    pub const FILL_REMOTE: u8 = 0x1D;
    pub const LOAD_MESSAGE: u8 = 0x1E;
    pub const CLEAR_REMOTE: u8 = 0x21;
    pub const BUFFER_COUNT: u8 = 0x33;
    pub const SET_MAX_BUFFERED: u8 = 0x34;
    pub const KEEP_LAST_FIELD: u8 = 0x36;
}

pub mod status {
    pub const OK: u8 = 0;
    pub const PRINTER_ERROR: u8 = 1;
    pub const MESSAGE_NOT_FOUND: u8 = 16;
    pub const ALREADY_PRINTING: u8 = 17;
    pub const NOT_PRINTING: u8 = 18;
    /// The item was taken and the buffer is now full.
    pub const BUFFER_JUST_FULL: u8 = 0x42;
    /// The item was refused: the buffer is still full.
    pub const BUFFER_STILL_FULL: u8 = 0x43;
    pub const LOCKED: u8 = 255;
}

/// A request as the coder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TijRequest {
    pub machine: u8,
    pub cmd: u8,
    pub data: Vec<u8>,
}

/// A reply as the driver sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TijReply {
    pub machine: u8,
    pub ack: bool,
    pub status: u8,
    pub cmd: u8,
    pub data: Vec<u8>,
}

pub fn checksum(bytes: &[u8]) -> u8 {
    let sum = bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    0u8.wrapping_sub(sum)
}

fn finish(dst: &mut BytesMut, start: usize) {
    dst.put_slice(&[ESC, ETX]);
    let c = checksum(&dst[start..]);
    dst.put_u8(c);
}

impl TijRequest {
    pub fn new(machine: u8, cmd: u8, data: Vec<u8>) -> Self {
        TijRequest { machine, cmd, data }
    }

    pub fn encode(&self, dst: &mut BytesMut) {
        let start = dst.len();
        dst.put_slice(&[ESC, STX, self.machine, self.cmd]);
        dst.put_slice(&self.data);
        finish(dst, start);
    }

    /// 1D: one item's remote-field data.
    pub fn fill_remote(machine: u8, fields: &[&[u8]]) -> Self {
        let mut data = vec![u8::try_from(fields.len()).unwrap_or(u8::MAX)];
        for f in fields {
            data.push(u8::try_from(f.len()).unwrap_or(u8::MAX));
            data.extend_from_slice(f);
        }
        TijRequest::new(machine, cmd::FILL_REMOTE, data)
    }

    /// Inverse of [`TijRequest::fill_remote`].
    pub fn remote_fields(&self) -> Option<Vec<Vec<u8>>> {
        let (n, mut rest) = self.data.split_first()?;
        let mut out = Vec::with_capacity(usize::from(*n));
        for _ in 0..*n {
            let (len, r) = rest.split_first()?;
            let len = usize::from(*len);
            if r.len() < len {
                return None;
            }
            out.push(r[..len].to_vec());
            rest = &r[len..];
        }
        rest.is_empty().then_some(out)
    }
}

impl TijReply {
    pub fn encode(&self, dst: &mut BytesMut) {
        let start = dst.len();
        let kind = if self.ack { ACK } else { NAK };
        dst.put_slice(&[ESC, kind, self.machine, self.status, self.cmd]);
        dst.put_slice(&self.data);
        finish(dst, start);
    }
}

/// Find the next valid frame whose second byte is one of `kinds`; `header` is the number of
/// bytes before the data. Junk before a frame is dropped and counted.
fn scan(src: &mut BytesMut, kinds: &[u8], header: usize, skipped: &mut u64) -> Option<BytesMut> {
    let is_start = |w: &[u8]| w[0] == ESC && [STX, ACK, NAK].contains(&w[1]);
    'outer: loop {
        let Some(pos) = src
            .windows(2)
            .position(|w| w[0] == ESC && kinds.contains(&w[1]))
        else {
            // Keep a trailing ESC: it may be the first half of a start.
            let keep = usize::from(src.last() == Some(&ESC));
            if src.len() > keep {
                src.advance(src.len() - keep);
                *skipped += 1;
            }
            return None;
        };
        if pos > 0 {
            src.advance(pos);
            *skipped += 1;
        }
        let mut from = header;
        loop {
            let end = src
                .get(from..)
                .and_then(|s| s.windows(2).position(|w| w == [ESC, ETX]))
                .map(|i| i + from);
            let Some(end) = end else {
                if src.len() > MAX_FRAME {
                    src.advance(1);
                    *skipped += 1;
                    continue 'outer;
                }
                return None;
            };
            if src.len() <= end + 2 {
                return None;
            }
            if checksum(&src[..end + 2]) == src[end + 2] {
                return Some(src.split_to(end + 3));
            }
            // A bad sum: either the data held `1B 03`, or this frame is corrupt. A new start
            // before this terminator settles it.
            if src[2..end].windows(2).any(is_start) || end + 3 > MAX_FRAME {
                src.advance(1);
                *skipped += 1;
                continue 'outer;
            }
            from = end + 1;
        }
    }
}

/// Driver side: requests out, replies in.
#[derive(Debug, Default)]
pub struct TijCodec {
    skipped: u64,
}

impl TijCodec {
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

impl Decoder for TijCodec {
    type Item = TijReply;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<TijReply>, std::io::Error> {
        Ok(
            scan(src, &[ACK, NAK], 5, &mut self.skipped).map(|f| TijReply {
                ack: f[1] == ACK,
                machine: f[2],
                status: f[3],
                cmd: f[4],
                data: f[5..f.len() - 3].to_vec(),
            }),
        )
    }
}

impl Encoder<TijRequest> for TijCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: TijRequest, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        item.encode(dst);
        Ok(())
    }
}

/// Device side (the simulator): requests in, replies out.
#[derive(Debug, Default)]
pub struct TijDeviceCodec {
    skipped: u64,
}

impl TijDeviceCodec {
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

impl Decoder for TijDeviceCodec {
    type Item = TijRequest;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<TijRequest>, std::io::Error> {
        Ok(scan(src, &[STX], 4, &mut self.skipped).map(|f| TijRequest {
            machine: f[2],
            cmd: f[3],
            data: f[4..f.len() - 3].to_vec(),
        }))
    }
}

impl Encoder<TijReply> for TijDeviceCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: TijReply, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        item.encode(dst);
        Ok(())
    }
}
