//! The result of an assessment, field for field the output of appi.md §9.
//!
//! Tools and scripts depend on this shape, so it is serialised as it stands here and nothing
//! else is added to it; richer detail for the application (the day-3 warning) is computed by
//! [`super::deadline`] from the same facts.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::reason::Reason;

/// A reportable situation (報告対象事態, 施行規則7条), in the order of its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 7条1号: sensitive personal information.
    Sensitive,
    /// 7条2号: possible financial loss.
    Financial,
    /// 7条3号: possibly caused by a wrongful purpose.
    Malicious,
    /// 7条4号: more than 1,000 persons.
    #[serde(rename = "over_1000")]
    Over1000,
}

impl Category {
    pub fn code(self) -> &'static str {
        match self {
            Self::Sensitive => "sensitive",
            Self::Financial => "financial",
            Self::Malicious => "malicious",
            Self::Over1000 => "over_1000",
        }
    }
}

/// How the persons are told (施行規則10条).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeMethod {
    /// Letter or e-mail (or phone) to each person.
    Direct,
    /// A public announcement or a published contact point (代替措置), when notice is difficult.
    Alternative,
}

/// The My Number Act's own decision (appi.md §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MyNumberAct {
    pub reportable: bool,
    pub final_report_due: Option<NaiveDate>,
}

/// The §9 output object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// Whether the APPI requires this company to report to the PPC.
    pub reportable: bool,
    /// The APPI categories that apply; empty when no report is required.
    pub categories: Vec<Category>,
    /// Day 5 from knowing; `None` when no report is required.
    pub preliminary_report_due: Option<NaiveDate>,
    /// Day 30 or 60, moved past closed days; `None` when no report is required.
    pub final_report_due: Option<NaiveDate>,
    /// Whether either regime requires notice to the persons.
    pub notify_individuals: bool,
    pub notice_method: Option<NoticeMethod>,
    /// Whether a contractor must still tell its entruster.
    pub must_notify_entruster: bool,
    /// `None` when no `my_number` item is involved.
    pub my_number_act: Option<MyNumberAct>,
    /// One line per rule applied, each citing its rule; serialised as the Japanese lines.
    pub reasons: Vec<Reason>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_exactly_as_the_contract() {
        let a = Assessment {
            reportable: true,
            categories: vec![Category::Financial, Category::Malicious, Category::Over1000],
            preliminary_report_due: "2026-04-11".parse().ok(),
            final_report_due: "2026-06-05".parse().ok(),
            notify_individuals: true,
            notice_method: Some(NoticeMethod::Direct),
            must_notify_entruster: false,
            my_number_act: Some(MyNumberAct {
                reportable: true,
                final_report_due: "2026-05-07".parse().ok(),
            }),
            reasons: vec![Reason::Financial(vec![crate::appi::Item::CreditCardNumber])],
        };
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "reportable": true,
                "categories": ["financial", "malicious", "over_1000"],
                "preliminary_report_due": "2026-04-11",
                "final_report_due": "2026-06-05",
                "notify_individuals": true,
                "notice_method": "direct",
                "must_notify_entruster": false,
                "my_number_act": {"reportable": true, "final_report_due": "2026-05-07"},
                "reasons": ["施行規則7条2号: クレジットカード番号（不正利用により財産的被害が生じるおそれ）"]
            })
        );
        for c in [Category::Sensitive, Category::Over1000] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.code());
        }
        assert_eq!(
            serde_json::to_value(NoticeMethod::Alternative).unwrap(),
            "alternative"
        );
    }
}
