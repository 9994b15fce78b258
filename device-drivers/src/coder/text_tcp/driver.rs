//! text-tcp driver: each operation is one templated line and one reply matched by pattern.
//! Lines that match none of the patterns the operation expects (banners, echoes, noise) are
//! skipped and counted, never taken as an answer.

use super::protocol::{Pattern, TextLineCodec, render};
use crate::coder::link::Link;
use crate::coder::{
    Baseline, Coder, CoderError, CoderFault, CoderProtocol, CoderState, CoderStatus, PrintEvidence,
    QueueOutcome, check_code,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Templates use `{job}`, `{name}`, `{value}`, `{code}`; patterns use `*` and `{n}`.
/// The defaults describe the simulator's dialect (and a typical marker TCP plug-in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TextTcpConfig {
    pub line_end: String,
    pub select_job: String,
    pub set_field: String,
    pub queue: String,
    pub buffer_count: String,
    pub counter: String,
    pub status: String,
    pub start: String,
    pub stop: String,
    pub clear: String,
    /// Reply meaning "done".
    pub ack: String,
    /// Reply meaning "refused: buffer full" (to `queue`).
    pub full: String,
    /// Reply meaning "refused" (anything else).
    pub nak: String,
    /// Reply to `buffer_count`, one `{n}`.
    pub buffer_reply: String,
    /// Reply to `counter`, one `{n}`: marks made.
    pub counter_reply: String,
    /// Reply to `status`: `{n}` running (0/1), then `{n}` fault code (0 = none).
    pub status_reply: String,
    #[serde(with = "crate::coder::any::millis")]
    pub reply_timeout: Duration,
}

impl Default for TextTcpConfig {
    fn default() -> Self {
        TextTcpConfig {
            line_end: "\r\n".into(),
            select_job: "JOB {job}".into(),
            set_field: "SET {name} {value}".into(),
            queue: "PUSH {code}".into(),
            buffer_count: "BUF?".into(),
            counter: "COUNT?".into(),
            status: "STATUS?".into(),
            start: "START".into(),
            stop: "STOP".into(),
            clear: "CLEAR".into(),
            ack: "OK*".into(),
            full: "FULL*".into(),
            nak: "ERR*".into(),
            buffer_reply: "BUF {n}".into(),
            counter_reply: "COUNT {n}".into(),
            status_reply: "STATUS {n} {n}".into(),
            reply_timeout: Duration::from_secs(2),
        }
    }
}

struct Patterns {
    ack: Pattern,
    full: Pattern,
    nak: Pattern,
    buffer: Pattern,
    counter: Pattern,
    status: Pattern,
}

enum Answer {
    Ack,
    Full,
    Nak(String),
    Numbers(Vec<u64>),
}

