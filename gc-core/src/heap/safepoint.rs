//! Safepoints: how the collector and the mutator threads agree on phase changes without
//! stopping threads that are not inside the library (Go's ragged barriers and STWs).
//!
//! # The protocol
//! Every access a mutator thread makes to collector-visible state (its thread cache, mark
//! bits, the grey queue, the collector's phase) happens inside an *op*
//! (`thread_cache::Op`): the thread bumps its cache's `op_seq` to an odd value on entry and
//! back to even on exit, with plain stores. Between ops, and while it runs user code, a
//! thread is at a safepoint: the collector never waits for it.
//!
//! - A **stopped world** (`thread_cache::stop_the_world`): the collector sets `STOP`,
//!   executes `collector_fence`, and waits until no op is in flight (odd `op_seq`); new ops
//!   wait at entry until it ends. Whatever the collector changes meanwhile (the phase, the
//!   sweep generation, the threads' caches and buffers) every later op sees. Its cost
//!   depends on the number of threads and how long an op lasts, never on the heap's size.
//!   A cycle uses two: at its start (it discards the count-zero queues, so it needs the
//!   exclusion, not just a ragged handshake) and at mark termination.
//! - Ops never nest: an inner op's exit would make `op_seq` even while the outer op still
//!   runs, letting a stopped world proceed under it. `Op::enter_with` aborts on one.
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
//!     `TRICOLOR_NO_MEMBARRIER` (any value) forces that fallback, so tests cover it.
//! (2) An op's exit stores `op_seq` with Release; the collector loads it with Acquire, so
//!     all the op did (mark bits, grey-queue pushes, cache updates) is visible to a
//!     collector that saw the op end.
//! (3) In a stopped world, threads' caches belong to the collector: ops are excluded by
//!     `STOP` (fact 1), and the release of `STOP` (Release store under the wait lock)
//!     hands them back.

use std::sync::OnceLock;

use crate::os;
use crate::sync::{compiler_fence, fence, AtomicBool, Ordering};

/// True when the kernel offers no expedited membarrier: mutators then fence for real.
static FALLBACK_FENCE: AtomicBool = AtomicBool::new(false);
static INIT: OnceLock<bool> = OnceLock::new();

/// Chooses the fence mode once, before any thread can enter an op (every op entry goes
/// through a cache, and installing a cache calls this first).
pub(crate) fn init() {
    INIT.get_or_init(|| {
        let expedited =
            std::env::var_os("TRICOLOR_NO_MEMBARRIER").is_none() && os::membarrier_register();
        // Relaxed: published to other threads by the OnceLock / the registry lock that
        // every thread takes before its first op.
        FALLBACK_FENCE.store(!expedited, Ordering::Relaxed);
        expedited
    });
}

/// Whether the collector is using membarrier (false: mutators use real fences).
pub(crate) fn expedited() -> bool {
    INIT.get().copied().unwrap_or(false)
}

/// The mutator's half of fact (1), after storing an odd `op_seq`.
#[inline(always)]
pub(crate) fn mutator_fence() {
    if FALLBACK_FENCE.load(Ordering::Relaxed) {
        fence(Ordering::SeqCst);
    } else {
        compiler_fence(Ordering::SeqCst);
    }
}

/// The collector's half of fact (1), after storing `STOP` or the phase.
pub(crate) fn collector_fence() {
    fence(Ordering::SeqCst);
    if expedited() && !os::membarrier() {
        // Registration succeeded, so this cannot fail on a sane kernel; if it does, the
        // mutators (running on compiler fences) would be unordered: refuse to continue.
        panic!("tricolor-gc: membarrier failed after successful registration");
    }
}

/// Spins, then yields, until `done()` holds.
pub(crate) fn wait_until(mut done: impl FnMut() -> bool) {
    let mut spins = 0u32;
    while !done() {
        if spins < 64 {
            core::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
        spins = spins.saturating_add(1);
    }
}
