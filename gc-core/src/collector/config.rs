//! The collector's settings: GC percent (GOGC), soft memory limit (GOMEMLIMIT), the forced
//! cycle period (Go's `forcegcperiod`), the number of mark workers, the trace switch and
//! the count-zero reclamation switch (`TRICOLOR_PROMPT_RECLAIM`, held by
//! `reclaim/queue.rs`) and the safepoint's membarrier threshold
//! (`TRICOLOR_MEMBARRIER_MAX_US`, held by `heap/fence_choice.rs`), with their environment
//! variables.
//!
//! # Reading the environment
//! 1. `init_from_env` reads the variables once per process, at the first use of the
//!    collector: `ensure_started` and every getter and setter here call it first, so a
//!    setter called before the collector starts is applied after the environment and wins
//!    over it.
//! 2. Each value goes through its `parse_*` function, which returns the setting or a
//!    message naming the variable, the accepted values and the rejected text.
//! 3. A bad value (non-numeric, negative where that is not allowed, out of range, not
//!    UTF-8) is not fatal: `read_var` prints one line on stderr (`bad_value_warning`),
//!    `tricolor-gc: warning: <message>; keeping the default <default>`, and the setting
//!    keeps its default. A typo in a deployment's environment costs the tuning, not the
//!    program. (Go's `readGOGC` falls back to 100 without a word; its `readGOMEMLIMIT`
//!    throws. We warn for every variable.)
//!
//! | variable | accepted | default |
//! |---|---|---|
//! | `TRICOLOR_GC_PERCENT` | -1 to 1000000, or `off` (= -1) | 100 |
//! | `TRICOLOR_MEMORY_LIMIT` | bytes, optional B/KiB/MiB/GiB/TiB suffix, or `off` | off |
//! | `TRICOLOR_FORCE_PERIOD_MS` | 1 to 86400000 (one day) | 120000 (2 minutes) |
//! | `TRICOLOR_MARK_WORKERS` | 1 to 64 | a quarter of the CPUs, at least one |
//! | `TRICOLOR_PROMPT_RECLAIM` | 0 or 1 | 1 |
//! | `TRICOLOR_TRACE` | 0 or empty, or 1 | 0 |
//! | `TRICOLOR_MEMBARRIER_MAX_US` | 0 to 1000000, or `off` | off (`heap/fence_choice.rs`) |
//!
//! # Memory ordering
//! (1) `ENV.get_or_init` makes the stores of the one initialising call happen-before the
//!     return of every `init_from_env`, so a getter never sees the pre-environment value
//!     after the environment was read.
//! (2) Everything else is `Relaxed`: the settings are independent words read by the
//!     collector at trigger checks and cycle boundaries; a stale read delays a change by at
//!     most one check (for the forced period, one idle poll of the collector thread).

use std::fmt::Display;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use crate::sync::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Default GC percent (GOGC).
pub(crate) const DEFAULT_GC_PERCENT: i32 = 100;
/// Largest accepted GC percent.
pub(crate) const MAX_GC_PERCENT: i32 = 1_000_000;
/// Most mark workers `TRICOLOR_MARK_WORKERS` accepts.
pub(crate) const MAX_MARK_WORKERS: usize = 64;
/// The forced cycle period (Go's `forcegcperiod`).
pub(crate) const DEFAULT_FORCE_PERIOD: Duration = Duration::from_secs(120);
/// Largest period `TRICOLOR_FORCE_PERIOD_MS` accepts: one day, in milliseconds.
pub(crate) const MAX_FORCE_PERIOD_MS: u64 = 86_400_000;

