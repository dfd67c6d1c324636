//! Spans: a run of pages cut into objects of one size class (Go's `mspan`).
//!
//! # Design
//! A span owns `pages` pages from `start` and `elem_count` slots of `elem_bytes` each.
//! Its state lives in four bitmaps (one bit per slot, off-heap, see `meta.rs`) and a
//! handful of counters:
//! - `alloc_bits`: slots allocated as of the last sweep;
//! - `mark_bits`: slots the collector marked this cycle (set concurrently with atomic OR);
//! - `freed_bits`: slots explicitly freed since the last sweep by a thread that does not
//!   own the span (atomic OR; mimalloc's "thread-free" list, as a bitmap);
//! - `local_freed_bits`: slots freed by the owning thread cache's thread (plain load and
//!   store, no read-modify-write; mimalloc's "local free" list);
//! - `born_bits`: slots allocated black during the running cycle's `Mark` (set with the
//!   mark bit by `mark_born`, cleared by every sweep for the slots it frees and by the
//!   collector's sweep for all): count-zero reclamation may free those during `Mark`,
//!   because no pass of the cycle ever traces them (docs/collector.md, rule M1);
//! - `free_index`: every slot below it is allocated; allocation searches from here;
//! - `alloc_cache`: the inverted alloc bits from `free_index` to the end of its 64-bit
//!   word, so the next free slot is one count-trailing-zeros away (Go's `allocCache`).
//!
//! A slot is allocated iff `index < free_index || alloc_bits[index]`, and not yet freed
//! iff additionally neither freed bitmap has it.
//!
//! # Algorithm
//! 1. `try_alloc_fast`: `ctz(alloc_cache)`; if it names a slot below `elem_count`, take it:
//!    shift the cache, bump `free_index` and `alloc_count`. No lock, no atomic
//!    read-modify-write: the span is owned by one thread cache while it allocates.
//! 2. `refill_alloc_cache` (slow path): load the next word of `alloc_bits` that has a free
//!    slot at or after `free_index`; `false` when the span is full.
//! 3. `free` (another thread): bump `freed_count`, set the slot's `freed_bits` bit
//!    (Release). `free_local` (the owner): set the `local_freed_bits` bit and bump
//!    `local_freed_count` with plain stores. Either way the slot is not reusable until
//!    the span is swept.
//! 4. `sweep`: with exclusive ownership, compute per word
//!    `allocated = alloc | below(free_index)`, `keep = mark (GC sweep) or all`,
//!    `freed = freed | local_freed`, report `allocated & !keep & !freed` as dead (the caller runs drop glue),
//!    and make `allocated & keep & !freed` the new alloc bits — for a GC sweep by writing
//!    them into the mark bitmap and swapping the two bitmap pointers (Go's
//!    `allocBits = gcmarkBits`), then clearing the new mark bitmap. `free_index` restarts
//!    at 0.
//!
//! # Ownership (who may touch what)
//! - Identity fields (`start`, `pages`, `span_class`, `elem_*`) are written by `init`
//!   before the page map publishes the span and are constant until `reset_free`.
//! - Owner fields (`alloc_cache`, writes of `free_index` and `alloc_count`, `sweep`) belong
//!   to the thread cache that has the span cached, otherwise to whoever holds the
//!   span class's central lock. Ownership moves only through that lock, so each hand-over
//!   is a happens-before edge.
//! - `mark_bits` is written by markers (atomic OR: `mark`, `mark_mask`) only while no sweep
//!   runs (the collector never overlaps a mark phase and a sweep of the same span).
//! - `freed_bits` / `freed_count` may be set by any thread at any time.
//! - `local_freed_bits` / `local_freed_count` are written only by the owning cache's
//!   thread (like `alloc_cache`); others may read them racily through atomics.
//! - `links` / `list` belong to the central list and are protected by its lock.
//!
//! # Memory ordering
//! (1) `free` sets the freed bit with Release; `sweep` swaps the word out with Acquire, so
//!     the freeing thread's last accesses to the object happen-before the slot's reuse.
//! (2) `free_index` is stored with Release by the owner after each allocation; readers
//!     that iterate allocated slots (`for_each_allocated`) load it with Acquire.

use core::ptr::NonNull;

use super::meta;
use super::size_class::{SizeClass, SpanClass, PAGE_BYTES};
use crate::sync::{AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering, UnsafeCell};

/// Where a span is, for the central lists. Authoritative under the central lock; read
/// racily elsewhere only as a hint.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum ListId {
    /// Free span struct, or a span in transit.
    Nowhere = 0,
    /// Cached by a thread cache: allocation happens here.
    Cached = 1,
    /// On the partial list: has free slots (or pending frees).
    Partial = 2,
    /// On the full list: no free slot at the time it was listed.
    Full = 3,
    /// On the empty list: no allocated slot; kept for reuse until the scavenger's next
    /// period, then returned to the page heap.
    Empty = 4,
}

impl ListId {
    fn from_u8(value: u8) -> ListId {
        match value {
            0 => ListId::Nowhere,
            1 => ListId::Cached,
            2 => ListId::Partial,
            3 => ListId::Full,
            4 => ListId::Empty,
            _ => unreachable!("tricolor-gc: corrupt span list id {value}"),
        }
    }
}

/// Intrusive list links, protected by the central lock of the span's class.
#[derive(Debug)]
pub(crate) struct Links {
    pub(crate) prev: Option<NonNull<Span>>,
    pub(crate) next: Option<NonNull<Span>>,
    /// Which half of the central list the span is on (0 or 1): the sweep-generation half
    /// for partial/full lists, the age (0 new, 1 old) for the empty list.
    pub(crate) half: u8,
}

/// What a sweep did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct SweepOutcome {
    /// Slots that were allocated before and are free now (dead + explicitly freed).
    pub(crate) freed_slots: usize,
    /// Of those, the slots that died by not being marked (the ones reported to
    /// `on_dead`). Explicitly freed slots were counted by whoever freed them.
    pub(crate) dead_slots: usize,
    /// Slots still allocated.
    pub(crate) live_slots: usize,
    /// Of those, the slots allocated black during the cycle's `Mark` (born): survivors by
    /// construction, not found reachable (a sweep with mark bits only; else 0).
    pub(crate) born_live_slots: usize,
}

