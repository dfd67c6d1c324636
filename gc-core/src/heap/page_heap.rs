//! The page heap: page runs for spans, from arenas, with a free-page bitmap per arena
//! (the role of Go's `mheap` and its page allocator).
//!
//! # Algorithm
//! 1. Each arena keeps two bitmaps with a bit per 8 KiB page: `free` (1 = not owned by any
//!    span) and `released` (1 = free and given back to the OS with `madvise`).
//! 2. `alloc_span(pages, align)`: address-ordered first fit. Arenas are kept sorted by
//!    base address; within an arena the search walks free runs word by word
//!    (`next_set` / `next_clear`) and takes the first aligned run that fits. If no arena
//!    has room, a new arena (one unit, or enough units for a huge span) is reserved.
//! 3. `free_span`: set the run's free bits. Coalescing is implicit: adjacent free pages are
//!    adjacent set bits, so the next search sees one longer run.
//! 4. `scavenge(keep_bytes)`: while more than `keep_bytes` of free pages are still
//!    resident, release free, unreleased pages from the *highest* addresses down, in
//!    chunks of at most `SCAVENGE_CHUNK_PAGES`, dropping the lock between chunks.
//!    Allocation is first-fit from the *lowest* addresses, so the two ends rarely meet
//!    and released pages are the ones least likely to be needed again soon. A reused
//!    released page simply loses its `released` bit (the kernel refaults a zero page).
//!
//! Why first fit over a bitmap instead of Go's radix tree of summaries: heaps here are
//! tens of arenas at most, a whole arena's bitmap is 128 words, and span allocation is
//! amortised over a span's worth of objects; a linear word scan is simpler to prove and
//! measured as cheap (see `BENCHMARKS.md`). Address order keeps the heap compact, which
//! is what lets the scavenger return the top of it.
//!
//! # Invariants (checked by `check_invariants`)
//! - `released ⊆ free` in every arena.
//! - `free_pages == popcount(free)`, summed into `Totals::free_pages`.
//! - A page is free iff its page-map entry is null.
//!
//! # Locking
//! One `Mutex` (`PageHeap::locked`). Lock order: central lock -> page heap lock -> meta
//! lock. The page heap never calls into the central lists.

use core::ptr::NonNull;

use parking_lot::Mutex;

use super::arena::{self, Arena, NO_SPAN, PAGES_PER_ARENA};
use super::meta;
use super::size_class::{SpanClass, PAGE_BYTES};
use super::span::Span;
use super::AllocError;
use crate::os;

/// Largest run released with one `madvise` while holding the lock.
const SCAVENGE_CHUNK_PAGES: usize = 64;

struct ArenaPages {
    arena: &'static Arena,
    free: Vec<u64>,
    released: Vec<u64>,
    free_pages: usize,
}

/// Page-level totals, in pages.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PageTotals {
    /// Pages reserved in arenas.
    pub(crate) mapped_pages: usize,
    /// Pages owned by spans.
    pub(crate) in_use_pages: usize,
    /// Free pages (resident or released).
    pub(crate) free_pages: usize,
    /// Free pages given back to the OS.
    pub(crate) released_pages: usize,
}

struct Locked {
    arenas: Vec<ArenaPages>,
    totals: PageTotals,
    /// While > 0, span frees are deferred (see `freeze`).
    frozen: usize,
    /// Spans whose free was deferred while frozen.
    deferred: Vec<SpanPtr>,
}

/// A span pointer held in the deferred list.
struct SpanPtr(NonNull<Span>);
// SAFETY: span structs are process-lifetime metadata; the deferred list owns these spans
// exclusively (their previous owner handed them to `free_span`).
unsafe impl Send for SpanPtr {}

/// The page heap. One per process (see `heap::page_heap()`).
pub(crate) struct PageHeap {
    locked: Mutex<Locked>,
}

impl core::fmt::Debug for PageHeap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PageHeap")
            .field("totals", &self.totals())
            .finish()
    }
}

