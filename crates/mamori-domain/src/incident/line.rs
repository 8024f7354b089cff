//! The timeline lines mamori writes itself, as values: a code with its parameters, stored as
//! JSON beside the Japanese text (`incident_events.msg`) and put into words when shown, in the
//! reader's language. Lines people type (notes, decisions' reasons) stay as typed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::facts::FactChange;
use super::obligation::{ChangeLine, ObligationKind};
use super::phase::Phase;
use super::phase::TaskStatus;
use super::ppc::Stage;
use super::publication::{Decision, Recommendation, Viewpoints};
use super::recurrence::Action;
use crate::appi::reason::thousands;
use crate::appi::Category;
use crate::lang::{Lang, Words};

/// Who a delivery is about: a person's name and masked address, or a masked address and the
/// mail's number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub name: Option<String>,
    pub masked: String,
    pub mail_id: i64,
}

impl Recipient {
    fn say(&self, lang: Lang) -> String {
        match (&self.name, lang) {
            (Some(n), Lang::Ja) => format!("{n}（{}）", self.masked),
            (Some(n), Lang::En) => format!("{n} ({})", self.masked),
            (None, Lang::Ja) => format!("{}（メール#{}）", self.masked, self.mail_id),
            (None, Lang::En) => format!("{} (mail #{})", self.masked, self.mail_id),
        }
    }
}

/// How a delivery went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Sent,
    Retrying,
    GaveUp,
    Permanent,
}

/// A ledger dataset named in a first report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetName {
    pub name: String,
    pub persons: Option<u64>,
}

/// One change of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum TaskChange {
    Due {
        from: Option<String>,
        to: Option<String>,
    },
    Owner {
        from: Option<String>,
        to: Option<String>,
    },
    Status {
        from: Option<TaskStatus>,
        to: TaskStatus,
    },
}

impl TaskChange {
    fn say_in(&self, lang: Lang) -> String {
        let none = lang.pick("なし", "none");
        let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| none.to_owned());
        match self {
            TaskChange::Due { from, to } => format!(
                "{} {} → {}",
                lang.pick("期限", "due"),
                or_none(from),
                or_none(to)
            ),
            TaskChange::Owner { from, to } => format!(
                "{} {} → {}",
                lang.pick("担当", "owner"),
                or_none(from),
                or_none(to)
            ),
            TaskChange::Status { from, to } => format!(
                "{} {} → {}",
                lang.pick("状態", "status"),
                from.map_or("-", |s| lang.pick(s.label_ja(), s.label_en())),
                lang.pick(to.label_ja(), to.label_en())
            ),
        }
    }
}

