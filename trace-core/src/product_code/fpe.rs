//! A keyed permutation of `[0, 2^bits)` for `bits` up to 125: the encrypted part of a code.
//!
//! Design: an alternating (unbalanced when `bits` is odd) Feistel network of 10 rounds, the
//! structure of NIST SP 800-38G FF1, over a binary domain. Each round's function is one block
//! of AES-128 (default) or SM4 under the template's key, applied to a block that carries a
//! domain tag, the round number, a tweak (issuer and template number, so two templates under
//! one key permute differently) and the current half. The domain is a power of two because
//! a code symbol carries exactly 5 bits, so no cycle walking is needed: one pass, ten block
//! encryptions per code. With AES-NI that is well under a microsecond.
//!
//! Why not FF1 itself: FF1 works on numeral strings with big-number arithmetic per round and
//! needs radix conversions; over a binary domain the same Feistel shape is plain shifts and
//! XORs. Security rests on the same argument (a Feistel network of ≥ 7 rounds with a PRF is
//! a strong PRP for half-blocks this wide), and the template refuses encrypted segments
//! narrower than 40 bits so the halves are never tiny (small-domain FPE attacks need many
//! codes per key relative to the domain).

use super::sm4t::Sm4Enc;
use aes::Aes128;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use serde::{Deserialize, Serialize};
use sm4::Sm4;

const ROUNDS: u8 = 10;
/// Codes encrypted side by side by [`Fpe::encrypt_lanes`]: AES-NI pipelines independent blocks,
/// so eight codes cost little more than one.
pub const LANES: usize = 8;
const TAG: u8 = 0xC0;

/// The block cipher behind the round function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CipherKind {
    #[default]
    Aes,
    Sm4,
}

#[derive(Clone)]
enum Block {
    Aes(Box<Aes128>),
    /// Two implementations of SM4 under the same key, giving identical output (checked in
    /// tests). Encrypting codes (the generator on the line box) uses our T-tables
    /// ([`super::sm4t`]), which are fast enough for ≥ 1 M codes/s. Decrypting codes keeps the
    /// RustCrypto crate's byte S-box, because decoding also runs in the cloud on tokens anyone
    /// can submit to the public page, and a 256-byte S-box gives a timing observer less than
    /// 4 KiB of tables (neither is constant-time).
    Sm4 {
        tables: Box<Sm4Enc>,
        reference: Box<Sm4>,
    },
}

/// The permutation for one template: key, tweak and width fixed.
#[derive(Clone)]
pub struct Fpe {
    cipher: Block,
    tweak: [u8; 6],
    /// Width of the left half at round 0 and of the right half.
    left: u32,
    right: u32,
}

impl std::fmt::Debug for Fpe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fpe")
            .field("bits", &(self.left + self.right))
            .field("key", &"<redacted>")
            .finish()
    }
}

