//! One reason of an assessment: which rule applied and with what, as a value. Its Japanese
//! words ([`Words::ja`]) are the `reasons` lines of the §9 contract, byte for byte; its English
//! words are for readers of the English pages.

use chrono::NaiveDate;

use super::deadline::FinalDeadline;
use super::facts::Event;
use super::item::Item;
use crate::lang::Words;

/// Why an event is not a leak, loss or damage at all (§1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotBreach {
    IntentionalProvision,
    RecoveredBeforeViewed,
    HeldElsewhere,
    BackupExists,
}

/// One line of the reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Day 1 is the day of knowing; `time` (RFC 3339) when it was given with another offset.
    Knowing {
        time: Option<String>,
        knew_on: NaiveDate,
    },
    NotABreach {
        event: Event,
        why: NotBreach,
    },
    Breach {
        event: Event,
        suspected: bool,
    },
    Pseudonymized,
    HighGradeEncryption,
    NoPersons,
    NoCategory,
    BeingAcquired,
    Sensitive(Vec<Item>),
    Financial(Vec<Item>),
    CardPartsOnly,
    LoginAndPassword,
    Malicious,
    Over1000(u64),
    Near1000(u64),
    MyNumberBeingAcquired,
    MyNumberMalicious,
    MyNumberOver100(u64),
    MyNumberNotReportable(u64),
    EntrusterToNotify {
        prompt_until: NaiveDate,
    },
    EntrusterToldPromptly {
        on: NaiveDate,
        day: i64,
    },
    EntrusterToldLate {
        on: NaiveDate,
        day: i64,
    },
    Preliminary {
        warning: NaiveDate,
        due: NaiveDate,
    },
    Final {
        deadline: FinalDeadline,
        malicious: bool,
    },
    MyNumberFinal(FinalDeadline),
    NoticeDirect,
    ContactInfoMissing,
    NoticeAlternative,
    MyNumberNotice,
    /// Notes on facts not yet known (the application's incident facts).
    UnknownEvent,
    UnknownPersons,
    UnknownContact,
}

fn event_en(e: Event) -> &'static str {
    match e {
        Event::Leak => "leak",
        Event::Loss => "loss",
        Event::Damage => "damage",
    }
}

fn labels_ja(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| i.label_ja())
        .collect::<Vec<_>>()
        .join("、")
}

fn labels_en(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| i.label_en())
        .collect::<Vec<_>>()
        .join(", ")
}

/// 1001 → "1,001".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|group| std::str::from_utf8(group).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(",")
}

