//! The pacer: when a cycle starts, how far the heap may grow, how much mark work a thread
//! that allocates during mark owes, and when collection must give the CPU back (mirrors Go's
//! `mgcpacer.go` and `mgclimit.go`: the Go 1.18 pacer of proposal 44167 and the Go 1.19 soft
//! memory limit and CPU limiter of proposal 48409).
//!
//! This module owns only arithmetic. `Pacer` is a state machine with no thread, no clock
//! and no global: the cycle driver feeds it events stamped with the time it read from a
//! [`Clock`] and the heap's counters, and reads its outputs (goal, trigger, assist ratio,
//! worker counts, limiter state). The driver keeps one `Pacer` and serialises calls to it
//! (a mutex, or the collector thread alone), so nothing in here is atomic. Each thread that
//! allocates keeps an [`AssistCredit`].
//!
//! # The model
//! The program allocates while a cycle marks. Background workers mark with 25% of the CPUs.
//! Marking must finish before the heap reaches the goal, so the pacer starts the cycle
//! early: the runway it leaves (goal − trigger) is what the program allocates while the
//! workers scan the expected work, at the allocation and scan rates measured during the
//! last mark. When that estimate holds, a cycle finishes at the goal and nobody assists.
//! When the program outruns it, every thread that allocates during mark does scan work in
//! proportion to what it allocates (assists), sized so that the scan work left is done by
//! the time the heap reaches the goal.
//!
//! 1. Between cycles (`Off`) the heap grows from the live heap toward the goal. The driver
//!    reports allocation and count-zero frees (`note_allocated`, `note_reclaimed`) and
//!    starts a cycle when `should_trigger` says the in-use estimate reached the trigger.
//! 2. `start_cycle` → `Mark`: background workers report scan work (`mark_progress`), which
//!    also fills a pool of background credit. An allocating thread's [`AssistCredit`]
//!    turns its allocation into debt, pays it from the pool, and tells the thread how much
//!    scan work to do itself for the rest (`on_allocate`, `repay`).
//! 3. `end_mark` (mark termination) → `Sweep`: the cycle's cons/mark ratio is measured, and
//!    the live heap and the expected scan work for the next cycle are set from what the
//!    mark found; the next cycle's goal and trigger apply from here.
//! 4. `end_cycle` → `Off`: the in-use estimate is reset to the heap after the sweep, and
//!    `should_trigger` may say yes again.
//!
//! All through, the CPU limiter (a leaky bucket) watches GC CPU time against mutator time;
//! while it limits, assists are refused so that the program keeps at least about half of
//! the CPU even when the memory limit cannot be met.
//!
//! # Formulas (Go's counterpart in brackets)
//! Notation: `p` is the GC percent, `marked` the bytes the last mark found live,
//! `live = marked − old_reclaimed` the live heap the goal is computed from (see
//! "Deliberately different"), `heap_live` the in-use estimate that the trigger is
//! compared with, `triggered` the `heap_live` at `start_cycle`, `W` the scan work of the
//! last mark (the expected scan work of this one), `u* = 0.25`.
//!
//! - (F1) Percent goal: `live × (1 + p/100)`, at least `MIN_HEAP_GOAL` (4 MiB); `∞` when
//!   `p < 0` [`commit`: `gcPercentHeapGoal`, `heapMinimum`].
//! - (F2) Memory-limit goal: with `overhead` the managed memory that is not heap objects
//!   (the driver tells it, `set_overhead`) and `overage = max(heap_live + overhead − limit,
//!   0)`, `room = limit − overhead − overage`, `goal = room − max(3% of room, 1 MiB)`, at
//!   least `live + MIN_RUNWAY_BYTES`; `∞` without a limit [`memoryLimitHeapGoal`].
//! - (F3) Goal: `min(F1, F2)`; when F1 is the smaller, and during mark, at least
//!   `triggered + MIN_RUNWAY_BYTES` [`heapGoalInternal`].
//! - (F4) Cons/mark, measured at `end_mark` over the mark phase of length `T` on `procs`
//!   CPUs that spent `mark_cpu` on marking: `u = mark_cpu / (T × procs)`,
//!   `current = allocated_in_mark × u / (scan_work × (1 − u))`, that is bytes allocated per
//!   mutator CPU-second over scan work per GC CPU-second. The estimate is the largest of
//!   `current` and the previous 4 measurements, a bias toward starting early [`endCycle`].
//! - (F5) Runway: `cons_mark × (1 − u*)/u* × W` = `3 × cons_mark × W` [`commit`: `runway`].
//! - (F6) Trigger: `goal − runway`, clamped to `[live + 45/64 × (goal − live),
//!   live + 61/64 × (goal − live)]` (70% to 95% of the way from the live heap to the goal);
//!   before any measurement `live + 7/8 × (goal − live)`; `goal` when `live ≥ goal`
//!   [`trigger`].
//! - (F7) Assist ratio (scan work owed per byte allocated during mark): `remaining work /
//!   remaining heap` = `max(W − done, 1000) / max(goal − heap_live, 1)`. When more than `W`
//!   was already done, the work becomes `heap_live` (every in-use byte may need work; Go
//!   also extrapolates the goal here, see "Deliberately different"). When `heap_live` is
//!   already past the goal, the goal becomes `1.1 × goal` and the work `heap_live`
//!   [`revise`].
//! - (F8) Assist credit: allocating `b` bytes adds `⌈b × F7⌉` of debt to the thread's
//!   balance. A thread in debt takes `max(debt, MIN_ASSIST_WORK)` (64 KiB, over-assisting to
//!   amortise the call) from the background pool first, and scans what the pool could not
//!   cover; its scanning is credited to its balance [`gcAssistAlloc`, `gcOverAssistWork`,
//!   `bgScanCredit`].
//! - (F9) Workers: `dedicated = round(0.25 × procs)`; when that is more than 30% off
//!   `0.25 × procs` it is rounded down instead, and one fractional worker makes up the rest:
//!   `fractional = 0.25 × procs − dedicated` of one worker's time (0.5 on 2 CPUs). It may
//!   start while its share of the mark phase is below `fractional` and stops when the share
//!   passes `1.2 × fractional` [`startCycle`, `pollFractionalWorkerExit`].
//! - (F10) CPU limiter: a bucket of capacity `procs × 1 CPU-second`. Every update over a
//!   window of `Δ` wall time adds `gc − mutator`, with `gc = assist time + (during mark)
//!   u* × Δ × procs` and `mutator = Δ × procs − gc`, and never goes below zero. It limits
//!   from when the bucket fills until it has drained `procs × 100 ms`. Between two fillings
//!   the bucket's level returns to where it was, so GC and mutator time are equal up to
//!   what overflowed: GC CPU is capped at about 50% over a window of 2 CPU-seconds per CPU
//!   [`gcCPULimiterState.accumulate`, `capacityPerProc`].
//!
//! # Deliberately different from Go
//! - **Count-zero reclamation lowers the live heap.** Go's live heap only changes at mark
//!   termination. Here objects are also freed between cycles when their count drops to
//!   zero (DESIGN §3b), and the goal should follow. Freed bytes are attributed first to
//!   objects allocated since the last mark (which `marked` does not include) and only the
//!   rest to the marked objects: `old_reclaimed` grows by `bytes − min(bytes, young)`, where
//!   `young` is what was allocated since the mark and not yet attributed. A program that
//!   churns short-lived objects therefore keeps its goal (its live heap did not shrink),
//!   while one that drops old structures sees the goal fall at once. Freed bytes also lower
//!   `heap_live`, so the trigger is reached later.
//! - No stacks or globals in F1: the roots are found by subtraction over the heap (DESIGN
//!   §3), so their cost is in `W`.
//! - The 4 MiB floor does not scale with the GC percent (DESIGN §7), and the trigger stays
//!   at or below 95% of the way even for big heaps (Go lets it rise to `goal − 4 MiB`).
//! - Stealing background credit that repays the debt ends the assist (Go still scans the
//!   rest of its 64 KiB over-assist). Go parks an assist that finds no work; here
//!   `on_allocate` only says how much to do, and the driver decides what a thread that
//!   finds no grey objects does.
//! - No minimum sweep distance (Go's `sweepDistMinTrigger`): a cycle starts only after the
//!   sweep finished (DESIGN §6), so `should_trigger` is false until `end_cycle`.
//! - F7 never extrapolates the goal. Go, when a mark has done more work than the last one,
//!   pushes the goal back toward a hard goal of `(1 + p/100) × goal`, because its scan work
//!   follows the live heap and more work means a live heap that grew. Here the count and
//!   roots passes visit every object, garbage included, so a mark does more work whenever
//!   more garbage waits: the extrapolation let the heap grow, which made the next mark's
//!   work larger still (measured with three mutators churning cyclic garbage: the heap
//!   reached 2.2x the goal, 5-7x the live heap). When the work done passes the estimate,
//!   the work left is taken to be the whole in-use heap, against the unchanged goal, so
//!   assists rise as the heap nears the goal.
//! - The limiter stays on until the bucket drained 100 ms per CPU; Go's turns off at the
//!   first update that drains it at all. When refused assists leave every thread in debt,
//!   the next update's assists then take all the mutator's CPU and refill the bucket, and
//!   the alternation loses that update's excess each time: in the simulator below (live
//!   heap over the limit, allocating as fast as it scans) Go's rule held GC CPU at 0.633,
//!   this one at 0.516 over 30 s (0.5 plus the bucket's first filling).
//! - The limiter refuses assists only while a memory limit is set. Its purpose is to keep a
//!   program whose live heap does not fit under the limit from collecting forever; a goal
//!   set by the GC percent alone always leaves room to meet it. Refusing assists there let
//!   three mutators that allocate faster than one collector thread frees outrun the goal
//!   as soon as their assists (counting and marking beside the collector) passed half the
//!   CPU: the heap reached 3-7x the live heap where the goal was 2x.
//! - The limiter counts no idle time and no stop-the-world time (there are no idle workers
//!   and the stops do not depend on the heap, DESIGN §5).
//! - When the driver reports no mark CPU (`Duration::ZERO`), F4 assumes Go's `u = 0.25 +
//!   assist time / (T × procs)`.
//!
//! # Invariants
//! - `trigger() ≤ heap_goal()`, and `live ≤ trigger()` (equal only when `live ≥ goal`).
//! - `old_reclaimed ≤ marked`, so `0 ≤ live ≤ marked`; `young` is at most what was
//!   allocated since the last mark.
//! - `0 ≤ fill ≤ capacity` in the limiter; it turns on when `fill` reaches `capacity` and is
//!   off whenever `fill ≤ capacity − release`.
//! - Phase transitions: `Off → Mark` (`start_cycle`), `Mark → Sweep` (`end_mark`), `Sweep →
//!   Off` (`end_cycle`); `mark_progress` only in `Mark`. Any other order panics.
//!
//! # Memory ordering
//! None: the module holds no shared state. The driver's lock (or its single thread) orders
//! every call.

