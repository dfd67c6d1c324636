//! `Gc<T>`: a handle to a collector-managed `T`.
//!
//! # Design
//! A `Gc<T>` is a pointer to a `GcBox<T>` (header + value) in a managed span. Every handle,
//! wherever it lives, counts one in the header's `handles` (DESIGN §3): `clone` adds one,
//! `drop` subtracts one, a move costs nothing. No handle is ever "rooted" or "unrooted";
//! the collector finds roots by subtracting the handles it finds inside the heap.
//!
//! Barrier duties (see `collector/mark.rs` for why they suffice):
//! - `Gc::new` during `Mark` allocates black (mark bit set before the object is published).
//! - `clone` during `Mark` shades the target: a new handle outside the heap must not
//!   appear behind the roots pass's back.
//! - `drop` decrements; the drop that takes the count to zero frees the object at once
//!   (no drop glue) or queues it for this thread's next reclaim batch, unless a phase change
//!   fell between the decrement and that op (`reclaim/`, R1; during `Mark` only objects born
//!   in it may be freed, M1; the rest is sorted at mark termination, R1b). On the sweeper's thread,
//!   while it runs drop glue, a handle must not touch a target that this sweep frees
//!   (unmarked, in a span being swept); it decrements every other target, survivors and
//!   objects allocated after mark termination alike (`sweep/`).
//!
//! Outside a cycle, `clone` is one atomic add and one load with a predictable branch;
//! `drop` is one atomic subtract and one load (plus an op and a push for the last handle).
//!
//! Debug heap (`collector/header.rs`): in debug builds and with the `debug-heap` feature,
//! `Deref`, `clone` and `drop` first check the target's header (`header::check_handle`),
//! so a handle to a freed object panics at its first use, naming the slot and `T`.
//! Handle counts above `MAX_HANDLES` abort the process (like `Arc`), long before the
//! `u32` wraps.

use core::alloc::Layout;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::{addr_of, addr_of_mut, NonNull};

use crate::collector::header::{self, GcBox, DEBUG_HEAP, MAX_HANDLES};
use crate::collector::mark;
use crate::collector::phase::{phase_in_op, phase_seqcst, phase_word, Phase};
use crate::heap::{self, NewSlot};
use crate::reclaim;
use crate::sweep;
use crate::sync::Ordering;
use crate::trace::{Trace, Tracer};

/// A pointer to a garbage-collected `T`.
///
/// `Gc<T>` is like `Arc<T>` without the leaks: cycles of `Gc`s are collected. Cloning and
/// dropping are cheap atomic count updates, and a handle can live anywhere: a local, a
/// `Vec` on the Rust heap, a static, or inside another managed object (mutate those
/// through [`GcCell`](crate::GcCell)). The value is dropped after it becomes unreachable:
/// when the last handle goes, by the thread that dropped it (at once for a type without
/// drop glue, else in that thread's next batch of up to 256 such objects) or by a collector
/// thread; a cyclic object, by a cycle's sweep, which runs on the collector's threads and on
/// threads that allocate while it runs (they pay for their allocation with a share of the
/// sweep, as Go's allocation does). That thread may not be the one that made the value,
/// which is why `T: Send`; and a `Drop` of a managed value may run inside any `Gc::new`
/// during a sweep, so it must not wait for a lock that a thread may hold while it
/// allocates (as a destructor run by a finalizer thread must not, on the JVM).
///
/// # Panics
/// In debug builds and with the `debug-heap` feature, dereferencing, cloning or dropping a
/// handle whose object was freed panics with a `tricolor-gc: use after free` message that
/// names the slot's address and `T`. Only `unsafe` code that broke a contract (an
/// `unsafe impl Trace` or `UnsafeDrop`, a copied handle) can make such a handle.
///
/// # Examples
/// ```
/// use tricolor_gc_core::{Gc, GcCell};
///
/// let a = Gc::new(GcCell::new(Vec::<Gc<u32>>::new()));
/// a.borrow_mut().push(Gc::new(7));
/// let b = a.clone();
/// assert!(Gc::ptr_eq(&a, &b));
/// assert_eq!(*b.borrow()[0], 7);
/// ```
pub struct Gc<T> {
    ptr: NonNull<GcBox<T>>,
    _owns: PhantomData<GcBox<T>>,
}

