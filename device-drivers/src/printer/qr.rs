//! QR symbols as dots: the raster fallback for printers without `GS ( k`, and the simulator's
//! rendering of a natively printed symbol. Both go through the `qrcode` crate so what we draw
//! is a real, decodable symbol.

use super::builder::BuildError;
use super::command::{EcLevel, Raster};

/// Quiet zone around a raster QR, in modules (the standard asks for 4).
pub const QUIET_ZONE: usize = 4;

/// The module matrix (row-major, true = dark) and its side in modules.
pub fn modules(data: &[u8], ec: EcLevel) -> Option<(Vec<bool>, usize)> {
    let code = qrcode::QrCode::with_error_correction_level(data, ec.to_qrcode()).ok()?;
    let w = code.width();
    let v = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some((v, w))
}

/// A `GS v 0` image of the QR for `data`, quiet zone included, at `module_size` dots per module
/// or the largest smaller size that fits `max_dots`.
pub fn raster(
    data: &[u8],
    module_size: u8,
    ec: EcLevel,
    max_dots: usize,
) -> Result<Raster, BuildError> {
    let too_long = || BuildError::QrTooLong {
        len: data.len(),
        ec,
        max: ec.max_bytes(),
    };
    let (m, w) = modules(data, ec).ok_or_else(too_long)?;
    let side_modules = w + 2 * QUIET_ZONE;
    let mut ms = usize::from(module_size);
    while ms > 1 && side_modules * ms > max_dots {
        ms -= 1;
    }
    let side = side_modules * ms;
    if side > max_dots || side > usize::from(u16::MAX) {
        return Err(BuildError::QrTooWide {
            modules: w,
            max_dots,
        });
    }
    let width_bytes = side.div_ceil(8);
    let mut bits = vec![0u8; width_bytes * side];
    for y in 0..side {
        let my = y / ms;
        if !(QUIET_ZONE..QUIET_ZONE + w).contains(&my) {
            continue;
        }
        for x in 0..side {
            let mx = x / ms;
            if (QUIET_ZONE..QUIET_ZONE + w).contains(&mx)
                && m[(my - QUIET_ZONE) * w + (mx - QUIET_ZONE)]
            {
                bits[y * width_bytes + x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    let dim = |v: usize| u16::try_from(v).unwrap_or(u16::MAX);
    Ok(Raster {
        mode: 0,
        width_bytes: dim(width_bytes),
        height: dim(side),
        data: bits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raster_has_quiet_zone_and_finder_pattern() {
        let r = raster(b"https://t.example/q/12345678", 4, EcLevel::M, 384).unwrap();
        let side = usize::from(r.height);
        assert!(side <= 384);
        assert_eq!(usize::from(r.width_bytes), side.div_ceil(8));
        // Quiet zone is white, the finder pattern's corner just inside it is black.
        assert!(!r.dot(0, 0) && !r.dot(15, 15));
        assert!(r.dot(16, 16));
    }

    #[test]
    fn raster_shrinks_modules_to_fit() {
        let r = raster(b"https://t.example/q/12345678", 16, EcLevel::M, 200).unwrap();
        assert!(usize::from(r.height) <= 200);
        assert!(matches!(
            raster(&[b'x'; 1000], 1, EcLevel::L, 50),
            Err(BuildError::QrTooWide { .. })
        ));
    }
}
