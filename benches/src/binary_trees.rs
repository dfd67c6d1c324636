//! Binary-trees (the Benchmarks Game shape, DESIGN.md §10 workload W1) on every pointer
//! type compared: tricolor's `Gc`, `Box` and `Arc` (no collector), `gc` (rust-gc),
//! `dumpster` (sync) and `gc-arena`.
//!
//! Shared by the criterion bench (`benches/binary_trees.rs`, depth 16) and the one-shot
//! wall-clock runner (`src/bin/binary_trees.rs`, depth 21 by default), so both measure the
//! same program.
//!
//! # The program
//! [`binary_trees`]`(max_depth)` is the whole benchmark program: build and check a
//! "stretch" tree of depth `max_depth + 1`, build a long-lived tree of depth `max_depth`,
//! then for depth d = 4, 6, .., `max_depth` build and check 2^(`max_depth` - d + 4) trees of
//! depth d, then check the long-lived tree. Nodes hold only their two children; `check`
//! counts nodes, so the result is known in closed form ([`expected`]).
//!
//! # Adding a runtime
//! Implement [`Tree`] for a wrapper of its pointer type (or, like gc-arena, write the
//! program by hand) and add one line to [`RUNTIMES`]; both the bench and the runner pick it
//! up.

use std::sync::Arc;

/// The smallest depth of the short-lived trees (the Benchmarks Game's `min_depth`).
pub const MIN_DEPTH: u32 = 4;

/// A tree of a pointer type: a node owns either no children or two.
pub trait Tree: Sized {
    /// A node with the given children (`None`: a leaf).
    fn node(children: Option<(Self, Self)>) -> Self;
    /// The number of nodes in the tree.
    fn check(&self) -> u64;
}

/// A complete tree of `depth` (a leaf has depth 0), built bottom-up.
pub fn make<T: Tree>(depth: u32) -> T {
    T::node((depth > 0).then(|| (make(depth - 1), make(depth - 1))))
}

/// The whole benchmark program; returns the sum of all checks.
pub fn binary_trees<T: Tree>(max_depth: u32) -> u64 {
    let mut sum = make::<T>(max_depth + 1).check();
    let long_lived = make::<T>(max_depth);
    for d in (MIN_DEPTH..=max_depth).step_by(2) {
        for _ in 0..1u64 << (max_depth - d + MIN_DEPTH) {
            sum += make::<T>(d).check();
        }
    }
    sum + long_lived.check()
}

/// The expected result of `binary_trees(max_depth)`.
pub fn expected(max_depth: u32) -> u64 {
    let nodes = |d: u32| (1u64 << (d + 1)) - 1;
    let loops: u64 = (MIN_DEPTH..=max_depth)
        .step_by(2)
        .map(|d| (1u64 << (max_depth - d + MIN_DEPTH)) * nodes(d))
        .sum();
    nodes(max_depth + 1) + loops + nodes(max_depth)
}

/// One pointer type the program runs on.
#[derive(Debug)]
pub struct Runtime {
    /// The name the bench reports and the runner's `--runtime` accepts.
    pub name: &'static str,
    /// Whether this is a peer collector (slow at depth 21), as opposed to tricolor or one
    /// of the no-collector baselines.
    pub peer: bool,
    /// The whole program at a depth; returns the sum of all checks.
    pub run: fn(u32) -> u64,
}

/// Every runtime, in the order the bench and the runner report them.
pub const RUNTIMES: &[Runtime] = &[
    Runtime {
        name: "tricolor",
        peer: false,
        run: binary_trees::<TcTree>,
    },
    Runtime {
        name: "box",
        peer: false,
        run: binary_trees::<BoxTree>,
    },
    Runtime {
        name: "arc",
        peer: false,
        run: binary_trees::<ArcTree>,
    },
    Runtime {
        name: "rust-gc",
        peer: true,
        run: binary_trees::<rust_gc_tree::RgTree>,
    },
    Runtime {
        name: "dumpster",
        peer: true,
        run: binary_trees::<dumpster_tree::DTree>,
    },
    Runtime {
        name: "gc-arena",
        peer: true,
        run: gc_arena_tree::binary_trees,
    },
];

/// The runtime called `name`, if any.
pub fn by_name(name: &str) -> Option<&'static Runtime> {
    RUNTIMES.iter().find(|r| r.name == name)
}

/// tricolor-gc: a node holds its children in a managed object; `Gc` handles are counted
/// and the garbage trees are found by the collector's cycles.
struct TcTree(gc::Gc<TcNode>);

#[derive(gc::Trace)]
struct TcNode(Option<(gc::Gc<TcNode>, gc::Gc<TcNode>)>);

impl Tree for TcTree {
    fn node(children: Option<(Self, Self)>) -> Self {
        TcTree(gc::Gc::new(TcNode(children.map(|(l, r)| (l.0, r.0)))))
    }
    fn check(&self) -> u64 {
        fn walk(n: &TcNode) -> u64 {
            1 + n.0.as_ref().map_or(0, |(l, r)| walk(l) + walk(r))
        }
        walk(&self.0)
    }
}

/// `Box`: the no-collector, no-count baseline (every tree is freed when dropped).
struct BoxTree(Option<Box<(BoxTree, BoxTree)>>);

