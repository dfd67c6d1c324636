//! `gc::stats()` (DESIGN §2, row `gc::stats()`): `cycles` grows by at least one per
//! `collect()`; `heap_objects` is exact after `collect()` on a quiet heap; `heap_bytes` is
//! positive while objects live; `heap_goal_bytes` is at least 4 MiB; `pauses` is non-empty,
//! holds at most the last 256 stalls, each under a 1 s sanity bound, and `total_pause` is at
//! least their sum; `forced_cycles` grows when the forced period is short and the heap idle;
//! `assist_time` grows when a thread allocates during a cycle, and only then.
//!
//! Every test takes `LOCK`, so each sees a quiet heap (no other test allocates meanwhile).

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use gc::{Gc, GcCell, Trace};

static LOCK: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Trace)]
struct Node {
    payload: [u64; 4],
    next: GcCell<Option<Gc<Node>>>,
}

fn node() -> Gc<Node> {
    Gc::new(Node {
        payload: [7; 4],
        next: GcCell::new(None),
    })
}

#[test]
fn cycles_count_every_collect() {
    let _g = serial();
    for _ in 0..5 {
        let before = gc::stats().cycles;
        gc::collect();
        assert!(gc::stats().cycles > before);
    }
    let before = gc::stats().cycles;
    for _ in 0..10 {
        gc::collect();
    }
    assert!(gc::stats().cycles >= before + 10);
}

#[test]
fn heap_objects_and_bytes_follow_the_live_set() {
    let _g = serial();
    gc::collect();
    let base = gc::stats();
    let live: Vec<Gc<Node>> = (0..1000).map(|_| node()).collect();
    // A garbage ring of 500 and 500 acyclic garbage objects.
    let first = node();
    let mut last = first.clone();
    for _ in 1..500 {
        let n = node();
        *last.next.borrow_mut() = Some(n.clone());
        last = n;
    }
    *last.next.borrow_mut() = Some(first);
    drop(last);
    for _ in 0..500 {
        drop(node());
    }
    let full = gc::stats();
    // The 500 acyclic garbage objects may already be going: objects whose count reached
    // zero are freed between cycles without one (prompt reclamation), 256 at a time.
    assert!(
        full.heap_objects <= base.heap_objects + 2000
            && full.heap_objects >= base.heap_objects + 1500,
        "allocated, and at most the acyclic garbage freed: {} over a base of {}",
        full.heap_objects,
        base.heap_objects
    );
    assert!(full.heap_bytes > 0 && full.heap_bytes >= 1000 * std::mem::size_of::<Node>());
    gc::collect();
    let after = gc::stats();
    assert_eq!(
        after.heap_objects,
        base.heap_objects + 1000,
        "exactly the survivors"
    );
    assert!(after.heap_bytes > 0, "live objects occupy the heap");
    assert!(
        after.heap_goal_bytes >= 4 << 20,
        "goal {}",
        after.heap_goal_bytes
    );
    assert!(live.iter().all(|n| n.payload == [7; 4]));
    drop(live);
    gc::collect();
    assert_eq!(gc::stats().heap_objects, base.heap_objects);
}

#[test]
fn pause_history_is_bounded_and_summed() {
    let _g = serial();
    gc::collect();
    let s = gc::stats();
    assert!(!s.pauses.is_empty(), "a cycle records its stalls");
    assert!(s.pauses.len() <= 256);
    // Enough cycles to record more than 256 stalls (at least two per cycle).
    let start_total = s.total_pause;
    for _ in 0..140 {
        gc::collect();
    }
    let s = gc::stats();
    assert_eq!(s.pauses.len(), 256, "the last 256 stalls are kept");
    for p in &s.pauses {
        assert!(*p < Duration::from_secs(1), "implausible stall {p:?}");
    }
    let retained: Duration = s.pauses.iter().sum();
    assert!(
        s.total_pause >= retained,
        "{:?} < {retained:?}",
        s.total_pause
    );
    assert!(s.total_pause > start_total, "total grows");
}

/// `assist_time` is real: a thread that allocates while a cycle runs (here held in `Mark`
/// after its roots pass, so that the allocation outruns it) is charged for it and spends
/// time in assists; between cycles nobody assists.
#[test]
fn allocating_during_a_cycle_assists_it() {
    let _g = serial();
    gc::collect();
    let quiet = gc::stats();
    std::thread::spawn(|| {
        let idle: Vec<_> = (0..20_000).map(|_| node()).collect();
        drop(idle);
    })
    .join()
    .expect("the idle allocating thread");
    let idle_after = gc::stats();
    // (Unless a cycle happened to start meanwhile: then assisting it was right.)
    if idle_after.cycles == quiet.cycles {
        assert_eq!(
            idle_after.assist_time, quiet.assist_time,
            "allocation between cycles assisted"
        );
    }
    let before = gc::stats();
    // On a thread of its own, joined before the test ends, so that its exit (which hands
    // over its counters and count-zero buffer) cannot overlap the next test's baseline.
    let assisted = common::while_marking(|| {
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut junk = Vec::new();
            while gc::stats().assist_time == before.assist_time && Instant::now() < deadline {
                for _ in 0..1024 {
                    junk.push(node());
                }
            }
            junk.len()
        })
        .join()
        .expect("the allocating thread")
    });
    let after = gc::stats();
    assert!(
        after.assist_time > before.assist_time,
        "{assisted} objects allocated during a held mark, and no assist time"
    );
    // Leave a quiet heap for the next test (the junk's count-zero frees may be in flight).
    gc::collect();
    gc::collect();
}

