//! The async scale driver: one codec per protocol, the request/response dance, timeouts.
//!
//! Design: the driver owns the stream and a read buffer; each operation writes a command (if
//! the protocol has one) and then decodes frames until the one it waits for arrives, skipping
//! stale replies to earlier commands. A deadline covers the whole wait. End of stream is
//! [`ScaleError::Disconnected`] so the supervisor reconnects.

use super::ascii::{
    AsciiCommand, AsciiIndicatorCodec, AsciiIndicatorConfig, AsciiMode, AsciiState,
};
use super::cas::{CasCodec, CasCommand, CasConfig, CasReply};
use super::continuous::{ContinuousCodec, ContinuousCommand, ContinuousConfig};
use super::dahua::{CLEAR_ALL_PLUS, DahuaCodec, PluRecord};
use super::mtsics::{MtSicsCodec, MtSicsCommand, MtSicsReply, Refusal};
use super::toledo8217::{Toledo8217Codec, Toledo8217Command, Toledo8217Config};
use super::{
    CommandOutcome, DecodeStats, Scale, ScaleError, ScaleProtocol, WeightReading, WeightStatus,
};
use crate::transport::{BoxedStream, TransportConfig};
use bytes::BytesMut;
use futures::Stream;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::{Decoder, Encoder};

/// Per-protocol settings; each defaults to the documented behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScaleOptions {
    /// How long to wait for a reply (or, on continuous output, the next frame).
    #[serde(rename = "reply_timeout_ms", with = "millis")]
    pub reply_timeout: Duration,
    pub toledo_8217: Toledo8217Options,
    pub continuous: ContinuousConfig,
    pub cas: CasConfig,
    pub ascii: AsciiIndicatorConfig,
}

/// [`Toledo8217Config`] in config-file form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Toledo8217Options {
    pub unit: super::WeightUnit,
    pub bit6_is_bad_command: bool,
}

impl Default for ScaleOptions {
    fn default() -> Self {
        Self {
            reply_timeout: Duration::from_secs(1),
            toledo_8217: Toledo8217Options::default(),
            continuous: ContinuousConfig::default(),
            cas: CasConfig::default(),
            ascii: AsciiIndicatorConfig::default(),
        }
    }
}

pub(crate) mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

enum Codec {
    MtSics(MtSicsCodec),
    Toledo8217(Toledo8217Codec),
    Continuous(ContinuousCodec),
    Cas(CasCodec),
    Ascii(Box<AsciiIndicatorCodec>),
    Dahua(DahuaCodec),
}

/// A connected scale of any supported protocol.
pub struct ScaleDriver {
    protocol: ScaleProtocol,
    io: BoxedStream,
    buf: BytesMut,
    codec: Codec,
    tare_grams: i64,
    timeout: Duration,
}

