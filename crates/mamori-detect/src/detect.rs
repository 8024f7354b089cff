//! The detectors: one pass over a normalised segment of text (a line, or a field of a tabular
//! row) finds candidates by cheap triggers — ASCII digit runs, `@`, prefecture names, kanji and
//! katakana runs — and only candidates go through validators and context rules.
//!
//! Offsets in [`Hit`] are byte offsets into the normalised segment; callers map them back to
//! the original text (normalisation is one character to one character).

use crate::bytescan;
use crate::dict::{dict, CharBits, Dict};
use crate::kind::{Kind, KindSet};
use crate::normalize::utf8_len;
use crate::validate::{
    card_brand, corporate_number_valid, ean13_valid, is_mobile, luhn, my_number_valid,
    phone_plan_valid, plausible_birth_date, wareki_to_year, ERA_NAMES, PREFECTURES,
};
use aho_corasick::AhoCorasick;
use memchr::memmem;

/// One detected value in a normalised segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// The detection engine. Cheap to share between threads (`&Engine`).
pub struct Engine {
    kinds: KindSet,
    prefectures: AhoCorasick,
    /// Every context word, leftmost-longest, with its category in `word_cat`.
    words: AhoCorasick,
    word_cat: Vec<usize>,
    chome: memmem::Finder<'static>,
    /// 生 and the English birth words: a line with none of them has no birth date.
    birth_words: AhoCorasick,
    dict: &'static Dict,
    /// The characters a kanji name run may start with: the first characters of surnames and of
    /// the role words of `PRE_NAME` (担当山田太郎).
    name_start: CharBits,
    /// Look for names in prose with the morphological analyser (`prose.rs`).
    prose: bool,
}

const BIRTH_WORDS: [&str; 9] = [
    "生年月日",
    "誕生日",
    "生まれ",
    "birthday",
    "Birthday",
    "BIRTHDAY",
    "birth",
    "DOB",
    "dob",
];
const MY_NUMBER_WORDS: [&str; 5] = [
    "個人番号",
    "マイナンバー",
    "my number",
    "My Number",
    "mynumber",
];
const LICENSE_WORDS: [&str; 4] = ["運転免許", "免許証", "免許番号", "license"];
const PASSPORT_WORDS: [&str; 5] = ["旅券", "パスポート", "passport", "Passport", "PASSPORT"];
const PHONE_WORDS: [&str; 10] = [
    "電話",
    "TEL",
    "Tel",
    "tel",
    "連絡先",
    "携帯",
    "FAX",
    "Fax",
    "phone",
    "Phone",
];
const POSTAL_WORDS: [&str; 3] = ["郵便番号", "〒", "郵便"];
const ACCOUNT_TYPES: [&str; 4] = ["普通", "当座", "貯蓄", "総合"];
const BANK_WORDS: [&str; 6] = ["銀行", "信用金庫", "信金", "信用組合", "農協", "ゆうちょ"];
const CORPORATE_WORDS: [&str; 2] = ["法人番号", "会社法人等番号"];

const CAT_BIRTH: usize = 0;
const CAT_MY_NUMBER: usize = 1;
const CAT_LICENSE: usize = 2;
const CAT_PASSPORT: usize = 3;
const CAT_PHONE: usize = 4;
const CAT_POSTAL: usize = 5;
const CAT_ACCOUNT: usize = 6;
const CAT_CORPORATE: usize = 7;
const CAT_SEI: usize = 8;
const NCAT: usize = 9;

/// Words that may stand directly before a name inside one kanji run (担当山田太郎).
const PRE_NAME: [&str; 16] = [
    "担当者",
    "担当",
    "会員",
    "顧客",
    "社員",
    "部長",
    "課長",
    "係長",
    "主任",
    "代表",
    "本日",
    "昨日",
    "先日",
    "今日",
    "明日",
    "名義人",
];
/// Labels after which the next word is a name whether or not it is in the dictionary.
const NAME_LABELS: [&str; 16] = [
    "氏名",
    "名前",
    "お名前",
    "名義",
    "担当者",
    "契約者",
    "申込者",
    "受取人",
    "宛名",
    "依頼者",
    "患者名",
    "利用者",
    "会員名",
    "顧客名",
    "ご依頼主",
    "差出人",
];
/// Single-character given names that are far more often the tail of a place or a word.
const WEAK_GIVEN: &str =
    "東西南北中上下新通町村市区郡丘岳山川池橋台野原谷沢田島崎浜本店駅院館園寺宮社港口前後大小内外";

impl Engine {
    pub fn new(kinds: KindSet) -> Self {
        let prefectures = AhoCorasick::new(PREFECTURES).expect("static patterns build");
        let groups: [(usize, &[&str]); 9] = [
            (CAT_BIRTH, &BIRTH_WORDS),
            (CAT_MY_NUMBER, &MY_NUMBER_WORDS),
            (CAT_LICENSE, &LICENSE_WORDS),
            (CAT_PASSPORT, &PASSPORT_WORDS),
            (CAT_PHONE, &PHONE_WORDS),
            (CAT_POSTAL, &POSTAL_WORDS),
            (CAT_ACCOUNT, &ACCOUNT_TYPES),
            (CAT_CORPORATE, &CORPORATE_WORDS),
            (CAT_SEI, &["生"]),
        ];
        let mut pats = Vec::new();
        let mut word_cat = Vec::new();
        for (cat, ws) in groups {
            for w in ws {
                pats.push(*w);
                word_cat.push(cat);
            }
        }
        let words = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(pats)
            .expect("static patterns build");
        Engine {
            kinds,
            prefectures,
            words,
            word_cat,
            chome: memmem::Finder::new("丁目".as_bytes()),
            birth_words: AhoCorasick::new(["生", "birth", "Birth", "BIRTH", "DOB", "dob"])
                .expect("static patterns build"),
            dict: dict(),
            name_start: {
                let mut set = dict().surname_firsts().clone();
                for w in PRE_NAME {
                    set.extend(w.chars().next());
                }
                set
            },
            prose: true,
        }
    }

    /// With or without the prose analyser. Without it, names are found only where a label, an
    /// honorific, a column or the name dictionary's full-name shape says so (`--no-prose`).
    pub fn set_prose(&mut self, on: bool) {
        self.prose = on;
    }

    /// For each context category, the byte offset of its last word in `window`.
    fn window_context(&self, window: &str) -> [Option<usize>; NCAT] {
        let mut last = [None; NCAT];
        for m in self.words.find_iter(window) {
            last[self.word_cat[m.pattern().as_usize()]] = Some(m.start());
        }
        last
    }

    pub fn kinds(&self) -> KindSet {
        self.kinds
    }

    /// Detects every enabled kind in `text` (normalised). `hint` is the kind a column header or
    /// a label says the text holds; it counts as context, and a value that passes the kind's
    /// relaxed check is reported whole.
    pub fn detect(&self, text: &str, hint: Option<Kind>, out: &mut Vec<Hit>) {
        let first = out.len();
        if let Some(kind) = hint {
            if self.kinds.contains(kind) {
                if let Some((s, e)) = relaxed(kind, text, self) {
                    out.push(Hit {
                        kind,
                        start: s,
                        end: e,
                    });
                    // A value that is entirely one strictly-shaped item (a phone number, an
                    // e-mail address, a name of letters only…) holds nothing else: skip the
                    // free-text detectors. Addresses may carry a postal code or a building.
                    if kind != Kind::Address
                        && text[..s].trim().is_empty()
                        && text[e..].trim().is_empty()
                    {
                        return;
                    }
                }
            }
        }
        let bytes = text.as_bytes();
        let has_digit = has_ascii_digit(bytes);
        if has_digit {
            self.numbers(text, hint, out);
            // Birth dates and passport numbers need context words. A birth date needs a birth
            // word before it or 生 after it, so a line without 生 or an English birth word is
            // skipped at once (every Japanese birth word contains 生); passport numbers are
            // looked for first and the line is searched for a passport word only when one is
            // found.
            if self.kinds.contains(Kind::BirthDate)
                && (hint == Some(Kind::BirthDate)
                    || (may_have_birth_word(bytes) && self.birth_words.is_match(text)))
            {
                self.birth_dates(text, hint, out);
            }
            if self.kinds.contains(Kind::Address) {
                self.addresses(text, out);
            }
            // A passport number starts with two capital letters: most lines have none.
            if self.kinds.contains(Kind::PassportNumber)
                && bytescan::any1(bytes, |x| x.wrapping_sub(b'A') < 26)
            {
                Self::passports(text, hint == Some(Kind::PassportNumber), out);
            }
        } else if self.kinds.contains(Kind::Address) && self.chome.find(bytes).is_some() {
            self.addresses(text, out);
        }
        if self.kinds.contains(Kind::Email) && memchr::memchr(b'@', bytes).is_some() {
            emails(text, out);
        }
        if self.kinds.contains(Kind::PersonName) && !text.is_ascii() {
            // The prose analyser reads free text only: not a field whose column has a kind.
            self.names(text, out, first, self.prose && hint.is_none());
        }
        dedup(out, first);
    }

    // ---------------------------------------------------------------- numbers