#[test]
fn forced_cycles_run_on_an_idle_heap() {
    let _g = serial();
    let before = gc::stats().forced_cycles;
    let cycles_before = gc::stats().cycles;
    let old_period = gc::set_force_period(Duration::from_millis(200));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut forced = before;
    while Instant::now() < deadline {
        forced = gc::stats().forced_cycles;
        if forced >= before + 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    gc::set_force_period(old_period);
    assert!(
        forced >= before + 2,
        "no forced cycle within 10 s: {before} -> {forced}"
    );
    assert!(
        gc::stats().cycles >= cycles_before + 2,
        "forced cycles are cycles"
    );
}

/// The slot bytes of `g`'s object (its size class's size, or its large span's).
fn slot_bytes<T>(g: &Gc<T>) -> u64 {
    tricolor_gc_core::heap::lookup(Gc::as_ptr(g) as usize)
        .expect("a live object is allocated")
        .slot_bytes() as u64
}

#[test]
fn reclaimed_bytes_grow_by_the_slots_of_the_reclaimed_objects() {
    let _g = serial();
    // No automatic or periodic cycle: a cycle would take the queued objects from the drain.
    let old = gc::set_gc_percent(-1);
    gc::collect();
    let before = gc::stats();
    // Objects of three size classes and one large object, dropped on a thread that exits
    // (which publishes its zero buffer).
    let (count, expect) = std::thread::spawn(|| {
        let small: Vec<Gc<u64>> = (0..300).map(Gc::new).collect();
        let mid: Vec<Gc<[u8; 700]>> = (0..200).map(|_| Gc::new([1; 700])).collect();
        let nodes: Vec<Gc<Node>> = (0..100).map(|_| node()).collect();
        let large = Gc::new([3u8; 100_000]);
        let bytes = small.iter().map(slot_bytes).sum::<u64>()
            + mid.iter().map(slot_bytes).sum::<u64>()
            + nodes.iter().map(slot_bytes).sum::<u64>()
            + slot_bytes(&large);
        assert!(slot_bytes(&large) >= 100_000 && slot_bytes(&small[0]) >= 8);
        (small.len() + mid.len() + nodes.len() + 1, bytes)
    })
    .join()
    .expect("the allocating thread");
    let deadline = Instant::now() + Duration::from_secs(60);
    while gc::stats().reclaimed_objects < before.reclaimed_objects + count as u64 {
        assert!(Instant::now() < deadline, "the objects were not reclaimed");
        std::thread::sleep(Duration::from_millis(2));
    }
    let after = gc::stats();
    gc::set_gc_percent(old);
    assert_eq!(after.cycles, before.cycles, "a cycle ran");
    assert_eq!(
        after.reclaimed_objects - before.reclaimed_objects,
        count as u64
    );
    assert_eq!(after.reclaimed_bytes - before.reclaimed_bytes, expect);
    assert_eq!(after.heap_objects, before.heap_objects);
}

/// `mark_cpu` grows with each cycle that marks something; `last_trigger_bytes` lies
/// between the live heap and the goal while automatic cycles are on, and is `usize::MAX`
/// while they are off.
#[test]
fn mark_cpu_and_the_trigger_are_reported() {
    let _g = serial();
    let live: Vec<Gc<Node>> = (0..20_000).map(|_| node()).collect();
    let before = gc::stats().mark_cpu;
    gc::collect();
    let s = gc::stats();
    assert!(
        s.mark_cpu > before,
        "mark_cpu did not grow: {:?} -> {:?}",
        before,
        s.mark_cpu
    );
    assert!(
        s.last_trigger_bytes <= s.heap_goal_bytes,
        "trigger {} above the goal {}",
        s.last_trigger_bytes,
        s.heap_goal_bytes
    );
    assert!(s.last_trigger_bytes > 0);
    let old = gc::set_gc_percent(-1);
    assert_eq!(gc::stats().last_trigger_bytes, usize::MAX);
    gc::set_gc_percent(old);
    assert!(gc::stats().last_trigger_bytes < usize::MAX);
    drop(live);
}
