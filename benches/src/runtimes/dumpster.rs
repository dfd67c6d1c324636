//! `dumpster` 2.1, `sync` flavour (a tree is a `Gc<DNode<D>>`): reference counting plus a cycle collector. A handle is
//! `Send + Sync`; no roots are tracked (dropped handles whose count stays above zero become
//! candidates), so the thread's `Vec` of slots is simply where the live trees are held.
//! A collection runs inline, on the thread whose `Gc` drop makes the collect condition
//! true (default: more drops since the last collection than live `Gc`s).
//!
//! Stalls: dumpster keeps no pause history. The harness installs a collect condition that
//! is the default one plus a per-thread count of the collections it started, and the
//! driver records the loop gap of each iteration in which this thread started one as a
//! `Pause` (an upper bound by the iteration's own few microseconds).
//!
//! W3: dumpster has no cell type of its own (its docs put a `Gc` in a std `Mutex` or
//! `RefCell`, which it traces); the parent edge is a std `OnceLock<Gc<DNodeW3>>`, set once
//! when the parent is allocated and read without locking, the cheapest such cell that
//! keeps the node `Sync` as `sync::Gc` requires. A dropped tree's root keeps a count of
//! two (its children's parent edges), so only dumpster's cycle collection frees it. The
//! default collect condition (more `Gc` drops since the last collection than `Gc`s in
//! existence) then practically never holds: dropping a 31-node cyclic tree drops one
//! handle (the root's) and leaves 31 in existence, so in W3 dumpster collects seldom or
//! never within a run and its heap grows with what the churn allocates. The harness keeps
//! the default condition, which is what a user of the crate gets.
//!
//! Size estimate: `GcBox` header (strong, weak, generation: 24 bytes) + the node (a sync
//! `Gc` is 16 bytes: pointer + tag), rounded to glibc's chunk.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use dumpster::sync::{default_collect_condition, set_collect_condition, CollectInfo, Gc};
use dumpster::{TraceWith, Visitor};

use super::handles::{self, HandleRuntime};
use super::{Churn, Runtime, W1};
use crate::binary_trees::binary_trees;
use crate::config::Workload;
use crate::sampler::CollectorCounters;
use crate::tree::{edge_matches, malloc_chunk, Children, CyclicTree, Data, Payload, Tree};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: Dumpster::NAME,
    w1: Some(W1 {
        run: binary_trees::<Gc<DNode<()>>>,
        in_all: false,
    }),
    churn: Churn {
        multi_thread: true,
        stalls: "inferred: loop gaps of iterations in which this thread started a dumpster \
                 collection (collections run inline in Gc drops; no pause history)",
        run: handles::run::<Dumpster>,
        available: super::always,
    },
};

/// dumpster's `sync::GcBox` header: `strong`, `weak`, `generation`.
const HEADER_BYTES: usize = 3 * size_of::<usize>();

thread_local! {
    static STARTED_HERE: Cell<u64> = const { Cell::new(0) };
}
static STARTED: AtomicU64 = AtomicU64::new(0);

fn counting_condition(info: &CollectInfo) -> bool {
    let go = default_collect_condition(info);
    if go {
        STARTED_HERE.with(|c| c.set(c.get() + 1));
        // Relaxed: a statistic read after the mutators are joined.
        STARTED.fetch_add(1, Ordering::Relaxed);
    }
    go
}

/// A node: its children and its data (plain data, never visited).
pub(crate) struct DNode<D: Data> {
    children: Children<Gc<DNode<D>>>,
    data: D,
}

// SAFETY: the children are the only `Gc`s a node holds, visited once each in a fixed
// order; the data is plain (`Data: Copy + 'static`, no `Gc` inside).
unsafe impl<V: Visitor, D: Data> TraceWith<V> for DNode<D> {
    #[inline]
    fn accept(&self, visitor: &mut V) -> Result<(), ()> {
        self.children.accept(visitor)
    }
}

impl<D: Data> Tree<D> for Gc<DNode<D>> {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: D) -> Self {
        Gc::new(DNode { children, data })
    }
    fn data(&self) -> &D {
        &self.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.children.as_ref().map(|(l, r)| (l, r))
    }
}

/// A W3 node: a W2 node plus an edge to its parent (unset at the root).
pub(crate) struct DNodeW3 {
    children: Children<Gc<DNodeW3>>,
    parent: OnceLock<Gc<DNodeW3>>,
    data: Payload,
}

// SAFETY: the children and the parent edge are the only `Gc`s a node holds, visited once
// each in a fixed order; the data is plain (no `Gc` inside).
unsafe impl<V: Visitor> TraceWith<V> for DNodeW3 {
    #[inline]
    fn accept(&self, visitor: &mut V) -> Result<(), ()> {
        self.children.accept(visitor)?;
        self.parent.accept(visitor)
    }
}

impl Tree<Payload> for Gc<DNodeW3> {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: Payload) -> Self {
        let node = Gc::new(DNodeW3 {
            children,
            parent: OnceLock::new(),
            data,
        });
        if let Some((l, r)) = &node.children {
            for child in [l, r] {
                let fresh = child.parent.set(node.clone());
                assert!(fresh.is_ok(), "a tree just built has no parent yet");
            }
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

impl CyclicTree<Payload> for Gc<DNodeW3> {
    fn parent_is(&self, parent: Option<&Self>) -> bool {
        edge_matches(self.parent.get(), parent, Gc::ptr_eq)
    }
}

/// The handle driver's view of this runtime.
#[derive(Debug)]
pub(crate) struct Dumpster;

impl HandleRuntime for Dumpster {
    const NAME: &'static str = "dumpster";
    type Tree = Gc<DNode<Payload>>;
    type CyclicTree = Gc<DNodeW3>;

    fn est_node_bytes(workload: Workload) -> usize {
        let node = match workload {
            Workload::W2 => size_of::<DNode<Payload>>(),
            Workload::W3 => size_of::<DNodeW3>(),
        };
        malloc_chunk(HEADER_BYTES + node)
    }

    fn setup() {
        set_collect_condition(counting_condition);
    }

    fn thread_collections() -> Option<u64> {
        Some(STARTED_HERE.with(Cell::get))
    }

    fn run_counters() -> CollectorCounters {
        CollectorCounters {
            // Relaxed: all mutators have been joined.
            cycles: Some(STARTED.load(Ordering::Relaxed)),
            ..CollectorCounters::default()
        }
    }
}
