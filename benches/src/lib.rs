//! Shared workload code for the benchmarks and the pause-time harness.
//!
//! Module map:
//! - `binary_trees`: workload W1 on every pointer type, shared by the criterion bench
//!   `benches/binary_trees.rs` and the wall-clock runner `src/bin/binary_trees.rs`.

pub mod binary_trees;
