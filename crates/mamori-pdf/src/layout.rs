//! Page layout: a [`Document`] becomes pages of drawing operations in PDF points, origin at
//! the top left, y downwards. Layout is a separate pass from writing so that the total page
//! count is known for the "n / N" footers, and so that it can be tested without a PDF.

use std::ops::Range;

use crate::font::{Face, FontMetrics};
use crate::text::{break_lines, justification, shape, split_hard_lines, Kind};
use crate::{Block, Document};

/// Points per millimetre.
pub(crate) const MM: f32 = 72.0 / 25.4;
pub(crate) const PAGE_W: f32 = 210.0 * MM;
pub(crate) const PAGE_H: f32 = 297.0 * MM;
pub(crate) const MARGIN_X: f32 = 20.0 * MM;
const MARGIN_TOP: f32 = 20.0 * MM;
const MARGIN_BOTTOM: f32 = 22.0 * MM;
pub(crate) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const CONTENT_BOTTOM: f32 = PAGE_H - MARGIN_BOTTOM;
/// Baseline of the footer line, inside the bottom margin.
const FOOTER_BASELINE: f32 = PAGE_H - 12.0 * MM;

pub(crate) const BODY: f32 = 10.5;
pub(crate) const BODY_LH: f32 = BODY * 1.7;
pub(crate) const TITLE: f32 = 16.0;
const SUBTITLE: f32 = 11.5;
const HEADING: f32 = 12.0;
const FOOTER: f32 = 8.5;
const CELL: f32 = 10.0;
const CELL_LH: f32 = CELL * 1.6;
const CELL_PAD_X: f32 = 2.0 * MM;
const CELL_PAD_Y: f32 = 1.6 * MM;
const LABEL_W: f32 = CONTENT_W * 0.28;
const BULLET: char = '・';
const WATERMARK_MAX_CHARS: usize = 24;

/// Grey levels (0 black … 255 white).
pub(crate) const INK: u8 = 0;
pub(crate) const SOFT_INK: u8 = 0x44;
const RULE: u8 = 0x55;
const LABEL_BG: u8 = 0xEE;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunGlyph {
    pub(crate) id: u32,
    /// Advance in em, including any justification.
    pub(crate) advance: f32,
    /// Bytes of [`TextRun::text`] this glyph stands for.
    pub(crate) text: Range<usize>,
}

/// One line of text at one size.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextRun {
    pub(crate) x: f32,
    /// The baseline.
    pub(crate) y: f32,
    pub(crate) size: f32,
    pub(crate) gray: u8,
    /// Drawn with a thin outline as well as filled: IPAex has no bold.
    pub(crate) bold: bool,
    pub(crate) face: Face,
    pub(crate) text: String,
    pub(crate) glyphs: Vec<RunGlyph>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Text(TextRun),
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        gray: u8,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        gray: u8,
    },
    /// A polyline or polygon (charts): stroked in `gray`, dashed (on, off) if asked, filled
    /// in `fill` when closed and given.
    Path {
        points: Vec<(f32, f32)>,
        closed: bool,
        width: f32,
        gray: u8,
        dash: Option<(f32, f32)>,
        fill: Option<u8>,
    },
}

/// A line of text laid out at some size but not yet placed.
#[derive(Debug, Clone, Default)]
pub(crate) struct WLine {
    pub(crate) text: String,
    pub(crate) glyphs: Vec<RunGlyph>,
    /// Width in points (after justification).
    pub(crate) width: f32,
}

impl WLine {
    /// Places the line in IPAex Gothic.
    pub(crate) fn place(self, x: f32, y: f32, size: f32, gray: u8, bold: bool) -> Op {
        self.place_in(Face::Gothic, x, y, size, gray, bold)
    }

    /// Places the line in `face` (it must have been wrapped with that face's metrics).
    pub(crate) fn place_in(
        self,
        face: Face,
        x: f32,
        y: f32,
        size: f32,
        gray: u8,
        bold: bool,
    ) -> Op {
        Op::Text(TextRun {
            x,
            y,
            size,
            gray,
            bold,
            face,
            text: self.text,
            glyphs: self.glyphs,
        })
    }
}

