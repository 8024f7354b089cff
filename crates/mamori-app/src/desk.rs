//! The contact desk (issue 15): inquiries logged at the phone, imported from mail or sent
//! through the public form; escalation to the privacy office and its reply; the person link;
//! the FAQ that grows from the inquiries; figures, the daily digest and the exports.
//!
//! Whatever a person said or typed is sealed with the server key under a per-field context
//! before it reaches the store, and every read of it is an audit entry naming the inquiries.

use crate::incident::actor_label;
use crate::{App, AppError, Ctx, Problems};
use mamori_domain::audit::Outcome;
use mamori_domain::desk::{self as dd, CallerType, Category, InquiryChannel, Status, Step};
use mamori_domain::role::Permission;
use mamori_store::desk::{InquiryEdit, InquiryFilter, InquiryRow, NewInquiry};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;

pub use mamori_store::desk::DeskIncident;

const SEAL_CALLER: &str = "desk:caller";
const SEAL_QUESTION: &str = "desk:question";
const SEAL_ANSWER: &str = "desk:answer";
const SEAL_ESCALATION: &str = "desk:escalation";
const SEAL_REPLY: &str = "desk:reply";
pub(crate) const SEAL_MESSAGE: &str = "desk:message";

/// Who called, as the operator noted it (sealed as one value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub contact: String,
}

impl Caller {
    fn is_empty(&self) -> bool {
        self.name.trim().is_empty() && self.contact.trim().is_empty()
    }
}

/// A person an inquiry is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonLink {
    /// A vault record.
    Record(i64),
    /// One of the incident's affected persons (impact analysis).
    Affected(i64),
}

impl PersonLink {
    fn parts(self) -> (&'static str, i64) {
        match self {
            PersonLink::Record(id) => ("vault", id),
            PersonLink::Affected(id) => ("affected", id),
        }
    }

    fn from_parts(kind: Option<&str>, id: Option<i64>) -> Option<PersonLink> {
        match (kind, id) {
            (Some("vault"), Some(id)) => Some(PersonLink::Record(id)),
            (Some("affected"), Some(id)) => Some(PersonLink::Affected(id)),
            _ => None,
        }
    }

    /// `vault:12` or `affected:3`, as a form sends it; anything else is no link.
    pub fn parse(s: &str) -> Option<PersonLink> {
        let (k, id) = s.trim().split_once(':')?;
        let id: i64 = id.parse().ok().filter(|n| *n > 0)?;
        Self::from_parts(Some(k), Some(id))
    }

    pub fn code(self) -> String {
        let (k, id) = self.parts();
        format!("{k}:{id}")
    }
}

/// What one mail import did.
#[derive(Debug, Clone, Default)]
pub struct MailImport {
    /// New inquiries (one per new thread).
    pub created: usize,
    /// Mails added to an existing thread's inquiry.
    pub threaded: usize,
    /// Mails imported before (by Message-ID), skipped.
    pub duplicates: usize,
    /// Mails quarantined: position in the file (from 1), reason in Japanese and English.
    pub quarantined: Vec<(usize, String, String)>,
}

/// What an operator types for one inquiry.
#[derive(Debug, Clone, Default)]
pub struct InquiryInput {
    pub incident_id: i64,
    pub channel: String,
    pub caller_type: String,
    pub category: String,
    pub caller: Caller,
    pub question: String,
    pub answer: String,
    /// The caller has the answer: save the inquiry closed.
    pub close: bool,
    /// Escalate at once, with this reason.
    pub escalate: Option<String>,
    pub person: Option<PersonLink>,
    /// Seconds the operator spent on it (measured by the page from the first keystroke).
    pub handling_secs: Option<i64>,
}

/// An inquiry as the desk sees it (opened).
#[derive(Debug, Clone)]
pub struct InquiryView {
    pub id: i64,
    pub incident_id: i64,
    pub channel: InquiryChannel,
    pub caller_type: CallerType,
    pub category: Category,
    pub status: Status,
    pub source: String,
    pub caller: Caller,
    pub question: String,
    pub answer: String,
    pub escalation: Option<String>,
    pub escalated_by: Option<String>,
    pub reply: Option<String>,
    pub replied_by: Option<String>,
    pub replied_at: Option<i64>,
    pub person: Option<PersonLink>,
    pub operator: String,
    pub operator_id: Option<i64>,
    pub handling_secs: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub messages: usize,
}

