//! Mark work buffers: where grey objects wait to be scanned (Go's `gcWork`, `workbuf` and
//! the write barrier's `wbBuf`).
//!
//! # Design
//! Three places hold grey objects (addresses of headers whose mark bit is set and whose
//! contents are not yet traced):
//! 1. **A mutator's buffer** (`Mutator::mark_buffer` in heap `safepoint.rs`, reached through its op): the
//!    barriers of one thread push here without any shared write. A buffer that reaches
//!    `BUFFER_CAPACITY` entries goes to the global list whole. In *flush mode* (set by the
//!    collector once its workers have run out of work, `set_flush_mode`) every push is
//!    handed over at once, so that the last shades of a cycle do not wait in a buffer.
//! 2. **A mark worker's stack** (`LocalWork`): the worker pops and pushes here. When it
//!    grows past two buffers and other workers exist, its oldest buffer's worth of entries
//!    moves to the global list, where idle workers find it. When it is empty the worker
//!    takes a buffer from the global list.
//! 3. **The global list of buffers** (`WorkList::full`, a lock-free queue of `Vec`s).
//!
//! The global list and the flush-mode flag are a [`WorkList`]; the process has one (`WORK`,
//! behind the free functions below), and the loom models (`gc-core/tests/loom_protocol.rs`)
//! build their own per execution and drive its methods: the mutator's push, a worker's
//! pop, and the termination test.
//!
//! # Termination
//! A worker-side drain ends when every worker found its stack and the global list empty
//! (`workers.rs`). That alone proves nothing about mutators' buffers: a barrier may have
//! pushed into its own buffer at any time. Mark termination (`cycle.rs`) therefore stops
//! the world, takes every mutator's buffer (`StoppedWorld::take_mark_buffers`), and ends
//! marking only if none held anything and the global list is empty
//! ([`WorkList::try_terminate`]); otherwise it restarts the world and drains again. With no op in flight and every buffer empty, no grey object
//! exists anywhere: a barrier shades only inside an op, and an op that starts after the
//! phase leaves `Mark` does not shade (docs/collector.md, termination).
//!
//! Every mark bit is set with an atomic `fetch_or`, so an object enters a buffer at most
//! once per cycle: a worker and a barrier racing to shade it cannot both push it.
//!
//! # Memory ordering
//! (1) The global list hands a buffer over with a happens-before edge (crossbeam's
//!     `SegQueue`: a push happens-before the pop that takes it), so a worker that pops a
//!     buffer sees whatever its pusher did before the push.
//! (2) A mutator's buffer is written only inside its ops and taken only in a stopped world
//!     (heap `safepoint.rs`, facts 1-3): a stopped world that finds a thread outside an op
//!     sees every push of that thread's ops.
//! (3) The flush mode is `Relaxed`: a latency hint only. Termination reads the buffers
//!     themselves in the stopped world, so a push that missed the flush mode is found
//!     there (the loom model `termination_vs_buffered_shade`).

use core::mem;

use crate::heap::safepoint::InOp;
#[cfg(not(tricolor_loom))]
use crate::heap::Op;
use crate::sync::{const_fn_unless_loom, AtomicBool, Ordering, SegQueue};

/// Entries in a full buffer (2 KiB of addresses; 2 under loom, so that the models reach
/// the publishing and sharing paths).
pub(crate) const BUFFER_CAPACITY: usize = if cfg!(tricolor_loom) { 2 } else { 256 };

/// The process's work list.
#[cfg(not(tricolor_loom))]
static WORK: WorkList = WorkList::new();

/// The global list of buffers of grey objects and the flush mode (module docs).
#[derive(Debug)]
pub(crate) struct WorkList {
    /// Full (or flushed) buffers of grey objects, waiting for a worker.
    full: SegQueue<Vec<usize>>,
    /// Set near the end of marking: mutators hand every grey object over at once.
    flush_mode: AtomicBool,
}

impl WorkList {
    const_fn_unless_loom! {
        /// An empty list, flush mode off.
        pub(crate) fn new() -> WorkList {
            WorkList {
                full: SegQueue::new(),
                flush_mode: AtomicBool::new(false),
            }
        }
    }

    /// Hands a non-empty buffer to the global list.
    pub(crate) fn publish(&self, buffer: Vec<usize>) {
        if !buffer.is_empty() {
            self.full.push(buffer);
        }
    }

    /// Whether the global list is empty (mutators' buffers are not included).
    pub(crate) fn is_empty(&self) -> bool {
        self.full.is_empty()
    }

    /// Empties the global list (an abandoned cycle marks everything instead).
    pub(crate) fn discard(&self) {
        while self.full.pop().is_some() {}
    }

    /// Switches mutators to handing over every grey object at once (true) or to buffering.
    pub(crate) fn set_flush_mode(&self, on: bool) {
        // Relaxed: only a latency hint; termination never relies on it (fact 3).
        self.flush_mode.store(on, Ordering::Relaxed);
    }

    /// A barrier's push of the grey object at `object` into `op`'s thread's buffer.
    #[inline]
    pub(crate) fn push_from_mutator(&self, op: &impl InOp, object: usize) {
        op.with_mark_buffer(|buffer| {
            if buffer.capacity() == 0 {
                buffer.reserve_exact(BUFFER_CAPACITY);
            }
            buffer.push(object);
            // Relaxed: see `set_flush_mode`.
            if buffer.len() >= BUFFER_CAPACITY || self.flush_mode.load(Ordering::Relaxed) {
                self.publish(mem::replace(buffer, Vec::with_capacity(BUFFER_CAPACITY)));
            }
        });
    }

