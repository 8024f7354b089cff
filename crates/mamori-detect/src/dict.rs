//! The person-name dictionary, derived from IPADIC (see `data/IPADIC-NOTICE` and
//! `scripts/detect/gen-names.py`). Parsed once, on first use, into hash sets.

use rustc_hash::FxHashSet;
use std::sync::LazyLock;

static NAMES_TXT: &str = include_str!("../data/names.txt");
static NAMES_EXTRA_TXT: &str = include_str!("../data/names-extra.txt");

/// Surnames, given names, their katakana readings, and the veto list of ordinary words that
/// split into a surname and a given name.
pub struct Dict {
    pub surnames: FxHashSet<&'static str>,
    pub given: FxHashSet<&'static str>,
    pub surname_readings: FxHashSet<&'static str>,
    pub given_readings: FxHashSet<&'static str>,
    /// The given-name readings written in hiragana (さくら, ひなた), at least two characters
    /// long and not a common function word: the given names that are written in hiragana.
    pub given_hiragana: FxHashSet<Box<str>>,
    /// The longest of them, in characters.
    pub max_given_hiragana_chars: usize,
    pub veto: FxHashSet<&'static str>,
    /// Bitmaps over the BMP: characters that start a surname / end a given name, to reject
    /// most kanji runs before any hashing.
    surname_first: CharBits,
    given_last: CharBits,
    /// Characters that end a surname / start a given name: a split of a word into surname and
    /// given name is hashed only when both sides of the cut pass these bitmaps.
    surname_last: CharBits,
    given_first: CharBits,
    /// The longest surname and given name, in characters.
    pub max_surname_chars: usize,
    pub max_given_chars: usize,
}

/// A set of characters as a bitmap over the Basic Multilingual Plane (8 KiB). A character beyond
/// it is always in the set: the sets only serve to reject words before any hashing.
#[derive(Clone)]
pub struct CharBits(Vec<u64>);

impl CharBits {
    pub fn new() -> Self {
        CharBits(vec![0; 1024])
    }
    pub fn insert(&mut self, c: char) {
        let i = c as usize;
        if i < 0x10000 {
            self.0[i / 64] |= 1 << (i % 64);
        }
    }
    pub fn contains(&self, c: char) -> bool {
        let i = c as usize;
        i >= 0x10000 || self.0[i / 64] & (1 << (i % 64)) != 0
    }
}

impl Extend<char> for CharBits {
    fn extend<I: IntoIterator<Item = char>>(&mut self, chars: I) {
        for c in chars {
            self.insert(c);
        }
    }
}

impl Default for CharBits {
    fn default() -> Self {
        Self::new()
    }
}

impl Dict {
    pub fn starts_surname(&self, c: char) -> bool {
        self.surname_first.contains(c)
    }
    pub fn ends_given(&self, c: char) -> bool {
        self.given_last.contains(c)
    }
    pub fn ends_surname(&self, c: char) -> bool {
        self.surname_last.contains(c)
    }
    pub fn starts_given(&self, c: char) -> bool {
        self.given_first.contains(c)
    }
    /// The characters that start a surname.
    pub fn surname_firsts(&self) -> &CharBits {
        &self.surname_first
    }
}

/// Given-name readings that are also common function words, adverbs or endings written in
/// hiragana (より, なら, まさに…): after a surname-like word they are grammar, not a name.
pub const HIRAGANA_NOT_NAMES: &[&str] = &[
    "あの",
    "ある",
    "いる",
    "いう",
    "および",
    "かな",
    "から",
    "くらい",
    "くん",
    "こそ",
    "こと",
    "この",
    "これ",
    "さえ",
    "さま",
    "さん",
    "しか",
    "すぐ",
    "する",
    "それ",
    "その",
    "ため",
    "たち",
    "だけ",
    "ちゃん",
    "でも",
    "です",
    "では",
    "とき",
    "ところ",
    "とも",
    "ともに",
    "とは",
    "ども",
    "など",
    "なら",
    "ない",
    "なる",
    "には",
    "ので",
    "のに",
    "ほか",
    "ほど",
    "まさに",
    "ます",
    "また",
    "まだ",
    "まで",
    "もう",
    "もの",
    "よう",
    "よく",
    "より",
];

static DICT: LazyLock<Dict> = LazyLock::new(|| {
    let mut d = Dict {
        surnames: FxHashSet::default(),
        given: FxHashSet::default(),
        surname_readings: FxHashSet::default(),
        given_readings: FxHashSet::default(),
        given_hiragana: FxHashSet::default(),
        max_given_hiragana_chars: 0,
        veto: FxHashSet::default(),
        surname_first: CharBits::new(),
        given_last: CharBits::new(),
        surname_last: CharBits::new(),
        given_first: CharBits::new(),
        max_surname_chars: 0,
        max_given_chars: 0,
    };
    for line in NAMES_TXT.lines().chain(NAMES_EXTRA_TXT.lines()) {
        let Some((tag, word)) = line.split_once('\t') else {
            continue;
        };
        let set = match tag {
            "S" => &mut d.surnames,
            "G" => &mut d.given,
            "SR" => &mut d.surname_readings,
            "GR" => &mut d.given_readings,
            "V" => &mut d.veto,
            _ => continue,
        };
        set.insert(word);
    }
    for w in &d.surnames {
        if let (Some(first), Some(last)) = (w.chars().next(), w.chars().next_back()) {
            d.surname_first.insert(first);
            d.surname_last.insert(last);
        }
        d.max_surname_chars = d.max_surname_chars.max(w.chars().count());
    }
    for w in &d.given {
        if let (Some(first), Some(last)) = (w.chars().next(), w.chars().next_back()) {
            d.given_first.insert(first);
            d.given_last.insert(last);
        }
        d.max_given_chars = d.max_given_chars.max(w.chars().count());
    }
    for r in &d.given_readings {
        // Katakana U+30A1–U+30F6 are hiragana U+3041–U+3096 plus 0x60; a reading with ー or
        // another katakana-only character is not written in hiragana.
        let hira: Option<String> = r
            .chars()
            .map(|c| match c {
                '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60),
                _ => None,
            })
            .collect();
        if let Some(h) = hira {
            let n = h.chars().count();
            if n >= 2 && !HIRAGANA_NOT_NAMES.contains(&h.as_str()) {
                d.max_given_hiragana_chars = d.max_given_hiragana_chars.max(n);
                d.given_hiragana.insert(h.into_boxed_str());
            }
        }
    }
    d
});

/// The shared dictionary.
pub fn dict() -> &'static Dict {
    &DICT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_has_common_names_and_readings() {
        let d = dict();
        assert!(d.surnames.len() > 10_000 && d.given.len() > 10_000);
        for s in ["山田", "佐藤", "鈴木", "高橋", "勅使河原"] {
            assert!(d.surnames.contains(s), "{s}");
        }
        for g in ["太郎", "花子", "翔太"] {
            assert!(d.given.contains(g), "{g}");
        }
        assert!(d.surname_readings.contains("ヤマダ"));
        assert!(d.given_readings.contains("タロウ"));
    }
}
