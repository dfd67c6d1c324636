//! The mutator's own view of stalls: a `Probe` per thread times the gap between
//! consecutive loop iterations with the monotonic clock (`Instant`).
//!
//! # What a probe keeps
//! 1. A [`Durations`] histogram of *every* gap: an HdrHistogram of nanoseconds at 3
//!    significant digits (a record is an index computation and an increment), with the
//!    exact longest gap beside it.
//! 2. The raw gaps above `--gap-threshold-us`, with the time they ended (relative to the
//!    common start of the churn phase), for the CSV and the timeline; at most
//!    [`MAX_RAW_SAMPLES`] per thread, the rest only counted in `dropped_samples`.
//!
//! Percentiles are HdrHistogram's highest value equivalent to the rank's value (never
//! below the true value, at most 0.1% above it), clamped to the exact maximum. The same
//! histogram summarises the collector's stalls (`report.rs`).

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Raw samples kept per thread before further ones are only counted.
pub(crate) const MAX_RAW_SAMPLES: usize = 1 << 20;
/// Longest duration the histograms resolve (longer ones saturate): one hour.
const MAX_NS: u64 = 3_600_000_000_000;
/// Significant digits the histograms keep.
const SIGFIG: u8 = 3;

/// What a sample measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Gap between two loop iterations of one mutator thread.
    Gap,
    /// A stop-the-world stall reported by the collector (or, for gc-arena, one
    /// `collect_debt` call: the mutator is stopped while it runs).
    Pause,
    /// Mark-assist time charged to mutators during one sampler interval (~5 ms).
    Assist,
}

impl Kind {
    /// The CSV's `kind` field.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Gap => "gap",
            Kind::Pause => "pause",
            Kind::Assist => "assist",
        }
    }
}

/// One raw sample: `t` is when it ended, since the start of the churn phase.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    pub(crate) kind: Kind,
    /// Mutator thread index, or `None` for process-wide collector stalls.
    pub(crate) thread: Option<usize>,
    pub(crate) t: Duration,
    pub(crate) dur: Duration,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A histogram of durations (HdrHistogram, nanoseconds) with the exact maximum.
#[derive(Clone, Debug)]
pub(crate) struct Durations {
    hist: Histogram<u64>,
    max: Duration,
}

impl Default for Durations {
    fn default() -> Self {
        Durations {
            hist: Histogram::new_with_bounds(1, MAX_NS, SIGFIG)
                .expect("tricolor-gc-bench: constant histogram bounds are valid"),
            max: Duration::ZERO,
        }
    }
}

impl Durations {
    #[inline]
    /// Records one duration.
    pub(crate) fn record(&mut self, d: Duration) {
        self.record_n(d, 1);
    }

    /// Records `count` durations of `d` (a peer's histogram arrives as value/count pairs).
    pub(crate) fn record_n(&mut self, d: Duration, count: u64) {
        self.hist.saturating_record_n(nanos(d), count);
        if count > 0 && d > self.max {
            self.max = d;
        }
    }

    /// Sets the exact maximum of a histogram recorded from rounded-up values (a peer's
    /// value/count pairs), whose true maximum is known on its own.
    pub(crate) fn set_exact_max(&mut self, max: Duration) {
        self.max = max;
    }

    /// Adds `other`'s durations to these.
    pub(crate) fn merge(&mut self, other: &Durations) {
        self.hist
            .add(&other.hist)
            .expect("tricolor-gc-bench: histograms of the same bounds add");
        self.max = self.max.max(other.max);
    }

    /// Durations recorded.
    pub(crate) fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The exact longest duration (zero if none).
    pub(crate) fn max(&self) -> Duration {
        self.max
    }

    /// The `p` quantile (0 < p <= 1), clamped to the exact maximum; `None` if empty.
    pub(crate) fn percentile(&self, p: f64) -> Option<Duration> {
        (self.count() > 0)
            .then(|| Duration::from_nanos(self.hist.value_at_quantile(p)).min(self.max))
    }

    /// Non-empty buckets of ten per decade from 1 µs as `(lower, upper, count)`, bounds in
    /// microseconds (the first bucket, under 1 µs, starts at 0; the last ends at the max).
    pub(crate) fn buckets(&self) -> Vec<(f64, f64, u64)> {
        let mut lo = 0.0;
        let mut out = Vec::new();
        // Step k ends at 10^(k/10) µs (HdrHistogram reports it as the highest value below).
        for (k, step) in self.hist.iter_log(1_000, 10f64.powf(0.1)).enumerate() {
            let hi = 10f64
                .powf(k as f64 / 10.0)
                .min(self.max.as_secs_f64() * 1e6);
            let n = step.count_since_last_iteration();
            if n > 0 {
                out.push((lo, hi.max(lo), n));
            }
            lo = hi;
        }
        out
    }
}

