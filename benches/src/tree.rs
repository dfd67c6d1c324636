//! The one tree shape every runtime implements, for both workloads: a complete binary
//! tree whose node holds either no children or two, and some [`Data`]: nothing (`()`) in
//! W1, the Benchmarks Game shape, and a 16-byte self-checking [`Payload`] in W2.
//!
//! # Algorithm
//! 1. [`make`] builds a complete tree of a given depth bottom-up (children first), so a
//!    node is immutable once allocated and no runtime needs a cell or a write barrier to
//!    build it; the allocation order is the same in every runtime.
//! 2. [`count`] walks a tree and counts its nodes (W1's `check`).
//! 3. [`check`] walks a tree, verifies every node's data and compares the count with the
//!    expected one (W2). A mismatch means the runtime handed out freed or overwritten
//!    memory: the harness stops with exit code 1 rather than report figures from a broken
//!    heap.
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
    fn walk<D: Data, T: Tree<D>>(n: &T, count: &mut u64) -> Result<(), Corrupt> {
        let data = n.data();
        if !data.is_intact() {
            return Err(Corrupt(format!("node data corrupted: {data:?}")));
        }
        *count += 1;
        if let Some((l, r)) = n.children() {
            walk(l, count)?;
            walk(r, count)?;
        }
        Ok(())
    }
    let mut count = 0;
    walk(root, &mut count)?;
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
