//! Integration tests for `gc::Pool` (DESIGN §2, §8).
//!
//! `cycle()` is `gc::collect()`: every collection cycle starts by moving each pool's
//! primary generation to its victim. Cycles are process-wide, so every test holds `SERIAL`.
//!
//! Values carry a tag; a `Tracker` records, per tag, whether some thread holds it and how
//! often it was dropped, so the tests see duplicates and double or missing drops.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use gc::{Pool, PoolStats};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn cycle() {
    gc::collect();
}

struct Tracker {
    made: AtomicUsize,
    drops: Vec<AtomicUsize>,
    held: Vec<AtomicBool>,
}

struct Tagged {
    tag: usize,
    tracker: Arc<Tracker>,
}

impl Drop for Tagged {
    fn drop(&mut self) {
        self.tracker.drops[self.tag].fetch_add(1, Ordering::SeqCst);
    }
}

impl Tracker {
    fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Tracker {
            made: AtomicUsize::new(0),
            drops: (0..capacity).map(|_| AtomicUsize::new(0)).collect(),
            held: (0..capacity).map(|_| AtomicBool::new(false)).collect(),
        })
    }

    fn make(self: &Arc<Self>) -> Tagged {
        let tag = self.made.fetch_add(1, Ordering::SeqCst);
        assert!(tag < self.drops.len(), "tracker capacity exceeded");
        Tagged {
            tag,
            tracker: Arc::clone(self),
        }
    }

    /// A pool whose `new` makes tagged values.
    fn pool(self: &Arc<Self>) -> Pool<Tagged, impl Fn() -> Tagged + Send + Sync> {
        let tracker = Arc::clone(self);
        Pool::new(move || tracker.make())
    }

    fn made(&self) -> usize {
        self.made.load(Ordering::SeqCst)
    }

    fn dropped(&self) -> usize {
        self.drops.iter().map(|d| d.load(Ordering::SeqCst)).sum()
    }

    fn drops_of(&self, tag: usize) -> usize {
        self.drops[tag].load(Ordering::SeqCst)
    }

    /// Marks `tag` as held by the caller; panics if someone else holds it.
    fn take(&self, tag: usize) {
        assert!(
            !self.held[tag].swap(true, Ordering::SeqCst),
            "value {tag} handed out twice"
        );
    }

    fn give_back(&self, tag: usize) {
        assert!(self.held[tag].swap(false, Ordering::SeqCst));
    }

    fn assert_each_dropped_once(&self) {
        for tag in 0..self.made() {
            assert_eq!(
                self.drops_of(tag),
                1,
                "value {tag} dropped {} times",
                self.drops_of(tag)
            );
        }
        assert_eq!(self.dropped(), self.made());
    }
}

/// Gets three values on a new thread, puts them back (one lands in the thread's private
/// slot) and waits until the thread has fully exited.
fn park_three_and_exit(pool: &Pool<Tagged, impl Fn() -> Tagged + Send + Sync>) {
    std::thread::scope(|s| {
        s.spawn(|| {
            let vs: Vec<_> = (0..3).map(|_| pool.get()).collect();
            vs.into_iter().for_each(|v| pool.put(v));
        })
        // `join` waits for the thread's thread-local destructors (the pool's exit hook);
        // the end of the scope alone only waits for the closure.
        .join()
        .expect("no panic");
    });
}

#[test]
fn same_thread_reuse_returns_the_same_value() {
    let _serial = serial();
    let tracker = Tracker::new(16);
    let pool = tracker.pool();
    let first = pool.get();
    let tag = first.tag;
    pool.put(first);
    for _ in 0..100 {
        let again = pool.get();
        assert_eq!(again.tag, tag);
        pool.put(again);
    }
    assert_eq!(tracker.made(), 1);
    let stats = pool.stats();
    assert_eq!((stats.hits, stats.misses), (100, 1));
    drop(pool);
    tracker.assert_each_dropped_once();
}

#[test]
fn four_threads_never_receive_a_value_twice_and_drop_each_once() {
    let _serial = serial();
    const THREADS: usize = 4;
    const ROUNDS: usize = 20_000;
    let tracker = Tracker::new(THREADS * ROUNDS * 3 + 64);
    let pool = tracker.pool();
    let stop = AtomicBool::new(false);
    let kept_out = AtomicUsize::new(0);
    std::thread::scope(|s| {
        // A collector stand-in, racing with the mutators.
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                cycle();
                std::thread::yield_now();
            }
        });
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (pool, tracker, kept_out) = (&pool, &tracker, &kept_out);
                s.spawn(move || {
                    let mut rng = 0x9E37_79B9_7F4A_7C15_u64 ^ (t as u64 + 1);
                    let mut hand = Vec::new();
                    for _ in 0..ROUNDS {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        for _ in 0..1 + rng % 3 {
                            let v = pool.get();
                            tracker.take(v.tag);
                            hand.push(v);
                        }
                        // Mostly give back; sometimes keep one out for good (dropped here).
                        if rng % 64 == 0 {
                            let v = hand.pop().expect("took at least one");
                            tracker.give_back(v.tag);
                            kept_out.fetch_add(1, Ordering::SeqCst);
                            drop(v);
                        }
                        for v in hand.drain(..) {
                            tracker.give_back(v.tag);
                            pool.put(v);
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("worker panicked");
        }
        stop.store(true, Ordering::SeqCst);
    });
    let stats = pool.stats();
    assert!(stats.hits > 0, "{stats:?}");
    assert_eq!(
        stats.misses as usize,
        tracker.made(),
        "every miss made one value"
    );
    drop(pool);
    tracker.assert_each_dropped_once();
    assert!(kept_out.load(Ordering::SeqCst) > 0);
}

