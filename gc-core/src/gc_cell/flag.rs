//! The borrow flag of a `GcCell`: who may read or write the value right now.
//!
//! # Two words
//! - `state`: the mutators' reader count, or the `WRITER` bit, like an `RwLock`'s word.
//!   Readers add one with a compare-and-swap and subtract one when they end; a writer swaps
//!   0 for `WRITER` and back.
//! - `collector`: 1 while one collector read holds the cell through it. The collector
//!   traces every object of the heap once per cycle (twice: counting and marking), so its
//!   read is the hot path of a cycle: it takes this word with one compare-and-swap and
//!   gives it back with a plain Release store, where a reader of `state` pays two
//!   read-modify-writes (each a full barrier on x86; issue #11 item 7, BENCHMARKS.md §14).
//!
//! A collector read that finds `collector` taken falls back to adding a reader to `state`,
//! so any number of collector reads may hold the cell at once. No path reads one cell
//! twice at once today (`Trace` rule 1 gives every cell one owner, and each step traces
//! an object on one thread), but the flag's correctness does not rest on that.
//!
//! # Why a writer and a collector read never overlap (Dekker's pattern)
//! - The writer ([`CellFlag::try_take_writer`]) swaps `state` from 0 to `WRITER` (`SeqCst`
//!   read-modify-write), *then* loads `collector` (`SeqCst`); if it reads 1, it waits,
//!   holding `WRITER`, until `collector` is 0 again (Acquire), and then has the cell.
//! - The collector ([`CellFlag::collector_begin`]) swaps `collector` from 0 to 1 (`SeqCst`
//!   read-modify-write), *then* loads `state` (`SeqCst`); if it sees `WRITER`, it stores 0
//!   back and skips the cell, as every collector read of a writer-held cell does.
//!
//! All four accesses are `SeqCst`, so they are in one total order S consistent with each
//! thread's program order. If the writer's load of `collector` comes before the
//! collector's swap in S, then so does the writer's swap, and the collector's load of
//! `state` (after its swap) reads `WRITER` or a later value: the collector skips, or the
//! writer has already finished and released the cell (its Release swap, read by the
//! collector's load, orders its writes before the collector's reads). Otherwise the collector's swap comes first and the
//! writer's load reads 1 (or the 0 that collector read stored when it ended, which
//! happens-after every read of the value it made: Release, read by the writer's
//! Acquire-including load). Either way the value's reads and writes are ordered, and
//! `collector`'s Release end store, which is not `SeqCst`, cannot be read by a writer
//! whose load comes after a later collector swap in S (C++20 [atomics.order]: an `SeqCst`
//! load reads the last `SeqCst` write before it in S or a non-`SeqCst` write that does not
//! happen before that one; the end store happens before the next swap, which reads it).
//!
//! # Why the writer waits instead of giving `WRITER` back
//! A collector read skips a cell whose `state` shows `WRITER`, and that skip is safe only
//! because the writer runs the deletion barrier in the op that took the flag
//! (gc_cell/mod.rs fact (1), collector/mark.rs): a skipped cell's handles are shaded by
//! that writer. A writer that saw the collector's word and gave `WRITER` back would leave
//! a read that skipped the cell with no barrier behind it: marking would call the owner
//! scanned while the handles in the cell stay white, and the sweep would free what they
//! reach. So every `WRITER` a collector read can see belongs to a take that succeeds. The
//! wait is short and cannot deadlock: a collector read holds `collector` for one trace of
//! the value, and a trace waits for nothing (a nested cell that is held is skipped, and
//! `Trace` rule 3 forbids blocking on a lock a mutator may hold). It happens inside the writer's op, so a stop
//! of the world may wait for it as well, for that one trace. The loom control
//! `control_writer_giving_the_flag_back_fails` keeps the version that gave the flag back.
//!
//! # Release and acquire
//! Readers of `state` order their value reads after the last writer's Release swap with
//! their Acquire CAS (a collector read on the fast path with its `SeqCst` load of `state`,
//! which reads the writer's swap or a later reader's read-modify-write in its release
//! sequence), and a writer orders its writes after readers' Release decrements with its
//! `SeqCst` swap.
//!
//! loom checks this (`tests/loom_protocol.rs`, `cell_flag_writer_vs_collector_reads`, over
//! the shipped methods, with two collector reads so the fallback runs too; its controls, a
//! writer without its load of `collector` and a writer that gives its flag back, must
//! fail). loom 0.7 does not implement
//! the total order S of `SeqCst` accesses (it treats them as acquire/release, so it
//! reports this very pattern, store buffering, as a race: tokio-rs/loom#180), but it does
//! implement `fence(SeqCst)` exactly. So in the loom build, and only there, each side
//! runs a `fence(SeqCst)` between its read-modify-write and its load
//! ([`order_point`]): for two threads that each write one location and then read the
//! other, that is what S guarantees, and nothing more is asked of it here.

