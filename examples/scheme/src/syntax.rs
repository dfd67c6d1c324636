//! The compiler: data to [`Node`] trees with lexical addresses, and the special forms.
//!
//! # Design
//! - One pass over the datum, with a chain of compile-time [`Scope`]s that mirrors the
//!   run-time frames. A variable resolves to a local `(depth, index)` or to a global
//!   (a `Gc<Global>` held by the node, env.rs). Special forms are recognised by keyword
//!   unless the keyword is bound as a local variable.
//! - Special forms: `quote define set! lambda let (named let) let* letrec letrec* if cond
//!   (with else) begin and or when unless`. `let*` compiles to one frame whose variables
//!   come into scope one by one, `letrec`/`letrec*` to one frame whose variables are
//!   assigned in order (so `letrec` has `letrec*` semantics), a named `let` to a `letrec`
//!   of a lambda applied to the initial values, `cond` to nested `if`s.
//! - Internal defines: before a body is compiled its `define`s (also inside `begin`s) are
//!   collected and become slots of the body's frame, so a body is `letrec*`-like.
//! - A scope with no variables creates no frame (`(lambda () ...)`, `(let () ...)`): the
//!   body runs in the enclosing frame, which saves an allocation per call of a thunk.
//! - A frame is immutable (`Slots::Fixed`, env.rs) unless something assigns one of its
//!   variables; the compiler knows after compiling the body, and records it in the node.
//!
//! # Code lifetime
//! A compiled top-level form is leaked (`&'static Node`) and never freed. There is no
//! `eval`, so the code of a process is bounded by the source text it read (a REPL keeps
//! the code of every line typed). In exchange, closures and continuation frames refer to
//! code by plain reference: running code touches no reference count, which matters when
//! several threads run the same procedures (a shared count would bounce its cache line
//! between cores on every call). Quoted constants inside code hold `Gc` handles from
//! outside the heap, so they are roots for as long as the code exists: forever, exactly
//! as long as the code can still produce them.

use std::cell::Cell;

use gc::Gc;

use crate::env::{global, Global};
use crate::error::{error, Result};
use crate::reader::{Datum, DatumKind};
use crate::symbol::Symbol;
use crate::value::{Value, Vector};

/// A compiled lambda expression.
#[derive(Debug)]
pub(crate) struct Lambda {
    /// The name it was defined with, for messages.
    pub(crate) name: Option<Symbol>,
    /// The number of required parameters.
    pub(crate) required: usize,
    /// Whether extra arguments are collected in a list (`(a . rest)` or `args`).
    pub(crate) rest: bool,
    /// Slots of the call frame: parameters, then internal defines. 0: no frame is made.
    pub(crate) frame_size: usize,
    /// Whether the frame's slots are ever assigned (selects `Slots::Mutable`).
    pub(crate) mutable: bool,
    /// The body.
    pub(crate) body: Node,
}

/// A compiled expression.
#[derive(Debug)]
pub(crate) enum Node {
    /// A literal or quoted constant.
    Const(Value),
    /// A local variable reference.
    Local(Local),
    /// A global variable reference.
    Global(Gc<Global>, u32),
    /// `set!` of a local, or an internal `define`.
    SetLocal(Box<SetLocal>),
    /// `set!` or top-level `define` of a global.
    SetGlobal(Box<SetGlobal>),
    /// `if` (and `cond`, `when`, `unless`).
    If(Box<If>),
    /// `lambda`.
    Lambda(Box<Lambda>),
    /// `begin` and bodies: at least two expressions.
    Seq(Box<[Node]>),
    /// `and` with at least two operands.
    And(Box<[Node]>),
    /// `or` with at least two operands.
    Or(Box<[Node]>),
    /// A procedure call.
    Call(Box<Call>),
    /// `let`: values computed outside, then a new frame.
    Let(Box<Let>),
    /// `letrec`, `letrec*`, `let*`: a new frame, then values computed inside, in order.
    Letrec(Box<Let>),
}

/// A local variable's lexical address.
#[derive(Debug)]
pub(crate) struct Local {
    /// Frames to walk up.
    pub(crate) depth: usize,
    /// Slot in that frame.
    pub(crate) index: usize,
    /// For "used before its definition" messages.
    pub(crate) name: Symbol,
    /// Source line of the reference.
    pub(crate) line: u32,
}

