//! Column inference for tabular data: a header in Japanese or English gives a hint, and the
//! share of sampled values that validate confirms a kind for columns whose header says nothing.

use crate::detect::Engine;
use crate::kind::Kind;

/// Header words, checked in order (more specific first) against the normalised header:
/// lower-cased, without spaces, underscores, hyphens, brackets and "(必須)"-style notes.
const HEADER_WORDS: &[(&str, Kind)] = &[
    ("口座名義", Kind::PersonName),
    ("名義人", Kind::PersonName),
    ("メールアドレス", Kind::Email),
    ("email", Kind::Email),
    ("e-mail", Kind::Email),
    ("mail", Kind::Email),
    ("メール", Kind::Email),
    ("郵便番号", Kind::PostalCode),
    ("〒", Kind::PostalCode),
    ("zip", Kind::PostalCode),
    ("postal", Kind::PostalCode),
    ("postcode", Kind::PostalCode),
    ("生年月日", Kind::BirthDate),
    ("誕生日", Kind::BirthDate),
    ("birth", Kind::BirthDate),
    ("dob", Kind::BirthDate),
    ("個人番号", Kind::MyNumber),
    ("マイナンバー", Kind::MyNumber),
    ("mynumber", Kind::MyNumber),
    ("免許", Kind::DriversLicenseNumber),
    ("license", Kind::DriversLicenseNumber),
    ("licence", Kind::DriversLicenseNumber),
    ("旅券", Kind::PassportNumber),
    ("パスポート", Kind::PassportNumber),
    ("passport", Kind::PassportNumber),
    ("カード番号", Kind::CreditCard),
    ("クレジットカード", Kind::CreditCard),
    ("cardnumber", Kind::CreditCard),
    ("cardno", Kind::CreditCard),
    ("creditcard", Kind::CreditCard),
    ("口座番号", Kind::BankAccount),
    ("振込先", Kind::BankAccount),
    ("口座", Kind::BankAccount),
    ("accountnumber", Kind::BankAccount),
    ("bankaccount", Kind::BankAccount),
    ("電話", Kind::Phone),
    ("携帯", Kind::Phone),
    ("連絡先", Kind::Phone),
    ("tel", Kind::Phone),
    ("phone", Kind::Phone),
    ("mobile", Kind::Phone),
    ("fax", Kind::Phone),
    ("住所", Kind::Address),
    ("所在地", Kind::Address),
    ("address", Kind::Address),
    ("addr", Kind::Address),
    ("氏名", Kind::PersonName),
    ("名前", Kind::PersonName),
    ("フリガナ", Kind::PersonName),
    ("ふりがな", Kind::PersonName),
    ("カナ", Kind::PersonName),
    ("顧客名", Kind::PersonName),
    ("会員名", Kind::PersonName),
    ("利用者名", Kind::PersonName),
    ("契約者", Kind::PersonName),
    ("担当者", Kind::PersonName),
    ("宛名", Kind::PersonName),
    ("受取人", Kind::PersonName),
    ("依頼主", Kind::PersonName),
    ("申込者", Kind::PersonName),
    ("社員名", Kind::PersonName),
    ("fullname", Kind::PersonName),
    ("firstname", Kind::PersonName),
    ("lastname", Kind::PersonName),
    ("customername", Kind::PersonName),
    ("furigana", Kind::PersonName),
    ("kana", Kind::PersonName),
    ("name", Kind::PersonName),
];

/// Exact short headers that are too short to match as substrings.
const EXACT: &[(&str, Kind)] = &[
    ("姓", Kind::PersonName),
    ("名", Kind::PersonName),
    ("セイ", Kind::PersonName),
    ("メイ", Kind::PersonName),
    ("氏", Kind::PersonName),
];

/// Words that make a header *not* a person column even though it contains one of the words
/// above (会社名, 商品名, ファイル名, username…).
const NOT_PERSON: &[&str] = &[
    "会社",
    "法人",
    "企業",
    "商品",
    "品名",
    "店",
    "ファイル",
    "file",
    "user",
    "company",
    "product",
    "銀行",
    "支店",
    "bank",
    "branch",
    "shop",
    "domain",
    "host",
];

static HEADER_AC: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
    aho_corasick::AhoCorasick::new(HEADER_WORDS.iter().map(|(w, _)| *w))
        .expect("static patterns build")
});
static NOT_PERSON_AC: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::new(NOT_PERSON).expect("static patterns build")
    });

/// The kind a column header names, if any.
/// Whether `word` is, whole, one of the header words (フリガナ, 氏名, 電話番号): a value equal
/// to one is a header repeated in the data, not a value.
pub fn is_header_word(word: &str) -> bool {
    let w = crate::normalize::normalize(word.trim()).to_lowercase();
    HEADER_WORDS.iter().chain(EXACT).any(|(h, _)| *h == w)
}