impl Tree for BoxTree {
    fn node(children: Option<(Self, Self)>) -> Self {
        BoxTree(children.map(Box::new))
    }
    fn check(&self) -> u64 {
        1 + self.0.as_ref().map_or(0, |c| c.0.check() + c.1.check())
    }
}

/// `Arc`: the atomically counted baseline, the closest no-collector analogue of `Gc`.
struct ArcTree(Arc<Option<(ArcTree, ArcTree)>>);

impl Tree for ArcTree {
    fn node(children: Option<(Self, Self)>) -> Self {
        ArcTree(Arc::new(children))
    }
    fn check(&self) -> u64 {
        1 + self
            .0
            .as_ref()
            .as_ref()
            .map_or(0, |c| c.0.check() + c.1.check())
    }
}

/// rust-gc (renamed `rust_gc` in this package; see `src/runtimes/rust_gc.rs` for why the
/// derive is not used).
mod rust_gc_tree {
    use rust_gc::{custom_trace, Finalize, Gc, Trace};

    pub(crate) struct RgTree(pub(crate) Gc<RgNode>);
    pub(crate) struct RgNode(Option<(Gc<RgNode>, Gc<RgNode>)>);

    impl Finalize for RgNode {}

    // SAFETY: the only `Gc`s a node holds are its two children, visited once each.
    unsafe impl Trace for RgNode {
        custom_trace!(this, {
            // SAFETY: forwards the same `Trace` method to the children (the caller's
            // contract carries over).
            unsafe { mark(&this.0) }
        });
    }

    impl super::Tree for RgTree {
        fn node(children: Option<(Self, Self)>) -> Self {
            RgTree(Gc::new(RgNode(children.map(|(l, r)| (l.0, r.0)))))
        }
        fn check(&self) -> u64 {
            fn walk(n: &RgNode) -> u64 {
                1 + n.0.as_ref().map_or(0, |(l, r)| walk(l) + walk(r))
            }
            walk(&self.0)
        }
    }
}

/// dumpster's thread-safe `Gc` (the `sync` flavour, like tricolor's).
mod dumpster_tree {
    use dumpster::sync::Gc;
    use dumpster::Trace;

    #[derive(Trace)]
    pub(crate) struct DNode(Option<(Gc<DNode>, Gc<DNode>)>);
    pub(crate) struct DTree(pub(crate) Gc<DNode>);

    impl super::Tree for DTree {
        fn node(children: Option<(Self, Self)>) -> Self {
            DTree(Gc::new(DNode(children.map(|(l, r)| (l.0, r.0)))))
        }
        fn check(&self) -> u64 {
            fn walk(n: &DNode) -> u64 {
                1 + n.0.as_ref().map_or(0, |(l, r)| walk(l) + walk(r))
            }
            walk(&self.0)
        }
    }
}

/// gc-arena cannot implement `Tree` (its pointers live only inside `mutate`), so it runs
/// the same program with one `mutate` per tree and pays the allocation debt between calls,
/// as the harness does (`src/runtimes/gc_arena.rs`).
mod gc_arena_tree {
    use gc_arena::{Arena, Collect, Gc, Mutation, Rootable};

    #[derive(Collect)]
    #[collect(no_drop)]
    struct ANode<'gc>(Option<(Gc<'gc, ANode<'gc>>, Gc<'gc, ANode<'gc>>)>);

    const DEBT_GRANULARITY: f64 = 1024.0;

    fn make<'gc>(mc: &Mutation<'gc>, depth: u32) -> Gc<'gc, ANode<'gc>> {
        let children = (depth > 0).then(|| (make(mc, depth - 1), make(mc, depth - 1)));
        Gc::new(mc, ANode(children))
    }

    fn check(n: &ANode<'_>) -> u64 {
        1 + n.0.as_ref().map_or(0, |(l, r)| check(l) + check(r))
    }

    pub(crate) fn binary_trees(max_depth: u32) -> u64 {
        let stretch = Arena::<Rootable![()]>::new(|_| ());
        let mut sum = stretch.mutate(|mc, _| check(&make(mc, max_depth + 1)));
        drop(stretch);
        let mut arena = Arena::<Rootable![Gc<'_, ANode<'_>>]>::new(|mc| make(mc, max_depth));
        for d in (super::MIN_DEPTH..=max_depth).step_by(2) {
            for _ in 0..1u64 << (max_depth - d + super::MIN_DEPTH) {
                sum += arena.mutate(|mc, _| check(&make(mc, d)));
                if arena.metrics().allocation_debt() > DEBT_GRANULARITY {
                    arena.collect_debt();
                }
            }
        }
        sum + arena.mutate(|_, root| check(root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_matches_a_hand_count() {
        // Depth 4: stretch tree of depth 5 (63 nodes), long-lived tree of depth 4 (31),
        // and 2^4 trees of depth 4.
        assert_eq!(expected(4), 63 + 16 * 31 + 31);
    }

    #[test]
    fn every_runtime_computes_the_expected_sum() {
        for rt in RUNTIMES {
            assert_eq!((rt.run)(8), expected(8), "{}", rt.name);
        }
    }

    #[test]
    fn names_are_unique_and_found() {
        for (i, rt) in RUNTIMES.iter().enumerate() {
            assert!(
                RUNTIMES[..i].iter().all(|r| r.name != rt.name),
                "{}",
                rt.name
            );
            assert_eq!(by_name(rt.name).map(|r| r.name), Some(rt.name));
        }
        assert!(by_name("java").is_none());
    }
}
