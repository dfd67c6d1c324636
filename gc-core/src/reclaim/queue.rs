//! The count-zero hand-off: from the drop that takes a count to zero, through its thread's
//! buffer and batches, to the global queue (rules R1-R5 and M1 of docs/collector.md,
//! "Count-zero objects").
//!
//! # What this module owns
//! - [`ThreadBuffer`]: one thread's buffer of count-zero objects. The heap stores one per
//!   thread without looking inside it (the slot `Mutator::reclaim`, heap `safepoint.rs`)
//!   and hands it out only inside an op on its thread ([`InOp::with_reclaim_buffer`]) or
//!   to a stopped world ([`Stopped::for_each_reclaim_buffer`]); everything that reads or
//!   changes a buffer is here.
//! - [`ZeroQueue`]: the global queue of published count-zero objects (`ZERO_QUEUE`).
//! - [`Batch`]: the objects a thread is freeing, kept in its buffer where a cycle's
//!   starting stop finds them (R5, [`ZeroQueue::claim_in_flight`]).
//! - [`queue_if_unchanged`]: rule R1, the step after the decrement to zero, and the
//!   decisions of M1 (what may be freed now), generic over [`Rules`] so that the loom
//!   models run them.
//!
//! # Algorithm
//! 1. `Gc::drop` reads the phase word, then takes the count from 1 to 0 outside any op,
//!    then calls `count_reached_zero` -> [`queue_if_unchanged`]: an Acquire fence, an op,
//!    and only if the phase word read in the op is the same as before the decrement (the
//!    late queue, `reclaim/mod.rs`): if M1 allows freeing the object now and its type has
//!    no drop glue, it is freed in that op (`Rules::free_in_place`); else it goes to the
//!    thread's buffer ([`ZeroQueue::push`]).
//! 2. A buffer that reaches `ZERO_BATCH` objects, on a thread that is not already freeing,
//!    gives its thread a [`Batch`] of what M1 lets it free now (`take_reclaimable`, inside
//!    the op); the thread frees it outside the op (`drain::run_assist`),
//!    then takes its next batches with [`ZeroQueue::take_own`] and
//!    [`ZeroQueue::take_published`]. What is left in a buffer that still holds
//!    `ZERO_BATCH` objects (objects older than the running `Mark`, or all of them while a
//!    cycle is starting) is published to the queue (appended under its mutex), as is a
//!    buffer the drain flushes and a buffer at thread exit (the heap's exit guard calls
//!    [`flush`] inside its op).
//! 3. A cycle's starting stop discards every buffer and the queue
//!    ([`ZeroQueue::discard_all`]).
//! 4. **No buffer waits forever.** A partial buffer of a thread that drops nothing more
//!    (it parks, or runs user code for a long time) would otherwise wait for its next
//!    drops, its exit, or a cycle. Each buffer has a shared word, [`BufferAge`]: the
//!    owner stores the queue's current tick (plus one) when its buffer goes from empty to
//!    non-empty and zero when it empties it (a publish or a batch); the collector's idle
//!    poll ([`flush_stale_buffers`], between cycles, every 50 ms) advances the tick (a
//!    count of polls), reads every thread's word without stopping anyone, and if one
//!    buffer has held objects since before the previous poll (a whole poll interval: 50 to
//!    100 ms), stops the world and publishes every non-empty buffer
//!    ([`ZeroQueue::publish_all`]), which the drain then frees. So a count-zero object
//!    queued between cycles waits at most about two idle polls for the drain, or is
//!    discarded to a cycle that frees it. (The tick counts polls, not milliseconds: with a
//!    millisecond tick read at most once per poll, a buffer that a busy thread empties and
//!    refills many times a millisecond looked 50 ms old at every poll, and W2 paid a stop
//!    per poll for nothing.)
//!
//!    Why this shape: the mutator pays, once per batch, one Relaxed load of the tick and
//!    one Relaxed store to its own word (and a Relaxed store of zero at publish), no
//!    read-modify-write and nothing on the per-object path. Only a stopped world may take
//!    another thread's buffer (heap `safepoint.rs` facts 1-3); the stop waits only for ops
//!    in flight (never for the parked thread) and runs at most once per idle poll, and
//!    only when a buffer is stale. The word is a hint: a stale zero delays the flush by
//!    one poll, a stale non-zero costs one stop that publishes nothing; which objects are
//!    freed, and by whom, is decided as before, under the stop.
//! 5. `collect()` needs no flush of its own: its cycle's starting stop discards every
//!    buffer (step 3) and its sweep frees those objects (count zero: no root, unmarked),
//!    so every object whose count was zero when `collect()` was called is freed when it
//!    returns (`tests/reclaim.rs` checks it with the dropping thread parked).
//!
//! Under `--cfg tricolor_loom` this module is compiled (without the statics and the
//! wake-up hook) and the loom models (`gc-core/tests/loom_protocol.rs`) run it:
//! `count_zero_vs_cycle` (R1, R1b), `reclaim_batch_vs_cycle_start` (R5) and
//! `born_in_mark_freed_during_mark` (M1), each with a control that fails.
//!
//! # Memory ordering
//! (1) `queue_if_unchanged`'s Acquire fence pairs with the Release decrements of every
//!     other handle's drop, so every use of the value happens-before the enqueuing op.
//! (2) A buffer is touched only inside its thread's ops or in a stopped world; heap
//!     `safepoint.rs` facts 1-3 make those exclude each other and order each after the
//!     other.
//! (3) Publishing appends under the queue's mutex, inside an op; whoever takes from the
//!     queue takes under the same mutex, so the enqueuing op (and, by fact 1, every use of
//!     the value) happens-before the free. A batch taken from a buffer is taken inside an
//!     op on the same thread that frees it.

