//! The address list for the printing company (宛名リスト): CSV in CP932 (Shift_JIS as Excel
//! on Windows writes it), CRLF line ends, no BOM, every cell formula-safe through
//! [`crate::csv_out`], columns お問い合わせ番号, 郵便番号, 住所1, 住所2, 氏名.
//!
//! A letter must never go out with a name printed as 〓 or ?, so [`print_list`] does not
//! replace anything silently: it returns the bytes only when every character can be written,
//! and otherwise the list of [`Problem`]s — each character named (the character, its code
//! point, the row and column) with a suggested substitute where a common one exists (𠮷→吉,
//! 〜→～, −→－ …). The caller shows them, lets a person choose, and applies the chosen ones
//! with [`apply_substitutes`].
//!
//! # What CP932 holds
//!
//! `encoding_rs`'s Shift_JIS encoder is the WHATWG one, which for writing is Windows CP932:
//! NEC row 13 (①, ㈱, Ⅰ, №, ∑, ∟), the NEC-selected and IBM extensions are written as
//! Windows writes them (髙 → `FB FC`, ⅰ → `FA 40`, 纊 → `FA 5C`, ∵ → `81 E6`, ～ → `81 60`).
//! Two kinds of characters are problems in [`Charset::Cp932`]:
//!
//! - **not in CP932** at all: 𠮷 (U+20BB7), 〜 (U+301C WAVE DASH), ‖, ¢, £, ¬, — (U+2014),
//!   characters with variation selectors, emoji, private-use characters (外字);
//! - **changed by CP932**: characters the encoder writes as the bytes of another one, so the
//!   printer reads something else back: − (U+2212) comes back as － (U+FF0D), ¥ as `\`, ‾ as `~`.
//!
//! Many printing systems take only JIS X 0208 (JIS第1・第2水準 and the row-1–8 symbols).
//! [`Charset::Jis0208`] also names what CP932 adds to it — NEC row 13 and the NEC/IBM extended
//! kanji (髙, 﨑, 德, 濵, ①, ㈱ …) — with their usual substitutes (髙→高, 﨑→崎, 德→徳, 濵→濱,
//! ①→1, ㈱→(株)).
//!
//! Control characters (a line break inside an address) are problems too: a label printer
//! cannot print them. Suggested substitute: a space.

use std::fmt::{self, Write as _};

use crate::csv_out::{CsvOut, Encoding};

/// One letter's line in the printing list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrintRow {
    /// お問い合わせ番号 (the letter's reference number).
    pub reference: String,
    pub postal_code: String,
    pub address1: String,
    pub address2: String,
    pub name: String,
}

/// A column of the printing list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Reference,
    PostalCode,
    Address1,
    Address2,
    Name,
}

impl Column {
    pub const ALL: [Column; 5] = [
        Column::Reference,
        Column::PostalCode,
        Column::Address1,
        Column::Address2,
        Column::Name,
    ];

    /// The header as written in the file (Japanese).
    #[must_use]
    pub fn ja(self) -> &'static str {
        match self {
            Column::Reference => "お問い合わせ番号",
            Column::PostalCode => "郵便番号",
            Column::Address1 => "住所1",
            Column::Address2 => "住所2",
            Column::Name => "氏名",
        }
    }

    #[must_use]
    pub fn en(self) -> &'static str {
        match self {
            Column::Reference => "reference",
            Column::PostalCode => "postal code",
            Column::Address1 => "address 1",
            Column::Address2 => "address 2",
            Column::Name => "name",
        }
    }

    fn get(self, row: &PrintRow) -> &str {
        match self {
            Column::Reference => &row.reference,
            Column::PostalCode => &row.postal_code,
            Column::Address1 => &row.address1,
            Column::Address2 => &row.address2,
            Column::Name => &row.name,
        }
    }

    fn get_mut(self, row: &mut PrintRow) -> &mut String {
        match self {
            Column::Reference => &mut row.reference,
            Column::PostalCode => &mut row.postal_code,
            Column::Address1 => &mut row.address1,
            Column::Address2 => &mut row.address2,
            Column::Name => &mut row.name,
        }
    }
}

/// Which characters the printing company can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    /// Windows CP932 as Excel writes it (NEC and IBM extensions included).
    #[default]
    Cp932,
    /// JIS X 0208 only: CP932 without NEC row 13 and the NEC/IBM extended kanji.
    Jis0208,
}

