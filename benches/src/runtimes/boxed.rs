//! `Box`: no collector and no counts, the baseline DESIGN §10's targets are ratios to. A
//! tree owns its children in one `Box` of the pair (the shape of the Benchmarks Game's
//! Rust programs): every tree is freed, in place, when it is dropped.
//!
//! Size estimate: one allocation holds two child trees (each a `Box` pointer and the data),
//! rounded to glibc's chunk; a node costs half of it.

use super::handles::{self, HandleRuntime};
use super::{Runtime, W1, W2};
use crate::binary_trees::binary_trees;
use crate::tree::{malloc_chunk, Children, Data, Payload, Tree};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: BoxRuntime::NAME,
    w1: Some(W1 {
        run: binary_trees::<BoxTree<()>>,
        in_all: true,
    }),
    w2: W2 {
        multi_thread: true,
        stalls: "none: no collector (Box frees in place)",
        run: handles::run::<BoxRuntime>,
        available: super::always,
    },
};

/// A tree: its data and, unless it is a leaf, one allocation holding both children.
pub(crate) struct BoxTree<D> {
    children: Option<Box<(BoxTree<D>, BoxTree<D>)>>,
    data: D,
}

impl<D: Data> Tree<D> for BoxTree<D> {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: D) -> Self {
        BoxTree {
            children: children.map(Box::new),
            data,
        }
    }
    fn data(&self) -> &D {
        &self.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.children.as_deref().map(|(l, r)| (l, r))
    }
}

/// The W2 handle driver's view of this runtime.
#[derive(Debug)]
pub(crate) struct BoxRuntime;

impl HandleRuntime for BoxRuntime {
    const NAME: &'static str = "box";
    type Tree = BoxTree<Payload>;

    fn est_node_bytes() -> usize {
        malloc_chunk(2 * size_of::<BoxTree<Payload>>()) / 2
    }
}
