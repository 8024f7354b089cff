//! The inspection charts as SVG drawn on the server: a **radar chart** of a department's
//! scores per item (seed 002 shows these at the security meeting), and a **trend** of scores
//! month by month. Same rules as the other charts (`chart.rs`): no script, no external
//! references, presentation attributes only (the CSP forbids inline styles), `role="img"` with
//! a `<title>` and a `<desc>` that says every number in the reader's language, every point with
//! its own `<title>`, colours of at least 3:1 on white and no meaning by colour alone (the
//! series differ by line style too, and the legend names them). They print as they are.
//!
//! A value that does not exist (nobody could answer the item) is not drawn as 0: the polygon
//! joins the items that have a score, and the axis's label says 「–」.

use std::fmt::Write as _;

use mamori_domain::lang::Lang;

/// One line on a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Named in the legend and the description (escaped).
    pub name: String,
    /// One value per axis (radar) or month (trend), 0 to 100; `None`: no score.
    pub values: Vec<Option<f64>>,
    pub style: Style,
}

/// How a series is drawn; each style has its own colour and dash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// The subject (a department): solid blue, filled lightly.
    Main,
    /// The comparison (the company): dashed dark grey.
    Compare,
    /// The month before: dotted orange.
    Previous,
}

impl Style {
    fn colour(self) -> &'static str {
        match self {
            Style::Main => "#1f5fa8",
            Style::Compare => "#4a4a4a",
            Style::Previous => "#a15c00",
        }
    }

    fn dash(self) -> &'static str {
        match self {
            Style::Main => "",
            Style::Compare => r#" stroke-dasharray="6 4""#,
            Style::Previous => r#" stroke-dasharray="2 3""#,
        }
    }
}

/// A radar chart: the axes (item labels) and the series over them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Radar {
    /// The accessible title (escaped).
    pub title: String,
    pub axes: Vec<String>,
    pub series: Vec<Series>,
}

/// A trend: months on the horizontal axis, scores 0–100 up.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trend {
    pub title: String,
    /// Labels of the months (`2026-12` or `12月`).
    pub months: Vec<String>,
    pub series: Vec<Series>,
}

const TEXT: &str = "#1a1a1a";
const MUTED: &str = "#595959";
const GRID: &str = "#c8c8c8";

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A score as said: 「83点」/「83」, or 「回答なし」/「no answers」.
#[must_use]
pub fn score_text(lang: Lang, v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => match lang {
            Lang::Ja => format!("{:.0}点", v.clamp(0.0, 100.0)),
            Lang::En => format!("{:.0}", v.clamp(0.0, 100.0)),
        },
        _ => lang.pick("回答なし", "no answers").to_owned(),
    }
}

fn clamp(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite()).map(|v| v.clamp(0.0, 100.0))
}

/// Splits a label into lines of at most `width` characters (at most two lines, then "…").
fn label_lines(label: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= width {
        return vec![label.to_owned()];
    }
    let first: String = chars[..width].iter().collect();
    let rest = &chars[width..];
    let second: String = if rest.len() > width {
        rest[..width - 1]
            .iter()
            .chain(std::iter::once(&'…'))
            .collect()
    } else {
        rest.iter().collect()
    };
    vec![first, second]
}

fn desc(lang: Lang, heads: &[String], series: &[Series]) -> String {
    let mut parts = Vec::new();
    for (i, h) in heads.iter().enumerate() {
        let vals: Vec<String> = series
            .iter()
            .map(|s| {
                format!(
                    "{}{}{}",
                    s.name,
                    lang.pick(" ", " "),
                    score_text(lang, clamp(s.values.get(i).copied().flatten()))
                )
            })
            .collect();
        parts.push(format!(
            "{h}{}{}",
            lang.pick("：", ": "),
            vals.join(lang.pick("、", ", "))
        ));
    }
    parts.join(lang.pick("。", ". "))
}

fn legend(body: &mut String, series: &[Series], y: f64, width: f64) -> f64 {
    let mut x = 10.0;
    let mut y = y;
    for s in series {
        let w = 40.0 + 13.0 * s.name.chars().count() as f64;
        if x + w > width - 10.0 && x > 10.0 {
            x = 10.0;
            y += 18.0;
        }
        let _ = write!(
            body,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="2.5"{}/><text x="{}" y="{}" font-size="13" fill="{TEXT}">{}</text>"#,
            x + 26.0,
            s.style.colour(),
            s.style.dash(),
            x + 32.0,
            y + 4.5,
            esc(&s.name)
        );
        x += w;
    }
    y + 14.0
}

