//! `Arc`: no collector at all. A node is freed the moment its last handle drops, on the
//! thread that drops it, so the loop gaps show the cost of freeing in place (a replaced
//! live tree frees 31 nodes inside one iteration) and nothing else.
//!
//! W3: the parent edge is a `Weak` (in a `OnceLock`, set once when the parent is
//! allocated), the idiomatic Rust way to point back without owning: the tree still frees
//! itself in place when its root's last `Arc` drops, so W3 costs `Arc` only the bigger
//! node and the weak counts, never a collector. This is the baseline a Rust program
//! would write, not a cyclic-garbage workload for `Arc` (strong back-pointers would leak).
//!
//! Size estimate: `ArcInner` = two counters (16 bytes) + the node (children and data; the
//! `Option` of the pair uses the null niche; in W3 also the 16-byte `OnceLock<Weak>`),
//! rounded to glibc's 16-byte chunk with its 8-byte header: 64 bytes in W2, 80 in W3.

use std::sync::{Arc, OnceLock, Weak};

use super::handles::{self, HandleRuntime};
use super::{Churn, Runtime, W1};
use crate::binary_trees::binary_trees;
use crate::config::Workload;
use crate::tree::{edge_matches, malloc_chunk, Children, CyclicTree, Data, Payload, Tree};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: ArcRuntime::NAME,
    w1: Some(W1 {
        run: binary_trees::<ArcTree<()>>,
        in_all: true,
    }),
    churn: Churn {
        multi_thread: true,
        stalls: "none: no collector (Arc frees in place)",
        run: handles::run::<ArcRuntime>,
        available: super::always,
    },
};

/// A tree: a counted node.
pub(crate) struct ArcTree<D>(Arc<ArcNode<D>>);

/// A node: its children and its data.
pub(crate) struct ArcNode<D> {
    children: Children<ArcTree<D>>,
    data: D,
}

impl<D: Data> Tree<D> for ArcTree<D> {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: D) -> Self {
        ArcTree(Arc::new(ArcNode { children, data }))
    }
    fn data(&self) -> &D {
        &self.0.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.0.children.as_ref().map(|(l, r)| (l, r))
    }
}

/// A W3 tree: a counted node whose children point back to it.
pub(crate) struct ArcTreeW3(Arc<ArcNodeW3>);

/// A W3 node: a W2 node plus a weak edge to its parent (unset at the root).
pub(crate) struct ArcNodeW3 {
    children: Children<ArcTreeW3>,
    parent: OnceLock<Weak<ArcNodeW3>>,
    data: Payload,
}

impl Tree<Payload> for ArcTreeW3 {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: Payload) -> Self {
        let node = Arc::new(ArcNodeW3 {
            children,
            parent: OnceLock::new(),
            data,
        });
        if let Some((l, r)) = &node.children {
            for child in [l, r] {
                let fresh = child.0.parent.set(Arc::downgrade(&node));
                fresh.expect("a tree just built has no parent yet");
            }
        }
        ArcTreeW3(node)
    }
    fn data(&self) -> &Payload {
        &self.0.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.0.children.as_ref().map(|(l, r)| (l, r))
    }
}

impl CyclicTree<Payload> for ArcTreeW3 {
    fn parent_is(&self, parent: Option<&Self>) -> bool {
        edge_matches(self.0.parent.get(), parent, |e, p| {
            std::ptr::eq(e.as_ptr(), Arc::as_ptr(&p.0))
        })
    }
}

/// The handle driver's view of this runtime.
#[derive(Debug)]
pub(crate) struct ArcRuntime;

impl HandleRuntime for ArcRuntime {
    const NAME: &'static str = "arc";
    type Tree = ArcTree<Payload>;
    type CyclicTree = ArcTreeW3;

    fn est_node_bytes(workload: Workload) -> usize {
        let node = match workload {
            Workload::W2 => size_of::<ArcNode<Payload>>(),
            Workload::W3 => size_of::<ArcNodeW3>(),
        };
        malloc_chunk(2 * size_of::<usize>() + node)
    }
}
