//! GC stress (`SCHEME_GC_STRESS=MS`): collection cycles that overlap evaluation, in
//! proportion to both time and work.
//!
//! # Design
//! - A background thread runs `gc::collect()`, then sleeps up to MS milliseconds (0: back
//!   to back). Before each `collect()` it bumps [`CYCLES_STARTED`].
//! - Time alone is not enough: on a loaded machine the stress thread may not be scheduled
//!   for the whole of a short program, which then runs under no cycle at all. So every
//!   [`CALLS_PER_CHECKPOINT`] closure calls an evaluator reaches a checkpoint
//!   ([`checkpoint`]): if no cycle has started since that evaluator's previous checkpoint,
//!   it wakes the stress thread and waits until one has. The cycle then runs while the
//!   evaluator goes on, so a program of N closure calls runs under at least
//!   N / [`CALLS_PER_CHECKPOINT`] overlapping cycles whatever the scheduler does.
//! - The wait is outside every collector operation (it touches no `Gc`), so it never
//!   holds up the cycle's stop-the-world steps, which wait only for operations in flight.
//! - Without stress, a checkpoint is one load of the unset [`STRESS`], every 4096 calls.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Closure calls between two checkpoints of one evaluator.
pub(crate) const CALLS_PER_CHECKPOINT: u32 = 4096;

/// `collect()` calls the stress thread has begun.
static CYCLES_STARTED: AtomicU64 = AtomicU64::new(0);

/// The stress thread, once started.
static STRESS: OnceLock<std::thread::Thread> = OnceLock::new();

/// Starts the stress thread: `collect()`, then a sleep of at most `period` (cut short
/// by a checkpoint that needs a cycle), forever.
pub(crate) fn start(period: Duration) -> std::io::Result<()> {
    let handle = std::thread::Builder::new()
        .name("scheme gc stress".into())
        .spawn(move || loop {
            // Relaxed: the counter carries no data; a checkpoint only waits for it to move.
            CYCLES_STARTED.fetch_add(1, Ordering::Relaxed);
            gc::collect();
            if !period.is_zero() {
                std::thread::park_timeout(period);
            }
        })?;
    let _ = STRESS.set(handle.thread().clone());
    Ok(())
}

/// Where an evaluator stands against the stress thread: the cycle count it saw last.
#[derive(Default)]
pub(crate) struct Checkpoints {
    seen: u64,
}

impl Checkpoints {
    /// Waits, under stress, until a cycle has started since this evaluator's previous
    /// checkpoint; returns at once otherwise.
    #[cold]
    pub(crate) fn checkpoint(&mut self) {
        let Some(stress) = STRESS.get() else { return };
        let mut started = CYCLES_STARTED.load(Ordering::Relaxed);
        if started == self.seen {
            stress.unpark();
            while started == self.seen {
                std::thread::yield_now();
                started = CYCLES_STARTED.load(Ordering::Relaxed);
            }
        }
        self.seen = started;
    }
}