/// Wraps `text` (which may contain line breaks) at `width` points.
pub(crate) fn wrap(m: &FontMetrics, text: &str, size: f32, width: f32) -> Vec<WLine> {
    let max_em = (width / size).max(0.0);
    let mut out = Vec::new();
    for hard in split_hard_lines(text) {
        let shaped = shape(hard, m);
        for line in break_lines(&shaped.clusters, max_em) {
            if line.start == line.end {
                out.push(WLine::default());
                continue;
            }
            let extra = justification(&shaped.clusters, &line, max_em);
            let base = shaped.clusters[line.start].text.start;
            let end = shaped.clusters[line.end - 1].text.end;
            let mut w = WLine {
                text: shaped.text[base..end].to_string(),
                glyphs: Vec::with_capacity(line.end - line.start),
                width: 0.0,
            };
            let mut em = 0.0;
            for (k, c) in shaped.clusters[line.start..line.end].iter().enumerate() {
                let advance = c.advance + extra[k];
                em += advance;
                match (c.glyph, w.glyphs.last_mut()) {
                    (Some(id), _) => w.glyphs.push(RunGlyph {
                        id,
                        advance,
                        text: c.text.start - base..c.text.end - base,
                    }),
                    // Nothing to draw (a zero-width space): its room goes to the glyph before.
                    (None, Some(prev)) => prev.advance += advance,
                    (None, None) => {}
                }
            }
            w.width = em * size;
            out.push(w);
        }
    }
    out
}

/// One line at most `width` points wide, cut with "…" if it is longer.
fn truncate(m: &FontMetrics, text: &str, size: f32, width: f32) -> WLine {
    let flat: String = split_hard_lines(text).join(" ");
    let lines = wrap(m, &flat, size, width);
    let mut first = lines.first().cloned().unwrap_or_default();
    if lines.len() <= 1 {
        return first;
    }
    let ellipsis = shape("…", m);
    let Some(ell) = ellipsis.clusters.first() else {
        return first;
    };
    let room = width - ell.advance * size;
    let mut used = 0.0;
    let mut keep = 0;
    for g in &first.glyphs {
        if used + g.advance * size > room {
            break;
        }
        used += g.advance * size;
        keep += 1;
    }
    first.glyphs.truncate(keep);
    let cut = first.glyphs.last().map_or(0, |g| g.text.end);
    first.text.truncate(cut);
    let start = first.text.len();
    first.text.push('…');
    if let Some(id) = ell.glyph {
        first.glyphs.push(RunGlyph {
            id,
            advance: ell.advance,
            text: start..first.text.len(),
        });
    }
    first.width = used + ell.advance * size;
    first
}

/// Top of the text box → baseline, for a line of `size` in a box of `line_height`.
pub(crate) fn baseline(m: &FontMetrics, top: f32, size: f32, line_height: f32) -> f32 {
    let glyph_h = (m.ascent + m.descent) * size;
    top + (line_height - glyph_h) / 2.0 + m.ascent * size
}

pub(crate) struct Layouter<'m> {
    /// The body font's metrics.
    m: &'m FontMetrics,
    /// The body font.
    face: Face,
    /// Metrics of the heading font (IPAex Gothic).
    hm: &'m FontMetrics,
    pub(crate) pages: Vec<Vec<Op>>,
    /// Top of the free area on the current page.
    pub(crate) y: f32,
    /// Nothing has been placed on the current page yet.
    pub(crate) fresh: bool,
}

impl<'m> Layouter<'m> {
    fn new(m: &'m FontMetrics) -> Self {
        Self::with_faces(m, Face::Gothic, m)
    }

