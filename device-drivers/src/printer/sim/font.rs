//! Finding and drawing a CJK font for the simulator's receipt pictures.
//!
//! Why a system font: a printer's font ROM is not something we can ship, and a receipt picture
//! with boxes instead of 鲜猪肉 is useless to the person checking a layout. Debian's
//! `fonts-wqy-zenhei` (or `fonts-noto-cjk`) provides one; without any, characters are drawn as
//! boxes of the right width, so layouts can still be checked, and the simulator says so.

use ab_glyph::{Font, FontArc, FontVec, PxScale, ScaleFont, point};
use std::path::{Path, PathBuf};

/// File-name fragments of CJK fonts, best first.
const CANDIDATES: &[&str] = &[
    "wqy-zenhei",
    "wqy-microhei",
    "NotoSansCJK",
    "NotoSansSC",
    "NotoSerifCJK",
    "SourceHanSans",
    "DroidSansFallback",
    "uming",
    "ukai",
];

const FONT_DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];

/// A loaded font that has Chinese glyphs.
#[derive(Clone, Debug)]
pub struct CjkFont {
    font: FontArc,
    path: PathBuf,
}

impl CjkFont {
    /// Loads `path` (index 0 of a collection); `None` unless it draws 中.
    pub fn load(path: &Path) -> Option<Self> {
        let data = std::fs::read(path).ok()?;
        let font = FontVec::try_from_vec_and_index(data, 0).ok()?;
        if font.glyph_id('中').0 == 0 {
            return None;
        }
        Some(CjkFont {
            font: FontArc::new(font),
            path: path.to_owned(),
        })
    }

    /// The first usable CJK font installed on this machine.
    pub fn find_system() -> Option<Self> {
        let mut files = Vec::new();
        for dir in FONT_DIRS {
            walk(Path::new(dir), &mut files, 0);
        }
        for frag in CANDIDATES {
            for f in files.iter().filter(|f| {
                f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains(frag))
            }) {
                if let Some(font) = Self::load(f) {
                    return Some(font);
                }
            }
        }
        None
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Draws `c` centred in the cell at (`x`, `y`) of `cell_w` × `cell_h` dots, calling `set`
    /// for each black dot (coverage ≥ ½, as a thermal head has no grey).
    pub fn draw(
        &self,
        c: char,
        (x, y): (i64, i64),
        (cell_w, cell_h): (u16, u16),
        width_mul: u16,
        set: &mut dyn FnMut(i64, i64),
    ) {
        let em = PxScale {
            x: f32::from(24 * width_mul),
            y: f32::from(cell_h),
        };
        let scaled = self.font.as_scaled(em);
        let glyph = self
            .font
            .glyph_id(c)
            .with_scale_and_position(em, point(0.0, scaled.ascent()));
        if let Some(og) = self.font.outline_glyph(glyph) {
            let b = og.px_bounds();
            let (x0, x1, by) = (b.min.x as i64, b.max.x as i64, b.min.y as i64);
            // Font A is monospaced: centre proportional Latin glyphs in their half-width cell.
            let left = (i64::from(cell_w) - (x1 - x0)).max(0) / 2;
            og.draw(|gx, gy, cov| {
                if cov >= 0.5 {
                    set(x + left + i64::from(gx), y + by + i64::from(gy));
                }
            });
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: u8) {
    if depth > 6 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out, depth + 1);
        } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
            matches!(
                x.to_ascii_lowercase().as_str(),
                "ttf" | "ttc" | "otf" | "otc"
            )
        }) {
            out.push(p);
        }
    }
}
