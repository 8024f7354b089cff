//! Japanese full-text search over FAQ entries, for the operator typing a caller's question.
//!
//! Text is NFKC-normalised and lower-cased, then cut into runs of one script (see [`tokens`]):
//! kanji, hiragana and katakana runs give their character bigrams (the tokenisation CJK search
//! engines use, no dictionary needed), a run of letters and digits gives the whole word, and
//! anything else (spaces, punctuation, symbols) ends a run. So 「漏れた情報は？」 finds
//! 「漏えいした情報は何ですか」 through 「情報」 (and 「漏」), and 「ＡＢＣ」 finds `abc`.
//!
//! An entry scores by the query terms it holds, each weighted by how rare it is among the
//! entries (inverse document frequency), as a share of the weight of the whole query; terms
//! found in the entry's question count once more at half weight. Hiragana-only bigrams (endings
//! and particles) weigh less, and an entry sharing only those with a query that has kanji or
//! katakana is no hit. The index is built once for a set of tens to a few hundred entries; a
//! search is a few postings lookups and takes well under a millisecond.

use std::collections::{BTreeMap, HashMap, HashSet};

use unicode_normalization::UnicodeNormalization;

/// A query is cut to this many characters before it is tokenised, so a pasted page costs no
/// more than a long question (the bigrams that matter are in the first sentences anyway).
pub const MAX_QUERY_CHARS: usize = 500;

/// A hit scores at least this much (on the scale of [`Hit::score`]) to be shown: below it the
/// entry shares only a stray bigram with a long query.
pub const MIN_SCORE: f64 = 0.05;

/// Weight of a query bigram found in the entry's question, on top of its weight as found in
/// the entry at all.
const QUESTION_BONUS: f64 = 0.5;

/// Bigrams of hiragana alone are mostly endings and particles (「ます」「あり」「した」): in a
/// set of a few entries their rarity says little, so they weigh this much of a bigram with a
/// kanji or katakana in it.
const HIRAGANA_WEIGHT: f64 = 0.3;

/// How a character takes part in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Kanji (with 々 〆 〇): bigrams, one kanji alone its unigram.
    Kanji,
    /// Hiragana (with ゝ ゞ): bigrams; one alone is a particle (を, は, の) and gives nothing.
    Hiragana,
    /// Katakana (with ヽ ヾ): bigrams, one alone its unigram.
    Katakana,
    /// The prolonged sound mark ー: stays in the run it follows (カード, すごーい).
    Long,
    /// Letters and digits of alphabetic scripts: whole words.
    Word,
    /// Spaces, punctuation, symbols: end a run.
    Break,
}

fn class(c: char) -> Class {
    match c {
        'ー' => Class::Long,
        '\u{3041}'..='\u{309F}' => Class::Hiragana,
        // Not the middle dot ・ or ゠, which separate words. With the phonetic extensions (ㇰ).
        '\u{30A1}'..='\u{30FA}' | '\u{30FD}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' => {
            Class::Katakana
        }
        // 々 〆 〇 and the CJK ideograph blocks (unified, extension A, compatibility, and the
        // supplementary planes' extensions).
        '\u{3005}'..='\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3FFFF}' => Class::Kanji,
        c if c.is_alphanumeric() => Class::Word,
        _ => Class::Break,
    }
}

/// The search tokens of a text, in order (repeats kept). The text is NFKC-normalised and
/// lower-cased, then cut into runs of one script: kanji, hiragana, katakana (the prolonged
/// sound mark stays in the run it follows), or letters and digits; spaces, punctuation and
/// symbols end a run and give nothing. A run of letters and digits gives the whole word; a
/// kanji, hiragana or katakana run its character bigrams, and a run of one kanji or katakana
/// that character (a run of one hiragana is a particle and gives nothing).
///
/// Cutting at the change of script puts a verb's kanji on its own: 「漏れた」 gives 「漏」 and
/// 「れた」, and 「漏」 finds 「漏えい」.
pub fn tokens(s: &str) -> Vec<String> {
    let normal: String = s.nfkc().flat_map(char::to_lowercase).collect();
    let mut out = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let mut run_class = Class::Break;
    for c in normal.chars().chain(std::iter::once(' ')) {
        let mut k = class(c);
        if k == Class::Long {
            // ー continues a kana or kanji run; on its own it is katakana.
            k = match run_class {
                Class::Kanji | Class::Hiragana | Class::Katakana => run_class,
                _ => Class::Katakana,
            };
        }
        if k != run_class {
            flush(&run, run_class, &mut out);
            run.clear();
            run_class = k;
        }
        if k != Class::Break {
            run.push(c);
        }
    }
    out
}

