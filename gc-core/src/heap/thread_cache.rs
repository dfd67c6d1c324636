//! Per-thread caches: one current span per span class (mirrors Go's `mcache.go`).
//!
//! # Algorithm
//! 1. Fast path (`alloc_small`): read the thread's cache pointer from a const-initialised
//!    thread local, index the current span of the span class, `Span::try_alloc_fast`.
//!    No lock, no atomic read-modify-write.
//! 2. Slow path (`alloc_slow`): reload the span's allocation cache from its bitmap; if
//!    the span is full, move it to the class's ring of retained spans (up to
//!    `RETAINED_PER_CLASS`; the oldest goes back to its `Central`). Then reuse a retained
//!    span that has gathered `reuse_threshold` pending frees (sweeping it in place), or
//!    cache a span from the `Central`.
//!
//! Retained spans stay owned by the cache (their `owner` is the cache's id), so the
//! thread's own frees into them are local (`Span::free_local`: no atomics) and a thread
//! that frees what it allocated recycles its spans without touching a lock. This is
//! mimalloc's thread-owned pages, bounded so one thread cannot hoard a class.
//! 3. First use on a thread creates the cache, registers it in the global registry and
//!    arms a thread-exit guard. At thread exit the guard hands every cached span back to
//!    the central lists and unregisters the cache, so no span stays stranded.
//! 4. A thread that allocates after its exit guard has run (from another thread local's
//!    destructor) cannot arm a new guard; it allocates through the shared orphan cache
//!    under a lock instead. Slow, correct, and rare.
//!
//! Empty slots point at `EMPTY_SPAN`, a static span with no slots, so the fast path never
//! tests for null (Go's `emptymspan`).
//!
//! # Ownership
//! A `ThreadCache` is only touched by its thread (or, for the orphan cache, under its
//! lock). The registry holds raw pointers for the collector's future use (cache flushes at
//! mark termination); it never dereferences them itself.

use core::cell::Cell;
use core::ptr::{self, NonNull};

use parking_lot::Mutex;

use super::size_class::{SpanClass, NUM_SPAN_CLASSES};
use super::span::Span;
use super::{central, AllocError};

/// The span every empty cache slot points at: no slots, so allocation always misses.
static EMPTY_SPAN: Span = Span::new_free();

fn empty_span() -> NonNull<Span> {
    NonNull::from(&EMPTY_SPAN)
}

/// One thread's cache of spans.
#[derive(Debug)]
pub(crate) struct ThreadCache {
    /// The current span of each class: allocation happens here.
    alloc: [NonNull<Span>; NUM_SPAN_CLASSES],
    /// Spans of each class that filled up recently, still owned by this cache (so this
    /// thread's frees into them stay local and they come back without the central lock).
    retained: [[Option<NonNull<Span>>; RETAINED_PER_CLASS]; NUM_SPAN_CLASSES],
}

/// Full spans a cache keeps per class before handing the oldest back to its `Central`.
/// Bounds what one thread can hold privately: 8 spans of the class's size.
const RETAINED_PER_CLASS: usize = 8;

// SAFETY: a cache is used by one thread at a time: its own, or (the orphan cache) whoever
// holds the ORPHAN lock. Moving it between threads moves ownership of its spans with it;
// ownership transfer through the lock is a happens-before edge.
unsafe impl Send for ThreadCache {}

impl ThreadCache {
    fn new() -> ThreadCache {
        ThreadCache {
            alloc: [empty_span(); NUM_SPAN_CLASSES],
            retained: [[None; RETAINED_PER_CLASS]; NUM_SPAN_CLASSES],
        }
    }

