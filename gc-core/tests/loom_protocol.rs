//! loom models of the collector's protocol: barriers vs counting vs marking vs phase changes
//! vs handshakes and the stopped world (DESIGN §5, §9).
//!
//! # What these are
//! The shipped code keeps its protocol state in process-wide statics and thread locals and
//! uses parking_lot and `membarrier(2)`, none of which loom can instrument (and the library
//! does not compile under `--cfg tricolor_loom` at all: loom's atomics and cells have no
//! `const` constructors). So each test is a *model*: a small re-statement of one mechanism
//! with loom's atomics, the same orderings as the shipped code, and an assertion that states
//! the safety property. Every line that mirrors shipped code names the file and function.
//! Nothing here links gc-core; `gc-core/loom/` compiles this file alone (`.ci/loom.sh`).
//!
//! # The two fence variants
//! (a) **Op entry vs the collector** (heap `safepoint.rs` fact 1). The mutator stores an odd
//!     `op_seq` then loads `STOP` / the phase; the collector stores `STOP` / the phase then
//!     loads `op_seq`. In production the mutator's half is only a compiler fence and the
//!     collector's half is `fence(SeqCst)` + `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`.
//!     loom cannot express an asymmetric fence, so the models use the *fallback* that the
//!     code also ships (`TRICOLOR_NO_MEMBARRIER`, or a kernel without membarrier): a real
//!     `fence(SeqCst)` on both sides. That is the right abstraction of the membarrier
//!     variant: membarrier returns only after every running thread of the process has
//!     executed a full barrier at some point during the syscall (and a thread that was not
//!     running has a barrier in its context switch), so every mutator execution is
//!     equivalent to one where a `fence(SeqCst)` sits at the mutator's current program point,
//!     totally ordered with the collector's fence — exactly what the symmetric pair gives.
//!     The compiler fence keeps the compiler from moving the `op_seq` store past the loads,
//!     so the hardware fence that membarrier injects lands between them or before/after
//!     both, which are the two cases of the symmetric model.
//! (b) **Barrier sites outside ops** (`collector/phase.rs` fact 1): a `SeqCst`
//!     read-modify-write (`Gc::clone`'s count increment, `GcCell::borrow_mut`'s flag CAS)
//!     then a `SeqCst` phase load, against the collector's `SeqCst` phase store (+ the
//!     handshake's fence) and a later read of the same location (`SeqCst` count load in the
//!     roots pass; the reader-adding CAS of `collector_read`). Modelled as written.
//!
//! # loom's memory model, and one workaround
//! loom 0.7 implements `fence(SeqCst)` exactly but treats `SeqCst` *accesses* as
//! acquire/release, except that a `SeqCst` load never reads a `SeqCst` store older (in
//! modification order) than another `SeqCst` store to the same location. The initial value
//! of a loom atomic is not a `SeqCst` store, so a `SeqCst` load could read the initial value
//! past a `SeqCst` store it does not happen-after, which C++20 forbids (the initial value
//! happens-before that store). Each model therefore re-stores its initial values with
//! `SeqCst` before spawning (`init_seqcst`); in the shipped code those values are static
//! initialisers or stores that happen-before both threads, so this adds no ordering that the
//! real code lacks. loom also explores executions under a preemption bound (default 3 here,
//! `LOOM_MAX_PREEMPTIONS` overrides), so these are bounded checks, not proofs.
//!
//! # Findings (each failing model is kept as `#[should_panic]`: the protocol before its fix,
//! which must keep failing; the library follows the passing `_fixed` model next to it;
//! each model's doc comment gives the interleaving)
//! 1. `borrow_mut_barrier_vs_mark_termination`: the deletion barrier decides to shade
//!    (`phase_seqcst() == Mark`, outside any op) and only then enters the op that shades,
//!    re-checking the phase there. A marker that traces the cell's owner in between skips
//!    the writer-held cell, mark termination does not wait for a thread outside an op, and
//!    the op then sees `Sweep` and shades nothing: a handle counted as internal and moved
//!    out of the cell keeps an unmarked object, which the sweep frees.
//! 2. `op_bracket_vs_stop_the_world_restart` / `termination_vs_late_shade`:
//!    `Op::enter_with` loads `STOP` with `Relaxed`. An op that reads the `false` stored by
//!    `StoppedWorld::drop` is not ordered after the stopped world's work: it may read the
//!    stale phase `Mark` after mark termination set `Sweep` (and shade / allocate black),
//!    and its cache accesses race with `flush_caches`' writes to that cache.
//! 3. `count_zero_vs_cycle_phase_only`: prompt reclamation's first attempt decided in the
//!    op after `Gc::drop`'s decrement whether to queue the object, by the phase alone. A
//!    whole cycle can run between the decrement and the op: it frees the object (zero
//!    count, unmarked) and ends in `Off`, and the op then queues a freed object, which the
//!    drain frees again. The library follows `count_zero_vs_cycle` (the phase word is read
//!    before the decrement and must be unchanged in the op).

#![cfg(tricolor_loom)]
// Every `unsafe` block below dereferences the pointer that a loom `UnsafeCell` hands to
// `with` / `with_mut`; loom checks that those accesses are ordered, which is what the
// models test.
#![allow(clippy::undocumented_unsafe_blocks)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::Ordering::{self, Acquire, Relaxed, Release, SeqCst};
use loom::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
use loom::sync::Arc;
use loom::thread;

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

// ===== Phase (collector/phase.rs) ==========================================================

const OFF: u8 = 0;
const MARK: u8 = 1;
const SWEEP: u8 = 2;

struct PhaseModel(AtomicU8);

impl PhaseModel {
    fn new(phase: u8) -> PhaseModel {
        let cell = PhaseModel(AtomicU8::new(phase));
        // loom workaround (module docs): the initial value as a SeqCst store.
        cell.0.store(phase, SeqCst);
        cell
    }
    /// `phase::set_phase`: `PHASE.store(phase, SeqCst)`.
    fn set(&self, phase: u8) {
        self.0.store(phase, SeqCst);
    }
    /// `phase::phase_seqcst` (barrier sites outside ops, phase fact 1).
    fn seqcst(&self) -> u8 {
        self.0.load(SeqCst)
    }
    /// `phase::phase_in_op` (inside an op, phase fact 2).
    fn in_op(&self) -> u8 {
        self.0.load(Relaxed)
    }
}

