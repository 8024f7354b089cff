//! The funnel SVG: well-formed XML, accessible (role, title, description in the reader's
//! language), every number printed, zero and huge values, escaping, contrast, no script and no
//! external references.

use chrono::NaiveDate;
use mamori_domain::lang::Lang;
use mamori_web::chart::{
    funnel_svg, grouped, ChannelFunnel, DayCount, FunnelData, DAY_COLOURS, STAGE_COLOURS,
};
use quick_xml::events::Event;
use quick_xml::Reader;
use quick_xml::XmlVersion;

fn sample() -> FunnelData {
    FunnelData {
        caption: "漏えい通知 2026-12".into(),
        post: ChannelFunnel {
            queued: 1200,
            sent: 1150,
            delivered: 1100,
            returned: 37,
            reached: 1063,
        },
        email: ChannelFunnel {
            queued: 5400,
            sent: 5400,
            delivered: 5210,
            returned: 190,
            reached: 4888,
        },
        phone: ChannelFunnel {
            queued: 80,
            sent: 75,
            delivered: 60,
            returned: 15,
            reached: 58,
        },
        days: (1..=10)
            .map(|d| DayCount {
                day: NaiveDate::from_ymd_opt(2026, 12, d).unwrap(),
                sent: u64::from(d) * 100,
                reached: u64::from(d) * 90,
            })
            .collect(),
    }
}

/// What a parse found: element names in order, `element.attribute` → value pairs, and the
/// text content (entities resolved), one text node per line.
struct Parsed {
    names: Vec<String>,
    attrs: Vec<(String, String)>,
    text: String,
}

/// Parses the whole document strictly: one root, every element closed, known entities only.
fn parse(svg: &str) -> Parsed {
    let mut reader = Reader::from_str(svg);
    let mut p = Parsed {
        names: Vec::new(),
        attrs: Vec::new(),
        text: String::new(),
    };
    let mut open: Vec<String> = Vec::new();
    let mut roots = 0;
    loop {
        let event = reader.read_event().expect("well-formed XML");
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                if open.is_empty() {
                    roots += 1;
                }
                for a in e.attributes() {
                    let a = a.expect("well-formed attribute");
                    let key = a.key.as_ref().to_string();
                    let value = a
                        .normalized_value(XmlVersion::Implicit1_0)
                        .expect("known entities")
                        .into_owned();
                    p.attrs.push((format!("{name}.{key}"), value));
                }
                p.names.push(name.clone());
                if matches!(event, Event::Start(_)) {
                    open.push(name);
                }
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_string();
                assert_eq!(open.pop().as_deref(), Some(name.as_str()));
                p.text.push('\n');
            }
            Event::Text(t) => p.text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if let Some(c) = r.resolve_char_ref().expect("valid character reference") {
                    p.text.push(c);
                } else {
                    let c = match r.xml10_content().as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("unknown entity &{other};"),
                    };
                    p.text.push(c);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(open.is_empty(), "unclosed {open:?}");
    assert_eq!(roots, 1);
    p
}

fn attr<'a>(p: &'a Parsed, key: &str) -> Vec<&'a str> {
    p.attrs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// WCAG relative luminance contrast of `#rrggbb` against white.
fn contrast_on_white(hex: &str) -> f64 {
    let h = hex.trim_start_matches('#');
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&h[i..i + 2], 16).unwrap()) / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    1.05 / (l + 0.05)
}

