//! The ledger of personal data (個人情報管理台帳): what a valid entry is, its CSV form, the yearly
//! review, and the totals per department and item.
//!
//! The CSV header row is the same for export and import, in Japanese (what an Excel user in a
//! Japanese company expects); items are written by their Japanese names and read by name or
//! code, so a file exported, edited in Excel and imported again round-trips.

use crate::appi::item::Item;
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::BTreeMap;

/// A ledger entry as typed by a person or read from CSV, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatasetInput {
    pub name: String,
    pub department_id: i64,
    pub items: Vec<Item>,
    pub card_data: bool,
    /// Number of persons; `None` when not known yet.
    pub persons: Option<i64>,
    pub purpose: String,
    pub source: String,
    pub storage_place: String,
    pub storage_method: String,
    pub access: String,
    pub use_until: Option<NaiveDate>,
    pub retain_until: Option<NaiveDate>,
    pub entrusted_to: String,
    pub entrusted_from: String,
}

/// The fields of an entry in the order of its form.
const FORM_ORDER: [&str; 13] = [
    "name",
    "persons",
    "items",
    "purpose",
    "source",
    "access",
    "storage_place",
    "storage_method",
    "use_until",
    "retain_until",
    "entrusted_to",
    "entrusted_from",
    "department_id",
];

/// A problem with an entry, naming the field (the form's field name / the CSV column), in
/// Japanese and in English (a page shows the reader's; a CSV import report shows both).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {ja} ({en})")]
pub struct LedgerError {
    pub field: &'static str,
    pub ja: String,
    pub en: String,
}

impl LedgerError {
    pub fn new(field: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        LedgerError {
            field,
            ja: ja.into(),
            en: en.into(),
        }
    }
}

fn err(field: &'static str, ja: impl Into<String>, en: impl Into<String>) -> LedgerError {
    LedgerError::new(field, ja, en)
}

fn text(field: &'static str, v: &str, max: usize, required: bool) -> Result<String, LedgerError> {
    let v = v.trim();
    if required && v.is_empty() {
        return Err(err(field, "必須です", "required"));
    }
    if v.chars().count() > max {
        return Err(err(
            field,
            format!("{max}文字以内で入力してください"),
            format!("at most {max} characters"),
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        return Err(err(
            field,
            "制御文字は使えません",
            "control characters are not allowed",
        ));
    }
    Ok(v.to_owned())
}

impl DatasetInput {
    /// Checks the entry and puts it in its stored form: trimmed texts, items sorted, the card
    /// flag set whenever a card item is held. The first problem; [`DatasetInput::check`] gives
    /// them all.
    pub fn validate(self) -> Result<DatasetInput, LedgerError> {
        self.check().map_err(|mut all| all.remove(0))
    }

    /// [`DatasetInput::validate`] with every problem, in the order of the form.
    pub fn check(mut self) -> Result<DatasetInput, Vec<LedgerError>> {
        let mut problems = Vec::new();
        let mut text_at =
            |field, value: &mut String, max, required| match text(field, value, max, required) {
                Ok(v) => *value = v,
                Err(e) => problems.push(e),
            };
        // In the order of the form.
        text_at("name", &mut self.name, 100, true);
        text_at("purpose", &mut self.purpose, 1000, true);
        text_at("source", &mut self.source, 500, false);
        text_at("access", &mut self.access, 500, false);
        text_at("storage_place", &mut self.storage_place, 500, false);
        text_at("storage_method", &mut self.storage_method, 500, false);
        text_at("entrusted_to", &mut self.entrusted_to, 500, false);
        text_at("entrusted_from", &mut self.entrusted_from, 500, false);
        if self.items.is_empty() {
            problems.push(err(
                "items",
                "項目を1つ以上選んでください",
                "choose at least one item",
            ));
        }
        if let Some(n) = self.persons {
            if !(0..=10_000_000_000).contains(&n) {
                problems.push(err(
                    "persons",
                    "0〜100億の数を入力してください",
                    "a number from 0 to 10 billion",
                ));
            }
        }
        if let (Some(u), Some(r)) = (self.use_until, self.retain_until) {
            if r < u {
                problems.push(err(
                    "retain_until",
                    "保管期限は利用期限より後にしてください",
                    "retain-until is before use-until",
                ));
            }
        }
        // The form's order: the web page sorts them by its fields.
        problems.sort_by_key(|e| FORM_ORDER.iter().position(|f| *f == e.field));
        if !problems.is_empty() {
            return Err(problems);
        }
        self.items.sort();
        self.items.dedup();
        if self.items.iter().any(|i| is_card_item(*i)) {
            self.card_data = true;
        }
        Ok(self)
    }

    pub fn sensitive_items(&self) -> Vec<Item> {
        self.items
            .iter()
            .copied()
            .filter(|i| i.is_sensitive())
            .collect()
    }
}

/// Items that make a dataset hold card data.
pub fn is_card_item(i: Item) -> bool {
    matches!(
        i,
        Item::CreditCardNumber
            | Item::CreditCardLast4
            | Item::CreditCardExpiry
            | Item::CreditCardSecurityCode
    )
}

/// Reads a list of items written by Japanese name or by code, separated by 、 , ; or new lines.
pub fn parse_items(s: &str) -> Result<Vec<Item>, LedgerError> {
    let mut out = Vec::new();
    for part in s.split(['、', ',', ';', '\n', '，']) {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        let item = Item::ALL
            .iter()
            .copied()
            .find(|i| i.code() == p || i.label_ja() == p)
            .ok_or_else(|| {
                err(
                    "items",
                    format!(
                        "「{}」は項目として登録されていません",
                        p.chars().take(40).collect::<String>()
                    ),
                    format!(
                        "`{}` is not a known item (appi.md §9)",
                        p.chars().take(40).collect::<String>()
                    ),
                )
            })?;
        out.push(item);
    }
    Ok(out)
}

pub fn items_text(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| i.label_ja())
        .collect::<Vec<_>>()
        .join("、")
}

/// The yearly review: a year after the last review (or the entry's creation).
pub fn review_due(last: NaiveDate) -> NaiveDate {
    last.checked_add_months(chrono::Months::new(12))
        .unwrap_or(last + Duration::days(365))
}

/// A reminder of a coming or missed review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewReminder {
    /// 30 or 7 days before the due date.
    Before(u32),
    /// The day after the due date, and every 7 days after that while not reviewed.
    Overdue(u32),
}

