//! Environments: lexical frames on the GC heap, and the global table shared by all
//! threads.
//!
//! # Frames
//! The compiler (syntax.rs) resolves every local variable to a `(depth, index)` pair: walk
//! `depth` parent links up from the current frame, take slot `index`. A [`Frame`] is one
//! `Gc` object holding its slots and its parent, so closures capture environments by
//! handle and a closure stored in its own frame (a `letrec`, a named `let`, an internal
//! `define`) is an ordinary cycle of `Gc`s that the collector reclaims.
//!
//! Slots come in two layouts, chosen per frame by the compiler:
//! - [`Slots::Fixed`]: a boxed slice with no cell, for a frame whose variables are never
//!   assigned after the frame is made (no `set!`, no internal `define`, not a `letrec`).
//!   Reading a slot is a plain load and a handle clone: no lock, and no write barrier
//!   ever runs for it. Most procedure frames are of this kind.
//! - [`Slots::Mutable`]: a `GcCell<Vec<Value>>`, for frames that are assigned. A `set!`
//!   during a marking cycle runs the cell's deletion barrier over the whole frame
//!   (O(slots)), which is why frames are not all mutable.
//!
//! # Globals
//! Each global variable is its own `Gc<Global>` with a `GcCell<Value>`, created on first
//! mention and kept in a process-wide table behind a `parking_lot::RwLock` (outside the GC
//! heap, so the table's handles are roots). Compiled code holds the `Gc<Global>` directly:
//! a global reference costs one cell borrow at run time, never a table lookup. Spawned
//! threads see the same table, so `define` in one thread is visible to the others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use gc::{Gc, GcCell, Trace};
use parking_lot::RwLock;

use crate::error::{error, Result};
use crate::symbol::Symbol;
use crate::value::{Builtin, Value};

/// The environment an expression runs in: the innermost frame, or `None` at top level.
pub(crate) type Env = Option<Gc<Frame>>;

/// Frames with at most this many slots keep them inline in the heap object (no
/// separate buffer to allocate and free); larger ones use a boxed slice.
pub(crate) const INLINE_SLOTS: usize = 4;

/// One lexical frame (see the module docs).
#[derive(Trace)]
pub(crate) struct Frame {
    slots: Slots,
    parent: Env,
}

/// The storage of a frame's variables.
#[derive(Trace)]
pub(crate) enum Slots {
    /// Never assigned after creation: read without a lock. Slots past the frame's size
    /// hold `()` and are never addressed.
    Inline([Value; INLINE_SLOTS]),
    /// The same, for a frame of more than [`INLINE_SLOTS`] slots.
    Boxed(Box<[Value]>),
    /// Assigned by `set!`, `define` or `letrec`.
    InlineMut(GcCell<[Value; INLINE_SLOTS]>),
    /// The same, for a frame of more than [`INLINE_SLOTS`] slots.
    BoxedMut(GcCell<Box<[Value]>>),
}

impl Frame {
    /// A frame of `size` slots under `parent`, taking the values `stack[start..]` as its
    /// first slots (and truncating `stack` to `start`); the other slots are unassigned.
    /// `mutable` selects a `GcCell` layout.
    pub(crate) fn from_stack(
        stack: &mut Vec<Value>,
        start: usize,
        size: usize,
        mutable: bool,
        parent: Env,
    ) -> Frame {
        stack.truncate(start + size);
        let filled = stack.len().saturating_sub(start);
        let slots = if size <= INLINE_SLOTS {
            let mut inline = [Value::Nil, Value::Nil, Value::Nil, Value::Nil];
            for slot in inline[filled..size].iter_mut() {
                *slot = Value::Unassigned;
            }
            for slot in inline[..filled].iter_mut().rev() {
                if let Some(value) = stack.pop() {
                    *slot = value;
                }
            }
            if mutable {
                Slots::InlineMut(GcCell::new(inline))
            } else {
                Slots::Inline(inline)
            }
        } else {
            let mut boxed: Vec<Value> = Vec::with_capacity(size);
            boxed.extend(stack.drain(start..));
            boxed.resize(size, Value::Unassigned);
            let boxed = boxed.into_boxed_slice();
            if mutable {
                Slots::BoxedMut(GcCell::new(boxed))
            } else {
                Slots::Boxed(boxed)
            }
        };
        Frame { slots, parent }
    }

