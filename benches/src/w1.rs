//! The `binary-trees` program: the one-shot wall-clock runner for workload W1 (DESIGN.md
//! §10, issue #3):
//! binary-trees at depth 21 on one thread, timed as the whole program, the way the peers'
//! published figures are (wall seconds). The criterion bench `benches/binary_trees.rs` runs
//! the same program (`tricolor_gc_bench::binary_trees`) at depth 16, because one depth-21
//! run takes tens of seconds and criterion wants many samples.
//!
//! # Design
//! 1. Every measured run is a fresh process. With more than one run (several runtimes, or
//!    `--repeat` above 1) this program is the parent: it re-executes itself
//!    (`std::env::current_exe()`) once per run with `--runtime X --depth N --json`, one run
//!    after another, so no run sees another's heap, allocator caches, collector thread or
//!    leftover garbage (tricolor reclaims a run's last trees concurrently, after the program
//!    returns; in a shared process that work would land in the next repeat).
//! 2. A single run times `binary_trees(depth)` with `Instant`, compares the sum with
//!    `expected(depth)` (exit 1 on a mismatch: a broken heap gives no figures), then reads
//!    its peak RSS (`VmHWM` in /proc/self/status) and, for tricolor, `gc::stats()` (cycles
//!    and total pause; the process is fresh, so they are this run's alone). The timed span
//!    leaves out process start and exit (about a millisecond); it ends when the program
//!    returns, so garbage a collector has not freed by then is not charged, as in a
//!    whole-program time.
//! 3. The parent reads one JSON [`Record`] from each child's stdout (the child's stderr
//!    passes through) and prints one table: wall seconds of each repeat, their median, peak
//!    RSS (the largest over the repeats), median over Box's median, and tricolor's cycles
//!    and pause per run. A failed child is a row of the table and makes the exit status 1;
//!    the other runtimes still run.
//!
//! Exit status: 0 on success, 1 if a run failed, 2 on a bad command line (the message names
//! the flag and what it accepts).

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches, Parser};
use serde::{Deserialize, Serialize};

use crate::binary_trees::{expected, MIN_DEPTH};
use crate::cli::{self, Range};
use crate::runtimes::{self, Runtime, RUNTIMES};

/// The program name in messages.
const PROG: &str = "binary-trees";
/// The runtime whose collector statistics the runs report.
const TRICOLOR: &str = "tricolor";
/// The baseline of the ratio column.
const BASELINE: &str = "box";
/// `--depth` range. Depth 25 already allocates a stretch tree of 2^26 nodes (over 1 GiB
/// with any of the node types here).
const DEPTH: Range<u32> = Range {
    lo: MIN_DEPTH,
    hi: 25,
};
/// `--repeat` range.
const REPEAT: Range<u32> = Range { lo: 1, hi: 100 };

/// The runtimes a `--runtime` value selects.
#[derive(Clone, Debug)]
struct Selection(Vec<&'static Runtime>);

/// A validated command line.
#[derive(Parser, Debug)]
#[command(
    name = PROG,
    about = "Workload W1 (DESIGN.md §10) timed as the whole program, on one thread",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    disable_version_flag = true
)]
struct Options {
    /// Maximum depth N
    #[arg(long, value_name = "N", default_value_t = 21, value_parser = |s: &str| DEPTH.parse(s))]
    depth: u32,
    /// One runtime; all: everything but the slow peer collectors; every: all of them
    /// (the peer collectors take minutes at depth 21)
    #[arg(long, value_name = "NAME", default_value = "all", value_parser = select)]
    runtime: Selection,
    /// Runs per runtime, each in its own process
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = |s: &str| REPEAT.parse(s))]
    repeat: u32,
    /// Print one JSON record per run instead of the table
    #[arg(long)]
    json: bool,
}

const LONG_ABOUT: &str = "\
Workload W1 (DESIGN.md §10) timed as the whole program, on one thread

Builds and checks a stretch tree of depth N+1, keeps a tree of depth N, builds and checks
2^(N-d+4) trees of each even depth d from 4 to N, then checks the kept tree; verifies the
sum and reports wall seconds, peak RSS and the ratio to Box. With several runs (several
runtimes or --repeat above 1) each run is a child process of this program.";

