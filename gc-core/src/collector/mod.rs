//! The collector: a concurrent tricolor mark-sweep with roots found by subtraction.
//!
//! | module | role | Go |
//! |---|---|---|
//! | `header` | object header, per-type info | `mbitmap.go` type info |
//! | `phase` | Off / Mark / Sweep, barrier entry ordering | `gcphase`, `writeBarrier.enabled` |
//! | `mark` | counting, roots, marking, shading | `mgcmark.go` |
//! | `work` | grey-object buffers: mutators', workers', the global list | `mgcwork.go`, `mwbbuf.go` |
//! | `workers` | background mark workers and the jobs they run | `gcBgMarkWorker` |
//! | `cycle` | the collector thread, triggers, `collect()` | `mgc.go`, `proc.go` forcegc |
//! | `config` | GC percent, memory limit, env vars | `debug.SetGCPercent`, GOMEMLIMIT |
//! | `pacer` | heap goal, trigger, assist ratio, mark workers (a pure state machine on an injected clock) | `mgcpacer.go` |
//! | `limiter` | the GC CPU limiter the pacer owns (a leaky bucket) | `mgclimit.go` |
//! | `pacing` | the pacer's driver: heap counters in, goal, trigger and assist ratio out | `gcController` updates in `mgc.go` |
//! | `assist` | one thread's mark assist credit and debt | `gcAssistBytes` |
//! | `mark_assist` | what a thread in debt does: scan grey objects, or wait for credit | `gcAssistAlloc` |
//! | `stats` | `Stats`, pause history, the trace line | `MemStats`, gctrace |
//! | `fatal` | internal errors on collector threads abort with a message | `throw` |
//!
//! Count-zero reclamation, which the cycle driver schedules, is its own module (`reclaim/`),
//! and so is the sweeper (`sweep/`: drop glue and freeing of unmarked objects, Go's
//! `mgcsweep.go`).
//! The argument that no reachable object is freed is in `docs/collector.md`.

mod assist;
mod config;
mod cycle;
mod fatal;
pub(crate) mod header;
mod limiter;
pub(crate) mod mark;
mod mark_assist;
mod pacer;
pub(crate) mod pacing;
pub(crate) mod phase;
mod stats;
mod work;
mod workers;

use std::time::Duration;

pub use stats::Stats;

/// Runs one full collection cycle now and returns when its marking and sweeping are
/// complete (like Go's `runtime.GC()`).
///
/// If a cycle is already running, `collect` waits for it and then runs a new one, so every
/// object that was unreachable when `collect` was called has been freed when it returns.
/// Concurrent callers share cycles.
///
/// # Panics
/// When called from a destructor that a collector thread is running (a `Drop` of a value
/// that died in a cycle's sweep, or that the collector's drain or a mark worker reclaimed):
/// the cycle would wait for itself. A destructor that count-zero reclamation runs on the
/// thread that dropped the last handle may call it.
///
/// # Examples
/// ```
/// let before = tricolor_gc_core::stats().cycles;
/// tricolor_gc_core::collect();
/// assert!(tricolor_gc_core::stats().cycles > before);
/// ```
pub fn collect() {
    cycle::collect();
}

/// A snapshot of the collector's statistics.
///
/// # Examples
/// ```
/// let s = tricolor_gc_core::stats();
/// assert!(s.heap_goal_bytes >= 4 << 20 || s.cycles == 0);
/// ```
pub fn stats() -> Stats {
    cycle::ensure_started();
    let counters = stats::COUNTERS.lock();
    let totals = crate::heap::counter_totals();
    let reclaim_drop_panics = crate::reclaim::drop_panics();
    let freed = counters.freed_objects + totals.reclaimed_objects;
    Stats {
        cycles: counters.cycles,
        heap_objects: totals.gc_objects.saturating_sub(freed) as usize,
        heap_bytes: crate::heap::totals().in_use_bytes,
        heap_goal_bytes: counters.heap_goal_bytes,
        total_pause: counters.total_pause,
        pauses: counters.pauses.iter().copied().collect(),
        forced_cycles: counters.forced_cycles,
        swept_spans: counters.swept_spans,
        bitmap_swept_spans: counters.bitmap_swept_spans,
        assist_time: pacing::assist_time(),
        assist_scanned_objects: pacing::assist_scanned(),
        mark_time: counters.mark_time,
        sweep_time: counters.sweep_time,
        mark_cpu: counters.mark_cpu,
        last_trigger_bytes: counters.trigger_bytes,
        pause_count: counters.pause_count,
        reclaimed_objects: totals.reclaimed_objects,
        reclaimed_bytes: totals.reclaimed_bytes,
        reclaim_assist_time: Duration::from_nanos(totals.assist_nanos),
        reclaim_drop_panics,
        drop_panics: counters.drop_panics + reclaim_drop_panics,
    }
}

