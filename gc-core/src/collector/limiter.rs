//! The GC CPU limiter (F10 of `pacer.rs`, Go's `gcCPULimiterState` in `mgclimit.go`): a
//! leaky bucket, sized per CPU, that GC CPU time fills and mutator time drains. While it is
//! full (and until it has drained `LIMITER_RELEASE_PER_PROC` per CPU), the pacer refuses
//! mark assists, so a live heap above the soft memory limit makes the collector use about
//! half the CPU instead of all of it. A second state machine beside the pacer's, hence its
//! own file; the pacer owns one and feeds it (`Pacer::tick`, `record_assist`).

use std::time::Duration;

use super::pacer::BACKGROUND_UTILIZATION;

/// The limiter's bucket holds this much GC CPU time per CPU (Go's `capacityPerProc`).
pub(crate) const LIMITER_CAPACITY_PER_PROC: Duration = Duration::from_secs(1);
/// Once limiting, the limiter stays on until the bucket has drained this much per CPU
/// (module docs, "Deliberately different").
pub(crate) const LIMITER_RELEASE_PER_PROC: Duration = Duration::from_millis(100);

/// The GC CPU limiter (F10, Go's `gcCPULimiterState`): a leaky bucket filled by GC CPU time
/// and drained by mutator time.
#[derive(Debug)]
pub(crate) struct CpuLimiter {
    pub(crate) procs: u64,
    /// `procs × LIMITER_CAPACITY_PER_PROC`, in nanoseconds.
    pub(crate) capacity_ns: u64,
    /// `procs × LIMITER_RELEASE_PER_PROC`, in nanoseconds.
    pub(crate) release_ns: u64,
    /// In `[0, capacity_ns]`.
    pub(crate) fill_ns: u64,
    /// GC time that found the bucket full (Go's `overflow`).
    pub(crate) overflow_ns: u64,
    /// Limiting; set when the bucket fills, cleared when it has drained `release_ns`.
    pub(crate) enabled: bool,
    /// Marking: background workers count as 25% of the CPUs.
    pub(crate) gc_enabled: bool,
    pub(crate) last_update: Duration,
    /// Assist time reported since the last update.
    pub(crate) assist_pool: Duration,
}

impl CpuLimiter {
    pub(crate) fn new(procs: usize, now: Duration) -> Self {
        let procs = procs as u64;
        CpuLimiter {
            procs,
            capacity_ns: procs.saturating_mul(LIMITER_CAPACITY_PER_PROC.as_nanos() as u64),
            release_ns: procs.saturating_mul(LIMITER_RELEASE_PER_PROC.as_nanos() as u64),
            fill_ns: 0,
            overflow_ns: 0,
            enabled: false,
            gc_enabled: false,
            last_update: now,
            assist_pool: Duration::ZERO,
        }
    }

    pub(crate) fn update(&mut self, now: Duration) {
        let Some(elapsed) = now.checked_sub(self.last_update) else {
            return;
        };
        self.last_update = now;
        let window = elapsed.as_nanos() as i128 * self.procs as i128;
        let mut gc = std::mem::take(&mut self.assist_pool).as_nanos() as i128;
        if self.gc_enabled {
            gc += (window as f64 * BACKGROUND_UTILIZATION) as i128;
        }
        self.accumulate(window - gc, gc);
    }

    pub(crate) fn accumulate(&mut self, mutator_ns: i128, gc_ns: i128) {
        let headroom = (self.capacity_ns - self.fill_ns) as i128;
        let change = gc_ns - mutator_ns;
        if change > 0 && headroom <= change {
            self.overflow_ns = self
                .overflow_ns
                .saturating_add(u64::try_from(change - headroom).unwrap_or(u64::MAX));
            self.fill_ns = self.capacity_ns;
            self.enabled = true;
            return;
        }
        let fill = (self.fill_ns as i128 + change).clamp(0, self.capacity_ns as i128);
        self.fill_ns = fill as u64;
        if self.capacity_ns - self.fill_ns >= self.release_ns {
            self.enabled = false;
        }
    }
}