    /// Mark termination's test, in a stopped world (module docs, "Termination";
    /// `cycle.rs` step 4): hands every mutator's buffer to this list through `take_buffers`
    /// (which returns how many were non-empty, `StoppedWorld::take_mark_buffers`) and
    /// says whether marking is over: no buffer held anything and the list is empty. If
    /// not, the caller restarts the world and drains again.
    pub(crate) fn try_terminate(
        &self,
        take_buffers: impl FnOnce(&mut dyn FnMut(Vec<usize>)) -> usize,
    ) -> bool {
        let taken = take_buffers(&mut |buffer| self.publish(buffer));
        taken == 0 && self.is_empty()
    }
}

/// Hands a non-empty buffer to the global list.
#[cfg(not(tricolor_loom))]
pub(crate) fn publish(buffer: Vec<usize>) {
    WORK.publish(buffer);
}

/// Whether the global list is empty (mutators' buffers are not included).
#[cfg(not(tricolor_loom))]
pub(crate) fn global_is_empty() -> bool {
    WORK.is_empty()
}

/// Empties the global list (an abandoned cycle marks everything instead).
#[cfg(not(tricolor_loom))]
pub(crate) fn discard_global() {
    WORK.discard();
}

/// Switches mutators to handing over every grey object at once (true) or to buffering.
#[cfg(not(tricolor_loom))]
pub(crate) fn set_flush_mode(on: bool) {
    WORK.set_flush_mode(on);
}

/// Mark termination's test on the process's list (see [`WorkList::try_terminate`]).
#[cfg(not(tricolor_loom))]
pub(crate) fn try_terminate(
    take_buffers: impl FnOnce(&mut dyn FnMut(Vec<usize>)) -> usize,
) -> bool {
    WORK.try_terminate(take_buffers)
}

/// Connects thread exit to the global list: an exiting thread's buffer is published.
#[cfg(not(tricolor_loom))]
pub(crate) fn init() {
    crate::heap::set_mark_buffer_sink(publish);
}

/// A barrier's push of the grey object at `object` into this thread's buffer.
#[cfg(not(tricolor_loom))]
#[inline]
pub(crate) fn push_from_mutator(op: &Op, object: usize) {
    WORK.push_from_mutator(op, object);
}

/// A mark worker's stack of grey objects.
#[derive(Debug)]
pub(crate) struct LocalWork<'w> {
    stack: Vec<usize>,
    /// Other workers exist: share surplus work through the global list.
    share: bool,
    /// The global list it shares with and refills from.
    list: &'w WorkList,
}

#[cfg(not(tricolor_loom))]
impl LocalWork<'static> {
    /// A worker's stack on the process's list; `share` when other workers can take its
    /// surplus.
    pub(crate) fn new(share: bool) -> LocalWork<'static> {
        LocalWork::on(&WORK, share)
    }
}

impl<'w> LocalWork<'w> {
    /// A worker's stack on `list`; `share` when other workers can take its surplus.
    pub(crate) fn on(list: &'w WorkList, share: bool) -> LocalWork<'w> {
        LocalWork {
            stack: Vec::with_capacity(2 * BUFFER_CAPACITY),
            share,
            list,
        }
    }

    /// Pushes a grey object.
    #[inline]
    pub(crate) fn push(&mut self, object: usize) {
        self.stack.push(object);
        if self.share && self.stack.len() >= 2 * BUFFER_CAPACITY {
            // Keep the newest entries (depth-first locality), share the oldest buffer.
            let newest = self.stack.split_off(BUFFER_CAPACITY);
            self.list.full.push(mem::replace(&mut self.stack, newest));
        }
    }

    /// Pops a grey object: the stack's newest, else one from a global buffer.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<usize> {
        if let Some(object) = self.stack.pop() {
            return Some(object);
        }
        let buffer = self.list.full.pop()?;
        self.stack.extend_from_slice(&buffer);
        self.stack.pop()
    }

    /// Hands the whole stack to the global list (a mark assist's stack, before its op ends:
    /// termination only looks at the global list and mutators' buffers; loom model 13).
    pub(crate) fn flush(&mut self) {
        if !self.stack.is_empty() {
            self.list.full.push(mem::take(&mut self.stack));
        }
    }

    /// Whether the stack is empty (the global list is not consulted).
    pub(crate) fn is_empty(&self) -> bool {
        self.stack.is_empty()
    }
}

#[cfg(all(test, not(tricolor_loom)))]
mod tests {
    use super::*;

    // One test touches the global list, so that parallel unit tests do not race on it.
    #[test]
    fn local_work_shares_surplus_and_refills_from_the_global_list() {
        discard_global();
        let mut worker = LocalWork::new(true);
        for object in 0..2 * BUFFER_CAPACITY {
            worker.push(object);
        }
        assert!(!global_is_empty(), "the oldest buffer was not shared");
        let shared = WORK.full.pop().expect("one shared buffer");
        assert_eq!(shared, (0..BUFFER_CAPACITY).collect::<Vec<_>>());
        // The newest entries stayed local, newest first.
        assert_eq!(worker.pop(), Some(2 * BUFFER_CAPACITY - 1));
        while worker.pop().is_some() {}
        assert!(worker.is_empty());

        publish(vec![7, 8]);
        publish(Vec::new());
        assert_eq!(
            worker.pop(),
            Some(8),
            "a worker refills from the global list"
        );
        assert_eq!(worker.pop(), Some(7));
        assert_eq!(worker.pop(), None, "empty buffers are never published");

        let mut alone = LocalWork::new(false);
        for object in 0..4 * BUFFER_CAPACITY {
            alone.push(object);
        }
        assert!(global_is_empty(), "a lone worker keeps its work");
    }
}