#[cfg(not(tricolor_loom))]
use core::ptr::NonNull;
#[cfg(not(tricolor_loom))]
use std::sync::OnceLock;

use super::gate::ReclaimGate;
#[cfg(not(tricolor_loom))]
use crate::collector::phase::phase_cell;
use crate::collector::phase::{Phase, PhaseCell, PhaseWord};
#[cfg(not(tricolor_loom))]
use crate::heap;
use crate::heap::safepoint::InOp;
#[cfg(tricolor_loom)]
use crate::heap::safepoint::Stopped;
#[cfg(not(tricolor_loom))]
use crate::sync::AtomicBool;
use crate::sync::{const_fn_unless_loom, fence, AtomicU64, AtomicUsize, Mutex, Ordering};

/// The process's queue of published count-zero objects.
#[cfg(not(tricolor_loom))]
pub(crate) static ZERO_QUEUE: ZeroQueue = ZeroQueue::new();

/// `TRICOLOR_PROMPT_RECLAIM`: when false, `count_reached_zero` queues nothing and every
/// count-zero object is left to the cycles (rule R1's "otherwise"), so the effect of
/// prompt reclamation can be measured in one run. Set once by `collector/config.rs`
/// before `Gc::new` returns (it starts the collector), so before any handle can be
/// dropped; Relaxed: that start (a `OnceLock`) orders it.
#[cfg(not(tricolor_loom))]
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Sets the switch (`collector/config.rs`, at the collector's start).
#[cfg(not(tricolor_loom))]
pub(crate) fn set_enabled(on: bool) {
    // Relaxed: see `ENABLED`.
    ENABLED.store(on, Ordering::Relaxed);
}

/// Count-zero objects a thread buffers before publishing them (2 under loom, so that the
/// models reach the publishing path).
pub(crate) const ZERO_BATCH: usize = if cfg!(tricolor_loom) { 2 } else { 256 };

/// The shared word about one thread's buffer (algorithm step 4): 0 while the buffer is
/// empty, else the queue's tick plus one when it last went non-empty. Written by the
/// owner inside its ops, and by the collector in a stopped world; read by the collector at
/// any time, as a hint. All Relaxed: the stop, not this word, decides what is taken.
#[derive(Debug)]
pub(crate) struct BufferAge {
    since: AtomicU64,
}

impl BufferAge {
    const_fn_unless_loom! {
        /// An empty buffer's word.
        pub(crate) fn new() -> BufferAge {
            BufferAge {
                since: AtomicU64::new(0),
            }
        }
    }

    /// Whether the buffer has held objects since before the poll before the one that set
    /// the tick to `now` (a hint).
    #[cfg(not(tricolor_loom))]
    fn stale(&self, now: u64) -> bool {
        // Relaxed: a hint (type docs).
        let since = self.since.load(Ordering::Relaxed);
        since != 0 && now > since
    }
}

/// One thread's count-zero objects, not yet published (algorithm step 2). The heap holds
/// it in the thread's `Mutator` and hands it out under the safepoint protocol's rules.
#[derive(Debug)]
pub(crate) struct ThreadBuffer {
    /// Addresses of managed objects whose count this thread took to zero (rule R1).
    objects: Vec<usize>,
    /// An empty vector with room, swapped in when a batch takes `objects` (so a thread
    /// that reclaims batch after batch does not reallocate its buffer each time).
    spare: Vec<usize>,
    /// The batch this thread is freeing (rule R5), empty when none. Changed only inside
    /// this thread's ops (`take_reclaimable` and `take_published` fill it, `end_batch`
    /// empties it in the op that frees the batch's slots); read, never written, by the
    /// owner outside its ops while it runs the batch's drop glue ([`Batch::objects`]) and
    /// by a cycle's starting stop, which marks these objects born ([`ZeroQueue::claim_in_flight`]).
    in_flight: Vec<usize>,
    /// A cycle's starting stop claimed `in_flight` (R5): `end_batch` then tells the queue,
    /// so that `collect()` can wait for every claimed batch to end.
    in_flight_claimed: bool,
}

impl ThreadBuffer {
    /// An empty buffer (a thread's before its first op).
    pub(crate) const fn new() -> ThreadBuffer {
        ThreadBuffer {
            objects: Vec::new(),
            spare: Vec::new(),
            in_flight: Vec::new(),
            in_flight_claimed: false,
        }
    }

    /// Takes every object, leaving the spare vector in its place.
    fn take_objects(&mut self) -> Vec<usize> {
        core::mem::replace(&mut self.objects, core::mem::take(&mut self.spare))
    }

    /// Forgets every object; returns how many there were (algorithm step 3).
    fn discard(&mut self) -> usize {
        let len = self.objects.len();
        self.objects.clear();
        len
    }
}

/// What count-zero reclamation needs from the rest of the collector, beyond the op, the
/// phase cell and the queue: the shipped implementation is [`Shipped`]; the loom models
/// supply their own, so that they run the decisions below unchanged.
pub(crate) trait Rules<O: InOp> {
    /// Whether `object` was allocated black during the running cycle's `Mark` (rule M1).
    fn is_born(&self, object: usize) -> bool;
    /// Frees `object` at once, inside `op`, if that needs no user code (its type has no
    /// drop glue); returns whether it did. Called only where rule R1 and M1 allow freeing.
    fn free_in_place(&self, op: &O, object: usize) -> bool;
    /// Whether this thread is already reclaiming (a batch's drop glue queues children, the
    /// collector thread drains or sweeps): then a full buffer waits for the running loop
    /// instead of starting a nested batch.
    fn reclaiming(&self) -> bool;
}

/// `Gc::drop`'s slow path, after its decrement took the count from 1 to 0. Returns the
/// batch this thread must now reclaim (outside any op, `drain::run_assist`), if any.
#[cfg(not(tricolor_loom))]
#[cold]
#[inline(never)]
pub(crate) fn count_reached_zero(object: NonNull<u8>, before: PhaseWord) {
    // Relaxed: see `ENABLED`. Off: the object is left to the cycles, exactly as if a phase
    // change had fallen between the decrement and the op.
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let batch = queue_if_unchanged(
        object.as_ptr() as usize,
        before,
        heap::enter_op,
        phase_cell(),
        &ZERO_QUEUE,
        &super::drain::Shipped,
    );
    if let Some(batch) = batch {
        super::drain::run_assist(batch);
    }
}

/// Algorithm step 1 after the decrement to zero (`count_reached_zero`): an Acquire fence,
/// an op from `enter`, and only if `phase` still holds the word `before` that was read
/// before the decrement (R1): free `object` in place if rule M1 allows it now and it has
/// no drop glue, else queue it in the op's thread buffer, which may hand back a batch to
/// reclaim ([`ZeroQueue::push`]). What was queued during `Mark` is sorted at mark
/// termination (R1b).
/// Generic over the op, the phase cell, the queue and the rules so that the loom models
/// (`count_zero_vs_cycle`, `reclaim_batch_vs_cycle_start`) run this code.
#[inline(always)]
pub(crate) fn queue_if_unchanged<O: InOp>(
    object: usize,
    before: PhaseWord,
    enter: impl FnOnce() -> O,
    phase: &PhaseCell,
    queue: &ZeroQueue,
    rules: &impl Rules<O>,
) -> Option<Batch> {
    // Acquire: pairs with the Release decrements of every other handle's drop, so every
    // use of the value happens-before its reclamation (the queue hand-off, a mutex or a
    // stopped world, carries this to the collector thread); fact (1).
    fence(Ordering::Acquire);
    let op = enter();
    // Both reads must see the same word: a cycle that started (or ran whole) between the
    // decrement and this op may already have found the count at zero and freed the object
    // (`reclaim/mod.rs`, "The late queue"); then it is not ours to queue. Any phase: in
    // `Off` and `Sweep` no cycle will free the object (in `Sweep` its cycle's roots pass
    // read the count above zero); in `Mark` its cycle may (the decrement can precede the
    // roots pass's read), so mark termination sorts what was queued during `Mark` by mark
    // bit (R1b in docs/collector.md; the loom control `count_zero_vs_cycle_unsorted_at_termination`
    // shows what happens without that).
    let word = phase.word();
    if word != before {
        return None;
    }
    // In place: the op keeps every cycle from starting or ending around the free, and
    // rule M1 says which objects no pass of a running cycle traces.
    if may_free_now(word.phase(), object, rules) && rules.free_in_place(&op, object) {
        return None;
    }
    queue.push(&op, object, word.phase(), rules)
}

/// Rules R1-M1 for an object that the calling op may take: every queued object in `Off`
/// and `Sweep`, only objects born in this `Mark` during `Mark`.
#[inline(always)]
fn may_free_now<O: InOp>(phase: Phase, object: usize, rules: &impl Rules<O>) -> bool {
    phase != Phase::Mark || rules.is_born(object)
}

/// Count-zero objects that one thread has taken from its buffer (or from the queue) to
/// free: a view of its buffer's `in_flight` vector, where a cycle's starting stop can see
/// them (R5). The thread runs their drop glue outside any op, then frees their slots and
/// ends the batch in one op ([`ZeroQueue::end_batch`]). Not `Send`: it stays on the thread
/// whose buffer holds it.
#[derive(Debug)]
#[must_use = "a batch is ended by `end_batch`, in the op that frees its slots"]
pub(crate) struct Batch {
    objects: *const usize,
    len: usize,
}

impl Batch {
    fn of(in_flight: &[usize]) -> Batch {
        Batch {
            objects: in_flight.as_ptr(),
            len: in_flight.len(),
        }
    }

    /// The batch's objects.
    pub(crate) fn objects(&self) -> &[usize] {
        // SAFETY: the pointer and length are those of this thread's `in_flight` vector,
        // which nobody changes until `end_batch` consumes this batch (only this thread's
        // ops change it, and a thread takes no batch while it holds one: `take_reclaimable`
        // asserts it); a stopped world only reads it. `Batch` is not `Send`.
        unsafe { core::slice::from_raw_parts(self.objects, self.len) }
    }
}

/// Publishes whatever the buffer of `op`'s thread holds (thread exit, the drain).
#[cfg(not(tricolor_loom))]
pub(crate) fn flush(op: &impl InOp) {
    ZERO_QUEUE.flush(op);
}

/// Published count-zero objects, waiting for the drain (`drain.rs`; fact 3).
pub(crate) struct ZeroQueue {
    queue: Mutex<Vec<usize>>,
    /// `queue`'s length as of its last change (written under its lock; read as a hint).
    published: AtomicUsize,
    /// Batches claimed by a cycle's starting stop that have not ended (R5).
    claimed_batches: AtomicUsize,
    /// What a requested cycle waits on before its starting stop (`gate.rs`, R5b).
    gate: ReclaimGate,
    /// The number of the collector's idle polls so far (step 4).
    /// Written by the collector thread; read by owners when a buffer goes non-empty.
    tick: AtomicU64,
    /// Called when a batch lands in the queue (wakes the collector; must only signal). Not
    /// part of the loom build: it orders nothing.
    #[cfg(not(tricolor_loom))]
    hook: OnceLock<fn()>,
}

impl ZeroQueue {
    const_fn_unless_loom! {
        /// An empty queue with no hook.
        pub(crate) fn new() -> ZeroQueue {
            ZeroQueue {
                queue: Mutex::new(Vec::new()),
                published: AtomicUsize::new(0),
                claimed_batches: AtomicUsize::new(0),
                gate: ReclaimGate::new(),
                tick: AtomicU64::new(0),
                #[cfg(not(tricolor_loom))]
                hook: OnceLock::new(),
            }
        }
    }

    /// Sets the function called when count-zero objects are published (once).
    #[cfg(not(tricolor_loom))]
    pub(crate) fn set_hook(&self, hook: fn()) {
        self.hook.get_or_init(|| hook);
    }

    /// Queues `object` (whose phase word `phase` the caller checked, R1) in the buffer of
    /// `op`'s thread. A full buffer becomes a batch for this thread to reclaim (a reclaim
    /// assist: the thread frees its own garbage, so no backlog builds up however many
    /// threads drop objects), as far as rule M1 allows; what is left is published.
    #[inline]
    pub(crate) fn push<O: InOp>(
        &self,
        op: &O,
        object: usize,
        phase: Phase,
        rules: &impl Rules<O>,
    ) -> Option<Batch> {
        op.with_reclaim_buffer(|buffer, age| {
            if buffer.objects.is_empty() {
                // Relaxed: a hint (`BufferAge`); once per batch, no read-modify-write.
                let tick = self.tick.load(Ordering::Relaxed);
                age.since.store(tick + 1, Ordering::Relaxed);
            }
            buffer.objects.push(object);
            if buffer.objects.len() < ZERO_BATCH || rules.reclaiming() {
                return None;
            }
            let batch = self.take_reclaimable(buffer, age, phase, rules);
            if buffer.objects.len() >= ZERO_BATCH {
                self.publish(buffer, age);
            }
            batch
        })
    }

    /// Moves what rule M1 lets this thread free now (in `phase`, read inside the caller's
    /// op) out of `buffer` into its in-flight batch; `None` if nothing may be freed yet.
    fn take_reclaimable<O: InOp>(
        &self,
        buffer: &mut ThreadBuffer,
        age: &BufferAge,
        phase: Phase,
        rules: &impl Rules<O>,
    ) -> Option<Batch> {
        assert!(
            buffer.in_flight.is_empty(),
            "tricolor-gc: a thread took a count-zero batch while it held one"
        );
        if buffer.objects.is_empty() || !self.gate.try_enter() {
            return None;
        }
        // At most `ZERO_BATCH` objects: a batch in flight is what a cycle's starting stop
        // claims (R5), so its size bounds that stop's work.
        let objects = if phase == Phase::Mark {
            let mut born = core::mem::take(&mut buffer.in_flight);
            buffer.objects.retain(|&object| {
                let free_now = born.len() < ZERO_BATCH && rules.is_born(object);
                if free_now {
                    born.push(object);
                }
                !free_now
            });
            born
        } else if buffer.objects.len() <= ZERO_BATCH {
            buffer.take_objects()
        } else {
            // The newest objects (a cascade's latest children), so the rest keeps its order.
            let mut batch = core::mem::take(&mut buffer.in_flight);
            let keep = buffer.objects.len() - ZERO_BATCH;
            batch.extend_from_slice(&buffer.objects[keep..]);
            buffer.objects.truncate(keep);
            batch
        };
        if buffer.objects.is_empty() {
            // Relaxed: a hint (`BufferAge`).
            age.since.store(0, Ordering::Relaxed);
        }
        // The emptied in-flight vector becomes the spare (no allocation per batch).
        let emptied = core::mem::replace(&mut buffer.in_flight, objects);
        if buffer.spare.capacity() < emptied.capacity() {
            buffer.spare = emptied;
        }
        if buffer.in_flight.is_empty() {
            self.gate.exit();
            return None;
        }
        Some(Batch::of(&buffer.in_flight))
    }

    /// The next batch of a reclaiming thread's loop: what it may free now of its own
    /// buffer (the children its last batch's drop glue queued), inside `op`.
    pub(crate) fn take_own<O: InOp>(
        &self,
        op: &O,
        phase: Phase,
        rules: &impl Rules<O>,
    ) -> Option<Batch> {
        op.with_reclaim_buffer(|buffer, age| self.take_reclaimable(buffer, age, phase, rules))
    }

    /// Up to `max` published objects, as a batch of `op`'s thread, if the queue holds more
    /// than `backlog` and rule M1 allows freeing them (not in `Mark`, when the queue holds
    /// what only mark termination may sort). Inside `op`, so that `phase` holds while the
    /// batch is taken.
    pub(crate) fn take_published<O: InOp>(
        &self,
        op: &O,
        phase: Phase,
        backlog: usize,
        max: usize,
    ) -> Option<Batch> {
        // Relaxed: a hint; the lock below decides.
        if phase == Phase::Mark || self.published.load(Ordering::Relaxed) <= backlog {
            return None;
        }
        if !self.gate.try_enter() {
            return None;
        }
        op.with_reclaim_buffer(|buffer, _| {
            assert!(
                buffer.in_flight.is_empty(),
                "tricolor-gc: a thread took a count-zero batch while it held one"
            );
            let mut queue = self.queue.lock();
            let keep = queue.len().saturating_sub(max);
            buffer.in_flight.extend_from_slice(&queue[keep..]);
            queue.truncate(keep);
            // Relaxed: a hint for `take_published`.
            self.published.store(queue.len(), Ordering::Relaxed);
            drop(queue);
            if buffer.in_flight.is_empty() {
                self.gate.exit();
                return None;
            }
            Some(Batch::of(&buffer.in_flight))
        })
    }

    /// Ends `batch` inside `op`, the op in which its thread freed every slot of it.
    pub(crate) fn end_batch(&self, op: &impl InOp, batch: Batch) {
        op.with_reclaim_buffer(|buffer, _| {
            debug_assert_eq!(buffer.in_flight.as_ptr(), batch.objects);
            buffer.in_flight.clear();
            if core::mem::take(&mut buffer.in_flight_claimed) {
                // Release: this batch's frees happen-before a `collect()` that sees the
                // count drop (`wait_for_claimed_batches`).
                self.claimed_batches.fetch_sub(1, Ordering::Release);
            }
            if buffer.in_flight.capacity() > 4 * ZERO_BATCH {
                // A cascade's wide frontier: do not keep its memory.
                buffer.in_flight = Vec::new();
            }
        });
        self.gate.exit();
    }

    /// The gate (`gate.rs`): a requested cycle closes it before its starting stop.
    pub(crate) fn gate(&self) -> &ReclaimGate {
        &self.gate
    }

    /// R5, in a cycle's starting stop (before `Mark` is set): passes every object of every
    /// batch in flight to `claim`, which marks it born (`Span::mark_born`), so that the
    /// cycle never traces it and may see it freed during `Mark` (M1). `each_buffer` as in
    /// [`ZeroQueue::discard_all`]. Returns how many objects were claimed.
    pub(crate) fn claim_in_flight(
        &self,
        each_buffer: impl FnOnce(&mut dyn FnMut(&mut ThreadBuffer, &BufferAge)),
        mut claim: impl FnMut(usize),
    ) -> usize {
        let mut claimed = 0;
        each_buffer(&mut |buffer, _| {
            for &object in &buffer.in_flight {
                claim(object);
            }
            claimed += buffer.in_flight.len();
            if !buffer.in_flight.is_empty() && !buffer.in_flight_claimed {
                buffer.in_flight_claimed = true;
                // Relaxed: the stop orders it before the batch's `end_batch`.
                self.claimed_batches.fetch_add(1, Ordering::Relaxed);
            }
        });
        claimed
    }

    /// Waits until every batch that a cycle's starting stop claimed has ended (R5):
    /// `collect()` promises that every object unreachable when it was called is freed when
    /// it returns, and a claimed batch may hold such objects, which the cycle kept for the
    /// thread freeing them. A batch is bounded (at most `ZERO_BATCH` objects' drop glue),
    /// so this waits for at most that much work per thread.
    #[cfg(not(tricolor_loom))]
    pub(crate) fn wait_for_claimed_batches(&self) {
        let mut spins = 0u32;
        // Acquire: pairs with `end_batch`'s Release.
        while self.claimed_batches.load(Ordering::Acquire) != 0 {
            if spins < 16 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
            spins = spins.saturating_add(1);
        }
    }

    /// Publishes whatever the buffer of `op`'s thread holds.
    pub(crate) fn flush(&self, op: &impl InOp) {
        op.with_reclaim_buffer(|buffer, age| {
            if !buffer.objects.is_empty() {
                self.publish(buffer, age);
            }
        });
    }

    fn publish(&self, buffer: &mut ThreadBuffer, age: &BufferAge) {
        {
            let mut queue = self.queue.lock();
            queue.append(&mut buffer.objects);
            // Relaxed: a hint for `take_published`.
            self.published.store(queue.len(), Ordering::Relaxed);
        }
        // Relaxed: a hint (`BufferAge`).
        age.since.store(0, Ordering::Relaxed);
        #[cfg(not(tricolor_loom))]
        if let Some(hook) = self.hook.get() {
            hook();
        }
    }

    /// Whether no object is published (threads' buffers are not included).
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.lock().is_empty()
    }

    /// Takes every published object (the drain).
    pub(crate) fn take(&self) -> Vec<usize> {
        let mut queue = self.queue.lock();
        // Relaxed: a hint for `take_published`.
        self.published.store(0, Ordering::Relaxed);
        core::mem::take(&mut *queue)
    }

    /// Forgets every queued count-zero object: every thread buffer that `each_buffer`
    /// passes to its argument, and this queue. The cycle about to start frees them itself
    /// (a count of zero is never a root, and no handle is left to mark them), so nobody
    /// else may (algorithm step 3, rule R3). Returns how many there were. `each_buffer`
    /// is `StoppedWorld::for_each_reclaim_buffer` (or, in a loom model,
    /// [`Stopped::for_each_reclaim_buffer`] over the model's mutators): only a stopped
    /// world may reach other threads' buffers.
    pub(crate) fn discard_all(
        &self,
        each_buffer: impl FnOnce(&mut dyn FnMut(&mut ThreadBuffer, &BufferAge)),
    ) -> usize {
        let mut discarded = 0;
        each_buffer(&mut |buffer, age| {
            discarded += buffer.discard();
            // Relaxed: a hint (`BufferAge`).
            age.since.store(0, Ordering::Relaxed);
        });
        let mut queue = self.queue.lock();
        discarded += queue.len();
        queue.clear();
        // Relaxed: a hint for `take_published`.
        self.published.store(0, Ordering::Relaxed);
        discarded
    }
}

