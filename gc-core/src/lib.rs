//! The runtime of tricolor-gc: the span allocator, the collector (count-zero
//! reclamation, concurrent count / roots / mark, sweep, pacing), `Gc` and `GcCell`, and the
//! pool. The facade crate `tricolor-gc` (library `gc`) documents the API with examples.
//!
//! Users depend on the facade crate `tricolor-gc` (library `gc`); this crate's public items
//! beyond what the facade re-exports are for the facade, the derive, the benchmarks and the
//! tests, and carry no stability promise.
//!
//! Module map (dependencies point one way: `os`/`sync` <- `heap` <- collector <- API; the
//! heap names `reclaim::ThreadBuffer`, the type of the slot it keeps per thread, and calls
//! `reclaim::flush` at thread exit, and touches nothing else of `reclaim`):
//! - `gc`, `gc_cell`: [`Gc`] and [`GcCell`] with their barriers;
//! - `collector`: the cycle driver, count / roots / mark, sweep, the heap goal, [`stats`]
//!   (docs/collector.md has the invariants and the proof sketch);
//! - `reclaim`: count-zero reclamation: the per-thread buffers (held for it by the heap),
//!   the global queue and the drain;
//! - [`trace`]: the `Trace` trait, its `Tracer`, and the impls for std types;
//! - [`heap`]: page heap, size classes, spans, thread caches and central lists;
//! - [`pool`]: `Pool<T>`, reusable values emptied by cycles with a victim generation;
//! - `os`: reserve / release / residency of address space;
//! - `sync`: the only import point for atomics and cells (loom-swappable).
//!
//! # The loom build
//! Under `--cfg tricolor_loom` (`.ci/loom.sh`) the crate compiles only `sync` and the
//! protocol modules: the op / stop protocol and the threads' buffers (`heap/safepoint.rs`),
//! the free pass's gate against straddling sweep assists (`heap/free_pass.rs`), `GcCell`'s
//! borrow flag (`gc_cell/flag.rs`), the phase word (`collector/phase.rs`), the mark work
//! list and termination test (`collector/work.rs`) and the count-zero hand-off
//! (`reclaim/queue.rs`: the queueing step, the thread buffer and the global queue). Their
//! state is in plain structs whose methods are the shipped logic; the loom models in
//! `gc-core/tests/loom_protocol.rs` are compiled as this crate's unit tests in that build,
//! build fresh instances per execution and call those methods.
//! `docs/collector.md`, "What the loom models check", says what stays modelled and why.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
// The loom build compiles the protocol modules without the code that uses most of them.
#![cfg_attr(tricolor_loom, allow(dead_code))]

#[cfg(not(tricolor_loom))]
mod collector;
#[cfg(not(tricolor_loom))]
mod gc;
#[cfg(not(tricolor_loom))]
mod gc_cell;
#[cfg(not(tricolor_loom))]
pub mod heap;
#[cfg(not(tricolor_loom))]
mod os;
#[cfg(not(tricolor_loom))]
pub mod pool;
mod reclaim;
#[cfg(not(tricolor_loom))]
mod sweep;
mod sync;
#[cfg(not(tricolor_loom))]
pub mod trace;

#[cfg(not(tricolor_loom))]
pub use collector::{
    __hold_marking, __marking_held, collect, set_force_period, set_gc_percent, set_memory_limit,
    stats, Stats,
};
#[cfg(not(tricolor_loom))]
pub use gc::Gc;
#[cfg(not(tricolor_loom))]
pub use gc_cell::{BorrowError, BorrowMutError, GcCell, GcRef, GcRefMut};
#[cfg(not(tricolor_loom))]
pub use os::{process_peak_rss_bytes, process_rss_bytes};

/// The loom build's heap: only the safepoint protocol and the free pass's gate (crate docs,
/// "The loom build").
#[cfg(tricolor_loom)]
mod heap {
    pub(crate) mod free_pass;
    pub(crate) mod safepoint;
}

/// The loom build's `GcCell`: only its borrow flag (crate docs, "The loom build").
#[cfg(tricolor_loom)]
mod gc_cell {
    pub(crate) mod flag;
}

/// The loom build's collector: only the phase word and the work list (crate docs, "The
/// loom build"; `reclaim` compiles its hand-off, `reclaim/queue.rs`, itself).
#[cfg(tricolor_loom)]
mod collector {
    pub(crate) mod phase;
    pub(crate) mod work;
}

/// The loom models, as unit tests of the loom build (they reach the crate-private
/// protocol types). In the normal build the same file is an empty integration test.
#[cfg(all(test, tricolor_loom))]
#[path = "../tests/loom_protocol.rs"]
mod loom_protocol;
