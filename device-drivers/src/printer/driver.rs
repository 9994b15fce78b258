//! The async ESC/POS driver, the [`ReceiptPrinter`] trait, and `print_test`.
//!
//! Why this shape: ESC/POS has no job acknowledgement. The only evidence that a receipt came
//! out is a clean real-time status *after* the cut. So a print is: read the status (a printer
//! with no paper is not sent anything), write the job, read the status again; the outcome says
//! which of those held ([`PrintOutcome`]). A job whose after-status shows a fault, or that got no
//! answer, is *uncertain*: the workflow offers a reprint marked 补打 instead of guessing.
//!
//! The driver runs over any `AsyncRead + AsyncWrite` (TCP 9100, a serial port, `/dev/usb/lp0`,
//! a pty in tests). Transports that cannot read back (some USB printer-class devices) set
//! `status_readback = false` and get [`PrintOutcome::Sent`].

use super::builder::{BuildError, QrMode};
use super::layout::{PaperWidth, Receipt, ReceiptStyle, render_receipt, test_receipt};
use super::status::{PrinterStatus, STATUS_REQUESTS, is_reply};
use futures::FutureExt;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What generic code (the device manager) does about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterErrorKind {
    /// The link failed or closed: reconnect.
    Transport,
    /// The printer did not answer a status request in time.
    Timeout,
    /// The document was wrong (our bug or bad data): do not retry.
    Document,
}

#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    #[error("printer I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("printer closed the connection")]
    Disconnected,
    #[error("printer did not answer DLE EOT within {0:?}")]
    StatusTimeout(Duration),
    #[error("receipt could not be built: {0}")]
    Build(#[from] BuildError),
}

impl PrinterError {
    pub fn kind(&self) -> PrinterErrorKind {
        match self {
            PrinterError::Io(_) | PrinterError::Disconnected => PrinterErrorKind::Transport,
            PrinterError::StatusTimeout(_) => PrinterErrorKind::Timeout,
            PrinterError::Build(_) => PrinterErrorKind::Document,
        }
    }
}

/// What became of a print job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintOutcome {
    /// Sent, and the printer reported a clean state after the cut.
    Printed(PrinterStatus),
    /// The printer was not ready; nothing was sent.
    NotSent(PrinterStatus),
    /// Sent, but the status after it shows a fault: the receipt may be missing or partial.
    Uncertain(PrinterStatus),
    /// Sent on a link without status read-back: nothing more is known.
    Sent,
}

impl PrintOutcome {
    /// Did the receipt certainly come out?
    pub fn printed(&self) -> bool {
        matches!(self, PrintOutcome::Printed(_))
    }
}

/// A receipt printer, whatever its protocol.
pub trait ReceiptPrinter {
    /// Prints a receipt; device states come back in the outcome, not as errors.
    fn print_receipt(
        &mut self,
        receipt: &Receipt,
    ) -> impl Future<Output = Result<PrintOutcome, PrinterError>> + Send;

    /// The printer's current state.
    fn status(&mut self) -> impl Future<Output = Result<PrinterStatus, PrinterError>> + Send;
}

/// Driver settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterConfig {
    pub style: ReceiptStyle,
    pub status_timeout: Duration,
    pub status_readback: bool,
}

impl PrinterConfig {
    pub fn new(width: PaperWidth) -> Self {
        PrinterConfig {
            style: ReceiptStyle::new(width),
            status_timeout: Duration::from_secs(2),
            status_readback: true,
        }
    }
}

