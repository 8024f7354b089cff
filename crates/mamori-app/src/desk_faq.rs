//! The FAQ that grows from the inquiries, the desk's figures, the daily digest (回答レポート)
//! and the exports (issue 15).

use crate::desk::{jst_day, InquiryView};
use crate::incident::actor_label;
use crate::{App, AppError, Ctx, Problems};
use mamori_domain::audit::Outcome;
use mamori_domain::desk::figures::{self, InquiryFact, Volumes};
use mamori_domain::desk::search::Index;
use mamori_domain::desk::{CallerType, Category, InquiryChannel, Status};
use mamori_domain::role::{Permission, Role};
use mamori_store::desk::{FaqRow, FaqVersionRow};
use serde_json::json;

/// The name of the periodic task that sends the daily digest.
pub const DIGEST_TASK: &str = "desk.digest";
/// The digest of a day goes out from this JST hour on.
pub const DIGEST_HOUR: u32 = 18;

/// An FAQ entry with its versions, newest last.
#[derive(Debug, Clone)]
pub struct FaqView {
    pub entry: FaqRow,
    pub category: Category,
    pub versions: Vec<FaqVersionRow>,
}

impl FaqView {
    pub fn latest(&self) -> Option<&FaqVersionRow> {
        self.versions.last()
    }

    pub fn published(&self) -> Option<&FaqVersionRow> {
        let v = self.entry.published_version?;
        self.versions.iter().find(|x| x.version == v)
    }
}

/// A category proposed as an FAQ entry: how often it was asked, and recent questions.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub category: Category,
    pub count: i64,
    pub samples: Vec<String>,
}

/// An FAQ entry matching what the operator types.
#[derive(Debug, Clone)]
pub struct FaqHit {
    pub entry_id: i64,
    pub question: String,
    pub answer: String,
    pub score: f64,
}

/// The text of a new version.
#[derive(Debug, Clone, Default)]
pub struct FaqText {
    pub question_ja: String,
    pub answer_ja: String,
    pub question_en: String,
    pub answer_en: String,
}

fn faq_text(p: &mut Problems, field: &'static str, v: &str, required: bool) -> String {
    let t = v.trim().replace("\r\n", "\n");
    let n = t.chars().count();
    if n > mamori_domain::desk::MAX_TEXT {
        p.push(crate::Problem::new(
            Some(field),
            format!(
                "{}文字以内で入力してください",
                mamori_domain::desk::MAX_TEXT
            ),
            format!("at most {} characters", mamori_domain::desk::MAX_TEXT),
        ));
    } else if required && t.is_empty() {
        p.push(crate::Problem::new(
            Some(field),
            "入力してください",
            "this is required",
        ));
    }
    t
}

impl App {
    /// The incident, for the privacy office managing its FAQ (company and permission checked).
    async fn faq_incident(&self, ctx: &Ctx, incident_id: i64) -> Result<(), AppError> {
        if !ctx.allows(Permission::ManageIncidents) {
            return Err(AppError::Denied);
        }
        self.incident_for(ctx, incident_id).await?;
        Ok(())
    }

