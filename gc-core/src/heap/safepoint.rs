//! Safepoints: how the collector and the mutator threads agree on phase changes without
//! stopping threads that are not inside the library (Go's ragged barriers and STWs), and the
//! per-thread buffers the collector takes from them.
//!
//! # What this module owns
//! - [`Safepoint`]: the process-wide half of the protocol: `STOP`, the fence mode, and where
//!   ops that found the world stopped wait. One instance, `SAFEPOINT`.
//! - [`Mutator`]: one thread's half: its `op_seq`, its buffer of grey objects
//!   (`collector/work.rs`) and a slot for its count-zero buffer, which this module stores
//!   and hands out without reading it (`reclaim::ThreadBuffer`, `reclaim/queue.rs`).
//!   Embedded in the thread's `ThreadCache`.
//! - [`InOp`]: what code must hold to touch a mutator's buffers: an op on it (heap `Op`).
//! - [`Stopped`]: a stopped world, the collector's right to every mutator's buffers.
//!
//! The thread registry, the caches and `Op` are in `thread_cache.rs`; this module holds the
//! protocol's state and logic so that the loom models (`gc-core/tests/loom_protocol.rs`)
//! run it: under `--cfg tricolor_loom` it compiles without the rest of the heap (`lib.rs`)
//! and a model builds its own `Safepoint` and `Mutator`s (and `reclaim::ZeroQueue`) per
//! execution.
//!
//! # The protocol
//! Every access a mutator thread makes to collector-visible state (its thread cache, mark
//! bits, its buffers, the collector's phase) happens inside an *op* (`thread_cache::Op`,
//! [`Safepoint::enter`]): the thread bumps its `op_seq` to an odd value on entry and back to
//! even on exit ([`Mutator::exit`]), with plain stores. Between ops, and while it runs user
//! code, a thread is at a safepoint: the collector never waits for it.
//!
//! - A **stopped world** ([`Safepoint::stop`], `thread_cache::stop_the_world`): the
//!   collector sets `STOP`, executes `collector_fence`, and waits until no op is in flight
//!   (odd `op_seq`); new ops wait at entry until it ends (dropping the [`Stopped`]).
//!   Whatever the collector changes meanwhile (the phase, the sweep generation, the threads'
//!   caches and buffers) every later op sees. Its cost depends on the number of threads and
//!   how long an op lasts, never on the heap's size. A cycle uses two: at its start (it
//!   discards the count-zero queues, so it needs the exclusion, not just a ragged
//!   handshake) and at mark termination.
//! - Ops never nest: an inner op's exit would make `op_seq` even while the outer op still
//!   runs, letting a stopped world proceed under it. [`Safepoint::enter`] aborts on one.
//! - A thread's buffers are touched only inside its own ops ([`InOp`]) or by the collector
//!   in a stopped world ([`Stopped`]); facts (1)-(3) make those two exclude each other.
//!
//! # Memory ordering
//! (1) Dekker between an op's entry and the collector: the mutator stores `op_seq` (odd)
//!     then loads `STOP` / the phase; the collector stores `STOP` / the phase then loads
//!     `op_seq`. Either the mutator sees the new value, or the collector sees the op in
//!     flight and waits for it. The store->load order needs a full barrier on *both*
//!     sides. The mutator side is only a compiler fence: the collector's
//!     `collector_fence` runs `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which makes
//!     every running thread of the process execute a full barrier (an asymmetric fence,
//!     as in userspace RCU and Folly). Where the kernel lacks it (`init` fails to
//!     register), `mutator_fence` becomes a real `SeqCst` fence instead. Setting
//!     `TRICOLOR_NO_MEMBARRIER` (any value) forces that fallback, so tests cover it. The
//!     loom build always uses the fallback: loom cannot express an asymmetric fence, and
//!     the symmetric pair is its exact abstraction (membarrier returns only after every
//!     running thread executed a full barrier during the call, and a descheduled one has
//!     one in its context switch, so every execution equals one with a `SeqCst` fence at
//!     the mutator's current program point; the compiler fence keeps the `op_seq` store
//!     and the loads on their sides of it).
//! (2) An op's exit stores `op_seq` with Release; the collector loads it with Acquire, so
//!     all the op did (mark bits, buffer pushes, cache updates) is visible to a collector
//!     that saw the op end.
//! (3) In a stopped world, threads' caches and buffers belong to the collector: ops are
//!     excluded by `STOP` (fact 1), and the release of `STOP` (Release store under the wait
//!     lock) hands them back: an op loads `STOP` with Acquire at entry (and in
//!     `wait_while_stopped`), so an op that starts after the restart sees everything the
//!     collector did in the stopped world. (With a `Relaxed` entry load it would not: the
//!     loom model `op_bracket_vs_stop_the_world_restart` finds the stale phase and the race
//!     with `flush_caches`.)
//! (4) A thread's count-zero buffer goes to the reclaim module's global queue under its
//!     mutex, inside an op; the drain takes it under the same mutex, so the enqueuing op
//!     happens-before the drain (`reclaim/queue.rs`, which adds the Acquire fence that
//!     orders every other handle's uses before the enqueuing op).
//! (5) Switching from membarrier to fences (`fence_choice.rs` decides when;
//!     [`Stopped::switch_to_fences`]) happens in a stopped world whose stopper holds the
//!     registry and orphan locks: it stores `fallback_fence = true`, runs one more
//!     membarrier, and only then stops running membarrier in its own fence. Take any op
//!     entry E after it and a later stop S that runs no membarrier. If E's load of
//!     `fallback_fence` comes after the barrier that the switch's membarrier put in E's
//!     thread, it reads true (the store precedes that barrier) and E fences for real: the
//!     symmetric pair of (1). If it comes before, so does E's `op_seq` store, and S's fence
//!     comes after that barrier, so S's `op_seq` load sees E in flight (or its end) and
//!     waits: (1) still holds. E cannot have passed its `STOP` check in between: the
//!     world was stopped then (E saw `STOP` by (1) with membarrier, and waits at entry to
//!     retry after the restart, which it synchronises with). A thread created after the
//!     membarrier had no barrier from it, but it takes the registry lock before its first
//!     op, after the stopper released it, so it reads true; ops of the orphan cache run
//!     under its lock, the same way. The switch is one way: fences never slow a stop.

