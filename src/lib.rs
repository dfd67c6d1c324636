//! tricolor-gc: a concurrent, tricolor mark-sweep garbage collector for Rust, after Go's.
//!
//! This increment ships the allocator the collector will sit on, the [`Trace`] trait
//! with `#[derive(Trace)]`, and [`Pool`], a set of reusable values that collection cycles
//! empty with a one-cycle victim generation (Go's `sync.Pool`). The pointer API (`Gc<T>`, `GcCell<T>`, `collect()`, `stats()`)
//! is coming in later increments; `Trace` is how it will find the handles inside a value.
//!
//! # Tracing
//!
//! The collector finds roots by subtraction: every `Gc` handle counts one in its target,
//! and during a cycle the collector calls [`Trace::trace`] on every object to count the
//! handles held inside the heap. A target held more often than the heap accounts for is a
//! root. That is why the rules of [`Trace`] forbid reporting a handle the value does not
//! uniquely own, or reporting one twice: that would make a live object look unreachable.
//! Reporting too few is only a leak.
//!
//! Derive it:
//!
//! ```
//! use gc::Trace;
//!
//! #[derive(Trace)]
//! struct Node {
//!     name: String,
//!     children: Vec<Node>,
//! }
//!
//! // Nothing in a `Node` can hold a `Gc` yet, so its objects will need no tracing at all.
//! assert!(!<Node as Trace>::NEEDS_TRACE);
//! ```
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

#[doc(hidden)]
pub use tricolor_gc_core as __core;

/// # Examples
///
/// Containers and tuples are traced element by element; whether a type needs tracing at
/// all is known at compile time:
///
/// ```
/// use gc::Trace;
/// use std::collections::HashMap;
///
/// assert!(!<Vec<u8> as Trace>::NEEDS_TRACE);
/// assert!(!<HashMap<String, (u32, Option<Box<[f64]>>)> as Trace>::NEEDS_TRACE);
/// ```
pub use tricolor_gc_core::trace::Trace;

pub use tricolor_gc_core::trace::Tracer;

/// # Examples
///
/// Structs and enums, generic or not; `#[gc(skip)]` leaves out a field whose type has no
/// `Trace` impl:
///
/// ```
/// use gc::Trace;
/// use std::sync::Mutex;
///
/// #[derive(Trace)]
/// enum Shape<T> {
///     Point,
///     Circle(T),
///     Polygon { corners: Vec<(T, T)>, label: Option<String> },
/// }
///
/// #[derive(Trace)]
/// struct Scene<T> {
///     shapes: Vec<Shape<T>>,
///     #[gc(skip)]
///     log: Mutex<Vec<String>>, // no `Trace` impl: `Mutex` allows writes through `&self`
/// }
///
/// let scene = Scene {
///     shapes: vec![
///         Shape::Point,
///         Shape::Circle(1.0),
///         Shape::Polygon { corners: vec![(0.0, 1.0)], label: None },
///     ],
///     log: Mutex::new(Vec::new()),
/// };
/// scene.log.lock().expect("no thread panicked").push(format!("{} shapes", scene.shapes.len()));
/// // `Scene<f32>` can hold no `Gc`, so the collector would never trace it.
/// assert!(!<Scene<f32> as Trace>::NEEDS_TRACE);
/// ```
///
/// A type that traces fields may not implement `Drop`, because the sweeper drops dead
/// objects in no particular order:
///
/// ```compile_fail
/// #[derive(gc::Trace)]
/// struct Noisy {
///     data: Vec<u32>,
/// }
///
/// impl Drop for Noisy {
///     fn drop(&mut self) {
///         println!("dropping {} values", self.data.len());
///     }
/// }
/// ```
///
/// unless it promises, with `#[gc(unsafe_drop)]`, that its `Drop` dereferences no `Gc`:
///
/// ```
/// #[derive(gc::Trace)]
/// #[gc(unsafe_drop)]
/// struct Noisy {
///     data: Vec<u32>,
/// }
///
/// impl Drop for Noisy {
///     fn drop(&mut self) {
///         println!("dropping {} values", self.data.len());
///     }
/// }
/// # drop(Noisy { data: vec![1] });
/// ```
pub use tricolor_gc_derive::Trace;

pub use tricolor_gc_core::pool::{Pool, PoolStats};
pub use tricolor_gc_core::{
    collect, set_gc_percent, set_memory_limit, stats, BorrowError, BorrowMutError, Gc, GcCell,
    GcRef, GcRefMut, Stats,
};

/// Support for the derive's expansion and for tests; not part of the API.
#[doc(hidden)]
pub mod __private {
    /// Sets the period after which an idle collector forces a cycle (default 2 minutes).
    pub use tricolor_gc_core::__set_force_period as set_force_period;
    /// The number of pools registered with the collector's cycle start (tests).
    pub use tricolor_gc_core::pool::__registered_pools;
    /// Replaces a derived type's own name in its `NEEDS_TRACE` expression.
    pub use tricolor_gc_core::trace::__SelfPlaceholder;
    /// The target addresses that `value.trace(..)` reports, in report order.
    pub use tricolor_gc_core::trace::__trace_edges as trace_edges;
    /// Benchmarks only: hold the next cycle in its mark phase / whether one is held.
    pub use tricolor_gc_core::{__hold_marking as hold_marking, __marking_held as marking_held};
}
