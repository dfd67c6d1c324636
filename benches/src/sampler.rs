//! The sampler thread: every [`INTERVAL`] it polls the runtime's [`StallSource`],
//! timestamps the stalls it reports, samples the heap timeline (`timeline.rs`), and drives
//! the progress line on stderr.
//!
//! # Algorithm
//! 1. Every `INTERVAL` (5 ms) call `StallSource::poll`, which returns the collector's
//!    counters and the stalls that are new since the previous poll.
//! 2. Give each new stall the time of the poll that found it (relative to the start of the
//!    churn phase): precise to one interval, which is what the timeline needs.
//! 3. Turn the growth of cumulative assist time into one `Assist` sample per interval.
//! 4. Record a timeline point: the counters' heap bytes and goal, the process RSS and the
//!    workload's live set; when the cycle count moved, reconstruct the cycle that ended
//!    (`timeline::Reconstruct`).
//! 5. Every 200 ms, update the progress line (`progress.rs`) with the nodes allocated.
//! 6. When the mutators are done, poll once more and hand everything back.
//!
//! Runtimes that expose no pause history have no `StallSource`; the report then says
//! "n/a" for collector stalls instead of pretending there were none.
//!
//! The tricolor runtime's source reads `gc::stats()`: `pauses` holds the last 256 stalls,
//! oldest first, and `pause_count` counts all of them, so the new ones are the last
//! `pause_count - previous` entries.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::probe::{Kind, Sample};
use crate::progress::Line;
use crate::timeline::{self, CycleCounters, Point, Reconstruct, Timeline, INTERVAL};

/// Counters a collector reports; `None` where the runtime does not expose the figure.
#[derive(Clone, Debug, Default)]
pub(crate) struct CollectorCounters {
    pub(crate) cycles: Option<u64>,
    pub(crate) heap_goal_bytes: Option<u64>,
    pub(crate) heap_bytes: Option<u64>,
    pub(crate) assist_time: Option<Duration>,
    pub(crate) mark_time: Option<Duration>,
    pub(crate) sweep_time: Option<Duration>,
    /// Objects in the heap (allocated, not yet freed), for runtimes that count them.
    pub(crate) heap_objects: Option<u64>,
    /// Objects freed because their reference count reached zero, without tracing
    /// (tricolor's count-zero reclamation): acyclic garbage only.
    pub(crate) freed_by_counts: Option<u64>,
}

/// What one poll returns.
#[derive(Debug, Default)]
pub(crate) struct Poll {
    pub(crate) counters: CollectorCounters,
    /// Stop-the-world stalls that ended since the previous poll.
    pub(crate) new_pauses: Vec<Duration>,
}

/// A runtime's process-wide pause history, polled from the sampler thread.
pub(crate) trait StallSource: Send {
    fn poll(&mut self) -> Poll;
}

impl CollectorCounters {
    /// What the cycle reconstruction needs, if the runtime reports all of it.
    fn cycle_counters(&self) -> Option<CycleCounters> {
        Some(CycleCounters {
            cycles: self.cycles?,
            mark_time: self.mark_time?,
            sweep_time: self.sweep_time?,
        })
    }
}

/// Everything the sampler saw.
#[derive(Debug, Default)]
pub(crate) struct Sampled {
    pub(crate) samples: Vec<Sample>,
    /// The last counters, or `None` if the runtime has no `StallSource`.
    pub(crate) counters: Option<CollectorCounters>,
    pub(crate) timeline: Timeline,
}

/// What the sampler watches.
pub(crate) struct Watch {
    pub(crate) source: Option<Box<dyn StallSource>>,
    pub(crate) progress: Arc<Progress>,
    /// The progress line, in its churn phase.
    pub(crate) line: Line,
    /// The common start of the churn phase.
    pub(crate) start: Instant,
    /// The workload's live set in bytes (the timeline's live line).
    pub(crate) live_bytes: u64,
}

/// Handle of a running sampler; `finish` stops and joins it.
#[derive(Debug)]
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Sampled>,
}

/// Shared progress of the mutators, read by the sampler for the progress line.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Nodes allocated so far by all mutators (published in batches).
    pub(crate) nodes: AtomicU64,
}

