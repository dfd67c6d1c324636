//! The printer: `display` and `write` representations, safe on cyclic and deep data.
//!
//! # Algorithm
//! 1. Snapshot: walk the pairs and vectors reachable from the value (an explicit work
//!    list, no recursion), reading each object once under one short borrow, into a graph
//!    of plain Rust nodes keyed by object address. Shared objects become one node. The
//!    snapshot keeps a handle to every object it visited, so no address can be freed and
//!    reused by another object while it is being printed.
//! 2. Cycles: an iterative depth-first search over the snapshot finds every node reached
//!    again while it is still on the search path: exactly the objects that need a datum
//!    label to print finitely.
//! 3. Print the snapshot with an explicit task stack, R7RS style: a labelled object is
//!    written `#0=(...)` the first time and `#0#` after, so a circular list prints as
//!    `#0=(1 2 3 . #0#)`. Shared but acyclic structure is printed in full each time.
//!
//! Printing reads a consistent snapshot even while other threads mutate the data (each
//! object is read once), never holds a borrow while doing anything else, and always
//! terminates: it prints the finite snapshot graph.

use std::collections::HashMap;
use std::fmt::Write as _;

use gc::Gc;

use crate::value::Value;

/// `display` (strings raw) or `write` (strings quoted and escaped).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    /// Human-readable: strings without quotes.
    Display,
    /// Machine-readable: strings quoted.
    Write,
}

/// The printed form of `value`.
pub(crate) fn to_string(value: &Value, mode: Mode) -> String {
    print(value, mode, usize::MAX)
}

/// The `write` form of `value`, cut after about 60 characters (for error messages).
pub(crate) fn write_short(value: &Value) -> String {
    print(value, Mode::Write, 60)
}

/// A reference from a snapshot node: an atom, or another node.
enum Item {
    Atom(Value),
    Node(usize),
}

enum Node {
    Pair(Item, Item),
    Vector(Vec<Item>),
    /// Not filled in yet (only while the snapshot is being built).
    Pending,
}

struct Snapshot {
    nodes: Vec<Node>,
    /// Handles to every visited object: keeps their addresses from being reused.
    keep: Vec<Value>,
    index: HashMap<usize, usize>,
    todo: Vec<usize>,
}

impl Snapshot {
    fn item(&mut self, value: Value) -> Item {
        let address = match &value {
            Value::Pair(p) => Gc::as_ptr(p) as usize,
            Value::Vector(v) => Gc::as_ptr(v) as usize,
            _ => return Item::Atom(value),
        };
        if let Some(&node) = self.index.get(&address) {
            return Item::Node(node);
        }
        let node = self.nodes.len();
        self.nodes.push(Node::Pending);
        self.index.insert(address, node);
        self.keep.push(value);
        self.todo.push(node);
        Item::Node(node)
    }

    fn take(root: &Value) -> (Item, Vec<Node>) {
        let mut snapshot = Snapshot {
            nodes: Vec::new(),
            keep: Vec::new(),
            index: HashMap::new(),
            todo: Vec::new(),
        };
        let root = snapshot.item(root.clone());
        while let Some(node) = snapshot.todo.pop() {
            let filled = match &snapshot.keep[node] {
                Value::Pair(pair) => {
                    let (car, cdr) = pair.get();
                    Node::Pair(snapshot.item(car), snapshot.item(cdr))
                }
                Value::Vector(vector) => {
                    let items = vector.to_vec();
                    Node::Vector(items.into_iter().map(|v| snapshot.item(v)).collect())
                }
                _ => Node::Pending,
            };
            snapshot.nodes[node] = filled;
        }
        (root, snapshot.nodes)
    }
}

/// The `index`-th child of `node` (a pair's cdr comes after its car).
fn child(node: &Node, index: usize) -> Option<&Item> {
    match node {
        Node::Pair(car, cdr) => [car, cdr].get(index).copied(),
        Node::Vector(items) => items.get(index),
        Node::Pending => None,
    }
}

/// Which nodes are reached again while on the depth-first path (need labels).
fn cycle_targets(root: &Item, nodes: &[Node]) -> Vec<bool> {
    const WHITE: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut labelled = vec![false; nodes.len()];
    let mut color = vec![WHITE; nodes.len()];
    let Item::Node(start) = root else {
        return labelled;
    };
    color[*start] = ON_PATH;
    let mut path: Vec<(usize, usize)> = vec![(*start, 0)];
    while let Some((node, next)) = path.last_mut() {
        match child(&nodes[*node], *next) {
            Some(item) => {
                *next += 1;
                if let Item::Node(target) = item {
                    match color[*target] {
                        WHITE => {
                            color[*target] = ON_PATH;
                            path.push((*target, 0));
                        }
                        ON_PATH => labelled[*target] = true,
                        _ => {}
                    }
                }
            }
            None => {
                color[*node] = DONE;
                path.pop();
            }
        }
    }
    labelled
}

