//! `scheme`: a Scheme interpreter whose heap is tricolor-gc, with OS threads sharing one
//! heap (issue #12).
//!
//! Run `scheme FILE.scm [ARGS...]` to run a program (an error prints `FILE:LINE: error:
//! ...` on stderr and exits with status 1), or `scheme` for a REPL (line editing on a
//! terminal; plain lines from a pipe). Environment: `SCHEME_MAX_DEPTH` (pending
//! continuation frames before "recursion too deep", default 1,000,000),
//! `SCHEME_GC_STRESS=MS` (a background thread runs `gc::collect()` every MS
//! milliseconds, 0 for back to back, and at least once every 4096 closure calls of each
//! evaluator, so that cycles overlap evaluation even in programs whose heap never reaches
//! a goal: the tests use it; see stress.rs), and the collector's own
//! `TRICOLOR_GC_PERCENT`, `TRICOLOR_MEMORY_LIMIT`, `TRICOLOR_TRACE`.
//!
//! # Modules, in the order data flows through them
//! | module | idea |
//! |---|---|
//! | `reader` | text to line-numbered data, iteratively |
//! | `syntax` | data to compiled nodes: special forms, lexical addresses |
//! | `eval` | the CEK machine: explicit continuation stack, proper tail calls |
//! | `value` | the value representation; pairs, vectors, closures as `Gc` objects |
//! | `env` | frames (immutable or `GcCell`) and the shared global table |
//! | `symbol` | interned symbols, outside the GC heap |
//! | `builtins` | procedures written in Rust |
//! | `printer` | `display` / `write`, with datum labels for cycles |
//! | `threads` | `spawn` / `join` |
//! | `stress` | `SCHEME_GC_STRESS`: cycles in proportion to time and to work |
//! | `error` | the error type, with source lines |
//! | `repl` | the interactive and piped REPL |
//!
//! # Driver
//! The program runs on a driver thread with a [`DRIVER_STACK_BYTES`] stack. Evaluation
//! itself needs little Rust stack (eval.rs), but the compiler and the drop of a parsed
//! datum recurse over the nesting of the source, which the reader caps at
//! `reader::MAX_NESTING` levels; the driver's stack has room for that cap many times over
//! in any build profile.

mod builtins;
mod env;
mod error;
mod eval;
mod printer;
mod reader;
mod repl;
mod stress;
mod symbol;
mod syntax;
mod threads;
mod value;

use std::io::Write as _;
use std::process::ExitCode;

use crate::error::{Error, Result};
use crate::eval::Machine;
use crate::reader::{Datum, Reader};
use crate::value::Value;

/// The driver thread's stack (virtual memory; only what the compiler touches is used).
const DRIVER_STACK_BYTES: usize = 256 << 20;

const USAGE: &str = "usage: scheme [FILE.scm [ARGS...]]
  with a file: runs it; (command-line-arguments) is ARGS; exit status 1 on an error
  without one: a REPL on stdin (line editing on a terminal)
environment: SCHEME_MAX_DEPTH (default 1000000), SCHEME_GC_STRESS=MS (collect every MS ms
  and every 4096 closure calls),
  TRICOLOR_GC_PERCENT, TRICOLOR_MEMORY_LIMIT, TRICOLOR_TRACE=1
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let script = args.next();
    if matches!(script.as_deref(), Some("-h" | "--help")) {
        let _ = std::io::stdout().write_all(USAGE.as_bytes());
        return ExitCode::SUCCESS;
    }
    if let Err(message) = configure() {
        let _ = writeln!(std::io::stderr(), "scheme: {message}");
        return ExitCode::from(2);
    }
    let script_args: Vec<String> = args.collect();
    builtins::install();
    let driver = std::thread::Builder::new()
        .name("scheme".into())
        .stack_size(DRIVER_STACK_BYTES)
        .spawn(move || match script {
            Some(path) => run_file(&path, script_args),
            None => repl::run(),
        });
    let status = match driver.map(|d| d.join()) {
        Ok(Ok(status)) => status,
        Ok(Err(_)) => {
            let _ = writeln!(
                std::io::stderr(),
                "scheme: internal error: the interpreter panicked"
            );
            101
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "scheme: cannot start the interpreter thread: {e}"
            );
            2
        }
    };
    let _ = std::io::stdout().flush();
    ExitCode::from(status)
}

/// Reads the interpreter's own environment variables.
fn configure() -> std::result::Result<(), String> {
    if let Ok(text) = std::env::var("SCHEME_MAX_DEPTH") {
        match text.trim().parse::<usize>() {
            Ok(depth) if depth > 0 => eval::set_max_depth(depth),
            _ => {
                return Err(format!(
                    "SCHEME_MAX_DEPTH must be a positive integer, got {text:?}"
                ))
            }
        }
    }
    if let Ok(text) = std::env::var("SCHEME_GC_STRESS") {
        let period = text.trim().parse::<u64>().map_err(|_| {
            format!("SCHEME_GC_STRESS must be a number of milliseconds, got {text:?}")
        })?;
        stress::start(std::time::Duration::from_millis(period))
            .map_err(|e| format!("cannot start the SCHEME_GC_STRESS thread: {e}"))?;
    }
    Ok(())
}

/// Compiles and runs one top-level form.
pub(crate) fn eval_toplevel(machine: &mut Machine, datum: &Datum) -> Result<Value> {
    let code = syntax::compile_toplevel(datum)?;
    machine.run(code)
}

/// Prints `error` on stderr after flushing stdout (so the order on a shared terminal is
/// the order things happened), as `PREFIX:LINE: error: ...` or `error: line LINE: ...`.
pub(crate) fn report(file: Option<&str>, error: &Error) {
    let _ = std::io::stdout().flush();
    let message = match (file, error.line) {
        (Some(file), Some(line)) => format!("{file}:{line}: error: {error}"),
        (Some(file), None) => format!("{file}: error: {error}"),
        (None, Some(line)) => format!("error: line {line}: {error}"),
        (None, None) => format!("error: {error}"),
    };
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// File mode: reads the whole file (so unbalanced parentheses are reported before
/// anything runs), then compiles and runs each form in order. Returns the exit status.
fn run_file(path: &str, script_args: Vec<String>) -> u8 {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "scheme: cannot read {path}: {e}");
            return 1;
        }
    };
    builtins::set_script_arguments(script_args);
    let mut reader = Reader::new(&text, 1);
    let mut data = Vec::new();
    loop {
        match reader.next() {
            Ok(Some(datum)) => data.push(datum),
            Ok(None) => break,
            Err((e, _)) => {
                report(Some(path), &e);
                return 1;
            }
        }
    }
    let mut machine = Machine::new();
    for datum in &data {
        if let Err(e) = eval_toplevel(&mut machine, datum) {
            report(Some(path), &e);
            return 1;
        }
    }
    0
}
