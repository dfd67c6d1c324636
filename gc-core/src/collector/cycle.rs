//! The collector thread and the cycle driver (Go's `gcStart`, `gcMarkDone`,
//! `gcMarkTermination`, `forcegchelper` and `runtime.GC`).
//!
//! # A cycle
//! 1. Pools: inside step 2's stop, every pool's primary generation (every thread's private
//!    slot included) becomes its victim and the old victim becomes dead
//!    (`pool::on_world_stopped`, which moves nothing: one store per pool); right after
//!    that stop the dead values are dropped (`Rotated::drop_dead`: user code, so never in
//!    the stop).
//! 2. In a stopped world (Go's sweep termination): mark the count-zero batches that threads
//!    are freeing born (R5: the cycle never traces them), discard every queued count-zero
//!    object (this cycle frees them, `reclaim/`), and `Off -> Mark`. Every op after it
//!    sees `Mark` (black allocation, barriers on). Recorded as a pause.
//! 3. Freeze span frees; snapshot the managed spans; the mark workers count, find roots
//!    and mark (`mark.rs`, `workers.rs`).
//! 4. Mark termination: when the workers run out of grey objects, switch mutators' barriers
//!    to handing over every shade at once (`work::set_flush_mode`), stop the world and take
//!    every thread's buffer of grey objects. If there were none and the global list is
//!    empty, flush every thread cache, advance the sweep generation and set `Sweep`;
//!    otherwise restart the world and drain again. Only this step stops the world; its
//!    length depends on the number of threads, not on the heap.
//! 5. Sweep (`sweep/`: a drop pass, then a free pass, each shared with the mark workers and
//!    with allocating threads; the workers then free published count-zero objects,
//!    `reclaim::help_during_sweep`), thaw span frees, set `Off`, publish the count-zero
//!    objects the sweep's drop glue queued, end the pacer's cycle (`pacing.rs`: the next
//!    goal and trigger). (Drops during the
//!    cycle are freed by the dropping threads where rule M1 allows: in `Mark` the objects
//!    born in it, in `Sweep` all; the final termination stop takes what else `Mark` queued
//!    and keeps for reclamation what the cycle marked, R1b.)
//!
//! Between cycles the thread frees count-zero objects (`reclaim/drain.rs`), a batch at a time,
//! so that a requested or triggered cycle never waits long, and before each idle wait it
//! publishes thread buffers that have waited too long (`reclaim::flush_stale_buffers`).
//!
//! # Triggers
//! - `collect()`: waits for any running cycle, then runs a full one (like `runtime.GC`).
//!   Concurrent callers share cycles: a caller waits for the first cycle that *starts*
//!   after its call to complete.
//! - The heap trigger: the allocator calls `on_heap_trigger` when in-use bytes reach the
//!   trigger that the pacer computed (`pacing.rs`: Go 1.18's model, from the measured
//!   allocation and mark rates, between 70% and 95% of the way from the live heap to the
//!   goal); the idle loop also re-syncs the pacer with the heap and starts a cycle when the
//!   re-armed trigger is already behind it. While a cycle runs, threads that allocate
//!   assist it (`mark_assist.rs`).
//! - The periodic cycle: if none ran for the forced period (2 minutes by default).
//!
//! # Control state
//! `CONTROL` (a mutex) holds the cycle counters; `requested` is the number of completed
//! cycles some caller waits for. The collector thread sleeps on `WAKE` with a timeout so
//! that a signal lost to the race between `on_heap_trigger` (which does not lock) and the
//! wait costs at most one timeout period.
//!
//! **The hand-off of `collect()`.** A caller signals the collector thread and waits for
//! `completed`; the collector thread wakes, runs the cycle, and wakes the caller. Each
//! wake-up of a parked thread cost 38-44 us at the median on the 2-vCPU VM of
//! BENCHMARKS.md §16, more than a small heap's whole cycle (about 30 us), so `collect()`
//! on a tiny heap took 110 us. Both sides therefore spin for up to `HANDOFF_SPIN` before
//! they park: the caller until `completed` (mirrored in `COMPLETED`) reaches its target,
//! and the collector thread, after a requested cycle, until the next request (mirrored in
//! `REQUESTED`), which catches back-to-back `collect()` calls (an interpreter's, or a
//! test's). The spins yield their CPU after a few rounds, so on a machine with more busy
//! threads than cores they delay no one by more than a scheduler round; the mirrors are
//! hints only: every decision is re-checked under `CONTROL`.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::config;
use super::fatal;
use super::mark;
use super::mark_assist;
use super::pacing;
use super::phase::{set_phase, Phase};
use super::stats::{CycleTrace, COUNTERS};
use super::work;
use super::workers::{JobKind, SpanSnapshot, Workers};
use crate::heap;
use crate::reclaim::{self, ZERO_QUEUE};
use crate::sweep;
use crate::sync::{spin_until_or, AtomicBool, AtomicU64, Ordering};

