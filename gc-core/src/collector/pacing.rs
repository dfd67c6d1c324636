//! The pacer's driver: feeds the shipped [`Pacer`] (a pure state machine, `pacer.rs`) with
//! the heap's counters and the cycle's events, and publishes what the allocation path and
//! the assists need without taking its lock.
//!
//! # What it does
//! - **Between cycles** the collector thread calls [`sync`] at every idle poll (at most
//!   50 ms apart): the heap's in-use bytes and the bytes count-zero reclamation freed since
//!   the last call become `note_allocated` / `note_reclaimed` events (allocated = growth of
//!   the in-use total + what was reclaimed meanwhile), the managed memory that is not heap
//!   objects becomes the pacer's overhead (F2), and the allocator's trigger is re-armed at
//!   [`Pacer::trigger`]. So a program that drops an old structure sees its goal and trigger
//!   fall within one poll, and one that churns short-lived objects keeps them.
//! - **The memory limit** is compared with the in-use heap (F2 with no overhead), like Go's
//!   `heapLive` against `limit − nonHeapMemory`: free slots of spans and free pages are not
//!   counted against it, since allocation fills them before it maps more, and the
//!   scavenger returns free pages beyond the goal to the OS. (Counting them as overhead,
//!   as a first version did, double-counted: right after a sweep the partly emptied spans
//!   made the goal collapse to the live heap, cycles ran back to back, the CPU limiter
//!   refused assists and the heap ran past the limit.) Span metadata lives in its own
//!   mapping and is not counted.
//! - **A cycle** is one pacer mark: [`start_cycle`] after the starting stop, [`end_cycle`]
//!   after the sweep (`end_mark` and `end_cycle` of the pacer at once). The pacer's
//!   `Sweep` phase is empty here: this collector's sweep runs inside the cycle, before the
//!   next one may start (DESIGN §6), and a thread that allocates while it runs takes fresh
//!   spans exactly as during marking, so the sweep is paced with the mark, its work counted
//!   in the same units (objects visited, below).
//! - **The live heap** the goal is computed from is what the cycle's marking found
//!   reachable, without the objects allocated black during its mark (Go's `heapMarked`
//!   includes them). Black allocation is a survivor by construction, not a measurement of
//!   the live heap, and a cycle here is long for its heap (its count and roots passes visit
//!   every object, garbage included), so it was most of the total: on W3 at 64 MiB live,
//!   115-130 MiB were kept per cycle, and a goal of twice that let the heap reach 4-5
//!   times the live set. Those objects are in the in-use heap after the sweep, so the next
//!   trigger comes sooner: the cost is more frequent cycles, the heap follows the live set.
//! - **Scan work** is counted in bytes visited, divided by [`PASSES`]: Go's unit is a byte
//!   scanned, and the pacer relies on a cycle's work never exceeding the heap (F7 takes
//!   the in-use bytes as the most work a mark can have left). A cycle here visits an
//!   object up to four times (count, roots, mark, sweep), so each visit counts a quarter of
//!   its bytes: the count pass, the roots pass and the sweep count the allocated bytes of
//!   each span they walk, marking counts [`SCANNED_OBJECT_BYTES`] per object it scans (its
//!   size is not at hand; the heap's typical object). The cycle's background threads add
//!   their work to `BG_WORK` as they go (a chunk of spans, 2048 scanned objects, a span), so
//!   assists waiting for credit see it move.
//! - **The assist ratio** is recomputed under the lock whenever an assist or the collector
//!   reports, and published as (cycle, ratio) atomics for `AssistCredit::charge`.
//!
//! - **Background workers (F9) are not split** into dedicated and fractional ones: the
//!   collector thread (and the `TRICOLOR_MARK_WORKERS` workers) mark for the whole cycle.
//!   Go on 2 CPUs runs one fractional worker at 50% of one CPU, but it also runs idle-
//!   priority mark workers on every idle CPU, so on an idle core it marks at full speed, as
//!   this collector does; on a busy machine the OS scheduler gives the collector's threads
//!   one runnable thread's share, which with three busy mutators on 2 CPUs is Go's 25%.
//!   Throttling the collector's own thread would only lengthen cycles, and with them the
//!   black allocation that inflates the next goal (measured on W3: a cycle of 250 ms let
//!   the mutator allocate as much as the live heap). F4 measures the CPU the collector
//!   actually used (`mark_cpu`), so the model stays calibrated.
//!
//! # Locking
//! One mutex around the pacer and the driver's own bookkeeping, taken by the collector
//! thread at its events and polls, and by assisting threads (a thread in debt, once per span
//! it takes from the central lists, Go's granularity too). Never held while marking,
//! sweeping or waiting.

