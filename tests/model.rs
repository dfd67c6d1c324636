//! Randomized operation sequences checked against a model (issue #9, DESIGN §9).
//!
//! Each test thread runs a seeded sequence of operations on objects only it can reach:
//! `Gc::new` of nodes and of blobs of three sizes (two size classes and a large object),
//! clone and drop of local handles, writes of handles into cells, moves of handles
//! between cells and out of cells into locals, `collect()`, and `get`/`put` on a shared
//! `Pool`. Beside the real heap it keeps a model: which handles each local slot and each
//! cell holds. At every `collect()` it checks the model against the heap:
//! - every object the model reaches from the thread's locals is intact, not dropped, and
//!   its real edges are the model's edges;
//! - every object the model does not reach was dropped by the time `collect()` returned
//!   (the cycle it waited for started after the objects became unreachable, and nothing
//!   touched them since: neither counts nor tracing may leave them behind).
//!
//! Other threads' cycles and collections run concurrently and change nothing of this. At
//! the end, with every thread joined and two more collections, every object and every
//! pooled value ever made has been dropped exactly once, and `heap_objects` is back at
//! its baseline.
//!
//! A failure names its seed; `TRICOLOR_MODEL_SEED=<seed>` replays that one sequence
//! (`TRICOLOR_MODEL_OPS` sets the operations per thread, default 20000).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use common::ledger::{Ledger, Token};
use common::rng::{mix, Rng};
use gc::{Gc, GcCell, Pool, Trace};

const LOCALS: usize = 8;
const EDGES: usize = 3;

fn ledger() -> &'static Ledger {
    static LEDGER: OnceLock<&'static Ledger> = OnceLock::new();
    LEDGER.get_or_init(|| Ledger::new(1 << 24))
}

#[derive(Trace)]
struct Blob<const N: usize> {
    #[gc(skip)]
    token: Token,
    bytes: [u8; N],
}

impl<const N: usize> Blob<N> {
    fn make() -> Gc<Blob<N>> {
        let token = Token::new(ledger());
        let byte = mix(token.id) as u8;
        Gc::new(Blob {
            token,
            bytes: [byte; N],
        })
    }

    fn verify(&self) -> u64 {
        let id = self.token.id;
        assert!(!ledger().is_dropped(id), "blob {id} used after its drop");
        let byte = mix(id) as u8;
        assert!(self.bytes.iter().all(|&b| b == byte), "blob {id} corrupted");
        id
    }
}

/// A blob of one of three sizes: 64 B and 1 KiB classes, and a large object.
#[derive(Trace)]
enum BlobRef {
    Small(Gc<Blob<40>>),
    Medium(Gc<Blob<1000>>),
    Large(Gc<Blob<40_000>>),
}

impl BlobRef {
    fn verify(&self) -> u64 {
        match self {
            BlobRef::Small(b) => b.verify(),
            BlobRef::Medium(b) => b.verify(),
            BlobRef::Large(b) => b.verify(),
        }
    }
}

#[derive(Trace)]
struct Node {
    #[gc(skip)]
    token: Token,
    check: u64,
    edges: GcCell<[Option<Gc<Node>>; EDGES]>,
    blob: GcCell<Option<BlobRef>>,
}

impl Node {
    fn verify(&self) -> u64 {
        let id = self.token.id;
        assert!(!ledger().is_dropped(id), "node {id} used after its drop");
        assert_eq!(self.check, mix(id), "node {id} corrupted");
        id
    }
}

/// What the model knows of a node: the ids its cells hold.
#[derive(Clone, Debug, Default)]
struct ModelNode {
    edges: [Option<u64>; EDGES],
    blob: Option<u64>,
}

/// A pooled value with a checksum, counted by the ledger.
struct Pooled {
    token: Token,
    data: Vec<u64>,
}

impl Pooled {
    fn new() -> Pooled {
        let token = Token::new(ledger());
        let data = (0..16).map(|i| mix(token.id + i)).collect();
        Pooled { token, data }
    }

    fn verify(&self) {
        let id = self.token.id;
        for (i, &word) in self.data.iter().enumerate() {
            assert_eq!(word, mix(id + i as u64), "pooled value {id} corrupted");
        }
    }
}

static POOL: Pool<Pooled> = Pool::new(Pooled::new);

