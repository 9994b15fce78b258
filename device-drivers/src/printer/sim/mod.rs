//! An ESC/POS receipt-printer simulator that speaks the real bytes.
//!
//! Why: installers train on it, the stall workflow is tested against it, and `print-test` is
//! proven by it — the QR in the rendered PNG must decode to the URL that was sent. It listens on
//! a [`SimEndpoint`] (TCP like a printer's port 9100, or a pty like a serial printer), decodes
//! the stream with the same [`Parser`] any tool would use, answers `DLE EOT` from its configured
//! [`PrinterStatus`], and on every cut writes `receipt-NNNN.bin` (the raw bytes of the job) and
//! `receipt-NNNN.png` (the paper as the head would have printed it) into the output directory.
//!
//! Failure modes: any [`PrinterStatus`] (paper out, cover open, offline, error, paper near end;
//! changeable while running through [`PrinterSimHandle::set_state`]): a job received while the
//! printer is not ready is not printed; `disconnect_after_bytes` drops the connection mid-job;
//! `slow` consumes the stream in small pieces; `mute_status` never answers.
//!
//! Design: one connection at a time, like a real 9100 port. Per connection: read → parser →
//! elements; a status request is answered at once (real-time commands bypass the print buffer);
//! everything else goes to the [`render::Page`]; a cut closes the job. Rendering a PNG and
//! writing files runs on the blocking pool.

pub mod font;
pub mod render;

use crate::printer::command::Element;
use crate::printer::layout::PaperWidth;
use crate::printer::parser::Parser;
use crate::printer::status::PrinterStatus;
use crate::sim::{SimConnection, SimEndpoint, SimListen};
use font::CjkFont;
use render::Page;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;

/// Largest job kept for `receipt-NNNN.bin`; a stream that never cuts keeps its newest bytes.
const MAX_JOB_BYTES: usize = 8 << 20;

/// Slow consumption: at most `bytes` read every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowConsumption {
    pub bytes: usize,
    pub every: Duration,
}

/// How the simulated printer behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterSimOptions {
    pub width: PaperWidth,
    /// The state reported to `DLE EOT` at start.
    pub state: PrinterStatus,
    /// Close the connection after this many bytes (a cable pulled mid-job).
    pub disconnect_after_bytes: Option<u64>,
    pub slow: Option<SlowConsumption>,
    /// Never answer status requests.
    pub mute_status: bool,
    /// Draw and write PNGs (off for load measurements; `.bin` files are always written).
    pub render_png: bool,
    /// A CJK font file to use instead of searching the system.
    pub font: Option<PathBuf>,
}

impl Default for PrinterSimOptions {
    fn default() -> Self {
        PrinterSimOptions {
            width: PaperWidth::Mm80,
            state: PrinterStatus::default(),
            disconnect_after_bytes: None,
            slow: None,
            mute_status: false,
            render_png: true,
            font: None,
        }
    }
}

/// A receipt the simulator printed.
#[derive(Debug, Clone)]
pub struct SimReceipt {
    /// 1-based, across connections.
    pub index: u32,
    pub bin_path: PathBuf,
    pub png_path: Option<PathBuf>,
    /// Text of each printed line.
    pub text: Vec<String>,
    /// Data of each native (`GS ( k`) QR printed.
    pub qr_payloads: Vec<Vec<u8>>,
    /// `GS v 0` images printed.
    pub rasters: usize,
    /// Bytes of the job, cut command included.
    pub bytes: usize,
    /// When the cut command was decoded (the job's last byte had arrived).
    pub cut_at: Instant,
}

/// What happened in the simulator, for tests and the CLI.
#[derive(Debug, Clone)]
pub enum PrinterSimEvent {
    Connected,
    Printed(SimReceipt),
    /// A job arrived while the printer could not print (the state at the cut).
    NotPrinted {
        status: PrinterStatus,
        bytes: usize,
    },
    /// The connection ended; `mid_job` when print data was pending.
    Disconnected {
        bytes_received: u64,
        mid_job: bool,
        unknown_bytes: u64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum PrinterSimError {
    #[error("cannot listen on {listen:?}: {source}")]
    Bind {
        listen: SimListen,
        source: std::io::Error,
    },
    #[error("cannot create output directory {path}: {source}")]
    OutDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("font {path} is not a usable CJK font")]
    Font { path: PathBuf },
    #[error("accepting a connection failed: {0}")]
    Accept(std::io::Error),
}

/// A printer state from fault names, comma-separated, for the `sim printer` command line:
/// `paper-out`, `paper-near-end`, `cover-open`, `offline`, `error`, `cutter-error`; empty or
/// `none` is a healthy printer.
pub fn parse_faults(s: &str) -> Result<PrinterStatus, String> {
    let mut st = PrinterStatus::default();
    for name in s
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != "none")
    {
        match name {
            "paper-out" => st.paper_out = true,
            "paper-near-end" => st.paper_near_end = true,
            "cover-open" => st.cover_open = true,
            "offline" => st.offline = true,
            "error" => st.error = true,
            "cutter-error" => {
                st.error = true;
                st.cutter_error = true;
            }
            other => {
                return Err(format!(
                    "unknown printer fault {other:?}; known: paper-out, paper-near-end, \
                     cover-open, offline, error, cutter-error"
                ));
            }
        }
    }
    Ok(st)
}

