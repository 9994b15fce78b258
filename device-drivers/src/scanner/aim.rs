//! AIM symbology identifiers (`]E0` …): scanners can prefix each code with one, which tells
//! the box whether it read an EAN-13 from a shelf label or a QR from a receipt.

use serde::{Deserialize, Serialize};

/// The kind of barcode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Symbology {
    Ean13,
    Ean8,
    Code128,
    Gs1_128,
    Code39,
    Code93,
    Codabar,
    Itf,
    Qr,
    DataMatrix,
    Pdf417,
    Gs1DataBar,
    /// An AIM identifier we do not name, e.g. `]X0`.
    Other(String),
}

/// Split a leading AIM identifier (`]` + code letter + modifier) off `text`.
pub fn split_aim(text: &str) -> (Option<Symbology>, &str) {
    let b = text.as_bytes();
    if b.len() < 3 || b[0] != b']' || !b[1].is_ascii_alphabetic() || !b[2].is_ascii_alphanumeric() {
        return (None, text);
    }
    let sym = match (b[1], b[2]) {
        (b'E', b'4') => Symbology::Ean8,
        (b'E', _) => Symbology::Ean13,
        (b'C', b'1') => Symbology::Gs1_128,
        (b'C', _) => Symbology::Code128,
        (b'A', _) => Symbology::Code39,
        (b'G', _) => Symbology::Code93,
        (b'F', _) => Symbology::Codabar,
        (b'I', _) => Symbology::Itf,
        (b'Q', _) => Symbology::Qr,
        (b'd', _) => Symbology::DataMatrix,
        (b'L', _) => Symbology::Pdf417,
        (b'e', _) => Symbology::Gs1DataBar,
        _ => Symbology::Other(text[..3].to_string()),
    };
    (Some(sym), &text[3..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_prefixes() {
        assert_eq!(
            split_aim("]E06901234567892"),
            (Some(Symbology::Ean13), "6901234567892")
        );
        assert_eq!(
            split_aim("]E496385074"),
            (Some(Symbology::Ean8), "96385074")
        );
        assert_eq!(
            split_aim("]Q1https://t.example/x"),
            (Some(Symbology::Qr), "https://t.example/x")
        );
        assert_eq!(
            split_aim("]X0abc"),
            (Some(Symbology::Other("]X0".into())), "abc")
        );
        assert_eq!(split_aim("6901234567892"), (None, "6901234567892"));
        assert_eq!(split_aim("]"), (None, "]"));
        assert_eq!(split_aim("]é1"), (None, "]é1"));
    }
}