use std::time::{Duration, Instant};

use super::assist::AssistRatio;
use super::limiter::CpuLimiter;

/// The smallest heap goal from the GC percent (Go's `heapMinimum` at GOGC=100).
pub(crate) const MIN_HEAP_GOAL: usize = 4 << 20;
/// The least room a goal leaves above the live heap or above the heap at the trigger (Go's
/// `minRunway`).
pub(crate) const MIN_RUNWAY_BYTES: usize = 64 << 10;
/// The least scan work an assist does (Go's `gcOverAssistWork`).
pub(crate) const MIN_ASSIST_WORK: u64 = 64 << 10;
/// Background mark workers' share of the CPUs (Go's `gcBackgroundUtilization`).
pub(crate) const BACKGROUND_UTILIZATION: f64 = 0.25;
/// How often the driver should call [`Pacer::tick`] at least (Go's
/// `gcCPULimiterUpdatePeriod`).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const LIMITER_UPDATE_PERIOD: Duration = Duration::from_millis(10);

/// Rounding the dedicated workers may miss the 25% target by this much before a fractional
/// worker is used (Go's `maxUtilError`).
const MAX_UTIL_ERROR: f64 = 0.3;
/// A fractional worker stops when its share exceeds its goal by this factor.
#[cfg_attr(not(test), allow(dead_code))]
const FRACTIONAL_EXIT_SLACK: f64 = 1.2;
/// The trigger lies between `MIN_TRIGGER_NUM / TRIGGER_DEN` and `MAX_TRIGGER_NUM /
/// TRIGGER_DEN` of the way from the live heap to the goal (Go's `triggerRatioDen`,
/// `minTriggerRatioNum`, `maxTriggerRatioNum`).
const TRIGGER_DEN: usize = 64;
const MIN_TRIGGER_NUM: usize = 45;
const MAX_TRIGGER_NUM: usize = 61;
/// The trigger before any cons/mark measurement: 7/8 of the way.
const DEFAULT_TRIGGER_NUM: usize = 7;
const DEFAULT_TRIGGER_DEN: usize = 8;
/// Previous cons/mark measurements the estimate takes the maximum over (Go's
/// `lastConsMark`).
const CONS_MARK_HISTORY: usize = 4;
/// The least remaining scan work the assist ratio assumes.
const MIN_SCAN_WORK_REMAINING: f64 = 1000.0;
/// How far past the goal the assist ratio aims once the heap passed it.
const MAX_OVERSHOOT: f64 = 1.1;

/// Memory-limit headroom: this percent of the room, at least `LIMIT_MIN_HEADROOM`.
const LIMIT_HEADROOM_PERCENT: usize = 3;
const LIMIT_MIN_HEADROOM: usize = 1 << 20;
/// The mutator's least share of a mark phase that F4 assumes, so that a mark that took
/// every CPU does not divide by zero.
const MIN_MUTATOR_SHARE: f64 = 0.01;

/// A monotonic time source: the time since some fixed origin.
///
/// The cycle driver reads it and passes the time into the [`Pacer`]'s events, so tests
/// drive the pacer from a manual clock.
pub(crate) trait Clock {
    /// The time since this clock's origin; never decreases.
    fn now(&self) -> Duration;
}

/// The real clock: time since the clock was made, from [`Instant`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub(crate) fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that only moves when told to, for tests.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct ManualClock {
    now: std::cell::Cell<Duration>,
}

#[cfg(test)]
impl ManualClock {
    /// Moves the clock forward by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        self.now.set(self.now.get() + by);
    }
}

#[cfg(test)]
impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.now.get()
    }
}

/// Where the pacer is in a cycle. Transitions: `Off → Mark → Sweep → Off` (module docs,
/// "Invariants").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PacerPhase {
    /// No cycle runs; the heap grows toward the trigger.
    Off,
    /// Marking; assists are on.
    Mark,
    /// Mark terminated; the sweep runs.
    Sweep,
}

/// How many background mark workers a cycle runs (F9).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct MarkWorkers {
    /// Workers that mark for the whole mark phase.
    pub(crate) dedicated: usize,
    /// The share of one worker's time the fractional worker marks, in `[0, 1)`; 0 when the
    /// dedicated workers alone are close enough to 25% of the CPUs.
    pub(crate) fractional: f64,
}

impl MarkWorkers {
    /// The workers for `procs` CPUs: 25% of them, as dedicated workers plus a fractional
    /// one where rounding would miss by more than 30% (1, 2, 3 and 6 CPUs).
    pub(crate) fn for_procs(procs: usize) -> Self {
        let target = procs as f64 * BACKGROUND_UTILIZATION;
        let mut dedicated = (target + 0.5) as usize;
        let error = dedicated as f64 / target - 1.0;
        if error.abs() > MAX_UTIL_ERROR {
            if dedicated as f64 > target {
                dedicated -= 1;
            }
            MarkWorkers {
                dedicated,
                fractional: target - dedicated as f64,
            }
        } else {
            MarkWorkers {
                dedicated,
                fractional: 0.0,
            }
        }
    }
}

/// The pacer's state machine (module docs). Not shared: the cycle driver serialises calls.
#[doc(alias = "gcControllerState")]
#[derive(Debug)]
pub(crate) struct Pacer {
    /// The GC percent; negative means no automatic cycles (stored as -1).
    gc_percent: i32,
    /// The soft memory limit; `usize::MAX` means none.
    memory_limit_bytes: usize,
    /// Managed memory counted against the limit that is not heap objects (F2).
    overhead_bytes: usize,
    procs: usize,
    #[cfg_attr(not(test), allow(dead_code))]
    workers: MarkWorkers,
    phase: PacerPhase,
    /// Cycles started; tags [`AssistCredit`] balances so a new cycle starts them at zero.
    cycle: u64,

    /// What the last mark found live (Go's `heapMarked`).
    marked_bytes: usize,
    /// The in-use estimate (Go's `heapLive`): `marked_bytes` at mark termination, then
    /// raised by allocation and lowered by count-zero frees; reset by `end_cycle`.
    heap_live_bytes: usize,
    /// Allocated since the last mark and not yet matched by a count-zero free.
    young_bytes: usize,
    /// Count-zero frees attributed to the marked objects; `live = marked − this`.
    old_reclaimed_bytes: usize,

    /// `heap_live_bytes` at `start_cycle`, during `Mark` only (Go's `triggered`).
    triggered_bytes: Option<usize>,
    /// The trigger that was in force when the last cycle started.
    last_trigger_bytes: usize,
    mark_start: Duration,
    /// Allocated since `start_cycle` (the "cons" of F4).
    allocated_in_mark_bytes: usize,
    /// Scan work done this mark, background and assists.
    scan_work_done: u64,
    /// Background scan work not yet taken by an assist (Go's `bgScanCredit`).
    bg_scan_credit: u64,
    /// Assist time this mark and in all cycles.
    assist_time_cycle: Duration,
    assist_time_total: Duration,
    /// Assist scan work this mark.
    assist_work_cycle: u64,

