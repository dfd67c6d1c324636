//! `Gc` against the standard smart pointers, in the same run.
//!
//! Groups and targets (DESIGN.md §10):
//! - `new/<size>`: `Gc::new` vs `Box::new` vs `Arc::new` of a value of 16, 64 and 256 bytes,
//!   the handle dropped at once (Box/Arc free in place; `Gc` garbage is found by the
//!   collector's cycles, running on the other core: this measures allocation plus the
//!   mutator's share of collection). Target: the allocation fast path within 1.2x of malloc.
//! - `clone_drop`: one clone and one drop of a live handle, outside any cycle (automatic
//!   cycles off), `Gc` vs `Arc`. Target: within 1.2x of `Arc`.
//! - `borrow_mut/<where>`: a mutable borrow of a 10,000-element vector and one element
//!   write, `GcCell<Vec<Gc<u64>>>` vs `RefCell<Vec<Arc<u64>>>` vs `Mutex<Vec<Arc<u64>>>`,
//!   outside a cycle and during one (the collector is held in its `Mark` phase by a
//!   benchmark-only hook, so every `GcCell::borrow_mut` runs its deletion barrier over the
//!   10,000 handles).
//! - `collect/quiet_32k`: one `gc::collect()` on a quiet heap of 32,768 nodes, each a
//!   `GcCell` holding a `Vec` of edges, with 32,768 random edges in all (seeded), every
//!   node held by one root `Vec` (issue #11 item 7: the cost of a cycle itself; target:
//!   count + roots + mark under 25 ns per live object). The graph is built once, outside
//!   the measurement, with automatic cycles off, and made quiet by two `collect()`s first.
//!   The group's throughput is in nodes; each measured `collect()` is also timed on its
//!   own, and a last line prints their median (warm-up included) in ns per live object.
//!
//! - `collect/tiny`: one `gc::collect()` on a heap of 16 small objects, before the quiet
//!   graph is built: the fixed cost of a cycle that `collect()` pays whatever the heap
//!   (its two stops, the hand-off to the collector thread and back, an empty sweep), which
//!   an interpreter calling `collect()` often pays on every call.
//!
//! - `collect/garbage_leaves_64k`: one `gc::collect()` that frees cyclic garbage built
//!   before it (outside the measurement): 8,192 nodes in rings of 8, each holding eight
//!   drop-free leaves (`Gc<[u64; 8]>`), so 65,536 of the 73,728 dead objects need no drop
//!   glue and their spans are swept by bitmap alone (issue #11 item 1); the live heap is
//!   the quiet graph above. Throughput in dead objects.
//!
//! Run: `cargo bench -p tricolor-gc-bench --bench gc`

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gc::{Gc, GcCell, Trace};

#[derive(Trace, Clone, Copy)]
struct Bytes<const N: usize>([u64; N]);

fn new_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("new");
    macro_rules! sizes {
        ($($words:literal),*) => {$(
            let bytes = $words * 8;
            group.bench_function(BenchmarkId::new("tricolor", bytes), |b| {
                b.iter(|| drop(black_box(Gc::new(Bytes::<$words>([1; $words])))))
            });
            group.bench_function(BenchmarkId::new("box", bytes), |b| {
                b.iter(|| drop(black_box(Box::new(Bytes::<$words>([1; $words])))))
            });
            group.bench_function(BenchmarkId::new("arc", bytes), |b| {
                b.iter(|| drop(black_box(Arc::new(Bytes::<$words>([1; $words])))))
            });
        )*};
    }
    sizes!(2, 8, 32);
    group.finish();
}

fn clone_drop_group(c: &mut Criterion) {
    let old = gc::set_gc_percent(-1);
    gc::collect();
    let mut group = c.benchmark_group("clone_drop");
    let g = Gc::new(7u64);
    let a = Arc::new(7u64);
    group.bench_function("tricolor", |b| b.iter(|| drop(black_box(g.clone()))));
    group.bench_function("arc", |b| b.iter(|| drop(black_box(a.clone()))));
    group.finish();
    gc::set_gc_percent(old);
}

const ELEMS: usize = 10_000;

fn borrow_mut_group(c: &mut Criterion) {
    let old = gc::set_gc_percent(-1);
    let cell = Gc::new(GcCell::new(
        (0..ELEMS as u64).map(Gc::new).collect::<Vec<_>>(),
    ));
    let refcell = RefCell::new((0..ELEMS as u64).map(Arc::new).collect::<Vec<_>>());
    let mutex = Mutex::new((0..ELEMS as u64).map(Arc::new).collect::<Vec<_>>());
    let one = Gc::new(1u64);
    let one_arc = Arc::new(1u64);
    let mut group = c.benchmark_group("borrow_mut");
    let mut i = 0usize;
    group.bench_function(BenchmarkId::new("tricolor", "outside-cycle"), |b| {
        b.iter(|| {
            i = (i + 1) % ELEMS;
            cell.borrow_mut()[i] = one.clone();
        })
    });
    group.bench_function(BenchmarkId::new("refcell", "outside-cycle"), |b| {
        b.iter(|| {
            i = (i + 1) % ELEMS;
            refcell.borrow_mut()[i] = one_arc.clone();
        })
    });
    group.bench_function(BenchmarkId::new("mutex", "outside-cycle"), |b| {
        b.iter(|| {
            i = (i + 1) % ELEMS;
            mutex.lock().expect("no poison")[i] = one_arc.clone();
        })
    });
    // Hold a cycle in Mark while measuring.
    gc::__private::hold_marking(true);
    let collector = std::thread::spawn(gc::collect);
    while !gc::__private::marking_held() {
        std::thread::sleep(Duration::from_millis(1));
    }
    group.bench_function(BenchmarkId::new("tricolor", "during-cycle"), |b| {
        b.iter(|| {
            i = (i + 1) % ELEMS;
            cell.borrow_mut()[i] = one.clone();
        })
    });
    gc::__private::hold_marking(false);
    collector.join().expect("collect");
    group.finish();
    gc::set_gc_percent(old);
}