#[cfg(not(tricolor_loom))]
use std::sync::OnceLock;
use std::time::Duration;
#[cfg(not(tricolor_loom))]
use std::time::Instant;

#[cfg(not(tricolor_loom))]
use crate::os;
use crate::reclaim::{BufferAge, ThreadBuffer};
use crate::sync::{
    compiler_fence, const_fn_unless_loom, fence, spin_loop, yield_now, AtomicBool, AtomicU64,
    Condvar, Mutex, Ordering, UnsafeCell,
};

/// The process's safepoint.
#[cfg(not(tricolor_loom))]
pub(crate) static SAFEPOINT: Safepoint = Safepoint::new();

/// Set once the fence mode was first chosen (`init`).
#[cfg(not(tricolor_loom))]
static INIT: OnceLock<()> = OnceLock::new();

/// Chooses the fence mode once, before any thread can enter an op (every op entry goes
/// through a cache, and installing a cache calls this first).
#[cfg(not(tricolor_loom))]
pub(crate) fn init() {
    INIT.get_or_init(|| {
        let expedited =
            std::env::var_os("TRICOLOR_NO_MEMBARRIER").is_none() && os::membarrier_register();
        // Relaxed: published to other threads by the OnceLock / the registry lock that
        // every thread takes before its first op.
        SAFEPOINT
            .fallback_fence
            .store(!expedited, Ordering::Relaxed);
        SAFEPOINT.membarrier.store(expedited, Ordering::Relaxed);
    });
}

