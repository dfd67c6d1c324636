//! Spans none of whose objects has drop glue are swept by bitmap alone (issue #11 item 1,
//! `sweep/`, "Bitmap-only spans"): the drop pass skips them, their dead headers keep their
//! type, and their slots are reused by later allocations, also during `Mark`, when the
//! count and roots passes walk those spans.
//!
//! Three threads churn garbage rings whose nodes hold drop-free leaves of several sizes
//! (`[u64; N]`, only tracing frees them: the ring keeps their counts above zero) next to
//! leaves with drop glue of the same sizes, while a live set of rings is checked: every
//! leaf's contents are a function of its seed, so a slot handed out twice, or a walk that
//! wrote into a reused slot, shows up as a wrong checksum. At the end: the sweeps swept
//! spans by bitmap alone, every leaf with drop glue was dropped exactly once (a span that
//! holds one of them is visited whole), and `heap_objects` is back at its baseline. (Under
//! the debug heap, which poisons every freed object, no span is swept by bitmap alone.)

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::ledger::{Ledger, Token};
use common::rng::mix;
use gc::{Gc, GcCell, Trace};

/// A leaf with drop glue, 24 bytes like `[u64; 3]` (the same size class).
#[derive(Trace)]
struct Dropper {
    #[gc(skip)]
    _token: Token,
    seed: u64,
}

#[derive(Trace)]
struct Node {
    seed: u64,
    small: Gc<[u64; 3]>,
    medium: Gc<[u64; 8]>,
    large: Gc<[u64; 40]>,
    dropper: Gc<Dropper>,
    next: GcCell<Option<Gc<Node>>>,
}

fn words<const N: usize>(seed: u64) -> [u64; N] {
    core::array::from_fn(|i| mix(seed + i as u64))
}

fn node(ledger: &'static Ledger, seed: u64) -> Gc<Node> {
    Gc::new(Node {
        seed,
        small: Gc::new(words(seed)),
        medium: Gc::new(words(seed ^ 1)),
        large: Gc::new(words(seed ^ 2)),
        dropper: Gc::new(Dropper {
            _token: Token::new(ledger),
            seed,
        }),
        next: GcCell::new(None),
    })
}

fn check(node: &Node) {
    let seed = node.seed;
    assert_eq!(*node.small, words::<3>(seed), "a drop-free leaf changed");
    assert_eq!(
        *node.medium,
        words::<8>(seed ^ 1),
        "a drop-free leaf changed"
    );
    assert_eq!(
        *node.large,
        words::<40>(seed ^ 2),
        "a drop-free leaf changed"
    );
    assert_eq!(node.dropper.seed, seed, "a leaf with drop glue changed");
}

fn ring(ledger: &'static Ledger, seed: u64, len: u64) -> Gc<Node> {
    let first = node(ledger, seed);
    let mut last = first.clone();
    for i in 1..len {
        let n = node(ledger, seed + i * 0x100);
        *last.next.borrow_mut() = Some(n.clone());
        last = n;
    }
    *last.next.borrow_mut() = Some(first.clone());
    first
}

fn check_ring(first: &Gc<Node>) {
    let mut at = first.clone();
    loop {
        check(&at);
        let next = at.next.borrow().clone().expect("a ring is closed");
        if Gc::ptr_eq(&next, first) {
            break;
        }
        at = next;
    }
}

#[test]
fn drop_free_spans_are_swept_by_bitmap_and_reused_soundly() {
    let ledger = Ledger::new(1 << 25);
    let old = gc::set_gc_percent(25);
    gc::collect();
    let baseline = gc::stats().heap_objects;
    let before = gc::stats();
    let secs = common::secs_from_env("TRICOLOR_TORTURE_SECS", 3).min(10);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let threads: Vec<_> = (0..3u64)
        .map(|t| {
            thread::spawn(move || {
                let base = t << 48;
                let live: Vec<_> = (0..500)
                    .map(|i| ring(ledger, base + i * 0x10_000, 4))
                    .collect();
                let mut i = 1u64 << 40;
                while Instant::now() < deadline {
                    let r = ring(ledger, base + i, 6);
                    check_ring(&r);
                    i += 0x10_000;
                    if i % (64 * 0x10_000) == 0 {
                        for r in live.iter().step_by(7) {
                            check_ring(r);
                        }
                    }
                }
                for r in &live {
                    check_ring(r);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a mutator found a corrupt object");
    }
    gc::collect();
    gc::collect();
    let after = gc::stats();
    gc::set_gc_percent(old);
    let bitmap = after.bitmap_swept_spans - before.bitmap_swept_spans;
    let swept = after.swept_spans - before.swept_spans;
    eprintln!(
        "{} cycles, {swept} spans swept, {bitmap} by bitmap alone; {} leaves with drop glue",
        after.cycles - before.cycles,
        ledger.issued()
    );
    if cfg!(any(debug_assertions, feature = "debug-heap")) {
        // The debug heap poisons every freed object, so its drop pass visits every span.
        assert_eq!(bitmap, 0, "the debug heap swept spans by bitmap alone");
    } else {
        assert!(
            bitmap > 0,
            "no span was swept by bitmap alone, though most garbage is drop-free leaves"
        );
        assert!(
            bitmap < swept,
            "spans with drop glue were swept by bitmap alone"
        );
    }
    ledger.assert_all_dropped_once("leaves with drop glue beside drop-free ones");
    assert_eq!(
        after.heap_objects, baseline,
        "objects left after the last collect()"
    );
}
