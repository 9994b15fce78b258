//! Shared by the coder integration tests: connect a driver to a simulator URI, and a minimal
//! production-line feeder (low/high water marks, confirm from evidence, resync and scrap after
//! every fault) standing in for the job controller that issue 6 builds.
#![allow(dead_code)]

use device_drivers::coder::{
    AnyCoder, Coder, CoderConfig, CoderError, CoderErrorKind, CoderProtocol, InFlight, resync,
};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub type Stream = Box<dyn Io>;

pub async fn open(uri: &str) -> std::io::Result<Stream> {
    if let Some(addr) = uri.strip_prefix("tcp://") {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Box::new(s))
    } else if let Some(path) = uri.strip_prefix("serial://") {
        let p = tokio_serial::SerialStream::open(&tokio_serial::new(path, 115_200))
            .map_err(std::io::Error::other)?;
        Ok(Box::new(p))
    } else {
        panic!("unsupported URI {uri}")
    }
}

pub async fn connect(protocol: CoderProtocol, uri: &str) -> Result<AnyCoder<Stream>, CoderError> {
    let io = open(uri).await?;
    AnyCoder::connect(io, &CoderConfig::default_for(protocol)).await
}

/// Read a print log: one code per line.
pub fn read_log(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Default)]
pub struct LineOutcome {
    pub confirmed: Vec<String>,
    pub scrapped: Vec<String>,
    pub unused: Vec<String>,
    pub refused_and_reused: usize,
    pub resyncs: usize,
    pub reconnects: usize,
    pub faults_seen: usize,
    pub skipped_junk: u64,
}

pub struct Feeder {
    pub low_water: u32,
    pub high_water: u32,
    pub max_batch: usize,
    pub poll: Duration,
}

impl Default for Feeder {
    fn default() -> Self {
        Feeder {
            low_water: 10,
            high_water: 30,
            max_batch: 16,
            poll: Duration::from_millis(2),
        }
    }
}

enum Trouble {
    Error(CoderError),
    Fault,
}

impl From<CoderError> for Trouble {
    fn from(e: CoderError) -> Self {
        Trouble::Error(e)
    }
}

struct Line {
    protocol: CoderProtocol,
    uri: String,
    coder: AnyCoder<Stream>,
    inflight: InFlight<String>,
    pool: VecDeque<String>,
    out: LineOutcome,
}

impl Line {
    /// One feeding step: confirm, check faults, top up. `Ok(false)` when everything is settled.
    async fn step(&mut self, f: &Feeder) -> Result<bool, Trouble> {
        let ev = self.coder.evidence().await?;
        match self.inflight.confirm(ev) {
            Ok(c) => self.out.confirmed.extend(c),
            Err(a) => panic!("evidence anomaly on a healthy line: {a}"),
        }
        if self.pool.is_empty() && self.inflight.is_empty() {
            return Ok(false);
        }
        let st = self.coder.status().await?;
        if !st.faults.is_empty() {
            self.out.faults_seen += 1;
            return Err(Trouble::Fault);
        }
        let count = self.coder.buffer_count().await?;
        if count < f.low_water && !self.pool.is_empty() {
            let n = usize::try_from(f.high_water - count)
                .unwrap()
                .min(f.max_batch)
                .min(self.pool.len());
            let batch: Vec<String> = self.pool.drain(..n).collect();
            for c in &batch {
                self.inflight.push(c.clone());
            }
            let outcome = self.coder.queue(&batch).await?;
            let refused = self.inflight.refuse_last(batch.len() - outcome.accepted);
            self.out.refused_and_reused += refused.len();
            for c in refused.into_iter().rev() {
                self.pool.push_front(c);
            }
        } else {
            tokio::time::sleep(f.poll).await;
        }
        Ok(true)
    }

    async fn reconnect(&mut self) {
        self.out.skipped_junk += self.coder.skipped();
        loop {
            match connect(self.protocol, &self.uri).await {
                Ok(c) => {
                    self.coder = c;
                    self.out.reconnects += 1;
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    /// Settle everything in flight, wait for the fault to clear, start again.
    async fn recover(&mut self, mut reconnect: bool) {
        loop {
            if reconnect {
                self.reconnect().await;
            }
            let r = match resync(&mut self.coder, &mut self.inflight).await {
                Ok(r) => r,
                Err(e) => {
                    assert_eq!(e.kind(), CoderErrorKind::Transport, "resync failed: {e}");
                    reconnect = true;
                    continue;
                }
            };
            assert!(r.anomaly.is_none(), "{:?}", r.anomaly);
            self.out.resyncs += 1;
            self.out.confirmed.extend(r.confirmed);
            self.out.scrapped.extend(r.scrapped);
            let ready = async {
                loop {
                    if self.coder.status().await?.faults.is_empty() {
                        return self.coder.start().await;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            };
            match ready.await {
                Ok(()) => return,
                Err(_) => reconnect = true,
            }
        }
    }
}

/// Push `codes` through the coder at `uri` until every one is confirmed, scrapped or unused.
pub async fn run_line(
    protocol: CoderProtocol,
    uri: &str,
    codes: Vec<String>,
    f: &Feeder,
) -> LineOutcome {
    let mut coder = connect(protocol, uri).await.expect("connect");
    let baseline = coder.clear_buffer().await.expect("clear");
    coder.start().await.expect("start");
    let mut line = Line {
        protocol,
        uri: uri.to_string(),
        coder,
        inflight: InFlight::new(baseline),
        pool: codes.into(),
        out: LineOutcome::default(),
    };
    loop {
        match line.step(f).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(Trouble::Fault) => line.recover(false).await,
            Err(Trouble::Error(e)) => {
                let reconnect = e.kind() == CoderErrorKind::Transport;
                line.recover(reconnect).await;
            }
        }
    }
    line.out.skipped_junk += line.coder.skipped();
    line.out.unused = line.pool.into();
    line.out
}

pub fn codes(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:08}")).collect()
}