/// One line of the timeline written by mamori.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Line {
    FirstReport {
        drill: bool,
        reporter: String,
        department: String,
    },
    Datasets {
        datasets: Vec<DatasetName>,
    },
    Assessment {
        reportable: bool,
        categories: Vec<Category>,
        preliminary_due: Option<NaiveDate>,
        final_due: Option<NaiveDate>,
        /// The changes of the facts that caused it (empty at filing).
        because: Vec<FactChange>,
    },
    Obligation {
        change: ChangeLine,
        because: Vec<FactChange>,
    },
    Facts {
        changes: Vec<FactChange>,
    },
    PhaseStarted {
        phase: Phase,
    },
    PhaseMoved {
        phase: Phase,
    },
    SecondReport {
        version: i64,
    },
    ObligationDone {
        kind: ObligationKind,
        at: String,
    },
    ObligationReopened {
        kind: ObligationKind,
    },
    PpcSaved {
        stage: Stage,
        /// A number, or `{version}` until the store knows it.
        version: String,
    },
    PpcSubmitted {
        stage: Stage,
        version: i64,
        at: String,
    },
    PpcObligationDone {
        kind: ObligationKind,
        at: String,
        version: i64,
    },
    Alert {
        repeat: bool,
        level: i64,
        fallback: bool,
        names: Vec<String>,
    },
    MailDelivery {
        outcome: Delivery,
        to: Recipient,
        attempt: i64,
        error: Option<String>,
    },
    /// Somebody acknowledged, so the next level is not alerted.
    EscalationNotNeeded {
        next_level: i64,
        by: Option<String>,
    },
    Escalating {
        level: i64,
        minutes: i64,
    },
    EscalationUnanswered,
    AckByMail {
        name: String,
        level: i64,
    },
    AckOnScreen {
        name: String,
    },
    TaskAdded {
        title: String,
    },
    TaskChanged {
        title: String,
        template: Option<String>,
        changes: Vec<TaskChange>,
    },
    PublicationViewpoints {
        recommendation: Recommendation,
        viewpoints: Viewpoints,
    },
    /// `reason` as the person typed it.
    PublicationDecision {
        decision: Decision,
        recommendation: Recommendation,
        reason: String,
    },
    /// A webhook target refused at delivery (`unresolved`: its host did not resolve, retried),
    /// with the reason in both languages.
    WebhookRefused {
        host: String,
        unresolved: bool,
        why_ja: String,
        why_en: String,
    },
    /// A webhook delivery: `status` when it was answered, else `error` (`retry` when it will be
    /// tried again).
    WebhookDelivery {
        host: String,
        status: Option<u16>,
        retry: bool,
        error: Option<String>,
    },
    /// An obligation's reminder (`key`: `day3`, `day5`, `before7`, `before3`, `before1`,
    /// `overdue`, as in [`super::obligation::reminders`]).
    ObligationReminder {
        kind: ObligationKind,
        key: String,
        due: NaiveDate,
    },
    /// A task's reminder to its owner: overdue, or due tomorrow.
    TaskReminder {
        owner: String,
        title: String,
        template: Option<String>,
        due: NaiveDate,
        overdue: bool,
    },
    /// `comment` as the person typed it; `signature` is the department and name.
    Recurrence {
        action: Action,
        signature: String,
        comment: String,
    },
    /// The impact analysis was applied to the facts (issue 14): the persons it counted.
    ImpactApplied {
        persons: u64,
        identifier: u64,
        name: u64,
        unmatched: u64,
    },
    /// Notification campaigns (issue 14): a notice version saved / approved.
    NoticeSaved {
        version: i64,
    },
    NoticeApproved {
        version: i64,
    },
    /// A campaign started: persons, the notice version, the channel codes in order.
    CampaignStarted {
        persons: u64,
        version: i64,
        channels: Vec<String>,
    },
    /// The public notice (代替措置) covered this many unreachable persons.
    PublicNotice {
        covered: u64,
    },
}

fn viewpoints(v: &Viewpoints, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!(
            "管理主体: {} / 漏えい形態: {} / 漏えい内容: {} / 漏えい情報量: {}人 / 被害の大きさ: {}",
            v.manager.label_ja(),
            v.form.label_ja(),
            v.content.label_ja(),
            thousands(v.volume),
            v.damage.label_ja()
        ),
        Lang::En => format!(
            "Manager: {} / Form: {} / Content: {} / Volume: {} persons / Damage: {}",
            v.manager.label_en(),
            v.form.label_en(),
            v.content.label_en(),
            thousands(v.volume),
            v.damage.label_en()
        ),
    }
}