/// The count-zero objects queued while a cycle marked, taken at its final mark
/// termination (R1b): not yet sorted by mark bit.
#[derive(Debug, Default)]
pub(crate) struct MarkZeros(Vec<Vec<usize>>);

impl ZeroQueue {
    /// Takes every thread buffer that `each_buffer` passes, and this queue, by moving the
    /// vectors (no copy: the final mark termination's stopped world stays O(threads)).
    /// Everything they hold was queued during this cycle's `Mark`: its starting stop
    /// emptied them (R3), and no drain runs during a cycle (R4).
    pub(crate) fn take_all(
        &self,
        each_buffer: impl FnOnce(&mut dyn FnMut(&mut ThreadBuffer, &BufferAge)),
    ) -> MarkZeros {
        let mut batches = Vec::new();
        each_buffer(&mut |buffer, age| {
            if !buffer.objects.is_empty() {
                batches.push(core::mem::take(&mut buffer.objects));
            }
            // Relaxed: a hint (`BufferAge`).
            age.since.store(0, Ordering::Relaxed);
        });
        let published = {
            let mut queue = self.queue.lock();
            // Relaxed: a hint for `take_published`.
            self.published.store(0, Ordering::Relaxed);
            core::mem::take(&mut *queue)
        };
        if !published.is_empty() {
            batches.push(published);
        }
        MarkZeros(batches)
    }

