//! [`Pool<T>`]: a set of reusable values that the collector empties, one cycle late
//! (mirrors Go's `sync.Pool` since Go 1.13: per-P private slot and shared queue, a victim
//! generation, and `poolCleanup` at every cycle start; see `research/go-gc-design.md` §7).
//!
//! # Structure
//! A pool is a const-constructible handle; on first use it allocates its inner part
//! (`Inner`) and registers an `Arc` of it in the process-wide registry (`registry.rs`).
//! The inner part holds, per thread index (`locals.rs`), a `Local` of three generations,
//! each a *private slot* (only the owning thread puts into it) and a *shared queue*
//! (`crossbeam_queue::SegQueue`, any thread may steal from it); one more `Local` for
//! threads without an index (owner-less: their thread-local storage is being torn down;
//! only its queues are used); and a *cycle count* that says which generation of every
//! local is the primary, the victim and the dead one (locals.rs step 4).
//!
//! # Algorithm
//! 1. `get`, all inside one heap op (`heap::enter_op`) in which it reads the cycle count
//!    once: the own primary private slot, the own primary shared queue, the other threads'
//!    primary shared queues (starting after our index), the owner-less primary queue; then
//!    the own victim private slot, the own victim queue, the other threads' and the
//!    owner-less victim queues. The op ends; if nothing was found, `new` runs, outside any
//!    op.
//! 2. `put(v)`, inside one heap op: `v` goes into the own primary private slot; a value it
//!    displaces is pushed to the own primary queue. Nothing is dropped.
//! 3. Cycle start, in the stopped world with which every collection cycle starts
//!    (`on_world_stopped`, called by `collector/cycle.rs` inside its first stop): for every
//!    registered pool, bump the cycle count. That rotates the generations of every local
//!    at once (locals.rs step 4): every thread's primary, private slot included, becomes
//!    the victim — whether the thread is running, parked or gone — and the old victim
//!    becomes dead. O(pools); no value moves and no user code runs in the stopped world.
//! 4. When the world runs again (`Rotated::drop_dead`, collector thread): every pool that
//!    step 3 rotated drops every value of every dead generation. A panic in a value's
//!    `Drop` is caught, counted (`PoolStats::drop_panics`) and reported on stderr; the
//!    other values are still dropped.
//! 5. Thread exit (thread-local destructor, on the exiting thread, inside a heap op): for
//!    every registered pool, move the thread's primary and victim private values to the
//!    thread's queues of the same generation, where other threads can take them. Then the
//!    thread index is recycled (registry.rs step 2).
//! 6. Dropping the pool unregisters it; the last `Arc` (the handle's, or the collector's
//!    while it walks the pools) drops `Inner`, which drops every value in it, catching
//!    panics as in step 4.
//!
//! # What an idle pool retains
//! Nothing, after two cycle starts: a value put before cycle start `k` is primary until
//! `k`, victim until `k + 1`, and dropped by the collector right after `k + 1`, wherever it
//! sits. Go's `poolCleanup` gives the same guarantee.
//!
//! # Invariants
//! - Every value is in exactly one place: a private slot or a queue of one generation of
//!   one local, or a caller's hands. Nothing is cloned or duplicated.
//! - Pooled values are dropped only by step 4 (dead generations), step 6 (the pool's
//!   drop), or by whoever `get` handed them to; never inside a heap op or a stopped world.
//! - Pool code runs no user code (`new`, a value's `Drop`) inside a heap op, enters no op
//!   while it holds the registry lock, and takes that lock inside an op nowhere. The
//!   collector takes the registry lock inside the stopped world (step 3), so this is what
//!   keeps the stop from waiting for a thread that waits for it.
//! - The registry holds an `Arc` of `Inner` for exactly as long as the pool is live and
//!   initialised (a `static` pool stays registered for the life of the process).
//!
//! # Memory ordering
//! (1) `Pool::inner` is stored (Release) under the registry lock after `Inner` is built;
//!     the fast path loads it Acquire, pairing with that store.
//! (2) Steps 1, 2 and 5 touch a pool's generations only inside one heap op, in which they
//!     read the cycle count once; step 3 writes the count only in a stopped world. By the
//!     heap's safepoint facts (`heap/safepoint.rs`): (1) an op either sees `STOP` at entry
//!     and waits, or the stopping collector sees the op in flight and waits for its end;
//!     (2) the op's exit (Release store of `op_seq`, Acquire load by the collector) makes
//!     everything the op did happen-before the stop's work; (3) the end of the stop
//!     (Release store of `STOP`, Acquire load at op entry, or the `STOP_WAIT` lock) makes
//!     the stop's work happen-before every later op. Ops of threads without a thread cache
//!     hold the `ORPHAN` lock, which the stopped world holds too. So no op overlaps step 3,
//!     the count is constant during an op, and its Relaxed load returns the latest bump.
//! (3) A dead generation is touched only by the collector thread, between the stop that
//!     made it dead (step 4 follows that stop in program order) and the next stop, which
//!     follows step 4 in program order. Ops before the first stop used it as a victim and
//!     happen-before it by fact (2); ops after the next stop use it as the new primary and
//!     happen-after it by fact (2); ops in between use only the primary and victim roles.
//!     With fact (2) and registry fact (1) (an index passes between owners through a
//!     mutex), no two threads ever access one private slot concurrently.
//! (4) The cycle count is Relaxed everywhere: inside ops it is ordered by fact (2), the
//!     collector reads its own writes, and `stats` only reports it.
//! (5) Segment pointers and per-owner counters: see `locals.rs` facts (1) and (2); thread
//!     index hand-over: `registry.rs` fact (1). Values move between threads inside the
//!     `SegQueue`s, whose push/pop pair is Release/Acquire internally, or through a private
//!     slot, ordered by fact (2) or (3).
//!
//! # Cost
//! The fast path (private slot hit, or `put` into an empty private slot) has no atomic
//! read-modify-write and no lock: one Acquire load of the inner pointer, the thread-local
//! index, the op entry (a thread-local cache pointer, a Relaxed load and store of the
//! thread's `op_seq`, a compiler fence, an Acquire load of `STOP`), a Relaxed load of the
//! cycle count, an Acquire load of a segment pointer, the slot itself, a Relaxed load +
//! store of the owner's counter, and the op exit (a Release store): plain `mov`s on
//! x86-64. (Where the kernel lacks expedited `membarrier`, or the collector switched to
//! fences, every heap op's entry fence is a real `SeqCst` fence: safepoint facts 1 and 5.) The stop of step 3 costs one store per pool.