    /// The last mark's scan work: the work the next mark expects (`W`).
    last_scan_work: Option<u64>,
    /// The cons/mark estimate (F4); `None` before any measurement.
    cons_mark: Option<f64>,
    /// Previous measurements, oldest first; the first `cons_mark_count` are valid.
    cons_mark_history: [f64; CONS_MARK_HISTORY],
    cons_mark_count: usize,

    limiter: CpuLimiter,
}

impl Pacer {
    /// A pacer for `procs` CPUs at time `now`, before any cycle (live heap 0).
    ///
    /// # Panics
    /// If `procs` is 0.
    pub(crate) fn new(
        gc_percent: i32,
        memory_limit_bytes: usize,
        procs: usize,
        now: Duration,
    ) -> Self {
        assert!(procs > 0, "tricolor-gc: pacer: 0 CPUs");
        Pacer {
            gc_percent: gc_percent.max(-1),
            memory_limit_bytes,
            overhead_bytes: 0,
            procs,
            workers: MarkWorkers::for_procs(procs),
            phase: PacerPhase::Off,
            cycle: 0,
            marked_bytes: 0,
            heap_live_bytes: 0,
            young_bytes: 0,
            old_reclaimed_bytes: 0,
            triggered_bytes: None,
            last_trigger_bytes: 0,
            mark_start: now,
            allocated_in_mark_bytes: 0,
            scan_work_done: 0,
            bg_scan_credit: 0,
            assist_time_cycle: Duration::ZERO,
            assist_time_total: Duration::ZERO,
            assist_work_cycle: 0,
            last_scan_work: None,
            cons_mark: None,
            cons_mark_history: [0.0; CONS_MARK_HISTORY],
            cons_mark_count: 0,
            limiter: CpuLimiter::new(procs, now),
        }
    }

    // ---- settings ----

    /// Sets the GC percent and returns the previous one; negative values are stored as -1.
    /// Goal and trigger follow at once.
    pub(crate) fn set_gc_percent(&mut self, percent: i32) -> i32 {
        std::mem::replace(&mut self.gc_percent, percent.max(-1))
    }

    /// Sets the soft memory limit (`usize::MAX`: none) and returns the previous one.
    pub(crate) fn set_memory_limit(&mut self, bytes: usize) -> usize {
        std::mem::replace(&mut self.memory_limit_bytes, bytes)
    }

    /// Sets the managed memory counted against the limit besides heap objects (F2): span
    /// and page metadata, fragmentation, memory kept but unusable for objects. The driver
    /// has none to report (`pacing.rs`, "The memory limit"); the tests model some.
    #[cfg(test)]
    pub(crate) fn set_overhead(&mut self, bytes: usize) {
        self.overhead_bytes = bytes;
    }

    // ---- events ----

    /// A cycle starts with `heap_live_bytes` in use (Go's `startCycle`).
    ///
    /// # Panics
    /// If a cycle is already running (phase not `Off`).
    pub(crate) fn start_cycle(&mut self, now: Duration, heap_live_bytes: usize) {
        self.expect_phase(PacerPhase::Off, "start_cycle");
        self.last_trigger_bytes = self.trigger();
        self.limiter.update(now);
        self.limiter.gc_enabled = true;
        self.cycle += 1;
        self.phase = PacerPhase::Mark;
        self.heap_live_bytes = heap_live_bytes;
        self.triggered_bytes = Some(heap_live_bytes);
        self.mark_start = now;
        self.allocated_in_mark_bytes = 0;
        self.scan_work_done = 0;
        self.bg_scan_credit = 0;
        self.assist_time_cycle = Duration::ZERO;
        self.assist_work_cycle = 0;
    }

    /// Background workers did `scan_work_done` more scan work; it also becomes credit that
    /// assists may take (F8).
    ///
    /// # Panics
    /// Outside `Mark`.
    pub(crate) fn mark_progress(&mut self, scan_work_done: u64) {
        self.expect_phase(PacerPhase::Mark, "mark_progress");
        self.scan_work_done = self.scan_work_done.saturating_add(scan_work_done);
        self.bg_scan_credit = self.bg_scan_credit.saturating_add(scan_work_done);
    }

    /// Mark termination: `heap_marked_bytes` survived (objects allocated black during the
    /// mark included), the mark did `scan_work_total` scan work and spent `mark_cpu` of CPU
    /// time marking (background and assists; `ZERO` if unknown, see module docs). Measures
    /// the cycle's cons/mark (F4) and sets the live heap and the expected scan work.
    ///
    /// # Panics
    /// Outside `Mark`.
    pub(crate) fn end_mark(
        &mut self,
        now: Duration,
        heap_marked_bytes: usize,
        scan_work_total: u64,
        mark_cpu: Duration,
    ) {
        self.expect_phase(PacerPhase::Mark, "end_mark");
        self.limiter.update(now);
        self.limiter.gc_enabled = false;
        let duration = now.saturating_sub(self.mark_start);
        if !duration.is_zero() && self.allocated_in_mark_bytes > 0 && scan_work_total > 0 {
            let total_cpu = duration.as_secs_f64() * self.procs as f64;
            let gc_share = if mark_cpu.is_zero() {
                BACKGROUND_UTILIZATION + self.assist_time_cycle.as_secs_f64() / total_cpu
            } else {
                mark_cpu.as_secs_f64() / total_cpu
            }
            .clamp(0.0, 1.0 - MIN_MUTATOR_SHARE);
            let current = self.allocated_in_mark_bytes as f64 * gc_share
                / (scan_work_total as f64 * (1.0 - gc_share));
            self.record_cons_mark(current);
        }
        self.last_scan_work = Some(scan_work_total);
        self.marked_bytes = heap_marked_bytes;
        self.heap_live_bytes = heap_marked_bytes;
        self.young_bytes = 0;
        self.old_reclaimed_bytes = 0;
        self.triggered_bytes = None;
        self.phase = PacerPhase::Sweep;
    }

    /// The sweep finished with `heap_live_bytes` in use; the next cycle's trigger applies.
    ///
    /// # Panics
    /// Outside `Sweep`.
    pub(crate) fn end_cycle(&mut self, now: Duration, heap_live_bytes: usize) {
        self.expect_phase(PacerPhase::Sweep, "end_cycle");
        self.limiter.update(now);
        self.heap_live_bytes = heap_live_bytes;
        self.phase = PacerPhase::Off;
    }

    /// `bytes` more are in use (objects or whole spans, as the heap counts them).
    pub(crate) fn note_allocated(&mut self, bytes: usize) {
        self.heap_live_bytes = self.heap_live_bytes.saturating_add(bytes);
        self.young_bytes = self.young_bytes.saturating_add(bytes);
        if self.phase == PacerPhase::Mark {
            self.allocated_in_mark_bytes = self.allocated_in_mark_bytes.saturating_add(bytes);
        }
    }

    /// Count-zero reclamation freed `bytes`: the in-use estimate drops, and so does the live
    /// heap by the part not attributed to objects allocated since the last mark (module
    /// docs, "Deliberately different").
    pub(crate) fn note_reclaimed(&mut self, bytes: usize) {
        self.heap_live_bytes = self.heap_live_bytes.saturating_sub(bytes);
        let from_young = bytes.min(self.young_bytes);
        self.young_bytes -= from_young;
        self.old_reclaimed_bytes = self
            .old_reclaimed_bytes
            .saturating_add(bytes - from_young)
            .min(self.marked_bytes);
    }

    /// Sets the in-use estimate to a measured in-use total (after `note_allocated` and
    /// `note_reclaimed` for the same interval, which attribute the change). The driver's
    /// heap applies some frees late (a remotely freed slot stays in use until its span
    /// merges), so the sum of events drifts above the heap; the measurement wins.
    pub(crate) fn set_heap_live(&mut self, bytes: usize) {
        self.heap_live_bytes = bytes;
    }

    /// Brings the CPU limiter up to `now`; call at least every [`LIMITER_UPDATE_PERIOD`].
    pub(crate) fn tick(&mut self, now: Duration) {
        self.limiter.update(now);
    }

    // ---- outputs ----

    /// Where the pacer is in a cycle.
    pub(crate) fn phase(&self) -> PacerPhase {
        self.phase
    }

    /// Cycles started so far.
    pub(crate) fn cycle_count(&self) -> u64 {
        self.cycle
    }

    /// The in-use estimate the trigger is compared with (Go's `heapLive`).
    pub(crate) fn heap_live_bytes(&self) -> usize {
        self.heap_live_bytes
    }

    /// The live heap the goal is computed from: what the last mark found, less count-zero
    /// frees attributed to it.
    pub(crate) fn live_heap_bytes(&self) -> usize {
        self.marked_bytes - self.old_reclaimed_bytes
    }

