//! The span allocator: Go's mheap / mcentral / mcache, for Rust.
//!
//! # Structure (each module opens with its own design note)
//! | module | role | Go |
//! |---|---|---|
//! | `size_class` | request size -> size class -> slot size, pages per span | `sizeclasses.go` |
//! | `arena` | 64 MiB arenas, the page map (address -> span in O(1)) | `heapArena`, `spanOf` |
//! | `page_heap` | page runs for spans, first fit, coalescing, release | `mheap.go`, `mpagealloc.go` |
//! | `scavenger` | background return of free pages to the OS | `mgcscavenge.go` |
//! | `meta` | off-heap `Span` structs and bitmaps | `fixalloc`, `gcBits` |
//! | `span` | one span: bitmaps, alloc cache, sweep | `mspan` |
//! | `central` | per-class partial/full lists | `mcentral.go` |
//! | `sweep_state`, `free_pass` | a cycle's free pass: who sweeps, what was swept, its gate | `sweepgen` |
//! | `thread_cache` | per-thread current spans, the fast path | `mcache.go` |
//!
//! # The internal API (used by the collector, the sweeper and the pool)
//! - [`alloc`]`(bytes, align, scan)`: one object; small requests go through the thread
//!   cache, requests over 32 KiB (or aligned beyond 8 KiB) get their own span.
//! - [`free`]`(ptr)`: explicit free; the slot is reusable after its span's next sweep.
//! - [`lookup`]`(addr)`: the object containing an address, or `None` for anything that is
//!   not inside an allocated object of this heap (never a wild read).
//! - [`totals`](): bytes in use, in spans, mapped and released to the OS.
//! - Crate-internal: span iteration (`Span::for_each_allocated`) and sweeping by bitmap
//!   (`Span::sweep`), which the collector builds on.
//!
//! Dependency direction: `os`/`sync` <- `heap` <- collector <- public API.

mod arena;
mod central;
mod fence_choice;
mod free_pass;
mod meta;
mod page_heap;
pub(crate) mod safepoint;
mod scavenger;
pub(crate) mod size_class;
mod span;
mod sweep_state;
mod thread_cache;

use core::fmt;
use core::ptr::NonNull;
use std::sync::OnceLock;

pub use size_class::{
    SizeClass, SpanClass, MAX_OBJECTS_PER_SPAN, MAX_SMALL_BYTES, NUM_SIZE_CLASSES,
    NUM_SPAN_CLASSES, PAGE_BYTES, PAGE_SHIFT,
};

use central::Central;
pub(crate) use fence_choice::{set_max as set_membarrier_max, switched_at as fences_switched_at};
use page_heap::PageHeap;
pub(crate) use scavenger::set_heap_goal;
pub(crate) use span::{NewSlot, Span};
pub(crate) use thread_cache::{
    counter_totals, enter_op, for_each_reclaim_age, set_mark_buffer_sink, stop_the_world, Op,
    StoppedWorld,
};

use crate::sync::{AtomicU32, AtomicUsize, Ordering};

/// Why an allocation failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllocError {
    /// The request cannot be represented: its size (plus alignment) overflows the address
    /// space, or the alignment is not a power of two.
    TooLarge,
    /// The operating system refused to map more memory.
    OutOfMemory,
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocError::TooLarge => {
                f.write_str("tricolor-gc: allocation request too large for the address space")
            }
            AllocError::OutOfMemory => {
                f.write_str("tricolor-gc: the operating system refused more memory")
            }
        }
    }
}

impl std::error::Error for AllocError {}

static PAGE_HEAP: PageHeap = PageHeap::new();

fn page_heap() -> &'static PageHeap {
    &PAGE_HEAP
}

/// Central lists: one per span class for raw objects (explicit `free`), then one per span
/// class for objects managed by the collector (freed by sweeping). The two never share a
/// span, so a collection cycle only ever sweeps managed spans.
fn centrals() -> &'static [Central] {
    static CENTRALS: OnceLock<Vec<Central>> = OnceLock::new();
    CENTRALS.get_or_init(|| {
        (0..2 * NUM_SPAN_CLASSES)
            .map(|i| {
                Central::new(
                    SpanClass::from_index(i % NUM_SPAN_CLASSES),
                    i >= NUM_SPAN_CLASSES,
                )
            })
            .collect()
    })
}

