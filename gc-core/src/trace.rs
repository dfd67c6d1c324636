//! `Trace`: how the collector finds the `Gc` handles inside a value.
//!
//! This module owns the [`Trace`] trait, the [`Tracer`] that receives the reported
//! handles, the impls for the standard types, and [`UnsafeDrop`], the `unsafe`
//! acknowledgement that `#[gc(unsafe_drop)]` requires. `#[derive(Trace)]` (crate
//! `tricolor-gc-derive`, re-exported by the facade) writes impls for user types.
//!
//! # Algorithm
//! The collector finds roots by subtraction (DESIGN §3), and `trace` serves both passes of
//! a cycle:
//! 1. Counting: for every object that existed when the cycle began, the collector calls
//!    `trace` and adds one to the "internal" count of each reported target. A target whose
//!    handle count exceeds its internal count is held from outside the heap: a root.
//! 2. Marking: from the roots, the collector calls `trace` again on each grey object and
//!    shades the reported targets.
//!
//! Both passes must see the same handles, and every reported handle must be one that the
//! traced value alone owns (rules 1 to 3 of [`Trace`]). Over-reporting makes an externally
//! held object look internal, so it is freed while reachable: unsound. Under-reporting
//! makes an object look externally held: a leak, never a dangling pointer.
//!
//! Mirrors Go's pointer bitmaps (`mbitmap.go`, `heapBitsForAddr`) and `scanobject` in
//! `mgcmark.go`, with the compiler's knowledge of where pointers live replaced by this trait.
//!
//! # Invariants
//! - `T::NEEDS_TRACE == false` implies `trace` reports nothing for any value of `T`. Objects
//!   of such types go to "noscan" spans and are never traced, so the constant must be exact
//!   in that direction (a `false` on a type that can hold a handle loses that handle from
//!   both passes: a leak, consistent, but the type is lying).
//! - A container whose element types all have `NEEDS_TRACE == false` returns from `trace` at
//!   once, without iterating (`Vec<u8>` costs nothing to trace).
//! - No impl exists for a type that can swap a contained value through `&self` (`Cell`,
//!   `RefCell`, `Mutex`, `RwLock`, `OnceCell`, atomics) or for shared owners (`Rc`, `Arc`,
//!   `&T`); see rules 1 and 4 of [`Trace`].
//!
//! # Memory ordering
//! None here: `trace` reads the value through `&self`, and the collector guarantees that
//! no mutator writes it concurrently except through `GcCell`, whose barrier orders the read.

use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};