/// Sets the GC percent (Go's `GOGC`) and returns the previous value.
///
/// The heap may grow this percent over the live heap before the next automatic cycle; a
/// negative value disables automatic and periodic cycles (`collect()` still works). Values
/// above 1,000,000 are clamped. The initial value is 100, or `TRICOLOR_GC_PERCENT`. The
/// heap goal and trigger are recomputed at once.
///
/// # Examples
/// ```
/// let old = tricolor_gc_core::set_gc_percent(200);
/// assert_eq!(tricolor_gc_core::set_gc_percent(old), 200);
/// ```
pub fn set_gc_percent(percent: i32) -> i32 {
    let old = config::swap_gc_percent(percent);
    cycle::rearm();
    old
}

/// Sets the soft memory limit in bytes (Go's `GOMEMLIMIT`) and returns the previous one.
///
/// The heap goal stays under the limit (less 3% headroom), so cycles start earlier as the
/// heap approaches it, and threads that allocate while a cycle runs assist it, so the heap
/// stays near the limit even with automatic cycles otherwise off (a GC percent of -1 or a
/// very high one, like Go's `GOGC=off` with `GOMEMLIMIT`). A live heap above the limit
/// cannot meet it: then collection runs back to back, but the CPU limiter refuses assists
/// once collecting took about half the CPU over the last seconds, so the program slows down
/// instead of stalling. `usize::MAX` means no limit (the default, or
/// `TRICOLOR_MEMORY_LIMIT`).
///
/// # Examples
/// ```
/// let old = tricolor_gc_core::set_memory_limit(512 << 20);
/// assert_eq!(tricolor_gc_core::set_memory_limit(old), 512 << 20);
/// ```
pub fn set_memory_limit(bytes: usize) -> usize {
    let old = config::swap_memory_limit(bytes);
    cycle::rearm();
    old
}

/// Sets the period after which a cycle is forced if none ran (Go's `forcegcperiod`) and
/// returns the previous period.
///
/// When no cycle of any kind has run for this long, the collector thread starts one and
/// counts it in [`Stats::forced_cycles`], so cyclic garbage on a heap that never reaches its
/// goal is still freed. The initial period is 2 minutes, or `TRICOLOR_FORCE_PERIOD_MS`.
///
/// The period is kept in whole milliseconds: a fraction of a millisecond is dropped and
/// a period under 1 ms (including [`Duration::ZERO`]) is clamped to 1 ms. A very long
/// period such as [`Duration::MAX`] in effect turns forced cycles off. The collector
/// checks the period between polls of its idle loop (every 50 ms), so a change takes
/// effect within about 50 ms, and a period shorter than that forces a cycle about every
/// 50 ms. No cycle is forced while the GC percent is negative ([`set_gc_percent`]).
///
/// # Examples
/// ```
/// use std::time::Duration;
///
/// let old = tricolor_gc_core::set_force_period(Duration::from_secs(60));
/// assert_eq!(tricolor_gc_core::set_force_period(Duration::ZERO), Duration::from_secs(60));
/// // Zero was clamped to 1 ms.
/// assert_eq!(tricolor_gc_core::set_force_period(old), Duration::from_millis(1));
/// ```
#[doc(alias = "forcegcperiod")]
pub fn set_force_period(period: Duration) -> Duration {
    config::swap_force_period(period)
}

pub(crate) use cycle::ensure_started;

/// Called by `Gc::new` after its op: if this thread's cache took a new span (or a large
/// object) since the last call, it first frees its own count-zero garbage
/// (`reclaim::assist_own`), then assists a running cycle in proportion to what it took
/// (`mark_assist.rs`). A thread-local load when nothing was taken.
#[inline]
pub(crate) fn after_refill() {
    let bytes = mark_assist::take_pending();
    if bytes != 0 {
        refilled(bytes);
    }
}

#[cold]
#[inline(never)]
fn refilled(bytes: usize) {
    crate::reclaim::assist_own();
    mark_assist::assist(bytes);
    if crate::heap::take_growth_wait() {
        mark_assist::finish_drop_pass();
    }
}

/// Benchmarks only: holds the next cycle in its `Mark` phase (after the roots pass) while
/// `hold` is true, so that barrier costs can be measured during a cycle. Start the cycle
/// with `collect()` on another thread and wait for [`__marking_held`].
#[doc(hidden)]
pub fn __hold_marking(hold: bool) {
    cycle::HOLD_MARKING.store(hold, crate::sync::Ordering::Relaxed);
}

/// Benchmarks only: whether a cycle is currently held in `Mark` by [`__hold_marking`].
#[doc(hidden)]
pub fn __marking_held() -> bool {
    cycle::HELD.load(crate::sync::Ordering::Relaxed)
}
