//! Prometheus text for `/metrics`, hand-rolled.
//!
//! Why not the `metrics` crate: the figures are a dozen counters plus per-device gauges read
//! from the store at scrape time; atomics and one formatting function are less code and less
//! build time than a recorder, and nothing global is installed (tests run many clouds in one
//! process).

use crate::store::{DeviceStatus, StoreStats};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use trace_core::{DeviceId, DeviceState};

#[derive(Default)]
pub struct Metrics {
    pub up_messages: AtomicU64,
    pub batches_acked: AtomicU64,
    pub entries_stored: AtomicU64,
    pub entries_duplicate: AtomicU64,
    pub entries_quarantined: AtomicU64,
    pub store_failures: AtomicU64,
    pub acks_published: AtomicU64,
    pub state_messages: AtomicU64,
    pub mqtt_connections: AtomicU64,
    pub trace_pages: AtomicU64,
    /// Product-code pages that found their code (disabled ones included).
    pub product_pages: AtomicU64,
    refusals: Mutex<BTreeMap<&'static str, u64>>,
    /// The latest retained `state` of each box: its own view of its backlog.
    states: Mutex<HashMap<DeviceId, DeviceState>>,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    pub fn inc(c: &AtomicU64) {
        add(c, 1);
    }

    pub fn add(c: &AtomicU64, n: u64) {
        add(c, n);
    }

    pub fn refused(&self, reason: &'static str) {
        *self
            .refusals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(reason)
            .or_default() += 1;
    }

    /// Refusals so far by reason (tests and the operator overview).
    pub fn refusals(&self) -> BTreeMap<&'static str, u64> {
        self.refusals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_state(&self, state: DeviceState) {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(state.device.clone(), state);
    }

    pub fn render(&self, stats: &StoreStats, devices: &[DeviceStatus]) -> String {
        let mut out = String::with_capacity(4096);
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let counters: [(&str, &str, u64); 11] = [
            (
                "up_messages_total",
                "MQTT up messages received",
                get(&self.up_messages),
            ),
            (
                "batches_acked_total",
                "batches ingested and acked",
                get(&self.batches_acked),
            ),
            (
                "entries_stored_total",
                "entries stored",
                get(&self.entries_stored),
            ),
            (
                "entries_duplicate_total",
                "entries received again (idempotent)",
                get(&self.entries_duplicate),
            ),
            (
                "entries_quarantined_total",
                "entries set aside in quarantine",
                get(&self.entries_quarantined),
            ),
            (
                "store_failures_total",
                "batches not acked because the store failed",
                get(&self.store_failures),
            ),
            (
                "acks_published_total",
                "acks published",
                get(&self.acks_published),
            ),
            (
                "state_messages_total",
                "device state messages received",
                get(&self.state_messages),
            ),
            (
                "mqtt_connections_total",
                "MQTT connections established",
                get(&self.mqtt_connections),
            ),
            (
                "trace_pages_total",
                "trace pages served",
                get(&self.trace_pages),
            ),
            (
                "product_pages_total",
                "product code pages served",
                get(&self.product_pages),
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP baytrace_{name} {help}\n# TYPE baytrace_{name} counter\nbaytrace_{name} {v}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP baytrace_refusals_total up messages refused, by reason\n# TYPE baytrace_refusals_total counter"
        );
        for (reason, n) in self.refusals() {
            let _ = writeln!(out, "baytrace_refusals_total{{reason=\"{reason}\"}} {n}");
        }
        let gauges: [(&str, u64); 7] = [
            ("devices", stats.devices),
            ("entries", stats.entries),
            ("tickets", stats.tickets),
            ("quarantined_devices", stats.quarantined_devices),
            ("quarantined_entries", stats.quarantined_entries),
            ("missing_ranges", stats.missing_ranges),
            ("missing_entries", stats.missing_entries),
        ];
        for (name, v) in gauges {
            let _ = writeln!(
                out,
                "# TYPE baytrace_store_{name} gauge\nbaytrace_store_{name} {v}"
            );
        }
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(
            out,
            "# HELP baytrace_device_hwm contiguous high-water seq stored\n# TYPE baytrace_device_hwm gauge"
        );
        for d in devices {
            let id = d.id.as_str();
            let _ = writeln!(out, "baytrace_device_hwm{{device=\"{id}\"}} {}", d.hwm);
            let _ = writeln!(
                out,
                "baytrace_device_missing_entries{{device=\"{id}\"}} {}",
                d.missing.iter().map(|(a, b)| b - a + 1).sum::<u64>()
            );
            let _ = writeln!(
                out,
                "baytrace_device_quarantined{{device=\"{id}\"}} {}",
                u8::from(d.quarantined)
            );
            let _ = writeln!(
                out,
                "baytrace_device_online{{device=\"{id}\"}} {}",
                u8::from(d.online)
            );
            if let Some(lag) = d.lag_ms {
                let _ = writeln!(out, "baytrace_device_lag_ms{{device=\"{id}\"}} {lag}");
            }
            if let Some(s) = states.get(&d.id) {
                let _ = writeln!(
                    out,
                    "baytrace_device_backlog{{device=\"{id}\"}} {}",
                    s.backlog
                );
                let _ = writeln!(
                    out,
                    "baytrace_device_head_seq{{device=\"{id}\"}} {}",
                    s.head_seq
                );
            }
        }
        out
    }
}
