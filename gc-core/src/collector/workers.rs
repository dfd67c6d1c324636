//! Background mark workers: the threads that count, find roots and mark in parallel
//! (Go's `gcBgMarkWorker`, with the dedicated-worker share of `gcController`).
//!
//! # Design
//! The collector thread drives a cycle. With more than one worker it does no marking
//! itself: for each concurrent step it posts a *job* and sleeps until every worker has
//! finished it:
//! - `Count` and `Roots` are parallel loops over the cycle's span snapshot: workers claim
//!   chunks of `CHUNK_SPANS` spans with one `fetch_add` on a shared cursor. Counting adds
//!   to headers' `internal` counts with atomic adds, so workers may count the same target.
//!   The roots step reads those counts, so it starts only after every worker finished
//!   counting (the job hand-off through `JOBS`' mutex orders them). Allocating threads in
//!   debt join these two jobs too (`join`, from `mark_assist.rs`): the job is open to them
//!   while it runs, and the collector closes it and waits for every joiner before the next
//!   step, so joiners' counts are complete before the roots step and the roots they shade
//!   are on the global list before marking.
//! - `Drain` marks: every worker pops from its own stack (`work::LocalWork`) or takes a
//!   buffer from the global list, traces, and shades into its stack. A worker that finds
//!   no work decrements `active` and polls: new global work brings it back; `active == 0`
//!   (every worker idle at once) ends the job. Ending early is harmless: mark termination
//!   re-checks every buffer with the world stopped and posts another drain if needed.
//!
//! **One worker: the collector thread marks.** With a single worker (the default below
//! eight CPUs), the collector thread runs `Count`, `Roots` and `Drain` itself, with its
//! own stack and tracer ([`Workers::run`]): the same code as a lone worker thread
//! runs, and the same steps one after the other (each ends before `run` returns), minus
//! the two thread wake-ups per step (post, finish), measured at 9 us per step on an idle
//! 2-core VM and 55 us on a busy one: 27 to 165 us per cycle. The worker thread then runs
//! only `Sweep`, which overlaps the collector's own work: chunks of the sweep's drop pass, its
//! free pass, then freeing published count-zero objects (posted only for a sweep of at
//! least `SWEEP_HELP_MIN_SPANS` spans, or with count-zero objects waiting: `cycle.rs`).
//! The collector thread counts with atomic adds even alone, since joiners may count beside
//! it (measured on W3: 5% of the count pass).
//!
//! The number of workers is fixed when the collector starts: `TRICOLOR_MARK_WORKERS`, or
//! a quarter of the CPUs, at least one (DESIGN §5). In the marking jobs workers run user
//! `Trace` impls; a panic there is caught per object (`mark.rs`) and reported in the job's
//! totals. The sweep jobs run drop glue, whose panics `sweep/` and `reclaim/` catch and
//! count. Any other
//! panic on a worker (or in a marking job the collector thread runs) aborts the process
//! (`fatal.rs`) instead of leaving the collector waiting for the worker forever.

use core::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::fatal;
use super::mark;
use super::pacing;
use super::work::{self, LocalWork};
use crate::heap::Span;
use crate::sync::{AtomicUsize, Ordering};
use crate::trace::Tracer;

/// Spans a worker claims at a time in `Count` and `Roots`.
pub(crate) const CHUNK_SPANS: usize = 8;
/// Objects a worker marks between two progress reports to the pacer.
const DRAIN_SLICE: usize = 2048;

/// A cycle's snapshot of the managed spans, shared with the workers.
#[derive(Debug)]
pub(crate) struct SpanSnapshot(pub(crate) Vec<NonNull<Span>>);

// SAFETY: span metadata lives for the process (heap `meta.rs`) and the spans of a snapshot
// stay in use while the heap's span frees are frozen, which lasts the whole mark phase;
// workers only read span bitmaps (atomics) and headers through them.
unsafe impl Send for SpanSnapshot {}
// SAFETY: as above.
unsafe impl Sync for SpanSnapshot {}