    fn numbers(&self, text: &str, hint: Option<Kind>, out: &mut Vec<Hit>) {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let Some(rel) = b[i..].iter().position(u8::is_ascii_digit) else {
                break;
            };
            i += rel;
            if i > 0 && b[i - 1].is_ascii_digit() {
                i += 1;
                continue;
            }
            let tok = numeric_token(b, i);
            let next = tok.end.max(i + 1);
            if !tok.is_identifier(b) {
                self.classify_token(text, &tok, hint, out);
            }
            i = next;
        }
    }

    fn classify_token(&self, text: &str, tok: &Token, hint: Option<Kind>, out: &mut Vec<Hit>) {
        if self.classify(text, tok, hint, out) {
            return;
        }
        // A token joined over spaces may be two values ("03-1234-5678 090-1111-2222").
        if tok.spaces > 0 {
            for part in tok.split_spaces() {
                self.classify(text, &part, hint, out);
            }
        }
    }

    /// Tries each numeric kind on one token; true when one matched.
    fn classify(&self, text: &str, tok: &Token, hint: Option<Kind>, out: &mut Vec<Hit>) -> bool {
        if tok.ndigits > 19 || tok.ndigits < 7 {
            return false;
        }
        let dd = tok.digits();
        let d = dd.as_slice();
        let n = d.len();
        let (s, e) = (tok.start, tok.end);
        let before = window_before(text, s, 36);
        // Context words in the window before the token, found once with one automaton.
        let cell = std::cell::OnceCell::new();
        let wctx = || *cell.get_or_init(|| self.window_context(before));
        let ctx = |cat: usize, kind: Kind| hint == Some(kind) || wctx()[cat].is_some();
        let push = |out: &mut Vec<Hit>, kind: Kind, start: usize| {
            if self.kinds.contains(kind) {
                out.push(Hit {
                    kind,
                    start,
                    end: e,
                });
            }
            true
        };

        // Dates are handled by the birth-date detector; a date-shaped token is nothing else.
        if tok.has_date_seps {
            return false;
        }
        // Postal code: 123-4567 (or 1234567) after 〒 / with context / before a prefecture.
        let postal_shape = (tok.groups.as_slice() == [3, 4] && tok.dashes == 1 && tok.spaces == 0)
            || (n == 7 && tok.groups.len() == 1);
        if postal_shape && !tok.plus81 {
            let after = &text[e..];
            let after = after.trim_start_matches(' ');
            let marked = text[..s].trim_end_matches(' ').ends_with('〒');
            let labelled = || ctx(CAT_POSTAL, Kind::PostalCode);
            let before_pref = || PREFECTURES.iter().any(|p| after.starts_with(p));
            if marked
                || (tok.dashes == 1 && (labelled() || before_pref()))
                || (n == 7 && hint == Some(Kind::PostalCode))
            {
                let start = if marked {
                    text[..s].trim_end_matches(' ').len() - '〒'.len_utf8()
                } else {
                    s
                };
                return push(out, Kind::PostalCode, start);
            }
        }
        // Phone numbers.
        let mut dom: Small<u8, 32> = Small::default();
        if tok.plus81 {
            dom.push(b'0');
            for &c in &d[2..] {
                dom.push(c);
            }
        } else {
            for &c in d {
                dom.push(c);
            }
        }
        let domestic = dom.as_slice();
        if (tok.plus81 || d.first() == Some(&b'0')) && phone_plan_valid(domestic) {
            let formatted = tok.groups.len() > 1 || tok.paren;
            let plausible_groups = tok.groups.len() <= 4
                && tok.groups.as_slice().iter().all(|&g| (1..=5).contains(&g));
            if (formatted && plausible_groups)
                || is_mobile(domestic)
                || tok.plus81
                || ctx(CAT_PHONE, Kind::Phone)
            {
                return push(out, Kind::Phone, tok.display_start);
            }
        }
        // Card numbers.
        if (13..=19).contains(&n) && tok.card_grouping() && luhn(d) && card_brand(d).is_some() {
            let lookalike = n == 13
                && (ean13_valid(d)
                    || corporate_number_valid(d)
                    || ctx(CAT_CORPORATE, Kind::CreditCard));
            if !lookalike {
                return push(out, Kind::CreditCard, s);
            }
        }
        // Twelve digits: My Number or a driving licence, by context.
        if n == 12 && (tok.groups.len() == 1 || tok.groups.as_slice() == [4, 4, 4]) {
            let mn = wctx()[CAT_MY_NUMBER];
            let dl = wctx()[CAT_LICENSE];
            let my_ctx = hint == Some(Kind::MyNumber) || mn.is_some();
            let dl_ctx = hint == Some(Kind::DriversLicenseNumber) || dl.is_some();
            let prefer_license = match (mn, dl) {
                (Some(a), Some(b)) => b > a,
                _ => hint == Some(Kind::DriversLicenseNumber) || (dl_ctx && !my_ctx),
            };
            if dl_ctx && prefer_license {
                return push(out, Kind::DriversLicenseNumber, s);
            }
            if my_ctx && my_number_valid(d) {
                return push(out, Kind::MyNumber, s);
            }
        }
        // Bank account: 7 digits after an account type (普通 1234567) or in an account column.
        if n == 7 && tok.groups.len() == 1 {
            let near = before.len().saturating_sub(15);
            if hint == Some(Kind::BankAccount) || wctx()[CAT_ACCOUNT].is_some_and(|p| p >= near) {
                let start = bank_start(text, s);
                return push(out, Kind::BankAccount, start);
            }
        }
        false
    }

    // ---------------------------------------------------------------- dates

    fn birth_dates(&self, text: &str, hint: Option<Kind>, out: &mut Vec<Hit>) {
        // Called only when the line has birth context somewhere (or a birth-date header).
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            // A date starts with a digit, an abbreviated era letter or an era name (明 大 昭 平
            // 令); `parse_date_at` finds nothing anywhere else, so other characters are skipped.
            if !may_start_date(b, i) {
                i += utf8_len(b[i]);
                continue;
            }
            let parsed = parse_date_at(text, i, hint == Some(Kind::BirthDate));
            if let Some((end, ok)) = parsed {
                if ok {
                    let before = window_before(text, i, 36);
                    let after = &text[end..];
                    let ctx = hint == Some(Kind::BirthDate)
                        || self.window_context(before)[CAT_BIRTH].is_some()
                        || after.starts_with('生')
                        || after.starts_with(" 生");
                    if ctx {
                        out.push(Hit {
                            kind: Kind::BirthDate,
                            start: i,
                            end,
                        });
                    }
                }
                i = end;
            } else {
                i += utf8_len(b[i]);
            }
        }
    }

    // ---------------------------------------------------------------- addresses

    fn addresses(&self, text: &str, out: &mut Vec<Hit>) {
        // Every prefecture name ends in 都, 道, 府 or 県: skip the automaton when none occurs.
        if !has_prefecture_suffix(text.as_bytes()) {
            return;
        }
        let mut last_end = 0;
        for m in self.prefectures.find_iter(text) {
            if m.start() < last_end {
                continue;
            }
            if let Some(end) = address_end(text, m.end()) {
                out.push(Hit {
                    kind: Kind::Address,
                    start: m.start(),
                    end,
                });
                last_end = end;
            }
        }
    }

    // ---------------------------------------------------------------- passports

    fn passports(text: &str, labelled: bool, out: &mut Vec<Hit>) {
        // Reported only when the line has passport context (or a passport header); the
        // context words are looked for only once a candidate is found.
        let b = text.as_bytes();
        let mut context = None;
        let mut has_context = || {
            *context
                .get_or_insert_with(|| labelled || PASSPORT_WORDS.iter().any(|w| text.contains(w)))
        };
        let mut i = 0;
        while i + 9 <= b.len() {
            // Jump to the next capital letter: most lines have none.
            let Some(rel) = b[i..b.len() - 8].iter().position(u8::is_ascii_uppercase) else {
                break;
            };
            i += rel;
            let cand = &b[i..i + 9];
            if cand[..2].iter().all(u8::is_ascii_uppercase)
                && cand[2..].iter().all(u8::is_ascii_digit)
                && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
                && b.get(i + 9).is_none_or(|c| !c.is_ascii_alphanumeric())
            {
                if !has_context() {
                    return;
                }
                out.push(Hit {
                    kind: Kind::PassportNumber,
                    start: i,
                    end: i + 9,
                });
                i += 9;
            } else {
                i += 1;
            }
        }
    }

    // ---------------------------------------------------------------- names

    /// Names in `text`; `out[first..]` holds this text's other findings so far. With `prose`,
    /// the runs that no rule and no other finding explains go to the prose analyser.
    fn names(&self, text: &str, out: &mut Vec<Hit>, first: usize, prose: bool) {
        // Bitmasks of the byte positions where a kanji / katakana character starts, computed in
        // one vectorised pass (on the stack for a line of up to 1 KiB); the runs are then read
        // off them with bit scans, without decoding a character or walking the bytes.
        const SMALL_WORDS: usize = 2;
        const STACK_WORDS: usize = 1024 / 64;
        let words = text.len().div_ceil(64);
        let mut small = [[0u64; 2]; SMALL_WORDS];
        let mut stack: [[u64; 2]; STACK_WORDS];
        let mut heap: Vec<[u64; 2]>;
        let masks: &mut [[u64; 2]] = if words <= SMALL_WORDS {
            &mut small[..words]
        } else if words <= STACK_WORDS {
            stack = [[0u64; 2]; STACK_WORDS];
            &mut stack[..words]
        } else {
            heap = vec![[0u64; 2]; words];
            &mut heap
        };
        script_masks(text.as_bytes(), masks);
        let mut runs = Runs {
            masks,
            len: text.len(),
            pos: 0,
        }
        .peekable();
        let mut skip_until = 0;
        let mut windows = prose.then(|| crate::prose::Windows::new(text));
        let others = out.len();
        while let Some(run) = runs.next() {
            if run.start < skip_until {
                continue;
            }
            // A run inside another finding (an address, a name found before) is explained.
            let explained = || {
                out[first..others]
                    .iter()
                    .any(|h| h.start < run.end && run.start < h.end)
            };
            let next = runs.peek();
            let found = match run.script {
                Script::Kanji => match self.kanji_name(text, &run, next) {
                    // A finding that ends with the run may go on into a given name in hiragana.
                    Some((s, e)) if e == run.end => {
                        Some((s, self.hiragana_given(text, s, e).unwrap_or(e)))
                    }
                    found => found,
                },
                Script::Katakana => self.kana_name(text, &run, next),
            };
            if let Some((s, e)) = found {
                out.push(Hit {
                    kind: Kind::PersonName,
                    start: s,
                    end: e,
                });
                skip_until = e;
            } else if let Some(w) = windows.as_mut() {
                if !explained() {
                    w.run(run.start, run.end, run.script == Script::Kanji);
                }
            }
        }
        // Names in running prose, with no label or honorific beside them: the analyser and the
        // tagger, on windows around candidate runs only. A name the rules above found wins.
        if let Some(mut w) = windows {
            w.romaji();
            let first = out.len();
            let mut spans = Vec::new();
            crate::prose::find_names(text, &w.finish(), &mut spans);
            for (s, e) in spans {
                let clash = out[..first]
                    .iter()
                    .any(|h| h.kind == Kind::PersonName && s < h.end && h.start < e);
                if !clash {
                    out.push(Hit {
                        kind: Kind::PersonName,
                        start: s,
                        end: e,
                    });
                }
            }
        }
    }

    fn is_full_name(&self, word: &str) -> bool {
        let (Some(first), Some(last)) = (word.chars().next(), word.chars().next_back()) else {
            return false;
        };
        if !self.dict.starts_surname(first) || !self.dict.ends_given(last) {
            return false;
        }
        // `name_split_ok` refuses a split of more than seven characters in all and a split of one
        // plus one, so a word outside 3..=7 characters has no acceptable split: no hashing.
        let n = word.chars().count();
        if !(3..=7).contains(&n) {
            return false;
        }
        // Each cut is hashed only when the surname and given-name lengths are possible and the
        // characters on both sides of it pass the bitmaps; the veto list is looked up last.
        let mut chars = word.char_indices();
        let Some((_, mut prev)) = chars.next() else {
            return false;
        };
        for (sl, (i, c)) in (1..).zip(chars) {
            let gl = n - sl;
            if sl <= self.dict.max_surname_chars
                && gl <= self.dict.max_given_chars
                && self.dict.ends_surname(prev)
                && self.dict.starts_given(c)
            {
                let (s, g) = word.split_at(i);
                if self.dict.surnames.contains(s)
                    && self.dict.given.contains(g)
                    && Self::name_split_ok(s, g)
                {
                    return !self.dict.veto.contains(word);
                }
            }
            prev = c;
        }
        false
    }

    fn name_split_ok(s: &str, g: &str) -> bool {
        let (sl, gl) = (s.chars().count(), g.chars().count());
        if sl == 1 && gl == 1 {
            return false;
        }
        if gl == 1 && WEAK_GIVEN.contains(g) {
            return false;
        }
        sl + gl <= 7
    }

    fn kanji_name(&self, text: &str, run: &Run, next: Option<&Run>) -> Option<(usize, usize)> {
        let word = &text[run.start..run.end];
        // Every path below needs the run to start with a surname character, a role word
        // (担当山田), or to follow a name label; most kanji runs of prose fail all three.
        let first = run_char(word, 0)?;
        // Whether a name label comes before the run is looked up only when it decides something
        // (it is pure, so asking later gives the same answer as asking first).
        let may_start = self.name_start.contains(first);
        if !may_start && !follows_name_label(text, run.start) {
            return None;
        }
        let (core, honor_in_run) = strip_honorific(word);
        let after = &text[run.end..];
        let honor = honor_in_run || starts_with_honorific(after);
        // Without a label, an honorific or a second word after a space, the run itself must be
        // a full name (or a role word and a full name): its last character must end a given
        // name (checked on a bitmap before any hashing) and it needs at least three characters
        // (`is_full_name` accepts no shorter word, the role-word path needs three). Most kanji
        // words of prose stop here.
        let spaced_pair =
            next.is_some_and(|n| n.script == Script::Kanji && is_spacer(&text[run.end..n.start]));
        // After a role label (PMO：林 拓真, 業務担当：佐藤 さゆり) a dictionary surname that ends
        // its word counts as labelled; a role label is not a name label, so the surname must be
        // one and stand alone (品名：田中ビル is not a person).
        let role_surname = || {
            self.dict.surnames.contains(core)
                && text[run.end..].chars().next().is_none_or(|c| {
                    !(is_kanji(c) || is_katakana(c) || c.is_alphanumeric()) || is_hiragana(c)
                })
                && follows_role_label(text, run.start)
        };
        let labelled = if !may_start {
            true
        } else if !honor
            && !spaced_pair
            && (run_chars(core) < 3
                || !run_char(core, core.len() - 3).is_some_and(|c| self.dict.ends_given(c)))
        {
            if !follows_name_label(text, run.start) && !role_surname() {
                return None;
            }
            true
        } else {
            follows_name_label(text, run.start) || (spaced_pair && role_surname())
        };
        // "山田 太郎" written with a space (the ideographic space is normalised to ' ').
        if !honor_in_run {
            if let Some(n2) =
                next.filter(|n| n.script == Script::Kanji && is_spacer(&text[run.end..n.start]))
            {
                let w2 = &text[n2.start..n2.end];
                let (core2, honor2) = strip_honorific(w2);
                let honor2 = honor2 || starts_with_honorific(&text[n2.end..]);
                let surname = self.dict.surnames.contains(core);
                // A given name outside the dictionary still counts when an honorific follows
                // (宮脇 磊介氏).
                if !core2.is_empty()
                    && ((surname
                        && (self.dict.given.contains(core2) || (honor2 && run_chars(core2) <= 3))
                        && Self::name_split_ok(core, core2))
                        || labelled)
                    && run_chars(core) <= 4
                    && run_chars(core2) <= 4
                {
                    return Some((run.start, n2.start + core2.len()));
                }
            }
        }
        if core.is_empty() {
            return None;
        }
        let clen = run_chars(core);
        if labelled && clen <= 6 {
            return Some((run.start, run.start + core.len()));
        }
        // Without a label, the dictionary's shapes are checked with the analyser when it is on:
        // 江戸時代 splits into a surname and a given name, 奥様 is a surname and an honorific,
        // but both are ordinary words.
        let words = |s: usize, e: usize| self.prose && crate::prose::ordinary_words(text, s, e);
        if self.is_full_name(core) && !words(run.start, run.start + core.len()) {
            return Some((run.start, run.start + core.len()));
        }
        if honor
            && (self.dict.surnames.contains(core) || (clen <= 5 && self.surname_prefix(core)))
            && !words(run.start, run.start + core.len())
        {
            return Some((run.start, run.start + core.len()));
        }
        // A role or time word glued before the name: 担当山田太郎, 本日田中様.
        let pre_ok = clen >= 3 && core.chars().next().is_some_and(is_role_start);
        for pre in PRE_NAME.iter().filter(|_| pre_ok) {
            if let Some(rest) = core.strip_prefix(pre) {
                if !rest.is_empty()
                    && (self.is_full_name(rest) || (honor && self.dict.surnames.contains(rest)))
                {
                    let s = run.start + pre.len();
                    return Some((s, s + rest.len()));
                }
            }
        }
        None
    }

    /// A given name written in hiragana after a kanji finding `text[start..end]` that ends with
    /// its run, in practice a labelled word (氏名：山田 さくら, 氏名：山田さくらさま): the end of
    /// the given name, if one follows. Hiragana is also the script of grammar (山田さんは), so the
    /// name must be a given-name reading of two or more characters that is not a function word
    /// (`Dict::given_hiragana`), the finding must be a dictionary surname or follow a name
    /// label, and the name must be followed by
    /// - an honorific (さん, 様, 氏…);
    /// - the end of the hiragana and a boundary: punctuation, a space, the end of the text;
    /// - a particle (は, から…), when the name has three or more characters or is set off by a
    ///   space (まさに after a surname is an adverb, not まさ).
    ///
    /// Only findings are extended: a bare surname followed by hiragana (山田さくらから電話)
    /// is not looked at, because testing every kanji word of prose for a following given name
    /// cost a sixth of the scanner's speed on prose (see docs/benchmarks.md).
    #[cold]
    #[inline(never)]
    fn hiragana_given(&self, text: &str, start: usize, end: usize) -> Option<usize> {
        let b = text.as_bytes();
        let mut at = end;
        while at - end < 2 && b.get(at) == Some(&b' ') {
            at += 1;
        }
        if !is_hiragana_at(b, at) || !is_hiragana_at(b, at + 3) {
            return None;
        }
        let mut stop = at + 6;
        while is_hiragana_at(b, stop) && stop - at < 3 * (self.dict.max_given_hiragana_chars + 3) {
            stop += 3;
        }
        let hira = &text[at..stop];
        let after = &text[stop..];
        let spaced = at > end;
        let labelled = || follows_name_label(text, start);
        let mut surname_ok = None;
        let max = run_chars(hira).min(self.dict.max_given_hiragana_chars);
        for n in (2..=max).rev() {
            let (g, rest) = hira.split_at(3 * n);
            let fits = match rest.as_bytes() {
                [] => !is_hiragana_at(b, stop) && hiragana_name_boundary(after),
                // さん さま ちゃん くん.
                _ if starts_with_honorific(rest) => true,
                _ => HIRAGANA_PARTICLES.iter().any(|p| rest.starts_with(p)) && (n >= 3 || spaced),
            };
            if fits && self.dict.given_hiragana.contains(g) {
                // A surname or a labelled word, not a full name (山田太郎まこと).
                let ok = *surname_ok.get_or_insert_with(|| {
                    self.dict.surnames.contains(&text[start..end]) || labelled()
                });
                if ok {
                    return Some(at + g.len());
                }
            }
        }
        None
    }

    fn surname_prefix(&self, core: &str) -> bool {
        core.char_indices()
            .skip(1)
            .take(3)
            .any(|(i, _)| self.dict.surnames.contains(&core[..i]) && core[i..].chars().count() <= 3)
    }

    fn kana_name(&self, text: &str, run: &Run, next: Option<&Run>) -> Option<(usize, usize)> {
        let word = &text[run.start..run.end];
        let labelled = follows_name_label(text, run.start);
        if let Some(n2) =
            next.filter(|n| n.script == Script::Katakana && is_kana_spacer(&text[run.end..n.start]))
        {
            let w2 = &text[n2.start..n2.end];
            if labelled
                || (self.dict.surname_readings.contains(word)
                    && self.dict.given_readings.contains(w2))
            {
                return Some((run.start, n2.end));
            }
        }
        let clen = run_chars(word);
        if labelled && (2..=12).contains(&clen) {
            return Some((run.start, run.end));
        }
        let after = &text[run.end..];
        if (starts_with_honorific(after) || after.starts_with('様'))
            && (self.dict.surname_readings.contains(word) || self.kana_split(word))
        {
            return Some((run.start, run.end));
        }
        None
    }

    fn kana_split(&self, word: &str) -> bool {
        word.char_indices().skip(2).any(|(i, _)| {
            self.dict.surname_readings.contains(&word[..i])
                && word[i..].chars().count() >= 2
                && self.dict.given_readings.contains(&word[i..])
        })
    }

    /// Whether `word` (trimmed) reads as a person's name in a name column: dictionary full name,
    /// or letters only with a plausible length.
    pub fn looks_like_name(&self, word: &str) -> bool {
        let w = word.trim();
        let n = w.chars().count();
        if n == 0 || n > 30 {
            return false;
        }
        // A column's own header repeated in it (フリガナ, 氏名) is not a name.
        if crate::columns::is_header_word(w) {
            return false;
        }
        let letters = w.chars().all(|c| {
            is_kanji(c)
                || is_katakana(c)
                || is_hiragana(c)
                || c.is_alphabetic()
                || c.is_whitespace()
                || matches!(c, '・' | '.' | '\'' | '-')
        });
        letters && w.chars().any(char::is_alphabetic)
    }

    /// Whether the value is a dictionary full name (for share-based column inference).
    pub fn is_dictionary_name(&self, word: &str) -> bool {
        let w = word.trim();
        if let Some((a, b)) = w.split_once(' ') {
            let b = b.trim();
            return (self.dict.surnames.contains(a)
                && (self.dict.given.contains(b) || self.dict.given_hiragana.contains(b)))
                || (self.dict.surname_readings.contains(a)
                    && self.dict.given_readings.contains(b));
        }
        self.is_full_name(w) || self.kana_split(w)
    }
}

