//! The SVG of one run (plotters, SVG backend only), three panels:
//! 1. the heap timeline (`timeline.rs`): heap bytes, heap goal, process RSS and the live
//!    set in MiB over the seconds since the churn started, each cycle's phases shaded;
//! 2. below it, on the same time axis, every kept sample (y = stall or gap length in µs,
//!    log scale);
//! 3. at the bottom a histogram of all loop gaps (x = gap length in µs, log scale; y =
//!    count, log scale).
//!
//! # Density
//! A run can keep up to a million gaps per thread. When a series has more than
//! [`MAX_POINTS`] samples the timeline keeps, per pixel column, only the longest one: the
//! picture of the worst stalls is unchanged and the file stays small. The CSV has them all.

use std::path::Path;

use plotters::prelude::*;

use crate::outcome::RunOutcome;
use crate::probe::{Durations, Kind, Sample};
use crate::timeline::Point;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 1200;
/// Height of the heap panel; the other two share the rest.
const HEAP_HEIGHT: u32 = 400;
/// Timeline points per line above which the heap panel draws every k-th.
const MAX_LINE_POINTS: usize = 2_000;
/// Points per series above which the timeline thins to one point per pixel column.
const MAX_POINTS: usize = 5_000;

/// Draws `DIR/<runtime>.svg`.
pub(crate) fn draw(o: &RunOutcome, path: &Path) -> Result<(), String> {
    draw_inner(o, path).map_err(|e| format!("cannot draw {}: {e}", path.display()))
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw_inner(o: &RunOutcome, path: &Path) -> DrawResult {
    let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let (heap_area, rest) = root.split_vertically(HEAP_HEIGHT);
    let (top, bottom) = rest.split_vertically((HEIGHT - HEAP_HEIGHT) / 2);
    heap(o, &heap_area)?;
    timeline(o, &top)?;
    histogram(o.runtime, &o.gaps, &bottom)?;
    root.present()?;
    Ok(())
}

fn thin(points: Vec<(f64, f64)>, x_max: f64) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let cols = WIDTH as usize;
    let mut best: Vec<Option<(f64, f64)>> = vec![None; cols];
    for (x, y) in points {
        let c = ((x / x_max) * (cols - 1) as f64).clamp(0.0, (cols - 1) as f64) as usize;
        if !matches!(best[c], Some((_, by)) if by >= y) {
            best[c] = Some((x, y));
        }
    }
    best.into_iter().flatten().collect()
}

fn series(samples: &[Sample], kind: Kind, x_max: f64) -> Vec<(f64, f64)> {
    let pts = samples
        .iter()
        .filter(|s| s.kind == kind)
        .map(|s| (s.t.as_secs_f64(), (s.dur.as_secs_f64() * 1e6).max(0.1)))
        .collect();
    thin(pts, x_max)
}

fn mib(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

fn heap<DB: DrawingBackend>(
    o: &RunOutcome,
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let tl = &o.timeline;
    let x_max = o.churn_time.as_secs_f64().max(0.001);
    let step = tl.points.len() / MAX_LINE_POINTS + 1;
    let line = |f: fn(&Point) -> Option<u64>| -> Vec<(f64, f64)> {
        tl.points
            .iter()
            .step_by(step)
            .filter_map(|p| f(p).map(|b| (p.t.as_secs_f64(), mib(b))))
            .collect()
    };
    let lines = [
        ("heap in use", line(|p| p.heap_bytes), BLUE.to_rgba()),
        (
            "heap goal",
            line(|p| p.heap_goal_bytes),
            RGBColor(230, 120, 0).to_rgba(),
        ),
        ("process RSS", line(|p| p.rss_bytes), BLACK.to_rgba()),
        (
            "live set",
            line(|p| p.live_bytes),
            RGBColor(0, 150, 0).to_rgba(),
        ),
    ];
    let y_max = lines
        .iter()
        .flat_map(|(_, pts, _)| pts.iter().map(|p| p.1))
        .fold(1.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{} {}: heap over time, {} cycles shaded (live set: {})",
                o.plan.workload.name(),
                o.runtime,
                tl.cycles.len(),
                tl.live_source
            ),
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_desc("time since churn start (s)")
        .y_desc("MiB")
        .draw()?;
    let shades = [
        ("mark", RED.mix(0.15)),
        ("sweep", MAGENTA.mix(0.10)),
        ("mark termination (stw)", RED.mix(0.35)),
        ("sweep termination (stw)", RED.mix(0.35)),
    ];
    let shade_of = |phase: &str| {
        shades
            .iter()
            .find(|(name, _)| *name == phase)
            .map_or(CYAN.mix(0.15), |(_, c)| *c)
    };
    let mut labelled: Vec<&str> = Vec::new();
    for phase in tl.cycles.iter().flat_map(|c| &c.phases) {
        let color = shade_of(&phase.phase);
        let rect = Rectangle::new(
            [(phase.start_ms / 1e3, 0.0), (phase.end_ms / 1e3, y_max)],
            color.filled(),
        );
        let series = chart.draw_series(std::iter::once(rect))?;
        if !labelled.contains(&phase.phase.as_str()) {
            labelled.push(&phase.phase);
            series
                .label(format!("{} phase", phase.phase))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.filled())
                });
        }
    }
    for (label, pts, color) in lines {
        if pts.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 15, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn timeline<DB: DrawingBackend>(
    o: &RunOutcome,
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let x_max = o.churn_time.as_secs_f64().max(0.001);
    let y_max = o
        .samples
        .iter()
        .map(|s| s.dur.as_secs_f64() * 1e6)
        .fold(o.gaps.max().as_secs_f64() * 1e6, f64::max)
        .max(10.0)
        * 2.0;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{}: stalls and loop gaps over time", o.runtime),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..x_max, (0.1f64..y_max).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("time since churn start (s)")
        .y_desc("duration (µs)")
        .y_label_formatter(&|v| format!("{v}"))
        .draw()?;
    let kinds = [
        (Kind::Gap, "loop gap above threshold", BLUE.mix(0.5)),
        (Kind::Pause, "collector pause", RED.mix(0.9)),
        (
            Kind::Assist,
            "assist time per sample (~5 ms)",
            GREEN.mix(0.8),
        ),
    ];
    for (kind, label, color) in kinds {
        let pts = series(&o.samples, kind, x_max);
        if pts.is_empty() {
            continue;
        }
        chart
            .draw_series(
                pts.into_iter()
                    .map(move |p| Circle::new(p, 2, color.filled())),
            )?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn histogram<DB: DrawingBackend>(
    runtime: &str,
    gaps: &Durations,
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let buckets = gaps.buckets();
    let x_max = buckets.last().map_or(10.0, |b| b.1).max(10.0) * 1.5;
    let y_max = buckets.iter().map(|b| b.2).max().unwrap_or(1) as f64 * 2.0;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{runtime}: histogram of all {} loop gaps", gaps.count()),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d((0.1f64..x_max).log_scale(), (0.5f64..y_max).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("gap (µs; 10 bars per decade, the first = under 1 µs)")
        .y_desc("count")
        .x_label_formatter(&|v| format!("{v}"))
        .y_label_formatter(&|v| format!("{v}"))
        .draw()?;
    chart.draw_series(buckets.into_iter().map(|(lo, hi, n)| {
        Rectangle::new([(lo.max(0.1), 0.5), (hi, n as f64)], BLUE.mix(0.6).filled())
    }))?;
    Ok(())
}
