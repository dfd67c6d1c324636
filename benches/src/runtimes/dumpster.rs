//! `dumpster` 2.1, `sync` flavour: reference counting plus a cycle collector. A handle is
//! `Send + Sync`; no roots are tracked (dropped handles whose count stays above zero become
//! candidates), so the thread's `Vec` of slots is simply where the live trees are held.
//! A collection runs inline, on the thread whose `Gc` drop makes the collect condition
//! true (default: more drops since the last collection than live `Gc`s).
//!
//! Stalls: dumpster keeps no pause history. The harness installs a collect condition that
//! is the default one plus a per-thread count of the collections it started, and the
//! driver records the loop gap of each iteration in which this thread started one as a
//! `Pause` (an upper bound by the iteration's own few microseconds).
//!
//! Size estimate: `GcBox` header (strong, weak, generation: 24 bytes) + the node (a sync
//! `Gc` is 16 bytes: pointer + tag, and `Option` of it 24), rounded to glibc's chunk.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use dumpster::sync::{default_collect_condition, set_collect_condition, CollectInfo, Gc};
use dumpster::{Trace, TraceWith, Visitor};

use super::handles::{self, HandleRuntime};
use super::tree::{malloc_chunk, Payload, TreeNode};
use super::Runtime;
use crate::sampler::CollectorCounters;

pub(crate) const RUNTIME: Runtime = Runtime {
    name: Dumpster::NAME,
    multi_thread: true,
    stalls: "inferred: loop gaps of iterations in which this thread started a dumpster \
             collection (collections run inline in Gc drops; no pause history)",
    run: handles::run::<Dumpster>,
};

/// dumpster's `sync::GcBox` header: `strong`, `weak`, `generation`.
const HEADER_BYTES: usize = 3 * size_of::<usize>();

thread_local! {
    static STARTED_HERE: Cell<u64> = const { Cell::new(0) };
}
static STARTED: AtomicU64 = AtomicU64::new(0);

fn counting_condition(info: &CollectInfo) -> bool {
    let go = default_collect_condition(info);
    if go {
        STARTED_HERE.with(|c| c.set(c.get() + 1));
        // Relaxed: a statistic read after the mutators are joined.
        STARTED.fetch_add(1, Ordering::Relaxed);
    }
    go
}

#[derive(Debug, Trace)]
pub(crate) struct DNode {
    left: Option<Gc<DNode>>,
    right: Option<Gc<DNode>>,
    payload: Payload,
}

// SAFETY: a payload is two integers and holds no `Gc`, so there is nothing to visit.
unsafe impl<V: Visitor> TraceWith<V> for Payload {
    #[inline]
    fn accept(&self, _: &mut V) -> Result<(), ()> {
        Ok(())
    }
}

impl TreeNode for DNode {
    fn payload(&self) -> &Payload {
        &self.payload
    }
    fn left(&self) -> Option<&DNode> {
        self.left.as_deref()
    }
    fn right(&self) -> Option<&DNode> {
        self.right.as_deref()
    }
}

#[derive(Debug)]
pub(crate) struct Dumpster;

impl HandleRuntime for Dumpster {
    const NAME: &'static str = "dumpster";
    type Node = DNode;
    type Ptr = Gc<DNode>;

    #[inline]
    fn node(left: Option<Gc<DNode>>, right: Option<Gc<DNode>>, payload: Payload) -> Self::Ptr {
        Gc::new(DNode {
            left,
            right,
            payload,
        })
    }

    fn est_node_bytes() -> usize {
        malloc_chunk(HEADER_BYTES + size_of::<DNode>())
    }

    fn setup() {
        set_collect_condition(counting_condition);
    }

    fn thread_collections() -> Option<u64> {
        Some(STARTED_HERE.with(Cell::get))
    }

    fn run_counters() -> CollectorCounters {
        CollectorCounters {
            // Relaxed: all mutators have been joined.
            cycles: Some(STARTED.load(Ordering::Relaxed)),
            ..CollectorCounters::default()
        }
    }
}
