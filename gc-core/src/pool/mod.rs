//! [`Pool<T>`]: a set of reusable values that the collector empties, one cycle late
//! (mirrors Go's `sync.Pool` since Go 1.13: per-P private slot and shared queue, plus a
//! victim generation; see `research/go-gc-design.md` §7).
//!
//! # Structure
//! A pool is a const-constructible handle; on first use it allocates its inner part
//! (`Inner`) and registers an `Arc` of it in the process-wide registry (`registry.rs`).
//! The inner part holds, per thread index (`locals.rs`), a *private slot* touched only by
//! the owning thread and a *shared queue* (`crossbeam_queue::SegQueue`) that every thread
//! may steal from; and one pool-wide *victim queue*. A pool generation counter ages the
//! values: a value put while the generation is `g` has age `now - g`; age 0 is the primary
//! generation, age 1 the victim generation, age 2 or more is dead.
//!
//! # Algorithm
//! 1. `get`: take the private value; if its age is at most 1 return it, else drop it
//!    (lazy retirement, see below). Then pop the own shared queue, steal from the other
//!    threads' shared queues (starting after our index), pop the owner-less queue, pop the
//!    victim queue, and only then call `new`.
//! 2. `put(v)`: store `v` with the current generation in the private slot; the value it
//!    displaces goes to the own shared queue (age 0), the victim queue (age 1) or is
//!    dropped (age >= 2).
//! 3. Cycle start (`on_cycle_start`, collector thread, concurrently with mutators): for
//!    every registered pool, bump the generation, drop what the victim queue holds, then
//!    move every shared queue (and the owner-less queue) into the victim queue. Private
//!    slots are not touched: their owners retire them by age in steps 1 and 2.
//! 4. Thread exit (thread-local destructor, on the exiting thread): for every registered
//!    pool, move the private value to the thread's shared queue (age 0), the victim queue
//!    (age 1) or drop it; the shared queue stays stealable and is emptied by cycles. Then
//!    the thread index is recycled.
//! 5. Dropping the pool unregisters it and drops every value it holds.
//!
//! The fast path (private slot hit or store) has no atomic read-modify-write and no lock:
//! one Acquire load of the inner pointer, the thread-local index, one Acquire load of a
//! segment pointer, a Relaxed load of the generation and a Relaxed load+store of the
//! owner's counter, all plain `mov`s on x86-64.
//!
//! # What an idle thread retains
//! The collector cannot take a value out of another thread's private slot without the
//! owner paying an atomic on every access, so private slots age lazily. A live thread that
//! stops using a pool retains **at most one value per pool** (its private slot) for as
//! long as it neither calls `get`/`put` on that pool nor exits; the value is dropped at its
//! next operation on that pool if two or more cycles have started since it was put, and is
//! handed to the shared queue at thread exit (from where cycles drop it). Everything else
//! (shared queues, victim queue) is dropped by the second cycle start, except a value that a
//! concurrent `put` parks in a queue the cycle start has already emptied: it is dropped one
//! cycle later.
//!
//! # Invariants
//! - Every value is in exactly one place: a private slot, a shared queue, the owner-less
//!   queue, the victim queue, or a caller's hands. Nothing is cloned or duplicated.
//! - A private slot is accessed only by the thread owning the index (registry fact (1)),
//!   or with the pool's `Inner` exclusively held while it is dropped.
//! - The registry holds an `Arc` of `Inner` for exactly as long as the pool is live and
//!   initialised (a `static` pool stays registered for the life of the process).
//!
//! # Memory ordering
//! (1) `Pool::inner` is stored (Release) under the registry lock after `Inner` is built;
//!     the fast path loads it Acquire, pairing with that store.
//! (2) The generation carries no data, only an age: Relaxed everywhere. A thread that reads
//!     a stale generation treats a value as younger than it is, so it is kept at most one
//!     more cycle; the calling thread's own `__simulate_cycle_start` / `collect()` is seen
//!     in program order. Values themselves move between threads only through the
//!     `SegQueue`s, whose push/pop pair is Release/Acquire internally.
//! (3) Segment pointers and per-owner counters: see `locals.rs` facts (1) and (2); thread
//!     index hand-over: `registry.rs` fact (1).
//! (4) Benign race: a `put` concurrent with a cycle start may push into a shared or victim
//!     queue after the cycle emptied it; that value lives one more cycle (step 3, and
//!     "what an idle thread retains").