impl Line {
    fn more(&self, lang: Lang) -> Option<String> {
        let ja = lang == Lang::Ja;
        Some(match self {
            Line::EscalationNotNeeded { next_level, by } => {
                let by = by.as_deref().unwrap_or("-");
                if ja {
                    format!("確認済みのため、レベル{next_level}へのエスカレーションは行いません（確認: {by}）")
                } else {
                    format!("Acknowledged, so no escalation to level {next_level} (by {by})")
                }
            }
            Line::Escalating { level, minutes } => {
                if ja {
                    format!("レベル{level}の誰も{minutes}分以内に確認しなかったため、エスカレーションします")
                } else {
                    format!("Nobody on level {level} acknowledged within {minutes} minutes; escalating")
                }
            }
            Line::EscalationUnanswered => lang
                .pick(
                    "連絡網の最上位に繰り返し通知しましたが、まだ誰も確認していません。電話で連絡してください",
                    "The top of the call tree was alerted repeatedly and nobody has acknowledged yet. Call them",
                )
                .to_owned(),
            Line::AckByMail { name, level } => {
                if ja {
                    format!("アラートを確認しました（{name}、レベル{level}のメールのリンクから）")
                } else {
                    format!("Alert acknowledged ({name}, from the link in the level {level} mail)")
                }
            }
            Line::AckOnScreen { name } => {
                if ja {
                    format!("アラートを確認しました（{name}、画面から）")
                } else {
                    format!("Alert acknowledged ({name}, on the page)")
                }
            }
            Line::TaskAdded { title } => {
                if ja {
                    format!("タスクを追加しました: {title}")
                } else {
                    format!("Task added: {title}")
                }
            }
            Line::TaskChanged {
                title,
                template,
                changes,
            } => {
                let title = super::Phase::show_task_title(template.as_deref(), title, lang);
                let changes: Vec<String> = changes.iter().map(|c| c.say_in(lang)).collect();
                if ja {
                    format!("タスク「{title}」: {}", changes.join("、"))
                } else {
                    format!("Task “{title}”: {}", changes.join(", "))
                }
            }
            Line::PublicationViewpoints {
                recommendation,
                viewpoints: v,
            } => {
                if ja {
                    format!(
                        "公表判断の視点を記録しました（推奨: {}）\n{}",
                        recommendation.label_ja(),
                        viewpoints(v, lang)
                    )
                } else {
                    format!(
                        "Publication viewpoints recorded (recommended: {})\n{}",
                        recommendation.label_en(),
                        viewpoints(v, lang)
                    )
                }
            }
            Line::PublicationDecision {
                decision,
                recommendation,
                reason,
            } => {
                if ja {
                    format!(
                        "公表判断: 「{}」と決定しました（推奨: {}）\n理由: {reason}",
                        decision.label_ja(),
                        recommendation.label_ja()
                    )
                } else {
                    format!(
                        "Publication: decided “{}” (recommended: {})\nReason: {reason}",
                        decision.label_en(),
                        recommendation.label_en()
                    )
                }
            }
            Line::Recurrence {
                action,
                signature,
                comment,
            } => {
                let mut text = if ja {
                    format!("再発防止策: {}（{signature}）", action.label_ja())
                } else {
                    format!("Recurrence prevention: {} ({signature})", action.label_en())
                };
                if !comment.is_empty() {
                    text.push_str(lang.pick("\nコメント: ", "\nComment: "));
                    text.push_str(comment);
                }
                text
            }
            Line::WebhookRefused {
                host,
                unresolved,
                why_ja,
                why_en,
            } => match (unresolved, ja) {
                (true, true) => {
                    format!("Webhookの通知に失敗しました → {host}（再試行します）: {why_ja}")
                }
                (false, true) => format!(
                    "Webhookの送信先が許可されていないため送信しませんでした → {host}: {why_ja}"
                ),
                (true, false) => format!("Webhook failed → {host} (will retry): {why_en}"),
                (false, false) => {
                    format!("Webhook not sent: the target is not allowed → {host}: {why_en}")
                }
            },
            Line::WebhookDelivery {
                host,
                status,
                retry,
                error,
            } => {
                let e = error.as_deref().unwrap_or_default();
                match (status, retry, ja) {
                    (Some(st), _, true) => format!("Webhookで通知しました → {host}（HTTP {st}）"),
                    (Some(st), _, false) => format!("Webhook delivered → {host} (HTTP {st})"),
                    (None, true, true) => {
                        format!("Webhookの通知に失敗しました → {host}（再試行します）: {e}")
                    }
                    (None, true, false) => format!("Webhook failed → {host} (will retry): {e}"),
                    (None, false, true) => format!("Webhookで通知できませんでした → {host}: {e}"),
                    (None, false, false) => format!("Webhook could not be delivered → {host}: {e}"),
                }
            }
            Line::ObligationReminder { kind, key, due } => {
                let label = kind.label(lang);
                let before = key
                    .strip_prefix("before")
                    .and_then(|n| n.parse::<u32>().ok());
                let what = match (key.as_str(), before, ja) {
                    ("day3", _, true) => format!("{label}: 本日が3日目です（期限 {due}）"),
                    ("day3", _, false) => format!("{label}: today is day 3 (due {due})"),
                    ("day5", _, true) => format!("{label}: 本日 {due} が期限（5日目）です"),
                    ("day5", _, false) => format!("{label}: due today, {due} (day 5)"),
                    (_, Some(n), true) => format!("{label}: 期限 {due} まであと{n}日です"),
                    (_, Some(n), false) => format!("{label}: {n} days left until {due}"),
                    (_, None, true) => format!("{label}: 期限 {due} を過ぎています"),
                    (_, None, false) => format!("{label}: the due date {due} has passed"),
                };
                format!("{}{what}", lang.pick("リマインダー: ", "Reminder: "))
            }
            Line::TaskReminder {
                owner,
                title,
                template,
                due,
                overdue,
            } => {
                let title = super::Phase::show_task_title(template.as_deref(), title, lang);
                match (overdue, ja) {
                    (true, true) => format!(
                        "リマインダー（{owner}）: タスク「{title}」の期限 {due} を過ぎています"
                    ),
                    (false, true) => {
                        format!("リマインダー（{owner}）: タスク「{title}」の期限は明日 {due} です")
                    }
                    (true, false) => format!(
                        "Reminder ({owner}): the task “{title}” was due {due}"
                    ),
                    (false, false) => {
                        format!("Reminder ({owner}): the task “{title}” is due tomorrow, {due}")
                    }
                }
            }
            Line::NoticeSaved { version } => {
                if ja {
                    format!("本人への通知文を保存しました（第{version}版）")
                } else {
                    format!("Notice to the persons saved (version {version})")
                }
            }
            Line::NoticeApproved { version } => {
                if ja {
                    format!("本人への通知文（第{version}版）を承認しました")
                } else {
                    format!("Notice to the persons approved (version {version})")
                }
            }
            Line::CampaignStarted {
                persons,
                version,
                channels,
            } => {
                let names: Vec<&str> = channels
                    .iter()
                    .map(|c| match (c.as_str(), ja) {
                        ("post", true) => "郵送",
                        ("email", true) => "電子メール",
                        ("phone", true) => "電話",
                        ("post", false) => "post",
                        ("email", false) => "e-mail",
                        ("phone", false) => "phone",
                        (other, _) => other,
                    })
                    .collect();
                if ja {
                    format!(
                        "本人への通知を開始しました（対象{}人、通知文第{version}版、手段 {}）",
                        thousands(*persons),
                        names.join("→")
                    )
                } else {
                    format!(
                        "Notice to the persons started ({} persons, notice version {version}, by {})",
                        thousands(*persons),
                        names.join(" → ")
                    )
                }
            }
            Line::PublicNotice { covered } => {
                if ja {
                    format!("本人への通知が困難な{}人について、公表（代替措置）を行いました", thousands(*covered))
                } else {
                    format!("Public notice published as the alternative measure for {} persons who could not be reached", thousands(*covered))
                }
            }
            _ => return None,
        })
    }
}

