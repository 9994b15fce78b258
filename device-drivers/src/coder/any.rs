//! One driver picked at run time from configuration, without `dyn` (the trait's async methods
//! are not object safe): the device manager holds an [`AnyCoder`] over whatever transport it
//! opened.

use super::imaje::{ImajeCoder, ImajeConfig};
use super::text_tcp::{TextTcpCoder, TextTcpConfig};
use super::tij::{TijCoder, TijConfig};
use super::zipher::{ZipherCoder, ZipherConfig};
use super::{Baseline, Coder, CoderError, CoderProtocol, CoderStatus, PrintEvidence, QueueOutcome};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

/// Protocol and its settings, e.g. in TOML: `protocol = "tij"`, `machine = 1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "protocol", rename_all = "kebab-case")]
pub enum CoderConfig {
    Zipher(ZipherConfig),
    Tij(TijConfig),
    #[serde(rename = "imaje-9040")]
    Imaje9040(ImajeConfig),
    TextTcp(Box<TextTcpConfig>),
}

impl CoderConfig {
    /// Defaults for a protocol.
    pub fn default_for(p: CoderProtocol) -> Self {
        match p {
            CoderProtocol::Zipher => CoderConfig::Zipher(ZipherConfig::default()),
            CoderProtocol::Tij => CoderConfig::Tij(TijConfig::default()),
            CoderProtocol::Imaje9040 => CoderConfig::Imaje9040(ImajeConfig::default()),
            CoderProtocol::TextTcp => CoderConfig::TextTcp(Box::default()),
        }
    }

    pub fn protocol(&self) -> CoderProtocol {
        match self {
            CoderConfig::Zipher(_) => CoderProtocol::Zipher,
            CoderConfig::Tij(_) => CoderProtocol::Tij,
            CoderConfig::Imaje9040(_) => CoderProtocol::Imaje9040,
            CoderConfig::TextTcp(_) => CoderProtocol::TextTcp,
        }
    }
}

pub enum AnyCoder<T> {
    Zipher(ZipherCoder<T>),
    Tij(TijCoder<T>),
    Imaje9040(ImajeCoder<T>),
    TextTcp(Box<TextTcpCoder<T>>),
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> AnyCoder<T> {
    /// Build the driver and run its protocol's opening exchange (handshake, ENQ) if it has one.
    pub async fn connect(io: T, cfg: &CoderConfig) -> Result<Self, CoderError> {
        Ok(match cfg {
            CoderConfig::Zipher(c) => AnyCoder::Zipher(ZipherCoder::new(io, c.clone())),
            CoderConfig::Tij(c) => AnyCoder::Tij(TijCoder::connect(io, c.clone()).await?),
            CoderConfig::Imaje9040(c) => {
                AnyCoder::Imaje9040(ImajeCoder::connect(io, c.clone()).await?)
            }
            CoderConfig::TextTcp(c) => {
                AnyCoder::TextTcp(Box::new(TextTcpCoder::new(io, (**c).clone())))
            }
        })
    }

    /// Junk the decoder skipped so far (noise, bad checksums, unmatched lines).
    pub fn skipped(&self) -> u64 {
        match self {
            AnyCoder::Zipher(c) => c.skipped(),
            AnyCoder::Tij(c) => c.skipped(),
            AnyCoder::Imaje9040(c) => c.skipped(),
            AnyCoder::TextTcp(c) => c.skipped(),
        }
    }
}

macro_rules! each {
    ($s:expr, $c:ident => $e:expr) => {
        match $s {
            AnyCoder::Zipher($c) => $e,
            AnyCoder::Tij($c) => $e,
            AnyCoder::Imaje9040($c) => $e,
            AnyCoder::TextTcp($c) => $e,
        }
    };
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Coder for AnyCoder<T> {
    fn protocol(&self) -> CoderProtocol {
        each!(self, c => c.protocol())
    }
    async fn select_job(&mut self, job: &str) -> Result<(), CoderError> {
        each!(self, c => c.select_job(job).await)
    }
    async fn set_fields(&mut self, fields: &[(String, String)]) -> Result<(), CoderError> {
        each!(self, c => c.set_fields(fields).await)
    }
    async fn queue(&mut self, codes: &[String]) -> Result<QueueOutcome, CoderError> {
        each!(self, c => c.queue(codes).await)
    }
    async fn buffer_count(&mut self) -> Result<u32, CoderError> {
        each!(self, c => c.buffer_count().await)
    }
    async fn evidence(&mut self) -> Result<PrintEvidence, CoderError> {
        each!(self, c => c.evidence().await)
    }
    async fn status(&mut self) -> Result<CoderStatus, CoderError> {
        each!(self, c => c.status().await)
    }
    async fn start(&mut self) -> Result<(), CoderError> {
        each!(self, c => c.start().await)
    }
    async fn stop(&mut self) -> Result<(), CoderError> {
        each!(self, c => c.stop().await)
    }
    async fn clear_buffer(&mut self) -> Result<Baseline, CoderError> {
        each!(self, c => c.clear_buffer().await)
    }
}

/// Durations in config files are whole milliseconds.
pub(crate) mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_tagged_by_protocol_and_rejects_unknown_keys() {
        let c: CoderConfig =
            serde_json::from_str(r#"{"protocol":"tij","machine":7,"reply_timeout":500}"#).unwrap();
        let CoderConfig::Tij(t) = &c else {
            panic!("{c:?}")
        };
        assert_eq!(t.machine, 7);
        assert_eq!(t.reply_timeout.as_millis(), 500);
        assert_eq!(c.protocol(), CoderProtocol::Tij);
        assert!(serde_json::from_str::<CoderConfig>(r#"{"protocol":"tij","bogus":1}"#).is_err());
        let z: CoderConfig = serde_json::from_str(r#"{"protocol":"imaje-9040"}"#).unwrap();
        assert_eq!(z, CoderConfig::default_for(CoderProtocol::Imaje9040));
        for p in CoderProtocol::ALL {
            assert_eq!(p.name().parse::<CoderProtocol>().unwrap(), p);
            assert_eq!(CoderConfig::default_for(p).protocol(), p);
        }
    }
}