/// How the collector finds the `Gc` handles inside a value.
///
/// `trace` reports, through [`Tracer`], every `Gc` handle that the value owns. The collector
/// calls it during a cycle, possibly on a collector thread, and possibly twice on the same
/// value (once to count internal handles, once to mark).
///
/// **Use `#[derive(Trace)]`.** The derive is the safe route: it visits each field exactly
/// once, never touches `Rc`, `Arc`, references or cells unless their (missing) impls are
/// asked for, and rejects a `Drop` impl at compile time. Write an impl by hand only for a
/// container the derive cannot describe, and then follow every rule below.
///
/// # Safety
///
/// An implementor promises, for every value `v` of the type:
///
/// 1. **Unique ownership.** `v.trace(t)` reports only handles that `v` owns uniquely: stored
///    in `v` itself or in memory that `v` alone owns (a `Box`, a `Vec`'s buffer). A handle
///    reached through `&`, `*const`, `Rc`, `Arc` or any other shared owner must not be
///    reported, because another owner may report it too and the target's internal count
///    would then exceed its real number of heap handles.
/// 2. **Each handle once.** Each owned handle is reported at most once per call. Reporting a
///    handle twice overcounts in the same way as rule 1. Reporting fewer handles than `v`
///    owns is allowed (the target then looks externally held: a leak at worst), provided
///    rule 3 holds.
/// 3. **Deterministic and pure.** For the same contents, `trace` reports the same handles
///    every time. It does not mutate `v` (not even through interior mutability), does not
///    allocate a `Gc`, does not create, clone or drop a `Gc`, does not block on a lock that
///    a mutator may hold, and does not panic.
/// 4. **No hidden mutation.** The type does not let a contained handle be replaced, added
///    or removed through `&self`. That excludes `Cell`, `RefCell`, `Mutex`, `RwLock`,
///    `OnceCell`, `OnceLock` and atomics holding pointers: the collector's write barrier
///    lives only in the crate's own `GcCell`, and a write it does not see can hide a live
///    object from the mark.
/// 5. **Exact `NEEDS_TRACE`.** If [`NEEDS_TRACE`](Trace::NEEDS_TRACE) is `false`, no value of
///    the type contains a handle and `trace` reports nothing.
/// 6. **`Drop` leaves handles alone.** If the type, or a type it owns whose handles `trace`
///    reports, implements `Drop`, that `Drop` does not dereference, clone or move out any
///    `Gc` it can reach (see [`UnsafeDrop`] for why). (The derive enforces this for the
///    type it is applied to by rejecting a `Drop` impl; `#[gc(unsafe_drop)]` together with
///    an `unsafe impl UnsafeDrop` hands the promise back to the user.)
///
/// # Examples
///
/// A hand-written impl for a container the derive cannot see into. It forwards to the
/// elements it owns, once each:
///
/// ```
/// use tricolor_gc_core::trace::{Trace, Tracer};
///
/// /// A fixed ring buffer; only the first `len` slots are initialised.
/// struct Ring<T> {
///     slots: Vec<Option<T>>,
/// }
///
/// // SAFETY: reports exactly what the `Option<T>` slots report (rules 1, 2, 5 follow from
/// // the element impls); it reads through `&self` only and has no `Drop` (rules 3, 4, 6).
/// unsafe impl<T: Trace> Trace for Ring<T> {
///     const NEEDS_TRACE: bool = T::NEEDS_TRACE;
///     fn trace(&self, tracer: &mut Tracer) {
///         self.slots.trace(tracer);
///     }
/// }
/// assert!(!<Ring<u32> as Trace>::NEEDS_TRACE);
/// ```
#[diagnostic::on_unimplemented(
    message = "tricolor-gc: `{Self}` does not implement `Trace`",
    label = "the collector cannot find the `Gc` handles inside `{Self}`",
    note = "use #[derive(Trace)] on your own types, and #[gc(skip)] on a field that holds no `Gc`",
    note = "`Rc`, `Arc`, references and cells (`Cell`, `RefCell`, `Mutex`, `RwLock`) have no impl on purpose: see the `# Safety` rules of `Trace`"
)]
pub unsafe trait Trace {
    /// `false` when no value of this type can ever contain a `Gc`.
    ///
    /// Objects of such types go to "noscan" spans and are never traced, and containers of
    /// them skip iteration. Containers and derived types compute it from their element or
    /// field types; leaf types (integers, `String`, …) set it to `false`.
    const NEEDS_TRACE: bool = true;

    /// Reports every `Gc` handle this value owns to `tracer`, each once.
    ///
    /// Called by the collector, never by user code. See the `# Safety` rules of the trait.
    fn trace(&self, tracer: &mut Tracer);
}

