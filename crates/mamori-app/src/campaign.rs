//! Notification campaigns (issue 14): the notice to the persons (versioned, approved by an
//! executive or the CISO), one campaign per incident reaching every affected person by post,
//! e-mail and phone in the configured order, returned letters and bounces moving a person to
//! the next channel, the call list of the contact desk, the public notice (代替措置) for those
//! left unreachable, and the funnel the PPC report needs.
//!
//! # E-mail exactly once
//!
//! "Exactly once" cannot be promised across the SMTP boundary by the sender alone: the relay
//! takes responsibility for a message when it answers `250` to the end of `DATA`, and our
//! database commit that records this necessarily comes after. A process stopped between the
//! two (a `kill -9`, a power cut) cannot know whether the relay has the message. What we
//! guarantee, and how:
//!
//! 1. **Never twice at once.** A recipient is claimed by a compare-and-set on `(state =
//!    'queued', attempt)` that also writes the attempt number, a lease and the Message-ID
//!    derived from (campaign, recipient, attempt) — committed *before* the SMTP transaction
//!    starts. Two processes on one PostgreSQL cannot both win the claim, so they never both
//!    send to one person.
//! 2. **Never again after a failure we cannot see through.** The outcome of the transaction
//!    (accepted, refused, temporarily failed) is written by another compare-and-set on
//!    `(state = 'sending', attempt)`. A claim whose lease runs out while still `sending` means
//!    the sender died during the transaction: the recipient becomes `in_doubt` and is **not**
//!    sent again automatically. [`App::resolve_in_doubt`] takes the Message-IDs the relay
//!    logged as accepted (the mail log, e.g. Postfix's `message-id=<…>` lines, or the test
//!    sink's list): a recipient whose Message-ID is there is `sent`; one whose Message-ID is
//!    not there was never accepted and is queued for a new attempt with a new Message-ID.
//! 3. **A definite refusal is definite.** A `4xx` reply or a refused connection means the relay
//!    did not take the message: the recipient is queued again (same person, next attempt) and
//!    the campaign shows the error; the job retries with backoff. A `5xx` reply or an address
//!    that is not an e-mail address moves the person to their next channel.
//!
//! So a restart after `kill -9` resends nothing the relay may have accepted, and a message the
//! relay never accepted is sent once more: each person gets the notice exactly once, counted
//! by Message-ID at the relay.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use mamori_domain::appi::Item;
use mamori_domain::audit::Outcome;
use mamori_domain::campaign::{
    self as dc, parse_reference, plausible_email, reference, Reach, Recipient,
};
pub use mamori_domain::campaign::{
    campaign_ids_in_log, CallOutcome, Channel, ReturnReason, State, DEFAULT_ORDER,
};
use mamori_domain::incident::line::Line;
use mamori_domain::incident::{jst_date, ObligationKind};
use mamori_domain::lang::Lang;
use mamori_domain::notice::{self as dn, missing_parts, too_long, DraftInput};
pub use mamori_domain::notice::{LetterParts, Notice, NoticeText, Part};
use mamori_domain::role::{Permission, Role};
use mamori_mail::{Mail, MailError};
use mamori_store::campaigns::{
    CampaignRow, EmailOutcome, EventRow, NewRecipient, RecipientChange, RecipientRow,
};
use mamori_store::incidents::{Incident, NewEntry};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::impact::{AffectedPerson, Contact};
use crate::incident::actor_label;
use crate::worker::JobHandler;
use crate::{App, AppError, Ctx, Problem};

const SEAL_CONTACT: &str = "campaign_recipients";
const SEAL_NOTE: &str = "campaign_events";
/// The job that sends a campaign's e-mail.
pub const EMAIL_JOB: &str = "campaign.email";
/// The periodic task that restarts the e-mail job of active campaigns (after a restart, or
/// when letters came back and moved persons to e-mail).
pub const KICK_TASK: &str = "campaigns.kick";
/// How long one run of the e-mail job sends before it hands over to a continuation (so the
/// worker's other jobs and periodic tasks get their turn).
const JOB_BUDGET: Duration = Duration::from_secs(10);
/// Messages in flight at once (lettre's pool keeps up to four connections).
const CONCURRENCY: usize = 4;

/// A saved version of an incident's notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeVersion {
    pub version: i64,
    pub notice: Notice,
    pub created_by: String,
    pub created_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
}

/// How a campaign runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignOptions {
    /// The channel order (post → e-mail → phone by default).
    pub channels: Vec<Channel>,
    /// E-mails per second at most.
    pub rate_per_sec: u32,
    /// How long a sender may hold a claimed e-mail before it counts as stopped (in doubt).
    pub lease_secs: u32,
}

impl Default for CampaignOptions {
    fn default() -> Self {
        CampaignOptions {
            channels: DEFAULT_ORDER.to_vec(),
            rate_per_sec: 20,
            lease_secs: 120,
        }
    }
}

/// A campaign as pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignView {
    pub id: i64,
    pub incident_id: i64,
    /// The approved notice version it sends.
    pub notice_version: i64,
    pub channels: Vec<Channel>,
    pub rate_per_sec: i64,
    /// `active` or `done`.
    pub status: String,
    /// The last sending error (the relay refuses, the relay is down), shown until a pass
    /// succeeds.
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    /// The public notice's path segment, once published.
    pub public_slug: Option<String>,
    pub public_at: Option<i64>,
}

/// A delivery status notification, already parsed (`mamori_mail::dsn`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// The Message-ID of the original message, without angle brackets.
    pub message_id: String,
    /// The final recipient the notification names.
    pub recipient: String,
    /// A permanent failure (5.x.x); a temporary one (4.x.x, delayed) changes nothing.
    pub permanent: bool,
}

/// What [`App::apply_bounces`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BounceReport {
    /// Recipients moved to their next channel.
    pub bounced: usize,
    /// Temporary notifications (nothing changed).
    pub temporary: usize,
    /// Message-IDs that are not this campaign's, or whose recipient had moved on already.
    pub ignored: Vec<String>,
}

/// A letter to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterRecipient {
    pub recipient_id: i64,
    pub reference: String,
    pub name: Option<String>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub letter: LetterParts,
}

/// One line of a returned-mail import that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    /// 1-based line of the CSV.
    pub line: usize,
    pub ja: String,
    pub en: String,
}

/// What [`App::import_returned`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnImport {
    pub returned: usize,
    pub problems: Vec<ImportProblem>,
}

/// A person to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEntry {
    pub recipient_id: i64,
    pub reference: String,
    /// Masked (`山田 **`) unless the caller may see contact data.
    pub name: String,
    /// Masked (`090-****-5678`) unless the caller may see contact data.
    pub phone: String,
    pub unmasked: bool,
    /// Unanswered calls so far.
    pub no_answers: i64,
    pub items: Vec<Item>,
}

/// One recipient as the campaign page lists it: no contact data, only where they stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientView {
    pub id: i64,
    pub reference: String,
    /// `impact_persons.id`.
    pub person_id: i64,
    pub channel: Option<Channel>,
    pub state: State,
    /// Which channels the person has contact data for.
    pub reach: Vec<Channel>,
    /// A problem to show: `bad_address` (the e-mail is not an e-mail address), a return
    /// reason code, `bounced`, or the relay's refusal (`refused: …`).
    pub problem: Option<String>,
    pub attempt: i64,
    pub no_answers: i64,
    pub updated_at: i64,
}

