//! The collector's phase and the mutator-side barrier entry points.
//!
//! # Phases (Go's `gcphase`)
//! - `Off`: no cycle. Barriers cost one load and a predictable branch.
//! - `Mark`: counting, roots and marking run concurrently; barriers shade; new objects are
//!   allocated black.
//! - `Sweep`: marking has terminated; the sweeper frees what is unmarked. Barriers are off
//!   and new objects are white (they live in swept spans only).
//!
//! Changes: `Off -> Mark` happens in the stopped world that starts a cycle (it also
//! discards the count-zero queues, `reclaim/`); `Mark -> Sweep` happens in the
//! stopped world of mark termination; `Sweep -> Off` when the sweeper is done (nothing
//! depends on mutators seeing it promptly).
//!
//! # Memory ordering
//! (1) The barrier site outside ops (`Gc::clone`) does a `SeqCst` read-modify-write of the
//!     handle count, then loads the phase with `SeqCst`; the collector stores the phase
//!     with `SeqCst` and later reads counts with `SeqCst`. So either the clone sees `Mark`
//!     and shades, or the roots pass's read sees the new count. On x86 both sides are the
//!     instructions they would be anyway (`lock xadd` and a plain `mov`).
//!     (`GcCell::borrow_mut` runs its flag and barrier inside an op instead; gc_cell/mod.rs.)
//! (2) Inside an op the phase is loaded `Relaxed`: the op protocol (heap `safepoint.rs`,
//!     fact 1) already orders it after the collector's store.
//! (3) The phase word also counts phase changes (a generation), for `Gc::drop`, which reads
//!     it (`Relaxed`) before its decrement and again inside the op that may queue the
//!     object for prompt reclamation (`reclaim/`): equal words mean no cycle started or
//!     ended in between as far as that object's fate is concerned. A cycle that frees the
//!     object read its zero count (SeqCst) from the Release decrement, so the word read
//!     before the decrement happens-before the cycle's later stores and is older than
//!     them; the op's read, after the starting stop of any cycle it does not overlap, sees
//!     at least that cycle's `Mark` word.
//!
//! # The cell
//! The word and the collector's generation counter live in a [`PhaseCell`], whose methods
//! are the loads and the store above. The process has one (`PHASE`, behind the free
//! functions the barrier sites call, so a read is one load from a static's address); the
//! loom models (`gc-core/tests/loom_protocol.rs`) build their own per execution.

use crate::sync::{const_fn_unless_loom, AtomicU64, Ordering};

/// The collector's phase. See the module docs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    Off = 0,
    Mark = 1,
    Sweep = 2,
}

/// The process's phase word.
#[cfg(not(tricolor_loom))]
static PHASE: PhaseCell = PhaseCell::new();

fn decode(raw: u64) -> Phase {
    match raw & 3 {
        0 => Phase::Off,
        1 => Phase::Mark,
        2 => Phase::Sweep,
        _ => unreachable!("tricolor-gc: corrupt collector phase {raw:#x}"),
    }
}

/// The phase word and its generation counter (module docs).
pub(crate) struct PhaseCell {
    /// `generation << 2 | phase`. Every [`PhaseCell::set`] bumps the generation, so two
    /// equal words read at two moments mean "no phase change in between" (`PhaseWord`).
    word: AtomicU64,
    /// The collector's copy of the generation (only the collector thread sets phases).
    generation: AtomicU64,
    /// Loom controls only: the ordering of [`PhaseCell::seqcst`]'s load. `SeqCst`, as
    /// shipped; [`PhaseCell::with_acquire_barrier_load`] weakens it to `Acquire` (fact 1
    /// removed) so that a control model shows the rule is needed.
    #[cfg(tricolor_loom)]
    barrier_load: Ordering,
}

impl PhaseCell {
    const_fn_unless_loom! {
        /// Phase `Off`, generation 0.
        pub(crate) fn new() -> PhaseCell {
            PhaseCell {
                word: AtomicU64::new(Phase::Off as u64),
                generation: AtomicU64::new(0),
                #[cfg(tricolor_loom)]
                barrier_load: Ordering::SeqCst,
            }
        }
    }

    /// Loom controls only: [`PhaseCell::new`] with an `Acquire` load in
    /// [`PhaseCell::seqcst`] (fact 1 removed).
    #[cfg(tricolor_loom)]
    pub(crate) fn with_acquire_barrier_load() -> PhaseCell {
        PhaseCell {
            barrier_load: Ordering::Acquire,
            ..PhaseCell::new()
        }
    }

    /// The phase, for a barrier site outside an op (fact 1).
    #[inline(always)]
    pub(crate) fn seqcst(&self) -> Phase {
        #[cfg(tricolor_loom)]
        let order = self.barrier_load;
        #[cfg(not(tricolor_loom))]
        let order = Ordering::SeqCst;
        decode(self.word.load(order))
    }

    /// The phase, inside an op (fact 2).
    #[inline(always)]
    pub(crate) fn in_op(&self) -> Phase {
        decode(self.word.load(Ordering::Relaxed))
    }

    /// The phase word, anywhere (see fact 3 for what it may be compared with).
    #[inline(always)]
    pub(crate) fn word(&self) -> PhaseWord {
        PhaseWord(self.word.load(Ordering::Relaxed))
    }

    /// Sets the phase (collector only), bumping the generation. Callers hold a stopped
    /// world or end a cycle, as the module docs say.
    pub(crate) fn set(&self, phase: Phase) {
        // Relaxed: only the collector thread writes the generation.
        let generation = self.generation.load(Ordering::Relaxed) + 1;
        self.generation.store(generation, Ordering::Relaxed);
        // SeqCst: fact (1), with the barrier sites' SeqCst loads.
        self.word
            .store(generation << 2 | phase as u64, Ordering::SeqCst);
    }
}

/// A phase together with the number of phase changes before it: equal words read at two
/// moments prove that no phase change (so no cycle start or end) fell between the two
/// reads, as far as those reads can tell (fact 3).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct PhaseWord(u64);

impl PhaseWord {
    /// The phase part.
    #[inline]
    pub(crate) fn phase(self) -> Phase {
        decode(self.0)
    }
}

/// The process's phase cell (for code generic over the cell, `reclaim/queue.rs`).
#[cfg(not(tricolor_loom))]
#[inline(always)]
pub(crate) fn phase_cell() -> &'static PhaseCell {
    &PHASE
}

/// The phase, for a barrier site outside an op (fact 1).
#[cfg(not(tricolor_loom))]
#[inline(always)]
pub(crate) fn phase_seqcst() -> Phase {
    PHASE.seqcst()
}

/// The phase, inside an op (fact 2).
#[cfg(not(tricolor_loom))]
#[inline(always)]
pub(crate) fn phase_in_op() -> Phase {
    PHASE.in_op()
}

/// The phase word, anywhere (see fact 3 for what it may be compared with).
#[cfg(not(tricolor_loom))]
#[inline(always)]
pub(crate) fn phase_word() -> PhaseWord {
    PHASE.word()
}

/// Sets the phase (collector only), bumping the generation. Callers hold a stopped world
/// or end a cycle, as the module docs say.
#[cfg(not(tricolor_loom))]
pub(crate) fn set_phase(phase: Phase) {
    PHASE.set(phase);
}
