//! Count-zero reclamation (DESIGN §3b): objects whose handle count reached zero are freed
//! without waiting for a tracing cycle.
//!
//! | module | role | Go / elsewhere |
//! |---|---|---|
//! | `queue` | rule R1 (queue if the phase word is unchanged), the per-thread buffer the heap holds for this module, the global queue | (mimalloc's thread-delayed free list, in spirit) |
//! | `drain` | rule R4: drop glue and freeing on the collector thread, iteratively | |
//!
//! Under `--cfg tricolor_loom` only `queue` is compiled (the loom models run it); the drain
//! needs the heap.
//!
//! # What this module owns, and what it leaves to others
//! The buffers and the queue are this module's; the heap gives each thread a slot for one
//! [`ThreadBuffer`] (heap `safepoint.rs`, `Mutator::reclaim`) and hands it out only under
//! the safepoint protocol (inside the thread's op, or to a stopped world), without reading
//! it. The cycle driver (`collector/cycle.rs`) decides when the drain runs and discards
//! the queues at a cycle's start; the heap's exit guard publishes an exiting thread's
//! buffer ([`flush`]).
//!
//! An object whose handle count falls to zero has no handle anywhere (every handle, in
//! the heap or outside it, counts one), and none can appear again: a handle is only ever
//! made by cloning another one or by `Gc::new` of a new object. So it is garbage without
//! any tracing. Most garbage is acyclic, so most of it can be freed this way, long before
//! a cycle would have to count, mark and sweep it. Cycles stay the backstop for cyclic
//! garbage.
//!
//! # Algorithm
//! 1. **Queue** (`queue.rs`). `Gc::drop` reads the phase word (phase + generation,
//!    `collector/phase.rs`), then takes the count from 1 to 0, outside any op. Then
//!    `count_reached_zero`: an Acquire fence (as `Arc` does before freeing), enter an op,
//!    and if the phase word read there is the *same* word as before the decrement (in any
//!    phase: in `Sweep` the cycle's roots pass has already read the count above zero, so its
//!    sweep keeps the object; what `Mark` queued is sorted at mark termination, below;
//!    docs/collector.md, R1 and R1b), append the object to the thread's buffer ([`ThreadBuffer`], in the thread's heap slot
//!    `Mutator::reclaim`; no atomics beyond the decrement). Otherwise the object is left to
//!    the tracing cycles. A buffer goes to the global queue when it holds 256 objects, and
//!    at thread exit (inside the exit guard's op).
//! 2. **Drain** (`drain.rs`). The collector thread, between cycles (phase `Off`), takes
//!    the global queue and, for each object: runs its drop glue (panics caught and
//!    counted), nulls the header's `info`, and frees the slot through the span's
//!    remote-free bitmap (`heap::free_managed`, inside an op). Drop glue releases the
//!    handles the value holds; a child whose count reaches zero is queued on the collector
//!    thread's own buffer, which the drain publishes and takes in turn: a dead list of a
//!    million nodes is a loop, never a recursion.
//! 3. **Cycle start** (`collector/cycle.rs`, `ZeroQueue::discard_all`). Instead of a
//!    handshake, a cycle begins with a stopped world that discards every queued object
//!    (all threads' buffers, the orphan cache's, the global queue), forbids in-place
//!    merges of frees into managed spans (`heap::set_managed_frees(false)`) and sets
//!    `Mark`. The cycle frees the discarded objects itself: a count of zero is never a
//!    root, and no handle is left to mark them, so its sweep finds them unmarked. After
//!    the sweep and `Off`, merges are allowed again.
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
//!   objects are discarded: the cycle owns them) and those after it (in `Sweep` they queue
//!   objects that cycle keeps; what they queue in `Mark` is sorted by mark bit at its
//!   termination: the marked ones the cycle keeps, the others it frees and forgets, R1b). The drain runs on the
//!   collector thread, never during a cycle, and takes only what was queued since the last
//!   cycle started. So each object is freed by the drain or by a sweep, never both.
//! - An object left to the cycles is never lost: its count is zero and stays zero, so the
//!   first cycle that starts after its decrement finds it unmarked unless a barrier shaded
//!   it before the decrement, and then the next one frees it.
//! - Drained objects are freed between cycles only, so a drained slot is never in the
//!   middle of a count, mark or sweep; its freed bit keeps it out of every later walk
//!   (`Span::for_each_allocated`) until a merge makes it allocatable again.

#[cfg(not(tricolor_loom))]
mod drain;
mod queue;

#[cfg(not(tricolor_loom))]
pub(crate) use drain::drain;
#[cfg(not(tricolor_loom))]
pub(crate) use queue::{count_reached_zero, flush, flush_stale_buffers, set_enabled, ZERO_QUEUE};
pub(crate) use queue::{BufferAge, ThreadBuffer};
// The loom models' entry points (`gc-core/tests/loom_protocol.rs`).
#[cfg(all(test, tricolor_loom))]
pub(crate) use queue::{discard_in_stop, queue_if_unchanged, take_in_stop, ZeroQueue};