mod locals;
mod registry;

use std::any::type_name;
use std::fmt;
use std::io::Write as _;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_utils::CachePadded;

use crate::heap::{self, Op, StoppedWorld};
use crate::sync::{Arc, AtomicPtr, AtomicU64, Ordering};

use locals::{Local, Locals, OwnerCounters, Role};
use registry::Registered;

/// A set of reusable values, emptied by the collector with a one-cycle victim generation
/// (Go's `sync.Pool`).
///
/// `get` returns a value that some thread `put`, or a new one from the function given to
/// [`Pool::new`]; it never returns one value twice. Values that nobody takes out are
/// dropped by the collector: a value survives the first cycle start after its `put`
/// (it becomes a *victim*, still returned by `get`) and is dropped right after the second,
/// on the collector's thread, whichever thread put it and whether that thread still runs.
/// Two cycles in which nobody uses a pool leave it empty.
///
/// A panic in the `Drop` of a value the collector drops is caught, counted in
/// [`PoolStats::drop_panics`] and reported on stderr; the collector goes on dropping the
/// pool's other values.
///
/// # Cost
/// `get` after a `put` on the same thread, and `put` into an empty private slot, take no
/// lock and no atomic read-modify-write. Other paths use lock-free queues.
///
/// `get` and `put` run as short heap operations, so they may not be called from a
/// [`Trace`](crate::trace::Trace) impl (which must be pure anyway: its rule 3); the pool's `new`
/// function and the values' `Drop`s run outside them and may use the heap and other pools.
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
///
/// // Two cycles with no use give the memory back, whichever thread put it.
/// tricolor_gc_core::collect();
/// tricolor_gc_core::collect();
/// assert_eq!(pool.stats().dropped_by_cycles, 1);
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
    /// threads' shared queues, then the same places of the victim generation (values put
    /// before the last cycle start); then calls `new`.
    ///
    /// # Panics
    /// If `new` panics, or if more than eight million threads use pools at once.
    #[inline]
    pub fn get(&self) -> T {
        let inner = self.inner();
        // Outside the op: the first call on a thread takes the thread-index lock.
        let index = registry::current_thread_index();
        let found = {
            let op = heap::enter_op();
            inner.take(&op, index)
        };
        match found {
            Some(value) => value,
            // User code: after the op (module invariants).
            None => (self.new)(),
        }
    }

    /// Parks `value` in the pool for a later `get` on any thread.
    ///
    /// # Panics
    /// If more than eight million threads use pools at once.
    #[inline]
    pub fn put(&self, value: T) {
        let inner = self.inner();
        let index = registry::current_thread_index();
        let op = heap::enter_op();
        inner.park(&op, index, value);
        drop(op);
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
    /// Values the collector dropped because they were idle for two cycle starts.
    pub dropped_by_cycles: u64,
    /// Of those, values whose `Drop` panicked (caught, reported on stderr; the collector
    /// went on dropping the others). Panics of values dropped with the pool itself are
    /// caught and reported the same way but not counted: the pool is gone by then.
    pub drop_panics: u64,
    /// Cycle starts this pool has seen since its first use.
    pub cycles: u64,
}

