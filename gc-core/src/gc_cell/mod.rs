//! `GcCell<T>`: interior mutability for managed data, with the collector's write barrier.
//!
//! # Design
//! A reader-writer flag (`state`: reader count, or the `WRITER` bit) guards the value, like
//! an `RwLock` without a kernel object:
//! - `borrow` adds a reader; `borrow_mut` swaps 0 for `WRITER`. Across threads a
//!   conflicting borrow waits (spin, then yield), like `RwLock`.
//! - On the thread that already holds a conflicting borrow, the call panics with the
//!   cell's type name instead of deadlocking, like `RefCell`. The writer records its thread
//!   token; shared borrows are remembered in a small thread-local list.
//! - `try_borrow` never waits; `try_borrow_mut` waits only for a collector read of the
//!   cell in progress (one trace, below), never for another borrow.
//! - The collector holds a cell for the duration of one trace (`collector_read`) through
//!   a second word of the flag, with one read-modify-write and a plain store
//!   (`flag.rs` says how that excludes writers), and skips a cell that is mutably
//!   borrowed. A mutator that wants to write waits for that short read; the collector
//!   never waits for a mutator and never sees a half-written value.
//!
//! # The barrier
//! `borrow_mut` during `Mark` shades every handle the value holds *before* the mutation
//! (the deletion half of Go's hybrid barrier, `collector/mark.rs` explains why it is the
//! half root-finding-by-subtraction needs). It costs O(contents) once per borrow during a
//! cycle and one load outside cycles.
//!
//! # Debug heap
//! In debug builds and with the `debug-heap` feature, every borrow first checks that a cell
//! inside a managed slot belongs to a live object (`header::check_cell`), so a borrow of a
//! cell in a freed object panics with the cell's address and type instead of reading the
//! poisoned flag (which would look like a writer forever). Compiled out otherwise.
//!
//! # Memory ordering
//! (1) `borrow_mut` of a value that can hold handles takes the flag and runs the barrier
//!     inside one op (heap `safepoint.rs`): either the op sees `Mark` and shades, or it
//!     ended before the cycle's starting stop, so the counting pass sees the flag (and
//!     skips the cell) or sees the cell after the write; and mark termination cannot fall
//!     between the flag and the shading.
//! (2) Releasing a borrow stores/subtracts with Release; acquiring uses Acquire, so the
//!     value's writes are visible to the next borrower, the collector included (whose
//!     fast path, and why it excludes writers, is in `flag.rs`).

use core::cell::{RefCell, UnsafeCell};
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use crate::collector::header::{self, DEBUG_HEAP};
use crate::collector::mark;
use crate::collector::phase::{phase_in_op, Phase};
use crate::heap;
use crate::sync::{AtomicUsize, Ordering};
use crate::trace::{Trace, Tracer};

pub(crate) mod flag;

use flag::{CellFlag, CollectorHold, Reader, WRITER};

thread_local! {
    /// A per-thread address used as the thread's token (never 0).
    static TOKEN: u8 = const { 0 };
    /// Cells this thread holds shared borrows of (addresses; small).
    static SHARED: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

fn my_token() -> usize {
    TOKEN.with(|t| t as *const u8 as usize)
}

fn remember_shared(cell: usize) {
    SHARED.with(|s| s.borrow_mut().push(cell));
}

fn forget_shared(cell: usize) {
    SHARED.with(|s| {
        let mut list = s.borrow_mut();
        if let Some(at) = list.iter().rposition(|c| *c == cell) {
            list.swap_remove(at);
        }
    });
}

fn holds_shared(cell: usize) -> bool {
    SHARED.with(|s| s.borrow().contains(&cell))
}

fn backoff(spins: &mut u32) {
    if *spins < 64 {
        core::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
    *spins = spins.saturating_add(1);
}

/// A mutable memory location for managed data.
///
/// Use it inside a [`Gc`](crate::Gc) wherever a value must change after allocation; it is
/// the only interior-mutability type the collector can see writes through.
///
/// # Examples
/// ```
/// use tricolor_gc_core::{Gc, GcCell};
/// let list = Gc::new(GcCell::new(vec![1, 2]));
/// list.borrow_mut().push(3);
/// assert_eq!(*list.borrow(), vec![1, 2, 3]);
/// ```
pub struct GcCell<T: ?Sized> {
    flag: CellFlag,
    writer: AtomicUsize,
    value: UnsafeCell<T>,
}

// SAFETY: moving the cell moves the `T`.
unsafe impl<T: ?Sized + Send> Send for GcCell<T> {}
// SAFETY: shared references let any thread read (`T: Sync`) or, one at a time under the
// writer flag, mutate (`T: Send`) the value, exactly like `RwLock<T>`.
unsafe impl<T: ?Sized + Send + Sync> Sync for GcCell<T> {}

/// The error of [`GcCell::try_borrow`]: the cell is mutably borrowed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BorrowError {
    /// The type inside the cell.
    pub type_name: &'static str,
}

/// The error of [`GcCell::try_borrow_mut`]: the cell is borrowed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BorrowMutError {
    /// The type inside the cell.
    pub type_name: &'static str,
}