use crate::sync::{const_fn_unless_loom, spin_until, AtomicU32, Ordering};

/// Between a side's `SeqCst` read-modify-write and its `SeqCst` load: nothing in the
/// normal build (the accesses' own total order is the guarantee), a `fence(SeqCst)` in
/// the loom build, which does not model that order (module docs).
#[inline(always)]
fn order_point() {
    #[cfg(tricolor_loom)]
    crate::sync::fence(Ordering::SeqCst);
}

/// `state`'s writer bit; the rest of `state` counts readers.
pub(crate) const WRITER: u32 = 1 << (u32::BITS - 1);
/// The most readers `state` holds; one more is refused (`Reader::Full`).
pub(crate) const MAX_READERS: u32 = WRITER - 1;

/// A `GcCell`'s borrow flag (module docs).
#[derive(Debug)]
pub(crate) struct CellFlag {
    /// Mutators' readers (and collector reads that fell back), or `WRITER`.
    state: AtomicU32,
    /// 1 while one collector read holds the cell on the fast path.
    collector: AtomicU32,
    /// Loom controls only: whether a writer checks `collector` (as shipped);
    /// [`CellFlag::without_collector_check`] clears it.
    #[cfg(tricolor_loom)]
    check_collector: bool,
    /// Loom controls only: whether a writer that finds a collector read gives `WRITER`
    /// back instead of waiting (not as shipped: [`CellFlag::giving_the_flag_back`]).
    #[cfg(tricolor_loom)]
    give_back: bool,
}

/// What [`CellFlag::try_add_reader`] did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reader {
    /// A reader was added; release it with [`CellFlag::release_reader`].
    Added,
    /// A writer holds the cell.
    WriterHolds,
    /// `MAX_READERS` readers hold the cell already.
    Full,
}

/// How a collector read holds the cell; give it back with [`CellFlag::collector_end`].
#[must_use]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum CollectorHold {
    /// Through `collector` (the fast path).
    Flag,
    /// As a reader of `state` (another collector read held `collector`).
    Reader,
}

impl CellFlag {
    const_fn_unless_loom! {
        /// A flag nobody holds.
        pub(crate) fn new() -> CellFlag {
            CellFlag {
                state: AtomicU32::new(0),
                collector: AtomicU32::new(0),
                #[cfg(tricolor_loom)]
                check_collector: true,
                #[cfg(tricolor_loom)]
                give_back: false,
            }
        }
    }

    /// Loom controls only: a flag whose writer ignores collector reads (module docs).
    #[cfg(tricolor_loom)]
    pub(crate) fn without_collector_check() -> CellFlag {
        CellFlag {
            check_collector: false,
            ..CellFlag::new()
        }
    }

    /// Loom controls only: a flag whose writer gives `WRITER` back when it finds a
    /// collector read, and fails (module docs: why that is wrong).
    #[cfg(tricolor_loom)]
    pub(crate) fn giving_the_flag_back() -> CellFlag {
        CellFlag {
            give_back: true,
            ..CellFlag::new()
        }
    }

    /// `state` as it is now (Relaxed: for diagnostics and the caller's own-thread checks).
    #[inline]
    pub(crate) fn state(&self) -> u32 {
        self.state.load(Ordering::Relaxed)
    }