/// Index of `(class, managed)` in `centrals()` and in thread caches.
#[inline]
fn cache_index(class: SpanClass, managed: bool) -> usize {
    managed as usize * NUM_SPAN_CLASSES + class.index()
}

fn central(class: SpanClass, managed: bool) -> &'static Central {
    &centrals()[cache_index(class, managed)]
}

/// The central list a span belongs to.
fn central_of(span: &Span) -> &'static Central {
    central(span.span_class(), span.is_managed())
}

/// The heap's sweep generation (Go's `mheap_.sweepgen`); advanced by 2 per collection at
/// mark termination. Spans compare their own `sweep_gen` against it (`Span::is_being_swept`).
static SWEEP_GEN: AtomicU32 = AtomicU32::new(0);

fn sweep_gen() -> u32 {
    // Relaxed: only selects which half of a central list is "swept"; changes of the
    // generation happen while the collector holds every central lock (sweeper increment).
    SWEEP_GEN.load(Ordering::Relaxed)
}

/// In-use byte accounting (see [`HeapTotals::in_use_bytes`]).
mod accounting {
    use crate::sync::{AtomicUsize, Ordering};

    static IN_USE_BYTES: AtomicUsize = AtomicUsize::new(0);

    // Relaxed throughout: a statistic; no other memory is published through it.
    pub(super) fn add_in_use(bytes: usize) {
        IN_USE_BYTES.fetch_add(bytes, Ordering::Relaxed);
    }
    pub(super) fn sub_in_use(bytes: usize) {
        IN_USE_BYTES.fetch_sub(bytes, Ordering::Relaxed);
    }
    pub(super) fn in_use() -> usize {
        IN_USE_BYTES.load(Ordering::Relaxed)
    }
}

/// Allocates `bytes` bytes aligned to `align` from the garbage-collected heap.
///
/// `scan` says whether the object may contain GC pointers (it selects the scan or noscan
/// span class; the collector never scans noscan spans). The memory is uninitialised.
/// A size of 0 is treated as 1.
///
/// # Errors
/// [`AllocError::TooLarge`] if the request cannot fit the address space or `align` is not a
/// power of two, [`AllocError::OutOfMemory`] if the OS refuses memory.
///
/// # Examples
/// ```
/// use tricolor_gc_core::heap;
/// let p = heap::alloc(48, 8, false).expect("48 bytes");
/// // SAFETY: the block is 48 writable bytes and nobody else uses it.
/// unsafe { p.as_ptr().write_bytes(7, 48) };
/// assert_eq!(heap::lookup(p.as_ptr() as usize + 47).unwrap().start(), p);
/// // SAFETY: allocated above and freed once.
/// unsafe { heap::free(p) };
/// ```
#[inline]
pub fn alloc(bytes: usize, align: usize, scan: bool) -> Result<NonNull<u8>, AllocError> {
    if !align.is_power_of_two() {
        return Err(AllocError::TooLarge);
    }
    let op = thread_cache::enter_op();
    alloc_in(&op, bytes, align, scan, false, NewSlot::default())
}

/// Allocates a collector-managed object inside `op` (freed by the sweeper or by count-zero
/// reclamation), recording `new` in its span before the slot is published. Otherwise like
/// [`alloc`].
#[inline]
pub(crate) fn alloc_managed(
    op: &Op,
    bytes: usize,
    align: usize,
    scan: bool,
    new: NewSlot,
) -> Result<NonNull<u8>, AllocError> {
    alloc_in(op, bytes, align, scan, true, new)
}

/// [`alloc`] inside an op the caller holds, from raw or managed span classes.
#[inline]
fn alloc_in(
    op: &Op,
    bytes: usize,
    align: usize,
    scan: bool,
    managed: bool,
    new: NewSlot,
) -> Result<NonNull<u8>, AllocError> {
    match SizeClass::for_request(bytes, align) {
        Some(class) => op.alloc(SpanClass::new(class, !scan), managed, new),
        None => alloc_large(bytes, align, scan, managed, new),
    }
}

