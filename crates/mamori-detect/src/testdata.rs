//! A seeded generator of labelled Japanese test documents, and the scorer.
//!
//! Documents of every shape in pii-detection.md — member CSVs, order exports, payment lists,
//! support memos in prose, mail exports, spreadsheets, zip archives, full-width text, JSON lines —
//! in UTF-8 (with and without BOM), Shift_JIS, EUC-JP and UTF-16LE, with look-alike negatives
//! (corporate numbers, tracking numbers, order numbers, JAN/ISBN, prices, order dates, masked
//! cards, company and place names). Every personal value written is recorded as a [`Label`]
//! (file, line, kind, value); the scorer matches findings to labels by file, line and kind with
//! overlapping values, and prints precision, recall and F1 per kind.

use crate::kind::Kind;
use crate::validate::{luhn, PREFECTURES};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;

/// A personal value the generator wrote.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Label {
    pub path: String,
    pub line: u64,
    pub kind: String,
    pub value: String,
}

/// A finding as read back for scoring (the `--reveal` JSONL of `mamori scan`, or any tool's
/// output converted to it).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scored {
    pub path: String,
    pub line: u64,
    pub kind: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// A small deterministic PRNG (splitmix64), so a seed always gives the same corpus.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

const SURNAMES: [(&str, &str); 40] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("山下", "ヤマシタ"),
    ("中島", "ナカジマ"),
    ("石井", "イシイ"),
    ("小川", "オガワ"),
    ("前田", "マエダ"),
    ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"),
    ("藤田", "フジタ"),
    ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"),
    ("村上", "ムラカミ"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
    ("勅使河原", "テシガハラ"),
];
const GIVEN: [(&str, &str); 46] = [
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("健太", "ケンタ"),
    ("翔太", "ショウタ"),
    ("美咲", "ミサキ"),
    ("陽菜", "ヒナ"),
    ("大輔", "ダイスケ"),
    ("直樹", "ナオキ"),
    ("愛", "アイ"),
    ("誠", "マコト"),
    ("恵子", "ケイコ"),
    ("由美", "ユミ"),
    ("拓也", "タクヤ"),
    ("裕子", "ユウコ"),
    ("和也", "カズヤ"),
    ("真由美", "マユミ"),
    ("健一", "ケンイチ"),
    ("明美", "アケミ"),
    ("隆", "タカシ"),
    ("浩二", "コウジ"),
    ("美穂", "ミホ"),
    ("聡", "サトシ"),
    ("智子", "トモコ"),
    ("翼", "ツバサ"),
    ("彩", "アヤ"),
    ("優子", "ユウコ"),
    ("亮", "リョウ"),
    ("香織", "カオリ"),
    ("剛", "ツヨシ"),
    ("大樹", "ダイキ"),
    ("舞", "マイ"),
    ("雄一", "ユウイチ"),
    ("千尋", "チヒロ"),
    ("修", "オサム"),
    ("久美子", "クミコ"),
    ("洋平", "ヨウヘイ"),
    ("沙織", "サオリ"),
    ("勇気", "ユウキ"),
    ("朔", "サク"),
    // Given names written in hiragana.
    ("さくら", "サクラ"),
    ("ひなた", "ヒナタ"),
    ("あおい", "アオイ"),
    ("みのり", "ミノリ"),
    ("ゆい", "ユイ"),
    ("はるか", "ハルカ"),
];
const CITIES: [(&str, &str); 12] = [
    ("新宿区", "西新宿"),
    ("大阪市北区", "梅田"),
    ("横浜市中区", "山下町"),
    ("名古屋市中村区", "名駅"),
    ("札幌市中央区", "北一条西"),
    ("福岡市博多区", "博多駅前"),
    ("仙台市青葉区", "一番町"),
    ("神戸市中央区", "三宮町"),
    ("京都市下京区", "四条通"),
    ("さいたま市大宮区", "桜木町"),
    ("千葉市美浜区", "中瀬"),
    ("広島市中区", "紙屋町"),
];
const BANKS: [&str; 6] = [
    "三菱UFJ銀行",
    "三井住友銀行",
    "みずほ銀行",
    "りそな銀行",
    "ゆうちょ銀行",
    "城南信用金庫",
];
const BRANCHES: [&str; 5] = ["新宿支店", "本店営業部", "梅田支店", "渋谷支店", "横浜支店"];
const DOMAINS: [&str; 6] = [
    "example.co.jp",
    "example.jp",
    "example.com",
    "mail.example.ne.jp",
    "test.example.org",
    "example.ac.jp",
];
const ROMAJI: [&str; 10] = [
    "taro",
    "hanako",
    "k.suzuki",
    "m-tanaka",
    "yamada.ichiro",
    "sato_k",
    "info.n",
    "ken1984",
    "aya.ito",
    "y.watanabe",
];
const COMPANIES: [&str; 8] = [
    "山田電機",
    "コーポ山田",
    "佐藤商事株式会社",
    "鈴木建設",
    "田中ビル",
    "高橋ハイツ",
    "中村工業",
    "松本産業",
];
const PLACES: [&str; 6] = [
    "新宿駅",
    "大阪城公園",
    "横浜中華街",
    "名古屋港",
    "札幌時計台",
    "博多駅",
];

