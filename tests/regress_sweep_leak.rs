//! Regression test for issue #9, item 4: a leak through the sweep's drop glue.
//!
//! While the sweep runs the drop glue of dead objects, a handle released by that glue must
//! not touch a dead target (it may already be dropped). The first rule took "unmarked" for
//! "dead", but an object allocated after mark termination is unmarked and live: a `Drop` in
//! a `#[gc(skip)]` field that makes and drops a `Gc`, or that releases the last reference
//! to an `Arc` holding handles to such objects, left each of them with a count of 1 and no
//! handle, a root forever. The rule now (sweep/mod.rs, docs/collector.md "Sweep"): a
//! handle released by sweep drop glue skips its decrement exactly when its target dies in
//! this sweep (unmarked, in a span being swept) and decrements otherwise.
//!
//! Each test makes a dead two-node cycle whose nodes' skipped fields allocate during the
//! sweep, collects once (the sweep drops the nodes), collects again (the next cycle frees
//! what the drop glue released), and checks that every object was dropped exactly once and
//! `stats().heap_objects` is back at its baseline. Tests serialise on `LOCK` because they
//! compare the heap-wide object count.

mod common;
use common::{counter, drops, quiet_objects, serial, Tick};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use gc::{Gc, GcCell, Trace};

/// What the drop glue allocates: counts its drop.
#[derive(Trace)]
struct Made {
    #[gc(skip)]
    _tick: Tick,
}

/// A skipped field whose `Drop` allocates `count` objects and drops each at once.
struct MakesGarbage {
    count: usize,
    made: &'static AtomicUsize,
}

impl Drop for MakesGarbage {
    fn drop(&mut self) {
        for _ in 0..self.count {
            drop(Gc::new(Made {
                _tick: Tick(self.made),
            }));
        }
    }
}

/// A skipped field whose `Drop` allocates `count` objects into a shared bag; the bag's
/// handles are released when its last `Arc` goes, which is a drop run by the sweep too.
struct FillsBag {
    count: usize,
    made: &'static AtomicUsize,
    bag: Arc<Mutex<Vec<Gc<Made>>>>,
}

impl Drop for FillsBag {
    fn drop(&mut self) {
        let mut bag = self.bag.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..self.count {
            bag.push(Gc::new(Made {
                _tick: Tick(self.made),
            }));
        }
    }
}

#[derive(Trace)]
struct Node {
    next: GcCell<Option<Gc<Node>>>,
    #[gc(skip)]
    _tick: Tick,
    /// What allocates during the sweep.
    #[gc(skip)]
    _side: Box<dyn Send + Sync>,
}

/// Two nodes in a cycle, with no external handle: only a cycle's sweep can drop them.
fn dead_pair<S: Send + Sync + 'static>(node_drops: &'static AtomicUsize, a: S, b: S) {
    let first = Gc::new(Node {
        next: GcCell::new(None),
        _tick: Tick(node_drops),
        _side: Box::new(a),
    });
    let second = Gc::new(Node {
        next: GcCell::new(Some(first.clone())),
        _tick: Tick(node_drops),
        _side: Box::new(b),
    });
    *first.next.borrow_mut() = Some(second);
}

#[test]
fn a_gc_made_and_dropped_by_sweep_drop_glue_is_freed_by_the_next_cycle() {
    let _g = serial();
    let base = quiet_objects();
    let node_drops = counter();
    let made = counter();
    const PER_NODE: usize = 100;
    dead_pair(
        node_drops,
        MakesGarbage {
            count: PER_NODE,
            made,
        },
        MakesGarbage {
            count: PER_NODE,
            made,
        },
    );
    gc::collect();
    assert_eq!(drops(node_drops), 2, "the sweep dropped the dead pair");
    gc::collect();
    assert_eq!(
        drops(made),
        2 * PER_NODE,
        "objects made and dropped by the sweep's drop glue are dropped once by the next cycle"
    );
    gc::collect();
    assert_eq!(drops(made), 2 * PER_NODE, "and never again");
    assert_eq!(
        gc::stats().heap_objects,
        base,
        "heap_objects is back at its baseline (no object of the drop glue leaked)"
    );
}

#[test]
fn handles_released_with_the_last_arc_by_sweep_drop_glue_are_freed_by_the_next_cycle() {
    let _g = serial();
    let base = quiet_objects();
    let node_drops = counter();
    let made = counter();
    let before = counter();
    const PER_NODE: usize = 50;
    const PRE_EXISTING: usize = 20;
    let bag = Arc::new(Mutex::new(Vec::new()));
    // Handles in a skipped field are never counted as internal: their targets are roots,
    // marked by the cycle, and released by the sweep like any survivor's handle.
    for _ in 0..PRE_EXISTING {
        bag.lock().expect("not poisoned").push(Gc::new(Made {
            _tick: Tick(before),
        }));
    }
    let fill = |bag: &Arc<Mutex<Vec<Gc<Made>>>>| FillsBag {
        count: PER_NODE,
        made,
        bag: bag.clone(),
    };
    dead_pair(node_drops, fill(&bag), fill(&bag));
    // The nodes hold the only references now; whichever the sweep drops second releases
    // the bag, with the objects both nodes' glue allocated after mark termination.
    drop(bag);
    gc::collect();
    assert_eq!(drops(node_drops), 2, "the sweep dropped the dead pair");
    // The objects allocated during the sweep reached zero when its drop glue released the
    // bag: the drain frees them after the sweep (R1 queues in `Sweep`), or, if it has not
    // reached them yet, the next cycle does. Either way once.
    gc::collect();
    assert_eq!(
        drops(made),
        2 * PER_NODE,
        "objects allocated during the sweep and released by its drop glue are dropped \
         once by the drain or the next cycle"
    );
    assert_eq!(drops(before), PRE_EXISTING, "the bag's older objects too");
    gc::collect();
    assert_eq!(drops(made), 2 * PER_NODE, "and never again");
    assert_eq!(drops(before), PRE_EXISTING, "and never again");
    assert_eq!(
        gc::stats().heap_objects,
        base,
        "heap_objects is back at its baseline (no object released by the drop glue leaked)"
    );
}
