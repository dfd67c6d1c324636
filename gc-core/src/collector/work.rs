//! Mark work buffers: where grey objects wait to be scanned (Go's `gcWork`, `workbuf` and
//! the write barrier's `wbBuf`).
//!
//! # Design
//! Three places hold grey objects (addresses of headers whose mark bit is set and whose
//! contents are not yet traced):
//! 1. **A mutator's buffer** (`ThreadCache::mark_buffer`, reached through its op): the
//!    barriers of one thread push here without any shared write. A buffer that reaches
//!    `BUFFER_CAPACITY` entries goes to the global list whole. In *flush mode* (set by the
//!    collector once its workers have run out of work, `set_flush_mode`) every push is
//!    handed over at once, so that the last shades of a cycle do not wait in a buffer.
//! 2. **A mark worker's stack** (`LocalWork`): the worker pops and pushes here. When it
//!    grows past two buffers and other workers exist, its oldest buffer's worth of entries
//!    moves to the global list, where idle workers find it. When it is empty the worker
//!    takes a buffer from the global list.
//! 3. **The global list of buffers** (`FULL`, a lock-free queue of `Vec`s).
//!
//! # Termination
//! A worker-side drain ends when every worker found its stack and the global list empty
//! (`workers.rs`). That alone proves nothing about mutators' buffers: a barrier may have
//! pushed into its own buffer at any time. Mark termination (`cycle.rs`) therefore stops
//! the world, takes every mutator's buffer (`StoppedWorld::take_mark_buffers`), and ends
//! marking only if none held anything and the global list is empty; otherwise it restarts
//! the world and drains again. With no op in flight and every buffer empty, no grey object
//! exists anywhere: a barrier shades only inside an op, and an op that starts after the
//! phase leaves `Mark` does not shade (docs/collector.md, termination).
//!
//! Every mark bit is set with an atomic `fetch_or`, so an object enters a buffer at most
//! once per cycle: a worker and a barrier racing to shade it cannot both push it.

use core::mem;

use crossbeam_queue::SegQueue;

use crate::heap::Op;
use crate::sync::{AtomicBool, Ordering};

/// Entries in a full buffer (2 KiB of addresses).
pub(crate) const BUFFER_CAPACITY: usize = 256;

/// The global list of buffers of grey objects.
static FULL: SegQueue<Vec<usize>> = SegQueue::new();

/// Set near the end of marking: mutators hand every grey object over at once.
static FLUSH_MODE: AtomicBool = AtomicBool::new(false);

/// Hands a non-empty buffer to the global list.
pub(crate) fn publish(buffer: Vec<usize>) {
    if !buffer.is_empty() {
        FULL.push(buffer);
    }
}

/// Whether the global list is empty (mutators' buffers are not included).
pub(crate) fn global_is_empty() -> bool {
    FULL.is_empty()
}

/// Empties the global list (an abandoned cycle marks everything instead).
pub(crate) fn discard_global() {
    while FULL.pop().is_some() {}
}

/// Switches mutators to handing over every grey object at once (true) or to buffering.
pub(crate) fn set_flush_mode(on: bool) {
    // Relaxed: only a latency hint; termination never relies on it (module docs).
    FLUSH_MODE.store(on, Ordering::Relaxed);
}

/// Connects thread exit to the global list: an exiting thread's buffer is published.
pub(crate) fn init() {
    crate::heap::set_mark_buffer_sink(publish);
}

/// A barrier's push of the grey object at `object` into this thread's buffer.
#[inline]
pub(crate) fn push_from_mutator(op: &Op, object: usize) {
    op.with_mark_buffer(|buffer| {
        if buffer.capacity() == 0 {
            buffer.reserve_exact(BUFFER_CAPACITY);
        }
        buffer.push(object);
        // Relaxed: see `set_flush_mode`.
        if buffer.len() >= BUFFER_CAPACITY || FLUSH_MODE.load(Ordering::Relaxed) {
            publish(mem::replace(buffer, Vec::with_capacity(BUFFER_CAPACITY)));
        }
    });
}

/// A mark worker's stack of grey objects.
#[derive(Debug, Default)]
pub(crate) struct LocalWork {
    stack: Vec<usize>,
    /// Other workers exist: share surplus work through the global list.
    share: bool,
}

impl LocalWork {
    /// A worker's stack; `share` when other workers can take its surplus.
    pub(crate) fn new(share: bool) -> LocalWork {
        LocalWork {
            stack: Vec::with_capacity(2 * BUFFER_CAPACITY),
            share,
        }
    }

    /// Pushes a grey object.
    #[inline]
    pub(crate) fn push(&mut self, object: usize) {
        self.stack.push(object);
        if self.share && self.stack.len() >= 2 * BUFFER_CAPACITY {
            // Keep the newest entries (depth-first locality), share the oldest buffer.
            let newest = self.stack.split_off(BUFFER_CAPACITY);
            FULL.push(mem::replace(&mut self.stack, newest));
        }
    }

    /// Pops a grey object: the stack's newest, else one from a global buffer.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<usize> {
        if let Some(object) = self.stack.pop() {
            return Some(object);
        }
        let buffer = FULL.pop()?;
        self.stack.extend_from_slice(&buffer);
        self.stack.pop()
    }

    /// Whether the stack is empty (the global list is not consulted).
    pub(crate) fn is_empty(&self) -> bool {
        self.stack.is_empty()
    }
}

#[cfg(test)]
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
        let shared = FULL.pop().expect("one shared buffer");
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
