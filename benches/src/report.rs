//! What a run leaves behind: the human report on stdout, `<runtime>.csv` (raw samples),
//! `<runtime>.timeline.csv` and `.cycles.csv` (`timeline.rs`), `<runtime>.json` (the
//! [`Summary`]), `<runtime>.svg` (`plot.rs`) and, from more than one runtime, the rows of
//! the comparison (`compare.rs` renders them).
//!
//! The JSON goes through serde/serde_json: both are already in the lock file (criterion
//! uses them), the summary has optional fields that must come out as `null` ("n/a", not
//! zero), and `children.rs` reads the children's summaries back with the same types.
//!
//! Honesty rules:
//! 1. A figure the runtime does not expose is `None`, printed "n/a" and written `null`.
//! 2. A runtime that exposes collector stalls but had none prints a count of 0, not "n/a".
//! 3. Every percentile is the histogram's upper bound of the rank's value (see `probe.rs`:
//!    at most 0.1% high), so it never understates; maxima are exact.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::compare::{Bars, Column, Comparison, Row};
use crate::outcome::RunOutcome;
use crate::probe::{Durations, Kind};
use crate::timeline::TimelineSummary;

/// Percentiles of one kind of stall, in microseconds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Dist {
    pub(crate) count: u64,
    pub(crate) p50_us: Option<f64>,
    pub(crate) p90_us: Option<f64>,
    pub(crate) p99_us: Option<f64>,
    pub(crate) max_us: Option<f64>,
}

impl Dist {
    /// The percentiles of `h`.
    pub(crate) fn of(h: &Durations) -> Dist {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        Dist {
            count: h.count(),
            p50_us: h.percentile(0.50).map(us),
            p90_us: h.percentile(0.90).map(us),
            p99_us: h.percentile(0.99).map(us),
            max_us: (h.count() > 0).then(|| us(h.max())),
        }
    }
}

/// The JSON summary of one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Summary {
    pub(crate) runtime: String,
    /// The churn workload: `W2` or `W3`.
    pub(crate) workload: String,
    /// A peer program's runtime version (`go1.19.8`), else `null`.
    pub(crate) version: Option<String>,
    pub(crate) threads: usize,
    pub(crate) live_mib: u64,
    pub(crate) live_nodes: u64,
    /// Bytes per node the live set was sized with (an estimate, see each runtime's docs).
    pub(crate) est_node_bytes: usize,
    /// RSS growth while building the live set: the measured counterpart of the estimate.
    pub(crate) build_rss_mib: Option<f64>,
    pub(crate) build_s: f64,
    pub(crate) churn_s: f64,
    pub(crate) nodes_allocated: u64,
    pub(crate) iterations: u64,
    pub(crate) replaced_trees: u64,
    pub(crate) alloc_rate_mnodes_s: f64,
    /// Loop gaps of all mutator threads.
    pub(crate) gap: Dist,
    pub(crate) max_gap_per_thread_us: Vec<f64>,
    /// Where this runtime's collector stalls come from.
    pub(crate) stalls_source: String,
    /// Collector stop-the-world stalls; `null` when the runtime exposes none.
    pub(crate) pause: Option<Dist>,
    /// Assist time per sampler interval; `null` when the runtime reports no assists.
    pub(crate) assist: Option<Dist>,
    pub(crate) cycles: Option<u64>,
    pub(crate) heap_goal_mib: Option<f64>,
    pub(crate) heap_mib: Option<f64>,
    pub(crate) assist_ms: Option<f64>,
    pub(crate) mark_ms: Option<f64>,
    pub(crate) sweep_ms: Option<f64>,
    /// Objects freed because their count reached zero, without tracing; `null` when the
    /// runtime does not count them (only tricolor does).
    pub(crate) freed_by_counts: Option<u64>,
    /// Objects freed by the collector's cycles (tracing): every object the run allocated
    /// (live set and churn) that is neither in the heap at the end nor freed by counts;
    /// `null` unless the runtime reports its heap's objects and its count-zero frees.
    pub(crate) freed_by_cycles: Option<u64>,
    pub(crate) peak_rss_mib: Option<f64>,
    pub(crate) raw_samples: usize,
    pub(crate) dropped_samples: u64,
    /// The heap timeline's summary, with every cycle and its phases.
    pub(crate) timeline: TimelineSummary,
}

