//! CLARiTY driver: the serialization buffer (`SHO`/`SDO`) carries the codes, `SLR` (last index
//! printed) is the evidence, `SNI` after a clear says which index the next record takes.

use super::protocol::{ZipherCodec, ZipherCommand, ZipherReply};
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
pub struct ZipherConfig {
    /// The job field each serialization record fills (`SHO|field|`).
    pub serial_field: String,
    /// Records per `SDO` line.
    pub records_per_line: usize,
    /// `SST` state used by `stop()` (4 Offline keeps the printer warm; 0 shuts it down).
    pub stop_state: u8,
    #[serde(with = "crate::coder::any::millis")]
    pub reply_timeout: Duration,
}

impl Default for ZipherConfig {
    fn default() -> Self {
        ZipherConfig {
            serial_field: "code".into(),
            records_per_line: 16,
            stop_state: 4,
            reply_timeout: Duration::from_secs(2),
        }
    }
}

pub struct ZipherCoder<T> {
    link: Link<T, ZipherCodec>,
    cfg: ZipherConfig,
    header_sent: bool,
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> ZipherCoder<T> {
    pub fn new(io: T, cfg: ZipherConfig) -> Self {
        ZipherCoder {
            link: Link::new(io, ZipherCodec::default(), cfg.reply_timeout),
            cfg,
            header_sent: false,
        }
    }

    /// Junk lines skipped so far.
    pub fn skipped(&self) -> u64 {
        self.link.codec().skipped()
    }

    async fn ask(&mut self, cmd: ZipherCommand) -> Result<ZipherReply, CoderError> {
        self.link.send(cmd).await?;
        self.link.recv().await
    }

    async fn expect_ack(
        &mut self,
        name: &'static str,
        cmd: ZipherCommand,
    ) -> Result<(), CoderError> {
        match self.ask(cmd).await? {
            ZipherReply::Ack => Ok(()),
            ZipherReply::Err => Err(CoderError::Refused {
                command: name,
                detail: "ERR".into(),
            }),
            other => Err(unexpected(name, &other)),
        }
    }

    async fn number(&mut self, name: &'static str, cmd: ZipherCommand) -> Result<u64, CoderError> {
        match self.ask(cmd).await? {
            ZipherReply::Src(n) if name == "SRC" => Ok(n),
            ZipherReply::Sni(n) if name == "SNI" => Ok(n),
            ZipherReply::Slr(n) if name == "SLR" => Ok(n),
            ZipherReply::Err => Err(CoderError::Refused {
                command: name,
                detail: "ERR".into(),
            }),
            other => Err(unexpected(name, &other)),
        }
    }

    async fn send_header(&mut self) -> Result<(), CoderError> {
        let fields = vec![self.cfg.serial_field.clone()];
        self.expect_ack("SHO", ZipherCommand::Sho { fields })
            .await?;
        self.header_sent = true;
        Ok(())
    }
}

fn unexpected(name: &'static str, r: &ZipherReply) -> CoderError {
    CoderError::Unexpected {
        command: name,
        got: format!("{r:?}"),
    }
}

fn check_text(s: &str) -> Result<(), CoderError> {
    if s.contains(['|', '\r', '\n']) {
        return Err(CoderError::Invalid(format!(
            "{s:?} contains a CLARiTY delimiter"
        )));
    }
    Ok(())
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Coder for ZipherCoder<T> {
    fn protocol(&self) -> CoderProtocol {
        CoderProtocol::Zipher
    }

    async fn select_job(&mut self, job: &str) -> Result<(), CoderError> {
        check_text(job)?;
        let cmd = ZipherCommand::Sel {
            job: job.into(),
            values: vec![],
        };
        self.expect_ack("SEL", cmd).await?;
        // A new job may come with a new serialization layout.
        self.header_sent = false;
        Ok(())
    }

    async fn set_fields(&mut self, fields: &[(String, String)]) -> Result<(), CoderError> {
        for (k, v) in fields {
            check_text(k)?;
            check_text(v)?;
            if k.contains('=') || k.is_empty() {
                return Err(CoderError::Invalid(format!("bad field name {k:?}")));
            }
        }
        self.expect_ack(
            "JDA",
            ZipherCommand::Jda {
                fields: fields.to_vec(),
            },
        )
        .await
    }

    async fn queue(&mut self, codes: &[String]) -> Result<QueueOutcome, CoderError> {
        for c in codes {
            check_code(c, &['|'], 512)?;
        }
        if !self.header_sent {
            self.send_header().await?;
        }
        let mut accepted = 0;
        for chunk in codes.chunks(self.cfg.records_per_line.max(1)) {
            match self
                .ask(ZipherCommand::Sdo {
                    values: chunk.to_vec(),
                })
                .await?
            {
                ZipherReply::Sfs(_) | ZipherReply::Ack => accepted += chunk.len(),
                // Whether a refused SDO added some records is not documented: the caller must
                // treat the whole call as in flight and resync.
                ZipherReply::Err => {
                    return Err(CoderError::Refused {
                        command: "SDO",
                        detail: format!("ERR after {accepted} records accepted"),
                    });
                }
                other => return Err(unexpected("SDO", &other)),
            }
        }
        Ok(QueueOutcome {
            accepted,
            full: false,
        })
    }

    async fn buffer_count(&mut self) -> Result<u32, CoderError> {
        let n = self.number("SRC", ZipherCommand::Src).await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn evidence(&mut self) -> Result<PrintEvidence, CoderError> {
        Ok(PrintEvidence::LastPrintedIndex(
            self.number("SLR", ZipherCommand::Slr).await?,
        ))
    }

    async fn status(&mut self) -> Result<CoderStatus, CoderError> {
        let (overall, error) = match self.ask(ZipherCommand::Gst).await? {
            ZipherReply::Sts { overall, error, .. } => (overall, error),
            other => return Err(unexpected("GST", &other)),
        };
        let state = match overall {
            0 => CoderState::Stopped,
            1 => CoderState::Starting,
            2 => CoderState::Stopping,
            3 => CoderState::Running,
            4 => CoderState::Offline,
            _ => CoderState::Unknown,
        };
        let mut faults = Vec::new();
        if error >= 2 {
            match self.ask(ZipherCommand::Gft).await? {
                ZipherReply::Flt(f) => {
                    faults = f
                        .into_iter()
                        .map(|f| CoderFault {
                            code: f.code,
                            text: f.text,
                            clearable: f.clearable,
                        })
                        .collect()
                }
                other => return Err(unexpected("GFT", &other)),
            }
        }
        Ok(CoderStatus { state, faults })
    }

    async fn start(&mut self) -> Result<(), CoderError> {
        self.expect_ack("SST", ZipherCommand::Sst(3)).await
    }

    async fn stop(&mut self) -> Result<(), CoderError> {
        let s = self.cfg.stop_state;
        self.expect_ack("SST", ZipherCommand::Sst(s)).await
    }

    async fn clear_buffer(&mut self) -> Result<Baseline, CoderError> {
        self.expect_ack("SCB", ZipherCommand::Scb).await?;
        self.send_header().await?;
        let last = self.number("SLR", ZipherCommand::Slr).await?;
        let next = self.number("SNI", ZipherCommand::Sni).await?;
        // An empty buffer's next index can only be ahead of the last printed one.
        let next_position = next.max(last + 1);
        Ok(Baseline {
            evidence: PrintEvidence::LastPrintedIndex(last),
            next_position,
        })
    }
}
