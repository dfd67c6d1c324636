//! loom models of the collector's protocol, run against the shipped protocol code: op
//! entry and exit vs stopped worlds, the phase word, barriers vs counting and marking, mark
//! termination with the threads' buffers, and the count-zero hand-off (DESIGN §5, §9).
//!
//! # How they run the shipped code
//! Under `--cfg tricolor_loom` gc-core compiles only `sync` and its protocol modules
//! (`lib.rs`, "The loom build"), and this file is compiled as a unit-test module of that
//! build (`.ci/loom.sh`); in the normal build it is an empty integration test. Each model
//! builds fresh protocol state per loom execution (a `Safepoint`, one `Mutator` per mutator
//! thread, a `PhaseCell`, a `WorkList`, a `reclaim::ZeroQueue`, a `FreePass`) and calls the shipped methods: op
//! entry (`Safepoint::enter`, with its wait on the restart) and exit (`Mutator::exit`),
//! stopping and restarting the world (`Safepoint::stop`, dropping `Stopped`), taking and
//! discarding the threads' buffers (`Stopped::take_mark_buffers`,
//! `ZeroQueue::discard_all` over `Stopped::for_each_reclaim_buffer`), the phase word's loads and stores, the barrier's push
//! (`WorkList::push_from_mutator`), a worker's push and pop (`LocalWork`), the termination
//! test (`WorkList::try_terminate`), `GcCell`'s borrow flag (`CellFlag`), the free pass's
//! gate (`FreePass::open` / `close` / `assist_if_open`), and the count-zero queueing step
//! (`reclaim/queue.rs`: `queue_if_unchanged`, `ZeroQueue::push` / `flush` / `take`).
//!
//! What is still restated is marked `restated:` with the function it mirrors: the
//! `GcCell` barrier around its shipped flag (`gc_cell/mod.rs`; the flag itself,
//! `gc_cell/flag.rs`, is shipped code), the handle counts and mark bits of object
//! headers (`Gc::clone` / `Gc::drop`, `Span::mark`), the count and roots passes
//! (`mark.rs`), drop glue and frees, and the loops of `cycle.rs` that call the shipped
//! steps. Those live in modules that need the heap (spans, headers, thread locals), which
//! the loom build leaves out; docs/collector.md ("What the loom models check") lists them.
//! The thread registry is not modelled either: `thread_cache::stop_the_world` hands
//! `Safepoint::stop` its registered threads' `Mutator`s; a model hands it its own.
//!
//! # Controls
//! Every passing model has a control that must fail (`#[should_panic]`): the same model
//! with one rule of the protocol removed, through a loom-only constructor of the shipped
//! type (`Safepoint::with_relaxed_stop_load`, `Safepoint::without_mutator_fence`,
//! `PhaseCell::with_acquire_barrier_load`), a parameter (a termination that ignores the
//! threads' buffers), or the restated logic of a version that no longer ships
//! (`borrow_mut` deciding its barrier outside the op, the count-zero check by phase alone,
//! a barrier that decides before it holds the cell's flag). Three of them are findings:
//! loom found the bug in the protocol as it then shipped, and the library was fixed.
//!
//! # Fences
//! (a) **Op entry vs the collector** (heap `safepoint.rs` fact 1). In production the
//!     mutator's half is a compiler fence and the collector's half is `fence(SeqCst)` +
//!     `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`. loom cannot express an asymmetric
//!     fence, so the loom build always uses the fallback the code also ships
//!     (`TRICOLOR_NO_MEMBARRIER`, or a kernel without membarrier): a real `fence(SeqCst)`
//!     on both sides. That is the exact abstraction of the membarrier variant: membarrier
//!     returns only after every running thread of the process has executed a full barrier
//!     during the syscall (and a thread that was not running has one in its context
//!     switch), so every mutator execution is equivalent to one where a `fence(SeqCst)`
//!     sits at the mutator's current program point, totally ordered with the collector's
//!     fence. The compiler fence keeps the compiler from moving the `op_seq` store past the
//!     loads, so the hardware fence that membarrier injects lands between them or
//!     before/after both, which are the two cases of the symmetric model.
//! (b) **Barrier sites outside ops** (`collector/phase.rs` fact 1): a `SeqCst`
//!     read-modify-write (`Gc::clone`'s count increment) then a `SeqCst` phase load
//!     (`PhaseCell::seqcst`), against the collector's `SeqCst` phase store
//!     (`PhaseCell::set`) and a later `SeqCst` read of the count (the roots pass).
//!
//! # loom's memory model
//! loom 0.7 implements `fence(SeqCst)` exactly but treats `SeqCst` *accesses* as
//! acquire/release, except that a `SeqCst` load never reads a `SeqCst` store older (in
//! modification order) than another `SeqCst` store to the same location; its initial values
//! are not `SeqCst` stores, so `crate::sync`'s loom atomics store their initial value again
//! with `SeqCst` (`sync.rs` docs). loom explores executions under a preemption bound
//! (default 3 here, `LOOM_MAX_PREEMPTIONS` overrides), so these are bounded checks, not
//! proofs.
//!
//! # Findings (kept as `#[should_panic]` controls: the protocol before its fix, which must
//! keep failing; each model's doc comment gives the interleaving)
//! 1. `borrow_mut_barrier_vs_mark_termination`: the deletion barrier decided to shade
//!    (`phase_seqcst() == Mark`, outside any op) and only then entered the op that shades,
//!    re-checking the phase there. A marker that traces the cell's owner in between skips
//!    the writer-held cell, mark termination does not wait for a thread outside an op, and
//!    the op then sees `Sweep` and shades nothing: a handle counted as internal and moved
//!    out of the cell keeps an unmarked object, which the sweep frees.
//! 2. `op_bracket_vs_stop_the_world_restart` / `termination_vs_late_shade`: op entry
//!    loaded `STOP` with `Relaxed`. An op that reads the `false` stored by the restart is
//!    not ordered after the stopped world's work: it may read the stale phase `Mark` after
//!    mark termination set `Sweep` (and shade / allocate black), and its cache accesses
//!    race with `flush_caches`' writes to that cache.
//! 3. `count_zero_vs_cycle_phase_only`: prompt reclamation's first attempt decided in the
//!    op after `Gc::drop`'s decrement whether to queue the object, by the phase alone. A
//!    whole cycle can run between the decrement and the op: it frees the object (zero
//!    count, unmarked) and ends in `Off`, and the op then queues a freed object, which the
//!    drain frees again. The library follows `count_zero_vs_cycle` (the phase word is read
//!    before the decrement and must be unchanged in the op).

#![cfg(tricolor_loom)]

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;

use crate::collector::phase::{Phase, PhaseCell};
use crate::collector::work::{LocalWork, WorkList};
use crate::gc_cell::flag::{CellFlag, WRITER};
use crate::heap::free_pass::FreePass;
use crate::heap::safepoint::{InOp, Mutator, Safepoint, Stopped};
use crate::reclaim::{
    claim_in_stop, discard_in_stop, queue_if_unchanged, take_in_stop, Batch, Rules, ZeroQueue,
    ZERO_BATCH,
};
use crate::sync::Ordering::{Acquire, Relaxed, Release, SeqCst};
use crate::sync::{fence, AtomicBool, AtomicU32, AtomicU64};

/// Runs `f` under loom with a preemption bound (default 3; `LOOM_MAX_PREEMPTIONS` wins)
/// and prints how many executions it explored (`--nocapture` shows it).
fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = executions.clone();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    eprintln!(
        "loom: {} executions (preemption bound {:?})",
        executions.load(std::sync::atomic::Ordering::Relaxed),
        builder.preemption_bound
    );
}

// ===== Ops and stopped worlds (heap/safepoint.rs, shipped) ================================

/// An op of a model thread on its own `Mutator`: entered by the shipped `Safepoint::enter`,
/// exited by the shipped `Mutator::exit` — what `heap::Op` does, without a thread cache.
struct ModelOp<'a> {
    mutator: &'a Mutator,
}

impl<'a> ModelOp<'a> {
    fn enter(safepoint: &Safepoint, mutator: &'a Mutator) -> ModelOp<'a> {
        safepoint.enter(mutator);
        ModelOp { mutator }
    }
}

impl Drop for ModelOp<'_> {
    fn drop(&mut self) {
        self.mutator.exit();
    }
}

// SAFETY: entered through `Safepoint::enter` by the model thread that owns `mutator` (each
// model thread has its own, and only it enters ops on it), exited only in `Drop`; a
// `ModelOp` stays on the thread that entered it.
unsafe impl InOp for ModelOp<'_> {
    fn mutator(&self) -> &Mutator {
        self.mutator
    }
}

/// restated: `thread_cache::stop_the_world`, whose registry snapshot is the model's fixed
/// set of mutators. The stop itself is the shipped `Safepoint::stop`.
fn stop_world<'s>(safepoint: &'s Safepoint, mutators: &[&Mutator]) -> Stopped<'s> {
    safepoint.stop(|| mutators.iter().copied())
}

/// restated: `cycle.rs` `run_cycle` step 2 (the barrier on, in a stopped world): stop,
/// `ZeroQueue::claim_in_flight` (R5; the models here have no batch in flight),
/// `ZeroQueue::discard_all` over the stop's buffers (`reclaim::discard_in_stop`),
/// `set_phase(Mark)`, restart — each step the shipped call.
fn start_cycle(sp: &Safepoint, phase: &PhaseCell, mutators: &[&Mutator], zero: &ZeroQueue) {
    start_cycle_claiming(
        sp,
        phase,
        mutators,
        zero,
        Some(&mut |object| panic!("object {object:#x} was in flight in a model without batches")),
    );
}

