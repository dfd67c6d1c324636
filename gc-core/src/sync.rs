//! The one place that imports synchronisation primitives.
//!
//! Every other module takes its atomics, `UnsafeCell`, `Mutex`, `Condvar`, lock-free queue,
//! spin hints and fences from here. Under `--cfg tricolor_loom` they are loom's
//! model-checked versions, so a loom model exercises exactly the code that ships. (The cfg
//! is crate-specific, like crossbeam's `crossbeam_loom`, so that dependencies which check
//! `cfg(loom)` keep their normal build.)
//!
//! # The loom build
//! Under `tricolor_loom` the crate compiles only this module and the protocol modules
//! (`lib.rs`): the op / stop protocol (`heap/safepoint.rs`), the phase word
//! (`collector/phase.rs`), the mark work list (`collector/work.rs`) and the count-zero hand-off
//! (`reclaim/queue.rs`). Each keeps its state in a plain struct whose methods are the
//! shipped logic; the normal build has one `static` instance of each, the models build a
//! fresh instance per loom execution. Statics need `const` constructors and loom's have
//! none, hence [`const_fn_unless_loom`]. What each primitive becomes under loom:
//! - atomics and fences: loom's. loom's atomics are wrapped so that their initial value is
//!   also stored with `SeqCst` (loom 0.7 lets a `SeqCst` load read an initial value past a
//!   `SeqCst` store it does not happen-after, which C++20 forbids: the initial value
//!   happens-before that store). In the shipped code every initial value is a static
//!   initialiser or a store that happens-before every thread that uses it, so this adds no
//!   ordering the real code lacks. `compiler_fence` becomes a real fence (loom has no
//!   compiler fences; see `safepoint.rs` for why the symmetric fence is the right model).
//! - `Mutex`, `Condvar`: loom's, behind parking_lot's API (`lock()` returns the guard,
//!   `wait(&mut guard)`), which the normal build uses.
//! - `SegQueue` (crossbeam's lock-free queue, the mark work list): loom cannot instrument
//!   crossbeam's atomics, so it becomes a loom `Mutex<VecDeque>` with the same `push`,
//!   `pop`, `is_empty`. That checks every use of the queue as a linearizable FIFO (which is
//!   crossbeam's promise), not crossbeam's implementation.
//! - `spin_loop`, `yield_now`: loom's, so that a spinning waiter lets loom run the others.
//!
//! `UnsafeCell` is wrapped in loom's `with` / `with_mut` style in both builds, so the
//! access pattern is identical and loom checks every access of the protocol's cells.

#[cfg(not(tricolor_loom))]
pub(crate) use std::sync::atomic::{
    compiler_fence, fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize,
    Ordering,
};

#[cfg(tricolor_loom)]
pub(crate) use loom::sync::atomic::{fence, Ordering};

/// loom has no compiler fences; under loom the mutator side uses a real fence.
#[cfg(tricolor_loom)]
pub(crate) fn compiler_fence(order: Ordering) {
    loom::sync::atomic::fence(order)
}

#[cfg(not(tricolor_loom))]
pub(crate) use core::hint::spin_loop;
#[cfg(tricolor_loom)]
pub(crate) use loom::hint::spin_loop;
#[cfg(tricolor_loom)]
pub(crate) use loom::thread::yield_now;
#[cfg(not(tricolor_loom))]
pub(crate) use std::thread::yield_now;

// Locks: parking_lot in the normal build (small, `const` constructors, no poisoning).
#[cfg(not(tricolor_loom))]
pub(crate) use parking_lot::{Condvar, Mutex};

// The mark work list's lock-free queue (module docs for the loom version).
#[cfg(not(tricolor_loom))]
pub(crate) use crossbeam_queue::SegQueue;

// Process-wide registries (the pool's) live in statics and in thread-local storage, which
// loom cannot model; they are not part of the loom build.
#[cfg(not(tricolor_loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(tricolor_loom))]
pub(crate) use std::thread_local;

