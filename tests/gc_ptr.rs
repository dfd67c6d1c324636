//! `Gc<T>` (DESIGN §2, row `Gc<T>`): `new`, `Clone`, `Deref`, `ptr_eq`, `as_ptr`, the
//! forwarded `Debug`/`Display`/`PartialEq`/`Eq`/`PartialOrd`/`Ord`/`Hash` (in `HashSet` and
//! `BTreeSet`), `Send + Sync` for `T: Send + Sync`, zero-sized, large (> 32 KiB) and
//! 64-aligned values, drop exactly once after the last handle goes and a cycle runs, and
//! survival of objects reachable only from a live one.
//!
//! The compile-time bounds (`T: Send`, `T: 'static`, `Gc<T>: Send` only when `T: Sync`)
//! are checked by `tests/ui/fail_gc_*.rs`, which `tests/derive_ui.rs` runs with trybuild.
//!
//! Tests share the process heap and run in parallel; each counts drops of its own objects
//! (private counters), so no test depends on another's garbage.

mod common;
use common::{counter, drops, Tick};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

use gc::{Gc, GcCell, Trace};

#[derive(Trace)]
struct Leaf {
    value: u64,
    #[gc(skip)]
    _tick: Tick,
}

fn leaf(value: u64, c: &'static AtomicUsize) -> Gc<Leaf> {
    Gc::new(Leaf {
        value,
        _tick: Tick(c),
    })
}

