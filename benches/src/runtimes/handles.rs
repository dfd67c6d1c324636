//! The churn driver (W2 and W3) for runtimes whose roots are plain Rust values: each
//! mutator thread owns a `Vec` of handles (its share of the live set), so a handle in the
//! `Vec` is a root by virtue of existing. Used by `tricolor`, `box`, `arc`, `rust_gc` (its
//! `Gc`s outside the heap are rooted) and `dumpster` (sync).
//!
//! The two workloads differ only in the tree type (`HandleRuntime::Tree` for W2,
//! `HandleRuntime::CyclicTree` for W3, whose nodes also point to their parents) and in
//! the check (`tree::check`, `tree::check_cyclic`); the loop below is the same.
//!
//! # Algorithm
//! 1. Spawn `--threads` mutators; each builds its slots (`Plan::slots_per_thread`) of
//!    `--live-depth` trees, then waits at a barrier.
//! 2. The main thread reads the RSS growth of the build, fixes the common start instant,
//!    starts the sampler (the runtime's `StallSource`, if any) and releases the mutators.
//! 3. Each iteration: build a `--churn-depth` tree, check it, drop it; with probability
//!    `--replace-fraction` build a new live tree, swap it into a random slot, check the old
//!    tree (it has survived every collection since it was built) and drop it. Then
//!    `Probe::tick` records the loop gap.
//! 4. If the runtime counts collections on the current thread
//!    (`HandleRuntime::thread_collections`), an iteration during which the count moved
//!    ran a collection inline: its gap is recorded as a `Pause` (an upper bound: it also
//!    holds the iteration's own work, a few microseconds).
//! 5. At the deadline each thread reports, then drops its live set (untimed).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use crate::config::{Config, Workload};
use crate::outcome::{Plan, RunError, RunOutcome, ThreadResult};
use crate::probe::{Durations, Kind, Probe, Sample};
use crate::progress::{self, Line};
use crate::sampler::{CollectorCounters, Progress, Sampled, Sampler, StallSource, Watch};
use crate::tree::{self, Corrupt, CyclicTree, Payload, Rng, Tree};

/// A runtime driven by [`run`].
pub(crate) trait HandleRuntime: 'static {
    const NAME: &'static str;
    /// The runtime's W2 tree (its handle type).
    type Tree: Tree<Payload, Alloc = ()>;
    /// Its W3 tree: the same shape, every node also holding an edge to its parent.
    type CyclicTree: CyclicTree<Payload, Alloc = ()>;

    /// Estimated bytes per node of `workload`'s tree: the allocation's header plus the
    /// node, rounded to the allocator's granularity. Say in the impl where the header size
    /// comes from.
    fn est_node_bytes(workload: Workload) -> usize;

    /// Called once before anything is allocated.
    fn setup() {}

    /// The process-wide pause history, polled by the sampler thread.
    fn stall_source() -> Option<Box<dyn StallSource>> {
        None
    }

    /// Collections run so far *on this thread*, for runtimes that collect inline in the
    /// mutator (step 4 of the module docs); `None` if unknown.
    fn thread_collections() -> Option<u64> {
        None
    }

    /// Counters read on each mutator thread when its churn ends (thread-local heaps).
    fn thread_counters() -> CollectorCounters {
        CollectorCounters::default()
    }

    /// Counters read once after all mutators finished (process-wide heaps).
    fn run_counters() -> CollectorCounters {
        CollectorCounters::default()
    }
}

/// How a workload checks its trees: `tree::check` or `tree::check_cyclic`.
type Check<T> = fn(&T, u64) -> Result<(), Corrupt>;

/// Runs `cfg.workload` on `R` (the `run` of its registry entry).
pub(crate) fn run<R: HandleRuntime>(cfg: &Config) -> Result<RunOutcome, RunError> {
    match cfg.workload {
        Workload::W2 => churn::<R, R::Tree>(cfg, tree::check::<Payload, R::Tree>),
        Workload::W3 => {
            churn::<R, R::CyclicTree>(cfg, tree::check_cyclic::<Payload, R::CyclicTree>)
        }
    }
}

