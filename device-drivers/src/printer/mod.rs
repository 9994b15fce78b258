//! # ESC/POS receipt printers
//!
//! The stall prints a sale ticket with a QR code the consumer scans in WeChat, so the printer is
//! where a trace begins for the public. This module is layered so each layer is testable alone:
//!
//! - [`command`] — the document model ([`Element`]) and its exact bytes; [`builder`] — a small
//!   builder over it (why not the `escpos` crate: see [`builder`]); [`text`] — GB18030 and the
//!   column arithmetic of a Chinese-mode printer; [`qr`] — QR symbols as dots.
//! - [`layout`] — the 58 mm / 80 mm sale-ticket layout ([`Receipt`] → bytes).
//! - [`parser`] — an incremental, garbage-tolerant ESC/POS parser (the simulator's ears, and
//!   the other half of the builder's round-trip property).
//! - [`status`] — `DLE EOT` replies → [`PrinterStatus`] values.
//! - [`driver`] — the async [`EscPosPrinter`] over any byte stream, [`ReceiptPrinter`],
//!   [`print_test`].
//! - `sim` (feature `sim`) — a printer simulator that renders each cut receipt to a PNG.

pub mod builder;
pub mod command;
pub mod driver;
pub mod layout;
pub mod parser;
pub mod qr;
pub mod status;
pub mod text;

#[cfg(feature = "sim")]
pub mod sim;

pub use builder::{BuildError, EscPos, QrMode};
pub use command::{Align, Cut, EcLevel, Element, QrCommand, Raster};
pub use driver::{
    EscPosPrinter, PrintOutcome, PrinterConfig, PrinterError, PrinterErrorKind, ReceiptPrinter,
    TestPrintReport, print_test,
};
pub use layout::{PaperWidth, Receipt, ReceiptLine, ReceiptStyle, render_receipt, test_receipt};
pub use parser::{Parser, ParserStats, parse_all};
pub use status::{PrinterState, PrinterStatus};