// SAFETY: a `Gc<T>` gives shared access to `T` from any thread holding a handle (needs
// `Sync`), and the value may be dropped on another thread (a collector thread, or whichever
// thread dropped the last handle: needs `Send`). The count
// and header are atomics.
unsafe impl<T: Send + Sync> Send for Gc<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Gc<T> {}

impl<T: Trace + Send + 'static> Gc<T> {
    /// Moves `value` into the managed heap.
    ///
    /// # Panics
    /// Aborts through `std::alloc::handle_alloc_error` if the heap cannot grow.
    ///
    /// # Examples
    /// ```
    /// let n = tricolor_gc_core::Gc::new(5u64);
    /// assert_eq!(*n, 5);
    /// ```
    pub fn new(value: T) -> Gc<T> {
        crate::collector::ensure_started();
        let layout = Layout::new::<GcBox<T>>();
        let op = heap::enter_op();
        let new = NewSlot {
            // Black allocation during `Mark`, recorded before the slot is published: a walk
            // that finds the slot allocated finds it marked, and never takes this object for
            // a pre-existing one (collector/mark.rs, step 1), whatever its header holds.
            born: phase_in_op() == Phase::Mark,
            // Spans whose objects have no drop glue are swept by bitmap alone (`sweep/`).
            drop_glue: core::mem::needs_drop::<T>(),
        };
        let raw = heap::alloc_managed(&op, layout.size(), layout.align(), T::NEEDS_TRACE, new)
            .unwrap_or_else(|_| std::alloc::handle_alloc_error(layout));
        let boxed = raw.cast::<GcBox<T>>().as_ptr();
        // Debug heap only: an extra load on the allocation fast path.
        if DEBUG_HEAP {
            // SAFETY: the header's first word is an `AtomicPtr`, null for a free slot.
            let stale = unsafe { (*addr_of!((*boxed).header.info)).load(Ordering::Relaxed) };
            assert!(
                stale.is_null(),
                "tricolor-gc: the allocator returned slot {raw:p}, which still holds an object"
            );
        }
        // SAFETY: `raw` is a fresh slot of at least `layout`'s size and alignment. No
        // collector walk reads more of it than its header's atomics: outside `Mark` none
        // runs over a slot allocated then, and during `Mark` the slot was marked before
        // the allocator published it (`new.born`), so a walk traces nothing of it even if
        // `info` still names the slot's previous object (a bitmap-only sweep leaves it,
        // `sweep/`); a marker traces only what it shaded from white. The counts are
        // atomics written through references to their own bytes.
        unsafe {
            (*addr_of!((*boxed).header.handles)).store(1, Ordering::Relaxed);
            (*addr_of!((*boxed).header.internal)).store(0, Ordering::Relaxed);
            addr_of_mut!((*boxed).value).write(value);
            let info = &GcBox::<T>::INFO as *const _ as *mut _;
            // Release: publishes the value and counts (collector/header.rs).
            (*addr_of!((*boxed).header.info)).store(info, Ordering::Release);
        }
        op.note_gc_object();
        drop(op);
        // After a span refill: free this thread's count-zero garbage before it takes more,
        // and assist the running cycle in proportion to what it took.
        crate::collector::after_refill();
        Gc {
            ptr: raw.cast(),
            _owns: PhantomData,
        }
    }
}

impl<T> Gc<T> {
    /// Whether two handles point at the same object.
    ///
    /// # Examples
    /// ```
    /// use tricolor_gc_core::Gc;
    /// let a = Gc::new(1);
    /// let b = Gc::new(1);
    /// assert!(Gc::ptr_eq(&a, &a.clone()));
    /// assert!(!Gc::ptr_eq(&a, &b));
    /// ```
    pub fn ptr_eq(this: &Gc<T>, other: &Gc<T>) -> bool {
        this.ptr == other.ptr
    }

