//! Person names in running prose, where no label or honorific stands beside them.
//!
//! Two real resources do the work: IPADIC, compiled at build time into a vibrato morphological
//! analyser (its 人名 / 地域 / 組織 classes and its part-of-speech tags), and a small averaged
//! perceptron that tags the analyser's tokens as outside / beginning / inside a name. The model
//! is trained at development time on public annotated corpora only (KWDLC's training documents
//! and hironsancorpus, `mamori-detect-train-names`) and shipped as `data/names-model.bin`.
//!
//! The analyser is slower than the byte-level detectors, so it never sees a whole file: only
//! windows of a few characters around *candidate runs* — katakana runs, kanji runs that begin
//! with a name of the dictionary, capitalised romaji words in Japanese text — are analysed.

use crate::detect::{is_hiragana, is_kanji};
use crate::dict::{dict, Dict};
use std::cell::RefCell;
use std::io::Read;
use std::sync::LazyLock;

static DICTIONARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ipadic.dic.z"));
static MODEL: &[u8] = include_bytes!("../data/names-model.bin");
/// IPADIC's person names with a kanji, of two characters or more (build.rs).
static NAME_WORDS: &str = include_str!(concat!(env!("OUT_DIR"), "/ipadic-names.txt"));

/// Characters of context analysed before and after a candidate run.
const BEFORE: usize = 4;
const AFTER: usize = 10;
/// How far a window's edge may move on to the edge of a script run.
const SNAP: usize = 8;
/// Weight table size (a power of two); features are hashed into it.
pub const BUCKETS: usize = 1 << 20;
pub const LABELS: usize = 3;
pub const O: u8 = 0;
pub const B: u8 = 1;
pub const I: u8 = 2;

static TOKENIZER: LazyLock<vibrato::Tokenizer> = LazyLock::new(|| {
    let mut raw = Vec::new();
    flate2::read::DeflateDecoder::new(DICTIONARY)
        .read_to_end(&mut raw)
        .expect("the embedded dictionary inflates");
    let dict = vibrato::Dictionary::read(raw.as_slice()).expect("the embedded dictionary reads");
    vibrato::Tokenizer::new(dict)
});

static WEIGHTS: LazyLock<Model> =
    LazyLock::new(|| Model::decode(MODEL).expect("the embedded name model decodes"));

/// IPADIC's katakana words that are never names (build.rs).
static KANA_WORDS: &str = include_str!(concat!(env!("OUT_DIR"), "/ipadic-kana-words.txt"));
static KANA: LazyLock<rustc_hash::FxHashSet<&'static str>> =
    LazyLock::new(|| KANA_WORDS.lines().collect());

/// The names of `NAME_WORDS`, and the longest of them in characters (at most 6 are looked for).
struct Names {
    set: rustc_hash::FxHashSet<&'static str>,
    max: usize,
    first: crate::dict::CharBits,
}

static NAMES: LazyLock<Names> = LazyLock::new(|| {
    let set: rustc_hash::FxHashSet<&'static str> = NAME_WORDS.lines().collect();
    let max = set
        .iter()
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0)
        .min(6);
    let mut first = crate::dict::CharBits::new();
    first.extend(set.iter().filter_map(|w| w.chars().next()));
    Names { set, max, first }
});

thread_local! {
    static WORKER: RefCell<vibrato::tokenizer::worker::Worker<'static>> =
        RefCell::new(TOKENIZER.new_worker());
}

/// One token of the analyser, as the tagger sees it.
#[derive(Clone, Copy, Debug)]
pub struct Tok<'a> {
    /// Byte range in the analysed text.
    pub start: usize,
    pub end: usize,
    pub surface: &'a str,
    /// The four part-of-speech fields, e.g. `名詞,固有名詞,人名,姓`.
    pub pos: &'static str,
    /// The analyser did not know the word.
    pub unknown: bool,
}

/// Analyses `text` into tokens.
pub fn tokenize(text: &str) -> Vec<Tok<'_>> {
    WORKER.with(|w| {
        let mut w = w.borrow_mut();
        w.reset_sentence(text);
        w.tokenize();
        (0..w.num_tokens())
            .map(|i| {
                let t = w.token(i);
                let r = t.range_byte();
                Tok {
                    start: r.start,
                    end: r.end,
                    surface: &text[r.clone()],
                    pos: t.feature(),
                    unknown: t.lex_type() == vibrato::dictionary::LexType::Unknown,
                }
            })
            .collect()
    })
}