/// An object of its own span: a whole number of pages, aligned to `align` (at least a page).
#[cold]
fn alloc_large(
    bytes: usize,
    align: usize,
    scan: bool,
    managed: bool,
    new: NewSlot,
) -> Result<NonNull<u8>, AllocError> {
    let pages = bytes
        .max(1)
        .checked_add(PAGE_BYTES - 1)
        .ok_or(AllocError::TooLarge)?
        / PAGE_BYTES;
    let align_pages = (align / PAGE_BYTES).max(1);
    let class = SpanClass::new(SizeClass::LARGE, !scan);
    let span = page_heap().alloc_span(pages, align_pages, class)?;
    // SAFETY: a fresh span, exclusively ours until listed.
    let span_ref = unsafe { span.as_ref() };
    span_ref.set_managed(managed);
    let p = span_ref
        .try_alloc_fast(new)
        .expect("tricolor-gc: fresh large span has no free slot");
    accounting::add_in_use(span_ref.elem_bytes());
    central(class, managed).list_large(span);
    check_trigger();
    if managed {
        note_managed_refill(span_ref.elem_bytes());
    }
    Ok(p)
}

/// Frees an object returned by [`alloc`]. Its slot becomes reusable when its span is next
/// swept (when its owning thread cache runs out of room, or at once if the span is idle).
///
/// # Safety
/// - `ptr` was returned by [`alloc`] and has not been freed since.
/// - No reference to the object is used after this call.
///
/// # Panics
/// If `ptr` is not the start of an allocated object of this heap.
pub unsafe fn free(ptr: NonNull<u8>) {
    let addr = ptr.as_ptr() as usize;
    let object = lookup(addr)
        .unwrap_or_else(|| panic!("tricolor-gc: free of {addr:#x}, which is not a heap object"));
    assert_eq!(
        object.start().as_ptr() as usize,
        addr,
        "tricolor-gc: free of an interior pointer {addr:#x}"
    );
    // SAFETY: span structs live for the process; `lookup` validated it is in use.
    let span_ref = unsafe { object.span.as_ref() };
    if span_ref.span_class().size_class().is_large() {
        // SAFETY: the caller guarantees the object is allocated and not freed again.
        unsafe { span_ref.free(0) };
        central_of(span_ref).note_free(object.span);
        return;
    }
    let op = thread_cache::enter_op();
    // SAFETY: forwarded from the caller.
    unsafe { free_small(&op, object, span_ref) };
}

/// Frees the small object `object` of `span_ref` inside `op`: locally if this thread's
/// cache owns the span, else through the span's remote-free bitmap.
///
/// # Safety
/// As [`free`]; `object` was found by `lookup` and `span_ref` is its span.
unsafe fn free_small(op: &Op, object: ObjectRef, span_ref: &Span) {
    if op.owns(span_ref) {
        // SAFETY: this thread's cache owns the span; the caller guarantees the slot is
        // allocated and not freed twice.
        unsafe { span_ref.free_local(object.index) };
        return;
    }
    // SAFETY: the caller guarantees the slot is allocated and not freed twice.
    let pending = unsafe { span_ref.free(object.index) };
    if pending == span_ref.reuse_threshold() || pending >= span_ref.alloc_count() {
        central_of(span_ref).note_free(object.span);
    }
}

// ---- the collector's interface (crate-internal) ----

/// Frees a managed object inside `op` (count-zero reclamation, `reclaim/`): locally if
/// this thread's cache owns its span, else through the span's remote-free bitmap.
///
/// # Safety
/// `object` is the start of an allocated managed object that nothing references any more,
/// whose header's `info` is already null, and it is freed once.
///
/// Returns the bytes of the freed slot (`ObjectRef::slot_bytes`).
///
/// # Panics
/// If `object` is not in a managed span of this heap. (Debug builds also check that it is
/// the start of an allocated slot; release builds trust the caller, as this is every
/// reclaimed object's path.)
#[inline]
pub(crate) unsafe fn free_managed(op: &Op, object: NonNull<u8>) -> usize {
    let addr = object.as_ptr() as usize;
    let (span_ref, index) = managed_object(addr).unwrap_or_else(|| {
        panic!("tricolor-gc: reclaiming {addr:#x}, which is not a managed object")
    });
    debug_assert!(span_ref.is_managed());
    debug_assert!(
        span_ref.is_allocated(index) && span_ref.slot_addr(index) == addr,
        "tricolor-gc: reclaiming {addr:#x}, which is not an allocated object's start"
    );
    let bytes = span_ref.elem_bytes();
    if span_ref.span_class().size_class().is_large() {
        // SAFETY: the caller guarantees the object is allocated and freed once.
        unsafe { span_ref.free(0) };
        central_of(span_ref).note_free(NonNull::from(span_ref));
        return bytes;
    }
    if op.owns(span_ref) {
        // SAFETY: this thread's cache owns the span; the caller guarantees the slot is
        // allocated and freed once.
        unsafe { span_ref.free_local(index) };
        return bytes;
    }
    // SAFETY: the caller guarantees the slot is allocated and freed once.
    let pending = unsafe { span_ref.free(index) };
    if pending == span_ref.reuse_threshold() || pending >= span_ref.alloc_count() {
        central_of(span_ref).note_free(NonNull::from(span_ref));
    }
    bytes
}