/// Reads a closed vocabulary from a form field, naming the field when it is not one of its codes.
fn pick<T: Copy>(
    p: &mut Problems,
    field: &'static str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    what_ja: &str,
    what_en: &str,
) -> Option<T> {
    let v = parse(value);
    if v.is_none() {
        p.push(crate::error::Problem::new(
            Some(field),
            format!("{what_ja}を選んでください"),
            format!("choose the {what_en}"),
        ));
    }
    v
}

/// Checks a text a person typed: trimmed, within `max` characters, no control characters but
/// line breaks and tabs. Returns the cleaned text.
fn text_field(
    p: &mut Problems,
    field: &'static str,
    value: &str,
    max: usize,
    required: Option<(&str, &str)>,
) -> String {
    let t: String = value
        .trim()
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .replace("\r\n", "\n");
    let n = t.chars().count();
    if n > max {
        p.push(crate::error::Problem::new(
            Some(field),
            format!("{max}文字以内で入力してください（いま{n}文字）"),
            format!("at most {max} characters, please (now {n})"),
        ));
    } else if t.is_empty() {
        if let Some((ja, en)) = required {
            p.push(crate::error::Problem::new(Some(field), ja, en));
        }
    }
    t
}

/// The JST day of a time in microseconds.
pub(crate) fn jst_day(micros: i64) -> String {
    mamori_domain::incident::jst_date(micros)
        .format("%Y-%m-%d")
        .to_string()
}

impl App {
    fn seal_text(&self, text: &str, context: &str) -> String {
        self.keys.seal(text.as_bytes(), context)
    }

    fn open_text(&self, sealed: Option<&str>, context: &str) -> Result<Option<String>, AppError> {
        match sealed {
            None | Some("") => Ok(None),
            Some(s) => self
                .keys
                .unseal(s, context)
                .map(|b| Some(String::from_utf8_lossy(&b).into_owned()))
                .map_err(|e| AppError::Internal(format!("an inquiry field cannot be opened: {e}"))),
        }
    }

    fn desk_user(ctx: &Ctx) -> Result<i64, AppError> {
        if !ctx.allows(Permission::HandleInquiries) {
            return Err(AppError::Denied);
        }
        ctx.company_scope()
            .ok_or_else(|| AppError::Internal("the desk needs a company".into()))
    }

    /// The incidents the desk answers for (those with a notification campaign).
    pub async fn desk_incidents(&self, ctx: &Ctx) -> Result<Vec<DeskIncident>, AppError> {
        let company = Self::desk_user(ctx)?;
        Ok(self.store.desk_incidents(company).await?)
    }

    /// The incident an inquiry may be filed under: one the desk answers for, of the caller's
    /// company.
    async fn desk_incident(&self, ctx: &Ctx, incident_id: i64) -> Result<DeskIncident, AppError> {
        let company = Self::desk_user(ctx)?;
        self.store
            .desk_incidents(company)
            .await?
            .into_iter()
            .find(|i| i.id == incident_id)
            .ok_or(AppError::NotFound)
    }

    fn view_of(&self, r: &InquiryRow, messages: usize) -> Result<InquiryView, AppError> {
        let caller: Caller = match self.open_text(r.caller_sealed.as_deref(), SEAL_CALLER)? {
            Some(s) => serde_json::from_str(&s).unwrap_or_default(),
            None => Caller::default(),
        };
        Ok(InquiryView {
            id: r.id,
            incident_id: r.incident_id,
            channel: InquiryChannel::parse(&r.channel).unwrap_or(InquiryChannel::Phone),
            caller_type: CallerType::parse(&r.caller_type).unwrap_or(CallerType::Other),
            category: Category::parse(&r.category).unwrap_or(Category::Other),
            status: Status::parse(&r.status).unwrap_or(Status::Open),
            source: r.source.clone(),
            caller,
            question: self
                .open_text(Some(&r.question_sealed), SEAL_QUESTION)?
                .unwrap_or_default(),
            answer: self
                .open_text(r.answer_sealed.as_deref(), SEAL_ANSWER)?
                .unwrap_or_default(),
            escalation: self.open_text(r.escalation_sealed.as_deref(), SEAL_ESCALATION)?,
            escalated_by: r.escalated_by.clone(),
            reply: self.open_text(r.reply_sealed.as_deref(), SEAL_REPLY)?,
            replied_by: r.replied_by.clone(),
            replied_at: r.replied_at,
            person: PersonLink::from_parts(r.person_kind.as_deref(), r.person_id),
            operator: r.operator.clone(),
            operator_id: r.operator_id,
            handling_secs: r.handling_secs,
            created_at: r.created_at,
            updated_at: r.updated_at,
            closed_at: r.closed_at,
            messages,
        })
    }

