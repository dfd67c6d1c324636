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
//! W3: the parent edge is rust-gc's own `GcCell<Option<Gc<RgNodeW3>>>`, written once
//! through `borrow_mut` after the parent is allocated (the cell unroots the handle it
//! stores, so the edge is a heap edge, not a root).
//!
//! Size estimate: `GcBoxHeader` (root count 8 bytes + `next` fat pointer 16 bytes) + the
//! node, rounded to glibc's chunk.

use rust_gc::{custom_trace, Finalize, Gc, GcCell, Trace};

use super::handles::{self, HandleRuntime};
use super::{Churn, Runtime, W1};
use crate::binary_trees::binary_trees;
use crate::config::Workload;
use crate::sampler::CollectorCounters;
use crate::tree::{edge_matches, malloc_chunk, Children, CyclicTree, Data, Payload, Tree};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: RustGc::NAME,
    w1: Some(W1 {
        run: binary_trees::<Gc<RgNode<()>>>,
        in_all: false,
    }),
    churn: Churn {
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

/// A W3 node: a W2 node plus an edge to its parent (`None` at the root).
pub(crate) struct RgNodeW3 {
    children: Children<Gc<RgNodeW3>>,
    parent: GcCell<Option<Gc<RgNodeW3>>>,
    data: Payload,
}

impl Finalize for RgNodeW3 {}

// SAFETY: `trace`, `root` and `unroot` visit the two child handles and the parent cell,
// the only `Gc`s a node holds; the data is plain (no `Gc` inside).
unsafe impl Trace for RgNodeW3 {
    custom_trace!(this, {
        // SAFETY: as for `RgNode`: the macro's `mark` forwards to the same method of the
        // fields, each visited exactly once, so the caller's contract carries over.
        unsafe {
            mark(&this.children);
            mark(&this.parent);
        }
    });
}

impl Tree<Payload> for Gc<RgNodeW3> {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: Payload) -> Self {
        let node = Gc::new(RgNodeW3 {
            children,
            parent: GcCell::new(None),
            data,
        });
        if let Some((l, r)) = &node.children {
            *l.parent.borrow_mut() = Some(node.clone());
            *r.parent.borrow_mut() = Some(node.clone());
        }
        node
    }
    fn data(&self) -> &Payload {
        &self.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.children.as_ref().map(|(l, r)| (l, r))
    }
}

impl CyclicTree<Payload> for Gc<RgNodeW3> {
    fn parent_is(&self, parent: Option<&Self>) -> bool {
        edge_matches(self.parent.borrow().as_ref(), parent, Gc::ptr_eq)
    }
}

/// The handle driver's view of this runtime.
#[derive(Debug)]
pub(crate) struct RustGc;

impl HandleRuntime for RustGc {
    const NAME: &'static str = "rust-gc";
    type Tree = Gc<RgNode<Payload>>;
    type CyclicTree = Gc<RgNodeW3>;

    fn est_node_bytes(workload: Workload) -> usize {
        let node = match workload {
            Workload::W2 => size_of::<RgNode<Payload>>(),
            Workload::W3 => size_of::<RgNodeW3>(),
        };
        malloc_chunk(HEADER_BYTES + node)
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
