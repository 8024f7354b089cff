//! The contact desk (issue 15): the vocabulary of an inquiry and its state machine, pure.
//!
//! An inquiry is one call, one mail thread or one web submission about an incident. The codes
//! here are what the store keeps; every label is given in Japanese and English. What a person
//! said or typed is never here: the app seals it, and these rules only see codes and times.

pub mod figures;
pub mod search;

use std::fmt;

/// Declares a closed vocabulary: each variant with its stored code and its Japanese and
/// English labels, `ALL` in display order, and `parse` accepting the code or either label.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($v:ident = $code:literal, $ja:literal, $en:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$v => $code),+ }
            }

            pub fn label_ja(self) -> &'static str {
                match self { $($name::$v => $ja),+ }
            }

            pub fn label_en(self) -> &'static str {
                match self { $($name::$v => $en),+ }
            }

            pub fn label(self, lang: crate::lang::Lang) -> &'static str {
                match lang {
                    crate::lang::Lang::Ja => self.label_ja(),
                    crate::lang::Lang::En => self.label_en(),
                }
            }

            /// The code, or either label as a person would type it in a file.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == s || v.label_ja() == s || v.label_en().eq_ignore_ascii_case(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

vocabulary! {
    /// How the inquiry came in.
    InquiryChannel {
        Phone = "phone", "電話", "phone";
        Mail = "mail", "メール", "mail";
        Web = "web", "Webフォーム", "web form";
    }
}

vocabulary! {
    /// Who is asking.
    CallerType {
        Customer = "customer", "本人（顧客）", "customer";
        Relative = "relative", "家族・代理人", "relative or agent";
        Press = "press", "報道機関", "press";
        Police = "police", "警察・行政", "police or authority";
        Partner = "partner", "取引先", "business partner";
        Other = "other", "その他", "other";
    }
}

vocabulary! {
    /// What the question is about: the headings seed 000's desk sorted its answer report by.
    Category {
        Affected = "affected", "対象かどうか", "am I affected";
        Items = "items", "漏えいした情報", "what leaked";
        Cause = "cause", "原因・経緯", "cause";
        Damage = "damage", "二次被害・不審な連絡", "secondary damage";
        WhatToDo = "what_to_do", "とるべき対応", "what to do";
        Letter = "letter", "通知の受け取り", "the letter or mail received";
        Compensation = "compensation", "お詫び・補償", "apology and compensation";
        Deletion = "deletion", "退会・データ削除", "deletion";
        Complaint = "complaint", "苦情", "complaint";
        Other = "other", "その他", "other";
    }
}

vocabulary! {
    /// Where an inquiry stands.
    Status {
        Open = "open", "対応中", "open";
        Escalated = "escalated", "エスカレーション中", "escalated";
        Replied = "replied", "回答あり（折り返し待ち）", "reply received";
        Closed = "closed", "完了", "closed";
    }
}

impl Status {
    /// Still on somebody's desk (the backlog).
    pub fn is_open(self) -> bool {
        self != Status::Closed
    }
}

/// What happens to an inquiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The operator hands the question to the privacy office (with a reason).
    Escalate,
    /// The privacy office answers an escalation; the answer goes back to the operator.
    Reply,
    /// The answer was given to the caller.
    Close,
    /// A closed inquiry is opened again (the caller rang back).
    Reopen,
}

/// Why a step does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeskError {
    #[error("an inquiry that is {0} cannot be {1}")]
    Transition(&'static str, &'static str),
}

impl DeskError {
    pub fn ja(&self) -> String {
        match self {
            DeskError::Transition(from, step) => {
                format!("状態が「{from}」の問い合わせは「{step}」できません")
            }
        }
    }
}

impl Step {
    fn verb_en(self) -> &'static str {
        match self {
            Step::Escalate => "escalated",
            Step::Reply => "replied to",
            Step::Close => "closed",
            Step::Reopen => "reopened",
        }
    }

    fn verb_ja(self) -> &'static str {
        match self {
            Step::Escalate => "エスカレーション",
            Step::Reply => "回答",
            Step::Close => "完了に",
            Step::Reopen => "再開",
        }
    }
}

/// The state after `step`, or why it does not apply. Escalation waits for the privacy office;
/// its reply comes back to the operator, who closes the inquiry once the caller has the answer.
pub fn step(from: Status, step: Step) -> Result<Status, DeskError> {
    use Status::{Closed, Escalated, Open, Replied};
    match (from, step) {
        (Open | Replied, Step::Escalate) => Ok(Escalated),
        (Escalated, Step::Reply) => Ok(Replied),
        (Open | Replied | Escalated, Step::Close) => Ok(Closed),
        (Closed, Step::Reopen) => Ok(Open),
        _ => Err(DeskError::Transition(from.code(), step.verb_en())),
    }
}

/// The Japanese form of a refused step, for the page.
pub fn refused_ja(from: Status, s: Step) -> String {
    format!(
        "状態が「{}」の問い合わせは{}できません",
        from.label_ja(),
        s.verb_ja()
    )
}

/// Limits on what a person can type, in characters: a question or an answer is a paragraph or
/// a few, never a file.
pub const MAX_TEXT: usize = 4_000;
/// A caller's name or contact.
pub const MAX_SHORT: usize = 200;
/// The longest handling time an operator can record for one call: four hours.
pub const MAX_HANDLING_SECS: i64 = 4 * 3600;

/// A category with at least this many inquiries and no approved FAQ entry is proposed as one.
pub const PROPOSE_AT: i64 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_and_labels_parse_too() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.code()), Some(*c));
            assert_eq!(Category::parse(c.label_ja()), Some(*c));
        }
        for c in InquiryChannel::ALL {
            assert_eq!(InquiryChannel::parse(c.code()), Some(*c));
        }
        for c in CallerType::ALL {
            assert_eq!(CallerType::parse(c.label_en()), Some(*c));
        }
        assert_eq!(Category::parse("nonsense"), None);
    }

    #[test]
    fn the_state_machine() {
        use Status::{Closed, Escalated, Open, Replied};
        assert_eq!(step(Open, Step::Escalate), Ok(Escalated));
        assert_eq!(step(Escalated, Step::Reply), Ok(Replied));
        assert_eq!(step(Replied, Step::Close), Ok(Closed));
        assert_eq!(step(Open, Step::Close), Ok(Closed));
        assert_eq!(step(Closed, Step::Reopen), Ok(Open));
        assert_eq!(step(Replied, Step::Escalate), Ok(Escalated));
        assert!(step(Open, Step::Reply).is_err());
        assert!(step(Closed, Step::Escalate).is_err());
        assert!(step(Closed, Step::Close).is_err());
        assert!(step(Open, Step::Reopen).is_err());
        let e = step(Closed, Step::Escalate).unwrap_err();
        assert_eq!(
            e.to_string(),
            "an inquiry that is closed cannot be escalated"
        );
        assert!(refused_ja(Closed, Step::Escalate).contains("完了"));
        assert!(!Closed.is_open() && Escalated.is_open());
    }
}
