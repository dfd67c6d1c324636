//! Mark assist credit (F7-F8 of `pacer.rs`, Go's `gcAssistBytes` and `gcAssistAlloc`):
//! each allocating thread's balance of scan work, charged per byte allocated during `Mark`
//! at the pacer's assist ratio and paid by the scan work the thread does (or by background
//! credit it steals). Kept apart from the pacer's own state machine: one `AssistCredit`
//! lives per thread, the pacer is shared.

use std::time::Duration;

use super::pacer::{Pacer, PacerPhase, MIN_ASSIST_WORK};

/// What a thread needs to charge its [`AssistCredit`] without reaching the pacer: the
/// cycle and its assist ratio (F7), as [`Pacer::assist_snapshot`] gave them. The driver can
/// publish it (the ratio moves slowly, Go recomputes it only when the heap counters move)
/// so that the allocation fast path takes no lock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct AssistRatio {
    /// The cycle the ratio belongs to ([`Pacer::cycle_count`]).
    pub(crate) cycle: u64,
    /// Scan work owed per byte allocated.
    pub(crate) work_per_byte: f64,
}

/// One thread's assist balance (F8, Go's `g.gcAssistBytes`, kept in scan-work units):
/// positive is credit, negative is debt. Only meaningful during `Mark`; a new cycle starts
/// it at zero.
///
/// The thread calls [`on_allocate`](Self::on_allocate) for what it allocates during mark
/// (or [`charge`](Self::charge) on a published ratio, and `on_allocate(pacer, 0)` when that
/// says it is in debt), does the scan work it returns (as much as it can find), and reports
/// it with [`repay`](Self::repay).
#[derive(Debug, Default)]
pub(crate) struct AssistCredit {
    balance_work: i64,
    /// The cycle `balance_work` belongs to.
    cycle: u64,
}

impl AssistCredit {
    /// A balance of zero.
    pub(crate) const fn new() -> Self {
        AssistCredit {
            balance_work: 0,
            cycle: 0,
        }
    }

    /// Charges `bytes` allocated and returns the scan work the thread must do now (0:
    /// none). Outside `Mark` it charges nothing. A thread in debt first takes background
    /// credit (at least `MIN_ASSIST_WORK` if there is that much); the rest is returned. While
    /// the CPU limiter limits, the debt is kept but no work is asked for.
    pub(crate) fn on_allocate(&mut self, pacer: &mut Pacer, bytes: usize) -> u64 {
        let Some(ratio) = pacer.assist_snapshot() else {
            return 0;
        };
        if !self.charge(ratio, bytes) || pacer.gc_cpu_limited() {
            return 0;
        }
        let owed = self.balance_work.unsigned_abs();
        let work = owed.max(MIN_ASSIST_WORK);
        let stolen = pacer.take_bg_credit(work);
        self.balance_work = self
            .balance_work
            .saturating_add(i64::try_from(stolen).unwrap_or(i64::MAX));
        if self.balance_work >= 0 {
            0
        } else {
            work - stolen
        }
    }

    /// The thread did `work` scan work as an assist, in `cpu` time: it is credited to the
    /// balance and counted as mark progress and assist time.
    pub(crate) fn repay(&mut self, pacer: &mut Pacer, work: u64, cpu: Duration) {
        if pacer.phase() == PacerPhase::Mark {
            self.sync(pacer.cycle_count());
            self.balance_work = self
                .balance_work
                .saturating_add(i64::try_from(work).unwrap_or(i64::MAX));
        }
        pacer.record_assist(work, cpu);
    }

    /// The fast path of [`on_allocate`](Self::on_allocate): charges `bytes` at `ratio` and
    /// returns whether the thread is now in debt (then `on_allocate(pacer, 0)` says how
    /// much to scan).
    pub(crate) fn charge(&mut self, ratio: AssistRatio, bytes: usize) -> bool {
        self.sync(ratio.cycle);
        // `as` saturates a huge product to `i64::MAX`.
        let debt = (bytes as f64 * ratio.work_per_byte).ceil() as i64;
        self.balance_work = self.balance_work.saturating_sub(debt);
        self.balance_work < 0
    }

    /// The balance in scan-work units: positive is credit, negative is debt.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn balance(&self) -> i64 {
        self.balance_work
    }

    fn sync(&mut self, cycle: u64) {
        if self.cycle != cycle {
            self.cycle = cycle;
            self.balance_work = 0;
        }
    }
}