    /// May the caller see the desk's side of this incident (FAQ, figures)?
    async fn desk_or_manager(&self, ctx: &Ctx, incident_id: i64) -> Result<(), AppError> {
        if ctx.allows(Permission::ManageIncidents) {
            self.incident_for(ctx, incident_id).await?;
            return Ok(());
        }
        let company = ctx.company_scope().ok_or(AppError::Denied)?;
        if !ctx.allows(Permission::HandleInquiries) {
            return Err(AppError::Denied);
        }
        if self
            .store
            .desk_incidents(company)
            .await?
            .iter()
            .any(|i| i.id == incident_id)
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Every FAQ entry of an incident with its versions.
    pub async fn faq(&self, ctx: &Ctx, incident_id: i64) -> Result<Vec<FaqView>, AppError> {
        self.desk_or_manager(ctx, incident_id).await?;
        self.faq_of(incident_id).await
    }

    async fn faq_of(&self, incident_id: i64) -> Result<Vec<FaqView>, AppError> {
        let mut versions = self.store.faq_versions(incident_id).await?;
        Ok(self
            .store
            .faq_entries(incident_id)
            .await?
            .into_iter()
            .map(|e| {
                let mine: Vec<FaqVersionRow> = versions
                    .iter()
                    .filter(|v| v.entry_id == e.id)
                    .cloned()
                    .collect();
                versions.retain(|v| v.entry_id != e.id);
                FaqView {
                    category: Category::parse(&e.category).unwrap_or(Category::Other),
                    entry: e,
                    versions: mine,
                }
            })
            .collect())
    }

    /// Categories asked often enough that have no approved entry (nor one being drafted),
    /// with their five newest questions (opened; an audit entry names the inquiries).
    pub async fn faq_proposals(
        &self,
        ctx: &Ctx,
        incident_id: i64,
    ) -> Result<Vec<Proposal>, AppError> {
        self.faq_incident(ctx, incident_id).await?;
        let counts: Vec<(Category, i64)> = self
            .store
            .inquiry_category_counts(incident_id)
            .await?
            .into_iter()
            .filter_map(|(c, n)| Category::parse(&c).map(|c| (c, n)))
            .collect();
        let covered: Vec<Category> = self
            .faq_of(incident_id)
            .await?
            .iter()
            .filter(|f| f.entry.status != "retired")
            .map(|f| f.category)
            .collect();
        let mut out = Vec::new();
        let mut read = Vec::new();
        for c in figures::proposals(&counts, &covered) {
            let mut samples = Vec::new();
            for r in self
                .store
                .inquiries_in_category(incident_id, c.code(), 5)
                .await?
            {
                read.push(r.id);
                if let Ok(b) = self.keys.unseal(&r.question_sealed, "desk:question") {
                    samples.push(String::from_utf8_lossy(&b).into_owned());
                }
            }
            let count = counts.iter().filter(|(k, _)| *k == c).map(|(_, n)| n).sum();
            out.push(Proposal {
                category: c,
                count,
                samples,
            });
        }
        if !read.is_empty() {
            self.audit(
                ctx,
                "desk.faq.proposals",
                &format!("incident:{incident_id}"),
                Outcome::Success,
                json!({"inquiries": read}),
            )
            .await?;
        }
        Ok(out)
    }

    /// Starts an entry for a category (from a proposal, or by hand) with a first draft.
    pub async fn create_faq(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        category: &str,
        text: &FaqText,
    ) -> Result<i64, AppError> {
        self.faq_incident(ctx, incident_id).await?;
        let mut p = Problems::new();
        let cat = Category::parse(category);
        if cat.is_none() {
            p.push(crate::Problem::new(
                Some("category"),
                "分類を選んでください",
                "choose the category",
            ));
        }
        let v = self.faq_version(&mut p, ctx, text);
        p.done()?;
        let cat = cat.unwrap_or(Category::Other);
        let id = self
            .store
            .create_faq(incident_id, cat.code(), "draft", &v)
            .await?;
        self.audit(
            ctx,
            "desk.faq.create",
            &format!("faq:{id}"),
            Outcome::Success,
            json!({"incident": incident_id, "category": cat.code()}),
        )
        .await?;
        Ok(id)
    }

    fn faq_version(&self, p: &mut Problems, ctx: &Ctx, t: &FaqText) -> FaqVersionRow {
        let question_ja = faq_text(p, "question_ja", &t.question_ja, true);
        let answer_ja = faq_text(p, "answer_ja", &t.answer_ja, true);
        let question_en = faq_text(p, "question_en", &t.question_en, false);
        let answer_en = faq_text(p, "answer_en", &t.answer_en, false);
        if question_en.is_empty() != answer_en.is_empty() {
            p.push(crate::Problem::new(
                Some(if question_en.is_empty() {
                    "question_en"
                } else {
                    "answer_en"
                }),
                "英語版は質問と回答の両方を入力してください（または両方とも空に）",
                "give both the English question and answer, or neither",
            ));
        }
        FaqVersionRow {
            question_ja,
            answer_ja,
            question_en: (!question_en.is_empty()).then_some(question_en),
            answer_en: (!answer_en.is_empty()).then_some(answer_en),
            created_by: actor_label(ctx),
            created_at: self.clock.now_micros(),
            ..FaqVersionRow::default()
        }
    }

    /// Saves a new version of an entry (versions are never overwritten).
    pub async fn revise_faq(
        &self,
        ctx: &Ctx,
        entry_id: i64,
        text: &FaqText,
    ) -> Result<i64, AppError> {
        let e = self.faq_entry(ctx, entry_id).await?;
        let mut p = Problems::new();
        let v = self.faq_version(&mut p, ctx, text);
        p.done()?;
        let n = self.store.add_faq_version(entry_id, &v).await?;
        self.audit(
            ctx,
            "desk.faq.revise",
            &format!("faq:{entry_id}"),
            Outcome::Success,
            json!({"incident": e.incident_id, "version": n}),
        )
        .await?;
        Ok(n)
    }

    async fn faq_entry(&self, ctx: &Ctx, entry_id: i64) -> Result<FaqRow, AppError> {
        let e = match self.store.get_faq(entry_id).await {
            Ok(e) => e,
            Err(mamori_store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        self.faq_incident(ctx, e.incident_id).await?;
        Ok(e)
    }

    /// Approves a version: it is published on the incident's public page at once.
    pub async fn approve_faq(
        &self,
        ctx: &Ctx,
        entry_id: i64,
        version: i64,
    ) -> Result<(), AppError> {
        let e = self.faq_entry(ctx, entry_id).await?;
        let now = self.clock.now_micros();
        if !self
            .store
            .approve_faq_version(entry_id, version, &actor_label(ctx), now)
            .await?
        {
            return Err(AppError::invalid(
                "version",
                "この版は承認済みか、存在しません",
                "this version is already approved or does not exist",
            ));
        }
        self.public_cache.invalidate(e.incident_id);
        self.audit(
            ctx,
            "desk.faq.approve",
            &format!("faq:{entry_id}"),
            Outcome::Success,
            json!({"incident": e.incident_id, "version": version}),
        )
        .await?;
        Ok(())
    }

    /// Takes an entry off the public page.
    pub async fn retire_faq(&self, ctx: &Ctx, entry_id: i64) -> Result<(), AppError> {
        let e = self.faq_entry(ctx, entry_id).await?;
        self.store.retire_faq(entry_id).await?;
        self.public_cache.invalidate(e.incident_id);
        self.audit(
            ctx,
            "desk.faq.retire",
            &format!("faq:{entry_id}"),
            Outcome::Success,
            json!({"incident": e.incident_id}),
        )
        .await?;
        Ok(())
    }

    /// Approved entries matching what the operator types (Japanese full-text search over
    /// character bigrams), best first.
    pub async fn faq_suggest(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        query: &str,
        limit: usize,
    ) -> Result<Vec<FaqHit>, AppError> {
        self.desk_or_manager(ctx, incident_id).await?;
        let published = self.store.published_faq(incident_id).await?;
        let index = Index::new(
            published
                .iter()
                .map(|v| (v.entry_id, v.question_ja.as_str(), v.answer_ja.as_str())),
        );
        Ok(index
            .search(query, limit)
            .into_iter()
            .filter_map(|h| {
                published
                    .iter()
                    .find(|v| v.entry_id == h.id)
                    .map(|v| FaqHit {
                        entry_id: v.entry_id,
                        question: v.question_ja.clone(),
                        answer: v.answer_ja.clone(),
                        score: h.score,
                    })
            })
            .collect())
    }

    /// The desk's figures for the last `days` days: of one incident, or of the company.
    pub async fn desk_volumes(
        &self,
        ctx: &Ctx,
        incident_id: Option<i64>,
        days: u32,
    ) -> Result<Volumes, AppError> {
        let company = if let Some(i) = incident_id {
            self.desk_or_manager(ctx, i).await?;
            self.store.get_incident(i).await?.company_id
        } else {
            {
                if !(ctx.allows(Permission::HandleInquiries)
                    || ctx.allows(Permission::ViewAllIncidents))
                {
                    return Err(AppError::Denied);
                }
                ctx.company_scope().ok_or(AppError::Denied)?
            }
        };
        let now = self.clock.now_micros();
        let days = days.clamp(1, figures::MAX_DAYS);
        let since = now - i64::from(days + 1) * 86_400_000_000;
        let facts: Vec<InquiryFact> = self
            .store
            .inquiry_facts(company, incident_id, since)
            .await?
            .into_iter()
            .map(|r| InquiryFact {
                channel: InquiryChannel::parse(&r.channel).unwrap_or(InquiryChannel::Phone),
                category: Category::parse(&r.category).unwrap_or(Category::Other),
                caller: CallerType::parse(&r.caller_type).unwrap_or(CallerType::Other),
                status: Status::parse(&r.status).unwrap_or(Status::Open),
                created_at: r.created_at,
                closed_at: r.closed_at,
                handling_secs: r.handling_secs,
            })
            .collect();
        let mut v = Volumes::compute(&facts, now, days);
        // The backlog counts every open inquiry, however old.
        let open = self
            .store
            .inquiries(&mamori_store::desk::InquiryFilter {
                company_id: company,
                incident_id,
                statuses: vec!["open".into(), "escalated".into(), "replied".into()],
                limit: 100_000,
                ..Default::default()
            })
            .await?;
        v.open = open.len() as i64;
        v.escalated = open.iter().filter(|r| r.status == "escalated").count() as i64;
        Ok(v)
    }

    // ───────────────────────────── exports ─────────────────────────────

    /// The inquiries of an incident as CSV for the call-centre company (UTF-8 with BOM, or
    /// CP932), formula-safe. Personal data: managers only, an audit entry names the rows.
    pub async fn inquiries_csv(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        cp932: bool,
    ) -> Result<Vec<u8>, AppError> {
        self.faq_incident(ctx, incident_id).await?;
        // Managers read every inquiry of the incident (the desk role is not needed for this).
        let company = self.store.get_incident(incident_id).await?.company_id;
        let mut rows: Vec<InquiryView> = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .store
                .inquiries(&mamori_store::desk::InquiryFilter {
                    company_id: company,
                    incident_id: Some(incident_id),
                    before_id: before,
                    limit: 500,
                    ..Default::default()
                })
                .await?;
            let done = page.len() < 500;
            before = page.last().map(|r| r.id);
            for r in &page {
                rows.push(self.inquiry_view_of(r)?);
            }
            if done || rows.len() >= 200_000 {
                break;
            }
        }
        rows.reverse();
        let mut w = mamori_detect::csv_out::CsvOut::new();
        w.record([
            "番号",
            "受付日時",
            "受付方法",
            "相談者種別",
            "分類",
            "状態",
            "相談者",
            "連絡先",
            "お問い合わせ内容",
            "回答",
            "エスカレーション理由",
            "事務局回答",
            "対応者",
            "対応時間（秒）",
        ]);
        for v in &rows {
            w.record([
                v.id.to_string(),
                jst_minutes(v.created_at),
                v.channel.label_ja().to_owned(),
                v.caller_type.label_ja().to_owned(),
                v.category.label_ja().to_owned(),
                v.status.label_ja().to_owned(),
                v.caller.name.clone(),
                v.caller.contact.clone(),
                v.question.clone(),
                v.answer.clone(),
                v.escalation.clone().unwrap_or_default(),
                v.reply.clone().unwrap_or_default(),
                v.operator.clone(),
                v.handling_secs.map_or_else(String::new, |s| s.to_string()),
            ]);
        }
        self.audit(
            ctx,
            "desk.export.csv",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"rows": rows.len(), "encoding": if cp932 {"cp932"} else {"utf-8"}}),
        )
        .await?;
        Ok(w.finish(if cp932 {
            mamori_detect::csv_out::Encoding::Cp932
        } else {
            mamori_detect::csv_out::Encoding::Utf8Bom
        }))
    }

