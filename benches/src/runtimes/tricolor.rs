//! tricolor-gc: this crate's collector. A tree is a `Gc<TcNode<D>>`; roots are plain Rust
//! values (each mutator's `Vec` of handles), found by the collector by subtraction, so the
//! generic W2 handle driver and the generic W1 program run it unchanged.
//!
//! Stalls are measured by the library itself: `gc::stats().pauses` (the last 256
//! stop-the-world stalls) and `pause_count`, polled by the sampler every ~5 ms; the mutator's
//! own loop gaps are measured by the driver as for every runtime.
//!
//! Size estimate: the object is the 16-byte header plus the node, rounded up to the size
//! class the allocator picks for it (no per-allocation header beyond that).

use std::time::Duration;

use gc::{Gc, Trace};
use tricolor_gc_core::heap::SizeClass;

use super::handles::{self, HandleRuntime};
use super::{Runtime, W1, W2};
use crate::binary_trees::binary_trees;
use crate::sampler::{CollectorCounters, Poll, StallSource};
use crate::tree::{Children, Data, Payload, Tree};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: Tricolor::NAME,
    w1: Some(W1 {
        run: binary_trees::<Gc<TcNode<()>>>,
        in_all: true,
    }),
    w2: W2 {
        multi_thread: true,
        stalls:
            "measured: gc::stats().pauses (the stops that start a cycle and terminate its marking)",
        run: handles::run::<Tricolor>,
        available: super::always,
    },
};

/// A node: its children and its data (not traced: it holds no handles).
#[derive(Trace)]
pub(crate) struct TcNode<D: Data> {
    children: Children<Gc<TcNode<D>>>,
    #[gc(skip)]
    data: D,
}

impl<D: Data + Trace> Tree<D> for Gc<TcNode<D>> {
    type Alloc = ();
    #[inline]
    fn node(_: &(), children: Children<Self>, data: D) -> Self {
        Gc::new(TcNode { children, data })
    }
    fn data(&self) -> &D {
        &self.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.children.as_ref().map(|(l, r)| (l, r))
    }
}

/// The W2 handle driver's view of this runtime.
#[derive(Debug)]
pub(crate) struct Tricolor;

/// Header bytes of a managed object (type pointer + handle count + internal count).
const HEADER_BYTES: usize = 16;

impl HandleRuntime for Tricolor {
    const NAME: &'static str = "tricolor";
    type Tree = Gc<TcNode<Payload>>;

    fn est_node_bytes() -> usize {
        let bytes = HEADER_BYTES + size_of::<TcNode<Payload>>();
        SizeClass::for_request(bytes, align_of::<TcNode<Payload>>().max(8))
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
