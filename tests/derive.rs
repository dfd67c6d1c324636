//! `#[derive(Trace)]` end to end: which handles the generated `trace` reports (as a
//! multiset, so each field must be visited exactly once) and what `NEEDS_TRACE` it computes.
//!
//! This file names only `gc::` items, so it is also the check that the derive works for a
//! crate that depends only on the facade (the expansion refers to `::gc::Trace`, never to
//! `tricolor_gc_core`). `Gc<T>` does not exist yet; `FakeGc` stands in for it by reporting
//! a made-up address that is never dereferenced.

use gc::Trace;
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// Stands in for `Gc<T>`.
#[derive(Debug)]
struct FakeGc(NonNull<u8>);

// SAFETY: test double; reports its one (fake, never dereferenced) handle once, like `Gc`.
unsafe impl Trace for FakeGc {
    fn trace(&self, tracer: &mut gc::Tracer) {
        tracer.__report(self.0);
    }
}

fn addr(i: usize) -> NonNull<u8> {
    NonNull::new((8 * i) as *mut u8).expect("test addresses start at 1, so they are non-null")
}

fn fake(i: usize) -> FakeGc {
    FakeGc(addr(i))
}

/// The handles `value` reports, as a sorted multiset.
fn edges<T: Trace + ?Sized>(value: &T) -> Vec<NonNull<u8>> {
    let mut edges = gc::__private::trace_edges(value);
    edges.sort();
    edges
}

fn addrs(indices: &[usize]) -> Vec<NonNull<u8>> {
    let mut v: Vec<_> = indices.iter().map(|&i| addr(i)).collect();
    v.sort();
    v
}

fn needs_trace<T: Trace + ?Sized>() -> bool {
    T::NEEDS_TRACE
}

/// A foreign type with no `Trace` impl.
struct Foreign;

#[derive(Trace)]
struct Named {
    first: FakeGc,
    count: u32,
    // A field named like the derive's own parameter must not clash with it.
    tracer: FakeGc,
    #[gc(skip)]
    hidden: FakeGc,
    #[gc(skip)]
    foreign: Foreign,
}

