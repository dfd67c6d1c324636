//! Freeing count-zero objects (rule R4 of docs/collector.md, "Count-zero objects"): in
//! place, in reclaim assists on the thread that dropped them, and in the collector thread's
//! drain.
//!
//! # What this module owns
//! [`Shipped`] (the rules `queue.rs` applies: born bits, the in-place free of objects
//! without drop glue), [`run_assist`] (a thread frees the batch its drops filled, what
//! that batch's drop glue queued, and a share of a long published backlog), [`drain`]
//! (the collector thread, between cycles), and the freeing of one object.
//!
//! # Algorithm
//! 1. For each object of a batch: run its drop glue (panics caught and counted), null the
//!    header's `info`, poison the slot under the debug heap. Then free every slot of the
//!    batch in one op (`heap::free_managed`: local into this thread's spans, else through
//!    the span's freed bitmap), counted on this thread (`Op::note_reclaimed`).
//! 2. Drop glue releases the handles the values hold; a child whose count reaches zero is
//!    queued on this thread's own buffer (`queue.rs`), which the loop takes next: a dead
//!    list of a million nodes is a loop, never a recursion. While the loop runs,
//!    `RECLAIMING` keeps a full buffer from starting a nested batch.
//! 3. A batch lives in its thread's buffer (`in_flight`) from the op that took it to the
//!    op that frees its slots and ends it, so a cycle that starts meanwhile finds it there
//!    and marks its objects born (R5): the cycle never traces them, and the thread goes on
//!    freeing them under M1.
//! 4. The collector's drain takes the published queue and, when it is empty, publishes
//!    its own buffer and takes again; before returning it publishes its buffer, so the
//!    collector's loop sees the remaining work.
//!
//! # Memory ordering
//! (1) The queue's mutex, or the op in which a thread took a batch from its own buffer,
//!     orders the enqueuing op (and every use of the value, `queue.rs` fact 1) before the
//!     drop glue here.
//! (2) The `info` store is Relaxed: the slot's reuse is ordered after it by the span's
//!     freed bitmap (Release in `Span::free`, Acquire where a sweep merges it) or, for a
//!     local free, by program order on the owner; a walk that reads the slot meanwhile
//!     traces nothing of it either way (R6).

use core::cell::Cell;
use core::ptr::NonNull;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use super::queue::{flush, Batch, Rules, ZERO_BATCH, ZERO_QUEUE};
use crate::collector::header::{self, Header};
use crate::collector::mark;
use crate::collector::phase::phase_in_op;
use crate::heap::{self, Op};
use crate::sync::{AtomicU64, Ordering};

/// A published backlog above this many objects makes a reclaiming thread take a share of
/// it (backpressure, `run_assist`).
const BACKLOG: usize = ZERO_BATCH;
/// The share of the published backlog taken at a time (a batch: at most `ZERO_BATCH`, so
/// that a cycle's starting stop claims little, R5).
const SHARE: usize = ZERO_BATCH;
/// Shares of the published backlog one mutator's assist takes (mark workers, during the
/// sweep, take all of it).
const ASSIST_SHARES: usize = 4;