/// Called (inside the op) when a thread cache takes a new span for managed objects.
static REFILL_HOOK: OnceLock<fn(usize)> = OnceLock::new();

/// Sets the function a thread cache calls, inside its op, each time it takes a new span
/// for managed objects or allocates a large managed object, with the bytes it took (once;
/// it must only note the event: after the op the thread reclaims its count-zero buffer,
/// so memory is reused before more is taken, and assists a running cycle).
pub(crate) fn set_refill_hook(hook: fn(usize)) {
    REFILL_HOOK.get_or_init(|| hook);
}

#[inline]
fn note_managed_refill(bytes: usize) {
    if let Some(hook) = REFILL_HOOK.get() {
        hook(bytes);
    }
}

thread_local! {
    /// Set when this thread grew the heap during the sweep's drop pass with the span pages
    /// at the heap goal; taken after the op (`take_growth_wait`).
    static GROWTH_WAIT: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Whether the in-use heap has reached the collector's heap goal (never without a goal).
pub(crate) fn at_heap_goal() -> bool {
    accounting::in_use() >= scavenger::heap_goal()
}

/// A thread cache is about to take `pages` fresh pages for a managed span (no swept span
/// with a free slot, no empty span). While the sweep's drop pass runs, the slots this
/// cycle frees cannot be reused yet (`sweep/`, "Why two passes"), so a heap that grows
/// then keeps those slots free beside the new span: each cycle adds what the mutators
/// allocate during its drop pass, and the span pages drift above the in-use heap (W3 under
/// a memory limit: 1.4-1.9x). Once the span pages reach the heap goal, the thread helps
/// the drop pass and waits for its end after this op, for a bounded time, before it
/// allocates more (`take_growth_wait`, `collector::after_refill`): a thread grows the heap
/// beyond the goal by at most one span per bounded wait.
fn note_growth(pages: usize) {
    if !crate::sweep::drop_pass_running() {
        return;
    }
    let span_bytes = (page_heap().totals().in_use_pages + pages) * PAGE_BYTES;
    if span_bytes > scavenger::heap_goal() {
        let _ = GROWTH_WAIT.try_with(|w| w.set(true));
    }
}

/// Whether this thread grew the heap past the goal during a drop pass since the last call
/// (`note_growth`); clears the flag.
pub(crate) fn take_growth_wait() -> bool {
    GROWTH_WAIT.try_with(|w| w.replace(false)).unwrap_or(false)
}

/// In-use bytes at which `check_trigger` calls the trigger hook.
static TRIGGER_BYTES: AtomicUsize = AtomicUsize::new(usize::MAX);
static TRIGGER_HOOK: OnceLock<fn()> = OnceLock::new();

/// Arms the allocation trigger: when in-use bytes reach `bytes` at a span refill or a
/// large allocation, `hook` runs on the allocating thread (it must only signal).
pub(crate) fn set_trigger(bytes: usize, hook: fn()) {
    TRIGGER_HOOK.get_or_init(|| hook);
    // Relaxed: a heuristic threshold; a stale value delays a cycle by one refill.
    TRIGGER_BYTES.store(bytes, Ordering::Relaxed);
}

#[inline]
fn check_trigger() {
    if accounting::in_use() >= TRIGGER_BYTES.load(Ordering::Relaxed) {
        if let Some(hook) = TRIGGER_HOOK.get() {
            hook();
        }
    }
}

/// Stops span frees (deferring them) while the collector walks spans; see
/// `PageHeap::freeze`.
pub(crate) fn freeze_spans() {
    page_heap().freeze();
}

/// Ends a [`freeze_spans`].
pub(crate) fn thaw_spans() {
    page_heap().thaw();
}

/// Every span holding managed objects, as of now. Valid to walk while frozen.
pub(crate) fn managed_spans() -> Vec<NonNull<Span>> {
    let mut spans = Vec::new();
    page_heap().for_each_span(|span| {
        if span.is_managed() {
            spans.push(NonNull::from(span));
        }
    });
    spans
}

/// Starts a new sweep generation (Go's `sweepgen += 2`): every managed span on a central
/// list becomes unswept, and allocation takes only swept spans until the sweeper files
/// them back. Requires a stopped world whose caches were flushed.
pub(crate) fn advance_sweep_generation(_world: &StoppedWorld) {
    // Relaxed: the stopped world orders it before every op that follows (safepoint fact 3).
    SWEEP_GEN.fetch_add(2, Ordering::Relaxed);
}

/// Tests only: whether stops currently run membarrier (false: op entries fence for real),
/// and, if the process switched from membarrier to fences, the median membarrier time
/// that made it (`fence_choice.rs`).
#[doc(hidden)]
pub fn __fence_mode() -> (bool, Option<std::time::Duration>) {
    (safepoint::SAFEPOINT.expedited(), fences_switched_at())
}

/// Every managed span waiting to be swept.
pub(crate) fn unswept_managed_spans() -> Vec<NonNull<Span>> {
    let mut spans = Vec::new();
    for c in &centrals()[NUM_SPAN_CLASSES..] {
        c.unswept_spans(&mut spans);
    }
    spans
}

/// Marks `spans` (from [`unswept_managed_spans`]) as being swept by the collector's sweep
/// of the current generation, until [`end_sweeping`]. Collector thread, in `Sweep`.
pub(crate) fn begin_sweeping(spans: &[NonNull<Span>]) {
    let generation = sweep_gen();
    for span in spans {
        // SAFETY: span structs live for the process (meta.rs); the field is atomic.
        unsafe { span.as_ref() }.begin_sweep(generation);
    }
}

/// Ends a [`begin_sweeping`] of the same spans, after the sweep's free pass.
pub(crate) fn end_sweeping(spans: &[NonNull<Span>]) {
    let generation = sweep_gen();
    for span in spans {
        // SAFETY: as in `begin_sweeping`.
        unsafe { span.as_ref() }.end_sweep(generation);
    }
}

/// Whether `span` is among the spans the running sweep has (between [`begin_sweeping`]
/// and [`end_sweeping`]). Collector thread only.
#[inline]
pub(crate) fn is_being_swept(span: &Span) -> bool {
    span.is_being_swept(sweep_gen())
}

/// Sweeps every unswept managed span (see `Central::sweep_unswept`); several threads may
/// do so at once. The totals go to the sweep's counters ([`take_sweep_totals`]).
pub(crate) fn sweep_managed() {
    for c in &centrals()[NUM_SPAN_CLASSES..] {
        c.sweep_unswept(usize::MAX);
    }
}

/// Sweeps up to `max_spans` unswept managed spans if the free pass is open (an allocating
/// thread's share of it, outside any op; `sweep_state::assist_if_open` keeps the pass from
/// closing meanwhile); returns the bytes their objects held (0: none was left, or the pass
/// is closed).
pub(crate) fn sweep_managed_some(max_spans: usize) -> usize {
    // Relaxed: only spreads threads over the classes.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    sweep_state::assist_if_open(|| {
        let managed = &centrals()[NUM_SPAN_CLASSES..];
        let start = NEXT.fetch_add(1, Ordering::Relaxed);
        let (mut swept, mut bytes) = (0, 0);
        for i in 0..managed.len() {
            if swept >= max_spans {
                break;
            }
            let (spans, held) =
                managed[(start + i) % managed.len()].sweep_unswept(max_spans - swept);
            swept += spans;
            bytes += held;
        }
        bytes
    })
}

