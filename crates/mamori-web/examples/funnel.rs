//! Writes a sample funnel chart: `cargo run -p mamori-web --example funnel -- ja > funnel.svg`.

use chrono::NaiveDate;
use mamori_domain::lang::Lang;
use mamori_web::chart::{funnel_svg, ChannelFunnel, DayCount, FunnelData};

fn main() {
    let lang = std::env::args()
        .nth(1)
        .and_then(|a| Lang::parse(&a))
        .unwrap_or_default();
    let data = FunnelData {
        caption: String::new(),
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
        days: (1..=14)
            .filter_map(|d| {
                Some(DayCount {
                    day: NaiveDate::from_ymd_opt(2026, 12, d)?,
                    sent: u64::from(d % 5 + 1) * 400,
                    reached: u64::from(d % 5 + 1) * 350,
                })
            })
            .collect(),
    };
    println!("{}", funnel_svg(&data, lang));
}
