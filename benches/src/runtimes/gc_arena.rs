//! `gc-arena` 0.7: an incremental (not concurrent) tricolor mark-sweep collector inside a
//! closed, single-threaded arena; a tree is a `Gc<ANode<D>>`. Its driver differs from `handles.rs` because `Gc<'gc, _>`
//! cannot leave `Arena::mutate`: the live set is the arena's root, a
//! `Gc<RefLock<Vec<Gc<ANode>>>>`, and collection can only run between `mutate` calls.
//!
//! # Algorithm
//! 1. Build the live set in batches of [`BUILD_BATCH`] trees per `mutate` call, paying the
//!    allocation debt between batches exactly as in the churn (step 3).
//! 2. Churn: one `mutate` call per iteration does the iteration (allocate, check and drop
//!    a short-lived tree; maybe replace a slot through `RefLock::borrow_mut(mc)`, whose write
//!    barrier keeps the incremental marking correct, and check the old tree).
//! 3. Between iterations, when `Metrics::allocation_debt` exceeds [`DEBT_GRANULARITY`],
//!    call `Arena::collect_debt` with the default `Pacing`. The crate's docs say there is no
//!    minimum unit of work, so calling it only above some threshold is cheaper: this is the
//!    intended way to drive it, and the collector's own pacing decides how much work each
//!    call does.
//! 4. Each `collect_debt` call stops the mutator for its whole duration, so it is recorded
//!    as a `Pause`: these are exact, measured around the call. A call that starts while the
//!    arena is sleeping or marking counts as mark time, one that starts while it sweeps as
//!    sweep time. A cycle is counted when a call starts in `Sweeping` and ends outside it.
//!
//! W1 runs in the same way: one `mutate` call per short-lived tree, the debt paid between
//! calls ([`binary_trees`]).
//!
//! W2 and W3 differ only in the node ([`Shape`]): W3's `ANodeW3` also holds its parent in
//! gc-arena's own cell, a `Lock<Option<Gc<..>>>`, set once through `Gc::write` (the
//! backward barrier) after the parent is allocated.
//!
//! Size estimate: `GcHeader` (`next` pointer + tagged vtable pointer, 16 bytes) + the node
//! (children and data; in W3 also the parent `Lock`), rounded to glibc's chunk (gc-arena allocates each `Gc` with
//! `alloc::alloc`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use gc_arena::arena::{CollectionPhase, Root};
use gc_arena::barrier::unlock;
use gc_arena::{Arena, Collect, Gc, Lock, Mutation, RefLock, Rootable};

use super::handles::{assemble, merge};
use super::{Churn, Runtime, W1};
use crate::binary_trees::{iterations, MIN_DEPTH};
use crate::config::{Config, Workload};
use crate::outcome::{Plan, RunError, RunOutcome, ThreadResult};
use crate::probe::{Kind, Probe, Sample};
use crate::progress::{self, Line};
use crate::sampler::{CollectorCounters, Progress, Sampler, Watch};
use crate::timeline::{Cycle, Phase};
use crate::tree::{
    self, edge_matches, malloc_chunk, Children, Corrupt, CyclicTree, Data, Payload, Rng, Tree,
};

/// The registry entry.
pub(crate) const RUNTIME: Runtime = Runtime {
    name: NAME,
    w1: Some(W1 {
        run: binary_trees,
        in_all: false,
    }),
    churn: Churn {
        multi_thread: false,
        stalls: "measured: each Arena::collect_debt call between mutate calls (incremental \
                 steps paced by the crate's allocation debt)",
        run,
        available: super::always,
    },
};

const NAME: &str = "gc-arena";

/// Pay the allocation debt once it exceeds this many units (about as many allocations).
const DEBT_GRANULARITY: f64 = 1024.0;
/// Live trees built per `mutate` call during the build.
const BUILD_BATCH: usize = 256;
/// gc-arena's `GcHeader`: `next: Cell<Option<GcPtr>>` + `tagged_vtable: Cell<*const _>`.
const HEADER_BYTES: usize = 2 * size_of::<usize>();

