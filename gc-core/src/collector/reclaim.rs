//! Prompt reclamation of count-zero objects (DESIGN §3b).
//!
//! An object whose handle count falls to zero has no handle anywhere (every handle, in
//! the heap or outside it, counts one), and none can appear again: a handle is only ever
//! made by cloning another one or by `Gc::new` of a new object. So it is garbage without
//! any tracing. Most garbage is acyclic, so most of it can be freed this way, long before
//! a cycle would have to count, mark and sweep it. Cycles stay the backstop for cyclic
//! garbage.
//!
//! # Algorithm
//! 1. **Queue.** `Gc::drop` reads the phase word (phase + generation, `phase.rs`), then
//!    takes the count from 1 to 0, outside any op. Then `count_reached_zero`: an Acquire
//!    fence (as `Arc` does before freeing), enter an op, and if the phase word read there
//!    is the *same* `Off` word as before the decrement, append the object to the thread's
//!    zero buffer (`Mutator::zero`, heap `safepoint.rs`; no atomics beyond the decrement). Otherwise the
//!    object is left to the tracing cycles. A buffer goes to the global queue when it
//!    holds 256 objects, and at thread exit (inside the exit guard's op).
//! 2. **Drain.** The collector thread, between cycles (phase `Off`), takes the global
//!    queue and, for each object: runs its drop glue (panics caught and counted), nulls
//!    the header's `info`, and frees the slot through the span's remote-free bitmap
//!    (`heap::free_managed`, inside an op). Drop glue releases the handles the value
//!    holds; a child whose count reaches zero is queued on the collector thread's own
//!    buffer, which the drain publishes and takes in turn: a dead list of a million nodes
//!    is a loop, never a recursion.
//! 3. **Cycle start.** Instead of a handshake, a cycle begins with a stopped world that
//!    discards every queued object (all threads' buffers, the orphan cache's, the global
//!    queue), forbids in-place merges of frees into managed spans
//!    (`heap::set_managed_frees(false)`) and sets `Mark`. The cycle frees the discarded
//!    objects itself: a count of zero is never a root, and no handle is left to mark
//!    them, so its sweep finds them unmarked. After the sweep and `Off`, merges are
//!    allowed again.
//!
//! # The late queue (the bug of the first attempt)
//! The decrement is not inside the op (an op per `Gc::drop` would cost every drop), so a
//! thread can be preempted between the decrement that reaches zero and its op for as
//! long as a whole cycle: the cycle starts, its roots pass reads the count (zero: not a
//! root), nothing marks the object, its sweep drops and frees it, and the phase is `Off`
//! again. An op that checked only "the phase is `Off`" then queued a freed object, and
//! the drain dropped it a second time, or, once its slot was reused, dropped and freed a
//! live object (the use-after-free tests/torture.rs found). With the phase word, the op
//! sees a different generation and leaves the object alone. Reading the word before the
//! decrement is enough: if a cycle frees the object, its roots pass read the zero count,
//! so (Release decrement, SeqCst read) the word read before the decrement happens-before
//! that cycle's later phase changes and cannot be one of them; and an op that starts
//! after a cycle's starting stop sees at least that cycle's `Mark` word (safepoint fact
//! 3). The loom model `count_zero_vs_cycle` checks this, and its control
//! (`count_zero_vs_cycle_phase_only`, the first attempt's check) fails.
//!
//! # Why no object is freed twice, or while reachable (docs/collector.md, "Count-zero
//! objects")
//! - An object reaches zero once (no handle can bring it back), so it is queued at most
//!   once, and only if no phase change fell between its decrement and the op that queues
//!   it, which saw `Off` (above): no cycle can have freed it, and every later cycle starts
//!   with a stop that finds it queued.
//! - Queues are touched only inside their thread's ops or in a stopped world, so the
//!   starting stop of a cycle splits the queue operations into those before it (their
//!   objects are discarded: the cycle owns them) and those after it (they see `Mark` or
//!   `Sweep` and queue nothing). The drain runs on the collector thread, never during a
//!   cycle, and takes only what was queued since the last cycle started. So each object is
//!   freed by the drain or by a sweep, never both.
//! - An object left to the cycles is never lost: its count is zero and stays zero, so the
//!   first cycle that starts after its decrement finds it unmarked unless a barrier shaded
//!   it before the decrement, and then the next one frees it.
//! - Drained objects are freed between cycles only, so a drained slot is never in the
//!   middle of a count, mark or sweep; its freed bit keeps it out of every later walk
//!   (`Span::for_each_allocated`) until a merge makes it allocatable again.

// Under `--cfg tricolor_loom` only `queue_if_unchanged` is compiled (the protocol part the
// loom models run, `lib.rs`); the drain needs the heap.
#[cfg(not(tricolor_loom))]
use core::ptr::NonNull;
#[cfg(not(tricolor_loom))]
use std::panic::{catch_unwind, AssertUnwindSafe};

