//! The pause-time harness (DESIGN.md §10, workloads W2 and W3, `--workload`), run by the
//! `tricolor-gc-bench` binary.
//!
//! Builds a live set of small binary trees, churns short-lived trees on every mutator
//! thread while replacing part of the live set (in W3 every node also points to its
//! parent, so the garbage is cyclic), and records every collector-caused stall:
//! the collector's own pauses where the runtime reports them, and the mutator's view (the
//! gaps between loop iterations). Writes `<runtime>.csv`, `.json` and `.svg` under `--out`.
//!
//! # Algorithm
//! 1. One runtime: run it in this process ([`run_one`]) and print its report.
//! 2. More than one (a list or `all`): run each, one after another, as a child process of
//!    this program with the same flags and `--runtime NAME` (`children.rs`), so every
//!    run has a fresh process; print each child's report as it ends. A runtime that
//!    cannot run the configuration (a single-threaded collector under `--threads 2`, Go
//!    without a Go toolchain) is skipped with one line saying why; a child that fails is
//!    a row of the comparison, and the exit status becomes 1.
//! 3. Build the comparison from the children's JSON summaries and write it to stdout,
//!    `compare.md` and `compare.svg`.
//! 4. End with the paths of everything written.
//!
//! Module map (modules of the library):
//! - `config`: flags, `--help`, usage errors (exit code 2), on `cli`'s range checks;
//! - `runtimes`: the registry of runtimes and the churn workloads on each (`outcome` is
//!   what a run measured);
//! - `probe`: loop-gap histograms and raw samples;
//! - `sampler`: the thread polling the collector's pause history, and the progress line;
//! - `report`: text report, CSV, JSON, the comparison's rows;
//! - `plot`: the SVG of one run; `compare`: the comparison's table and chart;
//! - `children`: the child-process runner.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::children::{self, Stderr};
use crate::config::{self, Config};
use crate::report::{self, Outcome, Paths};
use crate::runtimes::Runtime;

/// The harness program: parses the command line, runs, reports; returns the exit status.
pub fn main() -> ExitCode {
    let cfg = config::parse(std::env::args_os()).unwrap_or_else(|e| e.exit());
    if let Err(e) = std::fs::create_dir_all(&cfg.out) {
        eprintln!(
            "tricolor-gc-bench: cannot create the --out directory {}: {e}",
            cfg.out.display()
        );
        return ExitCode::FAILURE;
    }
    let result = match cfg.runtime.0[..] {
        [rt] => match (rt.churn.available)() {
            Err(why) => {
                println!("{}", skipped(rt, &why));
                Ok(true)
            }
            Ok(()) => run_one(&cfg, rt).map(|paths| {
                print_files(&paths);
                true
            }),
        },
        _ => run_many(&cfg),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(msg) => {
            eprintln!("tricolor-gc-bench: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `rt` in this process, writes its files and prints its report; returns the files.
fn run_one(cfg: &Config, rt: &Runtime) -> Result<Vec<PathBuf>, String> {
    let outcome = (rt.churn.run)(cfg).map_err(|e| e.to_string())?;
    let summary = report::Summary::of(&outcome, cfg.live_mib);
    let paths = report::Paths::new(&cfg.out, rt.name);
    report::write_all(&outcome, &summary, &paths)?;
    print!("{}", report::text(&summary));
    Ok(paths.all())
}

/// Runs every selected runtime in a child; returns false if any child failed.
fn run_many(cfg: &Config) -> Result<bool, String> {
    let exe = children::this_program()?;
    let mut runs = Vec::new();
    let mut files = Vec::new();
    let n = cfg.runtime.0.len();
    for (i, rt) in cfg.runtime.0.iter().enumerate() {
        let outcome = if cfg.threads > 1 && !rt.churn.multi_thread {
            Outcome::Skipped(format!(
                "single-threaded collector, --threads {}",
                cfg.threads
            ))
        } else if let Err(why) = (rt.churn.available)() {
            println!("{}", skipped(rt, &why));
            Outcome::Skipped(why)
        } else {
            let position = format!("{}/{n}", i + 1);
            let run = children::run(
                Command::new(&exe).args(cfg.child_args(rt.name, &position)),
                Stderr::Inherit,
            );
            match run {
                Ok(report) => {
                    println!("{report}");
                    let paths = Paths::new(&cfg.out, rt.name);
                    files.extend(paths.all());
                    match report::read_json(&paths.json) {
                        Ok(s) => Outcome::Ran(Box::new(s)),
                        Err(why) => Outcome::Failed(why),
                    }
                }
                Err(why) => Outcome::Failed(why),
            }
        };
        runs.push((rt.name.to_string(), outcome));
    }
    let ok = !runs.iter().any(|(_, o)| matches!(o, Outcome::Failed(_)));
    let title = format!(
        "{}: {} MiB live, {} s churn, {} mutator thread(s), one process per runtime",
        cfg.workload.name(),
        cfg.live_mib,
        cfg.duration_s,
        cfg.threads
    );
    let comparison = report::comparison(title, &runs);
    print!("{}", comparison.text());
    let md = cfg.out.join("compare.md");
    let svg = cfg.out.join("compare.svg");
    std::fs::write(&md, comparison.markdown())
        .map_err(|e| format!("cannot write {}: {e}", md.display()))?;
    comparison.draw(&svg)?;
    files.extend([md, svg]);
    print_files(&files);
    Ok(ok)
}

/// The one line that says a runtime was skipped, and why.
fn skipped(rt: &Runtime, why: &str) -> String {
    format!("tricolor-gc-bench: {} skipped: {why}", rt.name)
}

/// The report's last line: every file this run wrote.
fn print_files(files: &[impl AsRef<Path>]) {
    let list: Vec<String> = files
        .iter()
        .map(|p| p.as_ref().display().to_string())
        .collect();
    println!("files written: {}", list.join(", "));
}