mod locals;
mod registry;

use std::fmt;

use crossbeam_queue::SegQueue;

use crate::sync::{Arc, AtomicPtr, AtomicU64, Ordering};

use locals::{Local, Locals, OwnerCounters, Parked};
use registry::Registered;

/// Age (in cycle starts) up to which a parked value may still be returned by `get`.
const VICTIM_AGE: u64 = 1;

/// A set of reusable values, emptied by the collector with a one-cycle victim generation
/// (Go's `sync.Pool`).
///
/// `get` returns a value that some thread `put`, or a new one from the function given to
/// [`Pool::new`]; it never returns one value twice. Values that nobody takes out are
/// dropped by the collector: a value survives the first cycle start after its `put`
/// (it becomes a *victim*, still returned by `get`) and is dropped at the second.
///
/// A value parked in a thread's private slot is retired lazily by that thread (at its next
/// `get` or `put` on this pool, or when it exits), so an idle live thread keeps at most one
/// value per pool. Use a pool for values that are expensive to make and cheap to keep
/// (buffers, scratch vectors), not for values whose drop must happen promptly.
///
/// # Cost
/// `get` after a `put` on the same thread, and `put` into an empty private slot, take no
/// lock and no atomic read-modify-write. Other paths use lock-free queues.
///
/// # Examples
/// ```
/// use tricolor_gc_core::pool::Pool;
///
/// static BUFFERS: Pool<Vec<u8>> = Pool::new(Vec::new);
///
/// let mut buf = BUFFERS.get();
/// buf.clear();
/// buf.extend_from_slice(b"hello");
/// BUFFERS.put(buf);
///
/// // With a capturing closure:
/// let size = 4096;
/// let pool = Pool::new(move || Vec::<u8>::with_capacity(size));
/// let v = pool.get();
/// assert!(v.capacity() >= 4096);
/// pool.put(v);
/// ```
pub struct Pool<T: Send + 'static, F = fn() -> T> {
    /// Null until first use, then `Arc::into_raw` of the registered inner part (fact (1)).
    /// Reclaimed only in `Drop`.
    inner: AtomicPtr<Inner<T>>,
    new: F,
}

// `Pool<T, F>` is `Send`/`Sync` by its fields: `AtomicPtr` is both, so it is `Send` when
// `F: Send` and `Sync` when `F: Sync`. That is sound because the struct bound demands
// `T: Send`: values only ever move between threads (`get`/`put` and the drops done by the
// collector or an exiting thread), never are shared by reference, as with `Mutex<T>`.

impl<T: Send + 'static, F> Pool<T, F> {
    /// Creates an empty pool; `new` makes a value when `get` finds none.
    ///
    /// `const`, so a pool can live in a `static`. The pool allocates and registers itself
    /// with the collector on first use.
    pub const fn new(new: F) -> Self {
        Pool {
            inner: AtomicPtr::new(std::ptr::null_mut()),
            new,
        }
    }

    /// Counters of this pool, summed over its threads.
    ///
    /// Exact when no thread uses the pool concurrently; otherwise each counter may lag
    /// slightly behind.
    pub fn stats(&self) -> PoolStats {
        // Acquire: fact (1).
        let inner = self.inner.load(Ordering::Acquire);
        if inner.is_null() {
            return PoolStats::default();
        }
        // SAFETY: a non-null `inner` is a live `Arc` owned by `self` until `Drop`.
        unsafe { &*inner }.stats()
    }

    #[inline(always)]
    fn inner(&self) -> &Inner<T> {
        // Acquire: pairs with the Release store in `init_slow` (fact (1)).
        let inner = self.inner.load(Ordering::Acquire);
        if inner.is_null() {
            return self.init_slow();
        }
        // SAFETY: a non-null `inner` came from `Arc::into_raw` in `init_slow` and is
        // released only by `Drop`, which cannot run while `&self` is alive.
        unsafe { &*inner }
    }

    #[cold]
    #[inline(never)]
    fn init_slow(&self) -> &Inner<T> {
        let inner = registry::with_pools_locked(|pools| {
            // Acquire: another thread may have won the race (fact (1)); the lock orders
            // us after its store anyway, the Acquire documents the pairing.
            let existing = self.inner.load(Ordering::Acquire);
            if !existing.is_null() {
                return existing;
            }
            let inner = Arc::new(Inner::<T>::new());
            pools.push(inner.clone() as Arc<dyn Registered>);
            let raw = Arc::into_raw(inner) as *mut Inner<T>;
            // Release: publishes the initialised `Inner`; pairs with the Acquire loads in
            // `inner` and `stats` (fact (1)).
            self.inner.store(raw, Ordering::Release);
            raw
        });
        // SAFETY: as in `inner`.
        unsafe { &*inner }
    }
}