/// `set!` of a local / internal `define`.
#[derive(Debug)]
pub(crate) struct SetLocal {
    /// Where.
    pub(crate) target: Local,
    /// The new value.
    pub(crate) value: Node,
}

/// `set!` / `define` of a global.
#[derive(Debug)]
pub(crate) struct SetGlobal {
    /// Which.
    pub(crate) global: Gc<Global>,
    /// The new value.
    pub(crate) value: Node,
    /// `define` (binds) rather than `set!` (requires a binding).
    pub(crate) define: bool,
    /// Source line.
    pub(crate) line: u32,
}

/// `if`.
#[derive(Debug)]
pub(crate) struct If {
    /// The condition.
    pub(crate) test: Node,
    /// Taken when the condition is true.
    pub(crate) then: Node,
    /// Taken when false; `None` yields the unspecified value.
    pub(crate) otherwise: Option<Node>,
}

/// A procedure call.
#[derive(Debug)]
pub(crate) struct Call {
    /// The operator.
    pub(crate) func: Node,
    /// The operands.
    pub(crate) args: Box<[Node]>,
    /// Source line (errors in the call are reported here).
    pub(crate) line: u32,
    /// The operator is a global and every operand a constant or variable: when the
    /// global holds a builtin, the evaluator runs the call on the spot, with no
    /// continuation frame (eval.rs).
    pub(crate) leaf: bool,
}

impl Call {
    fn new(func: Node, args: Vec<Node>, line: u32) -> Call {
        let leaf = matches!(func, Node::Global(..))
            && args
                .iter()
                .all(|a| matches!(a, Node::Const(_) | Node::Local(_) | Node::Global(..)));
        Call {
            func,
            args: args.into_boxed_slice(),
            line,
            leaf,
        }
    }
}

/// `let` / `letrec` / `let*`.
#[derive(Debug)]
pub(crate) struct Let {
    /// The initial values, in slot order.
    pub(crate) inits: Box<[Node]>,
    /// Slots of the new frame (the bindings, then internal defines).
    pub(crate) frame_size: usize,
    /// Whether the frame is assigned after creation.
    pub(crate) mutable: bool,
    /// The body, in the new frame.
    pub(crate) body: Node,
    /// Source line.
    pub(crate) line: u32,
}

/// Compiles one top-level form; the code lives for the rest of the process.
pub(crate) fn compile_toplevel(datum: &Datum) -> Result<&'static Node> {
    let node = expr(datum, None, Ctx::TopLevel)?;
    Ok(Box::leak(Box::new(node)))
}

/// The value of a quoted datum (fresh heap objects).
pub(crate) fn quote(datum: &Datum) -> Value {
    match &datum.kind {
        DatumKind::Int(n) => Value::Int(*n),
        DatumKind::Float(x) => Value::Float(*x),
        DatumKind::Str(s) => Value::string(s.clone()),
        DatumKind::Symbol(s) => Value::Symbol(*s),
        DatumKind::Bool(b) => Value::Bool(*b),
        DatumKind::List(items, tail) => {
            let tail = tail.as_deref().map_or(Value::Nil, quote);
            items
                .iter()
                .rev()
                .fold(tail, |rest, item| Value::cons(quote(item), rest))
        }
        DatumKind::Vector(items) => {
            Value::Vector(Gc::new(Vector::new(items.iter().map(quote).collect())))
        }
    }
}

/// A compile-time scope: the variables of one run-time frame.
struct Scope<'a> {
    vars: Vec<Symbol>,
    /// How many of `vars` are in scope (`let*` brings them in one at a time).
    visible: Cell<usize>,
    /// Whether anything assigns one of `vars` (then the frame must be mutable).
    assigned: Cell<bool>,
    parent: Option<&'a Scope<'a>>,
}

impl<'a> Scope<'a> {
    fn new(vars: Vec<Symbol>, parent: Option<&'a Scope<'a>>) -> Scope<'a> {
        let visible = Cell::new(vars.len());
        Scope {
            vars,
            visible,
            assigned: Cell::new(false),
            parent,
        }
    }
}