struct Thread {
    rng: Rng,
    locals: Vec<Option<Gc<Node>>>,
    /// Model: the node id each local slot holds.
    local_ids: Vec<Option<u64>>,
    /// Model: every node this thread made that may still be alive.
    nodes: HashMap<u64, ModelNode>,
    /// Model: every blob this thread made that may still be alive.
    blobs: HashSet<u64>,
    /// Pooled values this thread holds.
    pooled: Vec<Pooled>,
}

impl Thread {
    fn node(&self, slot: usize) -> Option<&Gc<Node>> {
        self.locals[slot].as_ref()
    }

    fn step(&mut self) {
        let op = self.rng.below(100);
        let a = self.rng.below(LOCALS);
        let b = self.rng.below(LOCALS);
        let k = self.rng.below(EDGES);
        let m = self.rng.below(EDGES);
        match op {
            // A new node in a local slot (dropping what was there).
            0..=14 => {
                let token = Token::new(ledger());
                let id = token.id;
                let node = Gc::new(Node {
                    token,
                    check: mix(id),
                    edges: GcCell::new([None, None, None]),
                    blob: GcCell::new(None),
                });
                self.nodes.insert(id, ModelNode::default());
                self.locals[a] = Some(node);
                self.local_ids[a] = Some(id);
            }
            // A new blob of a random size in a node's blob cell.
            15..=22 => {
                let size = self.rng.below(8);
                if let Some(node) = self.node(a) {
                    let blob = match size {
                        0 => BlobRef::Large(Blob::make()),
                        1..=3 => BlobRef::Medium(Blob::make()),
                        _ => BlobRef::Small(Blob::make()),
                    };
                    let blob_id = blob.verify();
                    let owner = node.verify();
                    *node.blob.borrow_mut() = Some(blob);
                    self.blobs.insert(blob_id);
                    self.model(owner).blob = Some(blob_id);
                }
            }
            // Clone a local into another slot.
            23..=34 => {
                self.locals[b] = self.locals[a].clone();
                self.local_ids[b] = self.local_ids[a];
            }
            // Drop a local.
            35..=46 => {
                self.locals[a] = None;
                self.local_ids[a] = None;
            }
            // Write a clone of a local into a node's cell.
            47..=64 => {
                if let Some(node) = self.node(a) {
                    let owner = node.verify();
                    let target = self.locals[b].clone();
                    node.edges.borrow_mut()[k] = target;
                    let target_id = self.local_ids[b];
                    self.model(owner).edges[k] = target_id;
                }
            }
            // Move a handle from one cell to another (or the same) cell.
            65..=74 => {
                if let (Some(from), Some(to)) = (self.node(a), self.node(b)) {
                    let (from_id, to_id) = (from.verify(), to.verify());
                    let moved = from.edges.borrow_mut()[k].take();
                    to.edges.borrow_mut()[m] = moved;
                    let moved_id = self.model(from_id).edges[k].take();
                    self.model(to_id).edges[m] = moved_id;
                }
            }
            // Move a handle out of a cell into a local.
            75..=84 => {
                if let Some(node) = self.node(a) {
                    let owner = node.verify();
                    let moved = node.edges.borrow_mut()[k].take();
                    let moved_id = self.model(owner).edges[k].take();
                    self.locals[b] = moved;
                    self.local_ids[b] = moved_id;
                }
            }
            // Follow an edge into a local (a clone out of a cell).
            85..=90 => {
                if let Some(node) = self.node(a) {
                    let owner = node.verify();
                    let next = node.edges.borrow()[k].clone();
                    self.locals[b] = next;
                    self.local_ids[b] = self.nodes[&owner].edges[k];
                }
            }
            // Pool traffic.
            91..=96 => {
                if self.pooled.len() < 4 && self.rng.chance(600) {
                    let value = POOL.get();
                    value.verify();
                    self.pooled.push(value);
                } else if let Some(value) = self.pooled.pop() {
                    value.verify();
                    POOL.put(value);
                }
            }
            _ => self.collect_and_check(),
        }
    }

    fn model(&mut self, id: u64) -> &mut ModelNode {
        self.nodes
            .get_mut(&id)
            .unwrap_or_else(|| panic!("node {id} is in the heap but not in the model"))
    }

