//! The streaming canonical encoder: a `serde::Serializer` that writes canonical JSON straight
//! into one output buffer.
//!
//! Why not `serde_json::Value` first: building the tree costs an allocation per node and was
//! about half of the edge ledger's CPU per append. Here values are written as they come; only
//! objects need care, because their members must end up sorted by key bytes. Each member is
//! written in the order serde produces it, its key and byte range are remembered (struct field
//! names are `&'static str`; other keys go into a shared arena), and when the object closes its
//! members are permuted into key order (a copy of that object's bytes, nothing else). Objects
//! whose members already arrive sorted are left as written.
//!
//! Design: errors carry the path of the offending value as segments collected while the error
//! unwinds (innermost first), so the success path never builds a path string.

use serde::ser::{self, Serialize};
use std::fmt::Display;

/// An encoding failure; `path` segments are innermost first.
#[derive(Debug)]
pub(super) enum EncError {
    Float(Vec<String>),
    Other(String),
}

impl EncError {
    fn at(mut self, seg: impl FnOnce() -> String) -> Self {
        if let EncError::Float(p) = &mut self {
            p.push(seg());
        }
        self
    }
}

impl Display for EncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncError::Float(_) => f.write_str("floating-point number"),
            EncError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for EncError {}

impl ser::Error for EncError {
    fn custom<T: Display>(msg: T) -> Self {
        EncError::Other(msg.to_string())
    }
}

type R = Result<(), EncError>;

#[derive(Clone, Copy)]
enum Key {
    Static(&'static str),
    /// A byte range of [`Encoder::keys`].
    Arena(usize, usize),
}

/// One member of an open object: its key and the byte range of `"key":value` in the output.
#[derive(Clone, Copy)]
struct Member {
    key: Key,
    start: usize,
    end: usize,
}

/// The encoder's state; reused buffers make repeated encodings allocation-light.
#[derive(Default)]
pub(super) struct Encoder {
    pub out: Vec<u8>,
    keys: Vec<u8>,
    scratch: Vec<u8>,
    spare: Vec<Vec<Member>>,
}

impl Encoder {
    /// An encoder that appends to `out`.
    pub fn with_output(out: Vec<u8>) -> Encoder {
        Encoder {
            out,
            ..Default::default()
        }
    }

    pub fn encode<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        value.serialize(&mut *self)
    }

    fn key_bytes<'k>(keys: &'k [u8], k: &Key) -> &'k [u8] {
        match *k {
            Key::Static(s) => s.as_bytes(),
            Key::Arena(a, b) => &keys[a..b],
        }
    }

    /// Close an object opened at `body` (just after its `{`): sort members, drop duplicate
    /// keys (the last one wins, as in a JSON map), write `}`.
    fn close_object(&mut self, body: usize, mut members: Vec<Member>, arena: usize) {
        let keys = &self.keys;
        let sorted = members
            .windows(2)
            .all(|w| Self::key_bytes(keys, &w[0].key) < Self::key_bytes(keys, &w[1].key));
        if !sorted {
            members
                .sort_by(|a, b| Self::key_bytes(keys, &a.key).cmp(Self::key_bytes(keys, &b.key)));
            self.scratch.clear();
            self.scratch.extend_from_slice(&self.out[body..]);
            self.out.truncate(body);
            let mut first = true;
            for (i, m) in members.iter().enumerate() {
                let dup = members.get(i + 1).is_some_and(|n| {
                    Self::key_bytes(keys, &n.key) == Self::key_bytes(keys, &m.key)
                });
                if dup {
                    continue;
                }
                if !first {
                    self.out.push(b',');
                }
                first = false;
                self.out
                    .extend_from_slice(&self.scratch[m.start - body..m.end - body]);
            }
        }
        self.out.push(b'}');
        self.keys.truncate(arena);
        members.clear();
        self.spare.push(members);
    }

    fn open_object(&mut self) -> Obj<'_> {
        self.out.push(b'{');
        let members = self.spare.pop().unwrap_or_default();
        Obj {
            body: self.out.len(),
            arena: self.keys.len(),
            members,
            enc: self,
            pending: None,
            wrapped: None,
        }
    }

    fn int(&mut self, mut n: u64, neg: bool) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if neg {
            self.out.push(b'-');
        }
        self.out.extend_from_slice(&buf[i..]);
    }

    /// Begin `{"variant":` for externally tagged enum variants.
    fn open_variant(&mut self, variant: &'static str) -> usize {
        self.out.push(b'{');
        write_string(variant, &mut self.out);
        self.out.push(b':');
        self.out.len()
    }
}