/// Where a form is compiled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// At top level (possibly inside top-level `begin`s): `define` binds a global.
    TopLevel,
    /// Anywhere else; `define` is allowed only at the start of bodies (handled there).
    Expr,
}

/// The local variable `name`, as `(depth, index, its scope)`.
fn resolve<'s>(
    scope: Option<&'s Scope<'s>>,
    name: Symbol,
) -> Option<(usize, usize, &'s Scope<'s>)> {
    let mut depth = 0;
    let mut current = scope;
    while let Some(s) = current {
        if let Some(index) = s.vars[..s.visible.get()].iter().rposition(|v| *v == name) {
            return Some((depth, index, s));
        }
        depth += 1;
        current = s.parent;
    }
    None
}

/// The keyword and the items of a special form, if `datum` is one in `scope`.
fn special_form<'d>(datum: &'d Datum, scope: Option<&Scope<'_>>) -> Option<(Symbol, &'d [Datum])> {
    let DatumKind::List(items, None) = &datum.kind else {
        return None;
    };
    let DatumKind::Symbol(head) = items.first()?.kind else {
        return None;
    };
    let keywords = [
        Symbol::QUOTE,
        Symbol::DEFINE,
        Symbol::SET,
        Symbol::LAMBDA,
        Symbol::LET,
        Symbol::LETREC,
        Symbol::IF,
        Symbol::COND,
        Symbol::BEGIN,
        Symbol::AND,
        Symbol::OR,
        Symbol::LET_STAR,
        Symbol::LETREC_STAR,
        Symbol::WHEN,
        Symbol::UNLESS,
    ];
    (keywords.contains(&head) && resolve(scope, head).is_none()).then_some((head, &items[..]))
}

fn symbol_of(datum: &Datum, what: &str) -> Result<Symbol> {
    match datum.kind {
        DatumKind::Symbol(s) => Ok(s),
        _ => Err(error!(Syntax, "{what}: expected a symbol").at(datum.line)),
    }
}

/// The items of a proper list datum.
fn list_of<'d>(datum: &'d Datum, what: &str) -> Result<&'d [Datum]> {
    match &datum.kind {
        DatumKind::List(items, None) => Ok(items),
        _ => Err(error!(Syntax, "{what}: expected a list").at(datum.line)),
    }
}

fn expr(datum: &Datum, scope: Option<&Scope<'_>>, ctx: Ctx) -> Result<Node> {
    let line = datum.line;
    match &datum.kind {
        DatumKind::Symbol(name) => Ok(variable(*name, scope, line)),
        DatumKind::List(items, tail) => {
            if tail.is_some() {
                return Err(error!(Syntax, "a dotted list is not an expression").at(line));
            }
            if items.is_empty() {
                return Err(error!(Syntax, "() is not an expression (quote it: '())").at(line));
            }
            if let Some((keyword, items)) = special_form(datum, scope) {
                return special(keyword, items, scope, ctx, line);
            }
            let func = expr(&items[0], scope, Ctx::Expr)?;
            let args = items[1..]
                .iter()
                .map(|a| expr(a, scope, Ctx::Expr))
                .collect::<Result<Vec<_>>>()?;
            Ok(Node::Call(Box::new(Call::new(func, args, line))))
        }
        _ => Ok(Node::Const(quote(datum))),
    }
}

fn variable(name: Symbol, scope: Option<&Scope<'_>>, line: u32) -> Node {
    match resolve(scope, name) {
        Some((depth, index, _)) => Node::Local(Local {
            depth,
            index,
            name,
            line,
        }),
        None => Node::Global(global(name), line),
    }
}

