//! The embedded MQTT broker (rumqttd) for one-machine installs and `baytrace demo`.
//!
//! Why rumqttd: it is the only embeddable Rust broker verified here (crates.md §4). Its
//! caveats shape this module: `Broker::start()` blocks forever on its own OS threads (each with
//! its own runtime), there is **no shutdown API**, state is in memory only, and it binds the
//! listen address itself. So the broker gets its own thread for the life of the process, a
//! requested port 0 is turned into a concrete free port first (bind, read, release: a tiny race
//! another process could win, reported as an error when the listener never comes up), and the
//! function returns only once the listener accepts connections.
//!
//! rumqttd 0.20 implements MQTT 5 shared subscriptions (`$share/{group}/…`, round robin), so
//! the cloud uses the same filter as against Mosquitto. It runs one MQTT 5 listener and,
//! optionally, an MQTT 3.1.1 listener for clients that speak only that. It has no ACL: the
//! cloud's signature check is the line of defence on the embedded broker.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("cannot reserve a port on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("broker configuration rejected: {0}")]
    Config(String),
    #[error("cannot start the broker thread: {0}")]
    Thread(std::io::Error),
    #[error("the broker did not start listening on {0} (port taken?)")]
    NotListening(SocketAddr),
}

/// Addresses of a started embedded broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedBroker {
    /// MQTT 5 listener (what the cloud and MQTT 5 boxes use).
    pub v5: SocketAddr,
    /// MQTT 3.1.1 listener, when asked for.
    pub v4: Option<SocketAddr>,
}

/// Start an MQTT 5 broker on `addr` (port 0 = any free port) on its own thread; returns the
/// address it listens on. It runs until the process exits.
pub fn start_embedded_broker(addr: SocketAddr) -> Result<SocketAddr, BrokerError> {
    start_embedded_broker_with(addr, None).map(|b| b.v5)
}

/// As [`start_embedded_broker`], with an MQTT 3.1.1 listener on `v4` as well.
pub fn start_embedded_broker_with(
    v5: SocketAddr,
    v4: Option<SocketAddr>,
) -> Result<EmbeddedBroker, BrokerError> {
    let v5 = concrete(v5)?;
    let v4 = v4.map(concrete).transpose()?;
    let config = config(v5, v4)?;
    let mut broker = rumqttd::Broker::new(config);
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded broker stopped");
            }
        })
        .map_err(BrokerError::Thread)?;
    for a in std::iter::once(v5).chain(v4) {
        wait_listening(a)?;
    }
    tracing::info!(%v5, ?v4, "embedded MQTT broker listening");
    Ok(EmbeddedBroker { v5, v4 })
}

fn concrete(addr: SocketAddr) -> Result<SocketAddr, BrokerError> {
    if addr.port() != 0 {
        return Ok(addr);
    }
    let l = TcpListener::bind(addr).map_err(|source| BrokerError::Bind { addr, source })?;
    l.local_addr()
        .map_err(|source| BrokerError::Bind { addr, source })
}

fn wait_listening(addr: SocketAddr) -> Result<(), BrokerError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(BrokerError::NotListening(addr))
}

fn listener(name: &str, addr: SocketAddr) -> String {
    format!(
        r#"
[{name}]
name = "{name}"
listen = "{addr}"
next_connection_delay_ms = 1
[{name}.connections]
connection_timeout_ms = 60000
max_payload_size = 268435455
max_inflight_count = 500
dynamic_filters = true
"#
    )
}

fn config(v5: SocketAddr, v4: Option<SocketAddr>) -> Result<rumqttd::Config, BrokerError> {
    let mut text = String::from(
        r#"
id = 0
[router]
max_connections = 10010
max_outgoing_packet_count = 500
max_segment_size = 104857600
max_segment_count = 10
"#,
    );
    text.push_str(&listener("v5.1", v5));
    if let Some(v4) = v4 {
        text.push_str(&listener("v4.1", v4));
    }
    toml::from_str(&text).map_err(|e| BrokerError::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let c = config(a, Some(a)).unwrap();
        assert!(c.v5.is_some() && c.v4.is_some());
    }
}
