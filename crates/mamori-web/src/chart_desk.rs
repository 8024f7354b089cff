//! The contact desk's figures as SVG drawn on the server (issue 15), in the style of
//! [`crate::chart`]: no script, no external reference, no font or image to fetch.
//!
//! Two drawings serve every chart of the desk: [`column_svg`] (columns, stacked by series — the
//! inquiries per JST day by channel, per hour of the day) and [`bar_svg`] (one horizontal bar
//! per row with its number and share — per category, survey scores). [`desk_charts`] builds the
//! three charts of an incident's desk page from [`Volumes`], each with the same numbers as a
//! [`DataTable`] that the page shows under a `<details>` as the chart's text alternative.
//!
//! Accessibility as in `chart.rs`: `role="img"` with `aria-labelledby` naming a `<title>` and a
//! short `<desc>` (the total and the largest value; the table has every number), a `<title>` on
//! every bar, text colours of at least 4.5:1 on white and bar colours of at least 3:1, and no
//! meaning carried by colour alone (a legend with words, a white gap between stacked parts, the
//! table). 390 units wide, the width of a phone, scaling with its container. Every text that is
//! not a number is escaped; numbers of any size are printed in full with thousands separators,
//! and a negative count (a bad row) counts as zero.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use mamori_domain::desk::figures::{DayVolume, Volumes};
use mamori_domain::desk::{Category, InquiryChannel};
use mamori_domain::lang::Lang;

use crate::chart::grouped;

const WIDTH: f64 = 390.0;
const PAD: f64 = 6.0;
const PLOT_W: f64 = WIDTH - 2.0 * PAD;
const PLOT_H: f64 = 120.0;
const TEXT: &str = "#1a1a1a";
const MUTED: &str = "#595959";
const TRACK: &str = "#ececec";
const GRID: &str = "#d9d9d9";

/// Colours of the channels (phone, mail, web form), in `InquiryChannel::ALL` order: blue,
/// orange and dark grey, told apart by lightness and hue; each at least 3:1 on white.
pub const CHANNEL_COLOURS: [&str; 3] = ["#1f5fa8", "#a15c00", "#4a4a4a"];
/// The colour of a chart with one series.
pub const BAR_COLOUR: &str = "#1f5fa8";

/// One series of a column chart: its name (escaped) and colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    pub colour: &'static str,
}

/// One column: its label under the axis (escaped), the name it has in a bar's tooltip and the
/// value of each series, bottom up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub label: String,
    pub long_label: String,
    pub values: Vec<u64>,
}

/// A column chart: columns stacked by series.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnChart {
    /// The accessible title (escaped).
    pub title: String,
    pub series: Vec<Series>,
    pub columns: Vec<Column>,
    /// What the axis counts, under it (escaped), e.g. 「時（日本時間）」.
    pub axis: String,
}

/// A horizontal bar chart: one bar per row, with its number and share of the total.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BarChart {
    /// The accessible title (escaped).
    pub title: String,
    /// (label, value), drawn in this order.
    pub bars: Vec<(String, u64)>,
}

/// The numbers of a chart as a table: column heads, then rows of (row head, cells).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataTable {
    pub head: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

/// A chart of the page: an anchor id, its heading, the drawing and its numbers.
#[derive(Debug, Clone)]
pub struct DeskChart {
    pub id: &'static str,
    pub heading: String,
    pub svg: String,
    pub table: DataTable,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A count from the figures: a negative one (a bad row) is none.
#[must_use]
pub fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A label of the domain's vocabulary as a chart shows it: English labels (`phone`, `am I
/// affected`) start with a capital letter.
#[must_use]
pub fn label_of(lang: Lang, label: &str) -> String {
    match lang {
        Lang::Ja => label.to_owned(),
        Lang::En => {
            let mut c = label.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().chain(c).collect::<String>()
            })
        }
    }
}

/// "1,234件" / "1,234".
#[must_use]
pub fn with_unit(lang: Lang, n: u64) -> String {
    match lang {
        Lang::Ja => format!("{}件", grouped(n)),
        Lang::En => grouped(n),
    }
}

#[allow(clippy::cast_precision_loss)]
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64).clamp(0.0, 1.0)
    }
}

/// One decimal place, never `NaN` in a drawing.
fn r1(x: f64) -> f64 {
    if x.is_finite() {
        (x * 10.0).round() / 10.0
    } else {
        0.0
    }
}

