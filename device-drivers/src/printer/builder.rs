//! [`EscPos`]: a small builder that appends ESC/POS commands to a byte buffer.
//!
//! Why our own builder and not the `escpos` crate (0.20, recommended by crates.md): that crate
//! is good, but its `Printer` is bound to its blocking `Driver` trait, so getting bytes out means
//! an in-memory driver and `Result` plumbing around every call; Chinese mode (`FS &`) has to be
//! sent as a custom command anyway; and its bit-image path goes through image files. What we
//! need is a handful of fixed byte sequences (see [`super::command`]) that we test byte for byte,
//! bytes we hand to our own async driver, and a raster QR fallback rendered from `qrcode`
//! directly. That is ~150 lines with no extra dependency, and the same [`Element`] model feeds
//! the parser and the simulator.
//!
//! The builder tracks one piece of state: whether Chinese mode is on, so non-ASCII text switches
//! it on (`FS &`) before its first double-byte character. Everything else is explicit.

use super::command::{Align, Cut, EcLevel, Element, QrCommand, Raster};
use super::qr;

/// A document-level mistake: nothing is sent when building fails.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BuildError {
    #[error("QR data is empty")]
    QrEmpty,
    #[error("QR data is {len} bytes; at error correction {ec:?} a QR code holds at most {max}")]
    QrTooLong { len: usize, ec: EcLevel, max: usize },
    #[error("QR module size must be 1..=16 dots, got {0}")]
    QrModuleSize(u8),
    #[error("a {modules}-module QR code does not fit in {max_dots} dots even at 1 dot per module")]
    QrTooWide { modules: usize, max_dots: usize },
}

/// How a QR code is sent to the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrMode {
    /// `GS ( k` model 2: the printer builds the symbol (sharp, few bytes).
    #[default]
    Native,
    /// `GS v 0` raster rendered here, for printers without `GS ( k`.
    Raster,
}

/// Builds an ESC/POS byte stream.
#[derive(Debug, Clone, Default)]
pub struct EscPos {
    buf: Vec<u8>,
    chinese: bool,
}

impl EscPos {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends any element as is.
    pub fn push(&mut self, e: &Element) -> &mut Self {
        if let Element::ChineseMode(on) = e {
            self.chinese = *on;
        }
        if matches!(e, Element::Init) {
            self.chinese = false;
        }
        e.encode(&mut self.buf);
        self
    }

    /// `ESC @`.
    pub fn init(&mut self) -> &mut Self {
        self.push(&Element::Init)
    }

