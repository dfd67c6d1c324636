//! Binary-trees (the Benchmarks Game shape, DESIGN.md §10 workload W1) on every runtime
//! of the registry (`runtimes/`): tricolor's `Gc`, `Box` and `Arc` (no collector), `gc`
//! (rust-gc), `dumpster` (sync) and `gc-arena`.
//!
//! Shared by the criterion bench (`benches/binary_trees.rs`, depth 16) and the one-shot
//! wall-clock runner (`w1.rs`, depth 21 by default), so both measure the same program.
//!
//! # The program
//! [`binary_trees`]`(max_depth)` is the whole benchmark program: build and check a
//! "stretch" tree of depth `max_depth + 1`, build a long-lived tree of depth `max_depth`,
//! then for depth d = 4, 6, .., `max_depth` build and check 2^(`max_depth` - d + 4) trees of
//! depth d, then check the long-lived tree. Nodes hold only their two children (the
//! runtimes' `Tree<()>`); `check` counts nodes, so the result is known in closed form
//! ([`expected`]). gc-arena runs the same program in its own driver
//! (`runtimes/gc_arena.rs`), because its pointers live only inside `Arena::mutate`.

use crate::runtimes::RUNTIMES;
use crate::tree::{self, Tree};

/// The smallest depth of the short-lived trees (the Benchmarks Game's `min_depth`).
pub const MIN_DEPTH: u32 = 4;

/// A complete W1 tree of `depth` on runtime `T`.
pub(crate) fn make<T: Tree<(), Alloc = ()>>(depth: u32) -> T {
    tree::make(&(), depth, &mut || ())
}

/// The whole benchmark program on a runtime whose handles allocate on their own; returns
/// the sum of all checks.
pub(crate) fn binary_trees<T: Tree<(), Alloc = ()>>(max_depth: u32) -> u64 {
    let mut sum = tree::count(&make::<T>(max_depth + 1));
    let long_lived = make::<T>(max_depth);
    for d in (MIN_DEPTH..=max_depth).step_by(2) {
        for _ in 0..iterations(max_depth, d) {
            sum += tree::count(&make::<T>(d));
        }
    }
    sum + tree::count(&long_lived)
}

/// How many trees of depth `d` the program builds under `max_depth`.
pub(crate) fn iterations(max_depth: u32, d: u32) -> u64 {
    1u64 << (max_depth - d + MIN_DEPTH)
}

/// The expected result of `binary_trees(max_depth)`.
pub fn expected(max_depth: u32) -> u64 {
    let loops: u64 = (MIN_DEPTH..=max_depth)
        .step_by(2)
        .map(|d| iterations(max_depth, d) * tree::nodes_in(d))
        .sum();
    tree::nodes_in(max_depth + 1) + loops + tree::nodes_in(max_depth)
}

/// A runtime's whole W1 program at a depth; returns the sum of all checks.
pub type Program = fn(u32) -> u64;

/// Every runtime's W1 program as `(name, program)`, in registry order.
pub fn programs() -> Vec<(&'static str, Program)> {
    RUNTIMES
        .iter()
        .filter_map(|rt| rt.w1.map(|w1| (rt.name, w1.run)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_matches_a_hand_count() {
        // Depth 4: stretch tree of depth 5 (63 nodes), long-lived tree of depth 4 (31),
        // and 2^4 trees of depth 4.
        assert_eq!(expected(4), 63 + 16 * 31 + 31);
    }

    #[test]
    fn every_runtime_computes_the_expected_sum() {
        let programs = programs();
        assert_eq!(programs.len(), 6);
        for (name, run) in programs {
            assert_eq!(run(8), expected(8), "{name}");
        }
    }
}
