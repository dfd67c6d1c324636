//! A live set above the soft memory limit (issue #11, DESIGN §7): the collector cannot
//! meet the limit, so it must not try at any price. Cycles run back to back and every
//! allocating thread is asked to assist, until the CPU limiter (a leaky bucket of one
//! CPU-second per CPU, `collector/limiter.rs`) fills and refuses assists, so the program
//! goes on at about half its speed instead of doing nothing but collect.
//!
//! Two threads allocate cyclic garbage for four seconds under a 16 MiB live set and an
//! 8 MiB limit. Checked: cycles run, allocation goes on in every second (progress), and
//! in the last two seconds, after the bucket had time to fill, the threads spend less
//! than three quarters of their time in assists (without the limiter they spend nearly
//! all of it: every allocation is over the goal).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

mod common;

use common::pairs::{pair, PAIR_BYTES};

const MIB: usize = 1 << 20;

#[test]
fn a_live_set_above_the_limit_still_makes_progress() {
    let limit = 8 * MIB;
    gc::set_gc_percent(10_000);
    gc::set_memory_limit(limit);
    // About 16 MiB of pairs.
    let live: Vec<_> = (0..16 * MIB / PAIR_BYTES).map(|i| pair(i as u64)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let (stop, pairs) = (stop.clone(), pairs.clone());
            thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let p = pair(i ^ (t << 40));
                    assert_eq!(p.payload[0], i ^ (t << 40));
                    i += 1;
                    pairs.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let started = Instant::now();
    let before = gc::stats();
    let mut per_second = Vec::new();
    let mut last = 0;
    let mut mid = None;
    for second in 1..=4 {
        thread::sleep(Duration::from_secs(1));
        let now = pairs.load(Ordering::Relaxed);
        per_second.push(now - last);
        last = now;
        if second == 2 {
            mid = Some((gc::stats(), Instant::now()));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("an allocating thread panicked");
    }
    let after = gc::stats();
    let (mid_stats, mid_time) = mid.unwrap();
    let late_assists = after.assist_time - mid_stats.assist_time;
    let late_thread_time = mid_time.elapsed() * 2;
    let cycles = after.cycles - before.cycles;
    eprintln!(
        "limit {} MiB under a 16 MiB live set, two threads for {:?}: pairs per second {per_second:?}, {cycles} cycles, assists {:?} in all, {:.2} of thread time in the last two seconds",
        limit / MIB,
        started.elapsed(),
        after.assist_time - before.assist_time,
        late_assists.as_secs_f64() / late_thread_time.as_secs_f64(),
    );
    assert!(
        cycles >= 4,
        "the heap is over the limit: cycles must run ({cycles})"
    );
    assert!(
        per_second.iter().all(|&n| n > 0),
        "allocation stalled in some second: {per_second:?}"
    );
    assert!(
        late_assists < late_thread_time * 3 / 4,
        "assists took {late_assists:?} of {late_thread_time:?} thread time once the limiter could act"
    );
    assert!(live.iter().all(|p| p.other.borrow().is_some()));
}