// ------------------------------------------------------------------ candidate windows

/// Katakana as a name is written: with the middle dot and the double hyphen of foreign names.
fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー' | '・' | '=' | '＝')
}
/// The script class of a character, for window edges: kanji, hiragana, katakana, letters and
/// digits, or anything else (punctuation, spaces: always an edge).
fn class(c: char) -> u8 {
    if is_kanji(c) {
        1
    } else if is_hiragana(c) {
        2
    } else if is_katakana(c) {
        3
    } else if c.is_alphanumeric() {
        4
    } else {
        // Each punctuation mark is its own class: a window may end at any of them.
        0xFF
    }
}

/// Byte ranges of `text` worth analysing: each candidate run with a little context, merged.
/// The runs are the detector's kanji and katakana runs (`detect::prose_windows`), so training
/// and detection see the same windows.
pub fn windows(text: &str) -> Vec<(usize, usize)> {
    crate::detect::prose_windows(text)
}

/// Collects the windows of one text from its runs, in order.
pub struct Windows<'t> {
    text: &'t str,
    pub out: Vec<(usize, usize)>,
}

impl<'t> Windows<'t> {
    pub fn new(text: &'t str) -> Self {
        Windows {
            text,
            out: Vec::new(),
        }
    }

    /// A kanji (`kanji`) or katakana run `text[s..e]`: kept when it is a candidate.
    pub fn run(&mut self, s: usize, e: usize, kanji: bool) {
        let run = &self.text[s..e];
        let keep = if kanji {
            kanji_candidate(run, &NAMES)
        } else {
            run.chars().count() >= 2 && !common_katakana(run, &KANA)
        };
        if keep {
            self.push(s, e);
        }
    }

    /// Capitalised romaji words of three letters or more (Taro, Yamada) in the Japanese text.
    pub fn romaji(&mut self) {
        let b = self.text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_uppercase() && (i == 0 || !b[i - 1].is_ascii_alphabetic()) {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_lowercase() {
                    j += 1;
                }
                if j - i >= 3 && (j == b.len() || !b[j].is_ascii_alphabetic()) {
                    self.push(i, j);
                }
                i = j;
            } else {
                i += 1;
            }
        }
    }

    /// Adds `text[s..e]` with `BEFORE` characters of context before it and `AFTER` after it,
    /// each edge moved on to the edge of its script run (at most `SNAP` characters more), so
    /// the analyser never starts or ends inside a word it would misread.
    fn push(&mut self, s: usize, e: usize) {
        let t = self.text;
        let mut ws = s;
        let mut steps = 0;
        while let Some(c) = t[..ws].chars().next_back() {
            let inside =
                class(c) != 0xFF && t[ws..].chars().next().is_some_and(|n| class(n) == class(c));
            if steps >= BEFORE && !(inside && steps < BEFORE + SNAP) {
                break;
            }
            ws -= c.len_utf8();
            steps += 1;
        }
        let mut we = e;
        let mut steps = 0;
        while let Some(c) = t[we..].chars().next() {
            let inside = class(c) != 0xFF
                && t[..we]
                    .chars()
                    .next_back()
                    .is_some_and(|p| class(p) == class(c));
            if steps >= AFTER && !(inside && steps < AFTER + SNAP) {
                break;
            }
            we += c.len_utf8();
            steps += 1;
        }
        match self.out.last_mut() {
            Some(last) if ws <= last.1 => last.1 = last.1.max(we),
            _ => self.out.push((ws, we)),
        }
    }

    /// The windows, in order; romaji words make a window only in a Japanese text.
    pub fn finish(mut self) -> Vec<(usize, usize)> {
        self.out.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.out.len());
        for (s, e) in self.out {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }
}

