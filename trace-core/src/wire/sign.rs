//! Detached signatures over envelope bytes: Ed25519 by default, SM2 (GM/T 0003, with the
//! default distinguishing id `1234567812345678` of GM/T 0009) for deployments that must use the
//! national algorithms.
//!
//! Why detached and outside the envelope: the cloud authenticates a box by its MQTT identity,
//! but a batch forwarded or stored elsewhere (an export to the regulator, a ticket imported by
//! another stall offline) must carry its own proof. Signing the exact envelope bytes avoids any
//! question of canonical re-serialisation.
//!
//! ```text
//! offset 0  4 bytes  magic "BTSG"
//!        4  1 byte   version (1)
//!        5  1 byte   algorithm: 1 = Ed25519, 2 = SM2
//!        6  2 bytes  signature length, u16 little-endian
//!        8  …        signature, then the payload (an envelope) to the end
//! ```

use signature_compat::{ed_sign, ed_verify, sm2_sign, sm2_verify};

pub const MAGIC: [u8; 4] = *b"BTSG";
pub const SIGNED_VERSION: u8 = 1;
/// The default SM2 distinguishing identifier (GM/T 0009-2012).
pub const SM2_DEFAULT_DISTID: &str = "1234567812345678";
const HEADER_LEN: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignAlg {
    Ed25519,
    Sm2,
}

impl SignAlg {
    fn byte(self) -> u8 {
        match self {
            SignAlg::Ed25519 => 1,
            SignAlg::Sm2 => 2,
        }
    }
}

/// A private key able to sign. `Debug` does not print key material.
#[derive(Clone)]
pub enum SignKey {
    Ed25519(ed25519_dalek::SigningKey),
    Sm2(sm2::dsa::SigningKey),
}

impl std::fmt::Debug for SignKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignKey::{:?}(<redacted>)", self.alg())
    }
}

impl SignKey {
    /// An Ed25519 key from its 32-byte seed.
    pub fn ed25519_from_seed(seed: &[u8; 32]) -> SignKey {
        SignKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// An SM2 key from its 32-byte secret scalar, with the default distinguishing id.
    pub fn sm2_from_bytes(secret: &[u8; 32]) -> Result<SignKey, SignError> {
        sm2::dsa::SigningKey::from_slice(SM2_DEFAULT_DISTID, secret)
            .map(SignKey::Sm2)
            .map_err(|_| SignError::BadKey)
    }

    pub fn alg(&self) -> SignAlg {
        match self {
            SignKey::Ed25519(_) => SignAlg::Ed25519,
            SignKey::Sm2(_) => SignAlg::Sm2,
        }
    }

    pub fn verify_key(&self) -> VerifyKey {
        match self {
            SignKey::Ed25519(k) => VerifyKey::Ed25519(k.verifying_key()),
            SignKey::Sm2(k) => VerifyKey::Sm2(k.verifying_key().clone()),
        }
    }
}

/// A public key able to verify. Compared by algorithm and encoded bytes.
#[derive(Debug, Clone)]
pub enum VerifyKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Sm2(sm2::dsa::VerifyingKey),
}

impl PartialEq for VerifyKey {
    fn eq(&self, other: &VerifyKey) -> bool {
        self.alg() == other.alg() && self.to_bytes() == other.to_bytes()
    }
}

impl Eq for VerifyKey {}

impl VerifyKey {
    pub fn alg(&self) -> SignAlg {
        match self {
            VerifyKey::Ed25519(_) => SignAlg::Ed25519,
            VerifyKey::Sm2(_) => SignAlg::Sm2,
        }
    }

    /// Ed25519: the 32-byte public key; SM2: the SEC1 uncompressed point (65 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            VerifyKey::Ed25519(k) => k.to_bytes().to_vec(),
            VerifyKey::Sm2(k) => k.to_sec1_bytes().to_vec(),
        }
    }

    pub fn from_bytes(alg: SignAlg, bytes: &[u8]) -> Result<VerifyKey, SignError> {
        match alg {
            SignAlg::Ed25519 => {
                let arr: [u8; 32] = bytes.try_into().map_err(|_| SignError::BadKey)?;
                ed25519_dalek::VerifyingKey::from_bytes(&arr)
                    .map(VerifyKey::Ed25519)
                    .map_err(|_| SignError::BadKey)
            }
            SignAlg::Sm2 => sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DEFAULT_DISTID, bytes)
                .map(VerifyKey::Sm2)
                .map_err(|_| SignError::BadKey),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("signed envelope is truncated")]
    Truncated,
    #[error("not a signed baytrace envelope")]
    Magic,
    #[error("signed-envelope version {0} is not supported")]
    Version(u8),
    #[error("unknown signature algorithm {0}")]
    Alg(u8),
    #[error("signed with {found:?}, but the key is {expected:?}")]
    AlgMismatch { expected: SignAlg, found: SignAlg },
    #[error("signature does not verify")]
    BadSignature,
    #[error("key bytes are not a valid key")]
    BadKey,
    #[error("signing failed")]
    Sign,
}

/// Payload bytes plus a detached signature over exactly those bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEnvelope {
    pub payload: Vec<u8>,
    pub alg: SignAlg,
    pub signature: Vec<u8>,
}

impl SignedEnvelope {
    pub fn sign(payload: Vec<u8>, key: &SignKey) -> Result<SignedEnvelope, SignError> {
        let signature = match key {
            SignKey::Ed25519(k) => ed_sign(k, &payload),
            SignKey::Sm2(k) => sm2_sign(k, &payload).ok_or(SignError::Sign)?,
        };
        Ok(SignedEnvelope {
            payload,
            alg: key.alg(),
            signature,
        })
    }