/// A step of a cycle, run by every worker.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum JobKind {
    /// `mark::count_internal` over the snapshot.
    Count,
    /// `mark::shade_roots` over the snapshot.
    Roots,
    /// Mark until no worker finds grey objects.
    Drain,
    /// The sweep's passes (`sweep::help_sweep`), then free published count-zero objects
    /// while the collector sweeps (`reclaim::help_during_sweep`); posted with
    /// [`Workers::post`].
    Sweep,
}

/// What a job found, summed over the workers.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct JobTotals {
    /// Objects traced (counted, or scanned while marking).
    pub(crate) traced: usize,
    /// Roots shaded.
    pub(crate) roots: usize,
    /// User `Trace` impls that panicked.
    pub(crate) panics: usize,
    /// Time the workers spent on the job, summed (the mark CPU of the trace line).
    pub(crate) busy: Duration,
}

impl JobTotals {
    fn add(&mut self, other: JobTotals) {
        self.traced += other.traced;
        self.roots += other.roots;
        self.panics += other.panics;
        self.busy += other.busy;
    }
}

#[derive(Debug)]
struct JobState {
    /// Incremented by each post; a worker runs each generation once.
    generation: u64,
    kind: JobKind,
    spans: Option<Arc<SpanSnapshot>>,
    /// Workers done with the current generation.
    finished: usize,
    totals: JobTotals,
}

static JOBS: Mutex<JobState> = Mutex::new(JobState {
    generation: 0,
    kind: JobKind::Drain,
    spans: None,
    finished: 0,
    totals: JobTotals {
        traced: 0,
        roots: 0,
        panics: 0,
        busy: Duration::ZERO,
    },
});
/// Wakes workers when a job is posted.
static POSTED: Condvar = Condvar::new();
/// Wakes the collector when the last worker finishes.
static FINISHED: Condvar = Condvar::new();
/// The loop cursor of `Count` and `Roots`: the next unclaimed span index.
static CURSOR: AtomicUsize = AtomicUsize::new(0);
/// Workers still looking for work in the current `Drain`.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// The `Count` or `Roots` job that allocating threads may join now (`join`), with its
/// snapshot; `None` outside those jobs.
static JOINABLE: Mutex<Option<(JobKind, Arc<SpanSnapshot>)>> = Mutex::new(None);
/// Threads inside a joined job (counted under `JOINABLE`'s lock).
static JOINERS: AtomicUsize = AtomicUsize::new(0);

/// Opens `kind` over `spans` to joiners (before the job runs).
fn open_to_joiners(kind: JobKind, spans: Option<&Arc<SpanSnapshot>>) {
    if let (JobKind::Count | JobKind::Roots, Some(spans)) = (kind, spans) {
        *JOINABLE.lock() = Some((kind, spans.clone()));
    }
}

/// Closes the job to joiners and waits for those inside it, so that the job's effects
/// (every count, every root shaded and published) are complete when the job returns.
fn close_to_joiners() {
    *JOINABLE.lock() = None;
    // SeqCst: pairs with the joiner's decrement after its last chunk, so its counts and
    // the buffers it published happen-before what the collector does next.
    crate::sync::spin_until(|| JOINERS.load(Ordering::SeqCst) == 0);
}

/// A mark assist's share of a running `Count` or `Roots` job (`mark_assist.rs`): claims up
/// to `max_chunks` chunks from the job's cursor and runs them like a worker. Returns the
/// job's scan work done (`pacing.rs`), 0 if no such job runs or none is left. Outside any
/// op: the collector waits for joiners before the next job (`close_to_joiners`), and the
/// roots a joiner shades go to the global list before it leaves.
pub(crate) fn join(max_chunks: usize) -> u64 {
    let job = {
        let joinable = JOINABLE.lock();
        let Some((kind, spans)) = joinable.as_ref() else {
            return 0;
        };
        JOINERS.fetch_add(1, Ordering::SeqCst);
        (*kind, spans.clone())
    };
    let (kind, spans) = job;
    let mut bytes = 0;
    let mut panics = 0;
    let mut local = LocalWork::new(true);
    let mut tracer = Tracer::new();
    claim_chunks(Some(&spans), max_chunks, |chunk, _| match kind {
        JobKind::Count => {
            panics += mark::count_internal(chunk, &mut tracer).1;
            bytes += allocated_bytes(chunk, true);
        }
        _ => {
            mark::shade_roots(chunk, &mut local);
            bytes += allocated_bytes(chunk, false);
        }
    });
    local.flush();
    if panics > 0 {
        pacing::note_assist_trace_panics(panics);
    }
    JOINERS.fetch_sub(1, Ordering::SeqCst);
    bytes as u64 / pacing::PASSES
}