/// How long the collector thread sleeps between checks when idle.
const IDLE_POLL: Duration = Duration::from_millis(50);
/// How long a `collect()` caller spins for its cycle, and the collector thread for the
/// next request after a requested cycle, before parking (module docs, "The hand-off").
const HANDOFF_SPIN: Duration = Duration::from_micros(100);
/// The fewest unswept spans for which a cycle's sweep wakes the mark workers to help (a
/// span's sweep costs well under a microsecond by bitmap, a few with drop glue; a
/// worker's wake-up tens on a VM), unless count-zero objects wait to be freed too.
const SWEEP_HELP_MIN_SPANS: usize = 64;
/// Count-zero objects freed between two checks for a pending cycle.
const RECLAIM_BATCH: usize = 16 * 1024;

#[derive(Debug, Default)]
struct ControlState {
    /// Cycles completed.
    completed: u64,
    /// A cycle is running.
    running: bool,
    /// Some `collect()` waits until `completed` reaches this.
    requested: u64,
}

static CONTROL: Mutex<ControlState> = Mutex::new(ControlState {
    completed: 0,
    running: false,
    requested: 0,
});
/// Wakes the collector thread.
static WAKE: Condvar = Condvar::new();
/// Wakes `collect()` callers when a cycle completes.
static DONE: Condvar = Condvar::new();
/// `ControlState::completed`, for callers that spin before they park (a hint: stored
/// under `CONTROL` after the field).
static COMPLETED: AtomicU64 = AtomicU64::new(0);
/// `ControlState::requested`, for the collector thread's spin after a requested cycle (a
/// hint, as `COMPLETED`).
static REQUESTED: AtomicU64 = AtomicU64::new(0);
/// Set by the allocation trigger.
static HEAP_TRIGGERED: AtomicBool = AtomicBool::new(false);
/// Benchmarks only: while set, a cycle waits in `Mark` after its roots pass, so that
/// barrier costs can be measured during a cycle.
pub(crate) static HOLD_MARKING: AtomicBool = AtomicBool::new(false);
/// Benchmarks only: set while a cycle is held by `HOLD_MARKING`.
pub(crate) static HELD: AtomicBool = AtomicBool::new(false);
static STARTED: OnceLock<()> = OnceLock::new();

/// Starts the collector thread (once) and arms the first trigger.
pub(crate) fn ensure_started() {
    STARTED.get_or_init(|| {
        config::init_from_env();
        ZERO_QUEUE.set_hook(on_zero_queued);
        heap::set_refill_hook(mark_assist::note_refill);
        pacing::init();
        record_armed(pacing::sync());
        std::thread::Builder::new()
            .name("tricolor-gc collector".into())
            .spawn(collector_main)
            .expect("tricolor-gc: cannot start the collector thread");
    });
}

/// Recomputes the heap goal and trigger with the current settings (Go's `SetGCPercent`
/// and `SetMemoryLimit` do the same), and starts a cycle if the heap is already past the
/// new trigger.
pub(crate) fn rearm() {
    ensure_started();
    let armed = pacing::settings_changed();
    record_armed(armed);
    if armed.due {
        on_heap_trigger();
    }
}

