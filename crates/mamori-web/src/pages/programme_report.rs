//! The monthly report for the management meeting (issue 17 part 7): a page, and the same as a
//! PDF that prints on A4 (radar charts drawn as vectors, in greys told apart by line style).

use super::{jst, render, Chrome};
use crate::chart_radar::{radar_svg, score_text, Radar, Series, Style};
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::visitor::Visitor;
use crate::WebState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Extension;
use mamori_app::programme_report::{InspectionPart, MonthlyReport, ReportLabel, ReportValue};
use mamori_app::AppError;
use mamori_domain::incident::facts::group_digits;
use mamori_domain::incident::ObligationKind;
use mamori_pdf::chart::{RadarChart, RadarSeries};
use mamori_pdf::{Block, Document};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    #[serde(default)]
    pub month: String,
}

/// A change of score: 「+3.2」「−1.0」「±0」, or "-" without the month before.
fn change(lang: Lang, now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(a), Some(b)) => {
            let d = a - b;
            if d.abs() < 0.05 {
                "±0".into()
            } else if d > 0.0 {
                format!("+{d:.1}")
            } else {
                format!("−{:.1}", -d)
            }
        }
        _ => lang.pick("-", "-").to_owned(),
    }
}

fn rate(answered: i64, expected: i64) -> String {
    if expected <= 0 {
        format!("{answered}")
    } else {
        #[allow(clippy::cast_precision_loss)]
        let p = answered as f64 * 100.0 / expected as f64;
        format!("{answered} / {expected} ({p:.0}%)")
    }
}

/// The sections of the other parts in the reader's language.
fn sections_of(lang: Lang, r: &MonthlyReport) -> Vec<(String, Vec<(String, String)>)> {
    let t = crate::i18n::Tr::of(lang);
    r.sections
        .iter()
        .map(|sec| {
            (
                t.get(sec.heading).to_owned(),
                sec.rows
                    .iter()
                    .map(|(k, v)| {
                        let value = match v {
                            ReportValue::Count(n) => group_digits(u64::try_from(*n).unwrap_or(0)),
                            ReportValue::Names(names) if names.is_empty() => {
                                t.get("report.none").to_owned()
                            }
                            ReportValue::Names(names) => {
                                names.join(if lang == Lang::En { "; " } else { "、" })
                            }
                            ReportValue::Progress { done, of, late } => {
                                let mut s = rate(*done, *of);
                                if *late > 0 {
                                    s.push_str(
                                        &t.get("report.late").replace("{n}", &late.to_string()),
                                    );
                                }
                                s
                            }
                        };
                        let label = match k {
                            ReportLabel::Key(k) => t.get(k).to_owned(),
                            ReportLabel::Named(n) => n.clone(),
                        };
                        (label, value)
                    })
                    .collect(),
            )
        })
        .collect()
}

fn obligation_label(lang: Lang, kind: &str) -> String {
    ObligationKind::parse(kind).map_or_else(
        || kind.to_owned(),
        |k| {
            if lang == Lang::En {
                k.label_en().to_owned()
            } else {
                k.label_ja().to_owned()
            }
        },
    )
}

pub struct DeptRow {
    pub name: String,
    pub score: String,
    pub change: String,
    pub manager: String,
    pub rate: String,
    pub low: bool,
}

pub struct RadarBox {
    pub title: String,
    pub svg: String,
}

pub struct Line {
    pub href: String,
    pub text: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "programme_report.html")]
pub struct ReportPage {
    pub c: Chrome,
    pub month_key: String,
    pub month: String,
    pub prev_key: String,
    pub next_key: String,
    pub company: String,
    pub scope_note: String,
    pub has_inspection: bool,
    pub round_id: i64,
    pub company_score: String,
    pub company_change: String,
    pub answer_rate: String,
    pub follow_up_open: usize,
    pub weakest: Vec<String>,
    pub rows: Vec<DeptRow>,
    pub radars: Vec<RadarBox>,
    pub incidents: Vec<Line>,
    pub drills: usize,
    pub open_incidents: i64,
    pub deadlines: Vec<Line>,
    pub overdue: Vec<Line>,
    pub sections: Vec<(String, Vec<(String, String)>)>,
    pub generated: String,
}