/// The radar chart as a standalone `<svg>` element.
#[must_use]
pub fn radar_svg(chart: &Radar, lang: Lang, id: &str) -> String {
    const W: f64 = 440.0;
    const R: f64 = 108.0;
    const CX: f64 = 220.0;
    const CY: f64 = 172.0;
    let n = chart.axes.len().max(1);
    #[allow(clippy::cast_precision_loss)]
    let angle =
        |i: usize| -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n as f64;
    let at = |i: usize, v: f64| {
        let a = angle(i);
        let r = R * v / 100.0;
        (
            ((CX + r * a.cos()) * 10.0).round() / 10.0,
            ((CY + r * a.sin()) * 10.0).round() / 10.0,
        )
    };
    let mut body = String::new();
    // Rings at 25, 50, 75 and 100, with their numbers on the first axis.
    for ring in [25.0, 50.0, 75.0, 100.0] {
        let pts: Vec<String> = (0..n)
            .map(|i| {
                let (x, y) = at(i, ring);
                format!("{x},{y}")
            })
            .collect();
        let _ = write!(
            body,
            r#"<polygon points="{}" fill="none" stroke="{GRID}" stroke-width="1"/>"#,
            pts.join(" ")
        );
        let (x, y) = at(0, ring);
        let _ = write!(
            body,
            r#"<text x="{}" y="{}" font-size="10" fill="{MUTED}">{ring:.0}</text>"#,
            x + 3.0,
            y + 3.5
        );
    }
    for (i, label) in chart.axes.iter().enumerate() {
        let (x, y) = at(i, 100.0);
        let _ = write!(
            body,
            r#"<line x1="{CX}" y1="{CY}" x2="{x}" y2="{y}" stroke="{GRID}" stroke-width="1"/>"#
        );
        // The label just outside the ring, anchored away from the centre.
        let a = angle(i);
        let (lx, ly) = ((CX + (R + 12.0) * a.cos()), (CY + (R + 12.0) * a.sin()));
        let anchor = if a.cos() > 0.1 {
            "start"
        } else if a.cos() < -0.1 {
            "end"
        } else {
            "middle"
        };
        let main = chart
            .series
            .first()
            .and_then(|s| s.values.get(i).copied().flatten());
        let mut lines = label_lines(label, 7);
        let last = lines.len() - 1;
        lines[last] = format!("{}{}", lines[last], if main.is_some() { "" } else { " –" });
        let top = if a.sin() < -0.5 {
            ly - 14.0 * (lines.len() as f64 - 1.0) - 2.0
        } else if a.sin() > 0.5 {
            ly + 10.0
        } else {
            ly + 4.0 - 7.0 * (lines.len() as f64 - 1.0)
        };
        let _ = write!(
            body,
            r#"<text x="{lx:.1}" y="{top:.1}" font-size="13" fill="{TEXT}" text-anchor="{anchor}">"#
        );
        for (k, l) in lines.iter().enumerate() {
            let _ = write!(
                body,
                r#"<tspan x="{lx:.1}" dy="{}">{}</tspan>"#,
                if k == 0 { 0.0 } else { 14.0 },
                esc(l)
            );
        }
        body.push_str("</text>");
    }
    // Comparison lines first, the subject on top.
    for s in chart.series.iter().rev() {
        let pts: Vec<(usize, f64, f64)> = s
            .values
            .iter()
            .enumerate()
            .take(n)
            .filter_map(|(i, v)| {
                clamp(*v).map(|v| {
                    let (x, y) = at(i, v);
                    (i, x, y)
                })
            })
            .collect();
        if pts.is_empty() {
            continue;
        }
        let list: Vec<String> = pts.iter().map(|(_, x, y)| format!("{x},{y}")).collect();
        let fill = if s.style == Style::Main {
            format!(r#" fill="{}" fill-opacity="0.15""#, s.style.colour())
        } else {
            r#" fill="none""#.to_owned()
        };
        let _ = write!(
            body,
            r#"<polygon points="{}"{fill} stroke="{}" stroke-width="2.5" stroke-linejoin="round"{}/>"#,
            list.join(" "),
            s.style.colour(),
            s.style.dash()
        );
        if s.style == Style::Main {
            for (i, x, y) in &pts {
                let _ = write!(
                    body,
                    r#"<circle cx="{x}" cy="{y}" r="3.5" fill="{}"><title>{}{}{}</title></circle>"#,
                    s.style.colour(),
                    esc(chart.axes.get(*i).map_or("", String::as_str)),
                    lang.pick("：", ": "),
                    esc(&score_text(lang, s.values.get(*i).copied().flatten()))
                );
            }
        }
    }
    let h = legend(&mut body, &chart.series, CY + R + 52.0, W);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="100%" role="img" aria-labelledby="{id}-t {id}-d" class="radar" font-family="sans-serif" lang="{}"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc><rect x="0" y="0" width="{W}" height="{h}" fill="#ffffff"/>{body}</svg>"##,
        lang.code(),
        esc(&chart.title),
        esc(&desc(lang, &chart.axes, &chart.series))
    )
}