    /// The desk's figures on one A4 page, for the PPC final report and the management
    /// meeting: counts only, no personal data.
    pub async fn desk_report_pdf(&self, ctx: &Ctx, incident_id: i64) -> Result<Vec<u8>, AppError> {
        use mamori_pdf::{Block, Document};
        self.faq_incident(ctx, incident_id).await?;
        let (incident, _) = self.incident_for(ctx, incident_id).await?;
        let v = self.desk_volumes(ctx, Some(incident_id), 60).await?;
        let (scores, understood, not_understood) = self.store.survey_counts(incident_id).await?;
        let answers: i64 = scores.iter().sum();
        let mean = if answers > 0 {
            format!(
                "{:.2}",
                scores
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (i as f64 + 1.0) * *n as f64)
                    .sum::<f64>()
                    / answers as f64
            )
        } else {
            "—".into()
        };
        let faq = self.faq_of(incident_id).await?;
        let published = faq.iter().filter(|f| f.published().is_some()).count();
        let today = mamori_domain::incident::jst_date(self.clock.now_micros());
        let mut per_channel: Vec<(String, String)> = InquiryChannel::ALL
            .iter()
            .map(|c| {
                let n: i64 = v
                    .days
                    .iter()
                    .flat_map(|d| d.by_channel.iter())
                    .filter(|(k, _)| k == c)
                    .map(|(_, n)| n)
                    .sum();
                (format!("受付件数（{}）", c.label_ja()), format!("{n}件"))
            })
            .collect();
        per_channel.insert(
            0,
            (
                "受付件数（合計・直近60日）".into(),
                format!("{}件", v.total),
            ),
        );
        per_channel.push((
            "未完了（うちエスカレーション中）".into(),
            format!("{}件（{}件）", v.open, v.escalated),
        ));
        per_channel.push((
            "平均対応時間".into(),
            v.avg_handling_secs
                .map_or_else(|| "—".into(), |s| format!("{}分{}秒", s / 60, s % 60)),
        ));
        per_channel.push((
            "完了までの時間（中央値）".into(),
            v.median_close_secs.map_or_else(
                || "—".into(),
                |s| format!("{}時間{}分", s / 3600, (s % 3600) / 60),
            ),
        ));
        if let Some((d, n)) = v.busiest_day {
            per_channel.push((
                "最も多かった日".into(),
                format!("{}（{n}件）", crate::ppc::japanese_date(d)),
            ));
        }
        let categories: Vec<(String, String)> = v
            .by_category
            .iter()
            .map(|(c, n)| (c.label_ja().to_owned(), format!("{n}件")))
            .collect();
        let callers: Vec<(String, String)> = v
            .by_caller
            .iter()
            .map(|(c, n)| (c.label_ja().to_owned(), format!("{n}件")))
            .collect();
        let doc = Document {
            title: "お問い合わせ対応状況".into(),
            subtitle: Some(format!("{}　{}", incident.ref_no, incident.title)),
            meta: vec![("作成日".into(), crate::ppc::japanese_date(today))],
            blocks: vec![
                Block::Heading("受付の状況".into()),
                Block::Fields(per_channel),
                Block::Heading("お問い合わせの分類".into()),
                Block::Fields(categories),
                Block::Heading("相談者の種別".into()),
                Block::Fields(callers),
                Block::Heading("よくある質問とアンケート".into()),
                Block::Fields(vec![
                    ("公開中のFAQ".into(), format!("{published}件")),
                    ("アンケート回答数".into(), format!("{answers}件")),
                    ("満足度（5段階の平均）".into(), mean),
                    (
                        "通知の内容を理解できた／できなかった".into(),
                        format!("{understood}件／{not_understood}件"),
                    ),
                ]),
                Block::Paragraph(
                    "この資料は件数のみを記載しており、個人を識別できる情報を含みません。".into(),
                ),
            ],
            footer: Some(format!("{} お問い合わせ対応状況", incident.ref_no)),
            watermark: incident.drill.then(|| "訓練".to_owned()),
        };
        let pdf = mamori_pdf::render(&doc).map_err(|e| AppError::Internal(e.to_string()))?;
        self.audit(
            ctx,
            "desk.export.pdf",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(pdf)
    }