/// The width of a text at `size` units: a wide character (kana, kanji, full-width forms) is as
/// wide as the font size, anything else about 0.6 of it.
#[allow(clippy::cast_precision_loss)]
fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| {
            if (c as u32) >= 0x1100 {
                size
            } else {
                size * 0.6
            }
        })
        .sum()
}

fn weekday(lang: Lang, d: NaiveDate) -> &'static str {
    let i = d.weekday().num_days_from_monday() as usize;
    let (ja, en) = (
        ["月", "火", "水", "木", "金", "土", "日"],
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    );
    match lang {
        Lang::Ja => ja[i],
        Lang::En => en[i],
    }
}

/// `12/7`, the label under a day's column.
#[must_use]
pub fn short_day(d: NaiveDate) -> String {
    format!("{}/{}", d.month(), d.day())
}

/// `2026-12-07（月）` / `2026-12-07 (Mon)`.
#[must_use]
pub fn long_day(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::Ja => format!("{}（{}）", d.format("%Y-%m-%d"), weekday(lang, d)),
        Lang::En => format!("{} ({})", d.format("%Y-%m-%d"), weekday(lang, d)),
    }
}

/// `10時台` / `10:00–10:59`.
#[must_use]
pub fn hour_label(lang: Lang, h: u32) -> String {
    match lang {
        Lang::Ja => format!("{h}時台"),
        Lang::En => format!("{h}:00–{h}:59"),
    }
}

/// A handling time as minutes and seconds, `12:05` (minutes beyond 59 are kept: `75:00`).
#[must_use]
pub fn mm_ss(secs: i64) -> String {
    let s = secs.max(0);
    format!("{}:{:02}", s / 60, s % 60)
}

/// A longer time in words: `45分`, `3時間05分`, `2日3時間` / `45 min`, `3 h 05 min`, `2 d 3 h`.
#[must_use]
pub fn duration(lang: Lang, secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (lang, d, h) {
        (Lang::Ja, 0, 0) => format!("{m}分"),
        (Lang::Ja, 0, _) => format!("{h}時間{m:02}分"),
        (Lang::Ja, _, _) => format!("{d}日{h}時間"),
        (Lang::En, 0, 0) => format!("{m} min"),
        (Lang::En, 0, _) => format!("{h} h {m:02} min"),
        (Lang::En, _, _) => format!("{d} d {h} h"),
    }
}

/// 32-bit FNV-1a, for ids unique per content.
fn fnv1a<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for part in parts {
        for &b in part {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

/// The `<svg>` element around a drawing, with its accessible name and description.
fn wrap(kind: &str, title: &str, desc: &str, height: f64, body: &str, lang: Lang) -> String {
    let (title, desc) = (esc(title), esc(desc));
    let id = fnv1a([
        kind.as_bytes(),
        title.as_bytes(),
        desc.as_bytes(),
        body.as_bytes(),
    ]);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="{kind}-title-{id:08x} {kind}-desc-{id:08x}" font-family="sans-serif" lang="{}"><title id="{kind}-title-{id:08x}">{title}</title><desc id="{kind}-desc-{id:08x}">{desc}</desc><rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>{body}</svg>"##,
        lang.code()
    )
}

fn none_text(lang: Lang) -> &'static str {
    lang.pick(
        "この期間のお問い合わせはありません",
        "No inquiries in this period",
    )
}

fn see_table(lang: Lang) -> &'static str {
    lang.pick(
        "数値は図の下の表にあります。",
        "Every number is in the table below the chart.",
    )
}

