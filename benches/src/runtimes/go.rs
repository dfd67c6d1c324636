//! Go as an optional peer of the churn workloads: `benches/go/main.go` (standard library
//! only) runs the same W2 or W3 (`-workload`; W3's node holds a plain parent pointer, so
//! its garbage is cyclic as for the collectors here) on Go's collector, and this module
//! builds it, runs it and turns what it reports into a [`RunOutcome`] like any other
//! runtime's.
//!
//! # Algorithm
//! 1. [`available`]: a `go` executable on `PATH`, or the reason there is none (the
//!    harness then skips Go with one line; the crate never depends on Go).
//! 2. Build with `go build` into `<target dir>/go-w2/` (next to this program), with
//!    `GOCACHE`, `GOPATH` and `GOMODCACHE` in that directory, `GOPROXY=off` and
//!    `GOTOOLCHAIN=local` (no network), `GOFLAGS=-buildvcs=false` (the source sits in a
//!    git work tree), `GOENV=off` (no user go.env) and `CGO_ENABLED=0`. Go's build cache
//!    makes a rebuild a no-op.
//! 3. Run it with this run's flags (the live set is sized here, by [`Plan`], with Go's
//!    size class of the workload's node as the estimate, and passed as `-slots`) and
//!    `GODEBUG=gctrace=1`. Its stderr is read line by line: `phase churn` and
//!    `progress <ms> <nodes>` drive the progress line; `gc N @Ts P%: a+b+c ms clock, ..,
//!    x->y->z MB, g MB goal, ..` lines are the cycles ([`parse_gctrace`]); anything else
//!    is passed through.
//! 4. Its stdout is one JSON object ([`Report`]): the gap histogram as value/count pairs
//!    (3 significant digits, recorded into the harness's histogram), the raw gaps above
//!    the threshold, counts, and a timeline of heap bytes, heap goal and RSS.
//! 5. From each trace line: the two stop-the-world pauses (sweep termination `a`, mark
//!    termination `c`) as `Pause` samples, the cycle's three phases for the timeline,
//!    and `z`, the heap marked live, as the timeline's live line from the cycle's end on.
//!    `@T` counts from the Go runtime's start, the program's `churn_start_ns` from its
//!    first package variable: cycle times are exact to well under a millisecond.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use super::{Churn, Runtime};
use crate::children::{self, Stderr};
use crate::config::{Config, Workload};
use crate::outcome::{Plan, RunError, RunOutcome};
use crate::probe::{Durations, Kind, Sample};
use crate::progress::{self, Line};
use crate::sampler::CollectorCounters;
use crate::timeline::{Cycle, Phase, Point, Timeline};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: NAME,
    w1: None,
    churn: Churn {
        multi_thread: true,
        stalls: "measured: GODEBUG=gctrace=1 (the sweep-termination and mark-termination \
                 stops of each cycle)",
        run,
        available,
    },
};

const NAME: &str = "go";

/// Go's size class for the workload's node (no header): W2's is two pointers and the
/// 16-byte payload (32 bytes, the 32-byte class), W3's also a parent pointer (40 bytes,
/// the 48-byte class).
fn node_bytes(workload: Workload) -> usize {
    match workload {
        Workload::W2 => 32,
        Workload::W3 => 48,
    }
}
/// Where the Go source is.
const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/go");

fn peer(why: impl Into<String>) -> RunError {
    RunError::Peer {
        runtime: NAME,
        why: why.into(),
    }
}

/// The `go` executable on `PATH`.
fn toolchain() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("go"))
        .find(|go| go.is_file())
        .ok_or_else(|| "no Go toolchain: `go` is not on PATH".to_string())
}

/// Whether Go can run here (module docs, step 1).
fn available() -> Result<(), String> {
    toolchain().map(drop)
}