fn flush(run: &[char], class: Class, out: &mut Vec<String>) {
    match (class, run.len()) {
        (Class::Break | Class::Long, _) | (_, 0) | (Class::Hiragana, 1) => {}
        (Class::Word, _) | (_, 1) => out.push(run.iter().collect()),
        _ => out.extend(run.windows(2).map(|w| w.iter().collect::<String>())),
    }
}

/// The terms an entry is found by: its tokens and, so that a query's lone kanji finds the
/// word it is part of (「止めたい」's 「止」 finds 「停止」), each kanji and katakana on its own.
fn terms(s: &str) -> HashSet<String> {
    let mut set: HashSet<String> = tokens(s).into_iter().collect();
    let singles: Vec<String> = set
        .iter()
        .filter(|t| t.chars().nth(1).is_some())
        .flat_map(|t| t.chars())
        .filter(|c| matches!(class(*c), Class::Kanji | Class::Katakana))
        .map(String::from)
        .collect();
    set.extend(singles);
    set
}

/// A term of hiragana alone (the prolonged sound mark included).
fn all_hiragana(term: &str) -> bool {
    term.chars()
        .all(|c| matches!(class(c), Class::Hiragana | Class::Long))
}

/// One entry found, with its score: the share of the query's weight it matches, between 0 and 1
/// (1 when every query bigram is in the entry's question).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub id: i64,
    pub score: f64,
}

/// Where a term occurs: the entry (by position in `Index::ids`) and whether in its question.
#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: usize,
    in_question: bool,
}

/// The search index over a set of FAQ entries.
#[derive(Debug, Clone, Default)]
pub struct Index {
    ids: Vec<i64>,
    postings: HashMap<String, Vec<Posting>>,
}

impl Index {
    /// Indexes entries given as `(id, question, answer)`. An id given twice keeps its last text.
    pub fn new<I, Q, A>(entries: I) -> Index
    where
        I: IntoIterator<Item = (i64, Q, A)>,
        Q: AsRef<str>,
        A: AsRef<str>,
    {
        let by_id: BTreeMap<i64, (Q, A)> =
            entries.into_iter().map(|(id, q, a)| (id, (q, a))).collect();
        let mut index = Index::default();
        for (doc, (id, (question, answer))) in by_id.into_iter().enumerate() {
            index.ids.push(id);
            let in_question = terms(question.as_ref());
            let mut all = terms(answer.as_ref());
            all.extend(in_question.iter().cloned());
            for term in all {
                let in_question = in_question.contains(&term);
                index
                    .postings
                    .entry(term)
                    .or_default()
                    .push(Posting { doc, in_question });
            }
        }
        index
    }

