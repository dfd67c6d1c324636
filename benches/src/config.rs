//! Command-line flags of the pause-time harness (clap derive).
//!
//! # Rules
//! 1. Every flag takes `--flag VALUE` or `--flag=VALUE`; `--quiet` and `--help` take none.
//! 2. Every value is checked while parsing, so the rest of the harness can trust
//!    [`Config`]: numbers against a range (`cli::Range`; the ranges are the constants
//!    below, which `--help` shows too), `--workload` against its choices ([`Workload`],
//!    each documented in `--help`).
//! 3. A bad flag or value exits with status 2 and clap's message naming the flag, the
//!    value and the accepted range or choices; `--help` prints to stdout and exits 0.
//!
//! A lone `--runtime` that cannot run `--threads N` (rust-gc and gc-arena are
//! single-threaded) is also a usage error (status 2), raised by [`parse`]; in a list or
//! `all` it is skipped with the reason instead.

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::cli::{self, Range};
use crate::runtimes::{self, Runtime, RUNTIMES};

/// Default `--out` directory (ignored by git).
pub(crate) const DEFAULT_OUT: &str = "bench-out";

const LIVE_MIB: Range<u64> = Range { lo: 1, hi: 65536 };
const DURATION_S: Range<f64> = Range {
    lo: 0.1,
    hi: 86400.0,
};
const THREADS: Range<usize> = Range { lo: 1, hi: 256 };
const REPLACE_FRACTION: Range<f64> = Range { lo: 0.0, hi: 1.0 };
const CHURN_DEPTH: Range<u32> = Range { lo: 0, hi: 20 };
const LIVE_DEPTH: Range<u32> = Range { lo: 0, hi: 16 };
const GAP_THRESHOLD_US: Range<u64> = Range {
    lo: 1,
    hi: 10_000_000,
};
const SEED: Range<u64> = Range {
    lo: 0,
    hi: u64::MAX,
};

/// The churn workload (DESIGN.md §10): the shape of every tree the run builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Workload {
    /// Acyclic churn: each node holds its children only, so a dropped tree is garbage a
    /// reference count can free
    W2,
    /// Cyclic churn: W2's trees, with every node also holding an edge to its parent, so a
    /// dropped tree is cyclic garbage that only tracing frees (Arc's edge is a Weak, Box's
    /// a raw pointer: neither owns its parent)
    W3,
}

impl Workload {
    /// The name the report, the JSON and the comparison use: `W2`, `W3`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::W2 => "W2",
            Workload::W3 => "W3",
        }
    }

    /// The value `--workload` takes: `w2`, `w3`.
    pub(crate) fn arg(self) -> &'static str {
        match self {
            Workload::W2 => "w2",
            Workload::W3 => "w3",
        }
    }
}

/// The runtimes to run, in order: one runs in this process, more each in a child.
#[derive(Clone, Debug)]
pub(crate) struct Selection(pub(crate) Vec<&'static Runtime>);

fn selection(text: &str) -> Result<Selection, String> {
    let known: Vec<&'static Runtime> = RUNTIMES.iter().collect();
    if text == "all" {
        return Ok(Selection(known));
    }
    cli::runtime_list(text, &known, "all").map(Selection)
}

fn directory(text: &str) -> Result<PathBuf, String> {
    if text.is_empty() {
        return Err("expected a directory".to_string());
    }
    Ok(PathBuf::from(text))
}

/// A validated configuration: the harness's command line.
#[derive(Parser, Clone, Debug)]
#[command(
    name = "tricolor-gc-bench",
    about = "Pause-time harness (DESIGN.md §10, workloads W2 and W3)",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    disable_version_flag = true
)]
pub(crate) struct Config {
    /// Runtime(s) to measure: one, a comma-separated list or all; more than one runs each in
    /// a child process, then writes compare.md and compare.svg
    #[arg(long, value_name = "NAMES", default_value = runtimes::DEFAULT_RUNTIME, value_parser = selection)]
    pub(crate) runtime: Selection,
    /// The churn workload
    #[arg(long, value_name = "NAME", value_enum, default_value_t = Workload::W2)]
    pub(crate) workload: Workload,
    /// Live set size in MiB, estimated per runtime from its node size
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = |s: &str| LIVE_MIB.parse(s))]
    pub(crate) live_mib: u64,
    /// Length of the churn phase in seconds
    #[arg(long = "duration", value_name = "SECS", default_value_t = 10.0, value_parser = |s: &str| DURATION_S.parse(s))]
    pub(crate) duration_s: f64,
    /// Mutator threads, each owning 1/N of the live set; rust-gc and gc-arena accept only 1
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = |s: &str| THREADS.parse(s))]
    pub(crate) threads: usize,
    /// Probability per iteration of replacing a random live tree
    #[arg(long, value_name = "F", default_value_t = 0.1, value_parser = |s: &str| REPLACE_FRACTION.parse(s))]
    pub(crate) replace_fraction: f64,
    /// Depth of the short-lived tree allocated per iteration (2^(D+1)-1 nodes)
    #[arg(long, value_name = "D", default_value_t = 4, value_parser = |s: &str| CHURN_DEPTH.parse(s))]
    pub(crate) churn_depth: u32,
    /// Depth of each live tree
    #[arg(long, value_name = "D", default_value_t = 4, value_parser = |s: &str| LIVE_DEPTH.parse(s))]
    pub(crate) live_depth: u32,
    /// Loop gaps longer than this are kept as raw samples for the CSV and the timeline
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = |s: &str| GAP_THRESHOLD_US.parse(s))]
    pub(crate) gap_threshold_us: u64,
    /// Seed of the workload's random numbers
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = |s: &str| SEED.parse(s))]
    pub(crate) seed: u64,
    /// Where the output files go
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT, value_parser = directory)]
    pub(crate) out: PathBuf,
    /// No progress line on stderr
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Which run of a multi-runtime run this is (K/N), for the progress line; set by the
    /// parent for its children
    #[arg(long, value_name = "K/N", hide = true, value_parser = position)]
    pub(crate) position: Option<String>,
}

