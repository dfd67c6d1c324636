//! Counting, roots and marking: the concurrent half of a cycle (Go's `mgcmark.go`, with
//! stack scanning replaced by root discovery by subtraction, DESIGN §3).
//!
//! # Algorithm
//! With the phase at `Mark` and a snapshot of the managed spans taken after the cycle's
//! starting stop:
//! 1. **Count** (`count_internal`): for every published, unmarked object of a scan span
//!    ("pre-existing": objects allocated since the starting stop are marked before they are
//!    published), trace it and add one to the `internal` count of every reported target
//!    that is unmarked. A `GcCell` that is mutably borrowed is skipped by its own `Trace`
//!    impl, so its handles are not counted.
//! 2. **Roots** (`shade_roots`): for every published object of every span, reset
//!    `internal` to zero; if the object is unmarked and `handles > internal`, something
//!    outside the heap (or a skipped cell, or an object allocated during the cycle) holds
//!    it: shade it.
//! 3. **Mark** (`drain`): pop grey objects from the worker's stack (or a global buffer),
//!    trace them, shade every target. Mutator barriers shade concurrently (`shade`).
//!    Marking is iterative: the work buffers are the only stack, so a million-node list
//!    marks in constant native stack.
//!
//! Each step runs on every mark worker in parallel (`workers.rs`; with one worker, on the
//! collector thread itself); steps 1 and 2 take chunks of the span snapshot, step 3 shares
//! grey objects through `work.rs`.
//!
//! Shading `x`: set `x`'s mark bit; if it was clear and `x` lives in a scan span, push it
//! as grey: a worker pushes on its own stack (`shade_into`), a mutator's barrier into its
//! thread's buffer (`shade`). Objects of noscan spans go straight to black.
//!
//! # What each step reads, and how it keeps the cost per object down
//! A cycle's cost is these three steps over every object (issue #11 item 7; measured in
//! docs/collector.md, "Costs"), so each visits memory in the cheapest order it can:
//! - Steps 1 and 2 walk every span of the snapshot in address order, a bitmap word (64
//!   slots) at a time (`Span::for_each_allocated_word`), so headers stream in.
//! - Step 1 reads, per slot: the allocated bit; the mark bit before `info` (a filter: the
//!   word as it was) and again after the Acquire load of a non-null `info` (the check that
//!   counts, rule 2 below); then the object through its `Trace` impl. Per edge: the
//!   target's span (page map) and mark bit, and its `internal` count, which it writes.
//!   Edges wait in a [`Lookahead`] ring for `LOOKAHEAD` edges, their target's header
//!   prefetched when they enter, so that the random write finds its line in cache.
//! - Step 2 reads, per slot: `info`, `internal` (written to zero where non-zero) and
//!   `handles`, whatever the mark bit; a word's roots are collected into a mask and marked
//!   with one atomic OR (`Span::mark_mask`), which says which of them this worker shaded.
//! - Step 3 pops `POPPED_AHEAD` objects ahead of their trace and prefetches each header
//!   as it is popped; per edge it reads the target's span (page map) and mark bit, and
//!   sets the bit (atomic OR) if it was clear.
//!
//! What remains per object is mostly the user's `Trace`, once in step 1 and once in step
//! 3: for a `GcCell<Vec<Gc<_>>>`, the cell's collector word taken with one
//! compare-and-swap (a full barrier on x86, so misses before it are not overlapped with
//! work after it) and given back with a plain store (`gc_cell/flag.rs`), and the `Vec`'s
//! buffer, a random line outside the heap.
//!
//! # Why the roots are right (the full argument is in docs/collector.md)
//! Let `t` be the moment the roots pass reads `handles(y)`. Every handle counted in
//! `internal(y)` was inside a pre-existing object when counted; if it has left that heap
//! slot since, the write that removed it went through a `GcCell::borrow_mut` during the
//! cycle, whose deletion barrier shaded `y`. So for an unshaded `y`, `internal(y)` is at
//! most the number of heap handles at `t`, and any handle outside the heap at `t` makes
//! `handles(y) > internal(y)`. After `t`, a new outside handle can only come from a clone
//! (shades `y` during `Mark`) or from moving a heap handle out (deletion barrier).
//!
//! # Panics in user `Trace` impls
//! Edges are collected into the tracer and applied only after `trace` returns, so a panic
//! during counting discards that object's edges: its targets merely look externally held
//! (safe). A panic during marking would leave targets unshaded, so the cycle is
//! *abandoned*: `drain` reports it and the cycle marks everything before sweeping. Each
//! trace has its own `catch_unwind` (free unless a panic happens: no code runs on entry).
//!
//! # Rules the walks keep (docs/collector.md, M1 and R6)
//! 1. A walk may read a stale bitmap word and visit a slot that was free, or was freed
//!    and reused during the cycle: such a slot holds a null `info` (count-zero
//!    reclamation nulls what it frees) or is marked (a slot allocated during `Mark` is
//!    marked before the allocator publishes it, `heap::NewSlot`), so every walk skips
//!    null `info` and no walk traces a marked object. A slot a bitmap-only sweep freed
//!    keeps its old `info` (`sweep/`), but a walk sees it allocated only once it is
//!    reused, and then marked.
//! 2. Step 1 traces an object only if its mark bit, read after the Acquire load that
//!    found `info` non-null, is clear: an object born in this `Mark` (which reclamation
//!    may be freeing) has its bit set before its slot is published, so before its `info`,
//!    and it is never traced. The word read before the loads only filters.
//! 3. Step 2 reads nothing of a marked object but its header counts, and writes only a
//!    non-zero `internal`, which a born object does not have (`Gc::new` stores zero, a
//!    stale header left by a bitmap-only sweep holds the zero its last roots pass wrote,
//!    and counting skips marked targets; only the debug heap's poison, written into a born
//!    object that reclamation frees under the walk, reads non-zero, and zeroing the count
//!    of that slot changes nothing: its next object's `Gc::new` stores zero too). It
//!    shades through the OR, which reports the bits it set; a freed born slot keeps its
//!    mark bit, so it is never shaded.
//! 4. Step 3 traces only objects that this worker (or a barrier) shaded from white, never
//!    a born one.
//! 5. An edge is used after the trace that reported it has returned (step 1: up to
//!    `LOOKAHEAD` edges later), and its target's mark bit is read at that use: unmarked
//!    means pre-existing, which nothing frees before this cycle's sweep, so the write to
//!    its `internal` is to a live object.

