//! Printable Japanese documents as PDF: the report to the Personal Information Protection
//! Commission (漏えい等報告) and, later, notices to the persons concerned (本人への通知).
//!
//! A [`Document`] is a title, right-aligned header lines, a list of [`Block`]s, an optional
//! footer and an optional watermark; [`render`] lays it out on A4 portrait pages with 20 mm
//! margins and returns the PDF bytes.
//!
//! - **Text** is wrapped by width: between any two CJK characters, at spaces, never inside a
//!   Latin word unless the word alone is wider than the line; with 禁則処理 (no line starts
//!   with 、。）」ー… and none ends with （「…, by pushing characters to the next line).
//!   Wrapped lines of Japanese are justified (両端揃え).
//! - **Pages** break automatically; a heading is kept with the start of what follows; a
//!   label/value row that does not fit continues on the next page (its label cell reads
//!   「ラベル（続き）」 there). Every page has the footer and "n / N".
//! - **Text is real text**: each glyph carries its characters (ToUnicode CMap), so the PDF can
//!   be searched and copied from. The watermark alone is drawn as outlines, so it does not get
//!   in the way of copying.
//! - **Characters the font lacks** and control characters are drawn as 〓; nothing panics on
//!   any input string.
//!
//! [`letter`] lays out notices to the persons concerned (本人への通知) for a 長形3号 window
//! envelope: [`render_letter`], and [`render_letters`] for one merged file to print.
//!
//! # Fonts
//!
//! Two fonts are compiled in: IPAex Mincho 00401 (`ipaexm.ttf`, 7.8 MB) for the body of
//! letters, and IPAex Gothic for reports, headings and the address block. The Gothic:
//! IPAex Gothic (IPAexゴシック) 00401, is compiled into the binary with
//! `include_bytes!` (6.1 MB, TrueType outlines), so rendering needs no installed fonts and no
//! network. It comes unmodified from Debian's `fonts-ipaexfont-gothic` 00401-5 and is under
//! the IPA Font License v1.0, which allows redistributing it unmodified with the licence
//! attached ([`FONT_LICENSE`]; ship that text with the binary) and embedding it in documents.
//! Only the glyphs a document uses are embedded (a subset), so a one-page report is tens of
//! kilobytes. IPAex has no bold face: headings and the title are filled and thinly stroked.
//!
//! # Why krilla
//!
//! The PDF is written with [`krilla`] (the PDF back end of typst) with its default features
//! off, and glyphs are measured with [`skrifa`], which krilla already uses:
//!
//! - krilla subsets TrueType and CFF fonts (through the `subsetter` crate), writes them as CID
//!   fonts with a ToUnicode CMap, and falls back to `/ActualText` when one glyph stands for
//!   different text — exactly the part that is laborious to get right over `pdf-writer`
//!   alone, and krilla is `pdf-writer` plus this.
//! - It takes positioned glyphs ([`krilla::surface::Surface::draw_glyphs`]), so line breaking
//!   and 禁則 stay here, where Japanese rules can be tested, rather than in a layout engine
//!   that does not know them.
//! - It is maintained, pure Rust, has no build scripts that fetch anything, and builds on the
//!   toolchain here (its MSRV is 1.92). Without default features it pulls no image codecs
//!   and no shaper.
//! - `printpdf` 0.12 was the alternative; its text layout comes with an HTML/CSS engine
//!   (azul) and font discovery through fontconfig that a report renderer does not need.
//!
//! Output is deterministic: no creation date or random document id, so the same document
//! renders to the same bytes.
//!
//! # Cost
//!
//! In a release build a one-page report renders in about 2 ms on one core (≈ 34 KB of PDF),
//! the three-page report of `examples/sample.rs` in about 8 ms (≈ 110 KB); the fonts are
//! parsed once per process. A one-page notice letter as its own PDF takes about 5 ms (≈ 80 KB:
//! it embeds subsets of both fonts, and compressing them is most of the time); in a merged print
//! file from [`render_letters`] a letter costs about 0.3 ms and 2 KB, since each subset is
//! embedded once (`scripts/bench-letters`, `docs/benchmarks.md`). Rendering may run on several
//! threads at once.