impl fmt::Display for BorrowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tricolor-gc: GcCell<{}> is mutably borrowed",
            self.type_name
        )
    }
}

impl fmt::Display for BorrowMutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tricolor-gc: GcCell<{}> is already borrowed",
            self.type_name
        )
    }
}

impl std::error::Error for BorrowError {}
impl std::error::Error for BorrowMutError {}

impl<T> GcCell<T> {
    /// A new cell holding `value`.
    ///
    /// # Examples
    /// ```
    /// let c = tricolor_gc_core::GcCell::new(1);
    /// assert_eq!(*c.borrow(), 1);
    /// ```
    pub const fn new(value: T) -> GcCell<T> {
        GcCell {
            flag: CellFlag::new(),
            writer: AtomicUsize::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, consuming the cell.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(tricolor_gc_core::GcCell::new(4).into_inner(), 4);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> GcCell<T> {
    fn type_name(&self) -> &'static str {
        core::any::type_name::<T>()
    }

    fn addr(&self) -> usize {
        self as *const GcCell<T> as *const u8 as usize
    }

    /// Debug heap: panics if the cell lies in a freed managed slot (module docs).
    #[inline]
    fn check_heap(&self, what: &str) {
        if DEBUG_HEAP {
            header::check_cell(self.addr(), self.type_name(), what);
        }
    }

    /// Adds a reader if no writer holds the cell.
    fn try_add_reader(&self) -> bool {
        // Acquire inside: fact (2).
        match self.flag.try_add_reader() {
            Reader::Added => true,
            Reader::WriterHolds => false,
            Reader::Full => self.too_many_borrows(),
        }
    }

    #[cold]
    fn too_many_borrows(&self) -> ! {
        panic!(
            "tricolor-gc: too many borrows of GcCell<{}>",
            self.type_name()
        )
    }

    /// Borrows the value immutably, waiting while another thread holds it mutably.
    ///
    /// # Panics
    /// If this thread holds the cell mutably borrowed (the message names `T`). In debug
    /// builds and with the `debug-heap` feature, also if the cell lies in a freed object
    /// (a use after free, which only broken `unsafe` code can cause).
    ///
    /// # Examples
    /// ```
    /// let c = tricolor_gc_core::GcCell::new(String::from("hi"));
    /// let (a, b) = (c.borrow(), c.borrow());
    /// assert_eq!(a.len() + b.len(), 4);
    /// ```
    pub fn borrow(&self) -> GcRef<'_, T> {
        self.check_heap("borrow");
        let mut spins = 0;
        while !self.try_add_reader() {
            if self.writer.load(Ordering::Relaxed) == my_token() {
                panic!(
                    "tricolor-gc: GcCell<{}> is already mutably borrowed on this thread",
                    self.type_name()
                );
            }
            backoff(&mut spins);
        }
        remember_shared(self.addr());
        GcRef {
            cell: self,
            _not_send: PhantomData,
        }
    }

    /// Borrows the value immutably if no writer holds it; never waits.
    ///
    /// # Errors
    /// [`BorrowError`] if the cell is mutably borrowed.
    ///
    /// # Panics
    /// In debug builds and with the `debug-heap` feature, if the cell lies in a freed
    /// object.
    ///
    /// # Examples
    /// ```
    /// let c = tricolor_gc_core::GcCell::new(1);
    /// let w = c.borrow_mut();
    /// assert!(c.try_borrow().is_err());
    /// drop(w);
    /// assert!(c.try_borrow().is_ok());
    /// ```
    pub fn try_borrow(&self) -> Result<GcRef<'_, T>, BorrowError> {
        self.check_heap("try_borrow");
        if self.try_add_reader() {
            remember_shared(self.addr());
            Ok(GcRef {
                cell: self,
                _not_send: PhantomData,
            })
        } else {
            Err(BorrowError {
                type_name: self.type_name(),
            })
        }
    }

    fn try_take_writer(&self) -> bool {
        // SeqCst inside: fact (1). Fails while a reader (a mutator's, or a collector read
        // that fell back to one) or a writer holds the cell; waits for a collector read on
        // the flag's fast path (`flag.rs`).
        self.flag.try_take_writer()
    }