impl<T: Send + 'static, F: Fn() -> T> Pool<T, F> {
    /// Takes a value out of the pool, or makes one with the pool's `new` function.
    ///
    /// Tries, in order: this thread's private slot, this thread's shared queue, the other
    /// threads' shared queues, the victim generation; then calls `new`.
    ///
    /// # Panics
    /// If `new` panics, or if more than eight million threads use pools at once.
    #[inline]
    pub fn get(&self) -> T {
        let inner = self.inner();
        if let Some(index) = registry::current_thread_index() {
            let local = inner.locals.get_or_grow(index);
            // SAFETY: this thread owns `index` until its thread-local destructor runs
            // (registry fact (1)), and no borrow of the slot is alive.
            if let Some(parked) = unsafe { local.take_private() } {
                if inner.age(parked.generation) <= VICTIM_AGE {
                    OwnerCounters::bump(&local.counters.hits);
                    return parked.value;
                }
                retire(local, parked);
            }
            if let Some(value) = inner.get_shared(Some((index, local))) {
                OwnerCounters::bump(&local.counters.hits);
                return value;
            }
            OwnerCounters::bump(&local.counters.misses);
        } else {
            return self.get_ownerless(inner);
        }
        (self.new)()
    }

    #[cold]
    #[inline(never)]
    fn get_ownerless(&self, inner: &Inner<T>) -> T {
        if let Some(value) = inner.get_shared(None) {
            // Relaxed: statistics only.
            inner.ownerless_hits.fetch_add(1, Ordering::Relaxed);
            return value;
        }
        // Relaxed: statistics only.
        inner.ownerless_misses.fetch_add(1, Ordering::Relaxed);
        (self.new)()
    }

    /// Parks `value` in the pool for a later `get` on any thread.
    ///
    /// # Panics
    /// If more than eight million threads use pools at once.
    #[inline]
    pub fn put(&self, value: T) {
        let inner = self.inner();
        // Relaxed: an age only (fact (2)).
        let generation = inner.generation.load(Ordering::Relaxed);
        match registry::current_thread_index() {
            Some(index) => {
                let local = inner.locals.get_or_grow(index);
                // SAFETY: this thread owns `index` (registry fact (1)), and no borrow of
                // the slot is alive.
                let displaced = unsafe { local.replace_private(Parked { value, generation }) };
                if let Some(displaced) = displaced {
                    inner.park_displaced(local, displaced, generation);
                }
            }
            // Thread-local storage is being torn down: no private slot any more.
            None => inner.ownerless.push(value),
        }
    }
}

impl<T: Send + 'static, F> Drop for Pool<T, F> {
    fn drop(&mut self) {
        // Relaxed: `&mut self` orders every use of this pool before its drop.
        let inner = self.inner.load(Ordering::Relaxed);
        if inner.is_null() {
            return;
        }
        // Dropped outside the registry lock: it is not the last `Arc` (ours is), but keep
        // user drops away from the lock on principle.
        drop(registry::unregister(inner as *const ()));
        // SAFETY: `inner` came from `Arc::into_raw` in `init_slow`; this is the one place
        // that gives it back, and `&mut self` means nobody uses it through the pool now.
        // A cycle hook or exiting thread may still hold its own clone; the last one drops
        // `Inner` and every value in it.
        drop(unsafe { Arc::from_raw(inner as *const Inner<T>) });
    }
}

impl<T: Send + 'static, F> fmt::Debug for Pool<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("type", &std::any::type_name::<T>())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Counters of one [`Pool`], from [`Pool::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// `get` calls that returned a pooled value.
    pub hits: u64,
    /// `get` calls that called the pool's `new` function.
    pub misses: u64,
    /// Values dropped because they aged out: by a cycle start (shared and victim queues)
    /// or, for a private slot, by its owner's next operation or exit.
    pub dropped_by_cycles: u64,
    /// Cycle starts this pool has seen since its first use.
    pub cycles: u64,
}