async fn next_frame<D>(
    io: &mut BoxedStream,
    buf: &mut BytesMut,
    codec: &mut D,
    timeout: Duration,
) -> Result<D::Item, ScaleError>
where
    D: Decoder<Error = std::io::Error>,
{
    let wait = async {
        loop {
            if let Some(item) = codec.decode(buf)? {
                return Ok(item);
            }
            if io.read_buf(buf).await? == 0 {
                return Err(ScaleError::Disconnected);
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .map_err(|_| ScaleError::Timeout(timeout))?
}

async fn send<E, T>(io: &mut BoxedStream, codec: &mut E, item: T) -> Result<(), ScaleError>
where
    E: Encoder<T, Error = std::io::Error>,
{
    let mut out = BytesMut::new();
    codec.encode(item, &mut out)?;
    io.write_all(&out).await?;
    io.flush().await?;
    Ok(())
}

/// Drop replies already buffered, so a late answer to a timed-out command is not taken for
/// the answer to the next one.
fn drain<D: Decoder<Error = std::io::Error>>(buf: &mut BytesMut, codec: &mut D) {
    while let Ok(Some(_)) = codec.decode(buf) {}
}

fn refusal(r: Refusal) -> CommandOutcome {
    CommandOutcome::Refused(
        match r {
            Refusal::NotExecutable => "not executable now",
            Refusal::Over => "above range",
            Refusal::Under => "below range",
        }
        .into(),
    )
}

impl ScaleDriver {
    /// Open `transport` and start a driver on it.
    pub async fn connect(
        protocol: ScaleProtocol,
        transport: &TransportConfig,
        opts: &ScaleOptions,
    ) -> Result<Self, ScaleError> {
        Ok(Self::new(protocol, transport.open().await?, opts))
    }

    /// A driver over an already open stream.
    pub fn new(protocol: ScaleProtocol, io: BoxedStream, opts: &ScaleOptions) -> Self {
        let codec = match protocol {
            ScaleProtocol::MtSics => Codec::MtSics(MtSicsCodec::new()),
            ScaleProtocol::Toledo8217 => {
                Codec::Toledo8217(Toledo8217Codec::new(Toledo8217Config {
                    unit: opts.toledo_8217.unit,
                    bit6_is_bad_command: opts.toledo_8217.bit6_is_bad_command,
                }))
            }
            ScaleProtocol::ToledoContinuous => {
                Codec::Continuous(ContinuousCodec::new(opts.continuous))
            }
            ScaleProtocol::Cas => Codec::Cas(CasCodec::new(opts.cas)),
            ScaleProtocol::AsciiIndicator => {
                Codec::Ascii(Box::new(AsciiIndicatorCodec::new(opts.ascii.clone())))
            }
            ScaleProtocol::DahuaTm => Codec::Dahua(DahuaCodec::default()),
        };
        Self {
            protocol,
            io,
            buf: BytesMut::with_capacity(256),
            codec,
            tare_grams: 0,
            timeout: opts.reply_timeout,
        }
    }

    pub fn protocol(&self) -> ScaleProtocol {
        self.protocol
    }

    fn unsupported(&self, operation: &'static str) -> ScaleError {
        ScaleError::Unsupported {
            protocol: self.protocol,
            operation,
        }
    }

    /// Dahua TM: replace the scale's PLU keys (`!0IA` first when `clear_first`), one record per
    /// command, each waiting for the scale's `CR LF ETX`. Returns the number of records sent.
    pub async fn download_plus(
        &mut self,
        records: &[PluRecord],
        clear_first: bool,
    ) -> Result<usize, ScaleError> {
        let Codec::Dahua(c) = &mut self.codec else {
            return Err(self.unsupported("download PLU keys"));
        };
        // Validate everything before touching the scale: a bad record must change nothing.
        let commands = records
            .iter()
            .map(PluRecord::command)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ScaleError::UnexpectedReply(e.to_string()))?;
        if clear_first {
            send(&mut self.io, c, CLEAR_ALL_PLUS).await?;
            next_frame(&mut self.io, &mut self.buf, c, self.timeout).await?;
        }
        for cmd in &commands {
            send(&mut self.io, c, cmd.as_str()).await?;
            next_frame(&mut self.io, &mut self.buf, c, self.timeout).await?;
        }
        Ok(commands.len())
    }

    async fn mt_sics(&mut self, cmd: MtSicsCommand) -> Result<MtSicsReply, ScaleError> {
        let Codec::MtSics(c) = &mut self.codec else {
            unreachable!("protocol checked by caller")
        };
        drain(&mut self.buf, c);
        send(&mut self.io, c, cmd).await?;
        loop {
            let reply = next_frame(&mut self.io, &mut self.buf, c, self.timeout).await?;
            let fits = match (cmd, &reply) {
                (_, MtSicsReply::Error(_)) => true,
                (MtSicsCommand::S | MtSicsCommand::SI, r) => {
                    matches!(
                        r,
                        MtSicsReply::Weight { .. } | MtSicsReply::WeightRefused(_)
                    )
                }
                (MtSicsCommand::Z | MtSicsCommand::ZI, r) => {
                    matches!(r, MtSicsReply::Zeroed | MtSicsReply::ZeroRefused(_))
                }
                (MtSicsCommand::T | MtSicsCommand::TI | MtSicsCommand::TA, r) => {
                    matches!(r, MtSicsReply::Tare { .. } | MtSicsReply::TareRefused(_))
                }
                (MtSicsCommand::TAC, r) => {
                    matches!(r, MtSicsReply::TareCleared | MtSicsReply::TareClearRefused)
                }
                _ => true,
            };
            if fits {
                return Ok(reply);
            }
        }
    }

    async fn send_only(&mut self, what: &'static str) -> Result<CommandOutcome, ScaleError> {
        match (&mut self.codec, what) {
            (Codec::Toledo8217(c), w) => {
                let cmd = match w {
                    "zero" => Toledo8217Command::Zero,
                    "tare" => Toledo8217Command::Tare,
                    _ => Toledo8217Command::ClearTare,
                };
                send(&mut self.io, c, cmd).await?;
            }
            (Codec::Continuous(c), w) => {
                let cmd = match w {
                    "zero" => ContinuousCommand::Zero,
                    "tare" => ContinuousCommand::Tare,
                    _ => ContinuousCommand::Clear,
                };
                send(&mut self.io, c, cmd).await?;
            }
            (Codec::Cas(c), w) => {
                // CAS has no clear-tare key: pressing tare with the platter empty clears it.
                let cmd = if w == "zero" {
                    CasCommand::Zero
                } else {
                    CasCommand::Tare
                };
                send(&mut self.io, c, cmd).await?;
            }
            (Codec::Ascii(c), w) => {
                let c: &mut AsciiIndicatorCodec = c;
                let cmd = match w {
                    "zero" => AsciiCommand::Zero,
                    "tare" => AsciiCommand::Tare,
                    _ => AsciiCommand::ClearTare,
                };
                send(&mut self.io, c, cmd).await?;
            }
            (Codec::Dahua(_), _) => return Err(self.unsupported(what)),
            (Codec::MtSics(_), _) => unreachable!("MT-SICS confirms its commands"),
        }
        if what == "clear tare" {
            self.tare_grams = 0;
        }
        Ok(CommandOutcome::Sent)
    }
}

impl Scale for ScaleDriver {
    async fn read_weight(&mut self) -> Result<WeightReading, ScaleError> {
        let timeout = self.timeout;
        match &mut self.codec {
            Codec::MtSics(_) => {
                let reply = self.mt_sics(MtSicsCommand::SI).await?;
                let tare = self.tare_grams;
                Ok(match reply {
                    MtSicsReply::Weight { stable, grams } => {
                        WeightReading::weight(grams, stable, tare != 0, tare)
                    }
                    MtSicsReply::WeightRefused(Refusal::Over) => {
                        WeightReading::state(WeightStatus::Overload)
                    }
                    MtSicsReply::WeightRefused(Refusal::Under) => {
                        WeightReading::state(WeightStatus::Underload)
                    }
                    _ => WeightReading::state(WeightStatus::Error),
                })
            }
            Codec::Toledo8217(c) => {
                drain(&mut self.buf, c);
                send(&mut self.io, c, Toledo8217Command::Weight).await?;
                let reply = next_frame(&mut self.io, &mut self.buf, c, timeout).await?;
                Ok(reply.reading(c.config(), self.tare_grams))
            }
            Codec::Continuous(c) => {
                let frame = next_frame(&mut self.io, &mut self.buf, c, timeout).await?;
                Ok(frame.reading(c.config()))
            }
            Codec::Cas(c) => {
                drain(&mut self.buf, c);
                send(&mut self.io, c, CasCommand::Enq).await?;
                loop {
                    match next_frame(&mut self.io, &mut self.buf, c, timeout).await? {
                        CasReply::Ack => break,
                        CasReply::Nak => {
                            return Err(ScaleError::UnexpectedReply("NAK to ENQ".into()));
                        }
                        CasReply::Weight(_) => {}
                    }
                }
                send(&mut self.io, c, CasCommand::Dc1).await?;
                loop {
                    if let CasReply::Weight(f) =
                        next_frame(&mut self.io, &mut self.buf, c, timeout).await?
                    {
                        return Ok(f.reading(c.config()));
                    }
                }
            }
            Codec::Ascii(c) => {
                let c: &mut AsciiIndicatorCodec = c;
                if !c.config().continuous {
                    drain(&mut self.buf, c);
                    send(&mut self.io, c, AsciiCommand::Read).await?;
                }
                loop {
                    let line = next_frame(&mut self.io, &mut self.buf, c, timeout).await?;
                    let grams = line.grams.unwrap_or(0);
                    match (line.state, line.mode) {
                        (_, AsciiMode::Tare) => self.tare_grams = grams,
                        (AsciiState::Overload, _) => {
                            return Ok(WeightReading::state(WeightStatus::Overload));
                        }
                        (state, mode) => {
                            let net = mode == AsciiMode::Net;
                            let tare = if net { self.tare_grams } else { 0 };
                            return Ok(WeightReading::weight(
                                grams,
                                state == AsciiState::Stable,
                                net,
                                tare,
                            ));
                        }
                    }
                }
            }
            Codec::Dahua(_) => Err(self.unsupported("read a weight")),
        }
    }

    async fn zero(&mut self) -> Result<CommandOutcome, ScaleError> {
        if let Codec::MtSics(_) = self.codec {
            return Ok(match self.mt_sics(MtSicsCommand::Z).await? {
                MtSicsReply::Zeroed => CommandOutcome::Done,
                MtSicsReply::ZeroRefused(r) => refusal(r),
                other => CommandOutcome::Refused(other.to_line()),
            });
        }
        self.send_only("zero").await
    }

    async fn tare(&mut self) -> Result<CommandOutcome, ScaleError> {
        if let Codec::MtSics(_) = self.codec {
            return Ok(match self.mt_sics(MtSicsCommand::T).await? {
                MtSicsReply::Tare { grams } => {
                    self.tare_grams = grams;
                    CommandOutcome::Done
                }
                MtSicsReply::TareRefused(r) => refusal(r),
                other => CommandOutcome::Refused(other.to_line()),
            });
        }
        self.send_only("tare").await
    }

    async fn clear_tare(&mut self) -> Result<CommandOutcome, ScaleError> {
        if let Codec::MtSics(_) = self.codec {
            return Ok(match self.mt_sics(MtSicsCommand::TAC).await? {
                MtSicsReply::TareCleared => {
                    self.tare_grams = 0;
                    CommandOutcome::Done
                }
                other => CommandOutcome::Refused(other.to_line()),
            });
        }
        self.send_only("clear tare").await
    }

    fn is_continuous(&self) -> bool {
        match &self.codec {
            Codec::Continuous(_) => true,
            Codec::Ascii(c) => c.config().continuous,
            _ => false,
        }
    }

    fn decode_stats(&self) -> DecodeStats {
        match &self.codec {
            Codec::MtSics(c) => c.stats(),
            Codec::Toledo8217(c) => c.stats(),
            Codec::Continuous(c) => c.stats(),
            Codec::Cas(c) => c.stats(),
            Codec::Ascii(c) => c.stats(),
            Codec::Dahua(c) => c.stats(),
        }
    }
}

/// A stream of readings: every frame of a continuous scale, or one poll per `poll` interval.
/// Ends after the first connection-level error (which it yields), so a supervisor reconnects.
pub fn readings<S: Scale>(
    scale: S,
    poll: Duration,
) -> impl Stream<Item = Result<WeightReading, ScaleError>> + Send {
    futures::stream::unfold(
        (scale, false, false),
        move |(mut scale, polled, done)| async move {
            if done {
                return None;
            }
            if polled && !scale.is_continuous() {
                tokio::time::sleep(poll).await;
            }
            let r = scale.read_weight().await;
            let end = matches!(&r, Err(e) if e.kind() != super::ScaleErrorKind::Protocol);
            Some((r, (scale, true, end)))
        },
    )
}