pub mod certificate;
pub mod chart;
mod font;
mod layout;
pub mod letter;
mod text;

pub use letter::{render_letter, render_letters, Letter, Recipient, Sender};

use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{GlyphId, KrillaGlyph};

use crate::layout::{Op, TextRun, PAGE_H, PAGE_W};

/// The IPA Font License Agreement v1.0 of the embedded font. Redistributing the binary
/// redistributes the font, and the licence requires this text to go with it.
pub const FONT_LICENSE: &str = include_str!("../fonts/IPA_Font_License_Agreement_v1.0.txt");

/// A document to render: A4 portrait, 20 mm margins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Centred at the top of the first page, below the header lines.
    pub title: String,
    /// Centred below the title.
    pub subtitle: Option<String>,
    /// Right-aligned lines at the top of the first page, as "label：value" (just the value
    /// when the label is empty), e.g. `("提出日", "2026年11月24日")`.
    pub meta: Vec<(String, String)>,
    pub blocks: Vec<Block>,
    /// Printed at the bottom left of every page (cut with "…" if too long), e.g. 「【訓練】」
    /// or the company name. Page numbers "n / N" are printed at the bottom right regardless.
    pub footer: Option<String>,
    /// Large light-grey text across every page, e.g. 「訓練」 or 「下書き」.
    pub watermark: Option<String>,
}

/// A piece of a document's body, laid out top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading, kept on the same page as the start of what follows.
    Heading(String),
    /// Body text; `\n` starts a new line, an empty line leaves a blank line.
    Paragraph(String),
    /// A bordered label/value table; labels and values wrap, values may contain `\n`, and a
    /// row that does not fit continues on the next page.
    Fields(Vec<(String, String)>),
    /// Items with a 「・」 bullet and a hanging indent.
    List(Vec<String>),
    /// Vertical space in millimetres; it does not carry over to a new page. Negative or
    /// non-finite values count as zero.
    Spacer(f32),
    /// Starts a new page (unless the current one is still empty).
    PageBreak,
    /// Radar charts, two side by side; a row is never split across pages.
    Radars(Vec<chart::RadarChart>),
}

/// Why a document could not be rendered. Neither is expected in practice: both mean a
/// defect in this crate or its dependencies, not a problem with the document.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font could not be read")]
    Font,
    #[error("writing the PDF failed: {0}")]
    Writer(String),
}

/// Renders `doc` as a PDF file.
pub fn render(doc: &Document) -> Result<Vec<u8>, PdfError> {
    let m = font::metrics().ok_or(PdfError::Font)?;
    let pages = layout::layout(m, doc);
    let watermark = doc
        .watermark
        .as_deref()
        .and_then(|w| layout::watermark(m, w));
    write_pdf(&pages, &doc.title, watermark.as_ref())
}

/// The PDF writer's fonts; IPAex Mincho is only loaded when a run uses it.
struct Fonts {
    gothic: krilla::text::Font,
    mincho: Option<krilla::text::Font>,
}

impl Fonts {
    fn get(&self, face: font::Face) -> &krilla::text::Font {
        match (face, &self.mincho) {
            (font::Face::Mincho, Some(m)) => m,
            _ => &self.gothic,
        }
    }
}

