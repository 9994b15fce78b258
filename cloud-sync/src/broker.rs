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
    wait_listening(v5, true)?;
    if let Some(a) = v4 {
        wait_listening(a, false)?;
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

/// Wait until the listener answers. The probe is a real MQTT session (CONNECT, CONNACK,
/// DISCONNECT): a bare TCP connect that closes without a CONNECT makes rumqttd log an ERROR at
/// every start, noise that hides real errors.
fn wait_listening(addr: SocketAddr, v5: bool) -> Result<(), BrokerError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            // Accepting TCP is what "listening" means; a failed probe session only means noise.
            let _ = mqtt_probe(stream, v5);
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(BrokerError::NotListening(addr))
}

fn mqtt_probe(mut s: TcpStream, v5: bool) -> std::io::Result<()> {
    use std::io::{Read, Write};
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    // CONNECT: protocol "MQTT", level 4 or 5, clean start, keep-alive 10 s, (v5: no
    // properties), client id "bt-probe".
    let mut connect = vec![0x10, 0, 0, 4, b'M', b'Q', b'T', b'T'];
    connect.extend_from_slice(&[if v5 { 5 } else { 4 }, 0x02, 0, 10]);
    if v5 {
        connect.push(0);
    }
    connect.extend_from_slice(&[0, 8]);
    connect.extend_from_slice(b"bt-probe");
    connect[1] = u8::try_from(connect.len() - 2).unwrap_or(0);
    s.write_all(&connect)?;
    let mut connack = [0u8; 2];
    s.read_exact(&mut connack)?;
    let mut rest = vec![0u8; usize::from(connack[1])];
    s.read_exact(&mut rest)?;
    s.write_all(&[0xE0, 0])?;
    Ok(())
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
