//! Letters to the persons concerned (本人への通知の封書), printed on A4 portrait and folded in
//! three for a 長形3号 window envelope (長3窓付き封筒).
//!
//! # Where things go on the sheet
//!
//! A 長3 envelope is 120 × 235 mm; an A4 sheet folded in three (Z or letter fold) is 210 × 99
//! mm, the top third outwards, and goes in with its top edge towards the envelope's window
//! edge. The common 長3 window (窓) is 90 × 45 mm, 23 mm from the left and 13 mm from the top
//! edge (the printing companies' templates give the same position on the sheet:
//! 用紙の左端から 23 mm、上端から 13 mm). [`WINDOW_MM`] is that rectangle in sheet
//! coordinates.
//!
//! - The **address block** (お問い合わせ番号, 〒 postal code, address, name 様) is set in
//!   IPAex Gothic inside the window with a 5 mm margin on every side ([`ADDRESS_MM`]), so a
//!   sheet that sits a little off in the envelope still shows the whole address. A long address
//!   wraps inside that box; if it does not fit, the block is set smaller (down to 60 %), and
//!   only then are address lines cut (the last one kept ends with "…"); the name is always
//!   printed. [`address_fits`] tells the caller beforehand, so such a recipient can be
//!   checked by hand before printing.
//! - The **reference number** (お問い合わせ番号) is printed at the top of the address block,
//!   so a letter returned unopened can be keyed back through the window, and again in the
//!   footer of every page.
//! - The **date and the sender block** (company, department, address, phone) are set right of
//!   the window (from 125 mm), nothing else is printed in or next to the window.
//! - The **body** (title, paragraphs, headed sections, the list of leaked items, the closing)
//!   begins below the first fold (105 mm) in IPAex Mincho, with the same line breaking (禁則,
//!   両端揃え) and page breaking as reports; headings are IPAex Gothic.
//! - Small fold marks are printed at the left edge at 99 mm and 198 mm.
//! - Page numbers "n / N" count the pages of each letter, also in [`render_letters`].
//!
//! Characters the fonts lack are drawn as 〓 (as in reports); nothing panics on any input.

use crate::font::{self, Face, FontMetrics};
use crate::layout::{
    self, baseline, wrap, Layouter, Op, WLine, BODY, BODY_LH, INK, MARGIN_X, MM, PAGE_W, SOFT_INK,
};
use crate::{Block, PdfError};

/// The 長3 window in sheet coordinates, millimetres from the top-left corner of the A4
/// sheet: `(x, y, width, height)`.
pub const WINDOW_MM: (f32, f32, f32, f32) = (23.0, 13.0, 90.0, 45.0);
/// Margin kept between the window's edge and the address block, millimetres.
pub const WINDOW_MARGIN_MM: f32 = 5.0;
/// The box the address block is set in: [`WINDOW_MM`] less [`WINDOW_MARGIN_MM`] on every side.
pub const ADDRESS_MM: (f32, f32, f32, f32) = (
    WINDOW_MM.0 + WINDOW_MARGIN_MM,
    WINDOW_MM.1 + WINDOW_MARGIN_MM,
    WINDOW_MM.2 - 2.0 * WINDOW_MARGIN_MM,
    WINDOW_MM.3 - 2.0 * WINDOW_MARGIN_MM,
);
/// Left edge of the date and sender block, millimetres (12 mm clear of the window).
pub const SENDER_X_MM: f32 = 125.0;
/// Where the body begins on the first page, millimetres from the top (below the first fold).
pub const BODY_TOP_MM: f32 = 105.0;

const REF_SIZE: f32 = 7.5;
const POSTAL_SIZE: f32 = 10.0;
const ADDRESS_SIZE: f32 = 10.5;
const NAME_SIZE: f32 = 13.0;
const SENDER_SIZE: f32 = 9.0;
const LETTER_TITLE: f32 = 14.0;
const MIN_SCALE: f32 = 0.6;

/// The person a letter goes to, as printed in the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    /// 郵便番号, e.g. "1000001" or "100-0001" (seven digits get the hyphen when printed).
    pub postal_code: String,
    /// 住所: prefecture to building and room; each entry starts a new line, long lines wrap.
    pub address_lines: Vec<String>,
    /// 氏名, printed followed by 「様」.
    pub name: String,
}

