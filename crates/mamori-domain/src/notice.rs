//! The notice to the persons concerned (本人への通知, appi.md §5): its parts, the check that
//! every required part is there before approval, the draft made from the incident, and the
//! rendering for one person (mail text and letter parts) listing only that person's items.
//!
//! A notice is stored as JSON (one row per version); Japanese is required, English optional
//! (when given, it must be complete too).

use serde::{Deserialize, Serialize};

use crate::appi::Item;
use crate::lang::Lang;

/// The text of a notice in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeText {
    /// Mail subject and letter title.
    pub subject: String,
    /// What happened (概要): the event, when, and how it was found.
    pub what_happened: String,
    /// The cause (原因).
    pub cause: String,
    /// Whether secondary damage occurred or may occur, and its nature (二次被害の有無・おそれ).
    pub secondary_damage: String,
    /// What the person can do (本人が取り得る措置).
    pub what_to_do: String,
    /// The contact point (問い合わせ窓口): name, telephone, hours.
    pub contact: String,
}

/// A notice: Japanese always, English when the company sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub ja: NoticeText,
    #[serde(default)]
    pub en: Option<NoticeText>,
}

/// A required part of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Subject,
    WhatHappened,
    Cause,
    SecondaryDamage,
    WhatToDo,
    Contact,
}

impl Part {
    pub const ALL: [Part; 6] = [
        Part::Subject,
        Part::WhatHappened,
        Part::Cause,
        Part::SecondaryDamage,
        Part::WhatToDo,
        Part::Contact,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::WhatHappened => "what_happened",
            Part::Cause => "cause",
            Part::SecondaryDamage => "secondary_damage",
            Part::WhatToDo => "what_to_do",
            Part::Contact => "contact",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Part::Subject => "件名",
            Part::WhatHappened => "事態の概要",
            Part::Cause => "原因",
            Part::SecondaryDamage => "二次被害又はそのおそれの有無及びその内容",
            Part::WhatToDo => "本人が取り得る措置",
            Part::Contact => "お問い合わせ窓口",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::WhatHappened => "what happened",
            Part::Cause => "cause",
            Part::SecondaryDamage => "secondary damage (occurred or possible)",
            Part::WhatToDo => "what you can do",
            Part::Contact => "contact point",
        }
    }

    pub fn get(self, t: &NoticeText) -> &str {
        match self {
            Part::Subject => &t.subject,
            Part::WhatHappened => &t.what_happened,
            Part::Cause => &t.cause,
            Part::SecondaryDamage => &t.secondary_damage,
            Part::WhatToDo => &t.what_to_do,
            Part::Contact => &t.contact,
        }
    }
}

/// A part missing from a notice, in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missing {
    pub lang: Lang,
    pub part: Part,
}

impl Missing {
    pub fn ja(self) -> String {
        let l = match self.lang {
            Lang::Ja => "日本語",
            Lang::En => "英語",
        };
        format!("{l}の「{}」が入力されていません", self.part.label_ja())
    }

    pub fn en(self) -> String {
        let l = match self.lang {
            Lang::Ja => "Japanese",
            Lang::En => "English",
        };
        format!("the {l} notice has no {}", self.part.label_en())
    }
}

/// The longest part accepted (characters).
pub const MAX_PART_CHARS: usize = 4000;

/// Every required part that is empty: all of them in Japanese, and in English when an English
/// text is given. Empty means approval is allowed.
pub fn missing_parts(n: &Notice) -> Vec<Missing> {
    let mut out = Vec::new();
    for (lang, text) in [(Lang::Ja, Some(&n.ja)), (Lang::En, n.en.as_ref())] {
        let Some(t) = text else { continue };
        for part in Part::ALL {
            if part.get(t).trim().is_empty() {
                out.push(Missing { lang, part });
            }
        }
    }
    out
}

/// A part longer than [`MAX_PART_CHARS`], if any.
pub fn too_long(n: &Notice) -> Option<(Lang, Part)> {
    for (lang, text) in [(Lang::Ja, Some(&n.ja)), (Lang::En, n.en.as_ref())] {
        let Some(t) = text else { continue };
        for part in Part::ALL {
            if part.get(t).chars().count() > MAX_PART_CHARS {
                return Some((lang, part));
            }
        }
    }
    None
}

