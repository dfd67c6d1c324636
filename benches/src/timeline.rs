//! The heap timeline of one run: what the sampler saw every [`INTERVAL`] (the library's
//! heap bytes and heap goal, the process RSS, the live set) and the collection cycles
//! with their phases, all on the churn's clock (time since the churn started).
//!
//! # Where the figures come from
//! 1. RSS: `/proc/self/statm`, for every runtime (a peer's only line).
//! 2. Heap and goal: the runtime's `StallSource` counters (tricolor: `gc::stats()`'s
//!    `heap_bytes` and `heap_goal_bytes`); absent for runtimes that expose neither.
//! 3. Live set: what the runtime reports (the Go peer: the heap marked live at the end
//!    of each cycle); otherwise the workload's own live set, live nodes times the
//!    estimated bytes per node (constant: every replacement swaps a tree for one of the
//!    same size). [`Timeline::live_source`] says which.
//! 4. Cycles: reported with their phases where the runtime has them (Go's `gctrace`);
//!    for tricolor, reconstructed by [`Reconstruct`] from the counters: when `cycles`
//!    moves between two samples, a cycle ended during that interval, and the growth of
//!    the cumulative `mark_time` and `sweep_time` are its phases, laid back to back
//!    before the sample (mark, then sweep). Precise to one interval; the two stops of a
//!    cycle (tens of µs) are too short to move it.
//!
//! Written as `<runtime>.timeline.csv` (`t_ms,heap_bytes,heap_goal_bytes,rss_bytes,
//! live_bytes`, an empty field where the figure is unknown) and `<runtime>.cycles.csv`
//! (`cycle,phase,start_ms,end_ms`), and summarised in the JSON.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Sampling period of the timeline (and of the collector's pause history).
pub(crate) const INTERVAL: Duration = Duration::from_millis(5);

/// One sample, `t` since the churn started; `None` where the runtime does not expose it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Point {
    pub(crate) t: Duration,
    pub(crate) heap_bytes: Option<u64>,
    pub(crate) heap_goal_bytes: Option<u64>,
    pub(crate) rss_bytes: Option<u64>,
    pub(crate) live_bytes: Option<u64>,
}

/// One phase of a cycle, on the churn's clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Phase {
    pub(crate) phase: String,
    pub(crate) start_ms: f64,
    pub(crate) end_ms: f64,
}

/// One collection cycle (or, rarely, several that ended within one sampling interval,
/// merged: `cycles` > 1), as phases in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cycle {
    /// The runtime's number of the (last) cycle.
    pub(crate) cycle: u64,
    /// How many cycles this span covers.
    pub(crate) cycles: u64,
    pub(crate) phases: Vec<Phase>,
}

/// Everything the timeline holds.
#[derive(Clone, Debug, Default)]
pub(crate) struct Timeline {
    pub(crate) points: Vec<Point>,
    pub(crate) cycles: Vec<Cycle>,
    /// Where the live line comes from (module docs, point 3).
    pub(crate) live_source: &'static str,
}

/// The live line of a runtime that reports none: the workload's own live set.
pub(crate) const LIVE_ESTIMATED: &str = "workload estimate, live nodes x bytes per node";

/// The JSON summary of a timeline.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct TimelineSummary {
    /// The mean time between samples (the sampler aims at [`INTERVAL`]; a busy machine
    /// stretches it).
    pub(crate) interval_ms: Option<f64>,
    pub(crate) samples: usize,
    pub(crate) peak_heap_mib: Option<f64>,
    pub(crate) peak_sampled_rss_mib: Option<f64>,
    pub(crate) live_source: String,
    pub(crate) cycles: Vec<Cycle>,
}

