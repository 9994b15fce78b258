//! Sale-ticket receipts for 58 mm and 80 mm paper.
//!
//! Why here and not in the stall workflow: the column arithmetic belongs to the printer (font A
//! is 12 dots per half-width column; 58 mm paper prints 384 dots = 32 columns, 80 mm prints
//! 576 dots = 48 columns; a Chinese character takes two columns), and the same layout must be
//! used by the real driver and by `print-test`. Money and weight arrive as integer fen and grams
//! and are only formatted here (`Fen::yuan_string`, `Grams::jin_string`/`kg_string`); the
//! printer never computes an amount.

use super::builder::{BuildError, EscPos, QrMode};
use super::command::{Align, Cut, EcLevel};
use super::text;
use trace_core::{Fen, Grams};

/// Paper roll width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaperWidth {
    Mm58,
    #[default]
    Mm80,
}

impl PaperWidth {
    /// Half-width columns in font A.
    pub fn columns(self) -> usize {
        match self {
            PaperWidth::Mm58 => 32,
            PaperWidth::Mm80 => 48,
        }
    }

    /// Printable dots per line.
    pub fn dots(self) -> usize {
        match self {
            PaperWidth::Mm58 => 384,
            PaperWidth::Mm80 => 576,
        }
    }

    /// From the millimetres an installer types (`--width 58|80`).
    pub fn from_mm(mm: u16) -> Option<Self> {
        match mm {
            58 => Some(PaperWidth::Mm58),
            80 => Some(PaperWidth::Mm80),
            _ => None,
        }
    }
}

/// One sold product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    pub product: String,
    pub weight: Grams,
    /// Price per 斤 (500 g), as markets quote it.
    pub unit_price: Fen,
    pub amount: Fen,
}

/// A sale ticket (销售凭证) as printed at the stall.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    pub market: String,
    pub stall_name: String,
    pub stall_no: String,
    pub ticket_no: String,
    /// Already formatted in the market's local time, e.g. `2026-11-22 11:50`.
    pub datetime: String,
    pub lines: Vec<ReceiptLine>,
    pub total: Fen,
    /// The trace URL the QR carries (ASCII).
    pub qr_url: String,
    /// The numeric ticket code, printed under the QR for typing by hand.
    pub trace_code: String,
    /// A reprint of a ticket whose first print is uncertain: marked 补打.
    pub reprint: bool,
}

/// How a receipt is laid out and sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptStyle {
    pub width: PaperWidth,
    pub qr_mode: QrMode,
    /// Dots per QR module (1–16).
    pub qr_module_size: u8,
    pub qr_ec: EcLevel,
    /// Lines fed before the cut so the QR clears the cutter.
    pub feed_before_cut: u8,
    pub cut: Cut,
    /// Pulse the cash drawer after the receipt.
    pub open_drawer: bool,
}

impl ReceiptStyle {
    pub fn new(width: PaperWidth) -> Self {
        ReceiptStyle {
            width,
            qr_mode: QrMode::Native,
            qr_module_size: 6,
            qr_ec: EcLevel::M,
            feed_before_cut: 4,
            cut: Cut::Partial,
            open_drawer: false,
        }
    }
}

impl Default for ReceiptStyle {
    fn default() -> Self {
        Self::new(PaperWidth::default())
    }
}

/// Groups a numeric code by four digits for reading aloud and typing: `1234 5678 9012`.
pub fn group_code(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 4);
    for (i, c) in code.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The receipt's ESC/POS bytes.
pub fn render_receipt(r: &Receipt, style: &ReceiptStyle) -> Result<Vec<u8>, BuildError> {
    let cols = style.width.columns();
    let rule = "-".repeat(cols);
    let mut b = EscPos::new();
    b.init().chinese(true);

    if r.reprint {
        b.align(Align::Center)
            .reverse(true)
            .size(2, 2)
            .line(" 补打 ")
            .size(1, 1)
            .reverse(false)
            .line("REPRINT");
    }
    b.align(Align::Center)
        .bold(true)
        .size(1, 2)
        .line(text::truncate(&r.market, cols))
        .size(1, 1)
        .bold(false);
    let stall = format!("{} {}", r.stall_no, r.stall_name);
    b.line(text::truncate(&stall, cols)).align(Align::Left);
    b.line(&format!("单号: {}", r.ticket_no));
    b.line(&format!("时间: {}", r.datetime));
    b.line(&rule);
    match style.width {
        PaperWidth::Mm58 => lines_58(&mut b, r, cols),
        PaperWidth::Mm80 => lines_80(&mut b, r),
    }
    b.line(&rule);
    b.bold(true).size(1, 2);
    b.line(&text::two_columns("合计(元)", &r.total.yuan_string(), cols));
    b.size(1, 1).bold(false);
    b.lf().align(Align::Center);
    b.qr_with(
        style.qr_mode,
        r.qr_url.as_bytes(),
        style.qr_module_size,
        style.qr_ec,
        style.width.dots(),
    )?;
    b.lf();
    b.line(&format!("追溯码 {}", group_code(&r.trace_code)));
    b.line("微信扫码查看来源");
    b.align(Align::Left)
        .feed(style.feed_before_cut)
        .cut(style.cut);
    if style.open_drawer {
        b.drawer_kick(0, 50, 500);
    }
    Ok(b.into_bytes())
}

