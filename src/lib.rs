//! tricolor-gc: a concurrent, tricolor mark-sweep garbage collector for Rust, after Go's
//! runtime collector and allocator.
//!
//! ```
//! use gc::{Gc, GcCell, Trace};
//!
//! #[derive(Trace)]
//! struct Node {
//!     name: String,
//!     next: GcCell<Option<Gc<Node>>>,
//! }
//!
//! let a = Gc::new(Node { name: "a".into(), next: GcCell::new(None) });
//! let b = Gc::new(Node { name: "b".into(), next: GcCell::new(Some(a.clone())) });
//! *a.next.borrow_mut() = Some(b.clone()); // a cycle: `Arc` would leak it
//! assert_eq!(a.next.borrow().as_ref().map(|n| n.name.as_str()), Some("b"));
//! drop((a, b));
//! gc::collect(); // both are freed
//! ```
//!
//! # Pointers: [`Gc`]
//! A `Gc<T>` is a handle to a `T` in the managed heap, used like `Arc<T>`: `clone` and
//! `drop` update a count, `Deref` gives `&T`, and a handle can live anywhere (a local, a
//! `Vec` on the Rust heap, a static, another managed object). `T: Trace + Send + 'static`,
//! because the value may be dropped on another thread than the one that made it (a
//! collector thread, or whichever thread drops the last handle). `Gc<T>` is `Send + Sync`
//! when `T` is.
//!
//! # Mutation: [`GcCell`] and the write barrier
//! Managed values are shared, so mutation goes through a `GcCell<T>`: `borrow()` and
//! `borrow_mut()` behave like an `RwLock` across threads (a conflicting borrow waits) and
//! like a `RefCell` on one thread (a conflicting borrow panics, naming the cell's type;
//! `try_borrow*` never wait). While a cycle marks, `borrow_mut` shades what the cell held
//! (Go's hybrid barrier), so moving handles around never hides an object from the marker.
//!
//! # Roots: none to declare
//! There is no rooting API. Every handle counts one in its target; during a cycle the
//! collector counts the handles it finds inside the heap, and a target held more often
//! than that is held from outside: a root. Handles in locals, in `Vec`s, in other
//! threads' stacks are all roots without any bookkeeping.
//!
//! # Reclamation: counts first, tracing for cycles
//! An object whose last handle is dropped is freed without any tracing (most garbage is
//! acyclic), in every phase of the collector: at once by the dropping thread if its type
//! has no drop glue, else in that thread's next batch of up to 256 such objects (its
//! destructor runs there; children it releases join the next batch, so a dropped list of
//! ten million nodes is a loop on a small stack), or by the collector's threads.
//! Concurrent mark-sweep cycles free the rest (cyclic garbage), started by the heap goal,
//! by [`collect`], or when none ran for 2 minutes ([`set_force_period`]); their
//! destructors run on a collector thread. A panicking destructor is caught and counted,
//! never lost. `stats().reclaimed_objects` and `reclaim_assist_time` show the first part.
//!
//! # Collection and pacing
//! - [`collect`] runs a full cycle and returns when marking and sweeping are done.
//! - [`set_gc_percent`] (env `TRICOLOR_GC_PERCENT`, Go's `GOGC`, default 100; negative
//!   disables automatic cycles) and [`set_memory_limit`] (env `TRICOLOR_MEMORY_LIMIT`,
//!   `GOMEMLIMIT`) set the heap goal.
//! - [`set_force_period`] (env `TRICOLOR_FORCE_PERIOD_MS`, 1 to 86400000; default 120000,
//!   Go's `forcegcperiod`) sets how long an idle collector waits before it forces a cycle.
//! - `TRICOLOR_MARK_WORKERS` (1 to 64; default a quarter of the CPUs, at least one) sets
//!   the background mark workers.
//! - The environment is read once, at the first use of the collector. A bad value of any
//!   of these variables (or of `TRICOLOR_TRACE` and `TRICOLOR_PROMPT_RECLAIM`) does not
//!   stop the program: it prints one line on stderr naming the variable, the accepted
//!   values, the rejected text and the default that is kept, and the default applies:
//!   `tricolor-gc: warning: TRICOLOR_GC_PERCENT must be an integer from -1 to 1000000 or
//!   "off"; got "abc"; keeping the default 100`.
//!
//! ```
//! let before = gc::stats().cycles;
//! let old = gc::set_gc_percent(200);
//! gc::collect();
//! assert!(gc::stats().cycles > before);
//! gc::set_gc_percent(old);
//! ```
//!
//! # Measuring pauses: [`stats`] and `TRICOLOR_TRACE`
//! [`stats`] reports cycles, live objects and bytes (exact after `collect()` on a quiet
//! heap), the heap goal, and the last 256 stop-the-world stalls. `TRICOLOR_TRACE=1` prints
//! one line per cycle on stderr (phase times, stalls, heap before/after/goal, mark CPU),
//! like `GODEBUG=gctrace=1`. The `tricolor-gc-bench` package is a pause-time harness.
//!
//! ```
//! let s = gc::stats();
//! assert!(s.pauses.len() <= 256);
//! println!("{} cycles, {} objects, {:?} paused", s.cycles, s.heap_objects, s.total_pause);
//! ```
//!
//! # Reusing values: [`Pool`]
//! A `Pool<T>` is Go's `sync.Pool`: a per-thread fast path and shared overflow, emptied by
//! collection cycles with a one-cycle victim generation, so an idle pool gives its memory
//! back after two cycles.
//!
//! ```
//! static BUFFERS: gc::Pool<Vec<u8>> = gc::Pool::new(Vec::new);
//! let mut buf = BUFFERS.get();
//! buf.clear();
//! buf.extend_from_slice(b"reused");
//! BUFFERS.put(buf);
//! ```
//!
//! # Tracing and soundness
//! The collector finds the handles inside a value with [`Trace`], which
//! `#[derive(Trace)]` implements. Its rules (report each owned handle exactly once, never
//! one the value does not own) are what keep a live object from looking unreachable;
//! reporting too few is only a leak. A `Drop` impl on a type that traces handles is
//! rejected unless the type also carries an `unsafe impl` of [`UnsafeDrop`], because the
//! sweep drops dead objects in no order. In debug builds, and with the `debug-heap`
//! feature, freed slots are poisoned and every handle checks its target, so a use after
//! free (possible only through broken `unsafe` code) panics at its first read with the
//! slot's address and type.
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
    collect, set_force_period, set_gc_percent, set_memory_limit, stats, BorrowError,
    BorrowMutError, Gc, GcCell, GcRef, GcRefMut, Stats,
};

/// Support for the derive's expansion and for tests; not part of the API.
#[doc(hidden)]
pub mod __private {
    /// Whether stops run membarrier, and the membarrier time that switched the process to
    /// fences if it did (`gc-core/src/heap/fence_choice.rs`).
    pub use tricolor_gc_core::heap::__fence_mode as fence_mode;
    /// The number of pools registered with the collector's cycle start (tests).
    pub use tricolor_gc_core::pool::__registered_pools;
    /// Replaces a derived type's own name in its `NEEDS_TRACE` expression.
    pub use tricolor_gc_core::trace::__SelfPlaceholder;
    /// The target addresses that `value.trace(..)` reports, in report order.
    pub use tricolor_gc_core::trace::__trace_edges as trace_edges;
    /// Benchmarks only: hold the next cycle in its mark phase / whether one is held.
    pub use tricolor_gc_core::{__hold_marking as hold_marking, __marking_held as marking_held};
}
