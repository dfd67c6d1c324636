//! The drain: frees published count-zero objects (rule R4 of docs/collector.md,
//! "Count-zero objects").
//!
//! # What this module owns
//! [`drain`], run by the collector thread between cycles (phase `Off`), and the freeing of
//! one object ([`reclaim_one`]).
//!
//! # Algorithm
//! 1. Take the global queue (`ZeroQueue::take`). If it is empty, publish the collector
//!    thread's own buffer (children that earlier drop glue took to zero wait there) and
//!    take again; stop when both are empty or the budget is spent.
//! 2. For each object: run its drop glue (panics caught and counted), null the header's
//!    `info`, poison the slot under the debug heap, and free it through the span's
//!    remote-free bitmap (`heap::free_managed`, inside an op).
//! 3. Drop glue releases the handles the value holds; a child whose count reaches zero is
//!    queued on the collector thread's own buffer (`queue.rs`, step 1), which step 1 takes
//!    in turn: a dead list of a million nodes is a loop, never a recursion.
//! 4. Before returning, publish the collector thread's buffer, so the collector's loop
//!    sees the remaining work in the queue.
//!
//! # Invariants
//! The drain runs only on the collector thread and never during a cycle (the cycle driver
//! calls it from its idle loop), so a drained slot is never in the middle of a count, mark
//! or sweep; its freed bit keeps it out of every later walk (`Span::for_each_allocated`)
//! until a merge makes it allocatable again.
//!
//! # Memory ordering
//! (1) The queue's mutex orders the enqueuing op (and every use of the value, `queue.rs`
//!     fact 1) before the drop glue here.
//! (2) The `info` store is Relaxed: the slot's reuse is ordered after it by the span's
//!     freed bitmap (Release in `Span::free`, Acquire where a sweep merges it).

use core::ptr::NonNull;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::queue::{flush, ZERO_QUEUE};
use crate::collector::header::{self, Header};
use crate::heap;
use crate::sync::Ordering;

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
/// freed. Collector thread only, while no cycle runs (phase `Off`).
pub(crate) fn drain(budget: usize) -> Drained {
    let mut done = Drained::default();
    while done.freed < budget {
        let mut batch = ZERO_QUEUE.take();
        if batch.is_empty() {
            // Children that the drop glue below took to zero wait in this thread's own
            // buffer: publish them and look again (step 3).
            flush(&heap::enter_op());
            batch = ZERO_QUEUE.take();
            if batch.is_empty() {
                break;
            }
        }
        for addr in batch {
            reclaim_one(addr, &mut done);
        }
    }
    // Leave nothing in this thread's buffer, so the collector's loop sees the work
    // (step 4).
    flush(&heap::enter_op());
    done
}

/// Step 2 for one object.
fn reclaim_one(addr: usize, done: &mut Drained) {
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
            eprintln!(
                "tricolor-gc: a destructor of {} panicked while its object was reclaimed; \
                 the object was freed",
                (info.name)()
            );
        }
    }
    // Relaxed: fact (2); no cycle reads the header meanwhile (drains never overlap cycles).
    header.info.store(core::ptr::null_mut(), Ordering::Relaxed);
    if header::DEBUG_HEAP {
        // SAFETY: the value was dropped above (or needs no drop), `info` is null, and the
        // object has no handle left (nothing reads it); the slot is handed back below.
        unsafe { header::poison_freed(header, info) };
    }
    let op = heap::enter_op();
    // SAFETY: the object is allocated (its count reached zero, nothing freed it since),
    // unreferenced, its `info` is null, and it is freed once, here.
    let bytes = unsafe { heap::free_managed(&op, object) };
    drop(op);
    done.freed += 1;
    done.bytes += bytes;
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
