//! The report to the PPC (個人情報保護委員会への漏えい等報告, 施行規則8条): a draft with the
//! nine items in the rule's order filled from the incident, edited by the privacy office and
//! saved as versions of the preliminary (速報) and final (確報) report; printable, as PDF and as
//! JSON; marking a version submitted records when and by whom and completes the obligation.
//!
//! Anybody who may see the incident may read and download the report; the privacy office and
//! the CISO (`ManageIncidents`) edit and submit it. Every view, download and change is in the
//! audit log (`incident.ppc.*`); saving and submitting also write the incident's timeline.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, SecondsFormat, TimeZone};
use mamori_domain::appi::{self, Assessment};
use mamori_domain::audit::Outcome;
use mamori_domain::incident::facts::format_jst;
use mamori_domain::incident::line::Line;
use mamori_domain::incident::ppc::{self, DraftInput, Report, Stage, ITEMS};
use mamori_domain::incident::{jst_date, IncidentFacts, ObligationKind};
use mamori_domain::role::Permission;
use mamori_pdf::{Block, Document};
use mamori_store::incidents::{Incident, NewEntry, Obligation};
use mamori_store::ppc::PpcReport;
use mamori_store::StoreError;
use serde_json::json;

use crate::incident::{actor_label, check_text};
use crate::{App, AppError, Ctx};

/// The longest text of one item, in characters.
pub const MAX_ITEM: usize = 8000;

/// A saved version of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpcVersion {
    pub stage: Stage,
    pub version: i64,
    pub report: Report,
    /// Who saved it (display name), `-` when unknown.
    pub created_by: String,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub submitted_by: Option<String>,
}

impl PpcVersion {
    pub fn submitted(&self) -> bool {
        self.submitted_at.is_some()
    }
}

/// Where the text in the editor of a stage comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The latest saved version of the stage.
    Saved(i64),
    /// Nothing saved for the final report yet: the latest preliminary version, to be completed.
    Preliminary(i64),
    /// Nothing saved yet: a fresh draft from the incident (not stored until saved).
    Draft,
}

/// One stage of the report on the page.
#[derive(Debug, Clone)]
pub struct StageView {
    pub stage: Stage,
    /// Every saved version, newest first.
    pub versions: Vec<PpcVersion>,
    /// What the editor starts with.
    pub current: Report,
    pub basis: Basis,
    /// The obligation to submit this stage, when the assessment created one.
    pub obligation: Option<Obligation>,
}

impl StageView {
    /// The newest submitted version, if any.
    pub fn submitted(&self) -> Option<&PpcVersion> {
        self.versions.iter().find(|v| v.submitted())
    }
}

/// Everything the report page shows.
#[derive(Debug, Clone)]
pub struct PpcView {
    pub incident: Incident,
    pub company_name: String,
    pub preliminary: StageView,
    pub final_report: StageView,
    pub can_manage: bool,
}

impl PpcView {
    pub fn stage(&self, stage: Stage) -> &StageView {
        match stage {
            Stage::Preliminary => &self.preliminary,
            Stage::Final => &self.final_report,
        }
    }
}

/// One version with what a printed page, the PDF and the JSON need around it.
#[derive(Debug, Clone)]
pub struct PpcPrint {
    pub incident: Incident,
    pub company_name: String,
    pub version: PpcVersion,
    /// The date of the report in Japanese (the submission date, else the date it was saved).
    pub report_date: String,
}