/// The registered part of a pool.
struct Inner<T> {
    /// Per thread index: three generations and the owner's counters.
    locals: Locals<T>,
    /// For threads without an index (their thread-local storage is being torn down): only
    /// the queues of its generations are used.
    ownerless: CachePadded<Local<T>>,
    /// Cycle starts seen; selects the role of each generation (locals.rs step 4). Written
    /// only in a stopped world (fact (2)).
    cycles: AtomicU64,
    /// Values the collector dropped (step 4). Written only by the collector thread.
    dropped_by_collector: AtomicU64,
    /// Of those, drops that panicked. Written only by the collector thread.
    drop_panics: AtomicU64,
    ownerless_hits: AtomicU64,
    ownerless_misses: AtomicU64,
}

impl<T: Send> Inner<T> {
    fn new() -> Self {
        Inner {
            locals: Locals::new(),
            ownerless: CachePadded::new(Local::new()),
            cycles: AtomicU64::new(0),
            dropped_by_collector: AtomicU64::new(0),
            drop_panics: AtomicU64::new(0),
            ownerless_hits: AtomicU64::new(0),
            ownerless_misses: AtomicU64::new(0),
        }
    }

    /// The cycle count, which is constant for the whole op (fact (2)).
    #[inline(always)]
    fn cycle(&self, _op: &Op) -> u64 {
        // Relaxed: ordered by the op (fact (2)).
        self.cycles.load(Ordering::Relaxed)
    }

    /// Algorithm step 1 up to (not including) `new`. `index` is the caller's thread index,
    /// `None` if it has none.
    #[inline(always)]
    fn take(&self, op: &Op, index: Option<usize>) -> Option<T> {
        let cycle = self.cycle(op);
        let Some(index) = index else {
            return self.take_ownerless(cycle);
        };
        let local = self.locals.get_or_grow(index);
        // SAFETY: this thread owns `index` until its thread-local destructor runs
        // (registry fact (1)) and is inside an op, in which the primary role is stable:
        // invariant (a) of locals.rs, facts (2) and (3).
        let found = unsafe { local.generation(Role::Primary, cycle).take_private() };
        let found = found.or_else(|| self.take_slow(cycle, index, local));
        if found.is_some() {
            OwnerCounters::bump(&local.counters.hits);
        } else {
            OwnerCounters::bump(&local.counters.misses);
        }
        found
    }

