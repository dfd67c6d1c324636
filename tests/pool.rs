//! Integration tests for `gc::Pool` (DESIGN §2, §8).
//!
//! `cycle()` is `gc::collect()`: every collection cycle starts, in its first stopped world,
//! by making each pool's primary generation (every thread's private slot included) its
//! victim, and drops the old victims right after that stop. Cycles are process-wide, so
//! every test holds `SERIAL`.
//!
//! Values carry a tag; a `Tracker` records, per tag, whether some thread holds it and how
//! often it was dropped, so the tests see duplicates and double or missing drops.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};

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

/// Sets a stop flag when dropped, also while unwinding, so that a failing assertion does
/// not leave a `cycle()` loop (or a waiting thread) running and hang the test.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Counts arrivals; `wait_for(n)` blocks until `n` threads have arrived.
#[derive(Default)]
struct Latch {
    arrived: Mutex<usize>,
    changed: Condvar,
}

impl Latch {
    fn arrive(&self) {
        *self.arrived.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.changed.notify_all();
    }

    fn wait_for(&self, n: usize) {
        let mut arrived = self.arrived.lock().unwrap_or_else(|p| p.into_inner());
        while *arrived < n {
            arrived = self
                .changed
                .wait(arrived)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Arrives at a latch when dropped, also while unwinding (a panicking thread cannot leave
/// another waiting forever).
struct ArriveOnDrop<'a>(&'a Latch);

impl Drop for ArriveOnDrop<'_> {
    fn drop(&mut self) {
        self.0.arrive();
    }
}

struct Tracker {
    made: AtomicUsize,
    drops: Vec<AtomicUsize>,
    held: Vec<AtomicBool>,
}

struct Tagged {
    tag: usize,
    tracker: Arc<Tracker>,
    /// Panic in `drop` (after counting the drop).
    panic_on_drop: bool,
}

impl Drop for Tagged {
    fn drop(&mut self) {
        self.tracker.drops[self.tag].fetch_add(1, Ordering::SeqCst);
        if self.panic_on_drop {
            panic!(
                "pooled value {} panics in drop, as the test wants",
                self.tag
            );
        }
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
            panic_on_drop: false,
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
        let _stop = SetOnDrop(&stop);
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

/// Gets three values on the calling thread and puts them back: one lands in the thread's
/// private slot, two in its shared queue.
fn park_three(pool: &Pool<Tagged, impl Fn() -> Tagged + Send + Sync>) {
    let vs: Vec<_> = (0..3).map(|_| pool.get()).collect();
    vs.into_iter().for_each(|v| pool.put(v));
}

/// Two cycles drop exactly the three values `park_three` parked, each once; one keeps them.
fn assert_two_cycles_drop_three(tracker: &Tracker) {
    assert_eq!(tracker.made(), 3);
    cycle();
    assert_eq!(tracker.dropped(), 0, "one cycle keeps everything");
    cycle();
    assert_eq!(
        tracker.dropped(),
        3,
        "two cycles drop everything, private slot included"
    );
    tracker.assert_each_dropped_once();
}

#[test]
fn values_of_a_parked_thread_are_dropped_by_two_cycles() {
    let _serial = serial();
    let tracker = Tracker::new(16);
    let pool = tracker.pool();
    let (parked_tx, parked_rx) = mpsc::channel();
    let (resume_tx, resume_rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        // Owned by this closure, so that a failing assertion drops it and the parked
        // thread's `recv` returns instead of hanging the scope.
        let resume_tx = resume_tx;
        let pool = &pool;
        let parked = s.spawn(move || {
            park_three(pool);
            parked_tx.send(()).expect("the test waits");
            // Alive and parked, not using the pool, while the test runs two cycles.
            resume_rx.recv().expect("the test resumes us");
            let v = pool.get();
            assert_eq!(v.tag, 3, "the cycles emptied our private slot too");
            pool.put(v);
        });
        parked_rx.recv().expect("the thread parks");
        assert_two_cycles_drop_three(&tracker);
        resume_tx.send(()).expect("the thread waits");
        parked.join().expect("no panic");
    });
    let stats = pool.stats();
    assert_eq!(
        (stats.dropped_by_cycles, stats.misses, stats.hits),
        (3, 4, 0)
    );
    drop(pool);
    tracker.assert_each_dropped_once();
}

#[test]
fn values_of_an_exited_thread_are_dropped_by_two_cycles() {
    let _serial = serial();
    let tracker = Tracker::new(16);
    let pool = tracker.pool();
    park_three_and_exit(&pool);
    assert_two_cycles_drop_three(&tracker);
    assert_eq!(pool.stats().dropped_by_cycles, 3);
    assert_eq!(pool.get().tag, 3, "empty pool makes a new value");
}

#[test]
fn values_of_the_testing_thread_are_dropped_by_two_cycles_without_touching_the_pool() {
    let _serial = serial();
    let tracker = Tracker::new(16);
    let pool = tracker.pool();
    park_three(&pool);
    assert_two_cycles_drop_three(&tracker);
    let stats = pool.stats();
    assert_eq!(
        (
            stats.dropped_by_cycles,
            stats.misses,
            stats.hits,
            stats.cycles
        ),
        (3, 3, 0, 2)
    );
    let fresh = pool.get();
    assert_eq!(fresh.tag, 3, "nothing left to hand out");
    drop(fresh);
    drop(pool);
    tracker.assert_each_dropped_once();
}

#[test]
fn a_live_thread_keeps_using_the_pool_across_cycles() {
    let _serial = serial();
    let tracker = Tracker::new(4096);
    let pool = tracker.pool();
    // In lock step: the thread gets and puts, the test runs cycles in between.
    let (step_tx, step_rx) = mpsc::channel::<usize>();
    let (done_tx, done_rx) = mpsc::channel::<usize>();
    std::thread::scope(|s| {
        let pool = &pool;
        let worker = s.spawn(move || {
            for expected_tag in step_rx {
                let v = pool.get();
                assert_eq!(v.tag, expected_tag);
                let tag = v.tag;
                pool.put(v);
                done_tx.send(tag).expect("the test waits");
            }
        });
        let step = |expected_tag| {
            step_tx.send(expected_tag).expect("the worker waits");
            done_rx.recv().expect("the worker answers")
        };
        assert_eq!(step(0), 0, "a miss makes value 0");
        cycle();
        assert_eq!(
            step(0),
            0,
            "one cycle later the value is a victim, still returned"
        );
        cycle();
        assert_eq!(step(0), 0, "it was put again after the first cycle");
        cycle();
        cycle();
        assert_eq!(step(1), 1, "two cycles without use dropped value 0");
        assert_eq!(tracker.drops_of(0), 1);
        drop(step_tx);
        worker.join().expect("no panic");
    });

    // Free-running: the thread loops over get/put while the test runs cycles. A get misses
    // only if two cycle starts fell between it and the thread's previous put, and those
    // windows do not overlap, so misses <= 1 + cycles / 2.
    let before = pool.stats();
    let stop = AtomicBool::new(false);
    let rounds = std::thread::scope(|s| {
        let _stop = SetOnDrop(&stop);
        let (pool, tracker, stop) = (&pool, &tracker, &stop);
        let worker = s.spawn(move || {
            let mut rounds = 0u64;
            while !stop.load(Ordering::SeqCst) || rounds < 1000 {
                let v = pool.get();
                tracker.take(v.tag);
                tracker.give_back(v.tag);
                pool.put(v);
                rounds += 1;
            }
            rounds
        });
        for _ in 0..20 {
            cycle();
        }
        stop.store(true, Ordering::SeqCst);
        worker.join().expect("no panic")
    });
    let after = pool.stats();
    let (cycles, misses, hits) = (
        after.cycles - before.cycles,
        after.misses - before.misses,
        after.hits - before.hits,
    );
    assert!(cycles >= 20, "{after:?}");
    assert!(
        misses <= 1 + cycles / 2,
        "{misses} misses in {cycles} cycles"
    );
    assert_eq!(hits + misses, rounds);
    assert_eq!(
        after.misses as usize,
        tracker.made(),
        "every miss made one value"
    );
    cycle();
    cycle();
    tracker.assert_each_dropped_once();
}

#[test]
fn a_panicking_drop_of_a_pooled_value_is_caught_and_counted() {
    let _serial = serial();
    let tracker = Tracker::new(16);
    let pool = tracker.pool();
    let mut vs: Vec<_> = (0..4).map(|_| pool.get()).collect();
    vs[1].panic_on_drop = true;
    vs[2].panic_on_drop = true;
    vs.into_iter().for_each(|v| pool.put(v));
    let before = gc::stats().drop_panics;
    cycle();
    cycle(); // returns: the collector caught both panics and did not abort
    tracker.assert_each_dropped_once();
    let stats = pool.stats();
    assert_eq!((stats.dropped_by_cycles, stats.drop_panics), (4, 2));
    assert_eq!(
        gc::stats().drop_panics - before,
        2,
        "counted among the collector's caught destructor panics"
    );
    // The pool and the collector go on working.
    let v = pool.get();
    assert_eq!(v.tag, 4);
    pool.put(v);
    assert_eq!(pool.get().tag, 4);
    let cycles = gc::stats().cycles;
    cycle();
    assert!(gc::stats().cycles > cycles);
    drop(pool);
    tracker.assert_each_dropped_once();
}

static SCRATCH: Pool<Vec<u8>> = Pool::new(Vec::new);

/// A pooled value whose `Drop` allocates a `Gc` and uses another pool.
struct UsesHeap {
    tagged: Tagged,
    handle: gc::Gc<u64>,
}

impl Drop for UsesHeap {
    fn drop(&mut self) {
        let fresh = gc::Gc::new(*self.handle + 1);
        assert_eq!(*fresh, *self.handle + 1);
        SCRATCH.put(vec![self.tagged.tag as u8; 64]);
    }
}

/// User code of a pool (`new`, a value's `Drop`) never runs inside a heap op or a stopped
/// world: a `Gc::new` there would abort (nested op) or deadlock against the stop. Here
/// `new` and `Drop` allocate `Gc`s and use another pool, and the collector drops the idle
/// values on its own thread right after a cycle's stop.
#[test]
fn new_and_drop_of_pooled_values_may_use_the_heap_and_other_pools() {
    let _serial = serial();
    let tracker = Tracker::new(16);
    let pool = {
        let tracker = Arc::clone(&tracker);
        Pool::new(move || UsesHeap {
            tagged: tracker.make(),
            handle: gc::Gc::new(41),
        })
    };
    let vs: Vec<_> = (0..3).map(|_| pool.get()).collect();
    vs.into_iter().for_each(|v| pool.put(v));
    std::thread::scope(|s| {
        s.spawn(|| {
            let v = pool.get();
            pool.put(v);
        })
        .join()
        .expect("no panic");
    });
    let scratch_before = SCRATCH.stats().dropped_by_cycles;
    cycle();
    cycle();
    tracker.assert_each_dropped_once();
    assert_eq!(tracker.made(), 3);
    let stats = pool.stats();
    assert_eq!((stats.dropped_by_cycles, stats.drop_panics), (3, 0));
    // The scratch buffers the drops put are idle now: two more cycles drop them.
    cycle();
    cycle();
    assert_eq!(SCRATCH.stats().dropped_by_cycles - scratch_before, 3);
}

/// A pooled value whose payload is checked on every `get`: a value handed out twice, torn
/// or moved half-way by a racing cycle start fails the checksum or the tracker.
struct Checked {
    tagged: Tagged,
    words: [u64; 6],
    sum: u64,
}

impl Checked {
    fn new(tagged: Tagged) -> Self {
        let mut checked = Checked {
            tagged,
            words: [0; 6],
            sum: 0,
        };
        checked.rewrite(0x5EED);
        checked
    }

    fn checksum(&self) -> u64 {
        self.words
            .iter()
            .fold(self.tagged.tag as u64, |acc, w| acc.rotate_left(7) ^ w)
    }

    fn rewrite(&mut self, mut seed: u64) {
        for w in &mut self.words {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *w = seed;
        }
        self.sum = self.checksum();
    }
}

#[test]
fn four_threads_with_checksums_race_collect_and_every_value_is_dropped_once() {
    let _serial = serial();
    const THREADS: usize = 4; // more than the machine's cores, plus the cycle loop
    const ROUNDS: usize = 30_000;
    let tracker = Tracker::new(THREADS * ROUNDS * 3 + 64);
    let pool = {
        let tracker = Arc::clone(&tracker);
        Pool::new(move || Checked::new(tracker.make()))
    };
    let stop = AtomicBool::new(false);
    let parked = Latch::default();
    let resume = Latch::default();
    std::thread::scope(|s| {
        // Dropped in reverse order: a failure below releases the workers, then stops the
        // cycle loop, so that the scope's join ends.
        let _stop = SetOnDrop(&stop);
        let release = ArriveOnDrop(&resume);
        let cycles = s.spawn(|| {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                cycle();
                n += 1;
            }
            n
        });
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (pool, tracker, parked, resume) = (&pool, &tracker, &parked, &resume);
                s.spawn(move || {
                    let arrive = ArriveOnDrop(parked);
                    let mut rng = 0x9E37_79B9_7F4A_7C15_u64 ^ (t as u64 + 1);
                    let mut hand = Vec::new();
                    for _ in 0..ROUNDS {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        for _ in 0..1 + rng % 3 {
                            let v = pool.get();
                            tracker.take(v.tagged.tag);
                            assert_eq!(v.sum, v.checksum(), "value {} torn", v.tagged.tag);
                            hand.push(v);
                        }
                        if rng % 97 == 0 {
                            let v = hand.pop().expect("took at least one");
                            tracker.give_back(v.tagged.tag);
                            drop(v); // kept out for good
                        }
                        for mut v in hand.drain(..) {
                            v.rewrite(rng ^ v.tagged.tag as u64);
                            tracker.give_back(v.tagged.tag);
                            pool.put(v);
                        }
                    }
                    // Alive, holding nothing, not using the pool.
                    drop(arrive);
                    resume.wait_for(1);
                })
            })
            .collect();
        parked.wait_for(THREADS);
        stop.store(true, Ordering::SeqCst);
        let ran = cycles.join().expect("no panic");
        assert!(ran > 0, "cycles raced the workers");
        // Every value is parked in a pool of a live, idle thread: two cycles drop them all.
        cycle();
        cycle();
        tracker.assert_each_dropped_once();
        drop(release);
        for w in workers {
            w.join().expect("worker panicked");
        }
    });
    cycle();
    cycle();
    tracker.assert_each_dropped_once();
    let stats = pool.stats();
    assert!(stats.hits > 0, "{stats:?}");
    assert_eq!(stats.misses as usize, tracker.made());
    assert_eq!(stats.drop_panics, 0);
    drop(pool);
    tracker.assert_each_dropped_once();
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
        let _stop = SetOnDrop(&stop);
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