    /// R1b, after the termination stop and before the sweep: keeps for the drain the
    /// objects `survives` (the mark bit, now final) says this cycle keeps, and forgets the
    /// others, which this cycle's sweep frees. Returns (kept, left to the sweep).
    pub(crate) fn keep_survivors(
        &self,
        zeros: MarkZeros,
        mut survives: impl FnMut(usize) -> bool,
    ) -> (usize, usize) {
        let mut kept = Vec::new();
        let mut left = 0;
        for batch in zeros.0 {
            for object in batch {
                if survives(object) {
                    kept.push(object);
                } else {
                    left += 1;
                }
            }
        }
        let count = kept.len();
        if count > 0 {
            let mut queue = self.queue.lock();
            queue.append(&mut kept);
            // Relaxed: a hint for `take_published`.
            self.published.store(queue.len(), Ordering::Relaxed);
        }
        (count, left)
    }
}

impl ZeroQueue {
    /// Publishes every non-empty thread buffer that `each_buffer` passes (a stopped
    /// world's, as in [`ZeroQueue::discard_all`]); returns how many objects moved
    /// (algorithm step 4). Equivalent to each owner flushing its own buffer in an op.
    #[cfg(not(tricolor_loom))]
    fn publish_all(
        &self,
        each_buffer: impl FnOnce(&mut dyn FnMut(&mut ThreadBuffer, &BufferAge)),
    ) -> usize {
        let mut moved = 0;
        each_buffer(&mut |buffer, age| {
            if !buffer.objects.is_empty() {
                moved += buffer.objects.len();
                self.publish(buffer, age);
            }
        });
        moved
    }
}