/// Builds the peer (step 2); returns the binary.
fn build(go: &Path) -> Result<PathBuf, RunError> {
    let exe = children::this_program().map_err(peer)?;
    let dir = exe
        .parent()
        .ok_or_else(|| peer("this program has no directory"))?
        .join("go-w2");
    let binary = dir.join("w2");
    let mut messages = String::new();
    let mut keep = |line: &str| {
        messages.push_str(line);
        messages.push('\n');
    };
    children::run(
        Command::new(go)
            .args(["build", "-o"])
            .arg(&binary)
            .arg(".")
            .current_dir(SOURCE)
            .env("GOCACHE", dir.join("cache"))
            .env("GOPATH", dir.join("gopath"))
            .env("GOMODCACHE", dir.join("gopath/pkg/mod"))
            .env("GOPROXY", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-buildvcs=false")
            .env("GOWORK", "off")
            .env("GOENV", "off")
            .env("GO111MODULE", "on")
            .env("CGO_ENABLED", "0"),
        Stderr::Lines(&mut keep),
    )
    .map_err(|e| peer(format!("go build in {SOURCE} failed: {e}\n{messages}")))?;
    Ok(binary)
}

/// One `gctrace` line's figures (module docs, step 5).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GcLine {
    pub(crate) cycle: u64,
    /// Start of the cycle, seconds since the Go runtime started.
    pub(crate) at_s: f64,
    /// Wall clock of sweep termination (stop), concurrent mark, mark termination (stop).
    pub(crate) clock_ms: [f64; 3],
    /// Heap marked live at the end of the cycle.
    pub(crate) live_mb: f64,
    pub(crate) goal_mb: f64,
}

/// Parses `gc N @Ts P%: a+b+c ms clock, ..., x->y->z MB, g MB goal, ...`.
pub(crate) fn parse_gctrace(line: &str) -> Option<GcLine> {
    let mut words = line.split_whitespace();
    if words.next()? != "gc" {
        return None;
    }
    let cycle = words.next()?.parse().ok()?;
    let at_s = words
        .next()?
        .strip_prefix('@')?
        .strip_suffix('s')?
        .parse()
        .ok()?;
    words.next()?; // "P%:"
    let mut clock = words.next()?.split('+').map(str::parse::<f64>);
    let clock_ms = [
        clock.next()?.ok()?,
        clock.next()?.ok()?,
        clock.next()?.ok()?,
    ];
    let rest: Vec<&str> = words.collect();
    let heap = rest.iter().position(|w| w.matches("->").count() == 2)?;
    let live_mb = rest[heap].rsplit("->").next()?.parse().ok()?;
    let goal = rest.iter().position(|w| w.starts_with("goal"))?;
    let goal_mb = rest.get(goal.checked_sub(2)?)?.parse().ok()?;
    Some(GcLine {
        cycle,
        at_s,
        clock_ms,
        live_mb,
        goal_mb,
    })
}

/// What the Go program prints on stdout (module docs, step 4).
#[derive(Debug, Deserialize)]
struct Report {
    go_version: String,
    build_ns: u64,
    build_rss_bytes: i64,
    churn_start_ns: u64,
    churn_ns: u64,
    nodes: u64,
    iterations: u64,
    replaced: u64,
    /// `[gap ns rounded up to 3 significant digits, count]`.
    gap_hist: Vec<[u64; 2]>,
    max_gap_ns: Vec<u64>,
    /// `[thread, t ns since the churn started, gap ns]`.
    samples: Vec<[u64; 3]>,
    dropped: u64,
    /// `[t ns, heap bytes, heap goal bytes, rss bytes]`, -1 where unknown.
    timeline: Vec<[i64; 4]>,
    peak_rss_bytes: i64,
    #[serde(default)]
    error: Option<String>,
}

/// The progress line and the trace lines, as the Go program's stderr arrives.
struct Watching {
    line: Option<Line>,
    duration: Duration,
    quiet: bool,
    cycles: Vec<GcLine>,
}

impl Watching {
    fn on_line(&mut self, text: &str) {
        if let Some(gc) = parse_gctrace(text) {
            self.cycles.push(gc);
        } else if text == "phase churn" {
            self.line = self
                .line
                .take()
                .map(|l| l.churning(self.duration, self.quiet));
        } else if let Some(rest) = text.strip_prefix("progress ") {
            let mut f = rest.split(' ').map(str::parse::<u64>);
            if let (Some(Ok(ms)), Some(Ok(nodes)), Some(line)) =
                (f.next(), f.next(), &mut self.line)
            {
                line.update(Duration::from_millis(ms), nodes);
            }
        } else {
            eprintln!("{text}");
        }
    }
}

fn known(v: i64) -> Option<u64> {
    u64::try_from(v).ok()
}

const MB: f64 = (1u64 << 20) as f64;