fn hash_of<T: Hash>(v: &T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

#[test]
fn new_clone_deref_and_ptr_eq() {
    let a = Gc::new(String::from("alpha"));
    let b = a.clone();
    let c = Gc::new(String::from("alpha"));
    assert_eq!(&*a, "alpha");
    assert_eq!(b.len(), 5, "Deref reaches String's methods");
    assert!(Gc::ptr_eq(&a, &b));
    assert!(!Gc::ptr_eq(&a, &c), "equal values, different objects");
    drop(a);
    gc::collect();
    assert_eq!(&*b, "alpha", "a clone keeps the object alive");
}

#[test]
fn as_ptr_points_at_the_value() {
    let a = Gc::new(0x5eed_u64);
    let b = a.clone();
    let c = Gc::new(0x5eed_u64);
    assert_eq!(Gc::as_ptr(&a), Gc::as_ptr(&b));
    assert_ne!(Gc::as_ptr(&a), Gc::as_ptr(&c));
    assert_eq!(Gc::as_ptr(&a), &*a as *const u64);
    // SAFETY: `a` keeps the object alive.
    assert_eq!(unsafe { *Gc::as_ptr(&a) }, 0x5eed);
    assert_eq!(format!("{:p}", a), format!("{:p}", Gc::as_ptr(&a)));
}

#[test]
fn formatting_and_comparisons_forward_to_the_value() {
    let s = Gc::new(String::from("hi \"there\""));
    assert_eq!(format!("{s:?}"), format!("{:?}", "hi \"there\""));
    assert_eq!(format!("{s}"), "hi \"there\"");
    let n = Gc::new(42i32);
    assert_eq!(format!("{n:>5}"), "   42", "Display passes format flags on");
    assert_eq!(format!("{n:#x?}"), "0x2a", "Debug passes format flags on");

    let one = Gc::new(1u64);
    let one_again = Gc::new(1u64);
    let two = Gc::new(2u64);
    assert_eq!(one, one_again, "PartialEq compares values, not addresses");
    assert_ne!(one, two);
    assert!(one < two && two > one_again);
    assert_eq!(one.cmp(&two), std::cmp::Ordering::Less);
    assert_eq!(one.partial_cmp(&one_again), Some(std::cmp::Ordering::Equal));
    assert_eq!(Gc::new(f64::NAN).partial_cmp(&Gc::new(1.0)), None);
    assert_eq!(hash_of(&one), hash_of(&1u64), "Hash forwards to the value");
}

#[test]
fn gc_strings_in_hash_and_btree_sets() {
    let words = ["pear", "apple", "fig", "apple", "pear", "kiwi"];
    let hashed: HashSet<Gc<String>> = words.iter().map(|w| Gc::new(w.to_string())).collect();
    assert_eq!(hashed.len(), 4, "equal strings in different objects dedupe");
    assert!(hashed.contains(&Gc::new("fig".to_string())));
    assert!(!hashed.contains(&Gc::new("plum".to_string())));

    let ordered: BTreeSet<Gc<String>> = words.iter().map(|w| Gc::new(w.to_string())).collect();
    let in_order: Vec<&str> = ordered.iter().map(|s| s.as_str()).collect();
    assert_eq!(in_order, ["apple", "fig", "kiwi", "pear"]);
    gc::collect();
    assert!(
        hashed.contains(&Gc::new("kiwi".to_string())),
        "survives a cycle"
    );
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn gc_is_send_and_sync_for_send_sync_values() {
    assert_send_sync::<Gc<u64>>();
    assert_send_sync::<Gc<String>>();
    assert_send_sync::<Gc<GcCell<Vec<Gc<String>>>>>();
    assert_send_sync::<GcCell<Option<Gc<u8>>>>();

    let shared = Gc::new(GcCell::new(vec![Gc::new(1u64)]));
    let sums: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let mine = shared.clone();
                s.spawn(move || {
                    mine.borrow_mut().push(Gc::new(10 + t));
                    gc::collect();
                    mine.borrow().iter().map(|g| **g).sum::<u64>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(sums.iter().all(|&s| s >= 11));
    let mut values: Vec<u64> = shared.borrow().iter().map(|g| **g).collect();
    values.sort_unstable();
    assert_eq!(values, [1, 10, 11, 12, 13]);
}

/// A zero-sized value with a drop counter in a static (it has no room for a field).
struct Zst;
static ZST_DROPS: AtomicUsize = AtomicUsize::new(0);

impl Drop for Zst {
    fn drop(&mut self) {
        ZST_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: holds no `Gc` and reports nothing.
unsafe impl Trace for Zst {
    const NEEDS_TRACE: bool = false;
    fn trace(&self, _tracer: &mut gc::Tracer) {}
}

#[test]
fn zero_sized_values() {
    let units: Vec<Gc<()>> = (0..100).map(|_| Gc::new(())).collect();
    assert!(
        !Gc::ptr_eq(&units[0], &units[1]),
        "each Gc::new is an object"
    );
    let zsts: Vec<Gc<Zst>> = (0..50).map(|_| Gc::new(Zst)).collect();
    let distinct: HashSet<*const Zst> = zsts.iter().map(Gc::as_ptr).collect();
    assert_eq!(distinct.len(), 50);
    gc::collect();
    assert_eq!(ZST_DROPS.load(Ordering::SeqCst), 0);
    drop(zsts);
    gc::collect();
    assert_eq!(ZST_DROPS.load(Ordering::SeqCst), 50, "each dropped once");
    drop(units);
}

#[derive(Trace)]
struct Big {
    words: [u64; 8192],
    child: Option<Gc<Leaf>>,
    #[gc(skip)]
    _tick: Tick,
}

#[test]
fn large_values_over_32_kib() {
    assert!(std::mem::size_of::<Big>() > 32 << 10);
    let c = counter();
    let mut words = [0u64; 8192];
    for (i, w) in words.iter_mut().enumerate() {
        *w = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    let bigs: Vec<Gc<Big>> = (0..4)
        .map(|i| {
            Gc::new(Big {
                words,
                child: Some(leaf(i, c)),
                _tick: Tick(c),
            })
        })
        .collect();
    let plain: Gc<[u64; 8192]> = Gc::new(words);
    gc::collect();
    gc::collect();
    assert_eq!(drops(c), 0, "large objects and their children survive");
    for (i, big) in bigs.iter().enumerate() {
        assert_eq!(big.words, words, "large value intact after cycles");
        assert_eq!(big.child.as_ref().unwrap().value, i as u64);
    }
    assert_eq!(*plain, words);
    drop(bigs);
    gc::collect();
    assert_eq!(drops(c), 8, "4 large objects and their 4 children freed");
    assert_eq!(plain[8191], words[8191]);
}

#[derive(Trace)]
#[repr(align(64))]
struct Aligned64 {
    byte: u8,
    #[gc(skip)]
    _tick: Tick,
}

#[derive(Trace)]
#[repr(align(4096))]
struct Aligned4096 {
    byte: u8,
}

#[test]
fn over_aligned_values() {
    let c = counter();
    let objects: Vec<Gc<Aligned64>> = (0..200u32)
        .map(|i| {
            Gc::new(Aligned64 {
                byte: i as u8,
                _tick: Tick(c),
            })
        })
        .collect();
    let pages: Vec<Gc<Aligned4096>> = (0..4u8).map(|i| Gc::new(Aligned4096 { byte: i })).collect();
    for o in &objects {
        assert_eq!(Gc::as_ptr(o) as usize % 64, 0, "align(64) value misaligned");
    }
    for p in &pages {
        assert_eq!(
            Gc::as_ptr(p) as usize % 4096,
            0,
            "align(4096) value misaligned"
        );
    }
    gc::collect();
    for (i, o) in objects.iter().enumerate() {
        assert_eq!(o.byte, i as u8);
    }
    assert_eq!(pages[3].byte, 3);
    drop(objects);
    gc::collect();
    assert_eq!(drops(c), 200);
}

#[test]
fn drop_runs_exactly_once_after_the_last_handle() {
    let c = counter();
    let a = leaf(7, c);
    let b = a.clone();
    let held_elsewhere = vec![a.clone(), a.clone()];
    drop(a);
    gc::collect();
    assert_eq!(drops(c), 0, "three handles remain");
    drop(held_elsewhere);
    gc::collect();
    assert_eq!(drops(c), 0, "one handle remains");
    assert_eq!(b.value, 7);
    drop(b);
    gc::collect();
    assert_eq!(drops(c), 1, "dropped once the last handle went");
    gc::collect();
    assert_eq!(drops(c), 1, "and never again");
}

#[derive(Trace)]
struct Parent {
    name: String,
    kids: Vec<Gc<Parent>>,
    leaf: Gc<Leaf>,
    #[gc(skip)]
    _tick: Tick,
}

#[test]
fn objects_reachable_from_a_live_one_survive() {
    let c = counter();
    let grandchild = Gc::new(Parent {
        name: "grandchild".into(),
        kids: vec![],
        leaf: leaf(3, c),
        _tick: Tick(c),
    });
    let child = Gc::new(Parent {
        name: "child".into(),
        kids: vec![grandchild],
        leaf: leaf(2, c),
        _tick: Tick(c),
    });
    let root = Gc::new(Parent {
        name: "root".into(),
        kids: vec![child.clone(), child],
        leaf: leaf(1, c),
        _tick: Tick(c),
    });
    for _ in 0..3 {
        gc::collect();
    }
    assert_eq!(drops(c), 0, "nothing reachable from root is freed");
    assert_eq!(root.leaf.value, 1);
    assert_eq!(root.kids[1].name, "child");
    assert_eq!(root.kids[0].leaf.value, 2);
    assert_eq!(root.kids[0].kids[0].name, "grandchild");
    assert_eq!(root.kids[1].kids[0].leaf.value, 3);
    drop(root);
    gc::collect();
    assert_eq!(drops(c), 6, "3 parents and 3 leaves freed together");
}