/// The company sending the letter, printed at the top right (outside the window).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    pub company: String,
    /// The department answering enquiries, e.g. 「個人情報お問い合わせ窓口」.
    pub department: String,
    pub address_lines: Vec<String>,
    /// Printed as 「電話 …」.
    pub phone: String,
}

/// One letter (本人への通知).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Letter {
    pub recipient: Recipient,
    pub sender: Sender,
    /// The date as it is to be printed (JST, e.g. 「令和8年12月7日」); the caller formats it.
    pub date: String,
    /// お問い合わせ番号: printed in the window and on every page so returned mail and calls
    /// can be keyed back to the recipient.
    pub reference: String,
    /// Centred above the body, e.g. 「個人情報の漏えいに関するお知らせとお詫び」.
    pub title: String,
    /// Paragraphs and headed sections, including this person's leaked items (a
    /// [`Block::Heading`] followed by a [`Block::List`]).
    pub body: Vec<Block>,
    /// Right-aligned lines after the body, e.g. 「敬具」 or 「以上」.
    pub closing: Vec<String>,
}

/// Renders one letter as a PDF file.
pub fn render_letter(letter: &Letter) -> Result<Vec<u8>, PdfError> {
    render_letters(std::slice::from_ref(letter))
}

/// Renders letters into one PDF file for printing: each letter starts on a new page and
/// its pages are numbered "1 / N" on their own. An empty slice gives a PDF of one blank page
/// (a PDF cannot have none).
pub fn render_letters(letters: &[Letter]) -> Result<Vec<u8>, PdfError> {
    let body = font::face_metrics(Face::Mincho).ok_or(PdfError::Font)?;
    let gothic = font::metrics().ok_or(PdfError::Font)?;
    let mut pages = Vec::new();
    for letter in letters {
        pages.extend(layout_letter(body, gothic, letter));
    }
    let title = letters.first().map_or("", |l| l.title.as_str());
    crate::write_pdf(&pages, title, None)
}

/// The number of pages each letter takes, in order (what [`render_letters`] prints).
pub fn page_counts(letters: &[Letter]) -> Result<Vec<usize>, PdfError> {
    let body = font::face_metrics(Face::Mincho).ok_or(PdfError::Font)?;
    let gothic = font::metrics().ok_or(PdfError::Font)?;
    Ok(letters
        .iter()
        .map(|l| layout_letter(body, gothic, l).len())
        .collect())
}

/// Whether the recipient's block fits the window at full size, and at all (smaller).
/// `(full_size, at_all)`: when `at_all` is false the last address line is cut with "…".
#[must_use]
pub fn address_fits(letter: &Letter) -> (bool, bool) {
    let Some(m) = font::metrics() else {
        return (false, false);
    };
    let full = address_lines(m, letter, 1.0).is_some();
    let any = full || address_lines(m, letter, MIN_SCALE).is_some();
    (full, any)
}

/// "1000001" → "〒100-0001"; anything else is printed as given after 〒.
fn postal(code: &str) -> String {
    let code = code.trim().trim_start_matches('〒').trim();
    let digits: String = code
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .collect();
    if digits.len() == 7 && digits.bytes().all(|b| b.is_ascii_digit()) {
        format!("〒{}-{}", &digits[..3], &digits[3..])
    } else {
        format!("〒{code}")
    }
}

/// A line of the address block: the line, its size and its line height.
type AddrLine = (WLine, f32, f32);

/// The address block's lines at `scale`, or `None` if they do not fit the box.
fn address_lines(m: &FontMetrics, letter: &Letter, scale: f32) -> Option<Vec<AddrLine>> {
    let out = address_lines_unchecked(m, letter, scale);
    let total: f32 = out.iter().map(|(_, _, lh)| lh).sum();
    (total <= ADDRESS_MM.3 * MM).then_some(out)
}

/// The address block at the largest scale that fits; at the smallest, lines above the name
/// are dropped from the end of the address (the last kept one ends with "…").
fn address_block(m: &FontMetrics, letter: &Letter) -> Vec<AddrLine> {
    let mut scale = 1.0;
    while scale >= MIN_SCALE - 1e-3 {
        if let Some(lines) = address_lines(m, letter, scale) {
            return lines;
        }
        scale -= 0.05;
    }
    // Still too long: keep the name (the last lines) and as much as fits before it.
    let mut lines = address_lines_unchecked(m, letter, MIN_SCALE);
    let h = ADDRESS_MM.3 * MM;
    let name_start = lines
        .iter()
        .rposition(|(l, _, _)| l.text.starts_with(letter.recipient.name.trim()))
        .unwrap_or(lines.len().saturating_sub(1));
    let name: Vec<AddrLine> = lines.split_off(name_start);
    let name_h: f32 = name.iter().map(|(_, _, lh)| lh).sum();
    let mut used = name_h;
    let mut keep = 0;
    for (_, _, lh) in &lines {
        if used + lh > h {
            break;
        }
        used += lh;
        keep += 1;
    }
    let cut = keep < lines.len();
    lines.truncate(keep);
    if cut {
        if let Some((last, size, _)) = lines.last_mut() {
            let text = format!("{}…", last.text.trim_end_matches('…'));
            let shortened = layout_truncate(m, &text, *size);
            *last = shortened;
        }
    }
    lines.extend(name);
    lines
}