/// [`start_cycle`] whose stop passes each object in flight to `claim` (the shipped
/// `ZeroQueue::claim_in_flight`, which the library follows with `mark::mark_born`);
/// `None` is the control that claims nothing.
fn start_cycle_claiming(
    sp: &Safepoint,
    phase: &PhaseCell,
    mutators: &[&Mutator],
    zero: &ZeroQueue,
    claim: Option<&mut dyn FnMut(usize)>,
) {
    let mut stopped = stop_world(sp, mutators);
    if let Some(claim) = claim {
        // SAFETY: `stop_world` waited for every one of `mutators`.
        unsafe { claim_in_stop(&mut stopped, mutators.iter().copied(), zero, claim) };
    }
    // SAFETY: as above.
    unsafe { discard_in_stop(&mut stopped, mutators.iter().copied(), zero) };
    phase.set(Phase::Mark);
    drop(stopped);
}

/// The models' `reclaim::Rules` (restated: `reclaim/drain.rs` `Shipped`): `born` lists the
/// objects allocated black during the running `Mark` (restated: the span's born bits);
/// every modelled object has drop glue (no in-place free); the model thread is not already
/// reclaiming (so a full buffer becomes a batch, `ZeroQueue::push`).
struct ModelRules {
    born: &'static [usize],
}

impl<O: InOp> Rules<O> for ModelRules {
    fn is_born(&self, object: usize) -> bool {
        self.born.contains(&object)
    }
    fn free_in_place(&self, _op: &O, _object: usize) -> bool {
        false
    }
    fn reclaiming(&self) -> bool {
        false
    }
}

/// Rules for objects that all existed before the cycle.
const PRE_EXISTING: ModelRules = ModelRules { born: &[] };

/// Mark termination, `cycle.rs` `run_cycle` step 4. restated: the loop and the drain's
/// loop (`mark::drain`, one worker); shipped: every step in them (`LocalWork::pop`,
/// `WorkList::set_flush_mode`, `Safepoint::stop`, `WorkList::try_terminate` with
/// `Stopped::take_mark_buffers`, `PhaseCell::set`, the restart). `trace` marks through one
/// popped object; `at_termination` runs in the stopped world that ends marking.
/// `take_buffers: false` is the control that looks only at the global list. Returns the
/// objects drained, in order.
fn mark_termination(
    phase: &PhaseCell,
    sp: &Safepoint,
    work: &WorkList,
    mutators: &[&Mutator],
    take_buffers: bool,
    mut trace: impl FnMut(usize, &mut LocalWork<'_>),
    at_termination: impl FnOnce(),
) -> Vec<usize> {
    let mut local = LocalWork::on(work, false);
    let mut drained = Vec::new();
    loop {
        while let Some(object) = local.pop() {
            drained.push(object);
            trace(object, &mut local);
        }
        work.set_flush_mode(true);
        let mut stopped = stop_world(sp, mutators);
        let done = work.try_terminate(|publish| {
            if take_buffers {
                // SAFETY: `stop_world` waited for every one of `mutators`.
                unsafe { stopped.take_mark_buffers(mutators.iter().copied(), publish) }
            } else {
                0
            }
        });
        if done {
            at_termination();
            phase.set(Phase::Sweep);
            work.set_flush_mode(false);
            drop(stopped);
            return drained;
        }
        drop(stopped);
    }
}

/// The grey objects left in `mutator`'s buffer, read in a stopped world (the shipped
/// `Stopped::take_mark_buffers`).
fn buffered_grey(sp: &Safepoint, mutator: &Mutator) -> usize {
    let mut left = 0;
    let mut stopped = stop_world(sp, &[mutator]);
    // SAFETY: `stop_world` waited for `mutator`.
    unsafe { stopped.take_mark_buffers([mutator], |buffer| left += buffer.len()) };
    left
}

// ===== Objects and mark bits (restated: collector/header.rs, heap/span.rs, mark.rs) =======

/// The modelled objects' addresses (work-list and zero-queue entries are addresses).
const X: usize = 0x100;
const Y: usize = 0x200;
const Z: usize = 0x300;

/// restated: one managed object's header counts and its span mark bit.
struct Object {
    addr: usize,
    /// `Header::handles`.
    handles: AtomicU32,
    /// `Header::internal` (written and read by the collector only).
    internal: AtomicU32,
    /// The object's bit in its span's mark bitmap.
    mark: AtomicU64,
}

impl Object {
    fn new(addr: usize, handles: u32, internal: u32) -> Object {
        Object {
            addr,
            handles: AtomicU32::new(handles),
            internal: AtomicU32::new(internal),
            mark: AtomicU64::new(0),
        }
    }

    /// restated: `Span::is_marked`, `load(Relaxed)`.
    fn is_marked(&self) -> bool {
        self.mark.load(Relaxed) != 0
    }

    /// restated: `mark::mark_grey` (scan span): `if is_marked { false } else
    /// { fetch_or(bit, Relaxed) was clear }`.
    fn mark_grey(&self) -> bool {
        !self.is_marked() && self.mark.fetch_or(1, Relaxed) == 0
    }
}

/// `mark::shade`: the mark bit (restated), then the shipped `WorkList::push_from_mutator`
/// into the op's thread's buffer.
fn shade(op: &ModelOp<'_>, work: &WorkList, object: &Object) {
    if object.mark_grey() {
        work.push_from_mutator(op, object.addr);
    }
}

/// `mark::shade_into`: the mark bit (restated), then the shipped `LocalWork::push`.
fn shade_into(local: &mut LocalWork<'_>, object: &Object) {
    if object.mark_grey() {
        local.push(object.addr);
    }
}

// ===== GcCell (its flag shipped: gc_cell/flag.rs; the rest restated: gc_cell/mod.rs) ======

const EMPTY: usize = 0;

/// A `GcCell<Option<Gc<Y>>>`: the shipped borrow flag and a value (two words, so a torn
/// read would show).
struct CellModel {
    /// `GcCell::flag`, shipped.
    flag: CellFlag,
    /// `GcCell::value`: (the handle, a second word written with it).
    value: UnsafeCell<(usize, usize)>,
}

impl CellModel {
    fn holding(handle: usize) -> CellModel {
        CellModel::with_flag(CellFlag::new(), handle)
    }

    fn with_flag(flag: CellFlag, handle: usize) -> CellModel {
        CellModel {
            flag,
            value: UnsafeCell::new((handle, handle)),
        }
    }

    /// `GcCell::try_take_writer`: the shipped `CellFlag::try_take_writer`.
    fn try_take_writer(&self) -> bool {
        self.flag.try_take_writer()
    }

    /// `impl Drop for GcRefMut`: the shipped `CellFlag::release_writer`, asserting the
    /// state was `WRITER`.
    fn release_writer(&self) {
        let old = self.flag.release_writer();
        assert_eq!(old, WRITER, "state corrupt at mutable borrow end");
    }

    /// `impl Trace for GcCell` on the collector (restated: `collector_read()`, trace the
    /// value, drop the read, over the shipped `CellFlag::collector_begin` / `collector_end`).
    /// `hold` runs while the read is held. Returns `Some(handle)` if read.
    fn collector_trace(&self, hold: impl FnOnce()) -> Option<usize> {
        let held = self.flag.collector_begin().expect("too many readers")?;
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell.
        let first = self.value.with(|v| unsafe { (*v).0 });
        hold();
        // SAFETY: as above.
        let second = self.value.with(|v| unsafe { (*v).1 });
        assert_eq!(first, second, "the collector saw a half-written value");
        if let Some(old) = self.flag.collector_end(held) {
            assert!(
                old & !WRITER != 0 && old & WRITER == 0,
                "reader count corrupt"
            );
        }
        Some(first)
    }

    /// Whether the value holds `handle` (the barrier's trace of the value, writer held).
    fn holds(&self, handle: usize) -> bool {
        // SAFETY: as in `collector_trace`.
        self.value.with(|v| unsafe { (*v).0 == handle })
    }

    /// The mutation under the writer flag: `std::mem::take(&mut *guard)`, moving the
    /// handle out of the heap into a local (a move: the count does not change).
    fn move_out(&self) -> usize {
        // SAFETY: as in `collector_trace`.
        self.value.with_mut(|v| unsafe {
            let old = *v;
            assert_eq!(old.0, old.1, "the mutator saw a half-written value");
            *v = (EMPTY, EMPTY);
            old.0
        })
    }
}

/// Which `borrow_mut` a model runs (all restated from `gc_cell/mod.rs`, over the shipped flag).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum BorrowMut {
    /// As shipped (`try_take_writer_with_barrier`): `enter_op(); CAS; if ok &&
    /// phase_in_op() == Mark { shade contents }; exit`, retried until the CAS succeeds.
    InOp,
    /// Finding 1, the version before the fix: CAS (waiting), then `if phase_seqcst() ==
    /// Mark { enter_op(); if phase_in_op() == Mark { shade contents }; exit }`.
    DecideOutsideOp,
    /// Control: the barrier decides before the flag is held: `if phase_seqcst() == Mark {
    /// op { shade } }`, then the CAS. The rule removed: look at the phase only after the
    /// flag keeps the collector out of the cell.
    DecideBeforeFlag,
}

/// `GcCell::borrow_mut` of a cell whose value holds the only handle to `y`, with its
/// deletion barrier; returns once the writer flag is held.
fn borrow_mut(
    how: BorrowMut,
    cell: &CellModel,
    sp: &Safepoint,
    mutator: &Mutator,
    phase: &PhaseCell,
    work: &WorkList,
    y: &Object,
) {
    match how {
        BorrowMut::InOp => loop {
            let op = ModelOp::enter(sp, mutator);
            let ok = cell.try_take_writer();
            if ok && phase.in_op() == Phase::Mark && cell.holds(y.addr) {
                shade(&op, work, y);
            }
            drop(op);
            if ok {
                return;
            }
            thread::yield_now();
        },
        BorrowMut::DecideOutsideOp => {
            while !cell.try_take_writer() {
                thread::yield_now();
            }
            if phase.seqcst() == Phase::Mark {
                let op = ModelOp::enter(sp, mutator);
                if phase.in_op() == Phase::Mark && cell.holds(y.addr) {
                    shade(&op, work, y);
                }
            }
        }
        BorrowMut::DecideBeforeFlag => {
            if phase.seqcst() == Phase::Mark {
                let op = ModelOp::enter(sp, mutator);
                if phase.in_op() == Phase::Mark && cell.holds(y.addr) {
                    shade(&op, work, y);
                }
            }
            while !cell.try_take_writer() {
                thread::yield_now();
            }
        }
    }
}

