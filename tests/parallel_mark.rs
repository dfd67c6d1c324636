//! Parallel counting, roots and marking (collector/workers.rs, work.rs) on a random
//! cyclic graph, with four mark workers however many CPUs the machine has.
//!
//! The graph has 100,000 nodes, each with up to four edges to random nodes, so it is full
//! of cycles, and the marker's stacks grow far past one work buffer (so workers share work
//! through the global list). A random 1% of the nodes stay held from outside the heap.
//! After two `collect()` calls, exactly the nodes reachable from those roots (computed
//! here by a breadth-first search over a copy of the edges) must be alive, and every other
//! node must have been dropped once.
//!
//! This file holds one test: it sets `TRICOLOR_MARK_WORKERS` before the first use of the
//! collector in this process, which fixes the worker count for the process.

mod common;

use common::rng::Rng;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use gc::{Gc, GcCell, Trace};

const NODES: usize = 100_000;
const MAX_EDGES: usize = 4;
const WORKERS: &str = "4";

/// Times each node was dropped, by id.
static DROPPED: OnceLock<Vec<AtomicU8>> = OnceLock::new();

fn dropped() -> &'static [AtomicU8] {
    DROPPED.get_or_init(|| (0..NODES).map(|_| AtomicU8::new(0)).collect())
}

/// Counts this node's drop in `DROPPED` (the node's own `Drop` would be rejected by the
/// derive: a traced type must not read its neighbours while dying).
struct DropMark(usize);

impl Drop for DropMark {
    fn drop(&mut self) {
        dropped()[self.0].fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Trace)]
struct Node {
    id: usize,
    edges: GcCell<Vec<Gc<Node>>>,
    #[gc(skip)]
    _mark: DropMark,
}

#[test]
fn four_workers_keep_exactly_the_reachable_nodes() {
    // Edition 2021: `set_var` is safe. No other thread of this process has touched the
    // collector or the environment yet (this file's only test).
    std::env::set_var("TRICOLOR_MARK_WORKERS", WORKERS);
    dropped();
    gc::collect();
    let baseline = gc::stats().heap_objects;

    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let nodes: Vec<Gc<Node>> = (0..NODES)
        .map(|id| {
            Gc::new(Node {
                id,
                edges: GcCell::new(Vec::new()),
                _mark: DropMark(id),
            })
        })
        .collect();
    let mut adjacency = vec![Vec::new(); NODES];
    for (id, node) in nodes.iter().enumerate() {
        let mut edges = node.edges.borrow_mut();
        for _ in 0..rng.below(MAX_EDGES + 1) {
            let target = rng.below(NODES);
            edges.push(nodes[target].clone());
            adjacency[id].push(target);
        }
    }
    let roots: Vec<Gc<Node>> = (0..NODES / 100)
        .map(|_| nodes[rng.below(NODES)].clone())
        .collect();
    drop(nodes);

    let mut reachable = vec![false; NODES];
    let mut queue: VecDeque<usize> = roots.iter().map(|r| r.id).collect();
    for &id in &queue {
        reachable[id] = true;
    }
    while let Some(id) = queue.pop_front() {
        for &next in &adjacency[id] {
            if !reachable[next] {
                reachable[next] = true;
                queue.push_back(next);
            }
        }
    }
    let live = reachable.iter().filter(|r| **r).count();
    assert!(
        live > NODES / 10 && live < NODES,
        "the graph should keep a large part alive and free the rest ({live} reachable)"
    );

    gc::collect();
    gc::collect();
    for (id, was_reachable) in reachable.iter().enumerate() {
        let drops = dropped()[id].load(Ordering::Relaxed);
        if *was_reachable {
            assert_eq!(
                drops, 0,
                "node {id} is reachable from a root but was dropped"
            );
        } else {
            assert_eq!(drops, 1, "node {id} is unreachable; dropped {drops} times");
        }
    }
    assert_eq!(gc::stats().heap_objects, baseline + live);
    // The survivors are intact: walk them through the heap and compare with the copy.
    for root in &roots {
        for (edge, &target) in root.edges.borrow().iter().zip(&adjacency[root.id]) {
            assert_eq!(edge.id, target, "edge of node {} corrupted", root.id);
        }
    }

    drop(roots);
    gc::collect();
    gc::collect();
    assert!(
        dropped().iter().all(|d| d.load(Ordering::Relaxed) == 1),
        "every node is dropped exactly once at the end"
    );
    assert_eq!(gc::stats().heap_objects, baseline);
}