    /// Check the signature against `key`; on success the payload can be trusted.
    pub fn verify(&self, key: &VerifyKey) -> Result<&[u8], SignError> {
        if key.alg() != self.alg {
            return Err(SignError::AlgMismatch {
                expected: key.alg(),
                found: self.alg,
            });
        }
        let ok = match key {
            VerifyKey::Ed25519(k) => ed_verify(k, &self.payload, &self.signature),
            VerifyKey::Sm2(k) => sm2_verify(k, &self.payload, &self.signature),
        };
        if ok {
            Ok(&self.payload)
        } else {
            Err(SignError::BadSignature)
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.signature.len() + self.payload.len());
        out.extend_from_slice(&MAGIC);
        out.push(SIGNED_VERSION);
        out.push(self.alg.byte());
        // Signatures are 64 bytes for both algorithms; the u16 leaves room for others.
        out.extend_from_slice(
            &u16::try_from(self.signature.len())
                .unwrap_or(u16::MAX)
                .to_le_bytes(),
        );
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.payload);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<SignedEnvelope, SignError> {
        if bytes.len() < HEADER_LEN {
            return Err(SignError::Truncated);
        }
        if bytes[..4] != MAGIC {
            return Err(SignError::Magic);
        }
        if bytes[4] != SIGNED_VERSION {
            return Err(SignError::Version(bytes[4]));
        }
        let alg = match bytes[5] {
            1 => SignAlg::Ed25519,
            2 => SignAlg::Sm2,
            other => return Err(SignError::Alg(other)),
        };
        let sig_len = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
        let rest = &bytes[HEADER_LEN..];
        if rest.len() < sig_len {
            return Err(SignError::Truncated);
        }
        let (signature, payload) = rest.split_at(sig_len);
        Ok(SignedEnvelope {
            payload: payload.to_vec(),
            alg,
            signature: signature.to_vec(),
        })
    }
}

/// The two crates implement different major versions of the `signature` traits; each is called
/// through its own re-export here.
mod signature_compat {
    pub(super) fn ed_sign(k: &ed25519_dalek::SigningKey, msg: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer;
        k.sign(msg).to_bytes().to_vec()
    }

    pub(super) fn ed_verify(k: &ed25519_dalek::VerifyingKey, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        k.verify_strict(msg, &sig).is_ok()
    }

    pub(super) fn sm2_sign(k: &sm2::dsa::SigningKey, msg: &[u8]) -> Option<Vec<u8>> {
        use sm2::dsa::signature::Signer;
        let sig: sm2::dsa::Signature = k.try_sign(msg).ok()?;
        Some(sig.to_bytes().to_vec())
    }

    pub(super) fn sm2_verify(k: &sm2::dsa::VerifyingKey, msg: &[u8], sig: &[u8]) -> bool {
        use sm2::dsa::signature::Verifier;
        let Ok(sig) = sm2::dsa::Signature::from_slice(sig) else {
            return false;
        };
        k.verify(msg, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<SignKey> {
        vec![
            SignKey::ed25519_from_seed(&[1u8; 32]),
            SignKey::sm2_from_bytes(&[2u8; 32]).unwrap(),
        ]
    }

    #[test]
    fn sign_verify_and_tamper() {
        for key in keys() {
            let vk = key.verify_key();
            let env = SignedEnvelope::sign(b"payload bytes".to_vec(), &key).unwrap();
            assert_eq!(env.verify(&vk).unwrap(), b"payload bytes");
            let back = SignedEnvelope::from_bytes(&env.to_bytes()).unwrap();
            assert_eq!(back, env);
            let mut t = env.clone();
            t.payload[0] ^= 1;
            assert_eq!(t.verify(&vk), Err(SignError::BadSignature));
            let mut t = env.clone();
            t.signature[5] ^= 1;
            assert_eq!(t.verify(&vk), Err(SignError::BadSignature));
            // Public key round trip through bytes.
            let vk2 = VerifyKey::from_bytes(vk.alg(), &vk.to_bytes()).unwrap();
            assert_eq!(env.verify(&vk2).unwrap(), b"payload bytes");
        }
    }

    #[test]
    fn wrong_key_or_algorithm_is_refused() {
        let ks = keys();
        let env = SignedEnvelope::sign(b"x".to_vec(), &ks[0]).unwrap();
        assert!(matches!(
            env.verify(&ks[1].verify_key()),
            Err(SignError::AlgMismatch { .. })
        ));
        let other = SignKey::ed25519_from_seed(&[9u8; 32]).verify_key();
        assert_eq!(env.verify(&other), Err(SignError::BadSignature));
        assert!(!format!("{:?}", ks[1]).contains("02"));
    }

    #[test]
    fn framing_errors() {
        let env = SignedEnvelope::sign(b"abc".to_vec(), &keys()[0]).unwrap();
        let b = env.to_bytes();
        assert_eq!(
            SignedEnvelope::from_bytes(&b[..6]),
            Err(SignError::Truncated)
        );
        assert_eq!(
            SignedEnvelope::from_bytes(&b[..40]),
            Err(SignError::Truncated)
        );
        let mut bad = b.clone();
        bad[0] = 0;
        assert_eq!(SignedEnvelope::from_bytes(&bad), Err(SignError::Magic));
        let mut bad = b.clone();
        bad[5] = 7;
        assert_eq!(SignedEnvelope::from_bytes(&bad), Err(SignError::Alg(7)));
        let mut bad = b;
        bad[4] = 9;
        assert_eq!(SignedEnvelope::from_bytes(&bad), Err(SignError::Version(9)));
    }
}