fn position(text: &str) -> Result<String, String> {
    let whole = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match text.split_once('/') {
        Some((k, n)) if whole(k) && whole(n) => Ok(text.to_string()),
        _ => Err("expected K/N".to_string()),
    }
}

const LONG_ABOUT: &str = "\
Pause-time harness (DESIGN.md §10, workloads W2 and W3)

Builds a live set of small binary trees, then for a fixed time allocates short-lived
trees on every mutator thread while replacing a fraction of the live set, and records
every collector-caused stall: the collector's own pauses (where the runtime reports them)
and the mutator's view, the gaps between consecutive loop iterations. In W2 the trees are
acyclic; in W3 every node also points back to its parent, so the garbage is cyclic.";

const AFTER_HELP: &str = "\
Output files (under --out), per runtime; times are ms since the churn started:
    <runtime>.csv           raw samples: kind,thread,t_ms,duration_us (kind: gap, pause
                            or assist; thread empty for process-wide collector stalls)
    <runtime>.timeline.csv  the heap timeline, one row per sample (every ~5 ms):
                            t_ms,heap_bytes,heap_goal_bytes,rss_bytes,live_bytes (empty
                            where the runtime does not expose the figure)
    <runtime>.cycles.csv    collection cycles and their phases: cycle,phase,start_ms,end_ms
    <runtime>.json          the summary (timeline.cycles: the same cycles)
    <runtime>.svg           heap timeline, stall timeline and loop-gap histogram
and, from more than one runtime:
    compare.md              the comparison table in markdown
    compare.svg             the same figures as bars (allocation rate, peak RSS over
                            live, longest mutator gap, stop p99)

Exit status: 0 on success, 1 if a run failed (checksum mismatch, I/O error, child
crash), 2 on a bad command line.";

impl Config {
    /// The flags that reproduce this configuration for one runtime, run `position` of a
    /// multi-runtime run (used for children).
    pub(crate) fn child_args(&self, runtime: &str, position: &str) -> Vec<String> {
        vec![
            format!("--runtime={runtime}"),
            format!("--position={position}"),
            format!("--workload={}", self.workload.arg()),
            format!("--live-mib={}", self.live_mib),
            format!("--duration={}", self.duration_s),
            format!("--threads={}", self.threads),
            format!("--replace-fraction={}", self.replace_fraction),
            format!("--churn-depth={}", self.churn_depth),
            format!("--live-depth={}", self.live_depth),
            format!("--gap-threshold-us={}", self.gap_threshold_us),
            format!("--seed={}", self.seed),
            format!("--out={}", self.out.display()),
        ]
        .into_iter()
        .chain(self.quiet.then(|| "--quiet".to_string()))
        .collect()
    }
}

/// The clap command: the derive's, with every flag's range appended to its help line.
fn command() -> clap::Command {
    cli::with_notes(
        Config::command(),
        &[
            (
                "runtime",
                format!("names: {}", runtimes::names().join(", ")),
            ),
            ("live_mib", LIVE_MIB.describe()),
            ("duration_s", DURATION_S.describe()),
            ("threads", THREADS.describe()),
            ("replace_fraction", REPLACE_FRACTION.describe()),
            ("churn_depth", CHURN_DEPTH.describe()),
            ("live_depth", LIVE_DEPTH.describe()),
            ("gap_threshold_us", GAP_THRESHOLD_US.describe()),
            ("seed", SEED.describe()),
        ],
    )
}

