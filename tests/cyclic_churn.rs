//! Cyclic churn under a `collect()` loop (issue #11): three busy mutators (plus a spinning
//! thread, so the two cores are oversubscribed) replace rings of a small live graph and
//! drop short-lived rings as fast as they can. Every ring is cyclic, so count-zero
//! reclamation frees none of it: only cycles do, paced by the pacer and its assists.
//! Another thread calls `collect()` in a loop.
//!
//! Checked: the heap (`heap_bytes`, sampled every millisecond) stays within 2.5 times the
//! live heap, every replaced ring is dropped exactly once (a ledger), every live ring keeps
//! its checksum, and `heap_objects` returns to its baseline. The time of each `collect()`
//! is printed next to the time of one on the quiet live heap (not asserted: timings do not
//! belong in tests), with the heap it started on, which is what its time follows: the
//! count and roots passes visit every object, live or not, so a heap that followed the
//! garbage would make every `collect()` slower the longer the churn ran.
//!
//! The bound allows 2.5 times the live heap plus 4 MiB (the spans the threads' caches hold
//! whole, counted in `heap_bytes`, and the gaps between cycles, when no assist runs).
//! Measured on 2 cores: 2.04-2.58x the live heap (24.7 MiB), the largest peaks in the
//! first second, while the pacer's estimates still come from the quiet setup.
//! `TRICOLOR_CHURN_SECS` sets the churn time (default 3 s).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::ledger::{Ledger, Token};
use common::rng::{mix, Rng};
use gc::{Gc, GcCell, Trace};

const MIB: usize = 1 << 20;
const SLOTS: usize = 9_000;
const RING: usize = 8;

#[derive(Trace)]
struct Node {
    seed: u64,
    #[gc(skip)]
    _token: Token,
    data: [u64; 6],
    next: GcCell<Option<Gc<Node>>>,
}

fn ring(ledger: &'static Ledger, seed: u64) -> Gc<Node> {
    let make = |i: u64| {
        Gc::new(Node {
            seed: seed + i,
            _token: Token::new(ledger),
            data: [mix(seed + i); 6],
            next: GcCell::new(None),
        })
    };
    let first = make(0);
    let mut last = first.clone();
    for i in 1..RING as u64 {
        let n = make(i);
        *last.next.borrow_mut() = Some(n.clone());
        last = n;
    }
    *last.next.borrow_mut() = Some(first.clone());
    first
}

fn check_ring(first: &Gc<Node>) {
    let mut at = first.clone();
    for _ in 0..RING {
        assert!(
            at.data.iter().all(|&d| d == mix(at.seed)),
            "ring node corrupt"
        );
        let next = at.next.borrow().clone().expect("a ring link is missing");
        at = next;
    }
    assert!(Gc::ptr_eq(&at, first), "a ring does not close");
}

#[test]
fn the_heap_follows_the_live_graph_under_cyclic_churn_and_a_collect_loop() {
    let ledger = Ledger::new(1 << 28);
    gc::collect();
    let baseline = gc::stats().heap_objects;
    let baseline_bytes = gc::stats().heap_bytes;
    // The live graph: three tables (one per mutator) of rings.
    let tables: Vec<Arc<Vec<Mutex<Gc<Node>>>>> = (0..3u64)
        .map(|t| {
            Arc::new(
                (0..SLOTS as u64)
                    .map(|i| Mutex::new(ring(ledger, (t << 48) + i * 64)))
                    .collect(),
            )
        })
        .collect();
    gc::collect();
    let quiet_started = Instant::now();
    gc::collect();
    let quiet_collect = quiet_started.elapsed();
    let live = gc::stats()
        .heap_bytes
        .saturating_sub(baseline_bytes)
        .max(MIB);
    let bound = live * 5 / 2 + 4 * MIB;

    let stop = Arc::new(AtomicBool::new(false));
    let churn_started = Instant::now();
    let sampler = {
        let stop = stop.clone();
        thread::spawn(move || {
            // (peak heap, ms into the churn, cycles completed then)
            let mut peak = (0, 0, 0);
            while !stop.load(Ordering::Relaxed) {
                let stats = gc::stats();
                if stats.heap_bytes > peak.0 {
                    peak = (
                        stats.heap_bytes,
                        churn_started.elapsed().as_millis(),
                        stats.cycles,
                    );
                }
                thread::sleep(Duration::from_millis(1));
            }
            peak
        })
    };
    let spinner = common::spawn_spinner(stop.clone());
    let collector = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut runs = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let heap = gc::stats().heap_bytes;
                let started = Instant::now();
                gc::collect();
                runs.push((started.elapsed(), heap));
            }
            runs
        })
    };
    let deadline =
        Instant::now() + Duration::from_secs(common::secs_from_env("TRICOLOR_CHURN_SECS", 3));
    let mutators: Vec<_> = tables
        .iter()
        .enumerate()
        .map(|(t, table)| {
            let table = table.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(0xC1C1 + t as u64);
                let mut made = 0u64;
                while Instant::now() < deadline {
                    // A short-lived ring, dropped at once.
                    let short = ring(ledger, rng.next_u64() >> 8);
                    check_ring(&short);
                    drop(short);
                    // Replace a live ring: the old one becomes cyclic garbage.
                    let slot = &table[rng.below(SLOTS)];
                    let fresh = ring(ledger, rng.next_u64() >> 8);
                    let old = std::mem::replace(&mut *slot.lock().unwrap(), fresh);
                    check_ring(&old);
                    made += 2;
                }
                made
            })
        })
        .collect();
    let made: u64 = mutators
        .into_iter()
        .map(|m| m.join().expect("a mutator failed"))
        .sum();
    stop.store(true, Ordering::Relaxed);
    let (peak, peak_ms, peak_cycles) = sampler.join().unwrap();
    spinner.join().unwrap();
    let runs = collector.join().unwrap();
    for table in &tables {
        for slot in table.iter() {
            check_ring(&slot.lock().unwrap());
        }
    }
    let mut times: Vec<_> = runs.iter().map(|r| r.0).collect();
    times.sort();
    let largest_heap = runs.iter().map(|r| r.1).max().unwrap_or(0);
    eprintln!(
        "live {:.1} MiB: {made} rings churned, peak heap {:.1} MiB ({:.2}x live, bound {:.1} MiB, at {peak_ms} ms, {peak_cycles} cycles); {} collect() calls: median {:?}, max {:?} (quiet heap: {quiet_collect:?}), largest heap at a call {:.1} MiB",
        live as f64 / MIB as f64,
        peak as f64 / MIB as f64,
        peak as f64 / live as f64,
        bound as f64 / MIB as f64,
        runs.len(),
        times.get(times.len() / 2).copied().unwrap_or_default(),
        times.last().copied().unwrap_or_default(),
        largest_heap as f64 / MIB as f64,
    );
    assert!(
        runs.len() >= 3,
        "the collect() loop made no progress: {} calls",
        runs.len()
    );
    assert!(
        peak <= bound,
        "peak heap {peak} bytes over 2.5x the live heap ({live} bytes) + 4 MiB"
    );
    drop(tables);
    gc::collect();
    gc::collect();
    ledger.assert_all_dropped_once("cyclic churn");
    assert_eq!(
        gc::stats().heap_objects,
        baseline,
        "objects left after the graph was dropped"
    );
}
