//! Notices to the persons and notification campaigns (本人への通知, issue 14): the notice editor
//! with its versions and approval, the campaigns of an incident, one campaign's page (progress,
//! letters and the printing list, returned mail, bounces, messages in doubt, the public
//! notice), and the contact desk's call list. The public notice page itself (no login) is
//! `super::public`.

use super::incidents::Pairs;
use super::{jst, render, render_status, Chrome};
use crate::error::{WebError, WebResult};
use crate::form::FormErrors;
use crate::i18n::Lang;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use mamori_app::campaign::{
    Bounce, CallOutcome, CampaignOptions, CampaignView, Channel, Funnel, LetterParts, Notice,
    NoticeText, Part, ReturnReason, State,
};
use mamori_app::{AppError, Problems};
use mamori_domain::notice::missing_parts;
use mamori_domain::role::Permission;
use serde::Deserialize;

fn label(v: &Visitor, ja: &str, en: &str) -> String {
    if v.lang == Lang::En { en } else { ja }.to_owned()
}

fn dlang(v: &Visitor) -> mamori_domain::lang::Lang {
    if v.lang == Lang::En {
        mamori_domain::lang::Lang::En
    } else {
        mamori_domain::lang::Lang::Ja
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    pub done: Option<String>,
}

/// The incident's heading on these pages.
pub struct Head {
    pub id: i64,
    pub ref_no: String,
    pub title: String,
    /// The incident's items (the letter preview lists them as a person's).
    pub items: Vec<mamori_domain::appi::Item>,
}

async fn head(s: &WebState, v: &Visitor, id: i64) -> Result<Head, AppError> {
    let (i, _) = s.app.incident_for(&v.ctx(), id).await?;
    let items = serde_json::from_str::<mamori_domain::incident::facts::IncidentFacts>(&i.facts)
        .map(|f| f.items.iter().copied().collect())
        .unwrap_or_default();
    Ok(Head {
        id: i.id,
        ref_no: i.ref_no.clone(),
        title: i.title.clone(),
        items,
    })
}

// ───────────────────────────── the notice ─────────────────────────────

/// One part of the notice as a form field.
pub struct PartField {
    /// `ja_subject`, `en_cause` …
    pub name: String,
    pub label: String,
    pub value: String,
    /// A one-line input (the subject) rather than a text area.
    pub line: bool,
}

pub struct VersionRow {
    pub version: i64,
    pub by: String,
    pub at: String,
    pub approved: Option<String>,
    pub may_approve: bool,
}

#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub c: Chrome,
    pub h: Head,
    pub ja: Vec<PartField>,
    pub en: Vec<PartField>,
    pub with_en: bool,
    /// The version shown (0 for a fresh draft).
    pub version: i64,
    pub versions: Vec<VersionRow>,
    pub missing: Vec<String>,
    pub can_edit: bool,
    pub errs: FormErrors,
    /// The letter as the first person would read it (a preview with example items).
    pub preview: LetterParts,
}

const PART_KEYS: [(Part, &str); 6] = [
    (Part::Subject, "subject"),
    (Part::WhatHappened, "what_happened"),
    (Part::Cause, "cause"),
    (Part::SecondaryDamage, "secondary_damage"),
    (Part::WhatToDo, "what_to_do"),
    (Part::Contact, "contact"),
];

fn part_fields(v: &Visitor, prefix: &str, t: &NoticeText) -> Vec<PartField> {
    PART_KEYS
        .iter()
        .map(|&(p, key)| PartField {
            name: format!("{prefix}_{key}"),
            label: label(v, p.label_ja(), p.label_en()),
            value: p.get(t).to_owned(),
            line: p == Part::Subject,
        })
        .collect()
}

fn notice_of(p: &Pairs) -> Notice {
    let text = |prefix: &str| NoticeText {
        subject: p.get(&format!("{prefix}_subject")).trim().to_owned(),
        what_happened: p.get(&format!("{prefix}_what_happened")).trim().to_owned(),
        cause: p.get(&format!("{prefix}_cause")).trim().to_owned(),
        secondary_damage: p
            .get(&format!("{prefix}_secondary_damage"))
            .trim()
            .to_owned(),
        what_to_do: p.get(&format!("{prefix}_what_to_do")).trim().to_owned(),
        contact: p.get(&format!("{prefix}_contact")).trim().to_owned(),
    };
    Notice {
        ja: text("ja"),
        en: p.flag("with_en").then(|| text("en")),
    }
}

/// The form's fields with their labels, for the summary of problems.
fn notice_fields(with_en: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (prefix, on) in [("ja", true), ("en", with_en)] {
        if on {
            for (_, key) in PART_KEYS {
                out.push((format!("{prefix}_{key}"), format!("notice.{prefix}.{key}")));
            }
        }
    }
    out
}

fn missing_lines(v: &Visitor, n: &Notice) -> Vec<String> {
    missing_parts(n)
        .into_iter()
        .map(|m| if v.lang == Lang::En { m.en() } else { m.ja() })
        .collect()
}