    /// The slow path: make the current span of `class` able to allocate, then allocate.
    #[cold]
    fn alloc_slow(&mut self, class: SpanClass) -> Result<NonNull<u8>, AllocError> {
        let current = self.alloc[class.index()];
        if current != empty_span() {
            // SAFETY: a cached span is live metadata owned by this cache.
            let span = unsafe { current.as_ref() };
            if span.refill_alloc_cache() {
                if let Some(p) = span.try_alloc_fast() {
                    return Ok(p);
                }
            }
            self.alloc[class.index()] = empty_span();
            self.retain(class, current);
        }
        let next = match self.take_reusable(class) {
            Some(span) => span,
            None => {
                let fresh = central(class).cache_span()?;
                // SAFETY: the span was just handed to this cache.
                unsafe { fresh.as_ref() }.set_owner(self.id());
                fresh
            }
        };
        self.alloc[class.index()] = next;
        // SAFETY: the span is owned by this cache.
        let span = unsafe { next.as_ref() };
        span.refill_alloc_cache();
        Ok(span
            .try_alloc_fast()
            .expect("tricolor-gc: a span with free slots had no free slot"))
    }

    /// This cache's identity, as recorded in the spans it owns.
    fn id(&self) -> usize {
        self as *const ThreadCache as usize
    }

    /// Keeps a full span in the class's ring; the oldest one goes back to the central list
    /// when the ring is full.
    fn retain(&mut self, class: SpanClass, span: NonNull<Span>) {
        let ring = &mut self.retained[class.index()];
        if let Some(slot) = ring.iter_mut().find(|s| s.is_none()) {
            *slot = Some(span);
            return;
        }
        let oldest = ring[0].take().expect("a full ring has a first entry");
        ring.rotate_left(1);
        ring[RETAINED_PER_CLASS - 1] = Some(span);
        self.give_back(class, oldest);
    }

    /// A retained span with enough pending frees to be worth reusing, swept and ready.
    fn take_reusable(&mut self, class: SpanClass) -> Option<NonNull<Span>> {
        let ring = &mut self.retained[class.index()];
        let position = ring.iter().position(|slot| {
            slot.is_some_and(|span| {
                // SAFETY: retained spans are live metadata owned by this cache.
                let span = unsafe { span.as_ref() };
                span.pending_frees() >= span.reuse_threshold()
            })
        })?;
        let span = ring[position].take().expect("position found a span");
        // SAFETY: the span is owned by this cache, so nobody else sweeps it.
        unsafe { span.as_ref().sweep(false, |_| {}) };
        Some(span)
    }

    /// Hands a span this cache owns back to its central list.
    fn give_back(&mut self, class: SpanClass, span: NonNull<Span>) {
        // SAFETY: the span is owned by this cache.
        unsafe { span.as_ref() }.set_owner(0);
        // SAFETY: the span is cached by this cache, which gives it up here.
        unsafe { central(class).uncache_span(span) };
    }

    /// Allocates one object of `class`.
    #[inline(always)]
    fn alloc(&mut self, class: SpanClass) -> Result<NonNull<u8>, AllocError> {
        // SAFETY: cached spans (and EMPTY_SPAN) are live span structs owned by this cache.
        let span = unsafe { self.alloc[class.index()].as_ref() };
        match span.try_alloc_fast() {
            Some(p) => Ok(p),
            None => self.alloc_slow(class),
        }
    }

    /// Hands every span this cache owns (current and retained) back to the central lists.
    fn release_all(&mut self) {
        for index in 0..NUM_SPAN_CLASSES {
            let class = SpanClass::from_index(index);
            let span = core::mem::replace(&mut self.alloc[index], empty_span());
            if span != empty_span() {
                self.give_back(class, span);
            }
            for slot in 0..RETAINED_PER_CLASS {
                if let Some(span) = self.retained[index][slot].take() {
                    self.give_back(class, span);
                }
            }
        }
    }

    /// Number of spans this cache owns.
    fn cached_spans(&self) -> usize {
        self.alloc.iter().filter(|s| **s != empty_span()).count()
            + self
                .retained
                .iter()
                .flatten()
                .filter(|s| s.is_some())
                .count()
    }
}