enum Task<'a> {
    Item(&'a Item),
    /// The cdr of a list being printed.
    Tail(&'a Item),
    Text(&'static str),
}

fn print(value: &Value, mode: Mode, limit: usize) -> String {
    let mut out = String::new();
    if !matches!(value, Value::Pair(_) | Value::Vector(_)) {
        atom(&mut out, value, mode);
        return out;
    }
    let (root, nodes) = Snapshot::take(value);
    let labelled = cycle_targets(&root, &nodes);
    let mut labels: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut next_label = 0;
    let mut tasks = vec![Task::Item(&root)];
    while let Some(task) = tasks.pop() {
        if out.len() > limit {
            out.truncate(limit);
            out.push_str("...");
            break;
        }
        match task {
            Task::Text(text) => out.push_str(text),
            Task::Item(Item::Atom(value)) => atom(&mut out, value, mode),
            Task::Item(Item::Node(node)) => {
                if labelled[*node] {
                    if let Some(label) = labels[*node] {
                        let _ = write!(out, "#{label}#");
                        continue;
                    }
                    labels[*node] = Some(next_label);
                    let _ = write!(out, "#{next_label}=");
                    next_label += 1;
                }
                match &nodes[*node] {
                    Node::Pair(car, cdr) => {
                        out.push('(');
                        tasks.push(Task::Tail(cdr));
                        tasks.push(Task::Item(car));
                    }
                    Node::Vector(items) => {
                        out.push_str("#(");
                        tasks.push(Task::Text(")"));
                        for (i, item) in items.iter().enumerate().rev() {
                            tasks.push(Task::Item(item));
                            if i > 0 {
                                tasks.push(Task::Text(" "));
                            }
                        }
                    }
                    Node::Pending => out.push_str("#<?>"),
                }
            }
            Task::Tail(Item::Atom(Value::Nil)) => out.push(')'),
            Task::Tail(Item::Node(node))
                if !labelled[*node] && matches!(nodes[*node], Node::Pair(..)) =>
            {
                if let Node::Pair(car, cdr) = &nodes[*node] {
                    out.push(' ');
                    tasks.push(Task::Tail(cdr));
                    tasks.push(Task::Item(car));
                }
            }
            Task::Tail(other) => {
                out.push_str(" . ");
                tasks.push(Task::Text(")"));
                tasks.push(Task::Item(other));
            }
        }
    }
    out
}

/// Formats a float the way Scheme reads it back: `2.0`, `0.5`, `1e21`, `+inf.0`.
fn float(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("+nan.0");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "+inf.0" } else { "-inf.0" });
    } else {
        // `Debug` is the shortest representation that reads back exactly, and always
        // has a `.` or an exponent, so it never looks like an integer.
        let _ = write!(out, "{x:?}");
    }
}

fn atom(out: &mut String, value: &Value, mode: Mode) {
    match value {
        Value::Nil => out.push_str("()"),
        Value::Unspecified => out.push_str("#<unspecified>"),
        Value::Unassigned => out.push_str("#<unassigned>"),
        Value::Bool(true) => out.push_str("#t"),
        Value::Bool(false) => out.push_str("#f"),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(x) => float(out, *x),
        Value::Str(s) => match mode {
            Mode::Display => out.push_str(s),
            Mode::Write => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
        },
        Value::Symbol(s) => out.push_str(s.name()),
        Value::Closure(c) => match c.lambda.name {
            Some(name) => {
                let _ = write!(out, "#<procedure {}>", name.name());
            }
            None => out.push_str("#<procedure>"),
        },
        Value::Builtin(b) => {
            let _ = write!(out, "#<procedure {}>", b.name);
        }
        Value::Thread(_) => out.push_str("#<thread>"),
        // Containers are printed by `print`; reaching here would be a printer bug, and
        // printing a placeholder beats recursing.
        Value::Pair(_) | Value::Vector(_) => out.push_str("#<...>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Vector;

    fn list(items: &[i64]) -> Value {
        Value::list(items.iter().map(|n| Value::Int(*n)))
    }

    #[test]
    fn prints_lists_vectors_and_atoms() {
        assert_eq!(to_string(&list(&[1, 2, 3]), Mode::Write), "(1 2 3)");
        let dotted = Value::cons(Value::Int(1), Value::Float(2.5));
        assert_eq!(to_string(&dotted, Mode::Write), "(1 . 2.5)");
        let v = Value::Vector(Gc::new(Vector::new(vec![
            Value::string("a\"b"),
            Value::Nil,
            Value::Float(2.0),
        ])));
        assert_eq!(to_string(&v, Mode::Write), "#(\"a\\\"b\" () 2.0)");
        assert_eq!(to_string(&v, Mode::Display), "#(a\"b () 2.0)");
        assert_eq!(
            to_string(&Value::Float(f64::INFINITY), Mode::Write),
            "+inf.0"
        );
    }

    #[test]
    fn cycles_get_datum_labels_and_sharing_does_not() {
        let l = list(&[1, 2, 3]);
        let Value::Pair(first) = &l else {
            panic!("a list")
        };
        let Value::Pair(second) = first.cdr() else {
            panic!("a list")
        };
        let Value::Pair(third) = second.cdr() else {
            panic!("a list")
        };
        third.set_cdr(l.clone());
        assert_eq!(to_string(&l, Mode::Write), "#0=(1 2 3 . #0#)");
        first.set_car(l.clone());
        assert_eq!(to_string(&l, Mode::Write), "#0=(#0# 2 3 . #0#)");
        third.set_cdr(Value::Nil);
        first.set_car(Value::Int(1));
        let shared = Value::cons(l.clone(), l.clone());
        assert_eq!(to_string(&shared, Mode::Write), "((1 2 3) 1 2 3)");
    }

    #[test]
    fn deep_nesting_prints_without_recursion() {
        let mut v = Value::Nil;
        for _ in 0..200_000 {
            v = Value::cons(v, Value::Nil);
        }
        let s = to_string(&v, Mode::Write);
        assert_eq!(s.len(), 200_000 * 2 + 2);
        assert!(write_short(&v).len() <= 63);
    }
}