/// The collector's handle on its workers.
#[derive(Debug)]
pub(crate) struct Workers {
    count: usize,
    /// With one worker, the collector thread's own stack and tracer: it runs `Count`,
    /// `Roots` and `Drain` itself instead of handing them over (module docs).
    own: Option<Mutex<OwnWork>>,
}

/// The collector thread's share of marking when it is the only marker.
#[derive(Debug)]
struct OwnWork {
    tracer: Tracer,
    local: LocalWork<'static>,
}

impl Workers {
    /// Starts `count` (at least one) worker threads.
    pub(crate) fn spawn(count: usize) -> Workers {
        let count = count.max(1);
        for index in 0..count {
            std::thread::Builder::new()
                .name(format!("tricolor-gc mark worker {index}"))
                .spawn(move || worker_main(count > 1))
                .expect("tricolor-gc: cannot start a mark worker thread");
        }
        let own = (count == 1).then(|| {
            Mutex::new(OwnWork {
                tracer: Tracer::new(),
                // Shares its surplus through the global list, where mark assists take it.
                local: LocalWork::new(true),
            })
        });
        Workers { count, own }
    }

    /// Number of workers.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Runs `kind` on every worker and returns when all have finished it. With one worker,
    /// runs `Count`, `Roots` and `Drain` on the calling (collector) thread instead (module
    /// docs).
    pub(crate) fn run(&self, kind: JobKind, spans: Option<&Arc<SpanSnapshot>>) -> JobTotals {
        if let Some(own) = self.own.as_ref().filter(|_| kind != JobKind::Sweep) {
            let mut own = own.lock();
            let OwnWork { tracer, local } = &mut *own;
            // Relaxed: the job runs on this thread (and joiners, which claim through the
            // `JOINABLE` lock taken after this store).
            CURSOR.store(0, Ordering::Relaxed);
            ACTIVE.store(1, Ordering::Relaxed);
            open_to_joiners(kind, spans);
            let totals = fatal::abort_on_panic("a mark worker", || {
                run_job(kind, spans.map(|spans| &**spans), tracer, local)
            });
            close_to_joiners();
            return totals;
        }
        self.post(kind, spans);
        open_to_joiners(kind, spans);
        let totals = self.wait();
        close_to_joiners();
        totals
    }

    /// Posts `kind` to every worker and returns at once; [`Workers::wait`] collects it. At
    /// most one job is posted at a time.
    pub(crate) fn post(&self, kind: JobKind, spans: Option<&Arc<SpanSnapshot>>) {
        // Relaxed: published to the workers by the JOBS lock below.
        CURSOR.store(0, Ordering::Relaxed);
        ACTIVE.store(self.count, Ordering::Relaxed);
        let mut state = JOBS.lock();
        state.generation += 1;
        state.kind = kind;
        state.spans = spans.cloned();
        state.finished = 0;
        state.totals = JobTotals::default();
        POSTED.notify_all();
    }

    /// Waits until every worker finished the posted job; returns its totals.
    pub(crate) fn wait(&self) -> JobTotals {
        let mut state = JOBS.lock();
        while state.finished < self.count {
            FINISHED.wait(&mut state);
        }
        state.spans = None;
        state.totals
    }
}

fn worker_main(share: bool) {
    super::cycle::set_on_collector();
    let mut tracer = Tracer::new();
    let mut local = LocalWork::new(share);
    let mut seen = 0u64;
    loop {
        let (kind, spans) = {
            let mut state = JOBS.lock();
            while state.generation == seen {
                POSTED.wait(&mut state);
            }
            seen = state.generation;
            (state.kind, state.spans.clone())
        };
        let totals = fatal::abort_on_panic("a mark worker", || {
            run_job(kind, spans.as_deref(), &mut tracer, &mut local)
        });
        drop(spans);
        let mut state = JOBS.lock();
        state.totals.add(totals);
        state.finished += 1;
        FINISHED.notify_one();
    }
}