/// The trend chart as a standalone `<svg>` element.
#[must_use]
pub fn trend_svg(chart: &Trend, lang: Lang, id: &str) -> String {
    const W: f64 = 480.0;
    const LEFT: f64 = 34.0;
    const RIGHT: f64 = 10.0;
    const TOP: f64 = 10.0;
    const PLOT: f64 = 160.0;
    let n = chart.months.len().max(1);
    #[allow(clippy::cast_precision_loss)]
    let step = (W - LEFT - RIGHT) / n as f64;
    #[allow(clippy::cast_precision_loss)]
    let x_of = |i: usize| ((LEFT + step * (i as f64 + 0.5)) * 10.0).round() / 10.0;
    let y_of = |v: f64| ((TOP + PLOT * (1.0 - v / 100.0)) * 10.0).round() / 10.0;
    let mut body = String::new();
    for g in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let y = y_of(g);
        let _ = write!(
            body,
            r#"<line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="{GRID}" stroke-width="1"/><text x="{}" y="{}" font-size="10" fill="{MUTED}" text-anchor="end">{g:.0}</text>"#,
            W - RIGHT,
            LEFT - 4.0,
            y + 3.5
        );
    }
    // Month labels: every k-th so that they do not overlap (about 44 units each).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let every = ((44.0 / step).ceil() as usize).max(1);
    for (i, m) in chart.months.iter().enumerate() {
        if i % every != 0 && i + 1 != chart.months.len() {
            continue;
        }
        let _ = write!(
            body,
            r#"<text x="{}" y="{}" font-size="11" fill="{TEXT}" text-anchor="middle">{}</text>"#,
            x_of(i),
            TOP + PLOT + 16.0,
            esc(m)
        );
    }
    for s in chart.series.iter().rev() {
        // A gap where a month has no score: the line is broken there.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, v) in s.values.iter().enumerate().take(n) {
            match clamp(*v) {
                Some(v) => {
                    if let Some(r) = runs.last_mut() {
                        r.push((x_of(i), y_of(v)));
                    }
                }
                None => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            let pts: Vec<String> = run.iter().map(|(x, y)| format!("{x},{y}")).collect();
            let _ = write!(
                body,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5" stroke-linejoin="round"{}/>"#,
                pts.join(" "),
                s.style.colour(),
                s.style.dash()
            );
        }
        for (i, v) in s.values.iter().enumerate().take(n) {
            if let Some(v) = clamp(*v) {
                let _ = write!(
                    body,
                    r#"<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} {}{}{}</title></circle>"#,
                    x_of(i),
                    y_of(v),
                    s.style.colour(),
                    esc(chart.months.get(i).map_or("", String::as_str)),
                    esc(&s.name),
                    lang.pick("：", ": "),
                    esc(&score_text(lang, Some(v)))
                );
            }
        }
    }
    let h = legend(&mut body, &chart.series, TOP + PLOT + 38.0, W);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="100%" role="img" aria-labelledby="{id}-t {id}-d" class="trend" font-family="sans-serif" lang="{}"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc><rect x="0" y="0" width="{W}" height="{h}" fill="#ffffff"/>{body}</svg>"##,
        lang.code(),
        esc(&chart.title),
        esc(&desc(lang, &chart.months, &chart.series))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn radar() -> Radar {
        Radar {
            title: "営業部 <2026年12月>".into(),
            axes: (1..=15).map(|i| format!("項目{i}")).collect(),
            series: vec![
                Series {
                    name: "営業部".into(),
                    values: (0..15)
                        .map(|i| {
                            if i == 3 {
                                None
                            } else {
                                Some(60.0 + f64::from(i))
                            }
                        })
                        .collect(),
                    style: Style::Main,
                },
                Series {
                    name: "全社".into(),
                    values: vec![Some(80.0); 15],
                    style: Style::Compare,
                },
            ],
        }
    }

    #[test]
    fn radar_is_accessible_and_escaped() {
        let svg = radar_svg(&radar(), Lang::Ja, "r1");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("営業部 &lt;2026年12月&gt;"));
        assert!(!svg.contains("<2026"));
        // Every number is in the description, a missing one said as such.
        assert!(svg.contains("項目1：営業部 60点、全社 80点"), "{svg}");
        assert!(svg.contains("項目4：営業部 回答なし"));
        // 14 points of the department (one item has no score), the company's polygon.
        assert_eq!(svg.matches("<circle").count(), 14);
        assert_eq!(
            svg.matches("stroke-dasharray=\"6 4\"").count(),
            2,
            "polygon and legend"
        );
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn odd_values_never_break_the_drawing() {
        let mut r = radar();
        r.series[0].values = vec![Some(f64::NAN), Some(-5.0), Some(1e9), None];
        r.axes = vec!["あ".repeat(40), String::new(), "<x>".into(), "b".into()];
        let svg = radar_svg(&r, Lang::En, "r2");
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert!(svg.contains("&lt;x&gt;"));
        let empty = radar_svg(&Radar::default(), Lang::Ja, "r3");
        assert!(empty.starts_with("<svg") && empty.ends_with("</svg>"));
    }

    #[test]
    fn trend_breaks_where_a_month_has_no_score() {
        let t = Trend {
            title: "推移".into(),
            months: (1..=12).map(|m| format!("{m}月")).collect(),
            series: vec![Series {
                name: "営業部".into(),
                values: (0..12)
                    .map(|i| if i == 5 { None } else { Some(70.0) })
                    .collect(),
                style: Style::Main,
            }],
        };
        let svg = trend_svg(&t, Lang::Ja, "t1");
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 11);
        assert!(svg.contains("6月：営業部 回答なし"));
    }
}
