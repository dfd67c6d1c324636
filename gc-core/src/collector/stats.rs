//! Collector statistics: the public [`Stats`] snapshot and the per-cycle trace line.

use std::collections::VecDeque;
use std::time::Duration;

use parking_lot::Mutex;

/// How many recent stalls `Stats::pauses` keeps.
pub(crate) const PAUSE_HISTORY: usize = 256;

/// A snapshot of the collector's counters, from [`stats`](crate::stats).
///
/// # Examples
/// ```
/// let before = tricolor_gc_core::stats();
/// tricolor_gc_core::collect();
/// let after = tricolor_gc_core::stats();
/// assert!(after.cycles > before.cycles);
/// assert!(after.pauses.len() <= 256);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Completed collection cycles.
    pub cycles: u64,
    /// Managed objects allocated and not yet freed. After [`collect`](crate::collect)
    /// returns on a quiet heap it counts exactly the survivors.
    pub heap_objects: usize,
    /// Bytes of the heap in use (pessimistic like Go's `heapLive`: slots of spans held by
    /// thread caches count in full).
    pub heap_bytes: usize,
    /// The heap size at which the next automatic cycle is due.
    pub heap_goal_bytes: usize,
    /// Sum of all stop-the-world stalls (two a cycle: its start and mark termination, plus a
    /// retried termination's; and, between cycles, the rare stop that publishes a
    /// thread's count-zero buffer that waited too long).
    pub total_pause: Duration,
    /// The last 256 stop-the-world stalls, oldest first.
    pub pauses: Vec<Duration>,
    /// Cycles started by the periodic timer (no cycle for the forced period).
    pub forced_cycles: u64,
    /// Time mutators spent in mark assists: scanning grey objects, or waiting for the
    /// collector's threads, because they allocated while a cycle ran (Go's assists; the
    /// pacer sizes them so that the heap reaches its goal when the cycle ends).
    pub assist_time: Duration,
    /// Grey objects that mutators scanned in mark assists (the part of `assist_time` that
    /// did marking; the rest waited for the collector's threads).
    pub assist_scanned_objects: u64,
    /// Wall time of all concurrent counting, roots and marking phases so far.
    pub mark_time: Duration,
    /// Wall time of all sweeps so far.
    pub sweep_time: Duration,
    /// Spans the sweeps swept, summed over cycles.
    pub swept_spans: u64,
    /// Of those, spans swept by bitmap alone: none of their objects has drop glue (a
    /// `Gc<[u64; 8]>`, a `Gc<f64>`), so the sweep flipped their bitmaps without visiting a
    /// dead object (a span holding one object with drop glue is visited whole).
    pub bitmap_swept_spans: u64,
    /// CPU time the mark workers spent counting, finding roots and marking, summed over
    /// workers and cycles (Go's `gcController` background mark time).
    pub mark_cpu: Duration,
    /// The in-use heap bytes at which the last automatic cycle was armed to start (the
    /// trigger; `usize::MAX` while automatic cycles are off).
    pub last_trigger_bytes: usize,
    /// Stop-the-world stalls so far (`pauses` keeps only the last 256).
    pub pause_count: u64,
    /// Objects freed by count-zero reclamation (their handle count reached zero, DESIGN
    /// §3b), without any tracing, in any phase: in place by the thread that dropped the
    /// last handle (no drop glue), by that thread's reclaim assists, or by the collector
    /// thread's drain. Included in the frees behind `heap_objects`. Stays zero with
    /// `TRICOLOR_PROMPT_RECLAIM=0`.
    pub reclaimed_objects: u64,
    /// The slot bytes of the `reclaimed_objects` (each object's size-class slot, or its
    /// large span: what `heap_bytes` loses when the slot is reused).
    pub reclaimed_bytes: u64,
    /// Time threads spent in reclaim assists: freeing batches of the count-zero objects
    /// their own drops produced (drop glue included) and a share of the published backlog
    /// when it is long. The cost of prompt reclamation that mutators pay, as
    /// `assist_time` is marking's.
    pub reclaim_assist_time: Duration,
    /// Destructors that panicked while their count-zero object was reclaimed (caught; the
    /// object was freed anyway and reported on stderr).
    pub reclaim_drop_panics: u64,
    /// Every destructor that panicked while the collector ran it: in the sweep, in
    /// count-zero reclamation (also counted in `reclaim_drop_panics`), and of pooled values
    /// that cycles dropped (also in their pool's `PoolStats::drop_panics`). Each panic was
    /// caught and reported on stderr, and its object freed; the heap stays consistent.
    pub drop_panics: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) cycles: u64,
    pub(crate) pause_count: u64,
    pub(crate) mark_time: Duration,
    pub(crate) sweep_time: Duration,
    pub(crate) swept_spans: u64,
    pub(crate) bitmap_swept_spans: u64,
    pub(crate) mark_cpu: Duration,
    pub(crate) trigger_bytes: usize,
    pub(crate) forced_cycles: u64,
    /// Objects freed by cycles' sweeps (count-zero reclamation counts its own per thread,
    /// `heap::counter_totals`).
    pub(crate) freed_objects: u64,
    /// Reclaimed objects, bytes and assist nanoseconds when the last cycle's trace line
    /// was made.
    pub(crate) reclaimed_at_last_cycle: (u64, u64, u64),
    /// Destructors that panicked in sweeps and pools (count-zero reclamation counts its
    /// own, `reclaim::drop_panics`).
    pub(crate) drop_panics: u64,
    pub(crate) total_pause: Duration,
    pub(crate) pauses: VecDeque<Duration>,
    pub(crate) heap_goal_bytes: usize,
}