    /// Step 1 after the primary private slot missed.
    #[cold]
    #[inline(never)]
    fn take_slow(&self, cycle: u64, index: usize, local: &Local<T>) -> Option<T> {
        let primary = local.generation(Role::Primary, cycle);
        let victim = local.generation(Role::Victim, cycle);
        primary
            .shared
            .pop()
            .or_else(|| self.steal(Role::Primary, cycle, Some(index)))
            // SAFETY: as in `take`, for the victim role.
            .or_else(|| unsafe { victim.take_private() })
            .or_else(|| victim.shared.pop())
            .or_else(|| self.steal(Role::Victim, cycle, Some(index)))
    }

    #[cold]
    #[inline(never)]
    fn take_ownerless(&self, cycle: u64) -> Option<T> {
        let found = self
            .steal(Role::Primary, cycle, None)
            .or_else(|| self.steal(Role::Victim, cycle, None));
        let counter = if found.is_some() {
            &self.ownerless_hits
        } else {
            &self.ownerless_misses
        };
        // Relaxed: statistics only.
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Pops from the `role` queues of the other threads (starting after `own`; all of them
    /// when the caller has no index), then from the owner-less queue of that role.
    fn steal(&self, role: Role, cycle: u64, own: Option<usize>) -> Option<T> {
        let limit = registry::high_water();
        let (start, count) = match own {
            Some(index) => (index + 1, limit.saturating_sub(1)),
            None => (0, limit),
        };
        (0..count)
            .map(|step| (start + step) % limit)
            .find_map(|other| {
                self.locals
                    .get(other)
                    .and_then(|l| l.generation(role, cycle).shared.pop())
            })
            .or_else(|| self.ownerless.generation(role, cycle).shared.pop())
    }

    /// Algorithm step 2.
    #[inline(always)]
    fn park(&self, op: &Op, index: Option<usize>, value: T) {
        let cycle = self.cycle(op);
        let Some(index) = index else {
            self.ownerless
                .generation(Role::Primary, cycle)
                .shared
                .push(value);
            return;
        };
        let primary = self
            .locals
            .get_or_grow(index)
            .generation(Role::Primary, cycle);
        // SAFETY: as in `take`: this thread owns `index` and is inside an op.
        if let Some(displaced) = unsafe { primary.replace_private(value) } {
            park_displaced(primary, displaced);
        }
    }

    /// Algorithm step 3: the stop's whole work for this pool.
    fn rotate(&self, _world: &StoppedWorld) {
        // SAFETY: the world is stopped: no op is in flight and none can start (fact (2));
        // `drop_dead` runs only on this (the collector) thread, not during this call.
        unsafe { self.bump_cycle() };
    }

    /// Rotates the roles of every generation of every local (locals.rs step 4).
    ///
    /// # Safety
    /// * No thread is inside an op that uses this pool, and none can start one, until
    ///   the call returns (a stopped world, or a pool no other thread can reach).
    /// * No `drop_dead` of this pool runs concurrently.
    unsafe fn bump_cycle(&self) {
        // Relaxed: ordered by the caller's exclusion (fact (2)); there is one writer at a
        // time, so a load and a store suffice.
        let cycle = self.cycles.load(Ordering::Relaxed);
        self.cycles.store(cycle + 1, Ordering::Relaxed);
    }

    /// Algorithm step 4: drops every value of every dead generation. Returns the number
    /// of values dropped and of those whose `Drop` panicked (caught).
    ///
    /// # Safety
    /// * The caller is the thread that stops the world (the collector thread), the only
    ///   one that rotates, so no rotation runs during the call; or no other thread can
    ///   reach this pool. Then nobody else touches the dead role (fact (3)).
    unsafe fn drop_dead(&self) -> (u64, u64) {
        // Relaxed: the collector's own last write (fact (4)).
        let cycle = self.cycles.load(Ordering::Relaxed);
        let (mut dropped, mut panics) = (0, 0);
        let mut drop_one = |value: T| {
            dropped += 1;
            if drop_caught(value, "the collector dropped an idle pooled value") {
                panics += 1;
            }
        };
        let mut drain = |local: &Local<T>| {
            let dead = local.generation(Role::Dead, cycle);
            // SAFETY: invariant (b) of locals.rs: the dead role is ours (this function's
            // contract, fact (3)).
            if let Some(value) = unsafe { dead.take_private() } {
                drop_one(value);
            }
            // Bounded by what it holds now: nobody pushes to a dead generation (fact (3)),
            // but a bound keeps this loop finite whatever a `Drop` does.
            for _ in 0..dead.shared.len() {
                match dead.shared.pop() {
                    Some(value) => drop_one(value),
                    None => break,
                }
            }
        };
        self.locals
            .for_each(registry::high_water(), |_, local| drain(local));
        drain(&self.ownerless);
        // Relaxed: statistics only; `collect()` returns after this (its lock orders it).
        self.dropped_by_collector
            .fetch_add(dropped, Ordering::Relaxed);
        self.drop_panics.fetch_add(panics, Ordering::Relaxed);
        (dropped, panics)
    }

    fn stats(&self) -> PoolStats {
        // Relaxed (all): statistics only (locals.rs fact (2)).
        let mut stats = PoolStats {
            hits: self.ownerless_hits.load(Ordering::Relaxed),
            misses: self.ownerless_misses.load(Ordering::Relaxed),
            dropped_by_cycles: self.dropped_by_collector.load(Ordering::Relaxed),
            drop_panics: self.drop_panics.load(Ordering::Relaxed),
            cycles: self.cycles.load(Ordering::Relaxed),
        };
        self.locals.for_each(registry::high_water(), |_, local| {
            stats.hits += local.counters.hits.load(Ordering::Relaxed);
            stats.misses += local.counters.misses.load(Ordering::Relaxed);
        });
        stats
    }
}

/// Step 2 for the value a `put` displaced from the private slot.
#[cold]
#[inline(never)]
fn park_displaced<T>(primary: &locals::Generation<T>, displaced: T) {
    primary.shared.push(displaced);
}

/// Drops a value on behalf of the pool (steps 4 and 6). A panic of its `Drop` is caught
/// and reported in one `tricolor-gc:` line naming the type; returns whether it panicked.
fn drop_caught<T>(value: T, when: &str) -> bool {
    let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) else {
        return false;
    };
    // The payload's own `Drop` is user code as well; if it panics too, leak it.
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
    // Ignore a failed write: nothing better can be done with the report, and a panic here
    // would reach the collector's abort.
    let _ = writeln!(
        std::io::stderr(),
        "tricolor-gc: a destructor of {} panicked while {when}; the panic was caught and the \
         pool's other values are still dropped",
        type_name::<T>()
    );
    true
}

impl<T> Drop for Inner<T> {
    /// Algorithm step 6: every value still in the pool, through `drop_caught`.
    fn drop(&mut self) {
        let drain = |local: &Local<T>| {
            for generation in local.generations() {
                // SAFETY: invariant (c) of locals.rs: `&mut self`, the last `Arc` is gone.
                if let Some(value) = unsafe { generation.take_private() } {
                    drop_caught(value, "a pool was dropped");
                }
                while let Some(value) = generation.shared.pop() {
                    drop_caught(value, "a pool was dropped");
                }
            }
        };
        self.locals.for_each(usize::MAX, |_, local| drain(local));
        drain(&self.ownerless);
    }
}

impl<T: Send + 'static> Registered for Inner<T> {
    fn rotate(&self, world: &StoppedWorld) {
        Inner::rotate(self, world);
    }