/// The relaxed per-kind check for a value in a column whose header names the kind.
fn relaxed(kind: Kind, text: &str, engine: &Engine) -> Option<(usize, usize)> {
    let t = text.trim_matches(|c: char| c.is_whitespace() || c == '"');
    if t.is_empty() {
        return None;
    }
    let start = t.as_ptr() as usize - text.as_ptr() as usize;
    let span = Some((start, start + t.len()));
    let mut digits: Small<u8, 32> = Small::default();
    if !matches!(kind, Kind::PersonName | Kind::Address | Kind::Email) {
        if t.bytes().filter(u8::is_ascii_digit).count() > 24 {
            return None;
        }
        t.bytes()
            .filter(u8::is_ascii_digit)
            .for_each(|c| digits.push(c));
    }
    let digits = digits.as_slice();
    let only = |allowed: &[u8]| {
        t.bytes()
            .all(|c| c.is_ascii_digit() || allowed.contains(&c))
    };
    let ok = match kind {
        Kind::PersonName => engine.looks_like_name(t),
        Kind::Address => {
            let has_block =
                t.bytes().any(|c| c.is_ascii_digit()) || t.contains("丁目") || t.contains("番地");
            let has_place = t.contains(['市', '区', '町', '村', '郡'])
                || PREFECTURES.iter().any(|p| t.contains(p));
            has_block && has_place && t.chars().count() <= 80
        }
        Kind::PostalCode => {
            let t2 = t.trim_start_matches('〒').trim();
            digits.len() == 7 && t2.bytes().all(|c| c.is_ascii_digit() || c == b'-')
        }
        Kind::Phone => {
            only(b"-() +") && {
                let mut dom: Small<u8, 32> = Small::default();
                if t.starts_with("+81") && digits.len() > 2 {
                    dom.push(b'0');
                    for &c in &digits[2..] {
                        dom.push(c);
                    }
                } else {
                    for &c in digits {
                        dom.push(c);
                    }
                }
                phone_plan_valid(dom.as_slice())
            }
        }
        Kind::BirthDate => parse_date_at(t, 0, true).is_some_and(|(end, ok)| ok && end == t.len()),
        Kind::CreditCard => only(b"- ") && luhn(digits) && card_brand(digits).is_some(),
        Kind::MyNumber => only(b"- ") && my_number_valid(digits),
        Kind::DriversLicenseNumber => only(b"- ") && digits.len() == 12,
        Kind::BankAccount => only(b"- ") && (6..=8).contains(&digits.len()),
        Kind::PassportNumber => {
            let b = t.as_bytes();
            b.len() == 9
                && b[..2].iter().all(u8::is_ascii_uppercase)
                && b[2..].iter().all(u8::is_ascii_digit)
        }
        Kind::Email => false, // the free-text detector finds e-mail addresses anywhere
    };
    if ok {
        span
    } else {
        None
    }
}

