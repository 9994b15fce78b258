//! Canonical byte encoding for hashing.
//!
//! Design: an entry's hash must not depend on struct field order, map iteration order or on
//! whether some dependency switched on serde_json's `preserve_order` feature. We therefore
//! serialise to a `serde_json::Value` and write it ourselves: object keys sorted by their UTF-8
//! bytes, no insignificant whitespace, strings escaped exactly as RFC 8785 (JCS) prescribes, and
//! integers only — a float anywhere is an error, because money and weight are integers and a
//! float's text form is not canonical across languages.
//!
//! The result is valid JSON, so a regulator can re-hash an exported entry with any JCS tool.

use serde::Serialize;
use serde_json::Value;

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
    let v = serde_json::to_value(value).map_err(|e| CanonicalError::Serialize(e.to_string()))?;
    let mut out = Vec::with_capacity(256);
    write_value(&v, &mut out, &mut String::from("$"))?;
    Ok(out)
}

fn write_value(v: &Value, out: &mut Vec<u8>, path: &mut String) -> Result<(), CanonicalError> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                return Err(CanonicalError::Float(path.clone()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                write_value(item, out, path)?;
                path.truncate(len);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                let len = path.len();
                path.push('.');
                path.push_str(k);
                write_value(&map[k], out, path)?;
                path.truncate(len);
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// RFC 8785 string escaping: `"` `\` and C0 controls; the short forms where JSON has them.
fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for ch in s.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_whitespace_dropped() {
        let v = json!({"b": 1, "a": [true, null, "x"], "c": {"z": -3, "y": "\n"}});
        assert_eq!(
            canonical_bytes(&v).unwrap(),
            br#"{"a":[true,null,"x"],"b":1,"c":{"y":"\n","z":-3}}"#.to_vec()
        );
    }

    #[test]
    fn field_order_does_not_matter() {
        #[derive(Serialize)]
        struct A {
            x: u32,
            y: &'static str,
        }
        #[derive(Serialize)]
        struct B {
            y: &'static str,
            x: u32,
        }
        assert_eq!(
            canonical_bytes(&A { x: 1, y: "猪肉" }).unwrap(),
            canonical_bytes(&B { y: "猪肉", x: 1 }).unwrap()
        );
    }

    #[test]
    fn floats_are_refused_with_their_path() {
        let v = json!({"lines": [{"price": 1.5}]});
        assert_eq!(
            canonical_bytes(&v),
            Err(CanonicalError::Float("$.lines[0].price".into()))
        );
    }

    #[test]
    fn control_characters_use_jcs_escapes() {
        assert_eq!(
            canonical_bytes("a\u{1}\"\\").unwrap(),
            br#""a\u0001\"\\""#.to_vec()
        );
    }
}