/// The registered part of a pool.
struct Inner<T> {
    locals: Locals<T>,
    /// The victim generation's values (primary values of the previous cycle).
    victim: SegQueue<T>,
    /// Primary values put by threads whose thread-local storage was gone.
    ownerless: SegQueue<T>,
    /// Cycle starts seen (fact (2)).
    generation: AtomicU64,
    /// Values the cycle hook dropped. Written only off the fast path (RMW is fine).
    dropped_by_collector: AtomicU64,
    ownerless_hits: AtomicU64,
    ownerless_misses: AtomicU64,
}

impl<T: Send> Inner<T> {
    fn new() -> Self {
        Inner {
            locals: Locals::new(),
            victim: SegQueue::new(),
            ownerless: SegQueue::new(),
            generation: AtomicU64::new(0),
            dropped_by_collector: AtomicU64::new(0),
            ownerless_hits: AtomicU64::new(0),
            ownerless_misses: AtomicU64::new(0),
        }
    }

    #[inline(always)]
    fn age(&self, generation: u64) -> u64 {
        // Relaxed: an age only (fact (2)).
        self.generation
            .load(Ordering::Relaxed)
            .wrapping_sub(generation)
    }

    /// Algorithm step 1 after the private slot: own queue, steal, owner-less, victim.
    fn get_shared(&self, own: Option<(usize, &Local<T>)>) -> Option<T> {
        if let Some(value) = own.and_then(|(_, local)| local.shared.pop()) {
            return Some(value);
        }
        self.steal(own.map(|(index, _)| index))
            .or_else(|| self.ownerless.pop())
            .or_else(|| self.victim.pop())
    }

    /// Pops from the other threads' shared queues, starting after `own` (all of them
    /// when the caller has no index).
    #[cold]
    fn steal(&self, own: Option<usize>) -> Option<T> {
        let limit = registry::high_water();
        let (start, count) = match own {
            Some(index) => (index + 1, limit.saturating_sub(1)),
            None => (0, limit),
        };
        (0..count)
            .map(|step| (start + step) % limit)
            .find_map(|other| self.locals.get(other).and_then(|l| l.shared.pop()))
    }

    /// Algorithm step 2 for the value a `put` displaced from the private slot.
    #[cold]
    #[inline(never)]
    fn park_displaced(&self, local: &Local<T>, displaced: Parked<T>, now: u64) {
        match now.wrapping_sub(displaced.generation) {
            0 => local.shared.push(displaced.value),
            VICTIM_AGE => self.victim.push(displaced.value),
            _ => retire(local, displaced),
        }
    }

    fn stats(&self) -> PoolStats {
        // Relaxed (all): statistics only (locals.rs fact (2)).
        let mut stats = PoolStats {
            hits: self.ownerless_hits.load(Ordering::Relaxed),
            misses: self.ownerless_misses.load(Ordering::Relaxed),
            dropped_by_cycles: self.dropped_by_collector.load(Ordering::Relaxed),
            cycles: self.generation.load(Ordering::Relaxed),
        };
        self.locals.for_each(registry::high_water(), |_, local| {
            stats.hits += local.counters.hits.load(Ordering::Relaxed);
            stats.misses += local.counters.misses.load(Ordering::Relaxed);
            stats.dropped_by_cycles += local.counters.dropped.load(Ordering::Relaxed);
        });
        stats
    }
}

/// Drops a private value that aged out; only the owner of `local`'s index calls it.
#[cold]
#[inline(never)]
fn retire<T>(local: &Local<T>, parked: Parked<T>) {
    OwnerCounters::bump(&local.counters.dropped);
    drop(parked);
}

impl<T: Send + 'static> Registered for Inner<T> {
    /// Algorithm step 3. Runs concurrently with `get`/`put` on any thread.
    fn cycle_start(&self) {
        // Relaxed: an age only (fact (2)).
        self.generation.fetch_add(1, Ordering::Relaxed);
        // Drop the old victims. Bounded by the length seen now, so that values pushed
        // concurrently (benign race (4)) cannot keep this loop going.
        let mut dropped = 0;
        for _ in 0..self.victim.len() {
            match self.victim.pop() {
                Some(value) => {
                    drop(value);
                    dropped += 1;
                }
                None => break,
            }
        }
        // Relaxed: statistics only.
        self.dropped_by_collector
            .fetch_add(dropped, Ordering::Relaxed);
        // The primary generation's queues become the victim.
        let demote = |queue: &SegQueue<T>| {
            for _ in 0..queue.len() {
                match queue.pop() {
                    Some(value) => self.victim.push(value),
                    None => break,
                }
            }
        };
        self.locals
            .for_each(registry::high_water(), |_, local| demote(&local.shared));
        demote(&self.ownerless);
    }

    /// Algorithm step 4, on the exiting thread.
    fn thread_exit(&self, index: usize) {
        let Some(local) = self.locals.get(index) else {
            return;
        };
        // SAFETY: the exiting thread still owns `index` (the registry releases it after
        // calling this), and no borrow of the slot is alive.
        if let Some(parked) = unsafe { local.take_private() } {
            match self.age(parked.generation) {
                0 => local.shared.push(parked.value),
                VICTIM_AGE => self.victim.push(parked.value),
                _ => retire(local, parked),
            }
        }
    }
}

