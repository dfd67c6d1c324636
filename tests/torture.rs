//! Torture test: mutators rewire a shared random cyclic graph while cycles run.
//!
//! Workload (seeded, per thread): 3 mutator threads share a root table (a managed
//! `GcCell<Vec<Option<Gc<Node>>>>` of 64 slots) and, in a loop, pick one of:
//! - **create** a node (fresh id) and store it in a random root slot, dropping what was
//!   there;
//! - **link** a random edge of one root's node to another root's node (cycles form freely);
//! - **unlink** a random edge;
//! - **move** a subtree: take an edge's target out into a temporary handle, yield (so
//!   cycles run while the only handle is on the stack), then store it into another node's
//!   edge or a root slot;
//! - **walk** up to 16 edges from a root, checking every node it touches;
//! - **drop** a root slot.
//!
//! A fourth thread calls `gc::collect()` in a loop; automatic cycles run too (GC percent
//! 20).
//!
//! Every node carries its id and a checksum derived from it, checked on every access; every
//! handle the graph stores is paired with the id of the node it must reach (so a freed and
//! reused slot cannot pass for the right node); and a drop tracker sets a bit per id,
//! failing on a second drop, and every access fails on a dropped node. At the end the table and all handles are
//! dropped and `collect()` runs twice: every node created must have been dropped exactly
//! once, and `stats().heap_objects` must be back at its baseline.
//!
//! Runs 30 s by default; `TRICOLOR_TORTURE_SECS` sets another duration and
//! `TRICOLOR_TORTURE_THREADS` the number of mutators (default 3). With
//! `TRICOLOR_MEMBARRIER_MAX_US=0` the process switches from membarrier to fences within its
//! first cycles (`gc-core/src/heap/fence_choice.rs`), and the test checks that it did.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::rng::{mix, Rng};
use gc::{Gc, GcCell, Trace};

const ROOTS: usize = 64;
const EDGES: usize = 4;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);
/// Ids the test may hand out: one bit each in `DROPPED` (128 MiB of bits). With prompt
/// reclamation the mutators create 1.5 to 2 million nodes a second on 2 cores, so a 300 s
/// soak needs up to about 600 million.
const MAX_IDS: u64 = 1 << 30;
/// Bit `id` is set when node `id` is dropped.
static DROPPED: std::sync::OnceLock<Box<[AtomicU64]>> = std::sync::OnceLock::new();

fn dropped() -> &'static [AtomicU64] {
    DROPPED.get_or_init(|| (0..MAX_IDS / 64).map(|_| AtomicU64::new(0)).collect())
}

fn is_dropped(id: u64) -> bool {
    dropped()[(id / 64) as usize].load(Ordering::SeqCst) & (1 << (id % 64)) != 0
}

fn checksum(id: u64) -> u64 {
    mix(id.wrapping_add(0x9E37_79B9_7F4A_7C15))
}

/// Records the drop of node `id` (and fails on a second one); lives in a skipped field so
/// `Node` itself has no `Drop`.
struct Tracker(u64);

impl Drop for Tracker {
    fn drop(&mut self) {
        let id = self.0;
        let old = dropped()[(id / 64) as usize].fetch_or(1 << (id % 64), Ordering::SeqCst);
        assert!(old & (1 << (id % 64)) == 0, "node {id} dropped twice");
    }
}

/// A handle together with the id of the node it must point at: a freed and reused slot
/// holds a node with another id, so a use after free cannot pass for a valid access.
#[derive(Trace, Clone)]
struct Link {
    id: u64,
    node: Gc<Node>,
}

impl Link {
    fn to(node: Gc<Node>) -> Link {
        Link { id: node.id, node }
    }

    fn verify(&self) -> &Gc<Node> {
        self.node.verify();
        assert_eq!(
            self.node.id, self.id,
            "a handle to node {} reaches node {} (use after free)",
            self.id, self.node.id
        );
        &self.node
    }
}

#[derive(Trace)]
struct Node {
    id: u64,
    check: u64,
    edges: GcCell<Vec<Option<Link>>>,
    #[gc(skip)]
    tracker: Tracker,
}

impl Node {
    fn new() -> Gc<Node> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        assert!(
            id < MAX_IDS,
            "the torture test ran out of node ids; shorten it"
        );
        Gc::new(Node {
            id,
            check: checksum(id),
            edges: GcCell::new(vec![None, None, None, None]),
            tracker: Tracker(id),
        })
    }

    fn verify(&self) {
        assert!(!is_dropped(self.id), "node {} used after its drop", self.id);
        assert_eq!(
            self.check,
            checksum(self.id),
            "node {} corrupted (checksum)",
            self.id
        );
        assert_eq!(
            self.tracker.0, self.id,
            "node {} corrupted (tracker)",
            self.id
        );
    }
}

type Table = Gc<GcCell<Vec<Option<Link>>>>;

fn root(table: &Table, slot: usize) -> Option<Gc<Node>> {
    let link = table.borrow()[slot].clone();
    link.map(|l| l.verify().clone())
}

