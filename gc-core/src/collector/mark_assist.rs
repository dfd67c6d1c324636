//! Mark assists (Go's `gcAssistAlloc`): a thread that allocates while a cycle runs pays
//! for it in cycle work, so that no mutator can outrun the collector and grow the heap
//! past its goal without bound.
//!
//! # When
//! The allocator reports each span a thread cache takes for managed objects, and each large
//! object, with its bytes (`heap::set_refill_hook`); `Gc::new` then calls [`assist`] after
//! its op (`collector::after_refill`). That is once per span (8 KiB or more), never on the
//! allocation fast path. Between cycles nothing is charged: the published ratio says no
//! cycle runs.
//!
//! # What
//! 1. The bytes are charged to the thread's [`AssistCredit`] at the published assist ratio
//!    (F7-F8 of `pacer.rs`). No debt: done.
//! 2. In debt, under the pacer's lock: the credit steals background credit (the scan work
//!    the collector's threads did beyond what earlier assists took) and says how much work
//!    is still owed.
//! 3. While marking runs (`pacing::draining`), the thread takes grey objects from the
//!    global work list (where the collector shares its surplus, `workers.rs`) and scans up
//!    to what it owes, inside an op: mark termination stops the world, so it cannot look
//!    for grey objects while an assist holds some, and the assist hands what is left of its
//!    stack back to the global list before its op ends (`LocalWork::flush`).
//!    While the cycle counts or finds roots, the thread claims chunks of spans of that pass
//!    like a worker (`workers::join`: the collector waits for joiners before its next step,
//!    and counts with atomic adds since joiners may count beside it). During the sweep it
//!    runs a chunk of the drop pass, or sweeps spans of the free pass (`sweep::assist`),
//!    outside any op (drop glue is user code): allocation pays for the sweep in
//!    proportion, Go's proportional sweep.
//! 4. Owing work and finding none (counting, roots, an empty list, no sweep work left), the thread
//!    waits for the collector's threads to do it (Go parks such an assist on the assist
//!    queue until background credit arrives): until the background work counter has grown
//!    by what it owes, the cycle ends, or `MAX_WAIT` passes. Then back to step 2. After
//!    `MAX_ASSIST` in all the thread goes on with its debt, unless the in-use heap is at
//!    the memory limit (`Pacer::at_memory_limit`): then it waits for as long as the cycle
//!    runs, since allocating on would overrun the limit.
//! 5. The time from step 2 on is the thread's assist time (`Stats::assist_time`). The
//!    scanning is reported to the pacer, whose CPU limiter counts it as collection time,
//!    and so is the waiting while the live heap alone exceeds the memory limit
//!    (`pay_debt`): while the limiter limits, step 2 asks for no work, so a live heap
//!    above the limit slows the program down to about half its speed instead of stopping
//!    it.
//!
//! # Before the cycle starts
//! The heap's trigger wakes the collector thread, which starts the cycle (and assists)
//! after its starting stop. On a busy machine that thread may wait for a CPU for
//! milliseconds while the mutators keep allocating unpaced: beside a CPU hog, cycles
//! started up to 10 MiB past a 50 MiB trigger in `tests/memory_limit.rs`. So a thread that
//! takes a span with the in-use heap at the goal and no cycle running waits until the
//! cycle has started or the heap is below the goal again (polling every
//! `CYCLE_START_POLL`, at most `MAX_ASSIST`; counted as assist time). Go has no such wait:
//! its allocating goroutine starts the cycle itself.
//!
//! # The growth gate
//! A thread cache that takes fresh pages for a managed span while the sweep's drop pass
//! runs, with the pages in spans over the heap goal, notes it (`heap::note_growth`): the
//! slots the cycle frees cannot be reused until that pass ends, and a heap that grew
//! meanwhile would keep them free beside the new span, cycle after cycle. After its op the
//! thread runs chunks of the drop pass and waits for the pass to end ([`finish_drop_pass`],
//! at most `GROWTH_WAIT` in all), so that its next span comes from the free pass, which
//! reuses them (docs/collector.md, "The growth gate").
//!
//! # Who never assists
//! The collector thread and the mark workers (the cycle waits for them), a thread running
//! a count-zero batch (a requested cycle's start may wait for that batch, R5b, which would
//! wait for the assist) or the sweep's drop glue, and a thread already in an assist (a
//! `Trace` impl that allocates).

use core::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use super::assist::AssistCredit;
use super::mark;
use super::pacing;
use super::phase::{phase_in_op, Phase};
use super::work::LocalWork;
use crate::heap;
use crate::trace::Tracer;

