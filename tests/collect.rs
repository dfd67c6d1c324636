//! `gc::collect()` (DESIGN §2, row `gc::collect()`): frees unreachable cycles (rings,
//! self-loops, rings linked one way) while live ones keep intact data; concurrent callers
//! from 4 threads share cycles without deadlock; `collect()` from a destructor the
//! collector runs panics with a clear message and later cycles work; a panicking `Drop`
//! during sweeping and a panicking `Trace` impl during a cycle leave the heap consistent.
//!
//! Tests compare `stats().heap_objects`, so they serialise on `LOCK` and count only
//! objects they made.

mod common;
use common::{counter, drops, quiet_objects, serial, Tick};
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use gc::{Gc, GcCell, Trace, Tracer};

#[derive(Trace)]
struct Node {
    id: u64,
    next: GcCell<Option<Gc<Node>>>,
    extra: GcCell<Option<Gc<Node>>>,
    #[gc(skip)]
    _tick: Tick,
}

fn node(id: u64, c: &'static AtomicUsize) -> Gc<Node> {
    Gc::new(Node {
        id,
        next: GcCell::new(None),
        extra: GcCell::new(None),
        _tick: Tick(c),
    })
}

/// A ring of `n` nodes with ids `first..first + n`; returns the first node.
fn ring(first: u64, n: u64, c: &'static AtomicUsize) -> Gc<Node> {
    let head = node(first, c);
    let mut tail = head.clone();
    for id in first + 1..first + n {
        let next = node(id, c);
        *tail.next.borrow_mut() = Some(next.clone());
        tail = next;
    }
    *tail.next.borrow_mut() = Some(head.clone());
    head
}

/// Walks `n` steps from `start`, checking ids `first..first + n`, and returns to `start`.
fn check_ring(start: &Gc<Node>, first: u64, n: u64) {
    let mut cur = start.clone();
    for k in 0..n {
        assert_eq!(cur.id, first + k, "ring data intact");
        let next = cur.next.borrow().clone().expect("ring is closed");
        cur = next;
    }
    assert!(Gc::ptr_eq(&cur, start), "ring closes after {n} steps");
}

#[test]
fn unreachable_rings_and_self_loops_are_freed() {
    let _g = serial();
    let base = quiet_objects();
    let live_c = counter();
    let dead_c = counter();
    let live = ring(0, 100, live_c);
    drop(ring(1000, 100, dead_c));
    let selfie = node(5000, dead_c);
    *selfie.next.borrow_mut() = Some(selfie.clone());
    drop(selfie);
    assert_eq!(gc::stats().heap_objects, base + 201);
    gc::collect();
    assert_eq!(drops(dead_c), 101, "dead ring and self-loop freed");
    assert_eq!(drops(live_c), 0, "live ring untouched");
    assert_eq!(gc::stats().heap_objects, base + 100);
    check_ring(&live, 0, 100);
    gc::collect();
    assert_eq!(drops(dead_c), 101, "each dropped exactly once");
    drop(live);
    gc::collect();
    assert_eq!(drops(live_c), 100);
    assert_eq!(gc::stats().heap_objects, base);
}