/// The collector's idle poll, between cycles (algorithm step 4): advances the tick and, if
/// some thread's buffer has held objects through a whole poll interval, stops the world and
/// publishes every non-empty buffer. Returns the length of the stop if there was one
/// (a stall, for the pause history). Collector thread only, phase `Off`.
#[cfg(not(tricolor_loom))]
pub(crate) fn flush_stale_buffers() -> Option<std::time::Duration> {
    // Relaxed: a hint for the owners (`BufferAge`); only this thread writes it.
    let now = ZERO_QUEUE.tick.load(Ordering::Relaxed) + 1;
    ZERO_QUEUE.tick.store(now, Ordering::Relaxed);
    let mut stale = false;
    heap::for_each_reclaim_age(|age| stale |= age.stale(now));
    if !stale {
        return None;
    }
    let started = std::time::Instant::now();
    let mut world = heap::stop_the_world();
    debug_assert_eq!(
        phase_cell().word().phase(),
        crate::collector::phase::Phase::Off
    );
    ZERO_QUEUE.publish_all(|each| world.for_each_reclaim_buffer(each));
    drop(world);
    Some(started.elapsed())
}

/// Loom models only: [`ZeroQueue::discard_all`] over `mutators` in the stopped world
/// `stopped`, as the cycle's starting stop runs it.
///
/// # Safety
/// As [`Stopped::for_each_reclaim_buffer`].
#[cfg(tricolor_loom)]
pub(crate) unsafe fn discard_in_stop<'m>(
    stopped: &mut Stopped<'_>,
    mutators: impl IntoIterator<Item = &'m crate::heap::safepoint::Mutator>,
    queue: &ZeroQueue,
) -> usize {
    // SAFETY: forwarded from the caller.
    queue.discard_all(|each| unsafe { stopped.for_each_reclaim_buffer(mutators, each) })
}

