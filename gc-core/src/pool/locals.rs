//! The per-thread part of one pool: a [`Local`] per thread index, in a segmented array
//! that grows without a lock and never shrinks (mirrors Go's `poolLocal` array, which is
//! indexed by P instead of by thread), and the three generations each local holds.
//!
//! # Algorithm
//! 1. Thread index `i` lives in segment `k = log2(i / FIRST_SEGMENT_LEN + 1)` at offset
//!    `i - FIRST_SEGMENT_LEN * (2^k - 1)`; segment `k` holds `FIRST_SEGMENT_LEN << k`
//!    locals, so `SEGMENTS` pointers cover every index the process can hand out.
//! 2. [`Locals::get_or_grow`] loads the segment pointer; a null pointer (the first thread
//!    of a new segment) allocates the whole segment and installs it with one CAS. The
//!    loser of a racing install frees its copy and uses the winner's.
//! 3. Segments are freed only when the [`Locals`] is dropped (the pool is gone), so a
//!    `&Local` handed out lives as long as the `&Locals` it came from.
//! 4. A local holds three [`Generation`]s (a private slot and a shared queue each). The
//!    pool's cycle count `g` gives each its [`Role`]: `gens[g % 3]` is the primary,
//!    `gens[(g + 2) % 3]` the victim, `gens[(g + 1) % 3]` the dead generation that the
//!    collector is dropping or has dropped. A cycle start bumps `g` (pool `mod.rs`), which
//!    rotates the roles of every local at once without touching one: the primary becomes
//!    the victim, the victim becomes dead, and the dead one, emptied by the collector
//!    after the previous cycle start, becomes the new, empty primary.
//!
//! # Invariants
//! - A segment pointer goes from null to a fully initialised segment once, and stays.
//! - The private slot of a generation is accessed only (a) by the thread that owns the
//!   local's index (see `registry.rs`), inside a heap op, while the generation is its
//!   primary or victim; (b) by the collector thread (the only one that rotates the roles)
//!   while the generation is dead; or (c) with the whole pool exclusively held (its drop). The pool
//!   module docs (memory-ordering facts (2) and (3)) show that these never overlap.
//!
//! # Memory ordering
//! (1) The CAS that installs a segment is Release: it publishes the initialised locals;
//!     every load of a segment pointer is Acquire and pairs with it.
//! (2) `OwnerCounters` are written only by the owner of the index, by a Relaxed load and a
//!     Relaxed store (no read-modify-write on the fast path). A new owner of a recycled
//!     index sees the previous owner's last store because the index passes through the
//!     thread-index mutex (registry fact (1)). Readers (`Pool::stats`) load Relaxed and may
//!     see a slightly stale sum while owners run; the sum is exact once they are quiet.

use std::marker::PhantomData;
use std::ptr;

use crossbeam_queue::SegQueue;
use crossbeam_utils::CachePadded;

use crate::sync::{AtomicPtr, AtomicU64, Ordering, UnsafeCell};

/// Locals in segment 0. Small under `cfg(test)` so that unit tests cross segment borders.
const FIRST_SEGMENT_LEN: usize = if cfg!(test) { 2 } else { 8 };

/// Segment count: `FIRST_SEGMENT_LEN * (2^SEGMENTS - 1)` indices in all (two million
/// threads alive at once in tests, eight million otherwise).
const SEGMENTS: usize = 20;

/// The most thread indices any pool can address.
pub(super) const MAX_INDEX: usize = FIRST_SEGMENT_LEN * ((1 << SEGMENTS) - 1);

/// Counters written only by the owner of the local's thread index (fact (2)).
#[derive(Debug, Default)]
pub(super) struct OwnerCounters {
    pub(super) hits: AtomicU64,
    pub(super) misses: AtomicU64,
}

impl OwnerCounters {
    /// Adds one without a read-modify-write; only the index owner may call it.
    #[inline(always)]
    pub(super) fn bump(counter: &AtomicU64) {
        // Relaxed (both): statistics only, single writer (fact (2)).
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
}

/// What a generation of a local is for, given the pool's cycle count (algorithm step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Where `put` parks values, and where `get` looks first.
    Primary,
    /// Last cycle's primary: `get` still takes values from it.
    Victim,
    /// The victim before that: nobody but the collector touches it; it drops what it holds
    /// right after the cycle start that made it dead.
    Dead,
}

