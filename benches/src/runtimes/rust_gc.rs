//! `gc` (rust-gc) 0.5: a tree is a `Gc<RgNode<D>>`; a thread-local, stop-the-world mark-sweep collector. A `Gc` outside
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
use super::{Runtime, W1, W2};
use crate::binary_trees::binary_trees;
use crate::sampler::CollectorCounters;
use crate::tree::{malloc_chunk, Children, Data, Payload, Tree};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: RustGc::NAME,
    w1: Some(W1 {
        run: binary_trees::<Gc<RgNode<()>>>,
        in_all: false,
    }),
    w2: W2 {
        multi_thread: false,
        stalls: "inferred: loop gaps of iterations during which rust-gc's collection count moved \
                 (collections run inline in Gc::new; no pause history)",
        run: handles::run::<RustGc>,
        available: super::always,
    },
};

/// rust-gc's `GcBoxHeader`: `roots: Cell<usize>` + `next: Option<NonNull<GcBox<dyn Trace>>>`.
const HEADER_BYTES: usize = 3 * size_of::<usize>();

/// A node: its children and its data (plain data, never traced).
pub(crate) struct RgNode<D: Data> {
    children: Children<Gc<RgNode<D>>>,
    data: D,
}

impl<D: Data> Finalize for RgNode<D> {}

// SAFETY: `trace`, `root` and `unroot` visit exactly the two child handles, which are the
// only `Gc`s a node holds; the data is plain (`Data: Copy + 'static`, no `Gc` inside).
unsafe impl<D: Data> Trace for RgNode<D> {
    custom_trace!(this, {
        // SAFETY: the macro's `mark` forwards to `Trace::{trace, root, unroot}` of the
        // children, called from the same method of this node, so the caller's contract (the
        // collector's phase) carries over; each child handle is visited exactly once.
        unsafe { mark(&this.children) }
    });
}

impl<D: Data> Tree<D> for Gc<RgNode<D>> {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: D) -> Self {
        Gc::new(RgNode { children, data })
    }
    fn data(&self) -> &D {
        &self.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.children.as_ref().map(|(l, r)| (l, r))
    }
}

/// The W2 handle driver's view of this runtime.
#[derive(Debug)]
pub(crate) struct RustGc;

impl HandleRuntime for RustGc {
    const NAME: &'static str = "rust-gc";
    type Tree = Gc<RgNode<Payload>>;

    fn est_node_bytes() -> usize {
        malloc_chunk(HEADER_BYTES + size_of::<RgNode<Payload>>())
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
