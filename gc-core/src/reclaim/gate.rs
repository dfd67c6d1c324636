//! The reclaim gate: keeps a batch of count-zero objects that is being freed from
//! straddling a cycle's start (rule R5 of docs/collector.md, "Count-zero objects").
//!
//! # Why
//! A batch is taken from a thread's buffer inside an op, but its drop glue (user code) and
//! frees run outside any op, because a stop of the world must never wait for user code.
//! A cycle whose count pass started while such a batch ran would trace objects the batch
//! is dropping, and its sweep would free them a second time: the batch's objects are no
//! longer in any buffer, so the cycle's starting stop cannot hand them to the cycle (R3).
//! So a cycle closes the gate and waits for the batches in flight *before* its starting
//! stop, and a batch may only be taken while the gate is open.
//!
//! # Protocol
//! One atomic word: bit 0 = closed, the rest = batches in flight times two.
//! - [`ReclaimGate::try_enter`] (the reclaiming thread, inside the op that takes the
//!   batch): add two; if the closed bit was set, take the two back and fail: the batch is
//!   not taken (its objects stay queued, and the cycle frees them).
//! - [`ReclaimGate::exit`]: subtract two (Release: the batch's drop glue and frees
//!   happen-before the cycle that waits for it).
//! - [`ReclaimGate::close_and_wait`] (the collector, before a cycle's starting stop): set
//!   the closed bit, then wait (yielding) until no batch is in flight (Acquire).
//! - [`ReclaimGate::open`]: clear the closed bit (after the starting stop: from then on
//!   a batch is taken inside an op that sees `Mark`, and takes only what rule M1 allows).
//!
//! Every access is a read-modify-write or load of the one word, so they are totally ordered
//! (its modification order): an enter ordered before the close is waited for; one ordered
//! after it sees the closed bit. The loom models `reclaim_batch_vs_cycle_start` and its
//! control (`control_cycle_start_without_the_gate_fails`) run this code.
//!
//! The wait can only be as long as one batch: a thread re-enters the gate for each batch
//! it takes, and a batch is bounded (`queue.rs`, `ZERO_BATCH` objects, plus what their
//! own drop glue queues, which waits for the next batch). A destructor that blocks until a
//! cycle completes would deadlock it; `collect()` from such a destructor panics instead
//! (`collector/cycle.rs`).

use crate::sync::{const_fn_unless_loom, yield_now, AtomicUsize, Ordering};

/// See the module docs.
#[derive(Debug)]
pub(crate) struct ReclaimGate {
    /// Bit 0: closed. Bits 1..: batches in flight, times two.
    state: AtomicUsize,
}

const CLOSED: usize = 1;
const ONE_BATCH: usize = 2;

impl ReclaimGate {
    const_fn_unless_loom! {
        /// An open gate with no batch in flight.
        pub(crate) fn new() -> ReclaimGate {
            ReclaimGate {
                state: AtomicUsize::new(0),
            }
        }
    }

    /// Admits one batch, unless a cycle is starting. Call inside the op that takes it.
    #[inline]
    pub(crate) fn try_enter(&self) -> bool {
        // Acquire: a batch admitted after an `open` sees what the cycle did before it.
        let old = self.state.fetch_add(ONE_BATCH, Ordering::Acquire);
        if old & CLOSED != 0 {
            // Relaxed: this batch never started; nothing to publish.
            self.state.fetch_sub(ONE_BATCH, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Ends a batch admitted by [`try_enter`](ReclaimGate::try_enter).
    #[inline]
    pub(crate) fn exit(&self) {
        // Release: the batch's drop glue and frees happen-before a `close_and_wait` that
        // reads the count this leaves.
        let old = self.state.fetch_sub(ONE_BATCH, Ordering::Release);
        debug_assert!(
            old >= ONE_BATCH,
            "tricolor-gc: reclaim gate exit without enter"
        );
    }

    /// Closes the gate and returns once no admitted batch is still in flight. The
    /// collector thread only, before a cycle's starting stop.
    pub(crate) fn close_and_wait(&self) {
        // Acquire: pairs with `exit`'s Release (module docs).
        let mut state = self.state.fetch_or(CLOSED, Ordering::Acquire);
        debug_assert!(
            state & CLOSED == 0,
            "tricolor-gc: reclaim gate closed twice"
        );
        while state >> 1 != 0 {
            yield_now();
            state = self.state.load(Ordering::Acquire);
        }
    }

    /// Opens the gate again (after the cycle's starting stop).
    pub(crate) fn open(&self) {
        // Release: see `try_enter`.
        self.state.fetch_and(!CLOSED, Ordering::Release);
    }
}
