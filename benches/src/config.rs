//! Command-line flags of the pause-time harness, parsed by hand (a dozen flags do not need
//! clap's compile time).
//!
//! # Rules
//! 1. Every flag takes `--flag VALUE` or `--flag=VALUE`; `--quiet` and `--help` take none.
//! 2. Every value is range-checked here, so the rest of the harness can trust `Config`.
//! 3. A bad flag or value is a [`UsageError`] whose text names the flag, what it expects and
//!    what it got; `main` prints it after `tricolor-gc-bench: ` and exits with code 2.
//! 4. `--help` is [`HELP`], generated from the same table of limits the parser checks
//!    against, so the two cannot disagree.
//!
//! A `--runtime` that cannot run `--threads N` (rust-gc and gc-arena are single-threaded)
//! is also a usage error, raised by `runtimes::check_config` once the runtime is known.

use std::fmt;
use std::path::PathBuf;

use crate::runtimes;

/// Default `--out` directory (ignored by git).
pub(crate) const DEFAULT_OUT: &str = "bench-out";

/// Which runtime(s) to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Selection {
    /// One runtime, by its registry name.
    One(&'static str),
    /// Every registered runtime, each in a child process (`children.rs`).
    All,
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) runtime: Selection,
    pub(crate) live_mib: u64,
    pub(crate) duration_s: f64,
    pub(crate) threads: usize,
    pub(crate) replace_fraction: f64,
    pub(crate) churn_depth: u32,
    pub(crate) live_depth: u32,
    pub(crate) gap_threshold_us: u64,
    pub(crate) seed: u64,
    pub(crate) out: PathBuf,
    pub(crate) quiet: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            runtime: Selection::One(runtimes::DEFAULT_RUNTIME),
            live_mib: 64,
            duration_s: 10.0,
            threads: 1,
            replace_fraction: 0.1,
            churn_depth: 4,
            live_depth: 4,
            gap_threshold_us: 100,
            seed: 1,
            out: PathBuf::from(DEFAULT_OUT),
            quiet: false,
        }
    }
}