/// One event of a recipient's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    pub at: i64,
    pub channel: Option<Channel>,
    /// The event code (`posted`, `moved`, `claimed`, `accepted`, `bounced`, `no_answer`, …).
    pub event: String,
    pub state_after: State,
    pub message_id: Option<String>,
    /// A call note as typed (unsealed for the contact desk and custodians only).
    pub note: Option<String>,
    pub actor: String,
}

/// A recipient whose e-mail's fate is unknown (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InDoubt {
    pub recipient_id: i64,
    pub message_id: String,
}

/// The progress of a campaign: the figures of the PPC report's item 6 and the final report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Funnel {
    pub total: i64,
    /// Notified (letter posted and not returned, e-mail accepted, call reached), by channel.
    pub notified_by: BTreeMap<Channel, i64>,
    pub notified: i64,
    /// Still being worked on (queued, sending, in doubt).
    pub pending: i64,
    pub unreachable: i64,
    pub covered_by_public_notice: i64,
    /// Recipients per current channel (`None`: no channel left) and state.
    pub states: Vec<(Option<Channel>, State, i64)>,
    /// Events per JST day (`2026-12-07`), channel and event code (`posted`, `accepted`,
    /// `bounced`, `no_answer`, …).
    pub days: Vec<DayCount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    pub day: String,
    pub channel: Option<Channel>,
    pub event: String,
    pub count: i64,
}

/// The public notice (代替措置) as the unauthenticated page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicNotice {
    pub ja: LetterParts,
    pub en: Option<LetterParts>,
    pub published_at: i64,
}

/// What one sending pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendPass {
    pub sent: usize,
    pub refused: usize,
    pub temp_failed: usize,
    pub in_doubt: usize,
}

/// Contact data as sealed in a recipient row.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SealedContact {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

impl From<&Contact> for SealedContact {
    fn from(c: &Contact) -> Self {
        let clean = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        SealedContact {
            name: clean(&c.name),
            postal_code: clean(&c.postal_code),
            address: clean(&c.address),
            email: clean(&c.email),
            phone: clean(&c.phone),
        }
    }
}

fn reach_of(c: &SealedContact) -> Reach {
    Reach {
        post: c.address.is_some(),
        // An address that is no e-mail address is kept (the page names the problem) but
        // gives no e-mail channel; the sender refuses it again if it gets there.
        email: c.email.as_deref().is_some_and(plausible_email),
        phone: c
            .phone
            .as_deref()
            .is_some_and(|p| p.chars().filter(char::is_ascii_digit).count() >= 10),
    }
}

fn items_code(items: &[Item]) -> String {
    items.iter().map(|i| i.code()).collect::<Vec<_>>().join(",")
}

fn items_parse(s: &str) -> Vec<Item> {
    s.split(',').filter_map(|c| c.parse().ok()).collect()
}

fn day(now: i64) -> String {
    jst_date(now).format("%Y-%m-%d").to_string()
}

fn channel_of(s: Option<&str>) -> Option<Channel> {
    s.and_then(|c| c.parse().ok())
}

fn recipient_of(r: &RecipientRow) -> Recipient {
    Recipient {
        channel: channel_of(r.channel.as_deref()),
        state: State::parse(&r.state).unwrap_or(State::Queued),
        no_answers: r.no_answers,
        not_before: r.not_before,
    }
}

fn change_of(r: &Recipient, problem: Option<String>) -> RecipientChange {
    RecipientChange {
        channel: r.channel.map(|c| c.code().to_owned()),
        state: r.state.code().to_owned(),
        no_answers: r.no_answers,
        not_before: r.not_before,
        problem,
    }
}

fn order_of(c: &CampaignRow) -> Vec<Channel> {
    dc::parse_order(&c.channels).unwrap_or_else(|_| DEFAULT_ORDER.to_vec())
}

fn view_of(c: &CampaignRow, notice_version: i64) -> CampaignView {
    CampaignView {
        id: c.id,
        incident_id: c.incident_id,
        notice_version,
        channels: order_of(c),
        rate_per_sec: c.rate_per_sec,
        status: c.status.clone(),
        last_error: c.last_error.clone(),
        last_error_at: c.last_error_at,
        public_slug: c.public_slug.clone(),
        public_at: c.public_at,
    }
}

/// The Message-ID of one attempt: it names the campaign, the recipient row and the attempt,
/// and nothing personal.
pub fn message_id(campaign: i64, recipient: i64, attempt: i64, domain: &str) -> String {
    format!("mamori.c{campaign}.r{recipient}.a{attempt}@{domain}")
}

/// This process's name in claims (host-independent: the pid and a random part).
fn worker_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        format!(
            "campaign-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        )
    })
}

fn mask_name(name: &str) -> String {
    let mut parts = name.split_whitespace();
    match parts.next() {
        Some(first) => format!("{first} **"),
        None => "**".into(),
    }
}

fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return "****".into();
    }
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("***-****-{tail}")
}