    /// The heap goal (F3); `usize::MAX` when the GC percent is negative and there is no
    /// memory limit.
    pub(crate) fn heap_goal(&self) -> usize {
        self.goal_internal()
    }

    /// The in-use estimate at which the next cycle should start (F6); `usize::MAX` when the
    /// goal is.
    pub(crate) fn trigger(&self) -> usize {
        let goal = self.goal_internal();
        if goal == usize::MAX {
            return usize::MAX;
        }
        let live = self.live_heap_bytes();
        if live >= goal {
            return goal;
        }
        let span = goal - live;
        let min_trigger = live + span / TRIGGER_DEN * MIN_TRIGGER_NUM;
        let max_trigger = live + span / TRIGGER_DEN * MAX_TRIGGER_NUM;
        let trigger = match self.cons_mark {
            None => live + span / DEFAULT_TRIGGER_DEN * DEFAULT_TRIGGER_NUM,
            Some(cons_mark) => goal.saturating_sub(self.runway(cons_mark)),
        };
        trigger.clamp(min_trigger, max_trigger)
    }

    /// Whether the driver should start a cycle now: no cycle runs and the in-use estimate
    /// reached the trigger.
    pub(crate) fn should_trigger(&self) -> bool {
        let trigger = self.trigger();
        self.phase == PacerPhase::Off && trigger != usize::MAX && self.heap_live_bytes >= trigger
    }

    /// The trigger that was in force when the last cycle started.
    pub(crate) fn last_trigger_bytes(&self) -> usize {
        self.last_trigger_bytes
    }

    /// The scan work owed per byte allocated (F7, Go's `assistWorkPerByte`); 0 outside
    /// `Mark`.
    #[doc(alias = "assistWorkPerByte")]
    pub(crate) fn assist_ratio(&self) -> f64 {
        if self.triggered_bytes.is_none() {
            return 0.0;
        }
        let heap_live = self.heap_live_bytes as f64;
        let done = self.scan_work_done as f64;
        let max_scan_work = heap_live;
        let mut expected = self.expected_scan_work() as f64;
        let mut goal = self.goal_internal() as f64;
        // The goal is not pushed back toward Go's hard goal (module docs, "Deliberately
        // different"): the work left is taken to be the whole in-use heap instead.
        if done > expected {
            expected = max_scan_work;
        }
        if heap_live > goal {
            goal *= MAX_OVERSHOOT;
            expected = max_scan_work;
        }
        let remaining_work = (expected - done).max(MIN_SCAN_WORK_REMAINING);
        let remaining_heap = (goal - heap_live).max(1.0);
        remaining_work / remaining_heap
    }

    /// The cycle and assist ratio for [`AssistCredit::charge`]; `None` outside `Mark`.
    pub(crate) fn assist_snapshot(&self) -> Option<AssistRatio> {
        (self.phase == PacerPhase::Mark).then(|| AssistRatio {
            cycle: self.cycle,
            work_per_byte: self.assist_ratio(),
        })
    }

    /// The background workers cycles run (F9).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn workers(&self) -> MarkWorkers {
        self.workers
    }

    /// Whether the fractional worker may start marking: in `Mark`, with a fractional share,
    /// and having marked `worked` so far this mark, less than its share of the time since
    /// the mark started.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn fractional_worker_may_start(&self, now: Duration, worked: Duration) -> bool {
        self.phase == PacerPhase::Mark
            && self.workers.fractional > 0.0
            && self.fractional_share(now, worked) < self.workers.fractional
    }

    /// Whether a running fractional worker that has marked `worked` this mark should stop:
    /// its share passed 1.2 times its goal, or the mark is over.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn fractional_worker_should_stop(&self, now: Duration, worked: Duration) -> bool {
        self.phase != PacerPhase::Mark
            || self.fractional_share(now, worked) > FRACTIONAL_EXIT_SLACK * self.workers.fractional
    }

    /// Whether the CPU limiter is limiting (F10): GC CPU filled its bucket while a memory
    /// limit is set, so assists are refused until mutator time drains it. Without a limit
    /// the goal is the GC percent's, which assists hold at any CPU cost (module docs,
    /// "Deliberately different").
    pub(crate) fn gc_cpu_limited(&self) -> bool {
        self.limiter.enabled && self.memory_limit_bytes != usize::MAX
    }

    /// The cons/mark estimate (F4), `None` before the first measurement.
    pub(crate) fn cons_mark(&self) -> Option<f64> {
        self.cons_mark
    }

    /// Assist time reported through [`AssistCredit::repay`], over all cycles.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn assist_time(&self) -> Duration {
        self.assist_time_total
    }

    /// Assist scan work reported this mark (or the last one, between cycles).
    pub(crate) fn assist_work_this_cycle(&self) -> u64 {
        self.assist_work_cycle
    }

    // ---- internals ----

    fn expect_phase(&self, expected: PacerPhase, event: &str) {
        assert!(
            self.phase == expected,
            "tricolor-gc: pacer: {event} in phase {:?} (expected {expected:?})",
            self.phase
        );
    }

    /// F1.
    fn percent_goal(&self) -> usize {
        if self.gc_percent < 0 {
            return usize::MAX;
        }
        let grown = self.live_heap_bytes() as u128 * (100 + self.gc_percent as u128) / 100;
        usize::try_from(grown)
            .unwrap_or(usize::MAX)
            .max(MIN_HEAP_GOAL)
    }

    /// F2.
    fn memory_limit_goal(&self) -> usize {
        let limit = self.memory_limit_bytes;
        if limit == usize::MAX {
            return usize::MAX;
        }
        let floor = self.live_heap_bytes().saturating_add(MIN_RUNWAY_BYTES);
        let total = self.heap_live_bytes.saturating_add(self.overhead_bytes);
        let overage = total.saturating_sub(limit);
        let reserved = self.overhead_bytes.saturating_add(overage);
        if reserved >= limit {
            return floor;
        }
        let room = limit - reserved;
        let headroom = (room / 100 * LIMIT_HEADROOM_PERCENT).max(LIMIT_MIN_HEADROOM);
        let goal = if room < 2 * headroom {
            headroom
        } else {
            room - headroom
        };
        goal.max(floor)
    }

    /// Whether the live heap alone leaves no room under the memory limit (F2's goal is at
    /// its floor however little is allocated): the limit cannot be met, and the driver
    /// counts the time threads wait for the collector as collection time, so that the
    /// limiter caps it (`mark_assist.rs`).
    pub(crate) fn live_heap_over_limit(&self) -> bool {
        let limit = self.memory_limit_bytes;
        if limit == usize::MAX {
            return false;
        }
        let room = limit.saturating_sub(self.overhead_bytes);
        let headroom = (room / 100 * LIMIT_HEADROOM_PERCENT).max(LIMIT_MIN_HEADROOM);
        self.live_heap_bytes()
            .saturating_add(MIN_RUNWAY_BYTES)
            .saturating_add(headroom)
            >= room
    }

    /// Whether the in-use heap has reached the memory limit while the limit can be met (the
    /// live heap leaves room under it) and the CPU limiter is not limiting: an assist then
    /// keeps waiting for the cycle instead of giving up after its longest call
    /// (`mark_assist.rs`, step 4), since more allocation would run past the limit.
    pub(crate) fn at_memory_limit(&self) -> bool {
        let limit = self.memory_limit_bytes;
        limit != usize::MAX
            && self.heap_live_bytes.saturating_add(self.overhead_bytes) >= limit
            && !self.live_heap_over_limit()
            && !self.gc_cpu_limited()
    }

    /// F3.
    fn goal_internal(&self) -> usize {
        let by_percent = self.percent_goal();
        let by_limit = self.memory_limit_goal();
        if by_limit < by_percent {
            return by_limit;
        }
        match self.triggered_bytes {
            Some(triggered) if by_percent != usize::MAX => {
                by_percent.max(triggered.saturating_add(MIN_RUNWAY_BYTES))
            }
            _ => by_percent,
        }
    }

    /// F5.
    fn runway(&self, cons_mark: f64) -> usize {
        let factor = (1.0 - BACKGROUND_UTILIZATION) / BACKGROUND_UTILIZATION;
        // `as` saturates: a huge estimate gives `usize::MAX`, so the trigger clamps low.
        (cons_mark * factor * self.expected_scan_work() as f64) as usize
    }

    /// `W`: the last mark's scan work, or before any mark the heap at the trigger.
    fn expected_scan_work(&self) -> u64 {
        self.last_scan_work
            .unwrap_or_else(|| self.triggered_bytes.unwrap_or(self.heap_live_bytes) as u64)
            .max(1)
    }

    fn record_cons_mark(&mut self, current: f64) {
        let valid = &self.cons_mark_history[..self.cons_mark_count];
        let estimate = valid.iter().copied().fold(current, f64::max);
        self.cons_mark = Some(estimate);
        if self.cons_mark_count < CONS_MARK_HISTORY {
            self.cons_mark_history[self.cons_mark_count] = current;
            self.cons_mark_count += 1;
        } else {
            self.cons_mark_history.rotate_left(1);
            self.cons_mark_history[CONS_MARK_HISTORY - 1] = current;
        }
    }

    #[cfg_attr(not(test), allow(dead_code))]
    fn fractional_share(&self, now: Duration, worked: Duration) -> f64 {
        let elapsed = now.saturating_sub(self.mark_start);
        if elapsed.is_zero() {
            return 0.0;
        }
        worked.as_secs_f64() / elapsed.as_secs_f64()
    }

    /// Takes up to `want` background credit (F8).
    pub(crate) fn take_bg_credit(&mut self, want: u64) -> u64 {
        let taken = want.min(self.bg_scan_credit);
        self.bg_scan_credit -= taken;
        taken
    }

    /// An assist did `work` scan work in `cpu` time.
    pub(crate) fn record_assist(&mut self, work: u64, cpu: Duration) {
        if self.phase == PacerPhase::Mark {
            self.scan_work_done = self.scan_work_done.saturating_add(work);
            self.assist_work_cycle = self.assist_work_cycle.saturating_add(work);
            self.assist_time_cycle += cpu;
        }
        self.assist_time_total += cpu;
        self.limiter.assist_pool += cpu;
    }
}

