//! The std `Trace` impls under a real collector (DESIGN §2, row `unsafe trait Trace`): for
//! each container (`Box`, `Box<[T]>`, `Vec`, `VecDeque`, `LinkedList`, `BinaryHeap`,
//! `HashMap` keys and values, `HashSet`, `BTreeMap` keys and values, `BTreeSet`, `Option`,
//! `Result` both ways, tuples up to 12, arrays, `PhantomData`, `String` and primitives
//! next to handles, `GcCell`, `Gc<Gc<_>>`, nesting), a managed object holds `Gc` targets
//! only through that container: after cycles the targets are alive and readable, and after
//! the container object goes they are freed (drop counters).
//!
//! Each test counts drops of its own targets, so tests run in parallel.

mod common;
use common::Tick;
use std::cmp::Ordering as CmpOrdering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

use gc::{Gc, GcCell, Trace};

/// A target: ordered and hashed by `id` (so it fits every container), drop-counted.
#[derive(Trace)]
struct Key {
    id: u64,
    #[gc(skip)]
    _tick: Tick,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.id == other.id
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Key) -> CmpOrdering {
        self.id.cmp(&other.id)
    }
}
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

type K = Gc<Key>;
/// A nested element: a box around a tuple holding a deque of handles.
type Group = Box<(u8, VecDeque<K>)>;

/// Builds `n` targets with ids `0..n`, moves them into a container object made by `build`
/// (no other handle survives), checks that cycles keep them (the ids `read` finds are
/// exactly `0..n`), then drops the container object and checks all `n` are freed.
fn check<C, B, R>(n: u64, build: B, read: R)
where
    C: Trace + Send + Sync + 'static,
    B: FnOnce(Vec<K>) -> C,
    R: Fn(&C) -> Vec<u64>,
{
    let drops: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    let keys: Vec<K> = (0..n)
        .map(|id| {
            Gc::new(Key {
                id,
                _tick: Tick(drops),
            })
        })
        .collect();
    let holder = Gc::new(build(keys));
    for _ in 0..2 {
        gc::collect();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "a target held by the container died"
        );
        let mut ids = read(&holder);
        ids.sort_unstable();
        assert_eq!(ids, (0..n).collect::<Vec<_>>(), "targets readable");
    }
    drop(holder);
    gc::collect();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        n as usize,
        "targets freed with the container"
    );
}

fn ids<'a>(keys: impl IntoIterator<Item = &'a K>) -> Vec<u64> {
    keys.into_iter().map(|k| k.id).collect()
}

#[test]
fn boxes() {
    check(1, |mut v| Box::new(v.pop().unwrap()), |b| vec![b.id]);
    check(8, |v| v.into_boxed_slice(), |b| ids(b.iter()));
    check(3, Box::new, |b| ids(b.iter()));
}

#[test]
fn vec_and_deque_and_list() {
    check(50, |v| v, |v| ids(v));
    check(50, VecDeque::from, |d| ids(d));
    check(50, |v| v.into_iter().collect::<LinkedList<_>>(), |l| ids(l));
}

#[test]
fn binary_heap() {
    check(50, BinaryHeap::from, |h| ids(h));
}

#[test]
fn hash_map_keys_and_values() {
    check(
        40,
        |v| {
            v.into_iter()
                .map(|k| (k.id, k))
                .collect::<HashMap<u64, K>>()
        },
        |m| ids(m.values()),
    );
    check(
        40,
        |v| v.into_iter().map(|k| (k, 0u8)).collect::<HashMap<K, u8>>(),
        |m| ids(m.keys()),
    );
    // Both sides managed: pairs (even id -> odd id).
    check(
        40,
        |v| {
            let mut it = v.into_iter();
            let mut m = HashMap::new();
            while let (Some(a), Some(b)) = (it.next(), it.next()) {
                m.insert(a, b);
            }
            m
        },
        |m: &HashMap<K, K>| m.iter().flat_map(|(a, b)| [a.id, b.id]).collect(),
    );
}

