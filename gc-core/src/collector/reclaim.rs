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
//! 1. **Queue.** `Gc::drop` takes the count from 1 to 0 (outside any op). Then
//!    `count_reached_zero`: an Acquire fence (as `Arc` does before freeing), enter an op,
//!    and if the phase is `Off` append the object to the thread's zero buffer
//!    (`ThreadCache::zero`; no atomics beyond the decrement). In any other phase the
//!    object is left to the tracing cycle. A buffer goes to the global queue when it holds
//!    256 objects, and at thread exit (inside the exit guard's op).
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
//! # Why no object is freed twice, or while reachable (docs/collector.md, "Count-zero
//! objects")
//! - An object reaches zero once (no handle can bring it back), so it is queued at most
//!   once, and only if the op that queues it saw `Off`.
//! - Queues are touched only inside their thread's ops or in a stopped world, so the
//!   starting stop of a cycle splits the queue operations into those before it (their
//!   objects are discarded: the cycle owns them) and those after it (they see `Mark` or
//!   `Sweep` and queue nothing). The drain runs on the collector thread, never during a
//!   cycle, and takes only what was queued since the last cycle started. So each object is
//!   freed by the drain or by a sweep, never both; the loom model
//!   `count_zero_vs_cycle_start` checks this split.
//! - Drained objects are freed between cycles only, so a drained slot is never in the
//!   middle of a count, mark or sweep; its freed bit keeps it out of every later walk
//!   (`Span::for_each_allocated`) until a merge makes it allocatable again.

use core::ptr::NonNull;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::header::Header;
use super::phase::{phase_word, Phase, PhaseWord};
use crate::heap;
use crate::sync::{fence, Ordering};

/// `Gc::drop`'s slow path, after its decrement took the count from 1 to 0.
#[cold]
#[inline(never)]
pub(crate) fn count_reached_zero(object: NonNull<u8>, before: PhaseWord) {
    // Acquire: pairs with the Release decrements of every other handle's drop, so every
    // use of the value happens-before its reclamation (the queue hand-off, a mutex or a
    // stopped world, carries this to the collector thread).
    fence(Ordering::Acquire);
    let op = heap::enter_op();
    // Both reads must see the same `Off`: a cycle that started (or ran whole) between the
    // decrement and this op may already have found the count at zero and freed the object
    // (module docs, "The late queue"); then it is not ours to queue.
    if before.phase() == Phase::Off && phase_word() == before {
        op.push_zero(object);
    }
}

/// What one drain did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Drained {
    /// Objects freed.
    pub(crate) freed: usize,
    /// Destructors that panicked (caught; their objects were freed anyway).
    pub(crate) drop_panics: usize,
}

/// Frees queued count-zero objects until the queue is empty or at least `budget` were
/// freed. Collector thread only, while no cycle runs (phase `Off`).
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

fn reclaim_one(addr: usize, done: &mut Drained) {
    let object = NonNull::new(addr as *mut u8).expect("tricolor-gc: a null count-zero object");
    // SAFETY: queued objects are published managed objects with no handle left, queued
    // once and freed by nobody else (module docs), so the header is valid to read.
    let header = unsafe { object.cast::<Header>().as_ref() };
    let info = header.info().unwrap_or_else(|| {
        panic!("tricolor-gc: count-zero object {addr:#x} was freed before its reclamation (HUNT handles {} internal {:#x} allocated {:?} cycles {})", header.handles.load(Ordering::SeqCst), header.internal.load(Ordering::SeqCst), heap::lookup(addr).map(|o| o.index()), super::stats::COUNTERS.lock().cycles)
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
    header.internal.store(0xD0D0_0002, Ordering::Relaxed); // HUNT
    let op = heap::enter_op();
    // SAFETY: the object is allocated (its count reached zero, nothing freed it since),
    // unreferenced, its `info` is null, and it is freed once, here.
    unsafe { heap::free_managed(&op, object) };
    drop(op);
    done.freed += 1;
}
