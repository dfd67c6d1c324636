//! Helpers shared by the integration tests: drop counters for values whose drops the
//! collector runs, a drop ledger (`ledger`), the seeded generator (`rng`), and running
//! one test of the current binary as a child process (for settings read once per process,
//! and for failures that end the process).
//!
//! Each test file includes this module and uses a subset, hence the `dead_code` allowance.
#![allow(dead_code)]

pub(crate) mod ledger;
pub(crate) mod pairs;
pub(crate) mod rng;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

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

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialises the tests of one binary that compare `heap_objects` with a baseline, hold a
/// cycle, or change process-wide settings (a failed test does not poison it).
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A thread that keeps a core busy until `stop` is set (so that the machine has more busy
/// threads than cores, where races show); joined, it returns its result so that the work
/// is not optimised away.
pub(crate) fn spawn_spinner(
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut x = 1u64;
        while !stop.load(Ordering::Relaxed) {
            x = rng::mix(x);
        }
        x
    })
}

/// A test's duration in seconds from the environment variable `var` (a whole number), or
/// `default` when it is unset; a bad value panics naming the variable.
pub(crate) fn secs_from_env(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var} must be a whole number of seconds; got {text:?}")),
        Err(_) => default,
    }
}

/// The heap's object count after a full cycle.
pub(crate) fn quiet_objects() -> usize {
    gc::collect();
    gc::stats().heap_objects
}

/// Polls `condition` every millisecond for up to 30 s; panics naming `what` on time-out.
pub(crate) fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Runs `during` while a cycle is held in `Mark` (after its count and roots passes), then
/// lets the cycle finish. Returns what `during` returned.
pub(crate) fn while_marking<R>(during: impl FnOnce() -> R) -> R {
    gc::__private::hold_marking(true);
    let cycle = std::thread::spawn(gc::collect);
    wait_for("a cycle held in Mark", gc::__private::marking_held);
    let result = during();
    gc::__private::hold_marking(false);
    cycle.join().expect("the held cycle's collect()");
    result
}
