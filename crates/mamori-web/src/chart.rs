//! The notification funnel of a campaign as an SVG drawn on the server (no script, no
//! external references, no fonts or images to fetch), for the incident page.
//!
//! [`funnel_svg`] draws, for post, e-mail and phone, one horizontal bar per stage — queued,
//! sent, delivered, returned/bounced, reached — each labelled with its name, its number and
//! its share of the queued ones, and below them the sends and reaches per JST day as paired
//! bars. It is accessible: `role="img"` with `aria-labelledby` pointing at a `<title>` and a
//! `<desc>` that says every number in words in the reader's language; every bar also has its
//! own `<title>`. Colours have a contrast of at least 4.5:1 on white (text) and 3:1 (bars,
//! WCAG 1.4.11), and no meaning is carried by colour alone (every bar is labelled). The
//! drawing is 390 units wide (`viewBox`), the width of a phone, and scales with its container.
//!
//! The only caller-supplied text, the caption, is escaped; numbers of any size (up to
//! `u64::MAX`) are printed in full with thousands separators.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use mamori_domain::lang::Lang;

/// Counts of one channel's recipients by stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelFunnel {
    pub queued: u64,
    pub sent: u64,
    pub delivered: u64,
    /// Returned letters (post), bounced mail (e-mail), unreachable numbers (phone).
    pub returned: u64,
    pub reached: u64,
}

/// Sends and reaches on one day (JST).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub day: NaiveDate,
    pub sent: u64,
    pub reached: u64,
}

/// Everything the chart shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunnelData {
    /// Shown as the chart's accessible title, e.g. the campaign's name (escaped).
    pub caption: String,
    pub post: ChannelFunnel,
    pub email: ChannelFunnel,
    pub phone: ChannelFunnel,
    /// Oldest first.
    pub days: Vec<DayCount>,
}

const WIDTH: f64 = 390.0;
const PAD: f64 = 6.0;
const BAR_W: f64 = WIDTH - 2.0 * PAD;
const TEXT: &str = "#1a1a1a";
const MUTED: &str = "#595959";
const TRACK: &str = "#ececec";

/// Stage colours; each has at least 3:1 contrast on white.
pub const STAGE_COLOURS: [&str; 5] = ["#5f6368", "#1f5fa8", "#0b6e8a", "#b3261e", "#1b7a3a"];
/// Colours of the per-day bars (sent, reached).
pub const DAY_COLOURS: [&str; 2] = ["#1f5fa8", "#1b7a3a"];

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

/// 1234567 → "1,234,567".
#[must_use]
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[allow(clippy::cast_precision_loss)]
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64).clamp(0.0, 1.0)
    }
}

fn percent(part: u64, whole: u64) -> Option<String> {
    (whole > 0).then(|| format!("{:.1}%", ratio(part, whole) * 100.0))
}

fn channel_names(lang: Lang) -> [&'static str; 3] {
    match lang {
        Lang::Ja => ["郵送（封書）", "メール", "電話"],
        Lang::En => ["Post (letters)", "E-mail", "Phone"],
    }
}

/// Stage names for a channel (0 post, 1 e-mail, 2 phone).
fn stage_names(lang: Lang, channel: usize) -> [&'static str; 5] {
    let returned = match (lang, channel) {
        (Lang::Ja, 0) => "返送",
        (Lang::Ja, 1) => "不達",
        (Lang::Ja, _) => "不通",
        (Lang::En, 0) => "Returned",
        (Lang::En, 1) => "Bounced",
        (Lang::En, _) => "Unreachable",
    };
    match lang {
        Lang::Ja => ["送付待ち", "送付済み", "配達済み", returned, "本人到達"],
        Lang::En => ["Queued", "Sent", "Delivered", returned, "Reached"],
    }
}

fn stages(f: &ChannelFunnel) -> [u64; 5] {
    [f.queued, f.sent, f.delivered, f.returned, f.reached]
}

