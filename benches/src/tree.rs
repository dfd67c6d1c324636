//! The one tree shape every runtime implements, for every workload: a complete binary
//! tree whose node holds either no children or two, and some [`Data`]: nothing (`()`) in
//! W1, the Benchmarks Game shape, and a 16-byte self-checking [`Payload`] in W2 and W3. In
//! W3 every node also holds an edge to its parent ([`CyclicTree`]), so a tree of more
//! than one node is a cycle (parent to child and back).
//!
//! # Algorithm
//! 1. [`make`] builds a complete tree of a given depth bottom-up (children first), so a
//!    W1/W2 node is immutable once allocated and no runtime needs a cell or a write
//!    barrier to build it; the allocation order is the same in every runtime. A W3 node's
//!    `Tree::node` also points its two new children's parent edges (each runtime's own
//!    cell, set once) at the node it just allocated.
//! 2. [`count`] walks a tree and counts its nodes (W1's `check`).
//! 3. [`check`] walks a tree, verifies every node's data and compares the count with the
//!    expected one (W2); [`check_cyclic`] also verifies that every node's parent edge
//!    leads to the node the walk came from, and the root's to none (W3). A mismatch means
//!    the runtime handed out freed or overwritten memory: the harness stops with exit
//!    code 1 rather than report figures from a broken heap.
//!
//! A runtime implements [`Tree`] on its handle type (`Gc<Node<D>>`, a `Box` wrapper, ...).
//! `Tree::Alloc` is what allocation needs: `()` for handles that allocate on their own,
//! gc-arena's `Mutation` for its arena-bound pointers.
//!
//! Trees are at most 26 levels deep (W1 `--depth` <= 25), so recursion is safe.

use std::fmt;

/// What a node carries besides its children.
pub(crate) trait Data: Copy + Send + Sync + fmt::Debug + 'static {
    /// False if the value was overwritten (a broken heap).
    fn is_intact(&self) -> bool;
}

impl Data for () {
    #[inline]
    fn is_intact(&self) -> bool {
        true
    }
}

/// W2's node payload: a value and a checksum of it (16 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, gc::Trace)]
pub(crate) struct Payload {
    value: u64,
    check: u64,
}

impl Payload {
    /// A payload of a random value.
    #[inline]
    pub(crate) fn random(rng: &mut Rng) -> Payload {
        let value = rng.u64(..);
        Payload {
            value,
            check: mix(value),
        }
    }
}

impl Data for Payload {
    #[inline]
    fn is_intact(&self) -> bool {
        self.check == mix(self.value)
    }
}

/// SplitMix64's finaliser: a cheap bijective hash.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The workload's random numbers: fastrand's seeded generator, one per mutator thread.
pub(crate) type Rng = fastrand::Rng;

/// The generator of mutator thread `stream` under `--seed seed`: the same seed gives every
/// run the same trees, replacements and slots; streams are decorrelated by hashing.
pub(crate) fn rng(seed: u64, stream: u64) -> Rng {
    Rng::with_seed(mix(seed ^ mix(stream.wrapping_add(0x9e37_79b9_7f4a_7c15))))
}

/// A node's children: none (a leaf) or two.
pub(crate) type Children<T> = Option<(T, T)>;

/// A tree of one runtime's pointer type, holding `D` in every node.
pub(crate) trait Tree<D: Data>: Sized {
    /// What allocating a node needs (`()` unless the pointers live in an arena).
    type Alloc: ?Sized;
    /// A node with the given children (`None`: a leaf) and data.
    fn node(alloc: &Self::Alloc, children: Children<Self>, data: D) -> Self;
    /// The node's data.
    fn data(&self) -> &D;
    /// The node's children.
    fn children(&self) -> Option<(&Self, &Self)>;
}

/// A W3 tree: every node also holds an edge to its parent (none at the root), set by
/// `Tree::node` when the parent is allocated.
pub(crate) trait CyclicTree<D: Data>: Tree<D> {
    /// Whether this node's parent edge leads to `parent` (`None`: it has no parent edge).
    fn parent_is(&self, parent: Option<&Self>) -> bool;
}