use std::sync::OnceLock;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::assist::AssistRatio;
use super::config;
use super::pacer::{Clock, Pacer, SystemClock};
use crate::heap;
use crate::sync::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// A cycle's passes over an object (module docs): each counts this fraction of its bytes.
pub(crate) const PASSES: u64 = 4;
/// The bytes counted for an object that marking scans (module docs).
pub(crate) const SCANNED_OBJECT_BYTES: u64 = 64;

/// The scan work of marking `objects` objects.
#[inline]
pub(crate) fn scanned_work(objects: usize) -> u64 {
    objects as u64 * SCANNED_OBJECT_BYTES / PASSES
}

/// The pacer and what the driver last told it.
#[derive(Debug)]
struct Driver {
    pacer: Pacer,
    clock: SystemClock,
    /// The heap's in-use bytes at the last sync.
    synced_in_use: usize,
    /// `heap::counter_totals().reclaimed_bytes` at the last sync.
    synced_reclaimed: u64,
    /// The part of [`BG_WORK`] already reported to the pacer this cycle.
    reported_work: u64,
}

static DRIVER: Mutex<Option<Driver>> = Mutex::new(None);
static INIT: OnceLock<()> = OnceLock::new();

/// The running cycle's pacer cycle number while assists are on; 0 between cycles.
static ASSIST_CYCLE: AtomicU64 = AtomicU64::new(0);
/// The assist ratio (`f64` bits) of `ASSIST_CYCLE`.
static ASSIST_RATIO: AtomicU64 = AtomicU64::new(0);
/// Background scan work done in the running cycle (module docs).
static BG_WORK: AtomicU64 = AtomicU64::new(0);
/// Set while the cycle's marking job runs (assists may take grey objects then).
static DRAINING: AtomicBool = AtomicBool::new(false);
/// The least background work some waiting assist waits for (`u64::MAX`: none waits), and
/// where they wait. Reports notify only when they reach it, so that a waiting assist is
/// woken once for its debt rather than once per chunk of work.
static WAKE_AT: AtomicU64 = AtomicU64::new(u64::MAX);
static PROGRESS_LOCK: Mutex<()> = Mutex::new(());
static PROGRESS: Condvar = Condvar::new();
/// Time threads spent in mark assists (working or waiting for credit), in nanoseconds.
static ASSIST_NANOS: AtomicU64 = AtomicU64::new(0);
/// Objects assists scanned, over all cycles.
static ASSIST_SCANNED: AtomicU64 = AtomicU64::new(0);
/// `Trace` impls that panicked in an assist since the last cycle's termination.
static ASSIST_TRACE_PANICS: AtomicUsize = AtomicUsize::new(0);

/// The CPUs the pacer plans for.
fn procs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Creates the pacer from the configuration (once), with the heap as it is now.
pub(crate) fn init() {
    INIT.get_or_init(|| {
        let clock = SystemClock::new();
        let pacer = Pacer::new(
            config::gc_percent(),
            config::memory_limit(),
            procs(),
            clock.now(),
        );
        *DRIVER.lock() = Some(Driver {
            pacer,
            clock,
            synced_in_use: 0,
            synced_reclaimed: 0,
            reported_work: 0,
        });
    });
}

/// Runs `f` on the driver, after bringing the pacer up to date with the background work
/// reported so far and the limiter up to now, and republishes the assist ratio.
fn with_driver<R>(f: impl FnOnce(&mut Driver) -> R) -> R {
    init();
    let mut guard = DRIVER.lock();
    let driver = guard.as_mut().expect("tricolor-gc: pacer used before init");
    let now = driver.clock.now();
    driver.pacer.tick(now);
    if driver.pacer.phase() == super::pacer::PacerPhase::Mark {
        // The assist ratio follows the heap as it grows during the cycle (F7).
        sync_counters(driver);
        // Relaxed: a progress counter; the lock orders nothing it guards.
        let done = BG_WORK.load(Ordering::Relaxed);
        if done > driver.reported_work {
            driver.pacer.mark_progress(done - driver.reported_work);
            driver.reported_work = done;
        }
    }
    let result = f(driver);
    publish_ratio(&driver.pacer);
    result
}

/// Runs `f` on the pacer (for `mark_assist.rs`), as [`with_driver`] does.
pub(crate) fn with_pacer<R>(f: impl FnOnce(&mut Pacer) -> R) -> R {
    with_driver(|driver| f(&mut driver.pacer))
}

