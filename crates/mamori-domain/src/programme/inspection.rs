//! Self-inspections (総点検): question sets in versions, the monthly round and the days it
//! accepts answers, answers and their scores per item and department, the radar chart's
//! values and the follow-up of people who answered "no".
//!
//! Seed 002's company checks on the 17th of every month: every person answers the rules for
//! individuals (15 questions), every manager answers a set about the workplace; the scores per
//! department are shown as radar charts at the security meeting, and the people who do not
//! keep a rule are interviewed by their manager. The rules here:
//!
//! - **A question set** belongs to one audience (individuals or managers) and is kept in
//!   versions: editing it publishes a new version, and an answer keeps the version it
//!   answered, so old rounds are shown with their own questions. A set has 1 to
//!   [`MAX_ITEMS`] items; each has a short label (the radar's axis, at most
//!   [`MAX_LABEL_CHARS`] characters) and the question.
//! - **A round** is one month. It opens on the month's inspection day (the chosen day of the
//!   month, moved to the next business day by [`super::schedule::monthly_event_day`]) and
//!   accepts answers until the day before the next month's inspection day.
//! - **An answer** gives each item はい (kept), いいえ (not kept) or 該当なし (does not apply).
//!   Every item must be answered; a "no" may carry a note.
//! - **The score** of an item is the share of "yes" among "yes" and "no", as a percentage
//!   (該当なし does not count); an item nobody could answer has no score (not 0, not 100).
//!   A department's score is the mean of its items' scores.
//! - **Follow-up**: everybody with at least one "no" is on the follow-up list of the round
//!   until an interview is recorded with its outcome.

use super::schedule::{monthly_event_day, Month, ScheduleError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The most items a set may have (the radar stays readable).
pub const MAX_ITEMS: usize = 30;
/// The longest short label (an axis of the radar).
pub const MAX_LABEL_CHARS: usize = 12;
/// The longest question.
pub const MAX_QUESTION_CHARS: usize = 300;
/// The longest note on a "no".
pub const MAX_NOTE_CHARS: usize = 500;

/// Who answers a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Every person (各個人の実態, 全員がチェック).
    Individual,
    /// Department heads about their workplace (職場の実態, 管理者がチェック).
    Manager,
}

impl Audience {
    pub const ALL: [Audience; 2] = [Audience::Individual, Audience::Manager];

    pub fn code(self) -> &'static str {
        match self {
            Audience::Individual => "individual",
            Audience::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        Audience::ALL.into_iter().find(|a| a.code() == s)
    }
}

/// One question of a set: Japanese first, English when the set has it (the defaults do; a
/// question typed by the privacy office keeps the English of the version before only while its
/// Japanese is unchanged, and is shown as typed otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The radar's axis: 「クリアデスク」.
    pub label: String,
    /// The question as asked: 「離席時、机の上に個人情報を含む書類を放置していない。」
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_en: Option<String>,
}

impl Question {
    /// The short label in the reader's language (Japanese when the set has no English).
    pub fn label_for(&self, english: bool) -> &str {
        match (&self.label_en, english) {
            (Some(l), true) => l,
            _ => &self.label,
        }
    }

    /// The question in the reader's language.
    pub fn text_for(&self, english: bool) -> &str {
        match (&self.text_en, english) {
            (Some(t), true) => t,
            _ => &self.text,
        }
    }

    /// Keeps the English of `before`'s question with the same Japanese.
    #[must_use]
    pub fn with_english_of(mut self, before: &[Question]) -> Question {
        if let Some(b) = before
            .iter()
            .find(|b| b.label == self.label && b.text == self.text)
        {
            self.label_en.clone_from(&b.label_en);
            self.text_en.clone_from(&b.text_en);
        }
        self
    }
}

/// An answer to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Yes,
    No,
    NotApplicable,
}

impl Reply {
    pub fn code(self) -> &'static str {
        match self {
            Reply::Yes => "yes",
            Reply::No => "no",
            Reply::NotApplicable => "na",
        }
    }

    pub fn parse(s: &str) -> Option<Reply> {
        match s.trim() {
            "yes" => Some(Reply::Yes),
            "no" => Some(Reply::No),
            "na" => Some(Reply::NotApplicable),
            _ => None,
        }
    }
}

