//! A drop ledger: ids for test values and one bit per id, set when the value is dropped.
//!
//! It proves "every value dropped exactly once": a second drop of an id is recorded (not
//! panicked on: the collector runs drops under `catch_unwind`, which would hide it), an
//! access to a dropped id is detectable with `is_dropped`, and at the end the number of
//! drops must equal the number of ids issued.

use std::sync::atomic::{AtomicU64, Ordering};

/// Ids, drop bits and counts for one test.
#[derive(Debug)]
pub(crate) struct Ledger {
    next: AtomicU64,
    bits: Box<[AtomicU64]>,
    dropped: AtomicU64,
    double_drops: AtomicU64,
}

impl Ledger {
    /// A ledger for up to `max_ids` values (leaked: tests are short-lived processes).
    pub(crate) fn new(max_ids: u64) -> &'static Ledger {
        Box::leak(Box::new(Ledger {
            next: AtomicU64::new(0),
            bits: (0..max_ids.div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
            dropped: AtomicU64::new(0),
            double_drops: AtomicU64::new(0),
        }))
    }

    /// A fresh id.
    pub(crate) fn issue(&self) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        assert!(
            (id as usize) < self.bits.len() * 64,
            "the test ran out of ledger ids ({}); shorten it",
            self.bits.len() * 64
        );
        id
    }

    /// Records the drop of `id`.
    pub(crate) fn record_drop(&self, id: u64) {
        let bit = 1u64 << (id % 64);
        let old = self.bits[(id / 64) as usize].fetch_or(bit, Ordering::SeqCst);
        if old & bit != 0 {
            self.double_drops.fetch_add(1, Ordering::SeqCst);
            eprintln!("ledger: value {id} dropped twice");
        } else {
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Whether `id` was dropped.
    pub(crate) fn is_dropped(&self, id: u64) -> bool {
        self.bits[(id / 64) as usize].load(Ordering::SeqCst) & (1 << (id % 64)) != 0
    }

    /// Ids issued so far.
    pub(crate) fn issued(&self) -> u64 {
        self.next.load(Ordering::SeqCst)
    }

    /// Distinct ids dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::SeqCst)
    }

    /// Second drops seen so far (must stay zero).
    pub(crate) fn double_drops(&self) -> u64 {
        self.double_drops.load(Ordering::SeqCst)
    }

    /// Panics unless every issued id was dropped exactly once.
    pub(crate) fn assert_all_dropped_once(&self, what: &str) {
        assert_eq!(self.double_drops(), 0, "{what}: values dropped twice");
        assert_eq!(
            self.dropped(),
            self.issued(),
            "{what}: {} values made, {} dropped",
            self.issued(),
            self.dropped()
        );
    }
}

/// Records its id's drop in a ledger; lives in a `#[gc(skip)]` field, so the value holding
/// it needs no `Drop` of its own.
#[derive(Debug)]
pub(crate) struct Token {
    pub(crate) id: u64,
    ledger: &'static Ledger,
}

impl Token {
    /// A token with a fresh id of `ledger`.
    pub(crate) fn new(ledger: &'static Ledger) -> Token {
        Token {
            id: ledger.issue(),
            ledger,
        }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        self.ledger.record_drop(self.id);
    }
}
