//! tricolor-gc: this crate's collector. Roots are plain Rust values (each mutator's `Vec`
//! of `Gc` handles), found by the collector by subtraction, so the generic handle driver
//! runs it unchanged.
//!
//! Stalls are measured by the library itself: `gc::stats().pauses` (the last 256 stop or
//! handshake stalls) and `pause_count`, polled by the sampler every ~10 ms; the mutator's
//! own loop gaps are measured by the driver as for every runtime.
//!
//! Size estimate: the object is the 16-byte header plus the node, rounded up to the size
//! class the allocator picks for it (no per-allocation header beyond that).

use std::time::Duration;

use gc::{Gc, Trace};
use tricolor_gc_core::heap::SizeClass;

use super::handles::{self, HandleRuntime};
use super::tree::{Payload, TreeNode};
use super::Runtime;
use crate::sampler::{CollectorCounters, Poll, StallSource};

pub(crate) const RUNTIME: Runtime = Runtime {
    name: Tricolor::NAME,
    multi_thread: true,
    stalls: "measured: gc::stats().pauses (the stops that start a cycle and terminate its marking)",
    run: handles::run::<Tricolor>,
};

#[derive(Trace, Debug)]
pub(crate) struct TNode {
    left: Option<Gc<TNode>>,
    right: Option<Gc<TNode>>,
    #[gc(skip)]
    payload: Payload,
}

impl TreeNode for TNode {
    fn payload(&self) -> &Payload {
        &self.payload
    }
    fn left(&self) -> Option<&TNode> {
        self.left.as_deref()
    }
    fn right(&self) -> Option<&TNode> {
        self.right.as_deref()
    }
}

#[derive(Debug)]
pub(crate) struct Tricolor;

/// Header bytes of a managed object (type pointer + handle count + internal count).
const HEADER_BYTES: usize = 16;

impl HandleRuntime for Tricolor {
    const NAME: &'static str = "tricolor";
    type Node = TNode;
    type Ptr = Gc<TNode>;

    #[inline]
    fn node(left: Option<Gc<TNode>>, right: Option<Gc<TNode>>, payload: Payload) -> Gc<TNode> {
        Gc::new(TNode {
            left,
            right,
            payload,
        })
    }

    fn est_node_bytes() -> usize {
        let bytes = HEADER_BYTES + size_of::<TNode>();
        SizeClass::for_request(bytes, align_of::<TNode>().max(8))
            .map_or(bytes, |class| class.object_bytes())
    }

    fn stall_source() -> Option<Box<dyn StallSource>> {
        Some(Box::new(Source {
            seen: gc::stats().pause_count,
        }))
    }

    fn run_counters() -> CollectorCounters {
        counters(&gc::stats())
    }
}

fn counters(stats: &gc::Stats) -> CollectorCounters {
    CollectorCounters {
        cycles: Some(stats.cycles),
        heap_goal_bytes: Some(stats.heap_goal_bytes as u64),
        heap_bytes: Some(stats.heap_bytes as u64),
        assist_time: Some(stats.assist_time),
        mark_time: Some(stats.mark_time),
        sweep_time: Some(stats.sweep_time),
    }
}

/// Finds the stalls recorded since the previous poll by the library's running count.
struct Source {
    seen: u64,
}

impl StallSource for Source {
    fn poll(&mut self) -> Poll {
        let stats = gc::stats();
        let new = (stats.pause_count - self.seen).min(stats.pauses.len() as u64) as usize;
        self.seen = stats.pause_count;
        let new_pauses: Vec<Duration> = stats.pauses[stats.pauses.len() - new..].to_vec();
        Poll {
            counters: counters(&stats),
            new_pauses,
        }
    }
}