#[test]
fn hash_set() {
    check(40, |v| v.into_iter().collect::<HashSet<K>>(), |s| ids(s));
}

#[test]
fn btree_map_keys_and_values() {
    check(
        40,
        |v| {
            v.into_iter()
                .map(|k| (k.id, k))
                .collect::<BTreeMap<u64, K>>()
        },
        |m| ids(m.values()),
    );
    check(
        40,
        |v| {
            let mut it = v.into_iter();
            let mut m = BTreeMap::new();
            while let (Some(a), Some(b)) = (it.next(), it.next()) {
                m.insert(a, b);
            }
            m
        },
        |m: &BTreeMap<K, K>| m.iter().flat_map(|(a, b)| [a.id, b.id]).collect(),
    );
}

#[test]
fn btree_set() {
    check(40, |v| v.into_iter().collect::<BTreeSet<K>>(), |s| ids(s));
}

#[test]
fn option_and_result() {
    check(1, |mut v| v.pop(), |o| ids(o.iter()));
    check(
        1,
        |mut v| Ok::<K, String>(v.pop().unwrap()),
        |r| ids(r.iter()),
    );
    check(
        1,
        |mut v| Err::<u8, K>(v.pop().unwrap()),
        |r| ids(r.as_ref().err()),
    );
    check(
        2,
        |mut v| {
            let b = v.pop().unwrap();
            let a = v.pop().unwrap();
            (Ok::<K, K>(a), Err::<K, K>(b))
        },
        |(a, b)| vec![a.as_ref().unwrap().id, b.as_ref().err().unwrap().id],
    );
}

#[test]
fn tuples() {
    check(
        2,
        |mut v| {
            let b = v.pop().unwrap();
            (v.pop().unwrap(), b)
        },
        |(a, b)| vec![a.id, b.id],
    );
    check(
        12,
        |v| {
            let mut it = v.into_iter();
            let mut n = || it.next().unwrap();
            (n(), n(), n(), n(), n(), n(), n(), n(), n(), n(), n(), n())
        },
        |t| {
            vec![
                t.0.id, t.1.id, t.2.id, t.3.id, t.4.id, t.5.id, t.6.id, t.7.id, t.8.id, t.9.id,
                t.10.id, t.11.id,
            ]
        },
    );
}

#[test]
fn arrays() {
    check(
        4,
        |v| -> [K; 4] { v.try_into().unwrap_or_else(|_| unreachable!()) },
        |a| ids(a),
    );
    check(
        6,
        |v| {
            let mut it = v.into_iter();
            let mut n = || it.next().unwrap();
            [[n(), n()], [n(), n()], [n(), n()]]
        },
        |a| ids(a.iter().flatten()),
    );
}

#[test]
fn phantom_data_strings_and_primitives_next_to_handles() {
    check(
        1,
        |mut v| {
            (
                PhantomData::<K>,
                String::from("label"),
                7u8,
                -3i64,
                2.5f64,
                'x',
                true,
                v.pop().unwrap(),
            )
        },
        |t| {
            assert_eq!(
                (t.1.as_str(), t.2, t.3, t.4, t.5, t.6),
                ("label", 7, -3, 2.5, 'x', true)
            );
            vec![t.7.id]
        },
    );
}

#[test]
fn cells_and_nested_handles() {
    check(20, GcCell::new, |c| ids(c.borrow().iter()));
    check(
        5,
        |v| v.into_iter().map(Gc::new).collect::<Vec<Gc<K>>>(),
        |v| v.iter().map(|g| g.id).collect(),
    );
    check(
        9,
        |v| {
            let mut it = v.into_iter();
            let mut groups: Vec<Option<Group>> = Vec::new();
            for g in 0..3u8 {
                groups.push(None);
                groups.push(Some(Box::new((g, (&mut it).take(3).collect()))));
            }
            GcCell::new(HashMap::from([("groups".to_string(), groups)]))
        },
        |c| {
            c.borrow()["groups"]
                .iter()
                .flatten()
                .flat_map(|b| b.1.iter().map(|k| k.id))
                .collect()
        },
    );
}