#[test]
fn well_formed_accessible_and_all_numbers_present() {
    for lang in [Lang::Ja, Lang::En] {
        let svg = funnel_svg(&sample(), lang);
        let p = parse(&svg);
        assert_eq!(p.names[0], "svg");
        assert_eq!(attr(&p, "svg.role"), ["img"]);
        assert_eq!(attr(&p, "svg.lang"), [lang.code()]);
        assert_eq!(attr(&p, "svg.viewBox")[0].split(' ').nth(2), Some("390"));
        let labelled_by = attr(&p, "svg.aria-labelledby")[0].to_string();
        let ids: Vec<&str> = labelled_by.split(' ').collect();
        assert_eq!(ids.len(), 2);
        assert!(ids[0].starts_with("funnel-title-") && ids[1].starts_with("funnel-desc-"));
        assert_eq!(attr(&p, "title.id"), [ids[0]]);
        assert_eq!(attr(&p, "desc.id"), [ids[1]]);
        for n in [
            "1,200", "1,150", "1,100", "37", "1,063", "5,400", "5,210", "190", "4,888", "80", "75",
            "58", "1,000", "900",
        ] {
            assert!(p.text.contains(n), "{lang:?} {n}");
        }
        // Shares of the queued ones.
        assert!(p.text.contains("95.8%"), "{lang:?}");
        // Nothing is drawn outside the 390-wide box.
        for key in ["rect.x", "text.x", "line.x2"] {
            for v in attr(&p, key) {
                let x: f64 = v.parse().unwrap();
                assert!((0.0..=390.0).contains(&x), "{key}={x}");
            }
        }
        for (x, w) in attr(&p, "rect.x").iter().zip(attr(&p, "rect.width")) {
            let (x, w): (f64, f64) = (x.parse().unwrap(), w.parse().unwrap());
            assert!(w >= 0.0 && x + w <= 390.0 + 1e-9, "{x}+{w}");
        }
    }
    let ja = parse(&funnel_svg(&sample(), Lang::Ja));
    let desc = ja.text.lines().nth(1).unwrap().to_string();
    assert!(
        desc.starts_with("郵送（封書）：送付待ち 1,200件、送付済み 1,150件"),
        "{desc}"
    );
    assert!(
        desc.contains("メール：") && desc.contains("不達 190件"),
        "{desc}"
    );
    assert!(desc.contains("12/10は送付1,000件・到達900件"), "{desc}");
    let en = parse(&funnel_svg(&sample(), Lang::En));
    let desc = en.text.lines().nth(1).unwrap().to_string();
    assert!(
        desc.starts_with("Post (letters): queued 1,200, sent 1,150"),
        "{desc}"
    );
    assert!(
        desc.contains("E-mail: ") && desc.contains("bounced 190"),
        "{desc}"
    );
    assert!(
        desc.contains("Per day (JST): 12/1 sent 100, reached 90"),
        "{desc}"
    );
    assert!(
        !en.text.contains("送付"),
        "English chart with Japanese words"
    );
    // Two different charts on one page have different ids.
    let id = |svg: &str| attr(&parse(svg), "title.id")[0].to_string();
    assert_ne!(
        id(&funnel_svg(&sample(), Lang::Ja)),
        id(&funnel_svg(&FunnelData::default(), Lang::Ja))
    );
}

#[test]
fn no_script_no_external_references_and_enough_contrast() {
    let svg = funnel_svg(&sample(), Lang::Ja);
    let p = parse(&svg);
    for bad in [
        "script",
        "foreignObject",
        "image",
        "use",
        "a",
        "style",
        "link",
    ] {
        assert!(!p.names.iter().any(|n| n == bad), "<{bad}>");
    }
    for (k, v) in p.attrs.iter().filter(|(k, _)| k != "svg.xmlns") {
        assert!(!k.contains("href") && !k.contains(".on"), "{k}");
        assert!(
            !v.contains("url(") && !v.contains("http:") && !v.contains("//"),
            "{k}={v}"
        );
    }
    // Only the SVG namespace declaration names a URI.
    assert_eq!(svg.matches("http").count(), 1);
    for c in attr(&p, "text.fill") {
        assert!(
            contrast_on_white(c) >= 4.5,
            "text {c}: {}",
            contrast_on_white(c)
        );
    }
    for c in STAGE_COLOURS.iter().chain(DAY_COLOURS.iter()) {
        assert!(
            contrast_on_white(c) >= 3.0,
            "bar {c}: {}",
            contrast_on_white(c)
        );
    }
    // Every coloured bar carries its own title.
    let coloured = attr(&p, "rect.fill")
        .into_iter()
        .filter(|f| STAGE_COLOURS.contains(f) || DAY_COLOURS.contains(f))
        .count();
    // 15 stage bars, 2 × 10 day bars, 2 legend swatches (next to their words).
    assert_eq!(coloured, 15 + 20 + 2);
    assert_eq!(attr(&p, "title.id").len(), 1);
    assert_eq!(
        p.names.iter().filter(|n| *n == "title").count(),
        1 + 15 + 20
    );
}

