//! `--runtime all`: runs every registered runtime as a child process of this same binary
//! (`std::env::current_exe()`), one after another, so each gets a fresh process (its own
//! peak RSS, no allocator state or collector threads left over from another runtime), then
//! prints one comparison table from the children's JSON summaries.
//!
//! A runtime that cannot run the requested `--threads` is skipped with the reason; a
//! child that fails (non-zero exit, missing summary) is reported in the table, and the
//! parent then exits with code 1.

use std::process::Command;

use crate::config::Config;
use crate::report::{self, Paths, Row};
use crate::runtimes::RUNTIMES;

/// Runs all runtimes; returns false if any child failed.
pub(crate) fn run_all(cfg: &Config) -> Result<bool, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to run its children: {e}"))?;
    let mut rows = Vec::new();
    for rt in RUNTIMES {
        if cfg.threads > 1 && !rt.w2.multi_thread {
            rows.push(Row::Skipped {
                runtime: rt.name.to_string(),
                why: format!("single-threaded collector, --threads {}", cfg.threads),
            });
            continue;
        }
        let status = Command::new(&exe)
            .args(cfg.child_args(rt.name))
            .status()
            .map_err(|e| {
                format!(
                    "cannot start {} for runtime {}: {e}",
                    exe.display(),
                    rt.name
                )
            })?;
        let row = if status.success() {
            match report::read_json(&Paths::new(&cfg.out, rt.name).json) {
                Ok(s) => Row::Ran(Box::new(s)),
                Err(why) => Row::Failed {
                    runtime: rt.name.to_string(),
                    why,
                },
            }
        } else {
            Row::Failed {
                runtime: rt.name.to_string(),
                why: format!("child exited with {status}"),
            }
        };
        rows.push(row);
        println!();
    }
    let ok = !rows.iter().any(|r| matches!(r, Row::Failed { .. }));
    println!(
        "comparison ({} MiB live, {} s churn, {} thread(s); gaps and stalls: percentiles are \
         upper bounds at most 0.1% high, maxima exact):",
        cfg.live_mib, cfg.duration_s, cfg.threads
    );
    print!("{}", report::comparison(&rows));
    Ok(ok)
}
