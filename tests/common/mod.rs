//! Helpers shared by the integration tests: drop counters for values whose drops the
//! collector runs.
//!
//! Each test file includes this module and uses a subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts drops into a per-test counter; lives in `#[gc(skip)]` fields.
pub(crate) struct Tick(pub(crate) &'static AtomicUsize);

impl Drop for Tick {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A fresh counter for one test (leaked: tests are short-lived processes).
pub(crate) fn counter() -> &'static AtomicUsize {
    Box::leak(Box::new(AtomicUsize::new(0)))
}

/// The drops counted so far.
pub(crate) fn drops(c: &AtomicUsize) -> usize {
    c.load(Ordering::SeqCst)
}
