//! One request/reply exchange over a framed transport, with a deadline. Shared by the drivers so
//! each protocol module only says what to send and which reply it expects.

use super::CoderError;
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{Decoder, Encoder, Framed};

pub(crate) struct Link<T, C> {
    framed: Framed<T, C>,
    timeout: Duration,
}

impl<T, C> Link<T, C>
where
    T: AsyncRead + AsyncWrite + Unpin,
    C: Decoder<Error = std::io::Error>,
{
    pub(crate) fn new(io: T, codec: C, timeout: Duration) -> Self {
        Link {
            framed: Framed::new(io, codec),
            timeout,
        }
    }

    pub(crate) fn codec(&self) -> &C {
        self.framed.codec()
    }

    pub(crate) fn codec_mut(&mut self) -> &mut C {
        self.framed.codec_mut()
    }

    pub(crate) async fn send<I>(&mut self, item: I) -> Result<(), CoderError>
    where
        C: Encoder<I, Error = std::io::Error>,
    {
        self.framed.send(item).await.map_err(map_io)
    }

    /// The next decoded frame; bad bytes were already skipped (and counted) by the decoder.
    pub(crate) async fn recv(&mut self) -> Result<C::Item, CoderError> {
        match tokio::time::timeout(self.timeout, self.framed.next()).await {
            Err(_) => Err(CoderError::Timeout(self.timeout)),
            Ok(None) => Err(CoderError::Closed),
            Ok(Some(Err(e))) => Err(map_io(e)),
            Ok(Some(Ok(f))) => Ok(f),
        }
    }
}

/// A pty whose other side closed reads EIO on Linux: that is end of stream, not a crash.
fn map_io(e: std::io::Error) -> CoderError {
    if e.raw_os_error() == Some(5)
        || matches!(
            e.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionReset
        )
    {
        CoderError::Closed
    } else {
        CoderError::Io(e)
    }
}