/// Clears a span from the page map, returns its pages to the free set and its struct to
/// `meta`, all under the page heap lock the caller holds.
///
/// # Safety
/// The caller owns the span exclusively (on no list, in no cache, not in a deferred list)
/// and it holds no live object; the heap is not frozen.
unsafe fn free_span_locked(locked: &mut Locked, span: NonNull<Span>) {
    debug_assert_eq!(locked.frozen, 0, "tricolor-gc: a span freed while frozen");
    // SAFETY: span structs live for the whole process; the caller owns this one.
    let span_ref = unsafe { span.as_ref() };
    let start = span_ref.start();
    let pages = span_ref.pages();
    let arena = arena::arena_of(start).expect("tricolor-gc: freeing a span outside every arena");
    let first = (start - arena.base) / PAGE_BYTES;
    let index = locked
        .arenas
        .binary_search_by(|a| a.arena.base.cmp(&arena.base))
        .expect("tricolor-gc: span's arena is not registered with the page heap");
    let entry = &mut locked.arenas[index];
    debug_assert_eq!(
        count_range(&entry.free, first, pages),
        0,
        "tricolor-gc: double free of pages"
    );
    arena.set_pages(first, pages, NO_SPAN);
    set_range(&mut entry.free, first, pages, true);
    entry.free_pages += pages;
    locked.totals.free_pages += pages;
    locked.totals.in_use_pages -= pages;
    // SAFETY: the caller owns the span and no live object remains.
    unsafe { span_ref.reset_free() };
    // SAFETY: the struct is free and unpublished (page map cleared above).
    unsafe { meta::free_span_struct(span) };
}

/// Index of the first set bit at or after `from`, below `limit`.
fn next_set(bits: &[u64], from: usize, limit: usize) -> Option<usize> {
    let mut index = from;
    while index < limit {
        let word = index / 64;
        let window = bits[word] >> (index % 64);
        if window != 0 {
            let found = index + window.trailing_zeros() as usize;
            return (found < limit).then_some(found);
        }
        index = (word + 1) * 64;
    }
    None
}

/// Index of the first clear bit at or after `from`, or `limit` if none.
fn next_clear(bits: &[u64], from: usize, limit: usize) -> usize {
    let mut index = from;
    while index < limit {
        let word = index / 64;
        let window = !bits[word] >> (index % 64);
        if window != 0 {
            return (index + window.trailing_zeros() as usize).min(limit);
        }
        index = (word + 1) * 64;
    }
    limit
}

fn set_range(bits: &mut [u64], first: usize, count: usize, value: bool) {
    for page in first..first + count {
        let mask = 1u64 << (page % 64);
        if value {
            bits[page / 64] |= mask;
        } else {
            bits[page / 64] &= !mask;
        }
    }
}

fn count_range(bits: &[u64], first: usize, count: usize) -> usize {
    (first..first + count)
        .filter(|page| bits[page / 64] >> (page % 64) & 1 == 1)
        .count()
}

impl ArenaPages {
    fn new(arena: &'static Arena) -> ArenaPages {
        let words = arena.pages.div_ceil(64);
        ArenaPages {
            arena,
            free: vec![!0; words],
            released: vec![0; words],
            free_pages: arena.pages,
        }
    }

    /// First-fit search for `pages` free pages starting at a multiple of `align`.
    fn find_run(&self, pages: usize, align: usize) -> Option<usize> {
        if self.free_pages < pages {
            return None;
        }
        let limit = self.arena.pages;
        let mut start = next_set(&self.free, 0, limit)?;
        loop {
            let end = next_clear(&self.free, start, limit);
            let aligned = start.next_multiple_of(align);
            if aligned + pages <= end {
                return Some(aligned);
            }
            start = next_set(&self.free, end, limit)?;
        }
    }
}

impl PageHeap {
    pub(crate) const fn new() -> PageHeap {
        PageHeap {
            locked: Mutex::new(Locked {
                arenas: Vec::new(),
                totals: PageTotals {
                    mapped_pages: 0,
                    in_use_pages: 0,
                    free_pages: 0,
                    released_pages: 0,
                },
                frozen: 0,
                deferred: Vec::new(),
            }),
        }
    }