/// Writes laid-out pages as a PDF file.
pub(crate) fn write_pdf(
    pages: &[Vec<Op>],
    title: &str,
    watermark: Option<&(TextRun, f32)>,
) -> Result<Vec<u8>, PdfError> {
    let uses_mincho = pages
        .iter()
        .flatten()
        .any(|op| matches!(op, Op::Text(t) if t.face == font::Face::Mincho));
    let fonts = Fonts {
        gothic: font::pdf_font().ok_or(PdfError::Font)?,
        mincho: if uses_mincho {
            Some(font::face_pdf_font(font::Face::Mincho).ok_or(PdfError::Font)?)
        } else {
            None
        },
    };

    let mut pdf = krilla::Document::new();
    let mut meta = Metadata::new()
        .language("ja".to_string())
        .creator("mamori".to_string())
        .producer(concat!("mamori-pdf ", env!("CARGO_PKG_VERSION"), " (krilla)").to_string());
    if !title.trim().is_empty() {
        meta = meta.title(title.to_string());
    }
    pdf.set_metadata(meta);

    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(PdfError::Font)?;
    for ops in pages {
        let mut page = pdf.start_page_with(settings.clone());
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, op, &fonts);
        }
        if let Some((run, angle)) = watermark {
            let (cx, cy) = layout::PAGE_CENTER;
            surface.push_transform(&Transform::from_rotate_at(*angle, cx, cy));
            surface.set_stroke(None);
            surface.set_fill(Some(Fill {
                paint: luma::Color::new(0x80).into(),
                opacity: NormalizedF32::new(0.16).unwrap_or(NormalizedF32::ONE),
                rule: FillRule::NonZero,
            }));
            draw_run(&mut surface, run, fonts.get(run.face), true);
            surface.pop();
        }
        surface.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| PdfError::Writer(format!("{e:?}")))
}

fn fill(gray: u8) -> Fill {
    Fill {
        paint: luma::Color::new(gray).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn stroke(gray: u8, width: f32) -> Stroke {
    Stroke {
        paint: luma::Color::new(gray).into(),
        width,
        ..Stroke::default()
    }
}

fn draw(surface: &mut Surface<'_>, op: &Op, fonts: &Fonts) {
    match op {
        Op::Text(run) => {
            surface.set_fill(Some(fill(run.gray)));
            surface.set_stroke(run.bold.then(|| stroke(run.gray, run.size * 0.03)));
            draw_run(surface, run, fonts.get(run.face), false);
        }
        Op::Rect { x, y, w, h, gray } => {
            let mut pb = PathBuilder::new();
            if let Some(rect) = krilla::geom::Rect::from_xywh(*x, *y, *w, *h) {
                pb.push_rect(rect);
            }
            if let Some(path) = pb.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(fill(*gray)));
                surface.draw_path(&path);
            }
        }
        Op::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            gray,
        } => {
            let mut pb = PathBuilder::new();
            pb.move_to(*x1, *y1);
            pb.line_to(*x2, *y2);
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(*gray, *width)));
                surface.draw_path(&path);
            }
        }
        Op::Path {
            points,
            closed,
            width,
            gray,
            dash,
            fill: filled,
        } => {
            let mut pb = PathBuilder::new();
            for (i, (x, y)) in points.iter().enumerate() {
                if i == 0 {
                    pb.move_to(*x, *y);
                } else {
                    pb.line_to(*x, *y);
                }
            }
            if *closed {
                pb.close();
            }
            if let Some(path) = pb.finish() {
                surface.set_fill(filled.filter(|_| *closed).map(fill));
                let mut s = stroke(*gray, *width);
                if let Some((on, off)) = dash {
                    s.dash = Some(krilla::paint::StrokeDash {
                        array: vec![*on, *off],
                        offset: 0.0,
                    });
                }
                surface.set_stroke(Some(s));
                surface.draw_path(&path);
            }
        }
    }
}

fn draw_run(surface: &mut Surface<'_>, run: &TextRun, font: &krilla::text::Font, outlined: bool) {
    if run.glyphs.is_empty() {
        return;
    }
    let glyphs: Vec<KrillaGlyph> = run
        .glyphs
        .iter()
        .map(|g| {
            KrillaGlyph::new(
                GlyphId::new(g.id),
                g.advance,
                0.0,
                0.0,
                0.0,
                g.text.clone(),
                None,
            )
        })
        .collect();
    surface.draw_glyphs(
        Point::from_xy(run.x, run.y),
        &glyphs,
        font.clone(),
        &run.text,
        run.size,
        outlined,
    );
}