/// Removes hits of the same kind that overlap an earlier one, and hits contained in another
/// kind's hit where one value cannot be two kinds (a phone inside a card number).
fn dedup(out: &mut Vec<Hit>, first: usize) {
    if out.len() - first < 2 {
        return;
    }
    // In place: sort the new hits, then keep each one that clashes with no kept one before it.
    out[first..].sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
    let mut kept = first;
    for i in first..out.len() {
        let h = out[i];
        let clash = out[first..kept].iter().any(|k| {
            h.start < k.end
                && k.start < h.end
                && (k.kind == h.kind
                    || (h.kind != Kind::Address
                        && k.kind != Kind::Address
                        && k.kind != Kind::BankAccount))
        });
        if !clash {
            out[kept] = h;
            kept += 1;
        }
    }
    out.truncate(kept);
}

// -------------------------------------------------------------------- numeric tokens

/// A fixed-capacity vector, so that a numeric token costs no allocation. Pushes past the
/// capacity are dropped; tokens are cut long before that.
#[derive(Clone, Copy, Debug)]
struct Small<T: Copy + Default, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Copy + Default, const N: usize> Default for Small<T, N> {
    fn default() -> Self {
        Small {
            items: [T::default(); N],
            len: 0,
        }
    }
}

impl<T: Copy + Default, const N: usize> Small<T, N> {
    fn push(&mut self, v: T) {
        if self.len < N {
            self.items[self.len] = v;
            self.len += 1;
        }
    }
    fn as_slice(&self) -> &[T] {
        &self.items[..self.len]
    }
    fn len(&self) -> usize {
        self.len
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Token<'a> {
    raw: &'a [u8],
    /// Start of the first digit (or of `+81` / the opening parenthesis, see `display_start`).
    start: usize,
    display_start: usize,
    end: usize,
    groups: Small<usize, 8>,
    dashes: usize,
    spaces: usize,
    paren: bool,
    plus81: bool,
    has_date_seps: bool,
    /// Byte ranges of the digit groups.
    ranges: Small<(usize, usize), 8>,
    /// Separator byte before each group after the first.
    seps: Small<u8, 8>,
    /// Total digits.
    ndigits: usize,
}

impl<'a> Token<'a> {
    /// The digits without separators (callers check `ndigits <= 24` first).
    fn digits(&self) -> Small<u8, 32> {
        let mut v = Small::default();
        for &(s, e) in self.ranges.as_slice() {
            for &c in &self.raw[s..e] {
                v.push(c);
            }
        }
        v
    }

    fn card_grouping(&self) -> bool {
        match self.groups.as_slice() {
            [_] => true,
            [4, 4, 4, 4 | 1 | 2] | [4, 4, 4, 4, 3] | [4, 6, 5 | 4] => {
                let first = self.seps.as_slice()[0];
                self.seps.as_slice().iter().all(|&s| s == first)
            }
            _ => false,
        }
    }

    /// An order number or product code: letters glued to the digits (ORD-2024-0001, v1.2, A123).
    fn is_identifier(&self, b: &[u8]) -> bool {
        let s = self.display_start;
        let before = if s > 0 { b[s - 1] } else { b' ' };
        let after = b.get(self.end).copied().unwrap_or(b' ');
        if before.is_ascii_alphabetic()
            || before == b'_'
            || after.is_ascii_alphanumeric()
            || after == b'_'
        {
            return true;
        }
        if (before == b'-' || before == b'#') && s >= 2 && b[s - 2].is_ascii_alphanumeric() {
            return true;
        }
        if after == b'-' && b.get(self.end + 1).is_some_and(u8::is_ascii_alphabetic) {
            return true;
        }
        // Inside a dotted run (IP address, version string): 192.168.1.10, 1.2.3
        if before == b'.' || (after == b'.' && b.get(self.end + 1).is_some_and(u8::is_ascii_digit))
        {
            return !self.has_date_seps;
        }
        false
    }

