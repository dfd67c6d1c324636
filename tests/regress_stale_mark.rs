//! Regression (found by tests/stats.rs once mark assists existed): objects born during a
//! `Mark` and freed during it by count-zero reclamation (rule M1) left their mark bits set
//! when the merge that freed them emptied their span. An empty span goes to the empty list,
//! which no sweep walks, so the bits outlived the cycle; the next objects in those slots
//! looked marked to the next cycle, and a garbage ring made there survived the `collect()`
//! that should have freed it (it went one cycle later). A thread cache that takes an empty
//! span outside `Mark` now clears its mark and born bits (`Central::cache_span`;
//! docs/allocator.md, span rule 5; the first fix cleared them in the merge, which let a
//! marker with a stale edge shade a freed born slot during `Mark`). Without either fix
//! this test finds all 500 nodes of the ring alive.

mod common;

use gc::{Gc, GcCell, Trace};

#[derive(Trace)]
struct Node {
    payload: [u64; 4],
    next: GcCell<Option<Gc<Node>>>,
}

fn node() -> Gc<Node> {
    Gc::new(Node {
        payload: [7; 4],
        next: GcCell::new(None),
    })
}

/// Builds a garbage ring of 500 nodes, calls `collect()`, and returns how many survived.
fn ring_survivors() -> usize {
    gc::collect();
    let base = gc::stats().heap_objects;
    let first = node();
    let mut last = first.clone();
    for _ in 1..500 {
        let n = node();
        *last.next.borrow_mut() = Some(n.clone());
        last = n;
    }
    *last.next.borrow_mut() = Some(first);
    drop(last);
    gc::collect();
    gc::stats().heap_objects - base
}

#[test]
fn a_garbage_ring_made_after_frees_during_mark_is_freed_by_its_collect() {
    assert_eq!(ring_survivors(), 0, "before the held cycle");
    common::while_marking(|| {
        // Born black in this `Mark`, then dropped in it: freed at once by counts (M1),
        // whole spans of them.
        let junk: Vec<_> = (0..1024).map(|_| node()).collect();
        assert!(junk.iter().all(|n| n.payload == [7; 4]));
        drop(junk);
    });
    assert_eq!(
        ring_survivors(),
        0,
        "a garbage ring survived its collect() after frees during a held Mark"
    );
}