/// Destructors that panicked while count-zero reclamation ran them, on any thread.
static DROP_PANICS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set while this thread runs a batch (drop glue it runs queues children, which the
    /// loop takes next instead of nesting), and for good on the collector thread, which
    /// drains and sweeps in loops of its own.
    static RECLAIMING: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside a reclaim batch (or is the collector thread). During
/// thread-local destruction, true: no batch starts there.
pub(crate) fn reclaiming() -> bool {
    RECLAIMING.try_with(|r| r.get()).unwrap_or(true)
}

/// Frees what this thread's buffer holds now, with the assist loop (nothing if the thread
/// is already reclaiming). `collect()` calls it first, so the caller's own garbage is
/// freed by counts instead of waiting for the cycle's sweep.
///
/// In every phase, under the same rules as the full-buffer assists (M1 in `Mark`). They
/// ran in `Off` only while `tests/sweep_threads.rs` failed about once in 300 runs under
/// `scripts/stress.sh` with them in every phase; the cause (docs/collector.md, "A sweep
/// assist that straddled cycles") was not theirs, and since its fix they passed 600 of 600
/// such runs of sweep_threads and about 60 rounds of four copies of tests/model.rs.
#[cold]
#[inline(never)]
pub(crate) fn assist_own() {
    if reclaiming() {
        return;
    }
    let op = heap::enter_op();
    let phase = phase_in_op();
    let batch = ZERO_QUEUE
        .take_own(&op, phase, &Shipped)
        .or_else(|| ZERO_QUEUE.take_published(&op, phase, BACKLOG, SHARE));
    drop(op);
    if let Some(batch) = batch {
        run_assist(batch);
    }
}

/// Runs `f` with this thread's reclaim assists held off: a buffer that fills meanwhile is
/// published for other threads instead of starting a batch here (the sweep's drop pass,
/// `sweep/`, runs no batch inside itself).
pub(crate) fn without_assists<R>(f: impl FnOnce() -> R) -> R {
    let was = RECLAIMING.with(|r| r.replace(true));
    let result = f();
    RECLAIMING.with(|r| r.set(was));
    result
}

/// Marks the calling thread as the collector's (its drains and sweeps never assist).
pub(crate) fn set_collector_thread() {
    RECLAIMING.with(|r| r.set(true));
}

/// Destructors that panicked during count-zero reclamation so far.
pub(crate) fn drop_panics() -> u64 {
    // Relaxed: a statistic.
    DROP_PANICS.load(Ordering::Relaxed)
}

/// The rules of the shipped collector (`queue.rs`, [`Rules`]).
pub(crate) struct Shipped;

impl Rules<Op> for Shipped {
    #[inline]
    fn is_born(&self, object: usize) -> bool {
        mark::is_born(object)
    }

    #[inline]
    fn free_in_place(&self, op: &Op, object: usize) -> bool {
        let ptr = NonNull::new(object as *mut u8).expect("tricolor-gc: a null count-zero object");
        // SAFETY: the caller took the object's last handle to zero and R1/M1 hold, so it is
        // an allocated, published object that nobody else frees or reads.
        let header = unsafe { ptr.cast::<Header>().as_ref() };
        let info = header.info().unwrap_or_else(|| {
            panic!("tricolor-gc: count-zero object {object:#x} was freed before its reclamation")
        });
        if info.needs_drop {
            return false;
        }
        // SAFETY: as above; no drop glue to run.
        let bytes = unsafe { release_slot(op, ptr, header, info) };
        op.note_reclaimed(1, bytes as u64);
        true
    }

    #[inline]
    fn reclaiming(&self) -> bool {
        reclaiming()
    }
}

/// A reclaim assist: this thread frees `first` (which its own drops filled), then what
/// their drop glue queued, batch by batch, then a share of the published backlog while it
/// is above `BACKLOG`. Outside any op; a cycle that starts meanwhile claims the batch in
/// flight (R5) and finds the rest in the buffer.
pub(crate) fn run_assist(first: Batch) {
    let started = Instant::now();
    RECLAIMING.with(|r| r.set(true));
    let mut done = Drained::default();
    reclaim_batch(first, &mut done);
    reclaim_loop(BACKLOG, ASSIST_SHARES, &mut done);
    RECLAIMING.with(|r| r.set(false));
    heap::enter_op().note_assist(started.elapsed().as_nanos() as u64);
}

/// Frees batches from this thread's own buffer and, while the published queue holds more
/// than `backlog` objects, at most `shares` batches from it, until neither gives a batch.
/// A thread's own garbage (its cascades) is always its own to free; the published backlog
/// is shared out a few batches per assist, so that one mutator does not stop for the
/// whole backlog that a cycle's termination publishes (W2 at 1 GiB saw a 256 ms loop gap
/// when an assist drained it all).
fn reclaim_loop(backlog: usize, mut shares: usize, done: &mut Drained) {
    loop {
        let op = heap::enter_op();
        let phase = phase_in_op();
        let mut next = ZERO_QUEUE.take_own(&op, phase, &Shipped);
        if next.is_none() && shares > 0 {
            next = ZERO_QUEUE.take_published(&op, phase, backlog, SHARE);
            shares -= 1;
        }
        drop(op);
        match next {
            Some(batch) => reclaim_batch(batch, done),
            None => return,
        }
    }
}

/// A mark worker's share of reclamation while the collector sweeps (phase `Sweep`): frees
/// published objects (what `Mark` queued and its cycle kept, R1b, and what threads
/// published) until the queue is empty. Returns the objects freed.
pub(crate) fn help_during_sweep() -> usize {
    let mut done = Drained::default();
    let was = RECLAIMING.with(|r| r.replace(true));
    reclaim_loop(0, usize::MAX, &mut done);
    // Children queued on this thread by the last batches' drop glue: publish them for the
    // assists and the drain (the loop took what it could).
    flush(&heap::enter_op());
    RECLAIMING.with(|r| r.set(was));
    done.freed
}

/// What one drain did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Drained {
    /// Objects freed.
    pub(crate) freed: usize,
    /// Their slots' bytes (what the heap's in-use bytes lose by these frees).
    pub(crate) bytes: usize,
    /// Destructors that panicked (caught; their objects were freed anyway).
    pub(crate) drop_panics: usize,
}