/// Whether a katakana run is made of IPADIC's katakana words that are never names, one after
/// another (インシデントレスポンス = インシデント + レスポンス): then it is not worth analysing.
fn common_katakana(run: &str, kana: &rustc_hash::FxHashSet<&'static str>) -> bool {
    const LONGEST: usize = 12;
    if kana.contains(run) {
        return true;
    }
    let at: Vec<usize> = run
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(run.len()))
        .collect();
    let n = at.len() - 1;
    if n > 64 {
        return false;
    }
    let mut reach = [false; 65];
    reach[0] = true;
    for i in 0..n {
        if !reach[i] {
            continue;
        }
        for j in (i + 2)..=(i + LONGEST).min(n) {
            if !reach[j] && kana.contains(&run[at[i]..at[j]]) {
                reach[j] = true;
            }
        }
    }
    reach[n]
}

/// A kanji run is a candidate when a person name of the dictionary (two characters or more)
/// occurs in it: 小津安二郎, 新会長中塚, 龍馬.
fn kanji_candidate(run: &str, names: &Names) -> bool {
    let starts: Vec<usize> = run.char_indices().map(|(i, _)| i).collect();
    let n = starts.len();
    (0..n.saturating_sub(1)).any(|a| {
        names
            .first
            .contains(run[starts[a]..].chars().next().unwrap_or(' '))
            && (a + 2..=(a + names.max).min(n)).any(|b| {
                let end = starts.get(b).copied().unwrap_or(run.len());
                names.set.contains(&run[starts[a]..end])
            })
    })
}

// ------------------------------------------------------------------ features

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Kanji,
    Hiragana,
    Katakana,
    Alpha,
    Digit,
    Other,
    Mixed,
}

fn script(s: &str) -> Script {
    let one = |c: char| {
        if is_kanji(c) {
            Script::Kanji
        } else if is_hiragana(c) {
            Script::Hiragana
        } else if is_katakana(c) {
            Script::Katakana
        } else if c.is_alphabetic() {
            Script::Alpha
        } else if c.is_numeric() {
            Script::Digit
        } else {
            Script::Other
        }
    };
    let mut it = s.chars().map(one);
    let Some(first) = it.next() else {
        return Script::Other;
    };
    if it.all(|x| x == first) {
        first
    } else {
        Script::Mixed
    }
}

/// FNV-1a of a string: a token's surface or part of speech, hashed once per window.
fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A feature's bucket: its template and up to three values, mixed.
fn mix(template: u64, a: u64, b: u64, c: u64) -> u32 {
    let mut h = template.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ a;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ b;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB) ^ c;
    h ^= h >> 31;
    h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 44) as u32 & (BUCKETS as u32 - 1)
}

/// Per-token facts computed once per window.
pub struct Context<'a> {
    toks: &'a [Tok<'a>],
    /// Per token: hashes of the surface and the part of speech, script, length in characters
    /// (at most 5), unknown word, dictionary flags, first and last character.
    surface: Vec<u64>,
    pos: Vec<u64>,
    shape: Vec<u64>,
    flags: Vec<u64>,
    ends: Vec<(u64, u64)>,
    /// Per token: hashes of its first two and last two characters, and whether a katakana
    /// word of IPADIC that is never a name (three characters or more) begins or ends it
    /// (ホール+トマト, ヴィンテージ+ギター).
    affix: Vec<(u64, u64)>,
    kana: Vec<u64>,
    /// Per token of katakana: hashes of its character bigrams (at most `GRAMS`), the sound of
    /// a foreign name against that of a plant or a product (ピンソン, ウマノスズクサ).
    grams: Vec<[u64; GRAMS]>,
}

const GRAMS: usize = 8;

const EDGE: u64 = 0x5EED;

