//! The async scanner driver: byte-stream scanners (suffix lines, Newland packs) over any
//! transport, and evdev keyboard wedges, behind one type.
//!
//! Design: decode what is buffered; otherwise read, with the inter-character timeout armed only
//! while a suffix-less code is in progress; on timeout the code in progress is complete.

use super::evdev::EvdevScanner;
use super::keymap::Terminator;
use super::line::{LineScanCodec, Suffix};
use super::newland::{LengthField, NewlandCodec};
use super::{DecodeStats, Scan, Scanner, ScannerError, ScannerProtocol};
use crate::transport::{BoxedStream, TransportConfig};
use bytes::BytesMut;
use futures::Stream;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio_util::codec::Decoder;

/// Scanner settings; the defaults match a scanner out of the box (CR suffix, no AIM id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScannerOptions {
    pub suffix: Suffix,
    /// Ends a code when the suffix is `none` (serial) or always (evdev), in milliseconds.
    pub inter_char_timeout_ms: u64,
    /// The scanner prefixes AIM symbology identifiers (`]E0…`).
    pub aim_prefix: bool,
    pub newland_length: LengthField,
    pub terminator: Terminator,
}

impl Default for ScannerOptions {
    fn default() -> Self {
        Self {
            suffix: Suffix::Cr,
            inter_char_timeout_ms: 80,
            aim_prefix: false,
            newland_length: LengthField::Ascii4,
            terminator: Terminator::Enter,
        }
    }
}

enum Inner {
    Line {
        io: BoxedStream,
        buf: BytesMut,
        codec: LineScanCodec,
    },
    Newland {
        io: BoxedStream,
        buf: BytesMut,
        codec: NewlandCodec,
    },
    Evdev(Box<EvdevScanner>),
}

/// A connected scanner of any supported protocol.
pub struct ScannerDriver {
    inner: Inner,
    inter_char: Duration,
}

impl ScannerDriver {
    /// Open the transport and start a driver. `evdev` needs an `evdev://` transport; the others
    /// need a byte stream.
    pub async fn connect(
        protocol: ScannerProtocol,
        transport: &TransportConfig,
        opts: &ScannerOptions,
    ) -> Result<Self, ScannerError> {
        let inter_char = Duration::from_millis(opts.inter_char_timeout_ms.max(1));
        match (protocol, transport) {
            (ScannerProtocol::Evdev, TransportConfig::Evdev { path }) => {
                let path = path.clone();
                let term = opts.terminator;
                let s = tokio::task::spawn_blocking(move || {
                    EvdevScanner::open(&path, term, inter_char)
                })
                .await
                .map_err(std::io::Error::other)??;
                Ok(Self {
                    inner: Inner::Evdev(Box::new(s)),
                    inter_char,
                })
            }
            (ScannerProtocol::Evdev, _) => Err(ScannerError::WrongTransport {
                protocol,
                expected: "evdev://",
            }),
            (_, t) => Ok(Self::new(protocol, t.open().await?, opts)?),
        }
    }

    /// A byte-stream scanner over an open stream.
    pub fn new(
        protocol: ScannerProtocol,
        io: BoxedStream,
        opts: &ScannerOptions,
    ) -> Result<Self, ScannerError> {
        let inner = match protocol {
            ScannerProtocol::SerialLine => Inner::Line {
                io,
                buf: BytesMut::new(),
                codec: LineScanCodec::new(opts.suffix, opts.aim_prefix),
            },
            ScannerProtocol::NewlandPack => Inner::Newland {
                io,
                buf: BytesMut::new(),
                codec: NewlandCodec::new(opts.newland_length, opts.aim_prefix),
            },
            ScannerProtocol::Evdev => {
                return Err(ScannerError::WrongTransport {
                    protocol,
                    expected: "evdev://",
                });
            }
        };
        Ok(Self {
            inner,
            inter_char: Duration::from_millis(opts.inter_char_timeout_ms.max(1)),
        })
    }
}

impl Scanner for ScannerDriver {
    async fn next_scan(&mut self) -> Result<Scan, ScannerError> {
        let inter_char = self.inter_char;
        match &mut self.inner {
            Inner::Evdev(s) => s.next_scan().await,
            Inner::Newland { io, buf, codec } => loop {
                if let Some(s) = codec.decode(buf)? {
                    return Ok(s);
                }
                if io.read_buf(buf).await? == 0 {
                    return Err(ScannerError::Disconnected);
                }
            },
            Inner::Line { io, buf, codec } => loop {
                if let Some(s) = codec.decode(buf)? {
                    return Ok(s);
                }
                let timed = codec_needs_timeout(codec) && !buf.is_empty();
                let n = if timed {
                    match tokio::time::timeout(inter_char, io.read_buf(buf)).await {
                        Ok(n) => n?,
                        Err(_) => {
                            if let Some(s) = codec.flush(buf) {
                                return Ok(s);
                            }
                            continue;
                        }
                    }
                } else {
                    io.read_buf(buf).await?
                };
                if n == 0 {
                    // A suffix-less code cut by the disconnect is still a complete read.
                    if let Some(s) = codec.flush(buf).filter(|_| timed) {
                        return Ok(s);
                    }
                    return Err(ScannerError::Disconnected);
                }
            },
        }
    }

    fn decode_stats(&self) -> DecodeStats {
        match &self.inner {
            Inner::Line { codec, .. } => codec.stats(),
            Inner::Newland { codec, .. } => codec.stats(),
            Inner::Evdev(s) => s.decode_stats(),
        }
    }
}

fn codec_needs_timeout(c: &LineScanCodec) -> bool {
    c.suffix() == Suffix::None
}

/// Scans as a stream; ends after the first error (which it yields).
pub fn scans<S: Scanner>(scanner: S) -> impl Stream<Item = Result<Scan, ScannerError>> + Send {
    futures::stream::unfold((scanner, false), |(mut s, done)| async move {
        if done {
            return None;
        }
        let r = s.next_scan().await;
        let end = r.is_err();
        Some((r, (s, end)))
    })
}
