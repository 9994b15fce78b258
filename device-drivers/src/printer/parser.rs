//! An incremental ESC/POS parser: bytes in (any chunking), [`Element`]s out.
//!
//! Why: the simulator must read what a real printer reads, from a stream that arrives in
//! arbitrary pieces and may carry garbage. The parser never panics and never guesses: a byte it
//! does not understand is skipped and counted in [`ParserStats`], a command whose length is
//! known but whose meaning we ignore is consumed whole, and an incomplete command waits for
//! more bytes.
//!
//! Design: `push` appends to a buffer; `next` looks at the front of the buffer and yields one
//! element, or `None` when it needs more bytes. Printable bytes (≥ 0x20, except 0x7F) accumulate
//! into a text run, emitted as one [`Element::Text`] when the next control byte arrives (or at
//! [`Parser::finish`]); GB18030 trail bytes are never control bytes, so a run never splits a
//! character. [`Parser::position`] counts bytes consumed so far, so a caller can cut the raw
//! stream at element boundaries (the simulator's `receipt-NNNN.bin`).

use super::command::{Align, Cut, DLE, EOT, ESC, EcLevel, Element, FS, GS, QrCommand, Raster};
use encoding_rs::GB18030;

/// Largest raster image accepted (bytes of dot data); a bigger header is taken as garbage.
pub const MAX_RASTER_BYTES: usize = 1 << 20;
/// Longest `GS k` data before its NUL terminator.
const MAX_BARCODE: usize = 255;

/// What the parser had to skip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParserStats {
    /// Elements produced.
    pub elements: u64,
    /// Bytes skipped because they formed no command we know.
    pub unknown_bytes: u64,
    /// Skipped pieces (a run of unknown bytes counts once per piece).
    pub unknown_commands: u64,
    /// Known commands consumed without producing an element (margins, barcode settings, …).
    pub ignored_commands: u64,
}

enum Step {
    /// An element (or an ignored command) of this many bytes.
    Done(Option<Element>, usize),
    /// The buffer ends inside a command.
    More,
    /// This many bytes are not a command we know.
    Skip(usize),
}

/// The incremental parser.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    pos: usize,
    text: Vec<u8>,
    consumed: u64,
    stats: ParserStats,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete element, or `None` until more bytes are pushed.
    pub fn next_element(&mut self) -> Option<Element> {
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                self.compact();
                return None;
            };
            if is_text(b) {
                self.text.push(b);
                self.advance(1);
                continue;
            }
            if !self.text.is_empty() {
                return Some(self.take_text());
            }
            match command(&self.buf[self.pos..]) {
                Step::Done(e, n) => {
                    self.advance(n);
                    match e {
                        Some(e) => {
                            self.stats.elements += 1;
                            return Some(e);
                        }
                        None => self.stats.ignored_commands += 1,
                    }
                }
                Step::Skip(n) => {
                    self.advance(n);
                    self.stats.unknown_bytes += n as u64;
                    self.stats.unknown_commands += 1;
                }
                Step::More => {
                    self.compact();
                    return None;
                }
            }
        }
    }

    /// End of stream: the pending text run, if any. An incomplete command left in the buffer is
    /// counted as unknown bytes and dropped.
    pub fn finish(&mut self) -> Option<Element> {
        if let Some(e) = self.next_element() {
            return Some(e);
        }
        let rest = self.buf.len() - self.pos;
        if rest > 0 {
            self.stats.unknown_bytes += rest as u64;
            self.stats.unknown_commands += 1;
            self.advance(rest);
            self.compact();
        }
        (!self.text.is_empty()).then(|| self.take_text())
    }

    /// Bytes consumed so far (text waiting to be emitted counts as consumed).
    pub fn position(&self) -> u64 {
        self.consumed
    }

    pub fn stats(&self) -> ParserStats {
        self.stats
    }

    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.consumed += n as u64;
    }

    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    fn take_text(&mut self) -> Element {
        let (s, _) = GB18030.decode_without_bom_handling(&self.text);
        let e = Element::Text(s.into_owned());
        self.text.clear();
        self.stats.elements += 1;
        e
    }
}

