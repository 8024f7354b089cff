//! Normal forms of the values the blind indexes are computed over, so that the same person is
//! found however the value was typed: `Taro@Example.JP ` and `taro@example.jp`, `090-1234-5678`
//! and `+81 90 1234 5678`, `ヤマダ タロウ` and `やまだたろう`, `昭和60年1月2日` and `1985-01-02`.

use unicode_normalization::UnicodeNormalization;

/// NFKC: full-width ASCII and digits to half-width, half-width katakana to full-width. Text
/// that is already in NFKC (most of it) is returned as it is, without normalising it again.
pub fn nfkc(s: &str) -> String {
    if unicode_normalization::is_nfkc_quick(s.chars()) == unicode_normalization::IsNormalized::Yes {
        return s.to_owned();
    }
    s.nfkc().collect()
}

/// E-mail: NFKC, trimmed, lower-cased (the local part too: Japanese providers treat it so).
pub fn email(s: &str) -> String {
    nfkc(s.trim()).trim().to_lowercase()
}

/// Phone: the digits only, `+81` (or `81` with 11–12 digits) to a leading 0. `None` if the
/// result is not 10 or 11 digits starting with 0.
pub fn phone(s: &str) -> Option<String> {
    let n = nfkc(s);
    let plus = n.trim_start().starts_with('+');
    let mut digits: String = n.chars().filter(char::is_ascii_digit).collect();
    if plus || (digits.starts_with("81") && (11..=12).contains(&digits.len())) {
        let rest = digits.strip_prefix("81")?;
        let rest = rest.strip_prefix('0').unwrap_or(rest);
        digits = format!("0{rest}");
    }
    ((10..=11).contains(&digits.len()) && digits.starts_with('0')).then_some(digits)
}

/// Name: NFKC, no spaces or middle dots, katakana folded to hiragana, Latin lower-cased.
pub fn name(s: &str) -> String {
    nfkc(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '・' | '･' | '　'))
        .map(|c| match c {
            // Katakana ァ..ヶ map onto hiragana ぁ..ゖ by a fixed offset.
            'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Birth date: ISO `YYYY-MM-DD`, from any form `schema::parse_date` reads.
pub fn birth_date(s: &str) -> Option<String> {
    super::schema::parse_date(s).map(|d| d.format("%Y-%m-%d").to_string())
}

/// The searchable classes of the blind index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexClass {
    Email,
    Phone,
    Name,
    NameBirth,
    /// Name and postal address (issue 14): added in index format 2; records written before it
    /// get these terms from `App::reindex_records` (job `vault.reindex`, queued by migration 0013).
    NameAddress,
}

/// The blind-index format: which classes a record's terms include. Format 2 added
/// [`IndexClass::NameAddress`]. Stored in the settings table as `vault.index_format`.
pub const INDEX_FORMAT: u32 = 2;

impl IndexClass {
    pub const ALL: [IndexClass; 5] = [
        IndexClass::Email,
        IndexClass::Phone,
        IndexClass::Name,
        IndexClass::NameBirth,
        IndexClass::NameAddress,
    ];

    pub fn code(self) -> &'static str {
        match self {
            IndexClass::Email => "email",
            IndexClass::Phone => "phone",
            IndexClass::Name => "name",
            IndexClass::NameBirth => "name_birth",
            IndexClass::NameAddress => "name_address",
        }
    }
}

/// The fields a class's index terms are made from (the same rule as `terms`): a search by
/// that class confirms values of exactly these fields, so it is allowed only to someone who
/// may see all of them (`Access::may_lookup`).
pub fn index_sources(schema: &super::Schema, class: IndexClass) -> Vec<&str> {
    use super::FieldKind as K;
    let mut out: Vec<&str> = schema
        .fields
        .iter()
        .filter(|f| match class {
            IndexClass::Email => f.kind == K::Email,
            IndexClass::Phone => f.kind == K::Phone,
            IndexClass::Name | IndexClass::NameBirth | IndexClass::NameAddress => {
                matches!(f.kind, K::Name | K::KanaName)
            }
        })
        .map(|f| f.name.as_str())
        .collect();
    let with = match class {
        IndexClass::NameBirth => Some(K::BirthDate),
        IndexClass::NameAddress => Some(K::Address),
        _ => None,
    };
    if let Some(i) = with.and_then(|k| schema.first_of(k)) {
        out.push(schema.fields[i].name.as_str());
    }
    out
}