/// An ESC/POS printer on some byte stream.
#[derive(Debug)]
pub struct EscPosPrinter<S> {
    stream: S,
    config: PrinterConfig,
    /// Bytes read while waiting for status that were not status replies.
    noise_bytes: u64,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> EscPosPrinter<S> {
    pub fn new(stream: S, config: PrinterConfig) -> Self {
        EscPosPrinter {
            stream,
            config,
            noise_bytes: 0,
        }
    }

    pub fn config(&self) -> &PrinterConfig {
        &self.config
    }

    /// Bytes skipped while reading status replies (noise, stale or unsolicited replies).
    pub fn noise_bytes(&self) -> u64 {
        self.noise_bytes
    }

    /// Writes raw ESC/POS bytes and flushes them.
    pub async fn print(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Sends `DLE EOT` 1–4 and decodes the four replies.
    pub async fn read_status(&mut self) -> Result<PrinterStatus, PrinterError> {
        self.drain_stale();
        self.print(&STATUS_REQUESTS).await?;
        let limit = self.config.status_timeout;
        let mut replies = [0u8; 4];
        let mut got = 0;
        let read = async {
            let mut buf = [0u8; 16];
            while got < 4 {
                let n = self.stream.read(&mut buf).await?;
                if n == 0 {
                    return Err(PrinterError::Disconnected);
                }
                for &b in &buf[..n] {
                    if got < 4 && is_reply(b) {
                        replies[got] = b;
                        got += 1;
                    } else {
                        self.noise_bytes += 1;
                    }
                }
            }
            Ok(())
        };
        tokio::time::timeout(limit, read)
            .await
            .map_err(|_| PrinterError::StatusTimeout(limit))??;
        Ok(PrinterStatus::from_replies(replies))
    }

    /// Discards bytes already waiting (a late reply to an earlier, timed-out request would
    /// otherwise be taken for the answer to the next one).
    fn drain_stale(&mut self) {
        let mut buf = [0u8; 64];
        while let Some(Ok(n)) = self.stream.read(&mut buf).now_or_never() {
            if n == 0 {
                break;
            }
            self.noise_bytes += n as u64;
        }
    }

    /// Prints raw bytes with the status checks before and after.
    pub async fn print_job(&mut self, bytes: &[u8]) -> Result<PrintOutcome, PrinterError> {
        if !self.config.status_readback {
            self.print(bytes).await?;
            return Ok(PrintOutcome::Sent);
        }
        let before = self.read_status().await?;
        if !before.ready() {
            return Ok(PrintOutcome::NotSent(before));
        }
        self.print(bytes).await?;
        let after = self.read_status().await?;
        Ok(if after.ready() {
            PrintOutcome::Printed(after)
        } else {
            PrintOutcome::Uncertain(after)
        })
    }

    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> ReceiptPrinter for EscPosPrinter<S> {
    async fn print_receipt(&mut self, receipt: &Receipt) -> Result<PrintOutcome, PrinterError> {
        let bytes = render_receipt(receipt, &self.config.style)?;
        self.print_job(&bytes).await
    }

    async fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        self.read_status().await
    }
}

/// What `print-test` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPrintReport {
    pub outcome: PrintOutcome,
    pub bytes_sent: usize,
}

/// Prints the installer's test receipt (Chinese text, a QR code of `url`) on `stream`.
pub async fn print_test<S>(
    stream: S,
    width: PaperWidth,
    url: &str,
    qr_mode: QrMode,
) -> Result<TestPrintReport, PrinterError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut config = PrinterConfig::new(width);
    config.style.qr_mode = qr_mode;
    let receipt = test_receipt(url, &local_now_string());
    let bytes = render_receipt(&receipt, &config.style)?;
    let mut printer = EscPosPrinter::new(stream, config);
    let outcome = printer.print_job(&bytes).await?;
    let bytes_sent = if matches!(outcome, PrintOutcome::NotSent(_)) {
        0
    } else {
        bytes.len()
    };
    Ok(TestPrintReport {
        outcome,
        bytes_sent,
    })
}

