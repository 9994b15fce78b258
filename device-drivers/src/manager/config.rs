//! Device configuration: raw TOML/JSON → a closed enum, then cross-device validation.

use crate::scale::{ScaleOptions, ScaleProtocol};
use crate::scanner::{ScannerOptions, ScannerProtocol};
use crate::transport::TransportConfig;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A scale in the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleDeviceConfig {
    pub name: String,
    pub connect: TransportConfig,
    /// How often request/response scales are asked for a weight.
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    #[serde(default)]
    pub options: ScaleOptions,
}

fn default_poll_ms() -> u64 {
    500
}

/// A scanner in the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerDeviceConfig {
    pub name: String,
    pub connect: TransportConfig,
    #[serde(default)]
    pub options: ScannerOptions,
}

/// A printer or coder: named and port-checked here, run by its own driver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalDeviceConfig {
    pub name: String,
    pub connect: TransportConfig,
    #[serde(default)]
    pub options: serde_json::Value,
}

/// Every device the box can drive, tagged by protocol name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "driver", deny_unknown_fields)]
pub enum DeviceConfig {
    #[serde(rename = "mt-sics")]
    MtSics(ScaleDeviceConfig),
    #[serde(rename = "toledo-8217")]
    Toledo8217(ScaleDeviceConfig),
    #[serde(rename = "toledo-continuous")]
    ToledoContinuous(ScaleDeviceConfig),
    #[serde(rename = "cas")]
    Cas(ScaleDeviceConfig),
    #[serde(rename = "ascii-indicator")]
    AsciiIndicator(ScaleDeviceConfig),
    #[serde(rename = "dahua-tm")]
    DahuaTm(ScaleDeviceConfig),
    #[serde(rename = "serial-line")]
    SerialLine(ScannerDeviceConfig),
    #[serde(rename = "newland-pack")]
    NewlandPack(ScannerDeviceConfig),
    #[serde(rename = "evdev")]
    Evdev(ScannerDeviceConfig),
    #[serde(rename = "escpos")]
    Escpos(ExternalDeviceConfig),
    #[serde(rename = "zipher")]
    Zipher(ExternalDeviceConfig),
    #[serde(rename = "tij")]
    Tij(ExternalDeviceConfig),
    #[serde(rename = "imaje-9040")]
    Imaje9040(ExternalDeviceConfig),
    #[serde(rename = "text-tcp")]
    TextTcp(ExternalDeviceConfig),
}

/// The kind of device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    Scale,
    Scanner,
    Printer,
    Coder,
}

/// Why a device list cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("a device has an empty name")]
    EmptyName,
    #[error("two devices are named {0:?}; names must be unique")]
    DuplicateName(String),
    #[error("devices {first:?} and {second:?} both use {port}; one port carries one device")]
    PortConflict {
        port: String,
        first: String,
        second: String,
    },
    #[error("device {device:?} ({driver}) cannot use {uri}: {reason}")]
    WrongTransport {
        device: String,
        driver: &'static str,
        uri: String,
        reason: &'static str,
    },
}

impl DeviceConfig {
    pub fn name(&self) -> &str {
        match self {
            DeviceConfig::MtSics(c)
            | DeviceConfig::Toledo8217(c)
            | DeviceConfig::ToledoContinuous(c)
            | DeviceConfig::Cas(c)
            | DeviceConfig::AsciiIndicator(c)
            | DeviceConfig::DahuaTm(c) => &c.name,
            DeviceConfig::SerialLine(c) | DeviceConfig::NewlandPack(c) | DeviceConfig::Evdev(c) => {
                &c.name
            }
            DeviceConfig::Escpos(c)
            | DeviceConfig::Zipher(c)
            | DeviceConfig::Tij(c)
            | DeviceConfig::Imaje9040(c)
            | DeviceConfig::TextTcp(c) => &c.name,
        }
    }

    pub fn connect(&self) -> &TransportConfig {
        match self {
            DeviceConfig::MtSics(c)
            | DeviceConfig::Toledo8217(c)
            | DeviceConfig::ToledoContinuous(c)
            | DeviceConfig::Cas(c)
            | DeviceConfig::AsciiIndicator(c)
            | DeviceConfig::DahuaTm(c) => &c.connect,
            DeviceConfig::SerialLine(c) | DeviceConfig::NewlandPack(c) | DeviceConfig::Evdev(c) => {
                &c.connect
            }
            DeviceConfig::Escpos(c)
            | DeviceConfig::Zipher(c)
            | DeviceConfig::Tij(c)
            | DeviceConfig::Imaje9040(c)
            | DeviceConfig::TextTcp(c) => &c.connect,
        }
    }

