//! The ESC/POS document model: one [`Element`] per command, and its exact bytes.
//!
//! Why a model and not only a byte builder: the same enum is what the parser
//! ([`super::parser`]) produces, so "builder → bytes → parser → same elements" is a property
//! test, and the simulator renders from elements rather than from ad-hoc byte matching.
//! Encoding is a pure function; byte layouts follow `reference/devices.md` §2 (Epson ESC/POS
//! as implemented by Chinese-market printers).

use super::text;

pub const ESC: u8 = 0x1b;
pub const GS: u8 = 0x1d;
pub const FS: u8 = 0x1c;
pub const DLE: u8 = 0x10;
pub const EOT: u8 = 0x04;
pub const LF: u8 = 0x0a;
pub const CR: u8 = 0x0d;
pub const HT: u8 = 0x09;

/// Horizontal justification (`ESC a n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

impl Align {
    pub(crate) fn code(self) -> u8 {
        match self {
            Align::Left => 0,
            Align::Center => 1,
            Align::Right => 2,
        }
    }
}

/// QR error-correction level (`GS ( k` fn 69): L 7 %, M 15 %, Q 25 %, H 30 % of the symbol
/// may be damaged. A receipt in a wet market gets splashed: M or Q are sensible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EcLevel {
    L,
    #[default]
    M,
    Q,
    H,
}

impl EcLevel {
    pub(crate) fn code(self) -> u8 {
        match self {
            EcLevel::L => 48,
            EcLevel::M => 49,
            EcLevel::Q => 50,
            EcLevel::H => 51,
        }
    }

    pub(crate) fn from_code(n: u8) -> Option<Self> {
        match n {
            48 => Some(EcLevel::L),
            49 => Some(EcLevel::M),
            50 => Some(EcLevel::Q),
            51 => Some(EcLevel::H),
            _ => None,
        }
    }

    pub(crate) fn to_qrcode(self) -> qrcode::EcLevel {
        match self {
            EcLevel::L => qrcode::EcLevel::L,
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::Q => qrcode::EcLevel::Q,
            EcLevel::H => qrcode::EcLevel::H,
        }
    }

    /// Largest byte-mode payload a version-40 symbol holds at this level.
    pub fn max_bytes(self) -> usize {
        match self {
            EcLevel::L => 2953,
            EcLevel::M => 2331,
            EcLevel::Q => 1663,
            EcLevel::H => 1273,
        }
    }
}

impl std::str::FromStr for EcLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "L" | "l" => Ok(EcLevel::L),
            "M" | "m" => Ok(EcLevel::M),
            "Q" | "q" => Ok(EcLevel::Q),
            "H" | "h" => Ok(EcLevel::H),
            _ => Err(format!(
                "QR error correction must be L, M, Q or H, got {s:?}"
            )),
        }
    }
}

/// Paper cut (`GS V`). Many Chinese printers only do a partial cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// `GS V 0`.
    Full,
    /// `GS V 1`.
    Partial,
    /// `GS V 65 n`: feed n lines' worth (n × vertical motion unit), then full cut.
    FeedFull(u8),
    /// `GS V 66 n`: feed, then partial cut.
    FeedPartial(u8),
}

/// The QR functions of `GS ( k` (cn = 49).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrCommand {
    /// fn 65: model (49 model 1, 50 model 2, 51 micro).
    Model(u8),
    /// fn 67: module size in dots (1–16).
    ModuleSize(u8),
    /// fn 69: error-correction level.
    ErrorCorrection(EcLevel),
    /// fn 80: store the symbol data (m = 48).
    Store(Vec<u8>),
    /// fn 81: print the stored symbol.
    Print,
}

/// A raster bit image (`GS v 0 m xL xH yL yH d…`): rows of `width_bytes` bytes, MSB is the
/// leftmost dot, 1 is black.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    /// 0 normal, 1 double width, 2 double height, 3 quadruple.
    pub mode: u8,
    pub width_bytes: u16,
    pub height: u16,
    pub data: Vec<u8>,
}

impl Raster {
    /// Is the dot at (x, y) black? Out of range is white.
    pub fn dot(&self, x: usize, y: usize) -> bool {
        let wb = usize::from(self.width_bytes);
        if x >= wb * 8 || y >= usize::from(self.height) {
            return false;
        }
        self.data
            .get(y * wb + x / 8)
            .is_some_and(|b| b & (0x80 >> (x % 8)) != 0)
    }
}