// ===== Model 1 and 2: barrier vs counting ==================================================

/// The body of models 1 and 2. Object `x` holds `GcCell<Option<Gc<Y>>>` with the only
/// handle to `y`. The mutator borrows the cell mutably (`how`) and moves the handle out
/// into a local. The collector starts a cycle (`start_cycle`: stop, `Mark`, restart) and
/// counts `x` (restated `mark::count_internal` tracing the cell through `collector_read`);
/// with `long_read`, the count holds its read across a yield (the mutator waits for it in
/// `borrow_mut`) and the mark phase traces `x` again (a writer-held cell is skipped).
/// Property: if the collector counted the handle as internal and the mutator moved it out,
/// the mutator's barrier shaded `y`; neither side sees a half-written value (loom's
/// `UnsafeCell` also checks that their accesses are ordered); the flag is released.
fn barrier_vs_counting(how: BorrowMut, long_read: bool) {
    let phase = Arc::new(PhaseCell::new());
    let sp = Arc::new(Safepoint::new());
    let mutator = Arc::new(Mutator::new());
    let zero = Arc::new(ZeroQueue::new());
    let work = Arc::new(WorkList::new());
    let cell = Arc::new(CellModel::holding(Y));
    let y = Arc::new(Object::new(Y, 1, 0));

    let thread = {
        let (phase, sp, mutator, work, cell, y) = (
            phase.clone(),
            sp.clone(),
            mutator.clone(),
            work.clone(),
            cell.clone(),
            y.clone(),
        );
        thread::spawn(move || {
            borrow_mut(how, &cell, &sp, &mutator, &phase, &work, &y);
            let moved = cell.move_out();
            cell.release_writer();
            moved == Y
        })
    };

    start_cycle(&sp, &phase, &[&mutator], &zero);
    // restated `count_internal`: trace `x`; a reported edge to unmarked `y` counts.
    let hold = || {
        if long_read {
            thread::yield_now();
        }
    };
    let counted = cell.collector_trace(hold) == Some(Y) && !y.is_marked();
    if counted {
        y.internal.fetch_add(1, Relaxed);
    }
    if long_read {
        // restated `mark::drain` tracing `x`: skipped if writer-held.
        let mut local = LocalWork::on(&work, false);
        if cell.collector_trace(|| {}) == Some(Y) {
            shade_into(&mut local, &y);
        }
    }

    let moved_out = thread.join().unwrap();
    assert_eq!(cell.flag.state(), 0, "borrow flag not released");
    assert!(cell.try_take_writer(), "a collector read not released");
    if counted && moved_out {
        assert!(
            y.is_marked(),
            "y counted as internal, moved out, and never shaded"
        );
    }
}

/// **Model 1: barrier vs counting on one cell** (see `barrier_vs_counting`), the shipped
/// `borrow_mut`.
#[test]
fn barrier_vs_counting_on_one_cell() {
    model(|| barrier_vs_counting(BorrowMut::InOp, false));
}

/// Control for model 1: a barrier that reads the phase before it holds the flag sees
/// `Off`; the cycle starts and the count reads the handle; the mutator takes the flag and
/// moves the handle out unshaded. Must keep failing.
#[test]
#[should_panic]
fn control_barrier_deciding_before_the_flag_fails() {
    model(|| barrier_vs_counting(BorrowMut::DecideBeforeFlag, false));
}

/// **Model 2: a handle moved out of a cell while the cell is being counted** (see
/// `barrier_vs_counting`, `long_read`), the shipped `borrow_mut`. Also checks the
/// failed-read path of the mark phase's trace (fixed in 40db282), which must release
/// nothing.
#[test]
fn handle_moved_out_while_cell_is_counted() {
    model(|| barrier_vs_counting(BorrowMut::InOp, true));
}

/// Control for model 2: as model 1's control, with the long read. Must keep failing.
#[test]
#[should_panic]
fn control_long_read_with_barrier_deciding_before_the_flag_fails() {
    model(|| barrier_vs_counting(BorrowMut::DecideBeforeFlag, true));
}

// ===== Model 2b: a writer vs collector reads of one cell ===================================

/// The body of model 2b. Two collector threads each trace a cell (the shipped
/// `CellFlag::collector_begin` / `collector_end` around a read of the value, as
/// `GcCell::trace` does), so one takes the flag's fast path and the other, when they
/// overlap, falls back to a reader of `state`; the main thread is a mutator that tries
/// once to borrow the cell mutably (`try_take_writer`, as `try_borrow_mut` does) and, if
/// it got it, rewrites both words of the value. Properties: loom's `UnsafeCell` finds
/// every read and the write ordered (no data race) and no read sees half a write; a
/// collector read that skipped the cell saw a writer that then wrote (a skip is safe only
/// with that writer's barrier behind it, gc_cell/flag.rs); afterwards both words of the
/// flag are free.
fn writer_vs_collector_reads(flag: CellFlag) {
    let cell = Arc::new(CellModel::with_flag(flag, Y));
    let collectors: Vec<_> = (0..2)
        .map(|_| {
            let cell = cell.clone();
            thread::spawn(move || cell.collector_trace(|| {}))
        })
        .collect();
    let took = cell.try_take_writer();
    if took {
        // SAFETY: a loom `UnsafeCell` access (as in `CellModel::collector_trace`).
        cell.value.with_mut(|v| unsafe { *v = (EMPTY, EMPTY) });
        cell.release_writer();
    }
    for collector in collectors {
        match collector.join().unwrap() {
            None => assert!(
                took,
                "a read skipped the cell for a writer that never wrote"
            ),
            Some(read) => assert!(read == Y || read == EMPTY),
        }
    }
    assert_eq!(cell.flag.state(), 0, "borrow flag not released");
    assert!(cell.try_take_writer(), "a collector read not released");
}

/// **Model 2b: a writer vs collector reads of one cell** (see `writer_vs_collector_reads`),
/// the shipped flag.
#[test]
fn cell_flag_writer_vs_collector_reads() {
    model(|| writer_vs_collector_reads(CellFlag::new()));
}

/// Control for model 2b: a writer that does not load the collector's word after taking
/// `state` (`CellFlag::without_collector_check`) writes while a fast-path collector read
/// reads. Must keep failing.
#[test]
#[should_panic]
fn control_writer_ignoring_collector_reads_fails() {
    model(|| writer_vs_collector_reads(CellFlag::without_collector_check()));
}

/// Control for model 2b, the flag as first written (`CellFlag::giving_the_flag_back`): a
/// writer that finds a collector read gives `WRITER` back and fails. A read that saw
/// `WRITER` in between skipped the cell, and nobody runs the barrier that skip relies on.
/// Must keep failing.
#[test]
#[should_panic]
fn control_writer_giving_the_flag_back_fails() {
    model(|| writer_vs_collector_reads(CellFlag::giving_the_flag_back()));
}

// ===== Model 3: clone during the phase change ==============================================

/// The body of model 3. `internal`: handles to `y` inside the heap, counted by the count
/// pass before the roots pass. `external`: whether the mutator starts with a handle of its
/// own (then it clones that and drops the original; else it clones the heap handle out).
fn clone_during_phase_change(internal: u32, external: bool, phase: PhaseCell) {
    let phase = Arc::new(phase);
    let sp = Arc::new(Safepoint::new());
    let mutator = Arc::new(Mutator::new());
    let zero = Arc::new(ZeroQueue::new());
    let work = Arc::new(WorkList::new());
    let y = Arc::new(Object::new(Y, internal + u32::from(external), 0));

    let thread = {
        let (phase, sp, mutator, work, y) = (
            phase.clone(),
            sp.clone(),
            mutator.clone(),
            work.clone(),
            y.clone(),
        );
        thread::spawn(move || {
            // restated `Gc::clone`: `handles.fetch_add(1, SeqCst)`; then the shipped
            // `phase_seqcst()` and `clone_barrier`: `enter_op(); if phase_in_op() == Mark
            // { shade }`.
            y.handles.fetch_add(1, SeqCst);
            if phase.seqcst() == Phase::Mark {
                let op = ModelOp::enter(&sp, &mutator);
                if phase.in_op() == Phase::Mark {
                    shade(&op, &work, &y);
                }
            }
            if external {
                // restated `Gc::drop`: `handles.fetch_sub(1, Release)` (not the last).
                y.handles.fetch_sub(1, Release);
            }
            // The mutator now holds exactly one handle outside the heap.
        })
    };

    start_cycle(&sp, &phase, &[&mutator], &zero);
    // The count pass's result.
    y.internal.store(internal, Relaxed);
    // restated `mark::shade_roots`: reset `internal`; `if !is_marked && handles.load(SeqCst)
    // > internal { shade }`.
    let counted = y.internal.swap(0, Relaxed);
    let root = !y.is_marked() && y.handles.load(SeqCst) > counted;
    if root {
        let mut local = LocalWork::on(&work, false);
        shade_into(&mut local, &y);
    }

    thread.join().unwrap();
    // Property (mark.rs, "why the roots are right"): an outside handle exists at the end,
    // so `y` was found a root or shaded by the clone barrier.
    assert!(
        y.is_marked(),
        "a handle outside the heap, yet y is neither a root nor shaded (root={root})"
    );
}

/// **Model 3: a handle cloned and dropped during the phase change.** Two shapes: the
/// mutator holds the only handle, clones it and drops the original (internal = 0); and the
/// only handle is in the heap and counted, and the mutator clones it out (internal = 1,
/// where the subtraction matters). Property: at the end, if the roots pass decided "not a
/// root" (count <= internal), `y` was shaded by the clone barrier (an outside handle
/// exists). The shipped `PhaseCell` (phase fact 1: SeqCst store and load).
#[test]
fn clone_and_drop_during_phase_change() {
    model(|| clone_during_phase_change(0, true, PhaseCell::new()));
    model(|| clone_during_phase_change(1, false, PhaseCell::new()));
}