/// Longest an assist waits for background credit before it re-checks its debt.
const MAX_WAIT: Duration = Duration::from_millis(10);
/// Longest one assist call lasts: after it the thread goes on with its debt kept, so that a
/// stalled collector (a descheduled worker on an overloaded machine) cannot stall it for
/// long. The next span it takes assists again.
const MAX_ASSIST: Duration = Duration::from_millis(50);
/// Longest a thread that grew the heap during the drop pass helps and waits for it (the
/// growth gate): long enough to let most drop passes end, short enough that a long one
/// (300 ms on a 1 GiB W3 heap) does not stall the mutator; a thread so grows the heap by at
/// most one span per `GROWTH_WAIT`.
const GROWTH_WAIT: Duration = Duration::from_millis(10);
/// How often a thread that reached the heap goal before its cycle started checks again.
const CYCLE_START_POLL: Duration = Duration::from_micros(50);
/// Most objects an assist scans inside one op: mark termination's stop waits for it.
const OP_SLICE: usize = 256;
/// The span size an assist's debt is converted at, for passes that work by span (a
/// small-object span).
const SPAN_BYTES: u64 = 8 << 10;
/// Most spans one assist step takes in such a pass.
const MAX_SPANS: usize = 32;

thread_local! {
    static CREDIT: RefCell<AssistCredit> = const { RefCell::new(AssistCredit::new()) };
    /// Set while this thread assists, or may never assist (module docs).
    static EXEMPT: Cell<bool> = const { Cell::new(false) };
    /// Bytes of spans this thread took since its last assist check (set inside the op).
    static PENDING_BYTES: Cell<usize> = const { Cell::new(0) };
}

/// The heap's refill hook: notes `bytes` taken (inside the op; only notes).
pub(crate) fn note_refill(bytes: usize) {
    let _ = PENDING_BYTES.try_with(|p| p.set(p.get().saturating_add(bytes)));
}

/// Takes the bytes noted since the last call (a load on `Gc::new`'s path, a store only
/// after a refill).
#[inline]
pub(crate) fn take_pending() -> usize {
    PENDING_BYTES
        .try_with(|p| {
            let bytes = p.get();
            if bytes != 0 {
                p.set(0);
            }
            bytes
        })
        .unwrap_or(0)
}

/// Marks the calling thread as one that never assists (the collector's threads).
pub(crate) fn set_exempt() {
    EXEMPT.with(|e| e.set(true));
}

/// Charges `bytes` just taken and assists if the thread is in debt (module docs). Outside
/// any op.
#[cold]
#[inline(never)]
pub(crate) fn assist(bytes: usize) {
    if never_assists_now() {
        return;
    }
    let Some(ratio) = pacing::published_ratio() else {
        if heap::at_heap_goal() {
            wait_for_cycle_start();
        }
        return;
    };
    let in_debt = CREDIT.with(|c| c.borrow_mut().charge(ratio, bytes));
    if !in_debt {
        return;
    }
    EXEMPT.with(|e| e.set(true));
    let started = Instant::now();
    let scanned = pay_debt(started);
    let spent = started.elapsed();
    EXEMPT.with(|e| e.set(false));
    pacing::note_assist(spent, scanned);
}

/// Whether the calling thread must not assist now (module docs, "Who never assists").
fn never_assists_now() -> bool {
    EXEMPT.try_with(|e| e.get()).unwrap_or(true)
        || crate::reclaim::reclaiming()
        || crate::sweep::in_sweep_drop()
}

/// The heap reached its goal while no cycle runs (module docs, "Before the cycle starts"):
/// waits, for at most `MAX_ASSIST`, until the cycle its trigger asked for has started (and
/// assists pace what follows) or the heap is below the goal again. Counted as assist time.
#[cold]
#[inline(never)]
fn wait_for_cycle_start() {
    let started = Instant::now();
    while pacing::published_ratio().is_none()
        && heap::at_heap_goal()
        && started.elapsed() < MAX_ASSIST
    {
        std::thread::sleep(CYCLE_START_POLL);
    }
    pacing::note_assist(started.elapsed(), 0);
}