fn layout_truncate(m: &FontMetrics, text: &str, size: f32) -> WLine {
    let w = ADDRESS_MM.2 * MM;
    let mut chars: Vec<char> = text.chars().collect();
    loop {
        let s: String = chars.iter().collect();
        let lines = wrap(m, &s, size, w);
        if lines.len() <= 1 || chars.len() <= 1 {
            return lines.into_iter().next().unwrap_or_default();
        }
        // Drop the character before the ellipsis.
        let n = chars.len();
        chars.remove(n.saturating_sub(2));
    }
}

fn address_lines_unchecked(m: &FontMetrics, letter: &Letter, scale: f32) -> Vec<AddrLine> {
    let w = ADDRESS_MM.2 * MM;
    let mut out: Vec<AddrLine> = Vec::new();
    let mut add = |text: &str, size: f32, lh: f32| {
        for l in wrap(m, text, size * scale, w) {
            out.push((l, size * scale, lh * scale));
        }
    };
    let r = &letter.recipient;
    if !letter.reference.trim().is_empty() {
        add(
            &format!("お問い合わせ番号 {}", letter.reference.trim()),
            REF_SIZE,
            REF_SIZE * 1.5,
        );
    }
    if !r.postal_code.trim().is_empty() {
        add(&postal(&r.postal_code), POSTAL_SIZE, POSTAL_SIZE * 1.45);
    }
    for a in r.address_lines.iter().filter(|a| !a.trim().is_empty()) {
        add(a.trim(), ADDRESS_SIZE, ADDRESS_SIZE * 1.4);
    }
    add(
        &format!("{}　様", r.name.trim()),
        NAME_SIZE,
        NAME_SIZE * 1.5,
    );
    out
}