/// `YYYY-MM-DD HH:MM` in the market's local time (UTC+8) from the system clock.
fn local_now_string() -> String {
    trace_core::time::gba_minutes(trace_core::Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn status_skips_noise_and_decodes() {
        let (client, mut dev) = tokio::io::duplex(256);
        let mut p = EscPosPrinter::new(client, PrinterConfig::new(PaperWidth::Mm58));
        let dev_task = tokio::spawn(async move {
            let mut req = [0u8; 12];
            dev.read_exact(&mut req).await.unwrap();
            assert_eq!(req, STATUS_REQUESTS);
            // Noise, then paper-out replies.
            dev.write_all(&[0x00, 0xff, 0x1a, 0x32, 0x12, 0x72])
                .await
                .unwrap();
            dev
        });
        let s = p.status().await.unwrap();
        assert!(s.paper_out && s.offline);
        assert_eq!(p.noise_bytes(), 2);
        drop(dev_task.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn silent_printer_times_out() {
        let (client, _dev) = tokio::io::duplex(256);
        let mut p = EscPosPrinter::new(client, PrinterConfig::new(PaperWidth::Mm58));
        let e = p.status().await.unwrap_err();
        assert_eq!(e.kind(), PrinterErrorKind::Timeout);
    }

    #[tokio::test]
    async fn closed_link_is_a_transport_error() {
        let (client, dev) = tokio::io::duplex(256);
        drop(dev);
        let mut p = EscPosPrinter::new(client, PrinterConfig::new(PaperWidth::Mm58));
        assert_eq!(
            p.status().await.unwrap_err().kind(),
            PrinterErrorKind::Transport
        );
    }

    #[tokio::test]
    async fn not_ready_printer_is_sent_nothing() {
        let (client, mut dev) = tokio::io::duplex(4096);
        let dev_task = tokio::spawn(async move {
            let mut req = [0u8; 12];
            dev.read_exact(&mut req).await.unwrap();
            let cover_open = PrinterStatus {
                cover_open: true,
                ..Default::default()
            };
            dev.write_all(&cover_open.to_replies()).await.unwrap();
            let mut rest = Vec::new();
            dev.read_to_end(&mut rest).await.unwrap();
            rest
        });
        let mut p = EscPosPrinter::new(client, PrinterConfig::new(PaperWidth::Mm80));
        let r = test_receipt("https://t.example/q/1", "x");
        let out = p.print_receipt(&r).await.unwrap();
        assert!(matches!(out, PrintOutcome::NotSent(s) if s.cover_open));
        drop(p);
        assert!(
            dev_task.await.unwrap().is_empty(),
            "nothing after the status request"
        );
    }

    #[tokio::test]
    async fn fault_after_the_job_makes_it_uncertain() {
        let (client, mut dev) = tokio::io::duplex(1 << 16);
        let r = test_receipt("https://t.example/q/1", "x");
        let job = render_receipt(&r, &ReceiptStyle::new(PaperWidth::Mm80)).unwrap();
        let job_len = job.len();
        let dev_task = tokio::spawn(async move {
            let mut req = [0u8; 12];
            dev.read_exact(&mut req).await.unwrap();
            dev.write_all(&PrinterStatus::default().to_replies())
                .await
                .unwrap();
            let mut got = vec![0u8; job_len + 12];
            dev.read_exact(&mut got).await.unwrap();
            // The paper ran out while printing.
            let out = PrinterStatus {
                paper_out: true,
                ..Default::default()
            };
            dev.write_all(&out.to_replies()).await.unwrap();
            got
        });
        let mut p = EscPosPrinter::new(client, PrinterConfig::new(PaperWidth::Mm80));
        let out = p.print_receipt(&r).await.unwrap();
        assert!(
            matches!(out, PrintOutcome::Uncertain(s) if s.paper_out),
            "{out:?}"
        );
        assert!(!out.printed());
        let got = dev_task.await.unwrap();
        assert_eq!(&got[..job_len], job.as_slice());
        assert_eq!(&got[job_len..], &STATUS_REQUESTS);
    }

    #[tokio::test]
    async fn without_readback_the_job_is_only_sent() {
        let (client, mut dev) = tokio::io::duplex(1 << 16);
        let mut config = PrinterConfig::new(PaperWidth::Mm58);
        config.status_readback = false;
        let mut p = EscPosPrinter::new(client, config);
        assert_eq!(p.print_job(b"\x1b@hi\n").await.unwrap(), PrintOutcome::Sent);
        drop(p);
        let mut got = Vec::new();
        dev.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"\x1b@hi\n");
    }
}