/// What the draft is made from.
#[derive(Debug, Clone, Default)]
pub struct DraftInput<'a> {
    pub company_name: &'a str,
    pub title: &'a str,
    /// The first report's description.
    pub description: &'a str,
    /// The event in words (漏えい / 滅失 / 毀損, leak / loss / damage).
    pub event_ja: &'a str,
    pub event_en: &'a str,
    /// When it happened or was found, as a JST date (`2026年12月1日` / `2026-12-01`).
    pub date_ja: &'a str,
    pub date_en: &'a str,
    /// The cause from the second report, when written.
    pub cause: Option<&'a str>,
    /// Whether the leak was malicious (secondary damage more likely).
    pub malicious: bool,
    /// The items concerned (the whole incident's; each person's letter lists their own).
    pub items: &'a [Item],
}

/// A first draft the privacy office edits: every part filled from what the incident says,
/// the contact point left for the company to write (so approval names it until it is).
pub fn draft(d: &DraftInput<'_>) -> Notice {
    let cards = d.items.contains(&Item::CreditCardNumber);
    let ja = NoticeText {
        subject: format!("【重要】個人情報の{}に関するお知らせとお詫び", d.event_ja),
        what_happened: format!(
            "{}、{}において、お客様の個人情報の{}が発生いたしました（{}）。{}",
            d.date_ja, d.company_name, d.event_ja, d.title, d.description
        )
        .trim()
        .to_owned(),
        cause: d
            .cause
            .unwrap_or("現在調査中です。判明次第お知らせいたします。")
            .to_owned(),
        secondary_damage: if d.malicious {
            "現時点で二次被害は確認されておりませんが、不正に利用されるおそれがあります。".into()
        } else {
            "現時点で二次被害は確認されておりません。".into()
        },
        what_to_do: if cards {
            "身に覚えのない請求がないかご確認のうえ、カード会社にご連絡ください。不審な電話やメールにはご注意ください。".into()
        } else {
            "不審な電話やメール、郵便物にはご注意ください。".into()
        },
        contact: String::new(),
    };
    let en = NoticeText {
        subject: format!(
            "Important: notice of a {} of your personal information",
            d.event_en
        ),
        what_happened: format!(
            "On {}, a {} of personal information occurred at {} ({}).",
            d.date_en, d.event_en, d.company_name, d.title
        ),
        cause: d
            .cause
            .map_or("We are still investigating and will inform you.", |_| {
                "See the Japanese text."
            })
            .to_owned(),
        secondary_damage: if d.malicious {
            "No secondary damage is known so far, but the information may be misused.".into()
        } else {
            "No secondary damage is known so far.".into()
        },
        what_to_do: if cards {
            "Please check your card statements for charges you do not recognise and contact your card company. Beware of suspicious calls and e-mail.".into()
        } else {
            "Please beware of suspicious calls, e-mail and letters.".into()
        },
        contact: String::new(),
    };
    Notice { ja, en: Some(en) }
}