    /// The protocol name (the `driver` tag).
    pub fn driver(&self) -> &'static str {
        match self {
            DeviceConfig::Escpos(_) => "escpos",
            DeviceConfig::Zipher(_) => "zipher",
            DeviceConfig::Tij(_) => "tij",
            DeviceConfig::Imaje9040(_) => "imaje-9040",
            DeviceConfig::TextTcp(_) => "text-tcp",
            other => other
                .scale()
                .map(|(p, _)| p.name())
                .or_else(|| other.scanner().map(|(p, _)| p.name()))
                .unwrap_or("unknown"),
        }
    }

    pub fn kind(&self) -> DeviceKind {
        match self {
            DeviceConfig::Escpos(_) => DeviceKind::Printer,
            DeviceConfig::Zipher(_)
            | DeviceConfig::Tij(_)
            | DeviceConfig::Imaje9040(_)
            | DeviceConfig::TextTcp(_) => DeviceKind::Coder,
            d if d.scanner().is_some() => DeviceKind::Scanner,
            _ => DeviceKind::Scale,
        }
    }

    /// The scale protocol and settings, when this is a scale.
    pub fn scale(&self) -> Option<(ScaleProtocol, &ScaleDeviceConfig)> {
        Some(match self {
            DeviceConfig::MtSics(c) => (ScaleProtocol::MtSics, c),
            DeviceConfig::Toledo8217(c) => (ScaleProtocol::Toledo8217, c),
            DeviceConfig::ToledoContinuous(c) => (ScaleProtocol::ToledoContinuous, c),
            DeviceConfig::Cas(c) => (ScaleProtocol::Cas, c),
            DeviceConfig::AsciiIndicator(c) => (ScaleProtocol::AsciiIndicator, c),
            DeviceConfig::DahuaTm(c) => (ScaleProtocol::DahuaTm, c),
            _ => return None,
        })
    }

    /// The scanner protocol and settings, when this is a scanner.
    pub fn scanner(&self) -> Option<(ScannerProtocol, &ScannerDeviceConfig)> {
        Some(match self {
            DeviceConfig::SerialLine(c) => (ScannerProtocol::SerialLine, c),
            DeviceConfig::NewlandPack(c) => (ScannerProtocol::NewlandPack, c),
            DeviceConfig::Evdev(c) => (ScannerProtocol::Evdev, c),
            _ => return None,
        })
    }
}