impl Words for Reason {
    fn ja(&self) -> String {
        match self {
            Reason::Knowing {
                time: Some(time),
                knew_on,
            } => format!(
                "通則編3-5-3-3: 知った時点 {time} は日本時間で {knew_on}。この日を1日目として数える"
            ),
            Reason::Knowing { time: None, knew_on } => {
                format!("通則編3-5-3-3: 知った日 {knew_on}（日本時間）を1日目として数える")
            }
            Reason::NotABreach { event, why } => {
                let why = match why {
                    NotBreach::IntentionalProvision => {
                        "意図的な提供は第三者提供の問題であり漏えいではない"
                    }
                    NotBreach::RecoveredBeforeViewed => {
                        "第三者に閲覧される前にすべて回収された（閲覧されていないことが確認できる）"
                    }
                    NotBreach::HeldElsewhere => "同じデータが他に保管されている",
                    NotBreach::BackupExists => "利用可能な複製（バックアップ等）がある",
                };
                format!("法26条1項: {}に当たらない（{why}）", event.label_ja())
            }
            Reason::Breach {
                event,
                suspected: true,
            } => format!(
                "法26条1項: {}のおそれ（おそれも発生したものと同様に扱う）",
                event.label_ja()
            ),
            Reason::Breach { event, .. } => format!("法26条1項: {}が発生", event.label_ja()),
            Reason::Pseudonymized => {
                "法41条9項: 仮名加工情報には漏えい等報告（法26条）が適用されないため報告対象外".into()
            }
            Reason::HighGradeEncryption => {
                "施行規則7条1号かっこ書: 高度な暗号化その他の保護措置が講じられているため報告対象外\
                 （任意の報告は可能）"
                    .into()
            }
            Reason::NoPersons => "施行規則7条: 本人の数が0人のため報告対象事態に当たらない".into(),
            Reason::NoCategory => {
                "施行規則7条: 報告対象事態のいずれにも当たらないため報告義務なし（任意の報告は可能）"
                    .into()
            }
            Reason::BeingAcquired => {
                "施行規則7条3号かっこ書: 取得しようとしている個人情報は3号（不正の目的）に限り対象\
                 （1号・2号・4号は取り扱っている個人データのみ）"
                    .into()
            }
            Reason::Sensitive(items) => {
                format!("施行規則7条1号: 要配慮個人情報（{}）", labels_ja(items))
            }
            Reason::Financial(items) => format!(
                "施行規則7条2号: {}（不正利用により財産的被害が生じるおそれ）",
                labels_ja(items)
            ),
            Reason::CardPartsOnly => {
                "施行規則7条2号に当たらない: カード番号の下4桁・有効期限のみでは財産的被害のおそれはない"
                    .into()
            }
            Reason::LoginAndPassword => {
                "施行規則7条2号の確認: ログインIDとパスワードの組が決済・送金機能のあるサービスのもの\
                 なら2号に当たる（その場合は payment_service_credentials として入力）"
                    .into()
            }
            Reason::Malicious => {
                "施行規則7条3号: 不正の目的をもって行われたおそれがある漏えい等（外部からの攻撃、\
                 盗難、内部不正。委託先・クラウドへの攻撃を含む）"
                    .into()
            }
            Reason::Over1000(n) => {
                format!("施行規則7条4号: 本人の数 {}人（千人を超える）", thousands(*n))
            }
            Reason::Near1000(n) => format!(
                "施行規則7条4号に当たらない: 本人の数 {}人（千人以下。千人を超えた時点で報告対象）",
                thousands(*n)
            ),
            Reason::MyNumberBeingAcquired => {
                "番号法: 取得しようとしている特定個人情報は報告対象外（取得中の拡張は番号法にはない）"
                    .into()
            }
            Reason::MyNumberMalicious => {
                "番号法29条の4・特定個人情報漏えい等報告規則2条: 不正の目的をもって行われたおそれ"
                    .into()
            }
            Reason::MyNumberOver100(n) => format!(
                "番号法29条の4・特定個人情報漏えい等報告規則2条: 本人の数 {}人（100人を超える）",
                thousands(*n)
            ),
            Reason::MyNumberNotReportable(n) => format!(
                "番号法: 本人の数 {}人（100人以下）で不正目的のおそれもないため報告義務なし。\
                 公的機関等の番号利用事務のシステムからの漏えい、不特定多数に閲覧されたおそれがあれば\
                 報告対象（入力にない事情のため判定していない）。報告義務がなくても報告に努める",
                thousands(*n)
            ),
            Reason::EntrusterToNotify { prompt_until } => format!(
                "法26条1項ただし書・施行規則9条: 委託先は委託元へ速やかに（5日目 {prompt_until} まで\
                 に）通知すれば報告・本人通知を免除される。委託元への通知が必要"
            ),
            Reason::EntrusterToldPromptly { on, day } => format!(
                "法26条1項ただし書・施行規則9条: 委託元へ {on}（{day}日目）に速やかに\
                 通知済みのため委託先は報告・本人通知を免除。委託元が報告・通知する"
            ),
            Reason::EntrusterToldLate { on, day } => format!(
                "法26条1項ただし書・施行規則9条: 委託元への通知が {on}（{day}日目）で\
                 速やかとはいえないため、委託先の報告・本人通知は免除されない"
            ),
            Reason::Preliminary { warning, due } => format!(
                "施行規則8条1項: 速報は速やかに（3日目 {warning} を目安、5日目 {due} を期限とする）"
            ),
            Reason::Final {
                deadline,
                malicious,
            } => format!(
                "施行規則8条2項: 確報は{}日以内{}: {}",
                deadline.days,
                if *malicious {
                    "（不正の目的によるおそれ）"
                } else {
                    ""
                },
                deadline.describe_ja()
            ),
            Reason::MyNumberFinal(deadline) => format!(
                "番号法29条の4・特定個人情報漏えい等報告規則: 確報は{}日以内: {}",
                deadline.days,
                deadline.describe_ja()
            ),
            Reason::NoticeDirect => {
                "施行規則10条: 本人へ直接通知する（書面・電子メール等。状況に応じ速やかに）".into()
            }
            Reason::ContactInfoMissing => {
                "contact_info_available の指定がないため false（連絡先なし）として扱った".into()
            }
            Reason::NoticeAlternative => {
                "法26条2項ただし書: 本人への通知が困難（連絡先がない）ため代替措置（事案の公表、\
                 または本人が問い合わせできる窓口の公表）"
                    .into()
            }
            Reason::MyNumberNotice => {
                "特定個人情報漏えい等報告規則5条: 本人への通知（番号法）".into()
            }
            Reason::UnknownEvent => {
                "事象の種類が未確定のため、漏えいのおそれとして判定しています（施行規則7条: おそれを含む）"
                    .into()
            }
            Reason::UnknownPersons => {
                "本人の数が未確定のため0人として判定しています。1,000人を超えるおそれがあれば最大数を入力してください（施行規則7条4号）"
                    .into()
            }
            Reason::UnknownContact => {
                "本人の連絡先の有無が未確認のため、直接の通知ができるものとして判定しています。連絡先がない場合は「なし」を入力してください（施行規則10条）"
                    .into()
            }
        }
    }

