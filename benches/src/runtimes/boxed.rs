//! `Box`: no collector and no counts, the baseline DESIGN §10's targets are ratios to. A
//! tree owns its children in one `Box` of the pair (the shape of the Benchmarks Game's
//! Rust programs): every tree is freed, in place, when it is dropped.
//!
//! W3: the parent edge is a raw `*const` that owns nothing and is never dereferenced (the
//! check only compares it with the parent's address), so a tree still frees itself in
//! place when dropped: W3 costs `Box` only the bigger node. Because a root moves (into
//! its slot) after its children point at it, W3 boxes every node on its own (a node's
//! address is its `Box`'s, which never moves) instead of W2's one allocation per pair.
//!
//! Size estimate: W2: one allocation holds two child trees (each a `Box` pointer and the
//! data), rounded to glibc's chunk; a node costs half of it. W3: one allocation per node
//! (two child `Box`es, the parent pointer, the data), rounded to glibc's chunk.

use super::handles::{self, HandleRuntime};
use super::{Churn, Runtime, W1};
use crate::binary_trees::binary_trees;
use crate::config::Workload;
use crate::tree::{edge_matches, malloc_chunk, Children, CyclicTree, Data, Payload, Tree};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: BoxRuntime::NAME,
    w1: Some(W1 {
        run: binary_trees::<BoxTree<()>>,
        in_all: true,
    }),
    churn: Churn {
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

/// A W3 tree: one boxed node.
pub(crate) struct BoxTreeW3(Box<BoxNodeW3>);

/// A W3 node: its children, the address of its parent (null at the root; owns nothing,
/// never dereferenced) and its data.
pub(crate) struct BoxNodeW3 {
    children: Children<BoxTreeW3>,
    parent: *const BoxNodeW3,
    data: Payload,
}

impl Tree<Payload> for BoxTreeW3 {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: Payload) -> Self {
        let mut node = Box::new(BoxNodeW3 {
            children,
            parent: std::ptr::null(),
            data,
        });
        let at: *const BoxNodeW3 = &*node;
        if let Some((l, r)) = &mut node.children {
            l.0.parent = at;
            r.0.parent = at;
        }
        BoxTreeW3(node)
    }
    fn data(&self) -> &Payload {
        &self.0.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.0.children.as_ref().map(|(l, r)| (l, r))
    }
}

impl CyclicTree<Payload> for BoxTreeW3 {
    fn parent_is(&self, parent: Option<&Self>) -> bool {
        let edge = (!self.0.parent.is_null()).then_some(self.0.parent);
        edge_matches(edge, parent, |e, p| std::ptr::eq(e, &*p.0))
    }
}

/// The handle driver's view of this runtime.
#[derive(Debug)]
pub(crate) struct BoxRuntime;

impl HandleRuntime for BoxRuntime {
    const NAME: &'static str = "box";
    type Tree = BoxTree<Payload>;
    type CyclicTree = BoxTreeW3;

    fn est_node_bytes(workload: Workload) -> usize {
        match workload {
            Workload::W2 => malloc_chunk(2 * size_of::<BoxTree<Payload>>()) / 2,
            Workload::W3 => malloc_chunk(size_of::<BoxNodeW3>()),
        }
    }
}
