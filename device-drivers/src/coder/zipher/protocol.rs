//! CLARiTY / ZIPher text protocol codec (Videojet TTO, e.g. Dataflex 6330).
//!
//! ASCII; a command is a 3-letter mnemonic and `|`-separated fields with a trailing `|`,
//! terminated by CR: `SEL|job|v1|` `JDA|f=v|` `SHO|f1|` `SDO|v1|v2|` `SRC` `SCB` `SNI` `SLR` `GST`
//! `GFT` `SST|n|` `CAF`. Replies: `ACK`, `ERR` (some firmware says `NAK`), `SFS|free|`,
//! `SRC|count|`, `SNI|index|`, `SLR|index|`, `STS|overall|error|job|batch|total|`,
//! `FLT|n|code|text|clearable|…|`. Argument-less commands are sent without a `|`; both forms
//! are accepted when decoding. A line that is not one of these is skipped and counted.
//! Facts: devices.md §4.1 (the FLT triple layout and `SDO` record grouping are inferred).

use crate::coder::lines::take_line;
use bytes::{BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

pub const MAX_LINE: usize = 8192;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZipherCommand {
    /// Select a job, filling its fields in order.
    Sel { job: String, values: Vec<String> },
    /// Update named fields of the current job.
    Jda { fields: Vec<(String, String)> },
    /// Serialization header: the field names each record fills.
    Sho { fields: Vec<String> },
    /// Add records: values are taken header-width at a time.
    Sdo { values: Vec<String> },
    /// Record count in the serialization buffer.
    Src,
    /// Clear the serialization buffer.
    Scb,
    /// Next index to print.
    Sni,
    /// Last index printed.
    Slr,
    /// Get status.
    Gst,
    /// Get faults.
    Gft,
    /// Set state (0 ShutDown, 3 Running, 4 Offline).
    Sst(u8),
    /// Clear all faults.
    Caf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipherFault {
    pub code: u32,
    pub text: String,
    pub clearable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZipherReply {
    Ack,
    Err,
    Sfs(u64),
    Src(u64),
    Sni(u64),
    Slr(u64),
    Sts {
        overall: u8,
        error: u8,
        job: String,
        batch_count: u64,
        total_count: u64,
    },
    Flt(Vec<ZipherFault>),
}

fn put_fields<'a>(dst: &mut BytesMut, mnemonic: &str, fields: impl IntoIterator<Item = &'a str>) {
    dst.put_slice(mnemonic.as_bytes());
    for f in fields {
        dst.put_u8(b'|');
        dst.put_slice(f.as_bytes());
    }
    dst.put_slice(b"|\r");
}

fn put_bare(dst: &mut BytesMut, mnemonic: &str) {
    dst.put_slice(mnemonic.as_bytes());
    dst.put_u8(b'\r');
}

impl ZipherCommand {
    pub fn encode(&self, dst: &mut BytesMut) {
        match self {
            ZipherCommand::Sel { job, values } => put_fields(
                dst,
                "SEL",
                std::iter::once(job.as_str()).chain(values.iter().map(String::as_str)),
            ),
            ZipherCommand::Jda { fields } => {
                let kv: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                put_fields(dst, "JDA", kv.iter().map(String::as_str))
            }
            ZipherCommand::Sho { fields } => {
                put_fields(dst, "SHO", fields.iter().map(String::as_str))
            }
            ZipherCommand::Sdo { values } => {
                put_fields(dst, "SDO", values.iter().map(String::as_str))
            }
            ZipherCommand::Src => put_bare(dst, "SRC"),
            ZipherCommand::Scb => put_bare(dst, "SCB"),
            ZipherCommand::Sni => put_bare(dst, "SNI"),
            ZipherCommand::Slr => put_bare(dst, "SLR"),
            ZipherCommand::Gst => put_bare(dst, "GST"),
            ZipherCommand::Gft => put_bare(dst, "GFT"),
            ZipherCommand::Sst(n) => put_fields(dst, "SST", [n.to_string().as_str()]),
            ZipherCommand::Caf => put_bare(dst, "CAF"),
        }
    }

    /// Parse one line (without CR). `None` if it is not a command we know.
    pub fn parse(line: &str) -> Option<Self> {
        let (m, f) = split(line)?;
        let one = |f: &[&str]| -> Option<()> { f.is_empty().then_some(()) };
        Some(match m {
            "SEL" => {
                let (job, rest) = f.split_first()?;
                ZipherCommand::Sel {
                    job: job.to_string(),
                    values: rest.iter().map(|s| s.to_string()).collect(),
                }
            }
            "JDA" => ZipherCommand::Jda {
                fields: f
                    .iter()
                    .map(|kv| {
                        kv.split_once('=')
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                    })
                    .collect::<Option<_>>()?,
            },
            "SHO" => ZipherCommand::Sho {
                fields: f.iter().map(|s| s.to_string()).collect(),
            },
            "SDO" => ZipherCommand::Sdo {
                values: f.iter().map(|s| s.to_string()).collect(),
            },
            "SRC" => one(&f).map(|_| ZipherCommand::Src)?,
            "SCB" => one(&f).map(|_| ZipherCommand::Scb)?,
            "SNI" => one(&f).map(|_| ZipherCommand::Sni)?,
            "SLR" => one(&f).map(|_| ZipherCommand::Slr)?,
            "GST" => one(&f).map(|_| ZipherCommand::Gst)?,
            "GFT" => one(&f).map(|_| ZipherCommand::Gft)?,
            "CAF" => one(&f).map(|_| ZipherCommand::Caf)?,
            "SST" => match f.as_slice() {
                [n] => ZipherCommand::Sst(n.parse().ok()?),
                _ => return None,
            },
            _ => return None,
        })
    }
}

impl ZipherReply {
    pub fn encode(&self, dst: &mut BytesMut) {
        match self {
            ZipherReply::Ack => put_bare(dst, "ACK"),
            ZipherReply::Err => put_bare(dst, "ERR"),
            ZipherReply::Sfs(n) => put_fields(dst, "SFS", [n.to_string().as_str()]),
            ZipherReply::Src(n) => put_fields(dst, "SRC", [n.to_string().as_str()]),
            ZipherReply::Sni(n) => put_fields(dst, "SNI", [n.to_string().as_str()]),
            ZipherReply::Slr(n) => put_fields(dst, "SLR", [n.to_string().as_str()]),
            ZipherReply::Sts {
                overall,
                error,
                job,
                batch_count,
                total_count,
            } => {
                let f = [
                    overall.to_string(),
                    error.to_string(),
                    job.clone(),
                    batch_count.to_string(),
                    total_count.to_string(),
                ];
                put_fields(dst, "STS", f.iter().map(String::as_str))
            }
            ZipherReply::Flt(faults) => {
                let mut f = vec![faults.len().to_string()];
                for x in faults {
                    f.push(x.code.to_string());
                    f.push(x.text.clone());
                    f.push(u8::from(x.clearable).to_string());
                }
                put_fields(dst, "FLT", f.iter().map(String::as_str))
            }
        }
    }

    pub fn parse(line: &str) -> Option<Self> {
        let (m, f) = split(line)?;
        let num = |f: &[&str]| -> Option<u64> {
            match f {
                [n] => n.parse().ok(),
                _ => None,
            }
        };
        Some(match m {
            "ACK" if f.is_empty() => ZipherReply::Ack,
            "ERR" | "NAK" => ZipherReply::Err,
            "SFS" => ZipherReply::Sfs(num(&f)?),
            "SRC" => ZipherReply::Src(num(&f)?),
            "SNI" => ZipherReply::Sni(num(&f)?),
            "SLR" => ZipherReply::Slr(num(&f)?),
            "STS" => match f.as_slice() {
                [o, e, job, b, t] => ZipherReply::Sts {
                    overall: o.parse().ok()?,
                    error: e.parse().ok()?,
                    job: job.to_string(),
                    batch_count: b.parse().ok()?,
                    total_count: t.parse().ok()?,
                },
                _ => return None,
            },
            "FLT" => {
                let (n, rest) = f.split_first()?;
                let n: usize = n.parse().ok()?;
                if rest.len() != n.checked_mul(3)? {
                    return None;
                }
                let faults = rest
                    .chunks(3)
                    .map(|c| {
                        Some(ZipherFault {
                            code: c[0].parse().ok()?,
                            text: c[1].to_string(),
                            clearable: match c[2] {
                                "0" => false,
                                "1" => true,
                                _ => return None,
                            },
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                ZipherReply::Flt(faults)
            }
            _ => return None,
        })
    }
}

/// `MNE|a|b|` → ("MNE", ["a", "b"]); `MNE` → ("MNE", []).
fn split(line: &str) -> Option<(&str, Vec<&str>)> {
    let body = line.strip_suffix('|').unwrap_or(line);
    let mut parts = body.split('|');
    let m = parts.next()?;
    if m.len() != 3 || !m.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    Some((m, parts.collect()))
}

fn decode_with<T>(
    src: &mut BytesMut,
    skipped: &mut u64,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    while let Some(line) = take_line(src, MAX_LINE, skipped) {
        match std::str::from_utf8(&line).ok().and_then(&parse) {
            Some(f) => return Some(f),
            None => *skipped += 1,
        }
    }
    None
}

/// Driver side: commands out, replies in.
#[derive(Debug, Default)]
pub struct ZipherCodec {
    skipped: u64,
}

impl ZipherCodec {
    /// Lines skipped as junk so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

impl Decoder for ZipherCodec {
    type Item = ZipherReply;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<ZipherReply>, std::io::Error> {
        Ok(decode_with(src, &mut self.skipped, ZipherReply::parse))
    }
}

impl Encoder<ZipherCommand> for ZipherCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: ZipherCommand, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        item.encode(dst);
        Ok(())
    }
}

/// Device side (the simulator): commands in, replies out.
#[derive(Debug, Default)]
pub struct ZipherDeviceCodec {
    skipped: u64,
}

impl ZipherDeviceCodec {
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

impl Decoder for ZipherDeviceCodec {
    type Item = ZipherCommand;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<ZipherCommand>, std::io::Error> {
        Ok(decode_with(src, &mut self.skipped, ZipherCommand::parse))
    }
}

impl Encoder<ZipherReply> for ZipherDeviceCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: ZipherReply, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        item.encode(dst);
        Ok(())
    }
}
