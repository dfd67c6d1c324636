//! The one comparison report, for the harness (`compare.md`, `compare.svg`) and the
//! binary-trees runner (`binary-trees.md`, `binary-trees.svg`): a table with one row per
//! runtime, rendered three ways from the same cells.
//!
//! 1. [`Comparison::text`]: aligned columns for stdout.
//! 2. [`Comparison::markdown`]: the same table in markdown, to embed as it is.
//! 3. [`Comparison::draw`]: one panel of horizontal bars per column that has
//!    [`Bars`], two panels a row (plotters, SVG backend). A column whose positive
//!    values span more than [`LOG_SPAN`] gets a log axis, so a 260 ms stall and a 9 µs
//!    one are both readable; a runtime without the figure shows "n/a" instead of a bar.
//!
//! A runtime that did not run (skipped, failed) is a row whose first cell says why and
//! whose other cells are empty; it has no bars.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

/// Max / min of a column's positive values above which its axis is logarithmic.
pub(crate) const LOG_SPAN: f64 = 20.0;
/// Width of the SVG and height of one row of panels, in pixels.
const WIDTH: u32 = 1000;
const PANEL_HEIGHT: u32 = 300;

/// A column that is also drawn: the figures behind its cells.
#[derive(Clone, Debug)]
pub(crate) struct Bars {
    /// The panel's axis label, with the unit.
    pub(crate) axis: String,
    /// One value per row; `None`: not measured (drawn "n/a").
    pub(crate) values: Vec<Option<f64>>,
}

/// One column: a header and one cell per row, maybe drawn.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub(crate) header: String,
    pub(crate) cells: Vec<String>,
    pub(crate) bars: Option<Bars>,
}

/// A row's runtime, or why it has no figures.
#[derive(Clone, Debug)]
pub(crate) enum Row {
    Ran(String),
    NotRun { runtime: String, why: String },
}

impl Row {
    fn runtime(&self) -> &str {
        match self {
            Row::Ran(r) | Row::NotRun { runtime: r, .. } => r,
        }
    }
}

/// A comparison of runtimes measured in one run.
#[derive(Clone, Debug)]
pub(crate) struct Comparison {
    /// One line: what was run.
    pub(crate) title: String,
    pub(crate) rows: Vec<Row>,
    /// Columns after the runtime's; each has one cell per row (empty for rows not run).
    pub(crate) columns: Vec<Column>,
    /// What the columns mean, one entry a line (a bullet in markdown).
    pub(crate) legend: Vec<String>,
}

impl Comparison {
    /// The header row and every row's cells; a row not run has its reason as its only
    /// figure cell.
    fn cells(&self) -> Vec<Vec<String>> {
        let mut table = vec![std::iter::once("runtime".to_string())
            .chain(self.columns.iter().map(|c| c.header.clone()))
            .collect::<Vec<_>>()];
        for (i, row) in self.rows.iter().enumerate() {
            table.push(match row {
                Row::Ran(r) => std::iter::once(r.clone())
                    .chain(self.columns.iter().map(|c| c.cells[i].clone()))
                    .collect(),
                Row::NotRun { runtime, why } => vec![runtime.clone(), why.clone()],
            });
        }
        table
    }