/// One ESC/POS command or run of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// `ESC @`: reset to power-on settings.
    Init,
    /// Printable text, GB18030 on the wire (see [`text`]). Never contains control characters.
    Text(String),
    /// `LF`: print the line buffer and feed one line.
    LineFeed,
    /// `CR` (most printers ignore it when auto line feed is off).
    CarriageReturn,
    /// `HT`.
    Tab,
    /// `ESC d n`: print and feed n lines.
    Feed(u8),
    /// `ESC J n`: print and feed n dots.
    FeedDots(u8),
    /// `ESC 2` (default, `None`) or `ESC 3 n` line spacing in dots.
    LineSpacing(Option<u8>),
    /// `ESC E n`.
    Bold(bool),
    /// `ESC - n`: 0 off, 1 thin, 2 thick.
    Underline(u8),
    /// `ESC G n`.
    DoubleStrike(bool),
    /// `ESC M n`: 0 font A (12×24), 1 font B (9×17).
    Font(u8),
    /// `ESC a n`.
    Align(Align),
    /// `GS ! n`: character magnification, each 1–8.
    Size { width: u8, height: u8 },
    /// `GS B n`: white on black.
    Reverse(bool),
    /// `ESC t n`: code page for single-byte characters outside Chinese mode.
    CodePage(u8),
    /// `FS &` (true) / `FS .` (false): Chinese double-byte mode.
    ChineseMode(bool),
    /// `GS ( k` with cn = 49.
    Qr(QrCommand),
    /// `GS v 0`.
    Raster(Raster),
    /// `GS k m …`: a 1D barcode (kept so a stream containing one parses in step).
    Barcode { kind: u8, data: Vec<u8> },
    /// `GS V`.
    Cut(Cut),
    /// `ESC p m t1 t2`: pulse drawer-kick pin m (0: pin 2, 1: pin 5), on t1×2 ms, off t2×2 ms.
    DrawerKick { pin: u8, on: u8, off: u8 },
    /// `DLE EOT n`: real-time status request (1 printer, 2 offline cause, 3 error, 4 paper).
    StatusRequest(u8),
}

fn gs_k(out: &mut Vec<u8>, body: &[u8]) {
    // pL pH count cn, fn and the parameters.
    let len = u16::try_from(body.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&[GS, b'(', b'k']);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&body[..usize::from(len)]);
}

