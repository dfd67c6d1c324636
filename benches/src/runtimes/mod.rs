//! The one registry of runtimes, for every workload: W1 (the binary-trees runner, `w1.rs`,
//! and the criterion bench) and the churn workloads W2 and W3 (the pause-time harness).
//!
//! Module map:
//! - `tricolor`, `boxed`, `arc`, `rust_gc`, `dumpster`, `gc_arena`: one runtime each: its
//!   node types (W1/W2's, and W3's with a parent edge), their `tree::Tree` impls (the one
//!   tree shape every workload builds) and its registry entry;
//! - `handles`: the churn driver for runtimes whose roots are plain Rust values (a `Vec`
//!   of handles owned by each mutator thread): all but `gc_arena`;
//! - `gc_arena`: also its own drivers, because its roots live inside the arena and its
//!   loops run inside `Arena::mutate` with collection between calls;
//! - `go`: the optional Go peer (W2 and W3 only): builds and runs `benches/go/`, a Go
//!   program of the same workloads, when a Go toolchain is on `PATH`.
//!
//! # Adding a runtime
//! Write `runtimes/<name>.rs` with its node types, `impl Tree<D>` for its W1/W2 handle,
//! `impl Tree<Payload> + CyclicTree` for its W3 handle and a
//! `pub(crate) const RUNTIME: Runtime` (a handle-based runtime implements
//! [`handles::HandleRuntime`] and sets `run: handles::run::<Its>`, and runs W1 with
//! `binary_trees::binary_trees::<Its handle<()>>`), declare the module below and add one
//! line to [`RUNTIMES`]. Both programs and the bench pick it up.

mod arc;
mod boxed;
mod dumpster;
mod gc_arena;
mod go;
pub(crate) mod handles;
mod rust_gc;
mod tricolor;

use crate::config::Config;
use crate::outcome::{RunError, RunOutcome};

/// One runtime: its name and what it runs of each workload.
#[derive(Debug)]
pub(crate) struct Runtime {
    /// `--runtime` name in both programs, also the stem of the harness's output files.
    pub(crate) name: &'static str,
    /// W1 (binary-trees), if this runtime runs it.
    pub(crate) w1: Option<W1>,
    /// The churn workloads W2 and W3 (the pause-time harness).
    pub(crate) churn: Churn,
}

/// How a runtime runs W1.
#[derive(Clone, Copy, Debug)]
pub(crate) struct W1 {
    /// The whole program at a depth; returns the sum of all checks.
    pub(crate) run: fn(u32) -> u64,
    /// Whether `binary-trees --runtime all` runs it (false for the peer collectors, which
    /// take minutes at depth 21: `--runtime every` runs them too).
    pub(crate) in_all: bool,
}

/// How a runtime runs the churn workloads (W2 and W3, `--workload`).
#[derive(Debug)]
pub(crate) struct Churn {
    /// Whether `--threads` > 1 is possible.
    pub(crate) multi_thread: bool,
    /// One line for the report: where this runtime's collector stalls come from.
    pub(crate) stalls: &'static str,
    /// One run in this process, of the workload `Config::workload` names.
    pub(crate) run: fn(&Config) -> Result<RunOutcome, RunError>,
    /// Whether it can run on this machine, or why not (then it is skipped, not failed).
    pub(crate) available: fn() -> Result<(), String>,
}

/// `Churn::available` of the runtimes built into this program.
pub(crate) fn always() -> Result<(), String> {
    Ok(())
}

/// Every runtime, in the order both programs run and report them.
pub(crate) const RUNTIMES: &[Runtime] = &[
    tricolor::RUNTIME,
    boxed::RUNTIME,
    arc::RUNTIME,
    rust_gc::RUNTIME,
    dumpster::RUNTIME,
    gc_arena::RUNTIME,
    go::RUNTIME,
];

/// The harness's runtime when `--runtime` is not given.
pub(crate) const DEFAULT_RUNTIME: &str = "tricolor";

/// Every runtime's name, in registry order.
pub(crate) fn names() -> Vec<&'static str> {
    RUNTIMES.iter().map(|r| r.name).collect()
}

/// The runtime called `name`.
pub(crate) fn by_name(name: &str) -> Option<&'static Runtime> {
    RUNTIMES.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for (i, rt) in RUNTIMES.iter().enumerate() {
            assert!(
                RUNTIMES[..i].iter().all(|r| r.name != rt.name),
                "{}",
                rt.name
            );
            assert_eq!(by_name(rt.name).map(|r| r.name), Some(rt.name));
        }
        assert!(by_name("java").is_none());
    }
}