fn mib(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

impl Timeline {
    /// The JSON summary.
    pub(crate) fn summary(&self) -> TimelineSummary {
        let peak = |f: fn(&Point) -> Option<u64>| self.points.iter().filter_map(f).max().map(mib);
        let span = match (self.points.first(), self.points.last()) {
            (Some(a), Some(b)) if self.points.len() > 1 => Some(b.t.saturating_sub(a.t)),
            _ => None,
        };
        TimelineSummary {
            interval_ms: span.map(|d| d.as_secs_f64() * 1e3 / (self.points.len() - 1) as f64),
            samples: self.points.len(),
            peak_heap_mib: peak(|p| p.heap_bytes),
            peak_sampled_rss_mib: peak(|p| p.rss_bytes),
            live_source: self.live_source.to_string(),
            cycles: self.cycles.clone(),
        }
    }

    /// Writes `<runtime>.timeline.csv`.
    pub(crate) fn write_points(&self, path: &Path) -> io::Result<()> {
        let mut w = BufWriter::new(fs::File::create(path)?);
        writeln!(w, "t_ms,heap_bytes,heap_goal_bytes,rss_bytes,live_bytes")?;
        let field = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        for p in &self.points {
            writeln!(
                w,
                "{:.3},{},{},{},{}",
                p.t.as_secs_f64() * 1e3,
                field(p.heap_bytes),
                field(p.heap_goal_bytes),
                field(p.rss_bytes),
                field(p.live_bytes)
            )?;
        }
        w.flush()
    }

    /// Writes `<runtime>.cycles.csv`.
    pub(crate) fn write_cycles(&self, path: &Path) -> io::Result<()> {
        let mut w = BufWriter::new(fs::File::create(path)?);
        writeln!(w, "cycle,phase,start_ms,end_ms")?;
        for c in &self.cycles {
            for p in &c.phases {
                writeln!(
                    w,
                    "{},{},{:.3},{:.3}",
                    c.cycle, p.phase, p.start_ms, p.end_ms
                )?;
            }
        }
        w.flush()
    }
}

/// Cumulative counters the reconstruction reads (module docs, point 4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CycleCounters {
    pub(crate) cycles: u64,
    pub(crate) mark_time: Duration,
    pub(crate) sweep_time: Duration,
}

/// Turns successive [`CycleCounters`] into [`Cycle`]s.
#[derive(Debug)]
pub(crate) struct Reconstruct {
    last: CycleCounters,
}

impl Reconstruct {
    /// Starts from the counters at the start of the churn (earlier cycles are not shown).
    pub(crate) fn new(at_start: CycleCounters) -> Reconstruct {
        Reconstruct { last: at_start }
    }

    /// The cycle(s) that ended since the previous sample, seen at `t`.
    pub(crate) fn sample(&mut self, now: CycleCounters, t: Duration) -> Option<Cycle> {
        let last = std::mem::replace(&mut self.last, now);
        let done = now.cycles.checked_sub(last.cycles).filter(|&n| n > 0)?;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let end = ms(t);
        let sweep = ms(now.sweep_time.saturating_sub(last.sweep_time));
        let mark = ms(now.mark_time.saturating_sub(last.mark_time));
        let sweep_start = (end - sweep).max(0.0);
        let mark_start = (sweep_start - mark).max(0.0);
        Some(Cycle {
            cycle: now.cycles,
            cycles: done,
            phases: vec![
                Phase {
                    phase: "mark".into(),
                    start_ms: mark_start,
                    end_ms: sweep_start,
                },
                Phase {
                    phase: "sweep".into(),
                    start_ms: sweep_start,
                    end_ms: end,
                },
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_cycle_is_laid_back_from_the_sample_that_saw_it_end() {
        let mut r = Reconstruct::new(CycleCounters {
            cycles: 3,
            mark_time: ms(100),
            sweep_time: ms(50),
        });
        let quiet = CycleCounters {
            cycles: 3,
            mark_time: ms(100),
            sweep_time: ms(50),
        };
        assert_eq!(r.sample(quiet, ms(500)), None);
        let c = r
            .sample(
                CycleCounters {
                    cycles: 4,
                    mark_time: ms(400),
                    sweep_time: ms(150),
                },
                ms(1000),
            )
            .unwrap();
        assert_eq!((c.cycle, c.cycles), (4, 1));
        assert_eq!(c.phases[0].phase, "mark");
        let p = &c.phases;
        assert_eq!(
            (p[0].start_ms, p[0].end_ms, p[1].end_ms),
            (600.0, 900.0, 1000.0)
        );
    }

    #[test]
    fn phases_never_start_before_the_churn() {
        let mut r = Reconstruct::new(CycleCounters::default());
        let c = r
            .sample(
                CycleCounters {
                    cycles: 2,
                    mark_time: ms(80),
                    sweep_time: ms(30),
                },
                ms(50),
            )
            .unwrap();
        assert_eq!(c.cycles, 2);
        assert_eq!((c.phases[0].start_ms, c.phases[1].start_ms), (0.0, 20.0));
    }

    #[test]
    fn csv_fields_are_empty_where_unknown() {
        let t = Timeline {
            points: vec![Point {
                t: ms(5),
                rss_bytes: Some(4096),
                ..Point::default()
            }],
            cycles: Vec::new(),
            live_source: LIVE_ESTIMATED,
        };
        let path = std::env::temp_dir().join(format!("timeline-{}.csv", std::process::id()));
        t.write_points(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let _ = fs::remove_file(&path);
        assert_eq!(
            text,
            "t_ms,heap_bytes,heap_goal_bytes,rss_bytes,live_bytes\n5.000,,,4096,\n"
        );
    }
}
