use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_serial::SerialStream;

/// Where a simulator listens, from a URI: `tcp://127.0.0.1:0` or `pty://` (a new pty pair whose
/// device-side path is reported by [`SimEndpoint::describe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimListen {
    Tcp(SocketAddr),
    Pty,
}

impl std::str::FromStr for SimListen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = s.strip_prefix("tcp://") {
            let addr = rest
                .parse()
                .map_err(|e| format!("bad listen address {rest:?}: {e}"))?;
            Ok(SimListen::Tcp(addr))
        } else if s == "pty" || s == "pty://" {
            Ok(SimListen::Pty)
        } else {
            Err(format!(
                "listen URI must be tcp://HOST:PORT or pty://, got {s:?}"
            ))
        }
    }
}

/// A bound simulator endpoint.
pub enum SimEndpoint {
    Tcp(TcpListener),
    /// The simulator's side of a pty pair, plus the path a driver opens. A pty carries exactly
    /// one "connection"; after the first `accept` it is gone.
    Pty {
        device_side: Option<SerialStream>,
        path: String,
    },
}

impl SimEndpoint {
    pub async fn bind(listen: &SimListen) -> std::io::Result<Self> {
        match listen {
            SimListen::Tcp(addr) => Ok(SimEndpoint::Tcp(TcpListener::bind(addr).await?)),
            SimListen::Pty => {
                let (sim_side, driver_side) =
                    SerialStream::pair().map_err(std::io::Error::other)?;
                let path = tokio_serial::SerialPort::name(&driver_side)
                    .ok_or_else(|| std::io::Error::other("pty has no name"))?;
                // The driver opens the slave by path; drop our handle to it so the driver can
                // take it exclusively.
                drop(driver_side);
                Ok(SimEndpoint::Pty {
                    device_side: Some(sim_side),
                    path,
                })
            }
        }
    }

    /// The URI a driver should connect to, e.g. `tcp://127.0.0.1:40123` or `serial:///dev/pts/7`.
    pub fn describe(&self) -> std::io::Result<String> {
        match self {
            SimEndpoint::Tcp(l) => Ok(format!("tcp://{}", l.local_addr()?)),
            SimEndpoint::Pty { path, .. } => Ok(format!("serial://{path}")),
        }
    }

    /// The TCP address, when listening on TCP.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            SimEndpoint::Tcp(l) => l.local_addr().ok(),
            SimEndpoint::Pty { .. } => None,
        }
    }

    /// The next connection. For a pty, the first call returns it and later calls never resolve.
    pub async fn accept(&mut self) -> std::io::Result<SimConnection> {
        match self {
            SimEndpoint::Tcp(l) => {
                let (s, _) = l.accept().await?;
                s.set_nodelay(true)?;
                Ok(SimConnection::Tcp(s))
            }
            SimEndpoint::Pty { device_side, .. } => match device_side.take() {
                Some(s) => Ok(SimConnection::Pty(s)),
                None => std::future::pending().await,
            },
        }
    }
}

/// One simulator connection: TCP or the master side of a pty.
pub enum SimConnection {
    Tcp(TcpStream),
    Pty(SerialStream),
}

impl AsyncRead for SimConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            SimConnection::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            SimConnection::Pty(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for SimConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            SimConnection::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            SimConnection::Pty(s) => Pin::new(s).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            SimConnection::Tcp(s) => Pin::new(s).poll_flush(cx),
            SimConnection::Pty(s) => Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            SimConnection::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            SimConnection::Pty(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn tcp_endpoint_round_trip() {
        let mut ep = SimEndpoint::bind(&"tcp://127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = ep.local_addr().unwrap();
        assert!(ep.describe().unwrap().starts_with("tcp://127.0.0.1:"));
        let client = tokio::spawn(async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(b"ping").await.unwrap();
            let mut b = [0u8; 4];
            c.read_exact(&mut b).await.unwrap();
            b
        });
        let mut conn = ep.accept().await.unwrap();
        let mut b = [0u8; 4];
        conn.read_exact(&mut b).await.unwrap();
        conn.write_all(b"pong").await.unwrap();
        assert_eq!(&b, b"ping");
        assert_eq!(&client.await.unwrap(), b"pong");
    }

    #[tokio::test]
    async fn pty_endpoint_is_opened_by_path() {
        let mut ep = SimEndpoint::bind(&SimListen::Pty).await.unwrap();
        let uri = ep.describe().unwrap();
        let path = uri.strip_prefix("serial://").unwrap().to_string();
        let mut drv = tokio_serial::SerialStream::open(&tokio_serial::new(&path, 9600)).unwrap();
        let mut sim = ep.accept().await.unwrap();
        drv.write_all(b"ST,GS\r\n").await.unwrap();
        let mut b = [0u8; 7];
        sim.read_exact(&mut b).await.unwrap();
        assert_eq!(&b, b"ST,GS\r\n");
    }

    #[test]
    fn listen_uri_errors_say_what_to_do() {
        assert!(
            "udp://x"
                .parse::<SimListen>()
                .unwrap_err()
                .contains("tcp://HOST:PORT")
        );
    }
}