pub(crate) use sweep_state::{
    close_free_pass, open_free_pass, take as take_sweep_totals, wait_for_sweepers,
};

/// Whether `addr` lies in the heap's own address space (an arena), whether or not a span
/// owns its page now (the debug heap: a cell there with no span is in freed memory).
pub(crate) fn in_arena(addr: usize) -> bool {
    arena::arena_of(addr).is_some()
}

/// The span and slot of the managed object starting at `addr`, without validating that
/// the slot is allocated (the caller holds a handle to it).
#[inline]
pub(crate) fn managed_object(addr: usize) -> Option<(&'static Span, usize)> {
    let span = arena::span_of(addr)?;
    // SAFETY: span structs live for the process; a handle keeps this one in use.
    let span_ref: &'static Span = unsafe { span.as_ref() };
    let index = span_ref.slot_of(addr)?;
    Some((span_ref, index))
}

/// An allocated object found by [`lookup`].
#[derive(Copy, Clone, Debug)]
pub struct ObjectRef {
    span: NonNull<Span>,
    index: usize,
    start: NonNull<u8>,
    bytes: usize,
}

impl ObjectRef {
    /// The object's first byte.
    pub fn start(&self) -> NonNull<u8> {
        self.start
    }
    /// The object's slot size in bytes (its size class's size, or the large span's size).
    pub fn slot_bytes(&self) -> usize {
        self.bytes
    }
    /// The object's slot index within its span.
    pub fn index(&self) -> usize {
        self.index
    }
}