fn mib(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl Summary {
    /// The summary of a run on a `live_mib` live set.
    pub(crate) fn of(o: &RunOutcome, live_mib: u64) -> Summary {
        let hist_of = |kind: Kind| {
            let mut h = Durations::default();
            o.samples
                .iter()
                .filter(|s| s.kind == kind)
                .for_each(|s| h.record(s.dur));
            h
        };
        let c = &o.counters;
        let allocated = o.plan.live_nodes() + o.nodes_allocated;
        let freed_by_cycles = c
            .heap_objects
            .zip(c.freed_by_counts)
            .and_then(|(heap, counts)| allocated.checked_sub(heap + counts));
        Summary {
            runtime: o.runtime.to_string(),
            workload: o.plan.workload.name().to_string(),
            version: o.version.clone(),
            threads: o.threads,
            live_mib,
            live_nodes: o.plan.live_nodes(),
            est_node_bytes: o.plan.est_node_bytes,
            build_rss_mib: o.build_rss_bytes.map(mib),
            build_s: o.build_time.as_secs_f64(),
            churn_s: o.churn_time.as_secs_f64(),
            nodes_allocated: o.nodes_allocated,
            iterations: o.iterations,
            replaced_trees: o.replaced,
            alloc_rate_mnodes_s: o.nodes_allocated as f64 / o.churn_time.as_secs_f64() / 1e6,
            gap: Dist::of(&o.gaps),
            max_gap_per_thread_us: o
                .max_gap_per_thread
                .iter()
                .map(|d| d.as_secs_f64() * 1e6)
                .collect(),
            stalls_source: o.stalls_note.to_string(),
            pause: o.stalls_observed.then(|| Dist::of(&hist_of(Kind::Pause))),
            assist: c.assist_time.map(|_| Dist::of(&hist_of(Kind::Assist))),
            cycles: c.cycles,
            heap_goal_mib: c.heap_goal_bytes.map(mib),
            heap_mib: c.heap_bytes.map(mib),
            assist_ms: c.assist_time.map(ms),
            mark_ms: c.mark_time.map(ms),
            sweep_ms: c.sweep_time.map(ms),
            freed_by_counts: c.freed_by_counts,
            freed_by_cycles,
            peak_rss_mib: o.peak_rss_bytes.map(mib),
            raw_samples: o.samples.len(),
            dropped_samples: o.dropped_samples,
            timeline: o.timeline.summary(),
        }
    }
}

/// Output file paths of a runtime under `--out`.
#[derive(Debug)]
pub(crate) struct Paths {
    pub(crate) csv: PathBuf,
    pub(crate) timeline_csv: PathBuf,
    pub(crate) cycles_csv: PathBuf,
    pub(crate) json: PathBuf,
    pub(crate) svg: PathBuf,
}

impl Paths {
    /// The files of `runtime` under `out`.
    pub(crate) fn new(out: &Path, runtime: &str) -> Paths {
        Paths {
            csv: out.join(format!("{runtime}.csv")),
            timeline_csv: out.join(format!("{runtime}.timeline.csv")),
            cycles_csv: out.join(format!("{runtime}.cycles.csv")),
            json: out.join(format!("{runtime}.json")),
            svg: out.join(format!("{runtime}.svg")),
        }
    }

    /// Every file, in the order the report lists them.
    pub(crate) fn all(&self) -> Vec<PathBuf> {
        [
            &self.csv,
            &self.timeline_csv,
            &self.cycles_csv,
            &self.json,
            &self.svg,
        ]
        .map(Clone::clone)
        .to_vec()
    }
}

/// Writes every file of a run: the CSVs, the JSON and the SVG.
pub(crate) fn write_all(o: &RunOutcome, s: &Summary, paths: &Paths) -> Result<(), String> {
    let io = |path: &Path, r: io::Result<()>| {
        r.map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    io(&paths.csv, write_csv(o, &paths.csv))?;
    io(
        &paths.timeline_csv,
        o.timeline.write_points(&paths.timeline_csv),
    )?;
    io(
        &paths.cycles_csv,
        o.timeline.write_cycles(&paths.cycles_csv),
    )?;
    io(&paths.json, write_json(s, &paths.json))?;
    crate::plot::draw(o, &paths.svg)
}

/// Writes the raw samples: `kind,thread,t_ms,duration_us` (thread empty for process-wide
/// collector stalls), sorted by time.
fn write_csv(o: &RunOutcome, path: &Path) -> io::Result<()> {
    let mut w = BufWriter::new(fs::File::create(path)?);
    writeln!(w, "kind,thread,t_ms,duration_us")?;
    for s in &o.samples {
        let thread = s.thread.map(|t| t.to_string()).unwrap_or_default();
        writeln!(
            w,
            "{},{},{:.3},{:.3}",
            s.kind.as_str(),
            thread,
            s.t.as_secs_f64() * 1e3,
            s.dur.as_secs_f64() * 1e6
        )?;
    }
    w.flush()
}

fn write_json(s: &Summary, path: &Path) -> io::Result<()> {
    let text = serde_json::to_string_pretty(s).map_err(io::Error::other)?;
    fs::write(path, text + "\n")
}

/// Reads a summary written by [`write_json`] (a child's, in `--runtime all`).
pub(crate) fn read_json(path: &Path) -> Result<Summary, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not a summary: {e}", path.display()))
}

/// A duration given in microseconds, with a readable unit.
pub(crate) fn fmt_us(us: f64) -> String {
    if us < 1.0 {
        format!("{:.0} ns", us * 1e3)
    } else if us < 1e3 {
        // Three significant digits, trailing zeros dropped.
        let v = if us < 10.0 {
            format!("{us:.2}")
        } else if us < 100.0 {
            format!("{us:.1}")
        } else {
            format!("{us:.0}")
        };
        let v = if v.contains('.') {
            v.trim_end_matches('0').trim_end_matches('.')
        } else {
            &v
        };
        format!("{v} us")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

fn opt_us(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), fmt_us)
}

fn dist_line(d: &Dist) -> String {
    if d.count == 0 {
        return "0 recorded".to_string();
    }
    format!(
        "{} recorded  p50 {}  p90 {}  p99 {}  max {}",
        d.count,
        opt_us(d.p50_us),
        opt_us(d.p90_us),
        opt_us(d.p99_us),
        opt_us(d.max_us)
    )
}

fn na<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "n/a".to_string(), f)
}

