//! Sweeping (simple form): after mark termination, free every unmarked object that
//! existed at the cycle's start, running its drop glue exactly once.
//!
//! # Algorithm
//! Mark termination flushed every thread cache and advanced the sweep generation, so every
//! managed span with objects sits on an *unswept* central list, where no allocation can
//! take it. Then, on the collector thread:
//! 0. Take the unswept spans (`heap::unswept_managed_spans`) and mark each as *being
//!    swept* (`heap::begin_sweeping`, the span's `sweep_gen`). These spans, and only
//!    these, hold the objects this sweep frees; allocation does not touch them until the
//!    free pass files them.
//! 1. **Drop pass.** For each of those spans, for each published, unmarked object: run its
//!    drop glue (if `T` needs drop). Mark bits are untouched during this pass. Right after
//!    its drop glue (or at once, for types without), the object's header has its `info`
//!    nulled, so that the collector never mistakes the slot for an object again, and in
//!    debug-heap builds the rest of the slot is poisoned (`header::poison_freed`). Doing
//!    it here, while the header is in cache, spares the free pass a second visit to every
//!    dead header.
//! 2. **Free pass.** For each unswept span: `Span::sweep` with the mark bits: the bitmaps
//!    swap (mark bits become allocation bits, O(1)), and the span is filed on the swept
//!    lists, or returned to the heap when empty (deferred until the cycle thaws span
//!    frees). Pure bitmap work: no header is touched. Then the spans stop being marked as
//!    being swept (`heap::end_sweeping`).
//!
//! # The rule for handles released by drop glue (DESIGN §3)
//! A `Gc` handle dropped while the drop pass runs drop glue (`in_sweep_drop()`, this
//! thread only) **skips its decrement exactly when its target dies in this sweep**:
//! the target is unmarked *and* lives in a span being swept (`dies_in_this_sweep`). Such
//! a target may already be dropped and poisoned, so nothing of it is touched (not even
//! its header). Every other target is decremented as usual:
//! - a marked target survives the sweep, and its count must stay exact;
//! - an unmarked target outside the spans being swept was allocated after mark
//!   termination (from a swept or fresh span): it is live, and a `Drop` in a skipped field
//!   may well make and drop one (`drop(Gc::new(x))`), or release the last `Arc` of a
//!   `Vec<Gc<_>>` of them. Skipping its decrement, as the first rule ("skip every unmarked
//!   target") did, left it with a count and no handle: a root forever (issue #9).
//!
//! A decrement to zero during `Sweep` queues the object (`reclaim::count_reached_zero`, R1
//! in docs/collector.md): its target is marked or was allocated after the roots pass, so
//! this sweep keeps it, and count-zero reclamation frees it on another thread during the
//! sweep or after it. (Objects queued during `Mark` were sorted at termination, R1b: the
//! unmarked ones are among what this sweep frees.) Meanwhile mark workers and mutators
//! free marked objects of spans this sweep walks: the drop pass reads a slot's mark bit
//! before anything else and skips marked slots, and the free pass takes their freed bits.
//!
//! Why the rule is exact: the objects the drop pass drops are the published, unmarked
//! objects of the spans being swept, and an unmarked object elsewhere is never dropped by
//! this sweep. A dead object's own `Drop` (allowed only with `#[gc(unsafe_drop)]` and an
//! `unsafe impl UnsafeDrop`) must not dereference, clone or move out a handle: those
//! handles would escape this rule (they may point at dropped objects whose slots the free
//! pass makes reusable).
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

use super::header::{self, Header, DEBUG_HEAP};
use crate::heap::{self, Span};
use crate::sync::{AtomicBool, Ordering};

/// Set while some thread runs drop glue of dead objects (checked first by `Gc::drop`).
static DROPPING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set on the thread that runs drop glue of dead objects.
    static IN_SWEEP_DROP: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is running the sweeper's drop glue (then a dropped handle
/// must not touch a target that [`dies_in_this_sweep`]).
#[inline]
pub(crate) fn in_sweep_drop() -> bool {
    // Relaxed: only the sweeper thread sets both; it reads its own writes.
    DROPPING.load(Ordering::Relaxed) && IN_SWEEP_DROP.with(|f| f.get())
}

/// Whether the object headed at `object` is freed by the running sweep: unmarked, in a span
/// the sweep has (module docs, "The rule"). Only meaningful while [`in_sweep_drop`] holds.
/// A handle whose target is not a managed object at all (a broken `unsafe impl`) is
/// treated as dead: touching nothing is a leak at worst.
#[inline]
pub(crate) fn dies_in_this_sweep(object: NonNull<u8>) -> bool {
    match heap::managed_object(object.as_ptr() as usize) {
        Some((span, slot)) => heap::is_being_swept(span) && !span.is_marked(slot),
        None => true,
    }
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
    heap::begin_sweeping(&spans);
    DROPPING.store(true, Ordering::Relaxed);
    IN_SWEEP_DROP.with(|f| f.set(true));
    for span in &spans {
        // SAFETY: unswept spans stay listed and untouched by allocation until the free
        // pass below takes them.
        let span = unsafe { span.as_ref() };
        // Progress for assists waiting on the cycle (`pacing.rs`).
        super::pacing::note_background_bytes(span.alloc_count() * span.elem_bytes());
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
            // Relaxed: the slot is unreachable; the span's hand-over to allocation (after
            // the free pass) goes through the central lock, which orders this store before
            // any reuse.
            header.info.store(core::ptr::null_mut(), Ordering::Relaxed);
            if DEBUG_HEAP {
                // SAFETY: the object's value was dropped above (or needs no drop), its
                // `info` is null, and nothing reads it any more: a handle released by drop
                // glue touches nothing of an object that dies in this sweep (module docs),
                // and the slot is reused only after the free pass.
                unsafe { header::poison_freed(header, info) };
            }
        });
    }
    IN_SWEEP_DROP.with(|f| f.set(false));
    DROPPING.store(false, Ordering::Relaxed);
    // Every dead slot's header was cleared by the drop pass.
    let totals = heap::sweep_managed(|_, _| {});
    // The span structs stay valid (process-lifetime metadata, and span frees are deferred
    // until the cycle thaws them); no drop glue runs any more.
    heap::end_sweeping(&spans);
    report.freed_objects = totals.freed_objects;
    report.spans_swept = totals.spans;
    report.live_bytes = totals.live_bytes;
    report
}