fn mutator(table: Table, seed: u64, stop: &AtomicBool) -> u64 {
    let mut rng = Rng::new(seed);
    let mut ops = 0;
    while !stop.load(Ordering::Relaxed) {
        match rng.below(12) {
            0..=2 => {
                let node = Node::new();
                let slot = rng.below(ROOTS);
                let old = table.borrow_mut()[slot].replace(Link::to(node));
                drop(old);
            }
            3..=4 => {
                if let (Some(a), Some(b)) = (
                    root(&table, rng.below(ROOTS)),
                    root(&table, rng.below(ROOTS)),
                ) {
                    a.edges.borrow_mut()[rng.below(EDGES)] = Some(Link::to(b));
                }
            }
            5 => {
                if let Some(a) = root(&table, rng.below(ROOTS)) {
                    a.edges.borrow_mut()[rng.below(EDGES)] = None;
                }
            }
            6..=7 => {
                let Some(a) = root(&table, rng.below(ROOTS)) else {
                    continue;
                };
                let moved = a.edges.borrow_mut()[rng.below(EDGES)].take();
                drop(a);
                if let Some(m) = &moved {
                    m.verify();
                }
                std::thread::yield_now();
                if let Some(m) = &moved {
                    m.verify();
                }
                if rng.below(2) == 0 {
                    if let Some(c) = root(&table, rng.below(ROOTS)) {
                        c.edges.borrow_mut()[rng.below(EDGES)] = moved;
                    }
                } else {
                    table.borrow_mut()[rng.below(ROOTS)] = moved;
                }
            }
            8..=10 => {
                let mut cursor = root(&table, rng.below(ROOTS));
                for _ in 0..16 {
                    let Some(node) = cursor else { break };
                    node.verify();
                    let next = node.edges.borrow()[rng.below(EDGES)].clone();
                    cursor = next.map(|l| l.verify().clone());
                }
            }
            _ => {
                table.borrow_mut()[rng.below(ROOTS)] = None;
            }
        }
        ops += 1;
    }
    ops
}

#[test]
fn mutators_rewire_a_cyclic_graph_while_cycles_run() {
    let seconds: u64 = std::env::var("TRICOLOR_TORTURE_SECS")
        .ok()
        .map(|v| {
            v.parse()
                .expect("TRICOLOR_TORTURE_SECS must be a whole number of seconds")
        })
        .unwrap_or(30);
    gc::collect();
    gc::collect();
    let baseline = gc::stats().heap_objects;
    let old_percent = gc::set_gc_percent(20);
    let table: Table = Gc::new(GcCell::new(vec![None; ROOTS]));
    let stop = AtomicBool::new(false);
    let cycles_before = gc::stats().cycles;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let ops: u64 = std::thread::scope(|s| {
        let threads: u64 = std::env::var("TRICOLOR_TORTURE_THREADS")
            .ok()
            .map(|v| {
                v.parse()
                    .expect("TRICOLOR_TORTURE_THREADS must be a whole number")
            })
            .unwrap_or(3);
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let table = table.clone();
                let stop = &stop;
                s.spawn(move || {
                    mutator(table, 0x1234_5678_9ABC_DEF1 ^ ((t + 1) * 0x9E37_79B9), stop)
                })
            })
            .collect();
        let collector = s.spawn(|| {
            let mut manual = 0u64;
            while !stop.load(Ordering::Relaxed) {
                gc::collect();
                manual += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            manual
        });
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, Ordering::Relaxed);
        let manual = collector.join().expect("collector thread");
        assert!(manual > 0);
        workers
            .into_iter()
            .map(|w| w.join().expect("mutator thread"))
            .sum()
    });
    let stats = gc::stats();
    assert!(
        stats.cycles > cycles_before + 10,
        "cycles ran: {}",
        stats.cycles - cycles_before
    );
    for link in table.borrow().iter().flatten() {
        link.verify();
    }
    drop(table);
    gc::collect();
    gc::collect();
    gc::set_gc_percent(old_percent);
    let created = NEXT_ID.load(Ordering::Relaxed);
    assert!(
        created > 1000,
        "the test did something: {created} nodes, {ops} ops"
    );
    for id in 0..created {
        assert!(is_dropped(id), "node {id} was never dropped");
    }
    assert_eq!(gc::stats().heap_objects, baseline, "every node freed");
    let (membarrier, switched) = gc::__private::fence_mode();
    if std::env::var("TRICOLOR_MEMBARRIER_MAX_US").as_deref() == Ok("0") {
        // Every membarrier counts as slow: the run must have switched to fences (or used
        // them throughout, without kernel support), so it tested the switch mid-run.
        assert!(!membarrier, "TRICOLOR_MEMBARRIER_MAX_US=0 and no switch");
    }
    eprintln!(
        "torture: {ops} ops, {created} nodes, {} cycles, {} objects reclaimed without a \
         cycle, max pause {:?}; membarrier {membarrier}, switched to fences at {switched:?}",
        gc::stats().cycles - cycles_before,
        gc::stats().reclaimed_objects,
        gc::stats().pauses.iter().max()
    );
}