/// Frees queued count-zero objects until the queue is empty or at least `budget` were
/// freed. Collector thread only, while no cycle runs (phase `Off`): it starts cycles
/// itself, so its frees cannot straddle one and need no in-flight slot (R5).
pub(crate) fn drain(budget: usize) -> Drained {
    let mut done = Drained::default();
    while done.freed < budget {
        let mut objects = ZERO_QUEUE.take();
        if objects.is_empty() {
            // Children that the drop glue below took to zero wait in this thread's own
            // buffer: publish them and look again (step 3).
            flush(&heap::enter_op());
            objects = ZERO_QUEUE.take();
            if objects.is_empty() {
                break;
            }
        }
        reclaim_objects(objects, &mut done);
    }
    // Leave nothing in this thread's buffer, so the collector's loop sees the work
    // (step 4).
    flush(&heap::enter_op());
    done
}

thread_local! {
    /// Set while this thread runs a batch's drop glue: it holds the reclaim gate then, and
    /// a destructor that calls `collect()` must leave it while it waits (`gate.rs`).
    static HOLDS_BATCH: Cell<bool> = const { Cell::new(false) };
}

/// Runs `wait` (a `collect()` from a destructor that this thread's batch runs) with this
/// thread's batch out of the reclaim gate, so that the cycle it waits for does not wait
/// for it; returns whether the thread holds a batch (then its starting stop claims the
/// batch instead, R5).
pub(crate) fn while_parked(wait: impl FnOnce()) -> bool {
    let holds = HOLDS_BATCH.try_with(|h| h.get()).unwrap_or(false);
    if holds {
        ZERO_QUEUE.gate().park();
    }
    wait();
    if holds {
        ZERO_QUEUE.gate().unpark();
    }
    holds
}

/// Frees every object of `batch` (step 1), then ends it in the op that frees the slots.
fn reclaim_batch(batch: Batch, done: &mut Drained) {
    let held = HOLDS_BATCH.with(|h| h.replace(true));
    for &addr in batch.objects() {
        drop_value(addr, done);
    }
    HOLDS_BATCH.with(|h| h.set(held));
    let op = heap::enter_op();
    free_slots(&op, batch.objects(), done);
    ZERO_QUEUE.end_batch(&op, batch);
}

/// Step 1 for published objects the collector thread took (no batch: it starts cycles
/// itself, so nothing of a cycle can overlap these frees).
///
/// Objects are not sorted: a batch is in the order its objects died, and objects that die
/// together were mostly allocated together, so consecutive frees already fall in the same
/// span (measured: sorting each batch cost 12% of W2's mutator time, more than the misses
/// it would save).
fn reclaim_objects(objects: Vec<usize>, done: &mut Drained) {
    for &addr in &objects {
        drop_value(addr, done);
    }
    let op = heap::enter_op();
    free_slots(&op, &objects, done);
}

/// Frees the slots of `objects` (dropped by `drop_value`) inside `op`, counted on this
/// thread.
fn free_slots(op: &Op, objects: &[usize], done: &mut Drained) {
    let mut bytes = 0;
    for &addr in objects {
        let object = NonNull::new(addr as *mut u8).expect("tricolor-gc: a null count-zero object");
        // SAFETY: `drop_value` dropped the value and nulled `info`; the object is allocated
        // (its count reached zero, nobody frees it but us), unreferenced, and freed once.
        bytes += unsafe { heap::free_managed(op, object) };
    }
    op.note_reclaimed(objects.len() as u64, bytes as u64);
    done.freed += objects.len();
    done.bytes += bytes;
}

