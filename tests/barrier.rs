//! Deterministic barrier tests (issue #9, DESIGN §9): with a cycle held in `Mark` after its
//! roots pass (`gc::__private::hold_marking`), a mutator moves handles in the ways a
//! program does; then marking is released, and the test checks exactly which objects
//! survived (intact, never dropped) and which garbage the following cycle freed.
//!
//! The objects the cases move are reachable only through a cell of another object when
//! the held cycle counts them: not roots, so only the write barriers (deletion and
//! insertion, DESIGN §5) and the clone barrier keep them alive.
//!
//! Tests in this file share the process-wide collector and compare `heap_objects` with a
//! baseline, so they run one at a time (`common::serial`).

mod common;

use common::ledger::{Ledger, Token};
use common::rng::mix;
use gc::{Gc, GcCell, Trace};

#[derive(Trace)]
struct Node {
    #[gc(skip)]
    token: Token,
    cell: GcCell<Option<Gc<Node>>>,
    check: u64,
}

fn ledger() -> &'static Ledger {
    static LEDGER: std::sync::OnceLock<&'static Ledger> = std::sync::OnceLock::new();
    LEDGER.get_or_init(|| Ledger::new(1 << 16))
}

fn node() -> Gc<Node> {
    let token = Token::new(ledger());
    let check = mix(token.id);
    Gc::new(Node {
        token,
        cell: GcCell::new(None),
        check,
    })
}

/// `holder -> target`: the target's only handle is inside the holder's cell.
fn holding() -> (Gc<Node>, u64) {
    let holder = node();
    let target = node();
    let id = target.token.id;
    *holder.cell.borrow_mut() = Some(target);
    (holder, id)
}

fn id(node: &Gc<Node>) -> u64 {
    node.token.id
}

/// Panics unless `node` is intact and not dropped.
fn verify(node: &Node) {
    let id = node.token.id;
    assert!(
        !ledger().is_dropped(id),
        "node {id} was dropped while reachable"
    );
    assert_eq!(node.check, mix(id), "node {id} corrupted");
}

/// The objects made before a case; compared at its end.
struct Baseline {
    heap_objects: usize,
    dropped: u64,
}

fn baseline() -> Baseline {
    gc::collect();
    gc::collect();
    Baseline {
        heap_objects: gc::stats().heap_objects,
        dropped: ledger().dropped(),
    }
}

/// After the case dropped every handle it had: two cycles free everything it made.
fn assert_all_freed(base: Baseline) {
    gc::collect();
    gc::collect();
    assert_eq!(ledger().double_drops(), 0, "a node was dropped twice");
    assert_eq!(
        ledger().dropped(),
        ledger().issued(),
        "every node is dropped once everything is unreachable"
    );
    assert!(ledger().dropped() >= base.dropped);
    assert_eq!(
        gc::stats().heap_objects,
        base.heap_objects,
        "heap_objects is back at its baseline"
    );
}

#[test]
fn a_clone_taken_during_mark_keeps_its_target_when_the_original_is_dropped() {
    let _serial = common::serial();
    let base = baseline();
    let (holder, target_id) = holding();
    let clone = common::while_marking(|| {
        let clone = holder
            .cell
            .borrow()
            .clone()
            .expect("the holder holds the target");
        // The original handle, in the heap, goes away.
        drop(holder.cell.borrow_mut().take());
        clone
    });
    assert_eq!(id(&clone), target_id);
    verify(&clone);
    verify(&holder);
    gc::collect();
    verify(&clone);
    assert!(!ledger().is_dropped(target_id));
    drop((holder, clone));
    assert_all_freed(base);
}

#[test]
fn a_handle_moved_out_of_a_cell_into_a_local_during_mark_survives() {
    let _serial = common::serial();
    let base = baseline();
    let (holder, target_id) = holding();
    let moved = common::while_marking(|| holder.cell.borrow_mut().take().expect("the target"));
    assert_eq!(id(&moved), target_id);
    verify(&moved);
    assert!(holder.cell.borrow().is_none());
    gc::collect();
    verify(&moved);
    drop((holder, moved));
    assert_all_freed(base);
}