#[test]
fn rings_linked_one_way() {
    let _g = serial();
    let base = quiet_objects();

    // A -> B (a node of ring A holds B's head in `extra`); keep only B: A is garbage.
    let (ca, cb) = (counter(), counter());
    let a = ring(0, 50, ca);
    let b = ring(100, 50, cb);
    let a_mid = a.next.borrow().clone().unwrap();
    *a_mid.extra.borrow_mut() = Some(b.clone());
    drop((a, a_mid));
    gc::collect();
    assert_eq!(drops(ca), 50, "ring A freed");
    assert_eq!(drops(cb), 0, "ring B held from outside");
    check_ring(&b, 100, 50);
    assert_eq!(gc::stats().heap_objects, base + 50);
    drop(b);
    gc::collect();
    assert_eq!(drops(cb), 50);

    // A -> B again; keep only A: B is reachable through A and survives with it.
    let (ca, cb) = (counter(), counter());
    let a = ring(0, 50, ca);
    let b = ring(100, 50, cb);
    let a_last = {
        let mut cur = a.clone();
        for _ in 0..49 {
            let next = cur.next.borrow().clone().unwrap();
            cur = next;
        }
        cur
    };
    *a_last.extra.borrow_mut() = Some(b);
    drop(a_last);
    gc::collect();
    gc::collect();
    assert_eq!(drops(ca) + drops(cb), 0, "A holds B");
    check_ring(&a, 0, 50);
    let mut cur = a.clone();
    for _ in 0..49 {
        let next = cur.next.borrow().clone().unwrap();
        cur = next;
    }
    let b_again = cur.extra.borrow().clone().expect("link intact");
    drop(cur);
    check_ring(&b_again, 100, 50);
    drop(b_again);
    assert_eq!(gc::stats().heap_objects, base + 100);
    drop(a);
    gc::collect();
    assert_eq!(drops(ca), 50);
    assert_eq!(drops(cb), 50);
    assert_eq!(gc::stats().heap_objects, base);
}

#[test]
fn concurrent_collect_calls_share_cycles() {
    let _g = serial();
    let cycles_before = gc::stats().cycles;
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let done_tx = done_tx.clone();
            std::thread::spawn(move || {
                let c = counter();
                for round in 1..=25u64 {
                    drop(ring(t * 1_000_000 + round * 100, 10, c));
                    gc::collect();
                    assert_eq!(
                        drops(c) as u64,
                        round * 10,
                        "garbage made before collect() is freed when it returns"
                    );
                }
                done_tx.send(t).unwrap();
            })
        })
        .collect();
    drop(done_tx);
    for _ in 0..4 {
        done_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a collect() caller did not finish within 60 s (deadlock?)");
    }
    for t in threads {
        t.join().expect("worker");
    }
    let ran = gc::stats().cycles - cycles_before;
    assert!(ran >= 25, "at least one cycle per round: {ran}");
}

static REENTRANT_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

/// Calls `collect()` from its destructor, which the collector runs.
struct CollectsOnDrop;

impl Drop for CollectsOnDrop {
    fn drop(&mut self) {
        let result = catch_unwind(gc::collect);
        let message = match result {
            Ok(()) => "collect() returned".to_string(),
            Err(p) => p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        };
        *REENTRANT_MESSAGE.lock().unwrap() = Some(message);
    }
}

#[derive(Trace)]
struct Reentrant {
    #[gc(skip)]
    _inner: CollectsOnDrop,
    /// A self-cycle, so that only a cycle's sweep (on the collector thread) frees it: a
    /// count-zero object's destructor runs on the dropping thread, where `collect()` is
    /// allowed (tests/reclaim.rs).
    me: GcCell<Option<Gc<Reentrant>>>,
}

#[test]
fn collect_from_a_collector_run_destructor_panics_clearly() {
    let _g = serial();
    let base = quiet_objects();
    let cyclic = Gc::new(Reentrant {
        _inner: CollectsOnDrop,
        me: GcCell::new(None),
    });
    *cyclic.me.borrow_mut() = Some(cyclic.clone());
    drop(cyclic);
    gc::collect();
    let message = REENTRANT_MESSAGE
        .lock()
        .unwrap()
        .take()
        .expect("the destructor ran");
    assert!(
        message.contains("collect()") && message.contains("destructor"),
        "unclear message: {message}"
    );
    // Later cycles still work.
    let c = counter();
    drop(ring(0, 20, c));
    gc::collect();
    assert_eq!(drops(c), 20);
    assert_eq!(gc::stats().heap_objects, base);
}

static BOMB_DROPS: AtomicUsize = AtomicUsize::new(0);

struct DropBomb;

impl Drop for DropBomb {
    fn drop(&mut self) {
        BOMB_DROPS.fetch_add(1, Ordering::SeqCst);
        panic!("DropBomb exploded (deliberately)");
    }
}

