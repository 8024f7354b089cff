//! Compiles the morphological analyser's dictionary from IPADIC's seed files at build time.
//!
//! The seed files come from Debian's `mecab-ipadic` package (`/usr/share/mecab/dic/ipadic`,
//! EUC-JP CSVs and definitions), or from the folder named by `MAMORI_IPADIC_DIR`. Nothing is
//! downloaded. Each lexicon row keeps its surface, connection ids, cost and the four
//! part-of-speech fields (名詞,固有名詞,人名,姓 …): the readings and conjugation columns are not
//! needed to find names and would double the dictionary's memory. The compiled vibrato
//! dictionary is deflated into `OUT_DIR/ipadic.dic.z` and embedded by `src/prose/analyser.rs`.

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const DEFAULT_DIR: &str = "/usr/share/mecab/dic/ipadic";

fn main() {
    println!("cargo:rerun-if-env-changed=MAMORI_IPADIC_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    let dir =
        env::var_os("MAMORI_IPADIC_DIR").map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from);
    assert!(
        dir.join("matrix.def").is_file(),
        "\n\nmamori-detect needs IPADIC's seed files to build its name analyser, and found none in {}.\n\
         Install them with `apt-get install mecab-ipadic` (scripts/test and scripts/run do this),\n\
         or set MAMORI_IPADIC_DIR to a folder holding IPADIC's *.csv, matrix.def, char.def and unk.def.\n",
        dir.display()
    );
    println!("cargo:rerun-if-changed={}", dir.display());
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let (bytes, names, kana) =
        compile(&dir).unwrap_or_else(|e| panic!("IPADIC in {}: {e}", dir.display()));
    fs::write(out.join("ipadic-names.txt"), names).expect("write OUT_DIR/ipadic-names.txt");
    fs::write(out.join("ipadic-kana-words.txt"), kana)
        .expect("write OUT_DIR/ipadic-kana-words.txt");
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    z.write_all(&bytes).expect("deflate in memory");
    let packed = z.finish().expect("deflate in memory");
    fs::write(out.join("ipadic.dic.z"), packed).expect("write OUT_DIR/ipadic.dic.z");
}

fn euc(path: &Path) -> Result<String, String> {
    let raw = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (text, _, bad) = encoding_rs::EUC_JP.decode(&raw);
    if bad {
        return Err(format!("{} is not EUC-JP", path.display()));
    }
    Ok(text.into_owned())
}

/// The first eight comma-separated fields of each row (surface, left id, right id, cost and
/// four part-of-speech fields).
fn pos_only(csv: &str, out: &mut String) {
    for line in csv.lines().filter(|l| !l.trim().is_empty()) {
        pos_row(line, out);
    }
}

fn pos_row(line: &str, out: &mut String) {
    let mut n = 0;
    let cut = line
        .char_indices()
        .find(|&(_, c)| {
            if c == ',' {
                n += 1;
            }
            n == 8
        })
        .map_or(line.len(), |(i, _)| i);
    out.push_str(&line[..cut]);
    out.push('\n');
}

/// The lexicon; the surfaces of its person names (人名) with a kanji and two characters or more,
/// one per line (the words that make a kanji run worth analysing); and its katakana words that
/// are never a person's name nor an unclassified proper noun (システム, ロンドン: a katakana run
/// made of them alone is not analysed).
fn compile(dir: &Path) -> Result<(Vec<u8>, String, String), String> {
    let mut csvs: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    csvs.sort();
    if csvs.is_empty() {
        return Err("no lexicon *.csv".into());
    }
    let mut lexicon = String::new();
    let mut names = std::collections::BTreeSet::new();
    let mut kana_words = std::collections::BTreeSet::new();
    let mut kana_names = std::collections::BTreeSet::new();
    for p in &csvs {
        for line in euc(p)?.lines().filter(|l| !l.trim().is_empty()) {
            pos_row(line, &mut lexicon);
            let f: Vec<&str> = line.splitn(8, ',').collect();
            if f.len() == 8
                && f[6] == "人名"
                && f[0].chars().count() >= 2
                && f[0].chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
            {
                names.insert(f[0].to_owned());
            }
            if f.len() == 8
                && f[0].chars().count() >= 2
                && f[0]
                    .chars()
                    .all(|c| ('\u{30A1}'..='\u{30FA}').contains(&c) || c == 'ー')
            {
                if f[6] == "人名" || (f[5] == "固有名詞" && f[6] == "一般") {
                    kana_names.insert(f[0].to_owned());
                } else {
                    kana_words.insert(f[0].to_owned());
                }
            }
        }
    }
    let mut unk = String::new();
    pos_only(&euc(&dir.join("unk.def"))?, &mut unk);
    let matrix = euc(&dir.join("matrix.def"))?;
    let chars = euc(&dir.join("char.def"))?;
    let dict = vibrato::SystemDictionaryBuilder::from_readers(
        lexicon.as_bytes(),
        matrix.as_bytes(),
        chars.as_bytes(),
        unk.as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    dict.write(&mut bytes).map_err(|e| e.to_string())?;
    let names = names.into_iter().fold(String::new(), |mut s, n| {
        s.push_str(&n);
        s.push('\n');
        s
    });
    let kana = kana_words
        .difference(&kana_names)
        .fold(String::new(), |mut s, n| {
            s.push_str(n);
            s.push('\n');
            s
        });
    Ok((bytes, names, kana))
}