pub fn header_hint(header: &str) -> Option<Kind> {
    // Headers are short; anything longer is a sentence, not a label.
    if header.len() > 96 {
        return None;
    }
    let h: String = crate::normalize::normalize(header.trim())
        .chars()
        .filter(|c| {
            !matches!(
                c,
                ' ' | '_'
                    | '-'
                    | '"'
                    | '\''
                    | '【'
                    | '】'
                    | '['
                    | ']'
                    | '('
                    | ')'
                    | '「'
                    | '」'
                    | '■'
                    | '・'
                    | '*'
                    | '※'
            )
        })
        .flat_map(char::to_lowercase)
        .collect();
    let h = if h.contains("必須") || h.contains("任意") {
        h.replace("(必須)", "")
            .replace("必須", "")
            .replace("任意", "")
    } else {
        h
    };
    if h.is_empty() || h.chars().count() > 24 {
        return None;
    }
    if let Some(&(_, k)) = EXACT.iter().find(|(w, _)| *w == h) {
        return Some(k);
    }
    // The earliest word in HEADER_WORDS order that occurs anywhere in the header.
    let first = HEADER_AC
        .find_overlapping_iter(h.as_str())
        .map(|m| m.pattern().as_usize())
        .min()?;
    let kind = HEADER_WORDS[first].1;
    if kind == Kind::PersonName && NOT_PERSON_AC.is_match(h.as_str()) {
        return None;
    }
    if kind == Kind::Email
        && (h.contains("mailmagazine") || h.contains("メルマガ") || h.contains("配信"))
    {
        return None;
    }
    Some(kind)
}

/// Whether a first row looks like a header: some cell names a kind, or every cell is a short
/// label without digits.
pub fn looks_like_header(row: &[String]) -> bool {
    if row.iter().any(|c| header_hint(c).is_some()) {
        return true;
    }
    !row.is_empty()
        && row.iter().all(|c| {
            let t = c.trim();
            !t.is_empty()
                && t.chars().count() <= 20
                && !t.bytes().any(|b| b.is_ascii_digit())
                && !t.contains('@')
        })
}

/// Infers the kind of each column from its header (if any) and a sample of rows.
pub fn infer(
    engine: &Engine,
    header: Option<&[String]>,
    sample: &[Vec<String>],
) -> Vec<Option<Kind>> {
    let width = sample
        .iter()
        .map(Vec::len)
        .chain(header.map(<[String]>::len))
        .max()
        .unwrap_or(0);
    let mut kinds = vec![None; width];
    let mut hits = Vec::new();
    for (j, slot) in kinds.iter_mut().enumerate() {
        if let Some(k) = header.and_then(|h| h.get(j)).and_then(|h| header_hint(h)) {
            *slot = Some(k);
            continue;
        }
        // No header word: decide by the share of values that validate.
        let values: Vec<&str> = sample
            .iter()
            .filter_map(|r| r.get(j))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        if values.len() < 3 {
            continue;
        }
        let need = values.len() * 6 / 10;
        let names = values
            .iter()
            .filter(|v| engine.is_dictionary_name(v))
            .count();
        if names > need.max(1) {
            *slot = Some(Kind::PersonName);
            continue;
        }
        let mut counts = [0usize; 11];
        for v in &values {
            hits.clear();
            let norm = crate::normalize::normalize(v);
            engine.detect(&norm, None, &mut hits);
            if let Some(h) = hits
                .iter()
                .find(|h| (h.end - h.start) * 10 >= norm.len() * 8)
            {
                counts[h.kind.index()] += 1;
            }
        }
        if let Some((i, &c)) = counts.iter().enumerate().max_by_key(|&(_, c)| *c) {
            let kind = Kind::ALL[i];
            let inferable = matches!(
                kind,
                Kind::PersonName
                    | Kind::Phone
                    | Kind::Email
                    | Kind::Address
                    | Kind::CreditCard
                    | Kind::PostalCode
            );
            if c > need && inferable {
                *slot = Some(kind);
            }
        }
    }
    kinds
}