    unsafe fn drop_dead(&self) -> u64 {
        // SAFETY: the trait method's contract is this one's.
        unsafe { Inner::drop_dead(self).1 }
    }

    /// Algorithm step 5, on the exiting thread.
    fn thread_exit(&self, index: usize) {
        let Some(local) = self.locals.get(index) else {
            return;
        };
        let op = heap::enter_op();
        let cycle = self.cycle(&op);
        for role in [Role::Primary, Role::Victim] {
            let generation = local.generation(role, cycle);
            // SAFETY: the exiting thread still owns `index` (the registry releases it after
            // calling this) and is inside an op: invariant (a) of locals.rs.
            if let Some(value) = unsafe { generation.take_private() } {
                generation.shared.push(value);
            }
        }
        drop(op);
    }
}

/// The pools that a cycle's starting stop rotated (algorithm step 3), holding an `Arc` of
/// each so that a pool dropped meanwhile stays alive until its dead generation is dropped.
///
/// Not `Send`: it stays on the thread that stopped the world, so `drop_dead` runs on the
/// collector thread, which is also the only one that rotates (fact (3)).
#[must_use = "the dead generations must be dropped once the world runs again: `drop_dead`"]
pub(crate) struct Rotated {
    pools: Vec<Arc<dyn Registered>>,
    _collector_thread: PhantomData<*const ()>,
}

