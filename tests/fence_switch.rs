//! The safepoint's switch from membarrier to fences (`gc-core/src/heap/fence_choice.rs`,
//! safepoint fact 5): a process whose stops find membarrier slow switches its op entries to
//! real fences, inside a stopped world, while its threads go on allocating and mutating.
//!
//! Each child process runs the same churn: three mutator threads (more than the machine's
//! cores, with a spinner beside them) allocate objects of every size class from 16 B to
//! 32 KiB plus large ones, with and without drop glue, keep a rotating window of them alive
//! in cyclic rings of `GcCell` nodes, and check every object's checksum each time they
//! touch it; the main thread calls `collect()` in a loop. Every value carries a ledger
//! token: at the end each must have been dropped exactly once and `heap_objects` must be
//! back at its baseline.
//! - `TRICOLOR_MEMBARRIER_MAX_US=0` makes every membarrier slow: the process must switch
//!   within its first stops (where the kernel has expedited membarrier) and churn on
//!   correctly after it, with the trace line announcing it once.
//! - `off` must never switch, however many stops run.
//! - `TRICOLOR_NO_MEMBARRIER` uses fences from the start: nothing to switch.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::ledger::{Ledger, Token};
use common::rng::{mix, Rng};
use gc::{Gc, GcCell, Trace};

const ENV_VARS: [&str; 4] = [
    "TRICOLOR_MEMBARRIER_MAX_US",
    "TRICOLOR_NO_MEMBARRIER",
    "TRICOLOR_TRACE",
    "TRICOLOR_GC_PERCENT",
];
const MUTATORS: usize = 3;
/// Objects each mutator keeps alive at once.
const WINDOW: usize = 256;
/// Cycles the churn runs after the switch (or in all, when none is expected)...
const CYCLES_AFTER: u64 = 24;
/// ... and nodes the mutators make meanwhile, at least.
const NODES_AFTER: u64 = 200_000;

/// Nodes made so far by all mutators.
static MADE: AtomicU64 = AtomicU64::new(0);

/// A payload of `N` words, all derived from `seed`.
#[derive(Trace)]
struct Blob<const N: usize> {
    #[gc(skip)]
    _token: Token,
    seed: u64,
    words: [u64; N],
}

impl<const N: usize> Blob<N> {
    fn new(ledger: &'static Ledger, seed: u64) -> Blob<N> {
        let mut words = [0; N];
        for (i, w) in words.iter_mut().enumerate() {
            *w = mix(seed ^ i as u64);
        }
        Blob {
            _token: Token::new(ledger),
            seed,
            words,
        }
    }

    fn check(&self) {
        for (i, &w) in self.words.iter().enumerate() {
            assert_eq!(w, mix(self.seed ^ i as u64), "Blob<{N}> word {i} corrupted");
        }
    }
}

/// A drop-free noscan payload (swept by bitmap alone).
#[derive(Trace, Clone, Copy)]
struct Plain<const N: usize> {
    seed: u64,
    words: [u64; N],
}

impl<const N: usize> Plain<N> {
    fn new(seed: u64) -> Plain<N> {
        let mut words = [0; N];
        for (i, w) in words.iter_mut().enumerate() {
            *w = mix(seed.wrapping_add(i as u64));
        }
        Plain { seed, words }
    }

    fn check(&self) {
        for (i, &w) in self.words.iter().enumerate() {
            assert_eq!(
                w,
                mix(self.seed.wrapping_add(i as u64)),
                "Plain<{N}> word {i} corrupted"
            );
        }
    }
}

/// One of the payload shapes and sizes.
#[derive(Trace)]
enum Payload {
    B2(Gc<Blob<2>>),
    B14(Gc<Blob<14>>),
    B62(Gc<Blob<62>>),
    B254(Gc<Blob<254>>),
    B1022(Gc<Blob<1022>>),
    B4094(Gc<Blob<4094>>),
    P1(Gc<Plain<1>>),
    P30(Gc<Plain<30>>),
    P500(Gc<Plain<500>>),
    P2000(Gc<Plain<2000>>),
    P10000(Gc<Plain<10000>>),
}