fn company_radar(v: &Visitor, i: &InspectionPart, title: &str) -> String {
    radar_svg(
        &Radar {
            title: title.to_owned(),
            axes: i
                .labels
                .iter()
                .map(|q| q.label_for(v.lang == Lang::En).to_owned())
                .collect(),
            series: vec![Series {
                name: v.tr().get("insp.company").to_owned(),
                values: i.company_items.clone(),
                style: Style::Main,
            }],
        },
        v.lang,
        "radar-company",
    )
}

fn page_of(v: &Visitor, r: &MonthlyReport) -> ReportPage {
    let t = v.tr();
    let lang = v.lang;
    let month = r.month.label(lang == Lang::En);
    let mut page = ReportPage {
        c: Chrome::new(v, "report.title"),
        month_key: r.month.key(),
        prev_key: r.month.prev().key(),
        next_key: r.month.next().key(),
        company: r.company.clone(),
        scope_note: r.scope_departments.map_or_else(String::new, |n| {
            t.get("report.scope").replace("{n}", &n.to_string())
        }),
        has_inspection: false,
        round_id: 0,
        company_score: "-".into(),
        company_change: "-".into(),
        answer_rate: "-".into(),
        follow_up_open: 0,
        weakest: Vec::new(),
        rows: Vec::new(),
        radars: Vec::new(),
        incidents: r
            .incidents
            .iter()
            .map(|i| Line {
                href: format!("/incidents/{}", i.id),
                text: format!("{} {}", i.ref_no, i.title),
                note: format!(
                    "{}{}",
                    t.get(&format!("incident.status.{}", i.status)),
                    if i.reportable {
                        format!(" · {}", t.get("report.reportable"))
                    } else {
                        String::new()
                    }
                ),
            })
            .collect(),
        drills: r.drills,
        open_incidents: r.open_incidents,
        deadlines: r
            .deadlines
            .iter()
            .map(|(o, rf, title)| Line {
                href: format!("/incidents/{}#obligations", o.incident_id),
                text: format!("{rf} {title}"),
                note: format!(
                    "{} · {}",
                    obligation_label(lang, &o.kind),
                    o.due_on.clone().unwrap_or_default()
                ),
            })
            .collect(),
        overdue: r
            .overdue
            .iter()
            .map(|(o, rf, title)| Line {
                href: format!("/incidents/{}#obligations", o.incident_id),
                text: format!("{rf} {title}"),
                note: format!(
                    "{} · {}",
                    obligation_label(lang, &o.kind),
                    o.due_on.clone().unwrap_or_default()
                ),
            })
            .collect(),
        sections: sections_of(lang, r),
        generated: jst(r.generated_at)[..16].to_owned(),
        month,
    };
    if let Some(i) = &r.inspection {
        let (ans, exp) = i
            .departments
            .iter()
            .fold((0, 0), |(a, e), d| (a + d.answered, e + d.expected));
        page.has_inspection = true;
        page.round_id = i.round_id;
        page.company_score = score_text(lang, i.company);
        page.company_change = change(lang, i.company, i.company_previous);
        page.answer_rate = rate(ans, exp);
        page.follow_up_open = i.follow_up_open;
        page.weakest = i
            .weakest
            .iter()
            .map(|(q, s)| {
                format!(
                    "{} {}",
                    q.label_for(lang == Lang::En),
                    score_text(lang, Some(*s))
                )
            })
            .collect();
        page.rows = i
            .departments
            .iter()
            .map(|d| DeptRow {
                name: d.name.clone(),
                score: score_text(lang, d.individual),
                change: change(lang, d.individual, d.previous),
                manager: score_text(lang, d.manager),
                rate: rate(d.answered, d.expected),
                low: d.individual.is_some_and(|s| s < 80.0),
            })
            .collect();
        let title = t
            .get("report.radar.company")
            .replace("{month}", &page.month);
        page.radars.push(RadarBox {
            svg: company_radar(v, i, &title),
            title: t.get("insp.company").to_owned(),
        });
        for d in i.departments.iter().filter(|d| d.individual.is_some()) {
            page.radars.push(RadarBox {
                title: format!("{} {}", d.name, score_text(lang, d.individual)),
                svg: radar_svg(
                    &Radar {
                        title: t
                            .get("insp.radar.title")
                            .replace("{dept}", &d.name)
                            .replace("{month}", &page.month),
                        axes: i
                            .labels
                            .iter()
                            .map(|q| q.label_for(lang == Lang::En).to_owned())
                            .collect(),
                        series: vec![
                            Series {
                                name: d.name.clone(),
                                values: d.items.clone(),
                                style: Style::Main,
                            },
                            Series {
                                name: t.get("insp.company").to_owned(),
                                values: i.company_items.clone(),
                                style: Style::Compare,
                            },
                        ],
                    },
                    lang,
                    &format!("radar-{}", d.department_id),
                ),
            });
        }
    }
    page
}

