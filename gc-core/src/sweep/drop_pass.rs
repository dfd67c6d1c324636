//! The sweep's drop pass (step 1 of `sweep/mod.rs`): the unswept spans of one cycle, cut
//! into chunks that any thread claims with one `fetch_add` on a cursor, and a count of the
//! chunks finished, which says when the pass is over.
//!
//! Each chunk is claimed by exactly one thread (the cursor), and each span is in exactly
//! one chunk, so every dead object's drop glue runs once. The collector waits for the
//! finished count to reach the number of chunks before it opens the free pass; the
//! `SeqCst` increment after a chunk's last drop and the collector's `SeqCst` load order
//! every drop (and every header it nulled) before the free pass makes any slot reusable.

use core::ptr::NonNull;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::collector::header::{self, Header, DEBUG_HEAP};
use crate::collector::pacing;
use crate::heap::Span;
use crate::sync::{AtomicUsize, Ordering};

/// Spans a thread claims at a time: small, because the free pass waits for every claimed
/// chunk, and a thread preempted inside one (an allocating thread on a busy machine) stalls
/// the sweep while the others allocate fresh spans (16 spans made cyclic_churn.rs peak
/// higher).
const CHUNK_SPANS: usize = 4;

/// One cycle's drop pass.
#[derive(Debug)]
pub(crate) struct DropPass {
    spans: Vec<NonNull<Span>>,
    chunks: usize,
    /// The next chunk to claim.
    cursor: AtomicUsize,
    /// Chunks whose drops all ran.
    finished: AtomicUsize,
    drop_panics: AtomicUsize,
    /// Spans the pass left to the free pass because none of their objects has drop glue.
    bitmap_only: AtomicUsize,
}

// SAFETY: span metadata lives for the process (heap `meta.rs`), and the spans of the pass
// stay listed on unswept lists, untouched by allocation, until the free pass takes them
// (after the drop pass ended); threads only read their bitmaps and the headers of their
// dead objects, each object by the one thread that claimed its chunk.
unsafe impl Send for DropPass {}
// SAFETY: as above.
unsafe impl Sync for DropPass {}

fn header_at(span: &Span, slot: usize) -> &'static Header {
    // SAFETY: the slot is allocated in a span of the pass, so it holds a header (see
    // `mark::header_at`); the span's pages stay mapped while the pass runs.
    unsafe { &*(span.slot_addr(slot) as *const Header) }
}

impl DropPass {
    /// A pass over `spans` (the cycle's unswept spans, marked as being swept).
    pub(crate) fn new(spans: Vec<NonNull<Span>>) -> DropPass {
        DropPass {
            chunks: spans.len().div_ceil(CHUNK_SPANS),
            spans,
            cursor: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            drop_panics: AtomicUsize::new(0),
            bitmap_only: AtomicUsize::new(0),
        }
    }

    /// The spans of the pass.
    pub(crate) fn spans(&self) -> &[NonNull<Span>] {
        &self.spans
    }

    /// Destructors that panicked in this pass.
    pub(crate) fn drop_panics(&self) -> usize {
        // Relaxed: read after `wait_until_done`.
        self.drop_panics.load(Ordering::Relaxed)
    }

    /// Spans swept by bitmap alone (no drop glue): read after the pass.
    pub(crate) fn bitmap_only_spans(&self) -> usize {
        // Relaxed: read after `wait_until_done`.
        self.bitmap_only.load(Ordering::Relaxed)
    }

    /// Claims and runs up to `max_chunks` chunks on the calling thread (which has set its
    /// sweep-drop flag, `sweep::in_sweep_drop`); returns the bytes of the spans it ran.
    pub(crate) fn run_chunks(&self, max_chunks: usize) -> usize {
        let mut bytes = 0;
        for _ in 0..max_chunks {
            // Relaxed: the claim only needs to be unique (an RMW is).
            let chunk = self.cursor.fetch_add(1, Ordering::Relaxed);
            if chunk >= self.chunks {
                break;
            }
            let start = chunk * CHUNK_SPANS;
            let end = (start + CHUNK_SPANS).min(self.spans.len());
            for span in &self.spans[start..end] {
                // SAFETY: see the `Send` impl: the span stays valid and unswept until the
                // free pass, which waits for this chunk.
                let span = unsafe { span.as_ref() };
                let held = span.alloc_count() * span.elem_bytes();
                self.drop_span(span);
                pacing::note_background_bytes(held);
                bytes += held;
            }
            // SeqCst: module docs (the drops happen before the free pass).
            self.finished.fetch_add(1, Ordering::SeqCst);
        }
        bytes
    }

    /// Whether some chunk is still unclaimed (a hint: another thread may claim it first).
    pub(crate) fn has_unclaimed_chunks(&self) -> bool {
        // Relaxed: a hint; `run_chunks` claims with its own RMW.
        self.cursor.load(Ordering::Relaxed) < self.chunks
    }

    /// Waits until every chunk finished (the collector, after it ran out of chunks).
    pub(crate) fn wait_until_done(&self) {
        crate::sync::spin_until(|| self.finished.load(Ordering::SeqCst) >= self.chunks);
    }

    /// Drops every published, unmarked object of `span` and nulls its header. A span none
    /// of whose objects has drop glue is left to the free pass (bitmap only): its dead
    /// headers keep their `info` (`sweep/`, "Bitmap-only spans"), except under the debug
    /// heap, which poisons every freed object.
    fn drop_span(&self, span: &Span) {
        if !span.has_drop_glue() && !DEBUG_HEAP {
            // Relaxed: a statistic read after the pass.
            self.bitmap_only.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // A word (64 slots) at a time: its dead slots are the allocated ones its mark word
        // does not show, so a span with no dead object costs a few loads per 64 slots.
        span.for_each_allocated_word(|word, allocated| {
            let mut dead = allocated & !span.mark_word(word);
            while dead != 0 {
                let slot = word * 64 + dead.trailing_zeros() as usize;
                dead &= dead - 1;
                self.drop_dead(span, slot);
            }
        });
    }

    /// Drops the dead object in `slot` of `span` (allocated, unmarked after mark
    /// termination) unless its header is already null, and nulls the header.
    #[inline]
    fn drop_dead(&self, span: &Span, slot: usize) {
        let header = header_at(span, slot);
        let Some(info) = header.info() else {
            return;
        };
        if info.needs_drop {
            let object = NonNull::from(header);
            // SAFETY: the object is unmarked after mark termination: unreachable, and
            // only the thread that claimed this chunk visits the slot, once, so the
            // value is dropped exactly once.
            let result = catch_unwind(AssertUnwindSafe(|| unsafe { (info.drop_value)(object) }));
            if result.is_err() {
                // Relaxed: a count read after the pass.
                self.drop_panics.fetch_add(1, Ordering::Relaxed);
                eprintln!(
                    "tricolor-gc: a destructor of {} panicked during sweeping; the object was freed and sweeping went on",
                    (info.name)()
                );
            }
        }
        // Relaxed: the slot is unreachable; the free pass, which makes it reusable,
        // starts after this chunk's SeqCst finish (module docs), and the span's
        // hand-over to allocation goes through the central lock.
        header.info.store(core::ptr::null_mut(), Ordering::Relaxed);
        if DEBUG_HEAP {
            // SAFETY: the object's value was dropped above (or needs no drop), its
            // `info` is null, and nothing reads it any more: a handle released by drop
            // glue touches nothing of an object that dies in this sweep (`sweep/`),
            // and the slot is reused only after the free pass.
            unsafe { header::poison_freed(header, info) };
        }
    }
}