/// The first eight bytes of an SM4 output block (big-endian words) read as a little-endian u64,
/// as the round function reads any cipher's output.
#[inline]
fn sm4_first_half(y0: u32, y1: u32) -> u64 {
    u64::from(y0.swap_bytes()) | (u64::from(y1.swap_bytes()) << 32)
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

impl Fpe {
    /// `bits` in 2..=125; `key` is 16 bytes for either cipher.
    pub fn new(kind: CipherKind, key: &[u8; 16], tweak: [u8; 6], bits: u32) -> Fpe {
        assert!((2..=125).contains(&bits), "FPE width {bits} out of range");
        let cipher = match kind {
            CipherKind::Aes => Block::Aes(Box::new(Aes128::new(&Array::from(*key)))),
            CipherKind::Sm4 => Block::Sm4 {
                tables: Box::new(Sm4Enc::new(key)),
                reference: Box::new(Sm4::new(&Array::from(*key))),
            },
        };
        let left = bits.div_ceil(2);
        Fpe {
            cipher,
            tweak,
            left,
            right: bits - left,
        }
    }

    pub fn bits(&self) -> u32 {
        self.left + self.right
    }

    /// The round function before masking: the first 8 bytes of the encrypted round block,
    /// little-endian. SM4 here through the `sm4` crate (see [`Block::Sm4`]); [`Fpe::encrypt`]
    /// computes the same value with the tables.
    #[inline]
    fn round(&self, round: u8, half: u64) -> u64 {
        let mut b = [0u8; 16];
        b[0] = TAG;
        b[1] = round;
        b[2..8].copy_from_slice(&self.tweak);
        b[8..16].copy_from_slice(&half.to_le_bytes());
        match &self.cipher {
            Block::Aes(c) => {
                let mut block = Array::from(b);
                c.encrypt_block(&mut block);
                b = block.into();
            }
            Block::Sm4 { reference, .. } => {
                let mut block = Array::from(b);
                reference.encrypt_block(&mut block);
                b = block.into();
            }
        }
        let mut o = [0u8; 8];
        o.copy_from_slice(&b[..8]);
        u64::from_le_bytes(o)
    }

    /// The round block (tag, round, tweak, half in little-endian bytes) as SM4's big-endian
    /// words, computed without going through bytes in memory.
    #[inline]
    fn sm4_words(&self, round: u8, half: u64) -> [u32; 4] {
        let t = &self.tweak;
        [
            u32::from_be_bytes([TAG, round, t[0], t[1]]),
            u32::from_be_bytes([t[2], t[3], t[4], t[5]]),
            (half as u32).swap_bytes(),
            ((half >> 32) as u32).swap_bytes(),
        ]
    }

    /// Width of A (the half that is replaced) at round `i`.
    fn a_bits(&self, i: u8) -> u32 {
        if i.is_multiple_of(2) {
            self.left
        } else {
            self.right
        }
    }

    pub fn encrypt(&self, x: u128) -> u128 {
        match &self.cipher {
            // The SM4 rounds inlined into the Feistel loop: a code's 320 SM4 rounds are one
            // dependency chain.
            Block::Sm4 { tables, .. } => self.feistel(x, |i, half| {
                let y = tables.encrypt_words(self.sm4_words(i, half));
                sm4_first_half(y[0], y[1])
            }),
            Block::Aes(_) => self.feistel(x, |i, half| self.round(i, half)),
        }
    }

    /// [`Fpe::encrypt`] with the unmasked round function `f`.
    #[inline(always)]
    fn feistel(&self, x: u128, f: impl Fn(u8, u64) -> u64) -> u128 {
        debug_assert!(x >> self.bits() == 0);
        let masks = [mask(self.left), mask(self.right)];
        let mut a = (x >> self.right) as u64;
        let mut b = (x as u64) & masks[1];
        for i in 0..ROUNDS {
            let c = a ^ (f(i, b) & masks[usize::from(i % 2)]);
            a = b;
            b = c;
        }
        // ROUNDS is even, so the halves are back to (left, right) widths.
        (u128::from(a) << self.right) | u128::from(b)
    }

    /// [`Fpe::encrypt`] of eight values at once, each round's eight blocks in one call.
    pub fn encrypt_lanes(&self, xs: &mut [u128; LANES]) {
        let mut a = [0u64; LANES];
        let mut b = [0u64; LANES];
        for k in 0..LANES {
            a[k] = (xs[k] >> self.right) as u64;
            b[k] = (xs[k] as u64) & mask(self.right);
        }
        let mut head = [0u8; 8];
        head[0] = TAG;
        head[2..8].copy_from_slice(&self.tweak);
        let fill = |blk: &mut [u8], head: &[u8; 8], half: &u64| {
            blk[..8].copy_from_slice(head);
            blk[8..].copy_from_slice(&half.to_le_bytes());
        };
        let first_half = |blk: &[u8]| {
            let mut o = [0u8; 8];
            o.copy_from_slice(&blk[..8]);
            u64::from_le_bytes(o)
        };
        let mut aes_blocks = [aes::Block::default(); LANES];
        let mut f = [0u64; LANES];
        for i in 0..ROUNDS {
            head[1] = i;
            match &self.cipher {
                Block::Aes(c) => {
                    for (blk, half) in aes_blocks.iter_mut().zip(&b) {
                        fill(blk, &head, half);
                    }
                    c.encrypt_blocks(&mut aes_blocks);
                    for (o, blk) in f.iter_mut().zip(&aes_blocks) {
                        *o = first_half(blk);
                    }
                }
                Block::Sm4 { tables, .. } => {
                    let mut words = b.map(|half| self.sm4_words(i, half));
                    tables.encrypt_lanes_words(&mut words);
                    for (o, y) in f.iter_mut().zip(words) {
                        *o = sm4_first_half(y[0], y[1]);
                    }
                }
            }
            let m = mask(self.a_bits(i));
            for k in 0..LANES {
                let c = a[k] ^ (f[k] & m);
                a[k] = b[k];
                b[k] = c;
            }
        }
        for k in 0..LANES {
            xs[k] = (u128::from(a[k]) << self.right) | u128::from(b[k]);
        }
    }

    pub fn decrypt(&self, y: u128) -> u128 {
        let mut a = (y >> self.right) as u64;
        let mut b = (y as u64) & mask(self.right);
        for i in (0..ROUNDS).rev() {
            // After round i: a = b_old, b = a_old ^ F(b_old).
            let a_old = b ^ (self.round(i, a) & mask(self.a_bits(i)));
            b = a;
            a = a_old;
        }
        (u128::from(a) << self.right) | u128::from(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_permutation_on_small_domains() {
        for kind in [CipherKind::Aes, CipherKind::Sm4] {
            for bits in [2u32, 5, 10, 11] {
                let f = Fpe::new(kind, &[7; 16], *b"GZ0A01", bits);
                let n = 1u128 << bits;
                let mut seen = vec![false; n as usize];
                for x in 0..n {
                    let y = f.encrypt(x);
                    assert!(y < n);
                    assert!(!seen[y as usize], "collision at {x}");
                    seen[y as usize] = true;
                    assert_eq!(f.decrypt(y), x);
                }
            }
        }
    }

    #[test]
    fn wide_round_trip_and_key_matters() {
        let f = Fpe::new(CipherKind::Aes, &[1; 16], *b"GZ0A01", 125);
        let g = Fpe::new(CipherKind::Aes, &[2; 16], *b"GZ0A01", 125);
        let h = Fpe::new(CipherKind::Aes, &[1; 16], *b"GZ0A02", 125);
        for x in [0u128, 1, 2, (1 << 125) - 1, 0x1234_5678_9abc_def0_1234] {
            let y = f.encrypt(x);
            assert_eq!(f.decrypt(y), x);
            assert_ne!(g.encrypt(x), y);
            assert_ne!(h.encrypt(x), y);
        }
        let mut lanes = [0u128; LANES];
        for (k, l) in lanes.iter_mut().enumerate() {
            *l = 1000 + k as u128;
        }
        let mut out = lanes;
        f.encrypt_lanes(&mut out);
        for k in 0..LANES {
            assert_eq!(out[k], f.encrypt(lanes[k]));
        }
        let s = Fpe::new(CipherKind::Sm4, &[1; 16], *b"GZ0A01", 41);
        let mut out = lanes;
        s.encrypt_lanes(&mut out);
        for k in 0..LANES {
            assert_eq!(out[k], s.encrypt(lanes[k]));
        }
        // Consecutive inputs do not give nearby outputs.
        let (y0, y1) = (f.encrypt(1000), f.encrypt(1001));
        assert!((y0 ^ y1).count_ones() > 20);
    }

    /// SM4 outputs as issued, computed with the RustCrypto `sm4` crate before the round
    /// function moved to our own table implementation: codes already printed must keep decoding.
    #[test]
    fn sm4_outputs_are_pinned() {
        const PINS: [(u32, u128, u128); 12] = [
            (41, 0x0, 0x18f_ba0b_a3e5),
            (41, 0x1, 0x3_e043_bbac),
            (41, 0x3039, 0x93_9318_c6c1),
            (41, 0x1ff_ffff_ffff, 0x1e4_09ee_0772),
            (64, 0x0, 0x81ee_be40_6136_d723),
            (64, 0x1, 0x9149_f232_6f4a_f6e6),
            (64, 0xdead_beef_cafe, 0x63e6_8414_7110_e14f),
            (64, 0xffff_ffff_ffff_ffff, 0x313_aa31_23c4_04ac),
            (125, 0x0, 0x1e72_c5db_c4be_bba8_0493_f86c_23e5_feb5),
            (125, 0x1, 0x1893_d5c2_4560_5ee7_ee74_210a_ca6f_075a),
            (
                125,
                0x1234_5678_9abc_def0_1234,
                0x5d7_2513_61dc_469f_0037_c047_c7ca_98c6,
            ),
            (
                125,
                (1 << 125) - 1,
                0x717_9a49_9898_9f18_2d08_3755_f507_1817,
            ),
        ];
        for (bits, x, y) in PINS {
            let f = Fpe::new(CipherKind::Sm4, b"baytrace-sm4-pin", *b"GZ0A01", bits);
            assert_eq!(f.encrypt(x), y, "bits {bits} x {x:#x}");
            assert_eq!(f.decrypt(y), x, "bits {bits} y {y:#x}");
            let mut lanes = [x; LANES];
            f.encrypt_lanes(&mut lanes);
            assert_eq!(lanes, [y; LANES], "bits {bits} x {x:#x} in lanes");
        }
    }
}