/// Control for model 3: with an Acquire (not SeqCst) load in `PhaseCell::seqcst` the Dekker
/// pair of phase fact (1) is broken: the clone reads `Off`, the roots pass reads the count
/// before the increment. Must keep failing.
#[test]
#[should_panic]
fn control_clone_without_seqcst_phase_load_fails() {
    model(|| clone_during_phase_change(1, false, PhaseCell::with_acquire_barrier_load()));
}

// ===== Model 4: the op bracket vs stopped worlds ===========================================

/// The body of model 4a. The mutator runs one op that reads the phase and, if it saw
/// `Off`, acts on the old phase (a white allocation: it writes collector-visible state,
/// here an `UnsafeCell`). The collector starts a cycle (stop, `Mark`, restart), then reads
/// that state (as its span snapshot does). Property: an op that saw `Off` ended before the
/// stop returned and happens-before the collector's read (loom flags the cell access
/// otherwise); an op that did not end first saw `Mark`.
fn op_vs_cycle_start(sp: Safepoint) {
    let phase = Arc::new(PhaseCell::new());
    let sp = Arc::new(sp);
    let mutator = Arc::new(Mutator::new());
    let zero = Arc::new(ZeroQueue::new());
    let white_allocs = Arc::new(UnsafeCell::new(0u32));

    let thread = {
        let (phase, sp, mutator, white_allocs) = (
            phase.clone(),
            sp.clone(),
            mutator.clone(),
            white_allocs.clone(),
        );
        thread::spawn(move || {
            let op = ModelOp::enter(&sp, &mutator);
            // restated `Gc::new`: `if phase_in_op() == Mark { mark_new }`.
            let saw = phase.in_op();
            if saw == Phase::Off {
                // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with
                // every other access to the cell.
                white_allocs.with_mut(|n| unsafe { *n += 1 });
            }
            drop(op);
            saw
        })
    };

    start_cycle(&sp, &phase, &[&mutator], &zero);
    // SAFETY: as above.
    let seen = white_allocs.with(|n| unsafe { *n });

    let saw = thread.join().unwrap();
    if saw == Phase::Off {
        assert_eq!(
            seen, 1,
            "an op that saw Off was still running after the starting stop"
        );
    }
}

/// **Model 4a: the op bracket vs the cycle's starting stop** (see `op_vs_cycle_start`).
#[test]
fn op_bracket_vs_cycle_start() {
    model(|| op_vs_cycle_start(Safepoint::new()));
}

/// Control for model 4a: without the mutator fence (safepoint fact 1) the op's `op_seq`
/// store is not ordered before its loads: the collector reads an even `op_seq` while the
/// op runs on the old phase. Must keep failing.
#[test]
#[should_panic]
fn control_op_entry_without_fence_vs_cycle_start_fails() {
    model(|| op_vs_cycle_start(Safepoint::without_mutator_fence()));
}

/// The body of model 4b. The mutator runs two ops; each counts itself in `work` and uses
/// its cache (an `UnsafeCell`). The collector stops the world, reads the count, writes the
/// cache (`StoppedWorld::flush_caches`), yields, reads the count again, and restarts the
/// world; an op that found the world stopped waits in `Safepoint::enter` for the restart
/// (loom reports a deadlock if the restart's wake-up can be lost). Property: while stopped
/// no op runs (the count does not change), and the flush does not race with an op's use of
/// the cache.
fn op_vs_stop_the_world(sp: Safepoint) {
    let sp = Arc::new(sp);
    let mutator = Arc::new(Mutator::new());
    let work = Arc::new(AtomicU32::new(0));
    let cache = Arc::new(UnsafeCell::new(0u32));

    let thread = {
        let (sp, mutator, work, cache) = (sp.clone(), mutator.clone(), work.clone(), cache.clone());
        thread::spawn(move || {
            for _ in 0..2 {
                let op = ModelOp::enter(&sp, &mutator);
                work.fetch_add(1, Relaxed);
                // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with
                // every other access to the cell.
                cache.with_mut(|c| unsafe { *c += 1 });
                drop(op);
            }
        })
    };

    let stopped = stop_world(&sp, &[&mutator]);
    let before = work.load(Relaxed);
    // SAFETY: as above.
    cache.with_mut(|c| unsafe { *c = 0 });
    thread::yield_now();
    let after = work.load(Relaxed);
    assert_eq!(before, after, "an op ran inside the stopped world");
    drop(stopped);

    thread.join().unwrap();
}

/// **Model 4b: the op bracket vs a stopped world: exclusion** (see `op_vs_stop_the_world`).
#[test]
fn op_bracket_vs_stop_the_world() {
    model(|| op_vs_stop_the_world(Safepoint::new()));
}

/// Control for model 4b: without the mutator fence an op runs inside the stopped world.
/// Must keep failing.
#[test]
#[should_panic]
fn control_op_entry_without_fence_vs_stop_the_world_fails() {
    model(|| op_vs_stop_the_world(Safepoint::without_mutator_fence()));
}

/// The body of model 4c. The collector stops the world, flushes the mutator's cache and
/// sets `Sweep` (mark termination), then restarts it; the mutator's op may wait for the
/// restart or slip in after it. Property (safepoint fact 3): the stopped world's work
/// happens-before every op that starts after the restart: the op's cache use does not race
/// with the flush (loom's `UnsafeCell` check) and the op sees `Sweep`, never `Mark`.
fn stop_the_world_restart(sp: Safepoint) {
    let phase = Arc::new(PhaseCell::new());
    phase.set(Phase::Mark);
    let sp = Arc::new(sp);
    let mutator = Arc::new(Mutator::new());
    let cache = Arc::new(UnsafeCell::new(0u32));

    let thread = {
        let (phase, sp, mutator, cache) =
            (phase.clone(), sp.clone(), mutator.clone(), cache.clone());
        thread::spawn(move || {
            let op = ModelOp::enter(&sp, &mutator);
            let saw = phase.in_op();
            // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with
            // every other access to the cell.
            cache.with_mut(|c| unsafe { *c += 1 });
            drop(op);
            saw
        })
    };

    let stopped = stop_world(&sp, &[&mutator]);
    // SAFETY: as above.
    cache.with_mut(|c| unsafe { *c = 0 }); // `StoppedWorld::flush_caches`
    phase.set(Phase::Sweep);
    drop(stopped);

    let saw = thread.join().unwrap();
    // The op's increment survived the flush: it ran after the stopped world.
    // SAFETY: as above.
    if cache.with(|c| unsafe { *c }) == 1 {
        assert_eq!(saw, Phase::Sweep, "an op after mark termination saw Mark");
    }
}

/// Finding 2, kept as a control: op entry with a `Relaxed` `STOP` load (the protocol before
/// its fix).
///
/// Interleaving (fallback fences; membarrier is no stronger): collector `STOP = true`
/// (SeqCst), `fence(SeqCst)`, reads `op_seq` even (no op yet), flushes the cache, sets
/// `Sweep`, stores `STOP = false` (Release). Mutator: `op_seq` odd, `fence(SeqCst)` (after
/// the collector's in the fence order), `STOP.load(Relaxed)` reads that `false`: no
/// synchronisation, so the flush and `Sweep` need not be visible: the op's cache access
/// races with `flush_caches` (loom: "Causality violation") and `phase_in_op()` may read
/// `Mark`. On ARM the STOP and phase/cache loads can be reordered, so this is real there.
#[test]
#[should_panic]
fn op_bracket_vs_stop_the_world_restart() {
    model(|| stop_the_world_restart(Safepoint::with_relaxed_stop_load()));
}

/// **Model 4c: the restart** (see `stop_the_world_restart`), the shipped
/// `STOP.load(Acquire)` in `Safepoint::enter`.
#[test]
fn op_bracket_vs_stop_the_world_restart_fixed() {
    model(|| stop_the_world_restart(Safepoint::new()));
}

// ===== Model 5: termination vs a late shade ================================================

/// The body of model 5. The phase is `Mark`. The mutator runs one barrier in an op
/// (`clone_barrier` / `deletion_barrier`: `enter_op(); if phase_in_op() == Mark { shade
/// }`), which pushes into its buffer. The collector runs mark termination. Property: if the
/// mutator shaded, the object was drained before termination; nothing is left in the
/// buffer or the global list after it (a shade cannot land after termination: the op would
/// have seen `Sweep`).
fn termination_vs_shade(sp: Safepoint) {
    let phase = Arc::new(PhaseCell::new());
    phase.set(Phase::Mark);
    let sp = Arc::new(sp);
    let mutator = Arc::new(Mutator::new());
    let work = Arc::new(WorkList::new());
    let y = Arc::new(Object::new(Y, 1, 0));

    let thread = {
        let (phase, sp, mutator, work, y) = (
            phase.clone(),
            sp.clone(),
            mutator.clone(),
            work.clone(),
            y.clone(),
        );
        thread::spawn(move || {
            let op = ModelOp::enter(&sp, &mutator);
            let shaded = phase.in_op() == Phase::Mark;
            if shaded {
                shade(&op, &work, &y);
            }
            drop(op);
            shaded
        })
    };

    let drained = mark_termination(&phase, &sp, &work, &[&mutator], true, |_, _| {}, || {});

    let shaded = thread.join().unwrap();
    assert!(
        work.is_empty(),
        "a grey object was published after mark termination"
    );
    assert_eq!(
        buffered_grey(&sp, &mutator),
        0,
        "a grey object was buffered after mark termination"
    );
    if shaded {
        assert_eq!(drained, [Y], "a shade was not drained before termination");
    }
}

/// Finding 2 again, kept as a control: termination against a late shade with a `Relaxed`
/// `STOP` load at op entry. Same interleaving as `op_bracket_vs_stop_the_world_restart`:
/// the op reads the restart's `STOP = false` without acquiring it, reads the stale `Mark`,
/// and shades after mark termination.
#[test]
#[should_panic]
fn termination_vs_late_shade() {
    model(|| termination_vs_shade(Safepoint::with_relaxed_stop_load()));
}

