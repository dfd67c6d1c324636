//! Sweeping (simple form): after mark termination, free every unmarked object that
//! existed at the cycle's start, running its drop glue exactly once.
//!
//! # Algorithm
//! Mark termination flushed every thread cache and advanced the sweep generation, so every
//! managed span with objects sits on an *unswept* central list, where no allocation can
//! take it. Then, on the collector thread:
//! 1. **Drop pass.** For each unswept span, for each published, unmarked object: run its
//!    drop glue (if `T` needs drop). Mark bits are untouched during this pass, so a `Gc`
//!    handle dropped by this glue can tell a surviving target (marked: decrement its
//!    count) from a dead one (unmarked: it may already be dropped; touch nothing). That is
//!    the rule of DESIGN §3: handles inside a dead object decrement only survivors.
//! 2. **Free pass.** For each unswept span: `Span::sweep` with the mark bits: each dead slot
//!    has its header's `info` nulled (so the collector never mistakes it for an object
//!    again), the bitmaps swap (mark bits become allocation bits, O(1)), and the span is
//!    filed on the swept lists, or returned to the heap when empty.
//!
//! Drop glue runs iteratively over the span list, never recursively over the object graph:
//! a dead million-node list is a million independent drops, each of which only decrements
//! (or skips) its neighbours' counts.
//!
//! A panic in a drop is caught; the object is still freed, the sweep goes on, and the count
//! of such panics is reported in the cycle's trace line.
//!
//! The concurrent, lazy sweeper (Go's sweepgen protocol between allocation and a
//! background sweeper) replaces this in its own increment; the seam is
//! `heap::sweep_managed` and `heap::unswept_managed_spans`.

use core::cell::Cell;
use core::ptr::NonNull;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::header::Header;
use crate::heap::{self, Span};
use crate::sync::{AtomicBool, Ordering};

/// Set while some thread runs drop glue of dead objects (checked first by `Gc::drop`).
static DROPPING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set on the thread that runs drop glue of dead objects.
    static IN_SWEEP_DROP: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is running the sweeper's drop glue (then a dropped handle
/// must not touch an unmarked target).
#[inline]
pub(crate) fn in_sweep_drop() -> bool {
    // Relaxed: only the sweeper thread sets both; it reads its own writes.
    DROPPING.load(Ordering::Relaxed) && IN_SWEEP_DROP.with(|f| f.get())
}

/// What a sweep did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SweepReport {
    pub(crate) freed_objects: usize,
    pub(crate) spans_swept: usize,
    pub(crate) drop_panics: usize,
    /// Bytes of the objects that survived the sweep (the marked heap).
    pub(crate) live_bytes: usize,
}

fn header_at(span: &Span, slot: usize) -> &'static Header {
    // SAFETY: see `mark::header_at`.
    unsafe { &*(span.slot_addr(slot) as *const Header) }
}

/// Runs both passes of the module docs.
pub(crate) fn sweep() -> SweepReport {
    let mut report = SweepReport::default();
    let spans = heap::unswept_managed_spans();
    DROPPING.store(true, Ordering::Relaxed);
    IN_SWEEP_DROP.with(|f| f.set(true));
    for span in &spans {
        // SAFETY: unswept spans stay listed and untouched by allocation until the free
        // pass below takes them.
        let span = unsafe { span.as_ref() };
        span.for_each_allocated(|slot| {
            if span.is_marked(slot) {
                return;
            }
            let header = header_at(span, slot);
            let Some(info) = header.info() else {
                return;
            };
            if info.needs_drop {
                let object = NonNull::from(header);
                // SAFETY: the object is unmarked after mark termination: unreachable, and
                // this pass visits each slot once, so the value is dropped exactly once.
                let result = catch_unwind(AssertUnwindSafe(|| unsafe { (info.drop_value)(object) }));
                if result.is_err() {
                    report.drop_panics += 1;
                    eprintln!(
                        "tricolor-gc: a destructor of {} panicked during sweeping; the object was freed and sweeping went on",
                        (info.name)()
                    );
                }
            }
        });
    }
    IN_SWEEP_DROP.with(|f| f.set(false));
    DROPPING.store(false, Ordering::Relaxed);
    let totals = heap::sweep_managed(|span, slot| {
        // Relaxed: the slot is unreachable; the span's hand-over to allocation goes through
        // the central lock, which orders this store before any reuse.
        header_at(span, slot)
            .info
            .store(core::ptr::null_mut(), Ordering::Relaxed);
    });
    report.freed_objects = totals.freed_objects;
    report.spans_swept = totals.spans;
    report.live_bytes = totals.live_bytes;
    report
}