fn publish_ratio(pacer: &Pacer) {
    match pacer.assist_snapshot() {
        Some(ratio) => {
            // Relaxed: advisory; `AssistCredit` re-syncs with the pacer under the lock
            // before it asks for work.
            ASSIST_RATIO.store(ratio.work_per_byte.to_bits(), Ordering::Relaxed);
            ASSIST_CYCLE.store(ratio.cycle, Ordering::Relaxed);
        }
        None => ASSIST_CYCLE.store(0, Ordering::Relaxed),
    }
}

/// The published assist ratio while a cycle runs, for `AssistCredit::charge`.
#[inline]
pub(crate) fn published_ratio() -> Option<AssistRatio> {
    // Relaxed: see `publish_ratio`.
    let cycle = ASSIST_CYCLE.load(Ordering::Relaxed);
    (cycle != 0).then(|| AssistRatio {
        cycle,
        work_per_byte: f64::from_bits(ASSIST_RATIO.load(Ordering::Relaxed)),
    })
}

/// Tells the pacer what the heap did since the last sync (module docs).
fn sync_counters(driver: &mut Driver) {
    let totals = heap::totals();
    let reclaimed = heap::counter_totals().reclaimed_bytes;
    let reclaimed_now = reclaimed.saturating_sub(driver.synced_reclaimed) as usize;
    let grown = totals.in_use_bytes as i128 - driver.synced_in_use as i128 + reclaimed_now as i128;
    if grown > 0 {
        driver.pacer.note_allocated(grown as usize);
    }
    if reclaimed_now > 0 {
        driver.pacer.note_reclaimed(reclaimed_now);
    }
    // The events attribute the change (young or old, allocated during mark); the total is
    // the heap's own (a remotely freed slot stays in use until its span merges, when the
    // total drops without an event).
    driver.pacer.set_heap_live(totals.in_use_bytes);
    driver.synced_in_use = totals.in_use_bytes;
    driver.synced_reclaimed = reclaimed;
}

/// What the collector needs after a sync: the goal and trigger now in force.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Armed {
    pub(crate) goal: usize,
    pub(crate) trigger: usize,
    /// The in-use estimate reached the trigger.
    pub(crate) due: bool,
}

fn arm(driver: &Driver) -> Armed {
    let goal = driver.pacer.heap_goal();
    let trigger = driver.pacer.trigger();
    heap::set_trigger(trigger, super::cycle::on_heap_trigger);
    // The scavenger keeps resident memory near the goal (Go: goal + 10%).
    heap::set_heap_goal(goal);
    Armed {
        goal,
        trigger,
        due: driver.pacer.should_trigger(),
    }
}

/// Between cycles: brings the pacer up to date and re-arms the trigger (module docs).
pub(crate) fn sync() -> Armed {
    with_driver(|driver| {
        sync_counters(driver);
        arm(driver)
    })
}

/// The settings changed (`set_gc_percent`, `set_memory_limit`): goal and trigger follow
/// at once.
pub(crate) fn settings_changed() -> Armed {
    with_driver(|driver| {
        driver.pacer.set_gc_percent(config::gc_percent());
        driver.pacer.set_memory_limit(config::memory_limit());
        sync_counters(driver);
        arm(driver)
    })
}

/// A cycle started (after its starting stop): assists are on from here.
pub(crate) fn start_cycle() {
    // Relaxed: reset before the ratio is published under the lock below.
    BG_WORK.store(0, Ordering::Relaxed);
    with_driver(|driver| {
        sync_counters(driver);
        driver.reported_work = 0;
        let now = driver.clock.now();
        let in_use = driver.pacer.heap_live_bytes();
        driver.pacer.start_cycle(now, in_use);
    });
}

/// What the pacer says after a cycle.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CycleEnd {
    pub(crate) armed: Armed,
    /// The trigger that was in force when this cycle started.
    pub(crate) last_trigger: usize,
    /// The cycle's scan work (module docs), background and assists.
    pub(crate) scan_work: u64,
    /// Assist scan work of this cycle.
    pub(crate) assist_work: u64,
    /// The cons/mark estimate after this cycle (F4; `None` before any measurement).
    pub(crate) cons_mark: Option<f64>,
}

