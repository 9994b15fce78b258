//! PIN hashes: argon2id PHC strings (`$argon2id$v=19$m=…`), never the PIN itself.
//!
//! Why argon2 for a 4–8 digit PIN: the space is small, so a hash cannot make a stolen config
//! or ledger file safe against a determined search, but it makes each guess cost memory and
//! time instead of a table lookup, and keeps the PIN out of plain sight in `edge.toml` and
//! backups. Parameters are modest (8 MiB, 2 passes): login verifies against every user on a
//! 2-core ARM box, and the UI's memory budget is 60 MB.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn argon() -> Argon2<'static> {
    // 8 MiB, t = 2, p = 1: valid by construction, so the fallback is never taken.
    let params = Params::new(8 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// 4–8 ASCII digits.
pub fn valid_pin(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Hash a PIN with a fresh random salt.
pub fn hash_pin(pin: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
    argon()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `phc` is a hash this box can verify.
pub fn valid_hash(phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| h.algorithm.as_str().starts_with("argon2"))
}

/// Does `pin` match `phc`? A malformed hash matches nothing. The parameters come from the
/// hash itself, so hashes made with other costs still verify.
pub fn verify_pin(pin: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon().verify_password(pin.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_pin_and_are_salted() {
        let a = hash_pin("2468").unwrap();
        let b = hash_pin("2468").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(!a.contains("2468"));
        assert!(verify_pin("2468", &a) && verify_pin("2468", &b));
        assert!(!verify_pin("2469", &a));
        assert!(!verify_pin("2468", "not a hash"));
        assert!(valid_hash(&a) && !valid_hash("$plain$2468"));
        assert!(valid_pin("0000") && valid_pin("12345678"));
        assert!(!valid_pin("123") && !valid_pin("123456789") && !valid_pin("12a4"));
    }
}