/// The thread grew the heap past its goal during the sweep's drop pass
/// (`heap::take_growth_wait`): it helps the pass and waits for its end, for at most
/// `GROWTH_WAIT`, before it allocates more, so that its next span reuses what the cycle
/// freed (module docs, "The growth gate"). Outside any op; counted as assist time. While
/// the CPU limiter limits, the heap may grow instead (as assists are refused then).
#[cold]
#[inline(never)]
pub(crate) fn finish_drop_pass() {
    if never_assists_now() || pacing::with_pacer(|pacer| pacer.gc_cpu_limited()) {
        return;
    }
    EXEMPT.with(|e| e.set(true));
    let started = Instant::now();
    let bytes = crate::sweep::help_drop_pass_for(GROWTH_WAIT);
    EXEMPT.with(|e| e.set(false));
    if pacing::published_ratio().is_some() {
        // No CPU for the limiter: the drop pass is the cycle's background work, which the
        // limiter counts as its flat background share whoever runs it; the thread only
        // takes chunks so that the pass ends before it allocates more. (Counting them
        // filled the bucket on W3 under a limit of 1.5x the live heap within 10 s, after
        // which assists and this gate were refused and the heap ran to 2x the limit.)
        let work = bytes as u64 / pacing::PASSES;
        pacing::with_pacer(|pacer| {
            CREDIT.with(|c| c.borrow_mut().repay(pacer, work, Duration::ZERO))
        });
    }
    pacing::note_assist(started.elapsed(), 0);
}

/// Steps 2-4 of the module docs. Returns the objects this thread scanned.
///
/// The limiter counts the time spent scanning as collection CPU. Time spent waiting uses no
/// CPU (the collector's threads run meanwhile), so it counts only while the live heap
/// alone exceeds the memory limit (`Pacer::live_heap_over_limit`): then the debt can never
/// be paid by the heap's growth, every allocation would wait, and the limiter must cap the
/// waits to keep the program going. Below the limit, counting waits made a program that
/// allocates as fast as the collector frees fill the limiter's bucket in two seconds and
/// then run past the limit.
fn pay_debt(started: Instant) -> u64 {
    let mut scanned_total = 0u64;
    let mut waited = Duration::ZERO;
    loop {
        // Step 2.
        let (owed, cycle, at_limit) = pacing::with_pacer(|pacer| {
            CREDIT.with(|c| {
                let mut credit = c.borrow_mut();
                if !waited.is_zero() && pacer.live_heap_over_limit() {
                    credit.repay(pacer, 0, waited);
                }
                let owed = credit.on_allocate(pacer, 0);
                (owed, pacer.cycle_count(), pacer.at_memory_limit())
            })
        });
        waited = Duration::ZERO;
        if owed == 0 || (started.elapsed() >= MAX_ASSIST && !at_limit) {
            return scanned_total;
        }
        // Step 3.
        let objects = owed.div_ceil(pacing::scanned_work(1)) as usize;
        let scan_started = Instant::now();
        let scanned = if pacing::draining() {
            scan_some(objects.min(OP_SLICE))
        } else {
            0
        };
        // Step 3b: chunks of the count or roots pass; during the sweep, a chunk of its drop
        // pass or spans of its free pass.
        let spans = ((owed * pacing::PASSES).div_ceil(SPAN_BYTES) as usize).clamp(1, MAX_SPANS);
        let other_work = if scanned == 0 && !pacing::draining() {
            match super::workers::join(spans.div_ceil(super::workers::CHUNK_SPANS)) {
                0 => crate::sweep::assist(spans) as u64 / pacing::PASSES,
                work => work,
            }
        } else {
            0
        };
        if scanned > 0 || other_work > 0 {
            scanned_total += scanned as u64;
            let work = pacing::scanned_work(scanned) + other_work;
            let spent = scan_started.elapsed();
            pacing::with_pacer(|pacer| CREDIT.with(|c| c.borrow_mut().repay(pacer, work, spent)));
            continue;
        }
        // Step 4.
        let wait_started = Instant::now();
        let target = pacing::background_work().saturating_add(owed);
        pacing::wait_for_background_work(target, cycle, MAX_WAIT);
        waited = wait_started.elapsed();
    }
}

/// Scans up to `budget` grey objects from the global list inside an op (step 3). Returns
/// the objects scanned.
fn scan_some(budget: usize) -> usize {
    let op = heap::enter_op();
    if phase_in_op() != Phase::Mark {
        return 0;
    }
    let mut local = LocalWork::new(true);
    let mut tracer = Tracer::new();
    let (scanned, panics) = mark::drain(&mut local, &mut tracer, budget);
    local.flush();
    if panics > 0 {
        pacing::note_assist_trace_panics(panics);
    }
    drop(op);
    scanned
}