impl Sampler {
    /// Starts sampling.
    pub(crate) fn start(watch: Watch) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("bench-sampler".into())
            .spawn(move || run(watch, &stop2))
            .expect("tricolor-gc-bench: cannot spawn the sampler thread");
        Sampler { stop, thread }
    }

    /// Stops the sampler after one last poll; returns everything it saw.
    pub(crate) fn finish(self) -> Sampled {
        // Relaxed: the join below is the synchronisation; the flag only ends the loop.
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .expect("tricolor-gc-bench: the sampler thread panicked")
    }
}

fn run(watch: Watch, stop: &AtomicBool) -> Sampled {
    let Watch {
        mut source,
        progress,
        mut line,
        start,
        live_bytes,
    } = watch;
    let mut out = Sampled::default();
    out.timeline.live_source = timeline::LIVE_ESTIMATED;
    let mut last_assist = Duration::ZERO;
    let mut last_bar = start;
    let mut cycles: Option<Reconstruct> = None;
    loop {
        let done = stop.load(Ordering::Relaxed);
        let now = Instant::now();
        let t = now.saturating_duration_since(start);
        let mut point = Point {
            t,
            rss_bytes: tricolor_gc_core::process_rss_bytes().map(|b| b as u64),
            live_bytes: Some(live_bytes),
            ..Point::default()
        };
        if let Some(src) = source.as_mut() {
            let poll = src.poll();
            out.samples
                .extend(poll.new_pauses.iter().map(|&dur| Sample {
                    kind: Kind::Pause,
                    thread: None,
                    t,
                    dur,
                }));
            if let Some(assist) = poll.counters.assist_time {
                let grown = assist.saturating_sub(last_assist);
                if !grown.is_zero() {
                    out.samples.push(Sample {
                        kind: Kind::Assist,
                        thread: None,
                        t,
                        dur: grown,
                    });
                }
                last_assist = assist;
            }
            point.heap_bytes = poll.counters.heap_bytes;
            point.heap_goal_bytes = poll.counters.heap_goal_bytes;
            if let Some(now) = poll.counters.cycle_counters() {
                match cycles.as_mut() {
                    None => cycles = Some(Reconstruct::new(now)),
                    Some(r) => out.timeline.cycles.extend(r.sample(now, t)),
                }
            }
            out.counters = Some(poll.counters);
        }
        out.timeline.points.push(point);
        if now.duration_since(last_bar) >= Duration::from_millis(200) || done {
            last_bar = now;
            // Relaxed: a progress figure; staleness is harmless.
            line.update(t, progress.nodes.load(Ordering::Relaxed));
        }
        if done {
            break;
        }
        std::thread::sleep(INTERVAL);
    }
    line.finish();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    struct Fake(u64);
    impl StallSource for Fake {
        fn poll(&mut self) -> Poll {
            self.0 += 1;
            Poll {
                counters: CollectorCounters {
                    cycles: Some(self.0),
                    assist_time: Some(ms(self.0)),
                    mark_time: Some(ms(self.0)),
                    sweep_time: Some(ms(self.0)),
                    ..Default::default()
                },
                new_pauses: vec![Duration::from_micros(5)],
            }
        }
    }

    #[test]
    fn sampler_timestamps_pauses_and_assist_deltas() {
        let s = Sampler::start(Watch {
            source: Some(Box::new(Fake(0))),
            progress: Arc::new(Progress::default()),
            line: Line::building("fake".into(), true).churning(ms(50), true),
            start: Instant::now(),
            live_bytes: 1 << 20,
        });
        std::thread::sleep(ms(35));
        let got = s.finish();
        let polls = got.counters.unwrap().cycles.unwrap() as usize;
        assert!(polls >= 2);
        // One timeline point per poll, in time order, with the live line and RSS.
        let points = &got.timeline.points;
        assert_eq!(points.len(), polls);
        assert!(points.windows(2).all(|w| w[0].t < w[1].t));
        assert!(points.iter().all(|p| p.live_bytes == Some(1 << 20)));
        assert!(points.iter().all(|p| p.rss_bytes.is_some()));
        let pauses = got.samples.iter().filter(|s| s.kind == Kind::Pause).count();
        let assists = got
            .samples
            .iter()
            .filter(|s| s.kind == Kind::Assist)
            .count();
        assert_eq!(pauses, polls);
        assert_eq!(assists, polls);
        // Every poll after the first saw one more cycle.
        assert_eq!(got.timeline.cycles.len(), polls - 1);
        assert!(got.samples.windows(2).all(|w| w[0].t <= w[1].t));
    }
}
