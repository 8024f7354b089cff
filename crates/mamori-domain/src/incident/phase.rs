//! The response phases (seed 001 8-⑮: 対策本部 → 封じ込め → 分析・追跡 → 対策改善 → 窓口設置 →
//! 公表 → 収束) and the tasks each phase starts with.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    TaskForce,
    Containment,
    Analysis,
    Remediation,
    ContactDesk,
    Publication,
    Closed,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::TaskForce,
        Phase::Containment,
        Phase::Analysis,
        Phase::Remediation,
        Phase::ContactDesk,
        Phase::Publication,
        Phase::Closed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Phase::TaskForce => "task_force",
            Phase::Containment => "containment",
            Phase::Analysis => "analysis",
            Phase::Remediation => "remediation",
            Phase::ContactDesk => "contact_desk",
            Phase::Publication => "publication",
            Phase::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.code() == s)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Phase::TaskForce => "対策本部設置",
            Phase::Containment => "封じ込め",
            Phase::Analysis => "分析・追跡",
            Phase::Remediation => "対策改善",
            Phase::ContactDesk => "窓口設置",
            Phase::Publication => "公表",
            Phase::Closed => "収束",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Phase::TaskForce => "Task force",
            Phase::Containment => "Containment",
            Phase::Analysis => "Analysis",
            Phase::Remediation => "Remediation",
            Phase::ContactDesk => "Contact desk",
            Phase::Publication => "Publication",
            Phase::Closed => "Closed",
        }
    }

    /// A task's title as shown: the words of the template it came from (`phase/index`) in
    /// `lang` while the template still has that Japanese title; otherwise the title as stored
    /// (typed by a person, or written before tasks recorded their template).
    pub fn show_task_title(template: Option<&str>, title: &str, lang: crate::lang::Lang) -> String {
        let words = template.and_then(|t| {
            let (phase, n) = t.split_once('/')?;
            let (ja, en, _) = Phase::parse(phase)?
                .templates()
                .get(n.parse::<usize>().ok()?)?;
            (*ja == title).then(|| lang.pick(ja, en).to_owned())
        });
        words.unwrap_or_else(|| title.to_owned())
    }

    /// The position, 1 to 7.
    pub fn number(self) -> usize {
        Phase::ALL.iter().position(|p| *p == self).unwrap_or(0) + 1
    }

    /// The tasks a phase starts with: (Japanese title, English title, due in days from the
    /// phase's start).
    pub fn templates(self) -> &'static [(&'static str, &'static str, u64)] {
        match self {
            Phase::TaskForce => &[
                (
                    "対策本部を設置し責任者を決める",
                    "Set up the task force and name its head",
                    0,
                ),
                (
                    "役員・CISOへ報告する",
                    "Report to the executives and the CISO",
                    0,
                ),
                (
                    "関係部署との連絡体制を確立する",
                    "Establish contact with the departments involved",
                    1,
                ),
            ],
            Phase::Containment => &[
                (
                    "漏えい経路を遮断する（アクセス停止・パスワード変更等）",
                    "Cut off the leak (stop access, change passwords)",
                    0,
                ),
                (
                    "流出データの削除要請・回収を行う",
                    "Ask for deletion or recover the data",
                    1,
                ),
                (
                    "二次被害を防ぐ（カード会社・金融機関への連絡等）",
                    "Prevent secondary damage (card issuers, banks)",
                    1,
                ),
            ],
            Phase::Analysis => &[
                (
                    "影響範囲（本人・項目）を特定する",
                    "Identify the affected persons and items",
                    3,
                ),
                (
                    "原因を調査する（ログ解析・聞き取り）",
                    "Investigate the cause (logs, interviews)",
                    7,
                ),
                (
                    "外部専門家・警察への相談を検討する",
                    "Consider forensic experts and the police",
                    3,
                ),
            ],
            Phase::Remediation => &[
                (
                    "原因となった脆弱性・運用を是正する",
                    "Fix the vulnerability or practice that caused it",
                    14,
                ),
                (
                    "再発防止策を策定する",
                    "Draw up the recurrence-prevention measures",
                    21,
                ),
            ],
            Phase::ContactDesk => &[
                (
                    "問い合わせ窓口（電話・メール）を設置する",
                    "Open the contact desk (phone, mail)",
                    5,
                ),
                ("想定問答（FAQ）を作成する", "Write the FAQ for the desk", 5),
                (
                    "本人への通知を準備する",
                    "Prepare the notice to the persons",
                    7,
                ),
            ],
            Phase::Publication => &[
                (
                    "公表の要否を判断する（5つの視点）",
                    "Decide on publication (five viewpoints)",
                    5,
                ),
                (
                    "公表文を作成し承認を得る",
                    "Write and approve the announcement",
                    7,
                ),
                ("報道機関への対応を準備する", "Prepare for the press", 7),
            ],
            Phase::Closed => &[
                (
                    "確報の提出を確認する",
                    "Confirm the final report was submitted",
                    0,
                ),
                (
                    "再発防止策の実施状況を確認する",
                    "Check the recurrence-prevention measures",
                    30,
                ),
                (
                    "事案を振り返り手順を見直す",
                    "Review the response and update the procedure",
                    45,
                ),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Todo,
    Doing,
    Done,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 3] = [TaskStatus::Todo, TaskStatus::Doing, TaskStatus::Done];

    pub fn code(self) -> &'static str {
        match self {
            TaskStatus::Todo => "todo",
            TaskStatus::Doing => "doing",
            TaskStatus::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|p| p.code() == s)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            TaskStatus::Todo => "未着手",
            TaskStatus::Doing => "対応中",
            TaskStatus::Done => "完了",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            TaskStatus::Todo => "To do",
            TaskStatus::Doing => "In progress",
            TaskStatus::Done => "Done",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_phases_in_order_each_with_tasks() {
        let names: Vec<_> = Phase::ALL.iter().map(|p| p.label_ja()).collect();
        assert_eq!(
            names,
            [
                "対策本部設置",
                "封じ込め",
                "分析・追跡",
                "対策改善",
                "窓口設置",
                "公表",
                "収束"
            ]
        );
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.code()), Some(p));
            assert!(!p.templates().is_empty(), "{p:?} has no task templates");
        }
        assert_eq!(Phase::TaskForce.number(), 1);
        assert_eq!(Phase::Closed.number(), 7);
        assert_eq!(Phase::parse("nope"), None);
    }
}