/// **Model 5: termination against a late shade** (see `termination_vs_shade`), the shipped
/// `Safepoint`.
#[test]
fn termination_vs_late_shade_fixed() {
    model(|| termination_vs_shade(Safepoint::new()));
}

// ===== Model 6: borrow_mut vs mark termination ============================================

/// The body of model 6. Mark is on, counting is done: `y`'s only handle is in `x`'s cell
/// and was counted (internal = handles = 1), so `y` is not a root. `x` is held by the
/// mutator: it is a root, shaded and grey in the global list. The mutator borrows the cell
/// mutably (`how`) and moves the handle out; the collector marks (`x` traced through the
/// restated `GcCell::trace`, which skips a writer-held cell) and terminates. Property: the
/// sweep frees every object unmarked at termination; the mutator holds `y`'s handle
/// outside the heap, so `y` must be marked.
fn borrow_mut_vs_termination(how: BorrowMut) {
    let phase = Arc::new(PhaseCell::new());
    phase.set(Phase::Mark);
    let sp = Arc::new(Safepoint::new());
    let mutator = Arc::new(Mutator::new());
    let work = Arc::new(WorkList::new());
    let cell = Arc::new(CellModel::holding(Y));
    let y = Arc::new(Object::new(Y, 1, 1));
    work.publish(vec![X]);

    let thread = {
        let (phase, sp, mutator, work, cell, y) = (
            phase.clone(),
            sp.clone(),
            mutator.clone(),
            work.clone(),
            cell.clone(),
            y.clone(),
        );
        thread::spawn(move || {
            borrow_mut(how, &cell, &sp, &mutator, &phase, &work, &y);
            let moved = cell.move_out();
            cell.release_writer();
            moved == Y
        })
    };

    let y_marked_at_termination = AtomicBool::new(false);
    mark_termination(
        &phase,
        &sp,
        &work,
        &[&mutator],
        true,
        |object, local| {
            // restated `mark::drain` tracing `x`: its cell, if not writer-held.
            if object == X && cell.collector_trace(|| {}) == Some(Y) {
                shade_into(local, &y);
            }
        },
        || y_marked_at_termination.store(y.is_marked(), Relaxed),
    );

    let moved_out = thread.join().unwrap();
    if moved_out {
        assert!(
            y_marked_at_termination.load(Relaxed),
            "y moved out of a cell during Mark but unmarked at termination: the sweep frees it"
        );
    }
}

/// Finding 1, kept as a control: `borrow_mut` deciding its deletion barrier outside an
/// op (the protocol before the fix). Sequentially consistent interleaving (no weak-memory
/// effect needed, 1 preemption):
/// 1. mutator: `try_take_writer` succeeds; `phase_seqcst()` = `Mark`; preempted before
///    `deletion_barrier`'s `enter_op` (it is in no op);
/// 2. collector: the drain pops `x`, `GcCell::trace` finds the cell writer-held and reports
///    nothing, so `y` is not shaded; the list is empty;
/// 3. collector: the stop waits for no op (the mutator is outside one), no buffer holds
///    anything, the list is empty: termination; `set_phase(Sweep)`; restart;
/// 4. mutator: `enter_op`, `phase_in_op()` = `Sweep`: no shade; moves the handle out.
///
/// `y` was counted as internal (not a root), skipped by the mark, unshaded by the barrier:
/// the sweep frees it while the mutator holds a handle (use after free).
#[test]
#[should_panic]
fn borrow_mut_barrier_vs_mark_termination() {
    model(|| borrow_mut_vs_termination(BorrowMut::DecideOutsideOp));
}

/// **Model 6: `borrow_mut`'s deletion barrier vs the mark-phase trace vs termination**
/// (see `borrow_mut_vs_termination`), the shipped order: the flag CAS and the barrier in
/// one op, so termination waits for any borrow_mut whose cell the marker may have skipped.
#[test]
fn borrow_mut_barrier_vs_mark_termination_fixed() {
    model(|| borrow_mut_vs_termination(BorrowMut::InOp));
}

// ===== Model 7: termination vs shades held in a mutator's buffer ==========================

/// The body of model 7. The mutator shades two objects in two barrier ops through the
/// shipped `WorkList::push_from_mutator`; the first push may sit in its buffer (flush mode
/// off; the buffer holds 2 under loom, so the second push may publish it whole) while the
/// collector's drain finds nothing to do. `take_buffers: false` is termination that looks
/// only at the global list (the control).
fn buffered_shade_vs_termination(take_buffers: bool) {
    let phase = Arc::new(PhaseCell::new());
    phase.set(Phase::Mark);
    let sp = Arc::new(Safepoint::new());
    let mutator = Arc::new(Mutator::new());
    let work = Arc::new(WorkList::new());
    let objects = Arc::new([Object::new(Y, 1, 0), Object::new(Z, 1, 0)]);

    let thread = {
        let (phase, sp, mutator, work, objects) = (
            phase.clone(),
            sp.clone(),
            mutator.clone(),
            work.clone(),
            objects.clone(),
        );
        thread::spawn(move || {
            let mut shaded = Vec::new();
            for object in objects.iter() {
                // `clone_barrier`: `enter_op(); if phase_in_op() == Mark { shade }`.
                let op = ModelOp::enter(&sp, &mutator);
                if phase.in_op() == Phase::Mark {
                    shade(&op, &work, object);
                    shaded.push(object.addr);
                }
                drop(op);
            }
            shaded
        })
    };

    let mut drained = mark_termination(
        &phase,
        &sp,
        &work,
        &[&mutator],
        take_buffers,
        |_, _| {},
        || {},
    );

    let shaded = thread.join().unwrap();
    drained.sort_unstable();
    assert_eq!(
        drained, shaded,
        "an object shaded during Mark was not drained before termination"
    );
    assert!(
        work.is_empty(),
        "a grey object was published after termination"
    );
    assert_eq!(
        buffered_grey(&sp, &mutator),
        0,
        "a grey object was left in a mutator's buffer after termination"
    );
}

/// **Model 7: mark termination against shades held in a mutator's buffer** (per-thread
/// work buffers, `collector/work.rs`). Property: every object a barrier shaded while the
/// phase was `Mark` is drained before the phase becomes `Sweep`, nothing is left in the
/// buffer or the global list, and the collector's reads of the buffer never race with the
/// mutator's pushes (loom's `UnsafeCell` check on `Mutator::mark_buffer`).
#[test]
fn termination_vs_buffered_shade() {
    model(|| buffered_shade_vs_termination(true));
}

/// Control for model 7: a termination that checks only the global list ends marking with
/// a shaded object still in the mutator's buffer. Must keep failing.
#[test]
#[should_panic]
fn control_termination_ignoring_buffers_fails() {
    model(|| buffered_shade_vs_termination(false));
}

// ===== Model 8: a count reaching zero vs a whole cycle ====================================

/// What became of the object of model 8.
struct Fate {
    /// The value (drop glue writes it; the mutator's last use reads it).
    value: UnsafeCell<u32>,
    /// Times the drain freed it (`reclaim::drain`).
    drained: AtomicU32,
    /// Times a cycle's sweep freed it (`sweep::sweep`).
    swept: AtomicU32,
}

impl Fate {
    /// restated: drop glue and the free of the object (the drain's or the sweep's).
    fn free(&self, by: &AtomicU32) {
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell.
        self.value.with_mut(|v| unsafe { *v = 0 });
        by.fetch_add(1, Relaxed);
    }
}

/// restated: `reclaim::drain` on the collector thread (between cycles): the shipped
/// `ZeroQueue::take`, then drop glue and a free for each object.
fn drain_queue(zero: &ZeroQueue, fate: &Fate) {
    for object in zero.take() {
        assert_eq!(object, X, "the zero queue held an object nobody queued");
        fate.free(&fate.drained);
    }
}

/// Which queueing check model 8 runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ZeroCheck {
    /// The shipped `queue_if_unchanged` (same phase word before and in the op) and the
    /// shipped sort at mark termination (R1b).
    Shipped,
    /// The first attempt, restated: the op queues whenever it sees `Off`.
    PhaseOnly,
    /// The shipped queueing, but mark termination sends everything queued during `Mark`
    /// to the drain without sorting it by mark bit (restated).
    Unsorted,
}