/// The index terms of a record: (class, normalised value). A record with several phones gets
/// a term for each; names are indexed from the kanji and the kana field.
pub fn terms(schema: &super::Schema, values: &[Option<String>]) -> Vec<(IndexClass, String)> {
    use super::FieldKind as K;
    let mut out = Vec::new();
    let birth = schema
        .first_of(K::BirthDate)
        .and_then(|i| values.get(i).cloned().flatten())
        .and_then(|b| birth_date(&b));
    let addr = schema
        .first_of(K::Address)
        .and_then(|i| values.get(i).cloned().flatten())
        .map(|a| address(&a))
        .filter(|a| !a.is_empty());
    for (f, v) in schema.fields.iter().zip(values) {
        let Some(v) = v else { continue };
        match f.kind {
            K::Email => out.push((IndexClass::Email, email(v))),
            K::Phone => {
                if let Some(p) = phone(v) {
                    out.push((IndexClass::Phone, p));
                }
            }
            K::Name | K::KanaName => {
                let n = name(v);
                if n.is_empty() {
                    continue;
                }
                if let Some(b) = &birth {
                    out.push((IndexClass::NameBirth, format!("{n}\u{1f}{b}")));
                }
                if let Some(a) = &addr {
                    out.push((IndexClass::NameAddress, format!("{n}\u{1f}{a}")));
                }
                out.push((IndexClass::Name, n));
            }
            _ => {}
        }
    }
    out.sort_by(|a, b| (a.0.code(), &a.1).cmp(&(b.0.code(), &b.1)));
    out.dedup();
    out
}

/// The term a search looks for: `None` when the query cannot match anything (a phone with too
/// few digits), so the caller can say so instead of searching.
pub fn query_term(class: IndexClass, value: &str, birth: Option<&str>) -> Option<String> {
    match class {
        IndexClass::Email => Some(email(value)).filter(|e| e.contains('@')),
        IndexClass::Phone => phone(value),
        IndexClass::Name => Some(name(value)).filter(|n| !n.is_empty()),
        IndexClass::NameBirth => {
            let n = name(value);
            let b = birth_date(birth?)?;
            (!n.is_empty()).then(|| format!("{n}\u{1f}{b}"))
        }
        IndexClass::NameAddress => {
            let n = name(value);
            let a = address(birth?);
            (!n.is_empty() && !a.is_empty()).then(|| format!("{n}\u{1f}{a}"))
        }
    }
}

/// The 47 prefectures, longest first where one is a suffix of another (京都府 / 東京都 differ).
const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

fn kanji_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' => 0,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// A run of kanji numerals (一, 十二, 二十三, 百五) as a number, if it is one.
fn kanji_number(run: &[char]) -> Option<u32> {
    if run.is_empty() {
        return None;
    }
    // Positional (二〇三) when there is no 十 or 百.
    if !run.iter().any(|c| matches!(c, '十' | '百')) {
        return run
            .iter()
            .try_fold(0u32, |n, c| Some(n * 10 + kanji_digit(*c)?));
    }
    let (mut total, mut cur) = (0u32, None::<u32>);
    for c in run {
        match c {
            '百' => {
                total += cur.unwrap_or(1) * 100;
                cur = None;
            }
            '十' => {
                total += cur.unwrap_or(1) * 10;
                cur = None;
            }
            d => cur = Some(kanji_digit(*d)?),
        }
    }
    Some(total + cur.unwrap_or(0))
}