fn weight_text(w: Grams) -> String {
    format!("{}斤({}kg)", w.jin_string(), w.kg_string())
}

/// 58 mm: name and amount on one line (a long name gets its own line, the amount the next),
/// weight and unit price under it. Numbers are never cut: what does not fit moves to a line of
/// its own.
fn lines_58(b: &mut EscPos, r: &Receipt, cols: usize) {
    b.line(&text::two_columns("品名", "金额(元)", cols));
    for l in &r.lines {
        item_lines(b, l, cols);
    }
}

fn item_lines(b: &mut EscPos, l: &ReceiptLine, cols: usize) {
    let amount = l.amount.yuan_string();
    if text::columns(&l.product) + 1 + text::columns(&amount) > cols {
        b.line(text::truncate(&l.product, cols));
        b.line(&text::two_columns("", &amount, cols));
    } else {
        b.line(&text::two_columns(&l.product, &amount, cols));
    }
    let weight = format!("  {}", weight_text(l.weight));
    let price = format!("x {}元/斤", l.unit_price.yuan_string());
    if text::columns(&weight) + 1 + text::columns(&price) <= cols {
        b.line(&format!("{weight} {price}"));
    } else {
        b.line(&weight);
        b.line(&format!("  {price}"));
    }
}

/// 80 mm: one row per product in five columns (14 + 8 + 9 + 8 + 9 = 48); a name too long for
/// its column gets a row of its own above the numbers, and a number too wide for its column
/// switches that product to the 58 mm form, so no digit is ever cut off.
fn lines_80(b: &mut EscPos, r: &Receipt) {
    const W: [usize; 5] = [14, 8, 9, 8, 9];
    let row = |f: [&str; 5]| {
        format!(
            "{}{}{}{}{}",
            text::pad_right(f[0], W[0]),
            text::pad_left(f[1], W[1]),
            text::pad_left(f[2], W[2]),
            text::pad_left(f[3], W[3]),
            text::pad_left(f[4], W[4])
        )
    };
    b.line(&row(["品名", "斤", "kg", "单价/斤", "金额"]));
    for l in &r.lines {
        let nums = [
            l.weight.jin_string(),
            l.weight.kg_string(),
            l.unit_price.yuan_string(),
            l.amount.yuan_string(),
        ];
        if nums.iter().zip(&W[1..]).any(|(n, w)| text::columns(n) > *w) {
            item_lines(b, l, 48);
            continue;
        }
        let name = if text::columns(&l.product) > W[0] - 1 {
            b.line(text::truncate(&l.product, 48));
            ""
        } else {
            l.product.as_str()
        };
        b.line(&row([name, &nums[0], &nums[1], &nums[2], &nums[3]]));
    }
}