/// Per-thread loop-gap recorder. Call [`Probe::tick`] once per iteration.
#[derive(Debug)]
pub(crate) struct Probe {
    thread: usize,
    start: Instant,
    last: Instant,
    threshold: Duration,
    pub(crate) hist: Durations,
    pub(crate) samples: Vec<Sample>,
    pub(crate) dropped_samples: u64,
}

impl Probe {
    /// A probe whose first gap is measured from `start` (the common start of the churn).
    pub(crate) fn new(thread: usize, start: Instant, threshold: Duration) -> Probe {
        Probe {
            thread,
            start,
            last: start,
            threshold,
            hist: Durations::default(),
            samples: Vec::new(),
            dropped_samples: 0,
        }
    }

    /// Ends one iteration: records the gap since the previous tick; returns `now` and it.
    #[inline]
    pub(crate) fn tick(&mut self) -> (Instant, Duration) {
        let now = Instant::now();
        let gap = now.saturating_duration_since(self.last);
        self.last = now;
        self.hist.record(gap);
        if gap > self.threshold {
            self.keep(now, gap);
        }
        (now, gap)
    }

    #[cold]
    fn keep(&mut self, now: Instant, gap: Duration) {
        if self.samples.len() < MAX_RAW_SAMPLES {
            self.samples.push(Sample {
                kind: Kind::Gap,
                thread: Some(self.thread),
                t: now.saturating_duration_since(self.start),
                dur: gap,
            });
        } else {
            self.dropped_samples += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn empty_histogram_has_no_percentiles() {
        assert_eq!(Durations::default().percentile(0.5), None);
        assert!(Durations::default().buckets().is_empty());
    }

    #[test]
    fn percentiles_are_upper_bounds_within_a_thousandth() {
        let mut h = Durations::default();
        // 98 fast gaps of 2 µs, one of 500 µs, one of 30 ms.
        h.record_n(us(2), 98);
        h.record(us(500));
        h.record(us(30_000));
        assert_eq!(h.count(), 100);
        assert_eq!(h.max(), us(30_000));
        let close = |got: Duration, want: Duration| got >= want && got <= want + want / 1000;
        assert!(close(h.percentile(0.5).unwrap(), us(2)));
        assert!(close(h.percentile(0.99).unwrap(), us(500)));
        // The maximum rank is clamped to the exact max.
        assert_eq!(h.percentile(1.0), Some(us(30_000)));
    }

    #[test]
    fn buckets_are_ten_per_decade_and_end_at_the_max() {
        let mut h = Durations::default();
        h.record(Duration::from_nanos(300));
        h.record(us(20));
        h.record(Duration::from_secs(20));
        let b = h.buckets();
        assert_eq!(b.len(), 3, "{b:?}");
        assert_eq!((b[0].0, b[0].1, b[0].2), (0.0, 1.0, 1));
        assert!(
            b[1].0 < 20.0 && b[1].1 >= 20.0 && b[1].1 / b[1].0 < 1.26,
            "{b:?}"
        );
        assert_eq!(b[2].1, 20e6);
    }

    #[test]
    fn merge_adds_counts_and_keeps_max() {
        let mut a = Durations::default();
        let mut b = Durations::default();
        a.record(us(10));
        b.record_n(us(1000), 2);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.max(), us(1000));
        assert!(a.percentile(0.34).unwrap() >= us(1000));
        assert!(a.percentile(0.33).unwrap() < us(11));
    }

    #[test]
    fn probe_keeps_only_gaps_above_threshold() {
        let start = Instant::now();
        let mut p = Probe::new(3, start, us(1_000));
        p.tick();
        std::thread::sleep(Duration::from_millis(5));
        p.tick();
        assert_eq!(p.hist.count(), 2);
        assert_eq!(p.samples.len(), 1);
        assert_eq!(p.samples[0].thread, Some(3));
        assert!(p.samples[0].dur >= Duration::from_millis(5));
        assert_eq!(p.hist.max(), p.samples[0].dur);
    }
}