/// The body of model 8 with the queueing check `check`.
fn count_zero_vs_cycle_body(check: ZeroCheck) {
    let phase = Arc::new(PhaseCell::new());
    let sp = Arc::new(Safepoint::new());
    let mutator = Arc::new(Mutator::new());
    let zero = Arc::new(ZeroQueue::new());
    let object = Arc::new(Object::new(X, 1, 0));
    let fate = Arc::new(Fate {
        value: UnsafeCell::new(7),
        drained: AtomicU32::new(0),
        swept: AtomicU32::new(0),
    });

    let thread = {
        let (phase, sp, mutator, zero, object, fate) = (
            phase.clone(),
            sp.clone(),
            mutator.clone(),
            zero.clone(),
            object.clone(),
            fate.clone(),
        );
        thread::spawn(move || {
            // The handle's last use of the value.
            // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with
            // every other access to the cell.
            fate.value.with(|v| assert_eq!(unsafe { *v }, 7));
            // `Gc::drop`: the shipped `phase_word()`, then (restated) `if
            // handles.fetch_sub(1, Release) == 1 { count_reached_zero(.., before) }`.
            let before = phase.word();
            if object.handles.fetch_sub(1, Release) == 1 {
                let enter = || ModelOp::enter(&sp, &mutator);
                match check {
                    // The shipped `count_reached_zero`.
                    ZeroCheck::Shipped | ZeroCheck::Unsorted => {
                        let batch =
                            queue_if_unchanged(X, before, enter, &phase, &zero, &PRE_EXISTING);
                        assert!(batch.is_none(), "one object never fills a buffer");
                    }
                    ZeroCheck::PhaseOnly => {
                        // restated: the first attempt, `fence(Acquire); let op =
                        // enter_op(); if phase_in_op() == Off { op.push_zero(object) }`.
                        fence(Acquire);
                        let op = enter();
                        if phase.in_op() == Phase::Off {
                            let batch = zero.push(&op, X, Phase::Off, &PRE_EXISTING);
                            assert!(batch.is_none(), "one object never fills a buffer");
                        }
                    }
                }
            }
            // The thread's exit guard: `op.flush_zero()` inside an op (shipped).
            let op = ModelOp::enter(&sp, &mutator);
            zero.flush(&op);
        })
    };

    // The collector thread: one cycle (`cycle::run_cycle`), then a drain.
    start_cycle(&sp, &phase, &[&mutator], &zero);
    // restated: the roots pass (`mark::shade_roots`): `handles.load(SeqCst) > internal`
    // makes it a root. The mutator never clones, so nothing else can shade it: a zero count
    // means unmarked, so the sweep frees it.
    let dead = object.handles.load(SeqCst) == 0;
    // Mark termination (nothing is grey): stop, take what was queued during `Mark` (the
    // shipped `ZeroQueue::take_all`), `set_phase(Sweep)`, restart; then (shipped
    // `keep_survivors`) keep for the drain what the cycle marked. restated: the mark bit is
    // "the roots pass found it a root" (nothing else can shade it here).
    let mut stopped = stop_world(&sp, &[&mutator]);
    // SAFETY: `stop_world` waited for the mutator's ops.
    let mark_zeros = unsafe { take_in_stop(&mut stopped, [&*mutator], &zero) };
    phase.set(Phase::Sweep);
    drop(stopped);
    if check != ZeroCheck::Unsorted {
        zero.keep_survivors(mark_zeros, |_| !dead);
    } else {
        // The control: everything queued during `Mark` goes to the drain, unsorted.
        zero.keep_survivors(mark_zeros, |_| true);
    }
    // restated: the sweep frees every unmarked object; then `set_phase(Off)`.
    if dead {
        fate.free(&fate.swept);
    }
    phase.set(Phase::Off);
    // Between cycles: the drain.
    drain_queue(&zero, &fate);

    thread.join().unwrap();
    // The collector's next drain (the mutator may have queued after the first one).
    drain_queue(&zero, &fate);

    let drained = fate.drained.load(Relaxed);
    let swept = fate.swept.load(Relaxed);
    assert!(
        drained + swept <= 1,
        "a count-zero object was freed {drained} time(s) by the drain and {swept} by the sweep"
    );
    if drained + swept == 0 {
        // Left to the cycles: the count is zero and nothing queues it any more, so the next
        // cycle finds it unmarked (nothing can shade it) and frees it exactly once.
        assert_eq!(object.handles.load(Relaxed), 0);
        let mut stopped = stop_world(&sp, &[&mutator]);
        // SAFETY: `stop_world` waited for the mutator (which has exited).
        let queued = unsafe { discard_in_stop(&mut stopped, [&*mutator], &zero) };
        assert_eq!(queued, 0, "a count-zero object left in a queue");
    }
}

/// **Model 8: a count reaching zero vs a whole cycle** (prompt reclamation,
/// `reclaim/queue.rs`). The mutator drops the last handle: the phase word, the
/// decrement outside any op, then the shipped `queue_if_unchanged` (an op that queues the
/// object only if the phase word is the same as before the decrement, in any phase; what
/// was queued during `Mark` is taken at mark termination and kept for the drain only if
/// the cycle marked it, R1b), and at exit
/// the shipped `ZeroQueue::flush` in an op. The collector runs a cycle (a stopped world
/// that discards the queues and sets `Mark`; the roots pass; termination; the sweep, which
/// frees the object if the roots pass read a zero count; `Off`) and then drains the queue.
/// Property: the object is freed by the drain or by the sweep, never both, and if by
/// neither it is left to the next cycle (count zero, in no queue); the drop glue never
/// races with the mutator's last use of the value, and the zero buffer is never touched by
/// the op and the stopped world at once (loom's `UnsafeCell` check on `Mutator::zero`).
#[test]
fn count_zero_vs_cycle() {
    model(|| count_zero_vs_cycle_body(ZeroCheck::Shipped));
}

/// Control for R1b: without the sort at mark termination, a count that reached zero
/// during `Mark` is freed twice. Interleaving: the cycle's starting stop sets `Mark`; the
/// mutator reads that word and decrements to zero before the roots pass reads the count;
/// the roots pass reads zero (not a root), so the sweep frees the object; the mutator's
/// op, still in `Mark` (same word), queues it, and the drain after the cycle frees it
/// again. The sort keeps for the drain only what the cycle marked. (In `Sweep` the race
/// cannot happen: a count read above zero by the roots pass made the object a root.)
#[test]
#[should_panic]
fn count_zero_vs_cycle_unsorted_at_termination() {
    model(|| count_zero_vs_cycle_body(ZeroCheck::Unsorted));
}

/// Finding 3, kept as a control: the first attempt's check (`phase_in_op() == Off` in the
/// op, nothing read before the decrement), which tests/torture.rs caught freeing objects
/// twice. Interleaving: the mutator decrements to zero and is preempted; the whole cycle
/// runs (its roots pass reads zero, its sweep frees the object, the phase is `Off` again);
/// the mutator's op sees `Off` and queues the object; the drain frees it a second time (in
/// the library: drops a freed value, or frees whatever reused its slot).
#[test]
#[should_panic]
fn count_zero_vs_cycle_phase_only() {
    model(|| count_zero_vs_cycle_body(ZeroCheck::PhaseOnly));
}

// ===== Count-zero batches during cycles (reclaim/gate.rs, reclaim/queue.rs, shipped) =====

/// restated: one count-zero candidate's header count, mark bit, born bit and value, and
/// who freed it (drop glue writes the value; a free sets `freed`, as the span's freed bit
/// and the null `info` do; the count pass and the sweep skip freed slots).
struct Slot {
    addr: usize,
    handles: AtomicU32,
    mark: AtomicU64,
    /// Shaded by a barrier and waiting in a mark work buffer (restated `work.rs`).
    grey: AtomicBool,
    value: UnsafeCell<u32>,
    freed: AtomicBool,
    by_batch: AtomicU32,
    by_sweep: AtomicU32,
    by_drain: AtomicU32,
}

impl Slot {
    /// A published object with one handle; `born`: allocated black in this `Mark`
    /// (restated `Gc::new` during `Mark`: mark bit before publication).
    fn new(addr: usize, born: bool) -> Slot {
        Slot {
            addr,
            handles: AtomicU32::new(1),
            mark: AtomicU64::new(born as u64),
            grey: AtomicBool::new(false),
            value: UnsafeCell::new(7),
            freed: AtomicBool::new(false),
            by_batch: AtomicU32::new(0),
            by_sweep: AtomicU32::new(0),
            by_drain: AtomicU32::new(0),
        }
    }

    /// restated: `drain::drop_value` + `heap::free_managed` (drop glue, then the freed bit
    /// with Release, `Span::free`).
    fn free(&self, by: &AtomicU32) {
        self.drop_glue();
        self.release(by);
    }

    /// restated: `drain::drop_value` (drop glue writes the value).
    fn drop_glue(&self) {
        // SAFETY: a loom `UnsafeCell` access; loom checks its ordering with every other.
        self.value.with_mut(|v| unsafe { *v = 0 });
    }

    /// restated: `heap::free_managed` (the freed bit with Release, `Span::free`).
    fn release(&self, by: &AtomicU32) {
        self.freed.store(true, Release);
        by.fetch_add(1, Relaxed);
    }

    /// restated: `mark::mark_born` (mark bit and born bit; the models' born bit is the
    /// rules' list, so only the mark bit is modelled here).
    fn claim(&self) {
        self.mark.fetch_or(1, Relaxed);
    }

    /// restated: `Span::for_each_allocated` (Acquire load of the freed bits).
    fn allocated(&self) -> bool {
        !self.freed.load(Acquire)
    }

    /// restated: `mark::count_internal` for this object: a published, unmarked object of
    /// the snapshot is traced (its value read).
    fn count_pass(&self) {
        if self.allocated() && self.mark.load(Relaxed) == 0 {
            // SAFETY: as in `free`.
            self.value
                .with(|v| assert_eq!(unsafe { *v }, 7, "traced a dropped value"));
        }
    }

    /// restated: `mark::shade_roots`: unmarked with `handles > internal` (0) is a root.
    fn roots_pass(&self) {
        if self.allocated() && self.mark.load(Relaxed) == 0 && self.handles.load(SeqCst) > 0 {
            self.mark.fetch_or(1, Relaxed);
        }
    }

    /// restated: a barrier's `mark::shade` before the passes ran: marked and grey.
    fn shade(&self) {
        self.mark.fetch_or(1, Relaxed);
        self.grey.store(true, Relaxed);
    }

    /// restated: `mark::drain` popping this object if it is grey: its value is traced.
    fn mark_drain(&self) {
        if self.grey.swap(false, Relaxed) {
            // SAFETY: as in `free`.
            self.value
                .with(|v| assert_eq!(unsafe { *v }, 7, "scanned a dropped value"));
        }
    }

    /// restated: the sweep's drop pass and free pass for this object; a survivor's mark
    /// bit is cleared for the next cycle (the bitmap swap of `Span::sweep`).
    fn sweep(&self) {
        if self.allocated() && self.mark.load(Relaxed) == 0 {
            self.free(&self.by_sweep);
        }
        self.mark.store(0, Relaxed);
    }

    fn frees(&self) -> u32 {
        self.by_batch.load(Relaxed) + self.by_sweep.load(Relaxed) + self.by_drain.load(Relaxed)
    }
}

