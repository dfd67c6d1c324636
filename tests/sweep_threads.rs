//! The sweep runs on whichever thread sweeps (issue #11, `sweep/`): its drop pass is cut
//! into chunks that the collector thread, the mark workers and allocating threads (their
//! assists) claim, and its free pass is shared the same way. Every dead object's drop glue
//! must still run exactly once, whoever ran it, while three threads allocate.
//!
//! Three threads allocate cyclic garbage (rings of nodes with ledger tokens and a noscan
//! payload, which only tracing frees) at GC percent 20, so cycles run back to back and
//! threads allocate during every sweep. Each token records which thread dropped it. At the
//! end: every token dropped exactly once (the ledger), drops seen on the allocating threads
//! as well as the collector's (the test checks the sweep really ran on several threads),
//! and `heap_objects` back at its baseline.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use common::ledger::{Ledger, Token};
use common::rng::mix;
use gc::{Gc, GcCell, Trace};

/// Drops run on threads the test spawned (allocating threads), and on others.
static DROPS_ON_MUTATORS: AtomicU64 = AtomicU64::new(0);
static DROPS_ELSEWHERE: AtomicU64 = AtomicU64::new(0);
static DROP_THREADS: Mutex<Option<HashSet<String>>> = Mutex::new(None);

thread_local! {
    static IS_MUTATOR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A token that also notes which thread dropped it (the token is held for its own `Drop`,
/// which records the drop in the ledger).
struct Noted(#[allow(dead_code)] Token);

impl Drop for Noted {
    fn drop(&mut self) {
        if IS_MUTATOR.with(|m| m.get()) {
            DROPS_ON_MUTATORS.fetch_add(1, Ordering::Relaxed);
        } else {
            DROPS_ELSEWHERE.fetch_add(1, Ordering::Relaxed);
        }
        let name = thread::current().name().unwrap_or("unnamed").to_string();
        DROP_THREADS
            .lock()
            .unwrap()
            .get_or_insert_with(HashSet::new)
            .insert(name);
    }
}

#[derive(Trace)]
struct Node {
    #[gc(skip)]
    _token: Noted,
    payload: Gc<[u64; 8]>,
    next: GcCell<Option<Gc<Node>>>,
}

fn ring(ledger: &'static Ledger, seed: u64, len: usize) -> Gc<Node> {
    let make = |i: usize| {
        Gc::new(Node {
            _token: Noted(Token::new(ledger)),
            payload: Gc::new([mix(seed + i as u64); 8]),
            next: GcCell::new(None),
        })
    };
    let first = make(0);
    let mut last = first.clone();
    for i in 1..len {
        let n = make(i);
        *last.next.borrow_mut() = Some(n.clone());
        last = n;
    }
    *last.next.borrow_mut() = Some(first.clone());
    first
}

#[test]
fn drop_glue_runs_once_on_whichever_thread_sweeps() {
    let ledger = Ledger::new(1 << 26);
    let old = gc::set_gc_percent(20);
    gc::collect();
    let baseline = gc::stats().heap_objects;
    // A live set, so that cycles have something to mark and take time.
    let live: Vec<_> = (0..20_000).map(|i| ring(ledger, i, 4)).collect();
    let deadline = Instant::now() + Duration::from_secs(3);
    let threads: Vec<_> = (0..3u64)
        .map(|t| {
            thread::Builder::new()
                .name(format!("allocating thread {t}"))
                .spawn(move || {
                    IS_MUTATOR.with(|m| m.set(true));
                    let mut i = 0u64;
                    while Instant::now() < deadline {
                        let r = ring(ledger, (t << 40) + i, 8);
                        assert_eq!(r.payload[0], mix((t << 40) + i));
                        i += 8;
                    }
                })
                .unwrap()
        })
        .collect();
    for t in threads {
        t.join().expect("an allocating thread panicked");
    }
    drop(live);
    gc::collect();
    gc::collect();
    let after = gc::stats();
    gc::set_gc_percent(old);
    let on_mutators = DROPS_ON_MUTATORS.load(Ordering::Relaxed);
    let elsewhere = DROPS_ELSEWHERE.load(Ordering::Relaxed);
    let names = DROP_THREADS.lock().unwrap().clone().unwrap_or_default();
    eprintln!(
        "{} nodes: {on_mutators} dropped on allocating threads, {elsewhere} elsewhere; threads that dropped: {names:?}",
        ledger.issued()
    );
    ledger.assert_all_dropped_once("sweep on every thread");
    assert!(
        on_mutators > 0,
        "no drop glue ran on an allocating thread: the sweep's assists did not run"
    );
    assert!(elsewhere > 0, "no drop glue ran on the collector's threads");
    assert_eq!(
        after.heap_objects, baseline,
        "objects left after the last collect()"
    );
}
