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

/// The text stored in the `body` column of a sealed draft: the body's canonical JSON, cut out
/// of the canonical bytes the hash is computed over.
///
/// Why: serialising the event a second time (serde order) was a third of the submitting
/// thread's work per entry, and the canonical bytes already hold the body as valid JSON. The
/// hash contract flattens the event, so the canonical object is, keys sorted,
/// `{"at":A,"body":B,"device":"D","id":"I","kind":"K","v":V}`: every part but `B` is known
/// here, so `B` is found by checking that exact prefix and suffix (two comparisons, no
/// parsing). Anything else (a future layout) falls back to [`body_json`]. Readers parse the
/// body with serde, which does not care about key order, so old rows (serde order) and new
/// rows (sorted) read back the same.
pub(crate) fn body_range(
    canonical: &[u8],
    at: i64,
    device: &str,
    id: &str,
    kind: &str,
    v: u16,
) -> Option<std::ops::Range<usize>> {
    // Built by hand, not with `write!`: this runs once per entry on the submitting thread.
    // No UTF-8 check of the cut either: the canonical bytes are UTF-8 (written from `&str`
    // and ASCII punctuation) and both cuts fall next to ASCII bytes, so the slice is UTF-8.
    let mut prefix = Vec::with_capacity(32);
    prefix.extend_from_slice(br#"{"at":"#);
    push_int(&mut prefix, at);
    prefix.extend_from_slice(br#","body":"#);
    let mut suffix = Vec::with_capacity(64 + device.len());
    for part in [
        r#","device":""#,
        device,
        r#"","id":""#,
        id,
        r#"","kind":""#,
        kind,
        r#"","v":"#,
    ] {
        suffix.extend_from_slice(part.as_bytes());
    }
    push_int(&mut suffix, i64::from(v));
    suffix.push(b'}');
    let end = canonical.len().checked_sub(suffix.len())?;
    (end > prefix.len() && canonical.starts_with(&prefix) && canonical.ends_with(&suffix))
        .then_some(prefix.len()..end)
}

/// Decimal digits of `n`, as the canonical encoder writes integers.
fn push_int(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    let mut digits = [0u8; 20];
    let mut u = n.unsigned_abs();
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// The stored body text of a sealed entry, as [`Ledger::append`](super::Ledger::append)
/// writes it (for the benchmark's baseline, which must store the same bytes).
pub(crate) fn stored_body(e: &Entry) -> Result<String, String> {
    let canonical = e.canonical().map_err(|x| x.to_string())?;
    let id = e.id.to_string();
    match body_range(
        &canonical,
        e.at.0,
        e.device.as_str(),
        &id,
        e.event.kind(),
        e.v,
    ) {
        Some(r) => String::from_utf8(canonical[r].to_vec()).map_err(|e| e.to_string()),
        None => body_json(&e.event),
    }
}

/// The JSON text of an event's body (the part after its `kind` tag), in serde's field order.
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
        // The canonical body (what append stores) is the same JSON and reads back the same.
        let stored = stored_body(&e).unwrap();
        assert_eq!(parse(stored.clone()), parse(body_json(&ev).unwrap()));
        let canon = StoredRow {
            body: stored,
            ..row.clone()
        };
        assert_eq!(canon.decode(&dev).unwrap(), e);
        let mut bad = row;
        bad.body = "{\"target_seq\":\"x\"}".into();
        assert!(
            bad.decode(&dev)
                .unwrap_err()
                .contains("void body does not parse")
        );
    }
}
