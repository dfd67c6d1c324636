//! `gc` (rust-gc) 0.5: a thread-local, stop-the-world mark-sweep collector. A `Gc` outside
//! the heap is rooted (root count in the box header), so the thread's `Vec` of slots is the
//! root set, as for `Arc`. Collections run inline in `Gc::new` once the bytes allocated pass
//! the threshold (which then grows to used / 0.7): the heap goal.
//!
//! Stalls: rust-gc keeps no pause history, but it counts collections per thread
//! (`unstable-stats`), so the driver records the loop gap of every iteration in which the
//! count moved as a `Pause` (an upper bound by the iteration's own few microseconds).
//!
//! The crate is renamed `rust_gc` in this package, because the facade's library is also
//! called `gc`; its derive expands to `::gc::Trace`, which would name the facade here, so
//! `Trace` is implemented with the crate's own `custom_trace!` macro instead.
//!
//! Size estimate: `GcBoxHeader` (root count 8 bytes + `next` fat pointer 16 bytes) + the
//! node, rounded to glibc's chunk.

use rust_gc::{custom_trace, Finalize, Gc, Trace};

use super::handles::{self, HandleRuntime};
use super::tree::{malloc_chunk, Payload, TreeNode};
use super::Runtime;
use crate::sampler::CollectorCounters;

pub(crate) const RUNTIME: Runtime = Runtime {
    name: RustGc::NAME,
    multi_thread: false,
    stalls: "inferred: loop gaps of iterations during which rust-gc's collection count moved \
             (collections run inline in Gc::new; no pause history)",
    run: handles::run::<RustGc>,
};

/// rust-gc's `GcBoxHeader`: `roots: Cell<usize>` + `next: Option<NonNull<GcBox<dyn Trace>>>`.
const HEADER_BYTES: usize = 3 * size_of::<usize>();

#[derive(Debug)]
pub(crate) struct RgNode {
    left: Option<Gc<RgNode>>,
    right: Option<Gc<RgNode>>,
    payload: Payload,
}

impl Finalize for RgNode {}

// SAFETY: `trace`, `root` and `unroot` visit exactly the two child handles, which are the
// only `Gc`s a node holds; the payload is plain data.
unsafe impl Trace for RgNode {
    custom_trace!(this, {
        // SAFETY: the macro's `mark` forwards to `Trace::{trace, root, unroot}` of each
        // child, called from the same method of this node, so the caller's contract (the
        // collector's phase) carries over; each child handle is visited exactly once.
        unsafe {
            mark(&this.left);
            mark(&this.right);
        }
    });
}

impl TreeNode for RgNode {
    fn payload(&self) -> &Payload {
        &self.payload
    }
    fn left(&self) -> Option<&RgNode> {
        self.left.as_deref()
    }
    fn right(&self) -> Option<&RgNode> {
        self.right.as_deref()
    }
}

#[derive(Debug)]
pub(crate) struct RustGc;

impl HandleRuntime for RustGc {
    const NAME: &'static str = "rust-gc";
    type Node = RgNode;
    type Ptr = Gc<RgNode>;

    #[inline]
    fn node(left: Option<Gc<RgNode>>, right: Option<Gc<RgNode>>, payload: Payload) -> Self::Ptr {
        Gc::new(RgNode {
            left,
            right,
            payload,
        })
    }

    fn est_node_bytes() -> usize {
        malloc_chunk(HEADER_BYTES + size_of::<RgNode>())
    }

    fn thread_collections() -> Option<u64> {
        Some(rust_gc::stats().collections_performed as u64)
    }

    fn thread_counters() -> CollectorCounters {
        let stats = rust_gc::stats();
        let mut goal = 0;
        rust_gc::configure(|c| goal = c.threshold);
        CollectorCounters {
            cycles: Some(stats.collections_performed as u64),
            heap_bytes: Some(stats.bytes_allocated as u64),
            heap_goal_bytes: Some(goal as u64),
            ..CollectorCounters::default()
        }
    }
}
