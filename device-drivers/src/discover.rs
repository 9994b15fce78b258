//! Discovery for the installer: what is plugged in, and what answers on a port.
//!
//! Why: a field installer plugs in a scale and a scanner and should not have to guess
//! `/dev/ttyUSB0` vs `/dev/ttyACM1` or the scale's protocol. [`list_devices`] reads sysfs and
//! `/dev` (USB vendor/product ids where the kernel knows them); [`probe`] tries every scale
//! protocol that has a harmless question on the port and reports which answered. Results are
//! plain serialisable values for `devices list --json` / `devices probe --json`.
//!
//! Scanners only speak when something is scanned and the Dahua PLU protocol has no read-only
//! command, so those are reported as not probed rather than guessed at.

use crate::scale::{Scale, ScaleDriver, ScaleOptions, ScaleProtocol, WeightReading};
use crate::transport::TransportConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What kind of port was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortKind {
    Serial,
    UsbPrinter,
    Keyboard,
}

/// USB identity from sysfs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsbInfo {
    /// Four hex digits, as `lsusb` prints them.
    pub vendor_id: String,
    pub product_id: String,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    pub serial: Option<String>,
}

/// One port the installer could use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundPort {
    pub kind: PortKind,
    pub path: String,
    /// A transport URI to start from (serial defaults 9600 8N1).
    pub uri: String,
    /// Kernel driver (`ftdi_sio`, `cdc_acm`, `ch341`, `usblp`), when known.
    pub driver: Option<String>,
    pub usb: Option<UsbInfo>,
}

/// Ports on this machine.
pub fn list_devices() -> Vec<FoundPort> {
    list_devices_in(Path::new("/"))
}

