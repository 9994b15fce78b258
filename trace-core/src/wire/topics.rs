//! MQTT topic names (v1): `bt/v1/dev/{device}/{up|ack|down|state}`.
//!
//! Why builders and a parser here: the broker ACL, the edge client and the cloud ingest must
//! agree on these strings exactly; the cloud also derives the sender's identity from the topic,
//! so parsing validates the device id rather than trusting whatever sits between the slashes.

use crate::ids::DeviceId;

pub const PREFIX: &str = "bt/v1/dev";
/// Every device's `up` topic, for a plain subscription.
pub const UP_WILDCARD: &str = "bt/v1/dev/+/up";
/// Every device's `state` topic.
pub const STATE_WILDCARD: &str = "bt/v1/dev/+/state";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicKind {
    /// Edge → cloud: entry batches.
    Up,
    /// Cloud → edge: acknowledgements.
    Ack,
    /// Cloud → edge: downlink documents.
    Down,
    /// Edge → cloud, retained: device state (and the last will).
    State,
}

impl TopicKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TopicKind::Up => "up",
            TopicKind::Ack => "ack",
            TopicKind::Down => "down",
            TopicKind::State => "state",
        }
    }
}

pub fn topic(device: &DeviceId, kind: TopicKind) -> String {
    format!("{PREFIX}/{device}/{}", kind.as_str())
}

pub fn up(device: &DeviceId) -> String {
    topic(device, TopicKind::Up)
}

pub fn ack(device: &DeviceId) -> String {
    topic(device, TopicKind::Ack)
}

pub fn down(device: &DeviceId) -> String {
    topic(device, TopicKind::Down)
}

pub fn state(device: &DeviceId) -> String {
    topic(device, TopicKind::State)
}

/// `$share/{group}/bt/v1/dev/+/up`: cloud ingest workers share the `up` stream (MQTT 5 shared
/// subscription), each message going to one worker.
pub fn shared_up_filter(group: &str) -> String {
    format!("$share/{group}/{UP_WILDCARD}")
}

/// Split a concrete topic into its device and kind; `None` for anything else (wrong prefix,
/// invalid device id, unknown suffix, extra levels).
pub fn parse(topic: &str) -> Option<(DeviceId, TopicKind)> {
    let rest = topic.strip_prefix(PREFIX)?.strip_prefix('/')?;
    let (device, kind) = rest.split_once('/')?;
    let kind = match kind {
        "up" => TopicKind::Up,
        "ack" => TopicKind::Ack,
        "down" => TopicKind::Down,
        "state" => TopicKind::State,
        _ => return None,
    };
    Some((DeviceId::new(device).ok()?, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_parse() {
        let d = DeviceId::new("stall-a01").unwrap();
        assert_eq!(up(&d), "bt/v1/dev/stall-a01/up");
        assert_eq!(ack(&d), "bt/v1/dev/stall-a01/ack");
        assert_eq!(down(&d), "bt/v1/dev/stall-a01/down");
        assert_eq!(state(&d), "bt/v1/dev/stall-a01/state");
        for k in [
            TopicKind::Up,
            TopicKind::Ack,
            TopicKind::Down,
            TopicKind::State,
        ] {
            assert_eq!(parse(&topic(&d, k)), Some((d.clone(), k)));
        }
        assert_eq!(shared_up_filter("ingest"), "$share/ingest/bt/v1/dev/+/up");
        for bad in [
            "bt/v1/dev/stall-a01/upx",
            "bt/v1/dev/stall-a01/up/extra",
            "bt/v2/dev/stall-a01/up",
            "bt/v1/dev/+/up",
            "bt/v1/dev//up",
            "bt/v1/dev/Stall/up",
            "bt/v1/devx/stall-a01/up",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
