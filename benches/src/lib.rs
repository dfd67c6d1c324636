//! Shared workload code for the benchmarks, the pause-time harness and the binary-trees
//! runner.
//!
//! Module map:
//! - `binary_trees`: workload W1 on every pointer type, shared by the criterion bench
//!   `benches/binary_trees.rs` and the wall-clock runner `w1`;
//! - `w1`: the binary-trees wall-clock runner (`src/bin/binary_trees.rs`);
//! - `harness`: workload W2, the pause-time harness (`src/main.rs`), with its modules
//!   `config`, `runtimes`, `probe`, `sampler`, `report`, `plot` and `children`.

pub mod binary_trees;
pub mod harness;
pub mod w1;

mod children;
mod cli;
mod compare;
mod config;
mod outcome;
mod plot;
mod probe;
mod progress;
mod report;
mod runtimes;
mod sampler;
mod timeline;
mod tree;