    /// Borrows the value mutably, waiting while other threads (or the collector, briefly)
    /// hold it.
    ///
    /// # Panics
    /// If this thread already holds a borrow of the cell (the message names `T`). In debug
    /// builds and with the `debug-heap` feature, also if the cell lies in a freed object.
    ///
    /// # Examples
    /// ```
    /// let c = tricolor_gc_core::GcCell::new(vec![1]);
    /// c.borrow_mut().push(2);
    /// assert_eq!(c.borrow().len(), 2);
    /// ```
    pub fn borrow_mut(&self) -> GcRefMut<'_, T>
    where
        T: Trace,
    {
        self.check_heap("borrow_mut");
        let mut spins = 0;
        loop {
            if let Some(guard) = self.try_take_writer_with_barrier() {
                return guard;
            }
            let state = self.flag.state();
            if state & WRITER != 0 && self.writer.load(Ordering::Relaxed) == my_token() {
                panic!(
                    "tricolor-gc: GcCell<{}> is already mutably borrowed on this thread",
                    self.type_name()
                );
            }
            if state & !WRITER != 0 && holds_shared(self.addr()) {
                panic!(
                    "tricolor-gc: GcCell<{}> is already borrowed on this thread",
                    self.type_name()
                );
            }
            backoff(&mut spins);
        }
    }

    /// Borrows the value mutably if no other borrow holds it; never waits for another
    /// borrow. If the collector is reading the cell at that moment, it waits for that
    /// read, which is one trace of the value and never waits for anything itself.
    ///
    /// # Errors
    /// [`BorrowMutError`] if the cell is borrowed (by this thread or another; a collector
    /// read that fell back to a shared borrow counts as one).
    ///
    /// # Panics
    /// In debug builds and with the `debug-heap` feature, if the cell lies in a freed
    /// object.
    ///
    /// # Examples
    /// ```
    /// let c = tricolor_gc_core::GcCell::new(0);
    /// let r = c.borrow();
    /// assert!(c.try_borrow_mut().is_err());
    /// drop(r);
    /// *c.try_borrow_mut().unwrap() += 1;
    /// assert_eq!(*c.borrow(), 1);
    /// ```
    pub fn try_borrow_mut(&self) -> Result<GcRefMut<'_, T>, BorrowMutError>
    where
        T: Trace,
    {
        self.check_heap("try_borrow_mut");
        self.try_take_writer_with_barrier().ok_or(BorrowMutError {
            type_name: self.type_name(),
        })
    }

    /// Takes the writer flag, if no borrow holds it, and runs the deletion barrier; waits
    /// only for a collector read (`flag.rs`).
    ///
    /// For a value that can hold handles, the flag is taken *inside an op*, and the barrier
    /// runs in the same op. That is what makes a skipped cell safe: mark termination stops
    /// the world, so it cannot complete between this borrow's decision that a cycle is
    /// marking and the shading of the old contents (collector/mark.rs; the loom model
    /// `borrow_mut_barrier_vs_mark_termination` shows the interleaving an op-less version
    /// loses). The op is exited before returning: the borrow itself may last as long as the
    /// caller likes without holding up a stopped world.
    #[inline]
    fn try_take_writer_with_barrier(&self) -> Option<GcRefMut<'_, T>>
    where
        T: Trace,
    {
        if !T::NEEDS_TRACE {
            // No handles inside: nothing for the collector to lose.
            return self.try_take_writer().then(|| self.writer_guard());
        }
        let op = heap::enter_op();
        if !self.try_take_writer() {
            return None;
        }
        // The guard exists before any user code runs, so a panicking `Trace` releases it.
        let guard = self.writer_guard();
        if phase_in_op() == Phase::Mark {
            // SAFETY: we hold the writer flag: nobody else reads or writes the value.
            shade_contents(&op, unsafe { &*self.value.get() });
        }
        drop(op);
        Some(guard)
    }

    fn writer_guard(&self) -> GcRefMut<'_, T> {
        self.writer.store(my_token(), Ordering::Relaxed);
        GcRefMut {
            cell: self,
            _not_send: PhantomData,
        }
    }

    /// The value through `&mut self` (no borrow, no barrier: a `GcCell` reachable from the
    /// heap is never exclusively borrowed).
    ///
    /// # Examples
    /// ```
    /// let mut c = tricolor_gc_core::GcCell::new(1);
    /// *c.get_mut() = 2;
    /// assert_eq!(*c.borrow(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The collector's read: a shared borrow for one trace, or `None` if a writer holds
    /// the cell (the cell is then skipped; see the module docs).
    fn collector_read(&self) -> Option<CollectorRead<'_, T>> {
        match self.flag.collector_begin() {
            Ok(hold) => hold.map(|hold| CollectorRead { cell: self, hold }),
            Err(()) => self.too_many_borrows(),
        }
    }
}

