//! Binary-trees (the Benchmarks Game shape, DESIGN.md §10 workload W1) at depth 16 on every
//! pointer type in the same run: tricolor's `Gc`, `Box` and `Arc` (no collector), `gc`
//! (rust-gc), `dumpster` (sync) and `gc-arena`.
//!
//! Target (DESIGN.md §10): tricolor's `Gc` under 6 s at depth 21, faster than `Box`; compare
//! ratios measured in one run only. Depth 16 keeps one iteration under a second for the
//! fast runtimes (W1 at depth 21 is 32 times the work).
//!
//! One iteration = the whole program: build and check a "stretch" tree of depth 17, build a
//! long-lived tree of depth 16, then for depth d = 4, 6, .., 16 build and check
//! 2^(16 - d + 4) trees of depth d, then check the long-lived tree. Nodes hold only their
//! two children; `check` counts nodes.
//!
//! Run: `cargo bench -p tricolor-gc-bench --bench binary_trees`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

const MAX_DEPTH: u32 = 16;
const MIN_DEPTH: u32 = 4;

/// A tree of a pointer type: a node owns either no children or two.
trait Tree: Sized {
    fn node(children: Option<(Self, Self)>) -> Self;
    fn check(&self) -> u64;
}

fn make<T: Tree>(depth: u32) -> T {
    T::node((depth > 0).then(|| (make(depth - 1), make(depth - 1))))
}

/// The whole benchmark program; returns the sum of all checks.
fn binary_trees<T: Tree>(max_depth: u32) -> u64 {
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
fn expected(max_depth: u32) -> u64 {
    let nodes = |d: u32| (1u64 << (d + 1)) - 1;
    let loops: u64 = (MIN_DEPTH..=max_depth)
        .step_by(2)
        .map(|d| (1u64 << (max_depth - d + MIN_DEPTH)) * nodes(d))
        .sum();
    nodes(max_depth + 1) + loops + nodes(max_depth)
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

struct BoxTree(Option<Box<(BoxTree, BoxTree)>>);

impl Tree for BoxTree {
    fn node(children: Option<(Self, Self)>) -> Self {
        BoxTree(children.map(Box::new))
    }
    fn check(&self) -> u64 {
        1 + self.0.as_ref().map_or(0, |c| c.0.check() + c.1.check())
    }
}

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

fn bench(c: &mut Criterion) {
    let want = expected(MAX_DEPTH);
    let mut group = c.benchmark_group(format!("binary_trees/depth{MAX_DEPTH}"));
    let mut run = |name: &str, f: fn(u32) -> u64| {
        assert_eq!(f(MAX_DEPTH.min(8)), expected(MAX_DEPTH.min(8)), "{name}");
        group.bench_function(name, |b| {
            b.iter(|| assert_eq!(f(black_box(MAX_DEPTH)), want))
        });
    };
    run("tricolor", binary_trees::<TcTree>);
    run("box", binary_trees::<BoxTree>);
    run("arc", binary_trees::<ArcTree>);
    run("rust-gc", binary_trees::<rust_gc_tree::RgTree>);
    run("dumpster", binary_trees::<dumpster_tree::DTree>);
    run("gc-arena", gc_arena_tree::binary_trees);
    group.finish();
}

criterion_group! {
    name = benches;
    // One iteration is the whole program (0.1 s to a few s): ten samples, no long warm-up.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