/// Why a character cannot go into the list as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// CP932 has no code for it.
    NotInCp932,
    /// CP932 writes it as the code of another character (− → －, ¥ → \).
    ChangedByCp932,
    /// In CP932, but outside JIS X 0208 ([`Charset::Jis0208`] only).
    OutsideJis0208,
    /// A control character (line break, tab …).
    Control,
}

/// One character the list cannot hold, where it is, and what could stand for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based data row (the header is not counted): the index in the input plus one.
    pub row: usize,
    pub column: Column,
    pub ch: char,
    pub kind: ProblemKind,
    /// The usual substitute, if there is one (it is itself writable in the chosen charset).
    pub suggestion: Option<String>,
}

impl Problem {
    /// "U+20BB7".
    #[must_use]
    pub fn code_point(&self) -> String {
        format!("U+{:04X}", u32::from(self.ch))
    }

    fn shown(&self) -> String {
        if self.kind == ProblemKind::Control {
            self.code_point()
        } else {
            self.ch.to_string()
        }
    }

    /// The problem in Japanese.
    #[must_use]
    pub fn ja(&self) -> String {
        let why = match self.kind {
            ProblemKind::NotInCp932 => "はShift_JIS（CP932）で表せません",
            ProblemKind::ChangedByCp932 => "はShift_JIS（CP932）では別の文字になります",
            ProblemKind::OutsideJis0208 => "はJIS第1・第2水準（JIS X 0208）にありません",
            ProblemKind::Control => "は制御文字です（改行・タブなど）",
        };
        let mut s = format!(
            "{}行目「{}」の「{}」（{}）{why}。",
            self.row,
            self.column.ja(),
            self.shown(),
            self.code_point()
        );
        if let Some(sub) = &self.suggestion {
            let _ = write!(s, "置き換え候補：「{sub}」");
        } else {
            s.push_str("置き換え候補はありません。手で直してください。");
        }
        s
    }

    /// The problem in English.
    #[must_use]
    pub fn en(&self) -> String {
        let why = match self.kind {
            ProblemKind::NotInCp932 => "cannot be written in Shift_JIS (CP932)",
            ProblemKind::ChangedByCp932 => "becomes a different character in Shift_JIS (CP932)",
            ProblemKind::OutsideJis0208 => "is not in JIS X 0208 (JIS levels 1 and 2)",
            ProblemKind::Control => "is a control character (line break, tab …)",
        };
        let mut s = format!(
            "Row {}, {}: '{}' ({}) {why}.",
            self.row,
            self.column.en(),
            self.shown(),
            self.code_point()
        );
        match &self.suggestion {
            Some(sub) => {
                let _ = write!(s, " Suggested substitute: '{sub}'.");
            }
            None => s.push_str(" No substitute known; correct it by hand."),
        }
        s
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.ja(), self.en())
    }
}

/// The usual substitute for a character printing systems often lack, if there is one.
/// Covers the NEC/IBM extended kanji commonly found in names, circled and parenthesised
/// characters, roman numerals, era and unit squares, and the Unicode look-alikes that
/// CP932 does not hold or changes.
#[must_use]
pub fn substitute(c: char) -> Option<String> {
    let s: &str = match c {
        // Extended kanji in names and places → their JIS X 0208 forms.
        '髙' => "高",
        '﨑' => "崎",
        '𠮷' => "吉",
        '德' => "徳",
        '濵' => "濱",
        '增' => "増",
        '黑' => "黒",
        '槗' => "橋",
        '桒' => "桑",
        '瀨' => "瀬",
        '舘' => "館",
        '栁' => "柳",
        '晧' => "皓",
        '昻' => "昂",
        '蓜' => "配",
        // Symbols CP932 lacks or changes.
        '〜' => "～",
        '‖' => "∥",
        '−' => "－",
        '¢' => "￠",
        '£' => "￡",
        '¬' => "￢",
        '—' => "―",
        '¥' => "￥",
        '‾' => "￣",
        '‐' | '‑' | '‒' | '–' => "-",
        '\u{A0}' | '\u{2002}' | '\u{2003}' | '\u{2009}' => " ",
        '㈱' => "(株)",
        '㈲' => "(有)",
        '㈹' => "(代)",
        '№' => "No.",
        '℡' => "TEL",
        '㍻' => "平成",
        '㍼' => "昭和",
        '㍽' => "大正",
        '㍾' => "明治",
        '㋿' => "令和",
        '㍉' => "ミリ",
        '㌔' => "キロ",
        '㌢' => "センチ",
        '㍍' => "メートル",
        '㌘' => "グラム",
        '㌧' => "トン",
        '㌃' => "アール",
        '㌶' => "ヘクタール",
        '㍑' => "リットル",
        '㍗' => "ワット",
        '㌍' => "カロリー",
        '㌦' => "ドル",
        '㌣' => "セント",
        '㌫' => "パーセント",
        '㍊' => "ミリバール",
        '㌻' => "ページ",
        '㎜' => "mm",
        '㎝' => "cm",
        '㎞' => "km",
        '㎎' => "mg",
        '㎏' => "kg",
        '㏄' => "cc",
        '㎡' => "m2",
        '㊤' => "(上)",
        '㊥' => "(中)",
        '㊦' => "(下)",
        '㊧' => "(左)",
        '㊨' => "(右)",
        '∟' => "L",
        _ => return numbered(c).or_else(|| c.is_control().then(|| " ".to_string())),
    };
    Some(s.to_string())
}

