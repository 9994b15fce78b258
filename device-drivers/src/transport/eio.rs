//! `EIO` on read means the other end is gone (a pty whose master closed, a USB serial adapter
//! pulled out). Tokio reports it as an error; a driver wants end-of-stream so its supervisor
//! reconnects instead of logging a crash.

use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Linux `EIO`.
const EIO: i32 = 5;

/// Wraps a stream so that a read failing with `EIO` reads as end-of-stream.
#[derive(Debug)]
pub struct EofOnEio<T> {
    inner: T,
    ended: bool,
}

impl<T> EofOnEio<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            ended: false,
        }
    }

    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// True when an I/O error means "the device went away".
pub fn is_eio(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(EIO)
}

impl<T: AsyncRead + Unpin> AsyncRead for EofOnEio<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Err(e)) if is_eio(&e) => {
                this.ended = true;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for EofOnEio<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A reader that fails with EIO, as a pty does once its master is closed.
    struct Eio;
    impl AsyncRead for Eio {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            Poll::Ready(Err(std::io::Error::from_raw_os_error(EIO)))
        }
    }

    #[tokio::test]
    async fn eio_reads_as_end_of_stream() {
        let mut r = EofOnEio::new(Eio);
        let mut b = [0u8; 4];
        assert_eq!(r.read(&mut b).await.unwrap(), 0);
        assert_eq!(r.read(&mut b).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn other_errors_pass_through() {
        struct Refused;
        impl AsyncRead for Refused {
            fn poll_read(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                _: &mut ReadBuf<'_>,
            ) -> Poll<std::io::Result<()>> {
                Poll::Ready(Err(std::io::ErrorKind::ConnectionReset.into()))
            }
        }
        let mut r = EofOnEio::new(Refused);
        let mut b = [0u8; 4];
        assert!(r.read(&mut b).await.is_err());
    }
}