impl fmt::Debug for Rotated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rotated")
            .field("pools", &self.pools.len())
            .finish()
    }
}

/// Algorithm step 3, called by the collector inside the stopped world that starts every
/// cycle: every registered pool's primary generation becomes the victim and the old victim
/// becomes dead. Moves nothing and runs no user code; takes the registry lock (module
/// invariants) and allocates the list of pools.
pub(crate) fn on_world_stopped(world: &StoppedWorld) -> Rotated {
    let pools = registry::snapshot();
    for pool in &pools {
        pool.rotate(world);
    }
    Rotated {
        pools,
        _collector_thread: PhantomData,
    }
}

impl Rotated {
    /// Algorithm step 4: drops the dead generations of the pools of `on_world_stopped`.
    /// Call once the world runs again: this runs user code (the values' `Drop`s, and a
    /// pool's whole drop if this holds its last `Arc`), which may enter heap ops and so
    /// would deadlock against a stopped world. Panics in it are caught; returns how many
    /// (for `Stats::drop_panics`).
    pub(crate) fn drop_dead(self) -> u64 {
        let mut panics = 0;
        for pool in &self.pools {
            // SAFETY: `Rotated` is not `Send`, so this is the thread that built it inside
            // a stopped world: the only thread that stops the world (`heap::stop_the_world`)
            // and so the only one that rotates. It rotates nothing during this loop (the
            // collector thread starts cycles only from its own loop; a `collect()` from a
            // destructor it runs panics), so the dead role is stable and nobody else's.
            panics += unsafe { pool.drop_dead() };
        }
        // Dropping the list may drop the last `Arc` of a pool: `Inner::drop` catches.
        drop(self.pools);
        panics
    }
}

/// Number of pools registered with the cycle hook. For tests.
#[doc(hidden)]
pub fn __registered_pools() -> usize {
    registry::registered_count()
}

#[cfg(test)]
mod tests {
    //! The pools here are `Inner`s that were never registered, so no collection cycle of
    //! the other unit tests rotates them: the tests rotate them by hand (`bump_cycle`) and
    //! drop their dead generations (`drop_dead`), as steps 3 and 4 do. `tests/pool.rs`
    //! checks the same with real cycles.

    use super::*;
    use crate::sync::{AtomicBool, AtomicUsize, Mutex};