/// The receipt `print-test` prints: Chinese text on every line kind, and the given QR URL.
pub fn test_receipt(url: &str, datetime: &str) -> Receipt {
    Receipt {
        market: "湾区农贸市场 打印测试".into(),
        stall_name: "测试摊位".into(),
        stall_no: "A-01".into(),
        ticket_no: "TEST-000001".into(),
        datetime: datetime.into(),
        lines: vec![
            ReceiptLine {
                product: "鲜猪肉(前腿)".into(),
                weight: Grams(1234),
                unit_price: Fen(1600),
                amount: Fen(3949),
            },
            ReceiptLine {
                product: "本地菜心".into(),
                weight: Grams(750),
                unit_price: Fen(400),
                amount: Fen(600),
            },
            ReceiptLine {
                product: "广东清远走地鸡(已宰杀,去内脏)".into(),
                weight: Grams(1500),
                unit_price: Fen(2800),
                amount: Fen(8400),
            },
        ],
        total: Fen(12949),
        qr_url: url.into(),
        trace_code: "0000000000000000".into(),
        reprint: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::command::Element;
    use crate::printer::parser::parse_all;

    fn text_lines(bytes: &[u8]) -> Vec<String> {
        let (els, stats) = parse_all(bytes);
        assert_eq!(stats.unknown_bytes, 0);
        let mut lines = vec![String::new()];
        for e in els {
            match e {
                Element::Text(t) => lines.last_mut().unwrap().push_str(&t),
                Element::LineFeed => lines.push(String::new()),
                _ => {}
            }
        }
        lines
    }

    #[test]
    fn every_line_fits_the_paper() {
        for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
            let mut r = test_receipt("https://t.example/q/1", "2026-11-22 11:50");
            r.reprint = true;
            let bytes = render_receipt(&r, &ReceiptStyle::new(width)).unwrap();
            let lines = text_lines(&bytes);
            for l in &lines {
                assert!(text::columns(l) <= width.columns(), "{width:?}: {l:?}");
            }
            assert!(lines.iter().any(|l| l.contains("补打")));
            assert!(lines.iter().any(|l| l.contains("129.49")));
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains("追溯码 0000 0000 0000 0000"))
            );
        }
    }

    #[test]
    fn rows_80_are_aligned() {
        let r = test_receipt("https://t.example/q/1", "2026-11-22 11:50");
        let lines = text_lines(&render_receipt(&r, &ReceiptStyle::new(PaperWidth::Mm80)).unwrap());
        let row = lines.iter().find(|l| l.starts_with("鲜猪肉")).unwrap();
        assert_eq!(row, "鲜猪肉(前腿)      2.47    1.234   16.00    39.49");
        assert_eq!(text::columns(row), 48);
        // The long name gets its own line, its numbers the next one.
        let i = lines
            .iter()
            .position(|l| l.starts_with("广东清远"))
            .unwrap();
        assert!(lines[i + 1].starts_with("                  3.00"));
    }

    #[test]
    fn rows_58_put_amount_right() {
        let r = test_receipt("https://t.example/q/1", "2026-11-22 11:50");
        let lines = text_lines(&render_receipt(&r, &ReceiptStyle::new(PaperWidth::Mm58)).unwrap());
        assert!(lines.contains(&"鲜猪肉(前腿)               39.49".to_string()));
        assert!(lines.contains(&"  2.47斤(1.234kg) x 16.00元/斤".to_string()));
        let i = lines
            .iter()
            .position(|l| l.starts_with("广东清远"))
            .unwrap();
        assert_eq!(lines[i], "广东清远走地鸡(已宰杀,去内脏)");
        assert_eq!(lines[i + 1], format!("{}84.00", " ".repeat(27)));
    }

    #[test]
    fn receipt_ends_with_feed_and_cut_and_optional_drawer() {
        let r = test_receipt("https://t.example/q/1", "x");
        let mut style = ReceiptStyle::new(PaperWidth::Mm58);
        let bytes = render_receipt(&r, &style).unwrap();
        assert!(bytes.ends_with(&[0x1b, 0x64, 4, 0x1d, 0x56, 1]));
        assert!(bytes.starts_with(&[0x1b, 0x40, 0x1c, 0x26]));
        style.open_drawer = true;
        let bytes = render_receipt(&r, &style).unwrap();
        assert!(bytes.ends_with(&[0x1d, 0x56, 1, 0x1b, 0x70, 0, 25, 250]));
    }

    #[test]
    fn code_grouping() {
        assert_eq!(group_code("12345678901"), "1234 5678 901");
        assert_eq!(group_code(""), "");
    }

    use crate::printer::command::QrCommand;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                (0x20u8..0x7f).prop_map(char::from),
                (0x4e00u32..0x9fa5).prop_map(|c| char::from_u32(c).unwrap_or('中')),
            ],
            0..30,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    fn line() -> impl Strategy<Value = ReceiptLine> {
        (
            name(),
            0i64..10_000_000_000,
            0i64..100_000_000_000,
            0i64..10_000_000_000_000,
        )
            .prop_map(|(product, g, p, a)| ReceiptLine {
                product,
                weight: Grams(g),
                unit_price: Fen(p),
                amount: Fen(a),
            })
    }

    proptest! {
        /// Any receipt: parses back with no unknown bytes, no line wider than the paper, every
        /// product name (as far as it fits) and amount present, and the QR carries the URL.
        #[test]
        fn any_receipt_fits_and_round_trips(
            lines in proptest::collection::vec(line(), 0..8),
            market in name(),
            reprint in any::<bool>(),
            total in 0i64..100_000_000_000_000,
            wide in any::<bool>(),
            raster in any::<bool>(),
        ) {
            let width = if wide { PaperWidth::Mm80 } else { PaperWidth::Mm58 };
            let mut style = ReceiptStyle::new(width);
            style.qr_mode = if raster { QrMode::Raster } else { QrMode::Native };
            let r = Receipt {
                market,
                lines: lines.clone(),
                total: Fen(total),
                qr_url: "https://t.example/q/00112233".into(),
                trace_code: "0011223344556677".into(),
                reprint,
                ..Default::default()
            };
            let bytes = render_receipt(&r, &style).unwrap();
            let printed = text_lines(&bytes);
            for l in &printed {
                prop_assert!(text::columns(l) <= width.columns(), "{:?}", l);
            }
            for l in &lines {
                let shown = text::truncate(&l.product, 13.min(width.columns()));
                prop_assert!(printed.iter().any(|p| p.contains(shown.trim_end())));
                // Every number is printed whole.
                for n in [l.amount.yuan_string(), l.unit_price.yuan_string(), l.weight.jin_string(), l.weight.kg_string()] {
                    prop_assert!(printed.iter().any(|p| p.contains(&n)), "{} missing", n);
                }
            }
            prop_assert!(printed.iter().any(|p| p.contains(&Fen(total).yuan_string())));
            let (els, _) = parse_all(&bytes);
            if raster {
                prop_assert!(els.iter().any(|e| matches!(e, Element::Raster(_))));
            } else {
                let url = b"https://t.example/q/00112233".to_vec();
                prop_assert!(els.contains(&Element::Qr(QrCommand::Store(url))));
            }
        }
    }
}
