//! `--protocol` names: one list for every device kind, so a wrong or misplaced name gets an
//! answer that teaches ("escpos is a printer protocol; scale protocols are …") instead of a
//! bare "invalid value".

use device_drivers::coder::CoderProtocol;
use device_drivers::scale::ScaleProtocol;
use device_drivers::scanner::ScannerProtocol;

/// Every protocol name the CLI accepts, with its device kind. Scripts depend on these.
pub const PROTOCOL_NAMES: [(&str, &str); 14] = [
    ("mt-sics", "scale"),
    ("toledo-8217", "scale"),
    ("toledo-continuous", "scale"),
    ("cas", "scale"),
    ("ascii-indicator", "scale"),
    ("dahua-tm", "scale"),
    ("escpos", "printer"),
    ("serial-line", "scanner"),
    ("newland-pack", "scanner"),
    ("evdev", "scanner"),
    ("zipher", "coder"),
    ("tij", "coder"),
    ("imaje-9040", "coder"),
    ("text-tcp", "coder"),
];

fn names_of(kind: &str) -> String {
    PROTOCOL_NAMES
        .iter()
        .filter(|(_, k)| *k == kind)
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The error for `s` where a `kind` protocol was expected.
fn unknown(s: &str, kind: &str) -> String {
    match PROTOCOL_NAMES.iter().find(|(n, _)| *n == s) {
        Some((_, other)) => format!(
            "{s:?} is a {other} protocol, not a {kind} protocol; {kind} protocols: {}",
            names_of(kind)
        ),
        None => format!(
            "unknown {kind} protocol {s:?}; {kind} protocols: {} (all known: {})",
            names_of(kind),
            PROTOCOL_NAMES
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn scale(s: &str) -> Result<ScaleProtocol, String> {
    s.parse().map_err(|_| unknown(s, "scale"))
}

pub fn scanner(s: &str) -> Result<ScannerProtocol, String> {
    s.parse().map_err(|_| unknown(s, "scanner"))
}

pub fn coder(s: &str) -> Result<CoderProtocol, String> {
    s.parse().map_err(|_| unknown(s, "coder"))
}

/// The only printer protocol.
pub fn printer(s: &str) -> Result<String, String> {
    if s == "escpos" {
        Ok(s.to_string())
    } else {
        Err(unknown(s, "printer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_parses_for_its_kind_and_only_there() {
        for (name, kind) in PROTOCOL_NAMES {
            assert_eq!(scale(name).is_ok(), kind == "scale", "{name}");
            assert_eq!(scanner(name).is_ok(), kind == "scanner", "{name}");
            assert_eq!(coder(name).is_ok(), kind == "coder", "{name}");
            assert_eq!(printer(name).is_ok(), kind == "printer", "{name}");
        }
        // The library's own lists hold nothing this table lacks.
        let listed = |n: &str| PROTOCOL_NAMES.iter().any(|(x, _)| *x == n);
        assert!(ScaleProtocol::ALL.iter().all(|p| listed(p.name())));
        assert!(ScannerProtocol::ALL.iter().all(|p| listed(p.name())));
        assert!(CoderProtocol::ALL.iter().all(|p| listed(p.name())));
    }

    #[test]
    fn errors_name_the_valid_ones() {
        let e = scale("mt_sics").unwrap_err();
        assert!(e.contains("mt-sics, toledo-8217"), "{e}");
        let e = scale("escpos").unwrap_err();
        assert!(
            e.contains("printer protocol") && e.contains("dahua-tm"),
            "{e}"
        );
        let e = coder("laser").unwrap_err();
        assert!(e.contains("zipher, tij, imaje-9040, text-tcp"), "{e}");
    }
}
