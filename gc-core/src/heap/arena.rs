//! Arenas and the page map: from any address to its span in O(1) (Go's `heapArena`,
//! `mheap_.arenas` and `spanOf`).
//!
//! # Design
//! 1. Heap memory is reserved in arenas: `ARENA_BYTES`-aligned runs of address space, one
//!    arena unit (64 MiB, like Go on 64-bit Linux) each, or a whole number of units for a
//!    huge object that does not fit one. Arenas are never unmapped, so any pointer this
//!    module ever handed out stays a mapped address for the life of the process.
//! 2. The arena map is one flat array with an entry per possible arena unit of the 48-bit
//!    user address space (2^22 entries of two words, 64 MiB of *reserved* address space;
//!    the kernel commits only the pages of the array that are written, i.e. a few KiB for
//!    a normal heap), reserved when the first arena is. Entry `addr >> ARENA_SHIFT` points
//!    at the arena's metadata and at its page map, or holds two nulls.
//! 3. Each arena's metadata holds the page map proper: for every 8 KiB page, a pointer to
//!    the span that owns it, or null for a free page. Spans set every one of their pages
//!    (so interior pointers resolve in O(1), as in Go) and clear them when they are freed.
//!
//! A lookup is therefore: range check, one load from the arena map, one load from the
//! page map. An address outside every arena, or in a free page, gives `None`; nothing is
//! ever read through a pointer that was not first found in these two tables.
//!
//! `span_of` runs on every edge the collector follows, so its loads form the shortest
//! chain the layout allows: the map's address (a static, not a lazily initialised cell
//! with its own check), then the entry's page-map pointer, stored *biased* by the arena's
//! first page number so that `addr >> PAGE_SHIFT` indexes it directly, without a load of
//! the arena's base first, then the page-map entry.
//!
//! # Memory ordering
//! (1) A new arena's metadata is fully initialised before its arena-map entries are
//!     stored with Release; `lookup` loads them with Acquire.
//! (2) A span's fields are written before its page-map entries are stored with Release
//!     (`set_pages`); `span_of` loads them with Acquire, so a reader that finds the span
//!     sees its fields. A racing reader can still find a span that is being freed; the
//!     callers (`heap::lookup`) re-validate what they read against the span's own state.

use core::ptr::{self, NonNull};

use super::size_class::{PAGE_BYTES, PAGE_SHIFT};
use super::span::Span;
use crate::os;
use crate::sync::{AtomicPtr, Ordering};

/// log2 of the arena unit.
pub(crate) const ARENA_SHIFT: u32 = 26;
/// Bytes in one arena unit: 64 MiB.
pub(crate) const ARENA_BYTES: usize = 1 << ARENA_SHIFT;
/// Pages in one arena unit.
pub(crate) const PAGES_PER_ARENA: usize = ARENA_BYTES / PAGE_BYTES;
/// User addresses on x86-64 / aarch64 Linux fit in 48 bits.
const ADDRESS_BITS: u32 = 48;
const ARENA_MAP_LEN: usize = 1 << (ADDRESS_BITS - ARENA_SHIFT);

/// Metadata of one arena. Lives outside the arena (in its own mapping), never freed.
#[derive(Debug)]
pub(crate) struct Arena {
    /// First byte of the arena; `ARENA_BYTES`-aligned. Immutable.
    pub(crate) base: usize,
    /// Number of 8 KiB pages; a multiple of `PAGES_PER_ARENA`. Immutable.
    pub(crate) pages: usize,
    /// The page map: `pages` entries, span owning each page or null. Written under the
    /// page heap lock; read anywhere.
    spans: NonNull<AtomicPtr<Span>>,
}

// SAFETY: `spans` points at a mapping owned by this arena for the life of the process and
// is only accessed through atomics; the other fields are immutable.
unsafe impl Send for Arena {}
// SAFETY: as above; all shared mutation goes through `AtomicPtr`.
unsafe impl Sync for Arena {}

impl Arena {
    /// One page-map entry.
    #[inline]
    fn entry(&self, page: usize) -> &AtomicPtr<Span> {
        debug_assert!(page < self.pages);
        // SAFETY: `page < self.pages`, and the mapping behind `spans` holds `pages`
        // zero-initialised (= null) `AtomicPtr`s for the life of the process.
        unsafe { &*self.spans.as_ptr().add(page) }
    }

    /// The address of page `page` of this arena.
    #[inline]
    pub(crate) fn page_addr(&self, page: usize) -> usize {
        self.base + (page << PAGE_SHIFT)
    }