    /// An inquiry opened, for exports by the privacy office (the caller audits the export).
    pub(crate) fn inquiry_view_of(&self, r: &InquiryRow) -> Result<InquiryView, AppError> {
        self.view_of(r, 0)
    }

    /// Checks what an operator typed; every problem at once.
    fn check_input(
        i: &InquiryInput,
    ) -> Result<(InquiryChannel, CallerType, Category, Caller, String, String), AppError> {
        let mut p = Problems::new();
        let channel = pick(
            &mut p,
            "channel",
            &i.channel,
            InquiryChannel::parse,
            "受付方法",
            "channel",
        );
        let caller_type = pick(
            &mut p,
            "caller_type",
            &i.caller_type,
            CallerType::parse,
            "相談者の種別",
            "caller type",
        );
        let category = pick(
            &mut p,
            "category",
            &i.category,
            Category::parse,
            "分類",
            "category",
        );
        let caller = Caller {
            name: text_field(&mut p, "caller_name", &i.caller.name, dd::MAX_SHORT, None),
            contact: text_field(
                &mut p,
                "caller_contact",
                &i.caller.contact,
                dd::MAX_SHORT,
                None,
            ),
        };
        let question = text_field(
            &mut p,
            "question",
            &i.question,
            dd::MAX_TEXT,
            Some(("お問い合わせの内容を入力してください", "enter the question")),
        );
        let answer = text_field(&mut p, "answer", &i.answer, dd::MAX_TEXT, None);
        if i.close && answer.is_empty() {
            p.push(crate::error::Problem::new(
                Some("answer"),
                "完了にするには、回答した内容を入力してください",
                "to close the inquiry, enter the answer given",
            ));
        }
        if let Some(reason) = &i.escalate {
            let r = text_field(&mut p, "escalation", reason, dd::MAX_TEXT, None);
            if r.is_empty() {
                p.push(crate::error::Problem::new(
                    Some("escalation"),
                    "エスカレーションの理由を入力してください",
                    "enter why the inquiry is escalated",
                ));
            }
        }
        p.done()?;
        match (channel, caller_type, category) {
            (Some(a), Some(b), Some(c)) => Ok((a, b, c, caller, question, answer)),
            _ => Err(AppError::Internal("checked fields missing".into())),
        }
    }

    /// A person link the caller may make: a vault record of the company's datasets that the
    /// caller can reach, or an affected person of the incident.
    async fn check_link(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        link: Option<PersonLink>,
    ) -> Result<Option<PersonLink>, AppError> {
        match link {
            None => Ok(None),
            Some(PersonLink::Affected(id)) => {
                let known = self
                    .store
                    .impact_persons(incident_id, id - 1, 1)
                    .await?
                    .first()
                    .is_some_and(|p| p.id == id);
                known.then_some(link).ok_or_else(|| {
                    AppError::invalid(
                        "person",
                        "選んだ対象者はこの事案にいません",
                        "the person chosen is not affected by this incident",
                    )
                })
            }
            Some(PersonLink::Record(id)) => {
                let r = match self.store.get_record(id).await {
                    Ok(r) => r,
                    Err(mamori_store::StoreError::NotFound) => {
                        return Err(AppError::invalid(
                            "person",
                            "選んだ記録がありません",
                            "the record chosen does not exist",
                        ))
                    }
                    Err(e) => return Err(e.into()),
                };
                let d = self.store.get_dataset(r.dataset_id).await?;
                if ctx.company_scope().is_some_and(|c| c != d.company_id) {
                    return Err(AppError::NotFound);
                }
                // Custody or a live grant on the dataset, as for a lookup; refused otherwise.
                self.vault_access(ctx, &d).await?;
                Ok(link)
            }
        }
    }

