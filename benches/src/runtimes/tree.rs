//! The W2 object shape, shared by every runtime: small binary trees of nodes, each node
//! two optional child pointers and a 16-byte [`Payload`] that checks itself.
//!
//! # Algorithm
//! 1. [`build`] makes a complete tree of a given depth bottom-up (children first), so a
//!    node is immutable once allocated and no runtime needs a cell or a write barrier to
//!    build it; the allocation order is the same in every runtime.
//! 2. [`check`] walks a tree, recomputes every payload's checksum and counts the nodes.
//!    A mismatch means the runtime handed out freed or overwritten memory: the harness
//!    stops with exit code 1 rather than report figures from a broken heap.
//!
//! Trees are at most 21 levels deep (`--churn-depth` <= 20), so recursion is safe.

use std::fmt;

/// Node payload: a value and a checksum of it (16 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Payload {
    value: u64,
    check: u64,
}

impl Payload {
    #[inline]
    pub(crate) fn new(value: u64) -> Payload {
        Payload {
            value,
            check: mix(value),
        }
    }

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

/// Read access to a node, implemented by each runtime's node type.
pub(crate) trait TreeNode {
    fn payload(&self) -> &Payload;
    fn left(&self) -> Option<&Self>;
    fn right(&self) -> Option<&Self>;
}

/// Node count of a complete tree of `depth` (depth 0 = one leaf).
pub(crate) const fn nodes_in(depth: u32) -> u64 {
    (1u64 << (depth + 1)) - 1
}

/// Builds a complete tree of `depth` with `mk(left, right, payload)`; children first.
pub(crate) fn build<P>(
    depth: u32,
    rng: &mut Rng,
    mk: &mut impl FnMut(Option<P>, Option<P>, Payload) -> P,
) -> P {
    let (l, r) = if depth == 0 {
        (None, None)
    } else {
        (
            Some(build(depth - 1, rng, mk)),
            Some(build(depth - 1, rng, mk)),
        )
    };
    mk(l, r, Payload::new(rng.u64(..)))
}

/// A tree whose walk found a broken payload or the wrong number of nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Corrupt(pub(crate) String);

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Walks `root`, verifying every payload and that it has exactly `expected` nodes.
pub(crate) fn check<N: TreeNode + ?Sized>(root: &N, expected: u64) -> Result<(), Corrupt> {
    fn walk<N: TreeNode + ?Sized>(n: &N, count: &mut u64) -> Result<(), Corrupt> {
        let p = n.payload();
        if !p.is_intact() {
            return Err(Corrupt(format!(
                "node payload corrupted: value {:#x} with checksum {:#x} (expected {:#x})",
                p.value,
                p.check,
                mix(p.value)
            )));
        }
        *count += 1;
        if let Some(l) = n.left() {
            walk(l, count)?;
        }
        if let Some(r) = n.right() {
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
        l: Option<Box<N>>,
        r: Option<Box<N>>,
    }
    impl TreeNode for N {
        fn payload(&self) -> &Payload {
            &self.p
        }
        fn left(&self) -> Option<&N> {
            self.l.as_deref()
        }
        fn right(&self) -> Option<&N> {
            self.r.as_deref()
        }
    }

    fn tree(depth: u32) -> Box<N> {
        build(depth, &mut rng(1, 0), &mut |l, r, p| {
            Box::new(N { p, l, r })
        })
    }

    #[test]
    fn built_trees_check_and_count() {
        for d in 0..6 {
            check(&*tree(d), nodes_in(d)).unwrap();
        }
        assert_eq!(nodes_in(4), 31);
    }

    #[test]
    fn corruption_and_wrong_counts_are_caught() {
        let mut t = tree(3);
        assert!(check(&*t, 14).unwrap_err().0.contains("15 nodes"));
        t.l.as_mut().unwrap().p.value ^= 1;
        assert!(check(&*t, 15).unwrap_err().0.contains("corrupted"));
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