/// The human report of one run.
pub(crate) fn text(s: &Summary) -> String {
    let mut t = String::new();
    let threads = if s.threads == 1 { "thread" } else { "threads" };
    let version = s
        .version
        .as_ref()
        .map_or(String::new(), |v| format!(" ({v})"));
    let _ = writeln!(
        t,
        "tricolor-gc-bench: workload {}, runtime {}{version}, {} mutator {threads}, live set {} MiB",
        s.workload, s.runtime, s.threads, s.live_mib
    );
    let _ = writeln!(
        t,
        "  live set      {} nodes at an estimated {} B/node; RSS grew {} while building ({})",
        s.live_nodes,
        s.est_node_bytes,
        na(s.build_rss_mib, |m| format!("{m:.1} MiB")),
        na(s.build_rss_mib, |m| format!(
            "{:.0} B/node measured",
            m * (1u64 << 20) as f64 / s.live_nodes.max(1) as f64
        )),
    );
    let _ = writeln!(t, "  build         {:.2} s", s.build_s);
    let _ = writeln!(
        t,
        "  churn         {:.2} s, {} iterations, {} live trees replaced",
        s.churn_s, s.iterations, s.replaced_trees
    );
    let _ = writeln!(
        t,
        "  allocation    {:.1} M nodes, {:.2} Mnodes/s",
        s.nodes_allocated as f64 / 1e6,
        s.alloc_rate_mnodes_s
    );
    let _ = writeln!(t, "  loop gaps     {}", dist_line(&s.gap));
    let per_thread: Vec<String> = s.max_gap_per_thread_us.iter().map(|&u| fmt_us(u)).collect();
    let _ = writeln!(t, "  max loop gap  {} per thread", per_thread.join(", "));
    let _ = writeln!(t, "  stalls from   {}", s.stalls_source);
    let _ = writeln!(t, "  pauses        {}", na(s.pause.as_ref(), dist_line));
    let _ = writeln!(t, "  assists       {}", na(s.assist.as_ref(), dist_line));
    let _ = writeln!(t, "  cycles        {}", na(s.cycles, |c| c.to_string()));
    let _ = writeln!(
        t,
        "  heap goal     {}",
        na(s.heap_goal_mib, |m| format!("{m:.1} MiB"))
    );
    let _ = writeln!(
        t,
        "  mark / sweep  {} / {}",
        na(s.mark_ms, |m| format!("{m:.1} ms")),
        na(s.sweep_ms, |m| format!("{m:.1} ms"))
    );
    let _ = writeln!(
        t,
        "  freed         {}",
        na(
            s.freed_by_counts.zip(s.freed_by_cycles),
            |(counts, cycles)| format!(
                "{counts} objects by counts (no tracing), {cycles} by cycles (tracing)"
            )
        )
    );
    let _ = writeln!(
        t,
        "  assist total  {}",
        na(s.assist_ms, |m| format!("{m:.1} ms"))
    );
    let _ = writeln!(
        t,
        "  peak RSS      {}",
        na(s.peak_rss_mib, |m| format!("{m:.1} MiB"))
    );
    let tl = &s.timeline;
    let _ = writeln!(
        t,
        "  timeline      {} samples (every {} on average), {} cycles shown, peak heap {}",
        tl.samples,
        na(tl.interval_ms, |ms| format!("{ms:.1} ms")),
        tl.cycles.len(),
        na(tl.peak_heap_mib, |m| format!("{m:.1} MiB"))
    );
    if s.dropped_samples > 0 {
        let _ = writeln!(
            t,
            "  note          {} gaps above the threshold were counted but not kept",
            s.dropped_samples
        );
    }
    t
}