/// [`CyclicTree::parent_is`] from a node's parent edge (`None`: not set) and the expected
/// parent: both absent, or both present and `same` says they are one node.
#[inline]
pub(crate) fn edge_matches<E, P>(
    edge: Option<E>,
    parent: Option<P>,
    same: impl FnOnce(E, P) -> bool,
) -> bool {
    match (edge, parent) {
        (None, None) => true,
        (Some(e), Some(p)) => same(e, p),
        _ => false,
    }
}

/// Node count of a complete tree of `depth` (depth 0 = one leaf).
pub(crate) const fn nodes_in(depth: u32) -> u64 {
    (1u64 << (depth + 1)) - 1
}

/// Builds a complete tree of `depth` (a leaf has depth 0), children first; `data` gives
/// each node's data in allocation order.
pub(crate) fn make<D: Data, T: Tree<D>>(
    alloc: &T::Alloc,
    depth: u32,
    data: &mut impl FnMut() -> D,
) -> T {
    let children =
        (depth > 0).then(|| (make(alloc, depth - 1, data), make(alloc, depth - 1, data)));
    T::node(alloc, children, data())
}

/// The number of nodes in the tree.
pub(crate) fn count<D: Data, T: Tree<D>>(root: &T) -> u64 {
    1 + root.children().map_or(0, |(l, r)| count(l) + count(r))
}

/// A tree whose walk found broken data or the wrong number of nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Corrupt(pub(crate) String);

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Walks `root`, verifying every node's data and that it has exactly `expected` nodes.
pub(crate) fn check<D: Data, T: Tree<D>>(root: &T, expected: u64) -> Result<(), Corrupt> {
    walk_checked(root, expected, &|_, _| true)
}

/// [`check`], and also that every node's parent edge leads to its parent (W3).
pub(crate) fn check_cyclic<D: Data, T: CyclicTree<D>>(
    root: &T,
    expected: u64,
) -> Result<(), Corrupt> {
    walk_checked(root, expected, &|node: &T, parent| node.parent_is(parent))
}

/// The walk behind [`check`] and [`check_cyclic`]: `edge_ok(node, parent)` judges each
/// node's parent edge (`parent` is `None` at the root).
fn walk_checked<D: Data, T: Tree<D>>(
    root: &T,
    expected: u64,
    edge_ok: &impl Fn(&T, Option<&T>) -> bool,
) -> Result<(), Corrupt> {
    fn walk<D: Data, T: Tree<D>>(
        n: &T,
        parent: Option<&T>,
        count: &mut u64,
        edge_ok: &impl Fn(&T, Option<&T>) -> bool,
    ) -> Result<(), Corrupt> {
        let data = n.data();
        if !data.is_intact() {
            return Err(Corrupt(format!("node data corrupted: {data:?}")));
        }
        if !edge_ok(n, parent) {
            return Err(Corrupt(format!(
                "the parent edge of node {} (walk order) does not lead to its parent",
                *count
            )));
        }
        *count += 1;
        if let Some((l, r)) = n.children() {
            walk(l, Some(n), count, edge_ok)?;
            walk(r, Some(n), count, edge_ok)?;
        }
        Ok(())
    }
    let mut count = 0;
    walk(root, None, &mut count, edge_ok)?;
    if count != expected {
        return Err(Corrupt(format!(
            "tree has {count} nodes, expected {expected}"
        )));
    }
    Ok(())
}