/// A file to download.
#[derive(Debug, Clone)]
pub struct PpcFile {
    /// ASCII only, e.g. `ppc-2026-0001-preliminary-v2.pdf`.
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The file name of a download: `ppc-{ref}-{stage}-v{version}.{ext}`, ASCII only.
pub fn file_name(ref_no: &str, stage: Stage, version: i64, ext: &str) -> String {
    let safe: String = ref_no
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("ppc-{safe}-{}-v{version}.{ext}", stage.code())
}

/// A date in Japanese with the era: `令和8年11月24日` (dates before 令和 in the western
/// calendar, `2019年4月30日`).
pub fn japanese_date(d: NaiveDate) -> String {
    let reiwa = NaiveDate::from_ymd_opt(2019, 5, 1).unwrap_or(NaiveDate::MIN);
    if d >= reiwa {
        let y = d.year() - 2018;
        let year = if y == 1 {
            "元".to_owned()
        } else {
            y.to_string()
        };
        format!("令和{year}年{}月{}日", d.month(), d.day())
    } else {
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    }
}

/// An instant as RFC 3339 in Japan (`2026-11-24T10:00:00+09:00`).
pub fn rfc3339_jst(micros: i64) -> String {
    appi::facts::jst()
        .timestamp_micros(micros)
        .single()
        .map_or_else(String::new, |t| {
            t.to_rfc3339_opts(SecondsFormat::Secs, false)
        })
}

/// The particulars above the nine items (label, value), in Japanese as the report is.
pub fn particulars(p: &PpcPrint) -> Vec<(String, String)> {
    let v = &p.version;
    let i = &p.incident;
    let pair = |a: &str, b: String| (a.to_owned(), b);
    let submitted = match (&v.submitted_at, &v.submitted_by) {
        (Some(at), by) => format!(
            "{}　{}",
            format_jst(*at),
            by.clone().unwrap_or_else(|| "-".into())
        ),
        (None, _) => "未提出（下書き）".to_owned(),
    };
    let mut rows = vec![
        pair("報告者の名称", p.company_name.clone()),
        pair("事案番号", i.ref_no.clone()),
        pair("件名", i.title.clone()),
        pair(
            "報告の区分",
            format!("{}（第{}版）", v.stage.label_ja(), v.version),
        ),
        pair(
            "作成日時",
            format!("{}　{}", format_jst(v.created_at), v.created_by),
        ),
        pair("提出", submitted),
    ];
    if i.drill {
        rows.insert(
            0,
            pair(
                "訓練",
                "この報告は訓練です。個人情報保護委員会へは提出しません".into(),
            ),
        );
    }
    rows
}

/// The nine items as (numbered heading, text) in the rule's order; an empty item reads
/// 「（未記入）」.
pub fn item_rows(report: &Report) -> Vec<(String, String)> {
    ITEMS
        .iter()
        .map(|(n, field, ja, _)| {
            let text = report.get(field).trim();
            (
                format!("{n}. {ja}"),
                if text.is_empty() {
                    "（未記入）".to_owned()
                } else {
                    text.to_owned()
                },
            )
        })
        .collect()
}

/// The title of a stage's report, e.g. 「個人情報保護委員会への漏えい等報告（速報）」.
pub fn stage_title(stage: Stage) -> String {
    format!("個人情報保護委員会への漏えい等報告（{}）", stage.label_ja())
}

/// The line under the title.
pub const SUBTITLE: &str = "個人情報の保護に関する法律第26条第1項に基づく報告";

/// The heading above the nine items.
pub const ITEMS_HEADING: &str = "報告事項（個人情報の保護に関する法律施行規則第8条第1項）";

/// The footer of every page: the company and the report, 【訓練】 first for a drill.
pub fn footer(p: &PpcPrint) -> String {
    let v = &p.version;
    let kind = format!("漏えい等報告（{}）第{}版", v.stage.label_ja(), v.version);
    if p.incident.drill {
        format!("【訓練】{}　{kind}", p.company_name)
    } else {
        format!("{}　{kind}", p.company_name)
    }
}

/// The PDF layout of a version: title, meta lines, the report's particulars and the nine
/// items as a table in the rule's order. Drills carry 「訓練」 across every page and 【訓練】 in
/// the footer; a version not yet submitted carries 「下書き」.
pub fn pdf_document(p: &PpcPrint) -> Document {
    let v = &p.version;
    Document {
        title: stage_title(v.stage),
        subtitle: Some(SUBTITLE.into()),
        meta: vec![
            ("報告日".into(), p.report_date.clone()),
            ("報告者".into(), p.company_name.clone()),
        ],
        blocks: vec![
            Block::Fields(particulars(p)),
            Block::Spacer(4.0),
            Block::Heading(ITEMS_HEADING.into()),
            Block::Fields(item_rows(&v.report)),
        ],
        footer: Some(footer(p)),
        watermark: if p.incident.drill {
            Some("訓練".into())
        } else if v.submitted_at.is_none() {
            Some("下書き".into())
        } else {
            None
        },
    }
}

/// The JSON form of a version, with stable keys; the items in the rule's order.
pub fn json_document(p: &PpcPrint) -> serde_json::Value {
    let v = &p.version;
    let items: Vec<serde_json::Value> = ITEMS
        .iter()
        .map(|(n, field, ja, _)| {
            json!({
                "number": n,
                "field": field,
                "heading_ja": ja,
                "text": v.report.get(field),
            })
        })
        .collect();
    json!({
        "incident": p.incident.ref_no,
        "drill": p.incident.drill,
        "title": stage_title(v.stage),
        "reporter": p.company_name,
        "stage": v.stage.code(),
        "version": v.version,
        "created_at": rfc3339_jst(v.created_at),
        "submitted_at": v.submitted_at.map(rfc3339_jst),
        "submitted_by": v.submitted_by,
        "items": items,
    })
}

fn internal(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("{what}: {e}"))
}