#[derive(Trace)]
struct Tuple(FakeGc, #[gc(skip)] FakeGc, String, FakeGc);

#[derive(Trace)]
struct Unit;

#[derive(Trace)]
struct Empty {}

#[derive(Trace)]
struct Plain {
    name: String,
    values: Vec<u64>,
}

#[derive(Trace)]
enum Every {
    Nothing,
    One(FakeGc),
    Pair(FakeGc, #[gc(skip)] FakeGc, FakeGc),
    Fields {
        left: FakeGc,
        #[gc(skip)]
        skipped: FakeGc,
        right: Option<FakeGc>,
    },
    Leaf(u8),
}

#[derive(Trace)]
enum Never {}

#[derive(Trace)]
struct Generic<A, B> {
    a: A,
    pair: (A, B),
}

/// `T` appears only in a skipped field, so it needs no `Trace` impl.
#[derive(Trace)]
struct Tagged<T> {
    #[gc(skip)]
    tag: T,
    handle: FakeGc,
}

/// `I::Item` is a projection: the derive bounds the field type, not just `I`.
#[derive(Trace)]
struct Projected<I: Iterator> {
    peeked: Option<I::Item>,
}

#[derive(Trace)]
struct Lifetimes<'a> {
    #[gc(skip)]
    name: &'a str,
    handle: FakeGc,
}

#[derive(Trace)]
struct ConstGeneric<const N: usize> {
    slots: [Option<FakeGc>; N],
}

#[derive(Trace)]
struct Nested {
    table: HashMap<String, Vec<Option<FakeGc>>>,
    ordered: BTreeMap<u32, (FakeGc, Box<[FakeGc]>)>,
}

/// Recursive through `Vec`: `NEEDS_TRACE` must not be a const-evaluation cycle.
#[derive(Trace)]
struct Tree {
    handle: Option<FakeGc>,
    children: Vec<Tree>,
}

#[derive(Trace)]
struct PlainTree {
    value: u32,
    children: Vec<PlainTree>,
    parent: Option<Box<Self>>,
}

#[derive(Trace)]
enum List<T> {
    Nil,
    Cons(T, Box<List<T>>),
}

#[derive(Trace)]
#[gc(unsafe_drop)]
struct Droppy {
    handle: FakeGc,
    dropped: PhantomData<u8>,
}

impl Drop for Droppy {
    fn drop(&mut self) {
        // Leaves `handle` alone: that is the promise `UnsafeDrop` makes.
        let _ = self.dropped;
    }
}

// SAFETY: `Droppy::drop` neither dereferences, clones nor moves out a handle.
unsafe impl gc::UnsafeDrop for Droppy {}

mod renamed {
    // The facade under another name, as after `my_gc = { package = "tricolor-gc" }`.
    use ::gc as my_gc;

    #[derive(my_gc::Trace)]
    #[gc(crate = "my_gc")]
    pub(crate) struct Renamed {
        pub(crate) handle: super::FakeGc,
    }

    /// `unsafe_drop` under a renamed facade: the derive's check names `my_gc::UnsafeDrop`.
    #[derive(my_gc::Trace)]
    #[gc(crate = "my_gc", unsafe_drop)]
    pub(crate) struct RenamedDroppy {
        pub(crate) handle: super::FakeGc,
    }

    impl Drop for RenamedDroppy {
        fn drop(&mut self) {}
    }

    // SAFETY: `RenamedDroppy::drop` does nothing.
    unsafe impl my_gc::UnsafeDrop for RenamedDroppy {}
}

#[test]
fn named_struct_reports_traced_fields_once() {
    let v = Named {
        first: fake(1),
        count: 7,
        tracer: fake(2),
        hidden: fake(3),
        foreign: Foreign,
    };
    assert_eq!(edges(&v), addrs(&[1, 2]));
    assert!(needs_trace::<Named>());
    let Named {
        count,
        hidden,
        foreign: Foreign,
        ..
    } = v;
    assert_eq!((count, hidden.0), (7, addr(3)));
}

#[test]
fn tuple_and_unit_structs() {
    let v = Tuple(fake(1), fake(2), "s".into(), fake(3));
    assert_eq!(edges(&v), addrs(&[1, 3]));
    assert_eq!(v.1 .0, addr(2));
    assert!(v.2 == "s");
    assert!(needs_trace::<Tuple>());
    assert!(edges(&Unit).is_empty());
    assert!(!needs_trace::<Unit>());
    assert!(edges(&Empty {}).is_empty());
    assert!(!needs_trace::<Empty>());
    let plain = Plain {
        name: "p".into(),
        values: vec![1, 2],
    };
    assert!(edges(&plain).is_empty());
    assert!(!needs_trace::<Plain>());
    assert_eq!((plain.name.len(), plain.values.len()), (1, 2));
}

#[test]
fn enum_variants_of_every_kind() {
    assert!(edges(&Every::Nothing).is_empty());
    assert_eq!(edges(&Every::One(fake(1))), addrs(&[1]));
    let pair = Every::Pair(fake(1), fake(2), fake(3));
    assert_eq!(edges(&pair), addrs(&[1, 3]));
    if let Every::Pair(_, skipped, _) = pair {
        assert_eq!(skipped.0, addr(2));
    }
    let fields = Every::Fields {
        left: fake(4),
        skipped: fake(5),
        right: Some(fake(6)),
    };
    assert_eq!(edges(&fields), addrs(&[4, 6]));
    if let Every::Fields { skipped, .. } = fields {
        assert_eq!(skipped.0, addr(5));
    }
    assert!(edges(&Every::Leaf(3)).is_empty());
    assert!(needs_trace::<Every>());
    assert!(!needs_trace::<Never>());
}

#[test]
fn generics_take_needs_trace_from_arguments() {
    let v = Generic {
        a: fake(1),
        pair: (fake(2), 5u8),
    };
    assert_eq!(edges(&v), addrs(&[1, 2]));
    assert!(needs_trace::<Generic<FakeGc, u8>>());
    assert!(needs_trace::<Generic<u8, FakeGc>>());
    assert!(!needs_trace::<Generic<u8, String>>());

    let tagged = Tagged {
        tag: Foreign,
        handle: fake(3),
    };
    assert_eq!(edges(&tagged), addrs(&[3]));
    let Tagged { tag: Foreign, .. } = tagged;

    let projected: Projected<std::vec::IntoIter<FakeGc>> = Projected {
        peeked: Some(fake(4)),
    };
    assert_eq!(edges(&projected), addrs(&[4]));
    assert!(!needs_trace::<Projected<std::vec::IntoIter<u8>>>());

    let name = String::from("local");
    let borrowed = Lifetimes {
        name: &name,
        handle: fake(5),
    };
    assert_eq!(edges(&borrowed), addrs(&[5]));
    assert_eq!(borrowed.name, "local");

    let slots = ConstGeneric {
        slots: [Some(fake(6)), None, Some(fake(7))],
    };
    assert_eq!(edges(&slots), addrs(&[6, 7]));
    assert!(needs_trace::<ConstGeneric<0>>());
}

#[test]
fn nested_containers_are_traced_through() {
    let v = Nested {
        table: HashMap::from([
            ("a".to_owned(), vec![Some(fake(1)), None, Some(fake(2))]),
            ("b".to_owned(), vec![Some(fake(3))]),
        ]),
        ordered: BTreeMap::from([(1, (fake(4), vec![fake(5), fake(6)].into_boxed_slice()))]),
    };
    assert_eq!(edges(&v), addrs(&[1, 2, 3, 4, 5, 6]));
    assert!(needs_trace::<Nested>());
}

#[test]
fn recursive_types_compute_needs_trace() {
    let tree = Tree {
        handle: Some(fake(1)),
        children: vec![
            Tree {
                handle: Some(fake(2)),
                children: vec![],
            },
            Tree {
                handle: None,
                children: vec![Tree {
                    handle: Some(fake(3)),
                    children: vec![],
                }],
            },
        ],
    };
    assert_eq!(edges(&tree), addrs(&[1, 2, 3]));
    assert!(needs_trace::<Tree>());

    let plain = PlainTree {
        value: 1,
        children: vec![],
        parent: None,
    };
    assert!(edges(&plain).is_empty());
    assert!(!needs_trace::<PlainTree>());
    assert_eq!(plain.value, 1);

    let list = List::Cons(fake(1), Box::new(List::Cons(fake(2), Box::new(List::Nil))));
    assert_eq!(edges(&list), addrs(&[1, 2]));
    assert!(needs_trace::<List<FakeGc>>());
    assert!(!needs_trace::<List<u8>>());
}

#[test]
fn unsafe_drop_still_traces() {
    let v = Droppy {
        handle: fake(9),
        dropped: PhantomData,
    };
    assert_eq!(edges(&v), addrs(&[9]));
    assert!(needs_trace::<Droppy>());
}

#[test]
fn crate_attribute_names_a_renamed_facade() {
    let v = renamed::Renamed { handle: fake(8) };
    assert_eq!(edges(&v), addrs(&[8]));
    assert!(needs_trace::<renamed::Renamed>());
    let d = renamed::RenamedDroppy { handle: fake(7) };
    assert_eq!(edges(&d), addrs(&[7]));
}
