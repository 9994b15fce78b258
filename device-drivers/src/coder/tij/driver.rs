//! TIJ driver: 1D puts one code into the remote-field buffer with 0x42/0x43 back-pressure, 33
//! reads the buffer count, a print counter (default 09, print total) is the evidence.

use super::protocol::{TijCodec, TijReply, TijRequest, cmd, status};
use crate::coder::link::Link;
use crate::coder::{
    Baseline, Coder, CoderError, CoderFault, CoderProtocol, CoderState, CoderStatus, PrintEvidence,
    QueueOutcome, check_code,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TijConfig {
    /// Machine number (机号) in every frame.
    pub machine: u8,
    /// Counter read as evidence: 0x09 print total (an operator can reset the 0x07 subtotal).
    pub counter_cmd: u8,
    /// Sent with 0x34 at connect when set.
    pub max_buffered: Option<u16>,
    /// Send 0x36 "keep last field data" = off at connect, so an empty buffer never reprints the
    /// previous code.
    pub disable_keep_last: bool,
    #[serde(with = "crate::coder::any::millis")]
    pub reply_timeout: Duration,
}

impl Default for TijConfig {
    fn default() -> Self {
        TijConfig {
            machine: 1,
            counter_cmd: cmd::PRINT_TOTAL,
            max_buffered: None,
            disable_keep_last: true,
            reply_timeout: Duration::from_secs(2),
        }
    }
}

pub struct TijCoder<T> {
    link: Link<T, TijCodec>,
    cfg: TijConfig,
}

fn be_u64(data: &[u8]) -> Option<u64> {
    (!data.is_empty() && data.len() <= 8)
        .then(|| data.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> TijCoder<T> {
    /// Handshake and put the coder in the mode exactly-once printing needs.
    pub async fn connect(io: T, cfg: TijConfig) -> Result<Self, CoderError> {
        let mut c = TijCoder {
            link: Link::new(io, TijCodec::default(), cfg.reply_timeout),
            cfg,
        };
        c.ok("handshake", cmd::HANDSHAKE, vec![]).await?;
        if c.cfg.disable_keep_last {
            c.ok("keep-last-field", cmd::KEEP_LAST_FIELD, vec![0])
                .await?;
        }
        if let Some(n) = c.cfg.max_buffered {
            c.ok(
                "set-max-buffered",
                cmd::SET_MAX_BUFFERED,
                n.to_be_bytes().to_vec(),
            )
            .await?;
        }
        Ok(c)
    }

    pub fn skipped(&self) -> u64 {
        self.link.codec().skipped()
    }

    async fn ask(&mut self, req: TijRequest) -> Result<TijReply, CoderError> {
        let want = req.cmd;
        self.link.send(req).await?;
        loop {
            let r = self.link.recv().await?;
            // A reply for another machine or to an earlier command is not ours.
            if r.cmd == want && r.machine == self.cfg.machine {
                return Ok(r);
            }
        }
    }

    async fn ok(
        &mut self,
        name: &'static str,
        c: u8,
        data: Vec<u8>,
    ) -> Result<TijReply, CoderError> {
        let r = self.ask(TijRequest::new(self.cfg.machine, c, data)).await?;
        if r.status == status::OK && r.ack {
            Ok(r)
        } else {
            Err(refused(name, &r))
        }
    }
}

fn refused(name: &'static str, r: &TijReply) -> CoderError {
    CoderError::Refused {
        command: name,
        detail: format!("status {} ({})", r.status, status_text(r.status)),
    }
}

pub fn status_text(s: u8) -> &'static str {
    match s {
        status::OK => "ok",
        status::PRINTER_ERROR => "printer error",
        13 => "serial number missing",
        status::MESSAGE_NOT_FOUND => "message not found",
        status::ALREADY_PRINTING => "already printing",
        status::NOT_PRINTING => "not printing",
        20 => "print interval too small",
        status::BUFFER_JUST_FULL => "buffer just became full",
        status::BUFFER_STILL_FULL => "buffer still full",
        status::LOCKED => "locked",
        _ => "unknown status",
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Coder for TijCoder<T> {
    fn protocol(&self) -> CoderProtocol {
        CoderProtocol::Tij
    }

    async fn select_job(&mut self, job: &str) -> Result<(), CoderError> {
        check_code(job, &[], 255)?;
        let mut data = vec![u8::try_from(job.len()).unwrap_or(u8::MAX)];
        data.extend_from_slice(job.as_bytes());
        self.ok("load-message", cmd::LOAD_MESSAGE, data)
            .await
            .map(|_| ())
    }

    async fn set_fields(&mut self, _fields: &[(String, String)]) -> Result<(), CoderError> {
        Err(CoderError::Unsupported {
            what: "named job fields",
            protocol: CoderProtocol::Tij,
        })
    }

    async fn queue(&mut self, codes: &[String]) -> Result<QueueOutcome, CoderError> {
        for c in codes {
            check_code(c, &[], 255)?;
        }
        let mut out = QueueOutcome::default();
        for c in codes {
            let req = TijRequest::fill_remote(self.cfg.machine, &[c.as_bytes()]);
            let r = self.ask(req).await?;
            match r.status {
                status::OK => out.accepted += 1,
                status::BUFFER_JUST_FULL => {
                    out.accepted += 1;
                    out.full = true;
                    break;
                }
                status::BUFFER_STILL_FULL => {
                    out.full = true;
                    break;
                }
                _ => return Err(refused("fill-remote", &r)),
            }
        }
        Ok(out)
    }

    async fn buffer_count(&mut self) -> Result<u32, CoderError> {
        let r = self.ok("buffer-count", cmd::BUFFER_COUNT, vec![]).await?;
        be_u64(&r.data)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| CoderError::Unexpected {
                command: "buffer-count",
                got: format!("{:02x?}", r.data),
            })
    }

    async fn evidence(&mut self) -> Result<PrintEvidence, CoderError> {
        let c = self.cfg.counter_cmd;
        let r = self.ok("print-counter", c, vec![]).await?;
        be_u64(&r.data)
            .map(PrintEvidence::PrintCounter)
            .ok_or_else(|| CoderError::Unexpected {
                command: "print-counter",
                got: format!("{:02x?}", r.data),
            })
    }

    async fn status(&mut self) -> Result<CoderStatus, CoderError> {
        let r = self.ok("alarm-status", cmd::ALARM_STATUS, vec![]).await?;
        let state = match r.data.get(1) {
            Some(0) => CoderState::Stopped,
            Some(_) => CoderState::Running,
            None => CoderState::Unknown,
        };
        let faults = match r.data.first() {
            None | Some(0) => vec![],
            Some(&code) => vec![CoderFault {
                code: u32::from(code),
                text: format!("TIJ alarm {code}"),
                clearable: false,
            }],
        };
        Ok(CoderStatus { state, faults })
    }

    async fn start(&mut self) -> Result<(), CoderError> {
        let r = self
            .ask(TijRequest::new(self.cfg.machine, cmd::START_JET, vec![]))
            .await?;
        match r.status {
            status::OK | status::ALREADY_PRINTING => Ok(()),
            _ => Err(refused("start", &r)),
        }
    }

    async fn stop(&mut self) -> Result<(), CoderError> {
        let r = self
            .ask(TijRequest::new(self.cfg.machine, cmd::STOP_JET, vec![]))
            .await?;
        match r.status {
            status::OK | status::NOT_PRINTING => Ok(()),
            _ => Err(refused("stop", &r)),
        }
    }

    async fn clear_buffer(&mut self) -> Result<Baseline, CoderError> {
        self.ok("clear-remote", cmd::CLEAR_REMOTE, vec![]).await?;
        let evidence = self.evidence().await?;
        Ok(Baseline {
            evidence,
            next_position: evidence.value() + 1,
        })
    }
}
