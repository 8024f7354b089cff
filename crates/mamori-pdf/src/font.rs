//! The two embedded fonts, parsed once per process: IPAex Gothic (reports, headings) and
//! IPAex Mincho (the body of letters to the persons concerned).
//!
//! Two views of the same `&'static` bytes are kept: a `skrifa` view for character → glyph
//! mapping and advance widths (what the line breaker measures with), and a `krilla::text::Font`
//! (what the PDF writer subsets and embeds). Both are built on first use and shared by every
//! render, so a render pays neither for parsing nor for copying the 6 MB file.

use std::sync::OnceLock;

use skrifa::charmap::{Charmap, MapVariant};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::{GlyphMetrics, Metrics};
use skrifa::{FontRef, GlyphId, MetadataProvider};

/// IPAex Gothic 00401 (Debian `fonts-ipaexfont-gothic` 00401-5), unmodified.
pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../fonts/ipaexg.ttf");

/// IPAex Mincho 00401 (Debian `fonts-ipaexfont-mincho` 00401-5), unmodified.
pub(crate) static MINCHO_BYTES: &[u8] = include_bytes!("../fonts/ipaexm.ttf");

/// Which embedded font a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Face {
    /// IPAex Gothic: reports, headings, labels.
    #[default]
    Gothic,
    /// IPAex Mincho: the body of letters.
    Mincho,
}

/// The measuring view of an embedded font.
pub(crate) struct FontMetrics {
    charmap: Charmap<'static>,
    glyph_metrics: GlyphMetrics<'static>,
    units_per_em: f32,
    /// Ascent (positive, above the baseline) in em.
    pub(crate) ascent: f32,
    /// Descent (positive, below the baseline) in em.
    pub(crate) descent: f32,
    /// The glyph drawn for a character the font lacks, or a control character.
    pub(crate) replacement: Glyph,
    /// The glyph of U+0020, used for tabs and other blanks the font may lack.
    pub(crate) space: Glyph,
}

/// A glyph with its advance in em.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Glyph {
    pub(crate) id: u32,
    pub(crate) advance: f32,
}

impl FontMetrics {
    fn load(bytes: &'static [u8]) -> Option<Self> {
        let font = FontRef::new(bytes).ok()?;
        let metrics = Metrics::new(&font, Size::unscaled(), LocationRef::default());
        let units_per_em = f32::from(metrics.units_per_em);
        let mut this = Self {
            charmap: font.charmap(),
            glyph_metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em,
            ascent: metrics.ascent / units_per_em,
            descent: -metrics.descent / units_per_em,
            replacement: Glyph {
                id: 0,
                advance: 1.0,
            },
            space: Glyph {
                id: 0,
                advance: 0.25,
            },
        };
        // 〓 (geta mark) is the traditional Japanese stand-in for a missing character; IPAex
        // has no U+FFFD.
        this.replacement = ['\u{FFFD}', '〓', '?']
            .into_iter()
            .find_map(|c| this.glyph(c))?;
        this.space = this.glyph(' ')?;
        Some(this)
    }

    /// The nominal glyph of `c`, if the font has one.
    pub(crate) fn glyph(&self, c: char) -> Option<Glyph> {
        let id = self.charmap.map(c)?;
        if id == GlyphId::NOTDEF {
            return None;
        }
        Some(self.with_advance(id))
    }

    /// The glyph of `c` followed by the variation selector `selector` (an IVS such as
    /// 葛󠄀), falling back to the nominal glyph.
    pub(crate) fn glyph_variant(&self, c: char, selector: char) -> Option<Glyph> {
        match self.charmap.map_variant(c, selector) {
            Some(MapVariant::Variant(id)) if id != GlyphId::NOTDEF => Some(self.with_advance(id)),
            _ => self.glyph(c),
        }
    }

    fn with_advance(&self, id: GlyphId) -> Glyph {
        let advance = self
            .glyph_metrics
            .advance_width(id)
            .map_or(1.0, |w| w / self.units_per_em);
        Glyph {
            id: id.to_u32(),
            advance,
        }
    }
}

static METRICS: OnceLock<Option<FontMetrics>> = OnceLock::new();
static PDF_FONT: OnceLock<Option<krilla::text::Font>> = OnceLock::new();
static MINCHO_METRICS: OnceLock<Option<FontMetrics>> = OnceLock::new();
static MINCHO_PDF_FONT: OnceLock<Option<krilla::text::Font>> = OnceLock::new();

/// The measuring view of IPAex Gothic, or `None` if the embedded font cannot be read (a
/// build defect).
pub(crate) fn metrics() -> Option<&'static FontMetrics> {
    face_metrics(Face::Gothic)
}

/// The measuring view of `face`, or `None` if the embedded font cannot be read.
pub(crate) fn face_metrics(face: Face) -> Option<&'static FontMetrics> {
    match face {
        Face::Gothic => METRICS.get_or_init(|| FontMetrics::load(FONT_BYTES)),
        Face::Mincho => MINCHO_METRICS.get_or_init(|| FontMetrics::load(MINCHO_BYTES)),
    }
    .as_ref()
}

/// The PDF writer's view of IPAex Gothic (cheap to clone: an `Arc`).
pub(crate) fn pdf_font() -> Option<krilla::text::Font> {
    face_pdf_font(Face::Gothic)
}

/// The PDF writer's view of `face`.
pub(crate) fn face_pdf_font(face: Face) -> Option<krilla::text::Font> {
    let (cell, bytes) = match face {
        Face::Gothic => (&PDF_FONT, FONT_BYTES),
        Face::Mincho => (&MINCHO_PDF_FONT, MINCHO_BYTES),
    };
    cell.get_or_init(|| krilla::text::Font::new(krilla::Data::from(bytes), 0))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_loads_and_maps_japanese() {
        let m = metrics().expect("embedded font");
        assert!(m.ascent > 0.5 && m.ascent < 1.2, "ascent {}", m.ascent);
        assert!(m.descent > 0.0 && m.descent < 0.5, "descent {}", m.descent);
        for c in "漏えい等報告、。「」ＡＢＣabc123".chars() {
            assert!(m.glyph(c).is_some(), "missing {c}");
        }
        let kanji = m.glyph('漢').unwrap();
        assert!((kanji.advance - 1.0).abs() < 1e-3);
        assert!(m.glyph('\u{10FFFD}').is_none());
        assert!(m.replacement.id != 0);
        assert!(pdf_font().is_some());
    }

    #[test]
    fn mincho_loads_and_differs_from_gothic() {
        let m = face_metrics(Face::Mincho).expect("embedded Mincho");
        for c in "本人への通知、。様〒髙".chars() {
            assert!(m.glyph(c).is_some(), "missing {c}");
        }
        assert!(m.replacement.id != 0);
        assert!(face_pdf_font(Face::Mincho).is_some());
        assert_ne!(MINCHO_BYTES.len(), FONT_BYTES.len());
    }
}
