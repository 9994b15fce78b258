//! How each protocol's simulated coder answers, over the shared [`Engine`]. One function per
//! protocol, request in, replies out; no I/O.

use super::engine::Engine;
use crate::coder::imaje::protocol::{self as im, ImajeReply, ImajeRequest};
use crate::coder::text_tcp::{Pattern, TextTcpConfig};
use crate::coder::tij::protocol::{TijReply, TijRequest, cmd, status};
use crate::coder::zipher::{ZipherCommand, ZipherFault, ZipherReply};

/// Free bytes reported per free record (CLARiTY's `SFS` counts bytes).
const BYTES_PER_RECORD: u64 = 64;

pub(super) fn zipher(e: &mut Engine, c: ZipherCommand) -> Vec<ZipherReply> {
    let r = match c {
        ZipherCommand::Sel { job, values } => {
            e.job = job;
            e.fields = values.into_iter().map(|v| (String::new(), v)).collect();
            e.batch_count = 0;
            ZipherReply::Ack
        }
        ZipherCommand::Jda { fields } => {
            e.fields.extend(fields);
            ZipherReply::Ack
        }
        ZipherCommand::Sho { fields } => {
            e.header_width = fields.len().max(1);
            ZipherReply::Ack
        }
        ZipherCommand::Sdo { values } => {
            let records: Vec<String> = values.chunks(e.header_width).map(|r| r.join(" ")).collect();
            // All or nothing: a record that does not fit refuses the whole line.
            if records.len() > e.free() {
                ZipherReply::Err
            } else {
                for r in records {
                    e.push(r);
                }
                ZipherReply::Sfs(e.free() as u64 * BYTES_PER_RECORD)
            }
        }
        ZipherCommand::Src => ZipherReply::Src(e.buffer.len() as u64),
        ZipherCommand::Scb => {
            e.buffer.clear();
            ZipherReply::Ack
        }
        ZipherCommand::Sni => ZipherReply::Sni(e.next_to_print()),
        ZipherCommand::Slr => ZipherReply::Slr(e.last_printed),
        ZipherCommand::Gst => ZipherReply::Sts {
            overall: if e.running { 3 } else { 4 },
            error: if e.fault.is_some() { 2 } else { 0 },
            job: e.job.clone(),
            batch_count: e.batch_count,
            total_count: e.printed_total,
        },
        ZipherCommand::Gft => ZipherReply::Flt(
            e.fault
                .map(|code| ZipherFault {
                    code,
                    text: "Printhead fault".into(),
                    clearable: false,
                })
                .into_iter()
                .collect(),
        ),
        ZipherCommand::Sst(3) if e.fault.is_some() => ZipherReply::Err,
        ZipherCommand::Sst(3) => {
            e.running = true;
            ZipherReply::Ack
        }
        ZipherCommand::Sst(0 | 4) => {
            e.running = false;
            ZipherReply::Ack
        }
        ZipherCommand::Sst(_) => ZipherReply::Err,
        ZipherCommand::Caf => ZipherReply::Ack,
    };
    vec![r]
}

fn be(n: u64, width: usize) -> Vec<u8> {
    n.to_be_bytes()[8 - width..].to_vec()
}