const AFTER_HELP: &str = "\
Exit status: 0 on success, 1 if a run failed (checksum mismatch, child crash), 2 on a bad
command line.";

/// The figures of one run (one process), as a child reports them to its parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    runtime: String,
    depth: u32,
    wall_s: f64,
    peak_rss_bytes: Option<u64>,
    /// Completed collection cycles (tricolor only).
    gc_cycles: Option<u64>,
    /// Sum of stop and handshake pauses, seconds (tricolor only).
    gc_pause_s: Option<f64>,
}

/// One runtime's line of the table: its runs, or why they stopped.
#[derive(Debug)]
struct Row {
    runtime: &'static str,
    runs: Vec<Record>,
    failure: Option<String>,
}

/// The binary-trees program: parses the command line, runs, reports; returns the exit
/// status.
pub fn main() -> ExitCode {
    let opts = parse(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let rows = if opts.runtime.0.len() == 1 && opts.repeat == 1 {
        let rt = opts.runtime.0[0];
        let (runs, failure) = match run_here(rt, opts.depth) {
            Ok(record) => (vec![record], None),
            Err(why) => (Vec::new(), Some(why)),
        };
        vec![Row {
            runtime: rt.name,
            runs,
            failure,
        }]
    } else {
        match run_children(&opts) {
            Ok(rows) => rows,
            Err(msg) => {
                eprintln!("{PROG}: {msg}");
                return ExitCode::FAILURE;
            }
        }
    };
    if opts.json {
        for record in rows.iter().flat_map(|r| &r.runs) {
            println!(
                "{}",
                serde_json::to_string(record).expect("a Record always serialises")
            );
        }
        // Without the table, failures go to stderr.
        for row in &rows {
            if let Some(why) = &row.failure {
                eprintln!("{PROG}: {} failed: {why}", row.runtime);
            }
        }
    } else {
        print!("{}", table(&opts, &rows));
    }
    if rows.iter().any(|r| r.failure.is_some()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs the program once in this process and measures it.
fn run_here(rt: &Runtime, depth: u32) -> Result<Record, String> {
    let start = Instant::now();
    let w1 = rt
        .w1
        .expect("tricolor-gc-bench: only runtimes with W1 are selected");
    let sum = (w1.run)(black_box(depth));
    let wall = start.elapsed();
    let want = expected(depth);
    if sum != want {
        return Err(format!(
            "checksum {sum} at depth {depth}, expected {want}: the heap is broken"
        ));
    }
    let peak_rss_bytes = tricolor_gc_core::process_peak_rss_bytes().map(|b| b as u64);
    let (gc_cycles, gc_pause_s) = if rt.name == TRICOLOR {
        let stats = gc::stats();
        (Some(stats.cycles), Some(stats.total_pause.as_secs_f64()))
    } else {
        (None, None)
    };
    Ok(Record {
        runtime: rt.name.to_string(),
        depth,
        wall_s: wall.as_secs_f64(),
        peak_rss_bytes,
        gc_cycles,
        gc_pause_s,
    })
}

/// Runs every repeat of every runtime in its own child process, one at a time, with a
/// progress line on stderr after each. Errs only if this program cannot be found.
fn run_children(opts: &Options) -> Result<Vec<Row>, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to run its children: {e}"))?;
    let mut rows = Vec::new();
    for rt in &opts.runtime.0 {
        let mut row = Row {
            runtime: rt.name,
            runs: Vec::new(),
            failure: None,
        };
        for i in 1..=opts.repeat {
            match run_child(&exe, rt.name, opts.depth) {
                Ok(record) => {
                    eprintln!(
                        "{PROG}: {} run {i}/{} at depth {}: {:.3} s",
                        rt.name, opts.repeat, opts.depth, record.wall_s
                    );
                    row.runs.push(record);
                }
                Err(why) => {
                    row.failure = Some(format!("run {i}/{}: {why}", opts.repeat));
                    break;
                }
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// One run of `runtime` in a child process; its record, or why there is none.
fn run_child(exe: &Path, runtime: &str, depth: u32) -> Result<Record, String> {
    let out = Command::new(exe)
        .args([
            "--runtime",
            runtime,
            "--depth",
            &depth.to_string(),
            "--json",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!("child failed ({})", out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .next()
        .ok_or_else(|| "child printed no record".to_string())?;
    let record: Record =
        serde_json::from_str(line).map_err(|e| format!("bad record {line:?}: {e}"))?;
    if record.runtime != runtime || record.depth != depth {
        return Err(format!("child reported another run: {line}"));
    }
    Ok(record)
}

/// The median of a non-empty list (the mean of the middle two for an even length).
fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.into_iter().collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The comparison table, with a heading and a legend.
fn table(opts: &Options, rows: &[Row]) -> String {
    let median_wall = |row: &Row| median(row.runs.iter().map(|r| r.wall_s));
    let baseline = rows
        .iter()
        .find(|r| r.runtime == BASELINE && r.failure.is_none() && !r.runs.is_empty())
        .map(median_wall);
    let mut cells = vec![[
        "runtime",
        "wall s per run",
        "median s",
        "peak RSS",
        "/ box",
        "gc cycles",
        "gc pause",
    ]
    .map(String::from)
    .to_vec()];
    for row in rows {
        if let Some(why) = &row.failure {
            cells.push(vec![row.runtime.to_string(), format!("FAILED ({why})")]);
            continue;
        }
        let med = median_wall(row);
        let per_run = |f: fn(&Record) -> Option<f64>| -> Option<f64> {
            let v: Option<Vec<f64>> = row.runs.iter().map(f).collect();
            v.map(median)
        };
        let peak = row.runs.iter().filter_map(|r| r.peak_rss_bytes).max();
        cells.push(vec![
            row.runtime.to_string(),
            row.runs
                .iter()
                .map(|r| format!("{:.3}", r.wall_s))
                .collect::<Vec<_>>()
                .join(" "),
            format!("{med:.3}"),
            peak.map_or("n/a".into(), |b| {
                format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
            }),
            baseline.map_or("n/a".into(), |b| format!("{:.2}", med / b)),
            per_run(|r| r.gc_cycles.map(|c| c as f64)).map_or("-".into(), |c| c.to_string()),
            per_run(|r| r.gc_pause_s).map_or("-".into(), |s| format!("{:.1} ms", s * 1e3)),
        ]);
    }
    let mut out = format!(
        "binary-trees at depth {}, {} run(s) per runtime, each run a fresh process:\n",
        opts.depth, opts.repeat
    );
    out.push_str(&render(&cells));
    out.push_str(
        "\nwall s: the whole program (all trees built, checked and dropped), one thread.\n\
         peak RSS: VmHWM of the run's process (largest over the runs).\n\
         / box: median over Box's median (below 1 = faster than Box).\n\
         gc cycles, gc pause: tricolor's completed cycles and summed stop/handshake pauses\n\
         per run (median over the runs); - where the runtime does not report them.\n",
    );
    out
}

/// Lays out rows of cells in columns: the first left-aligned, the rest right-aligned; a
/// short row (a failure) lets its last cell run on.
fn render(cells: &[Vec<String>]) -> String {
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    let runs_on = |row: &Vec<String>, i: usize| i > 0 && i + 1 == row.len() && row.len() < columns;
    let mut widths = vec![0; columns];
    for row in cells {
        for (i, cell) in row.iter().enumerate().filter(|&(i, _)| !runs_on(row, i)) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in cells {
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
    out
}

/// The runtimes that run W1.
fn w1_runtimes() -> impl Iterator<Item = &'static Runtime> {
    RUNTIMES.iter().filter(|r| r.w1.is_some())
}

/// The runtimes `--runtime all` selects (everything but the slow peer collectors).
fn default_runtimes() -> impl Iterator<Item = &'static Runtime> {
    w1_runtimes().filter(|r| r.w1.is_some_and(|w1| w1.in_all))
}

fn names(runtimes: impl Iterator<Item = &'static Runtime>) -> String {
    runtimes.map(|r| r.name).collect::<Vec<_>>().join(", ")
}

/// The clap command: the derive's, with the ranges and runtime names in the help lines.
fn command() -> clap::Command {
    cli::with_notes(
        Options::command(),
        &[
            ("depth", DEPTH.describe()),
            (
                "runtime",
                format!(
                    "names: {}; all: {}",
                    names(w1_runtimes()),
                    names(default_runtimes())
                ),
            ),
            ("repeat", REPEAT.describe()),
        ],
    )
}

/// Parses `args` (the program name first); errors are clap's (status 2; `--help` 0).
fn parse<I, T>(args: I) -> Result<Options, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    Options::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// The runtimes a `--runtime` value names.
fn select(value: &str) -> Result<Selection, String> {
    match value {
        "all" => Ok(Selection(default_runtimes().collect())),
        "every" => Ok(Selection(w1_runtimes().collect())),
        name => runtimes::by_name(name)
            .filter(|r| r.w1.is_some())
            .map(|r| Selection(vec![r]))
            .ok_or_else(|| format!("expected one of {}, all or every", names(w1_runtimes()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str]) -> Result<Options, String> {
        parse(std::iter::once(PROG).chain(args.iter().copied())).map_err(|e| {
            assert_eq!(e.exit_code(), 2, "{e}");
            e.to_string()
        })
    }

    fn names_of(o: &Options) -> Vec<&str> {
        o.runtime.0.iter().map(|r| r.name).collect()
    }

    #[test]
    fn defaults_and_both_value_forms() {
        let o = opts(&[]).unwrap();
        assert_eq!((o.depth, o.repeat, o.json), (21, 1, false));
        assert_eq!(names_of(&o), ["tricolor", "box", "arc"]);
        let o = opts(&[
            "--depth",
            "10",
            "--runtime=gc-arena",
            "--repeat=3",
            "--json",
        ])
        .unwrap();
        assert_eq!((o.depth, o.repeat, o.json), (10, 3, true));
        assert_eq!(names_of(&o), ["gc-arena"]);
        assert_eq!(opts(&["--runtime", "every"]).unwrap().runtime.0.len(), 6);
    }

    #[test]
    fn errors_name_the_flag_and_what_it_accepts() {
        let e = opts(&["--depth", "abc"]).unwrap_err();
        assert!(
            e.contains(
                "invalid value 'abc' for '--depth <N>': expected a whole number from 4 to 25"
            ),
            "{e}"
        );
        assert!(opts(&["--depth=26"]).is_err());
        assert!(opts(&["--repeat", "0"])
            .unwrap_err()
            .contains("'--repeat <K>': expected a whole number from 1 to 100"));
        let e = opts(&["--runtime", "java"]).unwrap_err();
        assert!(
            e.contains("tricolor, box, arc, rust-gc, dumpster, gc-arena"),
            "{e}"
        );
        assert!(opts(&["--depth"]).unwrap_err().contains("--depth"));
        assert!(opts(&["--bogus"]).unwrap_err().contains("'--bogus'"));
        assert!(opts(&["21"]).unwrap_err().contains("unexpected argument"));
    }

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median([3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn table_has_ratio_and_failure_rows() {
        let record = |runtime: &str, wall_s: f64| Record {
            runtime: runtime.into(),
            depth: 10,
            wall_s,
            peak_rss_bytes: Some(3 << 20),
            gc_cycles: None,
            gc_pause_s: None,
        };
        let rows = [
            Row {
                runtime: "box",
                runs: vec![record("box", 1.0)],
                failure: None,
            },
            Row {
                runtime: "arc",
                runs: vec![record("arc", 3.0), record("arc", 2.0)],
                failure: None,
            },
            Row {
                runtime: "tricolor",
                runs: Vec::new(),
                failure: Some("child exited with 1".into()),
            },
        ];
        let o = opts(&["--depth", "10", "--repeat", "2"]).unwrap();
        let text = table(&o, &rows);
        let arc = text.lines().find(|l| l.starts_with("arc")).unwrap();
        assert!(arc.contains("3.000 2.000"), "{text}");
        assert!(arc.contains("2.50"), "ratio to box:\n{text}");
        assert!(arc.contains("3.0 MiB"), "{text}");
        assert!(
            text.contains("tricolor  FAILED (child exited with 1)"),
            "{text}"
        );
    }
}
