//! Allocation fast path and alloc+free pairs: tricolor-gc's span allocator against the
//! system allocator (`std::alloc::System`, glibc malloc here), in the same run.
//!
//! Targets (DESIGN.md §10, issue #2): the fast path within 1.2x of System for blocks of
//! at most 256 bytes; faster than System in alloc+free pairs; two threads reach at least
//! 1.8x the throughput of one.
//!
//! Groups:
//! - `alloc/<size>`: time to allocate a batch of 1000 blocks (the frees happen untimed).
//! - `alloc_free/<size>`: an allocation immediately freed, in a loop.
//! - `threads/<n>`: n threads each allocating batches of 1000 64-byte blocks and freeing
//!   them (after one untimed warm-up batch), timed per thread from a common barrier; the
//!   slowest thread's time counts. Compare throughput per element between n = 1 and 2.
//!
//! Run: `cargo bench -p tricolor-gc-bench --bench alloc`

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tricolor_gc_core::heap;

const BATCH: usize = 1000;
const SIZES: [usize; 5] = [16, 64, 256, 1024, 8192];

trait Allocator: Sync {
    const NAME: &'static str;
    fn alloc(&self, size: usize) -> NonNull<u8>;
    /// # Safety
    /// `p` came from `alloc(size)` on this allocator and is freed once.
    unsafe fn free(&self, p: NonNull<u8>, size: usize);
}

struct Tricolor;
impl Allocator for Tricolor {
    const NAME: &'static str = "tricolor";
    #[inline]
    fn alloc(&self, size: usize) -> NonNull<u8> {
        heap::alloc(size, 8, false).expect("alloc")
    }
    #[inline]
    unsafe fn free(&self, p: NonNull<u8>, _size: usize) {
        // SAFETY: forwarded contract.
        unsafe { heap::free(p) }
    }
}

struct Sys;
impl Allocator for Sys {
    const NAME: &'static str = "system";
    #[inline]
    fn alloc(&self, size: usize) -> NonNull<u8> {
        let layout = Layout::from_size_align(size, 8).expect("layout");
        // SAFETY: non-zero size layout.
        NonNull::new(unsafe { System.alloc(layout) }).expect("system alloc")
    }
    #[inline]
    unsafe fn free(&self, p: NonNull<u8>, size: usize) {
        let layout = Layout::from_size_align(size, 8).expect("layout");
        // SAFETY: forwarded contract; same layout as the allocation.
        unsafe { System.dealloc(p.as_ptr(), layout) }
    }
}

/// Allocates `BATCH` blocks per iteration; only the allocations are timed.
fn alloc_batch<A: Allocator>(a: &A, size: usize, iters: u64) -> Duration {
    let mut blocks = Vec::with_capacity(BATCH);
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        for _ in 0..BATCH {
            blocks.push(black_box(a.alloc(size)));
        }
        total += start.elapsed();
        for p in blocks.drain(..) {
            // SAFETY: allocated just above, freed once.
            unsafe { a.free(p, size) };
        }
    }
    total
}

fn alloc_free_pairs<A: Allocator>(a: &A, size: usize, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        let p = black_box(a.alloc(size));
        // SAFETY: allocated just above, freed once.
        unsafe { a.free(p, size) };
    }
    start.elapsed()
}

fn threaded<A: Allocator>(a: &A, threads: usize, iters: u64) -> Duration {
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut blocks = Vec::with_capacity(BATCH);
                    // Warm-up batch (untimed): the thread's cache fills before timing.
                    for _ in 0..BATCH {
                        blocks.push(black_box(a.alloc(64)));
                    }
                    for p in blocks.drain(..) {
                        // SAFETY: allocated just above, freed once.
                        unsafe { a.free(p, 64) };
                    }
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        for _ in 0..BATCH {
                            blocks.push(black_box(a.alloc(64)));
                        }
                        for p in blocks.drain(..) {
                            // SAFETY: allocated just above, freed once.
                            unsafe { a.free(p, 64) };
                        }
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .max()
            .unwrap_or_default()
    })
}

fn bench_alloc(c: &mut Criterion) {
    let mut group = c.benchmark_group("alloc");
    group.throughput(Throughput::Elements(BATCH as u64));
    for size in SIZES {
        group.bench_with_input(BenchmarkId::new(Tricolor::NAME, size), &size, |b, &s| {
            b.iter_custom(|iters| alloc_batch(&Tricolor, s, iters))
        });
        group.bench_with_input(BenchmarkId::new(Sys::NAME, size), &size, |b, &s| {
            b.iter_custom(|iters| alloc_batch(&Sys, s, iters))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("alloc_free");
    group.throughput(Throughput::Elements(1));
    for size in SIZES {
        group.bench_with_input(BenchmarkId::new(Tricolor::NAME, size), &size, |b, &s| {
            b.iter_custom(|iters| alloc_free_pairs(&Tricolor, s, iters))
        });
        group.bench_with_input(BenchmarkId::new(Sys::NAME, size), &size, |b, &s| {
            b.iter_custom(|iters| alloc_free_pairs(&Sys, s, iters))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("threads");
    for threads in [1usize, 2] {
        // Elements per iteration across all threads: throughput compares 1 vs 2 directly.
        group.throughput(Throughput::Elements((threads * BATCH) as u64));
        group.bench_with_input(
            BenchmarkId::new(Tricolor::NAME, threads),
            &threads,
            |b, &n| b.iter_custom(|iters| threaded(&Tricolor, n, iters)),
        );
        group.bench_with_input(BenchmarkId::new(Sys::NAME, threads), &threads, |b, &n| {
            b.iter_custom(|iters| threaded(&Sys, n, iters))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = bench_alloc
}
criterion_main!(benches);