/// The columns stacked by series, the largest total labelled on the axis.
#[must_use]
pub fn column_svg(chart: &ColumnChart, lang: Lang) -> String {
    let mut body = String::new();
    let mut y = PAD;
    let series_n = chart.series.len();
    // Legend: colour and word together, wrapped onto a new line when the row is full.
    if series_n > 1 {
        let mut lx = PAD;
        y += 2.0;
        for s in &chart.series {
            let w = 14.0 + text_width(&s.name, 12.0) + 14.0;
            if lx > PAD && lx + w > WIDTH - PAD {
                lx = PAD;
                y += 16.0;
            }
            let _ = write!(
                body,
                r#"<rect x="{lx}" y="{y}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="12" fill="{TEXT}">{}</text>"#,
                s.colour,
                r1(lx + 14.0),
                y + 9.5,
                esc(&s.name)
            );
            lx = r1(lx + w);
        }
        y += 16.0;
    }
    let totals: Vec<u64> = chart
        .columns
        .iter()
        .map(|c| c.values.iter().fold(0u64, |a, b| a.saturating_add(*b)))
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0);
    let sum = totals.iter().fold(0u64, |a, b| a.saturating_add(*b));
    y += 10.0;
    let _ = write!(
        body,
        r#"<text x="{}" y="{y}" font-size="10" fill="{MUTED}" text-anchor="end">{}</text>"#,
        WIDTH - PAD,
        esc(&format!(
            "{}{}",
            lang.pick("最大 ", "max "),
            with_unit(lang, max)
        ))
    );
    y += 4.0;
    let top = y;
    let base = top + PLOT_H;
    // Grid lines at the top and the middle of the scale.
    for g in [top, top + PLOT_H / 2.0] {
        let _ = write!(
            body,
            r#"<line x1="{PAD}" y1="{g}" x2="{}" y2="{g}" stroke="{GRID}" stroke-width="1"/>"#,
            WIDTH - PAD
        );
    }
    if max == 0 {
        let _ = write!(
            body,
            r#"<text x="{}" y="{}" font-size="12" fill="{MUTED}" text-anchor="middle">{}</text>"#,
            WIDTH / 2.0,
            top + PLOT_H / 2.0 + 16.0,
            esc(none_text(lang))
        );
    }
    let n = chart.columns.len().max(1);
    #[allow(clippy::cast_precision_loss)]
    let group_w = PLOT_W / n as f64;
    let bar_w = r1((group_w * 0.72).max(0.5));
    // Label every k-th column so that the labels do not overlap.
    let widest = chart
        .columns
        .iter()
        .map(|c| text_width(&c.label, 10.0))
        .fold(0.0_f64, f64::max);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let step = (((widest + 4.0) / group_w).ceil() as usize).max(1);
    for (k, col) in chart.columns.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let gx = PAD + group_w * k as f64;
        let x = r1(gx + (group_w - bar_w) / 2.0);
        let mut below = 0u64;
        for (i, v) in col.values.iter().enumerate() {
            if *v == 0 {
                continue;
            }
            // Heights from the running total, so rounding never leaves a gap or an overlap.
            let y0 = base - ratio(below, max) * PLOT_H;
            below = below.saturating_add(*v);
            let y1 = base - ratio(below, max) * PLOT_H;
            let h = r1(y0 - y1);
            let name = chart.series.get(i).map_or("", |s| s.name.as_str());
            let colour = chart.series.get(i).map_or(BAR_COLOUR, |s| s.colour);
            let what = if series_n > 1 {
                format!("{} {name}", col.long_label)
            } else {
                col.long_label.clone()
            };
            let _ = write!(
                body,
                r#"<rect x="{x}" y="{}" width="{bar_w}" height="{h}" fill="{colour}"{}><title>{}{}{}</title></rect>"#,
                r1(y1),
                if series_n > 1 && bar_w >= 3.0 {
                    r##" stroke="#ffffff" stroke-width="0.75""##
                } else {
                    ""
                },
                esc(&what),
                lang.pick("：", ": "),
                esc(&with_unit(lang, *v))
            );
        }
        if k % step == 0 {
            let _ = write!(
                body,
                r#"<text x="{}" y="{}" font-size="10" fill="{TEXT}" text-anchor="middle">{}</text>"#,
                r1(gx + group_w / 2.0),
                base + 12.0,
                esc(&col.label)
            );
        }
    }
    let _ = write!(
        body,
        r#"<line x1="{PAD}" y1="{base}" x2="{}" y2="{base}" stroke="{MUTED}" stroke-width="1"/>"#,
        WIDTH - PAD
    );
    y = base + 14.0;
    if !chart.axis.trim().is_empty() {
        y += 12.0;
        let _ = write!(
            body,
            r#"<text x="{}" y="{y}" font-size="10" fill="{MUTED}" text-anchor="middle">{}</text>"#,
            WIDTH / 2.0,
            esc(chart.axis.trim())
        );
    }
    let height = (y + PAD).ceil();
    let best = chart
        .columns
        .iter()
        .zip(&totals)
        .filter(|(_, t)| **t == max && max > 0)
        .map(|(c, _)| c.long_label.as_str())
        .next();
    let desc = match (lang, best) {
        (_, None) => none_text(lang).to_owned(),
        (Lang::Ja, Some(b)) => format!(
            "合計 {}。最も多いのは{b}（{}）。{}",
            with_unit(lang, sum),
            with_unit(lang, max),
            see_table(lang)
        ),
        (Lang::En, Some(b)) => format!(
            "Total {}. Most: {b} ({}). {}",
            grouped(sum),
            grouped(max),
            see_table(lang)
        ),
    };
    wrap("desk-col", &chart.title, &desc, height, &body, lang)
}