/// The process-wide half of the protocol (module docs).
pub(crate) struct Safepoint {
    /// Set while the world is stopped: ops wait at entry. Written by the stopping thread
    /// only (facts 1 and 3).
    stop: AtomicBool,
    /// True when mutators fence for real: the kernel offers no expedited membarrier, or
    /// the collector switched to fences (fact 5). Set by `init` before any op (always true
    /// under loom), and from false to true at most once more, in a stopped world.
    fallback_fence: AtomicBool,
    /// True while the collector's fence runs membarrier: `!fallback_fence`, except while a
    /// switch to fences is under way. Read and written by `init` and the stopping thread.
    #[cfg(not(tricolor_loom))]
    membarrier: AtomicBool,
    /// Ops that found `stop` set park here until the restart.
    wait: Mutex<()>,
    /// Signalled by the restart, under `wait`.
    done: Condvar,
    /// Loom controls only: the ordering of the `stop` load at op entry. `Acquire`, as
    /// shipped; [`Safepoint::with_relaxed_stop_load`] makes it `Relaxed` (the protocol
    /// before fact 3's fix) so that a control model shows the rule is needed.
    #[cfg(tricolor_loom)]
    stop_load: Ordering,
    /// Loom controls only: whether op entry runs the mutator fence (fact 1). True, as
    /// shipped; [`Safepoint::without_mutator_fence`] drops it for a control model.
    #[cfg(tricolor_loom)]
    mutator_fence: bool,
}

impl Safepoint {
    const_fn_unless_loom! {
        /// A safepoint with the world running. Mutators use compiler fences until `init`
        /// says otherwise (normal build) or real ones (loom).
        pub(crate) fn new() -> Safepoint {
            Safepoint {
                stop: AtomicBool::new(false),
                fallback_fence: AtomicBool::new(cfg!(tricolor_loom)),
                #[cfg(not(tricolor_loom))]
                membarrier: AtomicBool::new(false),
                wait: Mutex::new(()),
                done: Condvar::new(),
                #[cfg(tricolor_loom)]
                stop_load: Ordering::Acquire,
                #[cfg(tricolor_loom)]
                mutator_fence: true,
            }
        }
    }

    /// Loom controls only: [`Safepoint::new`], except that op entry loads `STOP` with
    /// `Relaxed` (fact 3 removed).
    #[cfg(tricolor_loom)]
    pub(crate) fn with_relaxed_stop_load() -> Safepoint {
        Safepoint {
            stop_load: Ordering::Relaxed,
            ..Safepoint::new()
        }
    }

    /// Loom controls only: [`Safepoint::new`], except that op entry runs no fence between
    /// its `op_seq` store and its loads (fact 1 removed).
    #[cfg(tricolor_loom)]
    pub(crate) fn without_mutator_fence() -> Safepoint {
        Safepoint {
            mutator_fence: false,
            ..Safepoint::new()
        }
    }

    /// The ordering of the `STOP` load at op entry (fact 3).
    #[inline(always)]
    fn stop_load(&self) -> Ordering {
        #[cfg(tricolor_loom)]
        {
            self.stop_load
        }
        #[cfg(not(tricolor_loom))]
        {
            Ordering::Acquire
        }
    }

    /// The mutator's half of fact (1), after storing an odd `op_seq`.
    #[inline(always)]
    fn mutator_fence(&self) {
        #[cfg(tricolor_loom)]
        if !self.mutator_fence {
            return;
        }
        // Relaxed: set once before any thread enters an op (`init`).
        if self.fallback_fence.load(Ordering::Relaxed) {
            fence(Ordering::SeqCst);
        } else {
            compiler_fence(Ordering::SeqCst);
        }
    }

    /// Whether the collector's fence runs membarrier (false: mutators fence for real).
    #[cfg(not(tricolor_loom))]
    pub(crate) fn expedited(&self) -> bool {
        // Relaxed: written only by `init` (before any stop) and by the stopping thread.
        self.membarrier.load(Ordering::Relaxed)
    }

    /// The collector's half of fact (1), after storing `STOP` or the phase. Returns how
    /// long the membarrier took, if it ran one (`fence_choice.rs` times them).
    fn collector_fence(&self) -> Option<Duration> {
        fence(Ordering::SeqCst);
        #[cfg(not(tricolor_loom))]
        if self.expedited() {
            let started = Instant::now();
            if !os::membarrier() {
                // Registration succeeded, so this cannot fail on a sane kernel; if it
                // does, the mutators (running on compiler fences) would be unordered:
                // refuse to continue.
                panic!("tricolor-gc: membarrier failed after successful registration");
            }
            return Some(started.elapsed());
        }
        None
    }