fn special(
    keyword: Symbol,
    items: &[Datum],
    scope: Option<&Scope<'_>>,
    ctx: Ctx,
    line: u32,
) -> Result<Node> {
    let name = keyword.name();
    let bad = |why: &str| error!(Syntax, "{name}: {why}").at(line);
    match keyword {
        Symbol::QUOTE => match items {
            [_, datum] => Ok(Node::Const(quote(datum))),
            _ => Err(bad("expected exactly one datum")),
        },
        Symbol::IF => match items {
            [_, test, then] | [_, test, then, _] => Ok(Node::If(Box::new(If {
                test: expr(test, scope, Ctx::Expr)?,
                then: expr(then, scope, Ctx::Expr)?,
                otherwise: match items.get(3) {
                    Some(e) => Some(expr(e, scope, Ctx::Expr)?),
                    None => None,
                },
            }))),
            _ => Err(bad("expected (if test then [else])")),
        },
        Symbol::DEFINE => match ctx {
            Ctx::TopLevel => {
                let (target, value) = definition(items, scope, line)?;
                Ok(Node::SetGlobal(Box::new(SetGlobal {
                    global: global(target),
                    value,
                    define: true,
                    line,
                })))
            }
            Ctx::Expr => Err(bad("only allowed at top level or at the start of a body")),
        },
        Symbol::SET => match items {
            [_, target, value] => {
                let target = symbol_of(target, "set!")?;
                let value = expr(value, scope, Ctx::Expr)?;
                Ok(assignment(target, value, scope, false, line))
            }
            _ => Err(bad("expected (set! name value)")),
        },
        Symbol::LAMBDA => match items {
            [_, params, body @ ..] if !body.is_empty() => Ok(Node::Lambda(Box::new(lambda(
                None, params, body, scope, line,
            )?))),
            _ => Err(bad("expected (lambda params body...)")),
        },
        Symbol::BEGIN => {
            let nodes = items[1..]
                .iter()
                .map(|e| expr(e, scope, ctx))
                .collect::<Result<Vec<_>>>()?;
            Ok(seq(nodes))
        }
        Symbol::AND | Symbol::OR => {
            let mut nodes = items[1..]
                .iter()
                .map(|e| expr(e, scope, Ctx::Expr))
                .collect::<Result<Vec<_>>>()?;
            Ok(match nodes.len() {
                0 => Node::Const(Value::Bool(keyword == Symbol::AND)),
                1 => nodes.pop().expect("one node"),
                _ if keyword == Symbol::AND => Node::And(nodes.into_boxed_slice()),
                _ => Node::Or(nodes.into_boxed_slice()),
            })
        }
        Symbol::WHEN | Symbol::UNLESS => match items {
            [_, test, body @ ..] if !body.is_empty() => {
                let test = expr(test, scope, Ctx::Expr)?;
                let body = seq(body
                    .iter()
                    .map(|e| expr(e, scope, Ctx::Expr))
                    .collect::<Result<Vec<_>>>()?);
                let (then, otherwise) = if keyword == Symbol::WHEN {
                    (body, None)
                } else {
                    (Node::Const(Value::Unspecified), Some(body))
                };
                Ok(Node::If(Box::new(If {
                    test,
                    then,
                    otherwise,
                })))
            }
            _ => Err(bad("expected a test and a body")),
        },
        Symbol::COND => cond(&items[1..], scope),
        Symbol::LET => match items {
            [_, Datum {
                kind: DatumKind::Symbol(loop_name),
                ..
            }, bindings, body @ ..]
                if !body.is_empty() =>
            {
                named_let(*loop_name, bindings, body, scope, line)
            }
            [_, bindings, body @ ..] if !body.is_empty() => plain_let(bindings, body, scope, line),
            _ => Err(bad("expected (let ((name value) ...) body...)")),
        },
        Symbol::LET_STAR | Symbol::LETREC | Symbol::LETREC_STAR => match items {
            [_, bindings, body @ ..] if !body.is_empty() => {
                sequential_let(keyword == Symbol::LET_STAR, bindings, body, scope, line)
            }
            _ => Err(bad("expected (name ((name value) ...) body...)")),
        },
        _ => Err(bad("unknown special form")),
    }
}