    // ───────────────────────────── the daily digest ─────────────────────────────

    /// From 18:00 JST, mails each company's privacy office the day's questions and answers
    /// once (claimed per company and day, so several processes send it once).
    pub async fn send_desk_digests(&self) -> Result<u64, AppError> {
        let now = self.clock.now_micros();
        let jst_hour = (now.div_euclid(1_000_000) + 9 * 3600).rem_euclid(86_400) / 3600;
        if jst_hour < i64::from(DIGEST_HOUR) {
            return Ok(0);
        }
        let day = jst_day(now);
        let mut sent = 0;
        for company in self.store.companies_with_inquiries(&day).await? {
            let rows = self.store.inquiries_of_day(company, &day).await?;
            if !self
                .store
                .claim_digest(company, &day, now, rows.len() as i64)
                .await?
            {
                continue;
            }
            let to: Vec<String> = self
                .store
                .list_users(Some(company))
                .await?
                .into_iter()
                .filter(|u| !u.disabled && u.roles.contains(Role::PrivacyOffice))
                .map(|u| u.email)
                .collect();
            if to.is_empty() {
                continue;
            }
            let body = self.digest_text(&day, &rows);
            let Some(mailer) = &self.mailer else {
                self.store.release_digest(company, &day).await?;
                return Ok(sent);
            };
            let result = mailer
                .send(&mamori_mail::Mail {
                    to: to.clone(),
                    subject: format!(
                        "【mamori】お問い合わせ回答レポート {day}（{}件）",
                        rows.len()
                    ),
                    text: body,
                    reply_to: None,
                    headers: vec![("X-Mamori-Kind".into(), "desk.digest".into())],
                })
                .await;
            if let Err(e) = result {
                self.store.release_digest(company, &day).await?;
                return Err(AppError::Internal(format!(
                    "the desk digest was not sent: {e}"
                )));
            }
            sent += 1;
            self.audit(
                &Ctx::local(),
                "desk.digest",
                &format!("company:{company}"),
                Outcome::Success,
                json!({"day": day, "inquiries": rows.len(), "recipients": to.len()}),
            )
            .await?;
        }
        Ok(sent)
    }

