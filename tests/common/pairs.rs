//! Cyclic garbage in its smallest form: two nodes that point at each other, which only a
//! cycle frees once both handles are gone (count-zero reclamation cannot). For the tests of
//! the pacer and the memory limit.

use gc::{Gc, GcCell, Trace};

/// About the heap bytes of one pair: two objects of 96 bytes of payload and cell plus a
/// header, each in a 112- or 128-byte size class.
pub(crate) const PAIR_BYTES: usize = 2 * 120;

/// One node of a pair.
#[derive(Trace)]
pub(crate) struct Pair {
    pub(crate) payload: [u64; 12],
    pub(crate) other: GcCell<Option<Gc<Pair>>>,
}

/// A fresh pair; the returned node's payload is `[seed; 12]`, its partner's `[!seed; 12]`.
pub(crate) fn pair(seed: u64) -> Gc<Pair> {
    let a = Gc::new(Pair {
        payload: [seed; 12],
        other: GcCell::new(None),
    });
    let b = Gc::new(Pair {
        payload: [!seed; 12],
        other: GcCell::new(Some(a.clone())),
    });
    *a.other.borrow_mut() = Some(b);
    a
}
