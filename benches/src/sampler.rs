//! The sampler thread: polls the runtime's [`StallSource`] every [`INTERVAL`], timestamps
//! the stalls it reports, and drives the progress line on stderr.
//!
//! # Algorithm
//! 1. Every `INTERVAL` (about 10 ms) call `StallSource::poll`, which returns the collector's
//!    counters and the stalls that are new since the previous poll.
//! 2. Give each new stall the time of the poll that found it (relative to the start of the
//!    churn phase): precise to one interval, which is what the timeline needs.
//! 3. Turn the growth of cumulative assist time into one `Assist` sample per interval.
//! 4. Update the progress line (elapsed / duration, nodes allocated so far).
//! 5. When the mutators are done, poll once more and hand everything back.
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

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::probe::{Kind, Sample};

/// Sampling period of the collector's statistics.
pub(crate) const INTERVAL: Duration = Duration::from_millis(10);

/// Counters a collector reports; `None` where the runtime does not expose the figure.
#[derive(Clone, Debug, Default)]
pub(crate) struct CollectorCounters {
    pub(crate) cycles: Option<u64>,
    pub(crate) heap_goal_bytes: Option<u64>,
    pub(crate) heap_bytes: Option<u64>,
    pub(crate) assist_time: Option<Duration>,
    pub(crate) mark_time: Option<Duration>,
    pub(crate) sweep_time: Option<Duration>,
}

/// What one poll returns.
#[derive(Debug, Default)]
pub(crate) struct Poll {
    pub(crate) counters: CollectorCounters,
    /// Stop-the-world or handshake stalls that ended since the previous poll.
    pub(crate) new_pauses: Vec<Duration>,
}

/// A runtime's process-wide pause history, polled from the sampler thread.
pub(crate) trait StallSource: Send {
    fn poll(&mut self) -> Poll;
}

/// Everything the sampler saw.
#[derive(Debug, Default)]
pub(crate) struct Sampled {
    pub(crate) samples: Vec<Sample>,
    /// The last counters, or `None` if the runtime has no `StallSource`.
    pub(crate) counters: Option<CollectorCounters>,
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
    /// Starts sampling; `start` is the common start of the churn phase.
    pub(crate) fn start(
        runtime: &'static str,
        source: Option<Box<dyn StallSource>>,
        progress: Arc<Progress>,
        start: Instant,
        duration: Duration,
        quiet: bool,
    ) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("bench-sampler".into())
            .spawn(move || run(runtime, source, &progress, start, duration, quiet, &stop2))
            .expect("tricolor-gc-bench: cannot spawn the sampler thread");
        Sampler { stop, thread }
    }

    pub(crate) fn finish(self) -> Sampled {
        // Relaxed: the join below is the synchronisation; the flag only ends the loop.
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .expect("tricolor-gc-bench: the sampler thread panicked")
    }
}

fn run(
    runtime: &str,
    mut source: Option<Box<dyn StallSource>>,
    progress: &Progress,
    start: Instant,
    duration: Duration,
    quiet: bool,
    stop: &AtomicBool,
) -> Sampled {
    let bar = progress_bar(runtime, duration, quiet);
    let mut out = Sampled::default();
    let mut last_assist = Duration::ZERO;
    let mut last_bar = start;
    loop {
        let done = stop.load(Ordering::Relaxed);
        let now = Instant::now();
        let t = now.saturating_duration_since(start);
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
            out.counters = Some(poll.counters);
        }
        if now.duration_since(last_bar) >= Duration::from_millis(200) || done {
            last_bar = now;
            // Relaxed: a progress figure; staleness is harmless.
            let nodes = progress.nodes.load(Ordering::Relaxed);
            bar.set_position(t.as_millis().min(duration.as_millis()) as u64);
            bar.set_message(format!(
                "{:.1} Mnodes/s",
                nodes as f64 / t.as_secs_f64().max(1e-3) / 1e6
            ));
        }
        if done {
            break;
        }
        std::thread::sleep(INTERVAL);
    }
    bar.finish_and_clear();
    out
}

fn progress_bar(runtime: &str, duration: Duration, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(duration.as_millis() as u64),
        if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {elapsed}/{duration_s}  {msg}")
            .expect("tricolor-gc-bench: bad progress template")
            .with_key(
                "duration_s",
                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let secs = s.len().unwrap_or(0) as f64 / 1e3;
                    let _ = write!(w, "{secs:.0}s");
                },
            )
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("churn {runtime}"));
    bar
}

/// A spinner for the build phase (hidden when quiet).
pub(crate) fn build_spinner(runtime: &str, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        None,
        if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_message(format!("building the live set for {runtime}"));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
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
                    ..Default::default()
                },
                new_pauses: vec![Duration::from_micros(5)],
            }
        }
    }

    #[test]
    fn sampler_timestamps_pauses_and_assist_deltas() {
        let start = Instant::now();
        let s = Sampler::start(
            "fake",
            Some(Box::new(Fake(0))),
            Arc::new(Progress::default()),
            start,
            ms(50),
            true,
        );
        std::thread::sleep(ms(35));
        let got = s.finish();
        let polls = got.counters.unwrap().cycles.unwrap() as usize;
        assert!(polls >= 2);
        let pauses = got.samples.iter().filter(|s| s.kind == Kind::Pause).count();
        let assists = got
            .samples
            .iter()
            .filter(|s| s.kind == Kind::Assist)
            .count();
        assert_eq!(pauses, polls);
        assert_eq!(assists, polls);
        assert!(got.samples.windows(2).all(|w| w[0].t <= w[1].t));
    }
}