/// Changes the simulated printer's state and watches what it does.
#[derive(Clone, Debug)]
pub struct PrinterSimHandle {
    state: Arc<Mutex<PrinterStatus>>,
    events: broadcast::Sender<PrinterSimEvent>,
}

impl PrinterSimHandle {
    pub fn set_state(&self, s: PrinterStatus) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = s;
    }

    pub fn state(&self) -> PrinterStatus {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PrinterSimEvent> {
        self.events.subscribe()
    }

    fn emit(&self, e: PrinterSimEvent) {
        // No subscriber is fine.
        let _ = self.events.send(e);
    }
}

/// A bound printer simulator.
pub struct PrinterSim {
    endpoint: SimEndpoint,
    out_dir: PathBuf,
    opts: PrinterSimOptions,
    font: Option<CjkFont>,
    handle: PrinterSimHandle,
    next_index: u32,
}

impl PrinterSim {
    /// Binds the endpoint, creates `out_dir` and loads the CJK font.
    pub async fn bind(
        listen: &SimListen,
        out_dir: PathBuf,
        opts: PrinterSimOptions,
    ) -> Result<Self, PrinterSimError> {
        std::fs::create_dir_all(&out_dir).map_err(|source| PrinterSimError::OutDir {
            path: out_dir.clone(),
            source,
        })?;
        let font = match &opts.font {
            Some(p) => {
                Some(CjkFont::load(p).ok_or_else(|| PrinterSimError::Font { path: p.clone() })?)
            }
            None if opts.render_png => CjkFont::find_system(),
            None => None,
        };
        if opts.render_png && font.is_none() {
            tracing::warn!(
                "no CJK font found (apt install fonts-wqy-zenhei); drawing characters as boxes"
            );
        }
        let endpoint = SimEndpoint::bind(listen)
            .await
            .map_err(|source| PrinterSimError::Bind {
                listen: listen.clone(),
                source,
            })?;
        let (events, _) = broadcast::channel(1024);
        let handle = PrinterSimHandle {
            state: Arc::new(Mutex::new(opts.state)),
            events,
        };
        Ok(PrinterSim {
            endpoint,
            out_dir,
            opts,
            font,
            handle,
            next_index: 1,
        })
    }

    /// The URI a driver connects to.
    pub fn uri(&self) -> std::io::Result<String> {
        self.endpoint.describe()
    }

    pub fn handle(&self) -> PrinterSimHandle {
        self.handle.clone()
    }

    /// The font Chinese is drawn with; `None` means boxes.
    pub fn font_path(&self) -> Option<&Path> {
        self.font.as_ref().map(CjkFont::path)
    }

    /// Serves connections one after another, forever.
    pub async fn run(mut self) -> Result<(), PrinterSimError> {
        loop {
            let conn = self
                .endpoint
                .accept()
                .await
                .map_err(PrinterSimError::Accept)?;
            self.handle.emit(PrinterSimEvent::Connected);
            self.serve(conn).await;
        }
    }

