//! What a churn run (W2 or W3) of one runtime measured ([`RunOutcome`], rendered by `report.rs` and
//! `plot.rs`), how its live set is sized ([`Plan`]) and how a run fails ([`RunError`]).

use std::fmt;
use std::time::Duration;

use crate::config::{Config, Workload};
use crate::probe::{Durations, Sample};
use crate::sampler::CollectorCounters;
use crate::timeline::Timeline;
use crate::tree;

/// How the live set is sized and split for one runtime.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// The workload, whose node type the estimate is of.
    pub(crate) workload: Workload,
    /// Estimated bytes one node occupies (header + node, rounded to its allocator's
    /// granularity); the live set is `live_mib` MiB of such nodes.
    pub(crate) est_node_bytes: usize,
    /// Live trees per mutator thread.
    pub(crate) slots_per_thread: Vec<usize>,
    pub(crate) live_tree_nodes: u64,
    pub(crate) churn_tree_nodes: u64,
}

impl Plan {
    /// Sizes the live set of `cfg` for nodes of `est_node_bytes` (the node of
    /// `cfg.workload`) and splits it over the mutator threads (at least one tree each).
    pub(crate) fn new(cfg: &Config, est_node_bytes: usize) -> Plan {
        let live_tree_nodes = tree::nodes_in(cfg.live_depth);
        let target_nodes = (cfg.live_mib << 20) / est_node_bytes as u64;
        let slots = (target_nodes.div_ceil(live_tree_nodes) as usize).max(cfg.threads);
        let slots_per_thread = (0..cfg.threads)
            .map(|i| slots / cfg.threads + usize::from(i < slots % cfg.threads))
            .collect();
        Plan {
            workload: cfg.workload,
            est_node_bytes,
            slots_per_thread,
            live_tree_nodes,
            churn_tree_nodes: tree::nodes_in(cfg.churn_depth),
        }
    }

    /// Nodes in the live set.
    pub(crate) fn live_nodes(&self) -> u64 {
        self.slots_per_thread.iter().sum::<usize>() as u64 * self.live_tree_nodes
    }

    /// The live set in bytes, by the estimate.
    pub(crate) fn live_bytes(&self) -> u64 {
        self.live_nodes() * self.est_node_bytes as u64
    }
}

/// What one mutator thread measured.
#[derive(Debug)]
pub(crate) struct ThreadResult {
    pub(crate) probe: crate::probe::Probe,
    /// Collector stalls this thread observed itself (attributed loop gaps).
    pub(crate) stalls: Vec<Sample>,
    pub(crate) nodes: u64,
    pub(crate) iterations: u64,
    pub(crate) replaced: u64,
}

/// Everything a run of one runtime measured; `report.rs` renders it.
#[derive(Debug)]
pub(crate) struct RunOutcome {
    pub(crate) runtime: &'static str,
    pub(crate) stalls_note: &'static str,
    pub(crate) threads: usize,
    pub(crate) plan: Plan,
    pub(crate) build_time: Duration,
    /// Growth of the process RSS while the live set was built (a measurement of what the
    /// estimate in `plan.est_node_bytes` claims).
    pub(crate) build_rss_bytes: Option<u64>,
    pub(crate) churn_time: Duration,
    pub(crate) nodes_allocated: u64,
    pub(crate) iterations: u64,
    pub(crate) replaced: u64,
    /// All loop gaps of all threads.
    pub(crate) gaps: Durations,
    /// Longest loop gap per thread.
    pub(crate) max_gap_per_thread: Vec<Duration>,
    /// Raw samples (gaps above the threshold, collector stalls), sorted by time.
    pub(crate) samples: Vec<Sample>,
    pub(crate) dropped_samples: u64,
    /// False: the runtime exposes no collector stalls at all (report "n/a", not zero).
    pub(crate) stalls_observed: bool,
    pub(crate) counters: CollectorCounters,
    pub(crate) peak_rss_bytes: Option<u64>,
    /// Heap figures over time and the cycles.
    pub(crate) timeline: Timeline,
    /// The version of a peer program's runtime (`go1.19.8`); `None` for runtimes built
    /// into this program.
    pub(crate) version: Option<String>,
}

/// A run that failed after the command line was accepted (exit code 1).
#[derive(Debug)]
pub(crate) enum RunError {
    /// A tree's walk found a broken payload: the runtime corrupted its heap.
    Corrupt {
        runtime: &'static str,
        thread: usize,
        detail: tree::Corrupt,
    },
    /// A peer program (the Go peer) could not be built or did not finish its run.
    Peer { runtime: &'static str, why: String },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Corrupt {
                runtime,
                thread,
                detail,
            } => write!(
                f,
                "runtime {runtime}, mutator thread {thread}: checksum walk failed: {detail}"
            ),
            RunError::Peer { runtime, why } => write!(f, "runtime {runtime}: {why}"),
        }
    }
}

impl std::error::Error for RunError {}
