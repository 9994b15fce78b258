//! The one task that owns the MQTT event loop.
//!
//! Why it only moves packets: `EventLoop::poll` must be called continuously for keep-alives,
//! PUBACKs and incoming acks to flow; anything slow here (a ledger read, an fsync) would stall
//! the connection. So this task subscribes on every CONNACK (the session is clean), reports
//! "ready" at the SUBACK (publishing before it could lose the acks of the first batches),
//! parses `ack`/`down` topics and forwards them to the driver; PUBACKs are deliberately
//! ignored. The last will is the retained `offline` state.

use super::SyncOptions;
use rumqttc::{
    AsyncClient, Event, EventLoop, Incoming, LastWill, MqttOptions, Outgoing, QoS, SessionMode,
    SubscribeFilterInput,
};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use trace_core::topics::{self, TopicKind};
use trace_core::{Ack, DeviceId, DeviceState, Timestamp};

/// What the driver hears from the link.
#[derive(Debug)]
pub(super) enum LinkEvent {
    /// Connected and subscribed: plan from the ledger and publish.
    Ready,
    /// The connection dropped; the link is retrying.
    Down,
    Ack(Ack),
    Downlink(Vec<u8>),
}

pub(super) fn client(opts: &SyncOptions) -> (AsyncClient, EventLoop) {
    let client_id = format!("edge-{}", opts.device);
    let mut mo = MqttOptions::new(
        client_id,
        rumqttc::Broker::tcp(opts.host.clone(), opts.port),
    );
    mo.set_keep_alive(15);
    mo.set_session_mode(SessionMode::Clean);
    if let Some(user) = &opts.username {
        mo.set_credentials(
            user.clone(),
            opts.password.clone().unwrap_or_default().into_bytes(),
        );
    }
    let offline = DeviceState::offline(opts.device.clone(), Timestamp::now());
    let will = serde_json::to_vec(&offline).unwrap_or_default();
    mo.set_last_will(LastWill::new(
        topics::state(&opts.device),
        will,
        QoS::AtLeastOnce,
        true,
        None,
    ));
    // Unbounded: the driver bounds what it queues (the window of batches in flight plus a
    // state message now and then), and a bound here could deadlock against the event loop.
    AsyncClient::builder(mo).unbounded().build()
}

pub(super) async fn run(
    mut eventloop: EventLoop,
    client: AsyncClient,
    device: DeviceId,
    tx: mpsc::UnboundedSender<LinkEvent>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    // The driver publishes `offline` and disconnects on stop; keep polling to flush that, but
    // give up if the broker is unreachable.
    let gone = stopped_for(stop.clone(), Duration::from_secs(2));
    tokio::pin!(gone);
    loop {
        let event = tokio::select! {
            ev = eventloop.poll() => ev,
            () = &mut gone => break,
        };
        match event {
            Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                backoff = Duration::from_millis(100);
                tracing::info!(%device, "connected to the broker; subscribing");
                // One SUBSCRIBE for both, so one SUBACK means "ready" exactly once.
                let filters = [topics::ack(&device), topics::down(&device)]
                    .map(|f| SubscribeFilterInput::new(f, QoS::AtLeastOnce));
                if let Err(e) = client.subscribe_many(filters).await {
                    tracing::error!(error = %e, "subscribe request failed");
                }
            }
            Ok(Event::Incoming(Incoming::SubAck(_))) => {
                if tx.send(LinkEvent::Ready).is_err() {
                    break;
                }
            }
            Ok(Event::Incoming(Incoming::Publish(p))) => {
                let parsed = std::str::from_utf8(&p.topic).ok().and_then(topics::parse);
                let ev = match parsed {
                    Some((d, TopicKind::Ack)) if d == device => {
                        match serde_json::from_slice::<Ack>(&p.payload) {
                            Ok(a) => LinkEvent::Ack(a),
                            Err(e) => {
                                tracing::warn!(error = %e, "unreadable ack ignored");
                                continue;
                            }
                        }
                    }
                    Some((d, TopicKind::Down)) if d == device => {
                        LinkEvent::Downlink(p.payload.to_vec())
                    }
                    _ => {
                        tracing::debug!(topic = %String::from_utf8_lossy(&p.topic), "message on another topic ignored");
                        continue;
                    }
                };
                if tx.send(ev).is_err() {
                    break;
                }
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
            Ok(_) => {}
            Err(e) => {
                if *stop.borrow() {
                    break;
                }
                let _ = tx.send(LinkEvent::Down);
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "MQTT connection failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = stopped(&mut stop) => break,
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Resolves `grace` after a stop was requested.
async fn stopped_for(mut stop: watch::Receiver<bool>, grace: Duration) {
    stopped(&mut stop).await;
    tokio::time::sleep(grace).await;
}

async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
