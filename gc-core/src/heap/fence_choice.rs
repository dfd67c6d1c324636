//! Choosing the safepoint's fence mode from the stops this process measured: membarrier at
//! each stop, or a real fence at each op entry. Off unless `TRICOLOR_MEMBARRIER_MAX_US`
//! asks for it: a trade of allocation speed for shorter stops, which only the user can
//! weigh.
//!
//! Safepoint fact (1) needs a full barrier on both sides of every pair of an op entry and a
//! stop. With membarrier the mutator's side is a compiler fence and each stop pays one
//! round of inter-processor interrupts; with fences each op entry (every `Gc::new`, every
//! `borrow_mut`; not clone and drop, which are no ops) pays a `SeqCst` fence and a stop
//! pays nothing. On bare metal an expedited membarrier costs microseconds; under a
//! hypervisor every interrupt exits to it, and on the 2-vCPU VM of BENCHMARKS.md §13 the
//! round took 12-40 us at the median, half of each stop. Measured there on W3, fences
//! lowered the stops' median from about 34 us to 15-20 us and their p90 from 47-68 us to
//! 32-46 us, but cost 5-13% of the allocation rate, and left the p99 and maximum to the
//! outliers (a collector thread that loses its CPU in a stopped world) either way.
//!
//! So every stop that ran a membarrier reports its duration here ([`after_stop`]). When a
//! threshold is set and more than half of the last [`WINDOW`] stops took longer, the
//! stopper switches the process to fences for good, inside that stopped world
//! (`Stopped::switch_to_fences`, safepoint fact 5). A rolling window rather than the first
//! stops: a membarrier interrupts only the CPUs that run this process's threads, so it is
//! cheap while the program is single threaded or idle and grows when it gets busy. A
//! threshold rather than `TRICOLOR_NO_MEMBARRIER`: the same setting keeps membarrier on the
//! machines where it is cheap. The switch is one way: a stop under fences costs nothing to
//! measure against.

use std::time::Duration;

use parking_lot::Mutex;

use crate::sync::{AtomicU64, Ordering};

/// How many of the last stops' membarrier times the choice looks at.
pub(crate) const WINDOW: usize = 8;
/// `MAX_NANOS` for "never switch", the default (`TRICOLOR_MEMBARRIER_MAX_US=off`). For a
/// program that wants shorter stops, 10 us sits above bare metal's few microseconds and
/// below a VM's round.
const NEVER: u64 = u64::MAX;

/// The threshold in nanoseconds, or `NEVER`. Relaxed: set once, from the environment,
/// before the collector's first stop (`ensure_started` reads the environment before it
/// starts the collector thread, the only thread that stops the world).
static MAX_NANOS: AtomicU64 = AtomicU64::new(NEVER);
/// The recent membarrier times; taken by the stopping thread only.
static RECENT: Mutex<Recent> = Mutex::new(Recent::new());
/// The median of the window that made the process switch, in nanoseconds; 0 while it has
/// not. Relaxed: a report (the trace line, tests).
static SWITCHED_AT_NANOS: AtomicU64 = AtomicU64::new(0);

/// Sets the threshold; `None` never switches (`TRICOLOR_MEMBARRIER_MAX_US=off`).
pub(crate) fn set_max(max: Option<Duration>) {
    let nanos = max.map_or(NEVER, |max| max.as_nanos().min(NEVER as u128 - 1) as u64);
    MAX_NANOS.store(nanos, Ordering::Relaxed);
}

/// The threshold in force; `None` when switching is off.
fn max() -> Option<Duration> {
    match MAX_NANOS.load(Ordering::Relaxed) {
        NEVER => None,
        nanos => Some(Duration::from_nanos(nanos)),
    }
}

/// If the process switched to fences, the median membarrier time that made it.
pub(crate) fn switched_at() -> Option<Duration> {
    match SWITCHED_AT_NANOS.load(Ordering::Relaxed) {
        0 => None,
        nanos => Some(Duration::from_nanos(nanos)),
    }
}

/// Called by the stopper once the world is stopped, with the registry and orphan locks
/// held: records the stop's membarrier time and switches if the window says so.
pub(crate) fn after_stop(membarrier_time: Option<Duration>, switch: impl FnOnce()) {
    let Some(took) = membarrier_time else {
        return;
    };
    let Some(median) = RECENT.lock().record(took, max()) else {
        return;
    };
    switch();
    // At least 1 ns, so that 0 keeps meaning "not switched".
    let nanos = (median.as_nanos() as u64).max(1);
    SWITCHED_AT_NANOS.store(nanos, Ordering::Relaxed);
}

/// The last [`WINDOW`] membarrier times, a ring.
#[derive(Debug)]
pub(crate) struct Recent {
    times: [Duration; WINDOW],
    /// How many were recorded in all (the ring's next slot is `recorded % WINDOW`).
    recorded: usize,
}

impl Recent {
    pub(crate) const fn new() -> Recent {
        Recent {
            times: [Duration::ZERO; WINDOW],
            recorded: 0,
        }
    }

    /// Records one stop's membarrier time. Returns the window's median when a switch is
    /// due: the window is full and more than half of it took longer than `max`.
    pub(crate) fn record(&mut self, took: Duration, max: Option<Duration>) -> Option<Duration> {
        self.times[self.recorded % WINDOW] = took;
        self.recorded += 1;
        let max = max?;
        if self.recorded < WINDOW {
            return None;
        }
        let slow = self.times.iter().filter(|&&time| time > max).count();
        if slow * 2 <= WINDOW {
            return None;
        }
        let mut sorted = self.times;
        sorted.sort_unstable();
        Some(sorted[WINDOW / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Option<Duration> = Some(Duration::from_micros(20));

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn a_full_window_of_slow_stops_switches_with_its_median() {
        let mut recent = Recent::new();
        for (i, took) in [40, 45, 38, 60, 41, 39, 52].into_iter().enumerate() {
            assert_eq!(
                recent.record(us(took), MAX),
                None,
                "stop {i}: window not full"
            );
        }
        assert_eq!(recent.record(us(44), MAX), Some(us(44)));
    }

    #[test]
    fn half_slow_is_not_enough_and_old_stops_leave_the_window() {
        let mut recent = Recent::new();
        for took in [5, 5, 5, 5, 50, 50, 50, 50] {
            assert_eq!(recent.record(us(took), MAX), None);
        }
        // The ring now drops a 5 us stop for each slow one: the fifth slow stop tips it.
        assert_eq!(recent.record(us(50), MAX), Some(us(50)));
    }

    #[test]
    fn fast_stops_and_off_never_switch() {
        let mut recent = Recent::new();
        for _ in 0..100 {
            assert_eq!(recent.record(us(3), MAX), None);
        }
        let mut off = Recent::new();
        for _ in 0..100 {
            assert_eq!(off.record(us(500), None), None);
        }
    }

    #[test]
    fn a_stop_equal_to_the_threshold_is_not_slow() {
        let mut recent = Recent::new();
        for _ in 0..WINDOW * 2 {
            assert_eq!(recent.record(us(20), MAX), None);
        }
    }
}