#[cfg(test)]
mod tests {
    use super::super::assist::AssistCredit;
    use super::*;

    const MIB: usize = 1 << 20;
    const GIB: f64 = (1u64 << 30) as f64;
    /// The simulator's time step.
    const STEP: Duration = Duration::from_micros(500);
    /// The simulated mutator allocates in chunks of this size.
    const CHUNK: usize = 8 << 10;

    /// One completed simulated cycle.
    #[derive(Clone, Copy, Debug)]
    struct CycleRecord {
        /// The goal when the cycle started.
        goal: usize,
        /// The live heap the goal was computed from.
        live: usize,
        /// The trigger the cycle started at (the heap then was up to one step past it).
        trigger: usize,
        /// The largest heap during the cycle.
        peak: usize,
        /// Scan work done by assists and in all.
        assist_work: u64,
        scan_work: u64,
    }

    impl CycleRecord {
        fn peak_over_goal(&self) -> f64 {
            self.peak as f64 / self.goal as f64
        }

        /// Where the trigger lay, as a fraction of the way from the live heap to the goal.
        fn trigger_fraction(&self) -> f64 {
            (self.trigger - self.live) as f64 / (self.goal - self.live) as f64
        }
    }

    struct MarkState {
        goal: usize,
        live: usize,
        trigger: usize,
        triggered: usize,
        scanned: u64,
        assist_work: u64,
        cpu: f64,
        peak: usize,
    }

    /// A program on `procs` CPUs whose mutator allocates `alloc_rate` bytes per CPU-second
    /// of its own and whose collector scans `scan_rate` bytes per GC CPU-second. A fixed
    /// `live` set survives every cycle; everything else it allocates is garbage, except that
    /// objects allocated during a mark are allocated black and survive that one cycle (as
    /// in Go). Background workers take 25% of the CPUs while marking; the mutator does the
    /// assists the pacer asks for, which cost CPU at the scan rate. The sweep is instant.
    struct Sim {
        clock: ManualClock,
        pacer: Pacer,
        credit: AssistCredit,
        procs: f64,
        alloc_rate: f64,
        scan_rate: f64,
        live: usize,
        overhead: usize,
        heap: usize,
        /// Mutator CPU-seconds not yet spent (may be negative: spent ahead).
        budget: f64,
        /// The next chunk's allocation was charged to the credit (it waits for an assist).
        charged: bool,
        mark: Option<MarkState>,
        cycles: Vec<CycleRecord>,
        gc_cpu: f64,
        mutator_cpu: f64,
        allocated: u64,
        peak_total: usize,
        limited_steps: u64,
    }

    impl Sim {
        fn new(procs: usize, alloc_rate: f64, scan_rate: f64, live: usize) -> Self {
            Self::with_settings(procs, alloc_rate, scan_rate, live, 100, usize::MAX, 0)
        }

        /// The live set exists from the start, as if one untimed cycle had marked it.
        fn with_settings(
            procs: usize,
            alloc_rate: f64,
            scan_rate: f64,
            live: usize,
            gc_percent: i32,
            memory_limit: usize,
            overhead: usize,
        ) -> Self {
            let clock = ManualClock::default();
            let mut pacer = Pacer::new(gc_percent, memory_limit, procs, clock.now());
            pacer.set_overhead(overhead);
            pacer.note_allocated(live);
            pacer.start_cycle(clock.now(), live);
            pacer.end_mark(clock.now(), live, live as u64, Duration::ZERO);
            pacer.end_cycle(clock.now(), live);
            Sim {
                clock,
                pacer,
                credit: AssistCredit::new(),
                procs: procs as f64,
                alloc_rate,
                scan_rate,
                live,
                overhead,
                heap: live,
                budget: 0.0,
                charged: false,
                mark: None,
                cycles: Vec::new(),
                gc_cpu: 0.0,
                mutator_cpu: 0.0,
                allocated: 0,
                peak_total: live + overhead,
                limited_steps: 0,
            }
        }

        fn step(&mut self) {
            let now = self.clock.now();
            self.pacer.tick(now);
            if self.pacer.gc_cpu_limited() {
                self.limited_steps += 1;
            }
            if self.mark.is_none() && self.pacer.should_trigger() {
                self.pacer.start_cycle(now, self.heap);
                self.mark = Some(MarkState {
                    goal: self.pacer.heap_goal(),
                    live: self.pacer.live_heap_bytes(),
                    trigger: self.pacer.last_trigger_bytes(),
                    triggered: self.heap,
                    scanned: 0,
                    assist_work: 0,
                    cpu: 0.0,
                    peak: self.heap,
                });
            }
            let step = STEP.as_secs_f64();
            let mut cpu = self.procs * step;
            if let Some(mark) = &mut self.mark {
                let bg_cpu = self.procs * BACKGROUND_UTILIZATION * step;
                let left = self.live as u64 - mark.scanned;
                let work = ((self.scan_rate * bg_cpu) as u64).min(left);
                let used = work as f64 / self.scan_rate;
                self.pacer.mark_progress(work);
                mark.scanned += work;
                mark.cpu += used;
                self.gc_cpu += used;
                cpu -= used;
            }
            self.budget += cpu;
            while self.budget > 0.0 {
                if let Some(mark) = &mut self.mark {
                    // The next chunk is charged once; a thread in debt then assists until
                    // it is paid, over as many steps as the work takes.
                    let charge = if self.charged { 0 } else { CHUNK };
                    self.charged = true;
                    let asked = self.credit.on_allocate(&mut self.pacer, charge);
                    // An assist that finds no grey objects left lets the thread go: the
                    // mark ends at this step.
                    let needed = asked.min(self.live as u64 - mark.scanned);
                    let work = needed.min((self.budget * self.scan_rate).ceil() as u64);
                    if work > 0 {
                        let used = work as f64 / self.scan_rate;
                        self.credit
                            .repay(&mut self.pacer, work, Duration::from_secs_f64(used));
                        mark.scanned += work;
                        mark.assist_work += work;
                        mark.cpu += used;
                        self.gc_cpu += used;
                        self.budget -= used;
                    }
                    if work < needed {
                        continue;
                    }
                }
                self.charged = false;
                self.heap += CHUNK;
                self.pacer.note_allocated(CHUNK);
                self.allocated += CHUNK as u64;
                let used = CHUNK as f64 / self.alloc_rate;
                self.mutator_cpu += used;
                self.budget -= used;
                self.peak_total = self.peak_total.max(self.heap + self.overhead);
                if let Some(mark) = &mut self.mark {
                    mark.peak = mark.peak.max(self.heap);
                }
            }
            self.clock.advance(STEP);
            if self
                .mark
                .as_ref()
                .is_some_and(|mark| mark.scanned >= self.live as u64)
            {
                self.finish_mark();
            }
        }

        fn finish_mark(&mut self) {
            let mark = self.mark.take().expect("a mark runs");
            self.charged = false;
            let now = self.clock.now();
            // What was allocated during the mark is black: it survives this cycle.
            let marked = self.live + (self.heap - mark.triggered);
            self.pacer
                .end_mark(now, marked, mark.scanned, Duration::from_secs_f64(mark.cpu));
            self.heap = marked;
            self.pacer.end_cycle(now, self.heap);
            self.cycles.push(CycleRecord {
                goal: mark.goal,
                live: mark.live,
                trigger: mark.trigger,
                peak: mark.peak,
                assist_work: mark.assist_work,
                scan_work: mark.scanned,
            });
        }

        fn run_cycles(&mut self, count: usize) {
            let target = self.cycles.len() + count;
            let mut steps = 0u64;
            while self.cycles.len() < target {
                self.step();
                steps += 1;
                assert!(steps < 10_000_000, "simulated cycles never complete");
            }
        }