/// The items of one person in the notice's language, in appi.md §9 order.
pub fn item_list(items: &[Item], lang: Lang) -> String {
    let mut v: Vec<Item> = items.to_vec();
    v.sort_by_key(|i| Item::ALL.iter().position(|x| x == i));
    v.dedup();
    let sep = match lang {
        Lang::Ja => "、",
        Lang::En => ", ",
    };
    v.iter()
        .map(|i| match lang {
            Lang::Ja => i.label_ja(),
            Lang::En => i.label_en(),
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// The parts of a letter for one person; the lead maps them to `mamori_pdf::letter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterParts {
    pub title: String,
    /// `山田 太郎 様` (or a general salutation when the name is unknown).
    pub salutation: String,
    /// Headed sections in order: what happened, the person's items, cause, secondary damage,
    /// what to do, contact.
    pub sections: Vec<(String, String)>,
    /// The reference number printed on the letter.
    pub reference: String,
}

/// The notice for one person: their name (if known), their items, the letter's reference.
pub fn letter(
    n: &Notice,
    lang: Lang,
    name: Option<&str>,
    items: &[Item],
    reference: &str,
) -> LetterParts {
    let t = match lang {
        Lang::En => n.en.as_ref().unwrap_or(&n.ja),
        Lang::Ja => &n.ja,
    };
    let lang = if lang == Lang::En && n.en.is_some() {
        Lang::En
    } else {
        Lang::Ja
    };
    let name = name.map(str::trim).filter(|s| !s.is_empty());
    let salutation = match (lang, name) {
        (Lang::Ja, Some(n)) => format!("{n} 様"),
        (Lang::Ja, None) => "お客様各位".into(),
        (Lang::En, Some(n)) => format!("Dear {n},"),
        (Lang::En, None) => "Dear customer,".into(),
    };
    let items_heading = match lang {
        Lang::Ja => "対象となるお客様の個人情報の項目",
        Lang::En => "Your information concerned",
    };
    let label = |p: Part| match lang {
        Lang::Ja => p.label_ja().to_owned(),
        Lang::En => {
            let l = p.label_en();
            let mut c = l.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    };
    let sections = vec![
        (label(Part::WhatHappened), t.what_happened.clone()),
        (items_heading.to_owned(), item_list(items, lang)),
        (label(Part::Cause), t.cause.clone()),
        (label(Part::SecondaryDamage), t.secondary_damage.clone()),
        (label(Part::WhatToDo), t.what_to_do.clone()),
        (label(Part::Contact), t.contact.clone()),
    ];
    LetterParts {
        title: t.subject.clone(),
        salutation,
        sections,
        reference: reference.to_owned(),
    }
}

/// The mail body for one person: the letter's parts as plain text, `\n` line ends.
pub fn mail_text(parts: &LetterParts) -> String {
    let mut s = String::new();
    s.push_str(&parts.salutation);
    s.push_str("\n\n");
    for (h, body) in &parts.sections {
        s.push_str("■ ");
        s.push_str(h);
        s.push('\n');
        s.push_str(body.trim());
        s.push_str("\n\n");
    }
    s.push_str("No. ");
    s.push_str(&parts.reference);
    s.push('\n');
    s
}

/// The text of the public notice (代替措置): the notice without a person's items (the
/// incident's items instead) and without a salutation.
pub fn public_text(n: &Notice, lang: Lang, items: &[Item]) -> LetterParts {
    let mut p = letter(n, lang, None, items, "");
    p.salutation = String::new();
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Notice {
        let mut n = draft(&DraftInput {
            company_name: "テスト株式会社",
            title: "顧客名簿の誤送信",
            description: "メールの宛先を誤りました。",
            event_ja: "漏えい",
            event_en: "leak",
            date_ja: "2026年12月1日",
            date_en: "2026-12-01",
            cause: None,
            malicious: false,
            items: &[Item::Name, Item::Email],
        });
        n.ja.contact = "お客様相談室 0120-000-000（平日9時〜17時）".into();
        n.en.as_mut().unwrap().contact = "Customer desk +81-120-000-000".into();
        n
    }

    #[test]
    fn the_draft_names_the_contact_point_as_missing() {
        let mut n = full();
        assert!(missing_parts(&n).is_empty());
        n.ja.contact.clear();
        n.en.as_mut().unwrap().cause = " ".into();
        let m = missing_parts(&n);
        assert_eq!(
            m,
            vec![
                Missing {
                    lang: Lang::Ja,
                    part: Part::Contact
                },
                Missing {
                    lang: Lang::En,
                    part: Part::Cause
                },
            ]
        );
        assert_eq!(
            m[0].ja(),
            "日本語の「お問い合わせ窓口」が入力されていません"
        );
        assert_eq!(m[1].en(), "the English notice has no cause");
        // English is optional.
        n.en = None;
        n.ja.contact = "窓口".into();
        assert!(missing_parts(&n).is_empty());
    }

    #[test]
    fn each_person_sees_only_their_items() {
        let n = full();
        let a = letter(
            &n,
            Lang::Ja,
            Some("山田 太郎"),
            &[Item::Email, Item::Name],
            "0000001-8",
        );
        assert_eq!(a.salutation, "山田 太郎 様");
        assert_eq!(a.sections[1].1, "氏名、メールアドレス");
        let text = mail_text(&a);
        assert!(text.contains("氏名、メールアドレス"), "{text}");
        assert!(text.contains("お客様相談室"));
        assert!(text.ends_with("No. 0000001-8\n"));
        let b = letter(&n, Lang::Ja, None, &[Item::Phone], "x");
        assert_eq!(b.salutation, "お客様各位");
        assert!(!mail_text(&b).contains("氏名"), "{}", mail_text(&b));
        let e = letter(&n, Lang::En, Some("Taro"), &[Item::Name], "x");
        assert_eq!(e.salutation, "Dear Taro,");
        assert_eq!(e.sections[2].0, "Cause");
    }

    #[test]
    fn notices_round_trip_as_json() {
        let n = full();
        let j = serde_json::to_string(&n).unwrap();
        assert_eq!(serde_json::from_str::<Notice>(&j).unwrap(), n);
        let only_ja: Notice = serde_json::from_str(
            r#"{"ja":{"subject":"s","what_happened":"w","cause":"c","secondary_damage":"d","what_to_do":"t","contact":"k"}}"#,
        )
        .unwrap();
        assert!(only_ja.en.is_none());
        assert!(missing_parts(&only_ja).is_empty());
    }
}