impl Element {
    /// Appends this element's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Element::Init => out.extend_from_slice(&[ESC, b'@']),
            Element::Text(s) => out.extend_from_slice(&text::encode(s)),
            Element::LineFeed => out.push(LF),
            Element::CarriageReturn => out.push(CR),
            Element::Tab => out.push(HT),
            Element::Feed(n) => out.extend_from_slice(&[ESC, b'd', *n]),
            Element::FeedDots(n) => out.extend_from_slice(&[ESC, b'J', *n]),
            Element::LineSpacing(None) => out.extend_from_slice(&[ESC, b'2']),
            Element::LineSpacing(Some(n)) => out.extend_from_slice(&[ESC, b'3', *n]),
            Element::Bold(on) => out.extend_from_slice(&[ESC, b'E', u8::from(*on)]),
            Element::Underline(n) => out.extend_from_slice(&[ESC, b'-', (*n).min(2)]),
            Element::DoubleStrike(on) => out.extend_from_slice(&[ESC, b'G', u8::from(*on)]),
            Element::Font(n) => out.extend_from_slice(&[ESC, b'M', *n]),
            Element::Align(a) => out.extend_from_slice(&[ESC, b'a', a.code()]),
            Element::Size { width, height } => {
                let w = width.clamp(&1, &8) - 1;
                let h = height.clamp(&1, &8) - 1;
                out.extend_from_slice(&[GS, b'!', (w << 4) | h]);
            }
            Element::Reverse(on) => out.extend_from_slice(&[GS, b'B', u8::from(*on)]),
            Element::CodePage(n) => out.extend_from_slice(&[ESC, b't', *n]),
            Element::ChineseMode(true) => out.extend_from_slice(&[FS, b'&']),
            Element::ChineseMode(false) => out.extend_from_slice(&[FS, b'.']),
            Element::Qr(q) => match q {
                QrCommand::Model(m) => gs_k(out, &[49, 65, *m, 0]),
                QrCommand::ModuleSize(n) => gs_k(out, &[49, 67, *n]),
                QrCommand::ErrorCorrection(e) => gs_k(out, &[49, 69, e.code()]),
                QrCommand::Store(d) => {
                    let mut body = Vec::with_capacity(d.len() + 3);
                    body.extend_from_slice(&[49, 80, 48]);
                    body.extend_from_slice(d);
                    gs_k(out, &body);
                }
                QrCommand::Print => gs_k(out, &[49, 81, 48]),
            },
            Element::Raster(r) => {
                out.extend_from_slice(&[GS, b'v', b'0', r.mode]);
                out.extend_from_slice(&r.width_bytes.to_le_bytes());
                out.extend_from_slice(&r.height.to_le_bytes());
                out.extend_from_slice(&r.data);
            }
            Element::Barcode { kind, data } => {
                out.extend_from_slice(&[GS, b'k', *kind]);
                if *kind <= 6 {
                    out.extend_from_slice(data);
                    out.push(0);
                } else {
                    let n = u8::try_from(data.len()).unwrap_or(u8::MAX);
                    out.push(n);
                    out.extend_from_slice(&data[..usize::from(n)]);
                }
            }
            Element::Cut(c) => match c {
                Cut::Full => out.extend_from_slice(&[GS, b'V', 0]),
                Cut::Partial => out.extend_from_slice(&[GS, b'V', 1]),
                Cut::FeedFull(n) => out.extend_from_slice(&[GS, b'V', 65, *n]),
                Cut::FeedPartial(n) => out.extend_from_slice(&[GS, b'V', 66, *n]),
            },
            Element::DrawerKick { pin, on, off } => {
                out.extend_from_slice(&[ESC, b'p', *pin, *on, *off]);
            }
            Element::StatusRequest(n) => out.extend_from_slice(&[DLE, EOT, *n]),
        }
    }

    /// This element's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(e: Element) -> Vec<u8> {
        e.to_bytes()
    }

    #[test]
    fn byte_exact_commands() {
        assert_eq!(b(Element::Init), [0x1b, 0x40]);
        assert_eq!(b(Element::Bold(true)), [0x1b, 0x45, 1]);
        assert_eq!(b(Element::Bold(false)), [0x1b, 0x45, 0]);
        assert_eq!(b(Element::Underline(2)), [0x1b, 0x2d, 2]);
        assert_eq!(b(Element::Align(Align::Center)), [0x1b, 0x61, 1]);
        assert_eq!(b(Element::Align(Align::Right)), [0x1b, 0x61, 2]);
        assert_eq!(
            b(Element::Size {
                width: 2,
                height: 2
            }),
            [0x1d, 0x21, 0x11]
        );
        assert_eq!(
            b(Element::Size {
                width: 1,
                height: 2
            }),
            [0x1d, 0x21, 0x01]
        );
        assert_eq!(
            b(Element::Size {
                width: 8,
                height: 8
            }),
            [0x1d, 0x21, 0x77]
        );
        assert_eq!(b(Element::Feed(3)), [0x1b, 0x64, 3]);
        assert_eq!(b(Element::LineSpacing(None)), [0x1b, 0x32]);
        assert_eq!(b(Element::LineSpacing(Some(40))), [0x1b, 0x33, 40]);
        assert_eq!(b(Element::ChineseMode(true)), [0x1c, 0x26]);
        assert_eq!(b(Element::ChineseMode(false)), [0x1c, 0x2e]);
        assert_eq!(b(Element::Cut(Cut::Full)), [0x1d, 0x56, 0]);
        assert_eq!(b(Element::Cut(Cut::Partial)), [0x1d, 0x56, 1]);
        assert_eq!(b(Element::Cut(Cut::FeedPartial(3))), [0x1d, 0x56, 66, 3]);
        assert_eq!(
            b(Element::DrawerKick {
                pin: 0,
                on: 25,
                off: 250
            }),
            [0x1b, 0x70, 0, 25, 250]
        );
        assert_eq!(b(Element::StatusRequest(4)), [0x10, 0x04, 4]);
        assert_eq!(b(Element::Reverse(true)), [0x1d, 0x42, 1]);
    }

    #[test]
    fn byte_exact_qr() {
        assert_eq!(
            b(Element::Qr(QrCommand::Model(50))),
            [0x1d, 0x28, 0x6b, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]
        );
        assert_eq!(
            b(Element::Qr(QrCommand::ModuleSize(6))),
            [0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, 6]
        );
        assert_eq!(
            b(Element::Qr(QrCommand::ErrorCorrection(EcLevel::Q))),
            [0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x45, 50]
        );
        assert_eq!(
            b(Element::Qr(QrCommand::Store(b"AB".to_vec()))),
            [0x1d, 0x28, 0x6b, 0x05, 0x00, 0x31, 0x50, 0x30, b'A', b'B']
        );
        assert_eq!(
            b(Element::Qr(QrCommand::Print)),
            [0x1d, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x51, 0x30]
        );
        // 300 bytes of data: pL pH = 303 = 0x012f.
        let long = b(Element::Qr(QrCommand::Store(vec![b'9'; 300])));
        assert_eq!(
            &long[..8],
            &[0x1d, 0x28, 0x6b, 0x2f, 0x01, 0x31, 0x50, 0x30]
        );
        assert_eq!(long.len(), 308);
    }

    #[test]
    fn byte_exact_raster_and_text() {
        let r = Raster {
            mode: 0,
            width_bytes: 2,
            height: 1,
            data: vec![0x80, 0x01],
        };
        assert!(r.dot(0, 0) && r.dot(15, 0) && !r.dot(1, 0) && !r.dot(16, 0));
        assert_eq!(
            b(Element::Raster(r)),
            [0x1d, 0x76, 0x30, 0, 2, 0, 1, 0, 0x80, 0x01]
        );
        assert_eq!(b(Element::Text("猪A".into())), [0xd6, 0xed, b'A']);
    }
}
