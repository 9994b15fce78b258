//! USB HID keyboard-wedge scanners through Linux evdev. Deliberately thin: open, grab, feed key
//! events to the pure [`KeyDecoder`](super::keymap::KeyDecoder), flush on the inter-key timeout.
//! Nothing here can run without an input device, so all logic lives in `keymap`.
//!
//! Grabbing (EVIOCGRAB) keeps the scanner's keystrokes from reaching the console or the
//! touchscreen UI's focused field.

use super::keymap::{KeyDecoder, Terminator};
use super::{DecodeStats, Scan, ScannerError};
use std::time::Duration;

/// A grabbed keyboard-wedge scanner.
pub struct EvdevScanner {
    events: evdev::EventStream,
    decoder: KeyDecoder,
    inter_key: Duration,
    scans: u64,
}

impl EvdevScanner {
    /// Open and grab `path` (e.g. `/dev/input/by-id/usb-…-event-kbd`).
    pub fn open(
        path: &str,
        terminator: Terminator,
        inter_key: Duration,
    ) -> Result<Self, ScannerError> {
        let mut device = evdev::Device::open(path)?;
        device.grab()?;
        Ok(Self {
            events: device.into_event_stream()?,
            decoder: KeyDecoder::new(terminator),
            inter_key,
            scans: 0,
        })
    }

    pub async fn next_scan(&mut self) -> Result<Scan, ScannerError> {
        loop {
            let event = if self.decoder.has_partial() {
                match tokio::time::timeout(self.inter_key, self.events.next_event()).await {
                    Ok(e) => e,
                    Err(_) => match self.decoder.take_partial() {
                        Some(text) => return Ok(self.scan(text)),
                        None => continue,
                    },
                }
            } else {
                self.events.next_event().await
            };
            let event = match event {
                Ok(e) => e,
                // ENODEV: the scanner was unplugged.
                Err(e) if e.raw_os_error() == Some(19) => return Err(ScannerError::Disconnected),
                Err(e) => return Err(e.into()),
            };
            if event.event_type() == evdev::EventType::KEY
                && let Some(text) = self.decoder.feed(event.code(), event.value())
            {
                return Ok(self.scan(text));
            }
        }
    }

    fn scan(&mut self, text: String) -> Scan {
        self.scans += 1;
        Scan::new(text, None)
    }

    pub fn decode_stats(&self) -> DecodeStats {
        DecodeStats {
            frames: self.scans,
            bad_frames: self.decoder.unknown_keys,
            skipped_bytes: 0,
        }
    }
}
