//! The sweeper (Go's `mgcsweep.go`): after mark termination, free every unmarked object
//! that existed at the cycle's start, running its drop glue exactly once, on whichever
//! thread sweeps it.
//!
//! # Algorithm
//! Mark termination flushed every thread cache and advanced the sweep generation
//! (`heap::advance_sweep_generation`, O(1) in the stopped world: every managed span on a
//! central list is now on its *unswept* half, where allocation does not take it). Then,
//! with the world running, in `Sweep`:
//! 0. The collector takes the unswept spans (`heap::unswept_managed_spans`, a walk of the
//!    central lists under their locks, which it lets waiting threads take every 256 spans:
//!    `central.rs`, "Locking") and marks each as *being swept*
//!    (`heap::begin_sweeping`, the span's `sweep_gen`). These spans, and only these, hold
//!    the objects this sweep frees.
//! 1. **Drop pass** (`drop_pass.rs`), in chunks of spans claimed from a shared cursor by
//!    the collector thread, the mark workers, and threads that allocate during the sweep
//!    (their assists, `collector/mark_assist.rs`): for each published, unmarked object of
//!    a chunk, run its drop glue (if `T` needs drop), then null its header's `info` (and
//!    poison the slot in debug-heap builds). Mark bits are untouched; no slot becomes
//!    reusable. The pass ends when every chunk is done, whoever ran it. A span none of
//!    whose objects has drop glue is skipped (below, "Bitmap-only spans").
//! 2. **Free pass** (`heap/sweep_state.rs`), opened only after the drop pass ended: the
//!    collector and the mark workers sweep every unswept span by bitmap (`Span::sweep`: the
//!    mark bits become the allocation bits, O(1)) and file it on the swept lists, or return
//!    it to the heap when empty; meanwhile a thread cache that needs a span sweeps one of
//!    its class itself (Go's `mcentral.cacheSpan`), and an assisting thread sweeps a
//!    share. Each span is popped under its central lock, so exactly one thread sweeps it.
//!    The pass ends when the lists are empty and no thread is still sweeping a span.
//!    Then the spans stop being marked as being swept (`heap::end_sweeping`).
//!
//! Why two passes, and the drop pass first everywhere: the drop glue of a dead object may
//! release a handle to another dead object in any span (below); while any dead object's
//! drop glue may still run, no dead slot may be reused, or that handle would reach the new
//! object in it. Go has no drop glue, so it sweeps span by span; here a span's slots become
//! reusable only once no drop glue of this sweep is left to run.
//!
//! # Bitmap-only spans
//! A span records whether any object allocated in it since it was last empty has drop
//! glue (`Span::has_drop_glue`, set by the allocation before it publishes the slot,
//! cleared by the sweep or merge that empties the span). The drop pass skips a span
//! without it: its dead objects have nothing to run and hold no handle, so the free pass's
//! bitmap swap frees them without a single header being read (Go sweeps every span this
//! way). Their headers keep their `info`; nothing reads it, because every reader of a
//! header reads only slots the bitmaps show allocated, and a slot allocated again is
//! either published before any walk of a cycle starts (`Off`, `Sweep`) or marked before
//! the allocator publishes it (`Mark`: `NewSlot::born`), so a walk traces nothing of it
//! (collector/mark.rs, rules 1-3). Count-zero reclamation still nulls the headers it
//! frees: a walk of the running cycle may see such a slot through its old bitmap word.
//! The debug heap visits every span, to poison every freed object.
//!
//! # The rule for handles released by drop glue (DESIGN §3)
//! A `Gc` handle dropped while a thread runs the drop pass's drop glue (`in_sweep_drop()`,
//! that thread only) **skips its decrement exactly when its target dies in this sweep**:
//! the target is unmarked *and* lives in a span being swept (`dies_in_this_sweep`). Such
//! a target may already be dropped and poisoned (by this thread or another one), so
//! nothing of it is touched (not even its header). Every other target is decremented as
//! usual:
//! - a marked target survives the sweep, and its count must stay exact;
//! - an unmarked target outside the spans being swept was allocated after mark
//!   termination (from a swept or fresh span): it is live, and a `Drop` in a skipped field
//!   may well make and drop one (`drop(Gc::new(x))`), or release the last `Arc` of a
//!   `Vec<Gc<_>>` of them. Skipping its decrement, as the first rule ("skip every unmarked
//!   target") did, left it with a count and no handle: a root forever (issue #9).
//!
//! The test reads only span metadata and mark bits (atomics), so threads running the drop
//! pass on different spans at once decide alike. A decrement to zero during `Sweep` queues
//! the object (`reclaim::count_reached_zero`, R1 in docs/collector.md): its target is
//! marked or was allocated after the roots pass, so this sweep keeps it, and count-zero
//! reclamation frees it on some thread during the sweep or after it. While a thread runs a
//! chunk its reclaim assists are held off (`reclaim::without_assists`), so that no batch
//! runs inside the drop pass; a full buffer is published instead. (Objects queued during
//! `Mark` were sorted at termination, R1b: the unmarked ones are among what this sweep
//! frees.) Meanwhile other threads free marked objects of spans this sweep walks: the drop
//! pass reads a slot's mark bit before anything else and skips marked slots, and the free
//! pass takes their freed bits.
//!
//! Why the rule is exact: the objects the drop pass drops are the published, unmarked
//! objects of the spans being swept, and an unmarked object elsewhere is never dropped by
//! this sweep. A dead object's own `Drop` (allowed only with `#[gc(unsafe_drop)]` and an
//! `unsafe impl UnsafeDrop`) must not dereference, clone or move out a handle: those
//! handles would escape this rule (they may point at dropped objects).
//!
//! Drop glue runs iteratively over the span list, never recursively over the object graph:
//! a dead million-node list is a million independent drops, each of which only decrements
//! (or skips) its neighbours' counts. A panic in a drop is caught; the object is still
//! freed, the sweep goes on, and the count of such panics is reported in the cycle's trace
//! line.
//!
//! # Pacing
//! Every span swept reports its bytes to the pacer as cycle work
//! (`pacing::note_background_bytes`), so threads waiting in an assist see the sweep move;
//! assists that take drop-pass chunks or free-pass spans are credited for them. A thread
//! that has to take fresh pages during the drop pass with the heap's spans over its goal
//! helps the pass and waits for its end, for a bounded time, before it allocates more
//! (`collector/mark_assist.rs`, "The growth gate"), so that the slots this sweep frees are
//! what it allocates from next. A cycle's `collect()` returns only after the free pass
//! ended, and the next cycle starts only after that (the collector thread runs one cycle
//! at a time).

