//! Cascades of count-zero objects (issue #10, item 4; DESIGN §3b "a million-node chain
//! never recurses"): dropping the head of a 10,000,000-node chain, or the root of a
//! 2^22-node tree, frees every node without recursion, from a thread with a 256 KiB stack
//! that did not build the structure, whether no cycle runs (count-zero reclamation frees
//! the nodes one by one, each drop glue queueing the next) or a cycle is marking (mark
//! termination keeps the marked head for the drain, R1b in docs/collector.md, or a later
//! sweep frees what remains: the sweep's drop glue of a dead node touches no dead
//! neighbour).
//!
//! A recursive drop anywhere (mutator, reclamation drain, sweep) would overflow a stack
//! and abort the test binary. The tests compare `heap_objects` and hold cycles, so they
//! run one at a time.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::Tick;
use gc::{Gc, Trace};

const CHAIN: usize = 10_000_000;
const TREE_DEPTH: u32 = 22;
const SMALL_STACK: usize = 256 << 10;

#[derive(Trace)]
struct Link {
    next: Option<Gc<Link>>,
    #[gc(skip)]
    _tick: Tick,
}

#[derive(Trace)]
struct Branch {
    left: Option<Gc<Branch>>,
    right: Option<Gc<Branch>>,
    #[gc(skip)]
    _tick: Tick,
}

/// Runs `body` on a new thread with a 256 KiB stack and returns its result.
fn on_small_stack<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .name("small stack".into())
        .stack_size(SMALL_STACK)
        .spawn(body)
        .expect("spawn a small-stack thread")
        .join()
        .expect("the small-stack thread panicked (or overflowed its stack)")
}

fn chain(drops: &'static AtomicUsize) -> Gc<Link> {
    let mut head = None;
    for _ in 0..CHAIN {
        head = Some(Gc::new(Link {
            next: head.take(),
            _tick: Tick(drops),
        }));
    }
    head.expect("a chain of at least one node")
}

/// A complete binary tree of `2^TREE_DEPTH - 1` nodes, built bottom-up (no recursion).
fn tree(drops: &'static AtomicUsize) -> Gc<Branch> {
    let mut level: Vec<Gc<Branch>> = (0..1usize << (TREE_DEPTH - 1))
        .map(|_| {
            Gc::new(Branch {
                left: None,
                right: None,
                _tick: Tick(drops),
            })
        })
        .collect();
    while level.len() > 1 {
        let mut pairs = level.into_iter();
        let mut up = Vec::new();
        while let (Some(left), Some(right)) = (pairs.next(), pairs.next()) {
            up.push(Gc::new(Branch {
                left: Some(left),
                right: Some(right),
                _tick: Tick(drops),
            }));
        }
        level = up;
    }
    level.pop().expect("the root")
}

fn tree_nodes() -> usize {
    (1usize << TREE_DEPTH) - 1
}

/// Waits (without collecting) until `drops` reaches `expected`.
fn wait_for_drops(drops: &AtomicUsize, expected: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while drops.load(Ordering::SeqCst) < expected {
        assert!(
            Instant::now() < deadline,
            "{what}: only {} of {expected} nodes dropped",
            drops.load(Ordering::SeqCst)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Builds a structure of `nodes` nodes on one small-stack thread and drops it on another,
/// with automatic cycles off, so that the count-zero drain alone must free every node.
fn dropped_between_cycles<T: Send + 'static>(
    nodes: usize,
    drops: &'static AtomicUsize,
    build: fn(&'static AtomicUsize) -> T,
) {
    let _serial = common::serial();
    let base = common::quiet_objects();
    let percent = gc::set_gc_percent(-1);
    let root = on_small_stack(move || build(drops));
    assert_eq!(gc::stats().heap_objects, base + nodes);
    on_small_stack(move || drop(root));
    wait_for_drops(drops, nodes, "the count-zero drain");
    gc::set_gc_percent(percent);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        nodes,
        "each node dropped once"
    );
    assert_eq!(common::quiet_objects(), base);
}

#[test]
fn a_ten_million_node_chain_dropped_between_cycles_is_reclaimed_without_recursion() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    dropped_between_cycles(CHAIN, &DROPS, chain);
}

#[test]
fn a_ten_million_node_chain_dropped_while_a_cycle_marks_is_freed_once() {
    let _serial = common::serial();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let base = common::quiet_objects();
    let head = on_small_stack(|| chain(&DROPS));
    // The count reaches zero during Mark: mark termination keeps the head (marked) for
    // the drain, which cascades through the rest.
    common::while_marking(move || on_small_stack(move || drop(head)));
    gc::collect();
    gc::collect();
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        CHAIN,
        "each node dropped once"
    );
    assert_eq!(common::quiet_objects(), base);
}

#[test]
fn a_tree_of_four_million_nodes_dropped_from_another_thread_is_reclaimed() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    dropped_between_cycles(tree_nodes(), &DROPS, tree);
}
