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
//! An assist runs outside any op, so nothing but the pass's gate keeps it from straddling
//! cycles (`free_pass.rs`): [`assist_if_open`] and [`close_free_pass`] go through it. The
//! thread caches' own sweeps (`Central::cache_span`) check the pass inside an op, which no
//! cycle's termination stop can overlap, so they cannot straddle cycles.

use super::central::SweepTotals;
use super::free_pass::FreePass;
use crate::sync::{AtomicUsize, Ordering};

static FREE_PASS: FreePass = FreePass::new();
static IN_PROGRESS: AtomicUsize = AtomicUsize::new(0);
static FREED_OBJECTS: AtomicUsize = AtomicUsize::new(0);
static SPANS: AtomicUsize = AtomicUsize::new(0);
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static BORN_LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Whether threads may sweep unswept spans now.
#[inline]
pub(crate) fn free_pass_open() -> bool {
    FREE_PASS.is_open()
}

/// Opens the free pass (collector, in `Sweep`, after the drop pass).
pub(crate) fn open_free_pass() {
    FREE_PASS.open();
}

/// Closes the free pass (collector, when every span is swept), and waits until no assist
/// is inside [`assist_if_open`] (`free_pass.rs`).
pub(crate) fn close_free_pass() {
    FREE_PASS.close();
}

/// Runs `sweep` (an allocating thread's share of the free pass, outside any op) if the free
/// pass is open, counted so that the collector does not close the pass while it runs
/// (`free_pass.rs`); 0 without running it if the pass is closed.
pub(crate) fn assist_if_open(sweep: impl FnOnce() -> usize) -> usize {
    FREE_PASS.assist_if_open(sweep)
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