/// `(define name value)` or `(define (name . params) body...)`: the name and value node.
fn definition(items: &[Datum], scope: Option<&Scope<'_>>, line: u32) -> Result<(Symbol, Node)> {
    match items {
        [_, Datum {
            kind: DatumKind::Symbol(name),
            ..
        }, value] => {
            let value = match special_form(value, scope) {
                Some((Symbol::LAMBDA, [_, params, body @ ..])) if !body.is_empty() => Node::Lambda(
                    Box::new(lambda(Some(*name), params, body, scope, value.line)?),
                ),
                _ => expr(value, scope, Ctx::Expr)?,
            };
            Ok((*name, value))
        }
        [_, Datum {
            kind: DatumKind::List(head, tail),
            line: head_line,
        }, body @ ..]
            if !head.is_empty() && !body.is_empty() =>
        {
            let name = symbol_of(&head[0], "define")?;
            // The parameters are the head without its first item.
            let lambda = lambda_with_params(
                Some(name),
                &head[1..],
                tail.as_deref(),
                *head_line,
                body,
                scope,
                line,
            )?;
            Ok((name, Node::Lambda(Box::new(lambda))))
        }
        _ => Err(error!(
            Syntax,
            "define: expected (define name value) or (define (name params...) body...)"
        )
        .at(line)),
    }
}

fn assignment(
    target: Symbol,
    value: Node,
    scope: Option<&Scope<'_>>,
    define: bool,
    line: u32,
) -> Node {
    match resolve(scope, target) {
        Some((depth, index, owner)) => {
            owner.assigned.set(true);
            Node::SetLocal(Box::new(SetLocal {
                target: Local {
                    depth,
                    index,
                    name: target,
                    line,
                },
                value,
            }))
        }
        None => Node::SetGlobal(Box::new(SetGlobal {
            global: global(target),
            value,
            define,
            line,
        })),
    }
}

fn seq(mut nodes: Vec<Node>) -> Node {
    match nodes.len() {
        0 => Node::Const(Value::Unspecified),
        1 => nodes.pop().expect("one node"),
        _ => Node::Seq(nodes.into_boxed_slice()),
    }
}

fn lambda(
    name: Option<Symbol>,
    params: &Datum,
    body: &[Datum],
    scope: Option<&Scope<'_>>,
    line: u32,
) -> Result<Lambda> {
    match &params.kind {
        DatumKind::List(items, tail) => {
            lambda_with_params(name, items, tail.as_deref(), params.line, body, scope, line)
        }
        DatumKind::Symbol(_) => {
            lambda_with_params(name, &[], Some(params), params.line, body, scope, line)
        }
        _ => Err(error!(Syntax, "lambda: bad parameter list").at(params.line)),
    }
}

/// A lambda whose parameters are `items` plus an optional rest parameter `rest`.
fn lambda_with_params(
    name: Option<Symbol>,
    items: &[Datum],
    rest: Option<&Datum>,
    params_line: u32,
    body: &[Datum],
    scope: Option<&Scope<'_>>,
    line: u32,
) -> Result<Lambda> {
    let mut vars = Vec::with_capacity(items.len() + 1);
    for p in items.iter().chain(rest) {
        let p = symbol_of(p, "lambda parameter")?;
        if vars.contains(&p) {
            return Err(error!(Syntax, "lambda: duplicate parameter {}", p.name()).at(params_line));
        }
        vars.push(p);
    }
    let required = items.len();
    let (frame_size, mutable, body) = frame_body(vars, body, scope, line)?;
    Ok(Lambda {
        name,
        required,
        rest: rest.is_some(),
        frame_size,
        mutable,
        body,
    })
}

/// Compiles a body whose frame starts with `vars`; returns the frame size, whether it is
/// mutable, and the body. A frame with no variables at all is elided.
fn frame_body(
    mut vars: Vec<Symbol>,
    body: &[Datum],
    scope: Option<&Scope<'_>>,
    line: u32,
) -> Result<(usize, bool, Node)> {
    let mut defines = Vec::new();
    collect_defines(body, scope, &vars, &mut defines);
    for d in defines {
        if !vars.contains(&d) {
            vars.push(d);
        }
    }
    if vars.is_empty() {
        return Ok((0, false, body_node(body, scope, line)?));
    }
    let inner = Scope::new(vars, scope);
    let node = body_node(body, Some(&inner), line)?;
    Ok((inner.vars.len(), inner.assigned.get(), node))
}