/// A node: its children and its data (`require_static`: plain data, never traced).
#[derive(Collect)]
#[collect(no_drop, bound = "")]
struct ANode<'gc, D: Data> {
    children: Children<Gc<'gc, ANode<'gc, D>>>,
    #[collect(require_static)]
    data: D,
}

impl<'gc, D: Data> Tree<D> for Gc<'gc, ANode<'gc, D>> {
    type Alloc = Mutation<'gc>;
    #[inline]
    fn node(mc: &Mutation<'gc>, children: Children<Self>, data: D) -> Self {
        Gc::new(mc, ANode { children, data })
    }
    fn data(&self) -> &D {
        &self.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.children.as_ref().map(|(l, r)| (l, r))
    }
}

/// A W3 node: a W2 node plus an edge to its parent (`None` at the root).
#[derive(Collect)]
#[collect(no_drop)]
struct ANodeW3<'gc> {
    children: Children<NodeW3<'gc>>,
    parent: Lock<Option<NodeW3<'gc>>>,
    #[collect(require_static)]
    data: Payload,
}

impl<'gc> Tree<Payload> for NodeW3<'gc> {
    type Alloc = Mutation<'gc>;
    #[inline]
    fn node(mc: &Mutation<'gc>, children: Children<Self>, data: Payload) -> Self {
        let node = Gc::new(
            mc,
            ANodeW3 {
                children,
                parent: Lock::new(None),
                data,
            },
        );
        if let Some((l, r)) = node.children {
            for child in [l, r] {
                unlock!(Gc::write(mc, child), ANodeW3, parent).set(Some(node));
            }
        }
        node
    }
    fn data(&self) -> &Payload {
        &self.data
    }
    fn children(&self) -> Option<(&Self, &Self)> {
        self.children.as_ref().map(|(l, r)| (l, r))
    }
}

impl<'gc> CyclicTree<Payload> for NodeW3<'gc> {
    fn parent_is(&self, parent: Option<&Self>) -> bool {
        edge_matches(self.parent.get(), parent, |e, p| Gc::ptr_eq(e, *p))
    }
}

type Node<'gc, D> = Gc<'gc, ANode<'gc, D>>;
type NodeW3<'gc> = Gc<'gc, ANodeW3<'gc>>;
type Slots<'gc, S> = Gc<'gc, RefLock<Vec<<S as Shape>::Node<'gc>>>>;

/// What the churn driver needs of a workload's node: its type in the arena of any `'gc`,
/// its size and its check.
trait Shape: 'static {
    type Node<'gc>: Tree<Payload, Alloc = Mutation<'gc>> + Collect<'gc> + Copy + 'gc;
    /// The node's size (what the estimate adds the header to).
    const NODE_BYTES: usize;
    fn check(tree: &Self::Node<'_>, expected: u64) -> Result<(), Corrupt>;
}

/// W2's node.
struct Acyclic;

impl Shape for Acyclic {
    type Node<'gc> = Node<'gc, Payload>;
    const NODE_BYTES: usize = size_of::<ANode<'static, Payload>>();
    fn check(tree: &Self::Node<'_>, expected: u64) -> Result<(), Corrupt> {
        tree::check(tree, expected)
    }
}

/// W3's node.
struct Cyclic;

impl Shape for Cyclic {
    type Node<'gc> = NodeW3<'gc>;
    const NODE_BYTES: usize = size_of::<ANodeW3<'static>>();
    fn check(tree: &Self::Node<'_>, expected: u64) -> Result<(), Corrupt> {
        tree::check_cyclic(tree, expected)
    }
}

fn build_tree<'gc, S: Shape>(mc: &Mutation<'gc>, depth: u32, rng: &mut Rng) -> S::Node<'gc> {
    tree::make(mc, depth, &mut || Payload::random(rng))
}

