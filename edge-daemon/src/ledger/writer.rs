//! Group commit: one thread owns the ledger; callers queue drafts and get their sealed entry
//! back after the commit that contains it.
//!
//! Why: with `synchronous=FULL` every transaction costs an fsync (milliseconds on an SD card).
//! At line speed (a coder printing several codes a second, a burst of scale readings) one
//! transaction per entry would cap throughput at the disk's fsync rate. The writer takes
//! whatever is queued when it wakes, up to `max_batch`, and commits it as one transaction: the
//! more callers wait, the bigger the batch, so throughput grows with load while a lone caller
//! still gets one-entry latency. Durability is unchanged: nobody hears `Ok` before the fsync.
//!
//! Callers encode their own drafts before queueing them (see [`WriterHandle::submit`]): the
//! canonical bytes do not depend on `seq`, so only hashing is left for the writer.
//!
//! Design: a bounded std channel (backpressure when the disk cannot keep up) feeding a loop
//! `recv one → drain the rest (lingering briefly for more once a batch is forming) →
//! append_group → reply each`. A refused draft gets its own
//! error (savepoint rollback) without failing its neighbours; a storage failure fails the whole
//! batch, and every caller in it gets that error. The thread stops when every handle is
//! dropped or [`LedgerWriter::shutdown`] is called, and gives the ledger back.

use super::{Encoded, Ledger, LedgerError};
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;
use trace_core::{DeviceId, Entry, EntryDraft, TicketCodec};

#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Most drafts committed in one transaction.
    pub max_batch: usize,
    /// Drafts that may wait in the queue before `submit` blocks.
    pub queue: usize,
    /// While a batch is forming under load (more than one draft already taken), wait up to
    /// this long for the next draft before committing, so a burst whose producer is still
    /// encoding lands in one transaction (one fsync) instead of several. A lone draft never
    /// waits: with nobody else queued it commits at once.
    pub linger: std::time::Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            max_batch: 1024,
            queue: 8192,
            linger: std::time::Duration::from_micros(200),
        }
    }
}

type Reply = oneshot::Sender<Result<Entry, LedgerError>>;

enum Msg {
    Append(Box<Encoded>, Reply),
    Stop,
}

/// A cloneable handle for queueing drafts to the writer thread.
#[derive(Debug, Clone)]
pub struct WriterHandle {
    tx: mpsc::SyncSender<Msg>,
    device: DeviceId,
    /// The ledger's ticket-code key (see `Ledger::set_ticket_codec`): submitters decode their
    /// sales' counters, so the writer does not.
    codec: Option<TicketCodec>,
}

/// A queued draft's outcome, available after the commit that contains it.
#[derive(Debug)]
pub struct Pending(oneshot::Receiver<Result<Entry, LedgerError>>);

impl Pending {
    /// Block until committed. Not from inside an async task: use [`Pending::recv`] there.
    pub fn wait(self) -> Result<Entry, LedgerError> {
        self.0.blocking_recv().unwrap_or(Err(LedgerError::Closed))
    }

    pub async fn recv(self) -> Result<Entry, LedgerError> {
        self.0.await.unwrap_or(Err(LedgerError::Closed))
    }
}

impl WriterHandle {
    /// Queue a draft; blocks only while the queue is full. The draft is encoded (canonical
    /// bytes, body JSON) here, on the caller's thread, so several producers encode in parallel
    /// while the writer commits; a draft that cannot be encoded is refused through its
    /// [`Pending`], like any other refusal.
    pub fn submit(&self, draft: EntryDraft) -> Result<Pending, LedgerError> {
        let (tx, rx) = oneshot::channel();
        match Encoded::new(draft, &self.device, self.codec.as_ref()) {
            Ok(enc) => self
                .tx
                .send(Msg::Append(Box::new(enc), tx))
                .map_err(|_| LedgerError::Closed)?,
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
        Ok(Pending(rx))
    }

    /// Queue a draft and block until it is committed.
    pub fn append(&self, draft: EntryDraft) -> Result<Entry, LedgerError> {
        self.submit(draft)?.wait()
    }

    /// Queue a draft and await its commit.
    pub async fn append_async(&self, draft: EntryDraft) -> Result<Entry, LedgerError> {
        self.submit(draft)?.recv().await
    }
}

/// The writer thread and a handle to it.
#[derive(Debug)]
pub struct LedgerWriter {
    handle: WriterHandle,
    thread: JoinHandle<Ledger>,
}

impl LedgerWriter {
    pub fn spawn(ledger: Ledger, opts: WriterOptions) -> Result<LedgerWriter, LedgerError> {
        let (tx, rx) = mpsc::sync_channel(opts.queue.max(1));
        let device = ledger.device().clone();
        let codec = ledger.ticket_codec().cloned();
        let max_batch = opts.max_batch.max(1);
        let linger = opts.linger;
        let thread = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || run(ledger, &rx, max_batch, linger))
            .map_err(|e| LedgerError::Internal {
                what: "starting the ledger writer",
                detail: e.to_string(),
            })?;
        Ok(LedgerWriter {
            handle: WriterHandle { tx, device, codec },
            thread,
        })
    }

    pub fn handle(&self) -> WriterHandle {
        self.handle.clone()
    }

    /// Commit everything already queued, stop, and return the ledger.
    pub fn shutdown(self) -> Result<Ledger, LedgerError> {
        // A full queue makes this wait for room, which is what we want: queued drafts first.
        let _ = self.handle.tx.send(Msg::Stop);
        drop(self.handle);
        self.thread.join().map_err(|_| LedgerError::Internal {
            what: "stopping the ledger writer",
            detail: "the writer thread panicked".into(),
        })
    }
}

fn run(
    mut ledger: Ledger,
    rx: &mpsc::Receiver<Msg>,
    max_batch: usize,
    linger: std::time::Duration,
) -> Ledger {
    let mut drafts = Vec::with_capacity(max_batch);
    let mut replies: Vec<Reply> = Vec::with_capacity(max_batch);
    loop {
        let mut stop = false;
        match rx.recv() {
            Ok(Msg::Append(d, r)) => {
                drafts.push(*d);
                replies.push(r);
            }
            Ok(Msg::Stop) | Err(_) => stop = true,
        }
        while !stop && drafts.len() < max_batch {
            let next = match rx.try_recv() {
                Err(mpsc::TryRecvError::Empty) if drafts.len() > 1 && !linger.is_zero() => {
                    match rx.recv_timeout(linger) {
                        Ok(m) => Ok(m),
                        Err(mpsc::RecvTimeoutError::Timeout) => break,
                        Err(mpsc::RecvTimeoutError::Disconnected) => {
                            Err(mpsc::TryRecvError::Disconnected)
                        }
                    }
                }
                Err(mpsc::TryRecvError::Empty) => break,
                other => other,
            };
            match next {
                Ok(Msg::Append(d, r)) => {
                    drafts.push(*d);
                    replies.push(r);
                }
                Ok(Msg::Stop) | Err(_) => stop = true,
            }
        }
        if !drafts.is_empty() {
            match ledger.append_group(std::mem::take(&mut drafts)) {
                Ok(results) => {
                    for (reply, res) in replies.drain(..).zip(results) {
                        let _ = reply.send(res);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "group commit failed; nothing in the batch was written");
                    for reply in replies.drain(..) {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
        if stop {
            return ledger;
        }
    }
}
