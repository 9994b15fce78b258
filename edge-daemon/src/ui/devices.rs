//! The stall's devices as the UI sees them: live weight and scans from the device manager,
//! and the receipt printer (opened per job, like the demo and `print-test`, so a printer that
//! was power-cycled between sales just works).
//!
//! Everything the page must know as it happens goes out as a [`UiEvent`] on one broadcast
//! channel, which the SSE endpoint forwards; the latest weight and printer state are also
//! kept so a page that connects late starts with them.

use device_drivers::manager::{Backoff, DeviceConfig, DeviceEventKind, DeviceKind, DeviceManager};
use device_drivers::printer::{
    EscPosPrinter, PaperWidth, PrintOutcome, PrinterConfig, PrinterState, PrinterStatus,
};
use device_drivers::transport::TransportConfig;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UiEvent {
    Weight {
        grams: i64,
        stable: bool,
        /// Usable for a sale: stable and not overloaded/under zero.
        ok: bool,
        connected: bool,
    },
    Printer {
        /// `online`, `paper_out`, `cover_open`, `offline`, `error`, `paper_near_end`, `none`.
        state: &'static str,
    },
    Scan {
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WeightView {
    pub grams: i64,
    pub stable: bool,
    pub ok: bool,
    pub connected: bool,
}

/// What became of a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PrintResult {
    pub printed: bool,
    pub state: &'static str,
}

pub fn state_name(s: PrinterStatus) -> &'static str {
    match s.state() {
        PrinterState::Online => "online",
        PrinterState::PaperNearEnd => "paper_near_end",
        PrinterState::Offline => "offline",
        PrinterState::PaperOut => "paper_out",
        PrinterState::CoverOpen => "cover_open",
        PrinterState::Error => "error",
    }
}

struct PrinterLink {
    connect: TransportConfig,
    config: PrinterConfig,
    /// One job or status query at a time: the printer has one input.
    busy: tokio::sync::Mutex<()>,
}

pub struct DeviceHub {
    events: broadcast::Sender<UiEvent>,
    weight: Arc<Mutex<WeightView>>,
    printer_state: Arc<Mutex<&'static str>>,
    printer: Option<PrinterLink>,
    manager: Option<DeviceManager>,
    label_scale: Option<String>,
}