/// Parses a whole byte string (a convenience for tests and tools).
pub fn parse_all(bytes: &[u8]) -> (Vec<Element>, ParserStats) {
    let mut p = Parser::new();
    p.push(bytes);
    let mut out = Vec::new();
    while let Some(e) = p.next_element() {
        out.push(e);
    }
    while let Some(e) = p.finish() {
        out.push(e);
    }
    (out, p.stats())
}

fn is_text(b: u8) -> bool {
    b >= 0x20 && b != 0x7f
}

fn le16(lo: u8, hi: u8) -> usize {
    usize::from(lo) | (usize::from(hi) << 8)
}

/// One command at the front of `b` (which starts with a control byte).
fn command(b: &[u8]) -> Step {
    macro_rules! need {
        ($n:expr) => {
            if b.len() < $n {
                return Step::More;
            }
        };
    }
    let done = |e: Element, n: usize| Step::Done(Some(e), n);
    let ignore = |n: usize| Step::Done(None, n);
    match b[0] {
        0x0a => done(Element::LineFeed, 1),
        0x0d => done(Element::CarriageReturn, 1),
        0x09 => done(Element::Tab, 1),
        ESC => {
            need!(2);
            match b[1] {
                b'@' => done(Element::Init, 2),
                b'2' => done(Element::LineSpacing(None), 2),
                b'S' => ignore(2),
                b'E' | b'G' | b'-' | b'a' | b'M' | b'd' | b'J' | b'3' | b't' | b'{' | b'!'
                | b' ' | b'R' | b'U' | b'V' | b'r' | b'T' => {
                    need!(3);
                    esc_one(b[1], b[2])
                }
                b'$' | b'\\' | b'c' => {
                    need!(4);
                    ignore(4)
                }
                b'p' => {
                    need!(5);
                    match b[2] {
                        0 | 1 | 48 | 49 => done(
                            Element::DrawerKick {
                                pin: b[2] & 1,
                                on: b[3],
                                off: b[4],
                            },
                            5,
                        ),
                        _ => Step::Skip(5),
                    }
                }
                b'*' => {
                    // ESC * m nL nH d…: column bit image, 1 or 3 bytes per column.
                    need!(5);
                    let cols = le16(b[3], b[4]);
                    let per = match b[2] {
                        0 | 1 => 1,
                        32 | 33 => 3,
                        _ => return Step::Skip(2),
                    };
                    need!(5 + cols * per);
                    ignore(5 + cols * per)
                }
                _ => Step::Skip(2),
            }
        }
        GS => {
            need!(2);
            match b[1] {
                b'!' => {
                    need!(3);
                    let n = b[2];
                    if n & 0x88 != 0 {
                        return Step::Skip(3);
                    }
                    done(
                        Element::Size {
                            width: (n >> 4) + 1,
                            height: (n & 7) + 1,
                        },
                        3,
                    )
                }
                b'B' => {
                    need!(3);
                    done(Element::Reverse(b[2] & 1 == 1), 3)
                }
                b'V' => {
                    need!(3);
                    match b[2] {
                        0 | 48 => done(Element::Cut(Cut::Full), 3),
                        1 | 49 => done(Element::Cut(Cut::Partial), 3),
                        65 | 66 => {
                            need!(4);
                            let c = if b[2] == 65 {
                                Cut::FeedFull(b[3])
                            } else {
                                Cut::FeedPartial(b[3])
                            };
                            done(Element::Cut(c), 4)
                        }
                        _ => Step::Skip(3),
                    }
                }
                b'(' => {
                    need!(5);
                    let len = le16(b[3], b[4]);
                    need!(5 + len);
                    if b[2] == b'k' {
                        gs_k(&b[5..5 + len], 5 + len)
                    } else {
                        // GS ( A, GS ( L, … : length-prefixed, consumed whole.
                        ignore(5 + len)
                    }
                }
                b'v' => {
                    need!(8);
                    if b[2] != b'0' {
                        return Step::Skip(3);
                    }
                    let (w, h) = (le16(b[4], b[5]), le16(b[6], b[7]));
                    let size = w * h;
                    if b[3] > 3 && !(48..=51).contains(&b[3])
                        || size == 0
                        || size > MAX_RASTER_BYTES
                    {
                        return Step::Skip(3);
                    }
                    need!(8 + size);
                    done(
                        Element::Raster(Raster {
                            mode: b[3] & 3,
                            width_bytes: u16::try_from(w).unwrap_or(u16::MAX),
                            height: u16::try_from(h).unwrap_or(u16::MAX),
                            data: b[8..8 + size].to_vec(),
                        }),
                        8 + size,
                    )
                }
                b'k' => {
                    need!(3);
                    let kind = b[2];
                    if kind <= 6 {
                        match b[3..].iter().take(MAX_BARCODE + 1).position(|&x| x == 0) {
                            Some(end) => done(
                                Element::Barcode {
                                    kind,
                                    data: b[3..3 + end].to_vec(),
                                },
                                4 + end,
                            ),
                            None if b.len() - 3 > MAX_BARCODE => Step::Skip(3),
                            None => Step::More,
                        }
                    } else if (65..=79).contains(&kind) {
                        need!(4);
                        let n = usize::from(b[3]);
                        need!(4 + n);
                        done(
                            Element::Barcode {
                                kind,
                                data: b[4..4 + n].to_vec(),
                            },
                            4 + n,
                        )
                    } else {
                        Step::Skip(3)
                    }
                }
                b'a' | b'r' | b'H' | b'h' | b'w' | b'f' | b'I' | b'b' | b'E' | b'T' => {
                    need!(3);
                    ignore(3)
                }
                b'L' | b'W' | b'P' | b'$' | b'\\' => {
                    need!(4);
                    ignore(4)
                }
                _ => Step::Skip(2),
            }
        }
        FS => {
            need!(2);
            match b[1] {
                b'&' => done(Element::ChineseMode(true), 2),
                b'.' => done(Element::ChineseMode(false), 2),
                b'!' | b'-' | b'W' | b'C' => {
                    need!(3);
                    ignore(3)
                }
                b'S' => {
                    need!(4);
                    ignore(4)
                }
                _ => Step::Skip(2),
            }
        }
        DLE => {
            need!(2);
            match b[1] {
                EOT | 0x05 => {
                    need!(3);
                    match (b[1], b[2]) {
                        (EOT, 1..=4) => done(Element::StatusRequest(b[2]), 3),
                        (0x05, _) => ignore(3),
                        _ => Step::Skip(3),
                    }
                }
                0x14 => {
                    need!(5);
                    ignore(5)
                }
                _ => Step::Skip(2),
            }
        }
        _ => Step::Skip(1),
    }
}