#[test]
fn two_cycles_empty_an_idle_pool_and_one_does_not() {
    let _serial = serial();
    // Values parked by a thread that has exited: cycles reach all of them.
    let tracker = Tracker::new(16);
    let pool = tracker.pool();
    park_three_and_exit(&pool);
    cycle();
    assert_eq!(tracker.dropped(), 0, "one cycle keeps everything");
    cycle();
    assert_eq!(tracker.dropped(), 3, "two cycles drop everything");
    assert_eq!(pool.stats().dropped_by_cycles, 3);
    assert_eq!(pool.get().tag, 3, "empty pool makes a new value");

    // Values parked by a live thread: the shared queue goes eagerly; the one value in the
    // private slot is retired by the owner's next operation on the pool.
    let tracker = Tracker::new(16);
    let pool = tracker.pool();
    let vs: Vec<_> = (0..3).map(|_| pool.get()).collect();
    vs.into_iter().for_each(|v| pool.put(v));
    cycle();
    assert_eq!(tracker.dropped(), 0, "one cycle keeps everything");
    cycle();
    assert_eq!(
        tracker.dropped(),
        2,
        "shared values dropped, private one parked"
    );
    let fresh = pool.get();
    assert_eq!(fresh.tag, 3, "nothing left to hand out");
    assert_eq!(tracker.dropped(), 3, "the owner retired its private value");
    let stats = pool.stats();
    assert_eq!(
        (stats.dropped_by_cycles, stats.misses, stats.hits),
        (3, 4, 0)
    );
    drop(fresh);
}

#[test]
fn one_cycle_keeps_a_value_gettable_and_two_drop_it() {
    let _serial = serial();
    let tracker = Tracker::new(16);
    let pool = tracker.pool();
    let v = pool.get();
    pool.put(v);
    cycle();
    let v = pool.get();
    assert_eq!(v.tag, 0, "the victim generation is still returned");
    pool.put(v);
    cycle();
    cycle();
    let v = pool.get();
    assert_eq!(v.tag, 1, "a value idle for two cycles is gone");
    assert_eq!(tracker.drops_of(0), 1);
    drop(v);
    drop(pool);
    tracker.assert_each_dropped_once();
}

#[test]
fn thread_exit_with_values_parked() {
    let _serial = serial();
    let tracker = Tracker::new(16);
    let pool = tracker.pool();
    park_three_and_exit(&pool);
    // This thread takes all three, including the one that was in the exited private slot.
    let mut tags: Vec<_> = (0..3).map(|_| pool.get()).collect();
    tags.sort_by_key(|v| v.tag);
    assert_eq!(tags.iter().map(|v| v.tag).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(tracker.dropped(), 0);
    assert_eq!(pool.get().tag, 3, "then the pool is empty");
    drop(tags);
    drop(pool);
    tracker.assert_each_dropped_once();
}

#[test]
fn many_short_threads_reuse_indices_and_lose_nothing() {
    let _serial = serial();
    let tracker = Tracker::new(4096);
    let pool = tracker.pool();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        // Cycle starts race with the threads' exit hooks.
        let cycles = s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                cycle();
                std::thread::yield_now();
            }
        });
        for _ in 0..50 {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        let v = pool.get();
                        tracker.take(v.tag);
                        tracker.give_back(v.tag);
                        pool.put(v);
                    })
                })
                .collect();
            // Join (not just the scope's end) so that the exit hooks have run.
            threads
                .into_iter()
                .for_each(|t| t.join().expect("no panic"));
        }
        stop.store(true, Ordering::SeqCst);
        cycles.join().expect("no panic");
    });
    assert!(tracker.made() <= 4 * 50);
    assert_eq!(pool.stats().misses as usize, tracker.made());
    drop(pool);
    tracker.assert_each_dropped_once();
}

static BUFFERS: Pool<Vec<u8>> = Pool::new(Vec::new);

#[test]
fn static_pool() {
    let _serial = serial();
    let mut buf = BUFFERS.get();
    buf.reserve(1234);
    let addr = buf.as_ptr();
    BUFFERS.put(buf);
    let again = BUFFERS.get();
    assert_eq!(again.as_ptr(), addr);
    assert!(again.capacity() >= 1234);
    BUFFERS.put(again);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..1000 {
                    let b = BUFFERS.get();
                    BUFFERS.put(b);
                }
            });
        }
    });
    assert!(BUFFERS.stats().hits >= 1);
}

#[test]
fn dropped_pool_unregisters_and_drops_its_values() {
    let _serial = serial();
    let registered = gc::__private::__registered_pools();
    let tracker = Tracker::new(16);
    let pool = tracker.pool();
    assert_eq!(
        gc::__private::__registered_pools(),
        registered,
        "registers on first use"
    );
    let vs: Vec<_> = (0..3).map(|_| pool.get()).collect();
    assert_eq!(gc::__private::__registered_pools(), registered + 1);
    vs.into_iter().for_each(|v| pool.put(v));
    cycle();
    assert_eq!(pool.stats().cycles, 1);
    drop(pool);
    assert_eq!(gc::__private::__registered_pools(), registered);
    tracker.assert_each_dropped_once();
    cycle();
    cycle();
    tracker.assert_each_dropped_once();
}

#[test]
fn pool_is_send_and_sync_for_send_values() {
    fn assert_send_sync<S: Send + Sync>(_: &S) {}
    let pool: Pool<Cell<u32>> = Pool::new(|| Cell::new(7));
    assert_send_sync(&pool);
    assert_eq!(
        pool.stats(),
        PoolStats::default(),
        "untouched pool reports zeros"
    );
    assert_eq!(pool.get().get(), 7);
}