    /// The frame `depth` links above this one.
    #[inline]
    fn up(&self, depth: usize) -> Option<&Frame> {
        let mut frame = self;
        for _ in 0..depth {
            frame = frame.parent.as_deref()?;
        }
        Some(frame)
    }

    /// The value of slot `index` of the frame `depth` links up, or `None` if the address
    /// does not exist (which compiled code never asks for).
    #[inline]
    pub(crate) fn get(&self, depth: usize, index: usize) -> Option<Value> {
        match &self.up(depth)?.slots {
            Slots::Inline(values) => values.get(index).cloned(),
            Slots::Boxed(values) => values.get(index).cloned(),
            Slots::InlineMut(cell) => cell.borrow().get(index).cloned(),
            Slots::BoxedMut(cell) => cell.borrow().get(index).cloned(),
        }
    }

    /// Stores `value` in slot `index` of the frame `depth` links up; `false` if the
    /// address does not exist or the frame is not mutable (the compiler made it fixed
    /// only when nothing assigns it). The old value is dropped after the borrow ends.
    pub(crate) fn set(&self, depth: usize, index: usize, value: Value) -> bool {
        let old = match &self.up(depth).map(|f| &f.slots) {
            Some(Slots::InlineMut(cell)) => cell
                .borrow_mut()
                .get_mut(index)
                .map(|slot| std::mem::replace(slot, value)),
            Some(Slots::BoxedMut(cell)) => cell
                .borrow_mut()
                .get_mut(index)
                .map(|slot| std::mem::replace(slot, value)),
            _ => None,
        };
        old.is_some()
    }
}

/// A global variable.
///
/// Besides its cell, a global that is bound to a builtin remembers that builtin outside
/// the cell, with a flag cleared by the first `define` or `set!` of the variable. Reading
/// such a "pristine" global skips the cell's borrow: the operators of most calls are
/// globals bound to builtins (`+`, `car`, ...), and a `GcCell` borrow costs a
/// compare-and-swap plus thread-local bookkeeping on every read.
#[derive(Debug, Trace)]
pub(crate) struct Global {
    /// Its name, for error messages.
    pub(crate) name: Symbol,
    /// Its value; [`Value::Unassigned`] until defined.
    value: GcCell<Value>,
    /// The builtin it was bound to at startup, if any (a static: holds no handle).
    #[gc(skip)]
    builtin: OnceLock<&'static Builtin>,
    /// Whether the variable still holds `builtin` (cleared before any other write).
    #[gc(skip)]
    pristine: AtomicBool,
}

impl Global {
    /// The value, or an "unbound variable" error (without a line).
    #[inline]
    pub(crate) fn get(&self) -> Result<Value> {
        // Acquire: pairs with the Release in `overwrite`; a reader that still sees the
        // flag set reads the builtin, which is what the variable held before the write
        // that clears it (a language-level race at worst, like any racing read).
        if self.pristine.load(Ordering::Acquire) {
            if let Some(builtin) = self.builtin.get() {
                return Ok(Value::Builtin(builtin));
            }
        }
        let value = self.value.borrow().clone();
        match value {
            Value::Unassigned => Err(error!(Unbound, "{}", self.name.name())),
            value => Ok(value),
        }
    }

    /// The builtin this global is bound to, if it was never redefined.
    #[inline]
    pub(crate) fn pristine_builtin(&self) -> Option<&'static Builtin> {
        // Acquire: as in `get`.
        if self.pristine.load(Ordering::Acquire) {
            self.builtin.get().copied()
        } else {
            None
        }
    }

    /// Binds the variable to a builtin at startup.
    pub(crate) fn define_builtin(&self, builtin: &'static Builtin) {
        self.define(Value::Builtin(builtin));
        if self.builtin.set(builtin).is_ok() {
            // Release: pairs with the Acquire in `get`.
            self.pristine.store(true, Ordering::Release);
        }
    }

    /// `define`: binds the variable, whether or not it was bound.
    pub(crate) fn define(&self, value: Value) {
        self.leave_pristine();
        let old = std::mem::replace(&mut *self.value.borrow_mut(), value);
        drop(old);
    }

    /// `set!`: assigns a bound variable; an unbound one is an error.
    pub(crate) fn assign(&self, value: Value) -> Result<()> {
        let mut slot = self.value.borrow_mut();
        if matches!(*slot, Value::Unassigned) {
            return Err(error!(
                Unbound,
                "{} (set! of an undefined variable)",
                self.name.name()
            ));
        }
        self.leave_pristine();
        let old = std::mem::replace(&mut *slot, value);
        drop(slot);
        drop(old);
        Ok(())
    }

    fn leave_pristine(&self) {
        // Release: pairs with the Acquire in `get`; it is ordered before the cell write
        // that follows (the cell's own Release publishes the new value).
        self.pristine.store(false, Ordering::Release);
    }
}