    /// Points pages `[first, first + count)` at `span` (or at nothing, with null).
    /// Called under the page heap lock.
    pub(crate) fn set_pages(&self, first: usize, count: usize, span: *mut Span) {
        for page in first..first + count {
            // Release: publishes the span's fields to `span_of` (fact (2)).
            self.entry(page).store(span, Ordering::Release);
        }
    }

    /// The span owning `page`, if any.
    #[inline]
    pub(crate) fn span_at(&self, page: usize) -> Option<NonNull<Span>> {
        // Acquire: pairs with the Release in `set_pages` (fact (2)).
        NonNull::new(self.entry(page).load(Ordering::Acquire))
    }
}

/// One entry of the arena map (module docs, point 2): both null, or both set.
struct MapEntry {
    /// The arena's metadata.
    arena: AtomicPtr<Arena>,
    /// The arena's page map, minus the arena's first page number (`base >> PAGE_SHIFT`),
    /// so that adding `addr >> PAGE_SHIFT` gives the entry of `addr`'s page. Only ever
    /// offset by a page number of this arena, which lands inside the page map.
    pages: AtomicPtr<AtomicPtr<Span>>,
}

/// The arena map: `ARENA_MAP_LEN` entries in a mapping that is never unmapped, or null
/// before the first arena. A static rather than a lazily initialised cell, so that a
/// lookup's first load depends on nothing.
static ARENA_MAP: core::sync::atomic::AtomicPtr<MapEntry> =
    core::sync::atomic::AtomicPtr::new(ptr::null_mut());

/// The map entry of arena unit `unit`, if the map exists.
#[inline]
fn map_entry(unit: usize) -> Option<&'static MapEntry> {
    debug_assert!(unit < ARENA_MAP_LEN);
    // Acquire: pairs with the Release that published the mapping (`arena_map`).
    let entries = ARENA_MAP.load(core::sync::atomic::Ordering::Acquire);
    if entries.is_null() {
        return None;
    }
    // SAFETY: `unit < ARENA_MAP_LEN` and the mapping holds that many zeroed entries (two
    // null atomic pointers each) for the life of the process.
    Some(unsafe { &*entries.add(unit) })
}

/// The arena map, reserved on first use. Called from `new_arena`, under the page heap
/// lock; tests call `new_arena` directly on several threads, hence the exchange.
fn arena_map() -> NonNull<MapEntry> {
    use core::sync::atomic::Ordering as StdOrdering;
    if let Some(entries) = NonNull::new(ARENA_MAP.load(StdOrdering::Acquire)) {
        return entries;
    }
    let bytes = ARENA_MAP_LEN * core::mem::size_of::<MapEntry>();
    let entries = os::reserve_aligned(bytes, os::OS_PAGE_BYTES)
        .unwrap_or_else(|| {
            panic!("tricolor-gc: cannot reserve {bytes} bytes of address space for the arena map")
        })
        .cast::<MapEntry>();
    // Release: the zeroed mapping before any lookup through it. A thread that lost the
    // race leaves its reservation unused (address space only; tests alone can race).
    match ARENA_MAP.compare_exchange(
        ptr::null_mut(),
        entries.as_ptr(),
        StdOrdering::AcqRel,
        StdOrdering::Acquire,
    ) {
        Ok(_) => entries,
        // SAFETY: a non-null value was stored by the winner.
        Err(winner) => unsafe { NonNull::new_unchecked(winner) },
    }
}

/// Reserves a new arena of `units` arena units and registers it in the arena map.
/// Returns `None` if the OS refuses the reservation or the metadata. Called under the page
/// heap lock (so two arenas are never registered for the same unit).
pub(crate) fn new_arena(units: usize) -> Option<&'static Arena> {
    let bytes = units.checked_mul(ARENA_BYTES)?;
    let pages = bytes / PAGE_BYTES;
    let base = os::reserve_aligned(bytes, ARENA_BYTES)?;
    let map_bytes =
        (pages * core::mem::size_of::<AtomicPtr<Span>>()).next_multiple_of(os::OS_PAGE_BYTES);
    let spans = os::reserve_aligned(map_bytes, os::OS_PAGE_BYTES)?;
    let arena = Box::leak(Box::new(Arena {
        base: base.as_ptr() as usize,
        pages,
        spans: spans.cast(),
    }));
    let first_unit = arena.base >> ARENA_SHIFT;
    if first_unit + units > ARENA_MAP_LEN {
        // An address beyond 48 bits: the platform does not match the map's assumption.
        return None;
    }
    let map = arena_map();
    let biased = arena.spans.as_ptr().wrapping_sub(arena.base >> PAGE_SHIFT);
    for unit in first_unit..first_unit + units {
        // SAFETY: `unit < ARENA_MAP_LEN` (checked above), in the mapping of `arena_map`.
        let entry = unsafe { &*map.as_ptr().add(unit) };
        // Release: publishes the arena's metadata and page map to lookups (fact (1)).
        entry.pages.store(biased, Ordering::Release);
        entry.arena.store(arena, Ordering::Release);
    }
    Some(arena)
}