pub async fn report_page(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<ReportQuery>,
) -> WebResult {
    v.full()?;
    let r = s.app.monthly_report(&v.ctx(), &q.month).await?;
    render(&page_of(&v, &r))
}

/// The report as a PDF document (pure, for the benchmark and the tests).
#[must_use]
pub fn report_document(lang: Lang, r: &MonthlyReport) -> Document {
    let en = lang == Lang::En;
    let p = |ja: &str, e: &str| if en { e.to_owned() } else { ja.to_owned() };
    let month = r.month.label(en);
    let mut blocks = Vec::new();
    blocks.push(Block::Heading(p("1. 総点検", "1. Self-inspection")));
    match &r.inspection {
        Some(i) => {
            let (ans, exp) = i
                .departments
                .iter()
                .fold((0, 0), |(a, e), d| (a + d.answered, e + d.expected));
            blocks.push(Block::Fields(vec![
                (
                    p("回答期間", "Answer period"),
                    format!("{} – {}", i.opens_on, i.closes_on),
                ),
                (
                    p("得点（前月比）", "Score (change)"),
                    format!(
                        "{}（{}）",
                        score_text(lang, i.company),
                        change(lang, i.company, i.company_previous)
                    ),
                ),
                (p("回答者", "Answered"), rate(ans, exp)),
                (
                    p("面談が未記録", "Interviews pending"),
                    i.follow_up_open.to_string(),
                ),
                (
                    p("得点の低い項目", "Weakest items"),
                    i.weakest
                        .iter()
                        .map(|(q, s)| format!("{} {}", q.label_for(en), score_text(lang, Some(*s))))
                        .collect::<Vec<_>>()
                        .join(if en { ", " } else { "、" }),
                ),
            ]));
            blocks.push(Block::Fields(
                i.departments
                    .iter()
                    .map(|d| {
                        (
                            d.name.clone(),
                            format!(
                                "{} {}（{}）· {} {} · {} {}",
                                p("個人", "individual"),
                                score_text(lang, d.individual),
                                change(lang, d.individual, d.previous),
                                p("職場", "workplace"),
                                score_text(lang, d.manager),
                                p("回答", "answered"),
                                rate(d.answered, d.expected)
                            ),
                        )
                    })
                    .collect(),
            ));
            let company = p("全社", "Company");
            #[allow(clippy::cast_possible_truncation)]
            let f32s = |v: &[Option<f64>]| v.iter().map(|x| x.map(|x| x as f32)).collect();
            let mut charts = vec![RadarChart {
                title: format!("{company} {}", score_text(lang, i.company)),
                axes: i
                    .labels
                    .iter()
                    .map(|q| q.label_for(en).to_owned())
                    .collect(),
                series: vec![RadarSeries {
                    name: company.clone(),
                    values: f32s(&i.company_items),
                }],
            }];
            for d in i.departments.iter().filter(|d| d.individual.is_some()) {
                charts.push(RadarChart {
                    title: format!("{} {}", d.name, score_text(lang, d.individual)),
                    axes: i
                        .labels
                        .iter()
                        .map(|q| q.label_for(en).to_owned())
                        .collect(),
                    series: vec![
                        RadarSeries {
                            name: d.name.clone(),
                            values: f32s(&d.items),
                        },
                        RadarSeries {
                            name: company.clone(),
                            values: f32s(&i.company_items),
                        },
                    ],
                });
            }
            blocks.push(Block::Radars(charts));
        }
        None => blocks.push(Block::Paragraph(p(
            "この月の総点検は実施されていません。",
            "No inspection was held this month.",
        ))),
    }
    let mut n = 2;
    for (heading, rows) in sections_of(lang, r) {
        blocks.push(Block::Heading(format!("{n}. {heading}")));
        blocks.push(Block::Fields(rows));
        n += 1;
    }
    blocks.push(Block::Heading(format!(
        "{n}. {}",
        p("インシデント", "Incidents")
    )));
    let mut lines: Vec<String> = r
        .incidents
        .iter()
        .map(|i| {
            format!(
                "{} {}{}",
                i.ref_no,
                i.title,
                if i.reportable {
                    p("（報告対象）", " (reportable)")
                } else {
                    String::new()
                }
            )
        })
        .collect();
    if lines.is_empty() {
        lines.push(p(
            "この月に発生したインシデントはありません。",
            "No incident was filed this month.",
        ));
    }
    blocks.push(Block::Fields(vec![
        (
            p("当月の発生", "Filed this month"),
            r.incidents.len().to_string(),
        ),
        (p("対応中", "Open"), r.open_incidents.to_string()),
        (p("訓練", "Drills"), r.drills.to_string()),
    ]));
    blocks.push(Block::List(lines));
    n += 1;
    blocks.push(Block::Heading(format!(
        "{n}. {}",
        p("法定期限", "Legal deadlines")
    )));
    let mut due: Vec<String> = r
        .overdue
        .iter()
        .map(|(o, rf, t)| {
            format!(
                "{}{} {} {} {}",
                p("【期限切れ】", "[overdue] "),
                o.due_on.clone().unwrap_or_default(),
                obligation_label(lang, &o.kind),
                rf,
                t
            )
        })
        .collect();
    due.extend(r.deadlines.iter().map(|(o, rf, t)| {
        format!(
            "{} {} {} {}",
            o.due_on.clone().unwrap_or_default(),
            obligation_label(lang, &o.kind),
            rf,
            t
        )
    }));
    if due.is_empty() {
        due.push(p(
            "14日以内の期限はありません。",
            "No deadline within 14 days.",
        ));
    }
    blocks.push(Block::List(due));
    Document {
        title: p(
            "個人情報保護 月次報告",
            "Personal data protection: monthly report",
        ),
        subtitle: Some(month),
        meta: vec![
            (String::new(), r.company.clone()),
            (p("作成", "Made"), jst(r.generated_at)[..16].to_owned()),
        ],
        blocks,
        footer: Some(format!("{} · {}", r.company, r.month.key())),
        watermark: None,
    }
}

pub async fn report_pdf(
    State(s): State<WebState>,
    Extension(v): Extension<Visitor>,
    Query(q): Query<ReportQuery>,
) -> WebResult {
    v.full()?;
    let ctx = v.ctx();
    let r = s.app.monthly_report(&ctx, &q.month).await?;
    let doc = report_document(v.lang, &r);
    let bytes = tokio::task::spawn_blocking(move || mamori_pdf::render(&doc))
        .await
        .map_err(|e| WebError(AppError::Internal(format!("pdf task: {e}"))))?
        .map_err(|e| WebError(AppError::Internal(format!("pdf: {e}"))))?;
    s.app.record_report_export(&ctx, r.month).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"monthly-report-{}.pdf\"", r.month.key()),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
