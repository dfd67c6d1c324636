//! What happens when the collector's own code panics.
//!
//! Panics in user code (`Trace` impls, destructors) are caught where they run and leave
//! the heap consistent (mark.rs, sweep.rs). A panic anywhere else on a collector or mark
//! worker thread means one of the collector's invariants is broken (or an `unsafe` `Trace`
//! impl reported a pointer that is not a managed object). Panics in user code are caught
//! before they reach these guards. Unwinding would end that thread
//! silently: a cycle would wait forever for a worker that no longer exists, and every
//! `collect()` with it. Continuing is no option either: the heap may be inconsistent, and
//! a collector that frees a live object is worse than none. So the process aborts, after a
//! message that names the thread and the failed step (the panic message itself was
//! printed by the panic hook just before), the way Go's runtime `throw`s.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `step` and aborts the process if it panics (module docs).
pub(crate) fn abort_on_panic<R>(step: &str, body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(_) => {
            let thread = std::thread::current();
            eprintln!(
                "tricolor-gc: internal error in {step} on thread {:?} (the panic above); \
                 aborting, because the heap may be inconsistent and the cycle cannot finish",
                thread.name().unwrap_or("unnamed")
            );
            std::process::abort();
        }
    }
}
