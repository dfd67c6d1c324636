//! The one place that imports synchronisation primitives.
//!
//! Every other module takes its atomics, `UnsafeCell`, `Mutex` and fences from here. Under
//! `--cfg tricolor_loom` they are loom's model-checked versions, so a loom test exercises
//! exactly the code that ships. (The cfg is crate-specific, like crossbeam's
//! `crossbeam_loom`, so that dependencies which check `cfg(loom)` keep their normal build.)
//!
//! `UnsafeCell` is wrapped in loom's `with` / `with_mut` style in both builds, so the
//! access pattern is identical.

#[cfg(not(tricolor_loom))]
pub(crate) use std::sync::atomic::{
    compiler_fence, fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize,
    Ordering,
};

#[cfg(tricolor_loom)]
pub(crate) use loom::sync::atomic::{
    fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
/// loom has no compiler fences; under loom the mutator side uses a real fence.
#[cfg(tricolor_loom)]
pub(crate) fn compiler_fence(order: Ordering) {
    loom::sync::atomic::fence(order)
}

// Process-wide registries (the pool's) live in statics and in thread-local storage, which
// loom cannot model; both builds use the std / parking_lot versions of these.
pub(crate) use parking_lot::Mutex;
pub(crate) use std::sync::Arc;
pub(crate) use std::thread_local;

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