fn day_label(d: NaiveDate) -> String {
    format!("{}/{}", d.month(), d.day())
}

/// The number with its share of the queued ones: "1,234（56.7%）" / "1,234 (56.7%)".
fn with_share(lang: Lang, n: u64, queued: u64, stage: usize) -> String {
    match percent(n, queued).filter(|_| stage > 0) {
        Some(p) => match lang {
            Lang::Ja => format!("{}（{p}）", grouped(n)),
            Lang::En => format!("{} ({p})", grouped(n)),
        },
        None => grouped(n),
    }
}

/// The description read out in place of the picture: every number in words.
fn description(data: &FunnelData, lang: Lang) -> String {
    let mut out = String::new();
    let channels = [&data.post, &data.email, &data.phone];
    for (c, f) in channels.iter().enumerate() {
        let names = stage_names(lang, c);
        let parts: Vec<String> = stages(f)
            .iter()
            .enumerate()
            .map(|(i, &n)| match lang {
                Lang::Ja => format!("{} {}件", names[i], grouped(n)),
                Lang::En => format!("{} {}", names[i].to_lowercase(), grouped(n)),
            })
            .collect();
        match lang {
            Lang::Ja => {
                let _ = write!(out, "{}：{}。", channel_names(lang)[c], parts.join("、"));
            }
            Lang::En => {
                let _ = write!(out, "{}: {}. ", channel_names(lang)[c], parts.join(", "));
            }
        }
    }
    if !data.days.is_empty() {
        let days: Vec<String> = data
            .days
            .iter()
            .map(|d| match lang {
                Lang::Ja => format!(
                    "{}は送付{}件・到達{}件",
                    day_label(d.day),
                    grouped(d.sent),
                    grouped(d.reached)
                ),
                Lang::En => format!(
                    "{} sent {}, reached {}",
                    day_label(d.day),
                    grouped(d.sent),
                    grouped(d.reached)
                ),
            })
            .collect();
        match lang {
            Lang::Ja => {
                let _ = write!(out, "日別（日本時間）：{}。", days.join("、"));
            }
            Lang::En => {
                let _ = write!(out, "Per day (JST): {}.", days.join("; "));
            }
        }
    }
    out.trim_end().to_string()
}