/// The arena containing `addr`, if any.
#[inline]
pub(crate) fn arena_of(addr: usize) -> Option<&'static Arena> {
    if addr >> ADDRESS_BITS != 0 {
        return None;
    }
    // Acquire: pairs with the Release in `new_arena` (fact (1)).
    let arena = map_entry(addr >> ARENA_SHIFT)?
        .arena
        .load(Ordering::Acquire);
    // SAFETY: non-null entries point at leaked, never-freed `Arena`s.
    unsafe { arena.as_ref() }
}

/// The span owning the page that contains `addr`, if `addr` lies in an arena page that
/// belongs to a span. The span may be concurrently freed if `addr` is not a live object;
/// callers validate.
#[inline]
pub(crate) fn span_of(addr: usize) -> Option<NonNull<Span>> {
    if addr >> ADDRESS_BITS != 0 {
        return None;
    }
    // Acquire: pairs with the Release in `new_arena` (fact (1)).
    let biased = map_entry(addr >> ARENA_SHIFT)?
        .pages
        .load(Ordering::Acquire);
    if biased.is_null() {
        return None;
    }
    // SAFETY: a non-null `pages` is the page map of the arena holding `addr`, biased by
    // the arena's first page number (`MapEntry::pages`): adding `addr`'s page number gives
    // the entry of that page, inside the page map, which stays mapped for the process.
    let entry = unsafe { &*biased.wrapping_add(addr >> PAGE_SHIFT) };
    // Acquire: pairs with the Release in `set_pages` (fact (2)).
    NonNull::new(entry.load(Ordering::Acquire))
}

/// Null, for page-map stores that clear.
pub(crate) const NO_SPAN: *mut Span = ptr::null_mut();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_outside_arenas_are_not_heap() {
        assert!(arena_of(0).is_none());
        assert!(arena_of(usize::MAX).is_none());
        assert!(arena_of(1 << 48).is_none());
        let local = 5u64;
        assert!(span_of(&local as *const u64 as usize).is_none());
    }

    #[test]
    fn new_arena_is_registered_for_every_unit() {
        let arena = new_arena(2).expect("reserve 128 MiB");
        assert_eq!(arena.base % ARENA_BYTES, 0);
        assert_eq!(arena.pages, 2 * PAGES_PER_ARENA);
        for probe in [
            arena.base,
            arena.base + ARENA_BYTES - 1,
            arena.base + ARENA_BYTES + 17,
        ] {
            let found = arena_of(probe).expect("registered");
            assert!(ptr::eq(found, arena));
            assert!(span_of(probe).is_none(), "no span owns a fresh page");
        }
        assert!(!ptr::eq(
            arena_of(arena.base + 2 * ARENA_BYTES).map_or(ptr::null(), |a| a),
            arena
        ));
    }

    #[test]
    fn span_of_finds_the_span_of_a_page_in_any_unit_of_an_arena() {
        // The entry's page-map pointer is biased by the arena's first page; a page of the
        // second unit must land on its own page-map entry, not the first unit's.
        let arena = new_arena(2).expect("reserve 128 MiB");
        let span = Box::leak(Box::new(Span::new_free()));
        let page = PAGES_PER_ARENA + 3;
        arena.set_pages(page, 2, span);
        let span_ptr: *const Span = span;
        for probe in [
            arena.page_addr(page),
            arena.page_addr(page) + 17,
            arena.page_addr(page + 1) + PAGE_BYTES - 1,
        ] {
            let found = span_of(probe).expect("a span owns the page");
            assert!(ptr::eq(found.as_ptr(), span_ptr), "{probe:#x}");
        }
        assert!(span_of(arena.page_addr(page - 1)).is_none());
        assert!(span_of(arena.page_addr(page + 2)).is_none());
        assert!(
            span_of(arena.page_addr(3)).is_none(),
            "the first unit's page 3 is free"
        );
        arena.set_pages(page, 2, NO_SPAN);
        assert!(span_of(arena.page_addr(page)).is_none());
    }
}