// All Relaxed: see fact (2) in the module docs.
static GC_PERCENT: AtomicU64 = AtomicU64::new(DEFAULT_GC_PERCENT as u64);
static MEMORY_LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// The forced cycle period in whole milliseconds; at least 1.
static FORCE_PERIOD_MS: AtomicU64 = AtomicU64::new(DEFAULT_FORCE_PERIOD.as_millis() as u64);
static TRACE: AtomicBool = AtomicBool::new(false);
/// From `TRICOLOR_MARK_WORKERS`; 0 = not set (use the default).
static MARK_WORKERS: AtomicUsize = AtomicUsize::new(0);
static ENV: OnceLock<()> = OnceLock::new();

/// Parses `TRICOLOR_GC_PERCENT`: an integer from -1 to 1000000, or `off`.
pub(crate) fn parse_gc_percent(text: &str) -> Result<i32, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(-1);
    }
    match text.parse::<i64>() {
        Ok(v) if (-1..=MAX_GC_PERCENT as i64).contains(&v) => Ok(v as i32),
        _ => Err(format!(
            "TRICOLOR_GC_PERCENT must be an integer from -1 to {MAX_GC_PERCENT} or \"off\"; got {text:?}"
        )),
    }
}

/// Parses `TRICOLOR_MEMORY_LIMIT`: bytes with an optional B/KiB/MiB/GiB/TiB suffix, or `off`.
pub(crate) fn parse_memory_limit(text: &str) -> Result<usize, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(usize::MAX);
    }
    let err = || {
        format!(
            "TRICOLOR_MEMORY_LIMIT must be a byte count from 1 to {} with an optional B, KiB, MiB, GiB or TiB suffix, or \"off\"; got {text:?}",
            usize::MAX
        )
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let value: usize = digits.parse().map_err(|_| err())?;
    let scale: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => return Err(err()),
    };
    match value.checked_mul(scale) {
        Some(bytes) if bytes > 0 => Ok(bytes),
        _ => Err(err()),
    }
}

/// Parses `TRICOLOR_FORCE_PERIOD_MS`: an integer number of milliseconds from 1 to
/// `MAX_FORCE_PERIOD_MS` (one day).
pub(crate) fn parse_force_period(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(ms) if (1..=MAX_FORCE_PERIOD_MS).contains(&ms) => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "TRICOLOR_FORCE_PERIOD_MS must be an integer number of milliseconds from 1 to {MAX_FORCE_PERIOD_MS} (one day); got {text:?}"
        )),
    }
}

/// Parses `TRICOLOR_MARK_WORKERS`: an integer from 1 to `MAX_MARK_WORKERS`.
pub(crate) fn parse_mark_workers(text: &str) -> Result<usize, String> {
    let text = text.trim();
    match text.parse::<usize>() {
        Ok(v) if (1..=MAX_MARK_WORKERS).contains(&v) => Ok(v),
        _ => Err(format!(
            "TRICOLOR_MARK_WORKERS must be an integer from 1 to {MAX_MARK_WORKERS}; got {text:?}"
        )),
    }
}

/// Largest threshold `TRICOLOR_MEMBARRIER_MAX_US` accepts: one second, in microseconds.
pub(crate) const MAX_MEMBARRIER_MAX_US: u64 = 1_000_000;

/// Parses `TRICOLOR_MEMBARRIER_MAX_US`: an integer number of microseconds from 0 to
/// `MAX_MEMBARRIER_MAX_US`, or `off` (never switch to fences; `heap/fence_choice.rs`).
pub(crate) fn parse_membarrier_max(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    if text == "off" {
        return Ok(None);
    }
    match text.parse::<u64>() {
        Ok(us) if us <= MAX_MEMBARRIER_MAX_US => Ok(Some(Duration::from_micros(us))),
        _ => Err(format!(
            "TRICOLOR_MEMBARRIER_MAX_US must be an integer number of microseconds from 0 to {MAX_MEMBARRIER_MAX_US} or \"off\"; got {text:?}"
        )),
    }
}

