//! Free space where the ledger lives.
//!
//! Why: the box never drops an unsynced entry to make room (no TTL, no ring buffer), so a
//! long outage on a small SD card ends with a full disk. Before that happens the box must say
//! so, in its log and as a `disk_low` fault in its retained state, while there is still room
//! for a technician to act.

use std::path::Path;

/// Bytes available to this (unprivileged) process on the file system holding `path`.
// `fsblkcnt_t` and `c_ulong` are u64 here but u32 on 32-bit ARM boxes: the conversions are
// only useless on some targets.
#[allow(clippy::useless_conversion)]
pub fn free_bytes(path: &Path) -> Result<u64, nix::Error> {
    let s = nix::sys::statvfs::statvfs(path)?;
    Ok(u64::from(s.blocks_available()).saturating_mul(u64::from(s.fragment_size())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_space_and_errors() {
        let d = tempfile::tempdir().unwrap();
        assert!(free_bytes(d.path()).unwrap() > 0);
        assert!(free_bytes(&d.path().join("missing")).is_err());
    }
}