/// Publishes a goal and trigger in the stats.
fn record_armed(armed: pacing::Armed) {
    let mut counters = COUNTERS.lock();
    counters.heap_goal_bytes = armed.goal;
    counters.trigger_bytes = armed.trigger;
}

/// The allocator's trigger hook: runs on an allocating thread; only signals.
pub(crate) fn on_heap_trigger() {
    if !HEAP_TRIGGERED.swap(true, Ordering::Relaxed) {
        WAKE.notify_one();
    }
}

/// The count-zero queue's hook: a batch of objects was published; only signals.
fn on_zero_queued() {
    WAKE.notify_one();
}

thread_local! {
    /// Set on the collector thread and the mark workers (which run destructors of swept
    /// and reclaimed objects, and which a cycle waits for).
    static ON_COLLECTOR: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Marks the calling thread as one a cycle waits for (a mark worker): `collect()` from a
/// destructor it runs panics instead of deadlocking.
pub(crate) fn set_on_collector() {
    ON_COLLECTOR.with(|c| c.set(true));
    mark_assist::set_exempt();
}

/// Runs a full cycle and returns when marking and sweeping are complete.
pub(crate) fn collect() {
    if sweep::in_sweep_drop() || ON_COLLECTOR.with(|c| c.get()) {
        panic!("tricolor-gc: collect() called from a destructor that the collector is running; it would wait for itself");
    }
    ensure_started();
    // The caller's own count-zero objects: freed by counts now rather than left in its
    // buffer for the cycle's sweep.
    reclaim::assist_own();
    // From a destructor that this thread's reclaim batch runs, the batch leaves the gate
    // while the thread waits (R5b), so the requested cycle does not wait for it.
    let in_batch = reclaim::while_parked(|| {
        let target = {
            let mut state = CONTROL.lock();
            // A running cycle may have started before this call: wait for the next one.
            let target = state.completed + if state.running { 2 } else { 1 };
            state.requested = state.requested.max(target);
            REQUESTED.store(state.requested, Ordering::Relaxed);
            WAKE.notify_one();
            target
        };
        // Relaxed: a hint; the wait below decides under the lock.
        spin_until_or(HANDOFF_SPIN, || COMPLETED.load(Ordering::Relaxed) >= target);
        let mut state = CONTROL.lock();
        while state.completed < target {
            DONE.wait(&mut state);
        }
    });
    // A batch that was parked in `collect()` when a requested cycle started was claimed
    // (R5), not waited for: wait until such batches end. Not from inside one: it would
    // wait for itself.
    if !in_batch {
        ZERO_QUEUE.wait_for_claimed_batches();
    }
}

/// Why a cycle runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Reason {
    Requested,
    Heap,
    Periodic,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::Requested => "collect()",
            Reason::Heap => "heap goal",
            Reason::Periodic => "forced, periodic",
        }
    }
}