impl<'a> Context<'a> {
    pub fn new(toks: &'a [Tok<'a>], dict: &Dict) -> Self {
        let n = toks.len();
        let mut c = Context {
            toks,
            surface: Vec::with_capacity(n),
            pos: Vec::with_capacity(n),
            shape: Vec::with_capacity(n),
            flags: Vec::with_capacity(n),
            ends: Vec::with_capacity(n),
            affix: Vec::with_capacity(n),
            kana: Vec::with_capacity(n),
            grams: Vec::with_capacity(n),
        };
        let kana = &*KANA;
        for t in toks {
            let s = t.surface;
            c.surface.push(fnv(s.as_bytes()));
            c.pos.push(fnv(t.pos.as_bytes()));
            let len = s.chars().count().min(5) as u64;
            c.shape
                .push(script(s) as u64 | len << 4 | u64::from(t.unknown) << 8);
            c.flags.push(u64::from(
                u8::from(dict.surnames.contains(s))
                    | u8::from(dict.given.contains(s)) << 1
                    | u8::from(dict.surname_readings.contains(s)) << 2
                    | u8::from(dict.given_readings.contains(s)) << 3
                    | u8::from(dict.given_hiragana.contains(s)) << 4,
            ));
            c.ends.push((
                s.chars().next().map_or(0, |c| c as u64),
                s.chars().next_back().map_or(0, |c| c as u64),
            ));
            let sc = script(s);
            let n = s.chars().count();
            let head = s.char_indices().nth(2).map_or(s, |(b, _)| &s[..b]);
            let tail = if n >= 2 {
                s.char_indices().nth(n - 2).map_or(s, |(b, _)| &s[b..])
            } else {
                s
            };
            c.affix.push((fnv(head.as_bytes()), fnv(tail.as_bytes())));
            c.kana.push(if sc == Script::Katakana && n >= 4 {
                // A known word of three characters or more at the start, and one that leaves
                // at least one character before it at the end.
                let cuts = || s.char_indices().map(|(b, _)| b);
                let pre = cuts().skip(3).any(|b| kana.contains(&s[..b]));
                let suf = cuts().skip(1).take(n - 3).any(|b| kana.contains(&s[b..]));
                u64::from(pre) | u64::from(suf) << 1 | 4
            } else {
                0
            });
            let mut g = [0u64; GRAMS];
            if sc == Script::Katakana && n >= 2 {
                // Bigrams with the word's edges: ^ピ, ピン, ..., ン$ (the first `GRAMS`).
                let edged = std::iter::once('^')
                    .chain(s.chars())
                    .chain(std::iter::once('$'));
                for (slot, (a, b)) in g.iter_mut().zip(edged.clone().zip(edged.skip(1))) {
                    *slot = u64::from(a) << 32 | u64::from(b) | 1 << 63;
                }
            }
            c.grams.push(g);
        }
        c
    }

    fn at(v: &[u64], i: isize) -> u64 {
        usize::try_from(i)
            .ok()
            .and_then(|i| v.get(i).copied())
            .unwrap_or(EDGE)
    }

    /// The feature buckets of token `i`, given the two labels before it.
    pub fn features(&self, i: usize, prev: u8, prev2: u8, out: &mut Vec<u32>) {
        out.clear();
        let ii = i as isize;
        let (w, p) = (self.surface[i], self.pos[i]);
        let (p_1, p1) = (Self::at(&self.pos, ii - 1), Self::at(&self.pos, ii + 1));
        let (w_1, w1) = (
            Self::at(&self.surface, ii - 1),
            Self::at(&self.surface, ii + 1),
        );
        let shape = self.shape[i];
        let sc = shape & 0xF;
        let unk = shape >> 8;
        let flags = self.flags[i];
        let (first, last) = self.ends[i];
        let (prev, prev2) = (u64::from(prev), u64::from(prev2));
        let sc_1 = Self::at(&self.shape, ii - 1) & 0xF;
        let sc1 = Self::at(&self.shape, ii + 1) & 0xF;
        out.extend([
            mix(0, 0, 0, 0),
            mix(1, w, 0, 0),
            mix(2, p, 0, 0),
            mix(3, p_1, 0, 0),
            mix(4, p1, 0, 0),
            mix(5, Self::at(&self.pos, ii - 2), 0, 0),
            mix(6, Self::at(&self.pos, ii + 2), 0, 0),
            mix(7, w_1, 0, 0),
            mix(8, w1, 0, 0),
            mix(9, p_1, p, 0),
            mix(10, p, p1, 0),
            mix(11, w1, p, 0),
            mix(12, shape, 0, 0),
            mix(13, sc_1, sc, sc1),
            mix(14, first, 0, 0),
            mix(15, last, 0, 0),
            mix(16, prev, 0, 0),
            mix(17, prev, p, 0),
            mix(18, prev2, prev, 0),
            mix(19, flags, 0, 0),
            mix(20, flags, prev, p),
            mix(21, w_1, p, 0),
            mix(22, prev, sc, unk),
            mix(23, p, flags, sc),
        ]);
        let (head, tail) = self.affix[i];
        out.extend([
            mix(24, head, sc, 0),
            mix(25, tail, sc, 0),
            mix(26, self.kana[i], unk, 0),
            mix(27, w1, Self::at(&self.surface, ii + 2), 0),
            mix(28, Self::at(&self.surface, ii - 2), w_1, 0),
            mix(29, w1, sc, unk),
        ]);
        out.extend(
            self.grams[i]
                .iter()
                .filter(|&&g| g != 0)
                .map(|&g| mix(30, g, 0, 0)),
        );
    }
}