    /// How many entries are indexed.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The weight of a term found in `df` of the entries: rare terms weigh more, a term in
    /// every entry little, a term in none the most (it counts against every entry).
    fn idf(&self, df: usize) -> f64 {
        let n = self.ids.len() as f64;
        let df = df as f64;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// The entries matching `query`, best first (ties by id), at most `limit`, each scoring at
    /// least [`MIN_SCORE`]. An empty or punctuation-only query finds nothing; a query longer
    /// than [`MAX_QUERY_CHARS`] characters is cut there.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        if limit == 0 || self.ids.is_empty() {
            return Vec::new();
        }
        let cut: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let mut seen = HashSet::new();
        let query_terms: Vec<String> = tokens(&cut)
            .into_iter()
            .filter(|t| seen.insert(t.clone()))
            .collect();
        if query_terms.is_empty() {
            return Vec::new();
        }
        // A query with a kanji, katakana or word in it needs one of those matched: an entry
        // sharing only hiragana endings with it (「ありますか」) is not about the same thing.
        let needs_content = query_terms.iter().any(|t| !all_hiragana(t));
        let mut total = 0.0;
        let mut found = vec![0.0_f64; self.ids.len()];
        let mut in_question = vec![0.0_f64; self.ids.len()];
        let mut content = vec![!needs_content; self.ids.len()];
        for term in &query_terms {
            let postings = self.postings.get(term).map_or(&[][..], Vec::as_slice);
            let hiragana = all_hiragana(term);
            let weight = self.idf(postings.len()) * if hiragana { HIRAGANA_WEIGHT } else { 1.0 };
            total += weight;
            for p in postings {
                found[p.doc] += weight;
                if p.in_question {
                    in_question[p.doc] += weight;
                }
                content[p.doc] |= !hiragana;
            }
        }
        if total <= 0.0 {
            return Vec::new();
        }
        let mut hits: Vec<Hit> = (0..self.ids.len())
            .filter(|&d| content[d] && found[d] > 0.0)
            .map(|d| Hit {
                id: self.ids[d],
                score: (found[d] + QUESTION_BONUS * in_question[d])
                    / ((1.0 + QUESTION_BONUS) * total),
            })
            .filter(|h| h.score >= MIN_SCORE)
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        hits.truncate(limit);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faq() -> Index {
        Index::new([
            (1, "漏えいした情報は何ですか", "氏名、住所、電話番号、メールアドレスです。クレジットカード番号は含まれていません。"),
            (2, "パスワードを変更すべきですか", "念のため、ログイン後の設定画面から変更をお願いします。"),
            (3, "身に覚えのない請求がありました", "クレジットカード会社にご連絡のうえ、カードの利用停止をご相談ください。"),
            (4, "通知のメールは本物ですか", "当社からのメールは no-reply@example.jp から送信しています。ABC 事務局名義です。"),
            (5, "退会したいです", "退会の手続きは会員ページから行えます。データは削除されます。"),
        ])
    }

    fn ids(hits: &[Hit]) -> Vec<i64> {
        hits.iter().map(|h| h.id).collect()
    }