use core::ptr::NonNull;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::header::Header;
use super::work::{self, LocalWork};
use crate::heap::{self, Op, Span};
use crate::sync::Ordering;
use crate::trace::Tracer;

/// Whether the managed object starting at `object` is marked (its span's mark bitmap;
/// exact once marking has terminated, until the sweep swaps the bitmaps).
pub(crate) fn is_marked(object: usize) -> bool {
    let (span, slot) = heap::managed_object(object)
        .unwrap_or_else(|| panic!("tricolor-gc: {object:#x} is not a managed object"));
    span.is_marked(slot)
}

/// Sets the mark bit of the object headed at `object`; true if it was clear and the object
/// must be scanned (grey), false if it was marked already or cannot hold handles.
#[inline]
fn mark_grey(object: NonNull<u8>) -> bool {
    let (span, slot) = managed_or_panic(object);
    if span.is_marked(slot) {
        return false;
    }
    span.mark(slot) && !span.span_class().is_noscan()
}

/// The span and slot of a handle's target. A target that is not a managed object can only
/// come from an `unsafe impl Trace` that broke its contract: panic (on a collector thread
/// that aborts the process, `fatal.rs`) before anything is written through the pointer.
#[inline]
fn managed_or_panic(object: NonNull<u8>) -> (&'static Span, usize) {
    heap::managed_object(object.as_ptr() as usize).unwrap_or_else(|| {
        panic!(
            "tricolor-gc: a Trace impl reported {:p}, which is not a managed object (an `unsafe impl Trace` broke its contract)",
            object.as_ptr()
        )
    })
}