/// Parses `args` (the program name first); a bad command line is a clap error (status 2,
/// `--help` status 0), to be shown with `clap::Error::exit`.
pub(crate) fn parse<I, T>(args: I) -> Result<Config, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut cmd = command();
    let matches: ArgMatches = cmd.try_get_matches_from_mut(args)?;
    let cfg = Config::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
    if let [rt] = cfg.runtime.0[..] {
        if cfg.threads > 1 && !rt.churn.multi_thread {
            return Err(cmd.error(
                ErrorKind::ArgumentConflict,
                format!(
                    "--threads {} is not possible with --runtime {}: its collector is \
                     single-threaded (use --threads 1)",
                    cfg.threads, rt.name
                ),
            ));
        }
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, clap::Error> {
        parse(std::iter::once("tricolor-gc-bench").chain(args.iter().copied()))
    }

    fn names(c: &Config) -> Vec<&'static str> {
        c.runtime.0.iter().map(|r| r.name).collect()
    }

    fn message(args: &[&str]) -> String {
        let e = run(args).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        e.to_string()
    }

    #[test]
    fn both_value_forms_parse() {
        let c = run(&[
            "--live-mib",
            "4",
            "--duration=2.5",
            "--runtime=arc",
            "--quiet",
        ])
        .unwrap();
        assert_eq!(c.live_mib, 4);
        assert_eq!(c.duration_s, 2.5);
        assert_eq!(names(&c), ["arc"]);
        assert!(c.quiet);
        let d = run(&[]).unwrap();
        assert_eq!((d.live_mib, d.duration_s, d.threads), (64, 10.0, 1));
        assert_eq!(d.workload, Workload::W2, "W2 is the default");
        assert_eq!(run(&["--workload", "w3"]).unwrap().workload, Workload::W3);
        assert_eq!(run(&["--workload=w2"]).unwrap().workload, Workload::W2);
        assert_eq!(names(&d), [runtimes::DEFAULT_RUNTIME]);
        assert_eq!(
            names(&run(&["--runtime", "arc,box"]).unwrap()),
            ["arc", "box"]
        );
        assert_eq!(
            run(&["--runtime=all"]).unwrap().runtime.0.len(),
            RUNTIMES.len()
        );
        // In a list, a single-threaded runtime with --threads 2 is skipped, not an error.
        assert!(run(&["--threads", "2", "--runtime", "arc,rust-gc"]).is_ok());
    }

    #[test]
    fn bad_values_name_flag_range_and_input() {
        let e = message(&["--live-mib", "x"]);
        assert!(e.contains("'x'") && e.contains("--live-mib"), "{e}");
        assert!(e.contains("expected a whole number from 1 to 65536"), "{e}");
        assert!(message(&["--live-mib", "0"]).contains("from 1 to 65536"));
        assert!(message(&["--replace-fraction", "1.5"]).contains("from 0 to 1"));
        assert!(message(&["--duration", "nan"]).contains("from 0.1 to 86400"));
        assert!(message(&["--bogus", "1"]).contains("--bogus"));
        assert!(message(&["--threads"]).contains("--threads"));
        let e = message(&["--runtime", "java"]);
        assert!(
            e.contains("'java'") && e.contains("tricolor, box, arc"),
            "{e}"
        );
        let e = message(&["--threads", "2", "--runtime", "rust-gc"]);
        assert!(e.contains("single-threaded"), "{e}");
        let e = message(&["--workload", "w4"]);
        assert!(
            e.contains("'w4'") && e.contains("--workload") && e.contains("w2, w3"),
            "{e}"
        );
    }

    #[test]
    fn help_shows_every_range() {
        let help = command().render_long_help().to_string();
        for range in [
            LIVE_MIB.describe(),
            DURATION_S.describe(),
            THREADS.describe(),
            GAP_THRESHOLD_US.describe(),
            SEED.describe(),
        ] {
            assert!(help.contains(&range), "--help lacks {range}:\n{help}");
        }
        for choice in ["w2: Acyclic churn", "w3: Cyclic churn"] {
            assert!(help.contains(choice), "--help lacks {choice}:\n{help}");
        }
        assert_eq!(run(&["--help"]).unwrap_err().exit_code(), 0);
    }

    #[test]
    fn child_args_round_trip() {
        let c = run(&[
            "--live-mib=8",
            "--threads=2",
            "--quiet",
            "--seed=7",
            "--workload=w3",
        ])
        .unwrap();
        let args = c.child_args("arc", "2/3");
        let back = run(&args.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
        assert_eq!(back.live_mib, 8);
        assert_eq!(back.threads, 2);
        assert_eq!(back.seed, 7);
        assert_eq!(back.workload, Workload::W3);
        assert!(back.quiet);
        assert_eq!(names(&back), ["arc"]);
        assert_eq!(back.position.as_deref(), Some("2/3"));
    }
}