/// The mutator side of models 9 and 10: drops the last handle of each of `slots` (the
/// shipped `phase_word`, the decrement, the shipped `queue_if_unchanged`), frees any batch
/// it is handed outside the op (restated `drain::run_assist`, with the shipped
/// `ZeroQueue::end_batch`), then exits (the shipped `ZeroQueue::flush` in an op).
fn drop_last_handles(
    sp: &Safepoint,
    mutator: &Mutator,
    phase: &PhaseCell,
    zero: &ZeroQueue,
    slots: &[Slot],
    rules: &ModelRules,
) {
    for slot in slots {
        // SAFETY: as in `Slot::free`: the handle's last use of the value.
        slot.value.with(|v| assert_eq!(unsafe { *v }, 7));
        let before = phase.word();
        if slot.handles.fetch_sub(1, Release) == 1 {
            let enter = || ModelOp::enter(sp, mutator);
            if let Some(batch) = queue_if_unchanged(slot.addr, before, enter, phase, zero, rules) {
                free_batch(sp, mutator, batch, zero, slots);
            }
        }
    }
    let op = ModelOp::enter(sp, mutator);
    zero.flush(&op);
}

fn slot_at(slots: &[Slot], addr: usize) -> &Slot {
    slots
        .iter()
        .find(|s| s.addr == addr)
        .expect("a queue held an object nobody queued")
}

/// restated `drain::reclaim_batch`: drop glue outside any op, then (in one op) the frees
/// and the shipped `ZeroQueue::end_batch`.
fn free_batch(sp: &Safepoint, mutator: &Mutator, batch: Batch, zero: &ZeroQueue, slots: &[Slot]) {
    for &object in batch.objects() {
        slot_at(slots, object).drop_glue();
    }
    let op = ModelOp::enter(sp, mutator);
    for &object in batch.objects() {
        let slot = slot_at(slots, object);
        slot.release(&slot.by_batch);
    }
    zero.end_batch(&op, batch);
}

/// restated: `reclaim::drain` on the collector thread between cycles (shipped `take`).
fn drain_slots(zero: &ZeroQueue, slots: &[Slot]) {
    for object in zero.take() {
        let slot = slot_at(slots, object);
        slot.free(&slot.by_drain);
    }
}

/// The collector side: count and roots passes, termination with the shipped
/// `take_all` / `keep_survivors` (marked ones go to the drain), the sweep, `Off`, a drain.
fn mark_and_sweep(
    sp: &Safepoint,
    phase: &PhaseCell,
    mutator: &Mutator,
    zero: &ZeroQueue,
    slots: &[Slot],
) {
    for slot in slots {
        slot.count_pass();
    }
    for slot in slots {
        slot.roots_pass();
    }
    for slot in slots {
        slot.mark_drain();
    }
    let mut stopped = stop_world(sp, &[mutator]);
    // SAFETY: `stop_world` waited for the mutator's ops.
    let mark_zeros = unsafe { take_in_stop(&mut stopped, [mutator], zero) };
    phase.set(Phase::Sweep);
    drop(stopped);
    zero.keep_survivors(mark_zeros, |object| {
        slot_at(slots, object).mark.load(Relaxed) != 0
    });
    for slot in slots {
        slot.sweep();
    }
    phase.set(Phase::Off);
    drain_slots(zero, slots);
}

/// Checks that every slot was freed exactly once, after the mutator exited and a last
/// drain ran.
fn freed_once(slots: &[Slot]) {
    for slot in slots {
        assert_eq!(
            slot.frees(),
            1,
            "object {:#x} freed {} time(s) by a batch, {} by the sweep, {} by the drain",
            slot.addr,
            slot.by_batch.load(Relaxed),
            slot.by_sweep.load(Relaxed),
            slot.by_drain.load(Relaxed)
        );
    }
}

/// Spawns the mutator of models 9-12: `drop_last_handles` on clones of the shared state.
fn spawn_dropper(
    phase: &Arc<PhaseCell>,
    sp: &Arc<Safepoint>,
    mutator: &Arc<Mutator>,
    zero: &Arc<ZeroQueue>,
    slots: &Arc<[Slot; 2]>,
    rules: &'static ModelRules,
) -> thread::JoinHandle<()> {
    let (phase, sp, mutator, zero, slots) = (
        phase.clone(),
        sp.clone(),
        mutator.clone(),
        zero.clone(),
        slots.clone(),
    );
    thread::spawn(move || drop_last_handles(&sp, &mutator, &phase, &zero, &*slots, rules))
}

/// The end of models 9-12: the mutator thread joins, a last drain runs, whatever no one
/// freed is left to one more cycle (count zero, in no queue: its roots pass finds no root
/// and its sweep frees it), and every slot must have been freed exactly once.
fn finish(
    thread: thread::JoinHandle<()>,
    sp: &Safepoint,
    phase: &PhaseCell,
    mutator: &Mutator,
    zero: &ZeroQueue,
    slots: &[Slot],
) {
    thread.join().unwrap();
    drain_slots(zero, slots);
    if slots.iter().any(|s| s.frees() == 0) {
        start_cycle(sp, phase, &[mutator], zero);
        mark_and_sweep(sp, phase, mutator, zero, slots);
    }
    freed_once(slots);
}

/// How the cycle of model 9 starts with respect to batches in flight.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BatchStart {
    /// The shipped heap-triggered start: the stop claims what is in flight (R5).
    Claim,
    /// The shipped start of a cycle that `collect()` waits for: close the reclaim gate and
    /// wait for batches in flight (`ReclaimGate::close_and_wait`), stop, open (R5b). The
    /// stop then claims nothing.
    Gate,
    /// The control: neither.
    Neither,
}

/// The body of model 9 and its variants.
fn reclaim_batch_vs_cycle_start_body(start: BatchStart) {
    assert_eq!(ZERO_BATCH, 2, "the model fills a buffer with two objects");
    let phase = Arc::new(PhaseCell::new());
    let sp = Arc::new(Safepoint::new());
    let mutator = Arc::new(Mutator::new());
    let zero = Arc::new(ZeroQueue::new());
    let slots = Arc::new([Slot::new(X, false), Slot::new(Y, false)]);
    let thread = spawn_dropper(&phase, &sp, &mutator, &zero, &slots, &PRE_EXISTING);
    let mut claim_slot = |object: usize| slot_at(&*slots, object).claim();
    if start == BatchStart::Gate {
        zero.gate().close_and_wait();
    }
    start_cycle_claiming(
        &sp,
        &phase,
        &[&mutator],
        &zero,
        if start == BatchStart::Claim {
            Some(&mut claim_slot)
        } else {
            None
        },
    );
    if start == BatchStart::Gate {
        zero.gate().open();
    }
    mark_and_sweep(&sp, &phase, &mutator, &zero, &*slots);
    finish(thread, &sp, &phase, &mutator, &zero, &*slots);
}

/// **Model 9: a batch of count-zero objects vs a cycle's start** (rule R5). The mutator
/// drops the last handles of two objects that existed before the cycle; the second fills
/// its buffer (`ZERO_BATCH` is 2 under loom), so the shipped `push` hands it the batch in
/// `Off` (kept in its buffer's in-flight slot), which it frees outside any op and ends in
/// an op (the shipped `end_batch`). The collector starts a cycle (a stop that claims the
/// batches in flight as born, the shipped `claim_in_flight`, discards the buffers, sets
/// `Mark`), counts (tracing every published, unmarked object: its value is read), finds
/// roots, terminates (sorting what `Mark` queued, R1b), sweeps and drains. Property: each
/// object is freed exactly once (by the batch, the sweep or a drain), and no pass reads a
/// value a batch is dropping.
#[test]
fn reclaim_batch_vs_cycle_start() {
    model(|| reclaim_batch_vs_cycle_start_body(BatchStart::Claim));
}

/// **Model 9b: the same batch vs the start of a cycle that `collect()` waits for** (rule
/// R5b): the collector closes the shipped reclaim gate and waits for the batch in flight
/// (taken by the shipped `take_reclaimable` after entering the gate, ended by the shipped
/// `end_batch`), then stops without claiming. Property as model 9: each object freed
/// exactly once, no pass reads a value being dropped. Its control is the one below (no
/// gate and no claim).
#[test]
fn reclaim_batch_vs_gated_cycle_start() {
    model(|| reclaim_batch_vs_cycle_start_body(BatchStart::Gate));
}

/// Control for R5 and R5b: a starting stop that does not claim the batch in flight lets the
/// cycle's count pass trace objects the batch is dropping (they are in no buffer when the
/// stop discards them, and still allocated), and its sweep frees them again.
#[test]
#[should_panic]
fn control_cycle_start_without_claiming_batches_in_flight_fails() {
    model(|| reclaim_batch_vs_cycle_start_body(BatchStart::Neither));
}

/// The body of models 10 and 11: `rules` says which objects are born in `Mark`; `grey`:
/// a barrier shaded `Y` before the passes ran, so it waits in a mark work buffer.
fn born_in_mark_body(rules: &'static ModelRules, grey: bool) {
    let phase = Arc::new(PhaseCell::new());
    let sp = Arc::new(Safepoint::new());
    let mutator = Arc::new(Mutator::new());
    let zero = Arc::new(ZeroQueue::new());
    // The cycle has started: `Y` existed before it, `X` was allocated black since.
    start_cycle(&sp, &phase, &[&mutator], &zero);
    let slots = Arc::new([Slot::new(Y, false), Slot::new(X, true)]);
    if grey {
        slots[0].shade();
    }
    let thread = spawn_dropper(&phase, &sp, &mutator, &zero, &slots, rules);
    mark_and_sweep(&sp, &phase, &mutator, &zero, &*slots);
    finish(thread, &sp, &phase, &mutator, &zero, &*slots);
}

/// **Model 10: freeing objects born in `Mark` during `Mark`** (rule M1). In a running
/// cycle the mutator drops the last handles of `Y` (older than the cycle) and `X`
/// (allocated black during it); `X` fills the buffer, and the shipped `take_reclaimable`
/// puts only `X` in the batch (M1), which the mutator frees while the collector counts,
/// finds roots, terminates and sweeps. Property: each object is freed exactly once, and the
/// count pass never reads a value being dropped (it skips `X`, which is marked).
#[test]
fn born_in_mark_freed_during_mark() {
    static BORN: ModelRules = ModelRules { born: &[X] };
    model(|| born_in_mark_body(&BORN, false));
}

