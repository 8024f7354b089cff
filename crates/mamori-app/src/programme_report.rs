//! The monthly report for the management meeting (issue 17 part 7): one page with the month's
//! inspection — scores per department, the change since the month before, answer rates, the
//! follow-ups still open and the radar charts' values —, the incidents of the month, the legal
//! deadlines coming and missed, and the figures the other parts of the programme add
//! (training completion, open take-outs, audit findings) as they land.
//!
//! Read with `ViewProgramme`: the company for the privacy office, the CISO, executives and
//! auditors; a department head's report covers the own departments. Figures only (no person
//! is named), so reading it is not recorded; printing the PDF is, like every export.

use crate::inspection::RoundFigures;
use crate::{App, AppError, Ctx, Problem};
use mamori_domain::audit::Outcome;
use mamori_domain::incident::jst_date;
use mamori_domain::programme::inspection::{mean_score, Audience, Question, Tally};
use mamori_domain::programme::schedule::Month;
use mamori_domain::role::Permission;
use mamori_store::incidents::{IncidentFilter, IncidentSummary, Obligation};
use serde_json::json;

/// One department's line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct DeptLine {
    pub department_id: i64,
    pub name: String,
    pub individual: Option<f64>,
    pub previous: Option<f64>,
    pub manager: Option<f64>,
    pub answered: i64,
    pub expected: i64,
    /// Scores per item of the individual set (the radar).
    pub items: Vec<Option<f64>>,
}

/// The month's inspection in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectionPart {
    pub round_id: i64,
    pub opens_on: String,
    pub closes_on: String,
    /// The individual set's questions (their short labels are the radar's axes).
    pub labels: Vec<Question>,
    pub company: Option<f64>,
    pub company_previous: Option<f64>,
    pub company_items: Vec<Option<f64>>,
    pub departments: Vec<DeptLine>,
    /// The three items with the lowest company score: (label, score).
    pub weakest: Vec<(Question, f64)>,
    pub follow_up_open: usize,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct MonthlyReport {
    pub month: Month,
    pub company: String,
    /// Whose departments it covers (`None`: the company).
    pub scope_departments: Option<usize>,
    pub inspection: Option<InspectionPart>,
    /// Incidents filed in the month (drills apart).
    pub incidents: Vec<IncidentSummary>,
    pub drills: usize,
    pub open_incidents: i64,
    /// Legal deadlines due within 14 days, and missed ones: (obligation, ref, title).
    pub deadlines: Vec<(Obligation, String, String)>,
    pub overdue: Vec<(Obligation, String, String)>,
    /// The other parts of the programme: take-outs, training, audits, contractors.
    pub sections: Vec<ReportSection>,
    pub generated_at: i64,
}

/// A part of the programme in the report: a catalogue key for its heading and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSection {
    pub heading: &'static str,
    pub rows: Vec<(ReportLabel, ReportValue)>,
}

/// The label of a row: a catalogue key, or a name as typed (a course's title).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportLabel {
    Key(&'static str),
    Named(String),
}

/// A value in a section: a count (said with the reader's digits) or names as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportValue {
    Count(i64),
    Names(Vec<String>),
    /// Done of all, and how many are late: training and pledges.
    Progress {
        done: i64,
        of: i64,
        late: i64,
    },
}

fn key(k: &'static str) -> ReportLabel {
    ReportLabel::Key(k)
}

fn n64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count(n: usize) -> ReportValue {
    ReportValue::Count(i64::try_from(n).unwrap_or(i64::MAX))
}

fn sum_tallies(lists: &[&Vec<Tally>]) -> Vec<Tally> {
    let mut sum: Vec<Tally> = Vec::new();
    for ts in lists {
        if sum.len() < ts.len() {
            sum.resize(ts.len(), Tally::default());
        }
        for (i, t) in ts.iter().enumerate() {
            sum[i].merge(*t);
        }
    }
    sum
}