    /// The node and blob ids the model reaches from this thread's locals.
    fn reachable(&self) -> (HashSet<u64>, HashSet<u64>) {
        let mut nodes = HashSet::new();
        let mut blobs = HashSet::new();
        let mut stack: Vec<u64> = self.local_ids.iter().flatten().copied().collect();
        while let Some(id) = stack.pop() {
            if !nodes.insert(id) {
                continue;
            }
            let node = &self.nodes[&id];
            stack.extend(node.edges.iter().flatten());
            blobs.extend(node.blob);
        }
        (nodes, blobs)
    }

    fn collect_and_check(&mut self) {
        gc::collect();
        let (nodes, blobs) = self.reachable();
        // The heap matches the model where the model reaches.
        let mut stack: Vec<Gc<Node>> = self.locals.iter().flatten().cloned().collect();
        let mut seen = HashSet::new();
        for (slot, id) in self.local_ids.iter().enumerate() {
            if let (Some(node), Some(id)) = (&self.locals[slot], id) {
                assert_eq!(node.verify(), *id, "local {slot} reaches the wrong node");
            }
        }
        while let Some(node) = stack.pop() {
            let id = node.verify();
            if !seen.insert(id) {
                continue;
            }
            let model = &self.nodes[&id];
            let edges = node.edges.borrow();
            for (k, edge) in edges.iter().enumerate() {
                let real = edge.as_ref().map(|e| e.verify());
                assert_eq!(real, model.edges[k], "edge {k} of node {id}");
                stack.extend(edge.clone());
            }
            let real_blob = node.blob.borrow().as_ref().map(BlobRef::verify);
            assert_eq!(real_blob, model.blob, "blob of node {id}");
        }
        assert_eq!(seen, nodes, "the heap reaches what the model reaches");
        // Everything else was freed by the collection.
        for &id in self.nodes.keys().filter(|id| !nodes.contains(id)) {
            assert!(
                ledger().is_dropped(id),
                "node {id}, unreachable before collect(), was not dropped by it"
            );
        }
        for &id in self.blobs.iter().filter(|id| !blobs.contains(id)) {
            assert!(
                ledger().is_dropped(id),
                "blob {id}, unreachable before collect(), was not dropped by it"
            );
        }
        self.nodes.retain(|id, _| nodes.contains(id));
        self.blobs.retain(|id| blobs.contains(id));
    }
}

fn ops_per_thread() -> usize {
    env_number("TRICOLOR_MODEL_OPS").unwrap_or(20_000) as usize
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, got {value:?}")),
    )
}

/// Runs one seeded sequence: 2 to 4 threads, each with its own stream of `seed`.
fn run_seed(seed: u64) {
    let threads = 2 + (seed % 3) as usize;
    let ops = ops_per_thread();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut thread = Thread {
                        rng: Rng::new(seed.wrapping_mul(1000) + t as u64),
                        locals: (0..LOCALS).map(|_| None).collect(),
                        local_ids: vec![None; LOCALS],
                        nodes: HashMap::new(),
                        blobs: HashSet::new(),
                        pooled: Vec::new(),
                    };
                    for op in 0..ops {
                        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            thread.step()
                        }));
                        if let Err(panic) = step {
                            eprintln!(
                                "model test failed: seed {seed}, thread {t}, operation {op}; \
                                 replay with TRICOLOR_MODEL_SEED={seed}"
                            );
                            std::panic::resume_unwind(panic);
                        }
                    }
                    thread.collect_and_check();
                    for value in thread.pooled.drain(..) {
                        POOL.put(value);
                    }
                })
            })
            .collect();
        for handle in handles {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn random_operation_sequences_match_the_model() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    gc::collect();
    gc::collect();
    let baseline = gc::stats().heap_objects;
    let seeds: Vec<u64> = match env_number("TRICOLOR_MODEL_SEED") {
        Some(seed) => vec![seed],
        None => (1..=8).collect(),
    };
    for seed in seeds {
        run_seed(seed);
    }
    // Two cycles move the pool's values to its victim generation and drop them.
    for _ in 0..3 {
        gc::collect();
    }
    eprintln!(
        "model: {} objects and pooled values, {} cycles",
        ledger().issued(),
        gc::stats().cycles
    );
    ledger().assert_all_dropped_once("random operation sequences");
    assert_eq!(
        gc::stats().heap_objects,
        baseline,
        "heap_objects is back at its baseline"
    );
}