/// Control for M1: a batch that also frees an object older than the cycle (`Y` taken for
/// born) races with the count pass, which traces `Y` (unmarked, allocated).
#[test]
#[should_panic]
fn control_freeing_an_older_object_during_mark_fails() {
    static BOTH: ModelRules = ModelRules { born: &[X, Y] };
    model(|| born_in_mark_body(&BOTH, false));
}

/// **Model 11: an object in a mark work buffer reaches zero during `Mark`** (rule M1). A
/// barrier shaded `Y` (older than the cycle) before the passes ran, so it is marked and
/// grey; then the mutator drops the last handles of `Y` and of `X` (born in this `Mark`),
/// filling its buffer. The shipped partition frees only `X` now; the marker scans `Y`
/// (reads its value), mark termination keeps `Y` (marked) and the drain frees it after the
/// sweep. Property: each freed once, no value scanned while dropped.
#[test]
fn a_shaded_object_reaching_zero_during_mark_waits_for_termination() {
    static BORN: ModelRules = ModelRules { born: &[X] };
    model(|| born_in_mark_body(&BORN, true));
}

/// Control for model 11: a batch that takes the grey `Y` for born frees it while the
/// marker scans it.
#[test]
#[should_panic]
fn control_freeing_a_grey_object_during_mark_fails() {
    static BOTH: ModelRules = ModelRules { born: &[X, Y] };
    model(|| born_in_mark_body(&BOTH, true));
}

/// The body of model 12: `marked`: the cycle's roots pass found both objects (as R1 says of
/// any object whose count reaches zero in `Sweep`); `false` is the control.
fn zero_during_sweep_body(marked: bool) {
    let phase = Arc::new(PhaseCell::new());
    let sp = Arc::new(Safepoint::new());
    let mutator = Arc::new(Mutator::new());
    let zero = Arc::new(ZeroQueue::new());
    // A cycle ran its passes and terminated: `X` and `Y` survive it (marked) unless
    // `marked` is false.
    start_cycle(&sp, &phase, &[&mutator], &zero);
    let slots = Arc::new([Slot::new(X, marked), Slot::new(Y, marked)]);
    {
        let mut stopped = stop_world(&sp, &[&*mutator]);
        // SAFETY: `stop_world` waited for the mutator.
        let mark_zeros = unsafe { take_in_stop(&mut stopped, [&*mutator], &zero) };
        phase.set(Phase::Sweep);
        drop(stopped);
        zero.keep_survivors(mark_zeros, |_| true);
    }
    // The mutator drops both last handles during `Sweep`: the second fills its buffer and
    // it frees the batch, while the collector sweeps.
    let thread = spawn_dropper(&phase, &sp, &mutator, &zero, &slots, &PRE_EXISTING);
    for slot in slots.iter() {
        slot.sweep();
    }
    phase.set(Phase::Off);
    drain_slots(&zero, &*slots);
    finish(thread, &sp, &phase, &mutator, &zero, &*slots);
}

/// **Model 12: counts reaching zero during `Sweep`** (rules R1 and R4). Two survivors of a
/// terminated cycle lose their last handles while the collector sweeps; the mutator frees
/// them as a batch (`Sweep` allows everything, M1) while the sweep walks the same objects
/// (it skips marked ones without reading them). Property: each freed once, no race.
#[test]
fn counts_reaching_zero_during_sweep_are_freed_by_the_dropping_thread() {
    model(|| zero_during_sweep_body(true));
}

/// Control for model 12: objects the sweep frees (unmarked) must never be queued in
/// `Sweep`; R1's argument is that a count read above zero by the roots pass made them
/// roots. Without it (the objects unmarked), the batch and the sweep free them both.
#[test]
#[should_panic]
fn control_unmarked_objects_queued_during_sweep_fail() {
    model(|| zero_during_sweep_body(false));
}

// ===== Model 13: a mark assist's scanning vs mark termination ==============================

/// Where the assist of model 13 hands its stack back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AssistFlush {
    /// The shipped order (`mark_assist::scan_some`): the whole scan, the `LocalWork::flush`
    /// included, inside one op (rule A1).
    InOp,
    /// The stack handed back after the op ended (the control).
    AfterOp,
}

/// The body of model 13. The collector shared a grey object `Y` (whose child is `Z`)
/// through the global list; an allocating thread's assist takes it inside an op, scans it
/// (shading `Z` onto its own stack) and hands its stack back with the shipped
/// `LocalWork::flush`, while the collector's drain and mark termination (the shipped
/// `WorkList::try_terminate` in a stopped world) run.
fn assist_scan_vs_termination(flush: AssistFlush) {
    let phase = Arc::new(PhaseCell::new());
    phase.set(Phase::Mark);
    let sp = Arc::new(Safepoint::new());
    let mutator = Arc::new(Mutator::new());
    let work = Arc::new(WorkList::new());
    let objects = Arc::new([Object::new(Y, 1, 0), Object::new(Z, 1, 0)]);
    assert!(objects[0].mark_grey());
    work.publish(vec![Y]);

    // restated: tracing `Y` reports `Z`, tracing `Z` reports nothing.
    fn trace(objects: &[Object; 2], object: usize, local: &mut LocalWork<'_>) {
        if object == Y {
            shade_into(local, &objects[1]);
        }
    }

    let thread = {
        let (phase, sp, mutator, work, objects) = (
            phase.clone(),
            sp.clone(),
            mutator.clone(),
            work.clone(),
            objects.clone(),
        );
        thread::spawn(move || {
            let mut scanned = Vec::new();
            let op = ModelOp::enter(&sp, &mutator);
            let mut local = LocalWork::on(&work, true);
            if phase.in_op() == Phase::Mark {
                // A budget of one object: the child stays on the assist's stack.
                if let Some(object) = local.pop() {
                    scanned.push(object);
                    trace(&objects, object, &mut local);
                }
            }
            if flush == AssistFlush::InOp {
                local.flush();
                drop(op);
            } else {
                drop(op);
                local.flush();
            }
            scanned
        })
    };

    let drained = mark_termination(
        &phase,
        &sp,
        &work,
        &[&mutator],
        true,
        |object, local| trace(&objects, object, local),
        || {},
    );
    let mut traced = thread.join().unwrap();
    traced.extend(drained);
    traced.sort_unstable();
    assert!(
        work.is_empty(),
        "a grey object was handed back after termination"
    );
    assert_eq!(
        traced,
        [Y, Z],
        "a grey object was not traced before termination, or twice"
    );
}

/// **Model 13: a mark assist's scanning vs mark termination** (rule A1, docs/collector.md
/// "Pacing and mark assists"). Property: every grey object is traced once before the phase
/// becomes `Sweep`, and nothing is left on the global list: an assist holds grey objects
/// only inside an op, which the termination stop excludes.
#[test]
fn mark_assist_scanning_vs_mark_termination() {
    model(|| assist_scan_vs_termination(AssistFlush::InOp));
}

/// Control for model 13: an assist that hands its stack back after its op ended lets
/// termination end marking while it holds a grey object. Must keep failing.
#[test]
#[should_panic]
fn control_assist_flushing_outside_its_op_fails() {
    model(|| assist_scan_vs_termination(AssistFlush::AfterOp));
}

// ===== Model 14: a sweep assist vs the end of the free pass (heap/free_pass.rs, shipped) ===

/// The spans a free pass sweeps, one cell per assist (each span is popped by exactly one
/// thread, under the central lock): an assist's sweep writes its cell, and the collector
/// writes every cell after the pass (the next cycle's mark termination makes spans
/// unswept, its drop pass runs their drop glue). loom reports any two writes of a cell not
/// ordered by happens-before.
struct UnsweptSpans([UnsafeCell<u32>; 2]);

// SAFETY: every access goes through loom's `with_mut`, which checks that accesses from
// different threads are ordered; an unordered pair fails the model instead of racing.
unsafe impl Sync for UnsweptSpans {}

/// The model: one cycle's free pass (open, close), then the next cycle's termination
/// writing the spans; one assist thread (two with `two_assists`) sweeps through the shipped
/// `FreePass::assist_if_open` at any point.
fn assist_vs_free_pass_end(gate: FreePass, two_assists: bool) {
    let gate = Arc::new(gate);
    let spans = Arc::new(UnsweptSpans([UnsafeCell::new(0), UnsafeCell::new(0)]));
    let assist = |which: usize| {
        let (gate, spans) = (gate.clone(), spans.clone());
        thread::spawn(move || {
            gate.assist_if_open(|| {
                // SAFETY: loom checks this access against every other (`UnsweptSpans`).
                spans.0[which].with_mut(|n| unsafe { *n += 1 });
                1
            })
        })
    };
    let first = assist(0);
    let second = two_assists.then(|| assist(1));
    gate.open();
    gate.close();
    for span in &spans.0 {
        // SAFETY: as above; the next cycle's mark termination and drop pass.
        span.with_mut(|n| unsafe { *n += 100 });
    }
    first.join().unwrap();
    if let Some(second) = second {
        second.join().unwrap();
    }
}

/// **Model 14: a sweep assist vs the end of the free pass** (`heap/free_pass.rs`; the bug
/// of docs/collector.md, "A sweep assist that straddled cycles"). Property: an assist's
/// sweep happens before whatever the collector does after closing the pass, or does not
/// run: an assist that saw the pass open cannot sweep into the next cycle.
#[test]
fn free_pass_vs_straddling_assist() {
    model(|| assist_vs_free_pass_end(FreePass::new(), false));
    model(|| assist_vs_free_pass_end(FreePass::new(), true));
}

/// Control for model 14: a `close` that does not wait for assists inside the gate lets an
/// assist that saw the pass open sweep after the collector moved on (the library before
/// the fix, where the pass's end waited only for spans already popped). Must keep failing.
#[test]
#[should_panic]
fn control_free_pass_closing_without_waiting_for_assists_fails() {
    model(|| assist_vs_free_pass_end(FreePass::without_assist_wait(), false));
}