impl Config {
    /// The flags that reproduce this configuration for one runtime (used for children).
    pub(crate) fn child_args(&self, runtime: &str) -> Vec<String> {
        vec![
            format!("--runtime={runtime}"),
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

/// What the command line asked for.
#[derive(Debug)]
pub(crate) enum Command {
    Run(Config),
    Help,
}

/// A bad command line; `Display` is the message after `tricolor-gc-bench: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsageError(pub(crate) String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

// Limits, shared by the parser and the help text.
const LIVE_MIB: (u64, u64) = (1, 65536);
const DURATION_S: (f64, f64) = (0.1, 86400.0);
const THREADS: (u64, u64) = (1, 256);
const CHURN_DEPTH: (u64, u64) = (0, 20);
const LIVE_DEPTH: (u64, u64) = (0, 16);
const GAP_THRESHOLD_US: (u64, u64) = (1, 10_000_000);

/// The `--help` text.
pub(crate) fn help() -> String {
    let d = Config::default();
    let names = runtimes::names().join(", ");
    format!(
        "\
tricolor-gc-bench: pause-time harness (DESIGN.md §10, workload W2)

Builds a live set of small binary trees, then for a fixed time allocates short-lived
trees on every mutator thread while replacing a fraction of the live set, and records
every collector-caused stall: the collector's own pauses (where the runtime reports them)
and the mutator's view, the gaps between consecutive loop iterations.

USAGE:
    cargo run --release -p tricolor-gc-bench -- [FLAGS]

FLAGS:
    --runtime NAME        runtime to measure: {names}, or all (each in a child
                          process, then one comparison table)  [default: {rt}]
    --live-mib N          live set size in MiB, estimated per runtime from its node size
                          (whole number, {lm0}..={lm1})  [default: {lm}]
    --duration SECS       length of the churn phase in seconds ({d0}..={d1})  [default: {dur}]
    --threads N           mutator threads, each owning 1/N of the live set ({t0}..={t1});
                          rust-gc and gc-arena accept only 1  [default: {th}]
    --replace-fraction F  probability per iteration of replacing a random live tree
                          (0..=1)  [default: {rf}]
    --churn-depth D       depth of the short-lived tree allocated per iteration; a tree of
                          depth D has 2^(D+1)-1 nodes ({cd0}..={cd1})  [default: {cd}]
    --live-depth D        depth of each live tree ({ld0}..={ld1})  [default: {ld}]
    --gap-threshold-us N  loop gaps longer than this are kept as raw samples for the CSV
                          and the timeline ({g0}..={g1})  [default: {g}]
    --seed N              seed of the workload's random numbers (0..=2^64-1)  [default: {seed}]
    --out DIR             where <runtime>.csv, <runtime>.json and <runtime>.svg go
                          [default: {out}]
    --quiet               no progress line on stderr
    -h, --help            print this text

EXIT STATUS:
    0 on success, 1 if a run failed (checksum mismatch, I/O error, child crash),
    2 on a bad command line.
",
        rt = runtimes::DEFAULT_RUNTIME,
        lm0 = LIVE_MIB.0,
        lm1 = LIVE_MIB.1,
        lm = d.live_mib,
        d0 = DURATION_S.0,
        d1 = DURATION_S.1,
        dur = d.duration_s,
        t0 = THREADS.0,
        t1 = THREADS.1,
        th = d.threads,
        rf = d.replace_fraction,
        cd0 = CHURN_DEPTH.0,
        cd1 = CHURN_DEPTH.1,
        cd = d.churn_depth,
        ld0 = LIVE_DEPTH.0,
        ld1 = LIVE_DEPTH.1,
        ld = d.live_depth,
        g0 = GAP_THRESHOLD_US.0,
        g1 = GAP_THRESHOLD_US.1,
        g = d.gap_threshold_us,
        seed = d.seed,
        out = DEFAULT_OUT,
    )
}

/// Parses the arguments after the program name.
pub(crate) fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, UsageError> {
    let mut cfg = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        if arg == "--quiet" {
            cfg.quiet = true;
            continue;
        }
        if !arg.starts_with("--") {
            return Err(UsageError(format!(
                "unexpected argument \"{arg}\" (flags start with --; see --help)"
            )));
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        if !is_known(&flag) {
            return Err(UsageError(format!("unknown flag {flag} (see --help)")));
        }
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or_else(|| UsageError(format!("{flag} expects a value (see --help)")))?,
        };
        apply(&mut cfg, &flag, &value)?;
    }
    Ok(Command::Run(cfg))
}

const VALUE_FLAGS: &[&str] = &[
    "--runtime",
    "--live-mib",
    "--duration",
    "--threads",
    "--replace-fraction",
    "--churn-depth",
    "--live-depth",
    "--gap-threshold-us",
    "--seed",
    "--out",
];

fn is_known(flag: &str) -> bool {
    VALUE_FLAGS.contains(&flag)
}

fn apply(cfg: &mut Config, flag: &str, value: &str) -> Result<(), UsageError> {
    match flag {
        "--runtime" => {
            cfg.runtime = if value == "all" {
                Selection::All
            } else {
                let name = runtimes::names()
                    .into_iter()
                    .find(|n| *n == value)
                    .ok_or_else(|| {
                        UsageError(format!(
                            "--runtime expects one of {}, or all; got \"{value}\"",
                            runtimes::names().join(", ")
                        ))
                    })?;
                Selection::One(name)
            }
        }
        "--live-mib" => cfg.live_mib = whole(flag, value, LIVE_MIB)?,
        "--duration" => cfg.duration_s = number(flag, value, DURATION_S, "a number of seconds")?,
        "--threads" => cfg.threads = whole(flag, value, THREADS)? as usize,
        "--replace-fraction" => {
            cfg.replace_fraction = number(flag, value, (0.0, 1.0), "a fraction")?;
        }
        "--churn-depth" => cfg.churn_depth = whole(flag, value, CHURN_DEPTH)? as u32,
        "--live-depth" => cfg.live_depth = whole(flag, value, LIVE_DEPTH)? as u32,
        "--gap-threshold-us" => cfg.gap_threshold_us = whole(flag, value, GAP_THRESHOLD_US)?,
        "--seed" => {
            cfg.seed = value.parse().map_err(|_| {
                UsageError(format!(
                    "{flag} expects a whole number from 0 to {}, got \"{value}\"",
                    u64::MAX
                ))
            })?;
        }
        "--out" => {
            if value.is_empty() {
                return Err(UsageError(format!("{flag} expects a directory, got \"\"")));
            }
            cfg.out = PathBuf::from(value);
        }
        _ => unreachable!("tricolor-gc-bench: flag {flag} is in VALUE_FLAGS but not handled"),
    }
    Ok(())
}

fn whole(flag: &str, value: &str, (lo, hi): (u64, u64)) -> Result<u64, UsageError> {
    value
        .parse::<u64>()
        .ok()
        .filter(|v| (lo..=hi).contains(v))
        .ok_or_else(|| {
            UsageError(format!(
                "{flag} expects a whole number from {lo} to {hi}, got \"{value}\""
            ))
        })
}

fn number(flag: &str, value: &str, (lo, hi): (f64, f64), what: &str) -> Result<f64, UsageError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && (lo..=hi).contains(v))
        .ok_or_else(|| {
            UsageError(format!(
                "{flag} expects {what} from {lo} to {hi}, got \"{value}\""
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, UsageError> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Command::Run(c) => Ok(c),
            Command::Help => panic!("unexpected help"),
        }
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
        assert_eq!(c.runtime, Selection::One("arc"));
        assert!(c.quiet);
    }

    #[test]
    fn bad_values_name_flag_range_and_input() {
        let e = run(&["--live-mib", "x"]).unwrap_err();
        assert_eq!(
            e.0,
            "--live-mib expects a whole number from 1 to 65536, got \"x\""
        );
        assert!(run(&["--live-mib", "0"]).is_err());
        assert!(run(&["--replace-fraction", "1.5"]).is_err());
        assert!(run(&["--duration", "nan"]).is_err());
        assert!(run(&["--bogus", "1"])
            .unwrap_err()
            .0
            .contains("unknown flag --bogus"));
        assert!(run(&["--threads"])
            .unwrap_err()
            .0
            .contains("expects a value"));
        assert!(run(&["--runtime", "java"])
            .unwrap_err()
            .0
            .contains("got \"java\""));
    }

    #[test]
    fn child_args_round_trip() {
        let c = run(&["--live-mib=8", "--threads=2", "--quiet", "--seed=7"]).unwrap();
        let back = run(&c
            .child_args("arc")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>())
        .unwrap();
        assert_eq!(back.live_mib, 8);
        assert_eq!(back.threads, 2);
        assert_eq!(back.seed, 7);
        assert!(back.quiet);
        assert_eq!(back.runtime, Selection::One("arc"));
    }
}