/// The allocated object containing `addr`, or `None` if `addr` is outside every arena, in
/// a free page, in a span's tail, or in a free slot.
///
/// Reads only the arena map, the page map and span metadata, all of which stay mapped for
/// the life of the process; a racing free can make the answer stale, never unsafe.
///
/// # Examples
/// ```
/// use tricolor_gc_core::heap;
/// let on_stack = 5u64;
/// assert!(heap::lookup(&on_stack as *const u64 as usize).is_none());
/// assert!(heap::lookup(0).is_none());
/// ```
pub fn lookup(addr: usize) -> Option<ObjectRef> {
    let span = arena::span_of(addr)?;
    // SAFETY: span structs live for the process (meta.rs); fields are atomics.
    let span_ref = unsafe { span.as_ref() };
    if !span_ref.is_in_use() {
        return None;
    }
    let index = span_ref.slot_of(addr)?;
    if !span_ref.is_allocated(index) {
        return None;
    }
    let start = NonNull::new(span_ref.slot_addr(index) as *mut u8)?;
    Some(ObjectRef {
        span,
        index,
        start,
        bytes: span_ref.elem_bytes(),
    })
}

/// Heap-wide totals.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeapTotals {
    /// Bytes of allocated slots. Pessimistic like Go's `heapLive`: every slot of a span
    /// that a thread cache currently holds counts, and explicitly freed slots count until
    /// their span is swept.
    pub in_use_bytes: usize,
    /// Bytes of pages owned by spans.
    pub span_bytes: usize,
    /// Bytes of address space reserved in arenas.
    pub mapped_bytes: usize,
    /// Bytes of free pages (resident or released).
    pub free_bytes: usize,
    /// Bytes of free pages given back to the OS (not resident).
    pub released_bytes: usize,
}

/// The current heap totals.
///
/// # Examples
/// ```
/// let t = tricolor_gc_core::heap::totals();
/// assert!(t.span_bytes + t.free_bytes == t.mapped_bytes);
/// ```
pub fn totals() -> HeapTotals {
    let pages = page_heap().totals();
    HeapTotals {
        in_use_bytes: accounting::in_use(),
        span_bytes: pages.in_use_pages * PAGE_BYTES,
        mapped_bytes: pages.mapped_pages * PAGE_BYTES,
        free_bytes: pages.free_pages * PAGE_BYTES,
        released_bytes: pages.released_pages * PAGE_BYTES,
    }
}

/// Returns every empty span kept for reuse to the page heap, then releases free pages to
/// the OS, keeping at most `keep_bytes` of free memory resident; returns the bytes
/// released. The background scavenger does this on its own, one period at a time; this
/// is for programs that know they just shrank (Go's `debug.FreeOSMemory`).
///
/// # Examples
/// ```
/// let released = tricolor_gc_core::heap::scavenge(0);
/// assert_eq!(tricolor_gc_core::heap::totals().free_bytes, tricolor_gc_core::heap::totals().released_bytes);
/// # let _ = released;
/// ```
pub fn scavenge(keep_bytes: usize) -> usize {
    release_empty_spans();
    page_heap().scavenge(keep_bytes)
}

