//! Threads: `(spawn thunk)` runs a procedure on a new OS thread; `(join t)` waits for it.
//!
//! # Design
//! - A spawned thread gets its own evaluator ([`Machine`]) and nothing else of its own:
//!   globals (env.rs) and every heap object are shared with the spawning thread, through
//!   `Gc` handles, which are `Send + Sync` because every object type is. Moving the thunk
//!   (a `Value`) into the new thread is all the setup there is; the collector registers
//!   the thread on its first allocation.
//! - Concurrent mutation of one object is memory-safe because every mutable slot is a
//!   `GcCell` (an `RwLock` across threads) and no borrow is held across user code
//!   (value.rs). A program can still race at the language level (two `set-car!`s, one
//!   wins), and two threads that join each other deadlock, as they would in any language.
//! - The thread's result — its value, or the error that ended it — is returned by `join`;
//!   an error inside the thunk becomes a "thread error" raised by `join`, at the `join`'s
//!   line, with the thread's own message and line. A thread never takes the process down.
//! - [`ThreadObj`] is a heap object: the `JoinHandle` (in a skipped field: it holds no
//!   handle the collector could count) and, once joined, the result in a `GcCell`, so that
//!   joining twice returns the same result. While not joined, the result sits in the
//!   standard library's join packet, outside the GC heap, and its handles are roots.
//! - Joining waits in `JoinHandle::join`, outside any collector operation, so a cycle
//!   never waits for a joining thread.

use std::thread::{JoinHandle, ThreadId};

use gc::{Gc, GcCell, Trace};
use parking_lot::Mutex;

use crate::builtins::wrong_type;
use crate::error::{error, Error, Result};
use crate::eval::Machine;
use crate::value::{Builtin, Value};

/// The thread builtins.
pub(crate) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "spawn",
        min_args: 1,
        max_args: Some(1),
        func: spawn,
    },
    Builtin {
        name: "join",
        min_args: 1,
        max_args: Some(1),
        func: join,
    },
];

/// A spawned thread, as a Scheme value.
#[derive(Trace)]
pub(crate) struct ThreadObj {
    /// The OS thread, to refuse a self-join (which would deadlock, or panic in std).
    #[gc(skip)]
    id: ThreadId,
    /// Taken by the first `join`.
    #[gc(skip)]
    handle: Mutex<Option<JoinHandle<Result<Value>>>>,
    /// Set by the first `join`.
    result: GcCell<Option<Result<Value>>>,
}

fn spawn(args: &[Value]) -> Result<Value> {
    let thunk = args[0].clone();
    let takes_no_arguments = match &thunk {
        Value::Closure(c) => c.lambda.required == 0,
        Value::Builtin(b) => b.min_args == 0,
        _ => false,
    };
    if !takes_no_arguments {
        return Err(wrong_type("spawn", "a procedure of no arguments", &thunk));
    }
    let handle = std::thread::Builder::new()
        .name("scheme thread".into())
        .spawn(move || Machine::new().call(thunk, Vec::new(), 0))
        .map_err(|e| error!(Thread, "spawn: cannot start a thread: {e}"))?;
    Ok(Value::Thread(Gc::new(ThreadObj {
        id: handle.thread().id(),
        handle: Mutex::new(Some(handle)),
        result: GcCell::new(None),
    })))
}

fn join(args: &[Value]) -> Result<Value> {
    let Value::Thread(thread) = &args[0] else {
        return Err(wrong_type("join", "a thread", &args[0]));
    };
    if thread.id == std::thread::current().id() {
        return Err(error!(Thread, "join: a thread cannot join itself"));
    }
    {
        // Held while joining: a second joiner waits here, then finds the result.
        let mut handle = thread.handle.lock();
        if let Some(handle) = handle.take() {
            let outcome = handle
                .join()
                .unwrap_or_else(|_| Err(error!(Thread, "the thread panicked")));
            *thread.result.borrow_mut() = Some(outcome);
        }
    }
    let outcome = thread.result.borrow().clone();
    match outcome {
        Some(Ok(value)) => Ok(value),
        Some(Err(e)) => Err(error!(Thread, "join: the thread failed: {}", located(&e))),
        None => Err(error!(Thread, "join: the thread has no result")),
    }
}

/// `line N: message`, or just the message when it has no line.
fn located(e: &Error) -> String {
    match e.line {
        Some(line) => format!("line {line}: {e}"),
        None => e.to_string(),
    }
}