/// What became of one runtime of a multi-runtime run.
#[derive(Debug)]
pub(crate) enum Outcome {
    Ran(Box<Summary>),
    Skipped(String),
    Failed(String),
}

/// The comparison of a multi-runtime run (`compare.md`, `compare.svg`, and stdout): the
/// four figures DESIGN §10's W2 and W3 targets are about, drawn, and the rest as text;
/// `title` names the workload.
pub(crate) fn comparison(title: String, runs: &[(String, Outcome)]) -> Comparison {
    let ran = |f: &dyn Fn(&Summary) -> Option<f64>| -> Vec<Option<f64>> {
        runs.iter()
            .map(|(_, o)| match o {
                Outcome::Ran(s) => f(s),
                _ => None,
            })
            .collect()
    };
    let cells = |values: &[Option<f64>], fmt: &dyn Fn(f64) -> String| -> Vec<String> {
        values
            .iter()
            .zip(runs)
            .map(|(v, (_, o))| match o {
                Outcome::Ran(_) => v.map_or_else(|| "n/a".to_string(), fmt),
                _ => String::new(),
            })
            .collect()
    };
    let column = |header: &str,
                  axis: Option<&str>,
                  values: Vec<Option<f64>>,
                  fmt: &dyn Fn(f64) -> String| Column {
        header: header.to_string(),
        cells: cells(&values, fmt),
        bars: axis.map(|axis| Bars {
            axis: axis.to_string(),
            values,
        }),
    };
    // A runtime that exposes stalls but had none has a p99 of "none", not "n/a".
    let stall = |pick: fn(&Dist) -> Option<f64>| {
        move |s: &Summary| s.pause.as_ref().map(|d| pick(d).unwrap_or(0.0))
    };
    let us = |u: f64| {
        if u == 0.0 {
            "none".to_string()
        } else {
            fmt_us(u)
        }
    };
    let columns = vec![
        column(
            "Mnodes/s",
            Some("allocation rate (Mnodes/s; higher is better)"),
            ran(&|s| Some(s.alloc_rate_mnodes_s)),
            &|v| format!("{v:.2}"),
        ),
        column("peak RSS", None, ran(&|s| s.peak_rss_mib), &|m| {
            format!("{m:.0} MiB")
        }),
        column(
            "RSS / live",
            Some("peak RSS over the live set (lower is better)"),
            ran(&|s| s.peak_rss_mib.map(|m| m / s.live_mib as f64)),
            &|r| format!("{r:.2}"),
        ),
        column(
            "max gap",
            Some("longest mutator gap (µs; lower is better)"),
            ran(&|s| s.gap.max_us),
            &fmt_us,
        ),
        column("p99 gap", None, ran(&|s| s.gap.p99_us), &fmt_us),
        column(
            "stop p99",
            Some("p99 of the collector's stops (µs; lower is better)"),
            ran(&stall(|d| d.p99_us)),
            &us,
        ),
        column("stop max", None, ran(&stall(|d| d.max_us)), &us),
        column("cycles", None, ran(&|s| s.cycles.map(|c| c as f64)), &|c| {
            format!("{c:.0}")
        }),
    ];
    let rows = runs
        .iter()
        .map(|(runtime, o)| match o {
            Outcome::Ran(_) => Row::Ran(runtime.clone()),
            Outcome::Skipped(why) => Row::NotRun {
                runtime: runtime.clone(),
                why: format!("skipped: {why}"),
            },
            Outcome::Failed(why) => Row::NotRun {
                runtime: runtime.clone(),
                why: format!("FAILED: {why}"),
            },
        })
        .collect();
    Comparison {
        title,
        rows,
        columns,
        legend: vec![
            "Mnodes/s: tree nodes allocated per second of churn, all mutator threads.".into(),
            "peak RSS: VmHWM of the runtime's process; RSS / live: over the --live-mib live set."
                .into(),
            "max gap, p99 gap: gaps between loop iterations as the mutator saw them.".into(),
            "stop p99, stop max: the collector's own stalls (n/a: the runtime reports none; \
             none: it reports them and had none)."
                .into(),
            "Percentiles are upper bounds at most 0.1% high; maxima are exact.".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_get_readable_units() {
        assert_eq!(fmt_us(0.25), "250 ns");
        assert_eq!(fmt_us(2.5), "2.5 us");
        assert_eq!(fmt_us(100.0), "100 us");
        assert_eq!(fmt_us(1234.0), "1.23 ms");
        assert_eq!(fmt_us(3.0e6), "3.00 s");
    }

    #[test]
    fn empty_dist_has_null_percentiles() {
        let d = Dist::of(&Durations::default());
        assert_eq!(d.count, 0);
        assert_eq!(d.p99_us, None);
        assert_eq!(dist_line(&d), "0 recorded");
    }
}