/// Returns every empty span kept on the central lists to the page heap now (the scavenger
/// otherwise does it once a span has been empty for a whole period); returns how many.
pub fn release_empty_spans() -> usize {
    centrals().iter().map(|c| c.release_empty(true)).sum()
}

/// The scavenger's periodic pass: returns spans that stayed empty for a whole period.
fn release_aged_empty_spans() -> usize {
    centrals().iter().map(|c| c.release_empty(false)).sum()
}

/// Hands the calling thread's cached spans back to the central lists.
pub fn flush_thread_cache() {
    thread_cache::enter_op().flush();
}

/// Counts for tests and diagnostics.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Census {
    /// Thread caches registered (one per live thread that has allocated).
    pub thread_caches: usize,
    /// Spans cached by the calling thread.
    pub spans_cached_here: usize,
    /// Spans on central partial lists.
    pub partial_spans: usize,
    /// Spans on central full lists.
    pub full_spans: usize,
    /// Empty spans kept on central lists for reuse (released by the scavenger).
    pub empty_spans: usize,
    /// Spans held by any thread cache (all threads).
    pub cached_spans: usize,
    /// Spans that own pages, wherever they are.
    pub spans: usize,
}

/// Counts thread caches and central spans.
pub fn census() -> Census {
    let (thread_caches, spans_cached_here) = thread_cache::census();
    let (partial_spans, full_spans, empty_spans) = centrals()
        .iter()
        .map(Central::census)
        .fold((0, 0, 0), |(p, f, e), (cp, cf, ce)| {
            (p + cp, f + cf, e + ce)
        });
    let (mut cached_spans, mut spans) = (0, 0);
    page_heap().for_each_span(|span| {
        spans += 1;
        cached_spans += (span.list() == span::ListId::Cached) as usize;
    });
    Census {
        thread_caches,
        spans_cached_here,
        partial_spans,
        full_spans,
        empty_spans,
        cached_spans,
        spans,
    }
}

/// Checks every structural invariant of the page heap and the central lists (recounting
/// bitmaps and lists); panics with a `tricolor-gc:` message on a violation. Expensive:
/// for tests and debugging.
pub fn check_invariants() {
    page_heap().check_invariants();
    for c in centrals() {
        c.check_invariants();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_requests_are_errors_not_ub() {
        assert_eq!(alloc(16, 3, false), Err(AllocError::TooLarge));
        assert_eq!(alloc(usize::MAX - 10, 8, false), Err(AllocError::TooLarge));
        assert_eq!(alloc(1 << 62, 8, false), Err(AllocError::OutOfMemory));
    }

    #[test]
    fn lookup_finds_objects_and_rejects_free_slots() {
        let a = alloc(100, 8, true).expect("a");
        let b = alloc(100, 8, true).expect("b");
        let found = lookup(a.as_ptr() as usize + 50).expect("interior");
        assert_eq!(found.start(), a);
        assert!(found.slot_bytes() >= 100);
        // SAFETY: allocated above, freed once.
        unsafe { free(a) };
        assert!(
            lookup(a.as_ptr() as usize).is_none(),
            "freed slot is not an object"
        );
        assert!(lookup(b.as_ptr() as usize).is_some());
        // SAFETY: allocated above, freed once.
        unsafe { free(b) };
    }

    #[test]
    fn alignment_is_honoured_for_small_and_large() {
        for &(bytes, align) in &[
            (24, 16),
            (100, 64),
            (3000, 4096),
            (5000, 8192),
            (70_000, 1 << 16),
            (10, 1 << 20),
        ] {
            let p = alloc(bytes, align, false).expect("aligned");
            assert_eq!(
                p.as_ptr() as usize % align,
                0,
                "{bytes} bytes aligned to {align}"
            );
            // SAFETY: `bytes` writable bytes.
            unsafe { p.as_ptr().write_bytes(1, bytes) };
            // SAFETY: allocated above, freed once.
            unsafe { free(p) };
        }
    }
}
