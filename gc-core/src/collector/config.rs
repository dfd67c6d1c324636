//! The collector's settings: GC percent (GOGC), soft memory limit (GOMEMLIMIT), the forced
//! cycle period, the number of mark workers, the trace switch and the count-zero
//! reclamation switch (`TRICOLOR_PROMPT_RECLAIM`, held by `reclaim/queue.rs`), with their
//! environment variables.
//!
//! Environment variables are read once, at the first use of the collector. A bad value is
//! a configuration error the program cannot run correctly with: it panics with a message
//! naming the variable and the accepted range.

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

// All Relaxed: settings read by the pacer at cycle boundaries; a stale read delays the
// effect of a change by at most one trigger check.
static GC_PERCENT: AtomicU64 = AtomicU64::new(DEFAULT_GC_PERCENT as u64);
static MEMORY_LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
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
            "tricolor-gc: TRICOLOR_GC_PERCENT must be an integer from -1 to {MAX_GC_PERCENT} or \"off\" (negative disables automatic cycles), got {text:?}"
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
            "tricolor-gc: TRICOLOR_MEMORY_LIMIT must be a byte count from 1 to {} with an optional B, KiB, MiB, GiB or TiB suffix, or \"off\"; got {text:?}",
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

/// Parses `TRICOLOR_MARK_WORKERS`: an integer from 1 to `MAX_MARK_WORKERS`.
pub(crate) fn parse_mark_workers(text: &str) -> Result<usize, String> {
    let text = text.trim();
    match text.parse::<usize>() {
        Ok(v) if (1..=MAX_MARK_WORKERS).contains(&v) => Ok(v),
        _ => Err(format!(
            "tricolor-gc: TRICOLOR_MARK_WORKERS must be an integer from 1 to {MAX_MARK_WORKERS}, got {text:?}"
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
            "tricolor-gc: TRICOLOR_PROMPT_RECLAIM must be 0 (count-zero reclamation off) or 1 (on, the default), got {other:?}"
        )),
    }
}

/// The number of background mark workers: `TRICOLOR_MARK_WORKERS`, or a quarter of the
/// CPUs, at least one (Go's 25% dedicated-worker share, DESIGN §5).
pub(crate) fn mark_workers() -> usize {
    init_from_env();
    match MARK_WORKERS.load(Ordering::Relaxed) {
        0 => {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            (cpus / 4).clamp(1, MAX_MARK_WORKERS)
        }
        set => set,
    }
}

/// Reads the environment once.
pub(crate) fn init_from_env() {
    ENV.get_or_init(|| {
        if let Ok(text) = std::env::var("TRICOLOR_GC_PERCENT") {
            let percent = parse_gc_percent(&text).unwrap_or_else(|e| panic!("{e}"));
            GC_PERCENT.store(percent as i64 as u64, Ordering::Relaxed);
        }
        if let Ok(text) = std::env::var("TRICOLOR_MEMORY_LIMIT") {
            let limit = parse_memory_limit(&text).unwrap_or_else(|e| panic!("{e}"));
            MEMORY_LIMIT.store(limit, Ordering::Relaxed);
        }
        if let Ok(text) = std::env::var("TRICOLOR_MARK_WORKERS") {
            let workers = parse_mark_workers(&text).unwrap_or_else(|e| panic!("{e}"));
            MARK_WORKERS.store(workers, Ordering::Relaxed);
        }
        if let Ok(text) = std::env::var("TRICOLOR_PROMPT_RECLAIM") {
            let on = parse_prompt_reclaim(&text).unwrap_or_else(|e| panic!("{e}"));
            crate::reclaim::set_enabled(on);
        }
        if let Ok(text) = std::env::var("TRICOLOR_TRACE") {
            let on = match text.trim() {
                "1" => true,
                "0" | "" => false,
                other => panic!("tricolor-gc: TRICOLOR_TRACE must be 0 or 1, got {other:?}"),
            };
            TRACE.store(on, Ordering::Relaxed);
        }
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
    Duration::from_millis(FORCE_PERIOD_MS.load(Ordering::Relaxed))
}

pub(crate) fn set_force_period(period: Duration) {
    FORCE_PERIOD_MS.store(period.as_millis().max(1) as u64, Ordering::Relaxed);
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
        let err = parse_gc_percent("-5").unwrap_err();
        assert!(
            err.contains("TRICOLOR_GC_PERCENT") && err.contains("-1 to 1000000"),
            "{err}"
        );
        assert!(parse_gc_percent("abc").is_err());
        assert!(parse_gc_percent("2000000").is_err());
    }

    #[test]
    fn mark_workers_values() {
        assert_eq!(parse_mark_workers("1"), Ok(1));
        assert_eq!(parse_mark_workers(" 4 "), Ok(4));
        assert_eq!(parse_mark_workers("64"), Ok(64));
        let err = parse_mark_workers("0").unwrap_err();
        assert!(
            err.contains("TRICOLOR_MARK_WORKERS") && err.contains("1 to 64"),
            "{err}"
        );
        assert!(parse_mark_workers("65").is_err());
        assert!(parse_mark_workers("two").is_err());
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
    fn memory_limit_values() {
        assert_eq!(parse_memory_limit("1024"), Ok(1024));
        assert_eq!(parse_memory_limit("64MiB"), Ok(64 << 20));
        assert_eq!(parse_memory_limit("2 GiB"), Ok(2 << 30));
        assert_eq!(parse_memory_limit("off"), Ok(usize::MAX));
        let err = parse_memory_limit("12 parsecs").unwrap_err();
        assert!(err.contains("TRICOLOR_MEMORY_LIMIT"), "{err}");
        assert!(parse_memory_limit("0").is_err());
        assert!(parse_memory_limit("99999999999999999999TiB").is_err());
    }
}