    fn split_spaces(&self) -> Vec<Token<'a>> {
        let mut parts = Vec::new();
        let mut cur: Option<Token> = None;
        for (gi, &(s, e)) in self.ranges.as_slice().iter().enumerate() {
            let sep = if gi == 0 {
                b' '
            } else {
                self.seps.as_slice()[gi - 1]
            };
            if gi == 0 || sep == b' ' {
                if let Some(t) = cur.take() {
                    parts.push(t);
                }
                let mut t = Token {
                    start: s,
                    display_start: s,
                    end: e,
                    raw: self.raw,
                    ..Token::default()
                };
                if gi == 0 {
                    t.display_start = self.display_start;
                    t.plus81 = self.plus81;
                    t.paren = self.paren;
                }
                t.groups.push(e - s);
                t.ranges.push((s, e));
                t.ndigits = e - s;
                cur = Some(t);
            } else if let Some(t) = cur.as_mut() {
                t.groups.push(e - s);
                t.ranges.push((s, e));
                t.seps.push(sep);
                t.ndigits += e - s;
                t.end = e;
                if sep == b'-' {
                    t.dashes += 1;
                } else {
                    t.paren = true;
                }
            }
        }
        if let Some(t) = cur {
            parts.push(t);
        }
        parts
    }
}

/// Reads a numeric token starting at the digit at `i`: digit groups joined by single `-`, ` `,
/// `(` or `)` separators, with an optional leading `+81` or `(`.
fn numeric_token(b: &[u8], i: usize) -> Token<'_> {
    let mut t = Token {
        raw: b,
        start: i,
        display_start: i,
        end: i,
        ..Token::default()
    };
    if i >= 1 && b[i - 1] == b'+' && b[i..].starts_with(b"81") {
        t.plus81 = true;
        t.display_start = i - 1;
    } else if i >= 1 && b[i - 1] == b'(' && i >= 2 && !b[i - 2].is_ascii_digit() {
        // (03)1234-5678
        t.display_start = i - 1;
        t.paren = true;
    }
    let mut p = i;
    loop {
        let gs = p;
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
        t.ranges.push((gs, p));
        t.groups.push(p - gs);
        t.ndigits += p - gs;
        t.end = p;
        if t.ndigits > 24 || t.groups.len() > 6 {
            break;
        }
        // A separator run: one of "-", " ", ")", "(", ") ", ")-", " (".
        let mut q = p;
        let mut sep = 0u8;
        let mut n = 0;
        while q < b.len() && n < 2 && matches!(b[q], b'-' | b' ' | b'(' | b')') {
            if sep == 0 || b[q] != b' ' {
                sep = b[q];
            }
            q += 1;
            n += 1;
        }
        if n == 0 || q >= b.len() || !b[q].is_ascii_digit() {
            if p < b.len()
                && matches!(b[p], b'/' | b'.')
                && b.get(p + 1).is_some_and(u8::is_ascii_digit)
            {
                t.has_date_seps = true;
            }
            break;
        }
        if b[p] == b' ' && n == 2 {
            break; // two spaces end a value
        }
        match sep {
            b'-' => t.dashes += 1,
            b' ' => t.spaces += 1,
            _ => t.paren = true,
        }
        t.seps.push(if sep == b'(' || sep == b')' {
            b')'
        } else {
            sep
        });
        p = q;
    }
    if t.paren && t.display_start == i && i > 0 && b[i - 1] == b'(' {
        t.display_start = i - 1;
    }
    t
}

fn window_before(text: &str, pos: usize, bytes: usize) -> &str {
    let mut s = pos.saturating_sub(bytes);
    while !text.is_char_boundary(s) {
        s += 1;
    }
    &text[s..pos]
}

/// Extends a bank-account span back to the bank name (三菱UFJ銀行 新宿支店 普通 1234567).
fn bank_start(text: &str, digits_start: usize) -> usize {
    let before = window_before(text, digits_start, 60);
    let base = digits_start - before.len();
    // The earliest bank word: one leftmost-first automaton instead of a substring search
    // (with its searcher set up) per word.
    static BANK_AC: std::sync::LazyLock<AhoCorasick> = std::sync::LazyLock::new(|| {
        AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(BANK_WORDS)
            .expect("static patterns build")
    });
    let Some(bank) = BANK_AC.find(before).map(|m| m.start()) else {
        // No bank name: start at the account type.
        return ACCOUNT_TYPES
            .iter()
            .filter_map(|w| before.rfind(w))
            .max()
            .map_or(digits_start, |p| base + p);
    };
    // Walk back from the bank word to the start of its token.
    let head = &before[..bank];
    let tok_start = head
        .char_indices()
        .rev()
        .find(|&(_, c)| {
            c.is_whitespace() || matches!(c, ',' | ':' | '、' | '。' | '\t' | '"' | '(' | '「')
        })
        .map_or(0, |(i, c)| i + c.len_utf8());
    base + tok_start
}

/// Whether a date may start at byte `i` (see `parse_date_at`): an ASCII digit, one of the
/// letters of the abbreviated eras, or the first character of an era name.
fn may_start_date(b: &[u8], i: usize) -> bool {
    match b[i] {
        b'0'..=b'9' => i == 0 || !b[i - 1].is_ascii_digit(),
        b'M' | b'T' | b'S' | b'H' | b'R' => true,
        0xE4..=0xE6 => ERA_NAMES
            .iter()
            .any(|e| b[i..].starts_with(&e.as_bytes()[..3])),
        _ => false,
    }
}

// -------------------------------------------------------------------- dates

/// Parses a date at byte `i`: `YYYY/M/D`, `YYYY-M-D`, `YYYY.M.D`, `YYYY年M月D日`, an era date
/// (`昭和60年3月5日`, `平成元年1月8日`, `S60.3.5`) and, when `compact` is allowed, `YYYYMMDD`.
/// Returns the end and whether it is a plausible birth date; `None` when no date starts here.
fn parse_date_at(text: &str, i: usize, compact: bool) -> Option<(usize, bool)> {
    let b = text.as_bytes();
    if i > 0 && b[i - 1].is_ascii_digit() {
        return None;
    }
    let rest = &text[i..];
    // Era names.
    for era in ERA_NAMES {
        if let Some(r) = rest.strip_prefix(era) {
            let r2 = r.trim_start_matches(' ');
            let (year, used) = if let Some(r3) = r2.strip_prefix('元') {
                (1, r.len() - r3.len())
            } else {
                let (y, ylen) = read_num(r2.as_bytes(), 2)?;
                (y, r.len() - r2.len() + ylen)
            };
            let after_year = &r[used..];
            let (m, d, len) = month_day(after_year, true)?;
            let end = i + era.len() + used + len;
            let ok =
                wareki_to_year(era, year as i32).is_some_and(|y| plausible_birth_date(y, m, d));
            return Some((end, ok));
        }
    }
    // Abbreviated eras: S60.3.5, H1/1/8.
    if let Some(&c) = b.get(i) {
        if matches!(c, b'M' | b'T' | b'S' | b'H' | b'R')
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        {
            let (y, ylen) = read_num(&b[i + 1..], 2)?;
            let sep = *b.get(i + 1 + ylen)?;
            if matches!(sep, b'.' | b'/' | b'-') {
                let (m, mlen) = read_num(&b[i + 2 + ylen..], 2)?;
                if b.get(i + 2 + ylen + mlen) == Some(&sep) {
                    let (d, dlen) = read_num(&b[i + 3 + ylen + mlen..], 2)?;
                    let end = i + 3 + ylen + mlen + dlen;
                    let era = &text[i..=i];
                    let ok = wareki_to_year(era, y as i32)
                        .is_some_and(|yy| plausible_birth_date(yy, m, d));
                    return Some((end, ok));
                }
            }
            return None;
        }
    }
    let (y, ylen) = read_num(b.get(i..)?, 4)?;
    if ylen == 8 && compact {
        let (yy, mm, dd) = (y / 10000, (y / 100) % 100, y % 100);
        let end = i + 8;
        let tail_ok = b.get(end).is_none_or(|c| !c.is_ascii_digit());
        return tail_ok.then_some((end, plausible_birth_date(yy as i32, mm, dd)));
    }
    if ylen != 4 {
        return None;
    }
    let after_year = &text[i + 4..];
    let (m, d, len) = month_day(after_year, false)?;
    let end = i + 4 + len;
    Some((end, plausible_birth_date(y as i32, m, d)))
}

/// Reads `年M月D日` (kanji style) or `/M/D`, `-M-D`, `.M.D` after a year.
fn month_day(s: &str, era: bool) -> Option<(u32, u32, usize)> {
    let b = s.as_bytes();
    let mut p = 0;
    while b.get(p) == Some(&b' ') {
        p += 1;
    }
    if s[p..].starts_with('年') {
        p += '年'.len_utf8();
        while b.get(p) == Some(&b' ') {
            p += 1;
        }
        let (m, ml) = read_num(&b[p..], 2)?;
        p += ml;
        while b.get(p) == Some(&b' ') {
            p += 1;
        }
        if !s[p..].starts_with('月') {
            return None;
        }
        p += '月'.len_utf8();
        while b.get(p) == Some(&b' ') {
            p += 1;
        }
        let (d, dl) = read_num(&b[p..], 2)?;
        p += dl;
        while b.get(p) == Some(&b' ') {
            p += 1;
        }
        if !s[p..].starts_with('日') {
            return None;
        }
        return Some((m, d, p + '日'.len_utf8()));
    }
    if era || p > 0 {
        return None;
    }
    let sep = *b.first()?;
    if !matches!(sep, b'/' | b'-' | b'.') {
        return None;
    }
    let (m, ml) = read_num(&b[1..], 2)?;
    if b.get(1 + ml) != Some(&sep) {
        return None;
    }
    let (d, dl) = read_num(&b[2 + ml..], 2)?;
    let end = 2 + ml + dl;
    if b.get(end).is_some_and(u8::is_ascii_digit)
        || (b.get(end) == Some(&sep) && b.get(end + 1).is_some_and(u8::is_ascii_digit))
    {
        return None;
    }
    Some((m, d, end))
}