/// The inspection part from a month's figures and the month before's (pure).
pub fn inspection_part(f: &RoundFigures, previous: Option<&RoundFigures>) -> InspectionPart {
    let n = f.info.individual.len();
    let items_of = |t: Option<&Vec<Tally>>| -> Vec<Option<f64>> {
        (0..n)
            .map(|i| t.and_then(|t| t.get(i)).and_then(|t| t.score()))
            .collect()
    };
    // The company line covers what the reader may see: all departments for the company's
    // readers (the figures' company counts), their own departments for a department head.
    let scoped: Vec<&Vec<Tally>> = f
        .departments
        .iter()
        .filter_map(|d| d.tallies.get(&Audience::Individual))
        .collect();
    let total = sum_tallies(&scoped);
    let prev_total = previous.map(|p| {
        let v: Vec<&Vec<Tally>> = p
            .departments
            .iter()
            .filter_map(|d| d.tallies.get(&Audience::Individual))
            .collect();
        sum_tallies(&v)
    });
    let company_items = items_of(Some(&total));
    let mut weakest: Vec<(Question, f64)> = company_items
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (f.info.individual[i].clone(), s)))
        .collect();
    weakest.sort_by(|a, b| a.1.total_cmp(&b.1));
    weakest.truncate(3);
    let departments = f
        .departments
        .iter()
        .map(|d| {
            let prev = previous.and_then(|p| {
                p.departments
                    .iter()
                    .find(|x| x.department_id == d.department_id)
                    .and_then(|x| x.score(Audience::Individual))
            });
            DeptLine {
                department_id: d.department_id,
                name: d.name.clone(),
                individual: d.score(Audience::Individual),
                previous: prev,
                manager: d.score(Audience::Manager),
                answered: d.answered.get(&Audience::Individual).copied().unwrap_or(0),
                expected: d.expected.get(&Audience::Individual).copied().unwrap_or(0),
                items: items_of(d.tallies.get(&Audience::Individual)),
            }
        })
        .collect();
    InspectionPart {
        round_id: f.info.round.id,
        opens_on: f.info.round.opens_on.clone(),
        closes_on: f.info.round.closes_on.clone(),
        labels: f.info.individual.clone(),
        company: mean_score(&total),
        company_previous: prev_total.as_deref().and_then(mean_score),
        company_items,
        departments,
        weakest,
        follow_up_open: f.follow_up_open,
    }
}

impl App {
    /// The monthly report of `month` (`2026-11`; empty: the newest month whose inspection
    /// has closed, else this month).
    pub async fn monthly_report(
        &self,
        ctx: &Ctx,
        month_text: &str,
    ) -> Result<MonthlyReport, AppError> {
        if !ctx.allows(Permission::ViewProgramme) {
            return Err(AppError::Denied);
        }
        let scope = self.programme_scope(ctx).await?;
        if !scope.sees_figures() {
            return Err(AppError::Denied);
        }
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let month = if month_text.trim().is_empty() {
            Month::of(today)
        } else {
            Month::parse(month_text).ok_or_else(|| {
                AppError::Invalid(Problem::new(
                    Some("month"),
                    format!("月「{month_text}」: 2026-11 のように年と月で指定してください"),
                    format!("month `{month_text}`: give a year and month such as 2026-11"),
                ))
            })?
        };
        let company = self.store.get_company(scope.company_id).await?.name;
        let mut inspection = None;
        if let Some(round) = self
            .store
            .inspection_round(scope.company_id, &month.key())
            .await?
        {
            let f = self.inspection_round_figures(ctx, round.id).await?;
            let prev = match self
                .store
                .inspection_round(scope.company_id, &month.prev().key())
                .await?
            {
                Some(p) => Some(self.inspection_round_figures(ctx, p.id).await?),
                None => None,
            };
            // The month before only compares when it asked the same questions.
            let prev = prev.filter(|p| p.info.individual == f.info.individual);
            inspection = Some(inspection_part(&f, prev.as_ref()));
        }
        // Incidents filed in the month (JST), those the reader may see.
        let list = Self::list_scope(ctx)?;
        let jst = mamori_domain::appi::facts::jst();
        let start = |m: Month| {
            use chrono::TimeZone as _;
            jst.with_ymd_and_hms(m.year, m.month, 1, 0, 0, 0)
                .single()
                .map(|t| t.timestamp_micros())
        };
        let filed = self
            .store
            .list_incidents(
                list,
                &IncidentFilter {
                    from: start(month),
                    until: start(month.next()),
                    ..IncidentFilter::default()
                },
                1000,
            )
            .await?;
        let drills = filed.iter().filter(|i| i.drill).count();
        let incidents: Vec<IncidentSummary> = filed.into_iter().filter(|i| !i.drill).collect();
        let dash = self.dashboard(ctx).await?;
        let sections = self.report_sections(ctx, &scope, month).await?;
        let strip =
            |v: Vec<(Obligation, String, String, bool)>| -> Vec<(Obligation, String, String)> {
                v.into_iter()
                    .filter(|(_, _, _, drill)| !drill)
                    .map(|(o, r, t, _)| (o, r, t))
                    .collect()
            };
        Ok(MonthlyReport {
            month,
            company,
            scope_departments: scope.departments.as_ref().map(Vec::len),
            inspection,
            incidents,
            drills,
            open_incidents: dash.open,
            deadlines: strip(dash.deadlines),
            overdue: strip(dash.overdue_obligations),
            sections,
            generated_at: now,
        })
    }