    async fn serve(&mut self, mut conn: SimConnection) {
        let mut parser = Parser::new();
        let mut page = Page::new(
            self.opts.width.dots(),
            self.font.clone(),
            self.opts.render_png,
        );
        let mut buf = vec![0u8; 8192];
        // Raw bytes of the current job; raw[0] is at parser position `raw_base`.
        let mut raw: Vec<u8> = Vec::new();
        let mut raw_base = 0u64;
        let mut received = 0u64;
        let mut faulted = false;
        let mut pending_print = false;
        loop {
            let mut max = buf.len();
            if let Some(s) = self.opts.slow {
                max = max.min(s.bytes.max(1));
            }
            if let Some(limit) = self.opts.disconnect_after_bytes {
                let left = usize::try_from(limit.saturating_sub(received)).unwrap_or(usize::MAX);
                if left == 0 {
                    break;
                }
                max = max.min(left);
            }
            // A read error (EIO on a pty whose other side closed) is the end of the stream.
            let n = match conn.read(&mut buf[..max]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            received += n as u64;
            raw.extend_from_slice(&buf[..n]);
            if raw.len() > MAX_JOB_BYTES {
                // A stream that never cuts: keep only the newest bytes of the job.
                let drop = raw.len() - MAX_JOB_BYTES;
                raw.drain(..drop);
                raw_base += drop as u64;
            }
            parser.push(&buf[..n]);
            // Replies to the status requests in this read, sent together after it.
            let mut replies = Vec::new();
            while let Some(e) = parser.next_element() {
                match e {
                    Element::StatusRequest(k) => {
                        if !self.opts.mute_status
                            && let Some(r) = self.handle.state().reply(k)
                        {
                            replies.push(r);
                        }
                    }
                    Element::Cut(_) => {
                        let end = parser.position();
                        let take = usize::try_from(end.saturating_sub(raw_base))
                            .unwrap_or(raw.len())
                            .min(raw.len());
                        let job: Vec<u8> = raw.drain(..take).collect();
                        raw_base = end;
                        let state = self.handle.state();
                        if faulted || !state.ready() {
                            page.discard();
                            self.handle.emit(PrinterSimEvent::NotPrinted {
                                status: state,
                                bytes: job.len(),
                            });
                        } else {
                            let cut_at = Instant::now();
                            let cut = page.cut();
                            self.finish_receipt(job, cut, cut_at).await;
                        }
                        faulted = false;
                        pending_print = false;
                    }
                    other => {
                        if !self.handle.state().ready() {
                            faulted = true;
                        }
                        pending_print |= !matches!(other, Element::Init);
                        page.apply(&other);
                    }
                }
            }
            if !replies.is_empty() && conn.write_all(&replies).await.is_err() {
                break;
            }
            if let Some(s) = self.opts.slow {
                tokio::time::sleep(s.every).await;
            }
        }
        self.handle.emit(PrinterSimEvent::Disconnected {
            bytes_received: received,
            mid_job: pending_print,
            unknown_bytes: parser.stats().unknown_bytes,
        });
    }

    async fn finish_receipt(&mut self, job: Vec<u8>, cut: render::CutPage, cut_at: Instant) {
        let index = self.next_index;
        self.next_index += 1;
        let bin_path = self.out_dir.join(format!("receipt-{index:04}.bin"));
        let png_path = cut
            .image
            .is_some()
            .then(|| self.out_dir.join(format!("receipt-{index:04}.png")));
        let bytes = job.len();
        let (bin, png, image) = (bin_path.clone(), png_path.clone(), cut.image);
        let written = tokio::task::spawn_blocking(move || -> Result<(), String> {
            std::fs::write(&bin, &job).map_err(|e| format!("{}: {e}", bin.display()))?;
            if let (Some(p), Some(img)) = (png, image) {
                img.save(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            }
            Ok(())
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("printer simulator could not write receipt: {e}"),
            Err(e) => tracing::error!("printer simulator writer task failed: {e}"),
        }
        self.handle.emit(PrinterSimEvent::Printed(SimReceipt {
            index,
            bin_path,
            png_path,
            text: cut.text,
            qr_payloads: cut.qr_payloads,
            rasters: cut.rasters,
            bytes,
            cut_at,
        }));
    }
}

/// Runs a printer simulator until its endpoint fails (the `sim printer` command).
pub async fn run_printer_sim(
    listen: SimListen,
    out_dir: PathBuf,
    opts: PrinterSimOptions,
) -> Result<(), PrinterSimError> {
    let sim = PrinterSim::bind(&listen, out_dir.clone(), opts).await?;
    tracing::info!(
        uri = %sim.uri().unwrap_or_default(),
        out = %out_dir.display(),
        font = ?sim.font_path(),
        "ESC/POS printer simulator listening"
    );
    sim.run().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::builder::EscPos;
    use crate::printer::command::{Align, EcLevel};

    #[test]
    fn fault_names() {
        let s = parse_faults("paper-out, cover-open").unwrap();
        assert!(s.paper_out && s.cover_open && !s.offline);
        assert_eq!(parse_faults("none").unwrap(), PrinterStatus::default());
        assert!(parse_faults("jammed").unwrap_err().contains("paper-out"));
    }

    fn ink(img: &image::GrayImage) -> usize {
        img.pixels().filter(|p| p.0[0] == 0).count()
    }

    #[test]
    fn without_a_font_characters_are_boxes_of_their_width() {
        let mut b = EscPos::new();
        b.line("猪a");
        let (els, _) = crate::printer::parser::parse_all(b.bytes());
        let mut page = render::Page::new(384, None, true);
        for e in &els {
            page.apply(e);
        }
        let cut = page.cut();
        assert_eq!(cut.text, vec!["猪a".to_string()]);
        let img = cut.image.unwrap();
        // Row 2 of the line holds the top edges: 24-4 dots for 猪, 12-4 for a.
        let row: usize = (0..384)
            .filter(|&x| img.get_pixel(x + 16, 16 + 2).0[0] == 0)
            .count();
        assert_eq!(row, 20 + 8);
    }

    #[test]
    fn native_qr_is_drawn_at_its_module_size_and_centred() {
        let mut b = EscPos::new();
        b.align(Align::Center).qr(b"HELLO", 4, EcLevel::L).unwrap();
        let (els, _) = crate::printer::parser::parse_all(b.bytes());
        let mut page = render::Page::new(384, None, true);
        for e in &els {
            page.apply(e);
        }
        let cut = page.cut();
        assert_eq!(cut.qr_payloads, vec![b"HELLO".to_vec()]);
        let img = cut.image.unwrap();
        // Version 1 is 21 modules: 84 dots high, centred: (384 - 84) / 2 = 150 dots of margin.
        assert_eq!(img.height(), 84 + 32);
        assert!(ink(&img) > 0);
        assert_eq!(img.get_pixel(16 + 150, 16).0[0], 0, "finder pattern corner");
        assert_eq!(img.get_pixel(16 + 149, 16).0[0], 255);
    }
}