/// A category in words (施行規則7条の号).
pub fn category_label(c: Category, lang: Lang) -> &'static str {
    match c {
        Category::Sensitive => lang.pick("要配慮個人情報", "sensitive personal information"),
        Category::Financial => lang.pick("財産的被害のおそれ", "possible financial loss"),
        Category::Malicious => lang.pick("不正の目的のおそれ", "possible wrongful purpose"),
        Category::Over1000 => lang.pick("千人超", "more than 1,000 persons"),
    }
}

fn changes(c: &[FactChange], lang: Lang) -> String {
    c.iter()
        .map(|c| c.say(lang))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "-".into(), |d| d.to_string())
}

impl Line {
    /// The words in `lang` as shown on a page.
    pub fn show(&self, lang: Lang) -> String {
        self.say(lang)
    }
}

impl Words for Line {
    /// The text stored beside the code (what exports and older readers see).
    fn ja(&self) -> String {
        let ja = Lang::Ja;
        match self {
            Line::FirstReport {
                drill,
                reporter,
                department,
            } => format!(
                "{}第一報を受け付けました（報告者: {reporter}、部署: {department}）",
                if *drill { "【訓練】" } else { "" },
            ),
            Line::Datasets { datasets } => {
                let names: Vec<String> = datasets
                    .iter()
                    .map(|d| match d.persons {
                        Some(n) => format!("{}（台帳上 {}人）", d.name, thousands(n)),
                        None => format!("{}（人数未登録）", d.name),
                    })
                    .collect();
                format!(
                    "関係する台帳: {}。台帳の項目を事実に加えました",
                    names.join("、")
                )
            }
            Line::Assessment {
                reportable,
                categories,
                preliminary_due,
                final_due,
                because,
            } => {
                let line = if *reportable {
                    let cats: Vec<&str> =
                        categories.iter().map(|c| category_label(*c, ja)).collect();
                    format!(
                        "判定: 個人情報保護委員会への報告対象（{}）。速報期限 {}、確報期限 {}",
                        cats.join("、"),
                        date(*preliminary_due),
                        date(*final_due)
                    )
                } else {
                    "判定: 現時点の事実では個人情報保護委員会への報告対象ではありません".to_owned()
                };
                if because.is_empty() {
                    line
                } else {
                    format!("{line}（理由: {}）", changes(because, ja))
                }
            }
            Line::Obligation { change, because } => {
                if because.is_empty() {
                    change.ja()
                } else {
                    format!("{}（{}）", change.ja(), changes(because, ja))
                }
            }
            Line::Facts { changes: c } => format!("事実を更新しました: {}", changes(c, ja)),
            Line::ImpactApplied {
                persons,
                identifier,
                name,
                unmatched,
            } => format!(
                "影響範囲の特定結果を事実に反映しました: {}人（識別子で一致 {}人、氏名＋生年月日・住所で一致 {}人、台帳に該当なし {}人）",
                thousands(*persons),
                thousands(*identifier),
                thousands(*name),
                thousands(*unmatched)
            ),
            Line::PhaseStarted { phase } => format!("フェーズ1「{}」を開始しました", phase.label_ja()),
            Line::PhaseMoved { phase } => {
                format!("フェーズ{}「{}」に移りました", phase.number(), phase.label_ja())
            }
            Line::SecondReport { version } => {
                format!("第二報（第{version}版）を保存しました。以前の版も保存されています")
            }
            Line::ObligationDone { kind, at } => {
                format!("義務を完了しました: {}（{at}）", kind.label_ja())
            }
            Line::ObligationReopened { kind } => {
                format!("義務を未完了に戻しました: {}", kind.label_ja())
            }
            Line::PpcSaved { stage, version } => format!(
                "個人情報保護委員会への報告（{}）第{version}版を保存しました。以前の版も保存されています",
                stage.label_ja()
            ),
            Line::PpcSubmitted { stage, version, at } => format!(
                "個人情報保護委員会への報告（{}）第{version}版を提出済みにしました（{at}）",
                stage.label_ja()
            ),
            Line::PpcObligationDone { kind, at, version } => format!(
                "義務を完了しました: {}（{at}、第{version}版の提出）",
                kind.label_ja()
            ),
            Line::Alert {
                repeat,
                level,
                fallback,
                names,
            } => format!(
                "{}アラートを送信します（レベル{level}{}）: {}",
                if *repeat { "再" } else { "" },
                if *fallback {
                    "、連絡網が未設定のため個人情報保護管理者・CISO"
                } else {
                    ""
                },
                names.join("、")
            ),
            Line::MailDelivery {
                outcome,
                to,
                attempt,
                error,
            } => {
                let to = to.say(ja);
                let e = error.as_deref().unwrap_or_default();
                match outcome {
                    Delivery::Sent => format!(
                        "メールを配信しました → {to}（SMTPサーバーが受理、{attempt}回目）"
                    ),
                    Delivery::GaveUp => format!(
                        "メールを配信できませんでした → {to}（{attempt}回失敗したため断念）: {e}"
                    ),
                    Delivery::Retrying => format!(
                        "メールの配信に失敗しました → {to}（{attempt}回目、再試行します）: {e}"
                    ),
                    Delivery::Permanent => {
                        format!("メールを配信できませんでした → {to}（恒久的なエラー）: {e}")
                    }
                }
            }
            other => other.more(ja).unwrap_or_default(),
        }
    }