/// What an allocation records in its span before it publishes the slot (the Release
/// store of `free_index`, fact 2), so that every thread that finds the slot allocated also
/// finds these bits. `NewSlot::default()` records nothing (raw allocation).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NewSlot {
    /// Allocated during `Mark` (black allocation): set the slot's mark and born bits. A walk
    /// of the cycle that sees the slot allocated sees it marked, whatever its header holds.
    pub(crate) born: bool,
    /// The object has drop glue: the sweep's drop pass must visit the span
    /// ([`Span::has_drop_glue`]).
    pub(crate) drop_glue: bool,
}

/// A run of pages holding objects of one size class. See the module docs.
///
/// Cache-line aligned: the owner writes `free_index`, `alloc_count` and the local-free
/// count on its fast paths, and span structs of different threads sit side by side in
/// `meta`'s chunks; sharing a line would make two threads' fast paths contend.
#[derive(Debug)]
#[repr(align(64))]
pub(crate) struct Span {
    // -- identity: constant while in use --
    start: AtomicUsize,
    pages: AtomicUsize,
    elem_bytes: AtomicUsize,
    elem_count: AtomicU32,
    /// The reciprocal that turns a byte offset into a slot index, `(offset * div_magic) >>
    /// 32 == offset / elem_bytes` below the span's end (`SizeClass::div_magic`); 0 for a
    /// large span, whose one slot is index 0. Kept here so that `slot_of`, on every
    /// edge the collector follows, reads it beside `start` instead of through the class.
    div_magic: AtomicU32,
    span_class: AtomicU8,
    /// 1 if the span holds collector-managed objects (see `heap::centrals`).
    managed: AtomicU8,
    in_use: AtomicU8,
    /// 1 if some object allocated since the span was last empty has drop glue. Set by the
    /// owner before it publishes that object's slot; cleared by a sweep or merge that
    /// leaves the span empty. A span without it is swept by bitmap alone (`sweep/`).
    drop_glue: AtomicU8,
    // -- bitmaps: `3 * bitmap_words` words from `meta::alloc_bitmaps` --
    bitmap_block: AtomicPtr<AtomicU64>,
    alloc_bits: AtomicPtr<AtomicU64>,
    mark_bits: AtomicPtr<AtomicU64>,
    freed_bits: AtomicPtr<AtomicU64>,
    local_freed_bits: AtomicPtr<AtomicU64>,
    born_bits: AtomicPtr<AtomicU64>,
    bitmap_words: AtomicU32,
    // -- owner fields --
    /// Id (address) of the thread cache that owns the span, 0 if none. Written by that
    /// cache (set after it receives the span, cleared before it gives it back); read by
    /// `free` on any thread, which only compares it with its own cache's id.
    owner: AtomicUsize,
    free_index: AtomicU32,
    alloc_count: AtomicU32,
    alloc_cache: UnsafeCell<u64>,
    // -- any thread --
    freed_count: AtomicU32,
    // -- owner only (written); see module docs --
    local_freed_count: AtomicU32,
    /// Sweep generation (Go's `mspan.sweepgen`), read against the heap's generation `h`
    /// only through the accessors below (`begin_sweep`, `end_sweep`, `is_being_swept`).
    /// `h - 1` means "being swept": the collector's sweep has the span, from before its
    /// drop pass to after its free pass. `h - 1` is odd and nothing else stores an odd
    /// value, so a stale value from an earlier cycle never reads as "being swept". Written
    /// and read only by the collector thread (the sweep, and `Gc::drop` inside the drop
    /// glue it runs); Relaxed throughout.
    sweep_gen: AtomicU32,
    /// `free_index` and `alloc_count` when the span was last filed on a central list (under
    /// its lock): nobody allocates from a listed span, so they must still hold when it
    /// leaves the list (`check_unchanged_since_filed`).
    filed_state: AtomicU64,
    // -- central list --
    list: AtomicU8,
    pub(crate) links: UnsafeCell<Links>,
}

// SAFETY: shared fields are atomics; `alloc_cache` and `links` are only accessed by the
// span's current owner (its thread cache, or the holder of its central lock), and
// ownership moves only through the central lock (module docs, "Ownership").
unsafe impl Sync for Span {}
// SAFETY: as above; a `Span` holds no thread-bound data.
unsafe impl Send for Span {}

/// Bit mask of the slots `[0, n)` that fall in word `word`.
#[inline]
fn below_mask(n: usize, word: usize) -> u64 {
    let lo = word * 64;
    if n <= lo {
        0
    } else if n >= lo + 64 {
        !0
    } else {
        (1u64 << (n - lo)) - 1
    }
}

impl Span {
    /// A span struct in the free state (also the "no span" sentinel of thread caches).
    pub(crate) const fn new_free() -> Span {
        Span {
            start: AtomicUsize::new(0),
            pages: AtomicUsize::new(0),
            elem_bytes: AtomicUsize::new(0),
            elem_count: AtomicU32::new(0),
            div_magic: AtomicU32::new(0),
            span_class: AtomicU8::new(0),
            managed: AtomicU8::new(0),
            in_use: AtomicU8::new(0),
            drop_glue: AtomicU8::new(0),
            bitmap_block: AtomicPtr::new(core::ptr::null_mut()),
            alloc_bits: AtomicPtr::new(core::ptr::null_mut()),
            mark_bits: AtomicPtr::new(core::ptr::null_mut()),
            freed_bits: AtomicPtr::new(core::ptr::null_mut()),
            local_freed_bits: AtomicPtr::new(core::ptr::null_mut()),
            born_bits: AtomicPtr::new(core::ptr::null_mut()),
            bitmap_words: AtomicU32::new(0),
            owner: AtomicUsize::new(0),
            free_index: AtomicU32::new(0),
            alloc_count: AtomicU32::new(0),
            alloc_cache: UnsafeCell::new(0),
            freed_count: AtomicU32::new(0),
            local_freed_count: AtomicU32::new(0),
            sweep_gen: AtomicU32::new(0),
            filed_state: AtomicU64::new(0),
            list: AtomicU8::new(ListId::Nowhere as u8),
            links: UnsafeCell::new(Links {
                prev: None,
                next: None,
                half: 0,
            }),
        }
    }