/// Reads up to `max` ASCII digits (exactly 8 is also accepted when `max` is 4, for YYYYMMDD).
fn read_num(b: &[u8], max: usize) -> Option<(u32, usize)> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || (n > max && !(max == 4 && n == 8)) {
        return None;
    }
    let v = b[..n].iter().fold(0u32, |a, &c| {
        a.saturating_mul(10).saturating_add(u32::from(c - b'0'))
    });
    Some((v, n))
}

// -------------------------------------------------------------------- addresses

fn is_addr_char(c: char) -> bool {
    is_kanji(c) || is_katakana(c) || is_hiragana(c) || c.is_ascii_alphanumeric() || c == '-'
}

/// After a prefecture ending at `p`: the end of the address, or `None` when what follows is
/// not an address (no municipality, no block number).
fn address_end(text: &str, p: usize) -> Option<usize> {
    let rest = &text[p..];
    let mut municipality = false;
    let mut last_good = None;
    let mut count = 0;
    let iter = rest.char_indices().peekable();
    for (off, c) in iter {
        count += 1;
        if count > 48 {
            break;
        }
        let abs = p + off;
        if c == ' ' {
            // One space may separate the block number from the building.
            if last_good.is_some() {
                break;
            }
            if municipality {
                continue;
            }
            break;
        }
        if !is_addr_char(c) {
            break;
        }
        if matches!(c, '市' | '区' | '町' | '村' | '郡') && count <= 12 {
            municipality = true;
        }
        if municipality && (c.is_ascii_digit() || matches!(c, '目' | '地' | '号' | '番')) {
            last_good = Some(abs + c.len_utf8());
        }
        // Stop at hiragana that follows the block number (…2-8-1にある).
        if last_good.is_some() && is_hiragana(c) && last_good < Some(abs) {
            break;
        }
    }
    let mut end = last_good?;
    // A building after the number: "… 1番3号 メゾン101", "…2-8-1 新宿ビル5F", "…1-2-3-405".
    let tail = &text[end..];
    let t2 = tail.strip_prefix(' ').unwrap_or(tail);
    let tok_len: usize = t2
        .char_indices()
        .take_while(|&(_, c)| is_addr_char(c) || c == '#')
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    let tok = t2[..tok_len].trim_end_matches(is_hiragana);
    let tok_len = tok.len();
    if tok_len > 0
        && tok.chars().count() <= 20
        && tok.bytes().any(|c| c.is_ascii_digit())
        && !tok.chars().next().is_some_and(is_hiragana)
    {
        end += tail.len() - t2.len() + tok_len;
    }
    Some(end)
}

// -------------------------------------------------------------------- e-mail

fn emails(text: &str, out: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let local_ok = |c: u8| c.is_ascii_alphanumeric() || b"._%+-!#$&'*/=?^`{|}~".contains(&c);
    let domain_ok = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
    let mut from = 0;
    while let Some(rel) = memchr::memchr(b'@', &b[from..]) {
        let at = from + rel;
        from = at + 1;
        let mut s = at;
        while s > 0 && local_ok(b[s - 1]) {
            s -= 1;
        }
        while s < at && b[s] == b'.' {
            s += 1;
        }
        let mut e = at + 1;
        while e < b.len() && domain_ok(b[e]) {
            e += 1;
        }
        while e > at + 1 && (b[e - 1] == b'.' || b[e - 1] == b'-') {
            e -= 1;
        }
        if s == at || e <= at + 1 {
            continue;
        }
        let domain = &text[at + 1..e];
        let Some(dot) = domain.rfind('.') else {
            continue;
        };
        let tld = &domain[dot + 1..];
        if tld.len() < 2
            || !tld.bytes().all(|c| c.is_ascii_alphabetic())
            || domain.contains("..")
            || domain.starts_with('.')
        {
            continue;
        }
        out.push(Hit {
            kind: Kind::Email,
            start: s,
            end: e,
        });
        from = e;
    }
}

// -------------------------------------------------------------------- scripts and runs

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Script {
    Kanji,
    Katakana,
}

#[derive(Clone, Copy, Debug)]
struct Run {
    script: Script,
    start: usize,
    end: usize,
}

/// The number of characters of a run, or of a part of one: every kanji and katakana character
/// of a run is three bytes long in UTF-8 (see [`script_masks`]), so no decoding is needed.
fn run_chars(part: &str) -> usize {
    debug_assert!(part.chars().all(|c| c.len_utf8() == 3), "{part:?}");
    part.len() / 3
}

/// The character at byte `i` of a run (three bytes, see [`run_chars`]), decoded directly.
fn run_char(part: &str, i: usize) -> Option<char> {
    let b = part.as_bytes().get(i..i + 3)?;
    let c = (u32::from(b[0] & 0x0F) << 12) | (u32::from(b[1] & 0x3F) << 6) | u32::from(b[2] & 0x3F);
    debug_assert_eq!(part[i..].chars().next().map(|x| x as u32), Some(c));
    char::from_u32(c)
}

pub(crate) fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々' | '〆' | 'ヶ' | '\u{F900}'..='\u{FAFF}')
}

pub(crate) fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー')
}

pub(crate) fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}')
}

/// Writes into `out[w]` two bitmasks of the 64 byte positions `64 * w ..`, of `b` (valid
/// UTF-8): `[0]` has bit `i` set where a kanji starts (a CJK ideograph, lead bytes E4–E9, or
/// 々 〆 ヶ: E3 80 85/86, E3 83 B6), `[1]` where a katakana starts (U+30A1–U+30FA and ー: E3 82
/// A1 – E3 83 BC). Continuation bytes are never E3–E9, so only character starts are set.
/// Branch-free over blocks of 64 bytes so that it vectorises: reading runs this way replaces a
/// per-character loop whose branches (kanji, hiragana, punctuation, katakana alternate every few
/// characters in Japanese prose) were mispredicted all the time.
fn script_masks(b: &[u8], out: &mut [[u64; 2]]) {
    bytescan::fast(
        #[inline(always)]
        || script_masks_in(b, out),
    );
}

#[allow(clippy::inline_always)] // inlined into `bytescan::fast`, to be compiled for AVX2
#[inline(always)]
fn script_masks_in(b: &[u8], out: &mut [[u64; 2]]) {
    #[allow(clippy::needless_bitwise_bool, clippy::inline_always)] // inlined, branch-free
    #[inline(always)]
    fn block(w: &[u8; BLOCK + 2]) -> [u64; 2] {
        let mut cls = [0u8; BLOCK];
        for i in 0..BLOCK {
            let (p, q, r) = (w[i], w[i + 1], w[i + 2]);
            let e3 = p == 0xE3;
            let kanji = (p.wrapping_sub(0xE4) < 6)
                | (e3
                    & (((q == 0x80) & ((r == 0x85) | (r == 0x86))) | ((q == 0x83) & (r == 0xB6))));
            let kata = e3
                & (((q == 0x82) & (r >= 0xA1))
                    | ((q == 0x83) & (((r <= 0xBA) & (r != 0xB6)) | (r == 0xBC))));
            cls[i] = u8::from(kanji) | (u8::from(kata) << 1);
        }
        // Eight class bytes at a time into eight bits: with bytes of 0 or 1, the top byte of
        // the product collects byte `i` into bit `i` (the partial products never overlap).
        const GATHER: u64 = 0x0102_0408_1020_4080;
        const ONES: u64 = 0x0101_0101_0101_0101;
        let (mut k, mut t) = (0u64, 0u64);
        for (j, c) in cls.chunks_exact(8).enumerate() {
            let x = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            k |= ((x & ONES).wrapping_mul(GATHER) >> 56) << (8 * j);
            t |= (((x >> 1) & ONES).wrapping_mul(GATHER) >> 56) << (8 * j);
        }
        [k, t]
    }
    const BLOCK: usize = 64;
    debug_assert_eq!(b.len().div_ceil(BLOCK), out.len());
    let n = b.len();
    let mut at = 0;
    let mut o = out.iter_mut();
    while at + BLOCK + 2 <= n {
        let w: &[u8; BLOCK + 2] = b[at..at + BLOCK + 2].try_into().expect("window");
        *o.next().expect("mask word") = block(w);
        at += BLOCK;
    }
    // The rest, zero-padded: a zero second or third byte matches no class (the text is valid
    // UTF-8, so a lead byte E4–E9 is always followed by its two continuation bytes).
    while at < n {
        let mut w = [0u8; BLOCK + 2];
        let end = n.min(at + BLOCK + 2);
        w[..end - at].copy_from_slice(&b[at..end]);
        *o.next().expect("mask word") = block(&w);
        at += BLOCK;
    }
}

/// The windows of `text` the prose analyser reads (`prose::Windows`), from the same runs as
/// [`Engine::detect`] sees.
pub fn prose_windows(text: &str) -> Vec<(usize, usize)> {
    let mut masks = vec![[0u64; 2]; text.len().div_ceil(64)];
    script_masks(text.as_bytes(), &mut masks);
    let mut w = crate::prose::Windows::new(text);
    let runs = Runs {
        masks: &masks,
        len: text.len(),
        pos: 0,
    };
    for run in runs {
        w.run(run.start, run.end, run.script == Script::Kanji);
    }
    w.romaji();
    w.finish()
}

/// The kanji and katakana runs of a text, in order, read off its `script_masks`.
struct Runs<'a> {
    masks: &'a [[u64; 2]],
    len: usize,
    pos: usize,
}