    fn en(&self) -> String {
        let en = Lang::En;
        match self {
            Line::FirstReport {
                drill,
                reporter,
                department,
            } => format!(
                "{}First report received (reporter: {reporter}, department: {department})",
                if *drill { "[Drill] " } else { "" },
            ),
            Line::Datasets { datasets } => {
                let names: Vec<String> = datasets
                    .iter()
                    .map(|d| match d.persons {
                        Some(n) => format!("{} ({} persons in the ledger)", d.name, thousands(n)),
                        None => format!("{} (number of persons not recorded)", d.name),
                    })
                    .collect();
                format!(
                    "Ledger entries involved: {}. Their items were added to the facts",
                    names.join(", ")
                )
            }
            Line::Assessment {
                reportable,
                categories,
                preliminary_due,
                final_due,
                because,
            } => {
                let line = if *reportable {
                    let cats: Vec<&str> =
                        categories.iter().map(|c| category_label(*c, en)).collect();
                    format!(
                        "Assessment: reportable to the PPC ({}). Preliminary report due {}, \
                         final report due {}",
                        cats.join(", "),
                        date(*preliminary_due),
                        date(*final_due)
                    )
                } else {
                    "Assessment: on the present facts, not reportable to the PPC".to_owned()
                };
                if because.is_empty() {
                    line
                } else {
                    format!("{line} (because: {})", changes(because, en))
                }
            }
            Line::Obligation { change, because } => {
                if because.is_empty() {
                    change.en()
                } else {
                    format!("{} ({})", change.en(), changes(because, en))
                }
            }
            Line::Facts { changes: c } => format!("Facts updated: {}", changes(c, en)),
            Line::ImpactApplied {
                persons,
                identifier,
                name,
                unmatched,
            } => format!(
                "The impact analysis was applied to the facts: {} persons ({} matched by identifier, {} by name + birth date or address, {} not in the vault)",
                thousands(*persons),
                thousands(*identifier),
                thousands(*name),
                thousands(*unmatched)
            ),
            Line::PhaseStarted { phase } => {
                format!("Phase 1 “{}” started", phase.label_en())
            }
            Line::PhaseMoved { phase } => {
                format!("Moved to phase {} “{}”", phase.number(), phase.label_en())
            }
            Line::SecondReport { version } => {
                format!("Second report (version {version}) saved. Earlier versions are kept too")
            }
            Line::ObligationDone { kind, at } => {
                format!("Obligation fulfilled: {} ({at})", kind.label_en())
            }
            Line::ObligationReopened { kind } => {
                format!("Obligation marked open again: {}", kind.label_en())
            }
            Line::PpcSaved { stage, version } => format!(
                "Report to the PPC ({}) version {version} saved. Earlier versions are kept too",
                stage.label_en()
            ),
            Line::PpcSubmitted { stage, version, at } => format!(
                "Report to the PPC ({}) version {version} marked as submitted ({at})",
                stage.label_en()
            ),
            Line::PpcObligationDone { kind, at, version } => format!(
                "Obligation fulfilled: {} ({at}, version {version} submitted)",
                kind.label_en()
            ),
            Line::Alert {
                repeat,
                level,
                fallback,
                names,
            } => format!(
                "{} (level {level}{}): {}",
                if *repeat {
                    "Sending the alert again"
                } else {
                    "Sending the alert"
                },
                if *fallback {
                    ", no call tree set up, so to the privacy office and the CISO"
                } else {
                    ""
                },
                names.join(", ")
            ),
            Line::MailDelivery {
                outcome,
                to,
                attempt,
                error,
            } => {
                let to = to.say(en);
                let e = error.as_deref().unwrap_or_default();
                match outcome {
                    Delivery::Sent => format!(
                        "Mail delivered → {to} (accepted by the SMTP server, attempt {attempt})"
                    ),
                    Delivery::GaveUp => format!(
                        "Mail could not be delivered → {to} (gave up after {attempt} attempts): {e}"
                    ),
                    Delivery::Retrying => {
                        format!("Mail delivery failed → {to} (attempt {attempt}, will retry): {e}")
                    }
                    Delivery::Permanent => {
                        format!("Mail could not be delivered → {to} (permanent error): {e}")
                    }
                }
            }
            other => other.more(en).unwrap_or_default(),
        }
    }
}