async fn notice_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    shown: Option<Notice>,
    errs: FormErrors,
    flash: Option<String>,
) -> Result<NoticePage, AppError> {
    let ctx = v.ctx();
    let h = head(s, v, id).await?;
    let versions = s.app.notice_versions(&ctx, id).await?;
    let can_edit = ctx.allows(Permission::ManageIncidents);
    let can_approve = ctx.allows(Permission::DecideIncidents);
    let (notice, version) = match (shown, versions.first()) {
        (Some(n), _) => (n, versions.first().map_or(0, |x| x.version)),
        (None, Some(latest)) => (latest.notice.clone(), latest.version),
        (None, None) if can_edit => (s.app.draft_notice(&ctx, id).await?, 0),
        (None, None) => (Notice::default(), 0),
    };
    let latest = versions.first().map(|x| x.version);
    let rows = versions
        .iter()
        .map(|x| VersionRow {
            version: x.version,
            by: x.created_by.clone(),
            at: jst(x.created_at),
            approved: x
                .approved_by
                .as_ref()
                .map(|b| format!("{b} ／ {}", x.approved_at.map(jst).unwrap_or_default())),
            may_approve: can_approve && x.approved_by.is_none() && Some(x.version) == latest,
        })
        .collect();
    let with_en = notice.en.is_some();
    let en_text = notice.en.clone().unwrap_or_default();
    let preview = mamori_domain::notice::letter(
        &notice,
        dlang(v),
        Some(&label(v, "山田 太郎", "Taro Yamada")),
        &h.items,
        "0000-0000",
    );
    let title = v.tr().get("notice.title").to_owned();
    let mut c = Chrome::new(v, "notice.title")
        .about_incident(&h.ref_no, &h.title, false)
        .with_flash(flash);
    c.title = format!("{title} · {} {}", h.ref_no, h.title);
    Ok(NoticePage {
        c,
        ja: part_fields(v, "ja", &notice.ja),
        en: part_fields(v, "en", &en_text),
        with_en,
        version,
        versions: rows,
        missing: missing_lines(v, &notice),
        can_edit,
        errs,
        preview,
        h,
    })
}

pub async fn notice_get(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> WebResult {
    v.full()?;
    let flash = q.done.map(|d| match d.as_str() {
        "approved" => v.tr().get("notice.approved").to_owned(),
        _ => v.tr().get("notice.saved").to_owned(),
    });
    render(&notice_page(&s, &v, id, None, FormErrors::none("notice"), flash).await?)
}

/// Checks the parts before saving: each too long part is named (the use case names only the
/// first).
fn check_notice(n: &Notice) -> Result<(), AppError> {
    let mut ps = Problems::new();
    let max = mamori_domain::notice::MAX_PART_CHARS;
    for (prefix, t) in [("ja", Some(&n.ja)), ("en", n.en.as_ref())] {
        let Some(t) = t else { continue };
        for (p, key) in PART_KEYS {
            if p.get(t).chars().count() > max {
                let _ = ps.check::<()>(Err(AppError::invalid(
                    field_name(prefix, key),
                    format!("「{}」が長すぎます（{max}文字まで）", p.label_ja()),
                    format!(
                        "the {} is too long (at most {max} characters)",
                        p.label_en()
                    ),
                )));
            }
        }
    }
    ps.done()
}

/// Field names are static in problems; the twelve of the notice form.
fn field_name(prefix: &str, key: &str) -> &'static str {
    const NAMES: [&str; 12] = [
        "ja_subject",
        "ja_what_happened",
        "ja_cause",
        "ja_secondary_damage",
        "ja_what_to_do",
        "ja_contact",
        "en_subject",
        "en_what_happened",
        "en_cause",
        "en_secondary_damage",
        "en_what_to_do",
        "en_contact",
    ];
    let want = format!("{prefix}_{key}");
    NAMES
        .iter()
        .find(|n| **n == want)
        .copied()
        .unwrap_or("ja_subject")
}