    /// Held by every test here: they take thread indices (one checks that an exited
    /// thread's index is free, which a parallel test could take) and register pools (one
    /// counts them).
    static SERIAL: Mutex<()> = Mutex::new(());

    /// Counts its drops; panics in `drop` if `panics` is set.
    struct Counted {
        tag: u32,
        drops: Arc<AtomicUsize>,
        panics: bool,
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
            if self.panics {
                panic!("Counted({}) panics in drop, as the test wants", self.tag);
            }
        }
    }

    struct Fixture {
        inner: Inner<Counted>,
        drops: Arc<AtomicUsize>,
        index: usize,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                inner: Inner::new(),
                drops: Arc::new(AtomicUsize::new(0)),
                index: registry::current_thread_index().expect("tls alive"),
            }
        }

        fn value(&self, tag: u32) -> Counted {
            Counted {
                tag,
                drops: Arc::clone(&self.drops),
                panics: false,
            }
        }

        fn panicking(&self, tag: u32) -> Counted {
            Counted {
                tag,
                drops: Arc::clone(&self.drops),
                panics: true,
            }
        }

        fn put(&self, value: Counted) {
            let op = heap::enter_op();
            self.inner.park(&op, Some(self.index), value);
        }

        fn get(&self) -> Option<u32> {
            let op = heap::enter_op();
            let found = self.inner.take(&op, Some(self.index));
            drop(op);
            found.map(|v| {
                let tag = v.tag;
                std::mem::forget(v);
                tag
            })
        }

        /// Steps 3 and 4; returns how many values step 4 dropped.
        fn cycle(&self) -> u64 {
            // SAFETY: the pool is unregistered and used by this thread only, which is not
            // inside an op and runs no `drop_dead` now.
            unsafe { self.inner.bump_cycle() };
            // SAFETY: as above.
            unsafe { self.inner.drop_dead().0 }
        }

        fn drops(&self) -> usize {
            self.drops.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn two_rotations_drop_private_and_shared_values() {
        let _serial = SERIAL.lock();
        let f = Fixture::new();
        f.put(f.value(1));
        f.put(f.value(2)); // displaces 1 to the primary queue
        assert_eq!(f.cycle(), 0, "the first rotation only demotes");
        assert_eq!(
            f.cycle(),
            2,
            "the second drops the private and the queued value"
        );
        assert_eq!(f.drops(), 2);
        assert_eq!(f.get(), None, "nothing left");
        let stats = f.inner.stats();
        assert_eq!(
            (stats.dropped_by_cycles, stats.drop_panics, stats.cycles),
            (2, 0, 2)
        );
        assert_eq!((stats.hits, stats.misses), (0, 1));
    }

    #[test]
    fn a_victim_is_returned_and_a_put_makes_it_primary_again() {
        let _serial = SERIAL.lock();
        let f = Fixture::new();
        f.put(f.value(1));
        f.put(f.value(2));
        f.cycle();
        assert_eq!(f.get(), Some(2), "the victim private slot first");
        assert_eq!(f.get(), Some(1), "then the victim queue");
        f.put(f.value(3));
        assert_eq!(f.cycle(), 0);
        assert_eq!(f.drops(), 0);
        assert_eq!(f.cycle(), 1, "3 was put after the first rotation");
        assert_eq!(f.drops(), 1);
    }

    #[test]
    fn a_parked_threads_private_value_is_dropped_by_two_rotations() {
        let _serial = SERIAL.lock();
        let f = Fixture::new();
        let (parked_tx, parked_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|s| {
            let f = &f;
            let t = s.spawn(move || {
                let index = registry::current_thread_index().expect("tls alive");
                let op = heap::enter_op();
                f.inner.park(&op, Some(index), f.value(7));
                drop(op);
                parked_tx.send(()).expect("main waits");
                go_rx.recv().expect("main sends");
            });
            parked_rx.recv().expect("thread parks");
            assert_eq!(f.cycle(), 0);
            assert_eq!(f.cycle(), 1, "the parked thread's private value");
            go_tx.send(()).expect("thread waits");
            t.join().expect("no panic");
        });
        assert_eq!(f.drops(), 1);
    }

    #[test]
    fn a_panicking_drop_is_caught_and_counted_and_the_rest_dropped() {
        let _serial = SERIAL.lock();
        let f = Fixture::new();
        f.put(f.value(1));
        f.put(f.panicking(2));
        f.put(f.value(3));
        f.cycle();
        assert_eq!(f.cycle(), 3);
        assert_eq!(f.drops(), 3, "every value's drop ran once");
        let stats = f.inner.stats();
        assert_eq!((stats.dropped_by_cycles, stats.drop_panics), (3, 1));
        f.put(f.value(4));
        assert_eq!(f.get(), Some(4), "the pool stays usable");
    }

    #[test]
    fn dropping_the_pool_drops_every_generation_and_catches_panics() {
        let _serial = SERIAL.lock();
        let f = Fixture::new();
        f.put(f.value(1));
        f.put(f.panicking(2));
        f.cycle(); // 1 and 2 are victims
        f.put(f.value(3));
        f.put(f.value(4)); // primary: 4 private, 3 queued
        let Fixture { inner, drops, .. } = f;
        drop(inner);
        assert_eq!(drops.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn thread_exit_hands_private_values_to_the_queues() {
        let _serial = SERIAL.lock();
        let f = Fixture::new();
        let exited = std::thread::scope(|s| {
            s.spawn(|| {
                let index = registry::current_thread_index().expect("tls alive");
                let op = heap::enter_op();
                f.inner.park(&op, Some(index), f.value(1));
                drop(op);
                // SAFETY: the pool is unregistered and only this thread touches it now.
                unsafe { f.inner.bump_cycle() }; // 1 is a victim now
                let op = heap::enter_op();
                f.inner.park(&op, Some(index), f.value(2));
                drop(op);
                f.inner.thread_exit(index);
                index
            })
            .join()
            .expect("no panic")
        });
        assert!(registry::free_indices().contains(&exited));
        let cycle = f.inner.cycles.load(Ordering::Relaxed);
        let local = f.inner.locals.get(exited).expect("segment exists");
        let tag = |role| local.generation(role, cycle).shared.pop().map(|v| v.tag);
        assert_eq!(tag(Role::Primary), Some(2));
        assert_eq!(tag(Role::Victim), Some(1));
        assert_eq!(f.drops(), 2, "popped and dropped by the asserts");
    }

    /// Fact (2): a cycle start cannot rotate a pool while a thread is inside an op, so
    /// the cycle count an op reads stays valid for the whole op. (Pool `get`, `put` and
    /// thread exit reach the generations only through methods that take an `&Op`.)
    #[test]
    fn no_cycle_start_rotates_a_pool_during_an_op() {
        let _serial = SERIAL.lock();
        let pool = Pool::new(|| 0u32);
        pool.put(1); // registers the pool
        let inner = pool.inner();
        let stop = AtomicBool::new(false);
        let rotated_during_an_op = std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    crate::collect();
                }
            });
            // Many short ops, so that some start while a cycle is starting.
            let first = inner.stats().cycles;
            let mut ops = 0u64;
            let mut rotated = None;
            while rotated.is_none() && (inner.stats().cycles < first + 200 || ops < 10_000) {
                let op = heap::enter_op();
                let before = inner.cycle(&op);
                for _ in 0..ops % 256 {
                    std::hint::spin_loop();
                }
                let after = inner.cycle(&op);
                drop(op);
                if after != before {
                    rotated = Some((before, after, ops));
                }
                ops += 1;
            }
            // Before asserting, so that a failure does not leave the loop above running.
            stop.store(true, Ordering::SeqCst);
            rotated
        });
        assert_eq!(
            rotated_during_an_op, None,
            "a cycle start rotated the pool during an op (count before, after, op number)"
        );
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
