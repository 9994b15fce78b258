//! The simulated print head: [`Element`]s in, a 1-bit picture of the paper out.
//!
//! Why draw at all: a test can compare bytes, but only a picture shows that a 58 mm layout
//! really fits, that 补打 stands out, and — decoded with a real QR reader — that the QR the
//! printer would print carries exactly the URL we sent. The QR is drawn as the printer draws it:
//! from the `GS ( k` stored data, module size and error-correction level, through the `qrcode`
//! crate; a `GS v 0` raster is drawn from its bits.
//!
//! Design: font A geometry (12 × 24 dots per half-width column, 24 × 24 per Chinese character,
//! times the `GS !` multipliers); characters collect on the current line until `LF`, a wrap, or a
//! graphic flushes it; line pitch is the `ESC 3` spacing (30 dots by default) or the tallest
//! character plus 6. Unknown elements do not draw.

use super::font::CjkFont;
use crate::printer::command::{Align, EcLevel, Element, QrCommand, Raster};
use crate::printer::qr;
use crate::printer::text::char_columns;

const DEFAULT_SPACING: usize = 30;
const MARGIN: usize = 16;
/// Longest receipt drawn (4 m of paper at 8 dots/mm): garbage full of feeds must not exhaust
/// memory; what lies beyond is not drawn.
pub const MAX_PAGE_DOTS: usize = 32_000;

#[derive(Clone, Copy)]
struct Cell {
    ch: char,
    w: u8,
    h: u8,
    bold: bool,
    underline: bool,
    reverse: bool,
}

impl Cell {
    fn width(&self) -> usize {
        12 * char_columns(self.ch) * usize::from(self.w)
    }
    fn height(&self) -> usize {
        24 * usize::from(self.h)
    }
}

/// One receipt's worth of paper, plus the print state.
pub struct Page {
    width: usize,
    dots: Vec<u8>,
    height: usize,
    draw: bool,
    font: Option<CjkFont>,
    // Print state (survives a cut, reset by ESC @).
    bold: bool,
    underline: bool,
    reverse: bool,
    size: (u8, u8),
    align: Align,
    spacing: Option<u8>,
    qr_module: u8,
    qr_ec: EcLevel,
    qr_data: Option<Vec<u8>>,
    // The line being composed.
    line: Vec<Cell>,
    line_w: usize,
    /// Printed text, one string per printed line.
    pub text: Vec<String>,
    /// Data of each native QR printed.
    pub qr_payloads: Vec<Vec<u8>>,
    /// Raster images printed.
    pub rasters: usize,
}

impl Page {
    /// `width` in dots; `draw = false` keeps only the text (for load tests).
    pub fn new(width: usize, font: Option<CjkFont>, draw: bool) -> Self {
        Page {
            width,
            dots: Vec::new(),
            height: 0,
            draw,
            font,
            bold: false,
            underline: false,
            reverse: false,
            size: (1, 1),
            align: Align::Left,
            spacing: None,
            qr_module: 3,
            qr_ec: EcLevel::L,
            qr_data: None,
            line: Vec::new(),
            line_w: 0,
            text: Vec::new(),
            qr_payloads: Vec::new(),
            rasters: 0,
        }
    }

    fn reset_state(&mut self) {
        self.bold = false;
        self.underline = false;
        self.reverse = false;
        self.size = (1, 1);
        self.align = Align::Left;
        self.spacing = None;
        self.qr_module = 3;
        self.qr_ec = EcLevel::L;
    }

