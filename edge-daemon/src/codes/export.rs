//! Code files for external printers (4.2.6 下载): CSV, TXT or ZIP, chosen by the file name.
//!
//! The file is written under a temporary name in the same directory, synced, then linked to
//! its final name, which must not exist: an interrupted export never leaves a half file that
//! looks complete, and an existing file is never overwritten.

use super::CodesError;
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use trace_core::event::CodeRange;
use trace_core::product_code::BatchCodes;

/// Output format, from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// `serial,code` with a header line.
    Csv,
    /// One code per line.
    Txt,
    /// The CSV, deflated in a ZIP archive.
    Zip,
}

impl ExportFormat {
    pub fn from_path(p: &Path) -> Result<ExportFormat, CodesError> {
        match p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(ExportFormat::Csv),
            Some("txt") => Ok(ExportFormat::Txt),
            Some("zip") => Ok(ExportFormat::Zip),
            _ => Err(CodesError::Export(format!(
                "{}: name the file .csv, .txt or .zip",
                p.display()
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub path: PathBuf,
    pub format: ExportFormat,
    pub codes: u64,
    pub bytes: u64,
}

fn io_err(p: &Path, what: &str) -> impl Fn(std::io::Error) -> CodesError {
    let p = p.display().to_string();
    let what = what.to_owned();
    move |e| CodesError::Export(format!("{p}: {what}: {e}"))
}

/// Check before anything is allocated that `out` can be written: known extension, does not
/// exist, directory exists.
pub fn check_target(out: &Path) -> Result<ExportFormat, CodesError> {
    let f = ExportFormat::from_path(out)?;
    if out.exists() {
        return Err(CodesError::Export(format!(
            "{} already exists: pick a new file name (exports never overwrite)",
            out.display()
        )));
    }
    let dir = crate::ledger::parent_dir(out);
    if !dir.is_dir() {
        return Err(CodesError::Export(format!(
            "directory {} does not exist",
            dir.display()
        )));
    }
    Ok(f)
}

/// Write the codes of `range` to `out`; `progress` is called with the number written so far.
pub fn export(
    codes: &BatchCodes,
    range: CodeRange,
    out: &Path,
    progress: &dyn Fn(u64),
) -> Result<ExportReport, CodesError> {
    let format = check_target(out)?;
    let dir = crate::ledger::parent_dir(out);
    let name = out
        .file_name()
        .map_or_else(|| "codes".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let result = write_tmp(codes, range, &tmp, format, &name, progress).and_then(|()| {
        std::fs::hard_link(&tmp, out).map_err(io_err(out, "linking into place"))?;
        crate::ledger::sync_dir(&dir).map_err(|e| CodesError::Export(e.to_string()))
    });
    let _ = std::fs::remove_file(&tmp);
    result?;
    let bytes = std::fs::metadata(out)
        .map_err(io_err(out, "reading size"))?
        .len();
    Ok(ExportReport {
        path: out.to_path_buf(),
        format,
        codes: range.len().unwrap_or(0),
        bytes,
    })
}

fn write_tmp(
    codes: &BatchCodes,
    range: CodeRange,
    tmp: &Path,
    format: ExportFormat,
    name: &str,
    progress: &dyn Fn(u64),
) -> Result<(), CodesError> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(io_err(tmp, "creating"))?;
    let werr = io_err(tmp, "writing");
    let file = match format {
        ExportFormat::Zip => {
            let mut zip = zip::ZipWriter::new(file);
            let inner = Path::new(name).with_extension("csv");
            let inner = inner.to_string_lossy();
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                // Level 1: codes are random by design, so higher levels gain little and cost
                // seconds per million.
                .compression_level(Some(1))
                .large_file(false);
            zip.start_file(inner.as_ref(), opts)
                .map_err(|e| CodesError::Export(format!("{}: {e}", tmp.display())))?;
            {
                let mut w = BufWriter::with_capacity(1 << 16, &mut zip);
                write_lines(codes, range, &mut w, true, progress).map_err(&werr)?;
                w.flush().map_err(&werr)?;
            }
            zip.finish()
                .map_err(|e| CodesError::Export(format!("{}: {e}", tmp.display())))?
        }
        ExportFormat::Csv | ExportFormat::Txt => {
            let mut w = BufWriter::with_capacity(1 << 16, file);
            write_lines(codes, range, &mut w, format == ExportFormat::Csv, progress)
                .map_err(&werr)?;
            w.into_inner().map_err(|e| werr(e.into_error()))?
        }
    };
    file.sync_all().map_err(io_err(tmp, "syncing"))
}

fn write_lines(
    codes: &BatchCodes,
    range: CodeRange,
    w: &mut impl Write,
    csv: bool,
    progress: &dyn Fn(u64),
) -> std::io::Result<()> {
    if csv {
        w.write_all(b"serial,code\n")?;
    }
    let mut done = 0u64;
    let mut failed: Option<std::io::Error> = None;
    let mut num = [0u8; 20];
    codes
        .each_code(range.first, range.last, |serial, code| {
            if failed.is_some() {
                return;
            }
            let r = if csv {
                w.write_all(itoa_u64(serial, &mut num).as_bytes())
                    .and_then(|()| w.write_all(b","))
            } else {
                Ok(())
            }
            .and_then(|()| w.write_all(code.as_bytes()))
            .and_then(|()| w.write_all(b"\n"));
            if let Err(e) = r {
                failed = Some(e);
            }
            done += 1;
            if done.is_multiple_of(65_536) {
                progress(done);
            }
        })
        .map_err(std::io::Error::other)?;
    if let Some(e) = failed {
        return Err(e);
    }
    progress(done);
    Ok(())
}

fn itoa_u64(mut v: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}