fn problem(field: &'static str, ja: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::Invalid(Problem::new(Some(field), ja, en))
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

impl App {
    /// Registers the campaign job handlers (called from [`App::job_handlers`]).
    pub fn campaign_handlers(h: &mut HashMap<String, JobHandler>) {
        h.insert(
            EMAIL_JOB.into(),
            Arc::new(|app: App, payload: String| {
                Box::pin(async move {
                    let id: i64 = payload
                        .parse()
                        .map_err(|_| format!("bad payload {payload}"))?;
                    app.email_job(id).await
                })
            }),
        );
    }

    /// The incident, if the caller may manage it (privacy office, CISO).
    async fn managed(&self, ctx: &Ctx, incident_id: i64) -> Result<Incident, AppError> {
        let (incident, _) = self.incident_for(ctx, incident_id).await?;
        if !ctx.allows(Permission::ManageIncidents) {
            self.audit(
                ctx,
                "campaign.denied",
                &format!("incident:{incident_id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        Ok(incident)
    }

    async fn managed_campaign(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
    ) -> Result<(CampaignRow, Incident), AppError> {
        let c = self.store.get_campaign(campaign_id).await?;
        let i = self.managed(ctx, c.incident_id).await?;
        Ok((c, i))
    }

    /// The campaign, if the caller may work its call list: the contact desk of the incident's
    /// company, or whoever manages the incident. Returns whether contact data may be shown.
    async fn desk_campaign(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
    ) -> Result<(CampaignRow, Incident, bool), AppError> {
        let c = self.store.get_campaign(campaign_id).await?;
        let incident = self.store.get_incident(c.incident_id).await?;
        let desk = match &ctx.principal {
            crate::Principal::Local => true,
            crate::Principal::User(u) => {
                !u.disabled
                    && u.company_id == incident.company_id
                    && (u.roles.contains(Role::ContactDesk)
                        || u.roles.allows(Permission::VaultCustody))
            }
            crate::Principal::Anonymous => false,
        };
        if desk {
            return Ok((c, incident, true));
        }
        let i = self.managed(ctx, c.incident_id).await?;
        Ok((c, i, false))
    }

    // ---- The notice ----------------------------------------------------------------------

    /// A first draft of the notice from the incident (title, description, event, items) and
    /// its latest second report (cause, secondary damage). Nothing is saved.
    pub async fn draft_notice(&self, ctx: &Ctx, incident_id: i64) -> Result<Notice, AppError> {
        let incident = self.managed(ctx, incident_id).await?;
        let facts: mamori_domain::incident::facts::IncidentFacts =
            serde_json::from_str(&incident.facts).map_err(internal)?;
        let company = self.store.get_company(incident.company_id).await?;
        let second = self.store.report_versions(incident_id, "second").await?;
        let second: Option<serde_json::Value> = second
            .first()
            .and_then(|r| serde_json::from_str(&r.body).ok());
        let field = |k: &str| {
            second
                .as_ref()
                .and_then(|v| v.get(k))
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let cause = field("why");
        let event = facts.event;
        let when = facts.occurred_at.unwrap_or(facts.found_at);
        let date = jst_date(when);
        let items: Vec<Item> = facts.items.iter().copied().collect();
        let mut n = dn::draft(&DraftInput {
            company_name: &company.name,
            title: &incident.title,
            description: &incident.description,
            event_ja: event.label_ja(),
            event_en: event.label_en(),
            date_ja: &date.format("%Y年%-m月%-d日").to_string(),
            date_en: &date.format("%Y-%m-%d").to_string(),
            cause: cause.as_deref(),
            malicious: facts.malicious,
            items: &items,
        });
        if let Some(sd) = field("secondary_damage") {
            n.ja.secondary_damage = sd;
        }
        Ok(n)
    }

    /// Saves the notice as a new version (never overwriting one) and returns its number.
    /// Saving after an approval makes a new, unapproved version; the approved one stays.
    pub async fn save_notice(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        notice: &Notice,
    ) -> Result<i64, AppError> {
        self.managed(ctx, incident_id).await?;
        if let Some((lang, part)) = too_long(notice) {
            let l = if lang == Lang::Ja {
                "日本語"
            } else {
                "英語"
            };
            return Err(problem(
                part.code(),
                format!(
                    "{l}の「{}」が長すぎます（{}文字まで）",
                    part.label_ja(),
                    dn::MAX_PART_CHARS
                ),
                format!(
                    "the {} is too long (at most {} characters)",
                    part.label_en(),
                    dn::MAX_PART_CHARS
                ),
            ));
        }
        let body = serde_json::to_string(notice).map_err(internal)?;
        let now = self.clock.now_micros();
        let actor = actor_label(ctx);
        let version = self
            .store
            .save_notice_version(incident_id, &body, &actor, now)
            .await?;
        self.store
            .append_timeline(
                incident_id,
                now,
                &[NewEntry::line(
                    &actor,
                    "notice",
                    &Line::NoticeSaved { version },
                )],
            )
            .await?;
        self.audit(
            ctx,
            "notice.save",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"version": version}),
        )
        .await?;
        Ok(version)
    }

    /// Every version of the notice, newest first.
    pub async fn notice_versions(
        &self,
        ctx: &Ctx,
        incident_id: i64,
    ) -> Result<Vec<NoticeVersion>, AppError> {
        self.incident_for(ctx, incident_id).await?;
        self.store
            .notice_versions(incident_id)
            .await?
            .into_iter()
            .map(|r| notice_version_of(&r))
            .collect()
    }

    pub async fn notice_version(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        version: i64,
    ) -> Result<NoticeVersion, AppError> {
        self.incident_for(ctx, incident_id).await?;
        notice_version_of(&self.store.notice_version(incident_id, version).await?)
    }

    /// Approves one version: an executive or the CISO, and only when every required part is
    /// there (the error names the first missing part; all of them in `Problems`).
    pub async fn approve_notice(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        version: i64,
    ) -> Result<(), AppError> {
        self.incident_for(ctx, incident_id).await?;
        if !ctx.allows(Permission::DecideIncidents) {
            self.audit(
                ctx,
                "notice.approve",
                &format!("incident:{incident_id}"),
                Outcome::Denied,
                json!({"version": version}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        let v = notice_version_of(&self.store.notice_version(incident_id, version).await?)?;
        if let Some(m) = missing_parts(&v.notice).first() {
            return Err(problem(m.part.code(), m.ja(), m.en()));
        }
        let now = self.clock.now_micros();
        let actor = actor_label(ctx);
        if !self
            .store
            .approve_notice_version(incident_id, version, &actor, now)
            .await?
        {
            return Err(problem(
                "version",
                format!("第{version}版は承認済みです"),
                format!("version {version} is approved already"),
            ));
        }
        self.store
            .append_timeline(
                incident_id,
                now,
                &[NewEntry::line(
                    &actor,
                    "notice",
                    &Line::NoticeApproved { version },
                )],
            )
            .await?;
        self.audit(
            ctx,
            "notice.approve",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"version": version}),
        )
        .await?;
        Ok(())
    }

    // ---- Campaigns -----------------------------------------------------------------------

    /// Creates a campaign for every affected person of the incident (from
    /// [`App::affected_persons`], a page at a time so memory stays flat), sending the latest
    /// approved notice. Needs open vault keys.
    pub async fn create_campaign(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        opts: &CampaignOptions,
    ) -> Result<i64, AppError> {
        let (id, version) = self.new_campaign(ctx, incident_id, opts).await?;
        let mut total = 0;
        let mut after = 0;
        loop {
            let page = self.affected_persons(incident_id, after, 5000).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            total += self.add_persons(id, &opts.channels, &page).await?;
        }
        self.campaign_started(ctx, incident_id, id, version, opts, total)
            .await?;
        Ok(id)
    }

    /// [`App::create_campaign`] with the persons given (tests, a list prepared elsewhere).
    /// Each person starts on the first channel of the order they have contact data for, or
    /// unreachable.
    pub async fn create_campaign_for(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        opts: &CampaignOptions,
        persons: Vec<AffectedPerson>,
    ) -> Result<i64, AppError> {
        let (id, version) = self.new_campaign(ctx, incident_id, opts).await?;
        let total = self.add_persons(id, &opts.channels, &persons).await?;
        self.campaign_started(ctx, incident_id, id, version, opts, total)
            .await?;
        Ok(id)
    }

    /// Adds persons to a campaign (found after it started, or given in parts); a person
    /// already in it is skipped. Returns how many were added.
    pub async fn add_campaign_persons(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
        persons: Vec<AffectedPerson>,
    ) -> Result<u64, AppError> {
        let (c, _) = self.managed_campaign(ctx, campaign_id).await?;
        let n = self.add_persons(c.id, &order_of(&c), &persons).await?;
        self.audit(
            ctx,
            "campaign.add",
            &format!("campaign:{campaign_id}"),
            Outcome::Success,
            json!({"recipients": n}),
        )
        .await?;
        if n > 0 {
            self.reopen(c.id, &actor_label(ctx)).await?;
            self.kick_email(c.id).await?;
        }
        Ok(n)
    }

    /// Checks the options and the approved notice and writes the campaign row; returns its id
    /// and the notice version.
    async fn new_campaign(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        opts: &CampaignOptions,
    ) -> Result<(i64, i64), AppError> {
        self.managed(ctx, incident_id).await?;
        if opts.channels.is_empty() {
            let e = dc::CampaignError::EmptyOrder;
            return Err(problem("channels", e.ja(), e.to_string()));
        }
        let mut seen = HashSet::new();
        for c in &opts.channels {
            if !seen.insert(*c) {
                let e = dc::CampaignError::DuplicateChannel(*c);
                return Err(problem("channels", e.ja(), e.to_string()));
            }
        }
        if opts.rate_per_sec == 0 || opts.rate_per_sec > 10_000 {
            return Err(problem(
                "rate_per_sec",
                "送信速度は毎秒1〜10000通で指定してください",
                "the sending rate must be 1 to 10000 messages per second",
            ));
        }
        let approved = self
            .store
            .notice_versions(incident_id)
            .await?
            .into_iter()
            .find(|v| v.approved_at.is_some())
            .ok_or_else(|| {
                problem(
                    "notice",
                    "承認済みの通知文がありません。役員又はCISOの承認を受けてください",
                    "no approved notice: an executive or the CISO must approve one first",
                )
            })?;
        let now = self.clock.now_micros();
        let id = self
            .store
            .create_campaign(
                incident_id,
                approved.id,
                &dc::order_code(&opts.channels),
                i64::from(opts.rate_per_sec),
                i64::from(opts.lease_secs.max(1)),
                &actor_label(ctx),
                now,
            )
            .await?;
        Ok((id, approved.version))
    }

    /// Seals each person's contact data and stores them as recipients, 1000 per transaction.
    async fn add_persons(
        &self,
        campaign_id: i64,
        order: &[Channel],
        persons: &[AffectedPerson],
    ) -> Result<u64, AppError> {
        let now = self.clock.now_micros();
        let mut added = 0;
        for chunk in persons.chunks(1000) {
            let rows: Vec<NewRecipient> = chunk
                .iter()
                .map(|p| {
                    let c = SealedContact::from(&p.contact);
                    let reach = reach_of(&c);
                    let start = dc::start(order, reach);
                    let plain = serde_json::to_vec(&c).unwrap_or_default();
                    NewRecipient {
                        person_id: p.id,
                        reach: reach.code(),
                        contact: self.keys.seal(&plain, SEAL_CONTACT),
                        items: items_code(&p.items),
                        channel: start.channel.map(|c| c.code().to_owned()),
                        state: start.state.code().to_owned(),
                        problem: c
                            .email
                            .as_deref()
                            .is_some_and(|e| !plausible_email(e))
                            .then(|| "bad_address".to_owned()),
                    }
                })
                .collect();
            added += self.store.add_recipients(campaign_id, &rows, now).await?;
        }
        Ok(added)
    }

    async fn campaign_started(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        id: i64,
        version: i64,
        opts: &CampaignOptions,
        total: u64,
    ) -> Result<(), AppError> {
        let now = self.clock.now_micros();
        let actor = actor_label(ctx);
        self.store
            .append_timeline(
                incident_id,
                now,
                &[NewEntry::line(
                    &actor,
                    "campaign",
                    &Line::CampaignStarted {
                        persons: total,
                        version,
                        channels: opts.channels.iter().map(|c| c.code().to_owned()).collect(),
                    },
                )],
            )
            .await?;
        self.audit(
            ctx,
            "campaign.create",
            &format!("campaign:{id}"),
            Outcome::Success,
            json!({"incident": incident_id, "recipients": total}),
        )
        .await?;
        self.kick_email(id).await
    }

    pub async fn campaigns(
        &self,
        ctx: &Ctx,
        incident_id: i64,
    ) -> Result<Vec<CampaignView>, AppError> {
        self.managed(ctx, incident_id).await?;
        let mut out = Vec::new();
        for c in self.store.campaigns_of(incident_id).await? {
            let v = self.store.notice_by_id(c.notice_version_id).await?.version;
            out.push(view_of(&c, v));
        }
        Ok(out)
    }

    pub async fn campaign(&self, ctx: &Ctx, campaign_id: i64) -> Result<CampaignView, AppError> {
        let (c, _) = self.managed_campaign(ctx, campaign_id).await?;
        let v = self.store.notice_by_id(c.notice_version_id).await?.version;
        Ok(view_of(&c, v))
    }

    pub(crate) async fn campaign_notice(&self, c: &CampaignRow) -> Result<Notice, AppError> {
        let row = self.store.notice_by_id(c.notice_version_id).await?;
        serde_json::from_str(&row.body).map_err(internal)
    }

    fn unseal_contact(&self, sealed: &str) -> Result<SealedContact, AppError> {
        let plain = self.keys.unseal(sealed, SEAL_CONTACT).map_err(internal)?;
        serde_json::from_slice(&plain).map_err(internal)
    }

    /// Moves one recipient by `event`, writing the change and its event together; the error
    /// names why the event does not apply.
    async fn apply_event(
        &self,
        c: &CampaignRow,
        r: &RecipientRow,
        event: dc::Event,
        note: Option<&str>,
        actor: &str,
        problem_text: Option<String>,
    ) -> Result<Recipient, AppError> {
        let now = self.clock.now_micros();
        let before = recipient_of(r);
        let after = dc::step(&order_of(c), Reach::from_code(&r.reach), before, event, now)
            .map_err(|e| problem("state", e.ja(), e.to_string()))?;
        let sealed_note = note
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|n| self.keys.seal(n.as_bytes(), SEAL_NOTE));
        let d = day(now);
        let ok = self
            .store
            .transition_recipient(
                r.id,
                (r.channel.as_deref(), &r.state, r.attempt),
                &change_of(&after, problem_text),
                &EventRow {
                    channel: r.channel.as_deref(),
                    event: event.code(),
                    // The e-mail's Message-ID on e-mail events only (bounces are found by it).
                    message_id: r
                        .message_id
                        .as_deref()
                        .filter(|_| r.channel.as_deref() == Some("email")),
                    note: sealed_note.as_deref(),
                    actor,
                    day: &d,
                },
                now,
            )
            .await?;
        if !ok {
            return Err(problem(
                "state",
                "他の操作と重なりました。もう一度お試しください",
                "the recipient changed meanwhile; try again",
            ));
        }
        if !after.state.is_settled() {
            self.reopen(c.id, actor).await?;
        }
        if after.channel == Some(Channel::Email) && after.state == State::Queued {
            self.kick_email(c.id).await?;
        }
        Ok(after)
    }

    /// The recipients of a campaign after `after_id` (at most `limit`), without contact data.
    pub async fn campaign_recipients(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<RecipientView>, AppError> {
        self.managed_campaign(ctx, campaign_id).await?;
        let rows = self
            .store
            .campaign_recipients(campaign_id, after_id, limit.clamp(1, 1000))
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let reach = Reach::from_code(&r.reach);
                RecipientView {
                    id: r.id,
                    reference: reference(r.id),
                    person_id: r.person_id,
                    channel: channel_of(r.channel.as_deref()),
                    state: State::parse(&r.state).unwrap_or(State::Queued),
                    reach: Channel::ALL.into_iter().filter(|c| reach.has(*c)).collect(),
                    problem: r.problem.clone(),
                    attempt: r.attempt,
                    no_answers: r.no_answers,
                    updated_at: r.updated_at,
                }
            })
            .collect())
    }

    // ---- Post ----------------------------------------------------------------------------

    /// The next letters to print (recipients queued on post after `after_id`), with each
    /// person's letter; an audited read of contact data.
    pub async fn letters_to_print(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<LetterRecipient>, AppError> {
        let (c, _) = self.managed_campaign(ctx, campaign_id).await?;
        let notice = self.campaign_notice(&c).await?;
        let now = self.clock.now_micros();
        let rows = self
            .store
            .recipients_in(
                campaign_id,
                "post",
                "queued",
                after_id,
                now,
                limit.clamp(1, 5000),
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let contact = self.unseal_contact(&r.contact)?;
            let reference = reference(r.id);
            let letter = dn::letter(
                &notice,
                Lang::Ja,
                contact.name.as_deref(),
                &items_parse(&r.items),
                &reference,
            );
            out.push(LetterRecipient {
                recipient_id: r.id,
                reference,
                name: contact.name,
                postal_code: contact.postal_code,
                address: contact.address,
                letter,
            });
        }
        self.audit(
            ctx,
            "campaign.letters",
            &format!("campaign:{campaign_id}"),
            Outcome::Success,
            json!({"letters": out.len(), "after": after_id}),
        )
        .await?;
        Ok(out)
    }

    /// Marks printed letters as posted; returns how many changed (a letter posted already is
    /// skipped).
    pub async fn mark_posted(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
        recipient_ids: &[i64],
    ) -> Result<usize, AppError> {
        let (c, _) = self.managed_campaign(ctx, campaign_id).await?;
        let actor = actor_label(ctx);
        let mut n = 0;
        for id in recipient_ids {
            let r = self.store.get_recipient(*id).await?;
            if r.campaign_id != campaign_id {
                return Err(AppError::NotFound);
            }
            if r.channel.as_deref() == Some("post") && r.state == "queued" {
                self.apply_event(&c, &r, dc::Event::Posted, None, &actor, None)
                    .await?;
                n += 1;
            }
        }
        self.audit(
            ctx,
            "campaign.posted",
            &format!("campaign:{campaign_id}"),
            Outcome::Success,
            json!({"letters": n}),
        )
        .await?;
        self.check_completion(&c, &actor).await?;
        Ok(n)
    }

    /// Marks one returned letter by its reference number (as typed from the envelope).
    pub async fn mark_returned(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
        reference_no: &str,
        reason: ReturnReason,
    ) -> Result<(), AppError> {
        let (c, _) = self.managed_campaign(ctx, campaign_id).await?;
        let actor = actor_label(ctx);
        self.return_one(&c, reference_no, reason, &actor).await?;
        self.audit(
            ctx,
            "campaign.returned",
            &format!("campaign:{campaign_id}"),
            Outcome::Success,
            json!({"count": 1}),
        )
        .await?;
        Ok(())
    }

    async fn return_one(
        &self,
        c: &CampaignRow,
        reference_no: &str,
        reason: ReturnReason,
        actor: &str,
    ) -> Result<(), AppError> {
        let bad = || {
            problem(
                "reference",
                format!(
                    "「{}」は管理番号ではありません（例 0001234-4、末尾はチェック数字）",
                    reference_no.trim()
                ),
                format!(
                    "{:?} is not a reference number (like 0001234-4, the last digit a check digit)",
                    reference_no.trim()
                ),
            )
        };
        let id = parse_reference(reference_no).ok_or_else(bad)?;
        let r = match self.store.get_recipient(id).await {
            Ok(r) if r.campaign_id == c.id => r,
            Ok(_) | Err(mamori_store::StoreError::NotFound) => {
                return Err(problem(
                    "reference",
                    format!(
                        "管理番号 {} はこの通知の宛先にありません",
                        reference_no.trim()
                    ),
                    format!(
                        "reference {} is not a recipient of this campaign",
                        reference_no.trim()
                    ),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        if r.channel.as_deref() != Some("post") {
            return Err(problem(
                "reference",
                format!("管理番号 {} の郵送は既に処理済みです", reference_no.trim()),
                format!("the letter {} was handled already", reference_no.trim()),
            ));
        }
        self.apply_event(
            c,
            &r,
            dc::Event::Returned(reason),
            None,
            actor,
            Some(reason.code().to_owned()),
        )
        .await?;
        Ok(())
    }

    /// Imports returned letters from CSV: one line per letter, `reference[,reason]` (the reason
    /// 宛先不明 / 転居先不明 / 受取拒否 or its code; empty is 宛先不明). A header line is
    /// allowed. Each line that cannot be used is named; the others are applied.
    pub async fn import_returned(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
        csv_text: &str,
    ) -> Result<ReturnImport, AppError> {
        let (c, _) = self.managed_campaign(ctx, campaign_id).await?;
        let actor = actor_label(ctx);
        let mut report = ReturnImport::default();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 1;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    report.problems.push(ImportProblem {
                        line,
                        ja: format!("{line}行目を読めません"),
                        en: format!("line {line} cannot be read: {e}"),
                    });
                    continue;
                }
            };
            let cell = |k: usize| {
                mamori_detect::csv_out::from_excel_cell(rec.get(k).unwrap_or("").trim()).to_string()
            };
            let (reference_no, reason_text) = (cell(0), cell(1));
            if reference_no.is_empty() {
                continue;
            }
            if line == 1
                && parse_reference(&reference_no).is_none()
                && !reference_no.chars().any(|ch| ch.is_ascii_digit())
            {
                continue; // a header
            }
            let Some(reason) = ReturnReason::parse(&reason_text) else {
                report.problems.push(ImportProblem {
                    line,
                    ja: format!("{line}行目: 返戻理由「{reason_text}」が分かりません（宛先不明・転居先不明・受取拒否）"),
                    en: format!("line {line}: unknown return reason {reason_text:?} (address unknown, moved, refused)"),
                });
                continue;
            };
            match self.return_one(&c, &reference_no, reason, &actor).await {
                Ok(()) => report.returned += 1,
                Err(AppError::Invalid(p)) => report.problems.push(ImportProblem {
                    line,
                    ja: format!("{line}行目: {}", p.ja),
                    en: format!("line {line}: {}", p.en),
                }),
                Err(e) => return Err(e),
            }
        }
        self.audit(
            ctx,
            "campaign.returned",
            &format!("campaign:{campaign_id}"),
            Outcome::Success,
            json!({"count": report.returned, "problems": report.problems.len()}),
        )
        .await?;
        Ok(report)
    }

    // ---- E-mail --------------------------------------------------------------------------

    /// Queues the e-mail job of a campaign unless one is already waiting.
    async fn kick_email(&self, campaign_id: i64) -> Result<(), AppError> {
        let now = self.clock.now_micros();
        let payload = campaign_id.to_string();
        // Something happened that gives the sender work (a campaign started, a letter came
        // back): a job resting until later ("look again in a minute") runs now instead.
        if !self.store.wake_job(EMAIL_JOB, &payload, now).await? {
            self.store
                .enqueue_job(EMAIL_JOB, &payload, now, now)
                .await?;
        }
        Ok(())
    }

    /// The periodic task: queues the e-mail job of every active campaign that has none
    /// waiting (after a restart the job of a stopped process stays leased for a while).
    pub async fn kick_campaigns(&self) -> Result<(), AppError> {
        let now = self.clock.now_micros();
        for id in self.store.active_campaigns().await? {
            let payload = id.to_string();
            if !self.store.job_waiting(EMAIL_JOB, &payload, now).await? {
                self.store
                    .enqueue_job(EMAIL_JOB, &payload, now, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// One run of the e-mail job: sends for a while, then hands over to a continuation while
    /// there is work; an error (the relay refuses, is down) goes back to the queue with backoff.
    async fn email_job(&self, campaign_id: i64) -> Result<(), String> {
        let pass = self
            .send_campaign_emails(campaign_id, JOB_BUDGET)
            .await
            .map_err(|e| e.to_string())?;
        let c = self
            .store
            .get_campaign(campaign_id)
            .await
            .map_err(|e| e.to_string())?;
        if c.status != "active" {
            return Ok(());
        }
        if pass.temp_failed > 0 {
            return Err(c.last_error.unwrap_or_else(|| "temporary failure".into()));
        }
        let now = self.clock.now_micros();
        let waiting = self
            .store
            .job_waiting(EMAIL_JOB, &campaign_id.to_string(), now)
            .await
            .map_err(|e| e.to_string())?;
        if !waiting {
            // Right away while there is more; otherwise look again after a lease (at most a minute) (a claim in
            // another process may still run out, a letter may come back).
            let busy = pass.sent + pass.refused + pass.in_doubt > 0;
            let at = if busy {
                now
            } else {
                now + c.lease_secs.clamp(1, 60) * 1_000_000
            };
            self.store
                .enqueue_job(EMAIL_JOB, &campaign_id.to_string(), at, now)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Sends queued e-mails of a campaign for up to `budget` at the campaign's rate (the job
    /// calls this; so does the benchmark). See the module documentation for exactly once.
    pub async fn send_campaign_emails(
        &self,
        campaign_id: i64,
        budget: Duration,
    ) -> Result<SendPass, AppError> {
        let c = self.store.get_campaign(campaign_id).await?;
        let mut pass = SendPass::default();
        if c.status != "active" {
            return Ok(pass);
        }
        let worker = worker_id();
        let now = self.clock.now_micros();
        let lost = self
            .store
            .expire_email_claims(campaign_id, now, &day(now))
            .await?;
        pass.in_doubt = lost.len();
        if !lost.is_empty() {
            tracing::warn!(
                campaign = campaign_id,
                count = lost.len(),
                "e-mails in doubt after a stopped sender"
            );
        }
        let Some(mailer) = self.mailer.clone() else {
            let queued = self
                .store
                .recipients_in(campaign_id, "email", "queued", 0, now, 1)
                .await?;
            if !queued.is_empty() {
                self.store
                    .set_campaign_error(
                        campaign_id,
                        Some("SMTP is not configured ([smtp] in mamori.toml)"),
                        now,
                    )
                    .await?;
                pass.temp_failed = 1;
            }
            return Ok(pass);
        };
        let notice = self.campaign_notice(&c).await?;
        let order = order_of(&c);
        let domain = mailer.id_domain().to_owned();
        let rate = c.rate_per_sec.max(1) as f64;
        let batch = c.rate_per_sec.clamp(1, 200);
        let started = Instant::now();
        let mut k: u64 = 0;
        let mut last_error: Option<String> = None;
        while started.elapsed() < budget {
            let now = self.clock.now_micros();
            let d = day(now);
            let claimed = self
                .store
                .claim_email_batch(
                    campaign_id,
                    worker,
                    now,
                    now + c.lease_secs * 1_000_000,
                    batch,
                    &d,
                    &|r, a| message_id(campaign_id, r, a, &domain),
                )
                .await?;
            if claimed.is_empty() {
                break;
            }
            // Build every message first (no I/O), then send them CONCURRENCY at a time,
            // message k not before start + k / rate.
            let mut jobs = Vec::with_capacity(claimed.len());
            for cl in claimed {
                let contact = self.unseal_contact(&cl.contact)?;
                let email = contact.email.clone().unwrap_or_default();
                let mail = if plausible_email(&email) {
                    let ja = dn::letter(
                        &notice,
                        Lang::Ja,
                        contact.name.as_deref(),
                        &items_parse(&cl.items),
                        &reference(cl.id),
                    );
                    let mut text = dn::mail_text(&ja);
                    if notice.en.is_some() {
                        let en = dn::letter(
                            &notice,
                            Lang::En,
                            None,
                            &items_parse(&cl.items),
                            &reference(cl.id),
                        );
                        text.push_str("\n----- English -----\n\n");
                        text.push_str(&dn::mail_text(&en));
                    }
                    Some(Mail {
                        to: vec![email],
                        subject: notice.ja.subject.clone(),
                        text,
                        reply_to: None,
                        headers: vec![("X-Mamori-Kind".into(), "notice".into())],
                    })
                } else {
                    None
                };
                let due = started + Duration::from_secs_f64(k as f64 / rate);
                k += 1;
                jobs.push((cl, mail, due));
            }
            let results: Vec<_> = stream::iter(jobs)
                .map(|(cl, mail, due)| {
                    let mailer = mailer.clone();
                    async move {
                        let Some(mail) = mail else {
                            return (
                                cl,
                                Err(MailError::BadAddress {
                                    field: "to",
                                    value: String::new(),
                                }),
                            );
                        };
                        tokio::time::sleep_until(due.into()).await;
                        let r = mailer.send_with_id(&mail, &cl.message_id).await;
                        (cl, r)
                    }
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            let mut outcomes = Vec::with_capacity(results.len());
            for (cl, r) in results {
                let reach = Reach::from_code(&cl.reach);
                let sending = Recipient {
                    channel: Some(Channel::Email),
                    state: State::Sending,
                    no_answers: 0,
                    not_before: None,
                };
                let (event, problem_text) = match &r {
                    Ok(()) => {
                        pass.sent += 1;
                        (dc::Event::Accepted, None)
                    }
                    Err(MailError::BadAddress { .. }) => {
                        pass.refused += 1;
                        (dc::Event::Refused, Some("bad_address".to_owned()))
                    }
                    Err(MailError::Permanent(e)) => {
                        pass.refused += 1;
                        (dc::Event::Refused, Some(format!("refused: {e}")))
                    }
                    Err(e) => {
                        pass.temp_failed += 1;
                        last_error = Some(e.to_string());
                        (dc::Event::TempFailed, None)
                    }
                };
                let after = dc::step(&order, reach, sending, event, now)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                let mut change = change_of(&after, problem_text);
                // The attempt's phone tries are kept by the store row; e-mail never has any.
                change.no_answers = 0;
                outcomes.push(EmailOutcome {
                    id: cl.id,
                    attempt: cl.attempt,
                    change,
                    event: event.code().to_owned(),
                    message_id: cl.message_id,
                });
            }
            let now = self.clock.now_micros();
            self.store
                .record_email_outcomes(&outcomes, worker, &day(now), now)
                .await?;
            if last_error.is_some() {
                break;
            }
        }
        let now = self.clock.now_micros();
        if let Some(e) = &last_error {
            tracing::warn!(
                campaign = campaign_id,
                "campaign e-mail: the relay failed; retrying later"
            );
            self.store
                .set_campaign_error(campaign_id, Some(e), now)
                .await?;
        } else if pass.sent + pass.refused > 0 && c.last_error.is_some() {
            self.store
                .set_campaign_error(campaign_id, None, now)
                .await?;
        }
        if pass.sent + pass.refused > 0 {
            self.check_completion(&c, "mamori").await?;
        }
        Ok(pass)
    }

    /// Applies parsed delivery status notifications: a permanent failure moves the recipient
    /// of that Message-ID to their next channel; a delivery report marks it delivered.
    pub async fn apply_bounces(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
        bounces: Vec<Bounce>,
    ) -> Result<BounceReport, AppError> {
        let (c, _) = self.managed_campaign(ctx, campaign_id).await?;
        let actor = actor_label(ctx);
        let mut report = BounceReport::default();
        for b in bounces {
            let mid = b
                .message_id
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>');
            if !b.permanent {
                report.temporary += 1;
                continue;
            }
            let Some(rid) = self.store.recipient_by_message_id(mid).await? else {
                report.ignored.push(mid.to_owned());
                continue;
            };
            let r = self.store.get_recipient(rid).await?;
            // Only a bounce of the recipient's current e-mail attempt moves them on.
            if r.campaign_id != campaign_id || r.message_id.as_deref() != Some(mid) {
                report.ignored.push(mid.to_owned());
                continue;
            }
            match self
                .apply_event(
                    &c,
                    &r,
                    dc::Event::Bounced,
                    None,
                    &actor,
                    Some("bounced".into()),
                )
                .await
            {
                Ok(_) => report.bounced += 1,
                Err(AppError::Invalid(_)) => report.ignored.push(mid.to_owned()),
                Err(e) => return Err(e),
            }
        }
        self.audit(
            ctx,
            "campaign.bounces",
            &format!("campaign:{campaign_id}"),
            Outcome::Success,
            json!({"bounced": report.bounced, "temporary": report.temporary, "ignored": report.ignored.len()}),
        )
        .await?;
        Ok(report)
    }

    /// Recipients whose e-mail's fate is unknown (a sender stopped during the transaction).
    pub async fn in_doubt(&self, ctx: &Ctx, campaign_id: i64) -> Result<Vec<InDoubt>, AppError> {
        self.managed_campaign(ctx, campaign_id).await?;
        let now = self.clock.now_micros();
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let rows = self
                .store
                .recipients_in(campaign_id, "email", "in_doubt", after, now, 1000)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            out.extend(rows.into_iter().map(|r| InDoubt {
                recipient_id: r.id,
                message_id: r.message_id.unwrap_or_default(),
            }));
        }
        Ok(out)
    }

    /// Settles in-doubt e-mails from the relay's log: `accepted` holds the Message-IDs the
    /// relay logged as accepted. Those recipients are sent; the other in-doubt ones are
    /// queued for a new attempt. Returns (confirmed, queued again).
    pub async fn resolve_in_doubt(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
        accepted: &[String],
    ) -> Result<(usize, usize), AppError> {
        let (c, _) = self.managed_campaign(ctx, campaign_id).await?;
        let actor = actor_label(ctx);
        let accepted: HashSet<&str> = accepted
            .iter()
            .map(|m| m.trim().trim_start_matches('<').trim_end_matches('>'))
            .collect();
        let (mut confirmed, mut requeued) = (0, 0);
        for d in self.in_doubt(ctx, campaign_id).await? {
            let r = self.store.get_recipient(d.recipient_id).await?;
            let event = if accepted.contains(d.message_id.as_str()) {
                confirmed += 1;
                dc::Event::ConfirmedByLog
            } else {
                requeued += 1;
                dc::Event::AbsentFromLog
            };
            self.apply_event(&c, &r, event, None, &actor, None).await?;
        }
        self.audit(
            ctx,
            "campaign.in_doubt",
            &format!("campaign:{campaign_id}"),
            Outcome::Success,
            json!({"confirmed": confirmed, "requeued": requeued}),
        )
        .await?;
        self.check_completion(&c, &actor).await?;
        Ok((confirmed, requeued))
    }

    // ---- Phone ---------------------------------------------------------------------------

    /// The next persons to call (due now), for the contact desk. Names and numbers are shown
    /// to the contact desk and custodians, masked for the privacy office; an unmasked list is
    /// an audited read.
    pub async fn call_list(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
        limit: i64,
    ) -> Result<Vec<CallEntry>, AppError> {
        let (_, _, unmasked) = self.desk_campaign(ctx, campaign_id).await?;
        let now = self.clock.now_micros();
        let rows = self
            .store
            .recipients_in(campaign_id, "phone", "queued", 0, now, limit.clamp(1, 500))
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let contact = self.unseal_contact(&r.contact)?;
            let name = contact.name.unwrap_or_default();
            let phone = contact.phone.unwrap_or_default();
            out.push(CallEntry {
                recipient_id: r.id,
                reference: reference(r.id),
                name: if unmasked { name } else { mask_name(&name) },
                phone: if unmasked { phone } else { mask_phone(&phone) },
                unmasked,
                no_answers: r.no_answers,
                items: items_parse(&r.items),
            });
        }
        self.audit(
            ctx,
            "campaign.call_list",
            &format!("campaign:{campaign_id}"),
            Outcome::Success,
            json!({"persons": out.len(), "unmasked": unmasked}),
        )
        .await?;
        Ok(out)
    }

    /// Records a call: reached, no answer (three tries at least four hours apart, then the
    /// next channel), wrong number or do-not-call (next channel). The note is sealed.
    pub async fn record_call(
        &self,
        ctx: &Ctx,
        recipient_id: i64,
        outcome: CallOutcome,
        note: &str,
    ) -> Result<State, AppError> {
        let r = self.store.get_recipient(recipient_id).await?;
        let (c, _, _) = self.desk_campaign(ctx, r.campaign_id).await?;
        if note.chars().count() > 2000 {
            return Err(problem(
                "note",
                "メモは2000文字までです",
                "the note is too long (2000 characters at most)",
            ));
        }
        let actor = actor_label(ctx);
        let after = self
            .apply_event(&c, &r, dc::Event::Called(outcome), Some(note), &actor, None)
            .await?;
        self.audit(
            ctx,
            "campaign.call",
            &format!("recipient:{recipient_id}"),
            Outcome::Success,
            json!({"campaign": c.id, "outcome": outcome.code()}),
        )
        .await?;
        self.check_completion(&c, &actor).await?;
        Ok(after.state)
    }

    /// The history of one recipient, oldest first. Call notes are shown to whoever may see
    /// contact data (the contact desk, custodians); an audited read.
    pub async fn recipient_history(
        &self,
        ctx: &Ctx,
        recipient_id: i64,
    ) -> Result<Vec<HistoryLine>, AppError> {
        let r = self.store.get_recipient(recipient_id).await?;
        let (_, _, unmasked) = self.desk_campaign(ctx, r.campaign_id).await?;
        let mut out = Vec::new();
        for (channel, event, state, message_id, note, actor, at) in
            self.store.recipient_events(recipient_id).await?
        {
            let note = match note {
                Some(n) if unmasked => Some(
                    String::from_utf8_lossy(&self.keys.unseal(&n, SEAL_NOTE).map_err(internal)?)
                        .into_owned(),
                ),
                _ => None,
            };
            out.push(HistoryLine {
                at,
                channel: channel_of(channel.as_deref()),
                event,
                state_after: State::parse(&state).unwrap_or(State::Queued),
                message_id,
                note,
                actor,
            });
        }
        self.audit(
            ctx,
            "campaign.history",
            &format!("recipient:{recipient_id}"),
            Outcome::Success,
            json!({"campaign": r.campaign_id, "notes": unmasked}),
        )
        .await?;
        Ok(out)
    }

    // ---- Public notice and completion ----------------------------------------------------

    /// Publishes the public notice (代替措置) for the campaign: every recipient still
    /// unreachable is covered by it. Returns the unguessable path segment of the public page.
    pub async fn publish_public_notice(
        &self,
        ctx: &Ctx,
        campaign_id: i64,
    ) -> Result<String, AppError> {
        let (c, incident) = self.managed_campaign(ctx, campaign_id).await?;
        let mut slug = c.public_slug.clone();
        let now = self.clock.now_micros();
        let actor = actor_label(ctx);
        if slug.is_none() {
            let mut b = [0u8; 16];
            rand::thread_rng().fill_bytes(&mut b);
            let s = data_slug(&b);
            slug = if self
                .store
                .set_campaign_public(campaign_id, &s, &actor, now)
                .await?
            {
                Some(s)
            } else {
                self.store.get_campaign(campaign_id).await?.public_slug
            };
        }
        let covered = self
            .store
            .cover_unreachable(campaign_id, &actor, &day(now), now)
            .await?;
        self.store
            .append_timeline(
                incident.id,
                now,
                &[NewEntry::line(
                    &actor,
                    "campaign",
                    &Line::PublicNotice { covered },
                )],
            )
            .await?;
        self.audit(
            ctx,
            "campaign.public_notice",
            &format!("campaign:{campaign_id}"),
            Outcome::Success,
            json!({"covered": covered}),
        )
        .await?;
        let c = self.store.get_campaign(campaign_id).await?;
        self.check_completion(&c, &actor).await?;
        slug.ok_or_else(|| AppError::Internal("public notice slug missing".into()))
    }

    /// The public notice's text by its path segment (no login; nothing personal in it).
    pub async fn public_notice(&self, slug: &str) -> Result<PublicNotice, AppError> {
        if slug.len() != 26
            || !slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(AppError::NotFound);
        }
        let c = match self.store.campaign_by_slug(slug).await {
            Ok(c) => c,
            Err(mamori_store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let notice = self.campaign_notice(&c).await?;
        let incident = self.store.get_incident(c.incident_id).await?;
        let facts: mamori_domain::incident::facts::IncidentFacts =
            serde_json::from_str(&incident.facts).map_err(internal)?;
        let items: Vec<Item> = facts.items.iter().copied().collect();
        Ok(PublicNotice {
            ja: dn::public_text(&notice, Lang::Ja, &items),
            en: notice
                .en
                .as_ref()
                .map(|_| dn::public_text(&notice, Lang::En, &items)),
            published_at: c.public_at.unwrap_or_default(),
        })
    }

    /// When every recipient is notified or covered by the public notice, the campaign is done
    /// and the incident's NoticeToSubjects obligation is fulfilled (with its timeline line).
    async fn check_completion(&self, c: &CampaignRow, actor: &str) -> Result<(), AppError> {
        let states = self.store.campaign_states(c.id).await?;
        let open = states.iter().any(|s| {
            !State::parse(&s.what).is_some_and(|st| st.is_notified() || st == State::Covered)
        });
        if open || self.store.get_campaign(c.id).await?.status != "active" {
            return Ok(());
        }
        self.store.set_campaign_status(c.id, "done").await?;
        let now = self.clock.now_micros();
        for o in self.store.obligations(c.incident_id).await? {
            if o.kind == ObligationKind::NoticeToSubjects.code() && o.status == "open" {
                let entry = NewEntry::line(
                    actor,
                    "obligation",
                    &Line::ObligationDone {
                        kind: ObligationKind::NoticeToSubjects,
                        at: mamori_domain::incident::facts::format_jst(now),
                    },
                );
                self.store
                    .set_obligation_status(o.id, "done", actor, &entry, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// A recipient needs work again (a letter came back after every letter was posted): the
    /// campaign is active again and the NoticeToSubjects obligation open again, with its line.
    async fn reopen(&self, campaign_id: i64, actor: &str) -> Result<(), AppError> {
        let c = self.store.get_campaign(campaign_id).await?;
        if c.status != "done" {
            return Ok(());
        }
        self.store.set_campaign_status(c.id, "active").await?;
        let now = self.clock.now_micros();
        for o in self.store.obligations(c.incident_id).await? {
            if o.kind == ObligationKind::NoticeToSubjects.code() && o.status == "done" {
                let entry = NewEntry::line(
                    actor,
                    "obligation",
                    &Line::ObligationReopened {
                        kind: ObligationKind::NoticeToSubjects,
                    },
                );
                self.store
                    .set_obligation_status(o.id, "open", actor, &entry, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// The campaign's progress: notified by channel, pending, unreachable, covered, and the
    /// events per JST day.
    pub async fn campaign_funnel(&self, ctx: &Ctx, campaign_id: i64) -> Result<Funnel, AppError> {
        self.managed_campaign(ctx, campaign_id).await?;
        let mut f = Funnel::default();
        for s in self.store.campaign_states(campaign_id).await? {
            let ch = channel_of(s.channel.as_deref());
            let Some(st) = State::parse(&s.what) else {
                continue;
            };
            f.total += s.count;
            if st.is_notified() {
                f.notified += s.count;
                if let Some(ch) = ch {
                    *f.notified_by.entry(ch).or_default() += s.count;
                }
            } else if st == State::Unreachable {
                f.unreachable += s.count;
            } else if st == State::Covered {
                f.covered_by_public_notice += s.count;
            } else {
                f.pending += s.count;
            }
            f.states.push((ch, st, s.count));
        }
        f.days = self
            .store
            .campaign_days(campaign_id)
            .await?
            .into_iter()
            .map(|d| DayCount {
                day: d.day.unwrap_or_default(),
                channel: channel_of(d.channel.as_deref()),
                event: d.what,
                count: d.count,
            })
            .collect();
        Ok(f)
    }
}

fn notice_version_of(r: &mamori_store::campaigns::NoticeRow) -> Result<NoticeVersion, AppError> {
    Ok(NoticeVersion {
        version: r.version,
        notice: serde_json::from_str(&r.body).map_err(internal)?,
        created_by: r.created_by.clone(),
        created_at: r.created_at,
        approved_by: r.approved_by.clone(),
        approved_at: r.approved_at,
    })
}

/// 16 random bytes as 26 lower-case base32 characters (no padding).
fn data_slug(b: &[u8; 16]) -> String {
    const A: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(26);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &x in b {
        acc = (acc << 8) | u32::from(x);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(A[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(A[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}
