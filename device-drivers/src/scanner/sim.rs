//! Scanner simulators: serial-line and Newland-pack scanners emitting configured codes over TCP
//! or a pty, with noise, slow typing and mid-code disconnects.
//!
//! (Keyboard wedges would need `/dev/uinput`, which CI does not have; their decoding is tested
//! purely in `keymap`.)

use super::ScannerProtocol;
use super::line::{LineScanCodec, Suffix};
use super::newland::{LengthField, NewlandCodec};
use crate::sim::{SimConnection, SimEndpoint, SimListen};
use bytes::BytesMut;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_util::codec::Encoder;

/// What the simulated scanner sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerSimOptions {
    /// Codes to emit, in order, on each connection.
    pub codes: Vec<String>,
    /// Pause before each code.
    pub interval: Duration,
    /// Start again from the first code after the last.
    pub repeat: bool,
    pub suffix: Suffix,
    pub newland_length: LengthField,
    /// Prefix each code with this AIM identifier (e.g. `]Q1`).
    pub aim: Option<String>,
    /// Send noise before each code.
    pub garbage: bool,
    /// After this many codes, send half of the next and hang up.
    pub disconnect_after: Option<u32>,
    /// Pause between bytes (a slow scanner, or one without suffix the driver must time).
    pub byte_delay: Duration,
}

impl Default for ScannerSimOptions {
    fn default() -> Self {
        Self {
            codes: vec!["6901234567892".into()],
            interval: Duration::from_millis(200),
            repeat: false,
            suffix: Suffix::Cr,
            newland_length: LengthField::Ascii4,
            aim: None,
            garbage: false,
            disconnect_after: None,
            byte_delay: Duration::ZERO,
        }
    }
}

/// A running scanner simulator. Dropping it stops it.
pub struct ScannerSim {
    uri: String,
    sent: Arc<AtomicU64>,
    task: Option<JoinHandle<()>>,
}

impl ScannerSim {
    pub fn uri(&self) -> &str {
        &self.uri
    }
    /// Codes sent in full, all connections.
    pub fn codes_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
    pub async fn wait(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for ScannerSim {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// The bytes a scanner sends for one code.
pub fn encode_code(
    protocol: ScannerProtocol,
    opts: &ScannerSimOptions,
    code: &str,
) -> std::io::Result<Vec<u8>> {
    let text = format!("{}{code}", opts.aim.as_deref().unwrap_or(""));
    let mut b = BytesMut::new();
    match protocol {
        ScannerProtocol::SerialLine => {
            LineScanCodec::new(opts.suffix, false).encode(text.as_str(), &mut b)?
        }
        ScannerProtocol::NewlandPack => {
            NewlandCodec::new(opts.newland_length, false).encode(text.as_str(), &mut b)?
        }
        ScannerProtocol::Evdev => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "keyboard-wedge scanners cannot be simulated without /dev/uinput",
            ));
        }
    }
    Ok(b.to_vec())
}

/// Start a scanner simulator. Returns once it is listening.
pub async fn run_scanner_sim(
    protocol: ScannerProtocol,
    listen: SimListen,
    opts: ScannerSimOptions,
) -> std::io::Result<ScannerSim> {
    // Fail now, not per connection, on what cannot be sent.
    for c in &opts.codes {
        encode_code(protocol, &opts, c)?;
    }
    let mut endpoint = SimEndpoint::bind(&listen).await?;
    let uri = endpoint.describe()?;
    tracing::info!(%uri, protocol = protocol.name(), "scanner simulator listening");
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let task = tokio::spawn(async move {
        while let Ok(conn) = endpoint.accept().await {
            let (o, c) = (opts.clone(), counter.clone());
            tokio::spawn(async move {
                if let Err(e) = serve(protocol, conn, o, c).await {
                    tracing::debug!(error = %e, "scanner simulator connection ended");
                }
            });
        }
    });
    Ok(ScannerSim {
        uri,
        sent,
        task: Some(task),
    })
}

async fn write(conn: &mut SimConnection, bytes: &[u8], delay: Duration) -> std::io::Result<()> {
    if delay.is_zero() {
        conn.write_all(bytes).await?;
    } else {
        for b in bytes {
            conn.write_all(&[*b]).await?;
            conn.flush().await?;
            tokio::time::sleep(delay).await;
        }
    }
    conn.flush().await
}

/// True while the pty's driver side is not open: reading the master then fails with EIO.
/// (A scanner's driver never writes, so the probe read loses nothing.)
async fn peer_absent(conn: &mut SimConnection) -> bool {
    let mut b = [0u8; 1];
    matches!(
        tokio::time::timeout(Duration::from_millis(5), conn.read(&mut b)).await,
        Ok(Err(e)) if crate::transport::is_eio(&e)
    )
}

async fn serve(
    protocol: ScannerProtocol,
    mut conn: SimConnection,
    opts: ScannerSimOptions,
    sent: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut n = 0u32;
    let noise: &[u8] = match protocol {
        ScannerProtocol::NewlandPack => b"\xff\x00~",
        _ => b"\x00\x07\xff\r",
    };
    // On a pty, wait until the driver opens its side: a scanner's codes are not sent into the
    // void before anyone listens (reading the master reads EIO until then).
    if matches!(conn, SimConnection::Pty(_)) {
        while peer_absent(&mut conn).await {
            tokio::time::sleep(crate::scale::sim::PEER_ABSENT_POLL).await;
        }
    }
    'outer: loop {
        for code in &opts.codes {
            tokio::time::sleep(opts.interval).await;
            let bytes = encode_code(protocol, &opts, code)?;
            if opts.disconnect_after.is_some_and(|d| n >= d) {
                write(&mut conn, &bytes[..bytes.len() / 2], opts.byte_delay).await?;
                return Ok(());
            }
            if opts.garbage {
                write(&mut conn, noise, Duration::ZERO).await?;
            }
            write(&mut conn, &bytes, opts.byte_delay).await?;
            n += 1;
            sent.fetch_add(1, Ordering::Relaxed);
        }
        if !opts.repeat {
            break 'outer;
        }
    }
    // Stay connected (a real scanner does not hang up) until the driver does.
    let mut sink = [0u8; 64];
    while conn.read(&mut sink).await? > 0 {}
    Ok(())
}
