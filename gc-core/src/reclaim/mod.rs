//! Count-zero reclamation (DESIGN §3b): objects whose handle count reached zero are freed
//! without waiting for a tracing cycle.
//!
//! | module | role | Go / elsewhere |
//! |---|---|---|
//! | `queue` | rule R1 (queue if the phase word is unchanged), the per-thread buffer the heap holds for this module, batches (M1), the global queue | (mimalloc's thread-delayed free list, in spirit) |
//! | `gate` | rule R5b: a cycle that `collect()` waits for starts with no batch in flight | |
//! | `drain` | rule R4: freeing, in place, in reclaim assists on any thread, and the collector thread's drain | |
//!
//! Under `--cfg tricolor_loom` `queue` and `gate` are compiled (the loom models run them);
//! the freeing needs the heap.
//!
//! # What this module owns, and what it leaves to others
//! The buffers, batches and the queue are this module's; the heap gives each thread a
//! slot for one [`ThreadBuffer`] (heap `safepoint.rs`, `Mutator::reclaim`) and hands it
//! out only under the safepoint protocol (inside the thread's op, or to a stopped world),
//! without reading it. Spans keep a *born* bit per slot for this module (objects allocated
//! black in the running `Mark`, `Span::mark_born`). The cycle driver (`collector/cycle.rs`)
//! claims the batches in flight and discards the queues in a cycle's starting stop, sorts
//! what `Mark` queued at its termination, has its mark workers free what is published
//! while it sweeps, and runs the drain between cycles; the heap's exit guard publishes an
//! exiting thread's buffer ([`flush`]).
//!
//! An object whose handle count falls to zero has no handle anywhere (every handle, in
//! the heap or outside it, counts one), and none can appear again: a handle is only ever
//! made by cloning another one or by `Gc::new` of a new object. So it is garbage without
//! any tracing. Most garbage is acyclic, so most of it can be freed this way, long before
//! a cycle would have to count, mark and sweep it. Cycles stay the backstop for cyclic
//! garbage.
//!
//! # Algorithm (the rules are in docs/collector.md, "Count-zero objects")
//! 1. **Queue** (`queue.rs`, R1). `Gc::drop` reads the phase word (phase + generation,
//!    `collector/phase.rs`), then takes the count from 1 to 0, outside any op. Then
//!    `count_reached_zero`: an Acquire fence (as `Arc` does before freeing), enter an op,
//!    and only if the phase word read there is the *same* word as before the decrement:
//!    an object whose type has no drop glue is freed at once in that op if M1 allows
//!    (in `Off` and `Sweep` always, in `Mark` if it was born in this `Mark`); any other
//!    goes to the thread's buffer. Otherwise (a phase change in between) the object is
//!    left to the tracing cycles.
//! 2. **Reclaim assists** (R4). A buffer that reaches 256 objects hands its thread, inside
//!    that op, a batch of at most 256 objects that M1 lets it free now, kept in the
//!    buffer's in-flight slot until the op that frees its slots; what is left
//!    is published to the global queue if it still fills the buffer. Outside the op the
//!    thread runs the batch's drop glue (panics caught and counted), nulls each header's
//!    `info`, and frees the slots in one op (`heap::free_managed`: local into its own
//!    spans, else through the span's freed bitmap). Drop glue releases the handles the
//!    values hold; a child whose count reaches zero is queued on the same buffer, and the
//!    thread takes it as its next batch (no nested batches): a dead list of a million
//!    nodes is a loop, never a recursion. Then, while the published queue holds more than
//!    4,096 objects (outside `Mark`), the thread takes a share of it: backpressure.
//! 3. **Drain** (`drain.rs`, R4). The collector thread, between cycles, frees what is
//!    published: objects that `Mark` queued and its cycle kept (R1b), buffers of exited
//!    threads, and buffers its idle poll found stale (`flush_stale_buffers`).
//! 4. **Cycle start** (`collector/cycle.rs`, R5 and R3). A stopped world marks every
//!    object of every batch in flight born (the threads go on freeing them under M1; the
//!    cycle never traces them), discards every queued object (all threads' buffers, the
//!    orphan cache's, the global queue) and sets `Mark`. The cycle frees the discarded
//!    objects itself: a count of zero is never a root, and no handle is left to mark them,
//!    so its sweep finds them unmarked.
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
//! objects", gives the full argument)
//! - An object reaches zero once (no handle can bring it back), so it is queued at most
//!   once, and only if no phase change fell between its decrement and the op that queues
//!   it. Each queue entry is taken once: a buffer only in its thread's ops or in a
//!   stopped world, the global queue under its mutex.
//! - A cycle frees a queued object only if its starting stop found it queued (R3) or its
//!   termination found it queued and unmarked (R1b); everything else that was queued is
//!   freed by whoever took it. A batch in flight across a cycle's start is marked by that
//!   start, so the cycle keeps its objects (R5).
//! - No pass of a cycle reads an object a thread is freeing: none runs between cycles,
//!   a cycle that starts while a batch runs marks the batch born, during `Mark` only born
//!   objects (never traced) are freed, and during `Sweep` what is freed is marked (the sweep skips it)
//!   or was allocated after termination (in no span the sweep walks).
//! - An object left to the cycles is never lost: its count is zero and stays zero, so the
//!   first cycle that starts after its decrement finds it unmarked unless a barrier shaded
//!   it before the decrement, and then the next one frees it.
//! - A freed slot's freed bit keeps it out of every later walk (`Span::for_each_allocated`)
//!   until a merge makes it allocatable again; its null `info` keeps it out of a walk
//!   that read a stale bitmap (docs/collector.md, R6).

#[cfg(not(tricolor_loom))]
mod drain;
mod gate;
mod queue;

#[cfg(not(tricolor_loom))]
pub(crate) use drain::{
    assist_own, drain, drop_panics, help_during_sweep, reclaiming, set_collector_thread,
    while_parked, without_assists,
};
#[cfg(not(tricolor_loom))]
pub(crate) use queue::{count_reached_zero, flush, flush_stale_buffers, set_enabled, ZERO_QUEUE};
pub(crate) use queue::{BufferAge, ThreadBuffer};
// The loom models' entry points (`gc-core/tests/loom_protocol.rs`).
#[cfg(all(test, tricolor_loom))]
pub(crate) use queue::{
    claim_in_stop, discard_in_stop, queue_if_unchanged, take_in_stop, Batch, Rules, ZeroQueue,
    ZERO_BATCH,
};