/// One horizontal bar per row: its label, number and share of the total on a line, the bar
/// under it.
#[must_use]
pub fn bar_svg(chart: &BarChart, lang: Lang) -> String {
    let mut body = String::new();
    let mut y = PAD;
    let max = chart.bars.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let sum = chart
        .bars
        .iter()
        .fold(0u64, |a, (_, n)| a.saturating_add(*n));
    if chart.bars.is_empty() || max == 0 {
        y += 16.0;
        let _ = write!(
            body,
            r#"<text x="{}" y="{y}" font-size="12" fill="{MUTED}" text-anchor="middle">{}</text>"#,
            WIDTH / 2.0,
            esc(none_text(lang))
        );
        y += 6.0;
    }
    for (label, n) in &chart.bars {
        let share = (sum > 0).then(|| format!("{:.1}%", ratio(*n, sum) * 100.0));
        let number = match (lang, share) {
            (Lang::Ja, Some(p)) => format!("{}（{p}）", with_unit(lang, *n)),
            (Lang::En, Some(p)) => format!("{} ({p})", grouped(*n)),
            (_, None) => with_unit(lang, *n),
        };
        y += 13.0;
        let _ = write!(
            body,
            r#"<text x="{PAD}" y="{y}" font-size="12" fill="{TEXT}">{}</text><text x="{}" y="{y}" font-size="12" fill="{TEXT}" text-anchor="end">{}</text>"#,
            esc(label),
            WIDTH - PAD,
            esc(&number)
        );
        y += 3.0;
        let w = r1(ratio(*n, max) * PLOT_W);
        let _ = write!(
            body,
            r#"<rect x="{PAD}" y="{y}" width="{PLOT_W}" height="8" fill="{TRACK}"/><rect x="{PAD}" y="{y}" width="{w}" height="8" fill="{BAR_COLOUR}"><title>{}{}{}</title></rect>"#,
            esc(label),
            lang.pick("：", ": "),
            esc(&number)
        );
        y += 12.0;
    }
    let height = (y + PAD).ceil();
    let best = chart
        .bars
        .iter()
        .find(|(_, n)| *n == max && max > 0)
        .map(|(l, _)| l.as_str());
    let desc = match (lang, best) {
        (_, None) => none_text(lang).to_string(),
        (Lang::Ja, Some(b)) => format!(
            "合計 {}。最も多いのは「{b}」（{}）。{}",
            with_unit(lang, sum),
            with_unit(lang, max),
            see_table(lang)
        ),
        (Lang::En, Some(b)) => format!(
            "Total {}. Most: {b} ({}). {}",
            grouped(sum),
            grouped(max),
            see_table(lang)
        ),
    };
    wrap("desk-bar", &chart.title, &desc, height, &body, lang)
}

fn channel_series(lang: Lang) -> Vec<Series> {
    InquiryChannel::ALL
        .iter()
        .zip(CHANNEL_COLOURS)
        .map(|(c, colour)| Series {
            name: label_of(lang, c.label(lang)),
            colour,
        })
        .collect()
}

fn channel_counts(d: &DayVolume) -> Vec<u64> {
    InquiryChannel::ALL
        .iter()
        .map(|c| {
            d.by_channel
                .iter()
                .filter(|(k, _)| k == c)
                .map(|(_, n)| count(*n))
                .fold(0u64, u64::saturating_add)
        })
        .collect()
}

/// The inquiries per JST day, stacked by channel, and its table.
#[must_use]
pub fn per_day(days: &[DayVolume], lang: Lang) -> DeskChart {
    let chart = ColumnChart {
        title: lang
            .pick(
                "日別のお問い合わせ件数（受付方法別・日本時間）",
                "Inquiries per day by channel (JST)",
            )
            .to_owned(),
        series: channel_series(lang),
        columns: days
            .iter()
            .map(|d| Column {
                label: short_day(d.date),
                long_label: long_day(lang, d.date),
                values: channel_counts(d),
            })
            .collect(),
        axis: String::new(),
    };
    let mut head = vec![lang.pick("日付", "Date").to_owned()];
    head.extend(chart.series.iter().map(|s| s.name.clone()));
    head.push(lang.pick("合計", "Total").to_owned());
    let rows = days
        .iter()
        .map(|d| {
            let mut cells: Vec<String> = channel_counts(d).into_iter().map(grouped).collect();
            cells.push(grouped(count(d.total)));
            (long_day(lang, d.date), cells)
        })
        .collect();
    DeskChart {
        id: "per-day",
        heading: lang.pick("日別の件数", "Per day").to_owned(),
        svg: column_svg(&chart, lang),
        table: DataTable { head, rows },
    }
}