    /// Sets up a free span struct to own `pages` pages at `start` for `class`.
    /// Returns `false` (leaving the struct free) if bitmap memory cannot be had.
    ///
    /// Must be called before the span is published in the page map, by its only user.
    pub(crate) fn init(&self, start: usize, pages: usize, class: SpanClass) -> bool {
        let size = class.size_class();
        let (elem_bytes, elem_count) = if size.is_large() {
            (pages * PAGE_BYTES, 1)
        } else {
            (size.object_bytes(), size.objects_per_span())
        };
        let words = elem_count.div_ceil(64);
        let Some(block) = meta::alloc_bitmaps(words) else {
            return false;
        };
        // All stores Relaxed: the span is not yet visible to any other thread; the page
        // map's Release store (arena.rs fact (2)) or the central lock publishes them.
        self.start.store(start, Ordering::Relaxed);
        self.pages.store(pages, Ordering::Relaxed);
        self.elem_bytes.store(elem_bytes, Ordering::Relaxed);
        self.elem_count.store(elem_count as u32, Ordering::Relaxed);
        self.div_magic.store(size.div_magic(), Ordering::Relaxed);
        self.span_class
            .store(class.index() as u8, Ordering::Relaxed);
        self.bitmap_words.store(words as u32, Ordering::Relaxed);
        self.bitmap_block.store(block.as_ptr(), Ordering::Relaxed);
        // SAFETY: the block holds `BITMAPS_PER_SPAN * words` words (meta::alloc_bitmaps).
        let (mark, freed, local, born) = unsafe {
            (
                block.as_ptr().add(words),
                block.as_ptr().add(2 * words),
                block.as_ptr().add(3 * words),
                block.as_ptr().add(4 * words),
            )
        };
        self.alloc_bits.store(block.as_ptr(), Ordering::Relaxed);
        self.mark_bits.store(mark, Ordering::Relaxed);
        self.freed_bits.store(freed, Ordering::Relaxed);
        self.local_freed_bits.store(local, Ordering::Relaxed);
        self.born_bits.store(born, Ordering::Relaxed);
        self.free_index.store(0, Ordering::Relaxed);
        self.alloc_count.store(0, Ordering::Relaxed);
        self.freed_count.store(0, Ordering::Relaxed);
        self.local_freed_count.store(0, Ordering::Relaxed);
        self.list.store(ListId::Nowhere as u8, Ordering::Relaxed);
        self.drop_glue.store(0, Ordering::Relaxed);
        // A fresh span has every slot free: the first word's inverted bits are all ones.
        self.alloc_cache.with_mut(|cache| {
            // SAFETY: we are the only user of an unpublished span.
            unsafe { *cache = !0 }
        });
        self.in_use.store(1, Ordering::Relaxed);
        true
    }

    /// Returns the span to the free state and its bitmaps to `meta`. The caller then
    /// clears the page map and frees the pages.
    ///
    /// # Safety
    /// The caller owns the span exclusively and no live object remains in it.
    pub(crate) unsafe fn reset_free(&self) {
        let words = self.bitmap_words.load(Ordering::Relaxed) as usize;
        if let Some(block) = NonNull::new(self.bitmap_block.load(Ordering::Relaxed)) {
            // SAFETY: the block came from `alloc_bitmaps(words)` in `init` and the span is
            // exclusively ours, so no one uses the bitmaps any more.
            unsafe { meta::free_bitmaps(block, words) };
        }
        self.bitmap_block
            .store(core::ptr::null_mut(), Ordering::Relaxed);
        self.alloc_bits
            .store(core::ptr::null_mut(), Ordering::Relaxed);
        self.mark_bits
            .store(core::ptr::null_mut(), Ordering::Relaxed);
        self.freed_bits
            .store(core::ptr::null_mut(), Ordering::Relaxed);
        self.local_freed_bits
            .store(core::ptr::null_mut(), Ordering::Relaxed);
        self.born_bits
            .store(core::ptr::null_mut(), Ordering::Relaxed);
        self.elem_count.store(0, Ordering::Relaxed);
        self.in_use.store(0, Ordering::Release);
    }

    // ---- identity ----

    /// First byte of the span.
    #[inline]
    pub(crate) fn start(&self) -> usize {
        self.start.load(Ordering::Relaxed)
    }
    /// Pages in the span.
    #[inline]
    pub(crate) fn pages(&self) -> usize {
        self.pages.load(Ordering::Relaxed)
    }
    /// Bytes per slot.
    #[inline]
    pub(crate) fn elem_bytes(&self) -> usize {
        self.elem_bytes.load(Ordering::Relaxed)
    }
    /// Number of slots.
    #[inline]
    pub(crate) fn elem_count(&self) -> usize {
        self.elem_count.load(Ordering::Relaxed) as usize
    }
    /// The span class.
    #[inline]
    pub(crate) fn span_class(&self) -> SpanClass {
        SpanClass::from_index(self.span_class.load(Ordering::Relaxed) as usize)
    }
    /// Whether the span holds collector-managed objects.
    #[inline]
    pub(crate) fn is_managed(&self) -> bool {
        self.managed.load(Ordering::Relaxed) == 1
    }
    /// Whether some object allocated since the span was last empty has drop glue (then the
    /// sweep's drop pass visits its dead objects; otherwise it is swept by bitmap alone).
    /// Exact for the sweeper: the flag is set before the object's slot is published, and
    /// the span reaches the sweeper through mark termination's stop and the central lock.
    #[inline]
    pub(crate) fn has_drop_glue(&self) -> bool {
        self.drop_glue.load(Ordering::Relaxed) != 0
    }
    /// Records whether the span holds managed objects; before any slot is allocated.
    /// A managed span's slots start with a null first word (the object header's type
    /// pointer, see `collector/header.rs`): the collector reads that word of any allocated
    /// slot and must find null until `Gc::new` publishes the object.
    pub(crate) fn set_managed(&self, managed: bool) {
        if managed {
            for slot in 0..self.elem_count() {
                // SAFETY: slot addresses of a span we own exclusively (not yet handed out):
                // in bounds, 8-aligned (slot sizes are multiples of 8, spans page-aligned).
                let word = unsafe { &*(self.slot_addr(slot) as *const AtomicUsize) };
                // Relaxed: published by the slot's allocation (`free_index` Release, fact 2).
                word.store(0, Ordering::Relaxed);
            }
        }
        self.managed.store(managed as u8, Ordering::Relaxed);
    }
    /// Whether the span currently owns pages (a racy hint outside the owner).
    #[inline]
    pub(crate) fn is_in_use(&self) -> bool {
        self.in_use.load(Ordering::Acquire) == 1
    }
    /// Allocated slots as counted by the owner (exact for the owner, a hint for others).
    #[inline]
    pub(crate) fn alloc_count(&self) -> usize {
        self.alloc_count.load(Ordering::Relaxed) as usize
    }
    /// The owning thread cache's id, 0 if none.
    #[inline]
    pub(crate) fn owner(&self) -> usize {
        // Relaxed: a thread compares it with its own id; only that thread ever stores its
        // id here, so a match cannot be stale (module docs, "Ownership").
        self.owner.load(Ordering::Relaxed)
    }
    /// Records the owning cache (0 when handing the span back). Owner only.
    #[inline]
    pub(crate) fn set_owner(&self, cache_id: usize) {
        self.owner.store(cache_id, Ordering::Relaxed);
    }
    /// Explicit frees not yet merged by a sweep.
    #[inline]
    pub(crate) fn pending_frees(&self) -> usize {
        (self.freed_count.load(Ordering::Relaxed) + self.local_freed_count.load(Ordering::Relaxed))
            as usize
    }
    /// Where the span is listed.
    #[inline]
    pub(crate) fn list(&self) -> ListId {
        ListId::from_u8(self.list.load(Ordering::Relaxed))
    }
    /// Records where the span is listed. Called under the central lock.
    #[inline]
    pub(crate) fn set_list(&self, list: ListId) {
        self.list.store(list as u8, Ordering::Relaxed);
    }