#[cfg(not(tricolor_loom))]
use super::header::Header;
#[cfg(not(tricolor_loom))]
use super::phase::phase_cell;
#[cfg(all(test, not(tricolor_loom)))]
use super::phase::phase_word;
use super::phase::{Phase, PhaseCell, PhaseWord};
#[cfg(not(tricolor_loom))]
use crate::heap;
use crate::heap::safepoint::{InOp, ZeroQueue};
use crate::sync::{fence, Ordering};

/// `Gc::drop`'s slow path, after its decrement took the count from 1 to 0.
#[cfg(not(tricolor_loom))]
#[cold]
#[inline(never)]
pub(crate) fn count_reached_zero(object: NonNull<u8>, before: PhaseWord) {
    queue_if_unchanged(
        object.as_ptr() as usize,
        before,
        heap::enter_op,
        phase_cell(),
        &heap::safepoint::ZERO_QUEUE,
    );
}

/// Algorithm step 1 after the decrement to zero (`count_reached_zero`): an Acquire fence,
/// an op from `enter`, and `object` goes to the op's zero buffer (`queue`'s when full) only
/// if `phase` still holds the `Off` word `before` that was read before the decrement.
/// Generic over the op, the phase cell and the queue so that the loom model
/// `count_zero_vs_cycle` runs this code.
#[inline(always)]
pub(crate) fn queue_if_unchanged<O: InOp>(
    object: usize,
    before: PhaseWord,
    enter: impl FnOnce() -> O,
    phase: &PhaseCell,
    queue: &ZeroQueue,
) {
    // Acquire: pairs with the Release decrements of every other handle's drop, so every
    // use of the value happens-before its reclamation (the queue hand-off, a mutex or a
    // stopped world, carries this to the collector thread).
    fence(Ordering::Acquire);
    let op = enter();
    // Both reads must see the same `Off`: a cycle that started (or ran whole) between the
    // decrement and this op may already have found the count at zero and freed the object
    // (module docs, "The late queue"); then it is not ours to queue.
    if before.phase() == Phase::Off && phase.word() == before {
        queue.push(&op, object);
    }
}

/// What one drain did.
#[cfg(not(tricolor_loom))]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Drained {
    /// Objects freed.
    pub(crate) freed: usize,
    /// Destructors that panicked (caught; their objects were freed anyway).
    pub(crate) drop_panics: usize,
}

/// Frees queued count-zero objects until the queue is empty or at least `budget` were
/// freed. Collector thread only, while no cycle runs (phase `Off`).
#[cfg(not(tricolor_loom))]
pub(crate) fn drain(budget: usize) -> Drained {
    let mut done = Drained::default();
    while done.freed < budget {
        let mut batch = heap::take_zero_queue();
        if batch.is_empty() {
            // Children that the drop glue below took to zero wait in this thread's own
            // buffer: publish them and look again.
            heap::enter_op().flush_zero();
            batch = heap::take_zero_queue();
            if batch.is_empty() {
                break;
            }
        }
        for addr in batch {
            reclaim_one(addr, &mut done);
        }
    }
    // Leave nothing in this thread's buffer, so the collector's loop sees the work.
    heap::enter_op().flush_zero();
    done
}

#[cfg(not(tricolor_loom))]
fn reclaim_one(addr: usize, done: &mut Drained) {
    let object = NonNull::new(addr as *mut u8).expect("tricolor-gc: a null count-zero object");
    // SAFETY: queued objects are published managed objects with no handle left, queued
    // once and freed by nobody else (module docs), so the header is valid to read.
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
            eprintln!(
                "tricolor-gc: a destructor of {} panicked while its object was reclaimed; \
                 the object was freed",
                (info.name)()
            );
        }
    }
    // Relaxed: the slot's reuse is ordered after this store by the span's freed bitmap
    // (Release in `Span::free`, Acquire where a sweep merges it), and no cycle reads the
    // header meanwhile (drains never overlap cycles).
    header.info.store(core::ptr::null_mut(), Ordering::Relaxed);
    if super::header::DEBUG_HEAP {
        // SAFETY: the value was dropped above (or needs no drop), `info` is null, and the
        // object has no handle left (nothing reads it); the slot is handed back below.
        unsafe { super::header::poison_freed(header, info) };
    }
    let op = heap::enter_op();
    // SAFETY: the object is allocated (its count reached zero, nothing freed it since),
    // unreferenced, its `info` is null, and it is freed once, here.
    unsafe { heap::free_managed(&op, object) };
    drop(op);
    done.freed += 1;
}

#[cfg(all(test, not(tricolor_loom)))]
mod tests {
    use super::*;
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
            let queued = heap::enter_op().zero_buffer_contains(addr.as_ptr() as usize);
            assert!(
                !queued,
                "an object a cycle freed was queued for reclamation (phase word {before:?} \
                 before the decrement, {:?} now)",
                phase_word()
            );
        }
    }
}