/// Address: NFKC, no spaces, the postal code (with or without 〒) and a leading prefecture
/// dropped (a leaked list often omits one or the other), every hyphen and long-vowel variant
/// between numbers as `-`, 丁目 / 番地 / 番 / 号 / の after a number (kanji numerals read as
/// digits) as `-`, no trailing `-`, Latin lower-cased. `東京都千代田区千代田一丁目1番1号` and
/// `〒100-0001 千代田区千代田１－１－１` give the same form.
pub fn address(s: &str) -> String {
    let n = nfkc(s);
    let mut chars: Vec<char> = n
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '、' | '，'))
        .map(|c| match c {
            '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | '－' | '﹣' | 'ｰ' | '━' | '─' => {
                '-'
            }
            _ => c,
        })
        .collect();
    // The postal code: 〒 and / or NNN-NNNN (or NNNNNNN) at the start.
    if chars.first() == Some(&'〒') {
        chars.remove(0);
    }
    let digits_at = |v: &[char], from: usize, n: usize| {
        v.len() >= from + n && v[from..from + n].iter().all(char::is_ascii_digit)
    };
    if digits_at(&chars, 0, 3) && chars.get(3) == Some(&'-') && digits_at(&chars, 4, 4) {
        chars.drain(..8);
    } else if digits_at(&chars, 0, 7) && !chars.get(7).is_some_and(char::is_ascii_digit) {
        chars.drain(..7);
    }
    let mut s: String = chars.into_iter().collect();
    if let Some(p) = PREFECTURES.iter().find(|p| s.starts_with(**p)) {
        s.drain(..p.len());
    }
    // Kanji numerals before a block word become digits; block words after a digit become `-`.
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let block = if rest.starts_with("丁目") || rest.starts_with("番地") {
            2
        } else {
            usize::from(matches!(c, '番' | '号' | 'の'))
        };
        if block > 0 {
            // A kanji-numeral run just before: read it as a number.
            let start = out
                .iter()
                .rposition(|c| kanji_digit(*c).is_none() && !matches!(c, '十' | '百'))
                .map_or(0, |p| p + 1);
            if start < out.len() {
                if let Some(v) = kanji_number(&out[start..]) {
                    out.truncate(start);
                    out.extend(v.to_string().chars());
                }
            }
            if out.last().is_some_and(char::is_ascii_digit) {
                out.push('-');
                i += block;
                continue;
            }
        }
        // ー or ｰ between digits was read as a hyphen above only for the narrow forms.
        if c == 'ー' && out.last().is_some_and(char::is_ascii_digit) {
            out.push('-');
            i += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    while out.last() == Some(&'-') {
        out.pop();
    }
    // A hyphen counts only between numbers: `1-1-1号 ビル` and `1-1-1ビル` are one address.
    let mut s = String::with_capacity(out.len() * 3);
    for (i, c) in out.iter().enumerate() {
        if *c == '-'
            && (!s.ends_with(|p: char| p.is_ascii_digit())
                || !out.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            continue;
        }
        s.extend(c.to_lowercase());
    }
    s
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn the_same_address_however_it_is_written() {
        let want = "千代田区千代田1-1-1";
        for s in [
            "東京都千代田区千代田1-1-1",
            "東京都千代田区千代田１－１－１",
            "〒100-0001 東京都千代田区千代田1丁目1番1号",
            "100-0001 千代田区千代田 1丁目1番地1",
            "〒1000001東京都千代田区千代田一丁目一番一号",
            "東京都 千代田区 千代田 1‐1‐1",
            "千代田区千代田1ー1ー1",
            "千代田区千代田1−1−1",
            "千代田区千代田1の1の1",
        ] {
            assert_eq!(address(s), want, "{s}");
        }
    }

    #[test]
    fn buildings_and_larger_numbers() {
        assert_eq!(
            address("大阪府大阪市北区梅田三丁目２番１２３号　梅田ビル ５Ｆ"),
            "大阪市北区梅田3-2-123梅田ビル5f"
        );
        assert_eq!(
            address("大阪市北区梅田3-2-123 梅田ビル5F"),
            "大阪市北区梅田3-2-123梅田ビル5f"
        );
        assert_eq!(
            address("札幌市中央区北一条西二十三丁目"),
            "札幌市中央区北一条西23"
        );
        assert_eq!(address("京都府京都市左京区"), "京都市左京区");
        assert_eq!(address("東京都港区"), "港区");
        assert_eq!(address("  "), "");
        // Different places stay different.
        assert_ne!(
            address("千代田区千代田1-1-1"),
            address("千代田区千代田1-1-2")
        );
        assert_ne!(address("千代田区千代田1-11"), address("千代田区千代田11-1"));
    }

    #[test]
    fn name_and_address_terms() {
        let schema =
            crate::vault::Schema::parse("name:name, kana:kana_name, address:address").unwrap();
        let t = terms(
            &schema,
            &[
                Some("山田 太郎".into()),
                Some("ヤマダ タロウ".into()),
                Some("東京都千代田区千代田1丁目1番1号".into()),
            ],
        );
        let na: Vec<&str> = t
            .iter()
            .filter(|(c, _)| *c == IndexClass::NameAddress)
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(
            na,
            [
                "やまだたろう\u{1f}千代田区千代田1-1-1",
                "山田太郎\u{1f}千代田区千代田1-1-1"
            ]
        );
        assert_eq!(
            query_term(
                IndexClass::NameAddress,
                "ﾔﾏﾀﾞﾀﾛｳ",
                Some("千代田区千代田１－１－１")
            ),
            Some("やまだたろう\u{1f}千代田区千代田1-1-1".into())
        );
        assert_eq!(
            index_sources(&schema, IndexClass::NameAddress),
            ["name", "kana", "address"]
        );
        // No address, no term.
        let t = terms(&schema, &[Some("山田 太郎".into()), None, None]);
        assert!(t.iter().all(|(c, _)| *c != IndexClass::NameAddress));
    }
}