impl Iterator for Runs<'_> {
    type Item = Run;

    /// Finds the next position where a run character starts (a bit scan), then the run's end:
    /// the first position `q` where a character of the run's script starts at `q - 3` but not
    /// at `q` (every run character is three bytes long, so no other position has a character
    /// of that script three bytes before it inside or just after the run).
    #[allow(clippy::inline_always)] // called once per run from `names`, its only caller
    #[inline(always)]
    fn next(&mut self) -> Option<Run> {
        let m = self.masks;
        let mut w = self.pos / 64;
        let mut bits = (m.get(w)?[0] | m[w][1]) & (!0u64 << (self.pos % 64));
        while bits == 0 {
            w += 1;
            let Some(x) = m.get(w) else {
                self.pos = self.len;
                return None;
            };
            bits = x[0] | x[1];
        }
        let start = w * 64 + bits.trailing_zeros() as usize;
        let s = usize::from(m[w][0] & (1 << (start % 64)) == 0);
        let script = if s == 1 {
            Script::Katakana
        } else {
            Script::Kanji
        };
        // Run ends of script `s` in word `v`: characters three bytes before, none here.
        let ends = |v: usize| {
            let cur = m[v][s];
            let prev = if v == 0 { 0 } else { m[v - 1][s] >> 61 };
            ((cur << 3) | prev) & !cur
        };
        let from = start + 3;
        let mut v = from / 64;
        let mut end = self.len;
        if v < m.len() {
            let mut e = ends(v) & (!0u64 << (from % 64));
            loop {
                if e != 0 {
                    end = v * 64 + e.trailing_zeros() as usize;
                    break;
                }
                v += 1;
                if v == m.len() {
                    break;
                }
                e = ends(v);
            }
        }
        let end = end.min(self.len);
        self.pos = end;
        Some(Run { script, start, end })
    }
}

/// Whether the bytes contain 県 (E7 9C 8C), 都 (E9 83 BD), 府 (E5 BA 9C) or 道 (E9 81 93), in one
/// vectorised pass (a search for their lead bytes stops on nearly every kanji of Japanese text).
#[allow(clippy::needless_bitwise_bool)] // branch-free, so that it vectorises (see bytescan)
fn has_prefecture_suffix(b: &[u8]) -> bool {
    bytescan::any3(b, |p, q, r| {
        ((p == 0xE7) & (q == 0x9C) & (r == 0x8C))
            | ((p == 0xE9) & (q == 0x83) & (r == 0xBD))
            | ((p == 0xE5) & (q == 0xBA) & (r == 0x9C))
            | ((p == 0xE9) & (q == 0x81) & (r == 0x93))
    })
}

/// False when `b` holds none of the birth words of `birth_words` (生, birth, Birth, BIRTH, DOB,
/// dob), decided in one vectorised pass: 生 (E7 94 9F) or the first three letters of "birth" or
/// "dob" in any case. The automaton's own prefilter looks for rare bytes, and 生's continuation
/// bytes are anything but rare in Japanese text.
#[allow(clippy::needless_bitwise_bool)] // branch-free, so that it vectorises (see bytescan)
fn may_have_birth_word(b: &[u8]) -> bool {
    bytescan::any3(b, |p, q, r| {
        let (lp, lq, lr) = (p | 0x20, q | 0x20, r | 0x20);
        ((p == 0xE7) & (q == 0x94) & (r == 0x9F))
            | ((lp == b'b') & (lq == b'i') & (lr == b'r'))
            | ((lp == b'd') & (lq == b'o') & (lr == b'b'))
    })
}

/// First characters of the PRE_NAME words.
fn is_role_start(c: char) -> bool {
    matches!(
        c,
        '担' | '会'
            | '顧'
            | '社'
            | '部'
            | '課'
            | '係'
            | '主'
            | '代'
            | '本'
            | '昨'
            | '先'
            | '今'
            | '明'
            | '名'
    )
}

/// Whether the bytes contain an ASCII digit, in one vectorised pass.
fn has_ascii_digit(b: &[u8]) -> bool {
    bytescan::any1(b, |x| x.wrapping_sub(b'0') < 10)
}

fn strip_honorific(word: &str) -> (&str, bool) {
    // The honorifics 先生 様 殿 君 氏 end in one of five characters: compare the last three
    // bytes before any string search.
    let b = word.as_bytes();
    let Some(last) = b.len().checked_sub(3).map(|i| &b[i..]) else {
        return (word, false);
    };
    let suffix = match last {
        [0xE7, 0x94, 0x9F] => "先生",
        [0xE6, 0xA7, 0x98] => "様",
        [0xE6, 0xAE, 0xBF] => "殿",
        [0xE5, 0x90, 0x9B] => "君",
        [0xE6, 0xB0, 0x8F] => "氏",
        _ => return (word, false),
    };
    match word.strip_suffix(suffix) {
        Some(core) => (core, true),
        None => (word, false),
    }
}

fn starts_with_honorific(after: &str) -> bool {
    // さん さま ちゃん くん start with さ ち く (E3 81 95/A1/8F), 様 and 殿 with E6.
    match after.as_bytes() {
        [0xE3, 0x81, 0x95 | 0xA1 | 0x8F, ..] | [0xE6, ..] => {
            ["さん", "さま", "ちゃん", "くん", "様", "殿"]
                .iter()
                .any(|h| after.starts_with(h))
        }
        _ => false,
    }
}

/// The particles and copulas that may follow a name written in hiragana (山田さくらは).
const HIRAGANA_PARTICLES: [&str; 13] = [
    "は", "が", "を", "に", "の", "と", "も", "へ", "で", "や", "から", "より", "だ",
];

/// Whether a hiragana character (U+3041–U+3096: E3 81 81–BF, E3 82 80–96) starts at `i`.
fn is_hiragana_at(b: &[u8], i: usize) -> bool {
    match b.get(i..i + 3) {
        Some(&[0xE3, 0x81, x]) => x >= 0x81,
        Some(&[0xE3, 0x82, x]) => x <= 0x96,
        _ => false,
    }
}

/// Whether a name may end right before `after`: the end of the text, a space or ASCII
/// punctuation, CJK or full-width punctuation (、。「」 U+3000–U+303F, ・, （）), or an honorific (様, 殿, 氏, 君,
/// 先生). Not a letter, digit, kanji or katakana, which would make the hiragana part of a word.
fn hiragana_name_boundary(after: &str) -> bool {
    match after.as_bytes() {
        [] | [0xE3, 0x80, ..] | [0xE3, 0x83, 0xBB, ..] => true,
        [x, ..] if x.is_ascii() => !x.is_ascii_alphanumeric(),
        // Full-width punctuation such as （ ） ！ (full-width letters and digits are not).
        [0xEF, 0xBC, x, ..] => !matches!(x, 0x90..=0x99 | 0xA1..=0xBA),
        [0xEF, 0xBD, x, ..] => !matches!(x, 0x81..=0x9A),
        _ => after.starts_with(['様', '殿', '氏', '君']) || after.starts_with("先生"),
    }
}

fn is_spacer(between: &str) -> bool {
    !between.is_empty() && between.len() <= 2 && between.bytes().all(|c| c == b' ')
}

fn is_kana_spacer(between: &str) -> bool {
    is_spacer(between) || between == "・"
}

#[inline]
fn follows_name_label(text: &str, start: usize) -> bool {
    // Cheap reject: a label is always followed by a separator.
    let head = &text.as_bytes()[..start];
    if !matches!(head.last(), Some(b' ' | b':' | b'\t' | b'=')) && !head.ends_with("：".as_bytes())
    {
        return false;
    }
    follows_name_label_slow(text, start)
}

/// Words a role label ends with: 業務担当：, 営業部長：, 作成者：.
const ROLE_WORDS: [&str; 24] = [
    "担当",
    "担当者",
    "責任者",
    "部長",
    "課長",
    "係長",
    "主任",
    "社長",
    "代表",
    "室長",
    "所長",
    "店長",
    "リーダー",
    "マネージャー",
    "作成者",
    "記入者",
    "承認者",
    "確認者",
    "報告者",
    "連絡者",
    "窓口",
    "講師",
    "医師",
    "役員",
];

