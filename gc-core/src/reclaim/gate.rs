//! The reclaim gate: lets a cycle that `collect()` asked for start only when no count-zero
//! batch is in flight (rule R5b of docs/collector.md, "Count-zero objects").
//!
//! # Why
//! A cycle's starting stop claims the batches in flight (R5: their objects become born,
//! the threads go on freeing them), so no cycle ever waits for user code. But the objects
//! those batches release (their children) reach zero *during* that cycle, after its roots
//! pass may have found them held: such a cycle does not free them, and `collect()`, which
//! promises that every object unreachable when it was called is freed when it returns,
//! would return too early. So a cycle that some `collect()` waits for closes this gate and
//! waits for the batches in flight *before* its starting stop; what they release is then
//! in some buffer at the stop, which hands it to the cycle (R3). Cycles that nobody waits
//! for (the heap trigger, the periodic one) skip the gate and only claim.
//!
//! # Protocol
//! One atomic word: bit 0 = closed, the rest = batches in flight times two.
//! - [`ReclaimGate::try_enter`] (the reclaiming thread, inside the op that takes the
//!   batch): add two; if the closed bit was set, take the two back and fail: the batch is
//!   not taken (its objects stay queued, and the cycle frees them).
//! - [`ReclaimGate::exit`]: subtract two (Release: the batch's drop glue and frees
//!   happen-before the cycle that waits for it). A batch whose destructor calls
//!   `collect()` exits while it waits ([`ReclaimGate::park`]) and re-enters after
//!   ([`ReclaimGate::unpark`]), so a collection never waits for its own caller; the stop
//!   then claims that batch (R5).
//! - [`ReclaimGate::close_and_wait`] (the collector, before a requested cycle's starting
//!   stop): set the closed bit, then wait (yielding) until no batch is in flight (Acquire).
//! - [`ReclaimGate::open`]: clear the closed bit (after the starting stop).
//!
//! Every access is a read-modify-write or load of the one word, so they are totally ordered
//! (its modification order): an enter ordered before the close is waited for; one ordered
//! after it sees the closed bit. The wait is at most one batch per thread (a thread
//! re-enters the gate for each batch, and a batch is at most `ZERO_BATCH` objects).

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

    /// A batch's thread leaves the gate while it blocks in `collect()` (from a destructor
    /// the batch runs), so that the collection does not wait for it.
    pub(crate) fn park(&self) {
        self.exit();
    }

    /// Re-enters after [`park`](ReclaimGate::park), whether or not the gate is closed: the
    /// thread is running again and will end its batch, so a closer may wait for it.
    pub(crate) fn unpark(&self) {
        // Acquire: as `try_enter`.
        self.state.fetch_add(ONE_BATCH, Ordering::Acquire);
    }

    /// Opens the gate again (after the cycle's starting stop).
    pub(crate) fn open(&self) {
        // Release: see `try_enter`.
        self.state.fetch_and(!CLOSED, Ordering::Release);
    }
}