/// One generated person.
struct Person {
    surname: &'static str,
    given: &'static str,
    sur_kana: &'static str,
    given_kana: &'static str,
    pref: &'static str,
    city: &'static str,
    town: &'static str,
    block: String,
    postal: String,
    phone: String,
    email: String,
    birth: String,
    card: String,
    my_number: String,
}

fn person(r: &mut Rng) -> Person {
    let (surname, sur_kana) = *r.pick(&SURNAMES);
    let (given, given_kana) = *r.pick(&GIVEN);
    let pref = *r.pick(&PREFECTURES);
    let (city, town) = *r.pick(&CITIES);
    let block = match r.below(3) {
        0 => format!("{}-{}-{}", 1 + r.below(5), 1 + r.below(20), 1 + r.below(30)),
        1 => format!(
            "{}丁目{}番{}号",
            1 + r.below(5),
            1 + r.below(20),
            1 + r.below(30)
        ),
        _ => format!("{}-{}", 1 + r.below(9), 1 + r.below(40)),
    };
    let postal = format!("{:03}-{}", 100 + r.below(900), r.digits(4));
    let phone = match r.below(6) {
        0 => format!("090-{}-{}", r.digits(4), r.digits(4)),
        1 => format!("080{}{}", r.digits(4), r.digits(4)),
        2 => format!("03-{}-{}", r.digits(4), r.digits(4)),
        3 => format!("06({}{}){}", 2 + r.below(8), r.digits(3), r.digits(4)),
        4 => format!("+81-70-{}-{}", r.digits(4), r.digits(4)),
        _ => {
            // A two-digit area code that is a fixed-line code, not a mobile/IP prefix.
            let area = *r.pick(&[
                11, 22, 42, 43, 44, 45, 46, 47, 48, 52, 53, 54, 55, 72, 73, 75, 76, 78, 82, 86, 92,
                93, 95, 96, 98,
            ]);
            format!("0{area}-{}-{}", r.digits(3), r.digits(4))
        }
    };
    let email = format!("{}{}@{}", r.pick(&ROMAJI), r.below(100), r.pick(&DOMAINS));
    let (y, m, d) = (1940 + r.below(65), 1 + r.below(12), 1 + r.below(28));
    let birth = match r.below(4) {
        0 => format!("{y}/{m:02}/{d:02}"),
        1 => format!("{y}年{m}月{d}日"),
        2 => {
            let (era, ey) = if y >= 1989 {
                ("平成", y - 1988)
            } else {
                ("昭和", y - 1925)
            };
            if ey == 1 {
                format!("{era}元年{m}月{d}日")
            } else {
                format!("{era}{ey}年{m}月{d}日")
            }
        }
        _ => format!("{y}-{m:02}-{d:02}"),
    };
    Person {
        surname,
        given,
        sur_kana,
        given_kana,
        pref,
        city,
        town,
        block,
        postal,
        phone,
        email,
        birth,
        card: card(r),
        my_number: my_number(r),
    }
}

fn card(r: &mut Rng) -> String {
    let prefix = *r.pick(&["4", "51", "3528", "37", "36"]);
    let len = match prefix {
        "37" => 15,
        "36" => 14,
        _ => 16,
    };
    loop {
        let body = format!("{prefix}{}", r.digits(len - prefix.len() - 1));
        for c in 0..10u8 {
            let cand = format!("{body}{c}");
            if luhn(cand.as_bytes()) {
                if len == 16 && r.chance(66) {
                    let sep = if r.chance(50) { "-" } else { " " };
                    return [&cand[..4], &cand[4..8], &cand[8..12], &cand[12..]].join(sep);
                }
                return cand;
            }
        }
    }
}

fn my_number(r: &mut Rng) -> String {
    let base = r.digits(11);
    for c in 0..10u8 {
        let cand = format!("{base}{c}");
        if crate::validate::my_number_valid(cand.as_bytes()) {
            return if r.chance(50) {
                format!("{} {} {}", &cand[..4], &cand[4..8], &cand[8..])
            } else {
                cand
            };
        }
    }
    unreachable!("one check digit always fits")
}