    /// Enters an op on `mutator`, waiting while the world is stopped (`Op::enter_with`).
    ///
    /// Only `mutator`'s own thread enters ops on it (its `op_seq` has one writer), and
    /// never inside an op on it: a nested entry aborts the process.
    #[inline(always)]
    pub(crate) fn enter(&self, mutator: &Mutator) {
        let seq_cell = &mutator.op_seq;
        loop {
            let seq = seq_cell.load(Ordering::Relaxed);
            if seq % 2 != 0 {
                nested_op();
            }
            // Relaxed + the mutator fence: the store must be visible before the STOP and
            // phase loads below; fact (1).
            seq_cell.store(seq + 1, Ordering::Relaxed);
            self.mutator_fence();
            // Acquire: pairs with the Release that ends a stopped world, so an op that
            // starts after it sees everything the collector did in it (fact 3; checked by
            // the loom model `op_bracket_vs_stop_the_world_restart_fixed`, whose `Relaxed`
            // twin `op_bracket_vs_stop_the_world_restart` fails).
            if !self.stop.load(self.stop_load()) {
                return;
            }
            seq_cell.store(seq + 2, Ordering::Release);
            self.wait_while_stopped();
        }
    }

    #[cold]
    fn wait_while_stopped(&self) {
        let mut guard = self.wait.lock();
        // Acquire: pairs with the restart's Release store (fact 3).
        while self.stop.load(Ordering::Acquire) {
            self.done.wait(&mut guard);
        }
    }

    /// Stops the world: sets `STOP`, runs the collector's fence, then waits until no op is
    /// in flight on any mutator that `mutators` returns. `mutators` runs after the fence,
    /// so a thread it does not return registered after `STOP` was set and its ops wait at
    /// entry. Only one thread stops the world at a time (the collector thread).
    pub(crate) fn stop<'m, I>(&self, mutators: impl FnOnce() -> I) -> Stopped<'_>
    where
        I: IntoIterator<Item = &'m Mutator>,
    {
        // SeqCst store + fence, then membarrier: pairs with the mutator fence in `enter`;
        // fact (1).
        self.stop.store(true, Ordering::SeqCst);
        let membarrier_time = self.collector_fence();
        for mutator in mutators() {
            // Acquire: pairs with the Release of the op's exit (fact 2).
            wait_until(|| mutator.op_seq.load(Ordering::Acquire) % 2 == 0);
        }
        Stopped {
            safepoint: self,
            membarrier_time,
        }
    }

    /// Ends a stopped world (`Stopped::drop`).
    fn restart(&self) {
        let _wait = self.wait.lock();
        // Release: the collector's work in the stopped world happens-before any op that
        // starts after it (they load STOP with Acquire in `enter` or `wait_while_stopped`,
        // fact 3).
        self.stop.store(false, Ordering::Release);
        self.done.notify_all();
    }
}

/// An op entered inside another op on the same thread. Its exit would make `op_seq` even
/// while the outer op still runs, so a stopped world could proceed under the outer op
/// (and, say, flush the cache it is allocating from). A bug in the crate: abort.
#[cold]
#[inline(never)]
fn nested_op() -> ! {
    eprintln!("tricolor-gc: a mutator op was entered inside another op on the same thread");
    std::process::abort();
}

/// Spins, then yields, until `done()` holds.
pub(crate) fn wait_until(mut done: impl FnMut() -> bool) {
    let mut spins = 0u32;
    while !done() {
        if spins < 64 {
            spin_loop();
        } else {
            yield_now();
        }
        spins = spins.saturating_add(1);
    }
}