#[test]
fn zero_values_draw_empty_bars_without_shares() {
    let zero = FunnelData::default();
    for lang in [Lang::Ja, Lang::En] {
        let svg = funnel_svg(&zero, lang);
        let p = parse(&svg);
        assert!(!p.text.contains('%'), "no share of nothing: {}", p.text);
        assert!(!p.text.contains("NaN") && !svg.contains("NaN") && !svg.contains("inf"));
        assert!(p
            .text
            .contains(lang.pick("通知の進み具合", "Notification progress")));
        for w in attr(&p, "rect.width") {
            let w: f64 = w.parse().unwrap();
            assert!(w.is_finite() && w >= 0.0);
        }
        // No per-day section without days.
        assert!(!p.text.contains(lang.pick("日別", "per day")));
    }
    // Queued zero but others not (inconsistent input): no share, no panic, bars within bounds.
    let odd = FunnelData {
        post: ChannelFunnel {
            queued: 0,
            sent: 5,
            delivered: 0,
            returned: 0,
            reached: 9,
        },
        days: vec![DayCount {
            day: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            sent: 0,
            reached: 0,
        }],
        ..FunnelData::default()
    };
    let p = parse(&funnel_svg(&odd, Lang::En));
    assert!(p.text.contains("12/7"));
    assert!(!p.text.contains('%'));
}

#[test]
fn very_large_numbers_are_printed_in_full() {
    let big = u64::MAX;
    let data = FunnelData {
        email: ChannelFunnel {
            queued: big,
            sent: big,
            delivered: big / 2,
            returned: 1,
            reached: big - 1,
        },
        days: (0..400)
            .map(|i| DayCount {
                day: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(i),
                sent: big,
                reached: big / 3,
            })
            .collect(),
        ..FunnelData::default()
    };
    let svg = funnel_svg(&data, Lang::En);
    let p = parse(&svg);
    assert_eq!(grouped(big), "18,446,744,073,709,551,615");
    assert!(p.text.contains("18,446,744,073,709,551,615 (100.0%)"));
    assert!(p.text.contains("9,223,372,036,854,775,807 (50.0%)"));
    assert!(p.text.contains("1 (0.0%)"));
    for (x, w) in attr(&p, "rect.x").iter().zip(attr(&p, "rect.width")) {
        let (x, w): (f64, f64) = (x.parse().unwrap(), w.parse().unwrap());
        assert!(w.is_finite() && x + w <= 390.0 + 1e-6, "{x}+{w}");
    }
    assert_eq!(grouped(0), "0");
    assert_eq!(grouped(999), "999");
    assert_eq!(grouped(1000), "1,000");
}

#[test]
fn the_caption_is_escaped() {
    let data = FunnelData {
        caption: "<script>alert('x')</script> & \"通知\" \u{1}".into(),
        ..sample()
    };
    let svg = funnel_svg(&data, Lang::Ja);
    assert!(!svg.contains("<script"));
    let p = parse(&svg);
    assert!(!p.names.iter().any(|n| n == "script"));
    let title = p.text.lines().next().unwrap();
    assert_eq!(title, "<script>alert('x')</script> & \"通知\" \u{FFFD}");
}
