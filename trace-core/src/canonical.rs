//! Canonical byte encoding for hashing.
//!
//! Design: an entry's hash must not depend on struct field order, map iteration order or on
//! whether some dependency switched on serde_json's `preserve_order` feature. The encoding is
//! JSON with object keys sorted by their UTF-8 bytes, no insignificant whitespace, strings
//! escaped exactly as RFC 8785 (JCS) prescribes, and integers only — a float anywhere is an
//! error (with its path), because money and weight are integers and a float's text form is not
//! canonical across languages.
//!
//! The result is valid JSON, so a regulator can re-hash an exported entry with any JCS tool.
//!
//! How: a streaming `serde::Serializer` ([`ser`]) writes straight into the output and only
//! reorders each object's members when it closes; the earlier implementation, which built a
//! `serde_json::Value` tree first, is kept as the test oracle (`oracle`) and property tests
//! hold the two to the same bytes.

#[cfg(test)]
mod oracle;
mod ser;
#[cfg(test)]
mod tests;

use serde::Serialize;

/// Why a value has no canonical form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    #[error("value contains a floating-point number at {0}; money and weight must be integers")]
    Float(String),
    #[error("value cannot be serialised: {0}")]
    Serialize(String),
}

/// The canonical bytes of any serialisable value.
pub fn canonical_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(512);
    canonical_bytes_into(value, &mut out)?;
    Ok(out)
}

/// Append the canonical bytes of `value` to `out`. On error `out` is left as it was.
pub fn canonical_bytes_into<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), CanonicalError> {
    let mut enc = ser::Encoder::with_output(std::mem::take(out));
    let before = enc.out.len();
    let res = enc.encode(value);
    *out = enc.out;
    if let Err(e) = res {
        out.truncate(before);
        return Err(match e {
            ser::EncError::Float(segments) => {
                let mut path = String::from("$");
                for s in segments.iter().rev() {
                    path.push_str(s);
                }
                CanonicalError::Float(path)
            }
            ser::EncError::Other(m) => CanonicalError::Serialize(m),
        });
    }
    Ok(())
}