    /// A layouter with the body in `face` (metrics `m`) and headings in IPAex Gothic (`hm`).
    pub(crate) fn with_faces(m: &'m FontMetrics, face: Face, hm: &'m FontMetrics) -> Self {
        Self {
            m,
            face,
            hm,
            pages: vec![Vec::new()],
            y: MARGIN_TOP,
            fresh: true,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN_TOP;
        self.fresh = true;
    }

    fn remaining(&self) -> f32 {
        CONTENT_BOTTOM - self.y
    }

    /// Starts a new page unless `height` fits here (or the page is still empty: then the
    /// content goes here and is cut by the page edge rather than looping forever).
    pub(crate) fn ensure(&mut self, height: f32) {
        if height > self.remaining() + 0.01 && !self.fresh {
            self.new_page();
        }
    }

    /// Vertical space that does not carry over to the next page.
    fn gap(&mut self, height: f32) {
        if self.fresh {
            return;
        }
        if height >= self.remaining() {
            self.new_page();
        } else {
            self.y += height;
        }
    }

    pub(crate) fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
        self.fresh = false;
    }

    pub(crate) fn line(&mut self, line: WLine, x: f32, size: f32, lh: f32, gray: u8, bold: bool) {
        self.ensure(lh);
        if line.glyphs.is_empty() {
            self.fresh = false;
        } else {
            let y = baseline(self.m, self.y, size, lh);
            self.push(line.place_in(self.face, x, y, size, gray, bold));
        }
        self.y += lh;
    }

    /// A line in the heading face (IPAex Gothic).
    fn heading_line(&mut self, line: WLine, x: f32, size: f32, lh: f32) {
        self.ensure(lh);
        if line.glyphs.is_empty() {
            self.fresh = false;
        } else {
            let y = baseline(self.hm, self.y, size, lh);
            self.push(line.place_in(Face::Gothic, x, y, size, INK, true));
        }
        self.y += lh;
    }

    fn header(&mut self, doc: &Document) {
        let m = self.m;
        for (label, value) in &doc.meta {
            let text = if label.is_empty() {
                value.clone()
            } else {
                format!("{label}：{value}")
            };
            for l in wrap(m, &text, BODY, CONTENT_W) {
                let x = MARGIN_X + CONTENT_W - l.width;
                self.line(l, x, BODY, BODY * 1.5, INK, false);
            }
        }
        if !doc.meta.is_empty() {
            self.y += 4.0 * MM;
        }
        if !doc.title.trim().is_empty() {
            for l in wrap(m, &doc.title, TITLE, CONTENT_W) {
                let x = MARGIN_X + (CONTENT_W - l.width) / 2.0;
                self.line(l, x, TITLE, TITLE * 1.5, INK, true);
            }
        }
        if let Some(sub) = doc.subtitle.as_deref().filter(|s| !s.trim().is_empty()) {
            for l in wrap(m, sub, SUBTITLE, CONTENT_W) {
                let x = MARGIN_X + (CONTENT_W - l.width) / 2.0;
                self.line(l, x, SUBTITLE, SUBTITLE * 1.5, SOFT_INK, false);
            }
        }
        if !self.fresh {
            self.y += 6.0 * MM;
        }
    }

    pub(crate) fn heading(&mut self, text: &str) {
        let lh = HEADING * 1.5;
        let lines = wrap(self.hm, text, HEADING, CONTENT_W);
        self.gap(3.5 * MM);
        // Keep the heading with at least two lines of what follows.
        let rule_gap = 1.0 * MM;
        self.ensure(lines.len() as f32 * lh + rule_gap + 2.0 * BODY_LH);
        for l in lines {
            self.heading_line(l, MARGIN_X, HEADING, lh);
        }
        self.push(Op::Line {
            x1: MARGIN_X,
            y1: self.y,
            x2: MARGIN_X + CONTENT_W,
            y2: self.y,
            width: 0.6,
            gray: RULE,
        });
        self.y += 2.0 * MM;
    }

    pub(crate) fn paragraph(&mut self, text: &str) {
        for l in wrap(self.m, text, BODY, CONTENT_W) {
            self.line(l, MARGIN_X, BODY, BODY_LH, INK, false);
        }
        self.gap(2.0 * MM);
    }

