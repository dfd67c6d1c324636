//! The runtime of tricolor-gc: the span allocator (this increment), and in later
//! increments the collector, the sweeper, the pacer and the pool.
//!
//! Users depend on the facade crate `tricolor-gc` (library `gc`); this crate's public items
//! beyond what the facade re-exports are for the facade, the derive, the benchmarks and the
//! tests, and carry no stability promise.
//!
//! Module map (dependencies point one way: `os`/`sync` <- `heap` <- collector <- API):
//! - [`trace`]: the `Trace` trait, its `Tracer`, and the impls for std types;
//! - [`heap`]: page heap, size classes, spans, thread caches and central lists;
//! - [`pool`]: `Pool<T>`, reusable values emptied by cycles with a victim generation;
//! - `os`: reserve / release / residency of address space;
//! - `sync`: the only import point for atomics and cells (loom-swappable).
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod collector;
mod gc;
mod gc_cell;
pub mod heap;
mod os;
pub mod pool;
mod sync;
pub mod trace;

pub use collector::{
    __hold_marking, __marking_held, __set_force_period, collect, set_gc_percent, set_memory_limit,
    stats, Stats,
};
pub use gc::Gc;
pub use gc_cell::{BorrowError, BorrowMutError, GcCell, GcRef, GcRefMut};
pub use os::{process_peak_rss_bytes, process_rss_bytes};