// ===== Ops, handshakes, the stopped world (heap/thread_cache.rs, heap/safepoint.rs) =========

/// One mutator thread's `op_seq` and the global `STOP`, fallback fence variant (a).
struct Safepoint {
    /// `ThreadCache::op_seq`.
    op_seq: AtomicU64,
    /// `thread_cache::STOP`.
    stop: AtomicBool,
    /// The ordering of the `STOP` load in `Op::enter_with`: `Relaxed` as shipped; the
    /// `_fixed` models use `Acquire` (the proposed fix).
    stop_load: Ordering,
}

impl Safepoint {
    fn new(stop_load: Ordering) -> Safepoint {
        let sp = Safepoint {
            op_seq: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            stop_load,
        };
        sp.op_seq.store(0, SeqCst);
        sp.stop.store(false, SeqCst);
        sp
    }

    /// `Op::enter_with`.
    fn enter_op(&self) {
        loop {
            // `let seq = seq_cell.load(Relaxed)`
            let seq = self.op_seq.load(Relaxed);
            assert!(seq & 1 == 0, "nested op");
            // `seq_cell.store(seq + 1, Relaxed)`
            self.op_seq.store(seq + 1, Relaxed);
            // `safepoint::mutator_fence()`, fallback: `fence(SeqCst)` (variant (a)).
            fence(SeqCst);
            // `if !STOP.load(Relaxed) { return Op }`
            if !self.stop.load(self.stop_load) {
                return;
            }
            // `seq_cell.store(seq + 2, Release); wait_while_stopped()`
            self.op_seq.store(seq + 2, Release);
            self.wait_while_stopped();
        }
    }

    /// `wait_while_stopped`: `while STOP.load(Acquire) { STOP_DONE.wait(..) }` under
    /// `STOP_WAIT` (the lock only parks the thread; the Acquire load carries the ordering).
    fn wait_while_stopped(&self) {
        while self.stop.load(Acquire) {
            thread::yield_now();
        }
    }

    /// `impl Drop for Op`: `seq_cell.store(seq + 1, Release)`.
    fn exit_op(&self) {
        let seq = self.op_seq.load(Relaxed);
        self.op_seq.store(seq + 1, Release);
    }

    /// `thread_cache::handshake` (after the caller's `set_phase`).
    fn handshake(&self) {
        // `safepoint::collector_fence()`: `fence(SeqCst)` (+ membarrier, variant (a)).
        fence(SeqCst);
        // `let seq = cache.op_seq().load(Acquire); if seq % 2 == 1 { wait_until(!= seq) }`
        let seq = self.op_seq.load(Acquire);
        if seq % 2 == 1 {
            while self.op_seq.load(Acquire) == seq {
                thread::yield_now();
            }
        }
    }

    /// `thread_cache::stop_the_world`.
    fn stop_the_world(&self) {
        // `STOP.store(true, SeqCst); safepoint::collector_fence()`
        self.stop.store(true, SeqCst);
        fence(SeqCst);
        // `wait_until(|| cache.op_seq().load(Acquire) % 2 == 0)`
        while self.op_seq.load(Acquire) % 2 == 1 {
            thread::yield_now();
        }
    }

    /// `impl Drop for StoppedWorld`: `STOP.store(false, Release)` (under `STOP_WAIT`).
    fn start_the_world(&self) {
        self.stop.store(false, Release);
    }
}

// ===== Objects, mark bits, the grey queue (collector/mark.rs, heap/span.rs) ===============

/// One managed object's header fields and mark bit.
struct Object {
    /// `Header::handles`.
    handles: AtomicU32,
    /// `Header::internal` (written and read by the collector only).
    internal: AtomicU32,
    /// The object's bit in its span's mark bitmap (`Span::mark` / `Span::is_marked`).
    mark: AtomicU64,
}

impl Object {
    fn new(handles: u32, internal: u32) -> Object {
        let object = Object {
            handles: AtomicU32::new(handles),
            internal: AtomicU32::new(internal),
            mark: AtomicU64::new(0),
        };
        object.handles.store(handles, SeqCst);
        object.internal.store(internal, SeqCst);
        object.mark.store(0, SeqCst);
        object
    }
    /// `Span::is_marked`: `load(Relaxed)`.
    fn is_marked(&self) -> bool {
        self.mark.load(Relaxed) != 0
    }
}

/// `mark::GREY` (a `SegQueue<usize>`), reduced to the number of entries: a push is a
/// Release publication, a pop an Acquire, `is_empty` loads with `SeqCst` (crossbeam).
struct Grey(AtomicUsize);

