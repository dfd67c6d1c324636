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
//!    the same `Off` word as before the decrement (the late queue, `reclaim/mod.rs`).
//! 2. A buffer is published to the queue (appended under its mutex) when it holds
//!    `ZERO_BATCH` objects, when the drain flushes its own thread's buffer, and at thread
//!    exit (the heap's exit guard calls [`flush`] inside its op).
//! 3. A cycle's starting stop discards every buffer and the queue
//!    ([`ZeroQueue::discard_all`]).
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
use crate::collector::phase::{Phase, PhaseCell, PhaseWord};
#[cfg(not(tricolor_loom))]
use crate::heap;
use crate::heap::safepoint::InOp;
#[cfg(tricolor_loom)]
use crate::heap::safepoint::Stopped;
#[cfg(not(tricolor_loom))]
use crate::sync::AtomicBool;
use crate::sync::{const_fn_unless_loom, fence, Mutex, Ordering};

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
/// only if `phase` still holds the `Off` word `before` that was read before the decrement.
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
    // Both reads must see the same `Off`: a cycle that started (or ran whole) between the
    // decrement and this op may already have found the count at zero and freed the object
    // (`reclaim/mod.rs`, "The late queue"); then it is not ours to queue.
    if before.phase() == Phase::Off && phase.word() == before {
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
        op.with_reclaim_buffer(|buffer| {
            buffer.objects.push(object);
            if buffer.objects.len() >= ZERO_BATCH {
                self.publish(buffer);
            }
        });
    }

    /// Publishes whatever the buffer of `op`'s thread holds.
    pub(crate) fn flush(&self, op: &impl InOp) {
        op.with_reclaim_buffer(|buffer| {
            if !buffer.objects.is_empty() {
                self.publish(buffer);
            }
        });
    }

    fn publish(&self, buffer: &mut ThreadBuffer) {
        self.queue.lock().append(&mut buffer.objects);
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
        each_buffer: impl FnOnce(&mut dyn FnMut(&mut ThreadBuffer)),
    ) -> usize {
        let mut discarded = 0;
        each_buffer(&mut |buffer| discarded += buffer.discard());
        let mut queue = self.queue.lock();
        discarded += queue.len();
        queue.clear();
        discarded
    }
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

/// Whether this thread's buffer holds `object` (tests).
#[cfg(all(test, not(tricolor_loom)))]
pub(crate) fn buffer_contains(op: &impl InOp, object: usize) -> bool {
    op.with_reclaim_buffer(|buffer| buffer.objects.contains(&object))
}
