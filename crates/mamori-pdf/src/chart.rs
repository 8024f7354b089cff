//! Radar charts in a PDF (the monthly report of issue 17): drawn as vector paths in shades of
//! grey, told apart by line style (the subject solid and lightly filled, a comparison dashed),
//! two side by side across the page, each with its title, the items' short labels around it
//! and a legend. Values are 0 to 100; a missing one is left out of the polygon, never drawn
//! as 0, and its label is marked 「–」.

use crate::font::FontMetrics;
use crate::layout::{wrap, Op, CONTENT_W, MARGIN_X, MM};

/// One radar chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RadarChart {
    /// Printed above the chart, e.g. 「営業部 82点」.
    pub title: String,
    /// The items' short labels, clockwise from the top.
    pub axes: Vec<String>,
    /// The first series is the subject; the others are comparisons.
    pub series: Vec<RadarSeries>,
}

/// One line of a radar chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RadarSeries {
    /// Named in the legend.
    pub name: String,
    /// One value per axis, 0 to 100; `None`: no value.
    pub values: Vec<Option<f32>>,
}

/// The height of one row of charts.
pub(crate) const ROW_H: f32 = 78.0 * MM;
const RADIUS: f32 = 22.0 * MM;
const LABEL_SIZE: f32 = 6.5;
const TITLE_SIZE: f32 = 9.0;
const GRID: u8 = 0xBB;

fn style(i: usize) -> (u8, f32, Option<(f32, f32)>, Option<u8>) {
    // (grey, width, dash, fill)
    match i {
        0 => (0x10, 1.4, None, Some(0xD8)),
        1 => (0x55, 1.0, Some((3.0, 2.0)), None),
        _ => (0x88, 1.0, Some((1.0, 1.5)), None),
    }
}

fn clamp(v: Option<f32>) -> Option<f32> {
    v.filter(|v| v.is_finite()).map(|v| v.clamp(0.0, 100.0))
}

/// The drawing operations of one row (up to two charts) whose top is at `top`.
pub(crate) fn row_ops(m: &FontMetrics, charts: &[RadarChart], top: f32) -> Vec<Op> {
    let mut ops = Vec::new();
    let cell_w = CONTENT_W / 2.0;
    for (k, chart) in charts.iter().take(2).enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let left = MARGIN_X + cell_w * k as f32;
        // The title, on one line (cut by the wrap to the cell's width).
        if let Some(line) = wrap(m, &chart.title, TITLE_SIZE, cell_w - 4.0)
            .into_iter()
            .next()
        {
            ops.push(line.place(left, top + TITLE_SIZE, TITLE_SIZE, 0, true));
        }
        let cx = left + cell_w / 2.0;
        let cy = top + 6.0 * MM + RADIUS + 9.0 * MM;
        let n = chart.axes.len().max(1);
        #[allow(clippy::cast_precision_loss)]
        let angle =
            |i: usize| -std::f32::consts::FRAC_PI_2 + std::f32::consts::TAU * i as f32 / n as f32;
        let at = |i: usize, v: f32| {
            let a = angle(i);
            (
                cx + RADIUS * v / 100.0 * a.cos(),
                cy + RADIUS * v / 100.0 * a.sin(),
            )
        };
        for ring in [25.0, 50.0, 75.0, 100.0] {
            ops.push(Op::Path {
                points: (0..n).map(|i| at(i, ring)).collect(),
                closed: true,
                width: 0.4,
                gray: GRID,
                dash: None,
                fill: None,
            });
        }
        for (i, label) in chart.axes.iter().enumerate() {
            let (x, y) = at(i, 100.0);
            ops.push(Op::Line {
                x1: cx,
                y1: cy,
                x2: x,
                y2: y,
                width: 0.4,
                gray: GRID,
            });
            let a = angle(i);
            let missing = chart
                .series
                .first()
                .is_none_or(|s| clamp(s.values.get(i).copied().flatten()).is_none());
            let text = if missing {
                format!("{label} –")
            } else {
                label.clone()
            };
            if let Some(line) = wrap(m, &text, LABEL_SIZE, 24.0 * MM).into_iter().next() {
                let w = line.width;
                let lx = cx + (RADIUS + 2.0 * MM) * a.cos();
                let ly = cy + (RADIUS + 2.0 * MM) * a.sin();
                let x = if a.cos() > 0.1 {
                    lx
                } else if a.cos() < -0.1 {
                    lx - w
                } else {
                    lx - w / 2.0
                };
                let y = if a.sin() > 0.5 {
                    ly + LABEL_SIZE
                } else if a.sin() < -0.5 {
                    ly - 1.0
                } else {
                    ly + LABEL_SIZE / 2.5
                };
                ops.push(line.place(x, y, LABEL_SIZE, 0x22, false));
            }
        }
        for (si, s) in chart.series.iter().enumerate().rev() {
            let points: Vec<(f32, f32)> = s
                .values
                .iter()
                .enumerate()
                .take(n)
                .filter_map(|(i, v)| clamp(*v).map(|v| at(i, v)))
                .collect();
            if points.is_empty() {
                continue;
            }
            let (gray, width, dash, fill) = style(si);
            ops.push(Op::Path {
                points,
                closed: true,
                width,
                gray,
                dash,
                fill,
            });
        }
        // The legend under the chart.
        let mut lx = left + 4.0 * MM;
        let ly = cy + RADIUS + 9.0 * MM;
        for (si, s) in chart.series.iter().enumerate() {
            let (gray, width, dash, _) = style(si);
            ops.push(Op::Path {
                points: vec![(lx, ly - 2.0), (lx + 8.0 * MM, ly - 2.0)],
                closed: false,
                width,
                gray,
                dash,
                fill: None,
            });
            if let Some(line) = wrap(m, &s.name, LABEL_SIZE, 30.0 * MM).into_iter().next() {
                let w = line.width;
                ops.push(line.place(lx + 9.5 * MM, ly, LABEL_SIZE, 0x22, false));
                lx += 9.5 * MM + w + 5.0 * MM;
            }
        }
    }
    ops
}
