//! The report to the PPC (漏えい等報告) with its nine items in the order of 施行規則8条1項
//! (appi.md §4), drafted from what the incident knows.
//!
//! The preliminary report (速報) holds what is known so far; the final report (確報) must have all
//! nine items — what is still unknown after reasonable effort is written as such.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::facts::{format_jst, group_digits, IncidentFacts};
use super::FieldError;
use crate::appi::{Assessment, Category, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Preliminary,
    Final,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Preliminary => "preliminary",
            Stage::Final => "final",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "preliminary" => Some(Stage::Preliminary),
            "final" => Some(Stage::Final),
            _ => None,
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Stage::Preliminary => "速報",
            Stage::Final => "確報",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Stage::Preliminary => "Preliminary report",
            Stage::Final => "Final report",
        }
    }
}

/// The nine items. Item 8 keeps measures done and planned apart, as the rule requires.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// 1. 概要: occurrence, discovery, what happened, who found it, categories, entrustment and
    ///    the sequence of events.
    pub summary: String,
    /// 2. 漏えい等が発生し、又は発生したおそれがある個人データの項目 (with medium and kind).
    pub items: String,
    /// 3. 本人の数.
    pub persons: String,
    /// 4. 原因.
    pub cause: String,
    /// 5. 二次被害又はそのおそれの有無及びその内容.
    pub secondary_damage: String,
    /// 6. 本人への対応の実施状況.
    pub response_to_persons: String,
    /// 7. 公表の実施状況.
    pub publication: String,
    /// 8. 再発防止のための措置 — done.
    pub prevention_done: String,
    /// 8. 再発防止のための措置 — planned.
    pub prevention_planned: String,
    /// 9. その他参考となる事項.
    pub other: String,
}

/// The items in the rule's order: (number, field name, Japanese heading, English heading).
pub const ITEMS: [(u8, &str, &str, &str); 10] = [
    (1, "summary", "概要", "Summary"),
    (
        2,
        "items",
        "漏えい等が発生し、又は発生したおそれがある個人データの項目",
        "Data items affected",
    ),
    (
        3,
        "persons",
        "漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数",
        "Number of persons",
    ),
    (4, "cause", "原因", "Cause"),
    (
        5,
        "secondary_damage",
        "二次被害又はそのおそれの有無及びその内容",
        "Secondary damage or its risk",
    ),
    (
        6,
        "response_to_persons",
        "本人への対応の実施状況",
        "What has been done for the persons",
    ),
    (7, "publication", "公表の実施状況", "Public announcement"),
    (
        8,
        "prevention_done",
        "再発防止のための措置（実施済みの措置）",
        "Recurrence prevention: measures done",
    ),
    (
        8,
        "prevention_planned",
        "再発防止のための措置（今後実施予定の措置）",
        "Recurrence prevention: measures planned",
    ),
    (
        9,
        "other",
        "その他参考となる事項",
        "Anything else that helps",
    ),
];

impl Report {
    /// The value of a field by its name in [`ITEMS`].
    pub fn get(&self, field: &str) -> &str {
        match field {
            "summary" => &self.summary,
            "items" => &self.items,
            "persons" => &self.persons,
            "cause" => &self.cause,
            "secondary_damage" => &self.secondary_damage,
            "response_to_persons" => &self.response_to_persons,
            "publication" => &self.publication,
            "prevention_done" => &self.prevention_done,
            "prevention_planned" => &self.prevention_planned,
            _ => &self.other,
        }
    }

    /// Sets a field by its name; an unknown name is an error naming it.
    pub fn set(&mut self, field: &str, value: String) -> Result<(), FieldError> {
        let slot = match field {
            "summary" => &mut self.summary,
            "items" => &mut self.items,
            "persons" => &mut self.persons,
            "cause" => &mut self.cause,
            "secondary_damage" => &mut self.secondary_damage,
            "response_to_persons" => &mut self.response_to_persons,
            "publication" => &mut self.publication,
            "prevention_done" => &mut self.prevention_done,
            "prevention_planned" => &mut self.prevention_planned,
            "other" => &mut self.other,
            _ => {
                return Err(FieldError::new(
                    "field",
                    format!("報告の項目 `{field}` はありません"),
                    format!("unknown report field `{field}`"),
                ))
            }
        };
        *slot = value;
        Ok(())
    }

    /// The items still empty, by number (a final report needs all nine).
    pub fn missing(&self) -> Vec<u8> {
        let mut out: Vec<u8> = ITEMS
            .iter()
            .filter(|(_, f, _, _)| self.get(f).trim().is_empty())
            .map(|(n, _, _, _)| *n)
            .collect();
        // Item 8 is complete when either half says something (e.g. "今後の措置: なし").
        if !self.prevention_done.trim().is_empty() || !self.prevention_planned.trim().is_empty() {
            out.retain(|n| *n != 8);
        }
        out.dedup();
        out
    }

    /// A final report is refused while an item is empty, naming the first.
    pub fn check_final(&self) -> Result<(), FieldError> {
        match self.final_problems().into_iter().next() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    /// Every empty item a final report needs, in the order of the report.
    pub fn final_problems(&self) -> Vec<FieldError> {
        self.missing()
            .into_iter()
            .map(|n| {
                let (_, field, ja, en) = ITEMS
                    .iter()
                    .find(|(m, _, _, _)| *m == n)
                    .copied()
                    .unwrap_or(ITEMS[0]);
                FieldError::new(
                    field,
                    format!("確報には全9項目が必要です。{n}「{ja}」が空です（不明な場合は「調査中」「不明」等と記載）"),
                    format!("a final report needs all nine items; item {n} ({en}) is empty"),
                )
            })
            .collect()
    }
}

/// What the draft is made from.
#[derive(Debug, Clone, Default)]
pub struct DraftInput<'a> {
    pub drill: bool,
    pub title: &'a str,
    pub description: &'a str,
    pub found_by: &'a str,
    pub department: &'a str,
    /// The 5W1H of the latest second report, when there is one.
    pub cause: &'a str,
    pub sequence: &'a str,
    pub actions_taken: &'a str,
    pub secondary_damage: &'a str,
    pub publication: &'a str,
    pub prevention_done: &'a str,
    pub prevention_planned: &'a str,
}

