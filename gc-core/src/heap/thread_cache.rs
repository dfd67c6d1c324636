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
use std::sync::OnceLock;

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::safepoint;
use super::size_class::{SpanClass, NUM_SPAN_CLASSES};
use super::span::{ListId, Span};
use super::{cache_index, central, central_of, AllocError};
use crate::sync::{AtomicBool, AtomicU64, Ordering};

/// The span every empty cache slot points at: no slots, so allocation always misses.
static EMPTY_SPAN: Span = Span::new_free();

fn empty_span() -> NonNull<Span> {
    NonNull::from(&EMPTY_SPAN)
}

/// One thread's cache of spans.
#[derive(Debug)]
pub(crate) struct ThreadCache {
    /// Odd while the owning thread is inside an op (see `Op`). Written only by the owner
    /// with plain stores; read by the collector.
    op_seq: AtomicU64,
    /// GC objects this thread allocated (written by the owner only).
    gc_objects: AtomicU64,
    /// The current span of each class (raw classes, then managed: `cache_index`):
    /// allocation happens here.
    alloc: [NonNull<Span>; CACHE_SLOTS],
    /// Spans of each class that filled up recently, still owned by this cache (so this
    /// thread's frees into them stay local and they come back without the central lock).
    retained: [[Option<NonNull<Span>>; RETAINED_PER_CLASS]; CACHE_SLOTS],
    /// Grey objects this thread's write barriers shaded, not yet handed to the collector
    /// (its policy is in `collector/work.rs`; the heap only keeps and hands over the
    /// buffer: at thread exit, and to a stopped world).
    mark_buffer: Vec<usize>,
    /// Managed objects whose handle count this thread took to zero while no cycle ran,
    /// waiting for the collector's prompt reclamation (`collector/reclaim.rs`). Touched
    /// only inside this thread's ops, or by the collector in a stopped world.
    zero: Vec<usize>,
}