impl Role {
    /// The index in `Local::gens` of this role while the pool's cycle count is `cycle`.
    #[inline(always)]
    fn index(self, cycle: u64) -> usize {
        let shift = match self {
            Role::Primary => 0,
            Role::Dead => 1,
            Role::Victim => 2,
        };
        ((cycle % 3 + shift) % 3) as usize
    }
}

/// One generation of one local: a private slot and a shared queue.
#[derive(Debug)]
pub(super) struct Generation<T> {
    /// The private slot: see the module invariants for who may touch it.
    private: UnsafeCell<Option<T>>,
    /// Values anyone may take: the owner pushes (a value displaced from the private slot,
    /// or the private value at thread exit) and every thread may pop. Used inside heap ops
    /// while the generation is primary or victim, and by the collector while it is dead.
    pub(super) shared: SegQueue<T>,
}

impl<T> Generation<T> {
    fn new() -> Self {
        Generation {
            private: UnsafeCell::new(None),
            shared: SegQueue::new(),
        }
    }

    /// Takes the private value out.
    ///
    /// # Safety
    /// * The caller may access this generation's private slot (module invariants (a),
    ///   (b) or (c)): no other thread accesses it during the call.
    #[inline(always)]
    pub(super) unsafe fn take_private(&self) -> Option<T> {
        // SAFETY: by the caller's contract no other thread accesses `private` now, and no
        // reference into it outlives this call (the value is moved out).
        self.private.with_mut(|slot| unsafe { (*slot).take() })
    }

    /// Stores `value` in the private slot and returns what was there.
    ///
    /// # Safety
    /// * Same contract as [`Generation::take_private`].
    #[inline(always)]
    pub(super) unsafe fn replace_private(&self, value: T) -> Option<T> {
        // SAFETY: as in `take_private`: the caller is the only thread touching `private`,
        // and no reference into it outlives this call.
        self.private
            .with_mut(|slot| unsafe { ptr::replace(slot, Some(value)) })
    }
}

/// One thread's part of one pool.
#[derive(Debug)]
pub(super) struct Local<T> {
    /// The three generations; [`Role::index`] says which is which.
    gens: [Generation<T>; 3],
    pub(super) counters: OwnerCounters,
}

// SAFETY: a `Local` is shared between threads through the pool:
// * each generation's `private` is touched by one thread at a time (module invariants,
//   pool memory-ordering facts (2) and (3)); values move between threads, hence
//   `T: Send`. A private slot is never lent out by reference.
// * `shared` is a `SegQueue<T>`, which is `Sync` for `T: Send`; the counters are atomics.
unsafe impl<T: Send> Sync for Local<T> {}

impl<T> Local<T> {
    pub(super) fn new() -> Self {
        Local {
            gens: [Generation::new(), Generation::new(), Generation::new()],
            counters: OwnerCounters::default(),
        }
    }

    /// The generation that plays `role` while the pool's cycle count is `cycle`.
    #[inline(always)]
    pub(super) fn generation(&self, role: Role, cycle: u64) -> &Generation<T> {
        &self.gens[role.index(cycle)]
    }

    /// All three generations, for the pool's drop.
    pub(super) fn generations(&self) -> &[Generation<T>; 3] {
        &self.gens
    }
}

/// Splits a thread index into (segment, offset) (algorithm step 1).
#[inline(always)]
fn split(index: usize) -> (usize, usize) {
    let j = index / FIRST_SEGMENT_LEN + 1;
    let segment = (usize::BITS - 1 - j.leading_zeros()) as usize;
    let offset = index - FIRST_SEGMENT_LEN * ((1 << segment) - 1);
    (segment, offset)
}

#[inline(always)]
const fn segment_len(segment: usize) -> usize {
    FIRST_SEGMENT_LEN << segment
}