/// The delimiter of text that is tabular by content, whatever the file is called: the first
/// records (quoted fields may hold line breaks and delimiters) all have the same number of tabs,
/// or of commas. Tabs: at least one per record over at least two records. Commas, which prose
/// also has: at least two per record over at least three records, or one per record over at
/// least five. `complete` says whether `text` is the whole file (else its last line may be cut).
/// `named`: the delimiter the file's name promises (`.csv`, `.tsv`), kept whenever every record
/// has it; another one is chosen only when the content clearly has that one instead.
pub fn delimiter_of(text: &str, complete: bool, named: Option<u8>) -> Option<u8> {
    const RECORDS: usize = 50;
    let mut counts: Vec<(usize, usize)> = Vec::new(); // (tabs, commas) per record
    let (mut tabs, mut commas, mut quoted, mut blank) = (0usize, 0usize, false, true);
    let mut ended_last = false;
    for c in text.chars() {
        ended_last = false;
        match c {
            '"' => {
                quoted = !quoted;
                blank = false;
            }
            '\t' if !quoted => {
                tabs += 1;
                blank = false;
            }
            ',' if !quoted => {
                commas += 1;
                blank = false;
            }
            '\n' if !quoted => {
                if !blank {
                    counts.push((tabs, commas));
                    if counts.len() >= RECORDS {
                        ended_last = true;
                        break;
                    }
                }
                (tabs, commas, blank) = (0, 0, true);
                ended_last = true;
            }
            '\r' => {}
            _ => blank = false,
        }
    }
    if complete && !ended_last && !blank && !quoted {
        counts.push((tabs, commas));
    }
    let (&(t0, c0), rest) = counts.split_first()?;
    let same = |f: fn(&(usize, usize)) -> usize, v| rest.iter().all(|r| f(r) == v);
    let every = |f: fn(&(usize, usize)) -> usize| counts.iter().all(|r| f(r) > 0);
    match named {
        Some(b'\t') if every(|r| r.0) => return Some(b'\t'),
        Some(b',') if every(|r| r.1) => return Some(b','),
        _ => {}
    }
    if t0 >= 1 && counts.len() >= 2 && same(|r| r.0, t0) {
        return Some(b'\t');
    }
    let enough = (c0 >= 2 && counts.len() >= 3) || (c0 == 1 && counts.len() >= 5);
    if t0 == 0 && enough && same(|r| r.1, c0) {
        return Some(b',');
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::KindSet;

    #[test]
    fn headers_in_japanese_and_english() {
        for (h, k) in [
            ("氏名", Kind::PersonName),
            ("お名前（必須）", Kind::PersonName),
            ("フリガナ", Kind::PersonName),
            ("Customer Name", Kind::PersonName),
            ("電話番号", Kind::Phone),
            ("TEL", Kind::Phone),
            ("メールアドレス", Kind::Email),
            ("E-mail", Kind::Email),
            ("郵便番号", Kind::PostalCode),
            ("住所", Kind::Address),
            ("生年月日", Kind::BirthDate),
            ("date_of_birth", Kind::BirthDate),
            ("個人番号", Kind::MyNumber),
            ("口座番号", Kind::BankAccount),
            ("口座名義", Kind::PersonName),
        ] {
            assert_eq!(header_hint(h), Some(k), "{h}");
        }
        for h in [
            "会社名",
            "商品名",
            "注文番号",
            "金額",
            "ファイル名",
            "username",
        ] {
            assert_eq!(header_hint(h), None, "{h}");
        }
    }

    #[test]
    fn a_name_column_without_header_is_inferred_by_share() {
        let engine = Engine::new(KindSet::all());
        let rows: Vec<Vec<String>> = [
            "山田 太郎",
            "佐藤 花子",
            "鈴木 一郎",
            "高橋 美咲",
            "ジョン スミス",
        ]
        .iter()
        .enumerate()
        .map(|(i, n)| vec![format!("{}", 1000 + i), (*n).to_owned()])
        .collect();
        let kinds = infer(&engine, None, &rows);
        assert_eq!(kinds, vec![None, Some(Kind::PersonName)]);
    }

    #[test]
    fn tabular_text_is_recognised_by_content() {
        let tsv = "氏名\t郵便番号\t生年月日\r\n山田 太郎\t123-4567\t1980/01/02\r\n";
        assert_eq!(delimiter_of(tsv, true, None), Some(b'\t'));
        // A cut last line does not count against the others.
        assert_eq!(
            delimiter_of("a\tb\nc\td\ne\tf\ng", false, None),
            Some(b'\t')
        );
        let csv = "id,氏名,電話\n1,\"山田, 太郎\",03-1234-5678\n2,\"佐藤\n花子\",090-1111-2222\n3,鈴木,03-0000-0000\n";
        assert_eq!(delimiter_of(csv, true, None), Some(b','));
        for prose in [
            "お問い合わせの件、承知しました。\n明日お電話します。\n",
            "Hello, world.\nThanks, Taro.\n",
            "a\tb\nc\n",
            "",
        ] {
            assert_eq!(delimiter_of(prose, true, None), None, "{prose:?}");
        }
        // A ".csv" that is tab-separated; a ".csv" with a tab in some fields stays comma.
        let tabs = "氏名\t電話\n山田 太郎\t03-1234-5678\n";
        assert_eq!(delimiter_of(tabs, true, Some(b',')), Some(b'\t'));
        let commas = "氏名,メモ\n山田 太郎,a\tb\n佐藤 花子,c\n";
        assert_eq!(delimiter_of(commas, true, Some(b',')), Some(b','));
    }
}