/// Loom models only: [`ZeroQueue::take_all`] over `mutators` in the stopped world
/// `stopped`, as the final mark termination runs it (R1b).
///
/// # Safety
/// As [`Stopped::for_each_reclaim_buffer`].
#[cfg(tricolor_loom)]
pub(crate) unsafe fn take_in_stop<'m>(
    stopped: &mut Stopped<'_>,
    mutators: impl IntoIterator<Item = &'m crate::heap::safepoint::Mutator>,
    queue: &ZeroQueue,
) -> MarkZeros {
    // SAFETY: forwarded from the caller.
    queue.take_all(|each| unsafe { stopped.for_each_reclaim_buffer(mutators, each) })
}

/// Loom models only: [`ZeroQueue::claim_in_flight`] over `mutators` in the stopped world
/// `stopped`, as the cycle's starting stop runs it (R5).
///
/// # Safety
/// As [`Stopped::for_each_reclaim_buffer`].
#[cfg(tricolor_loom)]
pub(crate) unsafe fn claim_in_stop<'m>(
    stopped: &mut Stopped<'_>,
    mutators: impl IntoIterator<Item = &'m crate::heap::safepoint::Mutator>,
    queue: &ZeroQueue,
    claim: impl FnMut(usize),
) -> usize {
    // SAFETY: forwarded from the caller.
    queue.claim_in_flight(
        |each| unsafe { stopped.for_each_reclaim_buffer(mutators, each) },
        claim,
    )
}

/// Whether this thread's buffer holds `object` (tests).
#[cfg(all(test, not(tricolor_loom)))]
pub(crate) fn buffer_contains(op: &impl InOp, object: usize) -> bool {
    op.with_reclaim_buffer(|buffer, _| buffer.objects.contains(&object))
}