pub(super) fn tij(e: &mut Engine, r: TijRequest) -> Vec<TijReply> {
    let mut st = status::OK;
    let mut data = Vec::new();
    match r.cmd {
        cmd::HANDSHAKE | cmd::KEEP_LAST_FIELD | cmd::LOAD_MESSAGE => {
            if r.cmd == cmd::LOAD_MESSAGE {
                e.job = String::from_utf8_lossy(r.data.get(1..).unwrap_or_default()).into_owned();
                e.batch_count = 0;
            }
        }
        cmd::PRINT_SUBTOTAL | cmd::PRODUCT_SUBTOTAL => data = be(e.batch_count, 4),
        cmd::PRINT_TOTAL | cmd::PRODUCT_TOTAL => data = be(e.printed_total, 4),
        cmd::START_JET => {
            if e.fault.is_some() {
                st = status::PRINTER_ERROR;
            } else if e.running {
                st = status::ALREADY_PRINTING;
            } else {
                e.running = true;
            }
        }
        cmd::STOP_JET => {
            if e.running {
                e.running = false;
            } else {
                st = status::NOT_PRINTING;
            }
        }
        cmd::ALARM_STATUS => {
            let alarm = e.fault.map_or(0, |_| 5);
            data = vec![alarm, u8::from(e.running)];
        }
        cmd::FILL_REMOTE => match r.remote_fields() {
            None => st = status::PRINTER_ERROR,
            Some(_) if e.is_full() => st = status::BUFFER_STILL_FULL,
            Some(fields) => {
                let code = fields
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ");
                e.push(code);
                if e.is_full() {
                    st = status::BUFFER_JUST_FULL;
                }
            }
        },
        cmd::CLEAR_REMOTE => e.buffer.clear(),
        cmd::BUFFER_COUNT => data = be(e.buffer.len() as u64, 2),
        cmd::SET_MAX_BUFFERED => match r.data[..] {
            [hi, lo] => e.capacity = usize::from(u16::from_be_bytes([hi, lo])),
            _ => st = status::PRINTER_ERROR,
        },
        _ => st = status::PRINTER_ERROR,
    }
    vec![TijReply {
        machine: r.machine,
        ack: st == status::OK || st == status::BUFFER_JUST_FULL,
        status: st,
        cmd: r.cmd,
        data,
    }]
}

pub(super) fn imaje(e: &mut Engine, r: ImajeRequest) -> Vec<ImajeReply> {
    let (c, d) = match r {
        ImajeRequest::Enq => return vec![ImajeReply::Ready],
        ImajeRequest::Frame { cmd, data } => (cmd, data),
    };
    let ok = |data: Vec<u8>| ImajeReply::Frame {
        ack: true,
        cmd: c,
        data,
    };
    let nak = |code: u8| ImajeReply::Frame {
        ack: false,
        cmd: c,
        data: vec![code],
    };
    let rep = match c {
        im::cmd::START_STOP => match d[..] {
            [im::mode::START] if e.fault.is_some() => nak(im::nak::GENERIC),
            [im::mode::START] => {
                e.running = true;
                ok(vec![])
            }
            [im::mode::SHORT_STOP | im::mode::LONG_STOP] => {
                e.running = false;
                ok(vec![])
            }
            _ => nak(im::nak::GENERIC),
        },
        im::cmd::JET_STATUS => ok(vec![if e.running { 7 } else { 0 }]),
        im::cmd::PRINT_COUNTER => ok(im::counter_data(e.printed_total)),
        im::cmd::RESET_COUNTER => {
            e.printed_total = 0;
            ok(vec![])
        }
        im::cmd::FAULTS => ok(vec![if e.fault.is_some() { 0x08 } else { 0 }, 0, 0, 0]),
        im::cmd::PARAMETERS => ok(vec![0; 8]),
        im::cmd::EXTERNAL_VARIABLES => match im::parse_external_variables(&d) {
            None => nak(im::nak::GENERIC),
            Some(_) if e.is_full() => nak(im::nak::BUFFER_FULL),
            Some((_, vars)) => {
                let code = vars
                    .iter()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ");
                e.push(code);
                ok(vec![])
            }
        },
        im::cmd::CLEAR_VARIABLES => {
            e.buffer.clear();
            ok(vec![])
        }
        _ => nak(im::nak::GENERIC),
    };
    vec![rep]
}

/// The text-tcp simulator speaks whatever dialect the driver is configured for: commands are
/// recognised by their templates, replies rendered from the reply patterns.
pub(super) struct TextDialect {
    cfg: TextTcpConfig,
}