pub async fn notice_save(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let n = notice_of(&p);
    let r = match check_notice(&n) {
        Ok(()) => s.app.save_notice(&v.ctx(), id, &n).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}/notice?done=saved")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let fields = notice_fields(n.en.is_some());
            let f: Vec<(&str, &str)> = fields
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let errs = FormErrors::of(&v, "notice", &e, &f);
            let page = notice_page(&s, &v, id, Some(n), errs, None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

pub async fn notice_approve(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, version)): Path<(i64, i64)>,
) -> WebResult {
    v.full()?;
    match s.app.approve_notice(&v.ctx(), id, version).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/incidents/{id}/notice?done=approved")).into_response())
        }
        Err(e @ AppError::Invalid(_)) => {
            // A part is missing: the page lists every missing part; the error names one.
            let text = super::problem_text(&v, &e);
            let mut page = notice_page(&s, &v, id, None, FormErrors::none("notice"), None).await?;
            page.c.error = Some(text);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── campaigns of an incident ─────────────────────────────

pub struct CampaignRow {
    pub id: i64,
    pub status: String,
    pub channels: String,
    pub total: i64,
    pub notified: i64,
    pub pending: i64,
    pub unreachable: i64,
    pub covered: i64,
}

pub struct ChannelOpt {
    pub code: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
pub struct CampaignsPage {
    pub c: Chrome,
    pub h: Head,
    pub rows: Vec<CampaignRow>,
    pub approved: Option<i64>,
    /// For each of the three positions, the choices.
    pub order: Vec<(usize, Vec<ChannelOpt>)>,
    pub rate: String,
    pub errs: FormErrors,
    pub affected: i64,
}

fn channel_label(v: &Visitor, c: Channel) -> String {
    label(v, c.label_ja(), c.label_en())
}

fn order_text(v: &Visitor, cs: &[Channel]) -> String {
    cs.iter()
        .map(|c| channel_label(v, *c))
        .collect::<Vec<_>>()
        .join(" → ")
}

fn order_opts(v: &Visitor, chosen: &[Option<Channel>]) -> Vec<(usize, Vec<ChannelOpt>)> {
    (0..3)
        .map(|i| {
            let sel = chosen.get(i).copied().flatten();
            let mut opts = vec![ChannelOpt {
                code: "",
                label: label(v, "（なし）", "(none)"),
                selected: sel.is_none(),
            }];
            opts.extend(Channel::ALL.iter().map(|c| ChannelOpt {
                code: c.code(),
                label: channel_label(v, *c),
                selected: sel == Some(*c),
            }));
            (i + 1, opts)
        })
        .collect()
}

async fn campaigns_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    chosen: &[Option<Channel>],
    rate: String,
    errs: FormErrors,
    flash: Option<String>,
) -> Result<CampaignsPage, AppError> {
    let ctx = v.ctx();
    let h = head(s, v, id).await?;
    let mut rows = Vec::new();
    for c in s.app.campaigns(&ctx, id).await? {
        let f = s.app.campaign_funnel(&ctx, c.id).await?;
        rows.push(CampaignRow {
            id: c.id,
            status: status_label(v, &c),
            channels: order_text(v, &c.channels),
            total: f.total,
            notified: f.notified,
            pending: f.pending,
            unreachable: f.unreachable,
            covered: f.covered_by_public_notice,
        });
    }
    let approved = s
        .app
        .notice_versions(&ctx, id)
        .await?
        .into_iter()
        .find(|x| x.approved_by.is_some())
        .map(|x| x.version);
    let affected = s
        .app
        .impact_counts(&ctx, id)
        .await
        .map_or(0, |c| c.total as i64);
    let mut c = Chrome::new(v, "camp.list.title")
        .about_incident(&h.ref_no, &h.title, false)
        .with_flash(flash);
    c.title = format!(
        "{} · {} {}",
        v.tr().get("camp.list.title"),
        h.ref_no,
        h.title
    );
    Ok(CampaignsPage {
        c,
        h,
        rows,
        approved,
        order: order_opts(v, chosen),
        rate,
        errs,
        affected,
    })
}

fn status_label(v: &Visitor, c: &CampaignView) -> String {
    match c.status.as_str() {
        "done" => label(v, "完了", "done"),
        _ => label(v, "実施中", "in progress"),
    }
}

pub async fn campaigns_get(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    let default: Vec<Option<Channel>> = mamori_domain::campaign::DEFAULT_ORDER
        .iter()
        .copied()
        .map(Some)
        .collect();
    let rate = CampaignOptions::default().rate_per_sec.to_string();
    render(
        &campaigns_page(
            &s,
            &v,
            id,
            &default,
            rate,
            FormErrors::none("campaign"),
            None,
        )
        .await?,
    )
}

const CAMPAIGN_FIELDS: &[(&str, &str)] = &[
    ("channel1", "camp.order"),
    ("rate", "camp.rate"),
    ("notice", "camp.notice"),
];

fn options_of(p: &Pairs) -> (Vec<Option<Channel>>, Result<CampaignOptions, AppError>) {
    let chosen: Vec<Option<Channel>> = (1..=3)
        .map(|i| p.get(&format!("channel{i}")).parse().ok())
        .collect();
    let mut ps = Problems::new();
    let mut order: Vec<Channel> = Vec::new();
    for c in chosen.iter().flatten() {
        if order.contains(c) {
            let _ = ps.check::<()>(Err(AppError::invalid(
                "channel1",
                "同じ手段を二度選んでいます",
                "the same channel is chosen twice",
            )));
            break;
        }
        order.push(*c);
    }
    if order.is_empty() {
        let _ = ps.check::<()>(Err(AppError::invalid(
            "channel1",
            "通知の手段を一つ以上選んでください",
            "choose at least one channel",
        )));
    }
    let rate = mamori_domain::number::parse_whole(p.get("rate"));
    let rate = match rate {
        Some(r) if (1..=10_000).contains(&r) => r as u32,
        _ => {
            let _ = ps.check::<()>(Err(AppError::invalid(
                "rate",
                "送信速度は1〜10000（通/秒）の数で入力してください",
                "the rate must be a number from 1 to 10000 (messages per second)",
            )));
            0
        }
    };
    let r = ps.done().map(|()| CampaignOptions {
        channels: order,
        rate_per_sec: rate,
        ..CampaignOptions::default()
    });
    (chosen, r)
}

pub async fn campaigns_create(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let (chosen, opts) = options_of(&p);
    let r = match opts {
        Ok(o) => s.app.create_campaign(&v.ctx(), id, &o).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(cid) => Ok(Redirect::to(&format!("/campaigns/{cid}?done=created")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "campaign", &e, CAMPAIGN_FIELDS);
            let page =
                campaigns_page(&s, &v, id, &chosen, p.get("rate").to_owned(), errs, None).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── one campaign ─────────────────────────────

pub struct Figure {
    pub label: String,
    pub value: i64,
    pub testid: &'static str,
}

pub struct StateRow {
    pub channel: String,
    pub state: String,
    pub count: i64,
}

pub struct RecipientRow {
    pub id: i64,
    pub reference: String,
    pub channel: String,
    pub state: String,
    pub problem: String,
    pub attempts: i64,
}

pub struct ReasonOpt {
    pub code: &'static str,
    pub label: String,
}

#[derive(Template)]
#[template(path = "campaign.html")]
pub struct CampaignPage {
    pub c: Chrome,
    pub h: Head,
    pub id: i64,
    pub status: String,
    pub channels: String,
    pub last_error: Option<String>,
    pub figures: Vec<Figure>,
    pub chart: String,
    pub states: Vec<StateRow>,
    pub recipients: Vec<RecipientRow>,
    pub more_after: Option<i64>,
    pub letters: usize,
    pub in_doubt: Vec<String>,
    pub reasons: Vec<ReasonOpt>,
    pub public_href: Option<String>,
    pub can_publish: bool,
    pub has_phone: bool,
    pub report: Vec<String>,
    pub errs: FormErrors,
}

fn state_label(v: &Visitor, st: State) -> String {
    label(v, st.label_ja(), st.label_en())
}

fn problem_label(v: &Visitor, p: &str) -> String {
    if let Some(r) = ReturnReason::parse(p) {
        return label(v, r.label_ja(), r.label_en());
    }
    match p {
        "bad_address" => label(
            v,
            "メールアドレスの形式が正しくありません",
            "the e-mail address is not valid",
        ),
        "bounced" => label(v, "メールが届きませんでした（不達）", "the e-mail bounced"),
        "no_contact" => label(v, "連絡先がありません", "no contact data"),
        other => other.strip_prefix("refused: ").map_or_else(
            || other.to_owned(),
            |m| {
                label(
                    v,
                    &format!("送信を拒否されました: {m}"),
                    &format!("refused: {m}"),
                )
            },
        ),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CampaignQuery {
    #[serde(default)]
    pub done: Option<String>,
    #[serde(default)]
    pub after: Option<i64>,
}

const PAGE: i64 = 200;

fn figures(v: &Visitor, f: &Funnel) -> Vec<Figure> {
    let mut out = vec![Figure {
        label: label(v, "対象者", "persons"),
        value: f.total,
        testid: "fig-total",
    }];
    for ch in Channel::ALL {
        out.push(Figure {
            label: label(
                v,
                &format!("{}で通知済み", ch.label_ja()),
                &format!("notified by {}", ch.label_en()),
            ),
            value: f.notified_by.get(&ch).copied().unwrap_or(0),
            testid: match ch {
                Channel::Post => "fig-post",
                Channel::Email => "fig-email",
                Channel::Phone => "fig-phone",
            },
        });
    }
    out.extend([
        Figure {
            label: label(v, "対応中", "in progress"),
            value: f.pending,
            testid: "fig-pending",
        },
        Figure {
            label: label(v, "連絡がつかない", "unreachable"),
            value: f.unreachable,
            testid: "fig-unreachable",
        },
        Figure {
            label: label(v, "公表で対応（代替措置）", "covered by the public notice"),
            value: f.covered_by_public_notice,
            testid: "fig-covered",
        },
    ]);
    out
}

pub(crate) async fn campaign_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    after: i64,
    errs: FormErrors,
    flash: Option<String>,
    report: Vec<String>,
) -> Result<CampaignPage, AppError> {
    let ctx = v.ctx();
    let cv = s.app.campaign(&ctx, id).await?;
    let h = head(s, v, cv.incident_id).await?;
    let f = s.app.campaign_funnel(&ctx, id).await?;
    let recips = s.app.campaign_recipients(&ctx, id, after, PAGE + 1).await?;
    let more_after = (recips.len() as i64 > PAGE).then(|| recips[PAGE as usize - 1].id);
    let recipients = recips
        .iter()
        .take(PAGE as usize)
        .map(|r| RecipientRow {
            id: r.id,
            reference: r.reference.clone(),
            channel: r
                .channel
                .map_or_else(|| "—".into(), |c| channel_label(v, c)),
            state: state_label(v, r.state),
            problem: match r.problem.as_deref() {
                Some(p) => problem_label(v, p),
                None if r.reach.is_empty() => problem_label(v, "no_contact"),
                None => String::new(),
            },
            attempts: r.attempt,
        })
        .collect();
    let states = f
        .states
        .iter()
        .map(|(ch, st, n)| StateRow {
            channel: ch.map_or_else(|| "—".into(), |c| channel_label(v, c)),
            state: state_label(v, *st),
            count: *n,
        })
        .collect();
    let letters = s.app.letters_to_print(&ctx, id, 0, 100_000).await?.len();
    let in_doubt = s
        .app
        .in_doubt(&ctx, id)
        .await?
        .into_iter()
        .map(|d| d.message_id)
        .collect();
    let reasons = ReturnReason::ALL
        .iter()
        .map(|r| ReasonOpt {
            code: r.code(),
            label: label(v, r.label_ja(), r.label_en()),
        })
        .collect();
    let chart = crate::chart::funnel_svg(
        &chart_data(&f, format!("{} #{id}", v.tr().get("camp.title"))),
        dlang(v),
    );
    let mut c = Chrome::new(v, "camp.title")
        .about_incident(&h.ref_no, &h.title, false)
        .with_flash(flash);
    c.title = format!("{} · {} {}", v.tr().get("camp.title"), h.ref_no, h.title);
    Ok(CampaignPage {
        c,
        id,
        status: status_label(v, &cv),
        channels: order_text(v, &cv.channels),
        last_error: cv.last_error.clone(),
        figures: figures(v, &f),
        chart,
        states,
        recipients,
        more_after,
        letters,
        in_doubt,
        reasons,
        public_href: cv.public_slug.as_ref().map(|s| format!("/notice/{s}")),
        can_publish: cv.public_slug.is_none() && f.unreachable > 0,
        has_phone: cv.channels.contains(&Channel::Phone),
        report,
        errs,
        h,
    })
}

fn flash_of(v: &Visitor, done: Option<&str>) -> Option<String> {
    let key = match done? {
        "created" => "camp.flash.created",
        "posted" => "camp.flash.posted",
        "returned" => "camp.flash.returned",
        "published" => "camp.flash.published",
        "resolved" => "camp.flash.resolved",
        _ => return None,
    };
    Some(v.tr().get(key).to_owned())
}

pub async fn campaign_get(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<CampaignQuery>,
) -> WebResult {
    v.full()?;
    let flash = flash_of(&v, q.done.as_deref());
    let page = campaign_page(
        &s,
        &v,
        id,
        q.after.unwrap_or(0).max(0),
        FormErrors::none("returned"),
        flash,
        Vec::new(),
    )
    .await?;
    render(&page)
}

/// Marks every letter still to print as posted (after the printing company took the file).
pub async fn campaign_posted(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let ids: Vec<i64> = s
        .app
        .letters_to_print(&ctx, id, 0, 1_000_000)
        .await?
        .iter()
        .map(|l| l.recipient_id)
        .collect();
    s.app.mark_posted(&ctx, id, &ids).await?;
    Ok(Redirect::to(&format!("/campaigns/{id}?done=posted")).into_response())
}

const RETURNED_FIELDS: &[(&str, &str)] = &[
    ("reference", "camp.returned.reference"),
    ("reason", "camp.returned.reason"),
];

async fn refused(
    s: &WebState,
    v: &Visitor,
    id: i64,
    form: &'static str,
    e: &AppError,
    fields: &[(&str, &str)],
) -> WebResult {
    let errs = FormErrors::of(v, form, e, fields);
    let page = campaign_page(s, v, id, 0, errs, None, Vec::new()).await?;
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// One returned letter marked by hand.
pub async fn campaign_returned(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = match ReturnReason::parse(p.get("reason").trim()) {
        Some(reason) => {
            s.app
                .mark_returned(&v.ctx(), id, p.get("reference").trim(), reason)
                .await
        }
        None => Err(AppError::invalid(
            "reason",
            "返送の理由を選んでください",
            "choose why the letter came back",
        )),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/campaigns/{id}?done=returned")).into_response()),
        Err(e @ AppError::Invalid(_)) => refused(&s, &v, id, "returned", &e, RETURNED_FIELDS).await,
        Err(e) => Err(WebError(e)),
    }
}

fn uploaded(headers: &HeaderMap, body: &[u8], field: &'static str) -> Result<Vec<u8>, AppError> {
    let none = || AppError::invalid(field, "ファイルを選んでください", "choose a file to upload");
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let b = crate::multipart::boundary(ct).ok_or_else(none)?;
    let parts = crate::multipart::parse(body, &b);
    let f = crate::multipart::field(&parts, field).ok_or_else(none)?;
    if f.data.is_empty() {
        return Err(none());
    }
    Ok(f.data.clone())
}

/// A returned-mail list from the post office or the printing company: CSV of references and
/// reasons, in UTF-8 or CP932.
pub async fn campaign_returned_import(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> WebResult {
    v.full()?;
    let r = match uploaded(&headers, &body, "returned_file") {
        Ok(bytes) => match mamori_app::vault_import::decode_text(&bytes) {
            Ok(text) => s.app.import_returned(&v.ctx(), id, &text).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match r {
        Ok(rep) => {
            let mut lines = vec![label(
                &v,
                &format!("返送 {} 件を取り込みました。", rep.returned),
                &format!("{} returned letters recorded.", rep.returned),
            )];
            lines.extend(rep.problems.iter().map(|p| {
                label(
                    &v,
                    &format!("{}行目: {}", p.line, p.ja),
                    &format!("line {}: {}", p.line, p.en),
                )
            }));
            let page =
                campaign_page(&s, &v, id, 0, FormErrors::none("returned"), None, lines).await?;
            render(&page)
        }
        Err(e @ AppError::Invalid(_)) => {
            refused(
                &s,
                &v,
                id,
                "returned_import",
                &e,
                &[
                    ("returned_file", "camp.returned.file"),
                    ("file", "camp.returned.file"),
                ],
            )
            .await
        }
        Err(e) => Err(WebError(e)),
    }
}

/// Bounces: delivery status notifications as an mbox file or one .eml.
pub async fn campaign_bounces(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> WebResult {
    v.full()?;
    let r = match uploaded(&headers, &body, "bounce_file") {
        Ok(bytes) => {
            let read = mamori_mail::dsn::read_mailbox(&bytes);
            let bounces: Vec<Bounce> = read
                .reports
                .iter()
                .filter_map(|b| {
                    Some(Bounce {
                        message_id: b.original_message_id.clone()?,
                        recipient: b.final_recipient.clone(),
                        permanent: b.is_bounce(),
                    })
                })
                .collect();
            let skipped = read.skipped;
            s.app
                .apply_bounces(&v.ctx(), id, bounces)
                .await
                .map(|rep| (rep, skipped))
        }
        Err(e) => Err(e),
    };
    match r {
        Ok((rep, skipped)) => {
            let lines = vec![label(
                &v,
                &format!(
                    "不達 {} 件を反映しました（一時的なエラー {} 件、このキャンペーン以外 {} 件、不達通知でないメール {} 件）。",
                    rep.bounced,
                    rep.temporary,
                    rep.ignored.len(),
                    skipped
                ),
                &format!(
                    "{} bounces applied ({} temporary, {} not of this campaign, {} messages that are no delivery reports).",
                    rep.bounced,
                    rep.temporary,
                    rep.ignored.len(),
                    skipped
                ),
            )];
            let page =
                campaign_page(&s, &v, id, 0, FormErrors::none("bounces"), None, lines).await?;
            render(&page)
        }
        Err(e @ AppError::Invalid(_)) => {
            refused(
                &s,
                &v,
                id,
                "bounces",
                &e,
                &[("bounce_file", "camp.bounces.file")],
            )
            .await
        }
        Err(e) => Err(WebError(e)),
    }
}

/// Messages in doubt after a crash: the Message-IDs the relay's log shows as accepted.
pub async fn campaign_resolve(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let accepted: Vec<String> = p
        .get("accepted")
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|t| t.trim_matches(|c| c == '<' || c == '>'))
        .filter(|t| t.contains('@'))
        .map(str::to_owned)
        .collect();
    s.app.resolve_in_doubt(&v.ctx(), id, &accepted).await?;
    Ok(Redirect::to(&format!("/campaigns/{id}?done=resolved")).into_response())
}

pub async fn campaign_publish(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    s.app.publish_public_notice(&v.ctx(), id).await?;
    Ok(Redirect::to(&format!("/campaigns/{id}?done=published")).into_response())
}

// ───────────────────────────── letters and the printing list ─────────────────────────────

/// The letters still to print, as `mamori_pdf::letter` letters.
async fn letters(
    s: &WebState,
    v: &Visitor,
    id: i64,
) -> Result<
    (
        Vec<mamori_pdf::letter::Letter>,
        Vec<mamori_detect::print_list::PrintRow>,
    ),
    AppError,
> {
    let ctx = v.ctx();
    let cv = s.app.campaign(&ctx, id).await?;
    let (incident, _) = s.app.incident_for(&ctx, cv.incident_id).await?;
    let company = s.app.store.get_company(incident.company_id).await?;
    let today = mamori_domain::incident::jst_date(s.app.clock.now_micros());
    let date = mamori_app::ppc::japanese_date(today);
    let mut out = Vec::new();
    let mut rows = Vec::new();
    for l in s.app.letters_to_print(&ctx, id, 0, 1_000_000).await? {
        let address_lines: Vec<String> = l
            .address
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect();
        let mut body = vec![mamori_pdf::Block::Paragraph(l.letter.salutation.clone())];
        for (i, (h, text)) in l.letter.sections.iter().enumerate() {
            body.push(mamori_pdf::Block::Heading(h.clone()));
            // The second section is the person's items (`notice::letter`): one per line.
            if i == 1 {
                body.push(mamori_pdf::Block::List(
                    text.split('、').map(|x| x.trim().to_owned()).collect(),
                ));
            } else {
                body.push(mamori_pdf::Block::Paragraph(text.trim().to_owned()));
            }
        }
        rows.push(mamori_detect::print_list::PrintRow {
            reference: l.reference.clone(),
            postal_code: l.postal_code.clone().unwrap_or_default(),
            address1: address_lines.first().cloned().unwrap_or_default(),
            address2: address_lines
                .get(1..)
                .map(|r| r.join(" "))
                .unwrap_or_default(),
            name: l.name.clone().unwrap_or_default(),
        });
        out.push(mamori_pdf::letter::Letter {
            recipient: mamori_pdf::letter::Recipient {
                postal_code: l.postal_code.clone().unwrap_or_default(),
                address_lines,
                name: l.name.clone().unwrap_or_default(),
            },
            sender: mamori_pdf::letter::Sender {
                company: company.name.clone(),
                department: "個人情報お問い合わせ窓口".into(),
                address_lines: Vec::new(),
                phone: String::new(),
            },
            date: date.clone(),
            reference: l.reference.clone(),
            title: l.letter.title.clone(),
            body,
            closing: vec!["以上".into()],
        });
    }
    Ok((out, rows))
}

/// Every letter still to print, merged into one PDF for the printing company.
pub async fn letters_pdf(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    v.full()?;
    let (letters, _) = letters(&s, &v, id).await?;
    let pdf = tokio::task::spawn_blocking(move || mamori_pdf::letter::render_letters(&letters))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"campaign-{id}-letters.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}

pub struct CharProblem {
    pub at: String,
    pub ch: String,
    pub code_point: String,
    pub message: String,
    pub suggestion: Option<String>,
}

#[derive(Template)]
#[template(path = "print_list_problems.html")]
pub struct PrintProblemsPage {
    pub c: Chrome,
    pub id: i64,
    pub problems: Vec<CharProblem>,
    pub all_have_substitutes: bool,
}

fn csv_response(id: i64, bytes: Vec<u8>) -> axum::response::Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/csv; charset=Shift_JIS".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"campaign-{id}-addresses.csv\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

fn problems_page(
    v: &Visitor,
    id: i64,
    ps: &[mamori_detect::print_list::Problem],
) -> Result<axum::response::Response, WebError> {
    let problems: Vec<CharProblem> = ps
        .iter()
        .map(|p| CharProblem {
            at: label(
                v,
                &format!("{}行目・{}", p.row, p.column.ja()),
                &format!("row {}, {}", p.row, p.column.en()),
            ),
            ch: p.ch.to_string(),
            code_point: p.code_point(),
            message: if v.lang == Lang::En { p.en() } else { p.ja() },
            suggestion: p.suggestion.clone(),
        })
        .collect();
    let all_have_substitutes = problems.iter().all(|p| p.suggestion.is_some());
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &PrintProblemsPage {
            c: Chrome::new(v, "camp.print.title"),
            id,
            problems,
            all_have_substitutes,
        },
    )
}

/// The address list for the printing company in CP932; when a character cannot be written,
/// a page names each one with a substitute instead.
pub async fn print_list(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    use mamori_detect::print_list::{print_list, Charset};
    v.full()?;
    let (_, rows) = letters(&s, &v, id).await?;
    match print_list(&rows, Charset::Cp932) {
        Ok(bytes) => Ok(csv_response(id, bytes)),
        Err(ps) => problems_page(&v, id, &ps),
    }
}

/// The list again with the offered substitutes applied (the person chose them).
pub async fn print_list_substituted(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
) -> WebResult {
    use mamori_detect::print_list::{apply_substitutes, print_list, problems, Charset};
    v.full()?;
    let (_, rows) = letters(&s, &v, id).await?;
    let found = problems(&rows, Charset::Cp932);
    let fixed = apply_substitutes(&rows, &found);
    match print_list(&fixed, Charset::Cp932) {
        Ok(bytes) => Ok(csv_response(id, bytes)),
        Err(ps) => problems_page(&v, id, &ps),
    }
}

// ───────────────────────────── the contact desk's calls ─────────────────────────────

pub struct CallRow {
    pub recipient_id: i64,
    pub reference: String,
    pub name: String,
    pub phone: String,
    pub tel: Option<String>,
    pub no_answers: i64,
    pub items: String,
}

pub struct OutcomeOpt {
    pub code: &'static str,
    pub label: String,
}

#[derive(Template)]
#[template(path = "campaign_calls.html")]
pub struct CallsPage {
    pub c: Chrome,
    pub id: i64,
    pub next: Option<CallRow>,
    pub rest: Vec<CallRow>,
    pub outcomes: Vec<OutcomeOpt>,
    pub errs: FormErrors,
    pub note: String,
}

async fn calls_page(
    s: &WebState,
    v: &Visitor,
    id: i64,
    errs: FormErrors,
    flash: Option<String>,
    note: String,
) -> Result<CallsPage, AppError> {
    let list = s.app.call_list(&v.ctx(), id, 50).await?;
    let lang = dlang(v);
    let mut rows: Vec<CallRow> = list
        .into_iter()
        .map(|e| CallRow {
            recipient_id: e.recipient_id,
            reference: e.reference,
            tel: e.unmasked.then(|| {
                e.phone
                    .chars()
                    .filter(|c| c.is_ascii_digit() || *c == '+')
                    .collect()
            }),
            name: e.name,
            phone: e.phone,
            no_answers: e.no_answers,
            items: mamori_domain::notice::item_list(&e.items, lang),
        })
        .collect();
    let next = if rows.is_empty() {
        None
    } else {
        Some(rows.remove(0))
    };
    let outcomes = CallOutcome::ALL
        .iter()
        .map(|o| OutcomeOpt {
            code: o.code(),
            label: label(v, o.label_ja(), o.label_en()),
        })
        .collect();
    Ok(CallsPage {
        c: Chrome::new(v, "camp.calls.title").with_flash(flash),
        id,
        next,
        rest: rows,
        outcomes,
        errs,
        note,
    })
}

pub async fn calls_get(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> WebResult {
    v.full()?;
    let flash = q.done.map(|_| v.tr().get("camp.calls.saved").to_owned());
    render(&calls_page(&s, &v, id, FormErrors::none("call"), flash, String::new()).await?)
}

const CALL_FIELDS: &[(&str, &str)] = &[
    ("outcome", "camp.calls.outcome"),
    ("note", "camp.calls.note"),
];

pub async fn call_record(
    AxState(s): AxState<WebState>,
    Extension(v): Extension<Visitor>,
    Path((id, recipient)): Path<(i64, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    v.full()?;
    let p = Pairs(pairs);
    let r = match CallOutcome::parse(p.get("outcome").trim()) {
        Some(o) => s
            .app
            .record_call(&v.ctx(), recipient, o, p.get("note").trim())
            .await
            .map(|_| ()),
        None => Err(AppError::invalid(
            "outcome",
            "通話の結果を選んでください",
            "choose the outcome of the call",
        )),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/campaigns/{id}/calls?done=1")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let errs = FormErrors::of(&v, "call", &e, CALL_FIELDS);
            let page = calls_page(&s, &v, id, errs, None, p.get("note").to_owned()).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(WebError(e)),
    }
}

// ───────────────────────────── the chart ─────────────────────────────

/// The funnel of each channel and the notices per JST day, from the campaign's figures.
pub fn chart_data(f: &Funnel, caption: String) -> crate::chart::FunnelData {
    use crate::chart::{ChannelFunnel, DayCount, FunnelData};
    use std::collections::BTreeMap;
    let mut per: BTreeMap<Channel, ChannelFunnel> = BTreeMap::new();
    for (ch, st, n) in &f.states {
        let Some(ch) = ch else { continue };
        let e = per.entry(*ch).or_default();
        if matches!(st, State::Queued | State::Sending | State::InDoubt) {
            e.queued += *n as u64;
        }
    }
    let mut days: BTreeMap<String, (u64, i64)> = BTreeMap::new();
    for d in &f.days {
        let Some(ch) = d.channel else { continue };
        let n = d.count.max(0) as u64;
        let e = per.entry(ch).or_default();
        let day = days.entry(d.day.clone()).or_default();
        let returned = ReturnReason::parse(&d.event).is_some()
            || matches!(
                d.event.as_str(),
                "bounced" | "refused" | "wrong_number" | "do_not_call"
            );
        match d.event.as_str() {
            "posted" | "accepted" => {
                e.sent += n;
                day.0 += n;
                day.1 += n as i64;
            }
            "delivered" => e.delivered += n,
            "reached" => {
                e.sent += n;
                e.reached += n;
                day.0 += n;
                day.1 += n as i64;
            }
            "no_answer" => {
                e.sent += n;
                day.0 += n;
            }
            _ if returned => {
                if ch == Channel::Phone {
                    e.sent += n;
                    day.0 += n;
                }
                e.returned += n;
                day.1 -= n as i64;
            }
            _ => {}
        }
    }
    for ch in Channel::ALL {
        let e = per.entry(ch).or_default();
        // Everyone who entered the channel: waiting now, or sent.
        e.queued += e.sent;
        if ch != Channel::Phone {
            e.reached = f.notified_by.get(&ch).copied().unwrap_or(0).max(0) as u64;
        }
    }
    FunnelData {
        caption,
        post: per.get(&Channel::Post).copied().unwrap_or_default(),
        email: per.get(&Channel::Email).copied().unwrap_or_default(),
        phone: per.get(&Channel::Phone).copied().unwrap_or_default(),
        days: days
            .into_iter()
            .filter_map(|(d, (sent, reached))| {
                Some(DayCount {
                    day: chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()?,
                    sent,
                    reached: reached.max(0) as u64,
                })
            })
            .collect(),
    }
}