impl ReviewReminder {
    /// A key unique per review due date and reminder, so each is sent once.
    pub fn key(self, dataset_id: i64, due: NaiveDate) -> String {
        match self {
            ReviewReminder::Before(d) => format!("ledger:{dataset_id}:{due}:before{d}"),
            ReviewReminder::Overdue(d) => format!("ledger:{dataset_id}:{due}:overdue{d}"),
        }
    }
}

/// The reminder due on `today` for a review due on `due`, if any.
pub fn review_reminder(due: NaiveDate, today: NaiveDate) -> Option<ReviewReminder> {
    let days = (due - today).num_days();
    match days {
        30 => Some(ReviewReminder::Before(30)),
        7 => Some(ReviewReminder::Before(7)),
        d if d < 0 && (-d - 1) % 7 == 0 => Some(ReviewReminder::Overdue((-d) as u32)),
        _ => None,
    }
}

/// One line of the ledger, as the totals need it.
#[derive(Debug, Clone)]
pub struct TotalsRow<'a> {
    pub department: &'a str,
    pub items: &'a [Item],
    pub persons: Option<i64>,
    pub card_data: bool,
}

/// "How many persons' data do we hold, of which sensitive?" Persons are summed over datasets
/// (the same person in two datasets counts twice: 延べ人数), unknown counts are counted apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub datasets: usize,
    pub persons: i64,
    pub sensitive_persons: i64,
    pub card_persons: i64,
    pub unknown_counts: usize,
    pub by_department: BTreeMap<String, DeptTotal>,
    /// Item code → (datasets, persons).
    pub by_item: BTreeMap<Item, (usize, i64)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeptTotal {
    pub datasets: usize,
    pub persons: i64,
    pub sensitive_persons: i64,
}

