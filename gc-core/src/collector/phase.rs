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
//! discards the count-zero queues, `reclaim.rs`); `Mark -> Sweep` happens in the
//! stopped world of mark termination; `Sweep -> Off` when the sweeper is done (nothing
//! depends on mutators seeing it promptly).
//!
//! # Memory ordering
//! (1) The barrier site outside ops (`Gc::clone`) does a `SeqCst` read-modify-write of the
//!     handle count, then loads the phase with `SeqCst`; the collector stores the phase
//!     with `SeqCst` and later reads counts with `SeqCst`. So either the clone sees `Mark`
//!     and shades, or the roots pass's read sees the new count. On x86 both sides are the
//!     instructions they would be anyway (`lock xadd` and a plain `mov`).
//!     (`GcCell::borrow_mut` runs its flag and barrier inside an op instead; gc_cell.rs.)
//! (2) Inside an op the phase is loaded `Relaxed`: the op protocol (heap `safepoint.rs`,
//!     fact 1) already orders it after the collector's store.
//! (3) The phase word also counts phase changes (a generation), for `Gc::drop`, which reads
//!     it (`Relaxed`) before its decrement and again inside the op that may queue the
//!     object for prompt reclamation (`reclaim.rs`): equal words mean no cycle started or
//!     ended in between as far as that object's fate is concerned. A cycle that frees the
//!     object read its zero count (SeqCst) from the Release decrement, so the word read
//!     before the decrement happens-before the cycle's later stores and is older than
//!     them; the op's read, after the starting stop of any cycle it does not overlap, sees
//!     at least that cycle's `Mark` word.

use crate::sync::{AtomicU64, Ordering};

/// The collector's phase. See the module docs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    Off = 0,
    Mark = 1,
    Sweep = 2,
}

/// The phase word: `generation << 2 | phase`. Every `set_phase` bumps the generation, so
/// two equal words read at two moments mean "no phase change in between" (`PhaseWord`).
static PHASE: AtomicU64 = AtomicU64::new(Phase::Off as u64);
/// The collector's copy of the generation (only the collector thread sets phases).
static GENERATION: AtomicU64 = AtomicU64::new(0);

fn decode(raw: u64) -> Phase {
    match raw & 3 {
        0 => Phase::Off,
        1 => Phase::Mark,
        2 => Phase::Sweep,
        _ => unreachable!("tricolor-gc: corrupt collector phase {raw:#x}"),
    }
}

/// The phase, for a barrier site outside an op (fact 1).
#[inline(always)]
pub(crate) fn phase_seqcst() -> Phase {
    decode(PHASE.load(Ordering::SeqCst))
}

/// The phase, inside an op (fact 2).
#[inline(always)]
pub(crate) fn phase_in_op() -> Phase {
    decode(PHASE.load(Ordering::Relaxed))
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

/// The phase word, anywhere (see fact 3 for what it may be compared with).
#[inline(always)]
pub(crate) fn phase_word() -> PhaseWord {
    PhaseWord(PHASE.load(Ordering::Relaxed))
}

/// Sets the phase (collector only), bumping the generation. Callers hold a stopped world
/// or end a cycle, as the module docs say.
pub(crate) fn set_phase(phase: Phase) {
    // Relaxed: only the collector thread writes GENERATION.
    let generation = GENERATION.load(Ordering::Relaxed) + 1;
    GENERATION.store(generation, Ordering::Relaxed);
    PHASE.store(generation << 2 | phase as u64, Ordering::SeqCst);
}