/// Defines a constructor that is a `const fn` in the normal build (the process-wide
/// instance is a `static`) and a plain `fn` under loom, whose primitives have no `const`
/// constructors (a model builds a fresh instance per execution). The body is the same.
macro_rules! const_fn_unless_loom {
    ($(#[$attr:meta])* $vis:vis fn $name:ident() -> $ret:ty $body:block) => {
        #[cfg(not(tricolor_loom))]
        $(#[$attr])* $vis const fn $name() -> $ret $body
        #[cfg(tricolor_loom)]
        $(#[$attr])* $vis fn $name() -> $ret $body
    };
}
pub(crate) use const_fn_unless_loom;

/// An `UnsafeCell` with loom's closure-based access API.
#[cfg(not(tricolor_loom))]
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

#[cfg(not(tricolor_loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }
}

#[cfg(not(tricolor_loom))]
impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a shared raw pointer to the contents.
    #[allow(dead_code)] // API parity with loom's UnsafeCell; used by the collector's cells
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a unique raw pointer to the contents.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }

    /// A raw pointer to the contents, for code that hands it to the OS or keeps it.
    #[inline(always)]
    pub(crate) fn get(&self) -> *mut T {
        self.0.get()
    }
}

#[cfg(tricolor_loom)]
pub(crate) use loom::cell::UnsafeCell;

#[cfg(tricolor_loom)]
pub(crate) use self::loom_shims::{AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, SegQueue};
// `GcCell`'s flag (`gc_cell/flag.rs`) and the models' own state (object headers).
#[cfg(tricolor_loom)]
pub(crate) use self::loom_shims::AtomicU32;

/// loom's primitives behind the normal build's API (module docs).
#[cfg(tricolor_loom)]
mod loom_shims {
    use core::ops::{Deref, DerefMut};
    use std::collections::VecDeque;

    use loom::sync::atomic::Ordering;

    macro_rules! seqcst_initialised {
        ($($name:ident($value:ty)),* $(,)?) => {$(
            /// loom's atomic, whose initial value is also a `SeqCst` store (module docs).
            #[derive(Debug)]
            pub(crate) struct $name(loom::sync::atomic::$name);

            impl $name {
                pub(crate) fn new(value: $value) -> $name {
                    let atomic = loom::sync::atomic::$name::new(value);
                    atomic.store(value, Ordering::SeqCst);
                    $name(atomic)
                }
            }

            impl Deref for $name {
                type Target = loom::sync::atomic::$name;
                fn deref(&self) -> &Self::Target {
                    &self.0
                }
            }
        )*};
    }

    // `AtomicU32` and `AtomicUsize` are for the models' own state (headers, cell flags).
    seqcst_initialised!(
        AtomicBool(bool),
        AtomicU32(u32),
        AtomicU64(u64),
        AtomicUsize(usize)
    );

    /// loom's mutex with parking_lot's API: no poisoning (a panic ends the loom execution
    /// anyway), `lock` returns the guard.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            let guard = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            MutexGuard(Some(guard))
        }
    }

    /// Always `Some` except inside `Condvar::wait`.
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0
                .as_ref()
                .expect("tricolor-gc: loom MutexGuard used while waiting")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0
                .as_mut()
                .expect("tricolor-gc: loom MutexGuard used while waiting")
        }
    }

    /// loom's condition variable with parking_lot's `wait(&mut guard)`.
    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Condvar {
            Condvar(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard
                .0
                .take()
                .expect("tricolor-gc: loom MutexGuard waited twice");
            let inner = self
                .0
                .wait(inner)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            guard.0 = Some(inner);
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    /// crossbeam's `SegQueue` as a loom mutex around a FIFO (module docs).
    #[derive(Debug)]
    pub(crate) struct SegQueue<T>(Mutex<VecDeque<T>>);

    impl<T> SegQueue<T> {
        pub(crate) fn new() -> SegQueue<T> {
            SegQueue(Mutex::new(VecDeque::new()))
        }

        pub(crate) fn push(&self, value: T) {
            self.0.lock().push_back(value);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            self.0.lock().pop_front()
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
    }
}

/// [`spin_until`], giving up once `limit` has passed: for a wait that parks on a condition
/// variable afterwards (`collector/cycle.rs`, "The hand-off"). Not in the loom build,
/// which has no clock.
#[cfg(not(tricolor_loom))]
pub(crate) fn spin_until_or(limit: std::time::Duration, mut done: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    spin_until(|| done() || started.elapsed() >= limit);
}

/// Waits until `done()` holds: spins briefly, then yields the CPU between checks. For the
/// short waits of the collector's hand-offs (a sweep's last chunks, a span a thread is
/// sweeping, an assist leaving a joined job), where the awaited thread is running.
pub(crate) fn spin_until(mut done: impl FnMut() -> bool) {
    let mut spins = 0u32;
    while !done() {
        if spins < 64 {
            spin_loop();
        } else {
            yield_now();
        }
        spins = spins.saturating_add(1);
    }
}
