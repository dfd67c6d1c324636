//! The count-zero hand-off: from the drop that takes a count to zero, through its thread's
//! buffer, to the global queue that the drain takes (rules R1-R3 of docs/collector.md,
//! "Count-zero objects").
//!
//! # What this module owns
//! - [`ThreadBuffer`]: one thread's buffer of count-zero objects. The heap stores one per
//!   thread without looking inside it (the slot `Mutator::reclaim`, heap `safepoint.rs`)
//!   and hands it out only inside an op on its thread ([`InOp::with_reclaim_buffer`]) or
//!   to a stopped world ([`Stopped::for_each_reclaim_buffer`]); everything that reads or
//!   changes a buffer is here.
//! - [`ZeroQueue`]: the global queue of published count-zero objects (`ZERO_QUEUE`).
//! - [`queue_if_unchanged`]: rule R1, the step after the decrement to zero.
//!
//! # Algorithm
//! 1. `Gc::drop` reads the phase word, then takes the count from 1 to 0 outside any op,
//!    then calls `count_reached_zero` -> [`queue_if_unchanged`]: an Acquire fence, an op,
//!    and the object goes to the thread's buffer only if the phase word read in the op is
//!    the same `Off` or `Sweep` word as before the decrement (the late queue,
//!    `reclaim/mod.rs`; why `Sweep` but not `Mark`: R1 in docs/collector.md).
//! 2. A buffer is published to the queue (appended under its mutex) when it holds
//!    `ZERO_BATCH` objects, when the drain flushes its own thread's buffer, and at thread
//!    exit (the heap's exit guard calls [`flush`] inside its op).
//! 3. A cycle's starting stop discards every buffer and the queue
//!    ([`ZeroQueue::discard_all`]).
//! 4. **No buffer waits forever.** A partial buffer of a thread that drops nothing more
//!    (it parks, or runs user code for a long time) would otherwise wait for its next
//!    drops, its exit, or a cycle. Each buffer has a shared word, [`BufferAge`]: the
//!    owner stores the queue's current tick (plus one) when its buffer goes from empty to
//!    non-empty and zero when it publishes it; the collector's idle poll
//!    ([`flush_stale_buffers`], between cycles) advances the tick, reads every thread's
//!    word without stopping anyone, and if one buffer has held objects for `STALE_MS`
//!    or more, stops the world and publishes every non-empty buffer
//!    ([`ZeroQueue::publish_all`]), which the drain then frees. So a count-zero object
//!    queued between cycles waits at most about `STALE_MS` plus one idle poll (50 ms) for
//!    the drain, or is discarded to a cycle that frees it.
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
//! wake-up hook) and the loom models (`gc-core/tests/loom_protocol.rs`) run it.
//!
//! # Memory ordering
//! (1) `queue_if_unchanged`'s Acquire fence pairs with the Release decrements of every
//!     other handle's drop, so every use of the value happens-before the enqueuing op.
//! (2) A buffer is touched only inside its thread's ops or in a stopped world; heap
//!     `safepoint.rs` facts 1-3 make those exclude each other and order each after the
//!     other.
//! (3) Publishing appends under the queue's mutex, inside an op; the drain takes the queue
//!     under the same mutex, so the enqueuing op (and, by fact 1, every use of the value)
//!     happens-before the drain.

#[cfg(not(tricolor_loom))]
use core::ptr::NonNull;
#[cfg(not(tricolor_loom))]
use std::sync::OnceLock;

#[cfg(not(tricolor_loom))]
use crate::collector::phase::phase_cell;
use crate::collector::phase::{PhaseCell, PhaseWord};
#[cfg(not(tricolor_loom))]
use crate::heap;
use crate::heap::safepoint::InOp;
#[cfg(tricolor_loom)]
use crate::heap::safepoint::Stopped;
#[cfg(not(tricolor_loom))]
use crate::sync::AtomicBool;
use crate::sync::{const_fn_unless_loom, fence, AtomicU64, Mutex, Ordering};

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
const ZERO_BATCH: usize = if cfg!(tricolor_loom) { 2 } else { 256 };