    /// The sections of the other parts, each within the reader's reach.
    async fn report_sections(
        &self,
        ctx: &Ctx,
        scope: &crate::programme::ProgrammeScope,
        month: Month,
    ) -> Result<Vec<ReportSection>, AppError> {
        let mut out = Vec::new();
        // Training of the month's year and the current pledge (part 2).
        let mut training = Vec::new();
        for c in self.courses_overview(ctx).await? {
            if c.course.year != i64::from(month.year) {
                continue;
            }
            if let Some(done) = c.completion {
                training.push((
                    ReportLabel::Named(c.course.title.clone()),
                    ReportValue::Progress {
                        done: n64(done.completed),
                        of: n64(done.assigned),
                        late: n64(done.overdue),
                    },
                ));
            }
        }
        let pledges = self.pledge_status(ctx).await?;
        if pledges.current.is_some() {
            let (people, accepted) = pledges
                .rows
                .iter()
                .fold((0, 0), |(p, a), (_, n, k)| (p + n, a + k));
            training.push((
                key("report.pledges"),
                ReportValue::Progress {
                    done: n64(accepted),
                    of: n64(people),
                    late: 0,
                },
            ));
        }
        if training.is_empty() {
            training.push((key("report.training.none"), ReportValue::Names(Vec::new())));
        }
        out.push(ReportSection {
            heading: "report.training",
            rows: training,
        });
        // Take-outs open at some time in the month (part 4).
        let takeouts = self.open_takeouts(scope, month).await?;
        let late: Vec<String> = takeouts
            .iter()
            .filter(|t| t.overdue_days > 0)
            .map(|t| format!("{} · {} · {}", t.dataset, t.department, t.row.until_on))
            .collect();
        out.push(ReportSection {
            heading: "report.takeouts",
            rows: vec![
                (key("report.takeouts.open"), count(takeouts.len())),
                (
                    key("report.takeouts.waiting"),
                    count(
                        takeouts
                            .iter()
                            .filter(|t| t.row.status == "requested")
                            .count(),
                    ),
                ),
                (key("report.takeouts.late"), count(late.len())),
                (key("report.takeouts.late_list"), ReportValue::Names(late)),
            ],
        });
        // Internal audit (part 6).
        let a = self.audit_counts(ctx).await?;
        out.push(ReportSection {
            heading: "report.audits",
            rows: vec![
                (key("report.audits.findings"), count(a.open_findings)),
                (key("report.audits.major"), count(a.open_major)),
                (key("report.audits.actions"), count(a.open_actions)),
                (key("report.audits.overdue"), count(a.overdue_actions)),
                (key("report.audits.done"), count(a.audits_done)),
                (key("report.audits.planned"), count(a.audits_planned)),
            ],
        });
        // Contractors (part 5).
        let overdue = self.contractors_review_overdue(ctx).await?;
        let unmet = self.contractors_with_unmet_items(ctx).await?;
        out.push(ReportSection {
            heading: "report.contractors",
            rows: vec![
                (
                    key("report.contractors.review"),
                    ReportValue::Names(overdue.iter().map(|c| c.row.name.clone()).collect()),
                ),
                (
                    key("report.contractors.unmet"),
                    ReportValue::Names(unmet.iter().map(|c| c.row.name.clone()).collect()),
                ),
            ],
        });
        Ok(out)
    }

    /// Records that the report was printed as a PDF (an export of the company's figures).
    pub async fn record_report_export(&self, ctx: &Ctx, month: Month) -> Result<(), AppError> {
        self.audit(
            ctx,
            "programme.report.pdf",
            &format!("month:{}", month.key()),
            Outcome::Success,
            json!({"month": month.key()}),
        )
        .await?;
        Ok(())
    }
}