/// RFC 8785 string escaping: `"` `\` and C0 controls; the short forms where JSON has them.
/// Bytes ≥ 0x80 are never escaped, so runs are copied whole.
pub(super) fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(esc);
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

fn float() -> EncError {
    EncError::Float(Vec::new())
}

impl<'a> ser::Serializer for &'a mut Encoder {
    type Ok = ();
    type Error = EncError;
    type SerializeSeq = Arr<'a>;
    type SerializeTuple = Arr<'a>;
    type SerializeTupleStruct = Arr<'a>;
    type SerializeTupleVariant = Arr<'a>;
    type SerializeMap = Obj<'a>;
    type SerializeStruct = Obj<'a>;
    type SerializeStructVariant = Obj<'a>;

    fn serialize_bool(self, v: bool) -> R {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> R {
        self.int(v.unsigned_abs(), v < 0);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> R {
        // Like serde_json: only what fits an i64 or a u64 is a JSON number here.
        if let Ok(i) = i64::try_from(v) {
            self.serialize_i64(i)
        } else if let Ok(u) = u64::try_from(v) {
            self.serialize_u64(u)
        } else {
            Err(EncError::Other("number out of range".into()))
        }
    }
    fn serialize_u8(self, v: u8) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> R {
        self.int(v, false);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> R {
        u64::try_from(v)
            .map_err(|_| EncError::Other("number out of range".into()))
            .and_then(|u| self.serialize_u64(u))
    }
    fn serialize_f32(self, _: f32) -> R {
        Err(float())
    }
    fn serialize_f64(self, _: f64) -> R {
        Err(float())
    }
    fn serialize_char(self, v: char) -> R {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_str(self, v: &str) -> R {
        write_string(v, &mut self.out);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        // serde_json writes bytes as an array of numbers.
        self.out.push(b'[');
        for (i, b) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.int(u64::from(*b), false);
        }
        self.out.push(b']');
        Ok(())
    }
    fn serialize_none(self) -> R {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> R {
        self.open_variant(variant);
        value
            .serialize(&mut *self)
            .map_err(|e| e.at(|| format!(".{variant}")))?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Arr<'a>, EncError> {
        self.out.push(b'[');
        Ok(Arr {
            enc: self,
            n: 0,
            wrapped: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Arr<'a>, EncError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Arr<'a>, EncError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Arr<'a>, EncError> {
        self.open_variant(variant);
        self.out.push(b'[');
        Ok(Arr {
            enc: self,
            n: 0,
            wrapped: Some(variant),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Obj<'a>, EncError> {
        Ok(self.open_object())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Obj<'a>, EncError> {
        Ok(self.open_object())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Obj<'a>, EncError> {
        self.open_variant(variant);
        let mut o = self.open_object();
        o.wrapped = Some(variant);
        Ok(o)
    }
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> R {
        self.serialize_str(&value.to_string())
    }
}

/// An open array (or a tuple variant's array, closed with `]}`).
pub(super) struct Arr<'a> {
    enc: &'a mut Encoder,
    n: usize,
    wrapped: Option<&'static str>,
}

impl Arr<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        if self.n > 0 {
            self.enc.out.push(b',');
        }
        let i = self.n;
        self.n += 1;
        value.serialize(&mut *self.enc).map_err(|e| {
            let e = e.at(|| format!("[{i}]"));
            match self.wrapped {
                Some(v) => e.at(|| format!(".{v}")),
                None => e,
            }
        })
    }
    fn close(self) -> R {
        self.enc.out.push(b']');
        if self.wrapped.is_some() {
            self.enc.out.push(b'}');
        }
        Ok(())
    }
}

macro_rules! arr_impl {
    ($tr:ident, $m:ident) => {
        impl ser::$tr for Arr<'_> {
            type Ok = ();
            type Error = EncError;
            fn $m<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
                self.element(value)
            }
            fn end(self) -> R {
                self.close()
            }
        }
    };
}
arr_impl!(SerializeSeq, serialize_element);
arr_impl!(SerializeTuple, serialize_element);
arr_impl!(SerializeTupleStruct, serialize_field);
arr_impl!(SerializeTupleVariant, serialize_field);

/// An open object (or a struct variant's object, closed with `}}`).
pub(super) struct Obj<'a> {
    enc: &'a mut Encoder,
    body: usize,
    arena: usize,
    members: Vec<Member>,
    /// A map key written, its value not yet: (key, member start).
    pending: Option<(Key, usize)>,
    wrapped: Option<&'static str>,
}

impl Obj<'_> {
    fn begin_member(&mut self, key: Key) -> usize {
        if !self.members.is_empty() {
            self.enc.out.push(b',');
        }
        let start = self.enc.out.len();
        let enc = &mut *self.enc;
        let text = match key {
            Key::Static(s) => s,
            // Arena keys were written from `&str`s, so they are valid UTF-8.
            Key::Arena(a, b) => std::str::from_utf8(&enc.keys[a..b]).unwrap_or_default(),
        };
        write_string(text, &mut enc.out);
        enc.out.push(b':');
        start
    }

    fn value<T: Serialize + ?Sized>(&mut self, key: Key, start: usize, value: &T) -> R {
        value.serialize(&mut *self.enc).map_err(|e| {
            let name =
                String::from_utf8_lossy(Encoder::key_bytes(&self.enc.keys, &key)).into_owned();
            let e = e.at(|| format!(".{name}"));
            match self.wrapped {
                Some(v) => e.at(|| format!(".{v}")),
                None => e,
            }
        })?;
        self.members.push(Member {
            key,
            start,
            end: self.enc.out.len(),
        });
        Ok(())
    }

    fn close(self) -> R {
        let Obj {
            enc,
            body,
            arena,
            members,
            wrapped,
            ..
        } = self;
        enc.close_object(body, members, arena);
        if wrapped.is_some() {
            enc.out.push(b'}');
        }
        Ok(())
    }

    fn static_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> R {
        let start = self.begin_member(Key::Static(key));
        self.value(Key::Static(key), start, value)
    }
}

impl ser::SerializeMap for Obj<'_> {
    type Ok = ();
    type Error = EncError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R {
        let a = self.enc.keys.len();
        key.serialize(KeyWriter(&mut self.enc.keys))?;
        let k = Key::Arena(a, self.enc.keys.len());
        let start = self.begin_member(k);
        self.pending = Some((k, start));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        let (k, start) = self
            .pending
            .take()
            .ok_or_else(|| EncError::Other("map value without a key".into()))?;
        self.value(k, start, value)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl ser::SerializeStruct for Obj<'_> {
    type Ok = ();
    type Error = EncError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> R {
        self.static_field(key, value)
    }
    fn end(self) -> R {
        self.close()
    }
}

impl ser::SerializeStructVariant for Obj<'_> {
    type Ok = ();
    type Error = EncError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> R {
        self.static_field(key, value)
    }
    fn end(self) -> R {
        self.close()
    }
}