/// ①–⑳ → 1–20, Ⅰ–Ⅹ → I–X, ⅰ–ⅹ → i–x.
fn numbered(c: char) -> Option<String> {
    const ROMAN: [&str; 10] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"];
    let u = u32::from(c);
    match c {
        '①'..='⑳' => Some((u - u32::from('①') + 1).to_string()),
        'Ⅰ'..='Ⅹ' => Some(ROMAN[(u - u32::from('Ⅰ')) as usize].to_string()),
        'ⅰ'..='ⅹ' => Some(ROMAN[(u - u32::from('ⅰ')) as usize].to_lowercase()),
        _ => None,
    }
}

/// How `c` fares in `charset`: `None` if it is written as it is.
fn check(c: char, charset: Charset) -> Option<ProblemKind> {
    if c.is_control() {
        return Some(ProblemKind::Control);
    }
    let mut buf = [0u8; 4];
    let s = c.encode_utf8(&mut buf);
    let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(s);
    if bad {
        return Some(ProblemKind::NotInCp932);
    }
    // User-defined area (外字, F0–F9): nobody else has the same glyphs.
    if matches!(bytes.first(), Some(0xF0..=0xF9)) {
        return Some(ProblemKind::NotInCp932);
    }
    let (back, _) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(&bytes);
    if back != *s {
        return Some(ProblemKind::ChangedByCp932);
    }
    if charset == Charset::Jis0208
        && matches!(bytes.first(), Some(0x87 | 0xED | 0xEE | 0xFA..=0xFC))
    {
        return Some(ProblemKind::OutsideJis0208);
    }
    None
}

fn problem(row: usize, column: Column, ch: char, kind: ProblemKind, charset: Charset) -> Problem {
    let suggestion = substitute(ch)
        .filter(|s| s.chars().all(|c| check(c, charset).is_none()))
        .or_else(|| {
            // A character with a variation selector: the base character alone.
            is_variation_selector(ch).then(String::new)
        });
    Problem {
        row,
        column,
        ch,
        kind,
        suggestion,
    }
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Every character of `rows` that `charset` cannot hold as it is, in row and column order.
#[must_use]
pub fn problems(rows: &[PrintRow], charset: Charset) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for column in Column::ALL {
            for ch in column.get(row).chars() {
                if let Some(kind) = check(ch, charset) {
                    out.push(problem(i + 1, column, ch, kind, charset));
                }
            }
        }
    }
    out
}

/// The printing list as CP932 bytes (header row, CRLF, no BOM, formula-safe cells), or every
/// problem if any character cannot be written as it is.
pub fn print_list(rows: &[PrintRow], charset: Charset) -> Result<Vec<u8>, Vec<Problem>> {
    let found = problems(rows, charset);
    if !found.is_empty() {
        return Err(found);
    }
    let mut csv = CsvOut::new();
    csv.record(Column::ALL.map(Column::ja));
    for row in rows {
        csv.record(Column::ALL.map(|c| c.get(row)));
    }
    Ok(csv.finish(Encoding::Cp932))
}

/// `rows` with the substitutes of the `chosen` problems applied (each in its own row and
/// column, every occurrence of its character there); problems without a suggestion are
/// ignored. Pass all of [`problems`] to take every suggestion, or the ones a person accepted.
#[must_use]
pub fn apply_substitutes(rows: &[PrintRow], chosen: &[Problem]) -> Vec<PrintRow> {
    let mut out = rows.to_vec();
    for p in chosen {
        let Some(sub) = &p.suggestion else { continue };
        let Some(row) = p.row.checked_sub(1).and_then(|i| out.get_mut(i)) else {
            continue;
        };
        let cell = p.column.get_mut(row);
        if cell.contains(p.ch) {
            *cell = cell.replace(p.ch, sub);
        }
    }
    out
}