impl std::fmt::Debug for DeviceHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceHub")
            .field(
                "printer",
                &self.printer.as_ref().map(|p| p.connect.to_string()),
            )
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl DeviceHub {
    /// Start the scale and scanner supervisors and remember the printer. Inside a runtime.
    pub fn start(devices: &[DeviceConfig], paper_mm: u16) -> Result<DeviceHub, String> {
        let (events, _) = broadcast::channel(256);
        let weight = Arc::new(Mutex::new(WeightView {
            grams: 0,
            stable: false,
            ok: false,
            connected: false,
        }));
        let width = PaperWidth::from_mm(paper_mm)
            .ok_or_else(|| format!("ui.paper_mm = {paper_mm}: use 58 or 80"))?;
        let printer = devices
            .iter()
            .find(|d| d.kind() == DeviceKind::Printer)
            .map(|d| PrinterLink {
                connect: d.connect().clone(),
                config: PrinterConfig::new(width),
                busy: tokio::sync::Mutex::new(()),
            });
        let managed: Vec<DeviceConfig> = devices
            .iter()
            .filter(|d| matches!(d.kind(), DeviceKind::Scale | DeviceKind::Scanner))
            .cloned()
            .collect();
        let manager = if managed.is_empty() {
            None
        } else {
            Some(DeviceManager::start(managed, Backoff::default()).map_err(|e| e.to_string())?)
        };
        if let Some(m) = &manager {
            let mut rx = m.subscribe();
            let tx = events.clone();
            let w = weight.clone();
            tokio::spawn(async move {
                loop {
                    let ev = match rx.recv().await {
                        Ok(ev) => ev,
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    let next = match ev.kind {
                        DeviceEventKind::Reading { reading } => Some(WeightView {
                            grams: reading.grams,
                            stable: reading.stable,
                            ok: reading.is_usable(),
                            connected: true,
                        }),
                        DeviceEventKind::Disconnected { .. } | DeviceEventKind::Fault { .. } => {
                            let cur = *lock(&w);
                            Some(WeightView {
                                connected: false,
                                ok: false,
                                ..cur
                            })
                        }
                        DeviceEventKind::Scan { scan } => {
                            let _ = tx.send(UiEvent::Scan { text: scan.text });
                            None
                        }
                        DeviceEventKind::Connected { .. } => None,
                    };
                    // A continuous scale sends ~10 frames a second: forward changes only.
                    if let Some(n) = next {
                        let changed = {
                            let mut cur = lock(&w);
                            let changed = *cur != n;
                            *cur = n;
                            changed
                        };
                        if changed {
                            let _ = tx.send(UiEvent::Weight {
                                grams: n.grams,
                                stable: n.stable,
                                ok: n.ok,
                                connected: n.connected,
                            });
                        }
                    }
                }
            });
        }
        let label_scale = devices
            .iter()
            .find(|d| matches!(d, DeviceConfig::DahuaTm(_)))
            .map(|d| d.name().to_owned());
        Ok(DeviceHub {
            label_scale,
            events,
            weight,
            printer_state: Arc::new(Mutex::new(if printer.is_some() {
                "online"
            } else {
                "none"
            })),
            printer,
            manager,
        })
    }

    /// The configured Dahua TM label scale, if any (PLU keys are pushed to it).
    pub fn label_scale(&self) -> Option<String> {
        self.label_scale.clone()
    }

    /// Replace the label scale's PLU table with `records` (clears it first, so a key the
    /// stall no longer uses does not keep selling yesterday's product).
    pub async fn push_plus(
        &self,
        records: &[device_drivers::scale::dahua::PluRecord],
    ) -> Result<usize, String> {
        let (Some(m), Some(name)) = (&self.manager, &self.label_scale) else {
            return Err("no Dahua TM label scale configured".into());
        };
        m.handle()
            .download_plus(name, records, true)
            .await
            .map_err(|e| e.to_string())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<UiEvent> {
        self.events.subscribe()
    }

    pub fn weight(&self) -> WeightView {
        *lock(&self.weight)
    }

    pub fn printer_state(&self) -> &'static str {
        *lock(&self.printer_state)
    }

    fn set_printer_state(&self, s: &'static str) {
        let changed = {
            let mut cur = lock(&self.printer_state);
            let changed = *cur != s;
            *cur = s;
            changed
        };
        if changed {
            let _ = self.events.send(UiEvent::Printer { state: s });
        }
    }

    /// Tell the page about a scan that did not come from the device manager (tests, paste).
    pub fn inject_scan(&self, text: String) {
        let _ = self.events.send(UiEvent::Scan { text });
    }

    /// Send one receipt. Device states come back as a result, never as an error: the sale
    /// is recorded either way.
    pub async fn print(&self, bytes: &[u8]) -> PrintResult {
        let Some(p) = &self.printer else {
            return PrintResult {
                printed: false,
                state: "none",
            };
        };
        let _busy = p.busy.lock().await;
        let result = match p.connect.open().await {
            Err(e) => {
                tracing::warn!(error = %e, "receipt printer unreachable");
                PrintResult {
                    printed: false,
                    state: "offline",
                }
            }
            Ok(stream) => {
                let mut printer = EscPosPrinter::new(stream, p.config);
                match printer.print_job(bytes).await {
                    Ok(PrintOutcome::Printed(s)) => PrintResult {
                        printed: true,
                        state: state_name(s),
                    },
                    Ok(PrintOutcome::Sent) => PrintResult {
                        printed: true,
                        state: "online",
                    },
                    Ok(PrintOutcome::NotSent(s) | PrintOutcome::Uncertain(s)) => PrintResult {
                        printed: false,
                        state: state_name(s),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "receipt printer failed");
                        PrintResult {
                            printed: false,
                            state: "error",
                        }
                    }
                }
            }
        };
        self.set_printer_state(result.state);
        result
    }

    /// Ask the printer how it is (for the status light), unless a job is running.
    pub async fn poll_printer(&self) {
        let Some(p) = &self.printer else { return };
        let Ok(_busy) = p.busy.try_lock() else { return };
        let state = match p.connect.open().await {
            Err(_) => "offline",
            Ok(stream) => {
                let mut printer = EscPosPrinter::new(stream, p.config);
                match printer.read_status().await {
                    Ok(s) => state_name(s),
                    Err(_) => "offline",
                }
            }
        };
        self.set_printer_state(state);
    }

    pub async fn shutdown(self) {
        if let Some(m) = self.manager {
            m.shutdown().await;
        }
    }
}