/// Parses `TRICOLOR_PROMPT_RECLAIM`: `1` (count-zero reclamation on, the default) or `0`
/// (off: every count-zero object is left to the cycles).
pub(crate) fn parse_prompt_reclaim(text: &str) -> Result<bool, String> {
    match text.trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        other => Err(format!(
            "TRICOLOR_PROMPT_RECLAIM must be 0 (count-zero reclamation off) or 1 (on); got {other:?}"
        )),
    }
}

/// Parses `TRICOLOR_TRACE`: `1` (one line per cycle on stderr), `0` or empty (off).
pub(crate) fn parse_trace(text: &str) -> Result<bool, String> {
    match text.trim() {
        "1" => Ok(true),
        "0" | "" => Ok(false),
        other => Err(format!(
            "TRICOLOR_TRACE must be 1 (one line per cycle on stderr) or 0 or empty (off); got {other:?}"
        )),
    }
}

/// The mark worker count when `TRICOLOR_MARK_WORKERS` is not set: a quarter of the CPUs,
/// at least one (Go's 25% dedicated-worker share, DESIGN §5).
fn default_mark_workers() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cpus / 4).clamp(1, MAX_MARK_WORKERS)
}

/// The number of background mark workers: `TRICOLOR_MARK_WORKERS`, or
/// `default_mark_workers()`.
pub(crate) fn mark_workers() -> usize {
    init_from_env();
    match MARK_WORKERS.load(Ordering::Relaxed) {
        0 => default_mark_workers(),
        set => set,
    }
}

/// The warning for a bad value (step 3 in the module docs): `message` from the variable's
/// `parse_*` function, then the default that stays in force.
fn bad_value_warning(message: &str, default: impl Display) -> String {
    format!("tricolor-gc: warning: {message}; keeping the default {default}")
}

/// Reads variable `name` (if set) with `parse`, and hands a good value to `apply`; a bad
/// one gets one warning line on stderr instead and leaves the setting at `default`.
fn read_var<T>(
    name: &str,
    parse: fn(&str) -> Result<T, String>,
    default: impl Display,
    apply: impl FnOnce(T),
) {
    let Some(value) = std::env::var_os(name) else {
        return;
    };
    // A value that is not UTF-8 becomes U+FFFD-carrying text, which every parser rejects
    // (all accepted forms are ASCII), so it is warned about like any other bad value.
    match parse(&value.to_string_lossy()) {
        Ok(v) => apply(v),
        Err(message) => {
            // Not `eprintln!`: a failing stderr must not turn a warning into a panic.
            let _ = writeln!(
                std::io::stderr(),
                "{}",
                bad_value_warning(&message, default)
            );
        }
    }
}

/// Reads the environment once (steps 1-3 in the module docs).
pub(crate) fn init_from_env() {
    ENV.get_or_init(|| {
        read_var(
            "TRICOLOR_GC_PERCENT",
            parse_gc_percent,
            DEFAULT_GC_PERCENT,
            |percent| GC_PERCENT.store(percent as i64 as u64, Ordering::Relaxed),
        );
        read_var(
            "TRICOLOR_MEMORY_LIMIT",
            parse_memory_limit,
            "\"off\" (no limit)",
            |limit| MEMORY_LIMIT.store(limit, Ordering::Relaxed),
        );
        read_var(
            "TRICOLOR_FORCE_PERIOD_MS",
            parse_force_period,
            format_args!("{} (2 minutes)", DEFAULT_FORCE_PERIOD.as_millis()),
            store_force_period,
        );
        read_var(
            "TRICOLOR_MARK_WORKERS",
            parse_mark_workers,
            format_args!(
                "{} (a quarter of the CPUs, at least one)",
                default_mark_workers()
            ),
            |workers| MARK_WORKERS.store(workers, Ordering::Relaxed),
        );
        read_var(
            "TRICOLOR_PROMPT_RECLAIM",
            parse_prompt_reclaim,
            "1 (on)",
            crate::reclaim::set_enabled,
        );
        read_var("TRICOLOR_TRACE", parse_trace, "0 (off)", |on| {
            TRACE.store(on, Ordering::Relaxed)
        });
        read_var(
            "TRICOLOR_MEMBARRIER_MAX_US",
            parse_membarrier_max,
            "\"off\" (membarrier kept)",
            crate::heap::set_membarrier_max,
        );
    });
}

