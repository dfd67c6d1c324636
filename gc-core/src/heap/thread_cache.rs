//! Per-thread caches: one current span per span class (mirrors Go's `mcache.go`).
//!
//! # Algorithm
//! 1. Fast path (`alloc_small`): read the thread's cache pointer from a const-initialised
//!    thread local, index the current span of the span class, `Span::try_alloc_fast`.
//!    No lock, no atomic read-modify-write.
//! 2. Slow path (`alloc_slow`): reload the span's allocation cache from its bitmap;
//!    if the span is full but has at least `reuse_threshold` pending explicit frees, sweep
//!    it in place and go on using it; otherwise hand it back to its `Central` and cache
//!    another one.
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
    alloc: [NonNull<Span>; NUM_SPAN_CLASSES],
}

// SAFETY: a cache is used by one thread at a time: its own, or (the orphan cache) whoever
// holds the ORPHAN lock. Moving it between threads moves ownership of its spans with it;
// ownership transfer through the lock is a happens-before edge.
unsafe impl Send for ThreadCache {}

impl ThreadCache {
    fn new() -> ThreadCache {
        ThreadCache {
            alloc: [empty_span(); NUM_SPAN_CLASSES],
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
            if span.pending_frees() >= span.reuse_threshold() {
                // SAFETY: the span is owned by this cache, so nobody else sweeps it.
                unsafe { span.sweep(false, |_| {}) };
                if let Some(p) = span.try_alloc_fast() {
                    return Ok(p);
                }
            }
            self.alloc[class.index()] = empty_span();
            // SAFETY: the span is cached by this cache, which gives it up here.
            unsafe { central(class).uncache_span(current) };
        }
        let fresh = central(class).cache_span()?;
        self.alloc[class.index()] = fresh;
        // SAFETY: the span was just handed to this cache.
        let span = unsafe { fresh.as_ref() };
        span.refill_alloc_cache();
        Ok(span
            .try_alloc_fast()
            .expect("tricolor-gc: central list handed out a span with no free slot"))
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

    /// Hands every cached span back to the central lists.
    fn release_all(&mut self) {
        for index in 0..NUM_SPAN_CLASSES {
            let span = core::mem::replace(&mut self.alloc[index], empty_span());
            if span != empty_span() {
                // SAFETY: the span is cached by this cache, which gives it up here.
                unsafe { central(SpanClass::from_index(index)).uncache_span(span) };
            }
        }
    }

    /// Number of non-empty slots (spans this cache owns).
    fn cached_spans(&self) -> usize {
        self.alloc.iter().filter(|s| **s != empty_span()).count()
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