/// The segmented array of one pool's locals.
#[derive(Debug)]
pub(super) struct Locals<T> {
    /// Segment `k` points at `segment_len(k)` locals, or is null until a thread with an
    /// index in it touches the pool. Installed once by CAS (fact (1)).
    segments: [AtomicPtr<CachePadded<Local<T>>>; SEGMENTS],
    _owns: PhantomData<CachePadded<Local<T>>>,
}

impl<T> Locals<T> {
    pub(super) fn new() -> Self {
        Locals {
            segments: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            _owns: PhantomData,
        }
    }

    /// The local of `index`, allocating its segment if this is the first use.
    ///
    /// # Panics
    /// If `index >= MAX_INDEX` (more threads alive at once than the pool can address).
    #[inline(always)]
    pub(super) fn get_or_grow(&self, index: usize) -> &Local<T> {
        let (segment, offset) = split(index);
        match self.segments.get(segment) {
            Some(slot) => {
                // Acquire: pairs with the Release CAS in `grow` (fact (1)).
                let mut base = slot.load(Ordering::Acquire);
                if base.is_null() {
                    base = self.grow(segment);
                }
                // SAFETY: `base` points at `segment_len(segment)` initialised locals (fact
                // (1)), `offset < segment_len(segment)` by `split`, and segments live as
                // long as `self`.
                unsafe { &*base.add(offset) }
            }
            None => too_many_threads(index),
        }
    }

    /// The local of `index` if its segment exists.
    pub(super) fn get(&self, index: usize) -> Option<&Local<T>> {
        let (segment, offset) = split(index);
        // Acquire: pairs with the Release CAS in `grow` (fact (1)).
        let base = self.segments.get(segment)?.load(Ordering::Acquire);
        if base.is_null() {
            return None;
        }
        // SAFETY: as in `get_or_grow`.
        Some(unsafe { &*base.add(offset) })
    }

    #[cold]
    #[inline(never)]
    fn grow(&self, segment: usize) -> *mut CachePadded<Local<T>> {
        let fresh: Box<[CachePadded<Local<T>>]> = (0..segment_len(segment))
            .map(|_| CachePadded::new(Local::new()))
            .collect();
        let fresh = Box::into_raw(fresh) as *mut CachePadded<Local<T>>;
        // Release on success: publishes the locals initialised above; pairs with the
        // Acquire loads in `get_or_grow`, `get` and `for_each` (fact (1)). Acquire on
        // failure: we use the winner's segment, so we must see its initialisation.
        match self.segments[segment].compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::Release,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            Err(winner) => {
                // SAFETY: `fresh` came from `Box::into_raw` of a slice of this length just
                // above and was never shared (the CAS failed).
                drop(unsafe {
                    Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, segment_len(segment)))
                });
                winner
            }
        }
    }

    /// Calls `f(index, local)` for every allocated local, in index order, stopping at
    /// `limit` (the thread-index high-water mark).
    pub(super) fn for_each(&self, limit: usize, mut f: impl FnMut(usize, &Local<T>)) {
        let mut first = 0;
        for (segment, slot) in self.segments.iter().enumerate() {
            if first >= limit {
                return;
            }
            // Acquire: pairs with the Release CAS in `grow` (fact (1)).
            let base = slot.load(Ordering::Acquire);
            let len = segment_len(segment);
            if !base.is_null() {
                for offset in 0..len.min(limit - first) {
                    // SAFETY: as in `get_or_grow`; `offset < len`.
                    f(first + offset, unsafe { &*base.add(offset) });
                }
            }
            first += len;
        }
    }
}

impl<T> Drop for Locals<T> {
    fn drop(&mut self) {
        for (segment, slot) in self.segments.iter().enumerate() {
            // Relaxed: `&mut self` means every other access happened-before this drop.
            let base = slot.load(Ordering::Relaxed);
            if !base.is_null() {
                // SAFETY: `base` was installed by `grow` from `Box::into_raw` of a slice of
                // `segment_len(segment)` locals, and is freed only here, once.
                drop(unsafe {
                    Box::from_raw(ptr::slice_from_raw_parts_mut(base, segment_len(segment)))
                });
            }
        }
    }
}