    /// Applies one element.
    pub fn apply(&mut self, e: &Element) {
        match e {
            Element::Init => {
                self.flush_line(false);
                self.reset_state();
            }
            Element::Text(s) => {
                for ch in s.chars() {
                    let cell = Cell {
                        ch,
                        w: self.size.0,
                        h: self.size.1,
                        bold: self.bold,
                        underline: self.underline,
                        reverse: self.reverse,
                    };
                    if self.line_w + cell.width() > self.width && !self.line.is_empty() {
                        self.flush_line(true);
                    }
                    self.line_w += cell.width();
                    self.line.push(cell);
                }
            }
            Element::LineFeed => self.flush_line(true),
            Element::Feed(n) => {
                self.flush_line(true);
                let pitch = self.pitch(0);
                self.advance(pitch * usize::from(n.saturating_sub(1)));
            }
            Element::FeedDots(n) => {
                self.flush_line(false);
                self.advance(usize::from(*n));
            }
            Element::LineSpacing(s) => self.spacing = *s,
            Element::Bold(b) => self.bold = *b,
            Element::Underline(n) => self.underline = *n > 0,
            Element::Reverse(b) => self.reverse = *b,
            Element::Align(a) => self.align = *a,
            Element::Size { width, height } => self.size = (*width, *height),
            Element::Qr(q) => match q {
                QrCommand::ModuleSize(n) => self.qr_module = (*n).clamp(1, 16),
                QrCommand::ErrorCorrection(ec) => self.qr_ec = *ec,
                QrCommand::Store(d) => self.qr_data = Some(d.clone()),
                QrCommand::Print => self.print_qr(),
                QrCommand::Model(_) => {}
            },
            Element::Raster(r) => self.print_raster(r),
            _ => {}
        }
    }

    fn pitch(&self, tallest: usize) -> usize {
        let spacing = self.spacing.map_or(DEFAULT_SPACING, usize::from);
        spacing.max(tallest + 6)
    }

    fn advance(&mut self, dots: usize) {
        self.height = (self.height + dots).min(MAX_PAGE_DOTS);
        if self.draw {
            self.dots.resize(self.width * self.height, 0);
        }
    }

    fn set(&mut self, x: i64, y: i64, black: bool) {
        let (Ok(x), Ok(y)) = (usize::try_from(x), usize::try_from(y)) else {
            return;
        };
        if x < self.width && y < self.height {
            self.dots[y * self.width + x] = u8::from(black);
        }
    }

    fn x_for(&self, w: usize) -> usize {
        let room = self.width.saturating_sub(w);
        match self.align {
            Align::Left => 0,
            Align::Center => room / 2,
            Align::Right => room,
        }
    }

    /// Prints the pending line; an empty line feeds only if `feed_empty`.
    fn flush_line(&mut self, feed_empty: bool) {
        if self.line.is_empty() {
            if feed_empty {
                let p = self.pitch(0);
                self.advance(p);
            }
            return;
        }
        let line = std::mem::take(&mut self.line);
        let lw = std::mem::take(&mut self.line_w);
        if self.height < MAX_PAGE_DOTS {
            self.text.push(line.iter().map(|c| c.ch).collect());
        }
        let tallest = line.iter().map(Cell::height).max().unwrap_or(24);
        let top = self.height;
        let pitch = self.pitch(tallest);
        self.advance(pitch);
        if !self.draw {
            return;
        }
        let mut x = self.x_for(lw);
        for c in &line {
            let (cw, ch) = (c.width(), c.height());
            let y = top + tallest - ch;
            self.draw_cell(c, x, y, cw, ch);
            x += cw;
        }
    }