fn read_trim(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Walk up from a sysfs device directory to the USB device that holds `idVendor`.
fn usb_info(device_dir: &Path, sys_root: &Path) -> Option<UsbInfo> {
    let mut dir = std::fs::canonicalize(device_dir).ok()?;
    let stop = std::fs::canonicalize(sys_root).ok()?;
    loop {
        if let (Some(v), Some(p)) = (
            read_trim(&dir.join("idVendor")),
            read_trim(&dir.join("idProduct")),
        ) {
            return Some(UsbInfo {
                vendor_id: v,
                product_id: p,
                manufacturer: read_trim(&dir.join("manufacturer")),
                product: read_trim(&dir.join("product")),
                serial: read_trim(&dir.join("serial")),
            });
        }
        if !dir.pop() || !dir.starts_with(&stop) || dir == stop {
            return None;
        }
    }
}

fn driver_name(device_dir: &Path) -> Option<String> {
    std::fs::read_link(device_dir.join("driver"))
        .ok()?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// [`list_devices`] against another filesystem root (tests use a fake sysfs).
pub fn list_devices_in(root: &Path) -> Vec<FoundPort> {
    let sys = root.join("sys");
    let mut out = Vec::new();
    for entry in sorted_entries(&root.join("sys/class/tty")) {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let device = entry.join("device");
        if !device.exists() {
            continue; // virtual terminals, ptys
        }
        let driver = driver_name(&device);
        let real = name.starts_with("ttyUSB")
            || name.starts_with("ttyACM")
            || name.starts_with("ttyAMA")
            || (name.starts_with("ttyS") && driver.as_deref() != Some("serial8250"));
        if !real {
            continue;
        }
        let path = format!("/dev/{name}");
        out.push(FoundPort {
            kind: PortKind::Serial,
            uri: format!("serial://{path}?baud=9600"),
            path,
            usb: usb_info(&device, &sys),
            driver,
        });
    }
    for entry in sorted_entries(&root.join("dev/usb")) {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.starts_with("lp") {
            continue;
        }
        let device = sys.join("class/usbmisc").join(&name).join("device");
        let path = format!("/dev/usb/{name}");
        out.push(FoundPort {
            kind: PortKind::UsbPrinter,
            uri: format!("usblp://{path}"),
            path,
            usb: usb_info(&device, &sys),
            driver: driver_name(&device).or(Some("usblp".into())),
        });
    }
    for entry in sorted_entries(&root.join("dev/input/by-id")) {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.ends_with("-event-kbd") {
            continue;
        }
        let path = format!("/dev/input/by-id/{name}");
        // by-id names are `usb-<Manufacturer>_<Product>_<serial>-event-kbd`; the event node's
        // sysfs entry leads to the USB ids.
        let usb = std::fs::canonicalize(&entry)
            .ok()
            .and_then(|real| real.file_name().map(|n| n.to_string_lossy().into_owned()))
            .and_then(|ev| usb_info(&sys.join("class/input").join(ev).join("device"), &sys));
        out.push(FoundPort {
            kind: PortKind::Keyboard,
            uri: format!("evdev://{path}"),
            path,
            usb,
            driver: None,
        });
    }
    out
}

/// How one protocol fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ProbeResult {
    /// It answered in this protocol; the reading it gave.
    Answered {
        reading: WeightReading,
    },
    /// Nothing this protocol understood came back in time.
    Silent {
        detail: String,
    },
    /// The port could not be used at all.
    Error {
        detail: String,
    },
    NotProbed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeAttempt {
    pub protocol: String,
    #[serde(flatten)]
    pub result: ProbeResult,
}

/// The answer to `devices probe URI`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub uri: String,
    /// Protocols that answered, best first.
    pub answered: Vec<String>,
    pub attempts: Vec<ProbeAttempt>,
}

/// Try every probe-able protocol on `transport`, each on a fresh connection, waiting at most
/// `timeout` for each.
pub async fn probe(transport: &TransportConfig, timeout: Duration) -> ProbeReport {
    let mut attempts = Vec::new();
    let opts = ScaleOptions {
        reply_timeout: timeout,
        ..Default::default()
    };
    for p in ScaleProtocol::ALL {
        let result = if p == ScaleProtocol::DahuaTm {
            ProbeResult::NotProbed {
                reason: "the Dahua protocol has no read-only command".into(),
            }
        } else if matches!(transport, TransportConfig::Evdev { .. }) {
            ProbeResult::NotProbed {
                reason: "evdev carries key events, not scale bytes".into(),
            }
        } else {
            probe_scale(p, transport, &opts).await
        };
        attempts.push(ProbeAttempt {
            protocol: p.name().into(),
            result,
        });
    }
    for s in crate::scanner::ScannerProtocol::ALL {
        attempts.push(ProbeAttempt {
            protocol: s.name().into(),
            result: ProbeResult::NotProbed {
                reason: "scanners only send when a code is scanned; use `scanner watch`".into(),
            },
        });
    }
    ProbeReport {
        uri: transport.to_string(),
        answered: attempts
            .iter()
            .filter(|a| matches!(a.result, ProbeResult::Answered { .. }))
            .map(|a| a.protocol.clone())
            .collect(),
        attempts,
    }
}

async fn probe_scale(p: ScaleProtocol, t: &TransportConfig, opts: &ScaleOptions) -> ProbeResult {
    let mut d = match ScaleDriver::connect(p, t, opts).await {
        Ok(d) => d,
        Err(e) => {
            return ProbeResult::Error {
                detail: e.to_string(),
            };
        }
    };
    match d.read_weight().await {
        // A reply that decodes, even "error" state, is this protocol talking.
        Ok(reading) => ProbeResult::Answered { reading },
        Err(e) => ProbeResult::Silent {
            detail: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn write(p: &Path, s: &str) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, s).unwrap();
    }

    #[test]
    fn lists_a_fake_sysfs() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        // A CH340 USB serial adapter: tty → interface → usb device with ids.
        let usbdev = r.join("sys/devices/pci0000:00/usb1/1-1");
        write(&usbdev.join("idVendor"), "1a86\n");
        write(&usbdev.join("idProduct"), "7523\n");
        write(&usbdev.join("product"), "USB Serial\n");
        let iface = usbdev.join("1-1:1.0/ttyUSB0");
        std::fs::create_dir_all(&iface).unwrap();
        let drv = r.join("sys/bus/usb-serial/drivers/ch341-uart");
        std::fs::create_dir_all(&drv).unwrap();
        symlink(&drv, iface.join("driver")).unwrap();
        std::fs::create_dir_all(r.join("sys/class/tty/ttyUSB0")).unwrap();
        symlink(&iface, r.join("sys/class/tty/ttyUSB0/device")).unwrap();
        // A legacy ttyS placeholder and a virtual console: not listed.
        let plat = r.join("sys/devices/platform/serial8250/tty/ttyS1");
        std::fs::create_dir_all(&plat).unwrap();
        let d8250 = r.join("sys/bus/platform/drivers/serial8250");
        std::fs::create_dir_all(&d8250).unwrap();
        symlink(&d8250, plat.join("driver")).unwrap();
        std::fs::create_dir_all(r.join("sys/class/tty/ttyS1")).unwrap();
        symlink(&plat, r.join("sys/class/tty/ttyS1/device")).unwrap();
        std::fs::create_dir_all(r.join("sys/class/tty/tty1")).unwrap();
        // A USB printer and a keyboard-wedge scanner.
        write(&r.join("dev/usb/lp0"), "");
        write(&r.join("dev/usb/hiddev0"), "");
        write(&r.join("dev/input/event5"), "");
        std::fs::create_dir_all(r.join("dev/input/by-id")).unwrap();
        symlink(
            r.join("dev/input/event5"),
            r.join("dev/input/by-id/usb-Newland_HR22-event-kbd"),
        )
        .unwrap();
        symlink(
            r.join("dev/input/event5"),
            r.join("dev/input/by-id/usb-Logitech_Mouse-event-mouse"),
        )
        .unwrap();

        let found = list_devices_in(r);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert_eq!(found[0].kind, PortKind::Serial);
        assert_eq!(found[0].uri, "serial:///dev/ttyUSB0?baud=9600");
        assert_eq!(found[0].driver.as_deref(), Some("ch341-uart"));
        let usb = found[0].usb.as_ref().unwrap();
        assert_eq!(
            (usb.vendor_id.as_str(), usb.product_id.as_str()),
            ("1a86", "7523")
        );
        assert_eq!(usb.product.as_deref(), Some("USB Serial"));
        assert_eq!(found[1].uri, "usblp:///dev/usb/lp0");
        assert_eq!(found[2].kind, PortKind::Keyboard);
        assert_eq!(
            found[2].uri,
            "evdev:///dev/input/by-id/usb-Newland_HR22-event-kbd"
        );
        // Every URI it suggests parses.
        for f in &found {
            f.uri.parse::<TransportConfig>().unwrap();
        }
        let json = serde_json::to_value(&found).unwrap();
        assert_eq!(json[0]["usb"]["vendor_id"], "1a86");
    }

    #[test]
    fn real_machine_listing_does_not_fail() {
        // Whatever this machine has, listing returns parseable URIs.
        for f in list_devices() {
            f.uri.parse::<TransportConfig>().unwrap();
        }
    }
}