/// One worker's share of a job, with its busy time.
fn run_job(
    kind: JobKind,
    spans: Option<&SpanSnapshot>,
    tracer: &mut Tracer,
    local: &mut LocalWork,
) -> JobTotals {
    let started = Instant::now();
    let mut totals = match kind {
        JobKind::Count => for_each_chunk(spans, |chunk, totals| {
            let (traced, panics) = mark::count_internal(chunk, tracer);
            totals.traced += traced;
            totals.panics += panics;
            pacing::note_background_bytes(allocated_bytes(chunk, true));
        }),
        JobKind::Roots => for_each_chunk(spans, |chunk, totals| {
            totals.roots += mark::shade_roots(chunk, local);
            pacing::note_background_bytes(allocated_bytes(chunk, false));
        }),
        JobKind::Drain => drain(local, tracer),
        JobKind::Sweep => {
            crate::sweep::help_sweep();
            JobTotals {
                traced: crate::reclaim::help_during_sweep(),
                ..JobTotals::default()
            }
        }
    };
    totals.busy = started.elapsed();
    totals
}

/// The allocated bytes of `chunk`'s spans (scannable spans only if `scan_only`: the count
/// pass skips the others), the pass's scan work (`pacing.rs`).
fn allocated_bytes(chunk: &[NonNull<Span>], scan_only: bool) -> usize {
    chunk
        .iter()
        // SAFETY: as in `mark::count_internal`: snapshot spans stay valid while frozen.
        .map(|span| unsafe { span.as_ref() })
        .filter(|span| !scan_only || !span.span_class().is_noscan())
        .map(|span| span.alloc_count() * span.elem_bytes())
        .sum()
}

/// Claims chunks of the snapshot until none is left.
fn for_each_chunk(
    spans: Option<&SpanSnapshot>,
    per_chunk: impl FnMut(&[NonNull<Span>], &mut JobTotals),
) -> JobTotals {
    claim_chunks(spans, usize::MAX, per_chunk)
}

/// Claims up to `max_chunks` chunks of the snapshot (fewer if none is left).
fn claim_chunks(
    spans: Option<&SpanSnapshot>,
    max_chunks: usize,
    mut per_chunk: impl FnMut(&[NonNull<Span>], &mut JobTotals),
) -> JobTotals {
    let mut totals = JobTotals::default();
    let Some(spans) = spans else {
        return totals;
    };
    for _ in 0..max_chunks {
        let start = CURSOR.fetch_add(CHUNK_SPANS, Ordering::Relaxed);
        if start >= spans.0.len() {
            return totals;
        }
        let end = (start + CHUNK_SPANS).min(spans.0.len());
        per_chunk(&spans.0[start..end], &mut totals);
    }
    totals
}

/// A worker's share of a `Drain` job (module docs).
fn drain(local: &mut LocalWork, tracer: &mut Tracer) -> JobTotals {
    let mut totals = JobTotals::default();
    loop {
        // In slices, so that assists waiting for credit see the progress (`pacing.rs`).
        loop {
            let (scanned, panics) = mark::drain(local, tracer, DRAIN_SLICE);
            totals.traced += scanned;
            totals.panics += panics;
            pacing::note_background_work(pacing::scanned_work(scanned));
            if scanned < DRAIN_SLICE {
                break;
            }
        }
        // Idle: leave the active set, and come back if work appears before everyone left.
        // SeqCst: with the re-check of the global list, so that the last worker to leave
        // cannot miss work another worker published before leaving.
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
        let mut spins = 0u32;
        loop {
            if !work::global_is_empty() {
                ACTIVE.fetch_add(1, Ordering::SeqCst);
                break;
            }
            if ACTIVE.load(Ordering::SeqCst) == 0 {
                debug_assert!(local.is_empty(), "a worker left a drain with grey objects");
                return totals;
            }
            if spins < 64 {
                core::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
            spins = spins.saturating_add(1);
        }
    }
}
