//! The certificate of completion of an e-learning course (修了証), issue 17 part 2: one A4
//! portrait page with a double border, 「修了証」 and the person's name in IPAex Mincho, the
//! course, the year, the date passed and the score in a small table in IPAex Gothic, the
//! company at the bottom right and the certificate number at the bottom left.
//!
//! Long names and titles wrap (a title) or get smaller (a name, down to half size); characters
//! the fonts lack are drawn as 〓, as everywhere in this crate; nothing panics on any input.

use crate::font::{self, Face, FontMetrics};
use crate::layout::{baseline, wrap, Op, WLine, INK, MM, PAGE_H, PAGE_W, SOFT_INK};
use crate::PdfError;

/// What a certificate says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Certificate {
    /// The person's name, printed followed by 「殿」.
    pub name: String,
    pub course: String,
    pub year: i64,
    /// The date passed as printed (JST), e.g. 「2026年12月7日」.
    pub date: String,
    /// The score as printed, e.g. 「18 / 20問正解（90％）」.
    pub score: String,
    /// The pass mark as printed, e.g. 「80％」.
    pub pass_mark: String,
    pub company: String,
    /// 証明番号, printed small at the bottom left.
    pub number: String,
}

const TITLE_SIZE: f32 = 40.0;
const NAME_SIZE: f32 = 24.0;
const TEXT_SIZE: f32 = 12.0;
const FIELD_SIZE: f32 = 12.0;
const SMALL: f32 = 8.5;

/// Renders a certificate as a one-page PDF.
pub fn render_certificate(c: &Certificate) -> Result<Vec<u8>, PdfError> {
    let gothic = font::metrics().ok_or(PdfError::Font)?;
    let mincho = font::face_metrics(Face::Mincho).ok_or(PdfError::Font)?;
    let ops = layout_certificate(gothic, mincho, c);
    crate::write_pdf(&[ops], &format!("修了証 {}", c.course.trim()), None)
}

fn centred(ops: &mut Vec<Op>, face: Face, line: WLine, size: f32, base: f32, gray: u8, bold: bool) {
    let x = (PAGE_W - line.width) / 2.0;
    if !line.glyphs.is_empty() {
        ops.push(line.place_in(face, x, base, size, gray, bold));
    }
}

fn frame(ops: &mut Vec<Op>, inset_mm: f32, width: f32) {
    let (x1, y1) = (inset_mm * MM, inset_mm * MM);
    let (x2, y2) = (PAGE_W - inset_mm * MM, PAGE_H - inset_mm * MM);
    for (a, b, c, d) in [
        (x1, y1, x2, y1),
        (x2, y1, x2, y2),
        (x2, y2, x1, y2),
        (x1, y2, x1, y1),
    ] {
        ops.push(Op::Line {
            x1: a,
            y1: b,
            x2: c,
            y2: d,
            width,
            gray: 0x33,
        });
    }
}