/// The `unsafe` acknowledgement that `#[gc(unsafe_drop)]` requires: "the `Drop` of this
/// type leaves every `Gc` handle alone".
///
/// `#[derive(Trace)]` rejects a manual `Drop` impl on a type that traces fields. The
/// attribute `#[gc(unsafe_drop)]` lifts that check, and the derive then requires
/// `Self: UnsafeDrop`, so the opt-out always takes an `unsafe` token that safe code cannot
/// write: without the impl, the type does not compile. Nothing else uses this trait. (The
/// facade re-exports it as `gc::UnsafeDrop`, with an example of the derive.)
///
/// # Examples
///
/// ```
/// use tricolor_gc_core::trace::{Trace, Tracer, UnsafeDrop};
/// use tricolor_gc_core::Gc;
///
/// struct Counted {
///     id: u32,
///     next: Option<Gc<u32>>,
/// }
///
/// impl Drop for Counted {
///     fn drop(&mut self) {
///         // Reads only `id`; `next` stays in place for the drop glue to release.
///         assert!(self.id < 10);
///     }
/// }
///
/// // SAFETY: reports its one handle once; no interior mutability; `Drop` is covered below.
/// unsafe impl Trace for Counted {
///     fn trace(&self, tracer: &mut Tracer) {
///         self.next.trace(tracer);
///     }
/// }
/// // SAFETY: `Counted::drop` neither dereferences, clones nor moves out a `Gc`.
/// unsafe impl UnsafeDrop for Counted {}
///
/// drop(Gc::new(Counted { id: 1, next: Some(Gc::new(2)) }));
/// ```
///
/// # Safety
///
/// The implementor promises that the type's `Drop` impl, for every value, does not
/// **dereference**, **clone** or **move out** any `Gc` handle reachable from `self` (in its
/// own fields, in cells and containers it owns, or through other handles). It may read
/// and drop everything else, and it may create and drop new `Gc`s of its own. The handles
/// it holds must stay where they are, for the drop glue that runs after `Drop::drop` to
/// release.
///
/// Why: the collector's sweep drops every dead object of a cycle in no particular order,
/// so the target of a handle inside a dead object may already be dropped, and its slot is
/// reused once the sweep ends. A handle released by that drop glue knows this and touches
/// nothing of a dead target. A `Drop` that dereferences such a handle reads a dropped
/// value; one that clones it or moves it out (say, into a static `Vec`) lets a handle to
/// a dead object escape the sweep, and every later use of it reads freed memory, or a
/// new object that reused the slot.
#[diagnostic::on_unimplemented(
    message = "tricolor-gc: `#[gc(unsafe_drop)]` on `{Self}` needs `unsafe impl gc::UnsafeDrop for {Self} {{}}`",
    label = "the `Drop` of `{Self}` is unchecked: acknowledge it with an `unsafe impl`",
    note = "write `unsafe impl gc::UnsafeDrop for {Self} {{}}` only if its `Drop` never dereferences, clones or moves out a `Gc` (see the `# Safety` section of `UnsafeDrop`); otherwise remove the `Drop` impl and `#[gc(unsafe_drop)]`"
)]
pub unsafe trait UnsafeDrop {}

/// Receives the handles that [`Trace::trace`] reports.
///
/// Created by the collector for each traced object; opaque to user code.
pub struct Tracer {
    /// The target addresses reported so far, in report order.
    pub(crate) edges: Vec<NonNull<u8>>,
}

impl Tracer {
    /// An empty tracer.
    pub(crate) fn new() -> Tracer {
        Tracer { edges: Vec::new() }
    }

    /// Records one handle whose target object starts at `object`.
    ///
    /// Called by `Gc<T>`'s own `Trace` impl; user impls forward to their fields instead.
    #[doc(hidden)]
    #[inline]
    pub fn __report(&mut self, object: NonNull<u8>) {
        self.edges.push(object);
    }
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer")
            .field("edge_count", &self.edges.len())
            .finish_non_exhaustive()
    }
}

/// Traces `value` into a fresh [`Tracer`] and returns the reported target addresses in
/// report order. For the facade's `__private` module (tests of impls and of the derive).
#[doc(hidden)]
pub fn __trace_edges<T: Trace + ?Sized>(value: &T) -> Vec<NonNull<u8>> {
    let mut tracer = Tracer::new();
    value.trace(&mut tracer);
    tracer.edges
}

/// Stands in for a type's own name in the `NEEDS_TRACE` expression that `#[derive(Trace)]`
/// writes for a recursive type (`struct Node { children: Vec<Node> }`), which would
/// otherwise be a cycle in const evaluation. Uninhabited, and `NEEDS_TRACE` is false: the
/// least fixed point of "a `Node` needs tracing if any field does".
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum __SelfPlaceholder {}

/// Leaf types: they hold no handle, so `NEEDS_TRACE` is false and `trace` is empty.
macro_rules! impl_leaf {
    ($($ty:ty),* $(,)?) => {$(
        // SAFETY: the type holds no `Gc` and reports nothing, which satisfies every rule.
        unsafe impl Trace for $ty {
            const NEEDS_TRACE: bool = false;
            #[inline]
            fn trace(&self, _tracer: &mut Tracer) {}
        }
    )*};
}