/// Check a device list as a whole: unique non-empty names, one device per port, evdev only
/// for keyboard-wedge scanners and keyboard-wedge scanners only on evdev.
pub fn validate(devices: &[DeviceConfig]) -> Result<(), ConfigError> {
    let mut names = HashMap::new();
    let mut ports: HashMap<String, &str> = HashMap::new();
    for d in devices {
        let name = d.name();
        if name.trim().is_empty() {
            return Err(ConfigError::EmptyName);
        }
        if names.insert(name, ()).is_some() {
            return Err(ConfigError::DuplicateName(name.to_string()));
        }
        let uri = d.connect();
        let is_evdev_uri = matches!(uri, TransportConfig::Evdev { .. });
        let is_evdev_driver = matches!(d, DeviceConfig::Evdev(_));
        if is_evdev_uri != is_evdev_driver {
            return Err(ConfigError::WrongTransport {
                device: name.to_string(),
                driver: d.driver(),
                uri: uri.to_string(),
                reason: if is_evdev_driver {
                    "keyboard-wedge scanners need an evdev:///dev/input/… transport"
                } else {
                    "evdev carries key events; only the evdev scanner driver reads it"
                },
            });
        }
        if let Some(first) = ports.insert(uri.resource_key(), name) {
            return Err(ConfigError::PortConflict {
                port: uri.to_string(),
                first: first.to_string(),
                second: name.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Vec<DeviceConfig>, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn every_driver_name_parses() {
        let drivers = [
            "mt-sics",
            "toledo-8217",
            "toledo-continuous",
            "cas",
            "ascii-indicator",
            "dahua-tm",
            "serial-line",
            "newland-pack",
            "escpos",
            "zipher",
            "tij",
            "imaje-9040",
            "text-tcp",
        ];
        for (i, d) in drivers.iter().enumerate() {
            let json = format!(
                r#"[{{"driver":"{d}","name":"dev{i}","connect":"tcp://10.0.0.{i}:4001"}}]"#
            );
            let devs = parse(&json).unwrap_or_else(|e| panic!("{d}: {e}"));
            assert_eq!(devs[0].driver(), *d);
            validate(&devs).unwrap();
        }
        let devs =
            parse(r#"[{"driver":"evdev","name":"wedge","connect":"evdev:///dev/input/event3"}]"#)
                .unwrap();
        assert_eq!(devs[0].kind(), DeviceKind::Scanner);
        validate(&devs).unwrap();
    }

    #[test]
    fn options_parse_and_unknown_keys_fail() {
        let devs = parse(
            r#"[{"driver":"toledo-continuous","name":"s","connect":"serial:///dev/ttyUSB0?baud=4800",
                 "options":{"reply_timeout_ms":2000,"continuous":{"checksum":false}}},
                {"driver":"escpos","name":"p","connect":"usblp:///dev/usb/lp0","options":{"width":58}}]"#,
        )
        .unwrap();
        let (_, s) = devs[0].scale().unwrap();
        assert!(!s.options.continuous.checksum);
        assert_eq!(s.options.reply_timeout.as_millis(), 2000);
        assert_eq!(devs[1].kind(), DeviceKind::Printer);
        for bad in [
            r#"[{"driver":"mt-sics","name":"s","connect":"tcp://h:1","colour":"red"}]"#,
            r#"[{"driver":"mt-sics","name":"s","connect":"tcp://h:1","options":{"colour":1}}]"#,
            r#"[{"driver":"mt-sicz","name":"s","connect":"tcp://h:1"}]"#,
            r#"[{"driver":"mt-sics","name":"s","connect":"ttyUSB0"}]"#,
            r#"[{"name":"s","connect":"tcp://h:1"}]"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn two_devices_on_one_port_is_a_config_error() {
        let devs = parse(
            r#"[{"driver":"mt-sics","name":"scale","connect":"serial:///dev/ttyUSB0?baud=9600"},
                {"driver":"serial-line","name":"scanner","connect":"serial:///dev/ttyUSB0?baud=115200"}]"#,
        )
        .unwrap();
        assert_eq!(
            validate(&devs),
            Err(ConfigError::PortConflict {
                port: "serial:///dev/ttyUSB0?baud=115200&data=8&parity=none&stop=1".into(),
                first: "scale".into(),
                second: "scanner".into()
            })
        );
        let devs = parse(
            r#"[{"driver":"escpos","name":"p","connect":"tcp://Printer.local:9100"},
                {"driver":"zipher","name":"c","connect":"tcp://printer.local:9100"}]"#,
        )
        .unwrap();
        assert!(matches!(
            validate(&devs),
            Err(ConfigError::PortConflict { .. })
        ));
    }

    #[test]
    fn names_and_transports_are_checked() {
        let dup = parse(
            r#"[{"driver":"cas","name":"a","connect":"tcp://h:1"},{"driver":"cas","name":"a","connect":"tcp://h:2"}]"#,
        )
        .unwrap();
        assert_eq!(validate(&dup), Err(ConfigError::DuplicateName("a".into())));
        let empty = parse(r#"[{"driver":"cas","name":" ","connect":"tcp://h:1"}]"#).unwrap();
        assert_eq!(validate(&empty), Err(ConfigError::EmptyName));
        let wedge_on_tcp =
            parse(r#"[{"driver":"evdev","name":"w","connect":"tcp://h:1"}]"#).unwrap();
        assert!(matches!(
            validate(&wedge_on_tcp),
            Err(ConfigError::WrongTransport { .. })
        ));
        let scale_on_evdev =
            parse(r#"[{"driver":"cas","name":"w","connect":"evdev:///dev/input/event1"}]"#)
                .unwrap();
        assert!(validate(&scale_on_evdev).is_err());
    }
}