/// Whether a role label and a colon come before `start`: a label that ends with a role word, or
/// an acronym of two to five capital letters (PMO：, PM:, CISO：).
fn follows_role_label(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end_matches(' ');
    let Some(before) = before
        .strip_suffix('：')
        .or_else(|| before.strip_suffix(':'))
    else {
        return false;
    };
    let before = before.trim_end_matches(' ');
    let word_start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| c.is_whitespace() || "、。,，・（）()「」【】[]/／|｜".contains(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[word_start..];
    let n = word.chars().count();
    (2..=5).contains(&n) && word.bytes().all(|b| b.is_ascii_uppercase())
        || (n <= 12 && ROLE_WORDS.iter().any(|r| word.ends_with(r)))
}

#[inline(never)]
fn follows_name_label_slow(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end_matches([' ', ':', '\t', '=']);
    if before.len() == text[..start].len() && !before.ends_with('：') {
        // The label must be separated by a colon or a space (氏名：山田, 氏名 山田).
        return false;
    }
    let before = before.trim_end_matches('：');
    NAME_LABELS.iter().any(|l| before.ends_with(l))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn found(text: &str, hint: Option<Kind>) -> Vec<(Kind, String)> {
        let engine = Engine::new(KindSet::all());
        let norm = normalize(text);
        let mut out = Vec::new();
        engine.detect(&norm, hint, &mut out);
        out.iter()
            .map(|h| {
                (
                    h.kind,
                    crate::normalize::original_span(text, &norm, h.start, h.end).to_owned(),
                )
            })
            .collect()
    }

    fn one(text: &str, kind: Kind, value: &str) {
        let f = found(text, None);
        assert!(
            f.contains(&(kind, value.to_owned())),
            "{text:?}: expected {kind} {value:?}, got {f:?}"
        );
    }

    fn none(text: &str) {
        let f = found(text, None);
        assert!(f.is_empty(), "{text:?}: expected nothing, got {f:?}");
    }

    #[test]
    fn phones_in_the_doc() {
        for p in [
            "03-1234-5678",
            "090-1234-5678",
            "09012345678",
            "03(1234)5678",
            "+81-90-1234-5678",
            "０９０－１２３４－５６７８",
        ] {
            one(&format!("連絡先 {p} まで"), Kind::Phone, p);
        }
        one("TEL:0312345678", Kind::Phone, "0312345678");
        let two = found("03-1234-5678 090-1111-2222", None);
        assert_eq!(two.len(), 2, "{two:?}");
    }

    #[test]
    fn cards_emails_postal_addresses() {
        one(
            "カード 4111 1111 1111 1111",
            Kind::CreditCard,
            "4111 1111 1111 1111",
        );
        one(
            "3528-0000-0000-0007で決済",
            Kind::CreditCard,
            "3528-0000-0000-0007",
        );
        one(
            "mail: taro.yamada@example.co.jp です",
            Kind::Email,
            "taro.yamada@example.co.jp",
        );
        one(
            "〒160-0023 東京都新宿区西新宿2-8-1",
            Kind::PostalCode,
            "〒160-0023",
        );
        one("〒１６０－００２３", Kind::PostalCode, "〒１６０－００２３");
        one(
            "160-0023 東京都新宿区西新宿2-8-1",
            Kind::PostalCode,
            "160-0023",
        );
        one("郵便番号 160-0023", Kind::PostalCode, "160-0023");
        none("部品 160-0023 の在庫");
        one(
            "〒160-0023 東京都新宿区西新宿2-8-1",
            Kind::Address,
            "東京都新宿区西新宿2-8-1",
        );
        one(
            "住所は大阪府大阪市北区梅田1丁目1番3号 メゾン101です",
            Kind::Address,
            "大阪府大阪市北区梅田1丁目1番3号 メゾン101",
        );
        one(
            "東京都千代田区丸の内１－１－１",
            Kind::Address,
            "東京都千代田区丸の内１－１－１",
        );
    }

    #[test]
    fn context_kinds() {
        one("個人番号：1234 5678 9018", Kind::MyNumber, "1234 5678 9018");
        none("番号 1234 5678 9018");
        none("個人番号：1234 5678 9010");
        one(
            "運転免許証番号 123456789012",
            Kind::DriversLicenseNumber,
            "123456789012",
        );
        one(
            "パスポート番号 TK1234567",
            Kind::PassportNumber,
            "TK1234567",
        );
        none("型番 TK1234567");
        one(
            "振込先：三菱UFJ銀行 新宿支店 普通 1234567",
            Kind::BankAccount,
            "三菱UFJ銀行 新宿支店 普通 1234567",
        );
        one(
            "生年月日：昭和60年3月5日",
            Kind::BirthDate,
            "昭和60年3月5日",
        );
        one("生年月日 1985/03/05", Kind::BirthDate, "1985/03/05");
        one("平成元年1月8日生まれ", Kind::BirthDate, "平成元年1月8日");
        none("注文日 2024/05/01");
        none("生年月日 1985/13/05");
    }

    #[test]
    fn the_birth_word_prefilter_never_hides_a_birth_word() {
        let engine = Engine::new(KindSet::all());
        for w in ["生", "birth", "Birth", "BIRTH", "DOB", "dob"] {
            for pad in 0..70 {
                let text = format!("{}{w}: 1990-01-02", "あ".repeat(pad));
                assert!(engine.birth_words.is_match(&text));
                assert!(may_have_birth_word(text.as_bytes()), "{w} after {pad}");
            }
        }
        // Lines without one are skipped before the automaton runs.
        assert!(!may_have_birth_word(
            "申込日 2024年4月1日 担当 山田".as_bytes()
        ));
        assert!(!may_have_birth_word(b"order 2024-04-01"));
    }

    #[test]
    fn runs_match_a_character_walk() {
        let pieces = [
            "山田",
            "さん",
            "カタカナ",
            "ー",
            "a",
            "、",
            "々",
            "ヶ",
            "・",
            "  ",
            "太郎",
        ];
        let mut seed = 7u32;
        for len in 0..200 {
            let mut text = String::new();
            for _ in 0..len {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                text.push_str(pieces[(seed >> 16) as usize % pieces.len()]);
            }
            let mut expected = Vec::new();
            let mut cur: Option<(bool, usize, usize)> = None;
            for (i, c) in text.char_indices() {
                let script = if is_kanji(c) {
                    Some(true)
                } else if is_katakana(c) {
                    Some(false)
                } else {
                    None
                };
                match (cur, script) {
                    (Some((k, s, _)), Some(x)) if k == x => cur = Some((k, s, i + c.len_utf8())),
                    (_, x) => {
                        expected.extend(cur.take());
                        cur = x.map(|k| (k, i, i + c.len_utf8()));
                    }
                }
            }
            expected.extend(cur);
            let mut masks = vec![[0u64; 2]; text.len().div_ceil(64)];
            script_masks(text.as_bytes(), &mut masks);
            let got: Vec<_> = Runs {
                masks: &masks,
                len: text.len(),
                pos: 0,
            }
            .map(|r| (r.script == Script::Kanji, r.start, r.end))
            .collect();
            assert_eq!(got, expected, "{text}");
        }
    }

    #[test]
    fn names() {
        one("山田太郎様", Kind::PersonName, "山田太郎");
        one("担当の佐藤さんに連絡", Kind::PersonName, "佐藤");
        one("氏名：勅使河原 朔", Kind::PersonName, "勅使河原 朔");
        one("本件は鈴木花子が対応した。", Kind::PersonName, "鈴木花子");
        one("山田　太郎が来社", Kind::PersonName, "山田　太郎");
        one(
            "宮脇 磊介氏 (危機管理の専門家)",
            Kind::PersonName,
            "宮脇 磊介",
        );
        one("ヤマダ タロウ様", Kind::PersonName, "ヤマダ タロウ");
        none("コーポ山田に住んでいる");
        none("山田電機で購入した");
        none("東京都の新宿区役所");
    }

    #[test]
    fn names_after_role_labels() {
        one("PMO：林　拓真", Kind::PersonName, "林　拓真");
        one("業務担当：佐藤　さゆり", Kind::PersonName, "佐藤　さゆり");
        one("営業部長: 森 一郎", Kind::PersonName, "森 一郎");
        // A role label is not a name label: a surname glued to a word is not a person.
        none("品名：田中ビル");
        none("担当：システム部");
    }

    #[test]
    fn a_header_word_in_a_name_column_is_not_a_name() {
        assert!(found("フリガナ", Some(Kind::PersonName)).is_empty());
        assert!(found("氏名", Some(Kind::PersonName)).is_empty());
        assert_eq!(
            found("タカナシ", Some(Kind::PersonName)),
            [(Kind::PersonName, "タカナシ".to_owned())]
        );
    }

    #[test]
    fn given_names_in_hiragana() {
        // After a labelled word.
        one("氏名：山田　さくら", Kind::PersonName, "山田　さくら");
        one("氏名：山田さくら", Kind::PersonName, "山田さくら");
        one("宛名 田中 ゆいに送付", Kind::PersonName, "田中 ゆい");
        one("お名前: 鈴木あおい（34）", Kind::PersonName, "鈴木あおい");
        one(
            "担当者：佐藤ひなたさんから電話",
            Kind::PersonName,
            "佐藤ひなた",
        );
        one("契約者：高橋みのり。", Kind::PersonName, "高橋みのり");
        // Hiragana that is grammar is not a given name, labelled or not.
        one("氏名：山田です", Kind::PersonName, "山田");
        one("担当者：本田まさに適任", Kind::PersonName, "本田");
        one("山田さんは来ない", Kind::PersonName, "山田");
        one("山田太郎さんは来ない", Kind::PersonName, "山田太郎");
        none("本田まさに適任だ");
        none("会社では、対応を検討した");
        // Not looked at: a bare surname before hiragana (documented limit).
        none("山田さくらから電話");
    }

    #[test]
    fn lookalikes_are_not_reported() {
        for text in [
            "法人番号 7000012050002",
            "JAN 4901234567894",
            "ISBN978-4-06-159223-0",
            "追跡番号 1234-5678-9012",
            "注文番号 ORD-20240501-0012",
            "価格 ¥12,800",
            "version 1.2.3",
            "サーバー 192.168.1.10",
            "カード ************1111",
            "4111111111111112",
            "注文日 2024年5月1日",
        ] {
            none(text);
        }
    }

    #[test]
    fn hints_report_whole_values() {
        assert_eq!(
            found("ヤマダ タロウ", Some(Kind::PersonName)),
            vec![(Kind::PersonName, "ヤマダ タロウ".to_owned())]
        );
        assert_eq!(
            found("Taro Yamada", Some(Kind::PersonName)),
            vec![(Kind::PersonName, "Taro Yamada".to_owned())]
        );
        assert_eq!(
            found("19850305", Some(Kind::BirthDate)),
            vec![(Kind::BirthDate, "19850305".to_owned())]
        );
        assert_eq!(
            found("新宿区西新宿2-8-1", Some(Kind::Address)),
            vec![(Kind::Address, "新宿区西新宿2-8-1".to_owned())]
        );
        assert!(found("123456789010", Some(Kind::MyNumber)).is_empty());
    }
}