/// The cycle's sweep finished: `marked_bytes` survived it and were found reachable by its
/// marking (objects allocated black during the mark are not included, module docs), the
/// collector's threads spent `mark_cpu` on it. Assists end; the next goal and trigger are
/// armed.
pub(crate) fn end_cycle(marked_bytes: usize, mark_cpu: Duration) -> CycleEnd {
    with_driver(|driver| {
        let now = driver.clock.now();
        sync_counters(driver);
        let assist_work = driver.pacer.assist_work_this_cycle();
        let scan_work = driver.reported_work + assist_work;
        let last_trigger = driver.pacer.last_trigger_bytes();
        driver
            .pacer
            .end_mark(now, marked_bytes.max(1), scan_work.max(1), mark_cpu);
        driver.pacer.end_cycle(now, heap::totals().in_use_bytes);
        CycleEnd {
            armed: arm(driver),
            last_trigger,
            scan_work,
            assist_work,
            cons_mark: driver.pacer.cons_mark(),
        }
    })
}

/// Background threads visited `bytes` of objects in one pass (module docs).
#[inline]
pub(crate) fn note_background_bytes(bytes: usize) {
    note_background_work(bytes as u64 / PASSES);
}

/// Background threads did `work` scan work (module docs).
#[inline]
pub(crate) fn note_background_work(work: u64) {
    // SeqCst: with the waiter's registration in `WAKE_AT` and its re-check of `BG_WORK`,
    // so that either this report sees the waiter's target or the waiter sees this work.
    let done = BG_WORK.fetch_add(work, Ordering::SeqCst) + work;
    if done >= WAKE_AT.load(Ordering::SeqCst) {
        WAKE_AT.store(u64::MAX, Ordering::SeqCst);
        let _guard = PROGRESS_LOCK.lock();
        PROGRESS.notify_all();
    }
}

/// Background work done in the running cycle so far.
pub(crate) fn background_work() -> u64 {
    // Relaxed: a progress counter.
    BG_WORK.load(Ordering::Relaxed)
}

/// Waits until background work reaches `target`, the cycle `cycle` ends, or `timeout`
/// passes. Returns whether the work reached `target`.
pub(crate) fn wait_for_background_work(target: u64, cycle: u64, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    let mut guard = PROGRESS_LOCK.lock();
    loop {
        // SeqCst: see `note_background_work`. Registered under the lock, so a notifier
        // that reset `WAKE_AT` before this store notifies after this wait begins (it
        // takes the lock to notify).
        WAKE_AT.fetch_min(target, Ordering::SeqCst);
        if BG_WORK.load(Ordering::SeqCst) >= target {
            break true;
        }
        let running = published_ratio().map(|r| r.cycle);
        if running != Some(cycle) {
            break false;
        }
        if PROGRESS.wait_until(&mut guard, deadline).timed_out() {
            break BG_WORK.load(Ordering::SeqCst) >= target;
        }
    }
}

/// Whether the cycle's marking job runs (assists may take grey objects).
#[inline]
pub(crate) fn draining() -> bool {
    // Relaxed: a hint; an assist checks the phase inside its op before it marks.
    DRAINING.load(Ordering::Relaxed)
}

/// Brackets the cycle's marking job (see [`draining`]).
pub(crate) fn set_draining(on: bool) {
    DRAINING.store(on, Ordering::Relaxed);
}

/// An assist spent `time` (working or waiting) and scanned `scanned` objects.
pub(crate) fn note_assist(time: Duration, scanned: u64) {
    // Relaxed: statistics.
    ASSIST_NANOS.fetch_add(time.as_nanos() as u64, Ordering::Relaxed);
    ASSIST_SCANNED.fetch_add(scanned, Ordering::Relaxed);
}

/// An assist's `Trace` impls panicked `count` times: the cycle must keep everything
/// (`cycle.rs`, as for a worker's panic).
pub(crate) fn note_assist_trace_panics(count: usize) {
    // Relaxed: read by the collector after the termination stop, which every assist's op
    // ended before (the stop's synchronisation orders it).
    ASSIST_TRACE_PANICS.fetch_add(count, Ordering::Relaxed);
}

/// Takes the assists' trace panics counted since the last call.
pub(crate) fn take_assist_trace_panics() -> usize {
    ASSIST_TRACE_PANICS.swap(0, Ordering::Relaxed)
}

/// Total time threads spent in mark assists (`Stats::assist_time`).
pub(crate) fn assist_time() -> Duration {
    // Relaxed: a statistic.
    Duration::from_nanos(ASSIST_NANOS.load(Ordering::Relaxed))
}

/// Objects scanned by assists so far.
pub(crate) fn assist_scanned() -> u64 {
    // Relaxed: a statistic.
    ASSIST_SCANNED.load(Ordering::Relaxed)
}