/// The inquiries per hour of the day in Japan (0–23), and its table.
#[must_use]
pub fn per_hour(per_hour: &[i64; 24], lang: Lang) -> DeskChart {
    let chart = ColumnChart {
        title: lang
            .pick(
                "時間帯別のお問い合わせ件数（日本時間）",
                "Inquiries per hour of the day (JST)",
            )
            .to_owned(),
        series: vec![Series {
            name: lang.pick("件数", "Inquiries").to_owned(),
            colour: BAR_COLOUR,
        }],
        columns: (0u32..24)
            .zip(per_hour.iter())
            .map(|(h, n)| Column {
                label: h.to_string(),
                long_label: hour_label(lang, h),
                values: vec![count(*n)],
            })
            .collect(),
        axis: lang.pick("時（日本時間）", "Hour (JST)").to_owned(),
    };
    let rows = (0u32..24)
        .zip(per_hour.iter())
        .map(|(h, n)| (hour_label(lang, h), vec![grouped(count(*n))]))
        .collect();
    DeskChart {
        id: "per-hour",
        heading: lang
            .pick("時間帯別の件数", "Per hour of the day")
            .to_owned(),
        svg: column_svg(&chart, lang),
        table: DataTable {
            head: vec![
                lang.pick("時間帯", "Hour").to_owned(),
                lang.pick("件数", "Inquiries").to_owned(),
            ],
            rows,
        },
    }
}

/// The inquiries per category, as horizontal bars, and its table.
#[must_use]
pub fn per_category(by_category: &[(Category, i64)], lang: Lang) -> DeskChart {
    let bars: Vec<(String, u64)> = by_category
        .iter()
        .map(|(c, n)| (label_of(lang, c.label(lang)), count(*n)))
        .collect();
    let sum = bars.iter().fold(0u64, |a, (_, n)| a.saturating_add(*n));
    let rows = bars
        .iter()
        .map(|(l, n)| {
            let share = if sum > 0 {
                format!("{:.1}%", ratio(*n, sum) * 100.0)
            } else {
                "—".to_owned()
            };
            (l.clone(), vec![grouped(*n), share])
        })
        .collect();
    let chart = BarChart {
        title: lang
            .pick("分類別のお問い合わせ件数", "Inquiries per category")
            .to_owned(),
        bars,
    };
    DeskChart {
        id: "per-category",
        heading: lang.pick("分類別の件数", "Per category").to_owned(),
        svg: bar_svg(&chart, lang),
        table: DataTable {
            head: vec![
                lang.pick("分類", "Category").to_owned(),
                lang.pick("件数", "Inquiries").to_owned(),
                lang.pick("割合", "Share").to_owned(),
            ],
            rows,
        },
    }
}

/// The three charts of an incident's desk page.
#[must_use]
pub fn desk_charts(v: &Volumes, lang: Lang) -> Vec<DeskChart> {
    vec![
        per_day(&v.days, lang),
        per_hour(&v.per_hour, lang),
        per_category(&v.by_category, lang),
    ]
}

