//! The evaluator: a CEK-style machine with an explicit continuation stack.
//!
//! # Why an explicit stack
//! Deep non-tail recursion (building a 100,000-element list with `(cons x (build ...))`)
//! must never overflow the Rust stack. Two designs do that: evaluating recursively on a
//! thread with a huge stack plus a depth counter, or keeping the continuation on the heap.
//! This machine does the latter, because:
//! - the depth it can reach is bounded by memory, not by a guess of how many bytes a Rust
//!   frame of `eval` takes (which changes with the compiler, the build profile and every
//!   edit of the evaluator), so no configuration can make it overflow;
//! - spawned threads need no special stack size;
//! - proper tail calls fall out of it: a call in tail position replaces the machine's
//!   control without pushing anything, so `(loop 10000000)` runs in constant space;
//! - the collector finds roots by subtraction, so the continuation stack and the operand
//!   stack are plain `Vec`s on the Rust heap whose handles are roots with no rooting
//!   code at all (a design that needs registered roots would have to register these).
//!
//! A limit of [`DEFAULT_MAX_DEPTH`] pending frames (`SCHEME_MAX_DEPTH` overrides it)
//! turns runaway recursion into a clean "recursion too deep" error instead of exhausting
//! memory.
//!
//! # The machine
//! State is either `Eval(node, env)` (control is an expression) or `Return(value)`. The
//! loop pops a continuation [`Kont`] for every `Return`; `Eval` of a compound expression
//! pushes the continuation for "the rest of it" and evaluates a subexpression. Operands
//! that need no continuation (constants, variables, `lambda`) are evaluated on the spot,
//! so `(f (- n 1) x)` pushes nothing. Operands of a call collect on the `values` stack;
//! when the last is there the call is applied: a builtin runs on the slice, a closure gets
//! a new frame (env.rs) and its body becomes the control, without a push.
//!
//! # Errors
//! Every error leaves the machine with empty stacks (ready for the REPL's next form) and
//! carries the line of the call or variable reference that failed.

use std::sync::atomic::{AtomicUsize, Ordering};

use gc::Gc;

use crate::env::{Env, Frame};
use crate::error::{error, Result};
use crate::printer;
use crate::stress;
use crate::syntax::{Call, If, Lambda, Let, Local, Node, SetGlobal, SetLocal};
use crate::value::{Builtin, Closure, Value};

/// Pending continuation frames allowed by default (about 50 MB of stack entries).
pub(crate) const DEFAULT_MAX_DEPTH: usize = 1_000_000;

/// The configured limit (set once by the driver from `SCHEME_MAX_DEPTH`).
static MAX_DEPTH: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_DEPTH);

/// Sets the limit on pending continuation frames for machines created afterwards.
pub(crate) fn set_max_depth(depth: usize) {
    // Relaxed: a configuration value set before any machine runs (the driver sets it
    // before starting the program); no other data is published with it.
    MAX_DEPTH.store(depth.max(1), Ordering::Relaxed);
}