        fn run_for(&mut self, time: Duration) {
            let end = self.clock.now() + time;
            while self.clock.now() < end {
                self.step();
            }
        }

        fn gc_cpu_fraction(&self) -> f64 {
            self.gc_cpu / (self.procs * self.clock.now().as_secs_f64())
        }
    }

    fn assist_fraction(cycles: &[CycleRecord]) -> f64 {
        let assist: u64 = cycles.iter().map(|c| c.assist_work).sum();
        let scan: u64 = cycles.iter().map(|c| c.scan_work).sum();
        assist as f64 / scan as f64
    }

    fn peak_range(cycles: &[CycleRecord]) -> (f64, f64) {
        cycles
            .iter()
            .map(CycleRecord::peak_over_goal)
            .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(r), hi.max(r)))
    }

    fn figures(name: &str, cycles: &[CycleRecord]) -> String {
        let (lo, hi) = peak_range(cycles);
        let triggers = cycles
            .iter()
            .map(CycleRecord::trigger_fraction)
            .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(r), hi.max(r)));
        format!(
            "{name}: {} cycles, peak/goal {lo:.4}..{hi:.4}, trigger at {:.3}..{:.3} of the way, \
             assist work {:.4} of scan work",
            cycles.len(),
            triggers.0,
            triggers.1,
            assist_fraction(cycles),
        )
    }

    fn sim_figures(sim: &Sim) -> String {
        format!(
            "run: {:.2} s, GC CPU {:.3}, cons/mark {:?}, limited {} of {} steps, allocated \
             {:.2} GiB, peak heap + overhead {:.1} MiB",
            sim.clock.now().as_secs_f64(),
            sim.gc_cpu_fraction(),
            sim.pacer.cons_mark(),
            sim.limited_steps,
            sim.clock.now().as_micros() / STEP.as_micros(),
            sim.allocated as f64 / GIB,
            sim.peak_total as f64 / MIB as f64,
        )
    }

    /// Steady state: 2 CPUs (no dedicated worker, a fractional one of 0.5), a 64 MiB live
    /// set, allocation at 100 MiB/s per mutator CPU, scanning at 1 GiB/s per GC CPU. After
    /// 5 warm-up cycles, 20 cycles give: peak/goal 1.0000..1.0000 (to 4 places), the
    /// trigger at 0.773 of the way from the live heap to the goal, assist work 0.0003 of the
    /// scan work, GC CPU 0.071, cons/mark 0.0977 (= 100 MiB / 1 GiB, the true ratio),
    /// limiter never on.
    #[test]
    fn steady_state_lands_on_the_goal_without_assists() {
        let mut sim = Sim::new(2, 100.0 * MIB as f64, GIB, 64 * MIB);
        sim.run_cycles(25);
        let steady = &sim.cycles[5..];
        let text = format!("{}; {}", figures("steady", steady), sim_figures(&sim));
        eprintln!("{text}");
        for cycle in steady {
            let ratio = cycle.peak_over_goal();
            assert!(
                (ratio - 1.0).abs() <= 0.05,
                "peak {ratio:.4} x goal; {text}"
            );
            let at = cycle.trigger_fraction();
            assert!((0.70..=0.95).contains(&at), "trigger at {at:.3}; {text}");
        }
        assert!(assist_fraction(steady) < 0.01, "{text}");
        assert_eq!(sim.limited_steps, 0, "{text}");
        let expected = 100.0 * MIB as f64 / GIB;
        let measured = sim.pacer.cons_mark().expect("measured");
        assert!((measured / expected - 1.0).abs() < 0.05, "{text}");
    }

    /// Allocation outpacing marking: the steady program above for 10 cycles, then
    /// allocating 10 times faster (1 GiB/s per mutator CPU, as fast as it scans) for 15
    /// more. Before (cycles 5-9): assist work 0.0003 of scan work, peak/goal 1.0000. After:
    /// the trigger falls to 0.703 of the way (the 45/64 clamp) from the third cycle on,
    /// assist work 0.6469 of scan work, peak/goal 1.0027..1.0041; GC CPU 0.144 over the
    /// whole run, limiter never on.
    #[test]
    fn assists_hold_the_goal_when_allocation_outpaces_marking() {
        let mut sim = Sim::new(2, 100.0 * MIB as f64, GIB, 64 * MIB);
        sim.run_cycles(10);
        sim.alloc_rate = GIB;
        sim.run_cycles(15);
        let before = &sim.cycles[5..10];
        let after = &sim.cycles[10..];
        let text = format!(
            "{}; {}; {}",
            figures("before", before),
            figures("after", after),
            sim_figures(&sim)
        );
        eprintln!("{text}");
        for cycle in &sim.cycles {
            assert!(cycle.peak_over_goal() <= 1.1, "{cycle:?}; {text}");
        }
        assert!(assist_fraction(before) < 0.01, "{text}");
        assert!(assist_fraction(after) > 0.2, "{text}");
        for cycle in &sim.cycles[12..] {
            let at = cycle.trigger_fraction();
            assert!((0.70..0.71).contains(&at), "trigger at {at:.3}; {text}");
        }
    }

    /// Runs one instant cycle that finds `marked` bytes live.
    fn complete_cycle(pacer: &mut Pacer, now: Duration, marked: usize) {
        pacer.start_cycle(now, pacer.heap_live_bytes());
        pacer.end_mark(now, marked, marked as u64, Duration::ZERO);
        pacer.end_cycle(now, marked);
    }

    #[test]
    fn goal_is_live_times_percent_with_a_4_mib_floor() {
        let t = Duration::ZERO;
        let mut pacer = Pacer::new(100, usize::MAX, 4, t);
        assert_eq!(pacer.heap_goal(), MIN_HEAP_GOAL);
        complete_cycle(&mut pacer, t, MIB);
        assert_eq!(pacer.heap_goal(), MIN_HEAP_GOAL);
        complete_cycle(&mut pacer, t, 10 * MIB);
        assert_eq!(pacer.heap_goal(), 20 * MIB);
        assert_eq!(pacer.set_gc_percent(50), 100);
        assert_eq!(pacer.heap_goal(), 15 * MIB);
        assert_eq!(pacer.set_gc_percent(250), 50);
        assert_eq!(pacer.heap_goal(), 35 * MIB);
        // GC percent 0: the goal is the live heap, so a cycle is due at once.
        pacer.set_gc_percent(0);
        assert_eq!(pacer.heap_goal(), 10 * MIB);
        assert_eq!(pacer.trigger(), 10 * MIB);
        assert!(pacer.should_trigger());
        // Negative: no goal, no trigger, however much is allocated.
        pacer.set_gc_percent(-5);
        assert_eq!(pacer.heap_goal(), usize::MAX);
        assert_eq!(pacer.trigger(), usize::MAX);
        pacer.note_allocated(1 << 40);
        assert!(!pacer.should_trigger());
        assert_eq!(pacer.set_gc_percent(100), -1);
        assert!(pacer.should_trigger());
    }

    /// With the GC percent negative the simulated program allocates 2 s (about 400 MiB)
    /// without a cycle; setting it back to 100 starts one at once. Raising it from 100 to
    /// 200 moves the goal to 3x the live heap, and the last 6 cycles peak at 1.0008..1.0011
    /// of it (trigger at 0.887 of the way).
    #[test]
    fn gc_percent_off_means_no_cycles_and_changes_take_effect() {
        let mut sim = Sim::new(2, 100.0 * MIB as f64, GIB, 16 * MIB);
        sim.pacer.set_gc_percent(-1);
        sim.run_for(Duration::from_secs(2));
        assert!(sim.cycles.is_empty(), "{:?}", sim.cycles);
        assert!(sim.heap > 300 * MIB, "heap {}", sim.heap);
        sim.pacer.set_gc_percent(100);
        sim.step();
        assert!(sim.mark.is_some(), "no cycle started");
        sim.run_cycles(8);
        sim.pacer.set_gc_percent(200);
        sim.run_cycles(10);
        let after = &sim.cycles[sim.cycles.len() - 6..];
        let text = format!(
            "{}; {}",
            figures("gc percent 200", after),
            sim_figures(&sim)
        );
        eprintln!("{text}");
        for cycle in after {
            assert_eq!(cycle.goal, cycle.live * 3, "{text}");
            assert!((cycle.peak_over_goal() - 1.0).abs() <= 0.05, "{text}");
        }
    }

    /// A 16 MiB live set under a 64 MiB limit with 2 MiB of overhead, allocating 640 MiB
    /// (10x the limit) with the GC percent at 10000 and off: in both, peak heap + overhead
    /// 62.3 MiB (0.973 of the limit), 16 cycles, peak/goal 0.9884..1.0022, limiter never on.
    #[test]
    fn memory_limit_holds_a_heap_that_fits() {
        let limit = 64 * MIB;
        for percent in [10_000, -1] {
            let mut sim = Sim::with_settings(
                2,
                100.0 * MIB as f64,
                GIB,
                16 * MIB,
                percent,
                limit,
                2 * MIB,
            );
            while sim.allocated < 10 * limit as u64 {
                sim.step();
            }
            let text = format!(
                "percent {percent}: peak {:.3} of the limit; {}; {}",
                sim.peak_total as f64 / limit as f64,
                figures("limit", &sim.cycles),
                sim_figures(&sim),
            );
            eprintln!("{text}");
            assert!(sim.peak_total as f64 <= limit as f64 * 1.1, "{text}");
            assert!(sim.cycles.len() >= 5, "{text}");
            assert_eq!(sim.limited_steps, 0, "{text}");
        }
    }

    /// A 96 MiB live set over a 64 MiB limit, allocating as fast as it scans (1 GiB/s per
    /// CPU): the goal is the live heap plus the minimum runway, so cycles run back to back
    /// and assists would take most of the CPU. Over 30 s the limiter holds GC CPU at 0.516
    /// (mutator 0.484; it is on in 36076 of 60000 steps) and the program completes 330
    /// cycles and allocates 29 GiB. The price is the heap: while assists are refused it
    /// grows past the goal, to 413 MiB at most (3.7x the goal).
    #[test]
    fn memory_limit_below_the_live_heap_still_makes_progress() {
        let limit = 64 * MIB;
        let mut sim = Sim::with_settings(2, GIB, GIB, 96 * MIB, 100, limit, 2 * MIB);
        sim.run_for(Duration::from_secs(30));
        let total_cpu = sim.procs * sim.clock.now().as_secs_f64();
        let text = format!(
            "mutator CPU {:.3}; {}; {}",
            sim.mutator_cpu / total_cpu,
            figures("over the limit", &sim.cycles),
            sim_figures(&sim),
        );
        eprintln!("{text}");
        let goal = sim.pacer.heap_goal();
        assert!(
            goal <= sim.pacer.live_heap_bytes() + MIN_RUNWAY_BYTES,
            "goal {goal}; {text}"
        );
        assert!(sim.gc_cpu_fraction() <= 0.55, "{text}");
        assert!(sim.mutator_cpu / total_cpu >= 0.45, "{text}");
        assert!(sim.limited_steps > 0, "{text}");
        assert!(sim.cycles.len() >= 10, "{text}");
    }

    #[test]
    fn memory_limit_goal_leaves_headroom_and_overhead() {
        let t = Duration::ZERO;
        let mut pacer = Pacer::new(10_000, 100 * MIB, 2, t);
        pacer.set_overhead(10 * MIB);
        complete_cycle(&mut pacer, t, 20 * MIB);
        // room = 100 - 10 = 90 MiB; headroom = 3% of it (more than 1 MiB).
        let room = 90 * MIB;
        assert_eq!(pacer.heap_goal(), room - room / 100 * 3);
        // Over the limit by 5 MiB: the goal drops by that overage too.
        pacer.note_allocated(75 * MIB);
        let room = 90 * MIB - 5 * MIB;
        assert_eq!(pacer.heap_goal(), room - room / 100 * 3);
        // A limit under the overhead: the live heap plus the minimum runway.
        pacer.set_memory_limit(8 * MIB);
        assert_eq!(pacer.heap_goal(), 20 * MIB + MIN_RUNWAY_BYTES);
        assert_eq!(pacer.set_memory_limit(usize::MAX), 8 * MIB);
        assert_eq!(pacer.heap_goal(), 20 * MIB * 101);
        // A small limit: the headroom is at least 1 MiB.
        let mut small = Pacer::new(10_000, 20 * MIB, 2, t);
        complete_cycle(&mut small, t, 5 * MIB);
        assert_eq!(small.heap_goal(), 19 * MIB);
    }

    #[test]
    fn reclaimed_bytes_lower_the_goal() {
        let t = Duration::ZERO;
        let mut pacer = Pacer::new(100, usize::MAX, 2, t);
        complete_cycle(&mut pacer, t, 32 * MIB);
        assert_eq!(pacer.heap_goal(), 64 * MIB);
        // Freed marked objects: live 24 MiB.
        pacer.note_reclaimed(8 * MIB);
        assert_eq!(pacer.live_heap_bytes(), 24 * MIB);
        assert_eq!(pacer.heap_live_bytes(), 24 * MIB);
        assert_eq!(pacer.heap_goal(), 48 * MIB);
        assert_eq!(pacer.trigger(), 24 * MIB + 24 * MIB / 8 * 7);
        // Short-lived objects freed by counts do not lower it.
        for _ in 0..1000 {
            pacer.note_allocated(MIB);
            pacer.note_reclaimed(MIB);
        }
        assert_eq!(pacer.heap_goal(), 48 * MIB);
        assert!(!pacer.should_trigger());
        // 4 MiB allocated since the mark, then 6 MiB freed: 2 MiB came from marked objects.
        pacer.note_allocated(4 * MIB);
        pacer.note_reclaimed(6 * MIB);
        assert_eq!(pacer.live_heap_bytes(), 22 * MIB);
        assert_eq!(pacer.heap_goal(), 44 * MIB);
        // Everything freed: the floor.
        pacer.note_reclaimed(usize::MAX);
        assert_eq!(pacer.live_heap_bytes(), 0);
        assert_eq!(pacer.heap_goal(), MIN_HEAP_GOAL);
        // The next mark measures the live heap afresh.
        complete_cycle(&mut pacer, t, 10 * MIB);
        assert_eq!(pacer.heap_goal(), 20 * MIB);
    }

    /// Runs a timed cycle: `allocated` bytes during a mark of `duration` on the pacer's
    /// CPUs that spent `mark_cpu` marking and found `marked` live with `scan` work.
    fn measured_cycle(
        pacer: &mut Pacer,
        now: &mut Duration,
        allocated: usize,
        marked: usize,
        scan: u64,
        mark_cpu: Duration,
    ) {
        pacer.start_cycle(*now, pacer.heap_live_bytes());
        pacer.note_allocated(allocated);
        *now += Duration::from_secs(1);
        pacer.end_mark(*now, marked, scan, mark_cpu);
        pacer.end_cycle(*now, marked);
    }

    #[test]
    fn trigger_leaves_the_measured_runway_within_its_clamps() {
        let mut now = Duration::ZERO;
        // 4 CPUs for 1 s with 1 CPU-s of marking: u = 0.25.
        let mut pacer = Pacer::new(100, usize::MAX, 4, now);
        complete_cycle(&mut pacer, now, 100 * MIB);
        assert_eq!(pacer.cons_mark(), None);
        assert_eq!(pacer.trigger(), 100 * MIB + 100 * MIB / 8 * 7);
        // 20 MiB allocated per 100 MiB scanned at u = 0.25: cons/mark = 20 × 0.25 /
        // (100 × 0.75) = 1/15, runway = 3 × cons/mark × 100 MiB = 20 MiB.
        let cpu = Duration::from_secs(1);
        measured_cycle(
            &mut pacer,
            &mut now,
            20 * MIB,
            100 * MIB,
            100 * MIB as u64,
            cpu,
        );
        let cons_mark = pacer.cons_mark().expect("measured");
        assert!((cons_mark - 1.0 / 15.0).abs() < 1e-9, "{cons_mark}");
        let goal = pacer.heap_goal();
        assert_eq!(goal, 200 * MIB);
        assert!(
            pacer.trigger().abs_diff(goal - 20 * MIB) <= 2,
            "{}",
            pacer.trigger()
        );
        // A runway far larger than the way: 70% (45/64).
        for _ in 0..5 {
            measured_cycle(
                &mut pacer,
                &mut now,
                400 * MIB,
                100 * MIB,
                100 * MIB as u64,
                cpu,
            );
        }
        assert_eq!(pacer.trigger(), 100 * MIB + 100 * MIB / 64 * 45);
        // The estimate is the largest of the last five measurements: four tiny ones keep
        // the large one, the fifth lets it go, and the trigger rises to 95% (61/64).
        for _ in 0..4 {
            measured_cycle(&mut pacer, &mut now, 1, 100 * MIB, 100 * MIB as u64, cpu);
            assert_eq!(pacer.trigger(), 100 * MIB + 100 * MIB / 64 * 45);
        }
        measured_cycle(&mut pacer, &mut now, 1, 100 * MIB, 100 * MIB as u64, cpu);
        assert_eq!(pacer.trigger(), 100 * MIB + 100 * MIB / 64 * 61);
    }

    #[test]
    fn workers_are_a_quarter_of_the_cpus_with_a_fractional_one() {
        let table = [
            (1, 0, 0.25),
            (2, 0, 0.5),
            (3, 0, 0.75),
            (4, 1, 0.0),
            (6, 1, 0.5),
        ];
        for (procs, dedicated, fractional) in table {
            let workers = MarkWorkers::for_procs(procs);
            assert_eq!(workers.dedicated, dedicated, "{procs} CPUs");
            assert!(
                (workers.fractional - fractional).abs() < 1e-12,
                "{procs} CPUs"
            );
        }
        for procs in 1..=64 {
            let workers = MarkWorkers::for_procs(procs);
            let total = workers.dedicated as f64 + workers.fractional;
            assert!((total - procs as f64 * 0.25).abs() < 0.3 * procs as f64 * 0.25 + 1e-9);
            assert!(
                (0.0..1.0).contains(&workers.fractional),
                "{procs}: {workers:?}"
            );
            if workers.fractional > 0.0 {
                assert!(
                    (total - procs as f64 * 0.25).abs() < 1e-9,
                    "{procs}: {workers:?}"
                );
            }
        }
    }

    #[test]
    fn fractional_worker_keeps_its_share() {
        let clock = ManualClock::default();
        let mut pacer = Pacer::new(100, usize::MAX, 2, clock.now());
        assert!(!pacer.fractional_worker_may_start(clock.now(), Duration::ZERO));
        pacer.start_cycle(clock.now(), 0);
        assert!(pacer.fractional_worker_may_start(clock.now(), Duration::ZERO));
        clock.advance(Duration::from_millis(10));
        let ms = Duration::from_millis;
        // Goal 0.5 of the time: may start below it, stops above 1.2 × it.
        assert!(pacer.fractional_worker_may_start(clock.now(), ms(4)));
        assert!(!pacer.fractional_worker_may_start(clock.now(), ms(5)));
        assert!(!pacer.fractional_worker_should_stop(clock.now(), ms(6)));
        assert!(pacer.fractional_worker_should_stop(clock.now(), ms(7)));
        pacer.end_mark(clock.now(), 0, 0, Duration::ZERO);
        assert!(pacer.fractional_worker_should_stop(clock.now(), Duration::ZERO));
        assert!(!pacer.fractional_worker_may_start(clock.now(), Duration::ZERO));
        let four = Pacer::new(100, usize::MAX, 4, clock.now());
        assert_eq!(four.workers().fractional, 0.0);
    }

    #[test]
    fn limiter_fills_with_gc_time_and_drains_with_mutator_time() {
        let clock = ManualClock::default();
        let tick = LIMITER_UPDATE_PERIOD;
        // 2 CPUs: capacity 2 CPU-seconds. The limiter refuses assists only under a memory
        // limit (one far above the heap here, so the goals are the GC percent's).
        let mut pacer = Pacer::new(100, 1 << 40, 2, clock.now());
        let mut unlimited = Pacer::new(100, usize::MAX, 2, clock.now());
        unlimited.start_cycle(clock.now(), 0);
        let mut credit = AssistCredit::new();
        pacer.start_cycle(clock.now(), 0);
        // Background marking alone (25%) never fills it.
        for _ in 0..1000 {
            clock.advance(tick);
            pacer.tick(clock.now());
        }
        assert!(!pacer.gc_cpu_limited());
        // Assists take the other 75% as well: each tick adds 20 ms of GC time and no
        // mutator time, so 2 s fill it on the 100th tick.
        for round in 1..=100 {
            credit.repay(&mut pacer, 1, tick * 2 * 3 / 4);
            unlimited.record_assist(1, tick * 2 * 3 / 4);
            clock.advance(tick);
            pacer.tick(clock.now());
            unlimited.tick(clock.now());
            assert_eq!(pacer.gc_cpu_limited(), round == 100, "tick {round}");
        }
        assert!(
            !unlimited.gc_cpu_limited(),
            "without a memory limit assists are never refused"
        );
        // Limiting: assists are refused though the thread is in debt.
        pacer.note_allocated(1);
        assert_eq!(credit.on_allocate(&mut pacer, 64 * MIB), 0);
        assert!(credit.balance() < 0);
        // Mutator time drains it: 10 ms per tick (15 ms of mutator time against 5 ms of
        // background marking), so it turns off once 200 ms (100 ms per CPU) have drained.
        for round in 1..=20 {
            clock.advance(tick);
            pacer.tick(clock.now());
            assert_eq!(pacer.gc_cpu_limited(), round < 20, "tick {round}");
        }
        assert!(credit.on_allocate(&mut pacer, 1) > 0);
    }

    #[test]
    fn assist_credit_pays_debt_from_background_credit_then_by_scanning() {
        let t = Duration::ZERO;
        let mut pacer = Pacer::new(100, usize::MAX, 2, t);
        complete_cycle(&mut pacer, t, 64 * MIB);
        let mut credit = AssistCredit::new();
        // Outside mark nothing is charged.
        assert_eq!(credit.on_allocate(&mut pacer, MIB), 0);
        assert_eq!(credit.balance(), 0);
        pacer.start_cycle(t, pacer.heap_live_bytes());
        // Remaining work 64 MiB over 64 MiB of remaining heap: one unit per byte.
        assert!((pacer.assist_ratio() - 1.0).abs() < 1e-9);
        // A small debt with no background credit: the minimum assist.
        assert_eq!(credit.on_allocate(&mut pacer, 1000), MIN_ASSIST_WORK);
        assert_eq!(credit.balance(), -1000);
        // The fast path charges the same from a published ratio.
        let mut other = AssistCredit::new();
        let ratio = pacer.assist_snapshot().expect("marking");
        assert!(other.charge(ratio, 1000));
        assert_eq!(other.balance(), -1000);
        credit.repay(&mut pacer, MIN_ASSIST_WORK, Duration::from_micros(64));
        assert_eq!(credit.balance(), MIN_ASSIST_WORK as i64 - 1000);
        assert_eq!(pacer.assist_work_this_cycle(), MIN_ASSIST_WORK);
        assert_eq!(pacer.assist_time(), Duration::from_micros(64));
        // Credit covers later allocations.
        assert_eq!(credit.on_allocate(&mut pacer, 1000), 0);
        // Background credit pays a debt first; the rest is scanned.
        pacer.mark_progress(100_000);
        let ratio = pacer.assist_ratio();
        let owed = (200_000.0 * ratio).ceil() as i64 - credit.balance();
        let asked = credit.on_allocate(&mut pacer, 200_000);
        assert_eq!(asked, owed as u64 - 100_000);
        assert_eq!(credit.balance(), 100_000 - owed);
        // The heap past the goal: the ratio aims at 1.1 × goal with all the heap as work.
        let goal = pacer.heap_goal();
        pacer.note_allocated(goal);
        let heap = pacer.heap_live_bytes() as f64;
        let done = pacer.scan_work_done as f64;
        let expected = (heap - done) / (goal as f64 * 1.1 - heap).max(1.0);
        assert!((pacer.assist_ratio() - expected).abs() < 1e-9);
        // A new cycle starts every balance at zero.
        pacer.end_mark(t, 64 * MIB, 64 * MIB as u64, Duration::ZERO);
        pacer.end_cycle(t, 64 * MIB);
        pacer.start_cycle(t, 100 * MIB);
        pacer.mark_progress(u64::MAX / 2);
        assert_eq!(credit.on_allocate(&mut pacer, 1), 0);
        assert!(credit.balance() >= 0);
    }

    #[test]
    fn more_work_than_expected_takes_the_whole_heap_as_work_left_and_keeps_the_goal() {
        let t = Duration::ZERO;
        let mut pacer = Pacer::new(100, usize::MAX, 2, t);
        complete_cycle(&mut pacer, t, 64 * MIB);
        pacer.start_cycle(t, 100 * MIB);
        let goal = pacer.heap_goal() as f64;
        // Twice the expected work done (Go would push the goal toward twice itself here).
        pacer.mark_progress(96 * MIB as u64);
        let heap = pacer.heap_live_bytes() as f64;
        assert_eq!(pacer.heap_goal() as f64, goal, "the goal does not move");
        let expected = (heap - 96.0 * MIB as f64).max(1000.0) / (goal - heap);
        assert!(
            (pacer.assist_ratio() - expected).abs() < 1e-12,
            "{} against {expected}",
            pacer.assist_ratio()
        );
    }

    #[test]
    #[should_panic(expected = "start_cycle in phase Mark")]
    fn a_second_start_panics() {
        let mut pacer = Pacer::new(100, usize::MAX, 2, Duration::ZERO);
        pacer.start_cycle(Duration::ZERO, 0);
        pacer.start_cycle(Duration::ZERO, 0);
    }

    #[test]
    #[should_panic(expected = "end_cycle in phase Mark")]
    fn end_cycle_before_end_mark_panics() {
        let mut pacer = Pacer::new(100, usize::MAX, 2, Duration::ZERO);
        pacer.start_cycle(Duration::ZERO, 0);
        pacer.end_cycle(Duration::ZERO, 0);
    }

    #[test]
    #[should_panic(expected = "mark_progress in phase Off")]
    fn mark_progress_outside_mark_panics() {
        Pacer::new(100, usize::MAX, 2, Duration::ZERO).mark_progress(1);
    }

    #[test]
    fn system_clock_does_not_go_back() {
        let clock = SystemClock::new();
        let first = clock.now();
        let second = clock.now();
        assert!(second >= first);
    }
}