impl Payload {
    fn new(ledger: &'static Ledger, rng: &mut Rng) -> Payload {
        let seed = rng.next_u64();
        match rng.below(11) {
            0 => Payload::B2(Gc::new(Blob::new(ledger, seed))),
            1 => Payload::B14(Gc::new(Blob::new(ledger, seed))),
            2 => Payload::B62(Gc::new(Blob::new(ledger, seed))),
            3 => Payload::B254(Gc::new(Blob::new(ledger, seed))),
            4 => Payload::B1022(Gc::new(Blob::new(ledger, seed))),
            5 => Payload::B4094(Gc::new(Blob::new(ledger, seed))),
            6 => Payload::P1(Gc::new(Plain::new(seed))),
            7 => Payload::P30(Gc::new(Plain::new(seed))),
            8 => Payload::P500(Gc::new(Plain::new(seed))),
            9 => Payload::P2000(Gc::new(Plain::new(seed))),
            _ => Payload::P10000(Gc::new(Plain::new(seed))),
        }
    }

    fn check(&self) {
        match self {
            Payload::B2(b) => b.check(),
            Payload::B14(b) => b.check(),
            Payload::B62(b) => b.check(),
            Payload::B254(b) => b.check(),
            Payload::B1022(b) => b.check(),
            Payload::B4094(b) => b.check(),
            Payload::P1(p) => p.check(),
            Payload::P30(p) => p.check(),
            Payload::P500(p) => p.check(),
            Payload::P2000(p) => p.check(),
            Payload::P10000(p) => p.check(),
        }
    }
}

/// A ring node: its payload, and the next node (rings are cyclic: only tracing frees them).
#[derive(Trace)]
struct Node {
    #[gc(skip)]
    _token: Token,
    payload: Payload,
    next: GcCell<Option<Gc<Node>>>,
}

/// One mutator: rings of four nodes in a window of `WINDOW` slots, replaced at random;
/// every replaced ring is checked before it is dropped.
fn mutate(ledger: &'static Ledger, seed: u64, stop: &AtomicBool) -> u64 {
    let mut rng = Rng::new(seed);
    let mut window: Vec<Option<Gc<Node>>> = (0..WINDOW).map(|_| None).collect();
    let mut made = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let slot = rng.below(WINDOW);
        if let Some(head) = window[slot].take() {
            let mut node = head.clone();
            for _ in 0..4 {
                node.payload.check();
                let next = node.next.borrow().clone().expect("a ring is closed");
                node = next;
            }
            assert!(Gc::ptr_eq(&node, &head), "a ring of four lost a node");
        }
        let nodes: Vec<Gc<Node>> = (0..4)
            .map(|_| {
                Gc::new(Node {
                    _token: Token::new(ledger),
                    payload: Payload::new(ledger, &mut rng),
                    next: GcCell::new(None),
                })
            })
            .collect();
        for (i, node) in nodes.iter().enumerate() {
            *node.next.borrow_mut() = Some(nodes[(i + 1) % 4].clone());
        }
        window[slot] = Some(nodes[0].clone());
        made += 4;
        MADE.fetch_add(4, Ordering::Relaxed);
    }
    for ring in window.into_iter().flatten() {
        ring.payload.check();
    }
    made
}

/// Runs the churn until `done(cycles, nodes made)` (both since the start) says so (at most
/// 60 s); returns the fence mode seen at the end.
fn churn(done: impl Fn(u64, u64) -> bool) -> (bool, Option<Duration>) {
    let ledger = Ledger::new(1 << 26);
    let baseline = common::quiet_objects();
    let stop = Arc::new(AtomicBool::new(false));
    let spin_stop = Arc::new(AtomicBool::new(false));
    let spinner = common::spawn_spinner(spin_stop.clone());
    let mutators: Vec<_> = (0..MUTATORS)
        .map(|i| {
            let stop = stop.clone();
            thread::spawn(move || mutate(ledger, 0xFE9C_E000 + i as u64, &stop))
        })
        .collect();
    let start = gc::stats().cycles;
    let made_before = MADE.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(
        gc::stats().cycles - start,
        MADE.load(Ordering::Relaxed) - made_before,
    ) {
        assert!(
            Instant::now() < deadline,
            "the churn did not finish in 60 s"
        );
        gc::collect();
    }
    stop.store(true, Ordering::Relaxed);
    let made: u64 = mutators
        .into_iter()
        .map(|m| m.join().expect("a mutator failed"))
        .sum();
    spin_stop.store(true, Ordering::Relaxed);
    spinner.join().expect("the spinner");
    let mode = gc::__private::fence_mode();
    assert_eq!(
        common::quiet_objects(),
        baseline,
        "objects left after the churn"
    );
    ledger.assert_all_dropped_once("the churn's nodes and payloads");
    assert!(made > 0, "no ring was made");
    println!(
        "made {made} nodes; membarrier now {}; switched at {:?}",
        mode.0, mode.1
    );
    mode
}