    fn draw_cell(&mut self, c: &Cell, x: usize, y: usize, cw: usize, ch: usize) {
        let (xi, yi) = (to_i64(x), to_i64(y));
        if c.reverse {
            for dy in 0..ch {
                for dx in 0..cw {
                    self.set(xi + to_i64(dx), yi + to_i64(dy), true);
                }
            }
        }
        let ink = !c.reverse;
        let mut pts = Vec::new();
        match &self.font {
            Some(f) if !c.ch.is_whitespace() => {
                let cell = (
                    u16::try_from(cw).unwrap_or(u16::MAX),
                    u16::try_from(ch).unwrap_or(u16::MAX),
                );
                f.draw(c.ch, (xi, yi), cell, u16::from(c.w), &mut |px, py| {
                    pts.push((px, py));
                });
            }
            None if !c.ch.is_whitespace() => {
                // No font: an outlined box of the character's cell.
                for dx in 2..cw.saturating_sub(2) {
                    pts.push((xi + to_i64(dx), yi + 2));
                    pts.push((xi + to_i64(dx), yi + to_i64(ch) - 3));
                }
                for dy in 2..ch.saturating_sub(2) {
                    pts.push((xi + 2, yi + to_i64(dy)));
                    pts.push((xi + to_i64(cw) - 3, yi + to_i64(dy)));
                }
            }
            _ => {}
        }
        for (px, py) in pts {
            self.set(px, py, ink);
            if c.bold {
                self.set(px + 1, py, ink);
            }
        }
        if c.underline {
            for dx in 0..cw {
                self.set(xi + to_i64(dx), yi + to_i64(ch) - 1, ink);
            }
        }
    }

    fn print_qr(&mut self) {
        self.flush_line(false);
        let Some(data) = self.qr_data.clone() else {
            return;
        };
        let Some((m, w)) = qr::modules(&data, self.qr_ec) else {
            return;
        };
        self.qr_payloads.push(data);
        let ms = usize::from(self.qr_module);
        let side = w * ms;
        let x0 = self.x_for(side);
        let y0 = self.height;
        self.advance(side);
        if !self.draw {
            return;
        }
        for my in 0..w {
            for mx in 0..w {
                if m[my * w + mx] {
                    for dy in 0..ms {
                        for dx in 0..ms {
                            self.set(to_i64(x0 + mx * ms + dx), to_i64(y0 + my * ms + dy), true);
                        }
                    }
                }
            }
        }
    }

    fn print_raster(&mut self, r: &Raster) {
        self.flush_line(false);
        self.rasters += 1;
        let (sx, sy) = match r.mode {
            1 => (2, 1),
            2 => (1, 2),
            3 => (2, 2),
            _ => (1, 1),
        };
        let (w, h) = (usize::from(r.width_bytes) * 8, usize::from(r.height));
        let x0 = self.x_for(w * sx);
        let y0 = self.height;
        self.advance(h * sy);
        if !self.draw {
            return;
        }
        for y in 0..h {
            for x in 0..w {
                if r.dot(x, y) {
                    for dy in 0..sy {
                        for dx in 0..sx {
                            self.set(to_i64(x0 + x * sx + dx), to_i64(y0 + y * sy + dy), true);
                        }
                    }
                }
            }
        }
    }

    /// Finishes the receipt: its picture (white paper, black dots, a margin around; `None`
    /// when not drawing) and what was printed. The page starts fresh but keeps the print state,
    /// as the printer does after a cut.
    pub fn cut(&mut self) -> CutPage {
        self.flush_line(false);
        let image = self.draw.then(|| {
            let (w, h) = (self.width + 2 * MARGIN, self.height + 2 * MARGIN);
            let mut img = image::GrayImage::from_pixel(dim(w), dim(h), image::Luma([255]));
            for y in 0..self.height {
                for x in 0..self.width {
                    if self.dots[y * self.width + x] != 0 {
                        img.put_pixel(dim(x + MARGIN), dim(y + MARGIN), image::Luma([0]));
                    }
                }
            }
            img
        });
        self.dots.clear();
        self.height = 0;
        CutPage {
            image,
            text: std::mem::take(&mut self.text),
            qr_payloads: std::mem::take(&mut self.qr_payloads),
            rasters: std::mem::take(&mut self.rasters),
        }
    }

    /// Drops what is on the page (a job the printer could not print).
    pub fn discard(&mut self) {
        self.line.clear();
        self.line_w = 0;
        let _ = self.cut();
    }
}

/// One cut-off receipt.
pub struct CutPage {
    pub image: Option<image::GrayImage>,
    pub text: Vec<String>,
    pub qr_payloads: Vec<Vec<u8>>,
    pub rasters: usize,
}

fn to_i64(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn dim(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}