pub(crate) fn gc_percent() -> i32 {
    init_from_env();
    GC_PERCENT.load(Ordering::Relaxed) as i64 as i32
}

pub(crate) fn swap_gc_percent(percent: i32) -> i32 {
    init_from_env();
    let clamped = percent.clamp(i32::MIN, MAX_GC_PERCENT);
    GC_PERCENT.swap(clamped as i64 as u64, Ordering::Relaxed) as i64 as i32
}

pub(crate) fn memory_limit() -> usize {
    init_from_env();
    MEMORY_LIMIT.load(Ordering::Relaxed)
}

pub(crate) fn swap_memory_limit(limit: usize) -> usize {
    init_from_env();
    MEMORY_LIMIT.swap(limit, Ordering::Relaxed)
}

pub(crate) fn force_period() -> Duration {
    init_from_env();
    Duration::from_millis(FORCE_PERIOD_MS.load(Ordering::Relaxed))
}

/// `period` in whole milliseconds, at least 1 and at most `u64::MAX`.
fn period_ms(period: Duration) -> u64 {
    period.as_millis().clamp(1, u64::MAX as u128) as u64
}

fn store_force_period(period: Duration) {
    FORCE_PERIOD_MS.store(period_ms(period), Ordering::Relaxed);
}

/// Sets the forced cycle period (rounded down to whole milliseconds, at least 1 ms) and
/// returns the previous one.
pub(crate) fn swap_force_period(period: Duration) -> Duration {
    init_from_env();
    Duration::from_millis(FORCE_PERIOD_MS.swap(period_ms(period), Ordering::Relaxed))
}

