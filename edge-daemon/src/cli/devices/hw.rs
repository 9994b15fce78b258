//! The commands that talk to real devices: list, probe, scale, print-test, scanner.
//!
//! Why the hints: the person reading the error is at a market stall with a cable in hand. A
//! driver error says what failed; the hint says what to check, in the order it usually is
//! (cable and port, then baud and framing, then the protocol).

use super::{PrintTestArgs, ScaleConn, SuffixArg, interrupted};
use anyhow::{anyhow, bail};
use device_drivers::discover::{self, PortKind, ProbeResult};
use device_drivers::printer::{
    EscPosPrinter, PrintOutcome, PrinterConfig, PrinterStatus, QrMode, TestPrintReport,
    render_receipt, test_receipt,
};
use device_drivers::scale::{
    Scale, ScaleDriver, ScaleError, ScaleErrorKind, ScaleOptions, WeightReading, WeightStatus,
    format_kg, readings,
};
use device_drivers::scanner::{
    Scan, ScannerDriver, ScannerError, ScannerOptions, ScannerProtocol, scans,
};
use device_drivers::transport::TransportConfig;
use futures::StreamExt;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

const CHECK_LINK: &str = "check the cable and that the port exists and is not held by another \
program (a running baytrace-edge, a terminal program); serial ports need the dialout group; \
`baytrace-edge devices list` shows the ports";
const CHECK_PROTOCOL: &str = "check the baud rate and framing in the URI (e.g. \
serial:///dev/ttyUSB0?baud=9600&data=8&parity=none) and --protocol; \
`baytrace-edge devices probe URI` tries every scale protocol";

fn scale_hint(e: &ScaleError) -> &'static str {
    match e {
        ScaleError::Unsupported { .. } => {
            "dahua-tm is the label scale's PLU download protocol and reports no weight; \
             read the weight with the scale's weighing protocol (see `scale read --help`)"
        }
        ScaleError::Timeout(_) | ScaleError::UnexpectedReply(_) => CHECK_PROTOCOL,
        _ if e.kind() == ScaleErrorKind::Protocol => CHECK_PROTOCOL,
        _ => CHECK_LINK,
    }
}

fn scale_failed(e: ScaleError, uri: &TransportConfig) -> anyhow::Error {
    anyhow!("scale at {uri}: {e}\nhint: {}", scale_hint(&e))
}

