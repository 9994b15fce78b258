//! Parsing and printing transport URIs. Raw text → validated [`TransportConfig`]; every error
//! names the URI and says what would be accepted.

use super::TransportError;
use std::fmt;
use std::str::FromStr;

/// A transport, validated. Serialises as its URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportConfig {
    Tcp { host: String, port: u16 },
    Serial(SerialConfig),
    UsbLp { path: String },
    Evdev { path: String },
}

/// Serial line settings. Defaults: 9600 8N1, no flow control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialConfig {
    pub path: String,
    pub baud: u32,
    pub data_bits: DataBits,
    pub parity: Parity,
    pub stop_bits: StopBits,
    pub flow: FlowControl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataBits {
    Five,
    Six,
    Seven,
    Eight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    None,
    Even,
    Odd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopBits {
    One,
    Two,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowControl {
    None,
    Software,
    Hardware,
}

impl SerialConfig {
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            baud: 9600,
            data_bits: DataBits::Eight,
            parity: Parity::None,
            stop_bits: StopBits::One,
            flow: FlowControl::None,
        }
    }
}

fn bad(uri: &str, reason: impl Into<String>) -> TransportError {
    TransportError::BadUri {
        uri: uri.to_string(),
        reason: reason.into(),
    }
}

fn device_path<'a>(uri: &str, rest: &'a str) -> Result<&'a str, TransportError> {
    if !rest.starts_with('/') || rest.len() < 2 {
        return Err(bad(
            uri,
            "expected an absolute device path after the scheme, e.g. serial:///dev/ttyUSB0",
        ));
    }
    Ok(rest)
}

impl FromStr for TransportConfig {
    type Err = TransportError;

    fn from_str(uri: &str) -> Result<Self, Self::Err> {
        let Some((scheme, rest)) = uri.split_once("://") else {
            return Err(bad(
                uri,
                "expected tcp://HOST:PORT, serial:///dev/…, usblp:///dev/usb/lpN or evdev:///dev/input/…",
            ));
        };
        match scheme {
            "tcp" => {
                let Some((host, port)) = rest.rsplit_once(':') else {
                    return Err(bad(uri, "expected tcp://HOST:PORT"));
                };
                let host = host.trim_start_matches('[').trim_end_matches(']');
                if host.is_empty() || host.contains('/') {
                    return Err(bad(uri, "missing or malformed host in tcp://HOST:PORT"));
                }
                let port: u16 = port
                    .parse()
                    .map_err(|_| bad(uri, format!("port {port:?} is not a number 1–65535")))?;
                if port == 0 {
                    return Err(bad(uri, "port 0 cannot be connected to"));
                }
                Ok(TransportConfig::Tcp {
                    host: host.to_string(),
                    port,
                })
            }
            "serial" => {
                let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
                let mut cfg = SerialConfig::new(device_path(uri, path)?);
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair
                        .split_once('=')
                        .ok_or_else(|| bad(uri, format!("option {pair:?} is not KEY=VALUE")))?;
                    apply_serial_option(&mut cfg, k, v).map_err(|r| bad(uri, r))?;
                }
                Ok(TransportConfig::Serial(cfg))
            }
            "usblp" => Ok(TransportConfig::UsbLp {
                path: device_path(uri, rest)?.to_string(),
            }),
            "evdev" => Ok(TransportConfig::Evdev {
                path: device_path(uri, rest)?.to_string(),
            }),
            other => Err(bad(
                uri,
                format!("unknown scheme {other:?}; use tcp, serial, usblp or evdev"),
            )),
        }
    }
}

fn apply_serial_option(cfg: &mut SerialConfig, k: &str, v: &str) -> Result<(), String> {
    match k {
        "baud" => {
            cfg.baud = v
                .parse()
                .ok()
                .filter(|b| *b > 0)
                .ok_or_else(|| format!("baud {v:?} is not a positive number"))?;
        }
        "data" => {
            cfg.data_bits = match v {
                "5" => DataBits::Five,
                "6" => DataBits::Six,
                "7" => DataBits::Seven,
                "8" => DataBits::Eight,
                _ => return Err(format!("data bits {v:?} must be 5, 6, 7 or 8")),
            }
        }
        "parity" => {
            cfg.parity = match v {
                "none" | "n" => Parity::None,
                "even" | "e" => Parity::Even,
                "odd" | "o" => Parity::Odd,
                _ => return Err(format!("parity {v:?} must be none, even or odd")),
            }
        }
        "stop" => {
            cfg.stop_bits = match v {
                "1" => StopBits::One,
                "2" => StopBits::Two,
                _ => return Err(format!("stop bits {v:?} must be 1 or 2")),
            }
        }
        "flow" => {
            cfg.flow = match v {
                "none" => FlowControl::None,
                "xonxoff" | "software" => FlowControl::Software,
                "rtscts" | "hardware" => FlowControl::Hardware,
                _ => return Err(format!("flow {v:?} must be none, xonxoff or rtscts")),
            }
        }
        _ => {
            return Err(format!(
                "unknown serial option {k:?}; known: baud, data, parity, stop, flow"
            ));
        }
    }
    Ok(())
}

