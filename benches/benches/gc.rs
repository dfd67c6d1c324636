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
//!
//! Run: `cargo bench -p tricolor-gc-bench --bench gc`

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
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

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = new_group, clone_drop_group, borrow_mut_group
}
criterion_main!(benches);
