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
//! 3. The parent reads one JSON [`Record`] from each child's stdout (`children.rs`; the
//!    child's stderr passes through) and prints one table (`compare.rs`): wall seconds of
//!    each repeat, their median, peak RSS (the largest over the repeats), median over Box's
//!    median, and tricolor's cycles and pause per run. A failed child is a row of the table
//!    and makes the exit status 1; the other runtimes still run.
//! 4. The same table goes to `--out`/binary-trees.md, its figures as bars to
//!    `binary-trees.svg`, and the report ends with their paths.
//!
//! Exit status: 0 on success, 1 if a run failed, 2 on a bad command line (the message names
//! the flag and what it accepts).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches, Parser};
use serde::{Deserialize, Serialize};

use crate::binary_trees::{expected, MIN_DEPTH};
use crate::children::{self, Stderr};
use crate::cli::{self, Range};
use crate::compare::{self, Bars, Column, Comparison};
use crate::config::DEFAULT_OUT;
use crate::runtimes::{Runtime, RUNTIMES};

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
    /// Runtime(s): one, a comma-separated list, all (everything but the slow peer
    /// collectors) or every (all of them; the peer collectors take minutes at depth 21)
    #[arg(long, value_name = "NAME", default_value = "all", value_parser = select)]
    runtime: Selection,
    /// Runs per runtime, each in its own process
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = |s: &str| REPEAT.parse(s))]
    repeat: u32,
    /// Print one JSON record per run instead of the table
    #[arg(long)]
    json: bool,
    /// Where binary-trees.md and binary-trees.svg (the table and its chart) go
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT)]
    out: PathBuf,
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
    /// Sum of stop-the-world pauses, seconds (tricolor only).
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
        let table = table(&opts, &rows);
        print!("{}", table.text());
        match write_table(&opts.out, &table) {
            Ok(files) => println!(
                "files written: {}, {}",
                files[0].display(),
                files[1].display()
            ),
            Err(msg) => {
                eprintln!("{PROG}: {msg}");
                return ExitCode::FAILURE;
            }
        }
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
    let exe = children::this_program()?;
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
    let depth_arg = depth.to_string();
    let stdout = children::run(
        Command::new(exe).args(["--runtime", runtime, "--depth", &depth_arg, "--json"]),
        Stderr::Inherit,
    )?;
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
fn table(opts: &Options, rows: &[Row]) -> Comparison {
    let median_wall = |row: &Row| median(row.runs.iter().map(|r| r.wall_s));
    let baseline = rows
        .iter()
        .find(|r| r.runtime == BASELINE && r.failure.is_none() && !r.runs.is_empty())
        .map(median_wall);
    // One value per row (`None` for a failed row), and its cells.
    let figure = |f: &dyn Fn(&Row) -> Option<f64>| -> Vec<Option<f64>> {
        rows.iter()
            .map(|r| if r.failure.is_none() { f(r) } else { None })
            .collect()
    };
    let cells = |values: &[Option<f64>], none: &str, fmt: &dyn Fn(f64) -> String| {
        rows.iter()
            .zip(values)
            .map(|(r, v)| match r.failure {
                Some(_) => String::new(),
                None => v.map_or_else(|| none.to_string(), fmt),
            })
            .collect::<Vec<_>>()
    };
    // The median over a row's runs of a figure all its runs have.
    let per_run = |f: fn(&Record) -> Option<f64>| {
        figure(&|row| {
            row.runs
                .iter()
                .map(f)
                .collect::<Option<Vec<f64>>>()
                .map(median)
        })
    };
    let medians = figure(&|r| Some(median_wall(r)));
    let peaks = figure(&|row| {
        let peak = row.runs.iter().filter_map(|r| r.peak_rss_bytes).max();
        peak.map(|b| b as f64 / (1u64 << 20) as f64)
    });
    let ratios = figure(&|r| baseline.map(|b| median_wall(r) / b));
    let cycles = per_run(|r| r.gc_cycles.map(|c| c as f64));
    let pauses = per_run(|r| r.gc_pause_s.map(|s| s * 1e3));
    let drawn = |header: &str, cells, axis: &str, values: Vec<Option<f64>>| Column {
        header: header.to_string(),
        cells,
        bars: Some(Bars {
            axis: axis.to_string(),
            values,
        }),
    };
    let text = |header: &str, cells| Column {
        header: header.to_string(),
        cells,
        bars: None,
    };
    let runs_cells = rows
        .iter()
        .map(|row| {
            let walls: Vec<String> = row
                .runs
                .iter()
                .map(|r| format!("{:.3}", r.wall_s))
                .collect();
            walls.join(" ")
        })
        .collect();
    Comparison {
        title: format!(
            "binary-trees at depth {}, {} run(s) per runtime, each run a fresh process:",
            opts.depth, opts.repeat
        ),
        rows: rows
            .iter()
            .map(|r| match &r.failure {
                None => compare::Row::Ran(r.runtime.to_string()),
                Some(why) => compare::Row::NotRun {
                    runtime: r.runtime.to_string(),
                    why: format!("FAILED ({why})"),
                },
            })
            .collect(),
        columns: vec![
            text("wall s per run", runs_cells),
            drawn(
                "median s",
                cells(&medians, "n/a", &|m| format!("{m:.3}")),
                "wall seconds, median (lower is better)",
                medians,
            ),
            drawn(
                "peak RSS",
                cells(&peaks, "n/a", &|m| format!("{m:.1} MiB")),
                "peak RSS (MiB; lower is better)",
                peaks,
            ),
            drawn(
                "/ box",
                cells(&ratios, "n/a", &|r| format!("{r:.2}")),
                "median wall time over Box's (lower is better)",
                ratios,
            ),
            text("gc cycles", cells(&cycles, "-", &|c| c.to_string())),
            text("gc pause", cells(&pauses, "-", &|ms| format!("{ms:.1} ms"))),
        ],
        legend: vec![
            "wall s: the whole program (all trees built, checked and dropped), one thread.".into(),
            "peak RSS: VmHWM of the run's process (largest over the runs).".into(),
            "/ box: median over Box's median (below 1 = faster than Box).".into(),
            "gc cycles, gc pause: tricolor's completed cycles and summed stop-the-world pauses \
             per run (median over the runs); - where the runtime does not report them."
                .into(),
        ],
    }
}

/// Writes `binary-trees.md` and `binary-trees.svg` under `out`; returns their paths.
fn write_table(out: &Path, table: &Comparison) -> Result<[PathBuf; 2], String> {
    std::fs::create_dir_all(out)
        .map_err(|e| format!("cannot create the --out directory {}: {e}", out.display()))?;
    let md = out.join("binary-trees.md");
    let svg = out.join("binary-trees.svg");
    std::fs::write(&md, table.markdown())
        .map_err(|e| format!("cannot write {}: {e}", md.display()))?;
    table.draw(&svg)?;
    Ok([md, svg])
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
        list => {
            let known: Vec<&'static Runtime> = w1_runtimes().collect();
            cli::runtime_list(list, &known, "all or every").map(Selection)
        }
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
            e.contains("tricolor, box, arc, rust-gc, dumpster, gc-arena, or all or every"),
            "{e}"
        );
        let o = opts(&["--runtime", "box,tricolor"]).unwrap();
        assert_eq!(names_of(&o), ["box", "tricolor"]);
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
        let text = table(&o, &rows).text();
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
