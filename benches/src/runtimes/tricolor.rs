//! tricolor-gc: this crate's collector. A tree is a `Gc<TcNode<D>>` (W1, W2) or a
//! `Gc<TcNodeW3>` (W3: the parent edge is a `GcCell<Option<Gc<TcNodeW3>>>`, written once
//! through `borrow_mut` after the parent is allocated); roots are plain Rust values (each
//! mutator's `Vec` of handles), found by the collector by subtraction, so the generic
//! handle driver and the generic W1 program run it unchanged.
//!
//! In W2 a dropped tree's counts reach zero and count-zero reclamation frees it without
//! tracing; in W3 every dropped tree is a cycle (parent to child and back), so only the
//! collector's cycles free it. The report shows both: `freed_by_counts` is
//! `stats().reclaimed_objects`, and the rest of what left the heap (`heap_objects`) was
//! freed by cycles.
//!
//! Stalls are measured by the library itself: `gc::stats().pauses` (the last 256
//! stop-the-world stalls) and `pause_count`, polled by the sampler every ~5 ms; the mutator's
//! own loop gaps are measured by the driver as for every runtime.
//!
//! Size estimate: the object is the 16-byte header plus the node, rounded up to the size
//! class the allocator picks for it (no per-allocation header beyond that).

use std::time::Duration;

use gc::{Gc, GcCell, Trace};
use tricolor_gc_core::heap::SizeClass;

use super::handles::{self, HandleRuntime};
use super::{Churn, Runtime, W1};
use crate::binary_trees::binary_trees;
use crate::config::Workload;
use crate::sampler::{CollectorCounters, Poll, StallSource};
use crate::tree::{edge_matches, Children, CyclicTree, Data, Payload, Tree};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: Tricolor::NAME,
    w1: Some(W1 {
        run: binary_trees::<Gc<TcNode<()>>>,
        in_all: true,
    }),
    churn: Churn {
        multi_thread: true,
        stalls:
            "measured: gc::stats().pauses (the stops that start a cycle and terminate its marking)",
        run: handles::run::<Tricolor>,
        available: super::always,
    },
};

/// A node: its children and its data (not traced: it holds no handles).
#[derive(Trace)]
pub(crate) struct TcNode<D: Data> {
    children: Children<Gc<TcNode<D>>>,
    #[gc(skip)]
    data: D,
}

impl<D: Data + Trace> Tree<D> for Gc<TcNode<D>> {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: D) -> Self {
        Gc::new(TcNode { children, data })
    }
    fn data(&self) -> &D {
        &self.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.children.as_ref().map(|(l, r)| (l, r))
    }
}

/// A W3 node: a W2 node plus an edge to its parent (`None` at the root).
#[derive(Trace)]
pub(crate) struct TcNodeW3 {
    children: Children<Gc<TcNodeW3>>,
    parent: GcCell<Option<Gc<TcNodeW3>>>,
    #[gc(skip)]
    data: Payload,
}

impl Tree<Payload> for Gc<TcNodeW3> {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: Payload) -> Self {
        let node = Gc::new(TcNodeW3 {
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

impl CyclicTree<Payload> for Gc<TcNodeW3> {
    fn parent_is(&self, parent: Option<&Self>) -> bool {
        edge_matches(self.parent.borrow().as_ref(), parent, Gc::ptr_eq)
    }
}

/// The handle driver's view of this runtime.
#[derive(Debug)]
pub(crate) struct Tricolor;

/// Header bytes of a managed object (type pointer + handle count + internal count).
const HEADER_BYTES: usize = 16;

impl HandleRuntime for Tricolor {
    const NAME: &'static str = "tricolor";
    type Tree = Gc<TcNode<Payload>>;
    type CyclicTree = Gc<TcNodeW3>;

    fn est_node_bytes(workload: Workload) -> usize {
        let (size, align) = match workload {
            Workload::W2 => (size_of::<TcNode<Payload>>(), align_of::<TcNode<Payload>>()),
            Workload::W3 => (size_of::<TcNodeW3>(), align_of::<TcNodeW3>()),
        };
        let bytes = HEADER_BYTES + size;
        SizeClass::for_request(bytes, align.max(8)).map_or(bytes, |class| class.object_bytes())
    }

    fn stall_source() -> Option<Box<dyn StallSource>> {
        Some(Box::new(Source {
            seen: gc::stats().pause_count,
        }))
    }

    fn run_counters() -> CollectorCounters {
        counters(&gc::stats())
    }
}

fn counters(stats: &gc::Stats) -> CollectorCounters {
    CollectorCounters {
        cycles: Some(stats.cycles),
        heap_goal_bytes: Some(stats.heap_goal_bytes as u64),
        heap_bytes: Some(stats.heap_bytes as u64),
        assist_time: Some(stats.assist_time),
        mark_time: Some(stats.mark_time),
        sweep_time: Some(stats.sweep_time),
        heap_objects: Some(stats.heap_objects as u64),
        freed_by_counts: Some(stats.reclaimed_objects),
    }
}

/// Finds the stalls recorded since the previous poll by the library's running count.
struct Source {
    seen: u64,
}

impl StallSource for Source {
    fn poll(&mut self) -> Poll {
        let stats = gc::stats();
        let new = (stats.pause_count - self.seen).min(stats.pauses.len() as u64) as usize;
        self.seen = stats.pause_count;
        let new_pauses: Vec<Duration> = stats.pauses[stats.pauses.len() - new..].to_vec();
        Poll {
            counters: counters(&stats),
            new_pauses,
        }
    }
}
