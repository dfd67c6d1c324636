//! The pause-time harness (DESIGN.md §10, workload W2), run by the `tricolor-gc-bench`
//! binary.
//!
//! Builds a live set of small binary trees, churns short-lived trees on every mutator
//! thread while replacing part of the live set, and records every collector-caused stall:
//! the collector's own pauses where the runtime reports them, and the mutator's view (the
//! gaps between loop iterations). Writes `<runtime>.csv`, `.json` and `.svg` under `--out`.
//!
//! Module map (modules of the library):
//! - `config`: flags, `--help`, usage errors (exit code 2), on `cli`'s range checks;
//! - `runtimes`: the registry of runtimes and the W2 workload on each;
//! - `probe`: loop-gap histograms and raw samples;
//! - `sampler`: the thread polling the collector's pause history, and the progress line;
//! - `report`: text report, CSV, JSON, comparison table;
//! - `plot`: the SVG;
//! - `children`: `--runtime all`, one child process per runtime.

use std::process::ExitCode;

use crate::config::{self, Config, Selection};
use crate::{children, plot, report, runtimes};

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
    let result = match cfg.runtime {
        Selection::All => children::run_all(&cfg),
        Selection::One(name) => run_one(&cfg, name).map(|()| true),
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

fn run_one(cfg: &Config, name: &str) -> Result<(), String> {
    let rt =
        runtimes::by_name(name).expect("tricolor-gc-bench: parser accepted an unknown runtime");
    let outcome = (rt.w2.run)(cfg).map_err(|e| e.to_string())?;
    let summary = report::Summary::of(&outcome, cfg.live_mib);
    let paths = report::Paths::new(&cfg.out, rt.name);
    report::write_csv(&outcome, &paths.csv)
        .map_err(|e| format!("cannot write {}: {e}", paths.csv.display()))?;
    report::write_json(&summary, &paths.json)
        .map_err(|e| format!("cannot write {}: {e}", paths.json.display()))?;
    plot::draw(&outcome, &paths.svg)?;
    print!("{}", report::text(&summary, &paths));
    Ok(())
}
