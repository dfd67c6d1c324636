//! Values: what a Scheme expression evaluates to, and the heap objects behind them.
//!
//! # Representation
//! [`Value`] is a 16-byte enum: immediates (`()`, booleans, 64-bit integers, floats,
//! symbols, builtins) are stored inline; everything with identity or mutable state is a
//! `Gc` handle into the tricolor-gc heap:
//!
//! | value | heap object | mutable through |
//! |---|---|---|
//! | pair | [`Pair`]: one `GcCell<(car, cdr)>` | `set-car!`, `set-cdr!` |
//! | vector | [`Vector`]: `GcCell<Vec<Value>>` (the buffer lives on the Rust heap) | `vector-set!` |
//! | string | `String` (immutable: there is no `string-set!`) | — |
//! | closure | [`Closure`]: code + environment (env.rs) | — |
//! | thread | `ThreadObj` (threads.rs) | — |
//!
//! Every heap payload is small (at most a few words): big contents such as a vector's
//! elements live in a `Vec` buffer on the Rust heap, owned by the object.
//!
//! # Sharing between threads
//! `Value` is `Send + Sync` because every object behind it is: immutable parts are plain
//! fields, mutable parts are `GcCell`s, which behave like `RwLock` across threads. Two
//! threads that `set-car!` the same pair race at the language level (one write wins) but
//! the pair is never torn: each write replaces the whole `(car, cdr)` under the cell's
//! writer flag.
//!
//! # Borrowing rule
//! No function in this crate holds a `GcCell` borrow while it evaluates user code, calls
//! another function that may borrow, or takes a second borrow: it borrows, copies the
//! `Value`s it needs out (a `Gc` clone), and releases. That makes the same-thread
//! re-borrow panic of `GcCell` unreachable, and makes cross-thread waits short and
//! deadlock-free (no thread ever waits for a cell while holding another).

use gc::{Gc, GcCell, Trace};

use crate::env::Frame;
use crate::error::Result;
use crate::symbol::Symbol;
use crate::syntax::Lambda;
use crate::threads::ThreadObj;

/// A Scheme value (see the module docs).
#[derive(Clone, Trace)]
pub(crate) enum Value {
    /// The empty list `()`.
    Nil,
    /// What `define`, `set!`, `display`, ... return; the REPL prints nothing for it.
    Unspecified,
    /// The contents of a variable that is bound but not yet initialised (a `letrec` or
    /// internal `define` before its initialiser ran, or a global never defined). Never the
    /// result of an expression: reading it is an error.
    Unassigned,
    /// `#t` / `#f`.
    Bool(bool),
    /// An exact integer (64-bit; overflow is an error, there are no bignums).
    Int(i64),
    /// An inexact number.
    Float(f64),
    /// An immutable string.
    Str(Gc<String>),
    /// An interned symbol.
    Symbol(Symbol),
    /// A mutable pair.
    Pair(Gc<Pair>),
    /// A mutable vector.
    Vector(Gc<Vector>),
    /// A user procedure.
    Closure(Gc<Closure>),
    /// A procedure written in Rust (a static table entry; holds no handle).
    Builtin(#[gc(skip)] &'static Builtin),
    /// A spawned thread.
    Thread(Gc<ThreadObj>),
}

impl Value {
    /// Scheme truth: everything but `#f` is true.
    pub(crate) fn is_true(&self) -> bool {
        !matches!(self, Value::Bool(false))
    }

    /// A fresh pair `(car . cdr)`.
    pub(crate) fn cons(car: Value, cdr: Value) -> Value {
        Value::Pair(Gc::new(Pair {
            cell: GcCell::new((car, cdr)),
        }))
    }

    /// A fresh string.
    pub(crate) fn string(text: impl Into<String>) -> Value {
        Value::Str(Gc::new(text.into()))
    }

    /// A proper list of `items`, in order.
    pub(crate) fn list(items: impl DoubleEndedIterator<Item = Value>) -> Value {
        items
            .rev()
            .fold(Value::Nil, |tail, item| Value::cons(item, tail))
    }

    /// `eq?`: identity for heap objects, value equality for immediates.
    pub(crate) fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil)
            | (Value::Unspecified, Value::Unspecified)
            | (Value::Unassigned, Value::Unassigned) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            // `eqv?` on floats compares the numbers bit for bit (so a NaN is itself).
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Symbol(a), Value::Symbol(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => Gc::ptr_eq(a, b),
            (Value::Pair(a), Value::Pair(b)) => Gc::ptr_eq(a, b),
            (Value::Vector(a), Value::Vector(b)) => Gc::ptr_eq(a, b),
            (Value::Closure(a), Value::Closure(b)) => Gc::ptr_eq(a, b),
            (Value::Builtin(a), Value::Builtin(b)) => std::ptr::eq(*a, *b),
            (Value::Thread(a), Value::Thread(b)) => Gc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Whether the value is a procedure.
    pub(crate) fn is_procedure(&self) -> bool {
        matches!(self, Value::Closure(_) | Value::Builtin(_))
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::printer::write_short(self))
    }
}