pub(crate) fn trace_enabled() -> bool {
    init_from_env();
    TRACE.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_percent_values() {
        assert_eq!(parse_gc_percent("100"), Ok(100));
        assert_eq!(parse_gc_percent(" 0 "), Ok(0));
        assert_eq!(parse_gc_percent("-1"), Ok(-1));
        assert_eq!(parse_gc_percent("off"), Ok(-1));
        for bad in ["-5", "abc", "2000000", ""] {
            let err = parse_gc_percent(bad).unwrap_err();
            assert!(
                err.contains("TRICOLOR_GC_PERCENT")
                    && err.contains("-1 to 1000000")
                    && err.contains(&format!("got {bad:?}")),
                "{err}"
            );
        }
    }

    #[test]
    fn mark_workers_values() {
        assert_eq!(parse_mark_workers("1"), Ok(1));
        assert_eq!(parse_mark_workers(" 4 "), Ok(4));
        assert_eq!(parse_mark_workers("64"), Ok(64));
        for bad in ["0", "65", "two", "-1"] {
            let err = parse_mark_workers(bad).unwrap_err();
            assert!(
                err.contains("TRICOLOR_MARK_WORKERS") && err.contains("1 to 64"),
                "{err}"
            );
        }
    }

    #[test]
    fn prompt_reclaim_values() {
        assert_eq!(parse_prompt_reclaim("1"), Ok(true));
        assert_eq!(parse_prompt_reclaim(" 0 "), Ok(false));
        for bad in ["", "yes", "2", "on"] {
            let err = parse_prompt_reclaim(bad).unwrap_err();
            assert!(
                err.contains("TRICOLOR_PROMPT_RECLAIM")
                    && err.contains("0 (")
                    && err.contains("1 ("),
                "{err}"
            );
        }
    }

    #[test]
    fn trace_values() {
        assert_eq!(parse_trace("1"), Ok(true));
        assert_eq!(parse_trace(" 0"), Ok(false));
        assert_eq!(parse_trace(""), Ok(false));
        for bad in ["yes", "2", "on"] {
            let err = parse_trace(bad).unwrap_err();
            assert!(
                err.contains("TRICOLOR_TRACE") && err.contains("1 (") && err.contains("0 or"),
                "{err}"
            );
        }
    }

    #[test]
    fn memory_limit_values() {
        assert_eq!(parse_memory_limit("1024"), Ok(1024));
        assert_eq!(parse_memory_limit("64MiB"), Ok(64 << 20));
        assert_eq!(parse_memory_limit("2 GiB"), Ok(2 << 30));
        assert_eq!(parse_memory_limit("off"), Ok(usize::MAX));
        for bad in ["12 parsecs", "0", "-1", "99999999999999999999TiB"] {
            let err = parse_memory_limit(bad).unwrap_err();
            assert!(
                err.contains("TRICOLOR_MEMORY_LIMIT") && err.contains("byte count from 1"),
                "{err}"
            );
        }
    }

    #[test]
    fn force_period_values() {
        assert_eq!(parse_force_period("1"), Ok(Duration::from_millis(1)));
        assert_eq!(parse_force_period(" 100 "), Ok(Duration::from_millis(100)));
        assert_eq!(parse_force_period("120000"), Ok(DEFAULT_FORCE_PERIOD));
        assert_eq!(
            parse_force_period("86400000"),
            Ok(Duration::from_secs(24 * 60 * 60))
        );
        // Negative, non-numeric, fractional, zero, one past the range, far past u64.
        for bad in [
            "-5",
            "abc",
            "1.5",
            "",
            "0",
            "86400001",
            "99999999999999999999999",
        ] {
            let err = parse_force_period(bad).unwrap_err();
            assert!(
                err.contains("TRICOLOR_FORCE_PERIOD_MS")
                    && err.contains("1 to 86400000")
                    && err.contains(&format!("got {bad:?}")),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn membarrier_max_values() {
        assert_eq!(parse_membarrier_max("0"), Ok(Some(Duration::ZERO)));
        assert_eq!(
            parse_membarrier_max(" 20 "),
            Ok(Some(Duration::from_micros(20)))
        );
        assert_eq!(
            parse_membarrier_max("1000000"),
            Ok(Some(Duration::from_secs(1)))
        );
        assert_eq!(parse_membarrier_max("off"), Ok(None));
        for bad in [
            "-1",
            "abc",
            "2.5",
            "",
            "1000001",
            "OFF",
            "99999999999999999999999",
        ] {
            let err = parse_membarrier_max(bad).unwrap_err();
            assert!(
                err.contains("TRICOLOR_MEMBARRIER_MAX_US")
                    && err.contains("0 to 1000000")
                    && err.contains(&format!("got {bad:?}")),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn the_warning_names_the_rejected_text_and_the_default() {
        let err = parse_gc_percent("abc").unwrap_err();
        assert_eq!(
            bad_value_warning(&err, DEFAULT_GC_PERCENT),
            "tricolor-gc: warning: TRICOLOR_GC_PERCENT must be an integer from -1 to 1000000 \
             or \"off\"; got \"abc\"; keeping the default 100"
        );
        let err = parse_force_period("0").unwrap_err();
        let line = bad_value_warning(&err, 120_000);
        assert!(
            line.starts_with("tricolor-gc: warning: TRICOLOR_FORCE_PERIOD_MS")
                && line.ends_with("got \"0\"; keeping the default 120000"),
            "{line}"
        );
        assert!(!line.contains('\n'), "one line: {line}");
    }

    #[test]
    fn period_ms_rounds_down_and_clamps() {
        assert_eq!(period_ms(Duration::ZERO), 1);
        assert_eq!(period_ms(Duration::from_micros(999)), 1);
        assert_eq!(period_ms(Duration::from_micros(1500)), 1);
        assert_eq!(period_ms(Duration::from_millis(250)), 250);
        assert_eq!(period_ms(Duration::MAX), u64::MAX);
    }
}