impl fmt::Display for TransportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportConfig::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            TransportConfig::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            TransportConfig::Serial(c) => {
                write!(f, "serial://{}?baud={}", c.path, c.baud)?;
                let data = match c.data_bits {
                    DataBits::Five => 5,
                    DataBits::Six => 6,
                    DataBits::Seven => 7,
                    DataBits::Eight => 8,
                };
                let parity = match c.parity {
                    Parity::None => "none",
                    Parity::Even => "even",
                    Parity::Odd => "odd",
                };
                let stop = match c.stop_bits {
                    StopBits::One => 1,
                    StopBits::Two => 2,
                };
                write!(f, "&data={data}&parity={parity}&stop={stop}")?;
                match c.flow {
                    FlowControl::None => Ok(()),
                    FlowControl::Software => write!(f, "&flow=xonxoff"),
                    FlowControl::Hardware => write!(f, "&flow=rtscts"),
                }
            }
            TransportConfig::UsbLp { path } => write!(f, "usblp://{path}"),
            TransportConfig::Evdev { path } => write!(f, "evdev://{path}"),
        }
    }
}

impl serde::Serialize for TransportConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TransportConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_scheme() {
        assert_eq!(
            "tcp://192.168.1.150:4001"
                .parse::<TransportConfig>()
                .unwrap(),
            TransportConfig::Tcp {
                host: "192.168.1.150".into(),
                port: 4001
            }
        );
        let TransportConfig::Serial(s) =
            "serial:///dev/ttyUSB0?baud=9600&data=7&parity=even&stop=1"
                .parse()
                .unwrap()
        else {
            panic!("not serial")
        };
        assert_eq!(s.path, "/dev/ttyUSB0");
        assert_eq!(
            (s.baud, s.data_bits, s.parity, s.stop_bits),
            (9600, DataBits::Seven, Parity::Even, StopBits::One)
        );
        assert_eq!(
            "usblp:///dev/usb/lp0".parse::<TransportConfig>().unwrap(),
            TransportConfig::UsbLp {
                path: "/dev/usb/lp0".into()
            }
        );
        assert!(matches!(
            "evdev:///dev/input/by-id/usb-X-event-kbd".parse::<TransportConfig>(),
            Ok(TransportConfig::Evdev { .. })
        ));
        assert_eq!(
            "tcp://[::1]:9100".parse::<TransportConfig>().unwrap(),
            TransportConfig::Tcp {
                host: "::1".into(),
                port: 9100
            }
        );
    }

    #[test]
    fn display_round_trips() {
        for uri in [
            "tcp://127.0.0.1:4001",
            "tcp://[::1]:9100",
            "serial:///dev/ttyUSB0?baud=9600&data=7&parity=even&stop=1",
            "serial:///dev/pts/3?baud=115200&data=8&parity=none&stop=2&flow=rtscts",
            "usblp:///dev/usb/lp0",
            "evdev:///dev/input/event3",
        ] {
            let t: TransportConfig = uri.parse().unwrap();
            assert_eq!(t.to_string(), uri);
            assert_eq!(t.to_string().parse::<TransportConfig>().unwrap(), t);
        }
    }

    #[test]
    fn errors_are_clear() {
        let cases = [
            ("ttyUSB0", "expected tcp://HOST:PORT"),
            ("tcp://host", "expected tcp://HOST:PORT"),
            ("tcp://host:99999", "not a number"),
            ("tcp://host:0", "port 0"),
            ("serial://dev/ttyUSB0", "absolute device path"),
            ("serial:///dev/ttyS0?baud=fast", "baud"),
            ("serial:///dev/ttyS0?data=9", "data bits"),
            ("serial:///dev/ttyS0?parity=mark", "parity"),
            ("serial:///dev/ttyS0?speed=9600", "unknown serial option"),
            ("serial:///dev/ttyS0?baud", "KEY=VALUE"),
            ("udp://1.2.3.4:5", "unknown scheme"),
        ];
        for (uri, needle) in cases {
            let e = uri.parse::<TransportConfig>().unwrap_err();
            assert!(e.to_string().contains(needle), "{uri}: {e}");
            assert_eq!(e.kind(), super::super::TransportErrorKind::Config);
        }
    }

    #[tokio::test]
    async fn evdev_is_not_a_byte_stream() {
        let t: TransportConfig = "evdev:///dev/input/event0".parse().unwrap();
        assert!(matches!(
            t.open().await,
            Err(TransportError::NotAByteStream { .. })
        ));
    }

    #[tokio::test]
    async fn opening_an_absent_device_is_unavailable() {
        let t: TransportConfig = "serial:///dev/does-not-exist-baytrace".parse().unwrap();
        let e = t.open().await.err().unwrap();
        assert_eq!(e.kind(), super::super::TransportErrorKind::Unavailable);
    }
}
