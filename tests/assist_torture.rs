//! Mark assists under fire (issue #11): mutators that allocate while a cycle marks scan
//! grey objects themselves (`collector/mark_assist.rs`), inside an op, from the global work
//! list the collector shares; a bug there frees a reachable object or loses a grey one.
//!
//! Workload: a shared live graph of nodes (a `GcCell` of edges, a ledger token, a noscan
//! blob of one of several sizes), rewired by three mutators (barriers on every write)
//! while they allocate cyclic garbage as fast as they can (rings of fresh nodes that also
//! point into the live graph, then are dropped: only tracing frees them) and walk the
//! graph, checking every node's checksum and that it was not dropped. A spinning thread
//! oversubscribes the two cores, and another calls `collect()` now and then. The GC
//! percent is 25, so cycles run back to back and the pacer asks for assists all the time.
//!
//! At the end: assists must have scanned objects (the test exercises what it is named
//! after), every node must be dropped exactly once after the graph is released and
//! `collect()` ran, and `heap_objects` must be back at its baseline.
//!
//! `TRICOLOR_ASSIST_TORTURE_SECS` sets the churn time (default 4 s).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::ledger::{Ledger, Token};
use common::rng::{mix, Rng};
use gc::{Gc, GcCell, Trace};

const LIVE_NODES: usize = 40_000;
const EDGES: usize = 3;

/// Noscan payloads of 16 B to 4.8 KiB, so the graph spans many size classes (the variants'
/// sizes differ on purpose).
#[allow(clippy::large_enum_variant)]
#[derive(Trace)]
enum Blob {
    Small(u64),
    Medium([u64; 30]),
    Large(Box<[u64; 300]>),
    Page([u64; 600]),
}

impl Blob {
    fn new(seed: u64) -> Blob {
        match seed % 4 {
            0 => Blob::Small(mix(seed)),
            1 => Blob::Medium([mix(seed); 30]),
            2 => Blob::Large(Box::new([mix(seed); 300])),
            _ => Blob::Page([mix(seed); 600]),
        }
    }

    fn check(&self, seed: u64) {
        let expected = mix(seed);
        let ok = match self {
            Blob::Small(v) => *v == expected,
            Blob::Medium(a) => a.iter().all(|&v| v == expected),
            Blob::Large(a) => a.iter().all(|&v| v == expected),
            Blob::Page(a) => a.iter().all(|&v| v == expected),
        };
        assert!(
            ok && seed % 4 == self.kind(),
            "a blob of seed {seed} is corrupt"
        );
    }

    fn kind(&self) -> u64 {
        match self {
            Blob::Small(_) => 0,
            Blob::Medium(_) => 1,
            Blob::Large(_) => 2,
            Blob::Page(_) => 3,
        }
    }
}

#[derive(Trace)]
struct Node {
    seed: u64,
    #[gc(skip)]
    token: Token,
    blob: Gc<Blob>,
    edges: GcCell<Vec<Gc<Node>>>,
}

fn node(ledger: &'static Ledger, seed: u64) -> Gc<Node> {
    Gc::new(Node {
        seed,
        token: Token::new(ledger),
        blob: Gc::new(Blob::new(seed)),
        edges: GcCell::new(Vec::with_capacity(EDGES)),
    })
}

fn check(ledger: &Ledger, n: &Node) {
    assert!(
        !ledger.is_dropped(n.token.id),
        "reached node {} after its drop",
        n.token.id
    );
    n.blob.check(n.seed);
}

#[test]
fn assists_scan_while_mutators_rewire_and_allocate() {
    let ledger = Ledger::new(1 << 27);
    let old_percent = gc::set_gc_percent(25);
    gc::collect();
    let baseline = gc::stats().heap_objects;
    let before = gc::stats();
    let live: Arc<Vec<Gc<Node>>> = Arc::new(
        (0..LIVE_NODES as u64)
            .map(|i| node(ledger, mix(i)))
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let spinner = common::spawn_spinner(stop.clone());
    let collector = {
        let stop = stop.clone();
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(200));
                gc::collect();
            }
        })
    };
    let deadline = Instant::now()
        + Duration::from_secs(common::secs_from_env("TRICOLOR_ASSIST_TORTURE_SECS", 4));
    let mutators: Vec<_> = (0..3u64)
        .map(|t| {
            let live = live.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(0xA551_5700 + t);
                let mut made = 0u64;
                while Instant::now() < deadline {
                    for _ in 0..64 {
                        let a = &live[rng.below(LIVE_NODES)];
                        check(ledger, a);
                        match rng.below(10) {
                            // Rewire: a live edge to another live node, or to a fresh one
                            // (which becomes garbage when replaced).
                            0..=2 => {
                                let target = if rng.chance(300) {
                                    node(ledger, mix(rng.next_u64()))
                                } else {
                                    live[rng.below(LIVE_NODES)].clone()
                                };
                                let mut edges = a.edges.borrow_mut();
                                if edges.len() < EDGES {
                                    edges.push(target);
                                } else {
                                    let k = rng.below(EDGES);
                                    edges[k] = target;
                                }
                            }
                            // Walk up to 12 edges, checking every node.
                            3..=4 => {
                                let mut at = a.clone();
                                for _ in 0..12 {
                                    let next = {
                                        let edges = at.edges.borrow();
                                        if edges.is_empty() {
                                            break;
                                        }
                                        edges[rng.below(edges.len())].clone()
                                    };
                                    check(ledger, &next);
                                    at = next;
                                }
                            }
                            // Cyclic garbage: a ring of fresh nodes, one of which also
                            // points into the live graph, dropped at once.
                            _ => {
                                let ring: Vec<_> =
                                    (0..6).map(|_| node(ledger, mix(rng.next_u64()))).collect();
                                for i in 0..ring.len() {
                                    ring[i]
                                        .edges
                                        .borrow_mut()
                                        .push(ring[(i + 1) % ring.len()].clone());
                                }
                                ring[0].edges.borrow_mut().push(a.clone());
                                made += ring.len() as u64;
                            }
                        }
                    }
                }
                made
            })
        })
        .collect();
    let made: u64 = mutators
        .into_iter()
        .map(|m| m.join().expect("a mutator failed"))
        .sum();
    stop.store(true, Ordering::Relaxed);
    spinner.join().unwrap();
    collector.join().unwrap();
    let during = gc::stats();
    for n in live.iter() {
        check(ledger, n);
        for e in n.edges.borrow().iter() {
            check(ledger, e);
        }
    }
    drop(live);
    gc::collect();
    gc::collect();
    let after = gc::stats();
    gc::set_gc_percent(old_percent);
    let scanned = during.assist_scanned_objects - before.assist_scanned_objects;
    eprintln!(
        "{made} garbage nodes in rings, {} cycles, assists {:?} scanning {scanned} objects",
        during.cycles - before.cycles,
        during.assist_time - before.assist_time,
    );
    assert!(
        scanned > 0,
        "no assist scanned anything: the test did not exercise mark assists"
    );
    ledger.assert_all_dropped_once("assist torture");
    assert_eq!(
        after.heap_objects, baseline,
        "objects left after the graph was dropped"
    );
}