pub struct TextTcpCoder<T> {
    link: Link<T, TextLineCodec>,
    cfg: TextTcpConfig,
    pats: Patterns,
    unmatched: u64,
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> TextTcpCoder<T> {
    pub fn new(io: T, cfg: TextTcpConfig) -> Self {
        let pats = Patterns {
            ack: Pattern::new(&cfg.ack),
            full: Pattern::new(&cfg.full),
            nak: Pattern::new(&cfg.nak),
            buffer: Pattern::new(&cfg.buffer_reply),
            counter: Pattern::new(&cfg.counter_reply),
            status: Pattern::new(&cfg.status_reply),
        };
        TextTcpCoder {
            link: Link::new(io, TextLineCodec::new(&cfg.line_end), cfg.reply_timeout),
            cfg,
            pats,
            unmatched: 0,
        }
    }

    /// Lines skipped: undecodable ones plus replies that matched nothing expected.
    pub fn skipped(&self) -> u64 {
        self.link.codec().skipped() + self.unmatched
    }

    /// Send a line; wait for a reply matching `numbers` (if given), ack, full or nak.
    async fn ask(&mut self, line: String, numbers: Option<&Pattern>) -> Result<Answer, CoderError> {
        self.link.send(line).await?;
        loop {
            let r = self.link.recv().await?;
            if let Some(caps) = numbers.and_then(|p| p.matches(&r)) {
                return Ok(Answer::Numbers(caps));
            }
            if self.pats.ack.matches(&r).is_some() {
                return Ok(Answer::Ack);
            }
            if self.pats.full.matches(&r).is_some() {
                return Ok(Answer::Full);
            }
            if self.pats.nak.matches(&r).is_some() {
                return Ok(Answer::Nak(r));
            }
            self.unmatched += 1;
        }
    }

    async fn command(&mut self, name: &'static str, line: String) -> Result<(), CoderError> {
        match self.ask(line, None).await? {
            Answer::Ack => Ok(()),
            Answer::Full => Err(CoderError::Refused {
                command: name,
                detail: "full".into(),
            }),
            Answer::Nak(r) => Err(CoderError::Refused {
                command: name,
                detail: r,
            }),
            Answer::Numbers(_) => unreachable!("no number pattern given"),
        }
    }

    async fn numbers(
        &mut self,
        name: &'static str,
        line: String,
        which: fn(&Patterns) -> &Pattern,
    ) -> Result<Vec<u64>, CoderError> {
        let p = which(&self.pats).clone();
        match self.ask(line, Some(&p)).await? {
            Answer::Numbers(n) => Ok(n),
            Answer::Nak(r) => Err(CoderError::Refused {
                command: name,
                detail: r,
            }),
            Answer::Ack | Answer::Full => Err(CoderError::Unexpected {
                command: name,
                got: "acknowledgement instead of a number".into(),
            }),
        }
    }

    async fn counter(&mut self) -> Result<u64, CoderError> {
        let line = self.cfg.counter.clone();
        let n = self.numbers("counter", line, |p| &p.counter).await?;
        n.first().copied().ok_or(CoderError::Unexpected {
            command: "counter",
            got: "pattern without {n}".into(),
        })
    }

    fn check(&self, s: &str) -> Result<(), CoderError> {
        check_code(s, &[], 1024)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Coder for TextTcpCoder<T> {
    fn protocol(&self) -> CoderProtocol {
        CoderProtocol::TextTcp
    }

    async fn select_job(&mut self, job: &str) -> Result<(), CoderError> {
        self.check(job)?;
        let line = render(&self.cfg.select_job, &[("job", job)]);
        self.command("select_job", line).await
    }

    async fn set_fields(&mut self, fields: &[(String, String)]) -> Result<(), CoderError> {
        for (k, v) in fields {
            self.check(k)?;
            self.check(v)?;
        }
        for (k, v) in fields {
            let line = render(&self.cfg.set_field, &[("name", k), ("value", v)]);
            self.command("set_field", line).await?;
        }
        Ok(())
    }

    async fn queue(&mut self, codes: &[String]) -> Result<QueueOutcome, CoderError> {
        for c in codes {
            self.check(c)?;
        }
        let mut out = QueueOutcome::default();
        for c in codes {
            let line = render(&self.cfg.queue, &[("code", c)]);
            match self.ask(line, None).await? {
                Answer::Ack => out.accepted += 1,
                Answer::Full => {
                    out.full = true;
                    break;
                }
                Answer::Nak(r) => {
                    return Err(CoderError::Refused {
                        command: "queue",
                        detail: format!("{r} after {} accepted", out.accepted),
                    });
                }
                Answer::Numbers(_) => unreachable!("no number pattern given"),
            }
        }
        Ok(out)
    }

    async fn buffer_count(&mut self) -> Result<u32, CoderError> {
        let line = self.cfg.buffer_count.clone();
        let n = self.numbers("buffer_count", line, |p| &p.buffer).await?;
        let n = n.first().copied().unwrap_or(0);
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn evidence(&mut self) -> Result<PrintEvidence, CoderError> {
        Ok(PrintEvidence::PrintCounter(self.counter().await?))
    }

    async fn status(&mut self) -> Result<CoderStatus, CoderError> {
        let line = self.cfg.status.clone();
        let n = self.numbers("status", line, |p| &p.status).await?;
        let state = match n.first() {
            Some(0) => CoderState::Stopped,
            Some(_) => CoderState::Running,
            None => CoderState::Unknown,
        };
        let faults = match n.get(1) {
            None | Some(0) => vec![],
            Some(&code) => vec![CoderFault {
                code: u32::try_from(code).unwrap_or(u32::MAX),
                text: format!("marker fault {code}"),
                clearable: false,
            }],
        };
        Ok(CoderStatus { state, faults })
    }

    async fn start(&mut self) -> Result<(), CoderError> {
        let line = self.cfg.start.clone();
        self.command("start", line).await
    }

    async fn stop(&mut self) -> Result<(), CoderError> {
        let line = self.cfg.stop.clone();
        self.command("stop", line).await
    }

    async fn clear_buffer(&mut self) -> Result<Baseline, CoderError> {
        let line = self.cfg.clear.clone();
        self.command("clear", line).await?;
        let n = self.counter().await?;
        Ok(Baseline {
            evidence: PrintEvidence::PrintCounter(n),
            next_position: n + 1,
        })
    }
}