impl_leaf!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    (),
    str,
    String,
    core::num::NonZeroU8,
    core::num::NonZeroU16,
    core::num::NonZeroU32,
    core::num::NonZeroU64,
    core::num::NonZeroU128,
    core::num::NonZeroUsize,
    core::num::NonZeroI8,
    core::num::NonZeroI16,
    core::num::NonZeroI32,
    core::num::NonZeroI64,
    core::num::NonZeroI128,
    core::num::NonZeroIsize,
    core::time::Duration,
    std::path::Path,
    std::path::PathBuf,
    std::ffi::OsStr,
    std::ffi::OsString,
    __SelfPlaceholder,
);

// SAFETY: `PhantomData` holds nothing, so it reports nothing (all rules hold for any `T`).
unsafe impl<T: ?Sized> Trace for PhantomData<T> {
    const NEEDS_TRACE: bool = false;
    #[inline]
    fn trace(&self, _tracer: &mut Tracer) {}
}

// SAFETY: a `Box` uniquely owns its contents and forwards to them once (rules 1, 2); the
// rest follows from `T`'s impl. `Box`'s own `Drop` does not dereference a `Gc` (rule 6).
unsafe impl<T: ?Sized + Trace> Trace for Box<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        if T::NEEDS_TRACE {
            (**self).trace(tracer);
        }
    }
}

/// Containers that own their elements and iterate them through `&self`, each element once.
macro_rules! impl_iterable {
    ($($container:ident<$($param:ident),*> => $($elem:ident),+;)*) => {$(
        // SAFETY: the container uniquely owns its elements and its `&self` iterator yields
        // each exactly once, in an order fixed by the contents (rules 1 to 3); it offers no
        // mutation through `&self` (rule 4); `NEEDS_TRACE` is the OR of the element types'
        // (rule 5); its `Drop` only drops the elements (rule 6).
        unsafe impl<$($param),*> Trace for $container<$($param),*>
        where
            $($elem: Trace,)+
        {
            const NEEDS_TRACE: bool = false $(|| $elem::NEEDS_TRACE)+;
            #[inline]
            fn trace(&self, tracer: &mut Tracer) {
                if !<Self as Trace>::NEEDS_TRACE {
                    return;
                }
                impl_iterable!(@visit self, tracer, $($elem),+);
            }
        }
    )*};
    (@visit $self:ident, $tracer:ident, $t:ident) => {
        for element in $self.iter() {
            element.trace($tracer);
        }
    };
    (@visit $self:ident, $tracer:ident, $k:ident, $v:ident) => {
        for (key, value) in $self.iter() {
            key.trace($tracer);
            value.trace($tracer);
        }
    };
}

impl_iterable! {
    Vec<T> => T;
    VecDeque<T> => T;
    LinkedList<T> => T;
    BinaryHeap<T> => T;
    BTreeSet<T> => T;
    HashSet<T, S> => T;
    BTreeMap<K, V> => K, V;
    HashMap<K, V, S> => K, V;
}

// SAFETY: a slice owns its elements (when it is itself owned, e.g. in a `Box<[T]>`) and
// visits each once in index order; the rest follows from `T`'s impl.
unsafe impl<T: Trace> Trace for [T] {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        if !T::NEEDS_TRACE {
            return;
        }
        for element in self {
            element.trace(tracer);
        }
    }
}

// SAFETY: an array owns its elements; it forwards to the slice impl above.
unsafe impl<T: Trace, const N: usize> Trace for [T; N] {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        self[..].trace(tracer);
    }
}

// SAFETY: owns at most one `T` and visits it once; the rest follows from `T`'s impl.
unsafe impl<T: Trace> Trace for Option<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        if let Some(value) = self {
            value.trace(tracer);
        }
    }
}

// SAFETY: owns exactly one of `T` or `E` and visits it once; the rest follows from theirs.
unsafe impl<T: Trace, E: Trace> Trace for Result<T, E> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE || E::NEEDS_TRACE;
    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        match self {
            Ok(value) => value.trace(tracer),
            Err(error) => error.trace(tracer),
        }
    }
}

