//! Builtins that reach outside the language: output, the collector, the command line.
//!
//! - `display`, `write`, `newline` format into a `String` first (printer.rs) and write it
//!   with one call on the locked stdout, so output of concurrent threads interleaves only
//!   between whole `display`s; a failed write (a closed pipe) is an `Io` error, not a
//!   panic.
//! - `(collect)` is `gc::collect()`: one full cycle, returning when it is swept.
//! - `(gc-stats)` is `gc::stats()` as an association list, e.g.
//!   `(cdr (assq 'heap-bytes (gc-stats)))`. Pause figures are over the collector's last
//!   256 stalls, in nanoseconds.
//! - `(command-line-arguments)` is the list of arguments after the script's file name.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use crate::error::{error, Result};
use crate::printer::{self, Mode};
use crate::symbol::Symbol;
use crate::value::{Builtin, Value};

/// The system builtins.
pub(crate) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "display",
        min_args: 1,
        max_args: Some(1),
        func: display,
    },
    Builtin {
        name: "write",
        min_args: 1,
        max_args: Some(1),
        func: write,
    },
    Builtin {
        name: "newline",
        min_args: 0,
        max_args: Some(0),
        func: newline,
    },
    Builtin {
        name: "collect",
        min_args: 0,
        max_args: Some(0),
        func: collect,
    },
    Builtin {
        name: "gc-stats",
        min_args: 0,
        max_args: Some(0),
        func: gc_stats,
    },
    Builtin {
        name: "command-line-arguments",
        min_args: 0,
        max_args: Some(0),
        func: command_line_arguments,
    },
];

static SCRIPT_ARGUMENTS: OnceLock<Vec<String>> = OnceLock::new();

/// Records the arguments after the script's name (once, before the program runs).
pub(crate) fn set_script_arguments(args: Vec<String>) {
    // A second call would be a driver bug; the first value stays.
    let _ = SCRIPT_ARGUMENTS.set(args);
}

/// Whether the last character written to stdout was a newline (or nothing was written).
static AT_LINE_START: AtomicBool = AtomicBool::new(true);

/// Writes `text` to stdout in one locked write.
pub(crate) fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if let Some(last) = text.chars().last() {
        // Relaxed: a hint for the REPL's fresh line, read on the thread that writes
        // results; output of other threads may race with it, and then a line is only
        // broken or not.
        AT_LINE_START.store(last == '\n', Ordering::Relaxed);
    }
    out.write_all(text.as_bytes())
        .and_then(|()| {
            if text.ends_with('\n') {
                out.flush()
            } else {
                Ok(())
            }
        })
        .map_err(|e| error!(Io, "cannot write the output: {e}"))
}

/// Starts a new line on stdout unless the output is already at the start of one (the
/// REPL calls it before printing a value and before its prompt).
pub(crate) fn fresh_line() -> Result<()> {
    // Relaxed: see `emit`.
    if AT_LINE_START.load(Ordering::Relaxed) {
        Ok(())
    } else {
        emit("\n")
    }
}

fn display(args: &[Value]) -> Result<Value> {
    emit(&printer::to_string(&args[0], Mode::Display))?;
    Ok(Value::Unspecified)
}

fn write(args: &[Value]) -> Result<Value> {
    emit(&printer::to_string(&args[0], Mode::Write))?;
    Ok(Value::Unspecified)
}

fn newline(_: &[Value]) -> Result<Value> {
    emit("\n")?;
    Ok(Value::Unspecified)
}

fn collect(_: &[Value]) -> Result<Value> {
    gc::collect();
    Ok(Value::Unspecified)
}

fn int(n: impl TryInto<i64>) -> Value {
    Value::Int(n.try_into().unwrap_or(i64::MAX))
}

fn gc_stats(_: &[Value]) -> Result<Value> {
    let stats = gc::stats();
    let mut pauses: Vec<u128> = stats.pauses.iter().map(|p| p.as_nanos()).collect();
    pauses.sort_unstable();
    let p99 = match pauses.len() {
        0 => 0,
        n => pauses[(n * 99).div_ceil(100) - 1],
    };
    let max = pauses.last().copied().unwrap_or(0);
    let fields = [
        ("cycles", int(stats.cycles)),
        ("heap-objects", int(stats.heap_objects)),
        ("heap-bytes", int(stats.heap_bytes)),
        ("heap-goal-bytes", int(stats.heap_goal_bytes)),
        ("reclaimed-objects", int(stats.reclaimed_objects)),
        ("forced-cycles", int(stats.forced_cycles)),
        ("pause-count", int(stats.pause_count)),
        ("pause-total-ns", int(stats.total_pause.as_nanos())),
        ("pause-p99-ns", int(p99)),
        ("pause-max-ns", int(max)),
    ];
    Ok(Value::list(fields.into_iter().map(|(name, value)| {
        Value::cons(Value::Symbol(Symbol::intern(name)), value)
    })))
}

fn command_line_arguments(_: &[Value]) -> Result<Value> {
    let args = SCRIPT_ARGUMENTS.get().map(Vec::as_slice).unwrap_or(&[]);
    Ok(Value::list(args.iter().map(|a| Value::string(a.as_str()))))
}