    /// `FS &` / `FS .`.
    pub fn chinese(&mut self, on: bool) -> &mut Self {
        self.push(&Element::ChineseMode(on))
    }

    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.push(&Element::Bold(on))
    }

    pub fn underline(&mut self, n: u8) -> &mut Self {
        self.push(&Element::Underline(n))
    }

    pub fn align(&mut self, a: Align) -> &mut Self {
        self.push(&Element::Align(a))
    }

    /// `GS !`: width and height multipliers, each clamped to 1..=8.
    pub fn size(&mut self, width: u8, height: u8) -> &mut Self {
        self.push(&Element::Size {
            width: width.clamp(1, 8),
            height: height.clamp(1, 8),
        })
    }

    pub fn reverse(&mut self, on: bool) -> &mut Self {
        self.push(&Element::Reverse(on))
    }

    /// Text without a line feed. `\n` becomes `LF`; other control characters and characters
    /// outside the printer's repertoire print as `?`.
    pub fn text(&mut self, s: &str) -> &mut Self {
        for (i, part) in s.split('\n').enumerate() {
            if i > 0 {
                self.lf();
            }
            if part.is_empty() {
                continue;
            }
            if !self.chinese && !part.is_ascii() {
                self.chinese(true);
            }
            self.push(&Element::Text(part.to_owned()));
        }
        self
    }

    /// Text followed by `LF`.
    pub fn line(&mut self, s: &str) -> &mut Self {
        self.text(s).lf()
    }

    /// `LF`.
    pub fn lf(&mut self) -> &mut Self {
        self.push(&Element::LineFeed)
    }

    /// `ESC d n`.
    pub fn feed(&mut self, lines: u8) -> &mut Self {
        self.push(&Element::Feed(lines))
    }

    /// Native QR, model 2: model, module size, error correction, store, print.
    pub fn qr(
        &mut self,
        data: &[u8],
        module_size: u8,
        ec: EcLevel,
    ) -> Result<&mut Self, BuildError> {
        check_qr(data, module_size, ec)?;
        self.push(&Element::Qr(QrCommand::Model(50)))
            .push(&Element::Qr(QrCommand::ModuleSize(module_size)))
            .push(&Element::Qr(QrCommand::ErrorCorrection(ec)))
            .push(&Element::Qr(QrCommand::Store(data.to_vec())))
            .push(&Element::Qr(QrCommand::Print));
        Ok(self)
    }

    /// The QR as a `GS v 0` raster image, with a 4-module quiet zone, at `module_size` dots per
    /// module or smaller so it fits `max_dots`.
    pub fn qr_raster(
        &mut self,
        data: &[u8],
        module_size: u8,
        ec: EcLevel,
        max_dots: usize,
    ) -> Result<&mut Self, BuildError> {
        check_qr(data, module_size, ec)?;
        let r = qr::raster(data, module_size, ec, max_dots)?;
        Ok(self.push(&Element::Raster(r)))
    }

    /// A QR code either way.
    pub fn qr_with(
        &mut self,
        mode: QrMode,
        data: &[u8],
        module_size: u8,
        ec: EcLevel,
        max_dots: usize,
    ) -> Result<&mut Self, BuildError> {
        match mode {
            QrMode::Native => self.qr(data, module_size, ec),
            QrMode::Raster => self.qr_raster(data, module_size, ec, max_dots),
        }
    }

    /// `GS v 0` of a prepared image.
    pub fn raster(&mut self, r: Raster) -> &mut Self {
        self.push(&Element::Raster(r))
    }

    /// `GS V`.
    pub fn cut(&mut self, c: Cut) -> &mut Self {
        self.push(&Element::Cut(c))
    }

    /// `ESC p`: opens the cash drawer on `pin` (0 = connector pin 2, 1 = pin 5).
    pub fn drawer_kick(&mut self, pin: u8, on_ms: u16, off_ms: u16) -> &mut Self {
        let units = |ms: u16| u8::try_from(ms / 2).unwrap_or(u8::MAX);
        self.push(&Element::DrawerKick {
            pin: pin.min(1),
            on: units(on_ms),
            off: units(off_ms),
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

fn check_qr(data: &[u8], module_size: u8, ec: EcLevel) -> Result<(), BuildError> {
    if data.is_empty() {
        return Err(BuildError::QrEmpty);
    }
    if !(1..=16).contains(&module_size) {
        return Err(BuildError::QrModuleSize(module_size));
    }
    if data.len() > ec.max_bytes() {
        return Err(BuildError::QrTooLong {
            len: data.len(),
            ec,
            max: ec.max_bytes(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_switches_chinese_mode_once() {
        let mut b = EscPos::new();
        b.init().line("A").line("鲜猪肉").line("菜");
        assert_eq!(
            b.bytes(),
            [
                0x1b, 0x40, b'A', 0x0a, 0x1c, 0x26, 0xcf, 0xca, 0xd6, 0xed, 0xc8, 0xe2, 0x0a, 0xb2,
                0xcb, 0x0a
            ]
        );
    }

    #[test]
    fn native_qr_is_model_size_ec_store_print() {
        let mut b = EscPos::new();
        b.align(Align::Center)
            .qr(b"https://t.example/q/1", 6, EcLevel::M)
            .unwrap();
        let mut want = vec![0x1b, 0x61, 1];
        want.extend_from_slice(&[0x1d, 0x28, 0x6b, 4, 0, 0x31, 0x41, 0x32, 0]);
        want.extend_from_slice(&[0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x43, 6]);
        want.extend_from_slice(&[0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x45, 49]);
        want.extend_from_slice(&[0x1d, 0x28, 0x6b, 24, 0, 0x31, 0x50, 0x30]);
        want.extend_from_slice(b"https://t.example/q/1");
        want.extend_from_slice(&[0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x51, 0x30]);
        assert_eq!(b.bytes(), want.as_slice());
    }

    #[test]
    fn bad_qr_is_refused_and_writes_nothing() {
        let mut b = EscPos::new();
        assert_eq!(b.qr(b"", 6, EcLevel::M).unwrap_err(), BuildError::QrEmpty);
        assert_eq!(
            b.qr(b"x", 0, EcLevel::M).unwrap_err(),
            BuildError::QrModuleSize(0)
        );
        let long = vec![b'a'; 1274];
        assert!(matches!(
            b.qr(&long, 3, EcLevel::H).unwrap_err(),
            BuildError::QrTooLong { len: 1274, .. }
        ));
        assert!(b.bytes().is_empty());
    }

    #[test]
    fn drawer_kick_and_cut() {
        let mut b = EscPos::new();
        b.drawer_kick(0, 50, 500).cut(Cut::Partial);
        assert_eq!(b.bytes(), [0x1b, 0x70, 0, 25, 250, 0x1d, 0x56, 1]);
    }
}
