//! Builtins: the procedures written in Rust, and the table that binds them as globals.
//!
//! | module | procedures |
//! |---|---|
//! | `numbers` | `+ - * / = < > <= >= quotient remainder modulo abs number? integer? zero? number->string string->number` |
//! | `data` | pairs and lists, vectors, type predicates, `eq? eqv? equal? not` |
//! | `system` | `display write newline collect gc-stats command-line-arguments` |
//! | `threads` (crate root) | `spawn join` |
//!
//! Every builtin is a `fn(&[Value]) -> Result<Value>` with an arity range; the evaluator
//! checks the arity before the call, so a builtin may index its arguments up to its
//! minimum count. Builtins never call back into the evaluator, so none of them can hold a
//! `GcCell` borrow across user code.

mod data;
mod numbers;
mod system;

pub(crate) use system::{emit, fresh_line, set_script_arguments};

use crate::env::global;
use crate::error::{error, Result};
use crate::printer;
use crate::symbol::Symbol;
use crate::value::{Builtin, Value};

/// Binds every builtin as a global variable (a program may redefine them).
pub(crate) fn install() {
    let tables: [&'static [Builtin]; 4] = [
        numbers::BUILTINS,
        data::BUILTINS,
        system::BUILTINS,
        crate::threads::BUILTINS,
    ];
    for builtin in tables.into_iter().flatten() {
        global(Symbol::intern(builtin.name)).define_builtin(builtin);
    }
}

/// A "wrong type" error: `who: expected WHAT, got VALUE`.
pub(crate) fn wrong_type(who: &str, what: &str, got: &Value) -> crate::error::Error {
    error!(
        Type,
        "{who}: expected {what}, got {}",
        printer::write_short(got)
    )
}

/// A non-negative integer argument that fits in `usize`.
pub(crate) fn index_arg(who: &str, value: &Value) -> Result<usize> {
    match value {
        Value::Int(n) => usize::try_from(*n)
            .map_err(|_| error!(Range, "{who}: expected a non-negative index, got {n}")),
        other => Err(wrong_type(who, "an integer", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_names_are_unique() {
        let tables: [&'static [Builtin]; 4] = [
            numbers::BUILTINS,
            data::BUILTINS,
            system::BUILTINS,
            crate::threads::BUILTINS,
        ];
        let mut names: Vec<&str> = tables.into_iter().flatten().map(|b| b.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