fn obligation_kind(stage: Stage) -> ObligationKind {
    match stage {
        Stage::Preliminary => ObligationKind::PreliminaryReport,
        Stage::Final => ObligationKind::FinalReport,
    }
}

fn stage_of(code: &str) -> Result<Stage, AppError> {
    Stage::parse(code).ok_or_else(|| internal("ppc stage", code))
}

impl App {
    async fn user_name(&self, id: Option<i64>) -> String {
        match id {
            Some(id) => self
                .store
                .get_user(id)
                .await
                .map_or_else(|_| "-".into(), |u| u.display_name),
            None => "-".into(),
        }
    }

    async fn ppc_version(&self, r: PpcReport) -> Result<PpcVersion, AppError> {
        let report: Report = serde_json::from_str(&r.body)
            .map_err(|e| internal(&format!("ppc report {}", r.id), e))?;
        Ok(PpcVersion {
            stage: stage_of(&r.stage)?,
            version: r.version,
            report,
            created_by: self.user_name(r.created_by).await,
            created_at: r.created_at,
            submitted_at: r.submitted_at,
            submitted_by: r.submitted_by,
        })
    }

    /// A fresh draft of the report from the incident, its facts and assessment and the latest
    /// second report (5W1H).
    async fn ppc_draft(&self, incident: &Incident) -> Result<Report, AppError> {
        let facts: IncidentFacts = serde_json::from_str(&incident.facts)
            .map_err(|e| internal(&format!("incident {} facts", incident.id), e))?;
        let assessment: Assessment = facts.assess().map_err(|e| {
            AppError::invalid(
                "knew_at",
                format!("この日付の期限は計算できません（政府カレンダーの範囲外）: {e}"),
                format!("knew_at: {e}"),
            )
        })?;
        let department = self
            .store
            .get_department(incident.department_id)
            .await
            .map_or_else(|_| String::new(), |d| d.name);
        let second = self
            .latest_second_report(incident.id)
            .await?
            .unwrap_or_default();
        let sequence = [second.when.trim(), second.how.trim()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let actions = if second.response_to_persons.trim().is_empty() {
            incident.actions_taken.as_str()
        } else {
            second.response_to_persons.as_str()
        };
        // Item 7 from the executive's publication decision, when there is one.
        let publication = self
            .store
            .publication_records(incident.id)
            .await?
            .into_iter()
            .find(|p| p.decision.is_some())
            .map(|p| {
                let what = if p.decision.as_deref() == Some("publish") {
                    "公表する"
                } else {
                    "公表しない"
                };
                format!(
                    "{what}（{}、{}決定）理由: {}",
                    p.recorded_by,
                    mamori_domain::incident::facts::format_jst(p.created_at),
                    p.decision_reason.unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let mut r = ppc::draft(
            &facts,
            &assessment,
            &DraftInput {
                drill: incident.drill,
                title: &incident.title,
                description: &incident.description,
                found_by: &incident.found_by,
                department: &department,
                cause: &second.why,
                sequence: &sequence,
                actions_taken: actions,
                secondary_damage: &second.secondary_damage,
                publication: &publication,
                prevention_done: &second.measures_done,
                prevention_planned: &second.measures_planned,
            },
        );
        // What the second report adds beyond the draft's own inputs.
        for (label, text) in [("場所", &second.place), ("関係者", &second.who)] {
            if !text.trim().is_empty() {
                let _ = write!(r.summary, "\n{label}: {}", text.trim());
            }
        }
        if !second.what.trim().is_empty() {
            r.items = r.items.replace(
                "（媒体・種類: 調査中）",
                &format!("（媒体・種類: {}）", second.what.trim()),
            );
        }
        Ok(r)
    }

    async fn company_name(&self, company_id: i64) -> String {
        self.store
            .get_company(company_id)
            .await
            .map_or_else(|_| "-".into(), |c| c.name)
    }

    /// The report page: every version of both stages and what each editor starts with.
    pub async fn ppc_view(&self, ctx: &Ctx, id: i64) -> Result<PpcView, AppError> {
        let (incident, _) = self.incident_for(ctx, id).await?;
        let mut pre = Vec::new();
        let mut fin = Vec::new();
        for r in self.store.ppc_reports(id, None).await? {
            let v = self.ppc_version(r).await?;
            match v.stage {
                Stage::Preliminary => pre.push(v),
                Stage::Final => fin.push(v),
            }
        }
        let obligations = self.store.obligations(id).await?;
        let obligation = |s: Stage| {
            obligations
                .iter()
                .find(|o| o.kind == obligation_kind(s).code())
                .cloned()
        };
        let draft = if pre.is_empty() || fin.is_empty() {
            Some(self.ppc_draft(&incident).await?)
        } else {
            None
        };
        let (pre_current, pre_basis) = match pre.first() {
            Some(v) => (v.report.clone(), Basis::Saved(v.version)),
            None => (draft.clone().unwrap_or_default(), Basis::Draft),
        };
        let (fin_current, fin_basis) = match (fin.first(), pre.first()) {
            (Some(v), _) => (v.report.clone(), Basis::Saved(v.version)),
            (None, Some(p)) => (p.report.clone(), Basis::Preliminary(p.version)),
            (None, None) => (draft.unwrap_or_default(), Basis::Draft),
        };
        let view = PpcView {
            company_name: self.company_name(incident.company_id).await,
            preliminary: StageView {
                stage: Stage::Preliminary,
                versions: pre,
                current: pre_current,
                basis: pre_basis,
                obligation: obligation(Stage::Preliminary),
            },
            final_report: StageView {
                stage: Stage::Final,
                versions: fin,
                current: fin_current,
                basis: fin_basis,
                obligation: obligation(Stage::Final),
            },
            can_manage: ctx.allows(Permission::ManageIncidents),
            incident,
        };
        self.audit(
            ctx,
            "incident.ppc.view",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(view)
    }

    /// Loads an incident the caller may see and must be allowed to manage; a refusal is
    /// recorded under `action`.
    async fn ppc_managed(&self, ctx: &Ctx, id: i64, action: &str) -> Result<Incident, AppError> {
        let (incident, _) = self.incident_for(ctx, id).await?;
        if !ctx.allows(Permission::ManageIncidents) {
            self.audit(
                ctx,
                action,
                &format!("incident:{id}"),
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        Ok(incident)
    }

    /// Saves the text as a new version of the stage; earlier versions are kept. A final report
    /// needs all nine items (the error names every empty one). Returns the version.
    pub async fn save_ppc(
        &self,
        ctx: &Ctx,
        id: i64,
        stage: Stage,
        report: &Report,
    ) -> Result<i64, AppError> {
        self.ppc_managed(ctx, id, "incident.ppc.save").await?;
        // Every problem of the nine items is named, not only the first.
        let mut ps = crate::Problems::new();
        let mut clean = Report::default();
        for (_, field, _, _) in ITEMS {
            if let Some(text) = ps.check(check_text(field, report.get(field), MAX_ITEM, None))? {
                clean.set(field, text)?;
            }
        }
        ps.done()?;
        if clean == Report::default() {
            return Err(AppError::invalid(
                "summary",
                "報告の項目を1つ以上入力してください",
                "the report is empty",
            ));
        }
        if stage == Stage::Final {
            let mut ps = crate::Problems::new();
            for p in clean.final_problems() {
                ps.push(p);
            }
            ps.done()?;
        }
        let body = serde_json::to_string(&clean).map_err(|e| internal("ppc report", e))?;
        let now = self.clock.now_micros();
        let actor = actor_label(ctx);
        let version = self
            .store
            .save_ppc_report(
                id,
                stage.code(),
                &body,
                ctx.actor_id(),
                &NewEntry::line(
                    &actor,
                    "ppc",
                    &Line::PpcSaved {
                        stage,
                        version: "{version}".into(),
                    },
                ),
                now,
            )
            .await?;
        self.audit(
            ctx,
            "incident.ppc.save",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({"stage": stage.code(), "version": version}),
        )
        .await?;
        Ok(version)
    }

    /// Records that a version was submitted to the PPC, now and by the caller, and marks the
    /// stage's obligation done with the submission time. A version is submitted once.
    pub async fn submit_ppc(
        &self,
        ctx: &Ctx,
        id: i64,
        stage: Stage,
        version: i64,
    ) -> Result<(), AppError> {
        self.ppc_managed(ctx, id, "incident.ppc.submit").await?;
        let stored = self.store.get_ppc_report(id, stage.code(), version).await?;
        if stage == Stage::Final {
            let report: Report = serde_json::from_str(&stored.body)
                .map_err(|e| internal(&format!("ppc report {}", stored.id), e))?;
            let mut ps = crate::Problems::new();
            for p in report.final_problems() {
                ps.push(p);
            }
            ps.done()?;
        }
        let now = self.clock.now_micros();
        let actor = actor_label(ctx);
        self.store
            .submit_ppc_report(
                id,
                stage.code(),
                version,
                &actor,
                &NewEntry::line(
                    &actor,
                    "ppc",
                    &Line::PpcSubmitted {
                        stage,
                        version,
                        at: format_jst(now),
                    },
                ),
                now,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AppError::invalid(
                    "version",
                    format!("{}の第{version}版はすでに提出済みです", stage.label_ja()),
                    format!(
                        "version {version} of the {} was already submitted",
                        stage.code()
                    ),
                ),
                other => other.into(),
            })?;
        let kind = obligation_kind(stage);
        let open = self
            .store
            .obligations(id)
            .await?
            .into_iter()
            .find(|o| o.kind == kind.code() && o.status == "open");
        if let Some(o) = open {
            self.store
                .set_obligation_status(
                    o.id,
                    "done",
                    &actor,
                    &NewEntry::line(
                        &actor,
                        "obligation",
                        &Line::PpcObligationDone {
                            kind,
                            at: format_jst(now),
                            version,
                        },
                    ),
                    now,
                )
                .await?;
        }
        self.audit(
            ctx,
            "incident.ppc.submit",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({"stage": stage.code(), "version": version}),
        )
        .await?;
        Ok(())
    }

    /// One version with what a page, the PDF and the JSON need; the access is recorded under
    /// `action`.
    async fn ppc_print_as(
        &self,
        ctx: &Ctx,
        id: i64,
        stage: Stage,
        version: i64,
        action: &str,
    ) -> Result<PpcPrint, AppError> {
        let (incident, _) = self.incident_for(ctx, id).await?;
        let stored = self.store.get_ppc_report(id, stage.code(), version).await?;
        let version = self.ppc_version(stored).await?;
        let report_date =
            japanese_date(jst_date(version.submitted_at.unwrap_or(version.created_at)));
        let p = PpcPrint {
            company_name: self.company_name(incident.company_id).await,
            incident,
            version,
            report_date,
        };
        self.audit(
            ctx,
            action,
            &format!("incident:{id}"),
            Outcome::Success,
            json!({"stage": stage.code(), "version": p.version.version}),
        )
        .await?;
        Ok(p)
    }

    /// A version for the printable page.
    pub async fn ppc_print(
        &self,
        ctx: &Ctx,
        id: i64,
        stage: Stage,
        version: i64,
    ) -> Result<PpcPrint, AppError> {
        self.ppc_print_as(ctx, id, stage, version, "incident.ppc.print")
            .await
    }

    /// A version as PDF.
    pub async fn ppc_pdf(
        &self,
        ctx: &Ctx,
        id: i64,
        stage: Stage,
        version: i64,
    ) -> Result<PpcFile, AppError> {
        let p = self
            .ppc_print_as(ctx, id, stage, version, "incident.ppc.pdf")
            .await?;
        let bytes = mamori_pdf::render(&pdf_document(&p)).map_err(|e| internal("ppc pdf", e))?;
        Ok(PpcFile {
            filename: file_name(&p.incident.ref_no, stage, version, "pdf"),
            bytes,
        })
    }

    /// A version as JSON (see [`json_document`]).
    pub async fn ppc_json(
        &self,
        ctx: &Ctx,
        id: i64,
        stage: Stage,
        version: i64,
    ) -> Result<serde_json::Value, AppError> {
        let p = self
            .ppc_print_as(ctx, id, stage, version, "incident.ppc.json")
            .await?;
        Ok(json_document(&p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_japanese() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(japanese_date(d(2026, 11, 24)), "令和8年11月24日");
        assert_eq!(japanese_date(d(2019, 5, 1)), "令和元年5月1日");
        assert_eq!(japanese_date(d(2019, 4, 30)), "2019年4月30日");
        // 2026-11-24T01:00:00Z
        assert_eq!(
            rfc3339_jst(1_795_482_000_000_000),
            "2026-11-24T10:00:00+09:00"
        );
    }

    #[test]
    fn file_names_are_ascii() {
        assert_eq!(
            file_name("2026-0001", Stage::Preliminary, 2, "pdf"),
            "ppc-2026-0001-preliminary-v2.pdf"
        );
        assert_eq!(
            file_name("2026/0001\"x", Stage::Final, 1, "json"),
            "ppc-2026_0001_x-final-v1.json"
        );
    }
}