pub fn totals(rows: &[TotalsRow<'_>]) -> Totals {
    let mut t = Totals::default();
    for r in rows {
        let n = r.persons.unwrap_or(0);
        let sensitive = r.items.iter().any(|i| i.is_sensitive());
        t.datasets += 1;
        t.persons += n;
        if r.persons.is_none() {
            t.unknown_counts += 1;
        }
        if sensitive {
            t.sensitive_persons += n;
        }
        if r.card_data {
            t.card_persons += n;
        }
        let d = t.by_department.entry(r.department.to_owned()).or_default();
        d.datasets += 1;
        d.persons += n;
        if sensitive {
            d.sensitive_persons += n;
        }
        for i in r.items {
            let e = t.by_item.entry(*i).or_default();
            e.0 += 1;
            e.1 += n;
        }
    }
    t
}

/// The CSV columns, in order. Import finds columns by these headers (any order), export writes
/// them in this order.
pub const CSV_HEADERS: [&str; 17] = [
    "台帳名",
    "主管部門",
    "項目",
    "要配慮個人情報",
    "カード情報",
    "本人の数",
    "利用目的",
    "取得元",
    "保管場所",
    "保管方法",
    "アクセスできる者",
    "利用期限",
    "保管期限",
    "委託先",
    "委託元",
    "最終見直し日",
    "次回見直し期限",
];

/// Reads a yes/no cell as Excel users write it.
pub fn parse_flag(s: &str) -> Option<bool> {
    match s.trim() {
        "" | "なし" | "無" | "無し" | "いいえ" | "no" | "No" | "NO" | "false" | "0" | "×" | "-" => {
            Some(false)
        }
        "あり" | "有" | "有り" | "はい" | "yes" | "Yes" | "YES" | "true" | "1" | "○" | "〇" => {
            Some(true)
        }
        _ => None,
    }
}

/// Reads a date cell: ISO, slashes, 年月日 or 和暦; empty is `None`.
pub fn parse_date_cell(field: &'static str, s: &str) -> Result<Option<NaiveDate>, LedgerError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    crate::vault::schema::parse_date(s)
        .map(Some)
        .ok_or_else(|| {
            err(
                field,
                "日付として読めません（例: 2027-03-31、令和9年3月31日）",
                "not a date (2027-03-31 or 令和9年3月31日)",
            )
        })
}

/// Reads a count cell as people type it (1,250 / 1250人 / 約３００人 / 千五百; see
/// [`crate::number`]); empty or 不明 is unknown.
pub fn parse_persons(s: &str) -> Result<Option<i64>, LedgerError> {
    match crate::number::parse_count(s) {
        Ok(n) => n
            .map(i64::try_from)
            .transpose()
            .map_err(|_| err("persons", "大きすぎます", "too large")),
        Err(e) => Err(err("persons", e.ja(), e.en())),
    }
}

/// The fiscal-year label of a date, for review reports (2026年度 runs April to March).
pub fn fiscal_year(d: NaiveDate) -> i32 {
    if d.month() >= 4 {
        d.year()
    } else {
        d.year() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn entry() -> DatasetInput {
        DatasetInput {
            name: " 会員情報 ".into(),
            department_id: 1,
            items: vec![Item::Email, Item::Name, Item::Name],
            persons: Some(437_000),
            purpose: "商品の発送".into(),
            ..DatasetInput::default()
        }
    }

    #[test]
    fn an_entry_is_checked_and_normalised() {
        let e = entry().validate().unwrap();
        assert_eq!(e.name, "会員情報");
        assert_eq!(e.items, vec![Item::Name, Item::Email]);
        assert!(!e.card_data);
        let card = DatasetInput {
            items: vec![Item::CreditCardLast4],
            ..entry()
        }
        .validate()
        .unwrap();
        assert!(card.card_data, "a card item sets the card flag");
        let field = |e: DatasetInput| e.validate().unwrap_err().field;
        assert_eq!(
            field(DatasetInput {
                name: " ".into(),
                ..entry()
            }),
            "name"
        );
        assert_eq!(
            field(DatasetInput {
                purpose: String::new(),
                ..entry()
            }),
            "purpose"
        );
        assert_eq!(
            field(DatasetInput {
                items: vec![],
                ..entry()
            }),
            "items"
        );
        assert_eq!(
            field(DatasetInput {
                persons: Some(-1),
                ..entry()
            }),
            "persons"
        );
        assert_eq!(
            field(DatasetInput {
                use_until: Some(d(2030, 1, 1)),
                retain_until: Some(d(2029, 1, 1)),
                ..entry()
            }),
            "retain_until"
        );
    }

    #[test]
    fn every_problem_of_an_entry_is_named_in_the_order_of_the_form() {
        let all = DatasetInput {
            name: String::new(),
            items: vec![],
            persons: Some(-1),
            purpose: String::new(),
            ..entry()
        }
        .check()
        .unwrap_err();
        let fields: Vec<&str> = all.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "persons", "items", "purpose"]);
    }

    #[test]
    fn items_read_by_name_or_code() {
        assert_eq!(
            parse_items("氏名、email, 病歴").unwrap(),
            vec![Item::Name, Item::Email, Item::MedicalHistory]
        );
        // A label with a middle dot is one item.
        assert_eq!(
            parse_items("決済・送金機能のあるサービスのログインIDとパスワード").unwrap(),
            vec![Item::PaymentServiceCredentials]
        );
        assert_eq!(parse_items("血液型").unwrap_err().field, "items");
        let text = items_text(&[Item::Name, Item::MedicalHistory]);
        assert_eq!(text, "氏名、病歴");
        assert_eq!(parse_items(&text).unwrap().len(), 2);
    }

    #[test]
    fn cells_as_excel_users_write_them() {
        assert_eq!(parse_flag("あり"), Some(true));
        assert_eq!(parse_flag("○"), Some(true));
        assert_eq!(parse_flag(""), Some(false));
        assert_eq!(parse_flag("たぶん"), None);
        assert_eq!(parse_persons("1,250人").unwrap(), Some(1250));
        assert_eq!(parse_persons("１２５０").unwrap(), Some(1250));
        assert_eq!(parse_persons("不明").unwrap(), None);
        assert!(parse_persons("多数").is_err());
        assert_eq!(
            parse_date_cell("use_until", "令和9年3月31日").unwrap(),
            Some(d(2027, 3, 31))
        );
        assert_eq!(parse_date_cell("use_until", "").unwrap(), None);
        assert_eq!(
            parse_date_cell("use_until", "来年").unwrap_err().field,
            "use_until"
        );
    }

    #[test]
    fn yearly_review_and_its_reminders() {
        assert_eq!(review_due(d(2025, 11, 24)), d(2026, 11, 24));
        assert_eq!(review_due(d(2024, 2, 29)), d(2025, 2, 28));
        let due = d(2026, 12, 24);
        assert_eq!(
            review_reminder(due, d(2026, 11, 24)),
            Some(ReviewReminder::Before(30))
        );
        assert_eq!(
            review_reminder(due, d(2026, 12, 17)),
            Some(ReviewReminder::Before(7))
        );
        assert_eq!(
            review_reminder(due, d(2026, 12, 24)),
            None,
            "due today: no nag yet"
        );
        assert_eq!(
            review_reminder(due, d(2026, 12, 25)),
            Some(ReviewReminder::Overdue(1))
        );
        assert_eq!(review_reminder(due, d(2026, 12, 26)), None);
        assert_eq!(
            review_reminder(due, d(2027, 1, 1)),
            Some(ReviewReminder::Overdue(8))
        );
        assert_ne!(
            ReviewReminder::Before(30).key(1, due),
            ReviewReminder::Before(7).key(1, due)
        );
        assert_eq!(fiscal_year(d(2027, 3, 31)), 2026);
        assert_eq!(fiscal_year(d(2027, 4, 1)), 2027);
    }

    #[test]
    fn totals_per_department_and_item() {
        let a = [Item::Name, Item::Email];
        let b = [Item::Name, Item::MedicalHistory];
        let c = [Item::CreditCardNumber];
        let rows = [
            TotalsRow {
                department: "営業部",
                items: &a,
                persons: Some(1000),
                card_data: false,
            },
            TotalsRow {
                department: "人事部",
                items: &b,
                persons: Some(60),
                card_data: false,
            },
            TotalsRow {
                department: "営業部",
                items: &c,
                persons: None,
                card_data: true,
            },
        ];
        let t = totals(&rows);
        assert_eq!(t.datasets, 3);
        assert_eq!(t.persons, 1060);
        assert_eq!(t.sensitive_persons, 60);
        assert_eq!(t.unknown_counts, 1);
        assert_eq!(t.by_department["営業部"].datasets, 2);
        assert_eq!(t.by_department["人事部"].sensitive_persons, 60);
        assert_eq!(t.by_item[&Item::Name], (2, 1060));
    }
}
