//! Deep and wide graphs (DESIGN §5 "marking is iterative", §6 "drop glue runs
//! iteratively"): a 1,000,000-node singly linked list and a 1,000,000-element
//! `GcCell<Vec<Gc<_>>>` are marked while reachable and freed when dropped, without stack
//! overflow in marking or dropping. The mutator side runs on a thread with a 256 KiB stack
//! (building, walking and dropping must not recurse either).
//!
//! Both tests compare `heap_objects`, so they serialise on `LOCK`.

mod common;
use common::Tick;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use gc::{Gc, GcCell, Trace};

const N: usize = 1_000_000;
const SMALL_STACK: usize = 256 << 10;

static LOCK: Mutex<()> = Mutex::new(());

fn on_small_stack(body: impl FnOnce() + Send + 'static) {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    std::thread::Builder::new()
        .name("small stack".into())
        .stack_size(SMALL_STACK)
        .spawn(body)
        .expect("spawn")
        .join()
        .expect("the small-stack body panicked (or overflowed)");
}

#[derive(Trace)]
struct Node {
    id: u64,
    next: Option<Gc<Node>>,
    #[gc(skip)]
    _tick: Tick,
}

#[test]
fn million_node_list() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    on_small_stack(|| {
        gc::collect();
        let base = gc::stats().heap_objects;
        let mut head: Option<Gc<Node>> = None;
        for id in 0..N as u64 {
            head = Some(Gc::new(Node {
                id,
                next: head.take(),
                _tick: Tick(&DROPS),
            }));
        }
        let head = head.expect("built");
        gc::collect();
        gc::collect();
        assert_eq!(
            DROPS.load(Ordering::Relaxed),
            0,
            "a reachable node was freed"
        );
        assert_eq!(gc::stats().heap_objects, base + N);
        let mut expect = N as u64;
        let mut cursor = Some(head.clone());
        while let Some(node) = cursor {
            expect -= 1;
            assert_eq!(node.id, expect, "list intact after marking");
            cursor = node.next.clone();
        }
        assert_eq!(expect, 0, "walked the whole list");
        drop(head);
        gc::collect();
        assert_eq!(DROPS.load(Ordering::Relaxed), N, "every node dropped once");
        assert_eq!(gc::stats().heap_objects, base);
    });
}

#[derive(Trace)]
struct Leaf {
    id: u64,
    #[gc(skip)]
    _tick: Tick,
}

#[test]
fn million_element_cell_vec() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    on_small_stack(|| {
        gc::collect();
        let base = gc::stats().heap_objects;
        let table: Gc<GcCell<Vec<Gc<Leaf>>>> = Gc::new(GcCell::new(Vec::new()));
        {
            let mut v = table.borrow_mut();
            v.reserve(N);
            for id in 0..N as u64 {
                v.push(Gc::new(Leaf {
                    id,
                    _tick: Tick(&DROPS),
                }));
            }
        }
        gc::collect();
        gc::collect();
        assert_eq!(
            DROPS.load(Ordering::Relaxed),
            0,
            "a reachable element was freed"
        );
        assert_eq!(gc::stats().heap_objects, base + N + 1);
        for (i, leaf) in table.borrow().iter().enumerate() {
            assert_eq!(leaf.id, i as u64);
        }
        drop(table);
        gc::collect();
        assert_eq!(DROPS.load(Ordering::Relaxed), N);
        assert_eq!(gc::stats().heap_objects, base);
    });
}