/// Raw pointer wrapper for the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CachePtr(*mut ThreadCache);
// SAFETY: the registry only stores and compares these pointers; the owning thread alone
// dereferences its cache (see module docs, "Ownership").
unsafe impl Send for CachePtr {}

static REGISTRY: Mutex<Vec<CachePtr>> = Mutex::new(Vec::new());
static ORPHAN: Mutex<Option<ThreadCache>> = Mutex::new(None);

thread_local! {
    /// This thread's cache, or null before first use and after thread-exit cleanup.
    static CURRENT: Cell<*mut ThreadCache> = const { Cell::new(ptr::null_mut()) };
    /// Dropped at thread exit; hands the cache back.
    static EXIT_GUARD: ExitGuard = const { ExitGuard };
}

struct ExitGuard;

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let cache = CURRENT.with(|c| c.replace(ptr::null_mut()));
        if cache.is_null() {
            return;
        }
        REGISTRY.lock().retain(|p| p.0 != cache);
        // SAFETY: `cache` came from `Box::into_raw` in `install` on this thread and was
        // just unpublished from both the thread local and the registry.
        let mut owned = unsafe { Box::from_raw(cache) };
        owned.release_all();
    }
}

/// Creates and registers this thread's cache; `None` if the thread is exiting.
#[cold]
fn install() -> Option<*mut ThreadCache> {
    // Arm the exit guard first: if thread-local destructors are already running this
    // fails and the caller falls back to the orphan cache.
    EXIT_GUARD.try_with(|_| ()).ok()?;
    let cache = Box::into_raw(Box::new(ThreadCache::new()));
    REGISTRY.lock().push(CachePtr(cache));
    CURRENT.with(|c| c.set(cache));
    Some(cache)
}

/// Allocates one object of span class `class` on the calling thread.
#[inline(always)]
pub(crate) fn alloc_small(class: SpanClass) -> Result<NonNull<u8>, AllocError> {
    let cache = CURRENT.with(|c| c.get());
    if !cache.is_null() {
        // SAFETY: the pointer is this thread's own live cache (module docs, "Ownership").
        return unsafe { (*cache).alloc(class) };
    }
    alloc_uncached(class)
}

#[cold]
fn alloc_uncached(class: SpanClass) -> Result<NonNull<u8>, AllocError> {
    match install() {
        // SAFETY: just installed for this thread.
        Some(cache) => unsafe { (*cache).alloc(class) },
        None => ORPHAN
            .lock()
            .get_or_insert_with(ThreadCache::new)
            .alloc(class),
    }
}

/// Hands the calling thread's cached spans back to the central lists (the cache stays
/// installed). Used before a whole-heap inspection in tests, and by the collector later.
pub(crate) fn flush_current() {
    let cache = CURRENT.with(|c| c.get());
    if !cache.is_null() {
        // SAFETY: this thread's own cache.
        unsafe { (*cache).release_all() };
    }
    if let Some(orphan) = ORPHAN.lock().as_mut() {
        orphan.release_all();
    }
}

/// Whether the calling thread's cache currently owns `span`: then the thread may free
/// into it with `Span::free_local`. (Owner ids are cleared before a cache hands a span
/// back and before the cache is freed, so a recycled cache address never matches a stale
/// owner.)
#[inline]
pub(crate) fn owns(span: &Span) -> bool {
    let cache = CURRENT.with(|c| c.get());
    !cache.is_null() && span.owner() == cache as usize
}

/// (registered caches, spans cached by the calling thread).
pub(crate) fn census() -> (usize, usize) {
    let registered = REGISTRY.lock().len();
    let cache = CURRENT.with(|c| c.get());
    let mine = if cache.is_null() {
        0
    } else {
        // SAFETY: this thread's own cache.
        unsafe { (*cache).cached_spans() }
    };
    (registered, mine)
}
