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
//! lock), except in a stopped world. The registry holds raw pointers to the caches of live
//! threads so that `stop_the_world` can wait for each thread's ops (its `Mutator`, heap
//! `safepoint.rs`) and the stopped world can flush the caches and take the buffers.
//!
//! # Ops and stopped worlds
//! `Op` and `StoppedWorld` bind the safepoint protocol (`safepoint.rs`: `Safepoint`,
//! `Mutator`, `Stopped`, whose methods hold its logic and are what the loom models run) to
//! the caches: an op is `SAFEPOINT.enter` on the calling thread's cache's
//! `Mutator`; a stopped world is `SAFEPOINT.stop` over the registry plus the registry and
//! orphan locks.

use core::cell::Cell;
use core::ptr::{self, NonNull};
use std::sync::OnceLock;

use parking_lot::{Mutex, MutexGuard};

use super::fence_choice;
use super::safepoint::{self, InOp, Mutator, Stopped, SAFEPOINT};
use super::size_class::{SpanClass, NUM_SPAN_CLASSES};
use super::span::{ListId, NewSlot, Span};
use super::{cache_index, central, central_of, AllocError};
use crate::reclaim::{BufferAge, ThreadBuffer};
use crate::sync::{AtomicU64, Ordering};

/// The span every empty cache slot points at: no slots, so allocation always misses.
static EMPTY_SPAN: Span = Span::new_free();

fn empty_span() -> NonNull<Span> {
    NonNull::from(&EMPTY_SPAN)
}