fn collector_main() {
    ON_COLLECTOR.with(|c| c.set(true));
    mark_assist::set_exempt();
    reclaim::set_collector_thread();
    let mut last_cycle = Instant::now();
    work::init();
    let workers = Workers::spawn(config::mark_workers());
    // Set after a requested cycle: spin for the next request once before sleeping.
    let mut spin_for_request = false;
    loop {
        let reason = {
            let mut state = CONTROL.lock();
            loop {
                if state.requested > state.completed {
                    break Reason::Requested;
                }
                // A trigger is armed only when there is a goal (a GC percent, or a memory
                // limit with automatic cycles otherwise off, like Go's GOGC=off with
                // GOMEMLIMIT).
                if HEAP_TRIGGERED.swap(false, Ordering::Relaxed) {
                    break Reason::Heap;
                }
                // The pacer follows allocation and count-zero frees between cycles; the
                // trigger it re-arms may already be behind the heap (a goal lowered by
                // frees of old objects, or by the memory limit).
                let armed = parking_lot::MutexGuard::unlocked(&mut state, pacing::sync);
                record_armed(armed);
                if armed.due {
                    break Reason::Heap;
                }
                if config::gc_percent() >= 0 && last_cycle.elapsed() >= config::force_period() {
                    break Reason::Periodic;
                }
                if !ZERO_QUEUE.is_empty() {
                    // Phase `Off`: free count-zero objects, a batch at a time, then look
                    // for a pending cycle again.
                    parking_lot::MutexGuard::unlocked(&mut state, || {
                        fatal::abort_on_panic("prompt reclamation", reclaim_batch)
                    });
                    continue;
                }
                // A thread's partial buffer of count-zero objects must not wait for its
                // next drops forever (reclaim/queue.rs, step 4).
                let stop = parking_lot::MutexGuard::unlocked(&mut state, || {
                    fatal::abort_on_panic("stale count-zero buffers", reclaim::flush_stale_buffers)
                });
                if let Some(stall) = stop {
                    COUNTERS.lock().record_pause(stall);
                    continue;
                }
                if core::mem::take(&mut spin_for_request) {
                    let completed = state.completed;
                    parking_lot::MutexGuard::unlocked(&mut state, || {
                        // Relaxed: hints; the loop re-checks both. (Count-zero batches
                        // published meanwhile wait for the spin: at most `HANDOFF_SPIN`.)
                        spin_until_or(HANDOFF_SPIN, || {
                            REQUESTED.load(Ordering::Relaxed) > completed
                                || HEAP_TRIGGERED.load(Ordering::Relaxed)
                        });
                    });
                    continue;
                }
                WAKE.wait_for(&mut state, IDLE_POLL);
            }
        };
        CONTROL.lock().running = true;
        fatal::abort_on_panic("a collection cycle", || run_cycle(reason, &workers));
        last_cycle = Instant::now();
        spin_for_request = reason == Reason::Requested;
        let mut state = CONTROL.lock();
        state.running = false;
        state.completed += 1;
        COMPLETED.store(state.completed, Ordering::Relaxed);
        DONE.notify_all();
    }
}

/// One drain of count-zero objects (`reclaim/drain.rs`), with its counters.
fn reclaim_batch() {
    // Counted where they happen: objects and bytes on this thread's heap counters, drop
    // panics in `reclaim::drop_panics`.
    reclaim::drain(RECLAIM_BATCH);
}