/// Look-alikes that must not be reported.
fn lookalike(r: &mut Rng) -> String {
    match r.below(11) {
        0 => {
            // A valid corporate number.
            let base = r.digits(12);
            let sum: u32 = base
                .bytes()
                .rev()
                .enumerate()
                .map(|(i, c)| u32::from(c - b'0') * if i % 2 == 0 { 1 } else { 2 })
                .sum();
            let check = 9 - sum % 9;
            format!("法人番号 {check}{base}")
        }
        1 => {
            // A tracking number that fails Luhn, grouped like a card.
            loop {
                let n = format!("4{}", r.digits(15));
                if !luhn(n.as_bytes()) {
                    return format!(
                        "追跡番号 {}-{}-{}-{}",
                        &n[..4],
                        &n[4..8],
                        &n[8..12],
                        &n[12..]
                    );
                }
            }
        }
        2 => format!("注文番号 ORD-{}-{}", r.digits(8), r.digits(4)),
        3 => {
            let base = format!("49{}", r.digits(10));
            let sum: u32 = base
                .bytes()
                .enumerate()
                .map(|(i, c)| u32::from(c - b'0') * if i % 2 == 0 { 1 } else { 3 })
                .sum();
            format!("JAN {base}{}", (10 - sum % 10) % 10)
        }
        4 => format!("ISBN978-4-{}-{}-{}", r.digits(2), r.digits(6), r.digits(1)),
        5 => format!("価格 ¥{},{:03}（税込）", 1 + r.below(99), r.below(1000)),
        6 => format!(
            "注文日 {}/{:02}/{:02}",
            2020 + r.below(5),
            1 + r.below(12),
            1 + r.below(28)
        ),
        7 => format!("カード番号 ************{}", r.digits(4)),
        8 => format!(
            "サーバー 192.168.{}.{} version {}.{}.{}",
            r.below(255),
            r.below(255),
            r.below(9),
            r.below(20),
            r.below(99)
        ),
        9 => {
            // Hiragana after words that are also surnames: grammar, not given names.
            (*r.pick(&[
                "本田まさに適任の案件です。",
                "上野あたりで打ち合わせ",
                "会社では、まず確認します。",
                "中村屋とともに協議した。",
                "石川からは返事がない。",
                "前田まで来てください。",
            ]))
            .to_owned()
        }
        _ => format!("{}の{}で打ち合わせ", r.pick(&COMPANIES), r.pick(&PLACES)),
    }
}

/// A generated file and the encoding it was written in.
pub struct GenFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Copy)]
enum Enc {
    Utf8,
    Utf8Bom,
    Sjis,
    Euc,
    Utf16Le,
}