pub fn list(json: bool) -> anyhow::Result<ExitCode> {
    let ports = discover::list_devices();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &ports)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if ports.is_empty() {
        writeln!(
            out,
            "no serial ports, USB printers or keyboard-like inputs found; check the cable \
             and `dmesg | tail` after plugging in"
        )?;
    }
    for p in &ports {
        let kind = match p.kind {
            PortKind::Serial => "serial",
            PortKind::UsbPrinter => "usb-printer",
            PortKind::Keyboard => "keyboard",
        };
        let usb = p.usb.as_ref().map_or(String::new(), |u| {
            let name = [u.manufacturer.as_deref(), u.product.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            format!("  usb {}:{} {name}", u.vendor_id, u.product_id)
        });
        let driver = p.driver.as_deref().unwrap_or("-");
        writeln!(out, "{kind:<12} {:<40} {driver:<10}{usb}", p.uri)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn probe(uri: &TransportConfig, timeout_ms: u64, json: bool) -> anyhow::Result<ExitCode> {
    let report = discover::probe(uri, Duration::from_millis(timeout_ms)).await;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        for a in &report.attempts {
            let what = match &a.result {
                ProbeResult::Answered { reading } => format!("ANSWERED: {}", human(reading)),
                ProbeResult::Silent { detail } => format!("no answer ({detail})"),
                ProbeResult::Error { detail } => format!("error: {detail}"),
                ProbeResult::NotProbed { reason } => format!("not probed: {reason}"),
            };
            writeln!(out, "{:<18} {what}", a.protocol)?;
        }
        match report.answered.first() {
            Some(p) => writeln!(
                out,
                "answered: {}\nnext: baytrace-edge scale read --protocol {p} --connect {uri}",
                report.answered.join(", ")
            )?,
            None => writeln!(out, "nothing answered")?,
        }
    }
    if report.answered.is_empty() {
        eprintln!("error: no protocol answered on {uri}\nhint: {CHECK_LINK}; {CHECK_PROTOCOL}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn human(r: &WeightReading) -> String {
    let status = match r.status {
        WeightStatus::Ok => "stable",
        WeightStatus::Unstable => "unstable",
        WeightStatus::Overload => "OVERLOAD",
        WeightStatus::Underload => "UNDERLOAD",
        WeightStatus::Error => "ERROR",
    };
    let net = if r.net {
        format!(" net (tare {} kg)", format_kg(r.tare_grams))
    } else {
        String::new()
    };
    format!("{} kg {status}{net}", format_kg(r.grams))
}

fn print_reading(r: &WeightReading, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, r)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", human(r))?;
    }
    out.flush()?;
    Ok(())
}

async fn connect_scale(conn: &ScaleConn) -> anyhow::Result<ScaleDriver> {
    let opts = ScaleOptions {
        reply_timeout: Duration::from_millis(conn.timeout_ms.max(1)),
        ..Default::default()
    };
    ScaleDriver::connect(conn.protocol, &conn.connect, &opts)
        .await
        .map_err(|e| scale_failed(e, &conn.connect))
}

pub async fn scale_read(conn: &ScaleConn) -> anyhow::Result<ExitCode> {
    let mut scale = connect_scale(conn).await?;
    let r = scale
        .read_weight()
        .await
        .map_err(|e| scale_failed(e, &conn.connect))?;
    print_reading(&r, conn.json)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn scale_watch(
    conn: &ScaleConn,
    interval_ms: u64,
    count: Option<u64>,
) -> anyhow::Result<ExitCode> {
    let scale = connect_scale(conn).await?;
    let stream = readings(scale, Duration::from_millis(interval_ms));
    futures::pin_mut!(stream);
    let stop = interrupted();
    tokio::pin!(stop);
    let mut seen = 0u64;
    while count.is_none_or(|c| seen < c) {
        let next = tokio::select! {
            n = stream.next() => n,
            () = &mut stop => break,
        };
        match next {
            Some(Ok(r)) => {
                print_reading(&r, conn.json)?;
                seen += 1;
            }
            // The codec could not make sense of a frame: say so, keep watching.
            Some(Err(e)) if e.kind() == ScaleErrorKind::Protocol => {
                eprintln!("warning: {e}");
            }
            Some(Err(e)) => return Err(scale_failed(e, &conn.connect)),
            None => bail!(
                "scale at {} stopped sending\nhint: {CHECK_LINK}",
                conn.connect
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status_words(s: &PrinterStatus) -> String {
    let mut w = Vec::new();
    for (on, name) in [
        (s.offline, "offline"),
        (s.cover_open, "cover open"),
        (s.paper_out, "paper out"),
        (s.paper_near_end, "paper near end"),
        (s.cutter_error, "cutter error"),
        (s.error && !s.cutter_error, "error"),
        (s.unrecoverable, "unrecoverable error"),
    ] {
        if on {
            w.push(name);
        }
    }
    if w.is_empty() {
        "online, ready".into()
    } else {
        w.join(", ")
    }
}

/// A test print without status read-back (USB printer class devices that cannot answer).
async fn print_test_blind(
    stream: device_drivers::transport::BoxedStream,
    args: &PrintTestArgs,
    qr_mode: QrMode,
) -> Result<TestPrintReport, device_drivers::printer::PrinterError> {
    let mut config = PrinterConfig::new(args.width.into());
    config.style.qr_mode = qr_mode;
    config.status_readback = false;
    // `2026-11-22T04:50:10.123Z` → `2026-11-22 04:50 UTC`, as the library's print_test writes.
    let now = crate::timefmt::rfc3339(trace_core::Timestamp::now());
    let when = format!("{} UTC", now.get(..16).unwrap_or(&now).replace('T', " "));
    let receipt = test_receipt(&args.url, &when);
    let bytes = render_receipt(&receipt, &config.style)?;
    let mut printer = EscPosPrinter::new(stream, config);
    let outcome = printer.print_job(&bytes).await?;
    Ok(TestPrintReport {
        outcome,
        bytes_sent: bytes.len(),
    })
}

pub async fn print_test(args: &PrintTestArgs) -> anyhow::Result<ExitCode> {
    let uri = &args.connect;
    let stream = uri
        .open()
        .await
        .map_err(|e| anyhow!("printer at {uri}: {e}\nhint: {CHECK_LINK}"))?;
    let qr_mode = if args.raster {
        QrMode::Raster
    } else {
        QrMode::Native
    };
    let blind = args.no_status || matches!(uri, TransportConfig::UsbLp { .. });
    let report = if blind {
        print_test_blind(stream, args, qr_mode).await
    } else {
        device_drivers::printer::print_test(stream, args.width.into(), &args.url, qr_mode).await
    }
    .map_err(|e| {
        anyhow!(
            "printer at {uri}: {e}\nhint: {CHECK_LINK}; a printer that never answers status \
             requests may need --no-status; check the baud rate in the URI"
        )
    })?;
    let mut out = std::io::stdout().lock();
    let code = match report.outcome {
        PrintOutcome::Printed(s) => {
            writeln!(
                out,
                "printed test receipt ({} bytes, QR {}), printer: {}",
                report.bytes_sent,
                args.url,
                status_words(&s)
            )?;
            ExitCode::SUCCESS
        }
        PrintOutcome::Sent => {
            writeln!(
                out,
                "sent test receipt ({} bytes, QR {}); this link reports no printer status, \
                 check the paper",
                report.bytes_sent, args.url
            )?;
            ExitCode::SUCCESS
        }
        PrintOutcome::NotSent(s) => {
            writeln!(out, "nothing sent: printer not ready: {}", status_words(&s))?;
            eprintln!(
                "error: printer at {uri} is not ready ({})",
                status_words(&s)
            );
            ExitCode::FAILURE
        }
        PrintOutcome::Uncertain(s) => {
            writeln!(
                out,
                "sent {} bytes but the printer then reported: {}; the receipt may be missing",
                report.bytes_sent,
                status_words(&s)
            )?;
            eprintln!("error: printer at {uri} did not confirm the test receipt");
            ExitCode::FAILURE
        }
    };
    Ok(code)
}

/// `scanner watch` settings beyond the URI.
pub struct ScannerWatch {
    pub protocol: Option<ScannerProtocol>,
    pub suffix: SuffixArg,
    pub aim: bool,
    pub json: bool,
    pub count: Option<u64>,
}

fn print_scan(s: &Scan, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        #[derive(serde::Serialize)]
        struct Line<'a> {
            text: &'a str,
            symbology: Option<&'a device_drivers::scanner::Symbology>,
        }
        let line = Line {
            text: &s.text,
            symbology: s.symbology.as_ref(),
        };
        serde_json::to_writer(&mut out, &line)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", s.text)?;
    }
    out.flush()?;
    Ok(())
}

pub async fn scanner_watch(uri: &TransportConfig, w: &ScannerWatch) -> anyhow::Result<ExitCode> {
    let protocol = w.protocol.unwrap_or(match uri {
        TransportConfig::Evdev { .. } => ScannerProtocol::Evdev,
        _ => ScannerProtocol::SerialLine,
    });
    let opts = ScannerOptions {
        suffix: w.suffix.into(),
        aim_prefix: w.aim,
        ..Default::default()
    };
    let failed = |e: ScannerError| {
        let hint = match &e {
            ScannerError::WrongTransport { .. } => {
                "evdev scanners need an evdev:///dev/input/by-id/… URI; serial ones a \
                 serial:// or tcp:// URI"
            }
            _ => CHECK_LINK,
        };
        anyhow!("scanner at {uri}: {e}\nhint: {hint}")
    };
    let scanner = ScannerDriver::connect(protocol, uri, &opts)
        .await
        .map_err(failed)?;
    let stream = scans(scanner);
    futures::pin_mut!(stream);
    let stop = interrupted();
    tokio::pin!(stop);
    let mut seen = 0u64;
    while w.count.is_none_or(|c| seen < c) {
        let next = tokio::select! {
            n = stream.next() => n,
            () = &mut stop => break,
        };
        match next {
            Some(Ok(s)) => {
                print_scan(&s, w.json)?;
                seen += 1;
            }
            Some(Err(e)) => return Err(failed(e)),
            None => return Err(failed(ScannerError::Disconnected)),
        }
    }
    Ok(ExitCode::SUCCESS)
}