/// How long a partial buffer may hold objects before the collector's idle poll publishes
/// it (algorithm step 4), in ticks (milliseconds since the collector started).
#[cfg(not(tricolor_loom))]
const STALE_MS: u64 = 50;

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

    /// Whether the buffer has held objects since `now - limit` ticks or longer (a hint).
    #[cfg(not(tricolor_loom))]
    fn stale(&self, now: u64, limit: u64) -> bool {
        // Relaxed: a hint (type docs).
        let since = self.since.load(Ordering::Relaxed);
        since != 0 && now + 1 >= since.saturating_add(limit)
    }
}

/// One thread's count-zero objects, not yet published (algorithm step 2). The heap holds
/// it in the thread's `Mutator` and hands it out under the safepoint protocol's rules.
#[derive(Debug)]
pub(crate) struct ThreadBuffer {
    /// Addresses of managed objects whose count this thread took to zero in phase `Off`.
    objects: Vec<usize>,
}

impl ThreadBuffer {
    /// An empty buffer (a thread's before its first op).
    pub(crate) const fn new() -> ThreadBuffer {
        ThreadBuffer {
            objects: Vec::new(),
        }
    }

    /// Forgets every object; returns how many there were (algorithm step 3).
    fn discard(&mut self) -> usize {
        let len = self.objects.len();
        self.objects.clear();
        len
    }
}

/// `Gc::drop`'s slow path, after its decrement took the count from 1 to 0.
#[cfg(not(tricolor_loom))]
#[cold]
#[inline(never)]
pub(crate) fn count_reached_zero(object: NonNull<u8>, before: PhaseWord) {
    // Relaxed: see `ENABLED`. Off: the object is left to the cycles, exactly as if a phase
    // change had fallen between the decrement and the op.
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    queue_if_unchanged(
        object.as_ptr() as usize,
        before,
        heap::enter_op,
        phase_cell(),
        &ZERO_QUEUE,
    );
}

/// Algorithm step 1 after the decrement to zero (`count_reached_zero`): an Acquire fence,
/// an op from `enter`, and `object` goes to the op's thread buffer (`queue`'s when full)
/// only if `phase` still holds the word `before` that was read before the decrement
/// (docs/collector.md, R1; what was queued during `Mark` is sorted at mark termination,
/// R1b).
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
    if phase.word() == before {
        queue.push(&op, object);
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
    /// Milliseconds since the collector started, as of its last idle poll (step 4).
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

    /// Queues `object` in the buffer of `op`'s thread; a full buffer is published.
    #[inline]
    pub(crate) fn push(&self, op: &impl InOp, object: usize) {
        op.with_reclaim_buffer(|buffer, age| {
            if buffer.objects.is_empty() {
                // Relaxed: a hint (`BufferAge`); once per batch, no read-modify-write.
                let tick = self.tick.load(Ordering::Relaxed);
                age.since.store(tick + 1, Ordering::Relaxed);
            }
            buffer.objects.push(object);
            if buffer.objects.len() >= ZERO_BATCH {
                self.publish(buffer, age);
            }
        });
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
        self.queue.lock().append(&mut buffer.objects);
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
        core::mem::take(&mut *self.queue.lock())
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
        let published = core::mem::take(&mut *self.queue.lock());
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
            self.queue.lock().append(&mut kept);
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
/// some thread's buffer has held objects for `STALE_MS` or more, stops the world and
/// publishes every non-empty buffer. Returns the length of the stop if there was one
/// (a stall, for the pause history). Collector thread only, phase `Off`.
#[cfg(not(tricolor_loom))]
pub(crate) fn flush_stale_buffers() -> Option<std::time::Duration> {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    let now = START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64;
    // Relaxed: a hint for the owners (`BufferAge`).
    ZERO_QUEUE.tick.store(now, Ordering::Relaxed);
    let mut stale = false;
    heap::for_each_reclaim_age(|age| stale |= age.stale(now, STALE_MS));
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

/// Whether this thread's buffer holds `object` (tests).
#[cfg(all(test, not(tricolor_loom)))]
pub(crate) fn buffer_contains(op: &impl InOp, object: usize) -> bool {
    op.with_reclaim_buffer(|buffer, _| buffer.objects.contains(&object))
}