// ------------------------------------------------------------------ the model

/// Weights for the three labels, one row per bucket.
pub struct Model {
    pub w: Vec<[f32; LABELS]>,
    /// Added to the score of a name's first token: the balance of precision and recall,
    /// chosen on the dev split by the trainer.
    pub bias: f32,
}

impl Model {
    pub fn zeros() -> Self {
        Model {
            w: vec![[0.0; LABELS]; BUCKETS],
            bias: 0.0,
        }
    }

    pub fn scores(&self, feats: &[u32]) -> [f32; LABELS] {
        let mut s = [0.0f32, self.bias, 0.0];
        for &f in feats {
            let row = &self.w[f as usize];
            for (a, b) in s.iter_mut().zip(row) {
                *a += b;
            }
        }
        s
    }

    /// The file format: `MNM2`, the scale and the bias (f32 LE each), then for each non-zero
    /// row its bucket (u32 LE) and three weights as i16 LE, to be multiplied by the scale.
    pub fn encode(&self) -> Vec<u8> {
        let max = self
            .w
            .iter()
            .flatten()
            .fold(0.0f32, |m, x| m.max(x.abs()))
            .max(1e-9);
        let scale = max / f32::from(i16::MAX);
        let mut out = b"MNM2".to_vec();
        out.extend(scale.to_le_bytes());
        out.extend(self.bias.to_le_bytes());
        for (i, row) in self.w.iter().enumerate() {
            let q = row.map(|x| (x / scale).round() as i16);
            if q.iter().any(|&x| x != 0) {
                out.extend((i as u32).to_le_bytes());
                for x in q {
                    out.extend(x.to_le_bytes());
                }
            }
        }
        out
    }

    pub fn decode(b: &[u8]) -> Result<Self, String> {
        if b.len() < 12 || &b[..4] != b"MNM2" || !(b.len() - 12).is_multiple_of(10) {
            return Err("not a name model (MNM2)".into());
        }
        let scale = f32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        let mut m = Model::zeros();
        m.bias = f32::from_le_bytes([b[8], b[9], b[10], b[11]]);
        if !scale.is_finite() || !m.bias.is_finite() {
            return Err("a name model with a scale or bias that is not a number".into());
        }
        for rec in b[12..].chunks_exact(10) {
            let i = u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]) as usize;
            let row = m.w.get_mut(i).ok_or("bucket out of range")?;
            for (k, x) in row.iter_mut().enumerate() {
                *x = f32::from(i16::from_le_bytes([rec[4 + 2 * k], rec[5 + 2 * k]])) * scale;
            }
        }
        Ok(m)
    }
}

fn argmax(s: [f32; LABELS], prev: u8) -> u8 {
    let mut best = O;
    for l in [B, I] {
        // An inside label needs a name before it.
        if l == I && prev == O {
            continue;
        }
        if s[l as usize] > s[best as usize] {
            best = l;
        }
    }
    best
}

/// Tags tokens greedily, left to right.
pub fn tag(model: &Model, ctx: &Context<'_>) -> Vec<u8> {
    let mut labels = Vec::with_capacity(ctx.toks.len());
    let mut feats = Vec::with_capacity(32);
    for i in 0..ctx.toks.len() {
        let prev = labels.last().copied().unwrap_or(O);
        let prev2 = if i >= 2 { labels[i - 2] } else { O };
        ctx.features(i, prev, prev2, &mut feats);
        labels.push(argmax(model.scores(&feats), prev));
    }
    with_full_names(ctx.toks, labels)
}