fn run(cfg: &Config) -> Result<RunOutcome, RunError> {
    let go = toolchain().map_err(peer)?;
    let plan = Plan::new(cfg, node_bytes(cfg.workload));
    let line = Line::building(progress::label(NAME, cfg.position.as_deref()), cfg.quiet);
    let binary = build(&go)?;
    let slots: Vec<String> = plan.slots_per_thread.iter().map(usize::to_string).collect();
    let mut cmd = Command::new(&binary);
    cmd.arg(format!("-workload={}", cfg.workload.arg()))
        .arg(format!("-slots={}", slots.join(",")))
        .arg(format!("-duration={}", cfg.duration_s))
        .arg(format!("-replace-fraction={}", cfg.replace_fraction))
        .arg(format!("-churn-depth={}", cfg.churn_depth))
        .arg(format!("-live-depth={}", cfg.live_depth))
        .arg(format!("-gap-threshold-us={}", cfg.gap_threshold_us))
        .arg(format!("-seed={}", cfg.seed))
        .arg(format!("-progress={}", !cfg.quiet))
        .env("GODEBUG", "gctrace=1");
    let mut watching = Watching {
        line: Some(line),
        duration: Duration::from_secs_f64(cfg.duration_s),
        quiet: cfg.quiet,
        cycles: Vec::new(),
    };
    let stdout = children::run(&mut cmd, Stderr::Lines(&mut |l| watching.on_line(l)));
    if let Some(line) = watching.line.take() {
        line.finish();
    }
    let report: Report = serde_json::from_str(&stdout.map_err(peer)?)
        .map_err(|e| peer(format!("the Go program's report does not parse: {e}")))?;
    if let Some(why) = report.error {
        return Err(peer(why));
    }
    Ok(outcome(plan, report, &watching.cycles))
}

fn outcome(plan: Plan, r: Report, trace: &[GcLine]) -> RunOutcome {
    let ns = Duration::from_nanos;
    let churn_ms = r.churn_ns as f64 / 1e6;
    let offset_ms = r.churn_start_ns as f64 / 1e6;
    let mut gaps = Durations::default();
    for [gap, count] in &r.gap_hist {
        gaps.record_n(ns(*gap), *count);
    }
    gaps.set_exact_max(ns(r.max_gap_ns.iter().copied().max().unwrap_or(0)));
    let mut samples: Vec<Sample> = r
        .samples
        .iter()
        .map(|&[thread, t, gap]| Sample {
            kind: Kind::Gap,
            thread: Some(thread as usize),
            t: ns(t),
            dur: ns(gap),
        })
        .collect();
    // The cycles of the churn, on its clock.
    let mut cycles = Vec::new();
    let mut live_from: Vec<(f64, u64)> = Vec::new();
    let mut mark = Duration::ZERO;
    for gc in trace {
        let start = gc.at_s * 1e3 - offset_ms;
        let [stw1, conc, stw2] = gc.clock_ms;
        let (mark_start, term_start, end) = (
            start + stw1,
            start + stw1 + conc,
            start + stw1 + conc + stw2,
        );
        if start < 0.0 || end > churn_ms {
            continue;
        }
        let ms = |v: f64| Duration::from_secs_f64(v / 1e3);
        for (at, dur) in [(mark_start, stw1), (end, stw2)] {
            samples.push(Sample {
                kind: Kind::Pause,
                thread: None,
                t: ms(at),
                dur: ms(dur),
            });
        }
        mark += ms(conc);
        live_from.push((end, (gc.live_mb * MB) as u64));
        let phase = |name: &str, start_ms, end_ms| Phase {
            phase: name.to_string(),
            start_ms,
            end_ms,
        };
        cycles.push(Cycle {
            cycle: gc.cycle,
            cycles: 1,
            phases: vec![
                phase("sweep termination (stw)", start, mark_start),
                phase("mark", mark_start, term_start),
                phase("mark termination (stw)", term_start, end),
            ],
        });
    }
    samples.sort_by_key(|s| s.t);
    let live_at = |t_ms: f64| {
        live_from
            .iter()
            .take_while(|(end, _)| *end <= t_ms)
            .last()
            .map(|&(_, live)| live)
    };
    let points: Vec<Point> = r
        .timeline
        .iter()
        .map(|&[t, heap, goal, rss]| Point {
            t: Duration::from_nanos(t.max(0) as u64),
            heap_bytes: known(heap),
            heap_goal_bytes: known(goal),
            rss_bytes: known(rss),
            live_bytes: live_at(t as f64 / 1e6),
        })
        .collect();
    let last = points.last().copied().unwrap_or_default();
    let stalls_note = RUNTIME.churn.stalls;
    RunOutcome {
        runtime: NAME,
        stalls_note,
        threads: plan.slots_per_thread.len(),
        build_time: ns(r.build_ns),
        build_rss_bytes: known(r.build_rss_bytes),
        churn_time: ns(r.churn_ns),
        nodes_allocated: r.nodes,
        iterations: r.iterations,
        replaced: r.replaced,
        gaps,
        max_gap_per_thread: r.max_gap_ns.iter().map(|&g| ns(g)).collect(),
        samples,
        dropped_samples: r.dropped,
        stalls_observed: true,
        counters: CollectorCounters {
            cycles: Some(cycles.len() as u64),
            heap_goal_bytes: last.heap_goal_bytes,
            heap_bytes: last.heap_bytes,
            mark_time: Some(mark),
            ..CollectorCounters::default()
        },
        peak_rss_bytes: known(r.peak_rss_bytes),
        timeline: Timeline {
            points,
            cycles,
            live_source: LIVE_SOURCE,
        },
        plan,
        version: Some(r.go_version),
    }
}