/// A node of the quiet graph: its out-edges.
#[derive(Trace)]
struct GraphNode {
    edges: GcCell<Vec<Gc<GraphNode>>>,
}

/// Nodes of `collect/quiet_32k`'s graph.
const QUIET_NODES: usize = 32_768;
/// Random edges of that graph, in all (a node has one on average).
const QUIET_EDGES: usize = 32_768;

/// The quiet graph: `QUIET_NODES` nodes with `QUIET_EDGES` random edges (seeded, so every
/// run measures the same graph), all held by the returned root `Vec`.
fn quiet_graph() -> Vec<Gc<GraphNode>> {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let nodes: Vec<Gc<GraphNode>> = (0..QUIET_NODES)
        .map(|_| {
            Gc::new(GraphNode {
                edges: GcCell::new(Vec::new()),
            })
        })
        .collect();
    for _ in 0..QUIET_EDGES {
        let (from, to) = (rng.usize(..QUIET_NODES), rng.usize(..QUIET_NODES));
        nodes[from].edges.borrow_mut().push(nodes[to].clone());
    }
    nodes
}

fn collect_group(c: &mut Criterion) {
    let old = gc::set_gc_percent(-1);
    collect_tiny(c);
    let root = quiet_graph();
    // Quiet: whatever earlier groups left is collected, the graph's objects are counted.
    gc::collect();
    gc::collect();
    let live = gc::stats().heap_objects;
    let mut each = Vec::new();
    let mut group = c.benchmark_group("collect");
    group.throughput(Throughput::Elements(QUIET_NODES as u64));
    group.bench_function("quiet_32k", |b| timed_collects(b, &mut each));
    group.finish();
    if let Some(median) = median(&mut each) {
        println!(
            "collect/quiet_32k: median of {} collect() calls {:.3} ms = {:.1} ns per live \
             object ({live} objects in the heap)",
            each.len(),
            median.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e9 / live.max(1) as f64,
        );
    }
    garbage_leaves(c);
    drop(black_box(root));
    gc::set_gc_percent(old);
}

/// Times each `gc::collect()` of a measurement on its own too, into `each`.
fn timed_collects(b: &mut criterion::Bencher, each: &mut Vec<Duration>) {
    b.iter_custom(|iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let t = Instant::now();
            gc::collect();
            let one = t.elapsed();
            each.push(one);
            total += one;
        }
        total
    })
}

/// The median of `times` (sorted in place); `None` when a filter left the bench out.
fn median(times: &mut [Duration]) -> Option<Duration> {
    times.sort();
    times.get(times.len() / 2).copied()
}

/// `collect/tiny` (module docs).
fn collect_tiny(c: &mut Criterion) {
    let tiny: Vec<Gc<Bytes<2>>> = (0..16).map(|i| Gc::new(Bytes([i; 2]))).collect();
    gc::collect();
    let mut each = Vec::new();
    let mut group = c.benchmark_group("collect");
    group.bench_function("tiny", |b| timed_collects(b, &mut each));
    group.finish();
    if let Some(median) = median(&mut each) {
        println!(
            "collect/tiny: median of {} collect() calls {:.1} us",
            each.len(),
            median.as_secs_f64() * 1e6
        );
    }
    drop(black_box(tiny));
}

/// A garbage ring's node: eight drop-free leaves and the next node.
#[derive(Trace)]
struct LeafNode {
    leaves: [Gc<[u64; 8]>; 8],
    next: GcCell<Option<Gc<LeafNode>>>,
}

/// Rings of garbage for `collect/garbage_leaves_64k`.
const LEAF_RINGS: usize = 1024;
const LEAF_RING_LEN: usize = 8;

fn leaf_garbage() {
    for ring in 0..LEAF_RINGS {
        let make = |i: usize| {
            Gc::new(LeafNode {
                leaves: core::array::from_fn(|j| Gc::new([(ring * 64 + i * 8 + j) as u64; 8])),
                next: GcCell::new(None),
            })
        };
        let first = make(0);
        let mut last = first.clone();
        for i in 1..LEAF_RING_LEN {
            let n = make(i);
            *last.next.borrow_mut() = Some(n.clone());
            last = n;
        }
        *last.next.borrow_mut() = Some(first);
    }
}

/// `collect/garbage_leaves_64k` (module docs), with the quiet graph live.
fn garbage_leaves(c: &mut Criterion) {
    let mut group = c.benchmark_group("collect");
    group.throughput(Throughput::Elements(
        (LEAF_RINGS * LEAF_RING_LEN * 9) as u64,
    ));
    group.bench_function("garbage_leaves_64k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                leaf_garbage();
                let t = Instant::now();
                gc::collect();
                total += t.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = new_group, clone_drop_group, borrow_mut_group, collect_group
}
criterion_main!(benches);