    /// Allocates a span of `pages` pages whose start is a multiple of `align_pages` pages,
    /// initialises it for `class` and publishes it in the page map.
    pub(crate) fn alloc_span(
        &self,
        pages: usize,
        align_pages: usize,
        class: SpanClass,
    ) -> Result<NonNull<Span>, AllocError> {
        debug_assert!(pages > 0 && align_pages.is_power_of_two());
        let mut locked = self.locked.lock();
        let found = locked
            .arenas
            .iter()
            .enumerate()
            .find_map(|(i, a)| a.find_run(pages, align_pages).map(|page| (i, page)));
        let (arena_index, first) = match found {
            Some(hit) => hit,
            None => {
                let units = pages
                    .checked_add(align_pages.max(1) - 1)
                    .ok_or(AllocError::TooLarge)?
                    .div_ceil(PAGES_PER_ARENA);
                let arena = arena::new_arena(units).ok_or(AllocError::OutOfMemory)?;
                let at = locked.arenas.partition_point(|a| a.arena.base < arena.base);
                locked.arenas.insert(at, ArenaPages::new(arena));
                locked.totals.mapped_pages += arena.pages;
                locked.totals.free_pages += arena.pages;
                let page = locked.arenas[at]
                    .find_run(pages, align_pages)
                    .ok_or(AllocError::TooLarge)?;
                (at, page)
            }
        };
        let span = meta::alloc_span_struct().ok_or(AllocError::OutOfMemory)?;
        let entry = &mut locked.arenas[arena_index];
        let start = entry.arena.page_addr(first);
        // SAFETY: span structs from `meta` are valid for the life of the process and this
        // one is exclusively ours until it is published below.
        let span_ref = unsafe { span.as_ref() };
        if !span_ref.init(start, pages, class) {
            // SAFETY: the struct is still free and was never published.
            unsafe { meta::free_span_struct(span) };
            return Err(AllocError::OutOfMemory);
        }
        let reused_released = count_range(&entry.released, first, pages);
        set_range(&mut entry.free, first, pages, false);
        set_range(&mut entry.released, first, pages, false);
        entry.free_pages -= pages;
        entry.arena.set_pages(first, pages, span.as_ptr());
        let totals = &mut locked.totals;
        totals.free_pages -= pages;
        totals.in_use_pages += pages;
        totals.released_pages -= reused_released;
        Ok(span)
    }

    /// Returns a span's pages to the free set and its struct to `meta`, or, while the
    /// page heap is frozen, defers that until the last `thaw`.
    ///
    /// The frozen check and the free happen under one hold of the lock. They used to be
    /// two: a free checked "not frozen" and dropped the lock, the collector froze the heap
    /// and took its snapshot (which still held the span), and then the free reset the
    /// span's bitmaps under the snapshot's walk, so a mark worker read through a null
    /// bitmap pointer (issue #9; docs/allocator.md, "Span lifecycle", rule 4).
    ///
    /// # Safety
    /// The caller owns the span exclusively (it is on no list and in no cache) and it holds
    /// no live object.
    pub(crate) unsafe fn free_span(&self, span: NonNull<Span>) {
        let mut locked = self.locked.lock();
        if locked.frozen > 0 {
            locked.deferred.push(SpanPtr(span));
            return;
        }
        // SAFETY: forwarded from the caller; nobody can freeze the heap (and snapshot the
        // span) until we release the lock, after the span has left the page map.
        unsafe { free_span_locked(&mut locked, span) }
    }

    /// Defers every span free until the matching `thaw`: no span struct is recycled and
    /// no page is reused meanwhile, so a collector walking a snapshot of spans never sees
    /// one change identity under it.
    pub(crate) fn freeze(&self) {
        self.locked.lock().frozen += 1;
    }

    /// Ends a `freeze`; when the last one ends, performs the deferred frees under the same
    /// hold of the lock (so a `freeze` that follows finds them gone from the page map).
    pub(crate) fn thaw(&self) {
        let mut locked = self.locked.lock();
        locked.frozen -= 1;
        if locked.frozen > 0 {
            return;
        }
        for span in core::mem::take(&mut locked.deferred) {
            // SAFETY: `free_span`'s caller handed us exclusive ownership of an empty span,
            // and nobody can freeze the heap while we hold the lock.
            unsafe { free_span_locked(&mut locked, span.0) };
        }
    }