fn globals() -> &'static RwLock<HashMap<Symbol, Gc<Global>>> {
    static GLOBALS: OnceLock<RwLock<HashMap<Symbol, Gc<Global>>>> = OnceLock::new();
    GLOBALS.get_or_init(|| RwLock::new(HashMap::new()))
}

/// The global variable `name`, created (unbound) on first mention.
pub(crate) fn global(name: Symbol) -> Gc<Global> {
    if let Some(global) = globals().read().get(&name) {
        return global.clone();
    }
    globals()
        .write()
        .entry(name)
        .or_insert_with(|| {
            Gc::new(Global {
                name,
                value: GcCell::new(Value::Unassigned),
                builtin: OnceLock::new(),
                pristine: AtomicBool::new(false),
            })
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_resolve_depth_and_index() {
        let mut stack = vec![Value::Bool(true), Value::Int(1), Value::Int(2)];
        let outer = Gc::new(Frame::from_stack(&mut stack, 1, 2, true, None));
        assert_eq!(stack.len(), 1, "the frame took its values off the stack");
        stack.push(Value::Int(3));
        let inner = Frame::from_stack(&mut stack, 1, 1, false, Some(outer.clone()));
        assert!(matches!(inner.get(0, 0), Some(Value::Int(3))));
        assert!(matches!(inner.get(1, 1), Some(Value::Int(2))));
        assert!(inner.get(2, 0).is_none());
        assert!(inner.set(1, 0, Value::Int(10)));
        assert!(matches!(outer.get(0, 0), Some(Value::Int(10))));
        assert!(matches!(outer.get(0, 1), Some(Value::Int(2))));
        assert!(
            !inner.set(0, 0, Value::Int(4)),
            "a fixed frame is never assigned"
        );
        let mut stack: Vec<Value> = (0..6).map(Value::Int).collect();
        let big = Frame::from_stack(&mut stack, 0, 8, true, None);
        assert!(stack.is_empty());
        assert!(matches!(big.get(0, 5), Some(Value::Int(5))));
        assert!(matches!(big.get(0, 7), Some(Value::Unassigned)));
        assert!(big.get(0, 8).is_none());
        let mut stack = vec![Value::Int(1)];
        let small = Frame::from_stack(&mut stack, 0, 3, true, None);
        assert!(matches!(small.get(0, 0), Some(Value::Int(1))));
        assert!(matches!(small.get(0, 2), Some(Value::Unassigned)));
    }

    #[test]
    fn globals_are_shared_by_name_and_start_unbound() {
        let name = Symbol::intern("env-test-global");
        let a = global(name);
        assert!(a.get().is_err());
        assert!(a.assign(Value::Int(1)).is_err());
        a.define(Value::Int(5));
        assert!(matches!(global(name).get(), Ok(Value::Int(5))));
        assert!(Gc::ptr_eq(&a, &global(name)));
        static ID: Builtin = Builtin {
            name: "env-test-builtin",
            min_args: 1,
            max_args: Some(1),
            func: |args| Ok(args[0].clone()),
        };
        let b = global(Symbol::intern("env-test-builtin"));
        b.define_builtin(&ID);
        assert!(b.pristine_builtin().is_some());
        assert!(matches!(b.get(), Ok(Value::Builtin(_))));
        b.define(Value::Int(1));
        assert!(
            b.pristine_builtin().is_none(),
            "a redefinition ends the fast path"
        );
        assert!(matches!(b.get(), Ok(Value::Int(1))));
    }
}