/// A surname followed by a given name, as the analyser reads them (山本 浩二, 森田 ゆかり), is a
/// name whatever the tagger said: IPADIC's classes are reliable on a pair. Not a katakana
/// "given name" after a kanji surname (田中ビル, IPADIC's ビル is Bill).
fn with_full_names(toks: &[Tok<'_>], mut labels: Vec<u8>) -> Vec<u8> {
    for i in 1..toks.len() {
        if toks[i - 1].pos.ends_with("人名,姓")
            && toks[i].pos.ends_with("人名,名")
            && toks[i - 1].end == toks[i].start
            && !(script(toks[i].surface) == Script::Katakana
                && script(toks[i - 1].surface) != Script::Katakana)
        {
            if labels[i - 1] == O {
                labels[i - 1] = B;
            }
            labels[i] = I;
        }
    }
    labels
}

/// Byte spans of the names in tagged tokens of `text`, checked against two misreadings the
/// corpora teach too rarely:
/// - a name of one word glued to the noun after it names a company or a building (田中ビル,
///   山田電機), not a person; a full name before a title stays (桂三枝会長);
/// - a given name in hiragana must be one (`Dict::given_hiragana`) and not the start of a
///   function word (本田まさに適任 is 本田 and まさに): the tagger saw a full name, so without
///   its given name the finding goes.
pub fn spans(text: &str, toks: &[Tok<'_>], labels: &[u8]) -> Vec<(usize, usize)> {
    let d = dict();
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if labels[i] != B {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < toks.len() && labels[j] == I {
            j += 1;
        }
        // Tokens i..j are one name.
        let k = j;
        // A hiragana tail: kept only when it is a given name and no function word runs on.
        let mut h = k;
        while h > i && script(toks[h - 1].surface) == Script::Hiragana {
            h -= 1;
        }
        if h < k && h > i {
            let tail = &text[toks[h].start..toks[k - 1].end];
            let runs_on = crate::dict::HIRAGANA_NOT_NAMES
                .iter()
                .any(|w| w.len() > tail.len() && text[toks[h].start..].starts_with(w));
            if runs_on || !d.given_hiragana.contains(tail) {
                i = j;
                continue;
            }
        }
        // The noun glued after a one-word name; IPADIC knows ビル and ハイツ as given names
        // too, but a katakana given name straight after a kanji surname is a building's.
        let glued = k == i + 1
            && toks.get(k).is_some_and(|n| {
                let sn = script(n.surface);
                n.start == toks[k - 1].end
                    && n.pos.starts_with("名詞")
                    && !n.pos.starts_with("名詞,接尾,人名")
                    && sn != Script::Hiragana
                    && (!n.pos.contains("人名")
                        || (sn == Script::Katakana && script(toks[i].surface) == Script::Kanji))
            });
        if !glued {
            out.push((toks[i].start, toks[k - 1].end));
        }
        i = j;
    }
    out
}

/// Names in `text` (normalised) as byte spans, read from the given windows.
pub fn find_names(text: &str, windows: &[(usize, usize)], out: &mut Vec<(usize, usize)>) {
    let d = dict();
    for &(ws, we) in windows {
        let window = &text[ws..we];
        let toks = tokenize(window);
        let ctx = Context::new(&toks, d);
        let labels = tag(&WEIGHTS, &ctx);
        out.extend(
            spans(window, &toks, &labels)
                .into_iter()
                .filter(|&(s, e)| plausible(&window[s..e]))
                .map(|(s, e)| (ws + s, ws + e)),
        );
    }
}

/// Whether the analyser reads `text[s..e]` as ordinary words: every token it overlaps is a
/// known word and none is a person's name (江戸時代, 高品質, 奥様). Asked of the dictionary
/// rules' findings that have no label beside them.
pub fn ordinary_words(text: &str, s: usize, e: usize) -> bool {
    let ws = floor_char(text, s.saturating_sub(3 * 2));
    let we = ceil_char(text, (e + 3 * 2).min(text.len()));
    let toks = tokenize(&text[ws..we]);
    let mut any = false;
    for t in toks.iter().filter(|t| ws + t.start < e && s < ws + t.end) {
        any = true;
        if t.unknown || t.pos.contains("人名") {
            return false;
        }
    }
    any
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// A name has a letter of some script and is not one character of kana.
fn plausible(s: &str) -> bool {
    let n = s.chars().count();
    n >= 1
        && s.chars()
            .any(|c| is_kanji(c) || is_katakana(c) || c.is_alphabetic())
        && (n != 1 || s.chars().all(is_kanji))
}

/// Forces the dictionary and the model to load (a benchmark's warm-up, a server's start).
pub fn warm_up() {
    LazyLock::force(&TOKENIZER);
    LazyLock::force(&NAMES);
    LazyLock::force(&KANA);
    LazyLock::force(&WEIGHTS);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        find_names(s, &windows(s), &mut out);
        out.into_iter().map(|(a, b)| &s[a..b]).collect()
    }

    #[test]
    fn windows_cover_candidate_runs_only() {
        let w = |s: &str| -> Vec<String> {
            windows(s)
                .iter()
                .map(|&(a, b)| s[a..b].to_owned())
                .collect()
        };
        // A name of the dictionary inside a kanji run, with context either side that stops at
        // the edges of words (映画監督, 1000), not inside them.
        assert_eq!(
            w("映画監督、小津安二郎が生まれてから1000年目"),
            ["映画監督、小津安二郎が生まれてから1000"]
        );
        // Katakana words IPADIC knows as ordinary words are not analysed.
        assert!(w("システムのデータベースをバックアップした").is_empty());
        // An unknown katakana word and a romaji name in Japanese text are.
        assert_eq!(w("ズナーリンが来た"), ["ズナーリンが来た"]);
        assert_eq!(w("担当はYamadaです"), ["担当はYamadaです"]);
        assert!(w("ほんとうにありがとう").is_empty());
    }

    #[test]
    fn names_in_running_prose() {
        for (s, want) in [
            ("山本浩二とともに受賞した。", "山本浩二"),
            ("森田ゆかりが卒業し、", "森田ゆかり"),
            ("ジェームズ・ミラーが来日した。", "ジェームズ・ミラー"),
            ("後鳥羽上皇は時の執権北条義時を追討した。", "北条義時"),
        ] {
            // As the scorer counts: one contains the other (北条義 for 北条義時 is a find).
            let found = names_in(s);
            assert!(
                found.iter().any(|f| f.contains(want) || want.contains(f)),
                "{s}: {found:?}"
            );
        }
    }

    #[test]
    fn lookalikes_in_prose_are_not_names() {
        for s in [
            "田中ビルの新宿駅で打ち合わせ",
            "本田まさに適任の案件です。",
            "システムのデータベースをバックアップした",
            "東京都千代田区霞が関に移転した。",
        ] {
            assert!(names_in(s).is_empty(), "{s}: {:?}", names_in(s));
        }
    }

    #[test]
    fn the_model_file_round_trips_and_bad_files_are_refused() {
        let mut m = Model::zeros();
        m.bias = 1.5;
        m.w[7] = [0.5, -1.0, 0.25];
        m.w[BUCKETS - 1] = [0.0, 2.0, 0.0];
        let back = Model::decode(&m.encode()).expect("decodes");
        assert!((back.bias - 1.5).abs() < 1e-6);
        for i in [7, BUCKETS - 1] {
            for l in 0..LABELS {
                assert!((back.w[i][l] - m.w[i][l]).abs() < 1e-3);
            }
        }
        assert!(Model::decode(b"MNM1....").is_err());
        assert!(Model::decode(b"MNM2\0\0\x80\x3f\0\0\0\0\xff\xff\xff\x7f\0\0\0\0\0\0").is_err());
        assert!(Model::decode(b"MNM2\0\0\xc0\x7f\0\0\0\0").is_err());
        assert!(Model::decode(&MODEL[..MODEL.len() - 1]).is_err());
    }
}

#[cfg(test)]
mod coverage {
    /// How much of a text the analyser would read (an upper bound: the rules' findings are not
    /// taken out). `MAMORI_COVERAGE=FILE cargo test -p mamori-detect --lib coverage -- --ignored`.
    #[test]
    #[ignore = "a measurement, not a test"]
    fn window_coverage() {
        let Some(p) = std::env::var_os("MAMORI_COVERAGE") else {
            return;
        };
        let text = std::fs::read_to_string(p).expect("a UTF-8 text file");
        let (mut all, mut inside) = (0usize, 0usize);
        for line in text.lines() {
            let line = crate::normalize::normalize(line);
            all += line.len();
            inside += super::windows(&line)
                .iter()
                .map(|(a, b)| b - a)
                .sum::<usize>();
        }
        eprintln!(
            "{all} bytes, {inside} in windows ({:.1} %)",
            100.0 * inside as f64 / all.max(1) as f64
        );
    }
}