/// Where the Go peer's live line comes from.
const LIVE_SOURCE: &str = "Go: heap marked live by the last cycle (gctrace)";

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "gc 12 @1.234s 5%: 0.024+11+0.003 ms clock, 0.049+11/3.0/0.20+0.006 ms \
                        cpu, 98->101->64 MB, 130 MB goal, 0 MB stacks, 0 MB globals, 2 P";

    #[test]
    fn gctrace_lines_parse() {
        let gc = parse_gctrace(LINE).unwrap();
        assert_eq!(
            gc,
            GcLine {
                cycle: 12,
                at_s: 1.234,
                clock_ms: [0.024, 11.0, 0.003],
                live_mb: 64.0,
                goal_mb: 130.0,
            }
        );
        let forced = format!("{LINE} (forced)");
        assert_eq!(parse_gctrace(&forced).map(|g| g.cycle), Some(12));
        assert_eq!(parse_gctrace("progress 200 1000"), None);
        assert_eq!(parse_gctrace("gc 1 @x"), None);
    }

    #[test]
    fn a_report_becomes_an_outcome_with_pauses_cycles_and_live_line() {
        let report = Report {
            go_version: "go1.19.8".into(),
            build_ns: 1_000_000,
            build_rss_bytes: 4 << 20,
            churn_start_ns: 1_000_000_000,
            churn_ns: 1_000_000_000,
            nodes: 31_000,
            iterations: 1_000,
            replaced: 10,
            gap_hist: vec![[999, 990], [5_099, 10]],
            max_gap_ns: vec![5_050],
            samples: vec![[0, 500_000_000, 200_000]],
            dropped: 0,
            timeline: vec![[100_000_000, 10, 20, 30], [600_000_000, 11, -1, 31]],
            peak_rss_bytes: 64 << 20,
            error: None,
        };
        let mut cfg = crate::config::parse(["x", "--live-mib=1"]).unwrap();
        cfg.duration_s = 1.0;
        // One cycle inside the churn (0.2 s in), one before it (dropped).
        let mut inside = parse_gctrace(LINE).unwrap();
        inside.at_s = 1.2;
        let mut before = inside.clone();
        before.at_s = 0.5;
        let o = outcome(
            Plan::new(&cfg, node_bytes(cfg.workload)),
            report,
            &[before, inside],
        );
        assert_eq!(o.gaps.count(), 1_000);
        assert_eq!(
            o.gaps.max(),
            Duration::from_nanos(5_050),
            "the exact max, not 5099"
        );
        assert_eq!(o.counters.cycles, Some(1));
        let pauses: Vec<&Sample> = o.samples.iter().filter(|s| s.kind == Kind::Pause).collect();
        assert_eq!(pauses.len(), 2);
        assert_eq!(pauses[0].dur, Duration::from_secs_f64(0.024e-3));
        assert!(o.samples.windows(2).all(|w| w[0].t <= w[1].t));
        let c = &o.timeline.cycles[0];
        assert_eq!(c.phases.len(), 3);
        assert!((c.phases[0].start_ms - 200.0).abs() < 1e-6, "{c:?}");
        let p = &o.timeline.points;
        assert_eq!(p[0].live_bytes, None, "no cycle had ended at 100 ms");
        assert_eq!(p[1].live_bytes, Some(64 << 20));
        assert_eq!(p[1].heap_goal_bytes, None);
    }
}
