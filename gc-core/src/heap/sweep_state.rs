//! The shared state of a cycle's free pass (the sweep's second pass, `crate::sweep`): whether
//! it is open, how many spans threads are sweeping right now, and what they swept.
//!
//! The free pass sweeps every span left unswept by mark termination. Once the collector
//! opens it (after every dead object's drop glue ran, the sweep's first pass), any thread
//! may take unswept spans: the collector and the mark workers sweep them all
//! (`heap::sweep_managed`), an allocating thread sweeps a share of them as an assist
//! (`heap::sweep_managed_some`), and a thread cache that needs a span of a class sweeps one
//! of that class itself (`Central::cache_span`). Each span is popped from its unswept list
//! under the central lock, so exactly one thread sweeps it.
//!
//! The collector ends the pass when the unswept lists are empty (its own sweep found none)
//! *and* no thread is still sweeping a span it popped: `begin_one` is counted under the
//! central lock that popped the span, so a collector that then finds the list empty (under
//! the same lock) also sees the count, and `end_one` comes after the span's totals were
//! added and the span filed or cached. `wait_for_sweepers` waits for the count to reach
//! zero; only then are the totals complete.
//!
//! An assist runs outside any op, so nothing else keeps it from straddling cycles: one that
//! saw the pass open and was then preempted could wake in a later cycle's `Sweep`, after
//! mark termination made spans unswept again but before that sweep's drop pass took them,
//! and sweep a span whose dead objects' drop glue never ran (their handles never released,
//! their slots reused while other dead objects still held handles to them: a live object
//! freed; `scripts/stress.sh` on tests/sweep_threads.rs found it about once in 900 runs).
//! So an assist checks the pass inside [`assist_if_open`], which counts it, and
//! [`close_free_pass`] waits until no assist is inside: either the assist's check (SeqCst)
//! sees the pass closed, or the collector's wait (SeqCst) sees the assist and waits for it
//! to leave (it finds the lists empty: nothing is filed unswept during a free pass). The
//! thread caches' own sweeps (`Central::cache_span`) check the pass inside an op, which no
//! cycle's termination stop can overlap, so they cannot straddle cycles.

use super::central::SweepTotals;
use crate::sync::{AtomicBool, AtomicUsize, Ordering};

static OPEN: AtomicBool = AtomicBool::new(false);
static IN_PROGRESS: AtomicUsize = AtomicUsize::new(0);
/// Assists inside [`assist_if_open`].
static ASSISTING: AtomicUsize = AtomicUsize::new(0);
static FREED_OBJECTS: AtomicUsize = AtomicUsize::new(0);
static SPANS: AtomicUsize = AtomicUsize::new(0);
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static BORN_LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Whether threads may sweep unswept spans now.
#[inline]
pub(crate) fn free_pass_open() -> bool {
    // Acquire: pairs with `open_free_pass`, so a thread that sees the pass open also sees
    // that every drop glue of the sweep's first pass ran (it ran before the store).
    OPEN.load(Ordering::Acquire)
}

/// Opens the free pass (collector, in `Sweep`, after the drop pass).
pub(crate) fn open_free_pass() {
    OPEN.store(true, Ordering::Release);
}

/// Closes the free pass (collector, when every span is swept), and waits until no assist
/// is inside [`assist_if_open`] (module docs).
pub(crate) fn close_free_pass() {
    // SeqCst: with the assist's increment and load (module docs).
    OPEN.store(false, Ordering::SeqCst);
    crate::sync::spin_until(|| ASSISTING.load(Ordering::SeqCst) == 0);
}

/// Runs `sweep` (an allocating thread's share of the free pass, outside any op) if the free
/// pass is open, counted so that the collector does not close the pass while it runs
/// (module docs); 0 without running it if the pass is closed.
pub(crate) fn assist_if_open(sweep: impl FnOnce() -> usize) -> usize {
    // SeqCst: with `close_free_pass`'s store and load (module docs).
    ASSISTING.fetch_add(1, Ordering::SeqCst);
    let bytes = if OPEN.load(Ordering::SeqCst) {
        sweep()
    } else {
        0
    };
    ASSISTING.fetch_sub(1, Ordering::SeqCst);
    bytes
}

/// A thread popped an unswept span to sweep it (under the central lock).
pub(crate) fn begin_one() {
    // SeqCst: with `wait_for_sweepers`' loads (module docs).
    IN_PROGRESS.fetch_add(1, Ordering::SeqCst);
}

/// The span popped in `begin_one` is swept, counted and filed.
pub(crate) fn end_one() {
    IN_PROGRESS.fetch_sub(1, Ordering::SeqCst);
}

/// Adds one span's sweep to the totals.
pub(crate) fn add(totals: SweepTotals) {
    // Relaxed: read after `wait_for_sweepers`, whose SeqCst load of the count that each
    // sweeper decrements after this add orders it.
    FREED_OBJECTS.fetch_add(totals.freed_objects, Ordering::Relaxed);
    SPANS.fetch_add(totals.spans, Ordering::Relaxed);
    LIVE_BYTES.fetch_add(totals.live_bytes, Ordering::Relaxed);
    BORN_LIVE_BYTES.fetch_add(totals.born_live_bytes, Ordering::Relaxed);
}

/// Waits until no thread is sweeping a span (module docs).
pub(crate) fn wait_for_sweepers() {
    crate::sync::spin_until(|| IN_PROGRESS.load(Ordering::SeqCst) == 0);
}

/// Takes the totals of the sweep so far and resets them (after `wait_for_sweepers`).
pub(crate) fn take() -> SweepTotals {
    SweepTotals {
        freed_objects: FREED_OBJECTS.swap(0, Ordering::Relaxed),
        spans: SPANS.swap(0, Ordering::Relaxed),
        live_bytes: LIVE_BYTES.swap(0, Ordering::Relaxed),
        born_live_bytes: BORN_LIVE_BYTES.swap(0, Ordering::Relaxed),
    }
}