    fn list(&mut self, items: &[String]) {
        let m = self.m;
        let bullet_w = m.glyph(BULLET).map_or(1.0, |g| g.advance) * BODY;
        let indent = bullet_w + 0.5 * MM;
        for item in items {
            let lines = wrap(m, item, BODY, CONTENT_W - indent);
            for (i, l) in lines.into_iter().enumerate() {
                self.ensure(BODY_LH);
                if i == 0 {
                    let b = wrap(m, &BULLET.to_string(), BODY, CONTENT_W)
                        .pop()
                        .unwrap_or_default();
                    let y = baseline(m, self.y, BODY, BODY_LH);
                    self.push(b.place_in(self.face, MARGIN_X, y, BODY, INK, false));
                }
                self.line(l, MARGIN_X + indent, BODY, BODY_LH, INK, false);
            }
            self.y += 0.5 * MM;
        }
        self.gap(1.5 * MM);
    }

    fn fields(&mut self, rows: &[(String, String)]) {
        let m = self.m;
        let value_w = CONTENT_W - LABEL_W;
        for (label, value) in rows {
            let label_lines = wrap(m, label, CELL, LABEL_W - 2.0 * CELL_PAD_X);
            let value_lines = wrap(m, value, CELL, value_w - 2.0 * CELL_PAD_X);
            let (mut li, mut vi) = (0, 0);
            let mut continued = false;
            loop {
                let rem = (label_lines.len() - li).max(value_lines.len() - vi).max(1);
                let need = rem as f32 * CELL_LH + 2.0 * CELL_PAD_Y;
                let take = if need <= self.remaining() + 0.01 {
                    rem
                } else {
                    let fit = ((self.remaining() - 2.0 * CELL_PAD_Y) / CELL_LH).floor();
                    let fit = if fit > 0.0 { fit as usize } else { 0 };
                    if self.fresh {
                        // An empty page must take something, or this would never end.
                        fit.max(1)
                    } else if fit >= 2 && rem > 3 {
                        fit
                    } else {
                        self.new_page();
                        continue;
                    }
                };
                let mut labels: Vec<WLine> =
                    label_lines.iter().skip(li).take(take).cloned().collect();
                if labels.is_empty() && continued {
                    // The row goes on from the previous page: say which row it is.
                    let cont = format!("{}（続き）", label.trim());
                    labels = wrap(m, &cont, CELL, LABEL_W - 2.0 * CELL_PAD_X);
                    labels.truncate(take);
                }
                let values: Vec<WLine> = value_lines.iter().skip(vi).take(take).cloned().collect();
                let label_gray = if li >= label_lines.len() {
                    SOFT_INK
                } else {
                    INK
                };
                self.cell_segment(labels, values, take, label_gray);
                li = (li + take).min(label_lines.len());
                vi = (vi + take).min(value_lines.len());
                if li >= label_lines.len() && vi >= value_lines.len() {
                    break;
                }
                self.new_page();
                continued = true;
            }
        }
        self.gap(3.0 * MM);
    }

    /// One row (or the part of one that fits on this page) of a label/value table.
    fn cell_segment(
        &mut self,
        labels: Vec<WLine>,
        values: Vec<WLine>,
        lines: usize,
        label_gray: u8,
    ) {
        let m = self.m;
        let top = self.y;
        let h = lines as f32 * CELL_LH + 2.0 * CELL_PAD_Y;
        let (left, mid, right) = (MARGIN_X, MARGIN_X + LABEL_W, MARGIN_X + CONTENT_W);
        self.push(Op::Rect {
            x: left,
            y: top,
            w: LABEL_W,
            h,
            gray: LABEL_BG,
        });
        for (i, l) in labels.into_iter().enumerate() {
            let y = baseline(m, top + CELL_PAD_Y + i as f32 * CELL_LH, CELL, CELL_LH);
            self.push(l.place_in(self.face, left + CELL_PAD_X, y, CELL, label_gray, false));
        }
        for (i, l) in values.into_iter().enumerate() {
            let y = baseline(m, top + CELL_PAD_Y + i as f32 * CELL_LH, CELL, CELL_LH);
            self.push(l.place_in(self.face, mid + CELL_PAD_X, y, CELL, INK, false));
        }
        let bottom = top + h;
        for (x1, y1, x2, y2) in [
            (left, top, right, top),
            (left, bottom, right, bottom),
            (left, top, left, bottom),
            (mid, top, mid, bottom),
            (right, top, right, bottom),
        ] {
            self.push(Op::Line {
                x1,
                y1,
                x2,
                y2,
                width: 0.6,
                gray: RULE,
            });
        }
        self.y = bottom;
    }