mod drop_pass;

use core::cell::Cell;
use core::ptr::NonNull;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::heap;
use crate::sync::{AtomicBool, AtomicU8, Ordering};
use drop_pass::DropPass;

/// Set while some thread may run the drop pass's drop glue (checked first by `Gc::drop`).
static DROPPING: AtomicBool = AtomicBool::new(false);

/// The running drop pass, for threads that join it.
static CURRENT: Mutex<Option<Arc<DropPass>>> = Mutex::new(None);

thread_local! {
    /// Set on a thread while it runs drop glue of the drop pass.
    static IN_SWEEP_DROP: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is running the sweeper's drop glue (then a dropped handle
/// must not touch a target that [`dies_in_this_sweep`]).
#[inline]
pub(crate) fn in_sweep_drop() -> bool {
    // Relaxed: a thread sets its own flag only while `DROPPING` is set (the collector
    // clears it only after every chunk ended), so it reads its own writes.
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
    /// Spans of `spans_swept` that the drop pass left alone: none of their objects has
    /// drop glue ("Bitmap-only spans" in the module docs).
    pub(crate) bitmap_only_spans: usize,
    /// Bytes of the objects that survived the sweep (the marked heap).
    pub(crate) live_bytes: usize,
    /// Of those, the bytes of objects allocated black during the cycle's `Mark`.
    pub(crate) born_live_bytes: usize,
}

/// Where the running sweep is, for its helpers (`help_sweep`).
static STAGE: AtomicU8 = AtomicU8::new(STAGE_DONE);
const STAGE_DROPPING: u8 = 0;
const STAGE_FREEING: u8 = 1;
const STAGE_DONE: u8 = 2;

/// Runs both passes of the module docs (the collector thread, in `Sweep`), after calling
/// `start_helpers` with the number of spans to sweep (it posts [`help_sweep`] to the mark
/// workers, unless so few spans do not pay for their wake-up). Returns when every
/// unswept span is swept; the caller then waits for its helpers, which are done with the
/// sweep's passes by then (at most they still free count-zero objects).
pub(crate) fn sweep(start_helpers: impl FnOnce(usize)) -> SweepReport {
    let spans = heap::unswept_managed_spans();
    let span_count = spans.len();
    heap::begin_sweeping(&spans);
    let pass = Arc::new(DropPass::new(spans));
    *CURRENT.lock() = Some(pass.clone());
    DROPPING.store(true, Ordering::Relaxed);
    // Release: a helper that sees this stage finds the pass in `CURRENT`.
    STAGE.store(STAGE_DROPPING, Ordering::Release);
    start_helpers(span_count);
    run_drop_chunks(&pass, usize::MAX);
    *CURRENT.lock() = None;
    // Chunks that helpers and allocating threads took may still run.
    pass.wait_until_done();
    DROPPING.store(false, Ordering::Relaxed);

    heap::open_free_pass();
    STAGE.store(STAGE_FREEING, Ordering::Release);
    heap::sweep_managed();
    heap::wait_for_sweepers();
    heap::close_free_pass();
    STAGE.store(STAGE_DONE, Ordering::Release);
    // The span structs stay valid (process-lifetime metadata, and span frees are deferred
    // until the cycle thaws them); no drop glue runs any more.
    heap::end_sweeping(pass.spans());
    let totals = heap::take_sweep_totals();
    SweepReport {
        freed_objects: totals.freed_objects,
        spans_swept: totals.spans,
        drop_panics: pass.drop_panics(),
        bitmap_only_spans: pass.bitmap_only_spans(),
        live_bytes: totals.live_bytes,
        born_live_bytes: totals.born_live_bytes,
    }
}

/// Runs chunks of `pass` on this thread until none is left or `max_chunks` ran; returns the
/// bytes of the spans it dropped from.
fn run_drop_chunks(pass: &DropPass, max_chunks: usize) -> usize {
    let was = IN_SWEEP_DROP.with(|f| f.replace(true));
    let bytes = crate::reclaim::without_assists(|| pass.run_chunks(max_chunks));
    IN_SWEEP_DROP.with(|f| f.set(was));
    bytes
}

/// A mark worker's share of the sweep: chunks of the drop pass, then, once the collector
/// opened it, the free pass. The collector waits for the worker's job before its next
/// cycle, so the stages a helper sees are those of the sweep it was posted for: a helper
/// that wakes late finds the drop pass without chunks, or the sweep done.
pub(crate) fn help_sweep() {
    let pass = CURRENT.lock().clone();
    if let Some(pass) = pass {
        run_drop_chunks(&pass, usize::MAX);
    }
    // The collector (and maybe assists) finish the last chunks: briefly. Acquire: pairs
    // with the collector's stage stores.
    crate::sync::spin_until(|| STAGE.load(Ordering::Acquire) != STAGE_DROPPING);
    if STAGE.load(Ordering::Acquire) == STAGE_FREEING {
        heap::sweep_managed();
    }
}

/// Whether the drop pass may be running (a hint: `heap::note_growth`).
#[inline]
pub(crate) fn drop_pass_running() -> bool {
    // Relaxed: a policy input; a stale value lets one more span be taken or makes one
    // thread look for chunks that are gone.
    DROPPING.load(Ordering::Relaxed)
}

/// An allocating thread that grew the heap past its goal during the drop pass
/// (`heap::take_growth_wait`), outside any op: runs the pass's chunks, one at a time, then
/// waits (yielding) until the pass has ended, for at most `max_wait` in all: the free pass
/// then lets its next refill reuse what this cycle freed. Returns the bytes of the spans
/// it dropped from.
pub(crate) fn help_drop_pass_for(max_wait: std::time::Duration) -> usize {
    let started = std::time::Instant::now();
    let mut bytes = 0;
    let pass = CURRENT.lock().clone();
    if let Some(pass) = pass {
        while started.elapsed() < max_wait && pass.has_unclaimed_chunks() {
            bytes += run_drop_chunks(&pass, 1);
        }
    }
    // Acquire: pairs with the collector's stage stores.
    while STAGE.load(Ordering::Acquire) == STAGE_DROPPING && started.elapsed() < max_wait {
        std::thread::yield_now();
    }
    bytes
}

/// An allocating thread's sweep assist (`collector/mark_assist.rs`), outside any op: one
/// chunk of the drop pass, or up to `spans` spans of the free pass. Returns the bytes of
/// the spans it worked on (0: no sweep work available now).
pub(crate) fn assist(spans: usize) -> usize {
    let pass = CURRENT.lock().clone();
    if let Some(pass) = pass {
        return run_drop_chunks(&pass, 1);
    }
    // Checks that the free pass is open and counts this thread in it at once: an assist
    // that checked first and swept later could sweep a span of a later cycle before its
    // drop pass (`heap/sweep_state.rs`).
    heap::sweep_managed_some(spans)
}
