//! Errors: every failure of reading, compiling or running a program is a value of
//! [`Error`], never a panic.
//!
//! # Design
//! - An error has a [`ErrorKind`] (what went wrong, in words a user knows: "unbound
//!   variable", "wrong type", ...), a message, and the source line it happened on.
//! - Builtins and helpers that do not know the line create errors without one; the
//!   evaluator attaches the line of the call or variable reference it was running
//!   ([`Error::at`] keeps the innermost line, so a nested attachment never overwrites it).
//! - `Error` derives `Trace` (it holds no `Gc`) so that a thread's `Result<Value, Error>`
//!   can be stored in a `GcCell` of its thread object (threads.rs).
//!
//! Display form: `"{kind}: {message}"`; the driver prints the line in front of it
//! (`error: line 3: unbound variable: foo`, or `file.scm:3: error: ...` in file mode).

use std::fmt;

use gc::Trace;

/// What kind of failure an [`Error`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Trace)]
pub(crate) enum ErrorKind {
    /// Malformed source: unbalanced parentheses, a bad token, a special form misused.
    Syntax,
    /// A variable with no binding (or used before its definition).
    Unbound,
    /// An operand of the wrong type, or a call of something that is not a procedure.
    Type,
    /// A call with the wrong number of arguments.
    Arity,
    /// Division (or `quotient`, `remainder`, `modulo`) by an exact zero.
    DivisionByZero,
    /// An index or size outside what is allowed, or an integer overflow.
    Range,
    /// More pending continuation frames than the evaluator allows (eval.rs).
    RecursionTooDeep,
    /// A spawned thread could not start, or failed (the failure is reported by `join`).
    Thread,
    /// Writing the output failed.
    Io,
}

impl ErrorKind {
    fn label(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::Unbound => "unbound variable",
            ErrorKind::Type => "wrong type",
            ErrorKind::Arity => "wrong number of arguments",
            ErrorKind::DivisionByZero => "division by zero",
            ErrorKind::Range => "out of range",
            ErrorKind::RecursionTooDeep => "recursion too deep",
            ErrorKind::Thread => "thread error",
            ErrorKind::Io => "i/o error",
        }
    }
}

/// A failure of a program, with the source line it happened on (when known).
#[derive(Clone, Debug, Trace)]
pub(crate) struct Error {
    /// What went wrong.
    pub(crate) kind: ErrorKind,
    /// Details, e.g. `car: expected a pair, got 5`.
    pub(crate) message: String,
    /// The 1-based source line, once the evaluator or reader has attached it.
    pub(crate) line: Option<u32>,
}

/// The result of every fallible operation of the interpreter.
pub(crate) type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind` with no line yet.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            line: None,
        }
    }

    /// The same error located at `line`, unless it already carries a line (the innermost
    /// location wins).
    pub(crate) fn at(mut self, line: u32) -> Error {
        if self.line.is_none() {
            self.line = Some(line);
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)
    }
}

impl std::error::Error for Error {}

/// Shorthand for an error of `kind` with a formatted message and no line.
macro_rules! error {
    ($kind:ident, $($arg:tt)*) => {
        $crate::error::Error::new($crate::error::ErrorKind::$kind, format!($($arg)*))
    };
}
pub(crate) use error;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_innermost_line_wins() {
        let e = Error::new(ErrorKind::Type, "car: expected a pair, got 5")
            .at(3)
            .at(9);
        assert_eq!(e.line, Some(3));
        assert_eq!(e.to_string(), "wrong type: car: expected a pair, got 5");
    }
}