#[test]
fn a_local_handle_moved_into_a_cell_counted_earlier_survives() {
    let _serial = common::serial();
    let base = baseline();
    // `inner` was counted as reachable only from `root`'s cell: no root of its own.
    let (root, inner_id) = holding();
    let local = node();
    let local_id = id(&local);
    common::while_marking(|| {
        let inner = root.cell.borrow();
        let inner = inner.as_ref().expect("the inner node");
        // Moved: after this the local has no handle; the only one is in `inner`'s cell.
        *inner.cell.borrow_mut() = Some(local);
    });
    {
        let inner = root.cell.borrow();
        let inner = inner.as_ref().expect("the inner node");
        verify(inner);
        assert_eq!(id(inner), inner_id);
        let moved = inner.cell.borrow();
        let moved = moved.as_ref().expect("the moved node");
        assert_eq!(id(moved), local_id);
        verify(moved);
    }
    gc::collect();
    assert!(!ledger().is_dropped(local_id) && !ledger().is_dropped(inner_id));
    drop(root);
    assert_all_freed(base);
}

#[test]
fn dropping_the_last_external_handle_during_mark_keeps_an_object_held_by_a_cell() {
    let _serial = common::serial();
    let base = baseline();
    let holder = node();
    let target = node();
    let target_id = id(&target);
    *holder.cell.borrow_mut() = Some(target.clone());
    // `target` is a root (a local handle) when the cycle counts; drop that handle.
    common::while_marking(move || drop(target));
    {
        let target = holder.cell.borrow();
        let target = target.as_ref().expect("the target");
        assert_eq!(id(target), target_id);
        verify(target);
    }
    gc::collect();
    assert!(!ledger().is_dropped(target_id));
    drop(holder);
    assert_all_freed(base);
}

#[test]
fn replacing_a_cells_only_handle_during_mark_keeps_the_new_target_and_frees_the_old() {
    let _serial = common::serial();
    let base = baseline();
    let (holder, old_id) = holding();
    let new_id = common::while_marking(|| {
        let fresh = node();
        let new_id = id(&fresh);
        *holder.cell.borrow_mut() = Some(fresh);
        new_id
    });
    {
        let current = holder.cell.borrow();
        let current = current.as_ref().expect("the new target");
        assert_eq!(id(current), new_id);
        verify(current);
    }
    // The old target is garbage now: the next full cycle frees it (the held one may have
    // kept it: its deletion barrier shaded it, floating garbage).
    gc::collect();
    assert!(
        ledger().is_dropped(old_id),
        "the replaced target was not freed by the next cycle"
    );
    assert!(!ledger().is_dropped(new_id));
    drop(holder);
    assert_all_freed(base);
}

#[test]
fn a_cycle_cut_during_mark_is_freed_by_the_next_cycle_and_its_survivor_kept() {
    let _serial = common::serial();
    let base = baseline();
    // root -> a <-> b: during Mark the program keeps `b` in a local and cuts `a` loose.
    let root = node();
    let (a, b) = (node(), node());
    let (a_id, b_id) = (id(&a), id(&b));
    *a.cell.borrow_mut() = Some(b.clone());
    *b.cell.borrow_mut() = Some(a.clone());
    *root.cell.borrow_mut() = Some(a);
    drop(b);
    let b = common::while_marking(|| {
        let a = root.cell.borrow_mut().take().expect("a");
        let b = a.cell.borrow_mut().take().expect("b");
        drop(a);
        b
    });
    verify(&b);
    assert_eq!(id(&b), b_id);
    gc::collect();
    verify(&b);
    // `a` is held only by `b`'s cell: alive.
    assert!(!ledger().is_dropped(a_id));
    drop(b.cell.borrow_mut().take());
    gc::collect();
    assert!(ledger().is_dropped(a_id), "a, now unreachable, was freed");
    drop((root, b));
    assert_all_freed(base);
}
