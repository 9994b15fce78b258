//! Transports: where a device's bytes come from, named by a URI.
//!
//! Why a separate layer: a protocol codec must work the same over a serial cable, a TCP socket
//! or a pty in a test, so drivers only ever see a boxed `AsyncRead + AsyncWrite` stream. The URI
//! is what an installer types and what the config stores:
//!
//! - `tcp://host:port`
//! - `serial:///dev/ttyUSB0?baud=9600&data=7&parity=even&stop=1&flow=none`
//! - `usblp:///dev/usb/lp0` (USB printer class; read-back works on many printers)
//! - `evdev:///dev/input/by-id/…-event-kbd` (key events, not a byte stream; see `scanner::evdev`)
//!
//! A closed pty (and an unplugged USB serial adapter) reports `EIO` on read; [`EofOnEio`] turns
//! that into end-of-stream so a driver sees "disconnected", never a crash or a busy loop.

mod eio;
mod uri;

pub use eio::{EofOnEio, is_eio};
pub use uri::{DataBits, FlowControl, Parity, SerialConfig, StopBits, TransportConfig};

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Any byte stream a driver can run over.
pub trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> ByteStream for T {}

/// A transport, opened.
pub type BoxedStream = Box<dyn ByteStream>;

/// How long a TCP connect may take before the transport reports a timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a transport could not be named or opened.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("bad transport URI {uri:?}: {reason}")]
    BadUri { uri: String, reason: String },
    #[error("cannot open {uri}: {source}")]
    Open {
        uri: String,
        #[source]
        source: std::io::Error,
    },
    #[error("connecting to {uri} timed out after {timeout:?}")]
    Timeout { uri: String, timeout: Duration },
    #[error("{uri} carries key events, not bytes: open it with the evdev scanner")]
    NotAByteStream { uri: String },
}

/// What generic code can do about a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Fix the configuration; retrying will not help.
    Config,
    /// The device is absent or busy; retry later.
    Unavailable,
}

impl TransportError {
    pub fn kind(&self) -> TransportErrorKind {
        match self {
            TransportError::BadUri { .. } | TransportError::NotAByteStream { .. } => {
                TransportErrorKind::Config
            }
            TransportError::Open { .. } | TransportError::Timeout { .. } => {
                TransportErrorKind::Unavailable
            }
        }
    }
}

impl TransportConfig {
    /// Open the transport. Reads of the returned stream end cleanly on EIO.
    pub async fn open(&self) -> Result<BoxedStream, TransportError> {
        let uri = self.to_string();
        let open_err = |source| TransportError::Open {
            uri: uri.clone(),
            source,
        };
        match self {
            TransportConfig::Tcp { host, port } => {
                let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
                let stream = tokio::time::timeout(CONNECT_TIMEOUT, connect)
                    .await
                    .map_err(|_| TransportError::Timeout {
                        uri: uri.clone(),
                        timeout: CONNECT_TIMEOUT,
                    })?
                    .map_err(open_err)?;
                stream.set_nodelay(true).map_err(open_err)?;
                Ok(Box::new(stream))
            }
            TransportConfig::Serial(cfg) => {
                let stream = cfg.open().map_err(open_err)?;
                Ok(Box::new(EofOnEio::new(stream)))
            }
            TransportConfig::UsbLp { path } => {
                let file = tokio::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)
                    .await
                    .map_err(open_err)?;
                Ok(Box::new(EofOnEio::new(file)))
            }
            TransportConfig::Evdev { .. } => Err(TransportError::NotAByteStream { uri }),
        }
    }

    /// The resource this transport occupies, for "two devices on one port" checks: the device
    /// path, or `host:port` for TCP.
    pub fn resource_key(&self) -> String {
        match self {
            TransportConfig::Tcp { host, port } => {
                format!("tcp:{}:{port}", host.to_ascii_lowercase())
            }
            TransportConfig::Serial(c) => format!("dev:{}", c.path),
            TransportConfig::UsbLp { path } | TransportConfig::Evdev { path } => {
                format!("dev:{path}")
            }
        }
    }
}

impl SerialConfig {
    fn open(&self) -> std::io::Result<tokio_serial::SerialStream> {
        use tokio_serial::SerialPortBuilderExt;
        let data_bits = match self.data_bits {
            DataBits::Five => tokio_serial::DataBits::Five,
            DataBits::Six => tokio_serial::DataBits::Six,
            DataBits::Seven => tokio_serial::DataBits::Seven,
            DataBits::Eight => tokio_serial::DataBits::Eight,
        };
        let parity = match self.parity {
            Parity::None => tokio_serial::Parity::None,
            Parity::Even => tokio_serial::Parity::Even,
            Parity::Odd => tokio_serial::Parity::Odd,
        };
        let stop_bits = match self.stop_bits {
            StopBits::One => tokio_serial::StopBits::One,
            StopBits::Two => tokio_serial::StopBits::Two,
        };
        let flow = match self.flow {
            FlowControl::None => tokio_serial::FlowControl::None,
            FlowControl::Software => tokio_serial::FlowControl::Software,
            FlowControl::Hardware => tokio_serial::FlowControl::Hardware,
        };
        tokio_serial::new(&self.path, self.baud)
            .data_bits(data_bits)
            .parity(parity)
            .stop_bits(stop_bits)
            .flow_control(flow)
            .open_native_async()
            .map_err(std::io::Error::from)
    }
}
