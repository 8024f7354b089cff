//! The recurrence-prevention report (再発防止策) and its way through the company (seed 001
//! 8-⑬: the department writes it in a fixed format, the secretariat corrects it, the department
//! revises it, and the secretariat takes it to management).
//!
//! ```text
//! draft ──submit(dept)──▶ submitted ──return(sec.)──▶ returned ──submit(dept)──▶ submitted
//!                              │                          ▲
//!                        forward(sec.)              send_back(mgmt)
//!                              ▼                          │
//!                          forwarded ──approve(mgmt)──▶ approved
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    Submitted,
    Returned,
    Forwarded,
    Approved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The department saves its text without sending it.
    Save,
    /// The department sends it to the secretariat.
    Submit,
    /// The secretariat sends it back with comments.
    Return,
    /// The secretariat takes it to management.
    Forward,
    /// Management approves it.
    Approve,
    /// Management sends it back to the department.
    SendBack,
}

/// Who acts on the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Department,
    Secretariat,
    Management,
}

macro_rules! codes {
    ($t:ident { $($v:ident = $code:literal, $ja:literal, $en:literal;)* }) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$($t::$v,)*];
            pub fn code(self) -> &'static str { match self { $($t::$v => $code,)* } }
            pub fn label_ja(self) -> &'static str { match self { $($t::$v => $ja,)* } }
            pub fn label_en(self) -> &'static str { match self { $($t::$v => $en,)* } }
            pub fn parse(s: &str) -> Option<Self> { Self::ALL.iter().copied().find(|x| x.code() == s) }
        }
    };
}

codes!(State {
    Draft = "draft", "作成中（部門）", "Draft (department)";
    Submitted = "submitted", "事務局確認中", "With the secretariat";
    Returned = "returned", "差し戻し（部門で再検討）", "Returned to the department";
    Forwarded = "forwarded", "経営会議へ報告済み", "With management";
    Approved = "approved", "承認済み", "Approved";
});

codes!(Action {
    Save = "save", "保存", "Save";
    Submit = "submit", "事務局へ提出", "Submit to the secretariat";
    Return = "return", "コメントを付けて差し戻す", "Return with comments";
    Forward = "forward", "経営会議へ報告", "Forward to management";
    Approve = "approve", "承認", "Approve";
    SendBack = "send_back", "部門へ差し戻す", "Send back to the department";
});

/// The next state, or why the action is not possible now.
pub fn next(state: State, action: Action, party: Party) -> Result<State, FieldError> {
    use Action as A;
    use Party as P;
    use State as S;
    let to = match (state, action, party) {
        (S::Draft | S::Returned, A::Save, P::Department) => state,
        (S::Draft | S::Returned, A::Submit, P::Department) => S::Submitted,
        (S::Submitted, A::Return, P::Secretariat) | (S::Forwarded, A::SendBack, P::Management) => {
            S::Returned
        }
        (S::Submitted, A::Forward, P::Secretariat) => S::Forwarded,
        (S::Forwarded, A::Approve, P::Management) => S::Approved,
        _ => {
            return Err(FieldError::new(
                "action",
                format!(
                    "「{}」の状態では「{}」はできません",
                    state.label_ja(),
                    action.label_ja()
                ),
                format!("cannot {} a report that is {}", action.code(), state.code()),
            ))
        }
    };
    Ok(to)
}

/// One measure: what, who, by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    pub what: String,
    pub owner: String,
    pub date: Option<NaiveDate>,
}

/// The fixed format of the report.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Report {
    /// 原因.
    pub cause: String,
    /// 実施済みの対策.
    pub done: Vec<Measure>,
    /// 今後実施する対策.
    pub planned: Vec<Measure>,
}

impl Report {
    /// A report can go to the secretariat only with a cause and at least one measure.
    pub fn check_complete(&self) -> Result<(), FieldError> {
        if self.cause.trim().is_empty() {
            return Err(FieldError::new(
                "cause",
                "原因を記入してください",
                "cause is required",
            ));
        }
        if self.done.is_empty() && self.planned.is_empty() {
            return Err(FieldError::new(
                "planned",
                "実施済みまたは今後の対策を1つ以上記入してください",
                "at least one measure is required",
            ));
        }
        for m in self.done.iter().chain(&self.planned) {
            if m.owner.trim().is_empty() {
                return Err(FieldError::new(
                    "owner",
                    format!("対策「{}」の担当を記入してください", m.what),
                    "every measure needs an owner",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_way_through_the_company() {
        let s = next(State::Draft, Action::Submit, Party::Department).unwrap();
        assert_eq!(s, State::Submitted);
        let s = next(s, Action::Return, Party::Secretariat).unwrap();
        assert_eq!(s, State::Returned);
        let s = next(s, Action::Submit, Party::Department).unwrap();
        let s = next(s, Action::Forward, Party::Secretariat).unwrap();
        assert_eq!(s, State::Forwarded);
        let back = next(s, Action::SendBack, Party::Management).unwrap();
        assert_eq!(back, State::Returned);
        assert_eq!(
            next(s, Action::Approve, Party::Management).unwrap(),
            State::Approved
        );
    }

    #[test]
    fn out_of_turn_is_refused() {
        // The department cannot approve its own report, nor skip the secretariat.
        assert!(next(State::Draft, Action::Approve, Party::Department).is_err());
        assert!(next(State::Draft, Action::Forward, Party::Secretariat).is_err());
        assert!(next(State::Submitted, Action::Approve, Party::Management).is_err());
        assert!(next(State::Approved, Action::Submit, Party::Department).is_err());
        let e = next(State::Approved, Action::Return, Party::Secretariat).unwrap_err();
        assert_eq!(e.field, "action");
        assert!(e.ja.contains("承認済み"));
    }

    #[test]
    fn completeness() {
        let mut r = Report::default();
        assert_eq!(r.check_complete().unwrap_err().field, "cause");
        r.cause = "誤送信".into();
        assert_eq!(r.check_complete().unwrap_err().field, "planned");
        r.planned.push(Measure {
            what: "送信前の宛先確認".into(),
            owner: String::new(),
            date: None,
        });
        assert_eq!(r.check_complete().unwrap_err().field, "owner");
        r.planned[0].owner = "営業部".into();
        assert!(r.check_complete().is_ok());
    }
}