/// A timeline row as shown: its code's words in the reader's language when it has one that
/// this release reads, else its stored text (rows written before codes, or by a newer release).
/// An old assessment line's category codes (「報告対象（over_1000）」) are put into words.
pub fn show_row(msg: Option<&str>, text: &str, lang: Lang) -> String {
    msg.and_then(|m| serde_json::from_str::<Line>(m).ok())
        .map_or_else(|| legacy(text), |l| l.show(lang))
}

fn legacy(text: &str) -> String {
    const HEAD: &str = "判定: 個人情報保護委員会への報告対象（";
    let Some(rest) = text.strip_prefix(HEAD) else {
        return text.to_owned();
    };
    let Some((codes, tail)) = rest.split_once('）') else {
        return text.to_owned();
    };
    let words: Option<Vec<&str>> = codes
        .split(", ")
        .map(|c| {
            [
                Category::Sensitive,
                Category::Financial,
                Category::Malicious,
                Category::Over1000,
            ]
            .into_iter()
            .find(|k| k.code() == c)
            .map(|k| category_label(k, Lang::Ja))
        })
        .collect();
    match words {
        Some(w) => format!("{HEAD}{}）{tail}", w.join("、")),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_round_trips_and_an_old_row_shows_its_text() {
        let l = Line::Assessment {
            reportable: true,
            categories: vec![Category::Over1000],
            preliminary_due: "2026-04-11".parse().ok(),
            final_due: "2026-05-07".parse().ok(),
            because: vec![FactChange::Persons {
                from: Some(800),
                to: Some(1001),
            }],
        };
        assert_eq!(
            l.ja(),
            "判定: 個人情報保護委員会への報告対象（千人超）。速報期限 2026-04-11、確報期限 2026-05-07（理由: 本人の数: 800 → 1,001）"
        );
        let json = serde_json::to_string(&l).unwrap();
        assert!(!show_row(Some(&json), "x", Lang::Ja).contains("over_1000"));
        assert!(show_row(Some(&json), "x", Lang::Ja).contains("千人超"));
        assert_eq!(
            show_row(Some(&json), "x", Lang::En),
            "Assessment: reportable to the PPC (more than 1,000 persons). Preliminary report due \
             2026-04-11, final report due 2026-05-07 (because: Persons: 800 → 1,001)"
        );
        assert_eq!(show_row(None, "古い行", Lang::En), "古い行");
        assert_eq!(
            show_row(
                None,
                "判定: 個人情報保護委員会への報告対象（financial, over_1000）。速報期限 -、確報期限 -",
                Lang::Ja
            ),
            "判定: 個人情報保護委員会への報告対象（財産的被害のおそれ、千人超）。速報期限 -、確報期限 -"
        );
        assert_eq!(
            show_row(Some("{\"code\":\"future\"}"), "新しい行", Lang::En),
            "新しい行"
        );
    }

    /// The stored text of a reminder line is what it was before lines had codes.
    #[test]
    fn reminder_lines_keep_their_japanese_text() {
        use super::super::obligation::reminders;
        let due: NaiveDate = "2026-05-07".parse().unwrap();
        for kind in ObligationKind::ALL {
            for r in reminders(kind, Some(due), "2026-05-03".parse().ok()) {
                let line = Line::ObligationReminder {
                    kind,
                    key: r.key.to_owned(),
                    due,
                };
                assert_eq!(line.ja(), format!("リマインダー: {}", r.text_ja));
                assert!(line.en().starts_with("Reminder: "), "{}", line.en());
            }
        }
    }
}