/// Runs the churn on `R` with trees of type `T`, each checked by `check`.
fn churn<R: HandleRuntime, T: Tree<Payload, Alloc = ()> + 'static>(
    cfg: &Config,
    check: Check<T>,
) -> Result<RunOutcome, RunError> {
    R::setup();
    let plan = Plan::new(cfg, R::est_node_bytes(cfg.workload));
    let threads = cfg.threads;
    let built = Arc::new(Barrier::new(threads + 1));
    let go = Arc::new(Barrier::new(threads + 1));
    let start_at = Arc::new(OnceLock::<Instant>::new());
    let progress = Arc::new(Progress::default());
    let duration = Duration::from_secs_f64(cfg.duration_s);

    let line = Line::building(progress::label(R::NAME, cfg.position.as_deref()), cfg.quiet);
    let rss_before = tricolor_gc_core::process_rss_bytes();
    let build_start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|idx| {
            let (built, go, start_at, progress) = (
                Arc::clone(&built),
                Arc::clone(&go),
                Arc::clone(&start_at),
                Arc::clone(&progress),
            );
            let (cfg, plan) = (cfg.clone(), plan.clone());
            std::thread::Builder::new()
                .name(format!("mutator-{idx}"))
                .spawn(move || {
                    mutator::<R, T>(idx, &cfg, &plan, check, &built, &go, &start_at, &progress)
                })
                .expect("tricolor-gc-bench: cannot spawn a mutator thread")
        })
        .collect();
    built.wait();
    let build_time = build_start.elapsed();
    let build_rss_bytes = tricolor_gc_core::process_rss_bytes()
        .zip(rss_before)
        .map(|(after, before)| after.saturating_sub(before) as u64);

    let start = Instant::now();
    start_at
        .set(start)
        .expect("tricolor-gc-bench: churn start set twice");
    let source = R::stall_source();
    let has_source = source.is_some();
    let sampler = Sampler::start(Watch {
        source,
        progress: Arc::clone(&progress),
        line: line.churning(duration, cfg.quiet),
        start,
        live_bytes: plan.live_bytes(),
    });
    go.wait();

    let mut results = Vec::with_capacity(threads);
    let mut first_error = None;
    let mut thread_counters = Vec::new();
    for h in handles {
        match h
            .join()
            .expect("tricolor-gc-bench: a mutator thread panicked")
        {
            Ok((r, c)) => {
                results.push(r);
                thread_counters.push(c);
            }
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    let churn_time = start.elapsed();
    let mut sampled = sampler.finish();
    if let Some(e) = first_error {
        return Err(e);
    }

    let per_thread = sum_counters(&thread_counters);
    let counters = merge(
        merge(
            sampled.counters.take().unwrap_or_default(),
            R::run_counters(),
        ),
        per_thread,
    );
    let attributes_stalls = R::thread_collections().is_some();
    Ok(assemble(
        R::NAME,
        threads,
        plan,
        build_time,
        build_rss_bytes,
        churn_time,
        results,
        sampled,
        has_source || attributes_stalls,
        counters,
    ))
}

#[allow(clippy::too_many_arguments)] // one call site; the arguments are the run's parts
/// Puts a run together from its parts: merges the threads' probes and the collector's
/// samples (sorted by time), reads the peak RSS.
pub(crate) fn assemble(
    runtime: &'static str,
    threads: usize,
    plan: Plan,
    build_time: Duration,
    build_rss_bytes: Option<u64>,
    churn_time: Duration,
    results: Vec<ThreadResult>,
    sampled: Sampled,
    stalls_observed: bool,
    counters: CollectorCounters,
) -> RunOutcome {
    let mut gaps = Durations::default();
    let mut samples = sampled.samples;
    let mut out_nodes = 0;
    let mut iterations = 0;
    let mut replaced = 0;
    let mut dropped = 0;
    let mut max_gap_per_thread = Vec::new();
    for r in results {
        gaps.merge(&r.probe.hist);
        max_gap_per_thread.push(r.probe.hist.max());
        samples.extend(r.probe.samples);
        samples.extend(r.stalls);
        dropped += r.probe.dropped_samples;
        out_nodes += r.nodes;
        iterations += r.iterations;
        replaced += r.replaced;
    }
    samples.sort_by_key(|s| s.t);
    let stalls_note = super::by_name(runtime).map_or("", |r| r.churn.stalls);
    RunOutcome {
        runtime,
        stalls_note,
        threads,
        plan,
        build_time,
        build_rss_bytes,
        churn_time,
        nodes_allocated: out_nodes,
        iterations,
        replaced,
        gaps,
        max_gap_per_thread,
        samples,
        dropped_samples: dropped,
        stalls_observed,
        counters,
        peak_rss_bytes: tricolor_gc_core::process_peak_rss_bytes().map(|b| b as u64),
        timeline: sampled.timeline,
        version: None,
    }
}

/// Field-wise `a.or(b)`.
pub(crate) fn merge(a: CollectorCounters, b: CollectorCounters) -> CollectorCounters {
    CollectorCounters {
        cycles: a.cycles.or(b.cycles),
        heap_goal_bytes: a.heap_goal_bytes.or(b.heap_goal_bytes),
        heap_bytes: a.heap_bytes.or(b.heap_bytes),
        assist_time: a.assist_time.or(b.assist_time),
        mark_time: a.mark_time.or(b.mark_time),
        sweep_time: a.sweep_time.or(b.sweep_time),
        heap_objects: a.heap_objects.or(b.heap_objects),
        freed_by_counts: a.freed_by_counts.or(b.freed_by_counts),
    }
}

/// Sums per-thread counters (thread-local heaps); goals take the maximum.
fn sum_counters(all: &[CollectorCounters]) -> CollectorCounters {
    fn sum<T: Copy + std::iter::Sum<T>>(v: impl Iterator<Item = Option<T>> + Clone) -> Option<T> {
        v.clone().any(|x| x.is_some()).then(|| v.flatten().sum())
    }
    CollectorCounters {
        cycles: sum(all.iter().map(|c| c.cycles)),
        heap_goal_bytes: all.iter().filter_map(|c| c.heap_goal_bytes).max(),
        heap_bytes: sum(all.iter().map(|c| c.heap_bytes)),
        assist_time: sum(all.iter().map(|c| c.assist_time)),
        mark_time: sum(all.iter().map(|c| c.mark_time)),
        sweep_time: sum(all.iter().map(|c| c.sweep_time)),
        heap_objects: sum(all.iter().map(|c| c.heap_objects)),
        freed_by_counts: sum(all.iter().map(|c| c.freed_by_counts)),
    }
}

fn build_tree<T: Tree<Payload, Alloc = ()>>(depth: u32, rng: &mut Rng) -> T {
    tree::make(&(), depth, &mut || Payload::random(rng))
}

#[allow(clippy::too_many_arguments)] // one call site; the arguments are the thread's parts
fn mutator<R: HandleRuntime, T: Tree<Payload, Alloc = ()>>(
    idx: usize,
    cfg: &Config,
    plan: &Plan,
    check: Check<T>,
    built: &Barrier,
    go: &Barrier,
    start_at: &OnceLock<Instant>,
    progress: &Progress,
) -> Result<(ThreadResult, CollectorCounters), RunError> {
    let corrupt = |detail| RunError::Corrupt {
        runtime: R::NAME,
        thread: idx,
        detail,
    };
    let mut rng = tree::rng(cfg.seed, idx as u64);
    let mut slots: Vec<T> = (0..plan.slots_per_thread[idx])
        .map(|_| build_tree::<T>(cfg.live_depth, &mut rng))
        .collect();
    built.wait();
    go.wait();
    let start = *start_at
        .get()
        .expect("tricolor-gc-bench: churn start not set before release");
    let deadline = start + Duration::from_secs_f64(cfg.duration_s);
    let threshold = Duration::from_micros(cfg.gap_threshold_us);
    let mut probe = Probe::new(idx, start, threshold);
    let mut stalls = Vec::new();
    let mut collections = R::thread_collections();
    let (mut nodes, mut published, mut iterations, mut replaced) = (0u64, 0u64, 0u64, 0u64);
    loop {
        let t = build_tree::<T>(cfg.churn_depth, &mut rng);
        check(&t, plan.churn_tree_nodes).map_err(corrupt)?;
        drop(t);
        nodes += plan.churn_tree_nodes;
        if !slots.is_empty() && rng.f64() < cfg.replace_fraction {
            let i = rng.usize(..slots.len());
            let fresh = build_tree::<T>(cfg.live_depth, &mut rng);
            let old = std::mem::replace(&mut slots[i], fresh);
            check(&old, plan.live_tree_nodes).map_err(corrupt)?;
            drop(old);
            nodes += plan.live_tree_nodes;
            replaced += 1;
        }
        iterations += 1;
        let (now, gap) = probe.tick();
        if let Some(before) = collections {
            let after = R::thread_collections();
            if after != Some(before) {
                stalls.push(Sample {
                    kind: Kind::Pause,
                    thread: Some(idx),
                    t: now.saturating_duration_since(start),
                    dur: gap,
                });
                collections = after;
            }
        }
        if iterations % 256 == 0 {
            // Relaxed: a progress figure for the sampler; totals come from the join.
            progress
                .nodes
                .fetch_add(nodes - published, Ordering::Relaxed);
            published = nodes;
        }
        if now >= deadline {
            break;
        }
    }
    let counters = R::thread_counters();
    let result = ThreadResult {
        probe,
        stalls,
        nodes,
        iterations,
        replaced,
    };
    drop(slots);
    Ok((result, counters))
}