fn run_cycle(reason: Reason, workers: &Workers) {
    let mut trace = CycleTrace {
        reason: reason.name(),
        heap_before: heap::totals().in_use_bytes,
        ..CycleTrace::default()
    };
    let assist_before = (pacing::assist_time(), pacing::assist_scanned());

    // 2. Barrier on, in a stopped world: queued count-zero objects are left to this cycle
    // (reclaim/), managed spans stop merging frees while the cycle walks them, and (1)
    // every pool's primary generation becomes its victim.
    // R5b: a cycle that some `collect()` waits for starts with no batch in flight, so that
    // what those batches release is in a buffer at its stop and this cycle frees it (its
    // waiters are promised everything that was unreachable when they called). Not part of
    // the pause: mutators run meanwhile. Other cycles only claim (R5).
    let requested = {
        let state = CONTROL.lock();
        state.requested > state.completed
    };
    let gate_wait = Instant::now();
    if requested {
        ZERO_QUEUE.gate().close_and_wait();
    }
    trace.gate_wait = gate_wait.elapsed();
    let started = Instant::now();
    // Declared outside the stop's scope so that it is dropped after the world restarts.
    let pools;
    {
        let mut world = heap::stop_the_world();
        trace.start_stopping = started.elapsed();
        // R5: count-zero batches that threads are freeing right now become born in this
        // `Mark`: the cycle never traces them, and the threads go on freeing them (M1).
        trace.claimed_zero =
            ZERO_QUEUE.claim_in_flight(|each| world.for_each_reclaim_buffer(each), mark::mark_born);
        trace.discarded_zero = ZERO_QUEUE.discard_all(|each| world.for_each_reclaim_buffer(each));
        set_phase(Phase::Mark);
        pools = crate::pool::on_world_stopped(&world);
        drop(world);
    }
    // The pause is the stopped world alone: from here on mutators run.
    trace.start_stop = started.elapsed();
    COUNTERS.lock().record_pause(trace.start_stop);
    if requested {
        ZERO_QUEUE.gate().open();
    }
    // Assists are on from here to the end of the sweep (`pacing.rs`).
    pacing::start_cycle();
    // 1. Pools drop their dead generations: user code, so only once the world runs.
    let pool_drop_panics = pools.drop_dead();
    COUNTERS.lock().drop_panics += pool_drop_panics;

    // 3. Count, roots, mark.
    heap::freeze_spans();
    let spans = Arc::new(SpanSnapshot(heap::managed_spans()));
    trace.workers = workers.count();
    let t = Instant::now();
    let counted = workers.run(JobKind::Count, Some(&spans));
    trace.trace_panics += counted.panics;
    trace.mark_cpu += counted.busy;
    trace.count = t.elapsed();
    let t = Instant::now();
    let rooted = workers.run(JobKind::Roots, Some(&spans));
    trace.roots_found = rooted.roots;
    trace.mark_cpu += rooted.busy;
    trace.roots = t.elapsed();

    while HOLD_MARKING.load(Ordering::Relaxed) {
        HELD.store(true, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(1));
    }
    HELD.store(false, Ordering::Relaxed);

    // 4. Mark and terminate.
    let t = Instant::now();
    let mark_zeros;
    let mut abandoned = false;
    pacing::set_draining(true);
    loop {
        let marked = workers.run(JobKind::Drain, None);
        trace.scanned += marked.traced;
        trace.mark_cpu += marked.busy;
        if marked.panics > 0 {
            trace.trace_panics += marked.panics;
            abandoned = true;
        }
        // The workers found nothing: from now on barriers hand over each shade at once,
        // so that the world is stopped with as little as possible left in buffers.
        work::set_flush_mode(true);
        trace.stop_attempts += 1;
        let stop_started = Instant::now();
        let mut world = heap::stop_the_world();
        let stopping = stop_started.elapsed();
        if !work::try_terminate(|publish| world.take_mark_buffers(publish)) {
            drop(world);
            COUNTERS.lock().record_pause(stop_started.elapsed());
            continue;
        }
        // Every assist's op ended before this stop (`mark_assist.rs`): its trace panics
        // are counted.
        let assist_panics = pacing::take_assist_trace_panics();
        if assist_panics > 0 {
            trace.trace_panics += assist_panics;
            abandoned = true;
        }
        pacing::set_draining(false);
        if abandoned {
            // A Trace impl panicked while marking: its targets may be unshaded, so nothing
            // may be freed this cycle. Keep everything (counted in the trace line).
            mark::mark_all(&spans.0);
        }
        // What was queued during `Mark`, sorted by mark bit below (R1b): O(threads) here.
        mark_zeros = ZERO_QUEUE.take_all(|each| world.for_each_reclaim_buffer(each));
        let flush_started = Instant::now();
        world.flush_caches();
        trace.termination_parts = (stopping, flush_started.elapsed());
        heap::advance_sweep_generation(&world);
        set_phase(Phase::Sweep);
        work::set_flush_mode(false);
        trace.threads = world.threads();
        drop(world);
        trace.termination = stop_started.elapsed();
        COUNTERS.lock().record_pause(trace.termination);
        break;
    }
    trace.mark = t.elapsed() - trace.termination;
    trace.abandoned = abandoned;
    drop(spans);
    // R1b: the count-zero objects of `Mark` that this cycle marked survive its sweep, so
    // the drain frees them after it; the others the sweep frees. Before the sweep, which
    // swaps the mark bitmaps.
    let (kept, left) = ZERO_QUEUE.keep_survivors(mark_zeros, mark::is_marked);
    trace.mark_zeros_kept = kept;
    trace.mark_zeros_swept = left;

    // 5. Sweep, while the mark workers free what `Mark` queued and the cycle kept (R1b)
    // and whatever else is published (reclaim/drain.rs, `help_during_sweep`).
    let t = Instant::now();
    let mut helped = false;
    let report = sweep::sweep(|spans| {
        // Waking a worker costs tens of microseconds on a VM (the hand-off measured in
        // the module docs); a sweep this small is over before the worker would arrive.
        if spans >= SWEEP_HELP_MIN_SPANS || !ZERO_QUEUE.is_empty() {
            workers.post(JobKind::Sweep, None);
            helped = true;
        }
    });
    trace.sweep = t.elapsed();
    if helped {
        trace.reclaimed_by_workers = workers.wait().traced;
    }
    trace.freed = report.freed_objects;
    trace.swept_spans = (report.spans_swept, report.bitmap_only_spans);
    trace.drop_panics = report.drop_panics;
    heap::thaw_spans();
    set_phase(Phase::Off);
    // Survivors whose last handle the sweep's drop glue released were queued on this
    // thread's own buffer (R1 queues in `Sweep`): publish them, so that the loop's next
    // look at the queue drains them instead of waiting for more.
    reclaim::flush(&heap::enter_op());

    // The live heap the next goal is computed from: what the sweep kept and this cycle's
    // marking found reachable, not the objects allocated black during its `Mark`
    // (`pacing::end_cycle`), nor the in-use total, which also counts everything allocated
    // since termination and whole cached spans.
    trace.live = (report.live_bytes, report.born_live_bytes);
    let end = pacing::end_cycle(report.live_bytes - report.born_live_bytes, trace.mark_cpu);
    let assist_after = (pacing::assist_time(), pacing::assist_scanned());
    let totals = heap::totals();
    trace.heap_after = totals.in_use_bytes;
    trace.pages = (
        totals.span_bytes,
        totals.free_bytes - totals.released_bytes,
        totals.released_bytes,
    );
    trace.heap_goal = end.armed.goal;
    trace.trigger = end.armed.trigger;
    trace.started_at_trigger = end.last_trigger;
    trace.scan_work = (end.scan_work, end.assist_work);
    trace.cons_mark = end.cons_mark;
    trace.mark_assist = (
        assist_after.0.saturating_sub(assist_before.0),
        assist_after.1 - assist_before.1,
    );
    {
        let mut counters = COUNTERS.lock();
        counters.cycles += 1;
        counters.freed_objects += report.freed_objects as u64;
        counters.drop_panics += report.drop_panics as u64;
        counters.heap_goal_bytes = end.armed.goal;
        counters.trigger_bytes = end.armed.trigger;
        counters.mark_time += trace.count + trace.roots + trace.mark;
        counters.sweep_time += trace.sweep;
        counters.swept_spans += report.spans_swept as u64;
        counters.bitmap_swept_spans += report.bitmap_only_spans as u64;
        counters.mark_cpu += trace.mark_cpu;
        if reason == Reason::Periodic {
            counters.forced_cycles += 1;
        }
        trace.cycle = counters.cycles;
        let totals = heap::counter_totals();
        let reclaimed = (
            totals.reclaimed_objects,
            totals.reclaimed_bytes,
            totals.assist_nanos,
        );
        let last = core::mem::replace(&mut counters.reclaimed_at_last_cycle, reclaimed);
        trace.reclaimed = (reclaimed.0 - last.0, reclaimed.1 - last.1);
        trace.assist = Duration::from_nanos(reclaimed.2 - last.2);
    }
    if config::trace_enabled() {
        eprintln!("{}", trace.line());
        report_fence_switch();
    }
}

/// Prints, once, that the process switched its stops from membarrier to fences
/// (`heap/fence_choice.rs`).
fn report_fence_switch() {
    static REPORTED: AtomicBool = AtomicBool::new(false);
    let Some(median) = heap::fences_switched_at() else {
        return;
    };
    // Relaxed: only the collector thread prints trace lines.
    if !REPORTED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "gc: a stop's membarrier took {:.1} us (median of the last stops), over \
             TRICOLOR_MEMBARRIER_MAX_US: op entries fence from now on",
            median.as_secs_f64() * 1e6
        );
    }
}
