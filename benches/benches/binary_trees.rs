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
//! two children; `check` counts nodes. The program and the runtimes live in the library
//! (`src/binary_trees.rs`), shared with the depth-21 wall-clock runner
//! (`cargo run --release -p tricolor-gc-bench --bin binary-trees`).
//!
//! Run: `cargo bench -p tricolor-gc-bench --bench binary_trees`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tricolor_gc_bench::binary_trees::{expected, programs};

const MAX_DEPTH: u32 = 16;

fn bench(c: &mut Criterion) {
    let want = expected(MAX_DEPTH);
    let mut group = c.benchmark_group(format!("binary_trees/depth{MAX_DEPTH}"));
    let mut run = |name: &str, f: fn(u32) -> u64| {
        assert_eq!(f(MAX_DEPTH.min(8)), expected(MAX_DEPTH.min(8)), "{name}");
        group.bench_function(name, |b| {
            b.iter(|| assert_eq!(f(black_box(MAX_DEPTH)), want))
        });
    };
    for (name, program) in programs() {
        run(name, program);
    }
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