    /// Logs one inquiry; saved closed when the answer was given, escalated when asked.
    pub async fn log_inquiry(
        &self,
        ctx: &Ctx,
        input: &InquiryInput,
    ) -> Result<InquiryView, AppError> {
        self.log_inquiry_at(ctx, input, self.clock.now_micros())
            .await
    }

    /// [`App::log_inquiry`] received at a given time (the demo spreads its calls over days).
    pub(crate) async fn log_inquiry_at(
        &self,
        ctx: &Ctx,
        input: &InquiryInput,
        now: i64,
    ) -> Result<InquiryView, AppError> {
        let company = Self::desk_user(ctx)?;
        self.desk_incident(ctx, input.incident_id).await?;
        let (channel, caller_type, category, caller, question, answer) = Self::check_input(input)?;
        let person = self
            .check_link(ctx, input.incident_id, input.person)
            .await?;
        let actor = actor_label(ctx);
        let status = if input.close {
            Status::Closed
        } else {
            Status::Open
        };
        let id = self
            .store
            .insert_inquiry(&NewInquiry {
                company_id: company,
                incident_id: input.incident_id,
                channel: channel.code().into(),
                caller_type: caller_type.code().into(),
                category: category.code().into(),
                status: status.code().into(),
                source: "desk".into(),
                caller_sealed: (!caller.is_empty()).then(|| {
                    self.seal_text(
                        &serde_json::to_string(&caller).unwrap_or_default(),
                        SEAL_CALLER,
                    )
                }),
                question_sealed: self.seal_text(&question, SEAL_QUESTION),
                answer_sealed: (!answer.is_empty()).then(|| self.seal_text(&answer, SEAL_ANSWER)),
                person_kind: person.map(|p| p.parts().0.to_owned()),
                person_id: person.map(|p| p.parts().1),
                operator: actor.clone(),
                operator_id: ctx.user_ref().map(|u| u.id),
                handling_secs: input
                    .handling_secs
                    .map(|s| s.clamp(0, dd::MAX_HANDLING_SECS)),
                thread_key: None,
                created_at: now,
                day: jst_day(now),
            })
            .await?;
        self.audit(
            ctx,
            "desk.inquiry.create",
            &format!("inquiry:{id}"),
            Outcome::Success,
            json!({"incident": input.incident_id, "channel": channel.code(),
                   "category": category.code(), "status": status.code(),
                   "person": person.map(PersonLink::code)}),
        )
        .await?;
        if let Some(reason) = &input.escalate {
            self.escalate_inquiry(ctx, id, reason).await?;
        }
        self.inquiry(ctx, id).await
    }