    fn allocation_state(&self) -> u64 {
        (self.free_index.load(Ordering::Relaxed) as u64) << 32
            | self.alloc_count.load(Ordering::Relaxed) as u64
    }

    /// Snapshots the allocation state as the span is filed on a central list. Called by
    /// the list's owner under the central lock.
    pub(crate) fn note_filed(&self) {
        self.filed_state
            .store(self.allocation_state(), Ordering::Relaxed);
    }

    /// Panics if someone allocated from the span since it was filed (a thread cache that
    /// kept using a span it had handed back, which a sweep would then lose objects of).
    /// Called under the central lock as the span leaves a list.
    pub(crate) fn check_unchanged_since_filed(&self, what: &str) {
        let filed = self.filed_state.load(Ordering::Relaxed);
        let now = self.allocation_state();
        assert!(
            filed == now,
            "tricolor-gc: span {:#x} was allocated from while listed (found by {what}): \
             free_index {} -> {}, alloc_count {} -> {}, owner {:#x}",
            self.start(),
            filed >> 32,
            now >> 32,
            filed as u32,
            now as u32,
            self.owner()
        );
    }

    /// The slot index of `addr`, if `addr` points into a slot of this span.
    #[inline]
    pub(crate) fn slot_of(&self, addr: usize) -> Option<usize> {
        let offset = addr.checked_sub(self.start())?;
        // Exact below the span's end, which the check below requires.
        let index =
            ((offset as u64 * self.div_magic.load(Ordering::Relaxed) as u64) >> 32) as usize;
        (index < self.elem_count() && offset < self.pages() * PAGE_BYTES).then_some(index)
    }

    /// The address of slot `index`.
    #[inline]
    pub(crate) fn slot_addr(&self, index: usize) -> usize {
        debug_assert!(index < self.elem_count());
        self.start() + index * self.elem_bytes()
    }

