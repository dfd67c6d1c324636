use gc::{Gc, GcCell, Trace};

#[derive(Trace)]
struct Node {
    id: u64,
    next: GcCell<Option<Gc<Node>>>,
}

#[test]
fn cycle_is_collected_and_live_survives() {
    gc::collect();
    let base = gc::stats().heap_objects;
    let keep = Gc::new(Node {
        id: 1,
        next: GcCell::new(None),
    });
    {
        let a = Gc::new(Node {
            id: 2,
            next: GcCell::new(None),
        });
        let b = Gc::new(Node {
            id: 3,
            next: GcCell::new(Some(a.clone())),
        });
        *a.next.borrow_mut() = Some(b.clone());
        *keep.next.borrow_mut() = Some(Gc::new(Node {
            id: 4,
            next: GcCell::new(None),
        }));
    }
    assert_eq!(gc::stats().heap_objects, base + 4);
    gc::collect();
    assert_eq!(
        gc::stats().heap_objects,
        base + 2,
        "the a<->b cycle is freed"
    );
    assert_eq!(keep.id, 1);
    assert_eq!(keep.next.borrow().as_ref().unwrap().id, 4);
    drop(keep);
    gc::collect();
    assert_eq!(gc::stats().heap_objects, base);
}