/// What is wrong with a question set or an answer, named so the form can show it at its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectionError {
    #[error("a question set needs at least one question")]
    NoQuestions,
    #[error("a question set has at most {MAX_ITEMS} questions ({0} given)")]
    TooManyQuestions(usize),
    /// Item number (1-based).
    #[error("question {0}: the short label is missing")]
    LabelMissing(usize),
    #[error("question {0}: the short label is longer than {MAX_LABEL_CHARS} characters")]
    LabelTooLong(usize),
    #[error("question {0}: the question is missing")]
    TextMissing(usize),
    #[error("question {0}: the question is longer than {MAX_QUESTION_CHARS} characters")]
    TextTooLong(usize),
    #[error("question {0}: the short label is the same as question {1}'s")]
    DuplicateLabel(usize, usize),
    #[error("question {0} is not answered")]
    Unanswered(usize),
    #[error("question {0}: the note is longer than {MAX_NOTE_CHARS} characters")]
    NoteTooLong(usize),
    #[error("the answer has {given} replies for a set of {expected} questions")]
    WrongCount { given: usize, expected: usize },
}

impl InspectionError {
    /// The form field the problem belongs to (`label-3`, `text-3`, `q-3`), if any.
    pub fn field(&self) -> Option<String> {
        match self {
            InspectionError::LabelMissing(n)
            | InspectionError::LabelTooLong(n)
            | InspectionError::DuplicateLabel(n, _) => Some(format!("label-{n}")),
            InspectionError::TextMissing(n) | InspectionError::TextTooLong(n) => {
                Some(format!("text-{n}"))
            }
            InspectionError::Unanswered(n) => Some(format!("q-{n}")),
            InspectionError::NoteTooLong(n) => Some(format!("note-{n}")),
            _ => None,
        }
    }

    /// The message in Japanese.
    pub fn message_ja(&self) -> String {
        match self {
            InspectionError::NoQuestions => "質問を1つ以上入力してください".into(),
            InspectionError::TooManyQuestions(n) => {
                format!("質問は{MAX_ITEMS}問までです（{n}問あります）")
            }
            InspectionError::LabelMissing(n) => format!("質問{n}: 短い見出しを入力してください"),
            InspectionError::LabelTooLong(n) => {
                format!("質問{n}: 短い見出しは{MAX_LABEL_CHARS}文字以内にしてください")
            }
            InspectionError::TextMissing(n) => format!("質問{n}: 質問文を入力してください"),
            InspectionError::TextTooLong(n) => {
                format!("質問{n}: 質問文は{MAX_QUESTION_CHARS}文字以内にしてください")
            }
            InspectionError::DuplicateLabel(n, m) => {
                format!("質問{n}: 短い見出しが質問{m}と同じです")
            }
            InspectionError::Unanswered(n) => format!("質問{n}に回答してください"),
            InspectionError::NoteTooLong(n) => {
                format!("質問{n}: 補足は{MAX_NOTE_CHARS}文字以内にしてください")
            }
            InspectionError::WrongCount { given, expected } => {
                format!("回答の数（{given}）が質問の数（{expected}）と合いません")
            }
        }
    }
}

/// Checks a question set as typed: trimmed, rows with neither label nor text dropped (the
/// empty rows of the form), every problem named with its question number.
pub fn check_questions(rows: &[(String, String)]) -> (Vec<Question>, Vec<InspectionError>) {
    let mut out: Vec<Question> = Vec::new();
    let mut problems = Vec::new();
    for (label, text) in rows {
        let label = crate::text::single_line(label);
        let text = crate::text::single_line(text);
        if label.is_empty() && text.is_empty() {
            continue;
        }
        let n = out.len() + 1;
        if label.is_empty() {
            problems.push(InspectionError::LabelMissing(n));
        } else if label.chars().count() > MAX_LABEL_CHARS {
            problems.push(InspectionError::LabelTooLong(n));
        } else if let Some(m) = out.iter().position(|q| q.label == label) {
            problems.push(InspectionError::DuplicateLabel(n, m + 1));
        }
        if text.is_empty() {
            problems.push(InspectionError::TextMissing(n));
        } else if text.chars().count() > MAX_QUESTION_CHARS {
            problems.push(InspectionError::TextTooLong(n));
        }
        out.push(Question {
            label,
            text,
            label_en: None,
            text_en: None,
        });
    }
    if out.is_empty() {
        problems.push(InspectionError::NoQuestions);
    } else if out.len() > MAX_ITEMS {
        problems.push(InspectionError::TooManyQuestions(out.len()));
    }
    (out, problems)
}