    /// Adds a reader to `state` unless a writer holds it.
    #[inline]
    pub(crate) fn try_add_reader(&self) -> Reader {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & WRITER != 0 {
                return Reader::WriterHolds;
            }
            if state >= MAX_READERS {
                return Reader::Full;
            }
            // Acquire: after the last writer's Release swap (module docs).
            match self.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Reader::Added,
                Err(now) => state = now,
            }
        }
    }

    /// Ends a reader added by [`CellFlag::try_add_reader`]; returns `state` before.
    #[inline]
    pub(crate) fn release_reader(&self) -> u32 {
        // Release: the reads come before the next writer's swap.
        self.state.fetch_sub(1, Ordering::Release)
    }

    /// Takes the writer bit if no mutator holds the cell. Waits only for a collector read
    /// that holds the cell, which is one trace (module docs).
    #[inline]
    pub(crate) fn try_take_writer(&self) -> bool {
        // SeqCst: the first half of the writer's side of Dekker's pattern (module docs),
        // and gc_cell/mod.rs fact (1).
        if self
            .state
            .compare_exchange(0, WRITER, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        #[cfg(tricolor_loom)]
        if !self.check_collector {
            return true;
        }
        order_point();
        // SeqCst: the second half (module docs).
        if self.collector.load(Ordering::SeqCst) != 0 {
            #[cfg(tricolor_loom)]
            if self.give_back {
                // Nobody else changes `state` while it holds `WRITER`.
                self.state.store(0, Ordering::Release);
                return false;
            }
            // Holding `WRITER` (module docs: why not give it back). Acquire: after the
            // read's Release end store.
            spin_until(|| self.collector.load(Ordering::Acquire) == 0);
        }
        true
    }

    /// Ends the writer taken by [`CellFlag::try_take_writer`]; returns `state` before.
    #[inline]
    pub(crate) fn release_writer(&self) -> u32 {
        // Release: the writes come before the next reader's Acquire.
        self.state.swap(0, Ordering::Release)
    }

    /// A collector read: holds the cell against writers, or `None` if a writer holds it.
    /// `Err(())` if the cell has `MAX_READERS` readers and another collector read holds
    /// the fast path (the caller panics: skipping is only safe for a writer-held cell).
    #[inline]
    pub(crate) fn collector_begin(&self) -> Result<Option<CollectorHold>, ()> {
        // SeqCst, then SeqCst: the collector's side of Dekker's pattern (module docs).
        if self
            .collector
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
        {
            order_point();
            if self.state.load(Ordering::SeqCst) & WRITER != 0 {
                self.collector.store(0, Ordering::Release);
                return Ok(None);
            }
            return Ok(Some(CollectorHold::Flag));
        }
        match self.try_add_reader() {
            Reader::Added => Ok(Some(CollectorHold::Reader)),
            Reader::WriterHolds => Ok(None),
            Reader::Full => Err(()),
        }
    }

    /// Ends a collector read; for a `Reader` hold, returns `state` before (else `None`).
    #[inline]
    pub(crate) fn collector_end(&self, hold: CollectorHold) -> Option<u32> {
        match hold {
            CollectorHold::Flag => {
                // Release: the reads come before a writer that reads this 0 (module docs).
                self.collector.store(0, Ordering::Release);
                None
            }
            CollectorHold::Reader => Some(self.release_reader()),
        }
    }
}

#[cfg(all(test, not(tricolor_loom)))]
mod tests {
    use super::*;

    #[test]
    fn collector_reads_and_readers_share_the_cell() {
        let flag = CellFlag::new();
        let hold = flag.collector_begin().unwrap().unwrap();
        assert_eq!(hold, CollectorHold::Flag);
        assert_eq!(flag.try_add_reader(), Reader::Added);
        // A second collector read falls back to a reader of `state`.
        let second = flag.collector_begin().unwrap().unwrap();
        assert_eq!(second, CollectorHold::Reader);
        assert_eq!(flag.collector_end(second), Some(2));
        assert_eq!(flag.collector_end(hold), None);
        assert!(!flag.try_take_writer(), "a writer got in beside a reader");
        assert_eq!(flag.release_reader(), 1);
        assert!(flag.try_take_writer());
    }

    #[test]
    fn a_writer_waits_for_the_collector_read_it_finds() {
        let flag = std::sync::Arc::new(CellFlag::new());
        let hold = flag.collector_begin().unwrap().unwrap();
        let writer = {
            let flag = flag.clone();
            std::thread::spawn(move || flag.try_take_writer())
        };
        // The writer holds `WRITER` while it waits: a second collector read skips.
        while flag.state() != WRITER {
            std::thread::yield_now();
        }
        assert!(!writer.is_finished(), "the writer did not wait");
        assert_eq!(flag.collector_begin(), Ok(None));
        assert_eq!(flag.collector_end(hold), None);
        assert!(writer.join().unwrap(), "the writer gave up");
        assert_eq!(flag.release_writer(), WRITER);
    }

    #[test]
    fn a_writer_makes_collector_reads_skip() {
        let flag = CellFlag::new();
        assert!(flag.try_take_writer());
        assert_eq!(flag.collector_begin(), Ok(None));
        // The skipped read gave the fast path back: the next read after the writer uses it.
        assert_eq!(flag.release_writer(), WRITER);
        assert_eq!(flag.collector_begin(), Ok(Some(CollectorHold::Flag)));
    }

    #[test]
    fn readers_are_refused_past_the_maximum() {
        let flag = CellFlag::new();
        flag.state.store(MAX_READERS, Ordering::Relaxed);
        assert_eq!(flag.try_add_reader(), Reader::Full);
        let hold = flag.collector_begin().unwrap().unwrap();
        assert_eq!(
            hold,
            CollectorHold::Flag,
            "the fast path needs no reader slot"
        );
        assert_eq!(flag.collector_begin(), Err(()));
        let _ = flag.collector_end(hold);
    }
}
