//! Helpers shared by the integration tests: drop counters for values whose drops the
//! collector runs, a drop ledger (`ledger`), the seeded generator (`rng`), and running
//! one test of the current binary as a child process (for settings read once per process,
//! and for failures that end the process).
//!
//! Each test file includes this module and uses a subset, hence the `dead_code` allowance.
#![allow(dead_code)]

pub(crate) mod ledger;
pub(crate) mod rng;

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

/// Runs this test binary with only `test` selected (an `#[ignore]`d child test), the
/// variables of `remove` unset and `env` set; returns (success, stdout + stderr).
pub(crate) fn run_child(test: &str, remove: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args([
        test,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for var in remove {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("spawn the test binary");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("running 1 test"),
        "the child did not select exactly one test:\n{text}"
    );
    (out.status.success(), text)
}