fn layout_certificate(g: &FontMetrics, m: &FontMetrics, c: &Certificate) -> Vec<Op> {
    let mut ops = Vec::new();
    frame(&mut ops, 12.0, 2.0);
    frame(&mut ops, 15.0, 0.6);

    // 修了証, spaced out, and its English name below.
    let mut y = 48.0 * MM;
    if let Some(t) = wrap(m, "修　了　証", TITLE_SIZE, PAGE_W).pop() {
        centred(
            &mut ops,
            Face::Mincho,
            t,
            TITLE_SIZE,
            baseline(m, y, TITLE_SIZE, TITLE_SIZE * 1.3),
            INK,
            true,
        );
    }
    y += TITLE_SIZE * 1.3 + 2.0 * MM;
    if let Some(t) = wrap(g, "Certificate of Completion", 11.0, PAGE_W).pop() {
        centred(
            &mut ops,
            Face::Gothic,
            t,
            11.0,
            baseline(g, y, 11.0, 16.0),
            SOFT_INK,
            false,
        );
    }

    // The name, smaller when long, on one line.
    y = 100.0 * MM;
    let name = format!("{}　殿", c.name.trim());
    let room = PAGE_W - 60.0 * MM;
    let mut size = NAME_SIZE;
    let mut line = wrap(m, &name, size, f32::MAX / 4.0)
        .pop()
        .unwrap_or_default();
    while line.width > room && size > NAME_SIZE / 2.0 {
        size -= 1.0;
        line = wrap(m, &name, size, f32::MAX / 4.0)
            .pop()
            .unwrap_or_default();
    }
    let lh = size * 1.5;
    let base = baseline(m, y, size, lh);
    ops.push(Op::Line {
        x1: 45.0 * MM,
        y1: y + lh + 1.5 * MM,
        x2: PAGE_W - 45.0 * MM,
        y2: y + lh + 1.5 * MM,
        width: 0.5,
        gray: 0x55,
    });
    centred(&mut ops, Face::Mincho, line, size, base, INK, false);

    // The statement.
    y += lh + 14.0 * MM;
    let text = "あなたは下記の講座を受講し、確認テストに合格したので、これを証します。";
    for l in wrap(m, text, TEXT_SIZE, PAGE_W - 44.0 * MM) {
        let lh = TEXT_SIZE * 1.8;
        centred(
            &mut ops,
            Face::Mincho,
            l,
            TEXT_SIZE,
            baseline(m, y, TEXT_SIZE, lh),
            INK,
            false,
        );
        y += lh;
    }

    // The facts, label and value, in a column centred on the page.
    y += 8.0 * MM;
    let label_x = 45.0 * MM;
    let value_x = 80.0 * MM;
    let value_w = PAGE_W - value_x - 35.0 * MM;
    let fields = [
        ("講座名", c.course.trim().to_owned()),
        ("年度", format!("{}年度", c.year)),
        ("合格日", c.date.trim().to_owned()),
        ("得点", c.score.trim().to_owned()),
        ("合格基準", c.pass_mark.trim().to_owned()),
    ];
    let flh = FIELD_SIZE * 1.8;
    for (label, value) in fields {
        if let Some(lab) = wrap(g, label, FIELD_SIZE, value_x - label_x).pop() {
            if !lab.glyphs.is_empty() {
                ops.push(lab.place_in(
                    Face::Gothic,
                    label_x,
                    baseline(g, y, FIELD_SIZE, flh),
                    FIELD_SIZE,
                    SOFT_INK,
                    false,
                ));
            }
        }
        let lines = wrap(g, &value, FIELD_SIZE, value_w);
        let n = lines.len().clamp(1, 3);
        for v in lines.into_iter().take(3) {
            if !v.glyphs.is_empty() {
                ops.push(v.place_in(
                    Face::Gothic,
                    value_x,
                    baseline(g, y, FIELD_SIZE, flh),
                    FIELD_SIZE,
                    INK,
                    false,
                ));
            }
            y += flh;
        }
        if n == 0 {
            y += flh;
        }
        ops.push(Op::Line {
            x1: label_x,
            y1: y - 1.0,
            x2: PAGE_W - 35.0 * MM,
            y2: y - 1.0,
            width: 0.3,
            gray: 0xAA,
        });
    }

    // The company, bottom right; the number, bottom left.
    let bottom = PAGE_H - 45.0 * MM;
    for (i, t) in [c.date.trim(), c.company.trim()].iter().enumerate() {
        if let Some(l) = wrap(m, t, 14.0, PAGE_W - 90.0 * MM).pop() {
            let x = PAGE_W - 35.0 * MM - l.width;
            let top = bottom + (i as f32) * 9.0 * MM;
            if !l.glyphs.is_empty() {
                ops.push(l.place_in(
                    Face::Mincho,
                    x,
                    baseline(m, top, 14.0, 20.0),
                    14.0,
                    INK,
                    i == 1,
                ));
            }
        }
    }
    if !c.number.trim().is_empty() {
        if let Some(l) = wrap(
            g,
            &format!("証明番号 {}", c.number.trim()),
            SMALL,
            80.0 * MM,
        )
        .pop()
        {
            if !l.glyphs.is_empty() {
                ops.push(l.place_in(
                    Face::Gothic,
                    25.0 * MM,
                    PAGE_H - 22.0 * MM,
                    SMALL,
                    SOFT_INK,
                    false,
                ));
            }
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Certificate {
        Certificate {
            name: "山田 太郎".into(),
            course: "個人情報保護・情報セキュリティ教育".into(),
            year: 2026,
            date: "2026年12月7日".into(),
            score: "18 / 20問正解（90％）".into(),
            pass_mark: "80％".into(),
            company: "株式会社みらい通販".into(),
            number: "EL-2026-0001-000042".into(),
        }
    }

    fn text_of(pdf: &[u8]) -> String {
        let doc = lopdf::Document::load_mem(pdf).expect("a PDF");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        assert_eq!(pages.len(), 1, "one page");
        doc.extract_text(&pages).unwrap_or_default()
    }

    #[test]
    fn a_certificate_says_who_what_when_and_how_well() {
        let pdf = render_certificate(&sample()).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        // To look at it: MAMORI_CERTIFICATE_OUT=/tmp/c.pdf, then pdftoppm -png -r 60.
        if let Ok(out) = std::env::var("MAMORI_CERTIFICATE_OUT") {
            std::fs::write(out, &pdf).unwrap();
        }
        let text: String = text_of(&pdf)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for want in [
            "修",
            "山田太郎",
            "個人情報保護・情報セキュリティ教育",
            "2026年度",
            "2026年12月7日",
            "18/20問正解",
            "株式会社みらい通販",
            "EL-2026-0001-000042",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
        assert_eq!(pdf, render_certificate(&sample()).unwrap(), "deterministic");
    }

    #[test]
    fn odd_input_does_not_panic() {
        let mut c = sample();
        c.name = "長い名前".repeat(40);
        c.course = "とても長い講座名".repeat(30);
        c.company = "\u{0}\u{7}𠮷野家".into();
        c.number = String::new();
        let pdf = render_certificate(&c).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert!(render_certificate(&Certificate::default()).is_ok());
    }
}