#[cold]
#[inline(never)]
fn too_many_threads(index: usize) -> ! {
    panic!("tricolor-gc: pool thread index {index} out of range (at most {MAX_INDEX} threads alive at once)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_indices_densely() {
        let mut expected = (0, 0);
        for index in 0..10_000 {
            assert_eq!(split(index), expected, "index {index}");
            expected.1 += 1;
            if expected.1 == segment_len(expected.0) {
                expected = (expected.0 + 1, 0);
            }
        }
        let (last_segment, last_offset) = split(MAX_INDEX - 1);
        assert_eq!(
            (last_segment, last_offset),
            (SEGMENTS - 1, segment_len(SEGMENTS - 1) - 1)
        );
        assert_eq!(split(MAX_INDEX).0, SEGMENTS);
    }

    #[test]
    fn grow_allocates_segments_on_demand_and_keeps_addresses() {
        let locals = Locals::<u32>::new();
        assert!(locals.get(0).is_none());
        let a = locals.get_or_grow(1) as *const Local<u32>;
        let b = locals.get_or_grow(37) as *const Local<u32>;
        assert_eq!(locals.get(1).map(|l| l as *const _), Some(a));
        assert_eq!(locals.get_or_grow(37) as *const _, b);
        assert!(
            locals.get(FIRST_SEGMENT_LEN).is_none(),
            "segment 1 not allocated"
        );
        locals
            .get_or_grow(1)
            .generation(Role::Primary, 0)
            .shared
            .push(7);
        locals
            .get_or_grow(37)
            .generation(Role::Primary, 0)
            .shared
            .push(8);
        let mut seen = Vec::new();
        locals.for_each(usize::MAX, |i, l| {
            while let Some(v) = l.generation(Role::Primary, 0).shared.pop() {
                seen.push((i, v));
            }
        });
        assert_eq!(seen, vec![(1, 7), (37, 8)]);
        let mut visited = 0;
        locals.for_each(2, |_, _| visited += 1);
        assert_eq!(visited, 2);
    }

    #[test]
    fn racing_growth_installs_one_segment() {
        let locals = Locals::<u32>::new();
        let addrs: Vec<usize> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| locals.get_or_grow(100) as *const Local<u32> as usize))
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("no panic"))
                .collect()
        });
        assert!(addrs.windows(2).all(|w| w[0] == w[1]), "{addrs:?}");
    }

    #[test]
    #[should_panic(expected = "tricolor-gc: pool thread index")]
    fn index_out_of_range_panics() {
        Locals::<u32>::new().get_or_grow(MAX_INDEX);
    }

    #[test]
    fn private_slot_replace_and_take() {
        let locals = Locals::<String>::new();
        let g = locals.get_or_grow(0).generation(Role::Primary, 0);
        // SAFETY: this test thread is the only one touching `locals`.
        unsafe {
            assert!(g.replace_private("a".into()).is_none());
            assert_eq!(g.replace_private("b".into()).as_deref(), Some("a"));
            assert_eq!(g.take_private().as_deref(), Some("b"));
            assert!(g.take_private().is_none());
            // Dropping `locals` drops a parked private value too (checked by Miri / leak
            // tools).
            g.replace_private("c".into());
        }
    }

    /// Algorithm step 4: each cycle the primary becomes the victim, the victim becomes
    /// dead and the dead generation becomes the primary; the three roles never share a
    /// generation.
    #[test]
    fn roles_rotate_by_cycle_count() {
        for cycle in 0..10u64 {
            let [p, v, d] = [Role::Primary, Role::Victim, Role::Dead].map(|r| r.index(cycle));
            assert_eq!(
                [p, v, d].map(|i| 1 << i).iter().sum::<usize>(),
                0b111,
                "{cycle}"
            );
            assert_eq!(Role::Victim.index(cycle + 1), p, "primary -> victim");
            assert_eq!(Role::Dead.index(cycle + 1), v, "victim -> dead");
            assert_eq!(Role::Primary.index(cycle + 1), d, "dead -> primary");
        }
    }
}