/// The names a body's `define`s bind (looking into `begin`s).
fn collect_defines(
    body: &[Datum],
    outer: Option<&Scope<'_>>,
    params: &[Symbol],
    out: &mut Vec<Symbol>,
) {
    for form in body {
        let Some((keyword, items)) = special_form(form, outer) else {
            continue;
        };
        if params.contains(&keyword) {
            continue; // the keyword is shadowed by a parameter of this very body
        }
        match (keyword, items) {
            (Symbol::BEGIN, items) => collect_defines(&items[1..], outer, params, out),
            (Symbol::DEFINE, [_, target, ..]) => match &target.kind {
                DatumKind::Symbol(name) => out.push(*name),
                DatumKind::List(head, _) => {
                    if let Some(Datum {
                        kind: DatumKind::Symbol(name),
                        ..
                    }) = head.first()
                    {
                        out.push(*name);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}

/// A body: its `define`s assign slots of the innermost scope (collected beforehand).
fn body_node(body: &[Datum], scope: Option<&Scope<'_>>, line: u32) -> Result<Node> {
    let mut nodes = Vec::with_capacity(body.len());
    body_forms(body, scope, &mut nodes)?;
    if nodes.is_empty() {
        return Err(error!(Syntax, "empty body").at(line));
    }
    Ok(seq(nodes))
}

fn body_forms(body: &[Datum], scope: Option<&Scope<'_>>, out: &mut Vec<Node>) -> Result<()> {
    for form in body {
        match special_form(form, scope) {
            Some((Symbol::BEGIN, items)) => body_forms(&items[1..], scope, out)?,
            Some((Symbol::DEFINE, items)) => {
                let (target, value) = definition(items, scope, form.line)?;
                out.push(assignment(target, value, scope, true, form.line));
            }
            _ => out.push(expr(form, scope, Ctx::Expr)?),
        }
    }
    Ok(())
}

/// `((name init) ...)`: the names and init data.
fn bindings<'d>(datum: &'d Datum, what: &str) -> Result<(Vec<Symbol>, Vec<&'d Datum>)> {
    let mut names = Vec::new();
    let mut inits = Vec::new();
    for binding in list_of(datum, what)? {
        match list_of(binding, what)? {
            [name, init] => {
                names.push(symbol_of(name, what)?);
                inits.push(init);
            }
            _ => return Err(error!(Syntax, "{what}: expected (name value)").at(binding.line)),
        }
    }
    Ok((names, inits))
}

fn plain_let(
    bindings_datum: &Datum,
    body: &[Datum],
    scope: Option<&Scope<'_>>,
    line: u32,
) -> Result<Node> {
    let (names, inits) = bindings(bindings_datum, "let")?;
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(error!(Syntax, "let: duplicate variable {}", n.name()).at(line));
        }
    }
    let inits = inits
        .into_iter()
        .map(|d| expr(d, scope, Ctx::Expr))
        .collect::<Result<Vec<_>>>()?;
    let (frame_size, mutable, body) = frame_body(names, body, scope, line)?;
    if frame_size == 0 {
        return Ok(body);
    }
    Ok(Node::Let(Box::new(Let {
        inits: inits.into_boxed_slice(),
        frame_size,
        mutable,
        body,
        line,
    })))
}

/// `let*` (variables come into scope one at a time) or `letrec` / `letrec*` (all at
/// once): one frame, initialised in order inside it.
fn sequential_let(
    star: bool,
    bindings_datum: &Datum,
    body: &[Datum],
    scope: Option<&Scope<'_>>,
    line: u32,
) -> Result<Node> {
    let what = if star { "let*" } else { "letrec" };
    let (mut vars, init_data) = bindings(bindings_datum, what)?;
    let count = vars.len();
    if vars.is_empty() {
        let (frame_size, mutable, body) = frame_body(vars, body, scope, line)?;
        if frame_size == 0 {
            return Ok(body);
        }
        return Ok(Node::Letrec(Box::new(Let {
            inits: Box::new([]),
            frame_size,
            mutable,
            body,
            line,
        })));
    }
    let mut defines = Vec::new();
    collect_defines(body, scope, &vars, &mut defines);
    for d in defines {
        if !vars.contains(&d) {
            vars.push(d);
        }
    }
    let inner = Scope::new(vars, scope);
    inner.visible.set(if star { 0 } else { count });
    let mut inits = Vec::with_capacity(count);
    for (i, d) in init_data.into_iter().enumerate() {
        let init = match special_form(d, Some(&inner)) {
            Some((Symbol::LAMBDA, [_, params, lambda_body @ ..])) if !lambda_body.is_empty() => {
                Node::Lambda(Box::new(lambda(
                    Some(inner.vars[i]),
                    params,
                    lambda_body,
                    Some(&inner),
                    d.line,
                )?))
            }
            _ => expr(d, Some(&inner), Ctx::Expr)?,
        };
        inits.push(init);
        if star {
            inner.visible.set(i + 1);
        }
    }
    inner.visible.set(inner.vars.len());
    let body = body_node(body, Some(&inner), line)?;
    Ok(Node::Letrec(Box::new(Let {
        inits: inits.into_boxed_slice(),
        frame_size: inner.vars.len(),
        mutable: true,
        body,
        line,
    })))
}

/// `(let name ((var init) ...) body...)`: `((letrec ((name (lambda (var ...) body...))) name) init ...)`.
fn named_let(
    name: Symbol,
    bindings_datum: &Datum,
    body: &[Datum],
    scope: Option<&Scope<'_>>,
    line: u32,
) -> Result<Node> {
    let (vars, init_data) = bindings(bindings_datum, "named let")?;
    let args = init_data
        .into_iter()
        .map(|d| expr(d, scope, Ctx::Expr))
        .collect::<Result<Vec<_>>>()?;
    let inner = Scope::new(vec![name], scope);
    let mut params = Vec::with_capacity(vars.len());
    for v in vars {
        if params.contains(&v) {
            return Err(error!(Syntax, "named let: duplicate variable {}", v.name()).at(line));
        }
        params.push(v);
    }
    let required = params.len();
    let (frame_size, mutable, lambda_body) = frame_body(params, body, Some(&inner), line)?;
    let lambda = Lambda {
        name: Some(name),
        required,
        rest: false,
        frame_size,
        mutable,
        body: lambda_body,
    };
    let func = Node::Letrec(Box::new(Let {
        inits: Box::new([Node::Lambda(Box::new(lambda))]),
        frame_size: 1,
        mutable: true,
        body: Node::Local(Local {
            depth: 0,
            index: 0,
            name,
            line,
        }),
        line,
    }));
    Ok(Node::Call(Box::new(Call::new(func, args, line))))
}

/// `cond` clauses, compiled from the last one backwards into nested `if`s.
fn cond(clauses: &[Datum], scope: Option<&Scope<'_>>) -> Result<Node> {
    let mut node = Node::Const(Value::Unspecified);
    for (i, clause) in clauses.iter().enumerate().rev() {
        let items = list_of(clause, "cond clause")?;
        let Some(test) = items.first() else {
            return Err(error!(Syntax, "cond: empty clause").at(clause.line));
        };
        let body = &items[1..];
        if matches!(
            body.first().map(|d| &d.kind),
            Some(DatumKind::Symbol(Symbol::ARROW))
        ) {
            return Err(error!(Syntax, "cond: => clauses are not supported").at(clause.line));
        }
        let is_else = matches!(test.kind, DatumKind::Symbol(Symbol::ELSE))
            && resolve(scope, Symbol::ELSE).is_none();
        if is_else {
            if i + 1 != clauses.len() {
                return Err(error!(Syntax, "cond: else must be the last clause").at(clause.line));
            }
            if body.is_empty() {
                return Err(error!(Syntax, "cond: empty else clause").at(clause.line));
            }
        }
        let body_node = seq(body
            .iter()
            .map(|e| expr(e, scope, Ctx::Expr))
            .collect::<Result<Vec<_>>>()?);
        node = if is_else {
            body_node
        } else if body.is_empty() {
            // `(test)` yields the test's value when it is true.
            let test = expr(test, scope, Ctx::Expr)?;
            Node::Or(Box::new([test, node]))
        } else {
            Node::If(Box::new(If {
                test: expr(test, scope, Ctx::Expr)?,
                then: body_node,
                otherwise: Some(node),
            }))
        };
    }
    Ok(node)
}