impl Grey {
    fn new() -> Grey {
        let grey = Grey(AtomicUsize::new(0));
        grey.0.store(0, SeqCst);
        grey
    }
    fn push(&self) {
        self.0.fetch_add(1, Release);
    }
    fn pop(&self) -> bool {
        let mut n = self.0.load(Acquire);
        while n > 0 {
            match self.0.compare_exchange(n, n - 1, Acquire, Acquire) {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }
    fn is_empty(&self) -> bool {
        self.0.load(SeqCst) == 0
    }
}

/// `mark::shade`: `if span.is_marked(slot) { return } if span.mark(slot) { GREY.push }`
/// (`Span::mark` is `fetch_or(bit, Relaxed)`). The modelled object is in a scan span.
fn shade(object: &Object, grey: &Grey) {
    if object.is_marked() {
        return;
    }
    if object.mark.fetch_or(1, Relaxed) == 0 {
        grey.push();
    }
}

// ===== GcCell (gc_cell.rs) =================================================================

const WRITER: usize = 1 << (usize::BITS - 1);
const EMPTY: usize = 0;
const HANDLE_Y: usize = 1;

/// A `GcCell<Option<Gc<Y>>>`: the flag and the value (two words, so a torn read would show).
struct CellModel {
    /// `GcCell::state`.
    state: AtomicUsize,
    /// `GcCell::value`: (the handle, a second word written with it).
    value: UnsafeCell<(usize, usize)>,
}

impl CellModel {
    fn holding_y() -> CellModel {
        let cell = CellModel {
            state: AtomicUsize::new(0),
            value: UnsafeCell::new((HANDLE_Y, HANDLE_Y)),
        };
        cell.state.store(0, SeqCst);
        cell
    }

    /// `GcCell::try_take_writer`: `compare_exchange(0, WRITER, SeqCst, Relaxed)`.
    fn try_take_writer(&self) -> bool {
        self.state
            .compare_exchange(0, WRITER, SeqCst, Relaxed)
            .is_ok()
    }

    /// `GcCell::borrow_mut`'s loop: `while !try_take_writer() { ..; backoff() }`, checking
    /// that every state it sees while waiting is whole (readers only, or `WRITER` alone).
    fn take_writer_waiting(&self) {
        while !self.try_take_writer() {
            // `let state = self.state.load(Relaxed)` (for the same-thread panics).
            let state = self.state.load(Relaxed);
            assert!(
                state == 0 || state == WRITER || state & WRITER == 0,
                "borrow flag half-state {state:#x}"
            );
            thread::yield_now();
        }
    }

    /// `impl Drop for GcRefMut`: `state.swap(0, Release)`, asserting it was `WRITER`.
    fn release_writer(&self) {
        let old = self.state.swap(0, Release);
        assert_eq!(old, WRITER, "state corrupt at mutable borrow end");
    }

    /// `GcCell::try_add_reader` (as `collector_read` uses it).
    fn try_add_reader(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            if state & WRITER != 0 {
                return false;
            }
            // `compare_exchange_weak(state, state + 1, Acquire, Relaxed)`
            match self
                .state
                .compare_exchange_weak(state, state + 1, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// `impl Drop for CollectorRead`: `state.fetch_sub(1, Release)`.
    fn release_reader(&self) {
        let old = self.state.fetch_sub(1, Release);
        assert!(
            old & !WRITER != 0 && old & WRITER == 0,
            "reader count corrupt"
        );
    }

    /// `impl Trace for GcCell` on the collector: `collector_read()`, trace the value, drop
    /// the read. `hold` runs while the read is held. Returns `Some(handle)` if read.
    fn collector_trace(&self, hold: impl FnOnce()) -> Option<usize> {
        if !self.try_add_reader() {
            return None;
        }
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell (module docs).
        let first = self.value.with(|v| unsafe { (*v).0 });
        hold();
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell (module docs).
        let second = self.value.with(|v| unsafe { (*v).1 });
        assert_eq!(first, second, "the collector saw a half-written value");
        self.release_reader();
        Some(first)
    }

    /// The mutation under the writer flag: `std::mem::take(&mut *guard)`, moving the
    /// handle out of the heap into a local (a move: the count does not change).
    fn move_out(&self) -> usize {
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell (module docs).
        self.value.with_mut(|v| unsafe {
            let old = *v;
            assert_eq!(old.0, old.1, "the mutator saw a half-written value");
            *v = (EMPTY, EMPTY);
            old.0
        })
    }
}

/// `GcCell::borrow_mut` + `after_take_writer` + `deletion_barrier` for a cell holding a
/// handle to `y`. Returns once the writer flag is held (the guard exists). `sp` is the
/// mutator's op state: the barrier's shade runs inside an op (`deletion_barrier`:
/// `enter_op(); if phase_in_op() == Mark { shade }`).
fn borrow_mut_with_barrier(
    cell: &CellModel,
    phase: &PhaseModel,
    sp: &Safepoint,
    y: &Object,
    grey: &Grey,
) {
    cell.take_writer_waiting();
    // `after_take_writer`: `if T::NEEDS_TRACE && phase_seqcst() == Mark { deletion_barrier }`
    if phase.seqcst() == MARK {
        // `deletion_barrier`: the value holds `y` (the guard holds the writer flag).
        sp.enter_op();
        if phase.in_op() == MARK {
            // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
            // other access to the cell (module docs).
            let holds_y = cell.value.with(|v| unsafe { (*v).0 == HANDLE_Y });
            if holds_y {
                shade(y, grey);
            }
        }
        sp.exit_op();
    }
}

// ===== Model 1 =============================================================================

/// **Barrier vs counting on one cell.** Object `x` holds `GcCell<Option<Gc<Y>>>` with the
/// only handle to `y`. The mutator borrows the cell mutably (flag CAS, SeqCst phase load,
/// deletion barrier in an op) and moves the handle out into a local. The collector turns
/// the barrier on (`set_phase(Mark)` + handshake, `cycle.rs` step 2) and counts `x`
/// (`mark::count_internal` tracing the cell through `collector_read`).
/// Property: if the collector counted the handle as internal and the mutator moved it out,
/// the mutator shaded `y` (variant (b): the CAS + phase load vs phase store + the CAS).
#[test]
fn barrier_vs_counting_on_one_cell() {
    model(|| {
        let phase = Arc::new(PhaseModel::new(OFF));
        let sp = Arc::new(Safepoint::new(Relaxed));
        let cell = Arc::new(CellModel::holding_y());
        let y = Arc::new(Object::new(1, 0));
        let grey = Arc::new(Grey::new());

        let mutator = {
            let (phase, sp, cell, y, grey) = (
                phase.clone(),
                sp.clone(),
                cell.clone(),
                y.clone(),
                grey.clone(),
            );
            thread::spawn(move || {
                borrow_mut_with_barrier(&cell, &phase, &sp, &y, &grey);
                let moved = cell.move_out();
                cell.release_writer();
                moved == HANDLE_Y
            })
        };

        // cycle.rs `run_cycle` step 2: `set_phase(Mark); heap::handshake()`.
        phase.set(MARK);
        sp.handshake();
        // Step 3, `count_internal`: trace `x`; a reported edge to unmarked `y` counts.
        let counted = cell.collector_trace(|| {}) == Some(HANDLE_Y) && !y.is_marked();
        if counted {
            y.internal.fetch_add(1, Relaxed);
        }

        let moved_out = mutator.join().unwrap();
        if counted && moved_out {
            assert!(
                y.is_marked(),
                "y counted as internal, moved out, and never shaded"
            );
        }
    });
}

// ===== Model 2 =============================================================================

/// **A handle moved out of a cell while the cell is being counted.** As model 1, but the
/// collector holds its read across a yield (a long trace) and the mutator waits in
/// `borrow_mut`'s loop for it; then the collector reads the cell a second time (the mark
/// phase tracing `x`, which may find it writer-held: the failed-read path fixed in 40db282
/// must release nothing). Properties: neither side ever sees a half-written value (loom's
/// `UnsafeCell` also checks that the accesses are ordered), the flag is never a mix of
/// readers and `WRITER`, and either the count excludes the handle or `y` is shaded.
#[test]
fn handle_moved_out_while_cell_is_counted() {
    model(|| {
        let phase = Arc::new(PhaseModel::new(OFF));
        let sp = Arc::new(Safepoint::new(Relaxed));
        let cell = Arc::new(CellModel::holding_y());
        let y = Arc::new(Object::new(1, 0));
        let grey = Arc::new(Grey::new());

        let mutator = {
            let (phase, sp, cell, y, grey) = (
                phase.clone(),
                sp.clone(),
                cell.clone(),
                y.clone(),
                grey.clone(),
            );
            thread::spawn(move || {
                borrow_mut_with_barrier(&cell, &phase, &sp, &y, &grey);
                let moved = cell.move_out();
                cell.release_writer();
                moved == HANDLE_Y
            })
        };

        phase.set(MARK);
        sp.handshake();
        // Counting, holding the read across a yield so the mutator waits on it.
        let counted = cell.collector_trace(thread::yield_now) == Some(HANDLE_Y) && !y.is_marked();
        // Marking traces `x` again (`mark::drain`): skipped if writer-held.
        let marked_through_x = cell.collector_trace(|| {}) == Some(HANDLE_Y);
        if marked_through_x {
            shade(&y, &grey);
        }

        let moved_out = mutator.join().unwrap();
        assert_eq!(cell.state.load(Relaxed), 0, "borrow flag not released");
        if counted && moved_out {
            assert!(
                y.is_marked(),
                "y counted as internal, moved out, and never shaded"
            );
        }
    });
}

// ===== Model 3 =============================================================================

/// `Gc::clone`: `handles.fetch_add(1, SeqCst)`, then `if phase_seqcst() == Mark {
/// clone_barrier }` (`enter_op(); if phase_in_op() == Mark { shade }`).
fn clone_handle(y: &Object, phase: &PhaseModel, sp: &Safepoint, grey: &Grey, phase_load: Ordering) {
    y.handles.fetch_add(1, SeqCst);
    if phase.0.load(phase_load) == MARK {
        sp.enter_op();
        if phase.in_op() == MARK {
            shade(y, grey);
        }
        sp.exit_op();
    }
}

/// `impl Drop for Gc`: `handles.fetch_sub(1, Release)`.
fn drop_handle(y: &Object) {
    y.handles.fetch_sub(1, Release);
}

/// The body of model 3. `internal`: handles to `y` inside the heap, counted by the count
/// pass before the roots pass. `external`: whether the mutator starts with a handle of its
/// own (then it clones that and drops the original; else it clones the heap handle out).
fn clone_during_phase_change(internal: u32, external: bool, phase_load: Ordering) {
    let phase = Arc::new(PhaseModel::new(OFF));
    let sp = Arc::new(Safepoint::new(Relaxed));
    let handles = internal + u32::from(external);
    let y = Arc::new(Object::new(handles, 0));
    let grey = Arc::new(Grey::new());

    let mutator = {
        let (phase, sp, y, grey) = (phase.clone(), sp.clone(), y.clone(), grey.clone());
        thread::spawn(move || {
            clone_handle(&y, &phase, &sp, &grey, phase_load);
            if external {
                drop_handle(&y);
            }
            // The mutator now holds exactly one handle outside the heap.
        })
    };

    // cycle.rs step 2 then the count pass (its result: `internal`).
    phase.set(MARK);
    sp.handshake();
    y.internal.store(internal, Relaxed);
    // `mark::shade_roots`: `let internal = header.internal.swap(0, Relaxed); if
    // !is_marked && header.handles.load(SeqCst) > internal { shade }`.
    let counted = y.internal.swap(0, Relaxed);
    let root = !y.is_marked() && y.handles.load(SeqCst) > counted;
    if root {
        shade(&y, &grey);
    }

    mutator.join().unwrap();
    // Property (mark.rs, "why the roots are right"): an outside handle exists at the end,
    // so `y` was found a root or shaded by the clone barrier.
    assert!(
        y.is_marked(),
        "a handle outside the heap, yet y is neither a root nor shaded (root={root})"
    );
}

/// **A handle cloned and dropped during the phase change.** Two shapes: the brief's (the
/// mutator holds the only handle, clones it and drops the original: internal = 0), and the
/// one where the subtraction matters (the only handle is in the heap and counted; the
/// mutator clones it out). Property: at the end, if the roots pass decided "not a root"
/// (count <= internal), `y` was shaded by the clone barrier (an outside handle exists).
#[test]
fn clone_and_drop_during_phase_change() {
    model(|| clone_during_phase_change(0, true, SeqCst));
    model(|| clone_during_phase_change(1, false, SeqCst));
}

/// Control: with an Acquire (not SeqCst) phase load in `Gc::clone` the Dekker pair of phase
/// fact (1) is broken and model 3 must fail; proves the model can see the race.
#[test]
#[should_panic]
fn control_clone_without_seqcst_phase_load_fails() {
    model(|| clone_during_phase_change(1, false, Acquire));
}

// ===== Model 4 =============================================================================

/// **Op bracket vs handshake.** The mutator runs one op that reads the phase and, if it saw
/// `Off`, acts on the old phase (a white allocation: it writes collector-visible state, here
/// an `UnsafeCell`). The collector sets `Mark` and handshakes, then reads that state (the
/// span snapshot). Property: every op that saw `Off` ended before the handshake returned
/// and happens-before the collector's read (loom flags the cell access otherwise); an op
/// that did not end first saw `Mark`.
#[test]
fn op_bracket_vs_handshake() {
    model(|| {
        let phase = Arc::new(PhaseModel::new(OFF));
        let sp = Arc::new(Safepoint::new(Relaxed));
        let white_allocs = Arc::new(UnsafeCell::new(0u32));

        let mutator = {
            let (phase, sp, white_allocs) = (phase.clone(), sp.clone(), white_allocs.clone());
            thread::spawn(move || {
                sp.enter_op();
                // `Gc::new`: `if phase_in_op() == Mark { mark_new }`.
                let saw = phase.in_op();
                if saw == OFF {
                    // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
                    // other access to the cell (module docs).
                    white_allocs.with_mut(|n| unsafe { *n += 1 });
                }
                sp.exit_op();
                saw
            })
        };

        phase.set(MARK);
        sp.handshake();
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell (module docs).
        let seen = white_allocs.with(|n| unsafe { *n });

        let saw = mutator.join().unwrap();
        if saw == OFF {
            assert_eq!(
                seen, 1,
                "an op that saw Off was still running after the handshake"
            );
        }
    });
}

/// **Op bracket vs stop-the-world: exclusion.** The mutator runs two ops; each sets the
/// "work" flag and uses its cache. The collector stops the world, reads the flag and
/// flushes the cache (`StoppedWorld::flush_caches`), reads the flag again. STOP is not
/// cleared here (and an op that sees STOP gives up instead of waiting), so this checks only
/// the exclusion half. Property: after the wait no op is in flight: the flag does not change
/// while stopped, and the flush does not race with an op's cache use.
#[test]
fn op_bracket_vs_stop_the_world() {
    model(|| {
        let sp = Arc::new(Safepoint::new(Relaxed));
        let work = Arc::new(AtomicU32::new(0));
        let cache = Arc::new(UnsafeCell::new(0u32));

        let mutator = {
            let (sp, work, cache) = (sp.clone(), work.clone(), cache.clone());
            thread::spawn(move || {
                for _ in 0..2 {
                    // `Op::enter_with`, but give up where it would wait.
                    let seq = sp.op_seq.load(Relaxed);
                    sp.op_seq.store(seq + 1, Relaxed);
                    fence(SeqCst);
                    if sp.stop.load(Relaxed) {
                        sp.op_seq.store(seq + 2, Release);
                        return;
                    }
                    work.fetch_add(1, Relaxed);
                    // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
                    // other access to the cell (module docs).
                    cache.with_mut(|c| unsafe { *c += 1 });
                    sp.exit_op();
                }
            })
        };

        sp.stop_the_world();
        let before = work.load(Relaxed);
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell (module docs).
        cache.with_mut(|c| unsafe { *c = 0 });
        thread::yield_now();
        let after = work.load(Relaxed);
        assert_eq!(before, after, "an op ran inside the stopped world");

        mutator.join().unwrap();
    });
}

/// The restart half of model 4: the collector stops the world, flushes the mutator's cache
/// and sets `Sweep` (mark termination), then restarts it; the mutator's op may wait for the
/// restart or slip in after it. Property (safepoint fact 3): the stopped world's work
/// happens-before every op that starts after the restart: the op's cache use does not race
/// with the flush (loom's `UnsafeCell` check) and the op sees `Sweep`, never `Mark`.
fn stop_the_world_restart(stop_load: Ordering) {
    let phase = Arc::new(PhaseModel::new(MARK));
    let sp = Arc::new(Safepoint::new(stop_load));
    let cache = Arc::new(UnsafeCell::new(0u32));

    let mutator = {
        let (phase, sp, cache) = (phase.clone(), sp.clone(), cache.clone());
        thread::spawn(move || {
            sp.enter_op();
            let saw = phase.in_op();
            // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
            // other access to the cell (module docs).
            cache.with_mut(|c| unsafe { *c += 1 });
            sp.exit_op();
            saw
        })
    };

    sp.stop_the_world();
    // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
    // other access to the cell (module docs).
    cache.with_mut(|c| unsafe { *c = 0 }); // `StoppedWorld::flush_caches`
    phase.set(SWEEP); // `set_phase(Sweep)`
    sp.start_the_world();

    let saw = mutator.join().unwrap();
    // The op's increment survived the flush: it ran after the stopped world.
    // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
    // other access to the cell (module docs).
    if cache.with(|c| unsafe { *c }) == 1 {
        assert_eq!(saw, SWEEP, "an op after mark termination saw Mark");
    }
}

/// Restart with the shipped `Relaxed` `STOP` load in `Op::enter_with`.
///
/// Interleaving (fallback fences; membarrier is no stronger): collector `STOP = true`
/// (SeqCst), `fence(SeqCst)`, reads `op_seq` even (no op yet), flushes the cache, sets
/// `Sweep`, stores `STOP = false` (Release). Mutator: `op_seq` odd, `fence(SeqCst)` (after
/// the collector's in the fence order), `STOP.load(Relaxed)` reads that `false`: no
/// synchronisation, so the flush and `Sweep` need not be visible: the op's cache access
/// races with `flush_caches` (loom: "Causality violation") and `phase_in_op()` may read
/// `Mark`. On ARM the STOP and phase/cache loads can be reordered, so this is real there.
#[test]
// The protocol as it was before the fix; loom finds: an op entering after StoppedWorld::drop is not ordered after the stopped world (STOP loaded Relaxed in Op::enter_with): cache race with flush_caches, stale Mark.
// The library now follows the `_fixed` model; this one must keep failing.
#[should_panic]
fn op_bracket_vs_stop_the_world_restart() {
    model(|| stop_the_world_restart(Relaxed));
}

/// Restart with the proposed fix: `STOP.load(Acquire)` in `Op::enter_with` (free on x86,
/// `ldar` on ARM). Passes.
#[test]
fn op_bracket_vs_stop_the_world_restart_fixed() {
    model(|| stop_the_world_restart(Acquire));
}

// ===== Model 5 =============================================================================

/// Mark termination (`cycle.rs` step 4): `loop { drain; stop_the_world; if has_grey {
/// restart; continue } flush; set_phase(Sweep); restart; break }`. Returns the number of
/// grey objects drained.
fn mark_termination(
    phase: &PhaseModel,
    sp: &Safepoint,
    grey: &Grey,
    at_termination: impl FnOnce(),
) -> usize {
    let mut drained = 0;
    loop {
        // `mark::drain`: pop until empty (the modelled objects have no children).
        while grey.pop() {
            drained += 1;
        }
        sp.stop_the_world();
        // `if mark::has_grey() { drop(world); continue }`
        if !grey.is_empty() {
            sp.start_the_world();
            continue;
        }
        at_termination();
        phase.set(SWEEP);
        sp.start_the_world();
        return drained;
    }
}

/// The body of model 5.
fn termination_vs_shade(stop_load: Ordering) {
    let phase = Arc::new(PhaseModel::new(MARK));
    let sp = Arc::new(Safepoint::new(stop_load));
    let grey = Arc::new(Grey::new());
    let y = Arc::new(Object::new(1, 0));

    let mutator = {
        let (phase, sp, grey, y) = (phase.clone(), sp.clone(), grey.clone(), y.clone());
        thread::spawn(move || {
            // A barrier inside an op (`clone_barrier` / `deletion_barrier`):
            // `enter_op(); if phase_in_op() == Mark { shade }`.
            sp.enter_op();
            let shaded = phase.in_op() == MARK;
            if shaded {
                shade(&y, &grey);
            }
            sp.exit_op();
            shaded
        })
    };

    let drained = mark_termination(&phase, &sp, &grey, || {});

    let shaded = mutator.join().unwrap();
    // Property: if the mutator shaded, its push was drained before termination; a shade
    // cannot land after it (the op would have seen Sweep).
    assert!(
        grey.is_empty(),
        "a grey object was pushed after mark termination"
    );
    if shaded {
        assert_eq!(drained, 1, "a shade was not drained before termination");
    }
}

/// **Termination against a late shade**, shipped `Relaxed` `STOP` load. Same interleaving
/// as `op_bracket_vs_stop_the_world_restart`: the op reads the restart's `STOP = false`
/// without acquiring it, reads the stale `Mark`, and pushes to the grey queue after mark
/// termination.
#[test]
// The protocol as it was before the fix; loom finds: an op entering after mark termination's restart can read the stale phase Mark (STOP loaded Relaxed) and shade after termination.
// The library now follows the `_fixed` model; this one must keep failing.
#[should_panic]
fn termination_vs_late_shade() {
    model(|| termination_vs_shade(Relaxed));
}

/// Model 5 with the proposed `STOP.load(Acquire)`. Passes.
#[test]
fn termination_vs_late_shade_fixed() {
    model(|| termination_vs_shade(Acquire));
}

// ===== Model 6 =============================================================================

/// The body of model 6. `barrier_in_op_with_cas`: the proposed fix (take the writer flag
/// inside the barrier's op) instead of the shipped order (CAS, SeqCst phase load, then an
/// op for the shade).
fn borrow_mut_vs_termination(barrier_in_op_with_cas: bool) {
    // Mark is on, counting is done: `y`'s only handle is in `x`'s cell and was counted
    // (internal = handles = 1), so `y` is not a root. `x` is held by the mutator: it is a
    // root, shaded and grey.
    let phase = Arc::new(PhaseModel::new(MARK));
    // `Acquire`: isolates this finding from finding 2 (`STOP` loaded Relaxed).
    let sp = Arc::new(Safepoint::new(Acquire));
    let cell = Arc::new(CellModel::holding_y());
    let y = Arc::new(Object::new(1, 1));
    let grey = Arc::new(Grey::new());
    let x_grey = Arc::new(AtomicBool::new(true));
    x_grey.store(true, SeqCst);

    let mutator = {
        let (phase, sp, cell, y, grey) = (
            phase.clone(),
            sp.clone(),
            cell.clone(),
            y.clone(),
            grey.clone(),
        );
        thread::spawn(move || {
            if barrier_in_op_with_cas {
                // Fix: `enter_op(); CAS; if ok && phase_in_op() == Mark { shade }; exit_op()`.
                loop {
                    sp.enter_op();
                    let ok = cell.try_take_writer();
                    if ok && phase.in_op() == MARK {
                        shade(&y, &grey);
                    }
                    sp.exit_op();
                    if ok {
                        break;
                    }
                    thread::yield_now();
                }
            } else {
                borrow_mut_with_barrier(&cell, &phase, &sp, &y, &grey);
            }
            let moved = cell.move_out();
            cell.release_writer();
            moved == HANDLE_Y
        })
    };

    // `mark::drain`: pop `x` and trace it; `GcCell::trace` skips a writer-held cell.
    if x_grey.swap(false, Relaxed) && cell.collector_trace(|| {}) == Some(HANDLE_Y) {
        shade(&y, &grey);
    }
    let y_marked_at_termination = AtomicBool::new(false);
    mark_termination(&phase, &sp, &grey, || {
        y_marked_at_termination.store(y.is_marked(), Relaxed);
    });

    let moved_out = mutator.join().unwrap();
    // Property: the sweep frees every object unmarked at termination; the mutator now holds
    // `y`'s handle outside the heap, so `y` must have been marked.
    if moved_out {
        assert!(
            y_marked_at_termination.load(Relaxed),
            "y moved out of a cell during Mark but unmarked at termination: the sweep frees it"
        );
    }
}

/// **borrow_mut's deletion barrier vs the mark-phase trace vs termination** (not in the
/// brief's list; found while writing model 1). Shipped order, sequentially consistent
/// interleaving (no weak-memory effect needed, 1 preemption):
/// 1. mutator: `try_take_writer` succeeds; `phase_seqcst()` = `Mark`; preempted before
///    `deletion_barrier`'s `enter_op` (it is in no op);
/// 2. collector: `drain` pops `x`, `GcCell::trace` finds the cell writer-held and reports
///    nothing, so `y` is not shaded; the queue is empty;
/// 3. collector: `stop_the_world` waits for no op (the mutator is outside one), `has_grey`
///    is false: termination; `set_phase(Sweep)`; restart;
/// 4. mutator: `enter_op`, `phase_in_op()` = `Sweep`: no shade; moves the handle out.
///
/// `y` was counted as internal (not a root), skipped by the mark, unshaded by the barrier:
/// the sweep frees it while the mutator holds a handle (use after free).
#[test]
// The protocol as it was before the fix; loom finds: borrow_mut decides its deletion barrier outside an op; mark termination can complete in the gap, after the marker skipped the writer-held cell, and the barrier's op then sees Sweep: a live object is left unmarked.
// The library now follows the `_fixed` model; this one must keep failing.
#[should_panic]
fn borrow_mut_barrier_vs_mark_termination() {
    model(|| borrow_mut_vs_termination(false));
}

/// Model 6 with a proposed fix: the flag CAS and the barrier in one op, so termination
/// waits for any borrow_mut whose cell the marker may have skipped. Passes.
#[test]
fn borrow_mut_barrier_vs_mark_termination_fixed() {
    model(|| borrow_mut_vs_termination(true));
}

// ===== Model 7 =============================================================================

/// A mutator thread's buffer of grey objects (`ThreadCache::mark_buffer`), reduced to its
/// length. Its thread touches it inside ops; the collector only in a stopped world. loom
/// reports any access of the two that is not ordered by the op bracket and `STOP`.
struct MutatorBuffer(UnsafeCell<usize>);

/// `mark::shade` + `work::push_from_mutator`: mark, push into the thread's buffer, and in
/// flush mode (`FLUSH_MODE.load(Relaxed)`) hand the buffer to the global list at once.
fn shade_into_buffer(object: &Object, buffer: &MutatorBuffer, grey: &Grey, flush: &AtomicBool) {
    if object.is_marked() {
        return;
    }
    if object.mark.fetch_or(1, Relaxed) != 0 {
        return;
    }
    // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
    // other access to the cell (module docs).
    let handed_over = buffer.0.with_mut(|len| unsafe {
        *len += 1;
        if flush.load(Relaxed) {
            core::mem::replace(&mut *len, 0)
        } else {
            0
        }
    });
    // `publish(buffer)`: one push per entry in this reduction of the queue.
    for _ in 0..handed_over {
        grey.push();
    }
}

/// Mark termination with mutator buffers (`cycle.rs` step 4): `loop { drain;
/// set_flush_mode(true); stop_the_world; taken = take_mark_buffers(publish); if taken > 0 ||
/// !global_is_empty() { restart; continue } set_phase(Sweep); set_flush_mode(false);
/// restart; break }`. Returns the number of grey objects drained.
fn termination_with_buffers(
    phase: &PhaseModel,
    sp: &Safepoint,
    grey: &Grey,
    buffer: &MutatorBuffer,
    flush: &AtomicBool,
    take_buffers: bool,
) -> usize {
    let mut drained = 0;
    loop {
        while grey.pop() {
            drained += 1;
        }
        flush.store(true, Relaxed);
        sp.stop_the_world();
        let taken = if take_buffers {
            buffer
                .0
                // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
                // other access to the cell (module docs).
                .with_mut(|len| unsafe { core::mem::replace(&mut *len, 0) })
        } else {
            0
        };
        for _ in 0..taken {
            grey.push();
        }
        if taken > 0 || !grey.is_empty() {
            sp.start_the_world();
            continue;
        }
        phase.set(SWEEP);
        flush.store(false, Relaxed);
        sp.start_the_world();
        return drained;
    }
}

/// The body of model 7; `take_buffers: false` is termination that looks only at the
/// global list (the control).
fn buffered_shade_vs_termination(take_buffers: bool) {
    let phase = Arc::new(PhaseModel::new(MARK));
    let sp = Arc::new(Safepoint::new(Acquire));
    let grey = Arc::new(Grey::new());
    let buffer = Arc::new(MutatorBuffer(UnsafeCell::new(0)));
    let flush = Arc::new(AtomicBool::new(false));
    flush.store(false, SeqCst);
    let objects = Arc::new([Object::new(1, 0), Object::new(1, 0)]);

    let mutator = {
        let (phase, sp, grey, buffer, flush, objects) = (
            phase.clone(),
            sp.clone(),
            grey.clone(),
            buffer.clone(),
            flush.clone(),
            objects.clone(),
        );
        thread::spawn(move || {
            let mut shaded = 0;
            for object in objects.iter() {
                // `clone_barrier`: `enter_op(); if phase_in_op() == Mark { shade }`.
                sp.enter_op();
                if phase.in_op() == MARK {
                    shade_into_buffer(object, &buffer, &grey, &flush);
                    shaded += 1;
                }
                sp.exit_op();
            }
            shaded
        })
    };

    let drained = termination_with_buffers(&phase, &sp, &grey, &buffer, &flush, take_buffers);

    let shaded = mutator.join().unwrap();
    assert_eq!(
        drained, shaded,
        "an object shaded during Mark was not drained before termination"
    );
    assert!(
        grey.is_empty(),
        "a grey object was published after termination"
    );
    assert_eq!(
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell (module docs).
        buffer.0.with(|len| unsafe { *len }),
        0,
        "a grey object was left in a mutator's buffer after termination"
    );
}

/// **Mark termination against shades held in a mutator's buffer** (per-thread work
/// buffers, `collector/work.rs`). The mutator shades two objects in two barrier ops; the
/// first push may sit in its buffer (flush mode off) while the collector's workers find
/// nothing to do. Property: every object a barrier shaded while the phase was `Mark` is
/// drained before the phase becomes `Sweep`, nothing is left in the buffer or the global
/// list, and the collector's reads of the buffer never race with the mutator's pushes.
#[test]
fn termination_vs_buffered_shade() {
    model(|| buffered_shade_vs_termination(true));
}

/// Control for model 7: a termination that checks only the global list ends marking with
/// a shaded object still in the mutator's buffer. Must keep failing (shows the model can
/// see the bug it guards against).
#[test]
#[should_panic]
fn control_termination_ignoring_buffers_fails() {
    model(|| buffered_shade_vs_termination(false));
}

// ===== Model 8 =============================================================================

/// The phase word (`collector/phase.rs`): `generation << 2 | phase`, every `set_phase`
/// bumps the generation. Only the collector thread stores it.
struct PhaseWordModel {
    word: AtomicU64,
    /// `phase::GENERATION` (collector only).
    generation: AtomicU64,
}

impl PhaseWordModel {
    fn new() -> PhaseWordModel {
        let p = PhaseWordModel {
            word: AtomicU64::new(OFF as u64),
            generation: AtomicU64::new(0),
        };
        p.word.store(OFF as u64, SeqCst);
        p.generation.store(0, SeqCst);
        p
    }
    /// `phase::set_phase`.
    fn set(&self, phase: u8) {
        let generation = self.generation.load(Relaxed) + 1;
        self.generation.store(generation, Relaxed);
        self.word.store(generation << 2 | phase as u64, SeqCst);
    }
    /// `phase::phase_word` / `phase::phase_in_op`: `load(Relaxed)`.
    fn load(&self) -> u64 {
        self.word.load(Relaxed)
    }
}

/// What became of the object of model 8.
struct Fate {
    /// The value (drop glue writes it; the mutator's last use reads it).
    value: UnsafeCell<u32>,
    /// The mutator thread's zero buffer (`ThreadCache::zero`): entries for the object.
    buffer: UnsafeCell<u32>,
    /// `thread_cache::ZERO_QUEUE`.
    queue: loom::sync::Mutex<u32>,
    /// Times the drain freed it (`reclaim::drain`).
    drained: AtomicU32,
    /// Times a cycle's sweep freed it (`sweep::sweep`).
    swept: AtomicU32,
}

/// `reclaim::drain` on the collector thread (between cycles): take the global queue, run
/// the drop glue of each object, free it.
fn drain_queue(fate: &Fate) {
    let taken = core::mem::replace(&mut *fate.queue.lock().unwrap(), 0);
    for _ in 0..taken {
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell (module docs).
        fate.value.with_mut(|v| unsafe { *v = 0 }); // drop glue
        fate.drained.fetch_add(1, Relaxed);
    }
}

/// The body of model 8. `phase_word_check: false` is the first attempt's check (the op
/// queues whenever it sees `Off`).
fn count_zero_vs_cycle_body(phase_word_check: bool) {
    let phase = Arc::new(PhaseWordModel::new());
    let sp = Arc::new(Safepoint::new(Acquire));
    let object = Arc::new(Object::new(1, 0));
    let fate = Arc::new(Fate {
        value: UnsafeCell::new(7),
        buffer: UnsafeCell::new(0),
        queue: loom::sync::Mutex::new(0),
        drained: AtomicU32::new(0),
        swept: AtomicU32::new(0),
    });
    fate.drained.store(0, SeqCst);
    fate.swept.store(0, SeqCst);

    let mutator = {
        let (phase, sp, object, fate) = (phase.clone(), sp.clone(), object.clone(), fate.clone());
        thread::spawn(move || {
            // The handle's last use of the value.
            // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
            // other access to the cell (module docs).
            fate.value.with(|v| assert_eq!(unsafe { *v }, 7));
            // `Gc::drop`: `let before = phase_word();`
            let before = phase.load();
            // `if handles.fetch_sub(1, Release) == 1 { count_reached_zero(.., before) }`
            if object.handles.fetch_sub(1, Release) == 1 {
                // `count_reached_zero`: `fence(Acquire); let op = enter_op();`
                fence(Acquire);
                sp.enter_op();
                let now = phase.load();
                let queue = if phase_word_check {
                    // `before.phase() == Off && phase_word() == before`
                    before & 3 == OFF as u64 && now == before
                } else {
                    // The first attempt: `phase_in_op() == Off`.
                    now & 3 == OFF as u64
                };
                if queue {
                    // `op.push_zero(object)`, then the buffer goes to the global queue
                    // (`publish_zero`: when full, or at thread exit), still in the op.
                    // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
                    // other access to the cell (module docs).
                    let entries = fate.buffer.with_mut(|b| unsafe {
                        *b += 1;
                        core::mem::replace(&mut *b, 0)
                    });
                    *fate.queue.lock().unwrap() += entries;
                }
                sp.exit_op();
            }
        })
    };

    // The collector thread: one cycle (`cycle::run_cycle`), then a drain.
    // 2. `stop_the_world(); discard_zero_queues(); set_phase(Mark); drop(world)`.
    sp.stop_the_world();
    // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
    // other access to the cell (module docs).
    fate.buffer.with_mut(|b| unsafe { *b = 0 });
    *fate.queue.lock().unwrap() = 0;
    phase.set(MARK);
    sp.start_the_world();
    // 3. The roots pass (`mark::shade_roots`): `handles.load(SeqCst) > internal` makes it a
    //    root. The mutator never clones, so nothing else can shade it: a zero count means
    //    unmarked, so the sweep frees it.
    let dead = object.handles.load(SeqCst) == 0;
    // 4. Mark termination: `stop_the_world(); set_phase(Sweep); restart`.
    sp.stop_the_world();
    phase.set(SWEEP);
    sp.start_the_world();
    // 5. The sweep: drop glue and free of every unmarked object; then `set_phase(Off)`.
    if dead {
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell (module docs).
        fate.value.with_mut(|v| unsafe { *v = 0 });
        fate.swept.fetch_add(1, Relaxed);
    }
    phase.set(OFF);
    // Between cycles: the drain.
    drain_queue(&fate);

    mutator.join().unwrap();
    // The collector's next drain (the mutator may have queued after the first one).
    drain_queue(&fate);

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
        assert_eq!(*fate.queue.lock().unwrap(), 0);
        // SAFETY: a loom `UnsafeCell` access; loom checks that it is ordered with every
        // other access to the cell (module docs).
        assert_eq!(fate.buffer.with(|b| unsafe { *b }), 0);
    }
}

/// **A count reaching zero vs a whole cycle** (prompt reclamation, `collector/reclaim.rs`).
/// The mutator drops the last handle: phase word, decrement outside any op, then an op that
/// queues the object only if the phase word is the same `Off` as before the decrement. The
/// collector runs a cycle (a stopped world that discards the queues and sets `Mark`; the
/// roots pass; termination; the sweep, which frees the object if the roots pass read a
/// zero count; `Off`) and then drains the queue. Property: the object is freed by the drain
/// or by the sweep, never both, and if by neither it is left to the next cycle (count zero,
/// in no queue); the drop glue never races with the mutator's last use of the value, and
/// the zero buffer is never touched by the op and the stopped world at once.
#[test]
fn count_zero_vs_cycle() {
    model(|| count_zero_vs_cycle_body(true));
}

/// The first attempt's check (`phase_in_op() == Off` in the op, nothing read before the
/// decrement), which tests/torture.rs caught freeing objects twice. Interleaving: the
/// mutator decrements to zero and is preempted; the whole cycle runs (its roots pass reads
/// zero, its sweep frees the object, the phase is `Off` again); the mutator's op sees `Off`
/// and queues the object; the drain frees it a second time (in the library: drops a freed
/// value, or frees whatever reused its slot). Must keep failing.
#[test]
#[should_panic]
fn count_zero_vs_cycle_phase_only() {
    model(|| count_zero_vs_cycle_body(false));
}