/// Writes a map key's raw text, accepting what serde_json accepts as a key.
struct KeyWriter<'k>(&'k mut Vec<u8>);

fn not_a_string() -> EncError {
    EncError::Other("key must be a string".into())
}

macro_rules! key_int {
    ($($m:ident: $t:ty),*) => {$(
        fn $m(self, v: $t) -> R {
            self.0.extend_from_slice(v.to_string().as_bytes());
            Ok(())
        }
    )*};
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = EncError;
    type SerializeSeq = ser::Impossible<(), EncError>;
    type SerializeTuple = ser::Impossible<(), EncError>;
    type SerializeTupleStruct = ser::Impossible<(), EncError>;
    type SerializeTupleVariant = ser::Impossible<(), EncError>;
    type SerializeMap = ser::Impossible<(), EncError>;
    type SerializeStruct = ser::Impossible<(), EncError>;
    type SerializeStructVariant = ser::Impossible<(), EncError>;

    key_int!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128);

    fn serialize_bool(self, v: bool) -> R {
        self.0.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> R {
        Err(float())
    }
    fn serialize_f64(self, _: f64) -> R {
        Err(float())
    }
    fn serialize_char(self, v: char) -> R {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_str(self, v: &str) -> R {
        self.0.extend_from_slice(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        Err(not_a_string())
    }
    fn serialize_none(self) -> R {
        Err(not_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> R {
        Err(not_a_string())
    }
    fn serialize_unit(self) -> R {
        Err(not_a_string())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Err(not_a_string())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> R {
        Err(not_a_string())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, EncError> {
        Err(not_a_string())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, EncError> {
        Err(not_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, EncError> {
        Err(not_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, EncError> {
        Err(not_a_string())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, EncError> {
        Err(not_a_string())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, EncError> {
        Err(not_a_string())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, EncError> {
        Err(not_a_string())
    }
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> R {
        self.serialize_str(&value.to_string())
    }
}