/// Match `line` against a command template, capturing each `{placeholder}` (non-empty, the
/// last one takes the rest of the line).
fn capture(template: &str, line: &str) -> Option<Vec<String>> {
    let mut caps = Vec::new();
    let mut t = template;
    let mut l = line;
    loop {
        match t.find('{') {
            None => return (t == l).then_some(caps),
            Some(open) => {
                l = l.strip_prefix(&t[..open])?;
                let close = open + t[open..].find('}')?;
                t = &t[close + 1..];
                let end = match t.find('{').map_or(t, |n| &t[..n]) {
                    "" => l.len(),
                    next => l.find(next)?,
                };
                if end == 0 {
                    return None;
                }
                caps.push(l[..end].to_string());
                l = &l[end..];
            }
        }
    }
}

/// Render a reply pattern: `{n}` takes the numbers in order, `*` becomes nothing.
fn render_pattern(p: &str, nums: &[u64]) -> String {
    let mut out = String::new();
    let mut nums = nums.iter();
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("{n}") {
            out.push_str(&nums.next().copied().unwrap_or(0).to_string());
            rest = r;
        } else if let Some(r) = rest.strip_prefix('*') {
            rest = r;
        } else if let Some(c) = rest.chars().next() {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

impl TextDialect {
    pub(super) fn new(cfg: &TextTcpConfig) -> Self {
        debug_assert!(
            Pattern::new(&cfg.ack)
                .matches(&render_pattern(&cfg.ack, &[]))
                .is_some()
        );
        TextDialect { cfg: cfg.clone() }
    }

    pub(super) fn respond(&self, e: &mut Engine, line: String) -> Vec<String> {
        let c = &self.cfg;
        let ack = render_pattern(&c.ack, &[]);
        let nak = render_pattern(&c.nak, &[]);
        let r = if line == c.buffer_count {
            render_pattern(&c.buffer_reply, &[e.buffer.len() as u64])
        } else if line == c.counter {
            render_pattern(&c.counter_reply, &[e.printed_total])
        } else if line == c.status {
            let fault = e.fault.map_or(0, u64::from);
            render_pattern(&c.status_reply, &[u64::from(e.running), fault])
        } else if line == c.start {
            if e.fault.is_some() {
                nak
            } else {
                e.running = true;
                ack
            }
        } else if line == c.stop {
            e.running = false;
            ack
        } else if line == c.clear {
            e.buffer.clear();
            ack
        } else if let Some(mut v) = capture(&c.queue, &line) {
            if e.is_full() {
                render_pattern(&c.full, &[])
            } else {
                e.push(v.swap_remove(0));
                ack
            }
        } else if let Some(mut v) = capture(&c.select_job, &line) {
            e.job = v.swap_remove(0);
            e.batch_count = 0;
            ack
        } else if let Some(v) = capture(&c.set_field, &line) {
            if let [k, val] = &v[..] {
                e.fields.push((k.clone(), val.clone()));
            }
            ack
        } else {
            nak
        };
        vec![r]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_capture_placeholders() {
        assert_eq!(
            capture("PUSH {code}", "PUSH A 1"),
            Some(vec!["A 1".to_string()])
        );
        assert_eq!(
            capture("SET {name} {value}", "SET lot B 7"),
            Some(vec!["lot".to_string(), "B 7".to_string()])
        );
        assert_eq!(capture("PUSH {code}", "PUSH "), None);
        assert_eq!(capture("START", "START"), Some(vec![]));
        assert_eq!(capture("START", "STARTX"), None);
    }

    #[test]
    fn reply_patterns_render_to_lines_they_match() {
        for (p, nums) in [
            ("OK*", vec![]),
            ("COUNT {n}", vec![42]),
            ("STATUS {n} {n}", vec![1, 0]),
        ] {
            let line = render_pattern(p, &nums);
            assert_eq!(Pattern::new(p).matches(&line), Some(nums));
        }
    }
}