pub(crate) static COUNTERS: Mutex<Counters> = Mutex::new(Counters {
    cycles: 0,
    pause_count: 0,
    mark_time: Duration::ZERO,
    sweep_time: Duration::ZERO,
    swept_spans: 0,
    bitmap_swept_spans: 0,
    mark_cpu: Duration::ZERO,
    trigger_bytes: usize::MAX,
    forced_cycles: 0,
    freed_objects: 0,
    reclaimed_at_last_cycle: (0, 0, 0),
    drop_panics: 0,
    total_pause: Duration::ZERO,
    pauses: VecDeque::new(),
    heap_goal_bytes: 0,
});

impl Counters {
    pub(crate) fn record_pause(&mut self, pause: Duration) {
        if self.pauses.len() == PAUSE_HISTORY {
            self.pauses.pop_front();
        }
        self.pauses.push_back(pause);
        self.total_pause += pause;
        self.pause_count += 1;
    }
}

/// One line per cycle, like `GODEBUG=gctrace=1`.
#[derive(Debug, Default)]
pub(crate) struct CycleTrace {
    pub(crate) cycle: u64,
    pub(crate) reason: &'static str,
    /// The starting stop (the world stopped until it restarts), and of it the wait for
    /// every thread's op to end.
    pub(crate) start_stop: Duration,
    pub(crate) start_stopping: Duration,
    pub(crate) count: Duration,
    pub(crate) roots: Duration,
    pub(crate) mark: Duration,
    pub(crate) termination: Duration,
    /// Of the last (successful) termination stop: the wait for every thread's op to end,
    /// and the flush of every thread cache.
    pub(crate) termination_parts: (Duration, Duration),
    pub(crate) sweep: Duration,
    pub(crate) stop_attempts: u32,
    pub(crate) heap_before: usize,
    pub(crate) heap_after: usize,
    pub(crate) heap_goal: usize,
    /// The trigger armed after this cycle, and the one in force when it started.
    pub(crate) trigger: usize,
    pub(crate) started_at_trigger: usize,
    /// The cycle's scan work in the pacer's units (`pacing.rs`), and the assists' part.
    pub(crate) scan_work: (u64, u64),
    /// The pacer's cons/mark estimate after the cycle.
    pub(crate) cons_mark: Option<f64>,
    /// Mark assists during the cycle: time (working or waiting) and objects scanned.
    pub(crate) mark_assist: (Duration, u64),
    /// Spans the sweep swept, and of those the ones swept by bitmap alone (no drop glue).
    pub(crate) swept_spans: (usize, usize),
    /// After the cycle: bytes of pages in spans, of free pages still resident, and of free
    /// pages given back to the OS.
    pub(crate) pages: (usize, usize, usize),
    /// Bytes the sweep kept, and of those the bytes allocated black during `Mark`.
    pub(crate) live: (usize, usize),
    pub(crate) roots_found: usize,
    pub(crate) scanned: usize,
    pub(crate) freed: usize,
    pub(crate) discarded_zero: usize,
    /// Objects whose count reached zero during `Mark` that the cycle marked (left to the
    /// drain after its sweep), and that it did not (its sweep frees them; R1b).
    pub(crate) mark_zeros_kept: usize,
    pub(crate) mark_zeros_swept: usize,
    /// Count-zero objects freed (by any thread) since the previous cycle's line, and their
    /// bytes.
    pub(crate) reclaimed: (u64, u64),
    /// Of those, the ones the mark workers freed during this cycle's sweep.
    pub(crate) reclaimed_by_workers: usize,
    /// Reclaim assist time since the previous cycle's line.
    pub(crate) assist: Duration,
    /// Count-zero objects that threads were freeing when the starting stop came, claimed
    /// for them as born (R5).
    pub(crate) claimed_zero: usize,
    /// How long a requested cycle waited for reclaim batches in flight before its
    /// starting stop (R5b; mutators run meanwhile, so not part of the pause).
    pub(crate) gate_wait: Duration,
    pub(crate) threads: usize,
    pub(crate) workers: usize,
    pub(crate) mark_cpu: Duration,
    pub(crate) trace_panics: usize,
    pub(crate) drop_panics: usize,
    pub(crate) abandoned: bool,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// KiB, or "off" for a disarmed trigger (`usize::MAX`).
fn kib_or_off(bytes: usize) -> String {
    if bytes == usize::MAX {
        "off".to_string()
    } else {
        (bytes / 1024).to_string()
    }
}

impl CycleTrace {
    pub(crate) fn line(&self) -> String {
        format!(
            "gc {} ({}): gate wait {:.3} ms, start stw {:.3} ms (stopping {:.3} ms), count {:.3} ms, roots {:.3} ms, mark {:.3} ms, \
             termination stw {:.3} ms ({} tries; stopping {:.3} ms, cache flush {:.3} ms), sweep {:.3} ms ({} spans, {} by bitmap alone); heap {} -> {} KiB (kept {} KiB, {} KiB of it allocated during mark), goal {} KiB, \
             pages: {} KiB in spans, {} KiB free resident, {} KiB released; trigger {} KiB (started at {} KiB); scan work {} ({} by assists), cons/mark {}, mark assists {:.3} ms ({} scanned); \
             roots {}, scanned {}, freed {} ({} left by count-zero queues, {} claimed in flight); zero during mark {} kept for the drain, {} swept; reclaimed since the last cycle {} objects, {} KiB ({} by mark workers during the sweep; assists {:.3} ms); {} threads, mark workers {} (mark cpu {:.3} ms){}{}{}",
            self.cycle,
            self.reason,
            ms(self.gate_wait),
            ms(self.start_stop),
            ms(self.start_stopping),
            ms(self.count),
            ms(self.roots),
            ms(self.mark),
            ms(self.termination),
            self.stop_attempts,
            ms(self.termination_parts.0),
            ms(self.termination_parts.1),
            ms(self.sweep),
            self.swept_spans.0,
            self.swept_spans.1,
            self.heap_before / 1024,
            self.heap_after / 1024,
            self.live.0 / 1024,
            self.live.1 / 1024,
            self.heap_goal / 1024,
            self.pages.0 / 1024,
            self.pages.1 / 1024,
            self.pages.2 / 1024,
            kib_or_off(self.trigger),
            kib_or_off(self.started_at_trigger),
            self.scan_work.0,
            self.scan_work.1,
            self.cons_mark
                .map_or_else(|| "none".to_string(), |c| format!("{c:.3}")),
            ms(self.mark_assist.0),
            self.mark_assist.1,
            self.roots_found,
            self.scanned,
            self.freed,
            self.discarded_zero,
            self.claimed_zero,
            self.mark_zeros_kept,
            self.mark_zeros_swept,
            self.reclaimed.0,
            self.reclaimed.1 / 1024,
            self.reclaimed_by_workers,
            ms(self.assist),
            self.threads,
            self.workers,
            ms(self.mark_cpu),
            if self.trace_panics > 0 {
                format!("; {} Trace panics", self.trace_panics)
            } else {
                String::new()
            },
            if self.drop_panics > 0 {
                format!("; {} drop panics", self.drop_panics)
            } else {
                String::new()
            },
            if self.abandoned {
                "; ABANDONED (nothing freed)"
            } else {
                ""
            },
        )
    }
}