/// One mutator thread's half of the protocol (module docs).
pub(crate) struct Mutator {
    /// Odd while the owning thread is inside an op. Written only by the owner with plain
    /// stores; read by the collector (facts 1 and 2).
    op_seq: AtomicU64,
    /// Grey objects this thread's write barriers shaded, not yet handed to the collector
    /// (its policy is in `collector/work.rs`). Touched only inside this thread's ops
    /// ([`InOp::with_mark_buffer`]) or in a stopped world ([`Stopped::take_mark_buffers`]).
    mark_buffer: UnsafeCell<Vec<usize>>,
    /// The reclaim module's buffer of objects whose count this thread took to zero
    /// (`reclaim/queue.rs`); this module only stores it. Touched only inside this thread's
    /// ops ([`InOp::with_reclaim_buffer`]) or in a stopped world
    /// ([`Stopped::for_each_reclaim_buffer`]).
    reclaim: UnsafeCell<ThreadBuffer>,
    /// The reclaim module's shared word about that buffer (how long it has held objects,
    /// `reclaim/queue.rs`), which the collector reads at any time; this module only
    /// stores it and passes it along with the buffer.
    reclaim_age: BufferAge,
}

impl core::fmt::Debug for Mutator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mutator")
            // Relaxed: a diagnostic snapshot.
            .field("op_seq", &self.op_seq.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

// SAFETY: `op_seq` is atomic; the buffers are reached only through `InOp` (an unsafe trait
// whose implementors hold an op on this mutator) or `Stopped`'s unsafe methods (a stopped
// world that covers this mutator), which exclude each other (facts 1-3). So sharing a
// `&Mutator` between threads races on nothing.
unsafe impl Sync for Mutator {}

impl Mutator {
    const_fn_unless_loom! {
        /// A thread's state before its first op: no op in flight, empty buffers.
        pub(crate) fn new() -> Mutator {
            Mutator {
                op_seq: AtomicU64::new(0),
                mark_buffer: UnsafeCell::new(Vec::new()),
                reclaim: UnsafeCell::new(ThreadBuffer::new()),
                reclaim_age: BufferAge::new(),
            }
        }
    }

    /// Ends the op this thread entered on `self` (`impl Drop for Op`).
    #[inline(always)]
    pub(crate) fn exit(&self) {
        let seq = self.op_seq.load(Ordering::Relaxed);
        // Release: everything the op did happens-before a collector that sees the op
        // ended (it loads `op_seq` with Acquire); fact (2).
        self.op_seq.store(seq + 1, Ordering::Release);
    }

    /// The reclaim module's shared word about this thread's count-zero buffer (readable
    /// without an op: its fields are atomic).
    pub(crate) fn reclaim_age(&self) -> &BufferAge {
        &self.reclaim_age
    }

    /// Whether an op is in flight on `self` (Acquire, as the stopping thread reads it).
    pub(crate) fn in_op(&self) -> bool {
        // Acquire: fact (2).
        self.op_seq.load(Ordering::Acquire) % 2 != 0
    }
}

/// An op in flight on one mutator: the right to touch that mutator's buffers.
///
/// # Safety
/// While a value of the implementing type lives, the thread holding it is inside an op on
/// [`InOp::mutator`], entered through [`Safepoint::enter`] on that mutator's own thread
/// (and not yet exited), or it holds the lock that serialises every use of a mutator on
/// which no op ever runs (the orphan cache). The value is not sent to another thread.
pub(crate) unsafe trait InOp {
    /// The mutator this op runs on.
    fn mutator(&self) -> &Mutator;

    /// Runs `f` on this thread's buffer of grey objects (`collector/work.rs`). `f` must
    /// not reach the same buffer again (crate code: it pushes or hands the buffer over).
    #[inline(always)]
    fn with_mark_buffer<R>(&self, f: impl FnOnce(&mut Vec<usize>) -> R) -> R {
        self.mutator().mark_buffer.with_mut(|buffer| {
            // SAFETY: inside an op on this mutator (the trait's contract), so no stopped
            // world holds the buffer (facts 1-3) and no other thread enters an op on it;
            // `f` does not reach it again, so this is the only reference.
            f(unsafe { &mut *buffer })
        })
    }

    /// Runs `f` on this thread's count-zero buffer (`reclaim/queue.rs`); as
    /// `with_mark_buffer`.
    #[inline(always)]
    fn with_reclaim_buffer<R>(&self, f: impl FnOnce(&mut ThreadBuffer, &BufferAge) -> R) -> R {
        let mutator = self.mutator();
        mutator.reclaim.with_mut(|buffer| {
            // SAFETY: as in `with_mark_buffer`.
            f(unsafe { &mut *buffer }, &mutator.reclaim_age)
        })
    }
}

/// A stopped world: no op is in flight on the mutators that [`Safepoint::stop`] waited for,
/// and none can start until this is dropped, which restarts the world (fact 3).
#[must_use = "dropping a Stopped restarts the world"]
pub(crate) struct Stopped<'s> {
    safepoint: &'s Safepoint,
    /// How long this stop's membarrier took (None: fences, no membarrier ran).
    membarrier_time: Option<Duration>,
}