/// A mutator's barrier shades the object headed at `object`. Inside an op, so that mark
/// termination either waits for the push or sees it in the thread's buffer (heap
/// `safepoint.rs`, `work.rs`).
#[inline]
pub(crate) fn shade(op: &Op, object: NonNull<u8>) {
    if mark_grey(object) {
        work::push_from_mutator(op, object.as_ptr() as usize);
    }
}

/// A mark worker shades the object headed at `object` onto its stack.
#[inline]
fn shade_into(local: &mut LocalWork, object: NonNull<u8>) {
    if mark_grey(object) {
        local.push(object.as_ptr() as usize);
    }
}

/// Marks the managed object starting at `object` born in the cycle about to start (rule
/// R5: a count-zero object that a thread is freeing when a cycle's starting stop finds it
/// in flight). In that stop only.
pub(crate) fn mark_born(object: usize) {
    let (span, slot) = heap::managed_object(object)
        .unwrap_or_else(|| panic!("tricolor-gc: {object:#x} is not a managed object"));
    span.mark_born(slot);
}

/// Whether the managed object starting at `object` was allocated black during the running
/// cycle's `Mark` (rule M1). The caller holds, or just released, the object's last handle.
#[inline]
pub(crate) fn is_born(object: usize) -> bool {
    let (span, slot) = heap::managed_object(object)
        .unwrap_or_else(|| panic!("tricolor-gc: {object:#x} is not a managed object"));
    span.is_born(slot)
}

fn header_at(span: &Span, slot: usize) -> &'static Header {
    // SAFETY: every slot of a managed span starts with a `Header` whose `info` is null or
    // points at static type info (heap zeroes headers of new managed spans; `Gc::new`
    // publishes; the sweeper nulls). Span memory stays mapped for the process.
    unsafe { &*(span.slot_addr(slot) as *const Header) }
}

/// Traces one published object into `tracer` (cleared first). Returns false if the
/// user's `Trace` impl panicked (the edges are then discarded).
fn trace_object(header: &Header, tracer: &mut Tracer) -> bool {
    tracer.edges.clear();
    let Some(info) = header.info() else {
        return true;
    };
    let object = NonNull::from(header);
    // SAFETY: `info` is published (Acquire in `info()`), so the object is initialised.
    // Nothing frees it while a cycle marks: the sweep runs after mark termination, and
    // count-zero reclamation frees during `Mark` only objects born in it, which no pass
    // traces (they are marked before they are published; docs/collector.md, M1), and no
    // batch taken before the cycle runs any more (R5), so a traced object stays
    // allocated until this cycle's sweep.
    let result = catch_unwind(AssertUnwindSafe(|| unsafe { (info.trace)(object, tracer) }));
    if result.is_err() {
        tracer.edges.clear();
        return false;
    }
    true
}

/// Edges between the trace that reported them and their use, `LOOKAHEAD` edges later: each
/// target's header is prefetched when its edge enters, so the count pass's write to it (a
/// random access over the whole heap) finds it in cache instead of waiting for it.
struct Lookahead {
    ring: [Option<NonNull<u8>>; LOOKAHEAD],
    next: usize,
}

/// Edges in flight in a [`Lookahead`] (a power of two).
const LOOKAHEAD: usize = 16;

impl Lookahead {
    fn new() -> Lookahead {
        Lookahead {
            ring: [None; LOOKAHEAD],
            next: 0,
        }
    }

