//! Internal errors on the collector's threads end the process with a message instead of a
//! hang (collector/fatal.rs).
//!
//! The only way safe code could reach one is a bug in the collector, so the test breaks a
//! contract on purpose: an `unsafe impl Trace` reports a pointer to memory that is not a
//! managed object. The collector must neither write through it nor wait forever for the
//! mark worker that found it: the child process aborts, naming the bad pointer and the
//! step. The child runs this test binary again with one `#[ignore]`d test selected.

mod common;

use core::ptr::NonNull;

use gc::{Gc, Trace, Tracer};

/// Reports a pointer into a leaked `Box`, which is not a managed object.
struct LiesAboutItsHandles {
    foreign: NonNull<[u64; 4]>,
}

// SAFETY: deliberately broken (rule 1 of `Trace`): the reported pointer is no handle. The
// collector must detect it before writing through it; the leaked box stays valid memory
// in case it does not.
unsafe impl Trace for LiesAboutItsHandles {
    fn trace(&self, tracer: &mut Tracer) {
        tracer.__report(self.foreign.cast());
    }
}

// SAFETY: the pointer is only reported, never dereferenced by this type.
unsafe impl Send for LiesAboutItsHandles {}
// SAFETY: as above.
unsafe impl Sync for LiesAboutItsHandles {}

#[test]
#[ignore = "child process of a_broken_trace_impl_aborts_with_a_message"]
fn child_collects_with_a_broken_trace_impl() {
    // A hang (the failure this file guards against) ends as a clean exit the parent reports.
    std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_secs(30));
        println!("CHILD HUNG: collect() never returned");
        std::process::exit(0);
    });
    let foreign = NonNull::from(Box::leak(Box::new([0u64; 4])));
    let liar = Gc::new(LiesAboutItsHandles { foreign });
    gc::collect();
    // Not reached: the collector aborts the process during the cycle.
    drop(liar);
    println!("CHILD SURVIVED");
}

#[test]
fn a_broken_trace_impl_aborts_with_a_message() {
    let (ok, text) = common::run_child(
        "child_collects_with_a_broken_trace_impl",
        &["TRICOLOR_MARK_WORKERS"],
        &[],
    );
    assert!(!ok, "the child should have aborted:\n{text}");
    assert!(
        !text.contains("CHILD SURVIVED") && !text.contains("CHILD HUNG"),
        "{text}"
    );
    for needle in [
        "is not a managed object",
        "internal error in a mark worker",
        "aborting",
    ] {
        assert!(text.contains(needle), "message lacks {needle:?}:\n{text}");
    }
}