    /// Aligned columns: the first left-aligned, the rest right-aligned; a row not run
    /// lets its reason run on.
    pub(crate) fn text(&self) -> String {
        let cells = self.cells();
        let columns = cells[0].len();
        let runs_on =
            |row: &Vec<String>, i: usize| i > 0 && i + 1 == row.len() && row.len() < columns;
        let mut widths = vec![0; columns];
        for row in &cells {
            for (i, cell) in row.iter().enumerate().filter(|&(i, _)| !runs_on(row, i)) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = format!("{}\n", self.title);
        for row in &cells {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let _ = if runs_on(row, i) {
                    write!(line, "  {cell}")
                } else if i == 0 {
                    write!(line, "{cell:<w$}", w = widths[0])
                } else {
                    write!(line, "  {cell:>w$}", w = widths[i])
                };
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if !self.legend.is_empty() {
            out.push('\n');
        }
        for l in &self.legend {
            let _ = writeln!(out, "{l}");
        }
        out
    }

    /// The same table in markdown, with the title above and the legend below.
    pub(crate) fn markdown(&self) -> String {
        let cells = self.cells();
        let columns = cells[0].len();
        let line = |row: &[String]| {
            let padded = (0..columns).map(|i| row.get(i).map_or("", String::as_str));
            format!("| {} |\n", padded.collect::<Vec<_>>().join(" | "))
        };
        let mut out = format!("{}\n\n", self.title);
        out.push_str(&line(&cells[0]));
        out.push_str(&format!("|{}\n", "---|".repeat(columns)));
        for row in &cells[1..] {
            out.push_str(&line(row));
        }
        if !self.legend.is_empty() {
            out.push('\n');
            for l in &self.legend {
                let _ = writeln!(out, "- {l}");
            }
        }
        out
    }

    /// Writes the bar chart of every column with bars to `path`.
    pub(crate) fn draw(&self, path: &Path) -> Result<(), String> {
        self.draw_inner(path)
            .map_err(|e| format!("cannot draw {}: {e}", path.display()))
    }

    fn draw_inner(&self, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let panels: Vec<(&Column, &Bars)> = self
            .columns
            .iter()
            .filter_map(|c| c.bars.as_ref().map(|b| (c, b)))
            .collect();
        let rows = panels.len().div_ceil(2).max(1) as u32;
        let root = SVGBackend::new(path, (WIDTH, 40 + rows * PANEL_HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, body) = root.split_vertically(40);
        top.titled(&self.title, ("sans-serif", 18))?;
        let areas = body.split_evenly((rows as usize, 2));
        for ((column, bars), area) in panels.into_iter().zip(areas) {
            panel(&area, column, bars, &self.rows)?;
        }
        root.present()?;
        Ok(())
    }
}

/// Whether a column's positive values span enough for a log axis.
pub(crate) fn wants_log(values: &[Option<f64>]) -> bool {
    let positive = values.iter().flatten().copied().filter(|v| *v > 0.0);
    let (lo, hi) = positive.fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    hi > 0.0 && hi / lo > LOG_SPAN
}

/// A tick label: whole numbers above 100, else at most three decimals.
fn tick(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        let t = format!("{v:.3}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Rows from the top in table order: row `i` of `n` occupies y in `[n-1-i, n-i)`.
fn row_y(i: usize, n: usize) -> f64 {
    (n - 1 - i) as f64
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    column: &Column,
    bars: &Bars,
    rows: &[Row],
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let n = rows.len().max(1);
    let hi = bars.values.iter().flatten().copied().fold(0f64, f64::max);
    let log = wants_log(&bars.values);
    let lo_pos = bars
        .values
        .iter()
        .flatten()
        .copied()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let caption = format!("{}{}", column.header, if log { " (log scale)" } else { "" });
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(caption, ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(80);
    let names: Vec<&str> = rows.iter().map(Row::runtime).collect();
    let label = |y: &f64| {
        let from_top = n as isize - 1 - y.floor() as isize;
        usize::try_from(from_top)
            .ok()
            .and_then(|i| names.get(i))
            .map_or(String::new(), |s| s.to_string())
    };
    let y_range = 0f64..n as f64;
    if log {
        let x = (lo_pos / 2.0)..(hi * 6.0);
        let mut chart = builder.build_cartesian_2d(x.clone().log_scale(), y_range)?;
        mesh(&mut chart, &bars.axis, &label, n)?;
        draw_bars(&mut chart, column, bars, rows, x.start)?;
    } else {
        let x = 0f64..(hi * 1.25).max(1e-9);
        let mut chart = builder.build_cartesian_2d(x.clone(), y_range)?;
        mesh(&mut chart, &bars.axis, &label, n)?;
        draw_bars(&mut chart, column, bars, rows, 0.0)?;
    }
    Ok(())
}

fn mesh<DB, X>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    axis: &str,
    label: &dyn Fn(&f64) -> String,
    n: usize,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(axis)
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y: &f64| {
            // Label each bar at its middle (y = i + 0.5) only.
            if (y.fract() - 0.5).abs() < 1e-6 {
                label(y)
            } else {
                String::new()
            }
        })
        .x_label_formatter(&|v: &f64| tick(*v))
        .draw()?;
    Ok(())
}

/// One bar per row that has the figure, labelled with its cell; "n/a" where the runtime
/// ran without it, "not run" where it did not run.
fn draw_bars<DB, X>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    column: &Column,
    bars: &Bars,
    rows: &[Row],
    base: f64,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
{
    let n = rows.len();
    for (i, (row, v)) in rows.iter().zip(&bars.values).enumerate() {
        let y = row_y(i, n);
        let (end, text) = match (row, v) {
            (Row::NotRun { .. }, _) => (base, "not run".to_string()),
            (Row::Ran(_), None) => (base, "n/a".to_string()),
            (Row::Ran(_), Some(v)) => (v.max(base), column.cells[i].clone()),
        };
        if end > base {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(base, y + 0.2), (end, y + 0.8)],
                Palette99::pick(i).mix(0.8).filled(),
            )))?;
        }
        chart.draw_series(std::iter::once(Text::new(
            format!(" {text}"),
            (end, y + 0.6),
            ("sans-serif", 13),
        )))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Comparison {
        Comparison {
            title: "W2, 64 MiB".into(),
            rows: vec![
                Row::Ran("tricolor".into()),
                Row::Ran("arc".into()),
                Row::NotRun {
                    runtime: "go".into(),
                    why: "skipped: no Go toolchain on PATH".into(),
                },
            ],
            columns: vec![
                Column {
                    header: "Mnodes/s".into(),
                    cells: vec!["28.7".into(), "24.7".into(), String::new()],
                    bars: Some(Bars {
                        axis: "Mnodes/s".into(),
                        values: vec![Some(28.7), Some(24.7), None],
                    }),
                },
                Column {
                    header: "stop p99".into(),
                    cells: vec!["84 us".into(), "260 ms".into(), String::new()],
                    bars: Some(Bars {
                        axis: "µs".into(),
                        values: vec![Some(84.0), Some(260_000.0), None],
                    }),
                },
            ],
            legend: vec!["Mnodes/s: nodes allocated per second.".into()],
        }
    }

    #[test]
    fn text_aligns_and_lets_reasons_run_on() {
        let t = sample().text();
        assert!(t.contains("tricolor      28.7     84 us"), "{t}");
        assert!(
            t.contains("go        skipped: no Go toolchain on PATH"),
            "{t}"
        );
        assert!(
            t.ends_with("Mnodes/s: nodes allocated per second.\n"),
            "{t}"
        );
    }

    #[test]
    fn markdown_has_one_line_per_row_and_padded_cells() {
        let m = sample().markdown();
        assert!(
            m.contains("| runtime | Mnodes/s | stop p99 |\n|---|---|---|\n"),
            "{m}"
        );
        assert!(m.contains("| arc | 24.7 | 260 ms |\n"), "{m}");
        assert!(
            m.contains("| go | skipped: no Go toolchain on PATH |  |\n"),
            "{m}"
        );
    }

    #[test]
    fn wide_ranges_get_a_log_axis() {
        assert!(wants_log(&[Some(9.0), Some(260_000.0), None]));
        assert!(!wants_log(&[Some(10.0), Some(30.0)]));
        assert!(!wants_log(&[None, Some(0.0)]));
    }

    #[test]
    fn draws_an_svg_with_every_runtime() {
        let path = std::env::temp_dir().join(format!("compare-test-{}.svg", std::process::id()));
        sample().draw(&path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        for needle in [
            "<svg",
            "tricolor",
            "arc",
            "go",
            "not run",
            "260 ms",
            "log scale",
        ] {
            assert!(svg.contains(needle), "SVG lacks {needle}");
        }
    }
}