#[derive(Trace)]
struct Exploding {
    #[gc(skip)]
    _bomb: DropBomb,
    // Dropped after the bomb panics (drop glue goes on while unwinding): its target's count
    // must still go down.
    survivor: Gc<Node>,
    #[gc(skip)]
    _tick: Tick,
}

#[test]
fn panicking_drop_during_sweep_leaves_the_heap_consistent() {
    let _g = serial();
    let base = quiet_objects();
    let before = BOMB_DROPS.load(Ordering::SeqCst);
    let panics_before = gc::stats().drop_panics;
    let (c_exploding, c_plain, c_shared) = (counter(), counter(), counter());
    let shared = node(1, c_shared);
    for i in 0..10 {
        drop(Gc::new(Exploding {
            _bomb: DropBomb,
            survivor: shared.clone(),
            _tick: Tick(c_exploding),
        }));
        drop(node(100 + i, c_plain));
    }
    drop(ring(200, 10, c_plain));
    gc::collect();
    assert_eq!(
        BOMB_DROPS.load(Ordering::SeqCst) - before,
        10,
        "each bomb ran once"
    );
    assert_eq!(
        gc::stats().drop_panics - panics_before,
        10,
        "each panic caught and counted"
    );
    assert_eq!(
        drops(c_exploding),
        10,
        "fields after the panic were dropped"
    );
    assert_eq!(drops(c_plain), 20, "other dead objects freed");
    assert_eq!(drops(c_shared), 0);
    assert_eq!(gc::stats().heap_objects, base + 1, "only `shared` is left");
    // The dead objects' handles to `shared` were released: once ours goes, it is freed.
    drop(shared);
    gc::collect();
    assert_eq!(drops(c_shared), 1);
    let c = counter();
    drop(ring(0, 5, c));
    gc::collect();
    assert_eq!(drops(c), 5, "later cycles work");
    assert_eq!(gc::stats().heap_objects, base);
}

/// A hand-written `Trace` that panics while `ARMED`.
struct TraceBomb {
    armed: &'static AtomicBool,
    child: Gc<Node>,
    _tick: Tick,
}

// SAFETY: reports its one handle once (or panics before reporting anything); pure.
unsafe impl Trace for TraceBomb {
    fn trace(&self, tracer: &mut Tracer) {
        if self.armed.load(Ordering::SeqCst) {
            panic!("TraceBomb::trace exploded (deliberately)");
        }
        self.child.trace(tracer);
    }
}

#[test]
fn panicking_trace_never_frees_live_objects() {
    let _g = serial();
    let base = quiet_objects();
    let armed: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let (c_live, c_garbage, c_dead_bomb) = (counter(), counter(), counter());
    // A live bomb whose child is held only through it.
    let live = Gc::new(TraceBomb {
        armed,
        child: ring(0, 10, c_live),
        _tick: Tick(c_live),
    });
    // Garbage: a dead bomb (with a dead ring under it) and a plain dead ring.
    drop(Gc::new(TraceBomb {
        armed,
        child: ring(100, 10, c_dead_bomb),
        _tick: Tick(c_dead_bomb),
    }));
    drop(ring(200, 10, c_garbage));
    armed.store(true, Ordering::SeqCst);
    for _ in 0..2 {
        gc::collect();
        assert_eq!(drops(c_live), 0, "a panicking Trace freed a live object");
        check_ring(&live.child, 0, 10);
    }
    armed.store(false, Ordering::SeqCst);
    // The panic source is disarmed: garbage goes within a few cycles.
    for _ in 0..3 {
        gc::collect();
    }
    assert_eq!(drops(c_live), 0);
    check_ring(&live.child, 0, 10);
    assert_eq!(
        drops(c_garbage),
        10,
        "plain garbage freed after the panics stop"
    );
    assert_eq!(drops(c_dead_bomb), 11, "dead bomb and its ring freed");
    assert_eq!(gc::stats().heap_objects, base + 11);
    drop(live);
    gc::collect();
    assert_eq!(drops(c_live), 11);
    assert_eq!(gc::stats().heap_objects, base);
}

