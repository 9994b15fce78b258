//! Line-oriented text protocol for laser markers (Han's, EzCad "TCP remote" plug-ins and the
//! like), where every vendor words the same few commands differently. So nothing is fixed here:
//! commands are templates (`PUSH {code}`) and replies are matched by patterns.
//!
//! A pattern is literal text with `*` (any run of characters) and `{n}` (a decimal number,
//! captured). No regex crate: that is all a marker's reply needs.

use crate::coder::lines::take_line;
use bytes::{BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

pub const MAX_LINE: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(String),
    Star,
    Num,
}

/// A reply pattern: `OK*`, `COUNT {n}`, `STATUS {n} {n}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    toks: Vec<Tok>,
}

impl Pattern {
    pub fn new(src: &str) -> Self {
        let mut toks = Vec::new();
        let mut lit = String::new();
        let mut rest = src;
        while let Some(c) = rest.chars().next() {
            if c == '*' {
                if !lit.is_empty() {
                    toks.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                toks.push(Tok::Star);
                rest = &rest[1..];
            } else if let Some(r) = rest.strip_prefix("{n}") {
                if !lit.is_empty() {
                    toks.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                toks.push(Tok::Num);
                rest = r;
            } else {
                lit.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        Pattern { toks }
    }

    /// The captured numbers when the whole line matches.
    pub fn matches(&self, line: &str) -> Option<Vec<u64>> {
        let mut caps = Vec::new();
        m(&self.toks, line, &mut caps).then_some(caps)
    }
}

fn m(toks: &[Tok], s: &str, caps: &mut Vec<u64>) -> bool {
    let Some((t, rest)) = toks.split_first() else {
        return s.is_empty();
    };
    match t {
        Tok::Lit(l) => s.strip_prefix(l.as_str()).is_some_and(|r| m(rest, r, caps)),
        Tok::Star => s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .any(|i| {
                let mark = caps.len();
                m(rest, &s[i..], caps) || {
                    caps.truncate(mark);
                    false
                }
            }),
        Tok::Num => {
            let digits = s.bytes().take_while(u8::is_ascii_digit).count().min(19);
            // Greedy, then shorter: "{n}0" must still match "100".
            (1..=digits).rev().any(|k| {
                let mark = caps.len();
                let Ok(v) = s[..k].parse::<u64>() else {
                    return false;
                };
                caps.push(v);
                m(rest, &s[k..], caps) || {
                    caps.truncate(mark);
                    false
                }
            })
        }
    }
}

/// Fill `{name}` placeholders of a command template.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Lines out (terminator appended), lines in. The same codec serves driver and simulator.
#[derive(Debug, Clone)]
pub struct TextLineCodec {
    line_end: Vec<u8>,
    skipped: u64,
}

impl Default for TextLineCodec {
    fn default() -> Self {
        TextLineCodec::new("\r\n")
    }
}

impl TextLineCodec {
    pub fn new(line_end: &str) -> Self {
        TextLineCodec {
            line_end: line_end.as_bytes().to_vec(),
            skipped: 0,
        }
    }

    /// Over-long or non-UTF-8 lines skipped so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

impl Decoder for TextLineCodec {
    type Item = String;
    type Error = std::io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<String>, std::io::Error> {
        while let Some(line) = take_line(src, MAX_LINE, &mut self.skipped) {
            match String::from_utf8(line.to_vec()) {
                Ok(s) => return Ok(Some(s)),
                Err(_) => self.skipped += 1,
            }
        }
        Ok(None)
    }
}

impl Encoder<String> for TextLineCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: String, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        dst.put_slice(item.as_bytes());
        dst.put_slice(&self.line_end);
        Ok(())
    }
}