    /// A raw pointer to the value; valid while some handle keeps the object alive.
    ///
    /// # Examples
    /// ```
    /// let a = tricolor_gc_core::Gc::new(3);
    /// // SAFETY: `a` keeps the object alive.
    /// assert_eq!(unsafe { *tricolor_gc_core::Gc::as_ptr(&a) }, 3);
    /// ```
    pub fn as_ptr(this: &Gc<T>) -> *const T {
        // SAFETY: the handle keeps the box alive; taking the field's address reads nothing.
        unsafe { addr_of!((*this.ptr.as_ptr()).value) }
    }

    /// The object's header address (tests).
    #[cfg(test)]
    pub(crate) fn header_ptr(this: &Gc<T>) -> NonNull<u8> {
        this.ptr.cast()
    }

    #[inline]
    fn header(&self) -> &crate::collector::header::Header {
        // SAFETY: the handle keeps the box alive (its count includes this handle).
        unsafe { &(*self.ptr.as_ptr()).header }
    }

    /// Debug heap: panics unless the target is a live `T` (see the module docs). Compiled
    /// out of release builds without the `debug-heap` feature.
    #[inline]
    fn check_target(&self, what: &str) {
        if DEBUG_HEAP {
            header::check_handle::<T>(self.header(), what);
        }
    }
}

#[cold]
fn clone_barrier(object: NonNull<u8>) {
    let op = heap::enter_op();
    if phase_in_op() == Phase::Mark {
        mark::shade(&op, object);
    }
    drop(op);
}

#[cold]
fn too_many_handles() -> ! {
    eprintln!("tricolor-gc: more than {MAX_HANDLES} handles to one object; aborting");
    std::process::abort();
}

impl<T> Clone for Gc<T> {
    #[inline]
    fn clone(&self) -> Gc<T> {
        self.check_target("clone");
        // SeqCst: phase fact (1) with the roots pass's read of the count.
        let old = self.header().handles.fetch_add(1, Ordering::SeqCst);
        if old >= MAX_HANDLES {
            too_many_handles();
        }
        if phase_seqcst() == Phase::Mark {
            clone_barrier(self.ptr.cast());
        }
        Gc {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for Gc<T> {
    #[inline]
    fn drop(&mut self) {
        if sweep::in_sweep_drop() && sweep::dies_in_this_sweep(self.ptr.cast()) {
            // Released by the sweep's drop glue, pointing at an object this sweep frees,
            // which may already be dropped: touch nothing. Any other target (a survivor,
            // or an object allocated after mark termination) is decremented below
            // (sweep/mod.rs, "The rule for handles released by drop glue").
            return;
        }
        self.check_target("drop");
        // Release: this thread's uses of the value happen-before a collector that reads
        // the decremented count (Acquire/SeqCst in the roots pass), and before whoever
        // takes the count to zero (its Acquire fence in `count_reached_zero`).
        let before = phase_word();
        if self.header().handles.fetch_sub(1, Ordering::Release) == 1 {
            reclaim::count_reached_zero(self.ptr.cast(), before);
        }
    }
}

impl<T> Deref for Gc<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        self.check_target("deref");
        // SAFETY: the handle keeps the object alive and published; the value is only
        // dropped by the sweeper after the object is unreachable (no handle left).
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

// SAFETY: reports exactly the one handle this value owns (rules 1, 2); pure (rule 3); a
// `Gc` cannot be repointed through `&self` (rule 4); `NEEDS_TRACE` is true (rule 5); the
// `Drop` above never dereferences the target's value (rule 6).
unsafe impl<T> Trace for Gc<T> {
    const NEEDS_TRACE: bool = true;
    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        tracer.__report(self.ptr.cast());
    }
}

impl<T: fmt::Debug> fmt::Debug for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T> fmt::Pointer for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&Gc::as_ptr(self), f)
    }
}

impl<T: PartialEq> PartialEq for Gc<T> {
    fn eq(&self, other: &Gc<T>) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for Gc<T> {}

impl<T: PartialOrd> PartialOrd for Gc<T> {
    fn partial_cmp(&self, other: &Gc<T>) -> Option<core::cmp::Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: Ord> Ord for Gc<T> {
    fn cmp(&self, other: &Gc<T>) -> core::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: Hash> Hash for Gc<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}