/// W1 (`binary_trees.rs`) with one `mutate` per tree, paying the allocation debt between
/// calls as the W2 driver does; returns the sum of all checks.
fn binary_trees(max_depth: u32) -> u64 {
    let make = |mc: &Mutation<'_>, depth| {
        tree::count(&tree::make::<(), Node<'_, ()>>(mc, depth, &mut || ()))
    };
    let stretch = Arena::<Rootable![()]>::new(|_| ());
    let mut sum = stretch.mutate(|mc, _| make(mc, max_depth + 1));
    drop(stretch);
    let mut arena =
        Arena::<Rootable![Node<'_, ()>]>::new(|mc| tree::make(mc, max_depth, &mut || ()));
    for d in (MIN_DEPTH..=max_depth).step_by(2) {
        for _ in 0..iterations(max_depth, d) {
            sum += arena.mutate(|mc, _| make(mc, d));
            if arena.metrics().allocation_debt() > DEBT_GRANULARITY {
                arena.collect_debt();
            }
        }
    }
    sum + arena.mutate(|_, root| tree::count(root))
}

/// Collection bookkeeping across `collect_debt` calls.
#[derive(Default)]
struct Collector {
    pauses: Vec<Sample>,
    mark: Duration,
    sweep: Duration,
    cycles: u64,
    /// Cycles of the churn, for the timeline: a cycle starts with the call that leaves
    /// `Sleeping`, its sweep with the call that enters `Sweeping`, and it ends with the
    /// call that leaves `Sweeping`.
    cycle_spans: Vec<Cycle>,
    /// The running cycle's start and sweep start (ms since the churn started).
    running: Option<(f64, Option<f64>)>,
}

impl Collector {
    /// Pays the debt if it is above the granularity; records the call when `start` is set.
    fn pay<R>(&mut self, arena: &mut Arena<R>, start: Option<Instant>)
    where
        R: for<'a> Rootable<'a>,
        for<'a> Root<'a, R>: Collect<'a>,
    {
        if arena.metrics().allocation_debt() <= DEBT_GRANULARITY {
            return;
        }
        let before = arena.collection_phase();
        let t0 = Instant::now();
        arena.collect_debt();
        let t1 = Instant::now();
        let Some(start) = start else { return };
        let dur = t1 - t0;
        match before {
            CollectionPhase::Sweeping => self.sweep += dur,
            _ => self.mark += dur,
        }
        let after = arena.collection_phase();
        self.track(
            before,
            after,
            t0.saturating_duration_since(start),
            t1.saturating_duration_since(start),
        );
        if before == CollectionPhase::Sweeping && after != before {
            self.cycles += 1;
        }
        self.pauses.push(Sample {
            kind: Kind::Pause,
            thread: Some(0),
            t: t1.saturating_duration_since(start),
            dur,
        });
    }
}

impl Collector {
    /// Follows the phase across one call that ran from `t0` to `t1` (module docs of
    /// `Collector::cycle_spans`).
    fn track(
        &mut self,
        before: CollectionPhase,
        after: CollectionPhase,
        t0: Duration,
        t1: Duration,
    ) {
        let (t0, t1) = (t0.as_secs_f64() * 1e3, t1.as_secs_f64() * 1e3);
        if before == CollectionPhase::Sleeping && after != before {
            self.running = Some((t0, None));
        }
        if let Some((_, sweep @ None)) = self.running.as_mut() {
            if after == CollectionPhase::Sweeping {
                *sweep = Some(t1);
            }
        }
        if before == CollectionPhase::Sweeping && after != before {
            if let Some((start, sweep)) = self.running.take() {
                let sweep = sweep.unwrap_or(t0);
                self.cycle_spans.push(Cycle {
                    cycle: self.cycles + 1,
                    cycles: 1,
                    phases: vec![
                        Phase {
                            phase: "mark".into(),
                            start_ms: start,
                            end_ms: sweep,
                        },
                        Phase {
                            phase: "sweep".into(),
                            start_ms: sweep,
                            end_ms: t1,
                        },
                    ],
                });
            }
        }
    }
}

fn run(cfg: &Config) -> Result<RunOutcome, RunError> {
    match cfg.workload {
        Workload::W2 => churn::<Acyclic>(cfg),
        Workload::W3 => churn::<Cyclic>(cfg),
    }
}

/// The churn on the nodes of `S`.
fn churn<S: Shape>(cfg: &Config) -> Result<RunOutcome, RunError> {
    let plan = Plan::new(cfg, malloc_chunk(HEADER_BYTES + S::NODE_BYTES));
    let slots = plan.slots_per_thread[0];
    let mut rng = tree::rng(cfg.seed, 0);
    let mut collector = Collector::default();

    let line = Line::building(progress::label(NAME, cfg.position.as_deref()), cfg.quiet);
    let rss_before = tricolor_gc_core::process_rss_bytes();
    let build_start = Instant::now();
    let mut arena = Arena::<Rootable![Slots<'_, S>]>::new(|mc| {
        Gc::new(mc, RefLock::new(Vec::with_capacity(slots)))
    });
    let mut built = 0;
    while built < slots {
        let n = BUILD_BATCH.min(slots - built);
        arena.mutate(|mc, root| {
            for _ in 0..n {
                let t = build_tree::<S>(mc, cfg.live_depth, &mut rng);
                root.borrow_mut(mc).push(t);
            }
        });
        built += n;
        collector.pay(&mut arena, None);
    }
    let build_time = build_start.elapsed();
    let build_rss_bytes = tricolor_gc_core::process_rss_bytes()
        .zip(rss_before)
        .map(|(after, before)| after.saturating_sub(before) as u64);

    let progress = Arc::new(Progress::default());
    let duration = Duration::from_secs_f64(cfg.duration_s);
    let start = Instant::now();
    let sampler = Sampler::start(Watch {
        source: None,
        progress: Arc::clone(&progress),
        line: line.churning(duration, cfg.quiet),
        start,
        live_bytes: plan.live_bytes(),
    });
    let deadline = start + duration;
    let mut probe = Probe::new(0, start, Duration::from_micros(cfg.gap_threshold_us));
    let (mut nodes, mut published, mut iterations, mut replaced) = (0u64, 0u64, 0u64, 0u64);
    let result = loop {
        let step = arena.mutate(|mc, root| -> Result<bool, Corrupt> {
            let t = build_tree::<S>(mc, cfg.churn_depth, &mut rng);
            S::check(&t, plan.churn_tree_nodes)?;
            if slots > 0 && rng.f64() < cfg.replace_fraction {
                let i = rng.usize(..slots);
                let fresh = build_tree::<S>(mc, cfg.live_depth, &mut rng);
                let old = std::mem::replace(&mut root.borrow_mut(mc)[i], fresh);
                S::check(&old, plan.live_tree_nodes)?;
                return Ok(true);
            }
            Ok(false)
        });
        match step {
            Ok(did_replace) => {
                nodes += plan.churn_tree_nodes;
                if did_replace {
                    nodes += plan.live_tree_nodes;
                    replaced += 1;
                }
            }
            Err(detail) => {
                break Err(RunError::Corrupt {
                    runtime: NAME,
                    thread: 0,
                    detail,
                })
            }
        }
        collector.pay(&mut arena, Some(start));
        iterations += 1;
        let (now, _) = probe.tick();
        if iterations % 256 == 0 {
            progress
                .nodes
                .fetch_add(nodes - published, std::sync::atomic::Ordering::Relaxed);
            published = nodes;
        }
        if now >= deadline {
            break Ok(());
        }
    };
    let churn_time = start.elapsed();
    let mut sampled = sampler.finish();
    result?;
    sampled.timeline.cycles = std::mem::take(&mut collector.cycle_spans);
    let counters = merge(
        CollectorCounters {
            cycles: Some(collector.cycles),
            mark_time: Some(collector.mark),
            sweep_time: Some(collector.sweep),
            ..CollectorCounters::default()
        },
        sampled.counters.take().unwrap_or_default(),
    );
    let thread = ThreadResult {
        probe,
        stalls: collector.pauses,
        nodes,
        iterations,
        replaced,
    };
    let outcome = assemble(
        NAME,
        1,
        plan,
        build_time,
        build_rss_bytes,
        churn_time,
        vec![thread],
        sampled,
        true,
        counters,
    );
    drop(arena);
    Ok(outcome)
}