    #[test]
    fn tokens_table() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("？！、。 　", &[]),
            ("情報", &["情報"]),
            ("鍵", &["鍵"]),
            ("鍵、", &["鍵"]),
            // The script changes: the kanji alone, the hiragana's bigrams.
            ("漏えい", &["漏", "えい"]),
            ("漏れた情報は？", &["漏", "れた", "情報"]),
            // A lone hiragana is a particle and gives nothing.
            ("情報は？ 何", &["情報", "何"]),
            (
                "パスワードを変更",
                &["パス", "スワ", "ワー", "ード", "変更"],
            ),
            // Half-width katakana and full-width Latin are normalised; upper case lowered.
            ("ﾊﾟｽﾜｰﾄﾞ", &["パス", "スワ", "ワー", "ード"]),
            ("ＡＢＣ", &["abc"]),
            ("Web フォーム", &["web", "フォ", "ォー", "ーム"]),
            ("Webフォーム", &["web", "フォ", "ォー", "ーム"]),
            ("２０２４年", &["2024", "年"]),
            ("no-reply@example.jp", &["no", "reply", "example", "jp"]),
            // The middle dot separates words; the prolonged sound mark stays in its run.
            (
                "クレジット・カード",
                &["クレ", "レジ", "ジッ", "ット", "カー", "ード"],
            ),
            ("すごーい", &["すご", "ごー", "ーい"]),
            ("人々", &["人々"]),
        ];
        for (input, want) in cases {
            assert_eq!(tokens(input), *want, "tokens of {input:?}");
        }
    }

    #[test]
    fn the_examples_of_the_desk() {
        let index = faq();
        assert_eq!(index.len(), 5);
        // 「情報」 is shared.
        assert_eq!(ids(&index.search("漏れた情報は？", 10)).first(), Some(&1));
        // 「パスワード」 is shared, not the verb.
        assert_eq!(
            ids(&index.search("パスワード変えたほうがいい？", 10)),
            vec![2]
        );
        // 「カード」 is inside 「クレジットカード」 in two answers (a tie, by id). 「パスワード」
        // shares 「ード」 only and comes after them.
        let card = index.search("カード", 10);
        assert_eq!(ids(&card)[..2], [1, 3]);
        assert!((card[0].score - card[1].score).abs() < 1e-12);
        assert!(card.iter().skip(2).all(|h| h.score < card[1].score));
        assert_eq!(index.search("ＡＢＣ", 10).first().map(|h| h.id), Some(4));
        assert_eq!(ids(&index.search("abc", 10)), vec![4]);
        assert_eq!(ids(&index.search("退会", 10)), vec![5]);
        // A verb's kanji finds the noun: 「止」 in 「停止」.
        assert_eq!(ids(&index.search("カードを止めたい", 10)).first(), Some(&3));
        assert_eq!(ids(&index.search("漏", 10)), vec![1]);
        // A caller's whole sentence still finds its entry first.
        let said = "クレジットカードの番号も漏れたのでしょうか、心配です";
        assert_eq!(ids(&index.search(said, 10)).first(), Some(&1));
    }

    #[test]
    fn the_question_counts_more_than_the_answer() {
        let index = Index::new([
            (1, "通知のメールについて", "内容は登録情報の確認です。"),
            (2, "登録情報の確認", "通知のメールの内容です。"),
        ]);
        let hits = index.search("登録情報", 10);
        assert_eq!(ids(&hits), vec![2, 1]);
        assert!(hits[0].score > hits[1].score);
        // Every query bigram in the question: the top of the scale.
        assert!((hits[0].score - 1.0).abs() < 1e-9, "{hits:?}");
    }

    #[test]
    fn nothing_for_nothing() {
        let index = faq();
        for q in ["", "   ", "？！。、…", "・・・", "\u{0}\u{7f}"] {
            assert!(index.search(q, 10).is_empty(), "{q:?}");
        }
        // Nothing in common.
        assert!(index.search("営業時間", 10).is_empty());
        // Only hiragana in common (「あり」「りま」 with 「ありました」): not a hit.
        assert!(index.search("返金はありますか", 10).is_empty());
        // A query of hiragana alone still finds by hiragana.
        assert_eq!(ids(&index.search("ありました", 10)).first(), Some(&3));
        assert!(index.search("情報", 0).is_empty());
        assert!(Index::new(Vec::<(i64, String, String)>::new())
            .search("情報", 10)
            .is_empty());
        assert!(Index::default().is_empty());
    }

    #[test]
    fn limit_and_order() {
        let index = Index::new(
            (1..=20)
                .rev()
                .map(|i| (i, format!("質問{i}の情報"), String::new())),
        );
        let hits = index.search("情報", 5);
        assert_eq!(ids(&hits), vec![1, 2, 3, 4, 5]);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn a_repeated_id_keeps_its_last_text() {
        let index = Index::new([(7, "古い質問", ""), (7, "パスワードの変更", "")]);
        assert_eq!(index.len(), 1);
        assert!(index.search("古い", 10).is_empty());
        assert_eq!(ids(&index.search("パスワード", 10)), vec![7]);
    }

    #[test]
    fn a_pasted_page_is_cut_and_fast() {
        let topics = [
            "漏えいした情報は何ですか",
            "パスワードを変更すべきですか",
            "身に覚えのない請求がありました",
            "通知のメールは本物ですか",
            "退会したいです",
            "補償はありますか",
        ];
        let entries: Vec<(i64, String, String)> = (0..300)
            .map(|i| {
                (
                    i,
                    format!("第{i}問：{}", topics[i as usize % topics.len()]),
                    "クレジットカードの利用停止と、不審なメールへの注意をお願いします。".repeat(5),
                )
            })
            .collect();
        let index = Index::new(entries);
        let long = "漏れた情報について教えてください。".repeat(700);
        assert!(long.chars().count() > 10_000);
        let hits = index.search(&long, 10);
        assert_eq!(ids(&hits), vec![0, 6, 12, 18, 24, 30, 36, 42, 48, 54]);
        // What is past the cut does not count.
        let tail = format!(
            "{}パスワード",
            "漏れた情報について教えてください。".repeat(40)
        );
        assert_eq!(index.search(&tail, 10), hits);
        // Characters that expand under NFKC (﷽ is 18 characters) and lone marks do not panic.
        let odd = "\u{FDFD}\u{3099}\u{309A}ー々".repeat(3000);
        let _ = index.search(&odd, 10);

        let start = std::time::Instant::now();
        let rounds = 50;
        for _ in 0..rounds {
            let _ = index.search("パスワード変えたほうがいい？", 10);
        }
        let each = start.elapsed() / rounds;
        // Generous for a debug build on a shared machine; release is far below.
        assert!(each.as_millis() < 20, "a search took {each:?}");
    }
}