    /// Takes `edge` in (prefetching its target) and returns the edge it displaces, if the
    /// ring was full.
    #[inline]
    fn push(&mut self, edge: NonNull<u8>) -> Option<NonNull<u8>> {
        prefetch(edge.as_ptr() as usize);
        let old = self.ring[self.next].replace(edge);
        self.next = (self.next + 1) % LOOKAHEAD;
        old
    }

    /// Hands out every edge still in the ring, oldest first.
    fn drain(&mut self, mut f: impl FnMut(NonNull<u8>)) {
        for i in 0..LOOKAHEAD {
            if let Some(edge) = self.ring[(self.next + i) % LOOKAHEAD].take() {
                f(edge);
            }
        }
    }
}

/// Asks the CPU to bring the cache line at `addr` in; a hint only.
#[inline(always)]
fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is a hint: it never faults, whatever the address, and changes
    // nothing a program can observe but timing.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(addr as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// Counts one edge reported by the count pass: one more handle to `edge`'s target inside a
/// pre-existing object, if the target is unmarked.
#[inline]
fn count_edge(edge: NonNull<u8>) {
    let (target_span, target_slot) = managed_or_panic(edge);
    if target_span.is_marked(target_slot) {
        return;
    }
    // SAFETY: an edge is a live handle's target: a published managed object. Unmarked, so
    // it is no object born in this `Mark` (those are marked before they are published):
    // nothing frees it before this cycle's sweep (M1).
    let target = unsafe { edge.cast::<Header>().as_ref() };
    // Relaxed: read in `shade_roots`, which starts after every worker and every joined
    // assist finished counting (ordered by the job hand-off and the joiners' count,
    // `workers.rs`). An atomic add: workers and assists may count the same target at once.
    target.internal.fetch_add(1, Ordering::Relaxed);
}

/// Step 1 of the module docs over `spans`. Returns (objects traced, traces that panicked).
/// Other threads may count the same targets meanwhile (workers, assists that joined the
/// job), hence atomic adds: measured on W3, 5% of the pass against a plain load and store.
///
/// Objects are visited in address order, a bitmap word (64 slots) at a time: the word's
/// allocated slots that its mark word shows unmarked are the candidates, and each is
/// checked again after its `info` load (rule M1: a marked object may be born and being
/// freed; its mark bit is set before its `info` is published, so the check after the
/// Acquire load of `info` cannot miss it, while the word read before may be stale).
/// Edges go through a [`Lookahead`], so that their targets' headers are fetched while
/// later objects are traced.
pub(crate) fn count_internal(spans: &[NonNull<Span>], tracer: &mut Tracer) -> (usize, usize) {
    let mut traced = 0;
    let mut panics = 0;
    let mut lookahead = Lookahead::new();
    for span in spans {
        // SAFETY: span structs live for the process, and a span of the snapshot keeps its
        // identity and bitmaps until the cycle thaws the heap after its sweep: the
        // snapshot was taken while frozen, and a frozen heap frees no span
        // (docs/allocator.md, "Span lifecycle", rule 4).
        let span = unsafe { span.as_ref() };
        if span.span_class().is_noscan() {
            continue;
        }
        span.for_each_allocated_word(|word, allocated| {
            let mut candidates = allocated & !span.mark_word(word);
            while candidates != 0 {
                let bit = candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                let header = header_at(span, word * 64 + bit);
                if header.info().is_none() || span.mark_word(word) & (1 << bit) != 0 {
                    continue;
                }
                traced += 1;
                if !trace_object(header, tracer) {
                    panics += 1;
                }
                for edge in tracer.edges.drain(..) {
                    if let Some(due) = lookahead.push(edge) {
                        count_edge(due);
                    }
                }
            }
        });
    }
    lookahead.drain(count_edge);
    (traced, panics)
}