/// Bytes glibc malloc uses for a request of `size` (16-byte chunks with an 8-byte header,
/// 32 bytes minimum): the honest per-object cost of the peers that allocate with `Box`.
pub(crate) const fn malloc_chunk(size: usize) -> usize {
    let c = (size + 8 + 15) & !15;
    if c < 32 {
        32
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::{Rc, Weak};

    use super::*;

    struct N {
        p: Payload,
        c: Option<Box<(N, N)>>,
    }
    impl Tree<Payload> for N {
        type Alloc = ();
        fn node(_: &(), c: Option<(N, N)>, p: Payload) -> N {
            N {
                p,
                c: c.map(Box::new),
            }
        }
        fn data(&self) -> &Payload {
            &self.p
        }
        fn children(&self) -> Option<(&N, &N)> {
            self.c.as_deref().map(|(l, r)| (l, r))
        }
    }

    fn tree(depth: u32) -> N {
        let mut r = rng(1, 0);
        make(&(), depth, &mut || Payload::random(&mut r))
    }

    #[test]
    fn built_trees_check_and_count() {
        for d in 0..6 {
            check(&tree(d), nodes_in(d)).unwrap();
            assert_eq!(count(&tree(d)), nodes_in(d));
        }
        assert_eq!(nodes_in(4), 31);
    }

    #[test]
    fn corruption_and_wrong_counts_are_caught() {
        let mut t = tree(3);
        assert!(check(&t, 14).unwrap_err().0.contains("15 nodes"));
        t.c.as_mut().unwrap().0.p.value ^= 1;
        assert!(check(&t, 15).unwrap_err().0.contains("corrupted"));
    }

    /// A W3 tree for the tests: `Rc` children, `Weak` parents (the Rust book's tree).
    struct C(Rc<CNode>);
    struct CNode {
        p: Payload,
        parent: RefCell<Weak<CNode>>,
        c: Option<(C, C)>,
    }
    impl Tree<Payload> for C {
        type Alloc = ();
        fn node(_: &(), c: Option<(C, C)>, p: Payload) -> C {
            let n = Rc::new(CNode {
                p,
                parent: RefCell::new(Weak::new()),
                c,
            });
            if let Some((l, r)) = &n.c {
                *l.0.parent.borrow_mut() = Rc::downgrade(&n);
                *r.0.parent.borrow_mut() = Rc::downgrade(&n);
            }
            C(n)
        }
        fn data(&self) -> &Payload {
            &self.0.p
        }
        fn children(&self) -> Option<(&C, &C)> {
            self.0.c.as_ref().map(|(l, r)| (l, r))
        }
    }
    impl CyclicTree<Payload> for C {
        fn parent_is(&self, parent: Option<&C>) -> bool {
            edge_matches(self.0.parent.borrow().upgrade(), parent, |e, p| {
                Rc::ptr_eq(&e, &p.0)
            })
        }
    }

    #[test]
    fn parent_edges_are_checked() {
        let mut r = rng(1, 0);
        let t: C = make(&(), 3, &mut || Payload::random(&mut r));
        check_cyclic(&t, 15).unwrap();
        let (l, rt) = t.children().unwrap();
        // A grandchild whose parent edge skips its parent.
        *l.children().unwrap().1 .0.parent.borrow_mut() = Rc::downgrade(&t.0);
        let e = check_cyclic(&t, 15).unwrap_err().0;
        assert!(e.contains("parent edge of node 5"), "{e}");
        assert!(check(&t, 15).is_ok(), "W2's check ignores parent edges");
        // The root must have none.
        *l.children().unwrap().1 .0.parent.borrow_mut() = Rc::downgrade(&l.0);
        check_cyclic(&t, 15).unwrap();
        *t.0.parent.borrow_mut() = Rc::downgrade(&rt.0);
        assert!(check_cyclic(&t, 15).unwrap_err().0.contains("node 0"));
    }

    #[test]
    fn malloc_chunks_match_glibc() {
        assert_eq!(malloc_chunk(1), 32);
        assert_eq!(malloc_chunk(24), 32);
        assert_eq!(malloc_chunk(25), 48);
        assert_eq!(malloc_chunk(48), 64);
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |seed, stream| rng(seed, stream).u64(..);
        assert_eq!(draw(7, 3), draw(7, 3));
        assert_ne!(draw(7, 3), draw(7, 4));
        assert_ne!(draw(7, 3), draw(8, 3));
    }
}