/// Shades everything `value` references (the deletion barrier). Called inside an op.
#[cold]
fn shade_contents<T: Trace + ?Sized>(op: &heap::Op, value: &T) {
    let mut tracer = Tracer::new();
    value.trace(&mut tracer);
    for edge in tracer.edges.drain(..) {
        mark::shade(op, edge);
    }
}

struct CollectorRead<'a, T: ?Sized> {
    cell: &'a GcCell<T>,
    hold: CollectorHold,
}

impl<T: ?Sized> Drop for CollectorRead<'_, T> {
    fn drop(&mut self) {
        // Release inside: fact (2).
        let Some(old) = self.cell.flag.collector_end(self.hold) else {
            return;
        };
        debug_assert!(
            old & !WRITER != 0 && old & WRITER == 0,
            "tricolor-gc: GcCell<{}> reader count corrupt ({old:#x}) at collector read end",
            self.cell.type_name()
        );
    }
}

/// A shared borrow of a [`GcCell`].
///
/// Not `Send`, like `MutexGuard`: the borrow is recorded on the thread that took it (so
/// that a conflicting borrow on that thread panics instead of deadlocking) and must end
/// there.
pub struct GcRef<'a, T: ?Sized> {
    cell: &'a GcCell<T>,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a `&GcRef` only gives `&T` to other threads, as `&GcCell<T>` would.
unsafe impl<T: ?Sized + Sync> Sync for GcRef<'_, T> {}

impl<T: ?Sized> Deref for GcRef<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds a reader: no writer exists until it drops.
        unsafe { &*self.cell.value.get() }
    }
}

impl<T: ?Sized> Drop for GcRef<'_, T> {
    fn drop(&mut self) {
        forget_shared(self.cell.addr());
        // Release inside: fact (2).
        let old = self.cell.flag.release_reader();
        debug_assert!(
            old & !WRITER != 0 && old & WRITER == 0,
            "tricolor-gc: GcCell<{}> reader count corrupt ({old:#x}) at borrow end",
            self.cell.type_name()
        );
    }
}

/// A mutable borrow of a [`GcCell`].
///
/// Not `Send`, like `MutexGuard`: the writer is recorded as the thread that took it.
pub struct GcRefMut<'a, T: ?Sized> {
    cell: &'a GcCell<T>,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a `&GcRefMut` only gives `&T` to other threads.
unsafe impl<T: ?Sized + Sync> Sync for GcRefMut<'_, T> {}

impl<T: ?Sized> Deref for GcRefMut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the writer flag.
        unsafe { &*self.cell.value.get() }
    }
}

impl<T: ?Sized> DerefMut for GcRefMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the writer flag: access is exclusive.
        unsafe { &mut *self.cell.value.get() }
    }
}

impl<T: ?Sized> Drop for GcRefMut<'_, T> {
    fn drop(&mut self) {
        self.cell.writer.store(0, Ordering::Relaxed);
        // Release inside: fact (2).
        let old = self.cell.flag.release_writer();
        debug_assert!(
            old == WRITER,
            "tricolor-gc: GcCell<{}> state corrupt ({old:#x}) at mutable borrow end",
            self.cell.type_name()
        );
    }
}

// SAFETY: reports what the value reports, through a shared borrow taken for the duration
// (so the value does not change meanwhile), or nothing when a writer holds the cell (an
// under-report, which is safe, and consistent with the barrier rules of collector/mark.rs).
// The cell's own writes go through `borrow_mut`, which runs the barrier (rule 4).
unsafe impl<T: Trace + ?Sized> Trace for GcCell<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer) {
        if !T::NEEDS_TRACE {
            return;
        }
        if let Some(read) = self.collector_read() {
            // SAFETY: `read` holds a reader: no writer until it drops.
            let value = unsafe { &*read.cell.value.get() };
            value.trace(tracer);
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for GcCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.try_borrow() {
            Ok(value) => f.debug_struct("GcCell").field("value", &&*value).finish(),
            Err(_) => f
                .debug_struct("GcCell")
                .field("value", &"<borrowed>")
                .finish(),
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for GcRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for GcRefMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Default> Default for GcCell<T> {
    fn default() -> GcCell<T> {
        GcCell::new(T::default())
    }
}