/// A hand-written `Trace` that, while armed, panics on every second call: in a cycle the
/// count pass's trace (the first call) reports the child, so the child looks held only
/// from the heap, and the marking trace (the second) panics before it reports it.
struct MarkingBomb {
    armed: &'static AtomicBool,
    calls: AtomicUsize,
    child: Gc<Node>,
    _tick: Tick,
}

// SAFETY: reports its one handle once (or panics before reporting anything); its only
// state is a call counter, no handle.
unsafe impl Trace for MarkingBomb {
    fn trace(&self, tracer: &mut Tracer) {
        if self.armed.load(Ordering::SeqCst) && self.calls.fetch_add(1, Ordering::SeqCst) % 2 == 1 {
            panic!("MarkingBomb::trace exploded while marking (deliberately)");
        }
        self.child.trace(tracer);
    }
}

/// A `Trace` that panics while marking, not while counting, abandons the cycle, whether
/// the bomb is a root (shaded by the roots pass) or reached from one (shaded by a trace),
/// one at a time. Without the abandon, the ring under the bomb, whose handles are all
/// counted inside the heap and are never shaded, would be freed. (The panicking `Trace`
/// of the test above also panics while counting, which makes its targets roots: that
/// test passes even without the abandon.)
#[test]
fn trace_panicking_while_marking_never_frees_live_objects() {
    let _g = serial();
    let base = quiet_objects();
    let bomb = |first, c| MarkingBomb {
        armed: Box::leak(Box::new(AtomicBool::new(false))),
        calls: AtomicUsize::new(0),
        child: ring(first, 10, c),
        _tick: Tick(c),
    };
    let (c_root, c_inner) = (counter(), counter());
    // A bomb held from outside the heap (a root) and one held only through a cell.
    let root_bomb = Gc::new(bomb(0, c_root));
    let holder = Gc::new(GcCell::new(Some(Gc::new(bomb(100, c_inner)))));
    let inner_bomb = || holder.borrow().as_ref().unwrap().clone();
    for armed in [root_bomb.clone(), inner_bomb()] {
        armed.armed.store(true, Ordering::SeqCst);
        for _ in 0..2 {
            gc::collect();
            assert_eq!(
                drops(c_root),
                0,
                "a root's marking panic freed a live object"
            );
            assert_eq!(drops(c_inner), 0, "a marking panic freed a live object");
            check_ring(&root_bomb.child, 0, 10);
            check_ring(&inner_bomb().child, 100, 10);
        }
        armed.armed.store(false, Ordering::SeqCst);
        // Counted and then marked (and so exploded) in both cycles.
        assert!(armed.calls.load(Ordering::SeqCst) >= 4);
    }
    gc::collect();
    assert_eq!(gc::stats().heap_objects, base + 23);
    drop((root_bomb, holder));
    gc::collect();
    assert_eq!((drops(c_root), drops(c_inner)), (11, 11));
    assert_eq!(gc::stats().heap_objects, base);
}

#[test]
fn dead_panicking_trace_is_freed_while_still_armed() {
    let _g = serial();
    let base = quiet_objects();
    let armed: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(true)));
    let (c_bomb, c_live) = (counter(), counter());
    let keep = ring(0, 10, c_live);
    drop(Gc::new(TraceBomb {
        armed,
        child: ring(100, 10, c_bomb),
        _tick: Tick(c_bomb),
    }));
    // The dead bomb is the only source of panics; once it is swept the rest follows.
    for _ in 0..3 {
        gc::collect();
    }
    assert_eq!(
        drops(c_bomb),
        11,
        "the armed dead bomb and its ring are freed"
    );
    assert_eq!(drops(c_live), 0);
    check_ring(&keep, 0, 10);
    assert_eq!(gc::stats().heap_objects, base + 10);
    drop(keep);
    gc::collect();
    assert_eq!(gc::stats().heap_objects, base);
}