    #[inline]
    fn word(bits: *mut AtomicU64, word: usize) -> &'static AtomicU64 {
        // SAFETY: callers pass one of this span's five bitmaps and `word < bitmap_words`;
        // bitmap memory is never unmapped (meta.rs), so `'static` cannot dangle.
        unsafe { &*bits.add(word) }
    }

    #[inline]
    fn words(&self) -> usize {
        self.bitmap_words.load(Ordering::Relaxed) as usize
    }

    // ---- allocation (owner only) ----

    /// Takes the next free slot if the allocation cache has one. Owner only.
    #[inline(always)]
    pub(crate) fn try_alloc_fast(&self, new: NewSlot) -> Option<NonNull<u8>> {
        self.alloc_cache.with_mut(|cache_ptr| {
            // SAFETY: only the span's owner calls this (module docs, "Ownership").
            let cache = unsafe { *cache_ptr };
            let bit = cache.trailing_zeros();
            if bit == 64 {
                return None;
            }
            let index = self.free_index.load(Ordering::Relaxed) + bit;
            if index >= self.elem_count.load(Ordering::Relaxed) {
                return None;
            }
            // SAFETY: as above.
            unsafe { *cache_ptr = (cache >> bit) >> 1 };
            if new.born {
                self.mark_born(index as usize);
            }
            // Load first, store only when it changes: after a span's first object with
            // drop glue, the fast path writes nothing more for the flag.
            if new.drop_glue && self.drop_glue.load(Ordering::Relaxed) == 0 {
                self.drop_glue.store(1, Ordering::Relaxed);
            }
            // Release: fact (2); also publishes the bits `new` set.
            self.free_index.store(index + 1, Ordering::Release);
            let count = self.alloc_count.load(Ordering::Relaxed);
            self.alloc_count.store(count + 1, Ordering::Relaxed);
            let addr = self.start.load(Ordering::Relaxed)
                + index as usize * self.elem_bytes.load(Ordering::Relaxed);
            // SAFETY: a slot address inside a mapped arena is never null.
            Some(unsafe { NonNull::new_unchecked(addr as *mut u8) })
        })
    }

    /// Loads the allocation cache from the first word at or after `free_index` that has a
    /// free slot. Returns `false` if the span has no free slot. Owner only.
    pub(crate) fn refill_alloc_cache(&self) -> bool {
        let count = self.elem_count();
        let alloc = self.alloc_bits.load(Ordering::Relaxed);
        let mut index = self.free_index.load(Ordering::Relaxed) as usize;
        while index < count {
            let word = index / 64;
            let free = !Self::word(alloc, word).load(Ordering::Relaxed) & below_mask(count, word);
            let window = free >> (index % 64);
            if window != 0 {
                self.alloc_cache.with_mut(|cache| {
                    // SAFETY: owner only (module docs).
                    unsafe { *cache = window }
                });
                self.free_index.store(index as u32, Ordering::Release);
                return true;
            }
            index = (word + 1) * 64;
        }
        self.free_index.store(count as u32, Ordering::Release);
        self.alloc_cache.with_mut(|cache| {
            // SAFETY: owner only (module docs).
            unsafe { *cache = 0 }
        });
        false
    }

    // ---- freeing ----

    /// Marks slot `index` as freed; the slot becomes reusable at the span's next sweep.
    /// Returns the number of pending frees including this one. Any thread.
    ///
    /// The count is raised *before* the bit is set, so `freed_count` is never below the
    /// number of set freed bits and a sweep's subtraction cannot wrap it. It may briefly
    /// over-report; it is only a heuristic (list moves), never the basis for freeing a span
    /// (that decision reads the bitmaps in `sweep`) nor for allocating from one: a sweep
    /// that runs between the two steps finds no bit for this free, so reusers check
    /// `free_slots` after sweeping (docs/allocator.md, "Span lifecycle", rule 6).
    ///
    /// # Safety
    /// Slot `index` is allocated and not already freed (no double free).
    pub(crate) unsafe fn free(&self, index: usize) -> usize {
        let pending = self.freed_count.fetch_add(1, Ordering::Relaxed) as usize + 1;
        let freed = self.freed_bits.load(Ordering::Relaxed);
        let bit = 1u64 << (index % 64);
        // Release: fact (1).
        let old = Self::word(freed, index / 64).fetch_or(bit, Ordering::Release);
        debug_assert!(old & bit == 0, "tricolor-gc: double free of slot {index}");
        pending
    }

    /// The first half of a remote [`free`](Span::free), as a thread preempted inside it
    /// leaves the span: the pending count raised, the slot's bit not yet set (tests).
    #[cfg(test)]
    pub(crate) fn begin_remote_free_for_test(&self) {
        self.freed_count.fetch_add(1, Ordering::Relaxed);
    }

    /// The second half of that free: sets slot `index`'s freed bit (tests).
    ///
    /// # Safety
    /// As [`free`](Span::free), after [`begin_remote_free_for_test`](Span::begin_remote_free_for_test).
    #[cfg(test)]
    pub(crate) unsafe fn finish_remote_free_for_test(&self, index: usize) {
        let freed = self.freed_bits.load(Ordering::Relaxed);
        Self::word(freed, index / 64).fetch_or(1 << (index % 64), Ordering::Release);
    }

    /// The owner's free: marks slot `index` as freed with plain stores (no read-modify-write).
    ///
    /// # Safety
    /// - The calling thread's cache owns the span (module docs, "Ownership").
    /// - Slot `index` is allocated and not already freed.
    #[inline]
    pub(crate) unsafe fn free_local(&self, index: usize) {
        let local = self.local_freed_bits.load(Ordering::Relaxed);
        let bit = 1u64 << (index % 64);
        let word = Self::word(local, index / 64);
        let old = word.load(Ordering::Relaxed);
        debug_assert!(old & bit == 0, "tricolor-gc: double free of slot {index}");
        // Relaxed: only the owner writes this bitmap; other threads read it as a hint, and
        // the owner itself sweeps it (program order).
        word.store(old | bit, Ordering::Relaxed);
        let count = self.local_freed_count.load(Ordering::Relaxed);
        self.local_freed_count.store(count + 1, Ordering::Relaxed);
    }

    /// Free slots (current plus pending) that make a span worth allocating from:
    /// an eighth of its slots, at least one. Below it, handing the span to a thread cache
    /// would cost a refill per handful of allocations.
    #[inline]
    pub(crate) fn reuse_threshold(&self) -> usize {
        (self.elem_count() / 8).max(1)
    }

    // ---- sweep state (collector thread) ----

    /// Records that the collector's sweep of heap generation `heap_gen` has the span
    /// (before its drop pass). Collector thread only.
    pub(crate) fn begin_sweep(&self, heap_gen: u32) {
        // Relaxed: written and read only by the collector thread (field docs).
        self.sweep_gen
            .store(heap_gen.wrapping_sub(1), Ordering::Relaxed);
    }

    /// Records that the span is swept for heap generation `heap_gen` (after the free
    /// pass). Collector thread only.
    pub(crate) fn end_sweep(&self, heap_gen: u32) {
        // Relaxed: as in `begin_sweep`.
        self.sweep_gen.store(heap_gen, Ordering::Relaxed);
    }

    /// Whether the collector's sweep of heap generation `heap_gen` has the span (between
    /// `begin_sweep` and `end_sweep`). Collector thread only.
    #[inline]
    pub(crate) fn is_being_swept(&self, heap_gen: u32) -> bool {
        // Relaxed: as in `begin_sweep`.
        self.sweep_gen.load(Ordering::Relaxed) == heap_gen.wrapping_sub(1)
    }

    // ---- marking (collector) ----

    /// Sets the mark bit of slot `index`; returns whether it was clear before.
    #[inline]
    pub(crate) fn mark(&self, index: usize) -> bool {
        let bit = 1u64 << (index % 64);
        let marks = self.mark_bits.load(Ordering::Relaxed);
        Self::word(marks, index / 64).fetch_or(bit, Ordering::Relaxed) & bit == 0
    }

    /// Clears the mark and born bitmaps of an empty span taken for allocation outside
    /// `Mark` (`Central::cache_span`): a born object freed during a `Mark` left its bits,
    /// and an empty span is never swept, so they would make the slot's next object look
    /// marked to the next cycle (tests/regress_stale_mark.rs). Never during `Mark`, where a
    /// freed born slot must stay marked (docs/collector.md, R6).
    ///
    /// # Safety
    /// The caller owns the span (central lock held, not cached) and it holds no object.
    pub(crate) unsafe fn clear_marks_of_empty(&self) {
        debug_assert_eq!(self.alloc_count(), 0);
        let marks = self.mark_bits.load(Ordering::Relaxed);
        let born = self.born_bits.load(Ordering::Relaxed);
        for word in 0..self.words() {
            // Relaxed: no marker runs outside `Mark`, and the span reaches its next owner
            // through the central lock.
            Self::word(marks, word).store(0, Ordering::Relaxed);
            Self::word(born, word).store(0, Ordering::Relaxed);
        }
    }

    /// Marks slot `index` as allocated black during `Mark` (`Gc::new`, before the object
    /// is published): its mark bit and its born bit.
    #[inline]
    pub(crate) fn mark_born(&self, index: usize) {
        let bit = 1u64 << (index % 64);
        let marks = self.mark_bits.load(Ordering::Relaxed);
        Self::word(marks, index / 64).fetch_or(bit, Ordering::Relaxed);
        let born = self.born_bits.load(Ordering::Relaxed);
        // Relaxed: read by whoever takes this object's count to zero, which holds (or
        // held) a handle made after this store, so the store happens-before that read
        // (the handle's hand-off, then the Acquire fence of `count_reached_zero`).
        Self::word(born, index / 64).fetch_or(bit, Ordering::Relaxed);
    }

    /// Whether slot `index` holds an object allocated black during the running cycle's
    /// `Mark` (see `mark_born`; exact for an object whose handle the caller held).
    #[inline]
    pub(crate) fn is_born(&self, index: usize) -> bool {
        let born = self.born_bits.load(Ordering::Relaxed);
        Self::word(born, index / 64).load(Ordering::Relaxed) & (1u64 << (index % 64)) != 0
    }

    /// Whether slot `index` is marked.
    #[inline]
    pub(crate) fn is_marked(&self, index: usize) -> bool {
        let marks = self.mark_bits.load(Ordering::Relaxed);
        Self::word(marks, index / 64).load(Ordering::Relaxed) & (1u64 << (index % 64)) != 0
    }

    /// Whether slot `index` is allocated and not explicitly freed.
    pub(crate) fn is_allocated(&self, index: usize) -> bool {
        if index >= self.elem_count() {
            return false;
        }
        let bit = 1u64 << (index % 64);
        let word = index / 64;
        let freed = Self::word(self.freed_bits.load(Ordering::Relaxed), word)
            .load(Ordering::Acquire)
            | Self::word(self.local_freed_bits.load(Ordering::Relaxed), word)
                .load(Ordering::Relaxed);
        if freed & bit != 0 {
            return false;
        }
        // Acquire: fact (2).
        index < self.free_index.load(Ordering::Acquire) as usize
            || Self::word(self.alloc_bits.load(Ordering::Relaxed), word).load(Ordering::Relaxed)
                & bit
                != 0
    }

    /// The mark bits of slots `64 * word ..` (bit `i` is slot `64 * word + i`), as of now.
    /// `word` is below the span's bitmap length (`elem_count` slots, rounded up to words).
    #[inline]
    pub(crate) fn mark_word(&self, word: usize) -> u64 {
        debug_assert!(word < self.words());
        let marks = self.mark_bits.load(Ordering::Relaxed);
        Self::word(marks, word).load(Ordering::Relaxed)
    }

    /// The batch form of [`mark`](Span::mark): sets the mark bits `mask` of word `word` in
    /// one atomic OR and returns the word's bits before it, so the caller learns which of
    /// them it set (`mask & !old`) exactly as `mark` tells it for one slot.
    #[inline]
    pub(crate) fn mark_mask(&self, word: usize, mask: u64) -> u64 {
        debug_assert!(word < self.words());
        let marks = self.mark_bits.load(Ordering::Relaxed);
        Self::word(marks, word).fetch_or(mask, Ordering::Relaxed)
    }

    /// Calls `f(word, bits)` for every bitmap word of the span with an allocated, not
    /// explicitly freed slot: bit `i` of `bits` is slot `64 * word + i`. The same slots as
    /// [`for_each_allocated`](Span::for_each_allocated), a word at a time.
    #[inline]
    pub(crate) fn for_each_allocated_word(&self, mut f: impl FnMut(usize, u64)) {
        let count = self.elem_count();
        // Acquire: fact (2).
        let free_index = self.free_index.load(Ordering::Acquire) as usize;
        let alloc = self.alloc_bits.load(Ordering::Relaxed);
        let freed = self.freed_bits.load(Ordering::Relaxed);
        let local = self.local_freed_bits.load(Ordering::Relaxed);
        for word in 0..self.words() {
            let bits = (Self::word(alloc, word).load(Ordering::Relaxed)
                | below_mask(free_index, word))
                & below_mask(count, word)
                & !Self::word(freed, word).load(Ordering::Acquire)
                & !Self::word(local, word).load(Ordering::Relaxed);
            if bits != 0 {
                f(word, bits);
            }
        }
    }

    /// Calls `f(index)` for every allocated, not explicitly freed slot.
    pub(crate) fn for_each_allocated(&self, mut f: impl FnMut(usize)) {
        self.for_each_allocated_word(|word, mut bits| {
            while bits != 0 {
                f(word * 64 + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
        });
    }

    // ---- sweeping (exclusive owner) ----

    /// Merges explicit frees and, if `use_marks`, the collector's marks into the
    /// allocation state; calls `on_dead(index)` for each slot that dies by not being marked
    /// (explicitly freed slots are not reported: their owner already disposed of them).
    /// Restarts allocation from slot 0.
    ///
    /// `owner` is the id of the thread cache that calls (it owns the span) or 0 (the
    /// caller holds the span's central lock or has it in transit, and no cache owns it);
    /// checked, because sweeping a span a cache allocates from loses its new objects.
    ///
    /// # Safety
    /// The caller owns the span exclusively (not cached elsewhere, central lock held or
    /// span in transit) and, if `use_marks`, marking of this span's cycle has finished.
    pub(crate) unsafe fn sweep(
        &self,
        use_marks: bool,
        owner: usize,
        mut on_dead: impl FnMut(usize),
    ) -> SweepOutcome {
        assert!(
            self.owner() == owner,
            "tricolor-gc: span {:#x} swept by {owner:#x} while owned by {:#x}",
            self.start(),
            self.owner()
        );
        let count = self.elem_count();
        let free_index = self.free_index.load(Ordering::Relaxed) as usize;
        let alloc = self.alloc_bits.load(Ordering::Relaxed);
        let marks = self.mark_bits.load(Ordering::Relaxed);
        let freed = self.freed_bits.load(Ordering::Relaxed);
        let local = self.local_freed_bits.load(Ordering::Relaxed);
        let born = self.born_bits.load(Ordering::Relaxed);
        let mut freed_slots = 0;
        let mut dead_slots = 0;
        let mut live_slots = 0;
        let mut born_live_slots = 0;
        let mut taken_frees = 0u32;
        for word in 0..self.words() {
            let valid = below_mask(count, word);
            let allocated = (Self::word(alloc, word).load(Ordering::Relaxed)
                | below_mask(free_index, word))
                & valid;
            // Acquire: fact (1).
            let remote = Self::word(freed, word).swap(0, Ordering::Acquire);
            taken_frees += remote.count_ones();
            // The local bitmap is only written by the owner, which is us or handed the
            // span over through the central lock: a plain load and store suffice.
            let gone = remote | Self::word(local, word).load(Ordering::Relaxed);
            Self::word(local, word).store(0, Ordering::Relaxed);
            let keep = if use_marks {
                Self::word(marks, word).load(Ordering::Relaxed)
            } else {
                !0
            };
            let mut dead = allocated & !keep & !gone;
            dead_slots += dead.count_ones() as usize;
            while dead != 0 {
                on_dead(word * 64 + dead.trailing_zeros() as usize);
                dead &= dead - 1;
            }
            let live = allocated & keep & !gone;
            freed_slots += (allocated & !live).count_ones() as usize;
            live_slots += live.count_ones() as usize;
            if use_marks {
                Self::word(marks, word).store(live, Ordering::Relaxed);
                born_live_slots +=
                    (Self::word(born, word).load(Ordering::Relaxed) & live).count_ones() as usize;
                // The cycle that set these is over: nothing is "born in `Mark`" any more.
                Self::word(born, word).store(0, Ordering::Relaxed);
            } else {
                Self::word(alloc, word).store(live, Ordering::Relaxed);
                // A freed slot's next object is born anew (or not at all).
                let kept = Self::word(born, word).load(Ordering::Relaxed) & live;
                Self::word(born, word).store(kept, Ordering::Relaxed);
                // Mark bits stay: a born object freed during `Mark` keeps its mark bit,
                // so that no walk or marker takes its slot for a white object (rule R6 of
                // docs/collector.md). A span this merge empties goes to the empty list,
                // which no sweep walks: `clear_marks_of_empty` clears such bits when the
                // span is next taken outside `Mark` (tests/regress_stale_mark.rs).
            }
        }
        if use_marks {
            // O(1) role swap: the mark bitmap (now holding the live set) becomes the
            // allocation bitmap; the old allocation bitmap is cleared for the next cycle.
            self.alloc_bits.store(marks, Ordering::Relaxed);
            self.mark_bits.store(alloc, Ordering::Relaxed);
            for word in 0..self.words() {
                Self::word(alloc, word).store(0, Ordering::Relaxed);
            }
        }
        self.freed_count.fetch_sub(taken_frees, Ordering::Relaxed);
        self.local_freed_count.store(0, Ordering::Relaxed);
        self.alloc_count.store(live_slots as u32, Ordering::Relaxed);
        if live_slots == 0 {
            // No object left, so none with drop glue (the owner's store; the next owner
            // gets the span through the central lock).
            self.drop_glue.store(0, Ordering::Relaxed);
        }
        self.free_index.store(0, Ordering::Release);
        self.refill_alloc_cache();
        SweepOutcome {
            freed_slots,
            dead_slots,
            live_slots,
            born_live_slots,
        }
    }

    /// Free slots right now, as seen by the owner (ignores pending frees).
    pub(crate) fn free_slots(&self) -> usize {
        self.elem_count() - self.alloc_count()
    }

    /// Recounts the bitmaps and checks the span's equations; panics with a
    /// `tricolor-gc:` message on a violation. Owner only; for tests and debug checks.
    pub(crate) fn check_invariants(&self) {
        let count = self.elem_count();
        let free_index = self.free_index.load(Ordering::Relaxed) as usize;
        assert!(
            free_index <= count,
            "tricolor-gc: span {:#x} free_index {free_index} > elem_count {count}",
            self.start()
        );
        let mut allocated = 0;
        let alloc = self.alloc_bits.load(Ordering::Relaxed);
        for word in 0..self.words() {
            let bits = Self::word(alloc, word).load(Ordering::Relaxed);
            assert!(
                bits & !below_mask(count, word) == 0,
                "tricolor-gc: span {:#x} has alloc bits past elem_count in word {word}",
                self.start()
            );
            allocated += ((bits | below_mask(free_index, word)) & below_mask(count, word))
                .count_ones() as usize;
        }
        assert_eq!(
            allocated,
            self.alloc_count(),
            "tricolor-gc: span {:#x} alloc_count disagrees with its bitmap",
            self.start()
        );
        let class: SizeClass = self.span_class().size_class();
        if !class.is_large() {
            assert_eq!(
                self.elem_bytes(),
                class.object_bytes(),
                "tricolor-gc: span slot size"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::size_class::SizeClass;

    fn test_span(class_bytes: usize) -> (Box<Span>, Vec<u8>) {
        let class = SizeClass::for_request(class_bytes, 8).expect("small class");
        let span = Box::new(Span::new_free());
        let pages = class.span_pages();
        let memory = vec![0u8; pages * PAGE_BYTES + PAGE_BYTES];
        let start = (memory.as_ptr() as usize).next_multiple_of(PAGE_BYTES);
        assert!(span.init(start, pages, SpanClass::new(class, false)));
        (span, memory)
    }

    fn alloc_index(span: &Span) -> Option<usize> {
        let p = span.try_alloc_fast(NewSlot::default()).or_else(|| {
            span.refill_alloc_cache()
                .then(|| span.try_alloc_fast(NewSlot::default()))
                .flatten()
        })?;
        span.slot_of(p.as_ptr() as usize)
    }

    #[test]
    fn allocates_every_slot_once_in_order_then_reports_full() {
        let (span, _mem) = test_span(16);
        let n = span.elem_count();
        for expect in 0..n {
            assert_eq!(alloc_index(&span), Some(expect));
        }
        assert_eq!(alloc_index(&span), None);
        assert_eq!(span.alloc_count(), n);
        span.check_invariants();
    }

    #[test]
    fn frees_become_reusable_only_after_sweep() {
        let (span, _mem) = test_span(64);
        let n = span.elem_count();
        for _ in 0..n {
            alloc_index(&span).expect("slot");
        }
        // Free slots at word edges: 0, 63, 64, and the last.
        let edges = [0, 63, 64, n - 1];
        for &i in &edges {
            // SAFETY: allocated above, freed once.
            unsafe { span.free(i) };
        }
        assert_eq!(span.pending_frees(), 4);
        assert!(!span.is_allocated(63));
        assert_eq!(alloc_index(&span), None, "no reuse before sweep");
        // SAFETY: the test owns the span.
        let outcome = unsafe { span.sweep(false, 0, |_| panic!("no marks used: nothing dies")) };
        assert_eq!(
            outcome,
            SweepOutcome {
                freed_slots: 4,
                dead_slots: 0,
                live_slots: n - 4,
                born_live_slots: 0,
            }
        );
        assert_eq!(span.pending_frees(), 0);
        span.check_invariants();
        let mut again: Vec<usize> = (0..4).map(|_| alloc_index(&span).expect("reuse")).collect();
        again.sort();
        assert_eq!(again, edges);
        assert_eq!(alloc_index(&span), None);
    }

    #[test]
    fn gc_sweep_keeps_marked_reports_dead_and_skips_freed() {
        let (span, _mem) = test_span(32);
        for _ in 0..130 {
            alloc_index(&span).expect("slot");
        }
        for i in (0..130).step_by(2) {
            span.mark(i);
        }
        // SAFETY: slot 1 is allocated and unmarked; freeing it explicitly means the sweep
        // must not report it dead a second time.
        unsafe { span.free(1) };
        let mut dead = Vec::new();
        // SAFETY: the test owns the span; marking is over.
        let outcome = unsafe { span.sweep(true, 0, |i| dead.push(i)) };
        let expected: Vec<usize> = (3..130).step_by(2).collect();
        assert_eq!(dead, expected);
        assert_eq!(outcome.live_slots, 65);
        assert_eq!(outcome.freed_slots, 65);
        assert_eq!(
            outcome.dead_slots, 64,
            "the explicitly freed slot is not dead again"
        );
        for i in 0..130 {
            assert_eq!(span.is_allocated(i), i % 2 == 0, "slot {i}");
            assert!(!span.is_marked(i), "marks cleared after sweep");
        }
        span.check_invariants();
        let mut seen = Vec::new();
        span.for_each_allocated(|i| seen.push(i));
        assert_eq!(seen, (0..130).step_by(2).collect::<Vec<_>>());
    }

    #[test]
    fn allocation_records_born_and_drop_glue_before_publishing_and_an_empty_sweep_forgets_them() {
        let (span, _mem) = test_span(32);
        let take = |new: NewSlot| {
            let p = span.try_alloc_fast(new).expect("slot");
            span.slot_of(p.as_ptr() as usize).unwrap()
        };
        let plain = take(NewSlot::default());
        assert!(!span.is_marked(plain) && !span.is_born(plain));
        assert!(!span.has_drop_glue(), "a drop-free object set the flag");
        let born = take(NewSlot {
            born: true,
            drop_glue: false,
        });
        assert!(
            span.is_marked(born) && span.is_born(born),
            "black allocation"
        );
        assert!(!span.has_drop_glue());
        let dropping = take(NewSlot {
            born: false,
            drop_glue: true,
        });
        assert!(!span.is_marked(dropping));
        assert!(span.has_drop_glue());
        // A merge that keeps objects keeps the flag (it is per span, not per object).
        // SAFETY: the slot is allocated; the test owns the span.
        unsafe { span.free_local(dropping) };
        // SAFETY: the test owns the span; no cycle runs.
        unsafe { span.sweep(false, 0, |_| {}) };
        assert!(
            span.has_drop_glue(),
            "a merge that leaves objects cleared the flag"
        );
        // A sweep or merge that empties the span forgets it.
        // SAFETY: both slots are allocated; the test owns the span.
        unsafe {
            span.free_local(plain);
            span.free_local(born);
        }
        // SAFETY: as above.
        let outcome = unsafe { span.sweep(false, 0, |_| {}) };
        assert_eq!(outcome.live_slots, 0);
        assert!(
            !span.has_drop_glue(),
            "an empty span kept its drop-glue flag"
        );
    }

    #[test]
    fn word_helpers_agree_with_the_per_slot_ones() {
        let (span, _mem) = test_span(32);
        for _ in 0..150 {
            alloc_index(&span).expect("slot");
        }
        // SAFETY: allocated above, freed once each.
        unsafe {
            span.free(3);
            span.free(64);
        }
        let mut by_word = Vec::new();
        span.for_each_allocated_word(|word, mut bits| {
            while bits != 0 {
                by_word.push(word * 64 + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
        });
        let mut by_slot = Vec::new();
        span.for_each_allocated(|i| by_slot.push(i));
        assert_eq!(by_word, by_slot);
        assert_eq!(by_word.len(), 148);

        span.mark(1);
        let old = span.mark_mask(0, 0b111);
        assert_eq!(old, 0b010, "the OR returns the word before it");
        assert_eq!(span.mark_word(0), 0b111);
        assert!(span.is_marked(2) && !span.is_marked(3));
    }

    #[test]
    fn slot_of_a_large_span_is_its_one_slot_up_to_the_span_end() {
        let span = Box::new(Span::new_free());
        let pages = 3;
        let memory = vec![0u8; (pages + 1) * PAGE_BYTES];
        let start = (memory.as_ptr() as usize).next_multiple_of(PAGE_BYTES);
        assert!(span.init(start, pages, SpanClass::new(SizeClass::LARGE, false)));
        assert_eq!(span.slot_of(start), Some(0));
        assert_eq!(span.slot_of(start + pages * PAGE_BYTES - 1), Some(0));
        assert_eq!(span.slot_of(start + pages * PAGE_BYTES), None);
        assert_eq!(span.slot_of(start - 1), None);
    }

    #[test]
    fn slot_of_maps_interior_pointers() {
        let (span, _mem) = test_span(48);
        let size = span.elem_bytes();
        assert_eq!(span.slot_of(span.start()), Some(0));
        assert_eq!(span.slot_of(span.start() + size - 1), Some(0));
        assert_eq!(span.slot_of(span.start() + size), Some(1));
        assert_eq!(span.slot_of(span.start() - 1), None);
        assert_eq!(span.slot_of(span.start() + span.elem_count() * size), None);
    }
}
