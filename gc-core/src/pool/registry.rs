//! Process-wide pool state: the list of live pools (for the cycle hook and thread exit)
//! and the dense thread indices that select a pool's per-thread local (mirrors Go's
//! `allPools` / `oldPools` and the P id that `pin` returns).
//!
//! # Algorithm
//! 1. A pool registers an `Arc` of its inner part on first use and removes it when it is
//!    dropped. Walkers (the cycle start, thread exit) clone the list under the lock and
//!    work on the clone without it, so no user code (`Drop` of a pooled value, the pool's
//!    `new`) ever runs under the registry lock, and a pool dropped meanwhile stays alive
//!    until the walker lets go of its clone. The cycle start clones the list inside the
//!    collector's stopped world; so no holder of the lock may enter a heap op or wait for
//!    one (pool module invariants): every holder only pushes, removes or clones.
//! 2. A thread gets the lowest-numbered free index on its first pool operation (indices
//!    stay below the peak number of threads that used pools at once). Its thread-local
//!    destructor first hands its private values over (each pool's `thread_exit`), then
//!    returns the index to the free list.
//!
//! # Memory ordering
//! (1) An index passes from an exiting thread to the next thread that gets it through the
//!     `THREAD_INDICES` mutex: everything the old owner did to its locals (private slots,
//!     owner counters) happens-before the new owner's first access.
//! (2) `HIGH_WATER` is only a bound for stealing and for the collector's walk of dead
//!     generations. Relaxed: a stealer that sees a stale (smaller) value skips the locals
//!     of threads that appeared meanwhile, which costs at most a miss. The collector's walk
//!     cannot miss a local that holds a value: the thread put it inside an op after taking
//!     its index (which stored `HIGH_WATER` under the index mutex), and that op
//!     happens-before the walk (pool fact (2)), so the walk's load sees that store or a
//!     later one. The locals themselves are published by the segment CAS (locals.rs fact
//!     (1)).

use std::cell::Cell;

use crate::sync::{thread_local, Arc, AtomicUsize, Mutex, Ordering};

use super::locals::MAX_INDEX;

/// What the registry can do to a pool without knowing its value type.
pub(super) trait Registered: Send + Sync {
    /// Cycle start, in the stopped world (pool step 3): the primary generation becomes the
    /// victim, the victim becomes dead.
    fn rotate(&self, world: &crate::heap::StoppedWorld);
    /// Drops every value of the dead generation (pool step 4).
    ///
    /// # Safety
    /// * As `Inner::drop_dead`: the caller is the thread that stops the world, the only
    ///   one that rotates (or no other thread can reach the pool).
    unsafe fn drop_dead(&self) -> u64;
    /// Thread `index` is exiting: park its private values where other threads reach them.
    /// Called on the exiting thread, which still owns `index`.
    fn thread_exit(&self, index: usize);
}

static POOLS: Mutex<Vec<Arc<dyn Registered>>> = Mutex::new(Vec::new());

/// Runs `f` with the pool list locked. `f` must not run user code.
pub(super) fn with_pools_locked<R>(f: impl FnOnce(&mut Vec<Arc<dyn Registered>>) -> R) -> R {
    f(&mut POOLS.lock())
}

/// Removes the pool whose inner part is at `inner`; returns the registry's `Arc` so that
/// the caller drops it outside the lock.
pub(super) fn unregister(inner: *const ()) -> Option<Arc<dyn Registered>> {
    let mut pools = POOLS.lock();
    let at = pools
        .iter()
        .position(|p| Arc::as_ptr(p) as *const () == inner)?;
    Some(pools.swap_remove(at))
}

/// A clone of the pool list (algorithm step 1).
pub(super) fn snapshot() -> Vec<Arc<dyn Registered>> {
    POOLS.lock().clone()
}

/// Number of registered pools.
pub(super) fn registered_count() -> usize {
    POOLS.lock().len()
}

struct ThreadIndices {
    /// Released indices, lowest last (popped first).
    free: Vec<usize>,
    /// Indices `>= next` were never handed out.
    next: usize,
}

static THREAD_INDICES: Mutex<ThreadIndices> = Mutex::new(ThreadIndices {
    free: Vec::new(),
    next: 0,
});

/// One more than the highest index ever handed out (fact (2)).
static HIGH_WATER: AtomicUsize = AtomicUsize::new(0);

/// One more than the highest thread index ever handed out (a bound, fact (2)).
#[inline]
pub(super) fn high_water() -> usize {
    // Relaxed: a bound only (fact (2)).
    HIGH_WATER.load(Ordering::Relaxed)
}

const NO_INDEX: usize = usize::MAX;

/// The thread's pool identity; its destructor is the thread-exit hook.
struct ThreadSlot {
    index: Cell<usize>,
}

thread_local! {
    static THREAD: ThreadSlot = const { ThreadSlot { index: Cell::new(NO_INDEX) } };
}

/// The calling thread's index, allocated on first use; `None` once the thread's
/// thread-local storage is being torn down (the caller then takes the owner-less path).
///
/// The index stays owned by this thread until its thread-local destructor runs.
#[inline]
pub(super) fn current_thread_index() -> Option<usize> {
    THREAD
        .try_with(|t| {
            let index = t.index.get();
            if index != NO_INDEX {
                index
            } else {
                let index = acquire_index();
                t.index.set(index);
                index
            }
        })
        .ok()
}

#[cold]
#[inline(never)]
fn acquire_index() -> usize {
    let mut ids = THREAD_INDICES.lock();
    let index = match ids.free.pop() {
        Some(index) => index,
        None => {
            let index = ids.next;
            if index >= MAX_INDEX {
                drop(ids);
                panic!("tricolor-gc: more than {MAX_INDEX} threads use pools at once");
            }
            ids.next += 1;
            // Relaxed: a bound only (fact (2)); written under the lock, so it never
            // decreases.
            HIGH_WATER.store(ids.next, Ordering::Relaxed);
            index
        }
    };
    index
}

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        let index = self.index.get();
        if index == NO_INDEX {
            return;
        }
        for pool in snapshot() {
            pool.thread_exit(index);
        }
        let mut ids = THREAD_INDICES.lock();
        // Keep the lowest index at the end so that it is reused first (density).
        let at = ids.free.partition_point(|&i| i > index);
        ids.free.insert(at, index);
    }
}

#[cfg(test)]
pub(super) fn free_indices() -> Vec<usize> {
    THREAD_INDICES.lock().free.clone()
}
