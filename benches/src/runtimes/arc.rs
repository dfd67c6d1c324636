//! `Arc`: no collector at all. A node is freed the moment its last handle drops, on the
//! thread that drops it, so the loop gaps show the cost of freeing in place (a replaced
//! live tree frees 31 nodes inside one iteration) and nothing else.
//!
//! Size estimate: `ArcInner` = two counters (16 bytes) + the node (children and data; the
//! `Option` of the pair uses the null niche), rounded to glibc's 16-byte chunk with its
//! 8-byte header: 64 bytes in W2.

use std::sync::Arc;

use super::handles::{self, HandleRuntime};
use super::{Runtime, W1, W2};
use crate::binary_trees::binary_trees;
use crate::tree::{malloc_chunk, Children, Data, Payload, Tree};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: ArcRuntime::NAME,
    w1: Some(W1 {
        run: binary_trees::<ArcTree<()>>,
        in_all: true,
    }),
    w2: W2 {
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

/// The W2 handle driver's view of this runtime.
#[derive(Debug)]
pub(crate) struct ArcRuntime;

impl HandleRuntime for ArcRuntime {
    const NAME: &'static str = "arc";
    type Tree = ArcTree<Payload>;

    fn est_node_bytes() -> usize {
        malloc_chunk(2 * size_of::<usize>() + size_of::<ArcNode<Payload>>())
    }
}