    fn spacer(&mut self, mm: f32) {
        let h = if mm.is_finite() {
            mm.max(0.0) * MM
        } else {
            0.0
        };
        if h == 0.0 {
            return;
        }
        if h >= self.remaining() {
            if !self.fresh {
                self.new_page();
            }
        } else {
            self.y += h;
            self.fresh = false;
        }
    }

    /// Lays out one body block.
    pub(crate) fn block(&mut self, block: &Block) {
        match block {
            Block::Heading(text) => self.heading(text),
            Block::Paragraph(text) => self.paragraph(text),
            Block::Fields(rows) => self.fields(rows),
            Block::List(items) => self.list(items),
            Block::Spacer(mm) => self.spacer(*mm),
            Block::Radars(charts) => {
                for row in charts.chunks(2) {
                    self.ensure(crate::chart::ROW_H);
                    for op in crate::chart::row_ops(self.hm, row, self.y) {
                        self.push(op);
                    }
                    self.y += crate::chart::ROW_H;
                }
            }
            Block::PageBreak => {
                if !self.fresh {
                    self.new_page();
                }
            }
        }
    }

    pub(crate) fn footers(&mut self, footer: Option<&str>) {
        let m = self.hm;
        let total = self.pages.len();
        for (i, page) in self.pages.iter_mut().enumerate() {
            let number = wrap(m, &format!("{} / {total}", i + 1), FOOTER, CONTENT_W)
                .pop()
                .unwrap_or_default();
            let number_w = number.width;
            page.push(number.place(
                MARGIN_X + CONTENT_W - number_w,
                FOOTER_BASELINE,
                FOOTER,
                SOFT_INK,
                false,
            ));
            if let Some(text) = footer.filter(|t| !t.trim().is_empty()) {
                let room = CONTENT_W - number_w - 10.0 * MM;
                let l = truncate(m, text, FOOTER, room);
                page.push(l.place(MARGIN_X, FOOTER_BASELINE, FOOTER, SOFT_INK, false));
            }
        }
    }
}

/// Lays the document out into pages of operations.
pub(crate) fn layout(m: &FontMetrics, doc: &Document) -> Vec<Vec<Op>> {
    let mut l = Layouter::new(m);
    l.header(doc);
    for block in &doc.blocks {
        l.block(block);
    }
    l.footers(doc.footer.as_deref());
    l.pages
}

/// The watermark as one line centred on the page, with the rotation (degrees) that lays it
/// along the diagonal from bottom left to top right. `None` for blank text.
pub(crate) fn watermark(m: &FontMetrics, text: &str) -> Option<(TextRun, f32)> {
    // A watermark is a word or two; a long one would be unreadably small and, drawn as
    // outlines on every page, expensive. Keep the first few characters.
    let flat: String = split_hard_lines(text)
        .join(" ")
        .trim()
        .chars()
        .take(WATERMARK_MAX_CHARS)
        .collect();
    let shaped = shape(&flat, m);
    let em: f32 = shaped.clusters.iter().map(|c| c.advance).sum();
    if em <= 0.0 || shaped.clusters.iter().all(|c| c.kind == Kind::Space) {
        return None;
    }
    let diagonal = PAGE_W.hypot(PAGE_H);
    let size = (diagonal * 0.5 / em).min(150.0);
    let lines = wrap(m, &flat, size, f32::MAX);
    let line = lines.into_iter().next()?;
    let (cx, cy) = (PAGE_W / 2.0, PAGE_H / 2.0);
    let glyph_h = (m.ascent + m.descent) * size;
    let angle = -PAGE_H.atan2(PAGE_W).to_degrees();
    let x = cx - line.width / 2.0;
    let y = cy - glyph_h / 2.0 + m.ascent * size;
    match line.place(x, y, size, 0, false) {
        Op::Text(run) => Some((run, angle)),
        _ => None,
    }
}

