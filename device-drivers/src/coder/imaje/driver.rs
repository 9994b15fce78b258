//! Imaje 9040 driver: each code is one `5B` external-variable set, the print counter (`39`) is
//! the evidence. The protocol has no buffer-count command we know of, so the count is derived
//! from the coder's own counter: codes queued since the last clear minus prints since then.

use super::protocol::{ImajeCodec, ImajeReply, ImajeRequest, cmd, mode, nak, parse_counter};
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
pub struct ImajeConfig {
    /// Jet (head) number.
    pub jet: u8,
    /// Command that empties the external-variable buffer (inferred; verify on hardware).
    pub clear_cmd: u8,
    /// Mode byte for `stop()`: 1 short stop (keeps ink warm), 0 long stop with cleaning.
    pub stop_mode: u8,
    #[serde(with = "crate::coder::any::millis")]
    pub reply_timeout: Duration,
}

impl Default for ImajeConfig {
    fn default() -> Self {
        ImajeConfig {
            jet: 1,
            clear_cmd: cmd::CLEAR_VARIABLES,
            stop_mode: mode::SHORT_STOP,
            reply_timeout: Duration::from_secs(2),
        }
    }
}

pub struct ImajeCoder<T> {
    link: Link<T, ImajeCodec>,
    cfg: ImajeConfig,
    /// (counter at the last clear, codes accepted since) for the derived buffer count.
    since_clear: Option<(u64, u64)>,
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> ImajeCoder<T> {
    /// ENQ → "ready to dialog".
    pub async fn connect(io: T, cfg: ImajeConfig) -> Result<Self, CoderError> {
        let mut c = ImajeCoder {
            link: Link::new(io, ImajeCodec::default(), cfg.reply_timeout),
            cfg,
            since_clear: None,
        };
        c.link.codec_mut().expect_ready();
        c.link.send(ImajeRequest::Enq).await?;
        match c.link.recv().await? {
            ImajeReply::Ready => Ok(c),
            other => Err(CoderError::Unexpected {
                command: "ENQ",
                got: format!("{other:?}"),
            }),
        }
    }

    pub fn skipped(&self) -> u64 {
        self.link.codec().skipped()
    }

    /// One exchange; `Ok(Err(byte))` is a NAK with its error byte.
    async fn ask(&mut self, c: u8, data: Vec<u8>) -> Result<Result<Vec<u8>, u8>, CoderError> {
        self.link.send(ImajeRequest::Frame { cmd: c, data }).await?;
        loop {
            match self.link.recv().await? {
                ImajeReply::Frame { ack, cmd, data } if cmd == c => {
                    return Ok(if ack {
                        Ok(data)
                    } else {
                        Err(data.first().copied().unwrap_or(nak::GENERIC))
                    });
                }
                // Stale or unsolicited: not the answer to this request.
                _ => continue,
            }
        }
    }

    async fn ok(
        &mut self,
        name: &'static str,
        c: u8,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, CoderError> {
        self.ask(c, data).await?.map_err(|e| CoderError::Refused {
            command: name,
            detail: format!("NAK {e}"),
        })
    }

    async fn counter(&mut self) -> Result<u64, CoderError> {
        let jet = self.cfg.jet;
        let data = self
            .ok("print-counter", cmd::PRINT_COUNTER, vec![jet])
            .await?;
        parse_counter(&data).ok_or_else(|| CoderError::Unexpected {
            command: "print-counter",
            got: format!("{data:02x?}"),
        })
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Coder for ImajeCoder<T> {
    fn protocol(&self) -> CoderProtocol {
        CoderProtocol::Imaje9040
    }

    async fn select_job(&mut self, _job: &str) -> Result<(), CoderError> {
        Err(CoderError::Unsupported {
            what: "message selection",
            protocol: CoderProtocol::Imaje9040,
        })
    }

    async fn set_fields(&mut self, _fields: &[(String, String)]) -> Result<(), CoderError> {
        Err(CoderError::Unsupported {
            what: "named job fields",
            protocol: CoderProtocol::Imaje9040,
        })
    }

    async fn queue(&mut self, codes: &[String]) -> Result<QueueOutcome, CoderError> {
        for c in codes {
            check_code(c, &['\u{12}'], 200)?;
        }
        let mut out = QueueOutcome::default();
        for c in codes {
            let req = ImajeRequest::external_variables(self.cfg.jet, &[c.as_bytes()]);
            let ImajeRequest::Frame { cmd: k, data } = req else {
                unreachable!("external_variables builds a frame")
            };
            match self.ask(k, data).await? {
                Ok(_) => {
                    out.accepted += 1;
                    if let Some((_, n)) = &mut self.since_clear {
                        *n += 1;
                    }
                }
                Err(nak::BUFFER_FULL) => {
                    out.full = true;
                    break;
                }
                Err(e) => {
                    return Err(CoderError::Refused {
                        command: "external-variables",
                        detail: format!("NAK {e} after {} accepted", out.accepted),
                    });
                }
            }
        }
        Ok(out)
    }

    async fn buffer_count(&mut self) -> Result<u32, CoderError> {
        let Some((base, queued)) = self.since_clear else {
            return Err(CoderError::Unsupported {
                what: "buffer count before the first clear",
                protocol: CoderProtocol::Imaje9040,
            });
        };
        let printed = self.counter().await?.saturating_sub(base);
        Ok(u32::try_from(queued.saturating_sub(printed)).unwrap_or(u32::MAX))
    }

    async fn evidence(&mut self) -> Result<PrintEvidence, CoderError> {
        Ok(PrintEvidence::PrintCounter(self.counter().await?))
    }

    async fn status(&mut self) -> Result<CoderStatus, CoderError> {
        let jet = self.cfg.jet;
        let s = self.ok("jet-status", cmd::JET_STATUS, vec![jet]).await?;
        let state = match s.first() {
            Some(0) => CoderState::Stopped,
            Some(7) => CoderState::Running,
            Some(_) => CoderState::Starting,
            None => CoderState::Unknown,
        };
        let bitmap = self.ok("faults", cmd::FAULTS, vec![]).await?;
        let mut faults = Vec::new();
        for (i, byte) in bitmap.iter().enumerate() {
            for bit in 0..8u32 {
                if byte & (1 << bit) != 0 {
                    let code = u32::try_from(i).unwrap_or(u32::MAX / 8) * 8 + bit;
                    faults.push(CoderFault {
                        code,
                        text: format!("9040 fault bit {code}"),
                        clearable: false,
                    });
                }
            }
        }
        Ok(CoderStatus { state, faults })
    }

    async fn start(&mut self) -> Result<(), CoderError> {
        self.ok("start", cmd::START_STOP, vec![mode::START])
            .await
            .map(|_| ())
    }

    async fn stop(&mut self) -> Result<(), CoderError> {
        let m = self.cfg.stop_mode;
        self.ok("stop", cmd::START_STOP, vec![m]).await.map(|_| ())
    }

    async fn clear_buffer(&mut self) -> Result<Baseline, CoderError> {
        let (c, jet) = (self.cfg.clear_cmd, self.cfg.jet);
        self.ok("clear-variables", c, vec![jet]).await?;
        let n = self.counter().await?;
        self.since_clear = Some((n, 0));
        Ok(Baseline {
            evidence: PrintEvidence::PrintCounter(n),
            next_position: n + 1,
        })
    }
}