/// A mutable pair. Both halves sit in one cell, so a reader always sees a `(car, cdr)`
/// that some writer stored, and one borrow copies both out.
#[derive(Trace)]
pub(crate) struct Pair {
    cell: GcCell<(Value, Value)>,
}

impl Pair {
    /// The car.
    pub(crate) fn car(&self) -> Value {
        self.cell.borrow().0.clone()
    }

    /// The cdr.
    pub(crate) fn cdr(&self) -> Value {
        self.cell.borrow().1.clone()
    }

    /// Both halves, read under one borrow.
    pub(crate) fn get(&self) -> (Value, Value) {
        let halves = self.cell.borrow();
        (halves.0.clone(), halves.1.clone())
    }

    /// Replaces the car. The old car is dropped after the borrow ends.
    pub(crate) fn set_car(&self, car: Value) {
        let old = std::mem::replace(&mut self.cell.borrow_mut().0, car);
        drop(old);
    }

    /// Replaces the cdr. The old cdr is dropped after the borrow ends.
    pub(crate) fn set_cdr(&self, cdr: Value) {
        let old = std::mem::replace(&mut self.cell.borrow_mut().1, cdr);
        drop(old);
    }
}

/// A mutable vector.
#[derive(Trace)]
pub(crate) struct Vector {
    cell: GcCell<Vec<Value>>,
}

impl Vector {
    /// A vector holding `items`.
    pub(crate) fn new(items: Vec<Value>) -> Vector {
        Vector {
            cell: GcCell::new(items),
        }
    }

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.cell.borrow().len()
    }

    /// Element `index`, if in range.
    pub(crate) fn get(&self, index: usize) -> Option<Value> {
        self.cell.borrow().get(index).cloned()
    }

    /// Replaces element `index`; `false` if out of range. The old element is dropped
    /// after the borrow ends.
    pub(crate) fn set(&self, index: usize, value: Value) -> bool {
        let mut items = self.cell.borrow_mut();
        match items.get_mut(index) {
            Some(slot) => {
                let old = std::mem::replace(slot, value);
                drop(items);
                drop(old);
                true
            }
            None => false,
        }
    }

    /// A copy of all elements (handles cloned), read under one borrow.
    pub(crate) fn to_vec(&self) -> Vec<Value> {
        self.cell.borrow().clone()
    }
}

/// A user procedure: compiled code (which lives for the rest of the process, see
/// syntax.rs) and the environment it closes over.
#[derive(Trace)]
pub(crate) struct Closure {
    /// The code; not a handle (compiled code is not a heap object).
    #[gc(skip)]
    pub(crate) lambda: &'static Lambda,
    /// The enclosing frame (`None` at top level, where only globals are visible).
    pub(crate) env: Option<Gc<Frame>>,
}

/// A procedure written in Rust.
#[derive(Debug)]
pub(crate) struct Builtin {
    /// The name it is bound to.
    pub(crate) name: &'static str,
    /// The fewest arguments it takes.
    pub(crate) min_args: usize,
    /// The most arguments it takes (`None`: any number).
    pub(crate) max_args: Option<usize>,
    /// The implementation; `args.len()` is within the bounds above.
    pub(crate) func: fn(args: &[Value]) -> Result<Value>,
}

/// The elements of the proper list `list`, or `None` if it is not a proper list (an
/// improper tail, or a cycle: detected with Floyd's tortoise and hare, so this always
/// terminates).
pub(crate) fn list_to_vec(list: &Value) -> Option<Vec<Value>> {
    let mut items = Vec::new();
    let mut hare = list.clone();
    let mut tortoise = list.clone();
    loop {
        match hare {
            Value::Nil => return Some(items),
            Value::Pair(pair) => {
                let (car, cdr) = pair.get();
                items.push(car);
                hare = cdr;
            }
            _ => return None,
        }
        if items.len() % 2 == 0 {
            tortoise = match tortoise {
                Value::Pair(pair) => pair.cdr(),
                other => other,
            };
            if let (Value::Pair(a), Value::Pair(b)) = (&tortoise, &hare) {
                if Gc::ptr_eq(a, b) {
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_to_vec_rejects_improper_and_cyclic_lists() {
        let list = Value::list([Value::Int(1), Value::Int(2), Value::Int(3)].into_iter());
        let items = list_to_vec(&list).expect("a proper list");
        assert_eq!(items.len(), 3);
        assert!(list_to_vec(&Value::cons(Value::Int(1), Value::Int(2))).is_none());
        let Value::Pair(first) = &list else {
            panic!("a list of three is a pair")
        };
        let Value::Pair(last) = first.cdr() else {
            panic!("second pair")
        };
        let Value::Pair(last) = last.cdr() else {
            panic!("third pair")
        };
        last.set_cdr(list.clone());
        assert!(list_to_vec(&list).is_none());
        last.set_cdr(Value::Nil); // break the cycle so the test leaves no garbage cycle
    }

    #[test]
    fn eq_is_identity_for_heap_objects() {
        let a = Value::string("x");
        let b = Value::string("x");
        assert!(a.eq(&a.clone()));
        assert!(!a.eq(&b));
        assert!(Value::Int(3).eq(&Value::Int(3)));
        assert!(!Value::Int(3).eq(&Value::Float(3.0)));
    }
}