/// Raw and managed span classes.
const CACHE_SLOTS: usize = 2 * NUM_SPAN_CLASSES;

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
            op_seq: AtomicU64::new(0),
            gc_objects: AtomicU64::new(0),
            alloc: [empty_span(); CACHE_SLOTS],
            retained: [[None; RETAINED_PER_CLASS]; CACHE_SLOTS],
            mark_buffer: Vec::new(),
            zero: Vec::new(),
        }
    }

    /// The slow path: make the current span of `slot` able to allocate, then allocate.
    #[cold]
    fn alloc_slow(&mut self, class: SpanClass, managed: bool) -> Result<NonNull<u8>, AllocError> {
        let slot = cache_index(class, managed);
        let current = self.alloc[slot];
        if current != empty_span() {
            // SAFETY: a cached span is live metadata owned by this cache.
            let span = unsafe { current.as_ref() };
            self.check_owned(span);
            if span.refill_alloc_cache() {
                if let Some(p) = span.try_alloc_fast() {
                    return Ok(p);
                }
            }
            self.alloc[slot] = empty_span();
            self.retain(slot, current);
        }
        let next = match self.take_reusable(slot) {
            Some(span) => span,
            None => {
                let fresh = central(class, managed).cache_span()?;
                // SAFETY: the span was just handed to this cache.
                unsafe { fresh.as_ref() }.set_owner(self.id());
                fresh
            }
        };
        self.alloc[slot] = next;
        // SAFETY: the span is owned by this cache.
        let span = unsafe { next.as_ref() };
        self.check_owned(span);
        span.refill_alloc_cache();
        Ok(span
            .try_alloc_fast()
            .expect("tricolor-gc: a span with free slots had no free slot"))
    }

    /// This cache's identity, as recorded in the spans it owns.
    fn id(&self) -> usize {
        self as *const ThreadCache as usize
    }

    /// Panics unless this cache owns `span` and the central lists agree that a cache has
    /// it: allocating from a span anyone else may sweep loses objects (a swept slot looks
    /// free). Off the fast path, once per refill.
    fn check_owned(&self, span: &Span) {
        assert!(
            span.owner() == self.id() && span.list() == ListId::Cached,
            "tricolor-gc: a thread cache allocates from span {:#x}, which it does not own \
             (owner {:#x}, list {:?})",
            span.start(),
            span.owner(),
            span.list()
        );
    }

    /// Keeps a full span in its slot's ring; the oldest one goes back to the central list
    /// when the ring is full.
    fn retain(&mut self, slot: usize, span: NonNull<Span>) {
        let ring = &mut self.retained[slot];
        if let Some(free) = ring.iter_mut().find(|s| s.is_none()) {
            *free = Some(span);
            return;
        }
        let oldest = ring[0].take().expect("a full ring has a first entry");
        ring.rotate_left(1);
        ring[RETAINED_PER_CLASS - 1] = Some(span);
        Self::give_back(oldest);
    }

    /// A retained span with enough pending frees to be worth reusing, swept and ready.
    ///
    /// `pending_frees` is only a hint: a remote free raises the span's count before it
    /// sets the slot's bit (`Span::free`), so a span can show a pending free whose bit is
    /// not set yet, and a sweep of it then frees nothing. A span is handed out only if
    /// its sweep left a free slot; the others stay in the ring.
    fn take_reusable(&mut self, slot: usize) -> Option<NonNull<Span>> {
        if slot >= NUM_SPAN_CLASSES && !super::managed_frees_allowed() {
            // A cycle may be walking managed spans: their frees wait for its sweep
            // (`heap::set_managed_frees`).
            return None;
        }
        let id = self.id();
        let ring = &mut self.retained[slot];
        for entry in ring.iter_mut() {
            let Some(span) = *entry else { continue };
            // SAFETY: retained spans are live metadata owned by this cache.
            let span_ref = unsafe { span.as_ref() };
            if span_ref.pending_frees() < span_ref.reuse_threshold() {
                continue;
            }
            // SAFETY: the span is owned by this cache, so nobody else sweeps it.
            unsafe { span_ref.sweep(false, id, |_| {}) };
            if span_ref.free_slots() > 0 {
                *entry = None;
                return Some(span);
            }
        }
        None
    }

    /// Hands a span this cache owns back to its central list.
    fn give_back(span: NonNull<Span>) {
        // SAFETY: the span is owned by this cache.
        let span_ref = unsafe { span.as_ref() };
        span_ref.set_owner(0);
        // SAFETY: the span is cached by this cache, which gives it up here.
        unsafe { central_of(span_ref).uncache_span(span) };
    }

    /// Allocates one object of `class` (managed or raw).
    #[inline(always)]
    fn alloc(&mut self, class: SpanClass, managed: bool) -> Result<NonNull<u8>, AllocError> {
        // SAFETY: cached spans (and EMPTY_SPAN) are live span structs owned by this cache.
        let span = unsafe { self.alloc[cache_index(class, managed)].as_ref() };
        match span.try_alloc_fast() {
            Some(p) => Ok(p),
            None => self.alloc_slow(class, managed),
        }
    }

    /// Hands every span this cache owns (current and retained) back to the central lists.
    fn release_all(&mut self) {
        for slot in 0..CACHE_SLOTS {
            let span = core::mem::replace(&mut self.alloc[slot], empty_span());
            if span != empty_span() {
                Self::give_back(span);
            }
            for entry in 0..RETAINED_PER_CLASS {
                if let Some(span) = self.retained[slot][entry].take() {
                    Self::give_back(span);
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
// SAFETY: the registry only stores these pointers; a cache is dereferenced by its own
// thread inside an op, by the collector while the world is stopped, or (only `op_seq`,
// an atomic) by the collector stopping the world. Caches are never freed (exited
// threads' caches are parked in `SPARE`), so a stale pointer still points at a cache.
unsafe impl Send for CachePtr {}

impl CachePtr {
    fn op_seq(&self) -> &AtomicU64 {
        // SAFETY: caches are never freed (see above) and `op_seq` is atomic.
        unsafe { &(*self.0).op_seq }
    }
}

/// Caches of live threads that have allocated.
static REGISTRY: Mutex<Vec<CachePtr>> = Mutex::new(Vec::new());
/// Caches of exited threads, empty, waiting for a new thread (never freed).
static SPARE: Mutex<Vec<CachePtr>> = Mutex::new(Vec::new());
/// The cache of threads whose thread-local storage is being destroyed.
static ORPHAN: Mutex<Option<ThreadCache>> = Mutex::new(None);
/// GC objects allocated by threads that have exited.
static EXITED_GC_OBJECTS: AtomicU64 = AtomicU64::new(0);
/// Set while the world is stopped: ops wait at entry.
static STOP: AtomicBool = AtomicBool::new(false);
static STOP_WAIT: Mutex<()> = Mutex::new(());
static STOP_DONE: Condvar = Condvar::new();

thread_local! {
    /// This thread's cache, or null before first use and after thread-exit cleanup.
    static CURRENT: Cell<*mut ThreadCache> = const { Cell::new(ptr::null_mut()) };
    /// Dropped at thread exit; hands the cache back.
    static EXIT_GUARD: ExitGuard = const { ExitGuard };
}

struct ExitGuard;

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let cache = CURRENT.with(|c| c.get());
        if cache.is_null() {
            return;
        }
        {
            let op = Op::enter_with(cache);
            // Inside the op, like the mark buffer below: a cycle's starting stop either
            // discards the buffer here or finds its objects in the global queue.
            op.flush_zero();
            // SAFETY: inside an op on this thread's own cache.
            unsafe { (*op.cache).release_all() };
            // Inside the op, so that a mark termination either sees the buffer here or
            // its contents in the collector's list, never neither.
            op.with_mark_buffer(hand_over_mark_buffer);
        }
        CURRENT.with(|c| c.set(ptr::null_mut()));
        REGISTRY.lock().retain(|p| p.0 != cache);
        // SAFETY: the cache is unregistered and empty; only this thread touches it now.
        let objects = unsafe { &(*cache).gc_objects };
        EXITED_GC_OBJECTS.fetch_add(objects.swap(0, Ordering::Relaxed), Ordering::Relaxed);
        SPARE.lock().push(CachePtr(cache));
    }
}

/// Where a buffer of grey objects goes when a thread exits (`collector/work.rs` sets it).
static MARK_BUFFER_SINK: OnceLock<fn(Vec<usize>)> = OnceLock::new();

/// Sets where exiting threads hand their mark buffers (once; later calls are ignored).
pub(crate) fn set_mark_buffer_sink(sink: fn(Vec<usize>)) {
    MARK_BUFFER_SINK.get_or_init(|| sink);
}

fn hand_over_mark_buffer(buffer: &mut Vec<usize>) {
    if buffer.is_empty() {
        return;
    }
    let sink = MARK_BUFFER_SINK.get().expect(
        "tricolor-gc: a thread shaded objects before the collector set its mark buffer sink",
    );
    sink(core::mem::take(buffer));
}

/// Creates (or reuses) and registers this thread's cache; `None` if the thread is exiting.
#[cold]
fn install() -> Option<*mut ThreadCache> {
    safepoint::init();
    // Arm the exit guard first: if thread-local destructors are already running this
    // fails and the caller falls back to the orphan cache.
    EXIT_GUARD.try_with(|_| ()).ok()?;
    let cache = match SPARE.lock().pop() {
        Some(spare) => spare.0,
        None => Box::into_raw(Box::new(ThreadCache::new())),
    };
    REGISTRY.lock().push(CachePtr(cache));
    CURRENT.with(|c| c.set(cache));
    Some(cache)
}

/// A mutator operation in progress on this thread: the span of code in which the thread
/// may use its cache, shade objects or read the collector's phase and act on it. The
/// collector's stopped worlds wait for ops in flight to end and keep new
/// ones from starting (see `safepoint.rs`). Ops are short and run no user code that
/// could block.
pub(crate) struct Op {
    cache: *mut ThreadCache,
    /// Held instead of an op bracket when the thread has no cache of its own.
    orphan: Option<MutexGuard<'static, Option<ThreadCache>>>,
}

impl Op {
    /// Enters an op on `cache` (this thread's own), waiting while the world is stopped.
    #[inline]
    fn enter_with(cache: *mut ThreadCache) -> Op {
        // SAFETY: this thread's own live cache.
        let seq_cell = unsafe { &(*cache).op_seq };
        loop {
            let seq = seq_cell.load(Ordering::Relaxed);
            if seq % 2 != 0 {
                nested_op();
            }
            // Relaxed + the mutator fence: the store must be visible before the STOP and
            // phase loads below; safepoint fact (1).
            seq_cell.store(seq + 1, Ordering::Relaxed);
            safepoint::mutator_fence();
            // Acquire: pairs with the Release that ends a stopped world, so an op that
            // starts after it sees everything the collector did in it (safepoint fact 3;
            // the loom model `op_bracket_vs_stop_the_world_restart`).
            if !STOP.load(Ordering::Acquire) {
                return Op {
                    cache,
                    orphan: None,
                };
            }
            seq_cell.store(seq + 2, Ordering::Release);
            wait_while_stopped();
        }
    }

    /// Allocates one object of span class `class`.
    #[inline(always)]
    pub(crate) fn alloc(&self, class: SpanClass, managed: bool) -> Result<NonNull<u8>, AllocError> {
        // SAFETY: inside an op the cache is used only by this thread (or, for the orphan,
        // by the holder of its lock, which we are), and no other reference to it is live.
        unsafe { (*self.cache).alloc(class, managed) }
    }

    /// Whether this op's cache owns `span` (then frees into it may be local).
    #[inline]
    pub(crate) fn owns(&self, span: &Span) -> bool {
        self.orphan.is_none() && span.owner() == self.cache as usize
    }

    /// Counts one GC object allocated by this thread (for `heap_objects`).
    #[inline]
    pub(crate) fn note_gc_object(&self) {
        // SAFETY: as in `alloc`; a shared reference to an atomic field.
        let counter = unsafe { &(*self.cache).gc_objects };
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// Runs `f` on this thread's buffer of grey objects (`collector/work.rs`).
    #[inline]
    pub(crate) fn with_mark_buffer<R>(&self, f: impl FnOnce(&mut Vec<usize>) -> R) -> R {
        // SAFETY: as in `alloc`: inside an op the cache, and so its buffer, is ours alone;
        // `f` cannot reach the cache through another path (it is crate code that only
        // pushes to the buffer or hands it to the collector's list).
        f(unsafe { &mut (*self.cache).mark_buffer })
    }

    /// Queues a managed object whose handle count this thread took to zero (DESIGN §3b);
    /// a full buffer goes to the global queue.
    #[inline]
    pub(crate) fn push_zero(&self, object: NonNull<u8>) {
        // SAFETY: as in `alloc`: inside an op the cache, and so its buffer, is ours alone.
        let buffer = unsafe { &mut (*self.cache).zero };
        buffer.push(object.as_ptr() as usize);
        if buffer.len() >= ZERO_BATCH {
            publish_zero(buffer);
        }
    }

    /// Moves this thread's queued count-zero objects to the global queue.
    pub(crate) fn flush_zero(&self) {
        // SAFETY: as in `push_zero`.
        let buffer = unsafe { &mut (*self.cache).zero };
        if !buffer.is_empty() {
            publish_zero(buffer);
        }
    }

    /// Whether this thread's zero buffer holds `object` (tests).
    #[cfg(test)]
    pub(crate) fn zero_buffer_contains(&self, object: usize) -> bool {
        // SAFETY: as in `push_zero`.
        unsafe { (*self.cache).zero.contains(&object) }
    }

    /// Hands this thread's cached spans back to the central lists.
    pub(crate) fn flush(&self) {
        // SAFETY: as in `alloc`.
        unsafe { (*self.cache).release_all() };
    }
}

impl Drop for Op {
    #[inline]
    fn drop(&mut self) {
        if self.orphan.is_none() {
            // SAFETY: this thread's own live cache.
            let seq_cell = unsafe { &(*self.cache).op_seq };
            let seq = seq_cell.load(Ordering::Relaxed);
            // Release: everything the op did happens-before a collector that sees the op
            // ended (it loads `op_seq` with Acquire); safepoint fact (2).
            seq_cell.store(seq + 1, Ordering::Release);
        }
    }
}

/// An op entered inside another op on the same thread. Its exit would make `op_seq` even
/// while the outer op still runs, so a stopped world could proceed under the outer op
/// (and, say, flush the cache it is allocating from). A bug in the crate: abort.
#[cold]
#[inline(never)]
fn nested_op() -> ! {
    eprintln!("tricolor-gc: a mutator op was entered inside another op on the same thread");
    std::process::abort();
}

/// Enters a mutator op on the calling thread.
#[inline]
pub(crate) fn enter_op() -> Op {
    let cache = CURRENT.with(|c| c.get());
    if !cache.is_null() {
        return Op::enter_with(cache);
    }
    enter_op_slow()
}

#[cold]
fn enter_op_slow() -> Op {
    match install() {
        Some(cache) => Op::enter_with(cache),
        None => {
            let mut guard = ORPHAN.lock();
            let cache: *mut ThreadCache = guard.get_or_insert_with(ThreadCache::new);
            Op {
                cache,
                orphan: Some(guard),
            }
        }
    }
}

#[cold]
fn wait_while_stopped() {
    let mut guard = STOP_WAIT.lock();
    while STOP.load(Ordering::Acquire) {
        STOP_DONE.wait(&mut guard);
    }
}

/// The world, stopped: no thread is inside an op and none can enter one until this is
/// dropped. Threads outside the library keep running.
pub(crate) struct StoppedWorld {
    registry: MutexGuard<'static, Vec<CachePtr>>,
    orphan: MutexGuard<'static, Option<ThreadCache>>,
}

impl core::fmt::Debug for StoppedWorld {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoppedWorld")
            .field("threads", &self.registry.len())
            .finish()
    }
}

/// Stops the world: waits until no thread is inside an op; new ops wait at entry.
/// Only one collector may call it at a time (the collector thread).
pub(crate) fn stop_the_world() -> StoppedWorld {
    // SeqCst store + fence, then membarrier: pairs with the mutator fence in
    // `Op::enter_with`; safepoint fact (1).
    STOP.store(true, Ordering::SeqCst);
    safepoint::collector_fence();
    let snapshot = REGISTRY.lock().clone();
    for cache in &snapshot {
        safepoint::wait_until(|| cache.op_seq().load(Ordering::Acquire) % 2 == 0);
    }
    let orphan = ORPHAN.lock();
    let registry = REGISTRY.lock();
    for cache in registry.iter() {
        // A thread registered after the snapshot entered no op without seeing STOP.
        debug_assert!(cache.op_seq().load(Ordering::Acquire) % 2 == 0);
    }
    StoppedWorld { registry, orphan }
}

impl StoppedWorld {
    /// Hands every thread's cached spans back to the central lists (Go's `releaseAll` at
    /// mark termination).
    pub(crate) fn flush_caches(&mut self) {
        for cache in self.registry.iter() {
            // SAFETY: the world is stopped: the owning thread is outside any op and cannot
            // enter one, so the cache is exclusively ours until we drop (fact (3)).
            unsafe { (*cache.0).release_all() };
        }
        if let Some(orphan) = self.orphan.as_mut() {
            orphan.release_all();
        }
    }

    /// Takes every thread's non-empty buffer of grey objects and passes it to `sink`;
    /// returns how many there were (Go's `wbBufFlush` + `gcw.dispose` at mark termination).
    pub(crate) fn take_mark_buffers(&mut self, mut sink: impl FnMut(Vec<usize>)) -> usize {
        let mut taken = 0;
        let mut take = |buffer: &mut Vec<usize>| {
            if !buffer.is_empty() {
                sink(core::mem::take(buffer));
                taken += 1;
            }
        };
        for cache in self.registry.iter() {
            // SAFETY: as in `flush_caches`: the world is stopped, the cache is ours.
            take(unsafe { &mut (*cache.0).mark_buffer });
        }
        if let Some(orphan) = self.orphan.as_mut() {
            take(&mut orphan.mark_buffer);
        }
        taken
    }

    /// Forgets every queued count-zero object: every thread's buffer, the orphan cache's
    /// and the global queue. The cycle about to start frees them itself (a count of zero
    /// is never a root, and no handle is left to mark them), so nobody else may.
    /// Returns how many there were.
    pub(crate) fn discard_zero_queues(&mut self) -> usize {
        let mut discarded = 0;
        for cache in self.registry.iter() {
            // SAFETY: as in `flush_caches`: the world is stopped, the cache is ours.
            let buffer = unsafe { &mut (*cache.0).zero };
            discarded += buffer.len();
            buffer.clear();
        }
        if let Some(orphan) = self.orphan.as_mut() {
            discarded += orphan.zero.len();
            orphan.zero.clear();
        }
        let mut queue = ZERO_QUEUE.lock();
        discarded += queue.len();
        queue.clear();
        discarded
    }

    /// Number of registered mutator threads.
    pub(crate) fn threads(&self) -> usize {
        self.registry.len()
    }
}

impl Drop for StoppedWorld {
    fn drop(&mut self) {
        let _wait = STOP_WAIT.lock();
        // Release: the collector's work in the stopped world happens-before any op that
        // starts after it (they load STOP with Acquire in `wait_while_stopped` or are
        // ordered by the STOP_WAIT lock).
        STOP.store(false, Ordering::Release);
        STOP_DONE.notify_all();
    }
}

/// Count-zero objects a thread buffers before publishing them.
const ZERO_BATCH: usize = 256;
/// Published count-zero objects, waiting for the collector's drain.
static ZERO_QUEUE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// Called when a batch lands in `ZERO_QUEUE` (wakes the collector; must only signal).
static ZERO_HOOK: OnceLock<fn()> = OnceLock::new();

fn publish_zero(buffer: &mut Vec<usize>) {
    ZERO_QUEUE.lock().append(buffer);
    if let Some(hook) = ZERO_HOOK.get() {
        hook();
    }
}

/// Sets the function called when count-zero objects are published (once).
pub(crate) fn set_zero_hook(hook: fn()) {
    ZERO_HOOK.get_or_init(|| hook);
}

/// Whether the global queue of count-zero objects is empty (thread buffers not included).
pub(crate) fn zero_queue_is_empty() -> bool {
    ZERO_QUEUE.lock().is_empty()
}

/// Takes every published count-zero object (the collector's drain).
pub(crate) fn take_zero_queue() -> Vec<usize> {
    core::mem::take(&mut *ZERO_QUEUE.lock())
}

/// GC objects allocated by all threads so far (for `heap_objects`).
pub(crate) fn gc_objects_allocated() -> u64 {
    let registry = REGISTRY.lock();
    let live: u64 = registry
        .iter()
        // SAFETY: caches are never freed; the counter is atomic.
        .map(|c| unsafe { (*c.0).gc_objects.load(Ordering::Relaxed) })
        .sum();
    let orphan = ORPHAN
        .lock()
        .as_ref()
        .map_or(0, |o| o.gc_objects.load(Ordering::Relaxed));
    live + orphan + EXITED_GC_OBJECTS.load(Ordering::Relaxed)
}

/// (registered caches, spans cached by the calling thread).
pub(crate) fn census() -> (usize, usize) {
    let registered = REGISTRY.lock().len();
    let cache = CURRENT.with(|c| c.get());
    let mine = if cache.is_null() {
        0
    } else {
        // SAFETY: this thread's own cache; reading its slots (no op needed for a count).
        unsafe { (*cache).cached_spans() }
    };
    (registered, mine)
}

#[cfg(test)]
mod tests {
    use super::super::{alloc, free, lookup};

    /// Regression test for issue #9's abort ("a span with free slots had no free slot"):
    /// a retained span shows a pending remote free whose bit is not set yet (the freeing
    /// thread is between the two halves of `Span::free`). Sweeping it frees nothing; the
    /// cache must not hand it out. A span with fewer than 16 slots reuses at one pending
    /// free, which is why objects of about 0.5-25 KiB failed; this class has one slot, so
    /// every span is either full or empty and the sequence below is exact.
    #[test]
    fn a_retained_span_whose_pending_free_is_in_flight_is_not_reused() {
        const BYTES: usize = 7552;
        let x = alloc(BYTES, 8, false).expect("x");
        let found = lookup(x.as_ptr() as usize).expect("x is allocated");
        // SAFETY: span structs live for the process.
        let span = unsafe { found.span.as_ref() };
        assert_eq!(span.elem_count(), 1, "the test assumes one slot per span");
        // `x`'s span is full: the next allocation retains it and takes a second span.
        let y = alloc(BYTES, 8, false).expect("y");
        // Another thread is inside `Span::free` of `x`: count raised, bit not yet set.
        span.begin_remote_free_for_test();
        // The second span is full too; the retained one shows a pending free.
        let z = alloc(BYTES, 8, false).expect("an allocation after the race");
        assert!(z != x && z != y, "an allocated slot was handed out again");
        // SAFETY: completes the free of `x` begun above; nobody uses `x` after it.
        unsafe { span.finish_remote_free_for_test(found.index()) };
        for p in [y, z] {
            // SAFETY: allocated above, freed once.
            unsafe { free(p) };
        }
    }
}