/// A draft filled from the incident; the privacy office edits it before submitting.
pub fn draft(facts: &IncidentFacts, a: &Assessment, input: &DraftInput<'_>) -> Report {
    let unknown = "調査中";
    let or = |s: &str, d: &str| {
        if s.trim().is_empty() {
            d.to_owned()
        } else {
            s.trim().to_owned()
        }
    };
    let categories = if a.categories.is_empty() {
        "該当なし".to_owned()
    } else {
        a.categories
            .iter()
            .map(|c| match c {
                Category::Sensitive => "要配慮個人情報（施行規則7条1号）",
                Category::Financial => "不正利用により財産的被害が生じるおそれ（7条2号）",
                Category::Malicious => "不正の目的をもって行われたおそれ（7条3号）",
                Category::Over1000 => "1,000人を超える（7条4号）",
            })
            .collect::<Vec<_>>()
            .join("、")
    };
    let mut summary = String::new();
    if input.drill {
        summary.push_str("【訓練】\n");
    }
    let _ = write!(
        summary,
        "件名: {}\n発生日時: {}\n発覚日時: {}\n報告者が知った日時: {}\n発見者: {}（{}）\n事象: {}{}\n該当する事態: {}\n委託関係: {}\n概要: {}\n経緯: {}",
        input.title,
        facts.occurred_at.map_or_else(|| "不明（調査中）".to_owned(), format_jst),
        format_jst(facts.found_at),
        format_jst(facts.knew_at),
        or(input.found_by, unknown),
        or(input.department, unknown),
        facts.event.label_ja(),
        if facts.suspected { "のおそれ" } else { "" },
        categories,
        match facts.role {
            Role::Controller => "自社が管理する個人データ（委託先の関与: 調査中の場合は追記）",
            Role::Contractor => "委託を受けて取り扱う個人データ（自社は委託先）",
        },
        or(input.description, unknown),
        or(input.sequence, unknown),
    );
    let items = if facts.items.is_empty() {
        unknown.to_owned()
    } else {
        facts
            .items
            .iter()
            .map(|i| i.label_ja())
            .collect::<Vec<_>>()
            .join("、")
    };
    Report {
        summary,
        items: format!("{items}\n（媒体・種類: {unknown}）"),
        persons: facts.persons.map_or_else(
            || unknown.to_owned(),
            |p| format!("{}人（最大）", group_digits(p)),
        ),
        cause: or(input.cause, unknown),
        secondary_damage: or(
            input.secondary_damage,
            "現時点で二次被害は確認されていません（調査中）",
        ),
        response_to_persons: or(
            input.actions_taken,
            if a.notify_individuals {
                "本人への通知を準備中"
            } else {
                "本人への通知は法令上必要とされていない事態です"
            },
        ),
        publication: or(input.publication, "未定（公表判断中）"),
        prevention_done: or(input.prevention_done, ""),
        prevention_planned: or(input.prevention_planned, unknown),
        other: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appi::Item;
    use crate::incident::EventKind;

    #[test]
    fn draft_fills_what_is_known_in_order() {
        let mut f = IncidentFacts::new(
            1_775_523_600_000_000,
            1_775_523_600_000_000,
            EventKind::Leak,
        );
        f.items.insert(Item::CreditCardNumber);
        f.persons = Some(1200);
        f.malicious = true;
        let a = f.assess().unwrap();
        let r = draft(
            &f,
            &a,
            &DraftInput {
                drill: true,
                title: "ECサイトへの不正アクセス",
                description: "決済画面が改ざんされた",
                found_by: "システム部 田中",
                department: "システム部",
                ..DraftInput::default()
            },
        );
        assert!(r.summary.starts_with("【訓練】"));
        assert!(r.summary.contains("不正の目的"));
        assert!(r.summary.contains("2026-04-07 10:00"));
        assert_eq!(r.persons, "1,200人（最大）");
        assert!(r.items.contains("クレジットカード番号"));
        // A draft is a preliminary report: item 9 is empty until somebody writes it.
        assert_eq!(r.missing(), vec![9]);
        let e = r.check_final().unwrap_err();
        assert_eq!(e.field, "other");
    }

    #[test]
    fn fields_by_name() {
        let mut r = Report::default();
        assert_eq!(r.missing(), vec![1, 2, 3, 4, 5, 6, 7, 8, 9]);
        for (_, field, _, _) in ITEMS {
            r.set(field, format!("{field}の内容")).unwrap();
        }
        assert!(r.check_final().is_ok());
        r.prevention_done.clear();
        assert!(r.check_final().is_ok(), "one half of item 8 is enough");
        assert_eq!(r.set("nope", String::new()).unwrap_err().field, "field");
        assert_eq!(r.get("cause"), "causeの内容");
    }

    #[test]
    fn stored_form_refuses_unknown_fields() {
        assert!(serde_json::from_str::<Report>(r#"{"summary":"x","bogus":1}"#).is_err());
        let r = Report {
            summary: "a".into(),
            ..Report::default()
        };
        let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