/// The cycle hook: the collector calls it once at the start of every cycle, on its own
/// thread, concurrently with mutators using pools (algorithm step 3).
pub(crate) fn on_cycle_start() {
    // The clone keeps each pool's inner part alive even if its `Pool` is dropped
    // meanwhile; user drops run without the registry lock (registry step 1).
    for pool in registry::snapshot() {
        pool.cycle_start();
    }
}

/// Runs the pool part of a cycle start, as the collector will. For tests, until
/// `gc::collect()` exists.
#[doc(hidden)]
pub fn __simulate_cycle_start() {
    on_cycle_start();
}

/// Number of pools registered with the cycle hook. For tests.
#[doc(hidden)]
pub fn __registered_pools() -> usize {
    registry::registered_count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{AtomicUsize, Mutex};

    /// Cycle starts are process-wide: tests that count them run one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    struct Counted<'a>(u32, &'a AtomicUsize);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
    }

    static DROPS: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn put_displaces_by_age() {
        let _serial = SERIAL.lock();
        let base = DROPS.load(Ordering::Relaxed);
        let pool = Pool::new(|| Counted(0, &DROPS));
        let inner = pool.inner();
        let index = registry::current_thread_index().expect("tls alive");
        pool.put(Counted(1, &DROPS));
        pool.put(Counted(2, &DROPS)); // displaces 1 (age 0) to the shared queue
        assert_eq!(inner.locals.get(index).map(|l| l.shared.len()), Some(1));
        on_cycle_start(); // shared {1} -> victim; private 2 now age 1
        assert_eq!(inner.victim.len(), 1);
        pool.put(Counted(3, &DROPS)); // displaces 2 (age 1) to the victim queue
        assert_eq!(inner.victim.len(), 2);
        on_cycle_start(); // drops 1 and 2; private 3 now age 1
        assert_eq!(DROPS.load(Ordering::Relaxed) - base, 2);
        on_cycle_start(); // private 3 now age 2, still parked (lazy)
        assert_eq!(DROPS.load(Ordering::Relaxed) - base, 2);
        pool.put(Counted(4, &DROPS)); // retires 3
        assert_eq!(DROPS.load(Ordering::Relaxed) - base, 3);
        let stats = pool.stats();
        assert_eq!((stats.dropped_by_cycles, stats.cycles), (3, 3));
        let four = pool.get();
        assert_eq!(four.0, 4);
        drop(pool);
        assert_eq!(
            DROPS.load(Ordering::Relaxed) - base,
            3,
            "4 was handed out, not dropped"
        );
        drop(four);
    }

    #[test]
    fn thread_exit_hands_private_to_shared_and_recycles_index() {
        let _serial = SERIAL.lock();
        let pool = Pool::new(String::new);
        let exited = std::thread::scope(|s| {
            s.spawn(|| {
                pool.put("private".to_string());
                registry::current_thread_index().expect("tls alive")
            })
            .join()
            .expect("no panic")
        });
        assert!(registry::free_indices().contains(&exited));
        let local = pool.inner().locals.get(exited).expect("segment exists");
        assert_eq!(local.shared.pop().as_deref(), Some("private"));
    }

    #[test]
    fn registry_tracks_live_pools() {
        let _serial = SERIAL.lock();
        let before = registry::registered_count();
        let pool = Pool::new(|| 1u8);
        assert_eq!(registry::registered_count(), before, "registers lazily");
        pool.put(2);
        assert_eq!(registry::registered_count(), before + 1);
        drop(pool);
        assert_eq!(registry::registered_count(), before);
    }
}