/// What the machine does next.
enum State {
    /// Evaluate an expression in an environment.
    Eval(&'static Node, Env),
    /// Hand a value to the innermost pending continuation.
    Return(Value),
}

/// A pending continuation: what to do with the value of the expression being evaluated.
enum Kont {
    /// Choose a branch.
    If { node: &'static If, env: Env },
    /// Discard the value, evaluate `rest[0]` (and then the others).
    Seq { rest: &'static [Node], env: Env },
    /// Stop at a false value, else evaluate `rest[0]`.
    And { rest: &'static [Node], env: Env },
    /// Stop at a true value, else evaluate `rest[0]`.
    Or { rest: &'static [Node], env: Env },
    /// Push the value as operand `next - 1` of `call` (0 is the operator), continue.
    Args {
        call: &'static Call,
        env: Env,
        base: usize,
        next: usize,
    },
    /// Push the value as init `next - 1` of a `let`, continue.
    Let {
        node: &'static Let,
        env: Env,
        base: usize,
        next: usize,
    },
    /// Store the value in slot `index` of the new frame `env`, continue.
    Letrec {
        node: &'static Let,
        env: Env,
        index: usize,
    },
    /// Assign a local.
    SetLocal { node: &'static SetLocal, env: Env },
    /// Assign or define a global.
    SetGlobal { node: &'static SetGlobal },
}

/// One thread's evaluator (see the module docs).
pub(crate) struct Machine {
    stack: Vec<Kont>,
    values: Vec<Value>,
    max_depth: usize,
    /// The line of the call being evaluated, for errors that have no better location.
    line: u32,
    /// Closure calls left before the next GC-stress checkpoint (stress.rs).
    calls_to_checkpoint: u32,
    checkpoints: stress::Checkpoints,
}

impl Machine {
    /// A machine with empty stacks.
    pub(crate) fn new() -> Machine {
        Machine {
            stack: Vec::new(),
            values: Vec::new(),
            // Relaxed: see `set_max_depth`.
            max_depth: MAX_DEPTH.load(Ordering::Relaxed),
            line: 0,
            calls_to_checkpoint: stress::CALLS_PER_CHECKPOINT,
            checkpoints: stress::Checkpoints::default(),
        }
    }

    /// Evaluates compiled top-level code.
    pub(crate) fn run(&mut self, node: &'static Node) -> Result<Value> {
        let result = self.execute(State::Eval(node, None));
        self.finish(result)
    }

    /// Applies `procedure` to `args` (a spawned thread's thunk).
    pub(crate) fn call(&mut self, procedure: Value, args: Vec<Value>, line: u32) -> Result<Value> {
        let base = self.values.len();
        self.values.push(procedure);
        self.values.extend(args);
        let result = self.apply(base, line).and_then(|state| self.execute(state));
        self.finish(result)
    }

    fn finish(&mut self, result: Result<Value>) -> Result<Value> {
        if result.is_err() {
            self.stack.clear();
            self.values.clear();
        }
        result
    }

    fn execute(&mut self, mut state: State) -> Result<Value> {
        loop {
            state = match state {
                State::Eval(node, env) => self.eval(node, env)?,
                State::Return(value) => match self.stack.pop() {
                    None => return Ok(value),
                    Some(kont) => self.resume(kont, value)?,
                },
            };
        }
    }

    /// The value of an expression that needs no continuation: a leaf (see [`leaf`]), or
    /// a call of a builtin whose operands are leaves (run here, on the operand stack).
    /// `None` for the others, which the caller evaluates with a continuation.
    #[inline(always)]
    fn simple(&mut self, node: &'static Node, env: &Env) -> Result<Option<Value>> {
        match node {
            Node::Call(call) if call.leaf => self.leaf_call(call, env),
            _ => leaf(node, env),
        }
    }

    /// Runs `call` on the spot if its operator is a builtin (see [`Call::leaf`]).
    fn leaf_call(&mut self, call: &'static Call, env: &Env) -> Result<Option<Value>> {
        let builtin = match &call.func {
            Node::Global(global, line) => match global.pristine_builtin() {
                Some(builtin) => builtin,
                None => match global.get().map_err(|e| e.at(*line))? {
                    Value::Builtin(builtin) => builtin,
                    _ => return Ok(None),
                },
            },
            _ => return Ok(None),
        };
        self.line = call.line;
        check_builtin_arity(builtin, call.args.len()).map_err(|e| e.at(call.line))?;
        let base = self.values.len();
        for arg in call.args.iter() {
            match leaf(arg, env)? {
                Some(value) => self.values.push(value),
                None => {
                    self.values.truncate(base);
                    return Ok(None);
                }
            }
        }
        let result = (builtin.func)(&self.values[base..]).map_err(|e| e.at(call.line));
        self.values.truncate(base);
        result.map(Some)
    }

    fn push(&mut self, kont: Kont) -> Result<()> {
        if self.stack.len() >= self.max_depth {
            return Err(error!(
                RecursionTooDeep,
                "more than {} nested evaluations are pending (non-tail recursion too deep; SCHEME_MAX_DEPTH sets the limit)",
                self.max_depth
            )
            .at(self.line));
        }
        self.stack.push(kont);
        Ok(())
    }

    fn eval(&mut self, node: &'static Node, env: Env) -> Result<State> {
        Ok(match node {
            Node::Const(value) => State::Return(value.clone()),
            Node::Local(local) => State::Return(read_local(local, &env)?),
            Node::Global(global, line) => State::Return(global.get().map_err(|e| e.at(*line))?),
            Node::Lambda(lambda) => State::Return(closure(lambda, env)),
            Node::If(node) => match self.simple(&node.test, &env)? {
                Some(test) => branch(node, &test, env),
                None => {
                    self.push(Kont::If {
                        node,
                        env: env.clone(),
                    })?;
                    State::Eval(&node.test, env)
                }
            },
            Node::Seq(nodes) => self.next_in(nodes, env, Value::Unspecified, |rest, env| {
                Kont::Seq { rest, env }
            })?,
            Node::And(nodes) => self.next_in(nodes, env, Value::Unspecified, |rest, env| {
                Kont::And { rest, env }
            })?,
            Node::Or(nodes) => self.next_in(nodes, env, Value::Unspecified, |rest, env| {
                Kont::Or { rest, env }
            })?,
            Node::Call(call) => {
                self.line = call.line;
                let base = self.values.len();
                self.operands(call, env, base, 0)?
            }
            Node::Let(node) => {
                self.line = node.line;
                let base = self.values.len();
                self.let_inits(node, env, base, 0)?
            }
            Node::Letrec(node) => {
                self.line = node.line;
                let base = self.values.len();
                let frame = Frame::from_stack(&mut self.values, base, node.frame_size, true, env);
                let env = Some(Gc::new(frame));
                self.letrec_inits(node, env, 0)?
            }
            Node::SetLocal(node) => match self.simple(&node.value, &env)? {
                Some(value) => {
                    write_local(&node.target, &env, value)?;
                    State::Return(Value::Unspecified)
                }
                None => {
                    self.push(Kont::SetLocal {
                        node,
                        env: env.clone(),
                    })?;
                    State::Eval(&node.value, env)
                }
            },
            Node::SetGlobal(node) => match self.simple(&node.value, &env)? {
                Some(value) => {
                    write_global(node, value)?;
                    State::Return(Value::Unspecified)
                }
                None => {
                    self.push(Kont::SetGlobal { node })?;
                    State::Eval(&node.value, env)
                }
            },
        })
    }

    fn resume(&mut self, kont: Kont, value: Value) -> Result<State> {
        Ok(match kont {
            Kont::If { node, env } => branch(node, &value, env),
            Kont::Seq { rest, env } => {
                self.next_in(rest, env, value, |rest, env| Kont::Seq { rest, env })?
            }
            Kont::And { rest, env } if value.is_true() => {
                self.next_in(rest, env, value, |rest, env| Kont::And { rest, env })?
            }
            Kont::Or { rest, env } if !value.is_true() => {
                self.next_in(rest, env, value, |rest, env| Kont::Or { rest, env })?
            }
            Kont::And { .. } | Kont::Or { .. } => State::Return(value),
            Kont::Args {
                call,
                env,
                base,
                next,
            } => {
                self.values.push(value);
                self.operands(call, env, base, next)?
            }
            Kont::Let {
                node,
                env,
                base,
                next,
            } => {
                self.values.push(value);
                self.let_inits(node, env, base, next)?
            }
            Kont::Letrec { node, env, index } => {
                init_slot(&env, index, value)?;
                self.letrec_inits(node, env, index + 1)?
            }
            Kont::SetLocal { node, env } => {
                write_local(&node.target, &env, value)?;
                State::Return(Value::Unspecified)
            }
            Kont::SetGlobal { node } => {
                write_global(node, value)?;
                State::Return(Value::Unspecified)
            }
        })
    }

    /// Evaluates `rest[0]`, first pushing `kont(&rest[1..], env)` if more follows.
    /// (`rest` is never empty: the compiler makes sequences of at least two.)
    fn next_in(
        &mut self,
        rest: &'static [Node],
        env: Env,
        value: Value,
        kont: fn(&'static [Node], Env) -> Kont,
    ) -> Result<State> {
        Ok(match rest {
            [] => State::Return(value),
            [last] => State::Eval(last, env),
            [first, more @ ..] => {
                self.push(kont(more, env.clone()))?;
                State::Eval(first, env)
            }
        })
    }

    /// Evaluates the operator and operands of `call` from operand `next` on.
    fn operands(
        &mut self,
        call: &'static Call,
        env: Env,
        base: usize,
        mut next: usize,
    ) -> Result<State> {
        let count = call.args.len() + 1;
        while next < count {
            let node = if next == 0 {
                &call.func
            } else {
                &call.args[next - 1]
            };
            match self.simple(node, &env)? {
                Some(value) => self.values.push(value),
                None => {
                    self.push(Kont::Args {
                        call,
                        env: env.clone(),
                        base,
                        next: next + 1,
                    })?;
                    return Ok(State::Eval(node, env));
                }
            }
            next += 1;
        }
        self.line = call.line;
        self.apply(base, call.line)
    }

    /// Applies `values[base]` to `values[base + 1..]` and pops them.
    fn apply(&mut self, base: usize, line: u32) -> Result<State> {
        let argc = self.values.len() - base - 1;
        let (lambda, parent) = match &self.values[base] {
            Value::Builtin(builtin) => {
                let builtin: &'static Builtin = builtin;
                check_builtin_arity(builtin, argc).map_err(|e| e.at(line))?;
                let result = (builtin.func)(&self.values[base + 1..]).map_err(|e| e.at(line));
                self.values.truncate(base);
                return Ok(State::Return(result?));
            }
            Value::Closure(closure) => (closure.lambda, closure.env.clone()),
            other => {
                return Err(error!(
                    Type,
                    "not a procedure: {} (in operator position)",
                    printer::write_short(other)
                )
                .at(line))
            }
        };
        check_closure_arity(lambda, argc).map_err(|e| e.at(line))?;
        self.calls_to_checkpoint -= 1;
        if self.calls_to_checkpoint == 0 {
            self.calls_to_checkpoint = stress::CALLS_PER_CHECKPOINT;
            self.checkpoints.checkpoint();
        }
        let env = if lambda.frame_size == 0 {
            parent
        } else {
            let args_start = base + 1;
            if lambda.rest {
                let extra = Value::list(self.values.drain(args_start + lambda.required..));
                self.values.push(extra);
            }
            let frame = Frame::from_stack(
                &mut self.values,
                args_start,
                lambda.frame_size,
                lambda.mutable,
                parent,
            );
            Some(Gc::new(frame))
        };
        self.values.truncate(base);
        Ok(State::Eval(&lambda.body, env))
    }

    fn let_inits(
        &mut self,
        node: &'static Let,
        env: Env,
        base: usize,
        mut next: usize,
    ) -> Result<State> {
        while next < node.inits.len() {
            match self.simple(&node.inits[next], &env)? {
                Some(value) => self.values.push(value),
                None => {
                    self.push(Kont::Let {
                        node,
                        env: env.clone(),
                        base,
                        next: next + 1,
                    })?;
                    return Ok(State::Eval(&node.inits[next], env));
                }
            }
            next += 1;
        }
        let frame = Frame::from_stack(&mut self.values, base, node.frame_size, node.mutable, env);
        let env = Some(Gc::new(frame));
        Ok(State::Eval(&node.body, env))
    }

    fn letrec_inits(&mut self, node: &'static Let, env: Env, mut index: usize) -> Result<State> {
        while index < node.inits.len() {
            match self.simple(&node.inits[index], &env)? {
                Some(value) => init_slot(&env, index, value)?,
                None => {
                    self.push(Kont::Letrec {
                        node,
                        env: env.clone(),
                        index,
                    })?;
                    return Ok(State::Eval(&node.inits[index], env));
                }
            }
            index += 1;
        }
        Ok(State::Eval(&node.body, env))
    }
}

/// The value of a constant, a variable or a `lambda`; `None` for other expressions.
#[inline(always)]
fn leaf(node: &'static Node, env: &Env) -> Result<Option<Value>> {
    Ok(Some(match node {
        Node::Const(value) => value.clone(),
        Node::Local(local) => read_local(local, env)?,
        Node::Global(global, line) => global.get().map_err(|e| e.at(*line))?,
        Node::Lambda(lambda) => closure(lambda, env.clone()),
        _ => return Ok(None),
    }))
}

fn branch(node: &'static If, test: &Value, env: Env) -> State {
    if test.is_true() {
        State::Eval(&node.then, env)
    } else {
        match &node.otherwise {
            Some(otherwise) => State::Eval(otherwise, env),
            None => State::Return(Value::Unspecified),
        }
    }
}

fn closure(lambda: &'static Lambda, env: Env) -> Value {
    Value::Closure(Gc::new(Closure { lambda, env }))
}

#[inline(always)]
fn read_local(local: &Local, env: &Env) -> Result<Value> {
    match env
        .as_deref()
        .and_then(|frame| frame.get(local.depth, local.index))
    {
        Some(Value::Unassigned) => Err(error!(
            Unbound,
            "{} (used before its definition)",
            local.name.name()
        )
        .at(local.line)),
        Some(value) => Ok(value),
        None => Err(bad_address(local)),
    }
}

fn write_local(local: &Local, env: &Env, value: Value) -> Result<()> {
    match env.as_deref() {
        Some(frame) if frame.set(local.depth, local.index, value) => Ok(()),
        _ => Err(bad_address(local)),
    }
}

/// A `letrec` slot of the frame the `Letrec` node just made.
fn init_slot(env: &Env, index: usize, value: Value) -> Result<()> {
    match env.as_deref() {
        Some(frame) if frame.set(0, index, value) => Ok(()),
        _ => Err(error!(
            Unbound,
            "letrec slot {index} is missing (compiler bug)"
        )),
    }
}

/// The compiler resolved a variable to a frame slot that does not exist at run time.
/// Unreachable with the compiler as written; an error rather than a panic all the same.
fn bad_address(local: &Local) -> crate::error::Error {
    error!(
        Unbound,
        "{} has no slot at depth {} index {} (compiler bug)",
        local.name.name(),
        local.depth,
        local.index
    )
    .at(local.line)
}

fn write_global(node: &SetGlobal, value: Value) -> Result<()> {
    if node.define {
        node.global.define(value);
        Ok(())
    } else {
        node.global.assign(value).map_err(|e| e.at(node.line))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn check_builtin_arity(builtin: &Builtin, argc: usize) -> Result<()> {
    let ok = argc >= builtin.min_args && builtin.max_args.map_or(true, |max| argc <= max);
    if ok {
        return Ok(());
    }
    let expected = match builtin.max_args {
        Some(max) if max == builtin.min_args => format!("{max} argument{}", plural(max)),
        Some(max) => format!("{} to {max} arguments", builtin.min_args),
        None => format!(
            "at least {} argument{}",
            builtin.min_args,
            plural(builtin.min_args)
        ),
    };
    Err(error!(
        Arity,
        "{}: expected {expected}, got {argc}", builtin.name
    ))
}

fn check_closure_arity(lambda: &Lambda, argc: usize) -> Result<()> {
    let ok = argc == lambda.required || (lambda.rest && argc > lambda.required);
    if ok {
        return Ok(());
    }
    let name = lambda.name.map_or("anonymous procedure", |n| n.name());
    let expected = if lambda.rest {
        format!(
            "at least {} argument{}",
            lambda.required,
            plural(lambda.required)
        )
    } else {
        format!("{} argument{}", lambda.required, plural(lambda.required))
    };
    Err(error!(Arity, "{name}: expected {expected}, got {argc}"))
}