/// The funnel chart as a standalone `<svg>` element, in the reader's language.
#[must_use]
pub fn funnel_svg(data: &FunnelData, lang: Lang) -> String {
    let mut body = String::new();
    let mut y = PAD;
    let channels = [&data.post, &data.email, &data.phone];
    for (c, f) in channels.iter().enumerate() {
        let values = stages(f);
        let max = values.iter().copied().max().unwrap_or(0);
        y += 14.0;
        let _ = write!(
            body,
            r#"<text x="{PAD}" y="{y}" font-size="14" font-weight="bold" fill="{TEXT}">{}</text>"#,
            esc(channel_names(lang)[c])
        );
        y += 6.0;
        for (i, &n) in values.iter().enumerate() {
            let name = stage_names(lang, c)[i];
            let number = with_share(lang, n, f.queued, i);
            y += 13.0;
            let _ = write!(
                body,
                r#"<text x="{PAD}" y="{y}" font-size="12" fill="{TEXT}">{}</text><text x="{}" y="{y}" font-size="12" fill="{TEXT}" text-anchor="end">{}</text>"#,
                esc(name),
                WIDTH - PAD,
                esc(&number)
            );
            y += 3.0;
            let w = (ratio(n, max) * BAR_W * 10.0).round() / 10.0;
            let _ = write!(
                body,
                r#"<rect x="{PAD}" y="{y}" width="{BAR_W}" height="8" fill="{TRACK}"/><rect x="{PAD}" y="{y}" width="{w}" height="8" fill="{}"><title>{}{}{}</title></rect>"#,
                STAGE_COLOURS[i],
                esc(name),
                lang.pick("：", ": "),
                esc(&number)
            );
            y += 12.0;
        }
        y += 6.0;
    }

    if !data.days.is_empty() {
        y += 14.0;
        let heading = lang.pick(
            "日別の送付と到達（日本時間）",
            "Sent and reached per day (JST)",
        );
        let _ = write!(
            body,
            r#"<text x="{PAD}" y="{y}" font-size="14" font-weight="bold" fill="{TEXT}">{}</text>"#,
            esc(heading)
        );
        // Legend: colour and word together.
        y += 8.0;
        let legend = [lang.pick("送付", "Sent"), lang.pick("到達", "Reached")];
        let mut lx = PAD;
        for (i, word) in legend.iter().enumerate() {
            let _ = write!(
                body,
                r#"<rect x="{lx}" y="{y}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="12" fill="{TEXT}">{}</text>"#,
                DAY_COLOURS[i],
                lx + 14.0,
                y + 9.5,
                esc(word)
            );
            lx += 80.0;
        }
        y += 16.0;
        let plot_h = 90.0;
        let max = data
            .days
            .iter()
            .map(|d| d.sent.max(d.reached))
            .max()
            .unwrap_or(0);
        let _ = write!(
            body,
            r#"<text x="{}" y="{}" font-size="10" fill="{MUTED}" text-anchor="end">{}</text>"#,
            WIDTH - PAD,
            y + 8.0,
            esc(&format!("{}{}", lang.pick("最大 ", "max "), grouped(max)))
        );
        y += 12.0;
        let base = y + plot_h;
        #[allow(clippy::cast_precision_loss)]
        let group_w = BAR_W / data.days.len() as f64;
        let bar = (group_w * 0.4).max(0.5);
        // Label every k-th day so that labels (about 30 units wide) do not overlap.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let step = ((32.0 / group_w).ceil() as usize).max(1);
        for (k, d) in data.days.iter().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let gx = PAD + group_w * k as f64;
            for (i, n) in [d.sent, d.reached].into_iter().enumerate() {
                let h = (ratio(n, max) * plot_h * 10.0).round() / 10.0;
                #[allow(clippy::cast_precision_loss)]
                let x = ((gx + group_w * 0.1 + bar * i as f64) * 10.0).round() / 10.0;
                let word = legend[i];
                let _ = write!(
                    body,
                    r#"<rect x="{x}" y="{}" width="{:.1}" height="{h}" fill="{}"><title>{} {}{}{}</title></rect>"#,
                    ((base - h) * 10.0).round() / 10.0,
                    bar,
                    DAY_COLOURS[i],
                    esc(&day_label(d.day)),
                    esc(word),
                    lang.pick("：", ": "),
                    esc(&grouped(n))
                );
            }
            if k % step == 0 {
                let _ = write!(
                    body,
                    r#"<text x="{:.1}" y="{}" font-size="10" fill="{TEXT}" text-anchor="middle">{}</text>"#,
                    gx + group_w / 2.0,
                    base + 12.0,
                    esc(&day_label(d.day))
                );
            }
        }
        let _ = write!(
            body,
            r#"<line x1="{PAD}" y1="{base}" x2="{}" y2="{base}" stroke="{MUTED}" stroke-width="1"/>"#,
            WIDTH - PAD
        );
        y = base + 16.0;
    }
    let height = (y + PAD).ceil();
    let title = if data.caption.trim().is_empty() {
        lang.pick("通知の進み具合", "Notification progress")
            .to_string()
    } else {
        data.caption.trim().to_string()
    };
    let (title, desc) = (esc(&title), esc(&description(data, lang)));
    // Ids unique per content, so two different charts on one page do not share them.
    let id = fnv1a([title.as_bytes(), desc.as_bytes()]);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="funnel-title-{id:08x} funnel-desc-{id:08x}" font-family="sans-serif" lang="{}"><title id="funnel-title-{id:08x}">{title}</title><desc id="funnel-desc-{id:08x}">{desc}</desc><rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>{body}</svg>"##,
        lang.code(),
    )
}

/// 32-bit FNV-1a.
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