    fn digest_text(&self, day: &str, rows: &[mamori_store::desk::InquiryRow]) -> String {
        use std::fmt::Write;
        let mut by_cat: Vec<(Category, Vec<&mamori_store::desk::InquiryRow>)> = Vec::new();
        for c in Category::ALL {
            let mine: Vec<_> = rows.iter().filter(|r| r.category == c.code()).collect();
            if !mine.is_empty() {
                by_cat.push((*c, mine));
            }
        }
        let open = rows
            .iter()
            .filter(|r| Status::parse(&r.status).is_some_and(Status::is_open))
            .count();
        let mut s = format!(
            "{day} のお問い合わせ回答レポートです（mamori から自動送信）。\n\n受付 {} 件（うち未完了 {open} 件）\n",
            rows.len()
        );
        for (c, list) in &by_cat {
            let _ = write!(s, "\n■ {}（{}件）\n", c.label_ja(), list.len());
            for r in list.iter().take(20) {
                let q = self
                    .keys
                    .unseal(&r.question_sealed, "desk:question")
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let a = r
                    .answer_sealed
                    .as_deref()
                    .and_then(|x| self.keys.unseal(x, "desk:answer").ok())
                    .map_or_else(
                        || "（未回答）".into(),
                        |b| String::from_utf8_lossy(&b).into_owned(),
                    );
                let _ = write!(
                    s,
                    "・問: {}\n　答: {}\n",
                    one_line(&q, 200),
                    one_line(&a, 200)
                );
            }
            if list.len() > 20 {
                let _ = writeln!(s, "　ほか {} 件", list.len() - 20);
            }
        }
        s.push_str(
            "\n相談者の氏名・連絡先はこのメールに含めていません。詳細は mamori の問い合わせ画面で確認してください。\n",
        );
        s
    }
}

/// A time as JST minutes, `2026-12-07 14:05`.
pub(crate) fn jst_minutes(micros: i64) -> String {
    use chrono::{FixedOffset, TimeZone};
    FixedOffset::east_opt(9 * 3600)
        .and_then(|tz| tz.timestamp_micros(micros).single())
        .map_or_else(|| "-".into(), |d| d.format("%Y-%m-%d %H:%M").to_string())
}

fn one_line(s: &str, max: usize) -> String {
    let t: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > max {
        let mut c: String = t.chars().take(max).collect();
        c.push('…');
        c
    } else {
        t
    }
}
