//! tricolor-gc: a concurrent, tricolor mark-sweep garbage collector for Rust, after Go's.
//!
//! This increment ships the allocator the collector will sit on; the `Gc<T>` API follows.
#![warn(missing_docs)]

#[doc(hidden)]
pub use tricolor_gc_core as __core;