/// One thread's cache of spans.
#[derive(Debug)]
pub(crate) struct ThreadCache {
    /// The thread's part of the safepoint protocol: its op sequence (see `Op`) and the
    /// buffers the collector takes (grey objects this thread's barriers shaded,
    /// `collector/work.rs`; the reclaim module's buffer of objects whose count this thread
    /// took to zero, `reclaim/queue.rs`). Its rules are in `safepoint.rs`.
    mutator: Mutator,
    /// What this thread allocated and reclaimed (written by the owner only).
    counters: ThreadCounters,
    /// The current span of each class (raw classes, then managed: `cache_index`):
    /// allocation happens here.
    alloc: [NonNull<Span>; CACHE_SLOTS],
    /// Spans of each class that filled up recently, still owned by this cache (so this
    /// thread's frees into them stay local and they come back without the central lock).
    retained: [[Option<NonNull<Span>>; RETAINED_PER_CLASS]; CACHE_SLOTS],
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
            mutator: Mutator::new(),
            counters: ThreadCounters::new(),
            alloc: [empty_span(); CACHE_SLOTS],
            retained: [[None; RETAINED_PER_CLASS]; CACHE_SLOTS],
        }
    }

    /// The slow path: make the current span of `slot` able to allocate, then allocate.
    #[cold]
    fn alloc_slow(
        &mut self,
        class: SpanClass,
        managed: bool,
        new: NewSlot,
    ) -> Result<NonNull<u8>, AllocError> {
        let slot = cache_index(class, managed);
        let current = self.alloc[slot];
        if current != empty_span() {
            // SAFETY: a cached span is live metadata owned by this cache.
            let span = unsafe { current.as_ref() };
            self.check_owned(span);
            if span.refill_alloc_cache() {
                if let Some(p) = span.try_alloc_fast(new) {
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
        if managed {
            super::note_managed_refill(span.free_slots() * span.elem_bytes());
        }
        span.refill_alloc_cache();
        Ok(span
            .try_alloc_fast(new)
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
    fn alloc(
        &mut self,
        class: SpanClass,
        managed: bool,
        new: NewSlot,
    ) -> Result<NonNull<u8>, AllocError> {
        // SAFETY: cached spans (and EMPTY_SPAN) are live span structs owned by this cache.
        let span = unsafe { self.alloc[cache_index(class, managed)].as_ref() };
        match span.try_alloc_fast(new) {
            Some(p) => Ok(p),
            None => self.alloc_slow(class, managed, new),
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
// thread inside an op, by the collector while the world is stopped, or (only its
// `Mutator`, which is `Sync`) by the collector stopping the world. Caches are never freed
// (exited threads' caches are parked in `SPARE`), so a stale pointer still points at a
// cache.
unsafe impl Send for CachePtr {}

impl CachePtr {
    fn mutator(self) -> &'static Mutator {
        // SAFETY: caches are never freed (see above), and a `Mutator` is shared under the
        // safepoint protocol's rules (its fields are atomic or reached through `InOp` /
        // `Stopped`).
        unsafe { &(*self.0).mutator }
    }
}

/// Caches of live threads that have allocated.
static REGISTRY: Mutex<Vec<CachePtr>> = Mutex::new(Vec::new());
/// Caches of exited threads, empty, waiting for a new thread (never freed).
static SPARE: Mutex<Vec<CachePtr>> = Mutex::new(Vec::new());
/// The cache of threads whose thread-local storage is being destroyed.
static ORPHAN: Mutex<Option<ThreadCache>> = Mutex::new(None);
/// What threads that have exited allocated and reclaimed.
static EXITED: ThreadCounters = ThreadCounters::new();

/// One thread's monotonic counters, summed by [`counter_totals`]. The owner adds with a
/// plain load and store (no read-modify-write on its fast paths); readers sum racily, so a
/// total is exact once the threads are quiet.
#[derive(Debug)]
struct ThreadCounters {
    /// GC objects allocated (for `heap_objects`).
    gc_objects: AtomicU64,
    /// Count-zero objects this thread freed, and their slot bytes (`reclaim/`).
    reclaimed_objects: AtomicU64,
    reclaimed_bytes: AtomicU64,
    /// Nanoseconds this thread spent in reclaim assists (`reclaim/drain.rs`).
    assist_nanos: AtomicU64,
}

impl ThreadCounters {
    const fn new() -> ThreadCounters {
        ThreadCounters {
            gc_objects: AtomicU64::new(0),
            reclaimed_objects: AtomicU64::new(0),
            reclaimed_bytes: AtomicU64::new(0),
            assist_nanos: AtomicU64::new(0),
        }
    }

    fn fields(&self) -> [&AtomicU64; 4] {
        [
            &self.gc_objects,
            &self.reclaimed_objects,
            &self.reclaimed_bytes,
            &self.assist_nanos,
        ]
    }

    /// Owner only: adds `amount` to `counter` (one of this struct's fields).
    #[inline]
    fn add(counter: &AtomicU64, amount: u64) {
        // Relaxed: a statistic, written by the owner only.
        counter.store(counter.load(Ordering::Relaxed) + amount, Ordering::Relaxed);
    }

    /// Moves everything into `into` (an exiting thread's counters into `EXITED`).
    fn move_into(&self, into: &ThreadCounters) {
        for (from, to) in self.fields().into_iter().zip(into.fields()) {
            // Relaxed: statistics.
            to.fetch_add(from.swap(0, Ordering::Relaxed), Ordering::Relaxed);
        }
    }

    fn totals(&self, sum: &mut CounterTotals) {
        // Relaxed: statistics.
        sum.gc_objects += self.gc_objects.load(Ordering::Relaxed);
        sum.reclaimed_objects += self.reclaimed_objects.load(Ordering::Relaxed);
        sum.reclaimed_bytes += self.reclaimed_bytes.load(Ordering::Relaxed);
        sum.assist_nanos += self.assist_nanos.load(Ordering::Relaxed);
    }
}

/// Every thread's [`ThreadCounters`] summed (exited threads included).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CounterTotals {
    pub(crate) gc_objects: u64,
    pub(crate) reclaimed_objects: u64,
    pub(crate) reclaimed_bytes: u64,
    pub(crate) assist_nanos: u64,
}

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
            crate::reclaim::flush(&op);
            // SAFETY: inside an op on this thread's own cache.
            unsafe { (*op.cache).release_all() };
            // Inside the op, so that a mark termination either sees the buffer here or
            // its contents in the collector's list, never neither.
            op.with_mark_buffer(hand_over_mark_buffer);
        }
        CURRENT.with(|c| c.set(ptr::null_mut()));
        REGISTRY.lock().retain(|p| p.0 != cache);
        // SAFETY: the cache is unregistered and empty; only this thread touches it now.
        unsafe { &(*cache).counters }.move_into(&EXITED);
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
    /// Enters an op on `cache` (this thread's own), waiting while the world is stopped
    /// (`Safepoint::enter`: an odd `op_seq`, the mutator fence, an Acquire load of `STOP`).
    #[inline]
    fn enter_with(cache: *mut ThreadCache) -> Op {
        // SAFETY: this thread's own live cache.
        let mutator = unsafe { &(*cache).mutator };
        SAFEPOINT.enter(mutator);
        Op {
            cache,
            orphan: None,
        }
    }

    /// Allocates one object of span class `class`.
    #[inline(always)]
    pub(crate) fn alloc(
        &self,
        class: SpanClass,
        managed: bool,
        new: NewSlot,
    ) -> Result<NonNull<u8>, AllocError> {
        // SAFETY: inside an op the cache is used only by this thread (or, for the orphan,
        // by the holder of its lock, which we are), and no other reference to it is live.
        unsafe { (*self.cache).alloc(class, managed, new) }
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
        ThreadCounters::add(unsafe { &(*self.cache).counters.gc_objects }, 1);
    }

    /// Counts `objects` count-zero objects of `bytes` slot bytes freed by this thread.
    #[inline]
    pub(crate) fn note_reclaimed(&self, objects: u64, bytes: u64) {
        // SAFETY: as in `note_gc_object`.
        let counters = unsafe { &(*self.cache).counters };
        ThreadCounters::add(&counters.reclaimed_objects, objects);
        ThreadCounters::add(&counters.reclaimed_bytes, bytes);
    }

    /// Counts `nanos` nanoseconds this thread spent in a reclaim assist.
    #[inline]
    pub(crate) fn note_assist(&self, nanos: u64) {
        // SAFETY: as in `note_gc_object`.
        ThreadCounters::add(unsafe { &(*self.cache).counters.assist_nanos }, nanos);
    }

    /// Hands this thread's cached spans back to the central lists.
    pub(crate) fn flush(&self) {
        // SAFETY: as in `alloc`.
        unsafe { (*self.cache).release_all() };
    }
}

// SAFETY: an `Op` without an orphan guard was entered by `enter_with` through
// `SAFEPOINT.enter` on its own thread's cache and exits only in its `Drop`; one with an
// orphan guard holds the ORPHAN lock, which serialises every use of the orphan cache (on
// which no op bracket ever runs), for as long as it lives. `Op` holds a raw pointer, so it
// is neither `Send` nor `Sync`.
unsafe impl InOp for Op {
    #[inline(always)]
    fn mutator(&self) -> &Mutator {
        // SAFETY: the cache is live (caches are never freed) and ours inside the op.
        unsafe { &(*self.cache).mutator }
    }
}

impl Drop for Op {
    #[inline]
    fn drop(&mut self) {
        if self.orphan.is_none() {
            // Release store of an even `op_seq` (safepoint fact 2).
            self.mutator().exit();
        }
    }
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

/// The world, stopped: no thread is inside an op and none can enter one until this is
/// dropped. Threads outside the library keep running.
pub(crate) struct StoppedWorld {
    /// Dropped first (fields drop in order): restarts the world while the registry and the
    /// orphan cache are still locked.
    stopped: Stopped<'static>,
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
    // `STOP`, the collector's fence (safepoint fact 1), then a snapshot of the registry
    // and a wait for each of its threads' ops.
    let stopped = SAFEPOINT.stop(|| REGISTRY.lock().clone().into_iter().map(CachePtr::mutator));
    let orphan = ORPHAN.lock();
    let registry = REGISTRY.lock();
    for cache in registry.iter() {
        // A thread registered after the snapshot entered no op without seeing STOP.
        debug_assert!(!cache.mutator().in_op());
    }
    let mut world = StoppedWorld {
        stopped,
        registry,
        orphan,
    };
    fence_choice::after_stop(world.stopped.membarrier_time(), || {
        // SAFETY: `world` holds the registry and orphan locks until after its stop ends
        // (its fields drop in order), as the switch requires (safepoint fact 5).
        unsafe { world.stopped.switch_to_fences() }
    });
    world
}

/// The protocol state of every thread a stopped world covers: the registered threads (the
/// stop waited for those in its snapshot; later ones saw `STOP`) and the orphan cache
/// (whose lock the stopped world holds).
fn stopped_mutators<'a>(
    registry: &'a [CachePtr],
    orphan: &'a Option<ThreadCache>,
) -> impl Iterator<Item = &'a Mutator> {
    let registered = registry.iter().map(|cache| cache.mutator());
    registered.chain(orphan.iter().map(|orphan| &orphan.mutator))
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
    pub(crate) fn take_mark_buffers(&mut self, sink: impl FnMut(Vec<usize>)) -> usize {
        let mutators = stopped_mutators(&self.registry, &self.orphan);
        // SAFETY: `stopped_mutators` are the threads this stop covers (its doc).
        unsafe { self.stopped.take_mark_buffers(mutators, sink) }
    }

    /// Passes every thread's count-zero buffer (the orphan cache's too) to `f`
    /// (`reclaim/queue.rs`; the cycle's starting stop discards them).
    pub(crate) fn for_each_reclaim_buffer(&mut self, f: impl FnMut(&mut ThreadBuffer, &BufferAge)) {
        let mutators = stopped_mutators(&self.registry, &self.orphan);
        // SAFETY: `stopped_mutators` are the threads this stop covers (its doc).
        unsafe { self.stopped.for_each_reclaim_buffer(mutators, f) }
    }

    /// Number of registered mutator threads.
    pub(crate) fn threads(&self) -> usize {
        self.registry.len()
    }
}

/// Passes the reclaim module's shared word of every registered thread and of the orphan
/// cache to `f`, without stopping anyone (the words are atomic; `reclaim/queue.rs` reads
/// them to find buffers that waited too long).
pub(crate) fn for_each_reclaim_age(mut f: impl FnMut(&BufferAge)) {
    for cache in REGISTRY.lock().iter() {
        f(cache.mutator().reclaim_age());
    }
    if let Some(orphan) = ORPHAN.lock().as_ref() {
        f(orphan.mutator.reclaim_age());
    }
}

/// Every thread's counters so far, exited threads included (for `heap_objects` and the
/// reclamation statistics).
pub(crate) fn counter_totals() -> CounterTotals {
    let mut sum = CounterTotals::default();
    for cache in REGISTRY.lock().iter() {
        // SAFETY: caches are never freed; the counters are atomic.
        unsafe { &(*cache.0).counters }.totals(&mut sum);
    }
    if let Some(orphan) = ORPHAN.lock().as_ref() {
        orphan.counters.totals(&mut sum);
    }
    EXITED.totals(&mut sum);
    sum
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