    fn en(&self) -> String {
        match self {
            Reason::Knowing {
                time: Some(time),
                knew_on,
            } => format!(
                "General Rules Guidelines 3-5-3-3: the time of knowing {time} is {knew_on} in \
                 Japan; that day counts as day 1"
            ),
            Reason::Knowing {
                time: None,
                knew_on,
            } => format!(
                "General Rules Guidelines 3-5-3-3: the day of knowing, {knew_on} (Japan time), \
                 counts as day 1"
            ),
            Reason::NotABreach { event, why } => {
                let why = match why {
                    NotBreach::IntentionalProvision => {
                        "an intentional provision is a question of provision to a third party, \
                         not a leak"
                    }
                    NotBreach::RecoveredBeforeViewed => {
                        "everything was recovered before any third party viewed it (it can be \
                         confirmed that nobody viewed it)"
                    }
                    NotBreach::HeldElsewhere => "the same data is kept elsewhere",
                    NotBreach::BackupExists => "a usable copy (a backup or similar) exists",
                };
                format!("APPI Art. 26(1): not a {} ({why})", event_en(*event))
            }
            Reason::Breach {
                event,
                suspected: true,
            } => format!(
                "APPI Art. 26(1): a possible {} (a possible one is treated like one that happened)",
                event_en(*event)
            ),
            Reason::Breach { event, .. } => {
                format!("APPI Art. 26(1): a {} happened", event_en(*event))
            }
            Reason::Pseudonymized => "APPI Art. 41(9): breach reporting (Art. 26) does not apply \
                                      to pseudonymously processed information; not reportable"
                .into(),
            Reason::HighGradeEncryption => {
                "Enforcement Rules Art. 7(i), parenthesis: protected by high-grade encryption or \
                 equivalent measures; not reportable (a voluntary report is possible)"
                    .into()
            }
            Reason::NoPersons => {
                "Enforcement Rules Art. 7: no persons affected, so no reportable situation".into()
            }
            Reason::NoCategory => "Enforcement Rules Art. 7: none of the reportable situations \
                                   applies, so no duty to report (a voluntary report is possible)"
                .into(),
            Reason::BeingAcquired => {
                "Enforcement Rules Art. 7(iii), parenthesis: personal information being acquired \
                 counts only for no. 3 (wrongful purpose); nos. 1, 2 and 4 cover only personal \
                 data already handled"
                    .into()
            }
            Reason::Sensitive(items) => format!(
                "Enforcement Rules Art. 7(i): special care-required personal information ({})",
                labels_en(items)
            ),
            Reason::Financial(items) => format!(
                "Enforcement Rules Art. 7(ii): {} (possible financial loss if misused)",
                labels_en(items)
            ),
            Reason::CardPartsOnly => {
                "Not Enforcement Rules Art. 7(ii): the last four digits or the expiry of a card \
                 alone cause no possible financial loss"
                    .into()
            }
            Reason::LoginAndPassword => {
                "Enforcement Rules Art. 7(ii), to check: a login ID with its password falls under \
                 no. 2 if the service has payment or remittance functions (then enter it as \
                 payment_service_credentials)"
                    .into()
            }
            Reason::Malicious => {
                "Enforcement Rules Art. 7(iii): possibly caused with a wrongful purpose (an attack \
                 from outside, theft, an insider; attacks on contractors and clouds included)"
                    .into()
            }
            Reason::Over1000(n) => format!(
                "Enforcement Rules Art. 7(iv): {} persons (more than 1,000)",
                thousands(*n)
            ),
            Reason::Near1000(n) => format!(
                "Not Enforcement Rules Art. 7(iv): {} persons (1,000 or fewer; reportable once \
                 there are more than 1,000)",
                thousands(*n)
            ),
            Reason::MyNumberBeingAcquired => {
                "My Number Act: specific personal information being acquired is not reportable \
                 (the Act has no such extension)"
                    .into()
            }
            Reason::MyNumberMalicious => "My Number Act Art. 29-4 and its reporting rules Art. 2: \
                                          possibly caused with a wrongful purpose"
                .into(),
            Reason::MyNumberOver100(n) => format!(
                "My Number Act Art. 29-4 and its reporting rules Art. 2: {} persons (more than \
                 100)",
                thousands(*n)
            ),
            Reason::MyNumberNotReportable(n) => format!(
                "My Number Act: {} persons (100 or fewer) and no possible wrongful purpose, so no \
                 duty to report. A leak from a public body's My Number system, or possible viewing \
                 by an unspecified number of people, would be reportable (not in the input, so not \
                 assessed). Even without a duty, a report should be made",
                thousands(*n)
            ),
            Reason::EntrusterToNotify { prompt_until } => format!(
                "APPI Art. 26(1) proviso, Enforcement Rules Art. 9: a contractor that promptly \
                 (by day 5, {prompt_until}) tells its entruster is exempt from report and notice. \
                 The entruster must be told"
            ),
            Reason::EntrusterToldPromptly { on, day } => format!(
                "APPI Art. 26(1) proviso, Enforcement Rules Art. 9: the entruster was told \
                 promptly on {on} (day {day}), so the contractor is exempt from report and \
                 notice; the entruster reports and notifies"
            ),
            Reason::EntrusterToldLate { on, day } => format!(
                "APPI Art. 26(1) proviso, Enforcement Rules Art. 9: the entruster was told on \
                 {on} (day {day}), which is not prompt, so the contractor is not exempt"
            ),
            Reason::Preliminary { warning, due } => format!(
                "Enforcement Rules Art. 8(1): the preliminary report promptly (aim for day 3, \
                 {warning}; due on day 5, {due})"
            ),
            Reason::Final {
                deadline,
                malicious,
            } => format!(
                "Enforcement Rules Art. 8(2): the final report within {} days{}: {}",
                deadline.days,
                if *malicious {
                    " (possible wrongful purpose)"
                } else {
                    ""
                },
                deadline.describe_en()
            ),
            Reason::MyNumberFinal(deadline) => format!(
                "My Number Act Art. 29-4 and its reporting rules: the final report within {} \
                 days: {}",
                deadline.days,
                deadline.describe_en()
            ),
            Reason::NoticeDirect => "Enforcement Rules Art. 10: notify the persons directly \
                                     (letter, e-mail or similar; promptly as the situation allows)"
                .into(),
            Reason::ContactInfoMissing => {
                "contact_info_available was not given, so it was taken as false (no contact \
                 details)"
                    .into()
            }
            Reason::NoticeAlternative => {
                "APPI Art. 26(2) proviso: notice to the persons is difficult (no contact details), \
                 so alternative measures (publishing the case, or a contact point the persons can \
                 ask)"
                    .into()
            }
            Reason::MyNumberNotice => {
                "My Number reporting rules Art. 5: notice to the persons (My Number Act)".into()
            }
            Reason::UnknownEvent => "The kind of event is not yet known, so it is assessed as a \
                                     possible leak (Enforcement Rules Art. 7: possible ones count)"
                .into(),
            Reason::UnknownPersons => {
                "The number of persons is not yet known, so it is assessed as 0. If it may be \
                 more than 1,000, enter the largest possible number (Enforcement Rules Art. 7(iv))"
                    .into()
            }
            Reason::UnknownContact => {
                "Whether the persons' contact details exist is not yet known, so direct notice \
                 is assumed possible. If there are none, enter \"no\" (Enforcement Rules Art. 10)"
                    .into()
            }
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.ja())
    }
}

impl serde::Serialize for Reason {
    /// As the contract's Japanese line.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.ja())
    }
}