/// One reply as sent by the form: the reply code (or nothing) and a note.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyInput {
    pub reply: Option<String>,
    pub note: String,
}

/// A checked reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemReply {
    pub reply: Reply,
    /// Only kept on a "no" (the reason, what will change).
    pub note: Option<String>,
}

/// Checks an answer against the number of questions of its set; every problem is named.
pub fn check_answer(
    questions: usize,
    input: &[ReplyInput],
) -> Result<Vec<ItemReply>, Vec<InspectionError>> {
    if input.len() != questions {
        return Err(vec![InspectionError::WrongCount {
            given: input.len(),
            expected: questions,
        }]);
    }
    let mut out = Vec::with_capacity(questions);
    let mut problems = Vec::new();
    for (i, r) in input.iter().enumerate() {
        let n = i + 1;
        let Some(reply) = r.reply.as_deref().and_then(Reply::parse) else {
            problems.push(InspectionError::Unanswered(n));
            continue;
        };
        let note = crate::text::single_line(&r.note);
        if note.chars().count() > MAX_NOTE_CHARS {
            problems.push(InspectionError::NoteTooLong(n));
            continue;
        }
        out.push(ItemReply {
            reply,
            note: (reply == Reply::No && !note.is_empty()).then_some(note),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Counts of replies to one item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub yes: i64,
    pub no: i64,
    pub na: i64,
}

impl Tally {
    pub fn add(&mut self, reply: Reply) {
        match reply {
            Reply::Yes => self.yes += 1,
            Reply::No => self.no += 1,
            Reply::NotApplicable => self.na += 1,
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.yes += other.yes;
        self.no += other.no;
        self.na += other.na;
    }

    /// The share of "yes" among "yes" and "no" in percent; `None` when nobody could answer.
    pub fn score(self) -> Option<f64> {
        let n = self.yes + self.no;
        (n > 0).then(|| self.yes as f64 * 100.0 / n as f64)
    }
}

/// The mean of the items' scores that exist; `None` when no item has one.
pub fn mean_score(tallies: &[Tally]) -> Option<f64> {
    let scores: Vec<f64> = tallies.iter().filter_map(|t| t.score()).collect();
    (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
}

/// Whether an answer puts its person on the follow-up list.
pub fn needs_follow_up(replies: &[ItemReply]) -> bool {
    replies.iter().any(|r| r.reply == Reply::No)
}

/// The outcome of a follow-up interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The person now keeps the rule (改善済み).
    Improved,
    /// Improvement agreed, to be checked next month (改善予定).
    Planned,
    /// The rule cannot be kept as it is: the secretariat is asked to look at the rule (ルール見直し).
    RuleReview,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Improved, Outcome::Planned, Outcome::RuleReview];

    pub fn code(self) -> &'static str {
        match self {
            Outcome::Improved => "improved",
            Outcome::Planned => "planned",
            Outcome::RuleReview => "rule_review",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.code() == s.trim())
    }
}

/// The days a round of `month` accepts answers: from its inspection day to the day before the
/// next month's inspection day (both JST dates).
pub fn round_window(month: Month, day: u32) -> Result<(NaiveDate, NaiveDate), ScheduleError> {
    let opens = monthly_event_day(month.year, month.month, day)?;
    let next = month.next();
    let next_opens = monthly_event_day(next.year, next.month, day)?;
    let closes = next_opens.pred_opt().unwrap_or(next_opens);
    Ok((opens, closes.max(opens)))
}

/// The month whose round is open on `today` (the round of this month once its day has come,
/// else last month's), with its window.
pub fn round_open_on(
    today: NaiveDate,
    day: u32,
) -> Result<(Month, NaiveDate, NaiveDate), ScheduleError> {
    let this = Month::of(today);
    let (opens, closes) = round_window(this, day)?;
    if today >= opens {
        return Ok((this, opens, closes));
    }
    let prev = this.prev();
    let (p_opens, p_closes) = round_window(prev, day)?;
    if today >= p_opens && today <= p_closes {
        Ok((prev, p_opens, p_closes))
    } else {
        // Only when the previous month's day was carried past today (never in practice).
        Ok((this, opens, closes))
    }
}

/// When a round reminds the people who have not answered: on its opening day, and on the
/// third business day after it (the days from the government calendar).
pub fn reminder_days(opens: NaiveDate) -> Result<[NaiveDate; 2], ScheduleError> {
    let mut day = opens;
    let mut business = 0;
    while business < 3 {
        day = day
            .succ_opt()
            .ok_or(crate::calendar::CalendarError::OutOfRange { date: day })?;
        if !crate::calendar::is_government_holiday(day)? {
            business += 1;
        }
    }
    Ok([opens, day])
}

/// Seed 002's rules for individuals, as the default set (15 questions about the own daily
/// practice: awareness, sharing, handling, disposal, take-outs, private media).
pub fn default_individual_set() -> Vec<Question> {
    const Q: [(&str, &str, &str, &str); 15] = [
        ("ルールの理解", "個人情報保護と情報セキュリティの社内ルールを読み、内容を理解している。", "Knowing the rules", "I have read and understood the company's rules on personal data and information security."),
        ("クリアデスク", "離席・退社時に、個人情報を含む書類や媒体を机の上に放置していない。", "Clear desk", "When I leave my desk or go home, no papers or media with personal data are left on the desk."),
        ("画面ロック", "離席するときは、パソコンの画面をロックしている。", "Screen lock", "I lock my PC's screen whenever I leave it."),
        ("パスワード", "パスワードを他人に教えたり、メモを貼ったりしていない。", "Passwords", "I never tell anyone my passwords or write them on notes."),
        ("メール誤送信", "メール送信前に宛先・添付ファイルを確認し、社外へ個人情報を送るときは暗号化している。", "Mail checks", "Before sending mail I check the addresses and attachments, and I encrypt personal data sent outside."),
        ("FAX・郵送", "FAX・郵送の前に、宛先と同封物を確認している。", "Fax and post", "Before faxing or posting I check the address and what is enclosed."),
        ("必要な共有のみ", "個人情報を、業務上必要な人とだけ共有している。", "Need to know", "I share personal data only with those who need it for their work."),
        ("印刷物の回収", "印刷した個人情報は、すぐにプリンターから回収している。", "Printouts", "I collect printouts with personal data from the printer at once."),
        ("廃棄", "不要になった個人情報の書類はシュレッダー又は溶解処理で廃棄している。", "Disposal", "I dispose of papers with personal data by shredding or secure pulping."),
        ("持ち出し承認", "個人情報を社外に持ち出すときは、管理者の承認を得て記録を残している。", "Take-out approval", "When I take personal data out of the office, I have my manager's approval and it is recorded."),
        ("貸与PCのみ", "社外では、会社が貸与した持ち出し用PCだけを使っている。", "Lending PCs only", "Outside the office I use only the lending PC the company gave me."),
        ("私物媒体禁止", "私物のUSBメモリや記録媒体を業務に使っていない。", "No private media", "I do not use private USB sticks or other media for work."),
        ("自宅PC禁止", "自宅のパソコンで業務データを扱っていない。", "No home PC", "I do not handle work data on my home PC."),
        ("置き忘れ防止", "外出先（食事の席・電車など）で、鞄や書類を身から離していない。", "Never left behind", "Outside (at lunch, on trains) I keep my bag and papers with me."),
        ("事故の報告", "紛失や誤送信に気づいたら、すぐに上司と事務局へ報告することを知っている。", "Reporting", "I know to report a loss or a wrong send to my manager and the secretariat at once."),
    ];
    Q.iter()
        .map(|(label, text, label_en, text_en)| Question {
            label: (*label).into(),
            text: (*text).into(),
            label_en: Some((*label_en).into()),
            text_en: Some((*text_en).into()),
        })
        .collect()
}

/// The default set for managers about their workplace (seed 002: 職場の実態、管理者がチェック).
pub fn default_manager_set() -> Vec<Question> {
    const Q: [(&str, &str, &str, &str); 10] = [
        ("台帳の更新", "職場で扱う個人情報は、個人情報管理台帳に登録され、内容が最新である。", "Ledger up to date", "The personal data the workplace handles is in the ledger, and the entries are up to date."),
        ("アクセス権限", "個人情報へのアクセス権限は必要な人に限られ、異動・退職者の権限は削除されている。", "Access rights", "Access to personal data is limited to those who need it; rights of people who moved or left are removed."),
        ("施錠保管", "個人情報を含む書類・媒体は、施錠できる場所に保管されている。", "Locked storage", "Papers and media with personal data are kept in places that lock."),
        ("持ち出し記録", "今月の持ち出しはすべて承認され、返却・廃棄の証跡がある。", "Take-out records", "Every take-out this month was approved and has evidence of return or disposal."),
        ("貸与PC台帳", "貸出用PC・媒体の台帳が最新で、所在が確認できる。", "Lending register", "The register of lending PCs and media is up to date and every item can be located."),
        ("廃棄の証跡", "個人情報の廃棄は方法と日付が記録されている。", "Disposal records", "Disposals of personal data are recorded with method and date."),
        ("教育の受講", "職場の全員（派遣・パート含む）が今年度の教育を受講済み、又は受講予定である。", "Training", "Everyone in the workplace (temporary and part-time staff included) has taken or is booked on this year's training."),
        ("誓約書", "職場の全員（派遣・パート含む）から誓約書を受領している。", "Pledges", "A pledge has been received from everyone in the workplace (temporary and part-time staff included)."),
        ("委託先の確認", "職場が個人情報を預ける委託先とは、必要な契約条項を結んでいる。", "Contractors", "Contractors the workplace entrusts personal data to have the required contract clauses."),
        ("前回の指摘", "前回の点検で「いいえ」だった項目について、本人と面談し改善を確認した。", "Last findings", "Those who answered no last time were interviewed and the improvement was checked."),
    ];
    Q.iter()
        .map(|(label, text, label_en, text_en)| Question {
            label: (*label).into(),
            text: (*text).into(),
            label_en: Some((*label_en).into()),
            text_en: Some((*text_en).into()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn rows(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn default_sets_are_valid() {
        for set in [default_individual_set(), default_manager_set()] {
            let r: Vec<(String, String)> = set
                .iter()
                .map(|q| (q.label.clone(), q.text.clone()))
                .collect();
            let (qs, problems) = check_questions(&r);
            assert!(problems.is_empty(), "{problems:?}");
            let again: Vec<Question> = qs.into_iter().map(|q| q.with_english_of(&set)).collect();
            assert_eq!(
                again, set,
                "the English is kept while the Japanese is unchanged"
            );
            assert!(set
                .iter()
                .all(|q| q.label_en.is_some() && q.text_en.is_some()));
        }
        assert_eq!(default_individual_set().len(), 15);
    }

    #[test]
    fn question_sets_name_every_problem() {
        let (qs, p) = check_questions(&rows(&[
            ("", ""),
            ("画面ロック", "離席時に画面をロックしている。"),
            ("", "見出しがない質問"),
            ("長すぎる見出しです。十三文字", "質問"),
            ("画面ロック", ""),
            ("  ", "  "),
        ]));
        assert_eq!(qs.len(), 4, "empty rows are dropped");
        assert_eq!(
            p,
            vec![
                InspectionError::LabelMissing(2),
                InspectionError::LabelTooLong(3),
                InspectionError::DuplicateLabel(4, 1),
                InspectionError::TextMissing(4),
            ]
        );
        assert_eq!(p[0].field().as_deref(), Some("label-2"));
        assert_eq!(p[3].field().as_deref(), Some("text-4"));
        let (_, p) = check_questions(&rows(&[("", "")]));
        assert_eq!(p, vec![InspectionError::NoQuestions]);
        let many: Vec<(String, String)> = (0..=MAX_ITEMS)
            .map(|i| (format!("見出し{i}"), "質問".to_owned()))
            .collect();
        let (_, p) = check_questions(&many);
        assert_eq!(p, vec![InspectionError::TooManyQuestions(MAX_ITEMS + 1)]);
    }

    #[test]
    fn answers_need_every_item() {
        let input = vec![
            ReplyInput {
                reply: Some("yes".into()),
                note: "無視される".into(),
            },
            ReplyInput {
                reply: None,
                note: String::new(),
            },
            ReplyInput {
                reply: Some("maybe".into()),
                note: String::new(),
            },
        ];
        assert_eq!(
            check_answer(3, &input),
            Err(vec![
                InspectionError::Unanswered(2),
                InspectionError::Unanswered(3)
            ])
        );
        assert!(matches!(
            check_answer(4, &input),
            Err(v) if v == vec![InspectionError::WrongCount { given: 3, expected: 4 }]
        ));
        let ok = check_answer(
            2,
            &[
                ReplyInput {
                    reply: Some("yes".into()),
                    note: "はいの補足は残さない".into(),
                },
                ReplyInput {
                    reply: Some("no".into()),
                    note: " 鍵付きの棚が足りない ".into(),
                },
            ],
        )
        .unwrap();
        assert_eq!(ok[0].note, None);
        assert_eq!(ok[1].note.as_deref(), Some("鍵付きの棚が足りない"));
        assert!(needs_follow_up(&ok));
        let long = ReplyInput {
            reply: Some("no".into()),
            note: "あ".repeat(MAX_NOTE_CHARS + 1),
        };
        assert_eq!(
            check_answer(1, &[long]),
            Err(vec![InspectionError::NoteTooLong(1)])
        );
    }

    #[test]
    fn scores() {
        let mut t = Tally::default();
        assert_eq!(t.score(), None, "nobody answered: no score, not 0");
        t.add(Reply::NotApplicable);
        assert_eq!(t.score(), None, "only 該当なし: no score");
        t.add(Reply::Yes);
        t.add(Reply::Yes);
        t.add(Reply::Yes);
        t.add(Reply::No);
        assert_eq!(t.score(), Some(75.0));
        let none = Tally::default();
        let all = Tally {
            yes: 2,
            no: 0,
            na: 0,
        };
        assert_eq!(mean_score(&[t, none, all]), Some(87.5));
        assert_eq!(mean_score(&[none]), None);
    }

    #[test]
    fn the_round_window_follows_the_moved_days() {
        // December 2026: Thursday the 17th; January 2027's 17th is a Sunday → the 18th, so
        // December's round accepts answers until the 17th of January.
        let (o, c) = round_window(
            Month {
                year: 2026,
                month: 12,
            },
            17,
        )
        .unwrap();
        assert_eq!((o, c), (d(2026, 12, 17), d(2027, 1, 17)));
        let (o, c) = round_window(
            Month {
                year: 2027,
                month: 1,
            },
            17,
        )
        .unwrap();
        assert_eq!((o, c), (d(2027, 1, 18), d(2027, 2, 16)));
        // On Sunday 17 January 2027 December's round is still the open one.
        let (m, _, _) = round_open_on(d(2027, 1, 17), 17).unwrap();
        assert_eq!(m.key(), "2026-12");
        let (m, _, _) = round_open_on(d(2027, 1, 18), 17).unwrap();
        assert_eq!(m.key(), "2027-01");
        let (m, _, _) = round_open_on(d(2026, 12, 16), 17).unwrap();
        assert_eq!(m.key(), "2026-11");
    }

    #[test]
    fn reminders_on_the_day_and_three_business_days_later() {
        // Monday 18 January 2027 (moved from Sunday the 17th) → Thursday the 21st.
        assert_eq!(
            reminder_days(d(2027, 1, 18)).unwrap(),
            [d(2027, 1, 18), d(2027, 1, 21)]
        );
        // Thursday 17 December 2026 → Tuesday the 22nd (the weekend does not count).
        assert_eq!(
            reminder_days(d(2026, 12, 17)).unwrap(),
            [d(2026, 12, 17), d(2026, 12, 22)]
        );
    }

    #[test]
    fn codes_round_trip() {
        for a in Audience::ALL {
            assert_eq!(Audience::parse(a.code()), Some(a));
        }
        for r in [Reply::Yes, Reply::No, Reply::NotApplicable] {
            assert_eq!(Reply::parse(r.code()), Some(r));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.code()), Some(o));
        }
        assert_eq!(Reply::parse("はい"), None);
    }
}
