//! How an [`Entry`] is laid out in the `entries` table and read back.
//!
//! The event is split into its `kind` tag and the JSON of its body, so new vocabulary kinds
//! need no new columns; the device id lives once in `meta`, not in every row.

use serde_json::Value;
use trace_core::{DeviceId, Digest, Entry, Event, Timestamp};
use ulid::Ulid;

/// The stored columns of one entry, as read from the table (before any checking).
#[derive(Debug, Clone)]
pub(crate) struct StoredRow {
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub v: i64,
    pub kind: String,
    pub body: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

pub(crate) const SELECT_COLUMNS: &str = "seq, id, at, v, kind, body, prev_hash, hash";

impl StoredRow {
    pub fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
        Ok(StoredRow {
            seq: r.get(0)?,
            id: r.get(1)?,
            at: r.get(2)?,
            v: r.get(3)?,
            kind: r.get(4)?,
            body: r.get(5)?,
            prev_hash: r.get(6)?,
            hash: r.get(7)?,
        })
    }

    /// Rebuild the entry; the error says which column does not decode.
    pub fn decode(self, device: &DeviceId) -> Result<Entry, String> {
        let seq = u64::try_from(self.seq).map_err(|_| format!("negative seq {}", self.seq))?;
        let id = Ulid::from_string(&self.id).map_err(|e| format!("id {:?}: {e}", self.id))?;
        let v = u16::try_from(self.v).map_err(|_| format!("vocabulary version {}", self.v))?;
        let body: Value =
            serde_json::from_str(&self.body).map_err(|e| format!("body is not JSON: {e}"))?;
        let event: Event = serde_json::from_value(serde_json::json!({
            "kind": self.kind,
            "body": body,
        }))
        .map_err(|e| format!("{} body does not parse: {e}", self.kind))?;
        let prev_hash = Digest::from_slice(&self.prev_hash)
            .ok_or_else(|| format!("prev_hash is {} bytes, not 32", self.prev_hash.len()))?;
        let hash = Digest::from_slice(&self.hash)
            .ok_or_else(|| format!("hash is {} bytes, not 32", self.hash.len()))?;
        Ok(Entry {
            device: device.clone(),
            seq,
            id,
            at: Timestamp(self.at),
            v,
            event,
            prev_hash,
            hash,
        })
    }
}

/// The JSON text of an event's body (the part after its `kind` tag).
///
/// Fast path: serde writes an adjacently tagged enum as `{"kind":"…","body":…}`, tag first,
/// so the body is that string minus a known prefix and the closing brace; no `Value` tree.
/// Anything else falls back to going through a `Value`.
pub(crate) fn body_json(event: &Event) -> Result<String, String> {
    let full = serde_json::to_string(event).map_err(|e| e.to_string())?;
    let prefix = format!("{{\"kind\":\"{}\",\"body\":", event.kind());
    if full.starts_with(&prefix) && full.ends_with('}') && full.len() > prefix.len() {
        return Ok(full[prefix.len()..full.len() - 1].to_owned());
    }
    body_json_slow(event)
}

fn body_json_slow(event: &Event) -> Result<String, String> {
    let mut v = serde_json::to_value(event).map_err(|e| e.to_string())?;
    let body = v
        .get_mut("body")
        .map(Value::take)
        .unwrap_or(Value::Object(Default::default()));
    Ok(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_core::{HashAlg, event::Void};

    #[test]
    fn row_round_trip() {
        let dev = DeviceId::new("stall-a01").unwrap();
        let ev = Event::Void(Void {
            target_seq: 3,
            reason: "称错".into(),
        });
        let e = Entry::seal(
            trace_core::EntryDraft::new(ev.clone()),
            dev.clone(),
            1,
            Digest::ZERO,
            HashAlg::Sha256,
        )
        .unwrap();
        let row = StoredRow {
            seq: 1,
            id: e.id.to_string(),
            at: e.at.0,
            v: i64::from(e.v),
            kind: ev.kind().into(),
            body: body_json(&ev).unwrap(),
            prev_hash: e.prev_hash.0.to_vec(),
            hash: e.hash.0.to_vec(),
        };
        let parse = |s: String| serde_json::from_str::<Value>(&s).unwrap();
        assert_eq!(
            parse(body_json(&ev).unwrap()),
            parse(body_json_slow(&ev).unwrap())
        );
        let back = row.clone().decode(&dev).unwrap();
        assert_eq!(back, e);
        let mut bad = row;
        bad.body = "{\"target_seq\":\"x\"}".into();
        assert!(
            bad.decode(&dev)
                .unwrap_err()
                .contains("void body does not parse")
        );
    }
}