/// Survey answers per score (1 to 5) as bars, and its table.
#[must_use]
pub fn survey_scores(scores: &[i64; 5], lang: Lang) -> DeskChart {
    let label = |i: usize| match lang {
        Lang::Ja => format!("{}点", i + 1),
        Lang::En => format!("{} of 5", i + 1),
    };
    let bars: Vec<(String, u64)> = scores
        .iter()
        .enumerate()
        .map(|(i, n)| (label(i), count(*n)))
        .collect();
    let rows = bars
        .iter()
        .map(|(l, n)| (l.clone(), vec![grouped(*n)]))
        .collect();
    DeskChart {
        id: "survey-scores",
        heading: lang.pick("満足度の分布", "Scores").to_owned(),
        svg: bar_svg(
            &BarChart {
                title: lang
                    .pick("アンケートの満足度（5段階）", "Survey scores (1 to 5)")
                    .to_owned(),
                bars,
            },
            lang,
        ),
        table: DataTable {
            head: vec![
                lang.pick("満足度", "Score").to_owned(),
                lang.pick("回答数", "Answers").to_owned(),
            ],
            rows,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_domain::desk::figures::InquiryFact;
    use mamori_domain::desk::{CallerType, Status};

    /// A strict check of well-formedness: every tag closed in order, attributes quoted, only
    /// the five XML entities and numeric references, one root.
    fn well_formed(svg: &str) {
        let b = svg.as_bytes();
        let mut open: Vec<String> = Vec::new();
        let mut roots = 0;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'<' => {
                    let end = svg[i..].find('>').map(|e| i + e).expect("tag closed");
                    let tag = &svg[i + 1..end];
                    assert!(!tag.contains('<'), "{tag}");
                    if let Some(name) = tag.strip_prefix('/') {
                        assert_eq!(open.pop().as_deref(), Some(name), "{svg}");
                    } else {
                        let name: String = tag
                            .chars()
                            .take_while(|c| !c.is_whitespace() && *c != '/')
                            .collect();
                        if open.is_empty() {
                            roots += 1;
                        }
                        // Attribute values are quoted: an even number of quotes.
                        assert_eq!(tag.matches('"').count() % 2, 0, "{tag}");
                        if !tag.ends_with('/') {
                            open.push(name);
                        }
                    }
                    i = end + 1;
                }
                b'&' => {
                    let end = svg[i..].find(';').map(|e| i + e).expect("entity closed");
                    let name = &svg[i + 1..end];
                    assert!(
                        matches!(name, "amp" | "lt" | "gt" | "quot" | "#39")
                            || name.starts_with('#'),
                        "&{name};"
                    );
                    i = end + 1;
                }
                b'>' => panic!("a bare > at {i}"),
                _ => i += 1,
            }
        }
        assert!(open.is_empty(), "unclosed {open:?}");
        assert_eq!(roots, 1);
    }

    /// The numbers of every attribute `name="…"` in the drawing.
    fn numbers(svg: &str, name: &str) -> Vec<f64> {
        let key = format!(" {name}=\"");
        svg.match_indices(&key)
            .filter_map(|(i, _)| {
                let rest = &svg[i + key.len()..];
                let v = &rest[..rest.find('"').unwrap()];
                // The root's `width="100%"` is not a coordinate.
                (!v.ends_with('%')).then(|| v.parse::<f64>().unwrap())
            })
            .collect()
    }

    fn inside_the_box(svg: &str) {
        for name in ["x", "x1", "x2", "y", "width", "height"] {
            for v in numbers(svg, name) {
                assert!(v.is_finite() && v >= 0.0, "{name}={v}");
            }
        }
        for v in numbers(svg, "x") {
            assert!(v <= WIDTH, "x={v}");
        }
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn volumes() -> Volumes {
        // 2026-12-07 10:00 JST.
        let now = mamori_domain::incident::jst_midnight(date(7)) + 10 * 3_600_000_000;
        let fact = |h: i64, channel, category| InquiryFact {
            channel,
            category,
            caller: CallerType::Customer,
            status: Status::Closed,
            created_at: now - h * 3_600_000_000,
            closed_at: Some(now - h * 3_600_000_000 + 600_000_000),
            handling_secs: Some(300),
        };
        let facts = vec![
            fact(1, InquiryChannel::Phone, Category::Affected),
            fact(1, InquiryChannel::Mail, Category::Affected),
            fact(2, InquiryChannel::Web, Category::Items),
            fact(30, InquiryChannel::Phone, Category::Cause),
        ];
        Volumes::compute(&facts, now, 14)
    }

    #[test]
    fn the_desk_charts_are_well_formed_and_hold_every_number() {
        for lang in [Lang::Ja, Lang::En] {
            let charts = desk_charts(&volumes(), lang);
            assert_eq!(charts.len(), 3);
            for c in &charts {
                well_formed(&c.svg);
                inside_the_box(&c.svg);
                assert!(c.svg.contains(r#"role="img""#));
                assert!(c.svg.contains(&format!(r#"lang="{}""#, lang.code())));
                assert!(!c.svg.contains("<script") && !c.svg.contains("href"));
                // Every row of the table has a cell per column head.
                for (_, cells) in &c.table.rows {
                    assert_eq!(cells.len() + 1, c.table.head.len(), "{}", c.id);
                }
            }
            let day = &charts[0];
            assert_eq!(day.table.rows.len(), 14);
            let today = day.table.rows.last().unwrap();
            // Phone 1, mail 1, web 1, total 3 on the 7th; phone 1 on the 6th.
            assert_eq!(today.1, ["1", "1", "1", "3"]);
            assert_eq!(day.table.rows[12].1, ["1", "0", "0", "1"]);
            assert!(today.0.starts_with("2026-12-07"));
            // The legend names every channel in the reader's language.
            for c in InquiryChannel::ALL {
                assert!(
                    day.svg.contains(&esc(&label_of(lang, c.label(lang)))),
                    "{lang:?} {c:?}"
                );
            }
            let hour = &charts[1];
            assert_eq!(hour.table.rows.len(), 24);
            assert_eq!(hour.table.rows[9].1, ["2"]);
            assert_eq!(hour.table.rows[8].1, ["1"]);
            let cat = &charts[2];
            assert_eq!(cat.table.rows.len(), Category::ALL.len());
            assert_eq!(cat.table.rows[0].1, ["2", "50.0%"]);
            assert!(cat
                .svg
                .contains(&esc(&label_of(lang, Category::Affected.label(lang)))));
        }
        let ja = desk_charts(&volumes(), Lang::Ja);
        assert!(ja[0].svg.contains("合計 4件"), "{}", ja[0].svg);
        assert!(ja[0].svg.contains("最も多いのは2026-12-07（月）（3件）"));
        assert!(ja[1].svg.contains("時（日本時間）"));
        assert!(ja[1].svg.contains("9時台：2件"));
        assert!(ja[2].svg.contains("対象かどうか：2件（50.0%）"));
        let en = desk_charts(&volumes(), Lang::En);
        assert!(en[0].svg.contains("Total 4. Most: 2026-12-07 (Mon) (3)"));
        assert!(en[1].svg.contains("9:00–9:59: 2"));
    }

    #[test]
    fn no_inquiries_draws_an_empty_chart_that_says_so() {
        let empty = Volumes::compute(&[], 0, 7);
        for lang in [Lang::Ja, Lang::En] {
            for c in desk_charts(&empty, lang) {
                well_formed(&c.svg);
                inside_the_box(&c.svg);
                assert!(c.svg.contains(none_text(lang)), "{}", c.id);
                assert!(!c.svg.contains("NaN") && !c.svg.contains("inf"));
            }
        }
        // Nothing at all: no columns, no bars.
        for svg in [
            column_svg(&ColumnChart::default(), Lang::Ja),
            bar_svg(&BarChart::default(), Lang::En),
            per_day(&[], Lang::Ja).svg,
        ] {
            well_formed(&svg);
            inside_the_box(&svg);
            assert!(!svg.contains("NaN"));
        }
    }

    #[test]
    fn huge_and_negative_numbers_are_printed_in_full_or_as_none() {
        let chart = ColumnChart {
            title: "t".into(),
            series: channel_series(Lang::Ja),
            columns: vec![
                Column {
                    label: "a".into(),
                    long_label: "A".into(),
                    values: vec![u64::MAX, u64::MAX, 1],
                },
                Column {
                    label: "b".into(),
                    long_label: "B".into(),
                    values: vec![0, 0, 0],
                },
            ],
            axis: String::new(),
        };
        let svg = column_svg(&chart, Lang::Ja);
        well_formed(&svg);
        inside_the_box(&svg);
        assert!(svg.contains(&grouped(u64::MAX)), "{svg}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        // Stacked parts never rise above the plot.
        for h in numbers(&svg, "height") {
            assert!(h <= 400.0, "{h}");
        }
        let bars = BarChart {
            title: "t".into(),
            bars: vec![("a".into(), u64::MAX), ("b".into(), u64::MAX / 2)],
        };
        let svg = bar_svg(&bars, Lang::En);
        well_formed(&svg);
        inside_the_box(&svg);
        assert!(svg.contains("18,446,744,073,709,551,615"));
        let mut hours = [0i64; 24];
        hours[3] = i64::MAX;
        hours[4] = -5;
        let c = per_hour(&hours, Lang::Ja);
        well_formed(&c.svg);
        assert_eq!(c.table.rows[4].1, ["0"], "a negative count is none");
        assert_eq!(c.table.rows[3].1, [grouped(i64::MAX as u64)]);
        let c = per_category(
            &[(Category::Items, i64::MAX), (Category::Cause, -1)],
            Lang::En,
        );
        well_formed(&c.svg);
        assert_eq!(
            c.table.rows[0].1,
            [grouped(i64::MAX as u64), "100.0%".into()]
        );
    }

    #[test]
    fn every_text_is_escaped() {
        let nasty = r#"<script>alert("x")</script> & 'q' ]]> \u{1}"#;
        let chart = ColumnChart {
            title: nasty.into(),
            series: vec![
                Series {
                    name: nasty.into(),
                    colour: BAR_COLOUR,
                },
                Series {
                    name: "b".into(),
                    colour: CHANNEL_COLOURS[1],
                },
            ],
            columns: vec![Column {
                label: nasty.into(),
                long_label: nasty.into(),
                values: vec![3, 4],
            }],
            axis: nasty.into(),
        };
        for svg in [
            column_svg(&chart, Lang::Ja),
            bar_svg(
                &BarChart {
                    title: nasty.into(),
                    bars: vec![(nasty.into(), 2)],
                },
                Lang::En,
            ),
        ] {
            well_formed(&svg);
            assert!(!svg.contains("<script"), "{svg}");
            assert!(
                svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;")
            );
            assert!(!svg.contains('\u{1}'), "a control character is replaced");
        }
    }

    #[test]
    fn ids_differ_between_charts_and_colours_are_readable() {
        let v = volumes();
        let charts = desk_charts(&v, Lang::Ja);
        let ids: Vec<&str> = charts
            .iter()
            .map(|c| {
                let i = c.svg.find("<title id=\"").unwrap() + 11;
                &c.svg[i..i + c.svg[i..].find('"').unwrap()]
            })
            .collect();
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[1], ids[2]);
        // WCAG 1.4.11: graphics at least 3:1 on white; texts 4.5:1.
        let contrast = |hex: &str| {
            let h = hex.trim_start_matches('#');
            let ch = |i: usize| {
                let v = f64::from(u8::from_str_radix(&h[i..i + 2], 16).unwrap()) / 255.0;
                if v <= 0.039_28 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            1.05 / (0.2126 * ch(0) + 0.7152 * ch(2) + 0.0722 * ch(4) + 0.05)
        };
        for c in CHANNEL_COLOURS.iter().chain([&BAR_COLOUR]) {
            assert!(contrast(c) >= 3.0, "{c}");
        }
        for c in [TEXT, MUTED] {
            assert!(contrast(c) >= 4.5, "{c}");
        }
    }

    #[test]
    fn times_and_days_in_words() {
        assert_eq!(mm_ss(0), "0:00");
        assert_eq!(mm_ss(725), "12:05");
        assert_eq!(mm_ss(4 * 3600), "240:00");
        assert_eq!(mm_ss(-3), "0:00");
        assert_eq!(duration(Lang::Ja, 45 * 60), "45分");
        assert_eq!(duration(Lang::Ja, 3 * 3600 + 5 * 60), "3時間05分");
        assert_eq!(duration(Lang::Ja, 2 * 86_400 + 3 * 3600), "2日3時間");
        assert_eq!(duration(Lang::En, 3 * 3600 + 5 * 60), "3 h 05 min");
        assert_eq!(duration(Lang::En, i64::MAX).split(' ').count(), 4);
        assert_eq!(long_day(Lang::Ja, date(7)), "2026-12-07（月）");
        assert_eq!(long_day(Lang::En, date(13)), "2026-12-13 (Sun)");
        assert_eq!(hour_label(Lang::Ja, 0), "0時台");
        assert_eq!(hour_label(Lang::En, 23), "23:00–23:59");
        assert_eq!(with_unit(Lang::Ja, 1234), "1,234件");
        assert_eq!(count(-1), 0);
        assert_eq!(label_of(Lang::En, "am I affected"), "Am I affected");
        assert_eq!(label_of(Lang::Ja, "電話"), "電話");
        assert_eq!(label_of(Lang::En, ""), "");
    }

    #[test]
    fn thirty_days_are_labelled_without_overlap() {
        let now = mamori_domain::incident::jst_midnight(date(30));
        let v = Volumes::compute(&[], now, 30);
        let svg = per_day(&v.days, Lang::Ja).svg;
        well_formed(&svg);
        // Labels under the axis: at most one per 30 units or so.
        let labels = svg.matches(r#"text-anchor="middle">"#).count();
        assert!(labels > 3 && labels <= 15, "{labels}");
    }
}