pub(crate) const PAGE_CENTER: (f32, f32) = (PAGE_W / 2.0, PAGE_H / 2.0);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::font::metrics;

    fn doc(blocks: Vec<Block>) -> Document {
        Document {
            title: "テスト".into(),
            blocks,
            ..Document::default()
        }
    }

    fn texts(page: &[Op]) -> Vec<&TextRun> {
        page.iter()
            .filter_map(|op| match op {
                Op::Text(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn nothing_leaves_the_page() {
        let m = metrics().unwrap();
        let long = "個人データの漏えい等が発生し、又は発生したおそれがある事態。".repeat(40);
        let d = doc(vec![
            Block::Paragraph(long.clone()),
            Block::Fields(vec![("原因".into(), long.clone())]),
            Block::List(vec![long.clone(), "短い項目".into()]),
        ]);
        let pages = layout(m, &d);
        assert!(pages.len() >= 3, "{}", pages.len());
        for page in &pages {
            for t in texts(page) {
                let w: f32 = t.glyphs.iter().map(|g| g.advance).sum::<f32>() * t.size;
                assert!(t.x >= MARGIN_X - 0.01, "x {}", t.x);
                assert!(
                    t.x + w <= MARGIN_X + CONTENT_W + 0.05,
                    "right {} {}",
                    t.x + w,
                    t.text
                );
                assert!(t.y > 0.0 && t.y < PAGE_H, "y {}", t.y);
                if t.size != FOOTER {
                    assert!(t.y <= CONTENT_BOTTOM, "below content: {} {}", t.y, t.text);
                }
            }
        }
    }

    #[test]
    fn long_field_value_continues_on_the_next_page() {
        let m = metrics().unwrap();
        let value = (1..=120)
            .map(|i| format!("{i}行目の値"))
            .collect::<Vec<_>>()
            .join("\n");
        let d = doc(vec![Block::Fields(vec![("項目".into(), value)])]);
        let pages = layout(m, &d);
        assert!(pages.len() >= 3);
        let all: Vec<String> = pages
            .iter()
            .flat_map(|p| texts(p).into_iter().map(|t| t.text.clone()))
            .collect();
        for i in 1..=120 {
            let want = format!("{i}行目の値");
            assert_eq!(all.iter().filter(|t| **t == want).count(), 1, "{want}");
        }
        assert!(all.iter().any(|t| t == "項目（続き）"), "{all:?}");
    }

    #[test]
    fn page_break_never_makes_blank_pages() {
        let m = metrics().unwrap();
        let d = Document {
            blocks: vec![
                Block::PageBreak,
                Block::Paragraph("一".into()),
                Block::PageBreak,
                Block::PageBreak,
                Block::Paragraph("二".into()),
            ],
            ..Document::default()
        };
        assert_eq!(layout(m, &d).len(), 2);
        let d = doc(vec![
            Block::Spacer(f32::NAN),
            Block::Spacer(-5.0),
            Block::Spacer(1e9),
        ]);
        assert!(layout(m, &d).len() <= 2);
    }

    #[test]
    fn footer_is_truncated_to_one_line() {
        let m = metrics().unwrap();
        let d = Document {
            footer: Some("株式会社".repeat(100)),
            ..Document::default()
        };
        let pages = layout(m, &d);
        let t = texts(&pages[0]);
        let footer = t.iter().find(|t| t.text.starts_with("株式会社")).unwrap();
        assert!(footer.text.ends_with('…'));
        assert!(t.iter().any(|t| t.text == "1 / 1"));
    }
}