fn encode(text: &str, enc: Enc) -> Vec<u8> {
    match enc {
        Enc::Utf8 => text.as_bytes().to_vec(),
        Enc::Utf8Bom => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        Enc::Sjis => encoding_rs::SHIFT_JIS.encode(text).0.into_owned(),
        Enc::Euc => encoding_rs::EUC_JP.encode(text).0.into_owned(),
        Enc::Utf16Le => [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
    }
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Text being built, tracking line numbers and labels.
struct Doc<'l> {
    path: String,
    text: String,
    line: u64,
    labels: &'l mut Vec<Label>,
}

impl Doc<'_> {
    fn add(&mut self, parts: &[(&str, Option<Kind>)]) {
        for (s, kind) in parts {
            if let Some(k) = kind {
                self.labels.push(Label {
                    path: self.path.clone(),
                    line: self.line,
                    kind: k.as_str().to_owned(),
                    value: (*s).to_owned(),
                });
            }
            self.text.push_str(s);
        }
        self.text.push('\n');
        self.line += 1 + parts
            .iter()
            .map(|(s, _)| s.matches('\n').count() as u64)
            .sum::<u64>();
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Generates a corpus of about `docs` documents with the given seed.
pub fn generate(seed: u64, docs: usize) -> (Vec<GenFile>, Vec<Label>) {
    let mut r = Rng::new(seed);
    let mut files = Vec::new();
    let mut labels = Vec::new();
    let encs = [Enc::Utf8, Enc::Utf8Bom, Enc::Sjis, Enc::Euc, Enc::Utf16Le];
    for i in 0..docs {
        let enc = *r.pick(&encs);
        let shape = i % 9;
        let (name, text) = match shape {
            0 => members_csv(&mut r, i, &mut labels, false),
            1 => orders_csv(&mut r, i, &mut labels),
            2 => payments_tsv(&mut r, i, &mut labels),
            3 => memo_txt(&mut r, i, &mut labels, false),
            4 => memo_txt(&mut r, i, &mut labels, true),
            5 => jsonl(&mut r, i, &mut labels),
            6 => members_csv(&mut r, i, &mut labels, true),
            7 => {
                let (name, text) = eml(&mut r, i, &mut labels);
                files.push(GenFile {
                    path: name,
                    bytes: text.into_bytes(),
                });
                continue;
            }
            _ => {
                // A spreadsheet and an archive holding a CSV and a memo.
                let xl_name = format!("doc{i:04}_members.xlsx");
                let (rows, sheet_labels) = sheet_rows(&mut r, &xl_name);
                labels.extend(sheet_labels);
                files.push(GenFile {
                    path: xl_name,
                    bytes: xlsx(&rows),
                });
                let zip_name = format!("doc{i:04}_export.zip");
                let mut inner_labels = Vec::new();
                let (n1, t1) = members_csv(&mut r, i, &mut inner_labels, false);
                let (n2, t2) = memo_txt(&mut r, i + 1, &mut inner_labels, false);
                for l in &mut inner_labels {
                    l.path = format!("{zip_name}!{}", l.path);
                }
                labels.extend(inner_labels);
                files.push(GenFile {
                    path: zip_name,
                    bytes: zip(&[(n1, encode(&t1, Enc::Sjis)), (n2, encode(&t2, Enc::Utf8))]),
                });
                continue;
            }
        };
        files.push(GenFile {
            path: name,
            bytes: encode(&text, enc),
        });
    }
    (files, labels)
}

fn members_csv(r: &mut Rng, i: usize, labels: &mut Vec<Label>, english: bool) -> (String, String) {
    let path = format!("doc{i:04}_members.csv");
    let mut d = Doc {
        path: path.clone(),
        text: String::new(),
        line: 1,
        labels,
    };
    if english {
        d.add(&[("id,name,kana,zip,address,tel,email,birthday,note", None)]);
    } else {
        d.add(&[(
            "会員番号,氏名,フリガナ,郵便番号,住所,電話番号,メールアドレス,生年月日,備考",
            None,
        )]);
    }
    for k in 0..(5 + r.below(20)) {
        let p = person(r);
        let sep = if r.chance(50) { "　" } else { " " };
        let name = if r.chance(20) {
            format!("{}{}", p.surname, p.given)
        } else {
            format!("{}{sep}{}", p.surname, p.given)
        };
        let kana = format!("{} {}", p.sur_kana, p.given_kana);
        let addr = format!("{}{}{}{}", p.pref, p.city, p.town, p.block);
        let addr = if r.chance(20) {
            full_width(&addr)
        } else {
            addr
        };
        let phone = if r.chance(15) {
            full_width(&p.phone)
        } else {
            p.phone.clone()
        };
        let note = if r.chance(30) {
            lookalike(r)
        } else {
            String::new()
        };
        let note_f = csv_field(&note);
        let addr_f = csv_field(&addr);
        let id = format!("{}", 10000 + k);
        d.add(&[
            (&id, None),
            (",", None),
            (&name, Some(Kind::PersonName)),
            (",", None),
            (&kana, Some(Kind::PersonName)),
            (",", None),
            (&p.postal, Some(Kind::PostalCode)),
            (",", None),
            (&addr_f, Some(Kind::Address)),
            (",", None),
            (&phone, Some(Kind::Phone)),
            (",", None),
            (&p.email, Some(Kind::Email)),
            (",", None),
            (&p.birth, Some(Kind::BirthDate)),
            (",", None),
            (&note_f, None),
        ]);
    }
    let text = d.text.replace('\n', "\r\n");
    (path, text)
}

fn orders_csv(r: &mut Rng, i: usize, labels: &mut Vec<Label>) -> (String, String) {
    let path = format!("doc{i:04}_orders.csv");
    let mut d = Doc {
        path: path.clone(),
        text: String::new(),
        line: 1,
        labels,
    };
    d.add(&[(
        "注文番号,注文日,商品コード,商品名,金額,お届け先氏名,お届け先電話,追跡番号",
        None,
    )]);
    for _ in 0..(5 + r.below(20)) {
        let p = person(r);
        let order = format!("ORD-{}", r.digits(8));
        let date = format!(
            "{}/{:02}/{:02}",
            2021 + r.below(4),
            1 + r.below(12),
            1 + r.below(28)
        );
        let jan = lookalike(r);
        let price = format!("\"{},{:03}\"", 1 + r.below(50), r.below(1000));
        let name = format!("{} {}", p.surname, p.given);
        let track = r.digits(12);
        d.add(&[
            (&order, None),
            (",", None),
            (&date, None),
            (",", None),
            (&csv_field(&jan), None),
            (",", None),
            ("ノートPC スタンド", None),
            (",", None),
            (&price, None),
            (",", None),
            (&name, Some(Kind::PersonName)),
            (",", None),
            (&p.phone, Some(Kind::Phone)),
            (",", None),
            (&track, None),
        ]);
    }
    (path, d.text)
}

fn payments_tsv(r: &mut Rng, i: usize, labels: &mut Vec<Label>) -> (String, String) {
    let path = format!("doc{i:04}_payments.tsv");
    let mut d = Doc {
        path: path.clone(),
        text: String::new(),
        line: 1,
        labels,
    };
    d.add(&[(
        "顧客名\tカード番号\t有効期限\t振込先\t個人番号\t法人番号",
        None,
    )]);
    for _ in 0..(5 + r.below(15)) {
        let p = person(r);
        let name = format!("{}{}", p.surname, p.given);
        let bank = format!(
            "{} {} 普通 {}",
            r.pick(&BANKS),
            r.pick(&BRANCHES),
            r.digits(7)
        );
        let exp = format!("{:02}/{}", 1 + r.below(12), 26 + r.below(5));
        let corp = lookalike(r);
        d.add(&[
            (&name, Some(Kind::PersonName)),
            ("\t", None),
            (&p.card, Some(Kind::CreditCard)),
            ("\t", None),
            (&exp, None),
            ("\t", None),
            (&bank, Some(Kind::BankAccount)),
            ("\t", None),
            (&p.my_number, Some(Kind::MyNumber)),
            ("\t", None),
            (&corp, None),
        ]);
    }
    (path, d.text)
}

fn memo_txt(r: &mut Rng, i: usize, labels: &mut Vec<Label>, wide: bool) -> (String, String) {
    let path = format!("doc{i:04}_memo.txt");
    let mut d = Doc {
        path: path.clone(),
        text: String::new(),
        line: 1,
        labels,
    };
    let fw = |s: &str| if wide { full_width(s) } else { s.to_owned() };
    d.add(&[("【お問い合わせ対応記録】", None)]);
    for _ in 0..(3 + r.below(6)) {
        let p = person(r);
        let full = format!("{}{}", p.surname, p.given);
        let q = person(r);
        match r.below(9) {
            0 => d.add(&[
                ("本日、", None),
                (&full, Some(Kind::PersonName)),
                ("から電話があり、住所変更の依頼を受けた。", None),
            ]),
            1 => d.add(&[
                (p.surname, Some(Kind::PersonName)),
                ("様より、", None),
                (&fw(&p.phone), Some(Kind::Phone)),
                ("へ折り返し希望。", None),
            ]),
            2 => d.add(&[
                ("氏名：", None),
                (
                    &format!("{}　{}", p.surname, p.given),
                    Some(Kind::PersonName),
                ),
            ]),
            3 => d.add(&[
                ("生年月日：", None),
                (&p.birth, Some(Kind::BirthDate)),
                ("　メール：", None),
                (&p.email, Some(Kind::Email)),
            ]),
            4 => {
                let postal = format!("〒{}", fw(&p.postal));
                let addr = format!("{}{}{}{}", p.pref, p.city, p.town, fw(&p.block));
                d.add(&[
                    ("送付先 ", None),
                    (&postal, Some(Kind::PostalCode)),
                    (" ", None),
                    (&addr, Some(Kind::Address)),
                ]);
            }
            5 => d.add(&[
                ("個人番号（マイナンバー）は ", None),
                (&p.my_number, Some(Kind::MyNumber)),
                (" と申告あり。", None),
            ]),
            6 => {
                let lic = r.digits(12);
                let pass = format!("T{}{}", char::from(b'A' + r.below(26) as u8), r.digits(7));
                d.add(&[
                    ("運転免許証番号 ", None),
                    (&lic, Some(Kind::DriversLicenseNumber)),
                    ("、旅券番号 ", None),
                    (&pass, Some(Kind::PassportNumber)),
                ]);
            }
            7 => d.add(&[
                (&full, Some(Kind::PersonName)),
                ("と", None),
                (&format!("{}{}", q.surname, q.given), Some(Kind::PersonName)),
                ("が", None),
                (*r.pick(&COMPANIES), None),
                ("の件で来社した。", None),
            ]),
            _ => {
                let kana = format!("{} {}", p.sur_kana, p.given_kana);
                d.add(&[
                    ("口座名義 ", None),
                    (&kana, Some(Kind::PersonName)),
                    ("（", None),
                    (*r.pick(&BANKS), None),
                    ("）", None),
                ]);
            }
        }
        if r.chance(60) {
            let l = lookalike(r);
            d.add(&[(&l, None)]);
        }
    }
    (path, d.text)
}

fn jsonl(r: &mut Rng, i: usize, labels: &mut Vec<Label>) -> (String, String) {
    let path = format!("doc{i:04}_users.jsonl");
    let mut d = Doc {
        path: path.clone(),
        text: String::new(),
        line: 1,
        labels,
    };
    for k in 0..(5 + r.below(20)) {
        let p = person(r);
        let name = format!("{} {}", p.surname, p.given);
        let order = lookalike(r);
        d.add(&[
            (&format!("{{\"id\":{k},\"name\":\""), None),
            (&name, Some(Kind::PersonName)),
            ("\",\"tel\":\"", None),
            (&p.phone, Some(Kind::Phone)),
            ("\",\"email\":\"", None),
            (&p.email, Some(Kind::Email)),
            ("\",\"birthday\":\"", None),
            (&p.birth, Some(Kind::BirthDate)),
            ("\",\"memo\":\"", None),
            (&order, None),
            ("\"}", None),
        ]);
    }
    (path, d.text)
}

fn eml(r: &mut Rng, i: usize, labels: &mut Vec<Label>) -> (String, String) {
    let path = format!("doc{i:04}_mail.eml");
    let mut d = Doc {
        path: path.clone(),
        text: String::new(),
        line: 1,
        labels,
    };
    let p = person(r);
    let q = person(r);
    let from_name = format!("{} {}", p.surname, p.given);
    d.add(&[
        ("From: ", None),
        (&from_name, Some(Kind::PersonName)),
        (" <", None),
        (&p.email, Some(Kind::Email)),
        (">", None),
    ]);
    d.add(&[("To: ", None), ("support@example.co.jp", Some(Kind::Email))]);
    d.add(&[("Subject: お問い合わせ", None)]);
    d.add(&[("MIME-Version: 1.0", None)]);
    d.add(&[("Content-Type: text/plain; charset=UTF-8", None)]);
    d.add(&[("Content-Transfer-Encoding: 8bit", None)]);
    d.add(&[("", None)]);
    d.add(&[("ご担当者様", None)]);
    d.add(&[
        ("お世話になっております。", None),
        (&format!("{}{}", p.surname, p.given), Some(Kind::PersonName)),
        ("です。", None),
    ]);
    d.add(&[("電話番号：", None), (&p.phone, Some(Kind::Phone))]);
    let addr = format!("{}{}{}{}", p.pref, p.city, p.town, p.block);
    d.add(&[("住所：", None), (&addr, Some(Kind::Address))]);
    d.add(&[
        ("家族の", None),
        (&format!("{}{}", q.surname, q.given), Some(Kind::PersonName)),
        ("の分もお願いします。", None),
    ]);
    let l = lookalike(r);
    d.add(&[(&l, None)]);
    (path, d.text)
}

fn sheet_rows(r: &mut Rng, path: &str) -> (Vec<Vec<String>>, Vec<Label>) {
    let mut rows = vec![vec![
        "氏名".to_owned(),
        "携帯電話".to_owned(),
        "E-mail".to_owned(),
        "住所".to_owned(),
        "注文番号".to_owned(),
    ]];
    let mut labels = Vec::new();
    for k in 0..(5 + r.below(20)) {
        let p = person(r);
        let line = k as u64 + 2;
        let name = format!("{}　{}", p.surname, p.given);
        let addr = format!("{}{}{}", p.city, p.town, p.block);
        for (v, kind) in [
            (&name, Kind::PersonName),
            (&p.phone, Kind::Phone),
            (&p.email, Kind::Email),
            (&addr, Kind::Address),
        ] {
            labels.push(Label {
                path: path.to_owned(),
                line,
                kind: kind.as_str().to_owned(),
                value: v.clone(),
            });
        }
        rows.push(vec![
            name,
            p.phone,
            p.email,
            addr,
            format!("A{}", r.digits(9)),
        ]);
    }
    (rows, labels)
}

/// A minimal xlsx (inline strings) written with the zip crate.
pub fn xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (i, row) in rows.iter().enumerate() {
        let _ = write!(sheet, r#"<row r="{}">"#, i + 1);
        for (j, cell) in row.iter().enumerate() {
            let col = char::from(b'A' + j as u8);
            let _ = write!(
                sheet,
                r#"<c r="{col}{}" t="inlineStr"><is><t>{}</t></is></c>"#,
                i + 1,
                esc(cell)
            );
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    xlsx_package("会員", &sheet)
}

/// An xlsx with one sheet holding the given cells (`("A1", "氏名")`, `("XFD1048576", "x")`), in
/// the order given, as inline strings. The workbook a 1.5 KB bomb is made of.
pub fn xlsx_cells(cells: &[(&str, &str)]) -> Vec<u8> {
    xlsx_sheet("会員", cells)
}

/// `xlsx_cells` with the sheet named.
pub fn xlsx_sheet(sheet_name: &str, cells: &[(&str, &str)]) -> Vec<u8> {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    let mut open_row: Option<String> = None;
    for (r, v) in cells {
        let row: String = r.chars().filter(char::is_ascii_digit).collect();
        if open_row.as_deref() != Some(row.as_str()) {
            if open_row.is_some() {
                sheet.push_str("</row>");
            }
            let _ = write!(sheet, r#"<row r="{row}">"#);
            open_row = Some(row);
        }
        let _ = write!(
            sheet,
            r#"<c r="{r}" t="inlineStr"><is><t>{}</t></is></c>"#,
            esc(v)
        );
    }
    if open_row.is_some() {
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    xlsx_package(sheet_name, &sheet)
}

/// The package around one worksheet: content types, relationships and a workbook with one
/// sheet named `sheet_name` whose XML is `sheet_xml`.
pub fn xlsx_package(sheet_name: &str, sheet_xml: &str) -> Vec<u8> {
    let name = sheet_name
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let files = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        ("xl/workbook.xml", workbook.as_str()),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet_xml),
    ];
    zip(&files
        .iter()
        .map(|(n, c)| ((*n).to_owned(), c.as_bytes().to_vec()))
        .collect::<Vec<_>>())
}

/// An ods with one table whose `<table:table-row>` elements are given as XML.
pub fn ods(rows_xml: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="会員">{rows_xml}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip(&[
        (
            "mimetype".to_owned(),
            b"application/vnd.oasis.opendocument.spreadsheet".to_vec(),
        ),
        ("content.xml".to_owned(), content.into_bytes()),
        (
            "META-INF/manifest.xml".to_owned(),
            manifest.as_bytes().to_vec(),
        ),
    ])
}

/// An xls (BIFF8 in a version 3 compound file) with one sheet of numbers at (row, column),
/// 0-based, as NUMBER records.
pub fn xls_numbers(cells: &[(u16, u16, f64)]) -> Vec<u8> {
    let records: Vec<(u16, Vec<u8>)> = cells
        .iter()
        .map(|&(r, c, v)| {
            let mut d = Vec::new();
            d.extend_from_slice(&r.to_le_bytes());
            d.extend_from_slice(&c.to_le_bytes());
            d.extend_from_slice(&0u16.to_le_bytes());
            d.extend_from_slice(&v.to_le_bytes());
            (0x0203, d)
        })
        .collect();
    xls_records(&records)
}

/// An xls whose one sheet holds the given BIFF records (type, data) between its BOF and EOF.
pub fn xls_records(records: &[(u16, Vec<u8>)]) -> Vec<u8> {
    fn rec(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.extend_from_slice(data);
    }
    let bof = [0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut sheet_bof = bof;
    sheet_bof[2] = 0x10;
    // Globals: BOF, BOUNDSHEET (offset patched below), EOF.
    let mut stream = Vec::new();
    rec(&mut stream, 0x0809, &bof);
    let bound_at = stream.len() + 4;
    let mut bound = vec![0, 0, 0, 0, 0, 0, 2, 1];
    bound.extend_from_slice(&[b'S', 0, b'1', 0]);
    rec(&mut stream, 0x0085, &bound);
    rec(&mut stream, 0x000A, &[]);
    let pos = stream.len() as u32;
    stream[bound_at..bound_at + 4].copy_from_slice(&pos.to_le_bytes());
    rec(&mut stream, 0x0809, &sheet_bof);
    for (typ, d) in records {
        rec(&mut stream, *typ, d);
    }
    rec(&mut stream, 0x000A, &[]);
    // At least 4096 bytes, so that the stream lives in regular sectors, not the mini stream.
    stream.resize(stream.len().max(4096).div_ceil(512) * 512, 0);
    let n = stream.len() / 512;
    let mut file = vec![0u8; 512];
    file[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let put16 =
        |f: &mut Vec<u8>, at: usize, v: u16| f[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 =
        |f: &mut Vec<u8>, at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put16(&mut file, 24, 0x3E);
    put16(&mut file, 26, 3);
    put16(&mut file, 28, 0xFFFE);
    put16(&mut file, 30, 9);
    put16(&mut file, 32, 6);
    put32(&mut file, 44, 1); // FAT sectors
    put32(&mut file, 48, 1); // directory at sector 1
    put32(&mut file, 56, 4096);
    put32(&mut file, 60, 0xFFFF_FFFE);
    put32(&mut file, 68, 0xFFFF_FFFE);
    for k in 0..109 {
        put32(&mut file, 76 + 4 * k, if k == 0 { 0 } else { 0xFFFF_FFFF });
    }
    // Sector 0: the FAT. Sector 1: the directory. Sectors 2..: the Workbook stream.
    let mut fat = vec![0xFFFF_FFFFu32; 128];
    fat[0] = 0xFFFF_FFFD;
    fat[1] = 0xFFFF_FFFE;
    for i in 0..n {
        fat[2 + i] = if i + 1 == n {
            0xFFFF_FFFE
        } else {
            (3 + i) as u32
        };
    }
    for v in fat {
        file.extend_from_slice(&v.to_le_bytes());
    }
    let entry = |name: &str, typ: u8, start: u32, size: u32| {
        let mut e = vec![0u8; 128];
        let units: Vec<u16> = name.encode_utf16().collect();
        for (i, u) in units.iter().enumerate() {
            e[2 * i..2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
        e[64..66].copy_from_slice(&((units.len() as u16 + 1) * 2).to_le_bytes());
        e[66] = typ;
        e[67] = 1;
        e[68..80].copy_from_slice(&[0xFF; 12]);
        e[116..120].copy_from_slice(&start.to_le_bytes());
        e[120..124].copy_from_slice(&size.to_le_bytes());
        e
    };
    let mut root = entry("Root Entry", 5, 0xFFFF_FFFE, 0);
    root[76..80].copy_from_slice(&1u32.to_le_bytes());
    file.extend_from_slice(&root);
    file.extend_from_slice(&entry("Workbook", 2, 2, stream.len() as u32));
    file.extend_from_slice(&[0u8; 256]);
    file.extend_from_slice(&stream);
    file
}

/// A zip archive of (name, bytes) entries.
pub fn zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(name.as_str(), opts).expect("in-memory zip");
        w.write_all(data).expect("in-memory zip");
    }
    w.finish().expect("in-memory zip").into_inner()
}

/// Precision, recall and F1 per kind.
#[derive(Clone, Debug, Default)]
pub struct Score {
    pub per_kind: Vec<(String, usize, usize, usize)>,
}

impl Score {
    /// (kind, true positives, false positives, false negatives).
    pub fn get(&self, kind: &str) -> Option<(f64, f64)> {
        self.per_kind
            .iter()
            .find(|k| k.0 == kind)
            .map(|&(_, tp, fp, fn_)| (ratio(tp, tp + fp), ratio(tp, tp + fn_)))
    }

    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<24} {:>6} {:>6} {:>6} {:>9} {:>9} {:>9}\n",
            "kind", "tp", "fp", "fn", "precision", "recall", "f1"
        );
        for (k, tp, fp, fn_) in &self.per_kind {
            let p = ratio(*tp, tp + fp);
            let r = ratio(*tp, tp + fn_);
            let f = if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            };
            let _ = writeln!(
                s,
                "{k:<24} {tp:>6} {fp:>6} {fn_:>6} {p:>9.3} {r:>9.3} {f:>9.3}"
            );
        }
        s
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

fn squash(s: &str) -> String {
    crate::normalize::normalize(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '(' | ')' | '"' | '〒'))
        .collect()
}

/// Matches findings to labels: same path, line and kind, and one value contains the other
/// (ignoring spaces, dashes and width). A finding without a value matches on path, line and kind.
pub fn score(labels: &[Label], found: &[Scored]) -> Score {
    type Candidates = Vec<(String, bool)>;
    let mut by_key: HashMap<(&str, u64, &str), Candidates> = HashMap::new();
    for l in labels {
        by_key
            .entry((&l.path, l.line, &l.kind))
            .or_default()
            .push((squash(&l.value), false));
    }
    let mut counts: HashMap<String, (usize, usize, usize)> = HashMap::new();
    for f in found {
        let v = f.value.as_deref().map(squash);
        let entry = counts.entry(f.kind.clone()).or_default();
        let matched = by_key
            .get_mut(&(f.path.as_str(), f.line, f.kind.as_str()))
            .and_then(|cands| {
                cands.iter_mut().find(|(lv, used)| {
                    !*used
                        && v.as_ref().is_none_or(|v| {
                            !v.is_empty() && (lv.contains(v.as_str()) || v.contains(lv.as_str()))
                        })
                })
            });
        match matched {
            Some(c) => {
                c.1 = true;
                entry.0 += 1;
            }
            None => entry.1 += 1,
        }
    }
    for ((_, _, kind), cands) in &by_key {
        let entry = counts.entry((*kind).to_owned()).or_default();
        entry.2 += cands.iter().filter(|c| !c.1).count();
    }
    let mut per_kind: Vec<(String, usize, usize, usize)> = Kind::ALL
        .iter()
        .filter_map(|k| {
            counts
                .get(k.as_str())
                .map(|&(tp, fp, fn_)| (k.as_str().to_owned(), tp, fp, fn_))
        })
        .collect();
    for (k, &(tp, fp, fn_)) in &counts {
        if Kind::parse(k).is_none() {
            per_kind.push((k.clone(), tp, fp, fn_));
        }
    }
    Score { per_kind }
}

/// A document of look-alikes only: nothing in it may be reported.
pub fn lookalikes_document(seed: u64, lines: usize) -> String {
    let mut r = Rng::new(seed);
    let mut s = String::from("【取引先・商品マスタ】\n");
    for _ in 0..lines {
        s.push_str(&lookalike(&mut r));
        s.push('\n');
    }
    s
}