    /// Releases resident free pages to the OS, highest addresses first, until at most
    /// `keep_bytes` of free memory stays resident. Returns the bytes released.
    pub(crate) fn scavenge(&self, keep_bytes: usize) -> usize {
        let keep_pages = keep_bytes / PAGE_BYTES;
        let mut released_total = 0;
        loop {
            let mut locked = self.locked.lock();
            let resident_free = locked.totals.free_pages - locked.totals.released_pages;
            if resident_free <= keep_pages {
                return released_total;
            }
            let budget = (resident_free - keep_pages).min(SCAVENGE_CHUNK_PAGES);
            // Find the highest free, unreleased run and release up to `budget` of it.
            let mut chunk = None;
            'arenas: for entry in locked.arenas.iter_mut().rev() {
                for page in (0..entry.arena.pages).rev() {
                    let word = page / 64;
                    let releasable = entry.free[word] & !entry.released[word];
                    if releasable == 0 {
                        // Skip the rest of this word quickly.
                        if page % 64 != 0 {
                            continue;
                        }
                        continue;
                    }
                    if releasable >> (page % 64) & 1 == 0 {
                        continue;
                    }
                    let mut first = page;
                    while first > 0
                        && page + 1 - first < budget
                        && (entry.free[(first - 1) / 64] & !entry.released[(first - 1) / 64])
                            >> ((first - 1) % 64)
                            & 1
                            == 1
                    {
                        first -= 1;
                    }
                    let count = page + 1 - first;
                    let addr = entry.arena.page_addr(first);
                    // SAFETY: the pages are inside a reserved arena, page-aligned, and free
                    // (no span owns them; the lock keeps it so), so their contents are dead.
                    let ok = unsafe {
                        os::release(
                            NonNull::new(addr as *mut u8).expect("arena address"),
                            count * PAGE_BYTES,
                        )
                    };
                    if ok {
                        set_range(&mut entry.released, first, count, true);
                        chunk = Some(count);
                    }
                    break 'arenas;
                }
            }
            match chunk {
                Some(count) => {
                    locked.totals.released_pages += count;
                    released_total += count * PAGE_BYTES;
                }
                None => return released_total,
            }
        }
    }

    /// Calls `f` for every span that owns pages, under the page heap lock (so no span is
    /// created or destroyed meanwhile; its other state may change).
    pub(crate) fn for_each_span(&self, mut f: impl FnMut(&Span)) {
        let locked = self.locked.lock();
        for entry in &locked.arenas {
            let mut page = 0;
            while page < entry.arena.pages {
                match entry.arena.span_at(page) {
                    Some(span) => {
                        // SAFETY: a published span owns this page, and the lock keeps it
                        // from being freed while we look.
                        let span_ref = unsafe { span.as_ref() };
                        f(span_ref);
                        page += span_ref.pages();
                    }
                    None => page += 1,
                }
            }
        }
    }

    /// The current page totals.
    pub(crate) fn totals(&self) -> PageTotals {
        self.locked.lock().totals
    }

    /// Recounts every bitmap and checks the invariants in the module docs; panics with a
    /// `tricolor-gc:` message on a violation.
    pub(crate) fn check_invariants(&self) {
        let locked = self.locked.lock();
        let mut free = 0;
        let mut released = 0;
        let mut mapped = 0;
        for entry in &locked.arenas {
            mapped += entry.arena.pages;
            let arena_free = count_range(&entry.free, 0, entry.arena.pages);
            assert_eq!(
                arena_free, entry.free_pages,
                "tricolor-gc: arena {:#x} free count",
                entry.arena.base
            );
            free += arena_free;
            for page in 0..entry.arena.pages {
                let is_free = entry.free[page / 64] >> (page % 64) & 1 == 1;
                let is_released = entry.released[page / 64] >> (page % 64) & 1 == 1;
                assert!(
                    !is_released || is_free,
                    "tricolor-gc: page {page} released but in use"
                );
                released += is_released as usize;
                assert_eq!(
                    entry.arena.span_at(page).is_none(),
                    is_free,
                    "tricolor-gc: page {page} of arena {:#x}: page map and free bitmap disagree",
                    entry.arena.base
                );
            }
        }
        let totals = locked.totals;
        assert_eq!(
            totals.mapped_pages, mapped,
            "tricolor-gc: mapped page total"
        );
        assert_eq!(totals.free_pages, free, "tricolor-gc: free page total");
        assert_eq!(
            totals.released_pages, released,
            "tricolor-gc: released page total"
        );
        assert_eq!(
            totals.in_use_pages + free,
            mapped,
            "tricolor-gc: in-use + free != mapped"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::size_class::{SizeClass, SpanClass};

    const LARGE: SpanClass = SpanClass::new(SizeClass::LARGE, true);

    #[test]
    fn bit_scans_cross_word_edges() {
        let bits = [0u64, 1 << 63, !0, 0];
        assert_eq!(next_set(&bits, 0, 256), Some(127));
        assert_eq!(next_clear(&bits, 127, 256), 192);
        assert_eq!(next_set(&bits, 192, 256), None);
        assert_eq!(next_clear(&[!0u64; 2], 5, 100), 100);
    }

    #[test]
    fn runs_split_and_coalesce() {
        let heap = PageHeap::new();
        let a = heap.alloc_span(3, 1, LARGE).expect("a");
        let b = heap.alloc_span(5, 1, LARGE).expect("b");
        let c = heap.alloc_span(2, 1, LARGE).expect("c");
        // SAFETY: spans from this heap; reading their identity is fine.
        let (sa, sb, sc) = unsafe { (a.as_ref().start(), b.as_ref().start(), c.as_ref().start()) };
        assert_eq!(sb, sa + 3 * PAGE_BYTES, "first fit packs in address order");
        assert_eq!(sc, sb + 5 * PAGE_BYTES);
        heap.check_invariants();
        // Free the middle run: a 5-page hole. A 4-page request splits it.
        // SAFETY: we own `b` and it holds no objects.
        unsafe { heap.free_span(b) };
        let d = heap.alloc_span(4, 1, LARGE).expect("d");
        // SAFETY: identity read of a span we own.
        let d_start = unsafe { d.as_ref().start() };
        assert_eq!(d_start, sb, "the hole is reused first");
        // Free a and d: with the 1 leftover page they coalesce into 3 + 4 + 1 = 8 pages.
        // SAFETY: we own both.
        unsafe {
            heap.free_span(a);
            heap.free_span(d);
        }
        let e = heap.alloc_span(8, 1, LARGE).expect("e");
        // SAFETY: identity read of a span we own.
        let e_start = unsafe { e.as_ref().start() };
        assert_eq!(e_start, sa, "coalesced run starts at a");
        heap.check_invariants();
        // SAFETY: we own both.
        unsafe {
            heap.free_span(c);
            heap.free_span(e);
        }
        heap.check_invariants();
        assert_eq!(heap.totals().in_use_pages, 0);
    }

    #[test]
    fn aligned_runs_and_huge_spans() {
        let heap = PageHeap::new();
        let small = heap.alloc_span(1, 1, LARGE).expect("small");
        let aligned = heap.alloc_span(2, 16, LARGE).expect("aligned");
        // SAFETY: identity reads of spans we own.
        let start = unsafe { aligned.as_ref().start() };
        assert_eq!(start % (16 * PAGE_BYTES), 0);
        let huge = heap
            .alloc_span(PAGES_PER_ARENA + 1, 1, LARGE)
            .expect("huge span over one arena");
        // SAFETY: as above.
        let huge_start = unsafe { huge.as_ref().start() };
        assert_eq!(
            arena::span_of(huge_start + PAGES_PER_ARENA * PAGE_BYTES),
            Some(huge)
        );
        heap.check_invariants();
        // SAFETY: we own all three.
        unsafe {
            heap.free_span(small);
            heap.free_span(aligned);
            heap.free_span(huge);
        }
        heap.check_invariants();
    }

    #[test]
    fn scavenger_releases_from_the_top_and_reuse_refaults() {
        let heap = PageHeap::new();
        let spans: Vec<_> = (0..64)
            .map(|_| heap.alloc_span(4, 1, LARGE).expect("span"))
            .collect();
        let starts: Vec<usize> = spans
            .iter()
            // SAFETY: identity reads of spans we own.
            .map(|s| unsafe { s.as_ref().start() })
            .collect();
        for &start in &starts {
            // SAFETY: each span owns 4 writable pages at `start`.
            unsafe { core::ptr::write_bytes(start as *mut u8, 0x5A, 4 * PAGE_BYTES) };
        }
        for s in spans {
            // SAFETY: we own every span and they hold no objects.
            unsafe { heap.free_span(s) };
        }
        let before = heap.totals();
        assert_eq!(before.released_pages, 0);
        // Keep 64 pages resident; release the rest of the arena's free pages.
        let released = heap.scavenge(64 * PAGE_BYTES);
        let after = heap.totals();
        assert_eq!(after.free_pages - after.released_pages, 64);
        assert_eq!(released, (before.free_pages - 64) * PAGE_BYTES);
        heap.check_invariants();
        // The first 64 pages (lowest addresses) stay resident, the top ones were released.
        let base = NonNull::new(starts[0] as *mut u8).expect("non-null");
        // SAFETY: inside a reserved arena.
        let low = unsafe { os::resident_pages(base, 64 * PAGE_BYTES) }.expect("mincore");
        assert_eq!(low, 64 * PAGE_BYTES / os::OS_PAGE_BYTES);
        let high = NonNull::new(starts[63] as *mut u8).expect("non-null");
        // SAFETY: inside a reserved arena.
        let high_resident = unsafe { os::resident_pages(high, 4 * PAGE_BYTES) }.expect("mincore");
        assert_eq!(high_resident, 0, "released pages are no longer resident");
        // Reuse everything: released pages come back (zeroed) and lose their released bit.
        let again = heap.alloc_span(256, 1, LARGE).expect("reuse");
        // SAFETY: identity read.
        let again_start = unsafe { again.as_ref().start() };
        assert_eq!(again_start, starts[0]);
        // SAFETY: the span owns 256 pages; the released part reads as zero.
        unsafe { assert_eq!(*((starts[63] + 5) as *const u8), 0) };
        assert_eq!(
            heap.totals().released_pages,
            after.released_pages - (256 - 64)
        );
        heap.check_invariants();
        // SAFETY: we own it.
        unsafe { heap.free_span(again) };
    }

    /// Regression test for issue #9's SIGSEGV (span lifecycle rule 4 in
    /// docs/allocator.md): a span freed while another thread freezes the heap and walks a
    /// snapshot must either be missing from the snapshot or stay in use until the thaw.
    /// Before the fix, `free_span` checked "not frozen" and freed under two lock holds, so
    /// the walker saw snapshot spans lose their bitmaps (`is_in_use` false) under it.
    #[test]
    fn a_frozen_snapshot_keeps_its_spans_in_use_while_frees_race() {
        use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
        static HEAP: PageHeap = PageHeap::new();
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            for seed in 1..=2u64 {
                let done = &done;
                s.spawn(move || {
                    // Spans of 1 to 4 pages, freed in random order, so that a recycled
                    // span struct comes back with another start or length.
                    let mut live = Vec::new();
                    let mut x = seed;
                    while !done.load(StdOrdering::Relaxed) {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let pages = 1 + (x >> 62) as usize;
                        live.push(HEAP.alloc_span(pages, 1, LARGE).expect("a small span"));
                        if live.len() > 8 {
                            let victim = live.swap_remove((x >> 33) as usize % live.len());
                            // SAFETY: a span of this heap, owned here, holding nothing.
                            unsafe { HEAP.free_span(victim) };
                        }
                    }
                    for span in live {
                        // SAFETY: as above.
                        unsafe { HEAP.free_span(span) };
                    }
                });
            }
            let mut broken = 0;
            for _ in 0..5_000 {
                HEAP.freeze();
                let mut snapshot = Vec::new();
                HEAP.for_each_span(|span| {
                    snapshot.push((span as *const Span, span.start(), span.pages()))
                });
                std::thread::yield_now();
                for &(span, start, pages) in &snapshot {
                    // SAFETY: span structs live for the process (meta.rs).
                    let span = unsafe { &*span };
                    if !span.is_in_use() || span.start() != start || span.pages() != pages {
                        broken += 1;
                    }
                }
                HEAP.thaw();
            }
            done.store(true, StdOrdering::Relaxed);
            assert_eq!(
                broken, 0,
                "spans of a frozen snapshot were freed under the walk"
            );
        });
        HEAP.check_invariants();
    }
}