/// Step 2 of the module docs over `spans`, shading onto `local`. Returns the number of
/// roots shaded.
///
/// A bitmap word (64 slots) at a time: the roots of the word are collected into a mask and
/// marked with one atomic OR (`Span::mark_mask`); the bits it set are the objects this
/// pass shaded, pushed grey unless the span is noscan. A marked object is never a root:
/// the OR reports its bit as set already, so nothing of it but its header counts is read.
pub(crate) fn shade_roots(spans: &[NonNull<Span>], local: &mut LocalWork) -> usize {
    let mut roots = 0;
    for span in spans {
        // SAFETY: as in `count_internal`.
        let span = unsafe { span.as_ref() };
        let noscan = span.span_class().is_noscan();
        span.for_each_allocated_word(|word, allocated| {
            let mut candidates = allocated;
            let mut found = 0u64;
            while candidates != 0 {
                let bit = candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                let header = header_at(span, word * 64 + bit);
                if header.info().is_none() {
                    continue;
                }
                // Counting has finished (job hand-off), so no worker writes `internal`
                // now: a load and a store only where needed, instead of a
                // read-modify-write on every object.
                let internal = header.internal.load(Ordering::Relaxed);
                if internal != 0 {
                    header.internal.store(0, Ordering::Relaxed);
                }
                // SeqCst: phase fact (1) with `Gc::clone`'s increment.
                if header.handles.load(Ordering::SeqCst) as usize > internal as usize {
                    found |= 1 << bit;
                }
            }
            // Marked objects are shaded already (or born): never roots.
            found &= !span.mark_word(word);
            if found == 0 {
                return;
            }
            let shaded = found & !span.mark_mask(word, found);
            roots += shaded.count_ones() as usize;
            if noscan {
                return;
            }
            let mut grey = shaded;
            while grey != 0 {
                let slot = word * 64 + grey.trailing_zeros() as usize;
                grey &= grey - 1;
                local.push(span.slot_addr(slot));
            }
        });
    }
    roots
}

/// Grey objects that `drain` has popped and not yet traced, at most.
const POPPED_AHEAD: usize = 8;

/// Step 3 of the module docs: drains `local` and the global buffers, scanning at most
/// `budget` objects. Returns (objects scanned, traces that panicked); fewer than `budget`
/// scanned means the stack and the global list were empty.
///
/// Objects are popped `POPPED_AHEAD` ahead of their trace, and each one's header is
/// prefetched when it is popped, so that its trace finds it in cache. The popped objects
/// are still this worker's grey objects (I7: in its stack until traced); the function
/// returns only when they are traced and either the budget is spent or its stack and the
/// global list are empty.
pub(crate) fn drain(local: &mut LocalWork, tracer: &mut Tracer, budget: usize) -> (usize, usize) {
    let mut scanned = 0;
    let mut panics = 0;
    let mut popped = [0usize; POPPED_AHEAD];
    let (mut oldest, mut len) = (0, 0);
    loop {
        while len < POPPED_AHEAD && scanned + len < budget {
            let Some(addr) = local.pop() else { break };
            prefetch(addr);
            popped[(oldest + len) % POPPED_AHEAD] = addr;
            len += 1;
        }
        if len == 0 {
            return (scanned, panics);
        }
        let addr = popped[oldest];
        oldest = (oldest + 1) % POPPED_AHEAD;
        len -= 1;
        // SAFETY: only headers of published managed objects are pushed.
        let header = unsafe { &*(addr as *const Header) };
        if !trace_object(header, tracer) {
            panics += 1;
        }
        for edge in tracer.edges.drain(..) {
            shade_into(local, edge);
        }
        scanned += 1;
    }
}

/// Marks every published object of `spans` (an abandoned cycle keeps everything). The
/// caller has stopped the world and emptied the mutators' buffers and the workers' stacks.
pub(crate) fn mark_all(spans: &[NonNull<Span>]) {
    work::discard_global();
    for span in spans {
        // SAFETY: as in `count_internal`.
        let span = unsafe { span.as_ref() };
        span.for_each_allocated(|slot| {
            span.mark(slot);
        });
    }
}