/// Lays one letter out into pages.
fn layout_letter(body: &FontMetrics, gothic: &FontMetrics, letter: &Letter) -> Vec<Vec<Op>> {
    let mut l = Layouter::with_faces(body, Face::Mincho, gothic);

    // The address block, in the window.
    let (ax, ay, _, _) = ADDRESS_MM;
    let mut y = ay * MM;
    for (line, size, lh) in address_block(gothic, letter) {
        if !line.glyphs.is_empty() {
            let base = baseline(gothic, y, size, lh);
            l.push(line.place_in(Face::Gothic, ax * MM, base, size, INK, false));
        }
        y += lh;
    }

    // Date, reference and sender, right of the window.
    let right = PAGE_W - MARGIN_X;
    let sx = SENDER_X_MM * MM;
    let sw = right - sx;
    let mut y = WINDOW_MM.1 * MM;
    let lh = SENDER_SIZE * 1.55;
    let right_line = |l: &mut Layouter<'_>, text: &str, y: &mut f32, gray: u8| {
        for w in wrap(gothic, text, SENDER_SIZE, sw) {
            let x = right - w.width;
            let base = baseline(gothic, *y, SENDER_SIZE, lh);
            if !w.glyphs.is_empty() {
                l.push(w.place_in(Face::Gothic, x, base, SENDER_SIZE, gray, false));
            }
            *y += lh;
        }
    };
    if !letter.date.trim().is_empty() {
        right_line(&mut l, letter.date.trim(), &mut y, INK);
    }
    if !letter.reference.trim().is_empty() {
        right_line(
            &mut l,
            &format!("お問い合わせ番号：{}", letter.reference.trim()),
            &mut y,
            INK,
        );
    }
    y += 3.0 * MM;
    let s = &letter.sender;
    let mut sender_lines: Vec<String> = Vec::new();
    for t in [&s.company, &s.department] {
        if !t.trim().is_empty() {
            sender_lines.push(t.trim().to_string());
        }
    }
    sender_lines.extend(
        s.address_lines
            .iter()
            .filter(|a| !a.trim().is_empty())
            .map(|a| a.trim().to_string()),
    );
    if !s.phone.trim().is_empty() {
        sender_lines.push(format!("電話 {}", s.phone.trim()));
    }
    for t in &sender_lines {
        for w in wrap(gothic, t, SENDER_SIZE, sw) {
            let base = baseline(gothic, y, SENDER_SIZE, lh);
            if !w.glyphs.is_empty() {
                l.push(w.place_in(Face::Gothic, sx, base, SENDER_SIZE, SOFT_INK, false));
            }
            y += lh;
        }
    }

    // Fold marks at the left edge.
    for fold in [99.0, 198.0] {
        l.push(Op::Line {
            x1: 4.0 * MM,
            y1: fold * MM,
            x2: 8.0 * MM,
            y2: fold * MM,
            width: 0.3,
            gray: 0x99,
        });
    }

    // The body, below the first fold (or below the sender block if that runs long).
    l.y = (BODY_TOP_MM * MM).max(y + 4.0 * MM);
    if !letter.title.trim().is_empty() {
        let tl = LETTER_TITLE * 1.5;
        for w in wrap(gothic, letter.title.trim(), LETTER_TITLE, layout::CONTENT_W) {
            l.ensure(tl);
            let x = MARGIN_X + (layout::CONTENT_W - w.width) / 2.0;
            let base = baseline(gothic, l.y, LETTER_TITLE, tl);
            l.push(w.place_in(Face::Gothic, x, base, LETTER_TITLE, INK, true));
            l.y += tl;
        }
        l.y += 5.0 * MM;
    }
    for block in &letter.body {
        l.block(block);
    }
    for c in letter.closing.iter().filter(|c| !c.trim().is_empty()) {
        for w in wrap(body, c.trim(), BODY, layout::CONTENT_W) {
            let x = MARGIN_X + layout::CONTENT_W - w.width;
            l.line(w, x, BODY, BODY_LH, INK, false);
        }
    }
    let footer = (!letter.reference.trim().is_empty())
        .then(|| format!("お問い合わせ番号：{}", letter.reference.trim()));
    l.footers(footer.as_deref());
    l.pages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(address: Vec<String>) -> Letter {
        Letter {
            recipient: Recipient {
                postal_code: "1000001".into(),
                address_lines: address,
                name: "山田 太郎".into(),
            },
            reference: "N-2026-000123".into(),
            ..Letter::default()
        }
    }

    fn texts(page: &[Op]) -> Vec<&crate::layout::TextRun> {
        page.iter()
            .filter_map(|op| match op {
                Op::Text(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn postal_codes_get_a_hyphen() {
        assert_eq!(postal("1000001"), "〒100-0001");
        assert_eq!(postal("１０００００１"), "〒100-0001");
        assert_eq!(postal("〒100-0001"), "〒100-0001");
        assert_eq!(postal("abc"), "〒abc");
    }

    #[test]
    fn address_block_stays_in_its_box_however_long() {
        let gothic = font::metrics().unwrap();
        let body = font::face_metrics(Face::Mincho).unwrap();
        for n in [1, 3, 6, 30] {
            let l = letter(vec![
                    "東京都千代田区千代田一丁目一番一号 千代田マンション101号室".repeat(2);
                    n
                ]);
            let pages = layout_letter(body, gothic, &l);
            let (ax, ay, aw, ah) = ADDRESS_MM;
            let in_window: Vec<_> = texts(&pages[0])
                .into_iter()
                .filter(|t| t.x < SENDER_X_MM * MM && t.y < 80.0 * MM)
                .collect();
            assert!(
                in_window.iter().any(|t| t.text.contains("山田 太郎")),
                "{n}"
            );
            for t in in_window {
                let w: f32 = t.glyphs.iter().map(|g| g.advance).sum::<f32>() * t.size;
                assert!(
                    t.x >= ax * MM - 0.01 && t.x + w <= (ax + aw) * MM + 0.05,
                    "{n} {}",
                    t.text
                );
                assert!(
                    t.y <= (ay + ah) * MM && t.y - t.size * 0.9 >= ay * MM - 0.5,
                    "{n} {}",
                    t.text
                );
            }
            let (full, any) = address_fits(&l);
            assert_eq!(full, n == 1, "{n}");
            assert_eq!(any, n <= 3, "{n}");
        }
    }
}