    /// Reads an inquiry of the caller's company (an audit entry: it holds personal data).
    async fn inquiry_row(&self, ctx: &Ctx, id: i64) -> Result<InquiryRow, AppError> {
        let company = Self::desk_user(ctx)?;
        let r = match self.store.get_inquiry(id).await {
            Ok(r) => r,
            Err(mamori_store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if r.company_id != company {
            return Err(AppError::NotFound);
        }
        Ok(r)
    }

    pub async fn inquiry(&self, ctx: &Ctx, id: i64) -> Result<InquiryView, AppError> {
        let r = self.inquiry_row(ctx, id).await?;
        let messages = self.store.inquiry_messages(id).await?.len();
        let v = self.view_of(&r, messages)?;
        self.audit(
            ctx,
            "desk.inquiry.read",
            &format!("inquiry:{id}"),
            Outcome::Success,
            json!({"incident": r.incident_id}),
        )
        .await?;
        Ok(v)
    }

    /// The mails of an inquiry's thread, opened: (sender, subject, body, sent at).
    pub async fn inquiry_thread(
        &self,
        ctx: &Ctx,
        id: i64,
    ) -> Result<Vec<(String, String, String, Option<i64>)>, AppError> {
        self.inquiry_row(ctx, id).await?;
        let mut out = Vec::new();
        for m in self.store.inquiry_messages(id).await? {
            out.push((
                self.open_text(m.sender_sealed.as_deref(), SEAL_MESSAGE)?
                    .unwrap_or_default(),
                self.open_text(Some(&m.subject_sealed), SEAL_MESSAGE)?
                    .unwrap_or_default(),
                self.open_text(Some(&m.body_sealed), SEAL_MESSAGE)?
                    .unwrap_or_default(),
                m.sent_at,
            ));
        }
        self.audit(
            ctx,
            "desk.inquiry.thread",
            &format!("inquiry:{id}"),
            Outcome::Success,
            json!({"messages": out.len()}),
        )
        .await?;
        Ok(out)
    }

    /// Inquiries of the caller's company, newest first; one audit entry naming them.
    pub async fn inquiries(
        &self,
        ctx: &Ctx,
        incident_id: Option<i64>,
        statuses: &[Status],
        mine: bool,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<InquiryView>, AppError> {
        let company = Self::desk_user(ctx)?;
        let rows = self
            .store
            .inquiries(&InquiryFilter {
                company_id: company,
                incident_id,
                statuses: statuses.iter().map(|s| s.code().to_owned()).collect(),
                operator_id: if mine {
                    ctx.user_ref().map(|u| u.id)
                } else {
                    None
                },
                before_id,
                limit: limit.clamp(1, 500),
            })
            .await?;
        let views = rows
            .iter()
            .map(|r| self.view_of(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        if !views.is_empty() {
            self.audit(
                ctx,
                "desk.inquiry.list",
                &incident_id.map_or_else(|| "desk".into(), |i| format!("incident:{i}")),
                Outcome::Success,
                json!({"inquiries": views.iter().map(|v| v.id).collect::<Vec<_>>()}),
            )
            .await?;
        }
        Ok(views)
    }

    /// Changes what was noted about an inquiry; refused when somebody changed it meanwhile.
    pub async fn edit_inquiry(
        &self,
        ctx: &Ctx,
        id: i64,
        expect_updated_at: i64,
        input: &InquiryInput,
    ) -> Result<InquiryView, AppError> {
        let r = self.inquiry_row(ctx, id).await?;
        let (_, caller_type, category, caller, question, answer) = Self::check_input(input)?;
        let person = self.check_link(ctx, r.incident_id, input.person).await?;
        let ok = self
            .store
            .edit_inquiry(&InquiryEdit {
                id,
                expect_updated_at,
                caller_type: caller_type.code().into(),
                category: category.code().into(),
                caller_sealed: (!caller.is_empty()).then(|| {
                    self.seal_text(
                        &serde_json::to_string(&caller).unwrap_or_default(),
                        SEAL_CALLER,
                    )
                }),
                question_sealed: self.seal_text(&question, SEAL_QUESTION),
                answer_sealed: (!answer.is_empty()).then(|| self.seal_text(&answer, SEAL_ANSWER)),
                person_kind: person.map(|p| p.parts().0.to_owned()),
                person_id: person.map(|p| p.parts().1),
                handling_secs: input
                    .handling_secs
                    .map(|s| s.clamp(0, dd::MAX_HANDLING_SECS)),
                now: self.clock.now_micros(),
            })
            .await?;
        if !ok {
            return Err(AppError::invalid(
                "question",
                "この問い合わせは、ほかの人が先に更新しました。開き直してから入力してください",
                "somebody else changed this inquiry first; open it again and re-enter your change",
            ));
        }
        self.audit(
            ctx,
            "desk.inquiry.edit",
            &format!("inquiry:{id}"),
            Outcome::Success,
            json!({"category": category.code(), "person": person.map(PersonLink::code)}),
        )
        .await?;
        if input.close && r.status != Status::Closed.code() {
            self.close_inquiry(ctx, id, &answer).await?;
        }
        self.inquiry(ctx, id).await
    }

    /// The state an inquiry as read moves to by `s`, or the refusal naming both.
    fn next_status(r: &InquiryRow, s: Step) -> Result<Status, AppError> {
        let from = Status::parse(&r.status).unwrap_or(Status::Open);
        dd::step(from, s)
            .map_err(|e| AppError::invalid("status", dd::refused_ja(from, s), e.to_string()))?;
        Ok(from)
    }

    /// After a compare-and-set of an inquiry's state: refused when somebody changed it first,
    /// otherwise the audit entry of `action`.
    async fn stepped(
        &self,
        ctx: &Ctx,
        r: &InquiryRow,
        applied: bool,
        action: &str,
    ) -> Result<(), AppError> {
        if !applied {
            return Err(Self::changed_meanwhile());
        }
        self.audit(
            ctx,
            action,
            &format!("inquiry:{}", r.id),
            Outcome::Success,
            json!({"incident": r.incident_id}),
        )
        .await?;
        Ok(())
    }

    /// Hands an inquiry to the privacy office with a reason.
    pub async fn escalate_inquiry(&self, ctx: &Ctx, id: i64, reason: &str) -> Result<(), AppError> {
        let r = self.inquiry_row(ctx, id).await?;
        let mut p = Problems::new();
        let reason = text_field(
            &mut p,
            "escalation",
            reason,
            dd::MAX_TEXT,
            Some((
                "エスカレーションの理由を入力してください",
                "enter why the inquiry is escalated",
            )),
        );
        p.done()?;
        let from = Self::next_status(&r, Step::Escalate)?;
        let now = self.clock.now_micros();
        let applied = self
            .store
            .escalate_inquiry(
                id,
                from.code(),
                &self.seal_text(&reason, SEAL_ESCALATION),
                &actor_label(ctx),
                now,
            )
            .await?;
        self.stepped(ctx, &r, applied, "desk.inquiry.escalate")
            .await
    }

    fn changed_meanwhile() -> AppError {
        AppError::invalid(
            "status",
            "この問い合わせは、ほかの人が先に更新しました。開き直してください",
            "somebody else changed this inquiry first; open it again",
        )
    }

    /// The privacy office answers an escalation; the reply goes back to the operator.
    pub async fn reply_inquiry(&self, ctx: &Ctx, id: i64, reply: &str) -> Result<(), AppError> {
        if !ctx.allows(Permission::ManageIncidents) {
            return Err(AppError::Denied);
        }
        let r = self.inquiry_row(ctx, id).await?;
        let mut p = Problems::new();
        let reply = text_field(
            &mut p,
            "reply",
            reply,
            dd::MAX_TEXT,
            Some(("回答を入力してください", "enter the reply")),
        );
        p.done()?;
        Self::next_status(&r, Step::Reply)?;
        let applied = self
            .store
            .reply_inquiry(
                id,
                &self.seal_text(&reply, SEAL_REPLY),
                &actor_label(ctx),
                self.clock.now_micros(),
            )
            .await?;
        self.stepped(ctx, &r, applied, "desk.inquiry.reply").await
    }

    /// Closes an inquiry with the answer given to the caller.
    pub async fn close_inquiry(&self, ctx: &Ctx, id: i64, answer: &str) -> Result<(), AppError> {
        let r = self.inquiry_row(ctx, id).await?;
        let mut p = Problems::new();
        let answer = text_field(&mut p, "answer", answer, dd::MAX_TEXT, None);
        p.done()?;
        if answer.is_empty() && r.answer_sealed.is_none() {
            return Err(AppError::invalid(
                "answer",
                "完了にするには、回答した内容を入力してください",
                "to close the inquiry, enter the answer given",
            ));
        }
        let from = Self::next_status(&r, Step::Close)?;
        let sealed = (!answer.is_empty()).then(|| self.seal_text(&answer, SEAL_ANSWER));
        let applied = self
            .store
            .set_inquiry_status(
                id,
                from.code(),
                Status::Closed.code(),
                sealed.as_deref(),
                self.clock.now_micros(),
            )
            .await?;
        self.stepped(ctx, &r, applied, "desk.inquiry.close").await
    }

    /// Opens a closed inquiry again (the caller rang back).
    pub async fn reopen_inquiry(&self, ctx: &Ctx, id: i64) -> Result<(), AppError> {
        let r = self.inquiry_row(ctx, id).await?;
        let from = Self::next_status(&r, Step::Reopen)?;
        let applied = self
            .store
            .set_inquiry_status(
                id,
                from.code(),
                Status::Open.code(),
                None,
                self.clock.now_micros(),
            )
            .await?;
        self.stepped(ctx, &r, applied, "desk.inquiry.reopen").await
    }

    /// Imports mail inquiries from an mbox or .eml file: each thread becomes one inquiry (a
    /// reply joins its thread's inquiry and reopens it when closed), each mail is stored once,
    /// and a mail that cannot be read is quarantined with its reason, never half-stored.
    pub async fn import_inquiry_mail(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<MailImport, AppError> {
        use mamori_mail::inbox;
        let company = Self::desk_user(ctx)?;
        self.desk_incident(ctx, incident_id).await?;
        if bytes.len() as u64 > self.settings.max_upload_bytes {
            return Err(AppError::invalid(
                "file",
                format!(
                    "ファイルが大きすぎます（上限 {} MB）",
                    self.settings.max_upload_bytes / 1_048_576
                ),
                format!(
                    "the file is too large (at most {} MB)",
                    self.settings.max_upload_bytes / 1_048_576
                ),
            ));
        }
        let limits = inbox::Limits::default();
        let file_name: String = file_name
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let actor = actor_label(ctx);
        let mut out = MailImport::default();
        let messages = inbox::split_mbox(bytes);
        if messages.is_empty() {
            return Err(AppError::invalid(
                "file",
                "メールが見つかりません（mbox または .eml 形式のファイルを選んでください）",
                "no mail found (choose an mbox or .eml file)",
            ));
        }
        for (pos, raw) in messages.iter().enumerate() {
            let now = self.clock.now_micros();
            if pos >= limits.max_messages {
                out.quarantined.push((
                    pos + 1,
                    format!(
                        "1ファイルに{}通までです。残りは取り込んでいません",
                        limits.max_messages
                    ),
                    format!(
                        "at most {} mails per file; the rest were not imported",
                        limits.max_messages
                    ),
                ));
                self.store
                    .quarantine_mail(
                        incident_id,
                        &file_name,
                        pos as i64 + 1,
                        "too_many_messages",
                        (messages.len() - pos) as i64,
                        None,
                        now,
                        &actor,
                    )
                    .await?;
                break;
            }
            let m = match inbox::parse(raw, &limits) {
                Ok(m) => m,
                Err(q) => {
                    let sealed = (raw.len() <= limits.max_bytes)
                        .then(|| self.keys.seal(raw, crate::desk_public::SEAL_RAW));
                    self.store
                        .quarantine_mail(
                            incident_id,
                            &file_name,
                            pos as i64 + 1,
                            q.reason.code(),
                            raw.len() as i64,
                            sealed.as_deref(),
                            now,
                            &actor,
                        )
                        .await?;
                    out.quarantined
                        .push((pos + 1, q.reason.ja(), q.reason.en()));
                    continue;
                }
            };
            let message_key = self.keyed_hash(
                "desk.message",
                &match &m.message_id {
                    Some(id) => format!("{incident_id}\u{1f}{id}"),
                    None => format!(
                        "{incident_id}\u{1f}{}",
                        hex::encode(sha2::Sha256::digest(raw.as_ref()))
                    ),
                },
            );
            if self.store.inquiry_message_known(&message_key).await? {
                out.duplicates += 1;
                continue;
            }
            let thread = self.keyed_hash(
                "desk.thread",
                &format!("{incident_id}\u{1f}{}", m.thread_key()),
            );
            let sent_at = m
                .date
                .filter(|d| *d <= now && *d > now - 90 * 86_400_000_000);
            let when = sent_at.unwrap_or(now);
            let existing = self.store.inquiry_by_thread(incident_id, &thread).await?;
            let inquiry = if let Some(r) = existing {
                {
                    if r.status == Status::Closed.code() {
                        self.store
                            .set_inquiry_status(r.id, "closed", "open", None, now)
                            .await?;
                    }
                    out.threaded += 1;
                    r.id
                }
            } else {
                {
                    let caller = Caller {
                        name: m.from_name.clone().unwrap_or_default(),
                        contact: m.from_addr.clone().unwrap_or_default(),
                    };
                    let question: String =
                        format!("{}\n\n{}", m.subject.trim(), m.new_text().trim())
                            .trim()
                            .chars()
                            .take(dd::MAX_TEXT)
                            .collect();
                    let id = self
                        .store
                        .insert_inquiry(&NewInquiry {
                            company_id: company,
                            incident_id,
                            channel: InquiryChannel::Mail.code().into(),
                            caller_type: CallerType::Customer.code().into(),
                            category: Category::Other.code().into(),
                            status: Status::Open.code().into(),
                            source: "mail".into(),
                            caller_sealed: (!caller.is_empty()).then(|| {
                                self.seal_text(
                                    &serde_json::to_string(&caller).unwrap_or_default(),
                                    SEAL_CALLER,
                                )
                            }),
                            question_sealed: self.seal_text(&question, SEAL_QUESTION),
                            operator: actor.clone(),
                            operator_id: ctx.user_ref().map(|u| u.id),
                            thread_key: Some(thread.clone()),
                            created_at: when,
                            day: jst_day(when),
                            ..NewInquiry::default()
                        })
                        .await?;
                    out.created += 1;
                    id
                }
            };
            let sender = match (&m.from_name, &m.from_addr) {
                (Some(n), Some(a)) => format!("{n} <{a}>"),
                (None, Some(a)) => a.clone(),
                (Some(n), None) => n.clone(),
                (None, None) => String::new(),
            };
            self.store
                .add_inquiry_message(
                    inquiry,
                    &message_key,
                    (!sender.is_empty())
                        .then(|| self.seal_text(&sender, SEAL_MESSAGE))
                        .as_deref(),
                    &self.seal_text(&m.subject, SEAL_MESSAGE),
                    &self.seal_text(&m.body, SEAL_MESSAGE),
                    sent_at,
                    now,
                    &actor,
                )
                .await?;
        }
        self.audit(
            ctx,
            "desk.mail.import",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"created": out.created, "threaded": out.threaded,
                   "duplicates": out.duplicates, "quarantined": out.quarantined.len()}),
        )
        .await?;
        Ok(out)
    }

    /// The quarantined mails of an incident (reasons only; the raw mail stays sealed).
    pub async fn quarantined_mails(
        &self,
        ctx: &Ctx,
        incident_id: i64,
    ) -> Result<Vec<mamori_store::desk::QuarantineRow>, AppError> {
        self.desk_incident(ctx, incident_id).await?;
        Ok(self.store.quarantined_mails(incident_id).await?)
    }

    /// Escalations waiting for the privacy office of the caller's company.
    pub async fn escalations_waiting(&self, ctx: &Ctx) -> Result<i64, AppError> {
        if !ctx.allows(Permission::HandleInquiries) && !ctx.allows(Permission::ManageIncidents) {
            return Ok(0);
        }
        match ctx.company_scope() {
            Some(c) => Ok(self.store.escalations_waiting(c).await?),
            None => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_links_parse_only_their_two_forms() {
        assert_eq!(PersonLink::parse("vault:12"), Some(PersonLink::Record(12)));
        assert_eq!(
            PersonLink::parse(" affected:3 "),
            Some(PersonLink::Affected(3))
        );
        for bad in [
            "",
            "vault:",
            "vault:-1",
            "vault:0",
            "x:1",
            "vault:1:2",
            "affected",
        ] {
            assert_eq!(PersonLink::parse(bad), None, "{bad}");
        }
        assert_eq!(PersonLink::Record(5).code(), "vault:5");
    }

    #[test]
    fn texts_are_trimmed_limited_and_cleaned() {
        let mut p = Problems::new();
        assert_eq!(
            text_field(&mut p, "q", "  a\u{0}b\r\nc\u{7}  ", 10, None),
            "ab\nc"
        );
        assert!(p.is_empty());
        let long = "あ".repeat(11);
        text_field(&mut p, "q", &long, 10, None);
        text_field(&mut p, "r", " ", 10, Some(("必須", "required")));
        assert!(p.done().is_err());
    }
}
