//! tricolor-gc: a concurrent, tricolor mark-sweep garbage collector for Rust, after Go's.
//!
//! This increment ships the allocator the collector will sit on and [`Pool`], a set of
//! reusable values that collection cycles empty with a one-cycle victim generation (Go's
//! `sync.Pool`); the `Gc<T>` API follows.
#![warn(missing_docs)]

#[doc(hidden)]
pub use tricolor_gc_core as __core;

pub use tricolor_gc_core::pool::{Pool, PoolStats};

/// Hooks for tests and the derive; not part of the API.
#[doc(hidden)]
pub mod __private {
    /// Runs the pool part of a cycle start; tests call it where they will call
    /// `gc::collect()` once the collector exists.
    pub use tricolor_gc_core::pool::{__registered_pools, __simulate_cycle_start};
}
