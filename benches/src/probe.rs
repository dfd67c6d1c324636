//! The mutator's own view of stalls: a `Probe` per thread times the gap between
//! consecutive loop iterations with the monotonic clock (`Instant`).
//!
//! # What a probe keeps
//! 1. The exact longest gap.
//! 2. A [`LogHistogram`] of *every* gap: bucket 0 is "under 1 µs", then 10 buckets per
//!    decade from 1 µs to 10 s, then one overflow bucket. Recording is a binary search over
//!    72 precomputed bounds (no floating point on the hot path).
//! 3. The raw gaps above `--gap-threshold-us`, with the time they ended (relative to the
//!    common start of the churn phase), for the CSV and the timeline; at most
//!    [`MAX_RAW_SAMPLES`] per thread, the rest only counted in `dropped_samples`.
//!
//! Percentiles from the histogram are the *upper bound* of the bucket holding the rank
//! (never below the true value, at most 26% above it: one tenth of a decade), clamped to
//! the exact maximum. The same histogram summarises the collector's stalls (`report.rs`).

use std::time::{Duration, Instant};

/// Buckets per decade of the histogram.
const PER_DECADE: u32 = 10;
/// Decades covered above 1 µs: 1 µs .. 10 s.
const DECADES: u32 = 7;
/// Bucket count: underflow + `PER_DECADE * DECADES` + overflow.
pub(crate) const BUCKETS: usize = (PER_DECADE * DECADES) as usize + 2;
/// Raw samples kept per thread before further ones are only counted.
pub(crate) const MAX_RAW_SAMPLES: usize = 1 << 20;

/// What a sample measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Gap between two loop iterations of one mutator thread.
    Gap,
    /// A stop-the-world or handshake stall reported by the collector (or, for gc-arena, one
    /// `collect_debt` call: the mutator is stopped while it runs).
    Pause,
    /// Mark-assist time charged to mutators during one sampler interval (~10 ms).
    Assist,
}

impl Kind {
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

/// Upper bounds of buckets 0..BUCKETS-1 in nanoseconds; the last bucket is unbounded.
fn bounds() -> &'static [u64; BUCKETS - 1] {
    use std::sync::OnceLock;
    static BOUNDS: OnceLock<[u64; BUCKETS - 1]> = OnceLock::new();
    BOUNDS.get_or_init(|| {
        let mut b = [0u64; BUCKETS - 1];
        b[0] = 1_000; // bucket 0: < 1 µs
        for (i, slot) in b.iter_mut().enumerate().skip(1) {
            // Bucket i (1..=70) is [10^((i-1)/10), 10^(i/10)) µs.
            *slot = (1_000.0 * 10f64.powf(i as f64 / PER_DECADE as f64)).round() as u64;
        }
        b
    })
}

/// Log-bucketed histogram of durations with an exact count and maximum.
#[derive(Clone, Debug)]
pub(crate) struct LogHistogram {
    counts: [u64; BUCKETS],
    total: u64,
    max: Duration,
}

impl Default for LogHistogram {
    fn default() -> Self {
        LogHistogram {
            counts: [0; BUCKETS],
            total: 0,
            max: Duration::ZERO,
        }
    }
}