/// `ESC x n` commands with one parameter byte.
fn esc_one(cmd: u8, n: u8) -> Step {
    let e = match cmd {
        b'E' => Element::Bold(n & 1 == 1),
        b'G' => Element::DoubleStrike(n & 1 == 1),
        b'-' => match n {
            0..=2 => Element::Underline(n),
            48..=50 => Element::Underline(n - 48),
            _ => return Step::Skip(3),
        },
        b'a' => match n {
            0 | 48 => Element::Align(Align::Left),
            1 | 49 => Element::Align(Align::Center),
            2 | 50 => Element::Align(Align::Right),
            _ => return Step::Skip(3),
        },
        b'M' => Element::Font(n),
        b'd' => Element::Feed(n),
        b'J' => Element::FeedDots(n),
        b'3' => Element::LineSpacing(Some(n)),
        b't' => Element::CodePage(n),
        // ESC { / ! / SP / R / U / V / r: one parameter, no effect on our model.
        _ => return Step::Done(None, 3),
    };
    Step::Done(Some(e), 3)
}

/// The body of `GS ( k` (after pL pH): QR functions become elements, other symbologies are
/// consumed.
fn gs_k(body: &[u8], total: usize) -> Step {
    if body.len() < 2 || body[0] != 49 {
        return Step::Done(None, total);
    }
    let p = &body[2..];
    let q = match (body[1], p) {
        (65, [m, ..]) => QrCommand::Model(*m),
        (67, [n, ..]) => QrCommand::ModuleSize(*n),
        (69, [n, ..]) => match EcLevel::from_code(*n) {
            Some(e) => QrCommand::ErrorCorrection(e),
            None => return Step::Skip(total),
        },
        (80, [48, d @ ..]) => QrCommand::Store(d.to_vec()),
        (81, [48, ..]) => QrCommand::Print,
        _ => return Step::Done(None, total),
    };
    Step::Done(Some(Element::Qr(q)), total)
}

#[cfg(test)]
mod tests;
