//! Off-heap metadata storage: `Span` structs and their bitmaps (Go's `fixalloc` for
//! `mspan`s and the `gcBits` arenas).
//!
//! # Design
//! 1. Metadata never lives inside the heap's arenas and is never returned to the OS: a
//!    `Span` struct or a bitmap block that a racing lookup might still read is always
//!    mapped memory. Freed structs and blocks go on free lists and are reused.
//! 2. Memory comes from the OS in 1 MiB chunks (`os::reserve_aligned`, zero-filled) and is
//!    carved by a bump pointer.
//! 3. Bitmap blocks are sized by words per bitmap (1..=16: at most 1024 objects per span);
//!    each block holds the `BITMAPS_PER_SPAN` bitmaps of one span (alloc, mark, freed,
//!    local-freed, born) back to back, so spans of one size class recycle each other's blocks
//!    exactly.
//!
//! Everything here is behind one `Mutex`, taken only when a span is created or destroyed
//! (far from the allocation fast path).

use core::ptr::NonNull;

use parking_lot::Mutex;

use super::size_class::MAX_OBJECTS_PER_SPAN;
use super::span::Span;
use crate::os;
use crate::sync::AtomicU64;

const CHUNK_BYTES: usize = 1 << 20;
/// Alignment of span structs and bitmap blocks (see `Span`'s `repr(align)`).
const CACHE_LINE: usize = 64;
/// Words in one bitmap of the largest span (1024 objects).
pub(crate) const MAX_BITMAP_WORDS: usize = MAX_OBJECTS_PER_SPAN / 64;
/// Bitmaps per span: alloc, mark, freed (any thread), local-freed (owner only), born
/// (allocated black in the running `Mark`).
pub(crate) const BITMAPS_PER_SPAN: usize = 5;

struct Store {
    /// Bump region of the current chunk.
    next: usize,
    end: usize,
    free_spans: Vec<NonNull<Span>>,
    /// `free_bitmaps[w - 1]` holds blocks of `BITMAPS_PER_SPAN * w` words.
    free_bitmaps: [Vec<NonNull<AtomicU64>>; MAX_BITMAP_WORDS],
}

// SAFETY: the pointers are to process-lifetime metadata memory, handed out under the lock.
unsafe impl Send for Store {}

static STORE: Mutex<Store> = Mutex::new(Store {
    next: 0,
    end: 0,
    free_spans: Vec::new(),
    free_bitmaps: [const { Vec::new() }; MAX_BITMAP_WORDS],
});

impl Store {
    fn bump(&mut self, bytes: usize, align: usize) -> Option<NonNull<u8>> {
        let mut at = self.next.next_multiple_of(align);
        if at + bytes > self.end || self.next == 0 {
            let chunk = os::reserve_aligned(CHUNK_BYTES, os::OS_PAGE_BYTES)?;
            self.next = chunk.as_ptr() as usize;
            self.end = self.next + CHUNK_BYTES;
            at = self.next.next_multiple_of(align);
        }
        self.next = at + bytes;
        NonNull::new(at as *mut u8)
    }
}

/// A `Span` struct in the `Free` state, or `None` if the OS refuses memory.
pub(crate) fn alloc_span_struct() -> Option<NonNull<Span>> {
    let mut store = STORE.lock();
    if let Some(span) = store.free_spans.pop() {
        return Some(span);
    }
    let raw = store.bump(core::mem::size_of::<Span>(), core::mem::align_of::<Span>())?;
    let span = raw.cast::<Span>();
    // SAFETY: `raw` is fresh, suitably aligned, exclusively ours metadata memory of
    // `size_of::<Span>()` bytes.
    unsafe { span.as_ptr().write(Span::new_free()) };
    Some(span)
}

/// Returns a span struct for reuse.
///
/// # Safety
/// `span` came from [`alloc_span_struct`], is in the `Free` state, and no thread will use
/// it through an old reference except to read racily-validated fields.
pub(crate) unsafe fn free_span_struct(span: NonNull<Span>) {
    STORE.lock().free_spans.push(span);
}

/// A zeroed block of `BITMAPS_PER_SPAN * words` bitmap words, or `None` if the OS
/// refuses memory.
pub(crate) fn alloc_bitmaps(words: usize) -> Option<NonNull<AtomicU64>> {
    assert!(
        (1..=MAX_BITMAP_WORDS).contains(&words),
        "tricolor-gc: bitmap of {words} words requested (1..={MAX_BITMAP_WORDS} allowed)"
    );
    let mut store = STORE.lock();
    if let Some(block) = store.free_bitmaps[words - 1].pop() {
        // Zero a recycled block outside of any span's view: it is exclusively ours now.
        for i in 0..BITMAPS_PER_SPAN * words {
            // SAFETY: the block has `BITMAPS_PER_SPAN * words` words and nobody else holds it.
            unsafe { (*block.as_ptr().add(i)).store(0, crate::sync::Ordering::Relaxed) };
        }
        return Some(block);
    }
    // Cache-line aligned and padded: the owner writes its span's bitmaps on every local
    // free, so two spans owned by different threads must not share a line.
    let raw = store.bump(
        (BITMAPS_PER_SPAN * words * 8).next_multiple_of(CACHE_LINE),
        CACHE_LINE,
    )?;
    // Fresh chunk memory is zero-filled by the OS: all bitmaps start clear.
    Some(raw.cast())
}

/// Returns a bitmap block for reuse.
///
/// # Safety
/// `block` came from [`alloc_bitmaps`] with the same `words`, and its span no longer uses it.
pub(crate) unsafe fn free_bitmaps(block: NonNull<AtomicU64>, words: usize) {
    STORE.lock().free_bitmaps[words - 1].push(block);
}