/// Runs one queued object's drop glue (panics caught and counted), nulls its `info` and
/// poisons it under the debug heap; the slot stays allocated for the caller to free.
fn drop_value(addr: usize, done: &mut Drained) {
    let object = NonNull::new(addr as *mut u8).expect("tricolor-gc: a null count-zero object");
    // SAFETY: queued objects are published managed objects with no handle left, queued
    // once and freed by nobody else (`reclaim/mod.rs`), so the header is valid to read.
    let header = unsafe { object.cast::<Header>().as_ref() };
    let info = header.info().unwrap_or_else(|| {
        panic!("tricolor-gc: count-zero object {addr:#x} was freed before its reclamation")
    });
    debug_assert_eq!(header.handles.load(Ordering::Relaxed), 0);
    if info.needs_drop {
        // SAFETY: as above: the value is unreachable and dropped exactly once, here.
        let result = catch_unwind(AssertUnwindSafe(|| unsafe {
            (info.drop_value)(object.cast())
        }));
        if result.is_err() {
            done.drop_panics += 1;
            // Relaxed: a statistic.
            DROP_PANICS.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "tricolor-gc: a destructor of {} panicked while its object was reclaimed; \
                 the object was freed",
                (info.name)()
            );
        }
    }
    // Relaxed: fact (2); no pass of a cycle traces the object (rules R1, M1, R5).
    header.info.store(core::ptr::null_mut(), Ordering::Relaxed);
    if header::DEBUG_HEAP {
        // SAFETY: the value was dropped above (or needs no drop), `info` is null, and the
        // object has no handle left (nothing reads it); the slot is freed by the caller.
        unsafe { header::poison_freed(header, info) };
    }
}

/// Frees an object whose value needs no drop glue: nulls `info`, poisons under the debug
/// heap, frees the slot inside `op`. Returns the slot's bytes.
///
/// # Safety
/// `header` heads the allocated object `object` of type `info`, which nobody references or
/// frees but the caller, and whose value needs no drop.
unsafe fn release_slot(
    op: &Op,
    object: NonNull<u8>,
    header: &Header,
    info: &'static header::TypeInfo,
) -> usize {
    // Relaxed: fact (2).
    header.info.store(core::ptr::null_mut(), Ordering::Relaxed);
    if header::DEBUG_HEAP {
        // SAFETY: per the contract; `info` is null now.
        unsafe { header::poison_freed(header, info) };
    }
    // SAFETY: per the contract, with `info` null.
    unsafe { heap::free_managed(op, object) }
}

#[cfg(test)]
mod tests {
    use super::super::queue::{buffer_contains, count_reached_zero};
    use super::*;
    use crate::collector::phase::phase_word;
    use crate::Gc;

    /// Regression test for the first attempt's use-after-free: a whole cycle runs between
    /// a drop's decrement to zero and its op (the dropping thread was preempted). That
    /// cycle frees the object, so the late op must not queue it: the drain would drop it
    /// a second time, or free whatever reused its slot.
    #[test]
    fn a_cycle_between_the_decrement_and_the_op_keeps_the_object_out_of_the_queue() {
        for _ in 0..20 {
            let object = Gc::new(String::from("count-zero"));
            let addr = Gc::header_ptr(&object);
            // SAFETY: `object` keeps the header alive until the decrement below.
            let header = unsafe { addr.cast::<Header>().as_ref() };
            // `Gc::drop`, first half: the phase word, then the decrement to zero.
            let before = phase_word();
            assert_eq!(header.handles.fetch_sub(1, Ordering::Release), 1);
            core::mem::forget(object);
            // The cycle that runs while the dropping thread is preempted: the count is
            // zero, so it frees the object.
            crate::collect();
            // `Gc::drop`, second half, late.
            count_reached_zero(addr, before);
            let queued = buffer_contains(&heap::enter_op(), addr.as_ptr() as usize);
            assert!(
                !queued,
                "an object a cycle freed was queued for reclamation (phase word {before:?} \
                 before the decrement, {:?} now)",
                phase_word()
            );
        }
    }
}