/// Tuples of 1 to 12 elements (the unit tuple is a leaf above).
macro_rules! impl_tuple {
    ($(($($name:ident . $index:tt),+))*) => {$(
        // SAFETY: a tuple owns its elements and visits each once, in field order; the rest
        // follows from the element impls.
        unsafe impl<$($name: Trace),+> Trace for ($($name,)+) {
            const NEEDS_TRACE: bool = false $(|| $name::NEEDS_TRACE)+;
            #[inline]
            fn trace(&self, tracer: &mut Tracer) {
                $(self.$index.trace(tracer);)+
            }
        }
    )*};
}

impl_tuple! {
    (A.0)
    (A.0, B.1)
    (A.0, B.1, C.2)
    (A.0, B.1, C.2, D.3)
    (A.0, B.1, C.2, D.3, E.4)
    (A.0, B.1, C.2, D.3, E.4, F.5)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10)
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10, L.11)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Stands in for `Gc<T>`: reports its address, which is never dereferenced.
    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    struct FakeGc(NonNull<u8>);

    // SAFETY: test double; reports its one (fake, never dereferenced) handle once.
    unsafe impl Trace for FakeGc {
        fn trace(&self, tracer: &mut Tracer) {
            tracer.__report(self.0);
        }
    }

    fn addr(i: usize) -> NonNull<u8> {
        NonNull::new((8 * i) as *mut u8).expect("test addresses start at 1, so they are non-null")
    }

    fn fake(i: usize) -> FakeGc {
        FakeGc(addr(i))
    }

    /// The reported handles as a sorted multiset.
    fn edges<T: Trace + ?Sized>(value: &T) -> Vec<NonNull<u8>> {
        let mut edges = __trace_edges(value);
        edges.sort();
        edges
    }

    /// `T::NEEDS_TRACE` through a function, so asserts on it are not constant to clippy.
    fn needs_trace<T: Trace + ?Sized>() -> bool {
        T::NEEDS_TRACE
    }

    fn addrs(indices: &[usize]) -> Vec<NonNull<u8>> {
        let mut v: Vec<_> = indices.iter().map(|&i| addr(i)).collect();
        v.sort();
        v
    }

    /// Counts how often `trace` is called on it, to prove containers skip iteration.
    struct Counting<'a>(&'a Cell<usize>);

    // SAFETY: test double; reports nothing. (The `Cell` only counts calls; this type is
    // never put in a GC heap, so rule 3's "no mutation" is irrelevant here.)
    unsafe impl Trace for Counting<'_> {
        const NEEDS_TRACE: bool = false;
        fn trace(&self, _tracer: &mut Tracer) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn leaves_report_nothing_and_need_no_trace() {
        assert!(edges(&5u32).is_empty());
        assert!(edges("str").is_empty());
        assert!(edges(&String::from("s")).is_empty());
        assert!(edges(&core::time::Duration::from_secs(1)).is_empty());
        assert!(!needs_trace::<u8>());
        assert!(!needs_trace::<f64>());
        assert!(!needs_trace::<()>());
        assert!(!needs_trace::<str>());
        assert!(!needs_trace::<String>());
        assert!(!needs_trace::<core::num::NonZeroU64>());
        assert!(!needs_trace::<std::path::PathBuf>());
        assert!(!needs_trace::<std::ffi::OsString>());
        assert!(!needs_trace::<PhantomData<FakeGc>>());
        assert!(edges(&PhantomData::<FakeGc>).is_empty());
    }

    #[test]
    fn needs_trace_follows_element_types() {
        assert!(!needs_trace::<Vec<u8>>());
        assert!(needs_trace::<Vec<FakeGc>>());
        assert!(needs_trace::<Option<(u8, FakeGc)>>());
        assert!(!needs_trace::<Option<(u8, String)>>());
        assert!(needs_trace::<Result<u8, FakeGc>>());
        assert!(needs_trace::<Result<FakeGc, u8>>());
        assert!(!needs_trace::<Result<u8, String>>());
        assert!(needs_trace::<HashMap<u32, FakeGc>>());
        assert!(needs_trace::<BTreeMap<FakeGc, u32>>());
        assert!(!needs_trace::<BTreeMap<u32, String>>());
        assert!(needs_trace::<Box<[FakeGc]>>());
        assert!(!needs_trace::<Box<str>>());
        assert!(!needs_trace::<[u8; 4]>());
        assert!(needs_trace::<[FakeGc; 0]>());
    }

    #[test]
    fn sequences_report_each_element_once() {
        assert_eq!(edges(&vec![fake(1), fake(2), fake(3)]), addrs(&[1, 2, 3]));
        assert_eq!(edges(&VecDeque::from([fake(4), fake(5)])), addrs(&[4, 5]));
        assert_eq!(edges(&LinkedList::from([fake(6), fake(7)])), addrs(&[6, 7]));
        assert_eq!(
            edges(&BinaryHeap::from([fake(8), fake(9), fake(10)])),
            addrs(&[8, 9, 10])
        );
        assert_eq!(edges(&[fake(1), fake(1)]), addrs(&[1, 1]));
        let slice: &[FakeGc] = &[fake(2), fake(3)];
        assert_eq!(edges(slice), addrs(&[2, 3]));
        assert!(edges(&Vec::<FakeGc>::new()).is_empty());
    }

    #[test]
    fn sets_and_maps_report_keys_and_values() {
        assert_eq!(edges(&BTreeSet::from([fake(1), fake(2)])), addrs(&[1, 2]));
        assert_eq!(
            edges(&HashSet::<FakeGc>::from_iter([fake(3), fake(4)])),
            addrs(&[3, 4])
        );
        assert_eq!(
            edges(&BTreeMap::from([(fake(1), fake(10)), (fake(2), fake(20))])),
            addrs(&[1, 2, 10, 20])
        );
        assert_eq!(
            edges(&HashMap::<u32, FakeGc>::from_iter([
                (1, fake(5)),
                (2, fake(6))
            ])),
            addrs(&[5, 6])
        );
    }

    #[test]
    fn wrappers_and_tuples_forward_once() {
        assert_eq!(edges(&Box::new(fake(1))), addrs(&[1]));
        let boxed: Box<[FakeGc]> = vec![fake(2), fake(3)].into_boxed_slice();
        assert_eq!(edges(&boxed), addrs(&[2, 3]));
        assert_eq!(edges(&Some(fake(4))), addrs(&[4]));
        assert!(edges(&None::<FakeGc>).is_empty());
        assert_eq!(edges(&Ok::<FakeGc, FakeGc>(fake(5))), addrs(&[5]));
        assert_eq!(edges(&Err::<FakeGc, FakeGc>(fake(6))), addrs(&[6]));
        assert_eq!(edges(&(fake(1),)), addrs(&[1]));
        assert_eq!(edges(&(1u8, fake(2), "x".to_string())), addrs(&[2]));
        let twelve = (
            fake(1),
            fake(2),
            fake(3),
            fake(4),
            fake(5),
            fake(6),
            fake(7),
            fake(8),
            fake(9),
            fake(10),
            fake(11),
            fake(12),
        );
        assert_eq!(edges(&twelve), addrs(&(1..=12).collect::<Vec<_>>()));
        let nested = Some(vec![(fake(1), Box::new([fake(2), fake(3)]))]);
        assert_eq!(edges(&nested), addrs(&[1, 2, 3]));
    }

    #[test]
    fn report_order_is_stable_across_calls() {
        let map = HashMap::<u32, FakeGc>::from_iter((0..64).map(|i| (i, fake(i as usize + 1))));
        assert_eq!(__trace_edges(&map), __trace_edges(&map));
    }

    #[test]
    fn containers_of_noscan_elements_do_not_iterate() {
        let calls = Cell::new(0);
        let v = vec![Counting(&calls), Counting(&calls)];
        v.trace(&mut Tracer::new());
        let deque = VecDeque::from([Counting(&calls)]);
        deque.trace(&mut Tracer::new());
        [Counting(&calls)].trace(&mut Tracer::new());
        Box::new([Counting(&calls)]).trace(&mut Tracer::new());
        assert_eq!(calls.get(), 0, "a NEEDS_TRACE == false container iterated");
        // Control: tracing the element directly does reach it, so the zero above is real.
        Counting(&calls).trace(&mut Tracer::new());
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn tracer_debug_shows_edge_count_only() {
        let mut tracer = Tracer::new();
        tracer.__report(addr(1));
        assert_eq!(format!("{tracer:?}"), "Tracer { edge_count: 1, .. }");
    }
}