impl LogHistogram {
    #[inline]
    pub(crate) fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        // First bucket whose (exclusive) upper bound exceeds ns.
        let i = bounds().partition_point(|&b| b <= ns);
        self.counts[i] += 1;
        self.total += 1;
        if d > self.max {
            self.max = d;
        }
    }

    pub(crate) fn merge(&mut self, other: &LogHistogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    pub(crate) fn count(&self) -> u64 {
        self.total
    }

    pub(crate) fn max(&self) -> Duration {
        self.max
    }

    /// The `p` quantile (0 < p <= 1): the upper bound of the bucket that holds the
    /// `ceil(p * count)`-th smallest value, clamped to the exact maximum. `None` if empty.
    pub(crate) fn percentile(&self, p: f64) -> Option<Duration> {
        if self.total == 0 {
            return None;
        }
        let rank = ((p * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let upper = bounds()
                    .get(i)
                    .map_or(self.max, |&ns| Duration::from_nanos(ns));
                return Some(upper.min(self.max));
            }
        }
        unreachable!("tricolor-gc-bench: histogram counts sum below its total")
    }

    /// Non-empty buckets as `(lower bound, upper bound, count)`, bounds in microseconds
    /// (the underflow bucket starts at 0, the overflow bucket ends at the maximum).
    pub(crate) fn buckets(&self) -> Vec<(f64, f64, u64)> {
        let b = bounds();
        (0..BUCKETS)
            .filter(|&i| self.counts[i] > 0)
            .map(|i| {
                let lo = if i == 0 { 0.0 } else { b[i - 1] as f64 / 1e3 };
                let hi = b
                    .get(i)
                    .map_or(self.max.as_secs_f64() * 1e6, |&ns| ns as f64 / 1e3);
                (lo, hi, self.counts[i])
            })
            .collect()
    }
}

/// Per-thread loop-gap recorder. Call [`Probe::tick`] once per iteration.
#[derive(Debug)]
pub(crate) struct Probe {
    thread: usize,
    start: Instant,
    last: Instant,
    threshold: Duration,
    pub(crate) hist: LogHistogram,
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
            hist: LogHistogram::default(),
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
        assert_eq!(LogHistogram::default().percentile(0.5), None);
    }

    #[test]
    fn percentiles_land_in_the_right_bucket() {
        let mut h = LogHistogram::default();
        // 98 fast gaps of 2 µs, one of 500 µs, one of 30 ms.
        for _ in 0..98 {
            h.record(us(2));
        }
        h.record(us(500));
        h.record(us(30_000));
        assert_eq!(h.count(), 100);
        assert_eq!(h.max(), us(30_000));
        // 2 µs lies in [1.995, 2.512) µs: the p50 and p90 report that bucket's upper bound.
        let p50 = h.percentile(0.5).unwrap();
        assert!(
            p50 >= us(2) && p50 < Duration::from_nanos(2_600),
            "p50 = {p50:?}"
        );
        assert_eq!(h.percentile(0.9), Some(p50));
        // The 99th value is the 500 µs gap: bucket [398, 501) µs.
        let p99 = h.percentile(0.99).unwrap();
        assert!(p99 >= us(500) && p99 <= us(502), "p99 = {p99:?}");
        // The maximum rank is clamped to the exact max, not the bucket bound.
        assert_eq!(h.percentile(1.0), Some(us(30_000)));
    }

    #[test]
    fn underflow_and_overflow_buckets() {
        let mut h = LogHistogram::default();
        h.record(Duration::from_nanos(300));
        h.record(Duration::from_secs(20));
        assert_eq!(h.percentile(0.5), Some(us(1)));
        assert_eq!(h.percentile(1.0), Some(Duration::from_secs(20)));
        let b = h.buckets();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0], (0.0, 1.0, 1));
        assert_eq!(b[1].2, 1);
        assert_eq!(b[1].1, 20e6);
    }

    #[test]
    fn bounds_are_ten_per_decade() {
        let b = bounds();
        assert_eq!(b[0], 1_000);
        assert_eq!(b[10], 10_000);
        assert_eq!(b[20], 100_000);
        assert_eq!(b[70], 10_000_000_000);
        assert!(b.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn merge_adds_counts_and_keeps_max() {
        let mut a = LogHistogram::default();
        let mut b = LogHistogram::default();
        a.record(us(10));
        b.record(us(1000));
        b.record(us(1000));
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.max(), us(1000));
        assert!(a.percentile(0.34).unwrap() >= us(1000));
        assert!(a.percentile(0.33).unwrap() < us(13));
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