fn run_child(test: &str, env: &[(&str, &str)]) -> String {
    let (ok, text) = common::run_child(test, &ENV_VARS, env);
    assert!(ok, "{test} with {env:?} failed:\n{text}");
    assert!(
        !text.contains("tricolor-gc: warning:"),
        "{test} with {env:?} warned:\n{text}"
    );
    text
}

const SWITCH_LINE: &str = "op entries fence from now on";

#[test]
fn slow_membarrier_switches_to_fences_and_the_churn_stays_correct() {
    let text = run_child(
        "child_switches",
        &[("TRICOLOR_MEMBARRIER_MAX_US", "0"), ("TRICOLOR_TRACE", "1")],
    );
    if text.contains("no expedited membarrier here") {
        eprintln!("this kernel has no expedited membarrier: the process used fences throughout");
        return;
    }
    let announced = text.lines().filter(|l| l.contains(SWITCH_LINE)).count();
    assert_eq!(announced, 1, "want the switch announced once:\n{text}");
}

#[test]
fn off_never_switches() {
    run_child(
        "child_never_switches",
        &[("TRICOLOR_MEMBARRIER_MAX_US", "off")],
    );
}

#[test]
fn fences_from_the_start_have_nothing_to_switch() {
    run_child(
        "child_never_switches",
        &[
            ("TRICOLOR_MEMBARRIER_MAX_US", "0"),
            ("TRICOLOR_NO_MEMBARRIER", "1"),
        ],
    );
}

#[test]
#[ignore = "child process of slow_membarrier_switches_to_fences_and_the_churn_stays_correct"]
fn child_switches() {
    // The first `Gc::new` chooses the mode; a stop has not run yet.
    drop(Gc::new(0u64));
    let (membarrier, switched) = gc::__private::fence_mode();
    assert_eq!(switched, None, "switched before any stop");
    if !membarrier {
        println!("no expedited membarrier here");
        churn(|cycles, made| cycles >= CYCLES_AFTER && made >= NODES_AFTER);
        return;
    }
    // Every stop's membarrier counts as slow: the switch comes within the first cycles
    // (each has two stops; the window holds eight), then the churn goes on under fences.
    let switched_by = std::cell::Cell::new(None);
    let (membarrier, switched) = churn(|cycles, made| {
        if switched_by.get().is_none() && gc::__private::fence_mode().1.is_some() {
            switched_by.set(Some((cycles, made)));
        }
        let after = switched_by.get().is_some_and(|(at_cycle, at_made)| {
            cycles >= at_cycle + CYCLES_AFTER && made >= at_made + NODES_AFTER
        });
        after || (switched_by.get().is_none() && cycles >= 200)
    });
    let (at, _) = switched_by.get().expect("no switch within 200 cycles");
    assert!(at <= 8, "switched only after {at} cycles");
    assert!(!membarrier, "stops still run membarrier after the switch");
    assert!(switched.is_some_and(|median| median > Duration::ZERO));
}

#[test]
#[ignore = "child process of off_never_switches and fences_from_the_start_have_nothing_to_switch"]
fn child_never_switches() {
    drop(Gc::new(0u64));
    let before = gc::__private::fence_mode();
    let after = churn(|cycles, made| cycles >= CYCLES_AFTER && made >= NODES_AFTER);
    assert_eq!(after, before, "the fence mode changed");
    assert_eq!(after.1, None);
}
