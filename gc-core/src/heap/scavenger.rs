//! The background scavenger: gives free pages back to the OS so that resident memory
//! follows the live heap down (the role of Go's `mgcscavenge.go`, with a simpler policy).
//!
//! # Policy
//! Free pages may stay resident (cheap to reuse) up to a retain bound. Like Go's
//! scavenger, the bound follows the heap goal: resident memory (in-use spans plus free
//! resident pages) may reach the goal plus 10%, so
//! `retain = max(SCAVENGE_MIN_RETAIN_BYTES, goal * 1.1 - in-use span bytes)`. The
//! collector tells the heap each new goal (`set_heap_goal`); before the first one, or while
//! automatic cycles are off (no goal), the bound is `max(MIN, in-use span bytes / 8)`.
//! Anything above the bound is released by `PageHeap::scavenge`, highest addresses
//! first, 64 pages per lock hold.
//!
//! # Algorithm
//! 1. The thread starts on the first call to `note_pages_freed` (the first time a span
//!    becomes empty) and lives for the rest of the process.
//! 2. It sleeps on a condition variable. `note_pages_freed` wakes it when the free
//!    resident pages exceed the bound; otherwise it wakes every `PERIOD` to re-check.
//! 3. Awake, it returns the central lists' old empty spans to the page heap (a span
//!    must stay empty for a whole period first; see `central.rs`, step 4), calls
//!    `PageHeap::scavenge(retain)` if still over the bound, and sleeps again.
//!
//! Retained memory is therefore bounded by the retain bound plus whatever is freed during
//! one scavenge pass.

use std::sync::OnceLock;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::page_heap;
use super::size_class::PAGE_BYTES;
use crate::sync::{AtomicUsize, Ordering};

/// The collector's current heap goal, `usize::MAX` when there is none.
static HEAP_GOAL: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Records the collector's heap goal (the retain bound follows it) and wakes the
/// scavenger (starting it the first time) if that puts free resident memory over the
/// bound.
pub(crate) fn set_heap_goal(bytes: usize) {
    // Relaxed: a policy input; a stale value only moves one scavenge pass.
    HEAP_GOAL.store(bytes, Ordering::Relaxed);
    note_pages_freed();
}

/// The collector's current heap goal (`usize::MAX`: none).
pub(crate) fn heap_goal() -> usize {
    // Relaxed: see `set_heap_goal`.
    HEAP_GOAL.load(Ordering::Relaxed)
}

/// Free memory that may always stay resident.
pub(crate) const SCAVENGE_MIN_RETAIN_BYTES: usize = 8 << 20;
const PERIOD: Duration = Duration::from_millis(500);

struct Scavenger {
    wake: Mutex<bool>,
    signal: Condvar,
}

static SCAVENGER: OnceLock<Scavenger> = OnceLock::new();

/// The retain bound for the current heap (see module docs).
pub(crate) fn retain_bytes() -> usize {
    let totals = page_heap().totals();
    let in_use = totals.in_use_pages * PAGE_BYTES;
    // Relaxed: see `set_heap_goal`.
    let goal = HEAP_GOAL.load(Ordering::Relaxed);
    let bound = if goal == usize::MAX {
        in_use / 8
    } else {
        goal.saturating_add(goal / 10).saturating_sub(in_use)
    };
    SCAVENGE_MIN_RETAIN_BYTES.max(bound)
}

/// Whether free resident memory is over the retain bound.
fn over_bound() -> bool {
    let totals = page_heap().totals();
    (totals.free_pages - totals.released_pages) * PAGE_BYTES > retain_bytes()
}

/// Called after spans are returned to the page heap.
pub(crate) fn note_pages_freed() {
    let scavenger = SCAVENGER.get_or_init(|| {
        std::thread::Builder::new()
            .name("tricolor-gc scavenger".into())
            .spawn(run)
            .expect("tricolor-gc: cannot start the scavenger thread");
        Scavenger {
            wake: Mutex::new(false),
            signal: Condvar::new(),
        }
    });
    if over_bound() {
        *scavenger.wake.lock() = true;
        scavenger.signal.notify_one();
    }
}

fn run() {
    let scavenger = loop {
        // The spawning call publishes the state right after spawning us.
        if let Some(s) = SCAVENGER.get() {
            break s;
        }
        std::thread::yield_now();
    };
    loop {
        {
            let mut wake = scavenger.wake.lock();
            if !*wake {
                scavenger.signal.wait_for(&mut wake, PERIOD);
            }
            *wake = false;
        }
        super::release_aged_empty_spans();
        if over_bound() {
            page_heap().scavenge(retain_bytes());
        }
    }
}
