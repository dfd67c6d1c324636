//! Compile-time behaviour of `#[derive(Trace)]` and of the bounds of `Gc<T>` (the
//! `tests/ui/fail_gc_*.rs` cases): what must be rejected (`tests/ui/fail_*.rs`,
//! with the expected compiler output checked in as `.stderr`) and what it must accept
//! (`tests/ui/pass_*.rs`). Regenerate the `.stderr` files with `TRYBUILD=overwrite` after a
//! deliberate change to a message, and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail_*.rs");
    t.pass("tests/ui/pass_*.rs");
}