impl core::fmt::Debug for Stopped<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Stopped")
    }
}

impl Stopped<'_> {
    /// How long this stop's membarrier took; `None` when the process uses fences.
    pub(crate) fn membarrier_time(&self) -> Option<Duration> {
        self.membarrier_time
    }

    /// Switches the process from membarrier to real fences at every op entry, for good
    /// (fact 5). Does nothing if it already uses fences.
    ///
    /// # Safety
    /// The caller holds the lock that every thread takes between creating its mutator and
    /// its first op (the thread registry's), and the lock that serialises ops without a
    /// thread of their own (the orphan cache's), until after this stop ends.
    #[cfg(not(tricolor_loom))]
    pub(crate) unsafe fn switch_to_fences(&mut self) {
        let safepoint = self.safepoint;
        if !safepoint.expedited() {
            return;
        }
        // Relaxed + the membarrier below (or the caller's locks): fact (5).
        safepoint.fallback_fence.store(true, Ordering::Relaxed);
        safepoint.collector_fence();
        safepoint.membarrier.store(false, Ordering::Relaxed);
    }

    /// Takes every non-empty buffer of grey objects of `mutators` and passes it to `sink`;
    /// returns how many there were (Go's `wbBufFlush` + `gcw.dispose` at mark termination).
    ///
    /// # Safety
    /// Each of `mutators` is covered by this stop: [`Safepoint::stop`] waited for it, or it
    /// registered after the stop began (its ops wait at entry), or no op ever runs on it and
    /// the caller holds the lock that serialises its users (the orphan cache).
    pub(crate) unsafe fn take_mark_buffers<'m>(
        &mut self,
        mutators: impl IntoIterator<Item = &'m Mutator>,
        mut sink: impl FnMut(Vec<usize>),
    ) -> usize {
        let mut taken = 0;
        for mutator in mutators {
            let buffer = mutator.mark_buffer.with_mut(|buffer| {
                // SAFETY: no op runs on `mutator` while the world is stopped (the caller's
                // contract, fact 3), and only the stopping thread holds a `Stopped`.
                let buffer = unsafe { &mut *buffer };
                (!buffer.is_empty()).then(|| core::mem::take(buffer))
            });
            if let Some(buffer) = buffer {
                sink(buffer);
                taken += 1;
            }
        }
        taken
    }

    /// Passes the count-zero buffer (`reclaim/queue.rs`) of each of `mutators`, with its
    /// shared word, to `f` (the cycle's starting stop discards them,
    /// `ZeroQueue::discard_all`; the collector's idle poll publishes stale ones,
    /// `ZeroQueue::publish_all`).
    ///
    /// # Safety
    /// As [`Stopped::take_mark_buffers`].
    pub(crate) unsafe fn for_each_reclaim_buffer<'m>(
        &mut self,
        mutators: impl IntoIterator<Item = &'m Mutator>,
        mut f: impl FnMut(&mut ThreadBuffer, &BufferAge),
    ) {
        for mutator in mutators {
            mutator.reclaim.with_mut(|buffer| {
                // SAFETY: as in `take_mark_buffers`.
                f(unsafe { &mut *buffer }, &mutator.reclaim_age)
            });
        }
    }
}

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.safepoint.restart();
    }
}
