//! Shared workload code for the benchmarks, the pause-time harness and the binary-trees
//! runner.
//!
//! Module map:
//! - `harness`: workloads W2 and W3, the pause-time harness (`src/main.rs`); `w1`: the
//!   binary-trees wall-clock runner (`src/bin/binary_trees.rs`); `binary_trees`: the W1
//!   program, also run by the criterion bench `benches/binary_trees.rs`;
//! - shared by both programs: `runtimes` (the one registry: each runtime's node types,
//!   their `tree::Tree` impls and its W1 and churn (W2, W3) entry points), `tree` (the one
//!   tree shape), `cli` (range-checked clap parsers), `children` (the one child-process
//!   runner) and `compare` (the comparison table and chart);
//! - the harness's own: `config` (flags), `outcome` (what a run measured), `probe`
//!   (loop gaps), `sampler` (the polling thread), `timeline` (heap over time and cycles),
//!   `progress` (the progress line), `report` (text, CSV, JSON, comparison rows) and
//!   `plot` (the SVG of one run).

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
