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
/// ```compile_fail,E0119
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
/// The sweeper drops the dead objects of a cycle in no order, so such a `Drop` could read a
/// neighbour that was already dropped, or move a handle to it out of the sweep (into a
/// static, say) where it outlives its target. To opt out, write `#[gc(unsafe_drop)]` *and*
/// `unsafe impl gc::UnsafeDrop for Type {}`: the `unsafe` impl is your promise that the
/// `Drop` does not dereference, clone or move out any `Gc` it can reach (the `# Safety`
/// section of [`UnsafeDrop`]). Without the impl the attribute is a compile error, so safe
/// code alone cannot opt out:
///
/// ```
/// #[derive(gc::Trace)]
/// #[gc(unsafe_drop)]
/// struct Noisy {
///     data: Vec<u32>,
///     next: Option<gc::Gc<Noisy>>,
/// }
///
/// impl Drop for Noisy {
///     fn drop(&mut self) {
///         // Reads `data` only; `next` is left in place for the drop glue.
///         println!("dropping {} values", self.data.len());
///     }
/// }
///
/// // SAFETY: `Noisy::drop` neither dereferences, clones nor moves out a `Gc`.
/// unsafe impl gc::UnsafeDrop for Noisy {}
/// # drop(gc::Gc::new(Noisy { data: vec![1], next: None }));
/// ```
///
/// ```compile_fail,E0277
/// #[derive(gc::Trace)]
/// #[gc(unsafe_drop)] // error: needs `unsafe impl gc::UnsafeDrop for Noisy {}`
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
pub use tricolor_gc_derive::Trace;

/// # Examples
///
/// A `Drop` that leaves its handles alone, on a type whose objects form cycles:
///
/// ```
/// use gc::{Gc, GcCell, Trace};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// static CLOSED: AtomicUsize = AtomicUsize::new(0);
///
/// #[derive(Trace)]
/// #[gc(unsafe_drop)]
/// struct File {
///     fd: usize,
///     peer: GcCell<Option<Gc<File>>>,
/// }
///
/// impl Drop for File {
///     fn drop(&mut self) {
///         // Reads only `fd`; `peer` stays where it is, for the drop glue to release.
///         CLOSED.fetch_add(self.fd, Ordering::Relaxed);
///     }
/// }
///
/// // SAFETY: `File::drop` neither dereferences, clones nor moves out a `Gc`.
/// unsafe impl gc::UnsafeDrop for File {}
///
/// let a = Gc::new(File { fd: 3, peer: GcCell::new(None) });
/// let b = Gc::new(File { fd: 4, peer: GcCell::new(Some(a.clone())) });
/// *a.peer.borrow_mut() = Some(b.clone());
/// drop((a, b)); // a cycle: only a collection frees it
/// gc::collect();
/// assert_eq!(CLOSED.load(Ordering::Relaxed), 7);
/// ```
pub use tricolor_gc_core::trace::UnsafeDrop;

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
    /// Runs the pool part of a cycle start; tests call it where they will call
    /// `gc::collect()` once the collector exists.
    pub use tricolor_gc_core::pool::{__registered_pools, __simulate_cycle_start};
    /// Replaces a derived type's own name in its `NEEDS_TRACE` expression.
    pub use tricolor_gc_core::trace::__SelfPlaceholder;
    /// The target addresses that `value.trace(..)` reports, in report order.
    pub use tricolor_gc_core::trace::__trace_edges as trace_edges;
    /// Benchmarks only: hold the next cycle in its mark phase / whether one is held.
    pub use tricolor_gc_core::{__hold_marking as hold_marking, __marking_held as marking_held};
}
