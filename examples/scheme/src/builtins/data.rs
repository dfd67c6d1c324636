//! Builtins on data: pairs and lists, vectors, equality and type predicates.
//!
//! # Termination on cyclic data
//! Lists can be made circular with `set-cdr!`, so every builtin that walks a list checks
//! for cycles (`length`, `append`, `list->vector`-like walks go through
//! [`list_to_vec`], which uses Floyd's tortoise and hare) and reports "expected a proper
//! list" instead of looping. `equal?` compares cyclic structures coinductively: a pair of
//! objects already being compared is assumed equal, so it terminates on any input. None of
//! them recurses on the Rust stack.

use std::collections::HashSet;

use gc::Gc;

use crate::error::{error, Result};
use crate::value::{list_to_vec, Builtin, Value, Vector};

use super::{index_arg, wrong_type};

/// The largest vector `make-vector` creates (elements; 256 MiB of values), so that a
/// typo cannot abort the process with an allocation failure.
const MAX_VECTOR_LEN: usize = 1 << 24;

/// The data builtins.
pub(crate) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "cons",
        min_args: 2,
        max_args: Some(2),
        func: cons,
    },
    Builtin {
        name: "car",
        min_args: 1,
        max_args: Some(1),
        func: car,
    },
    Builtin {
        name: "cdr",
        min_args: 1,
        max_args: Some(1),
        func: cdr,
    },
    Builtin {
        name: "cadr",
        min_args: 1,
        max_args: Some(1),
        func: cadr,
    },
    Builtin {
        name: "cddr",
        min_args: 1,
        max_args: Some(1),
        func: cddr,
    },
    Builtin {
        name: "set-car!",
        min_args: 2,
        max_args: Some(2),
        func: set_car,
    },
    Builtin {
        name: "set-cdr!",
        min_args: 2,
        max_args: Some(2),
        func: set_cdr,
    },
    Builtin {
        name: "list",
        min_args: 0,
        max_args: None,
        func: list,
    },
    Builtin {
        name: "length",
        min_args: 1,
        max_args: Some(1),
        func: length,
    },
    Builtin {
        name: "append",
        min_args: 0,
        max_args: None,
        func: append,
    },
    Builtin {
        name: "reverse",
        min_args: 1,
        max_args: Some(1),
        func: reverse,
    },
    Builtin {
        name: "assq",
        min_args: 2,
        max_args: Some(2),
        func: assq,
    },
    Builtin {
        name: "null?",
        min_args: 1,
        max_args: Some(1),
        func: is_null,
    },
    Builtin {
        name: "pair?",
        min_args: 1,
        max_args: Some(1),
        func: is_pair,
    },
    Builtin {
        name: "list?",
        min_args: 1,
        max_args: Some(1),
        func: is_list,
    },
    Builtin {
        name: "symbol?",
        min_args: 1,
        max_args: Some(1),
        func: is_symbol,
    },
    Builtin {
        name: "string?",
        min_args: 1,
        max_args: Some(1),
        func: is_string,
    },
    Builtin {
        name: "boolean?",
        min_args: 1,
        max_args: Some(1),
        func: is_boolean,
    },
    Builtin {
        name: "procedure?",
        min_args: 1,
        max_args: Some(1),
        func: is_procedure,
    },
    Builtin {
        name: "vector?",
        min_args: 1,
        max_args: Some(1),
        func: is_vector,
    },
    Builtin {
        name: "not",
        min_args: 1,
        max_args: Some(1),
        func: not,
    },
    Builtin {
        name: "eq?",
        min_args: 2,
        max_args: Some(2),
        func: is_eq,
    },
    Builtin {
        name: "eqv?",
        min_args: 2,
        max_args: Some(2),
        func: is_eq,
    },
    Builtin {
        name: "equal?",
        min_args: 2,
        max_args: Some(2),
        func: is_equal,
    },
    Builtin {
        name: "make-vector",
        min_args: 1,
        max_args: Some(2),
        func: make_vector,
    },
    Builtin {
        name: "vector",
        min_args: 0,
        max_args: None,
        func: vector,
    },
    Builtin {
        name: "vector-ref",
        min_args: 2,
        max_args: Some(2),
        func: vector_ref,
    },
    Builtin {
        name: "vector-set!",
        min_args: 3,
        max_args: Some(3),
        func: vector_set,
    },
    Builtin {
        name: "vector-length",
        min_args: 1,
        max_args: Some(1),
        func: vector_length,
    },
];

fn pair_of<'a>(who: &str, value: &'a Value) -> Result<&'a Gc<crate::value::Pair>> {
    match value {
        Value::Pair(pair) => Ok(pair),
        other => Err(wrong_type(who, "a pair", other)),
    }
}

fn vector_of<'a>(who: &str, value: &'a Value) -> Result<&'a Gc<Vector>> {
    match value {
        Value::Vector(vector) => Ok(vector),
        other => Err(wrong_type(who, "a vector", other)),
    }
}

fn proper_list(who: &str, value: &Value) -> Result<Vec<Value>> {
    list_to_vec(value).ok_or_else(|| wrong_type(who, "a proper list", value))
}

fn cons(args: &[Value]) -> Result<Value> {
    Ok(Value::cons(args[0].clone(), args[1].clone()))
}

fn car(args: &[Value]) -> Result<Value> {
    Ok(pair_of("car", &args[0])?.car())
}

fn cdr(args: &[Value]) -> Result<Value> {
    Ok(pair_of("cdr", &args[0])?.cdr())
}

fn cadr(args: &[Value]) -> Result<Value> {
    let rest = pair_of("cadr", &args[0])?.cdr();
    Ok(pair_of("cadr", &rest)?.car())
}

fn cddr(args: &[Value]) -> Result<Value> {
    let rest = pair_of("cddr", &args[0])?.cdr();
    Ok(pair_of("cddr", &rest)?.cdr())
}

fn set_car(args: &[Value]) -> Result<Value> {
    pair_of("set-car!", &args[0])?.set_car(args[1].clone());
    Ok(Value::Unspecified)
}

fn set_cdr(args: &[Value]) -> Result<Value> {
    pair_of("set-cdr!", &args[0])?.set_cdr(args[1].clone());
    Ok(Value::Unspecified)
}

fn list(args: &[Value]) -> Result<Value> {
    Ok(Value::list(args.iter().cloned()))
}

fn length(args: &[Value]) -> Result<Value> {
    let items = proper_list("length", &args[0])?;
    i64::try_from(items.len())
        .map(Value::Int)
        .map_err(|_| error!(Range, "length: too long"))
}

fn append(args: &[Value]) -> Result<Value> {
    let Some((last, init)) = args.split_last() else {
        return Ok(Value::Nil);
    };
    let mut items = Vec::new();
    for list in init {
        items.extend(proper_list("append", list)?);
    }
    Ok(items
        .into_iter()
        .rev()
        .fold(last.clone(), |tail, item| Value::cons(item, tail)))
}

fn reverse(args: &[Value]) -> Result<Value> {
    let items = proper_list("reverse", &args[0])?;
    Ok(items
        .into_iter()
        .fold(Value::Nil, |tail, item| Value::cons(item, tail)))
}

fn assq(args: &[Value]) -> Result<Value> {
    for entry in proper_list("assq", &args[1])? {
        let key = pair_of("assq", &entry)?.car();
        if key.eq(&args[0]) {
            return Ok(entry);
        }
    }
    Ok(Value::Bool(false))
}

fn is_null(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(args[0], Value::Nil)))
}

fn is_pair(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(args[0], Value::Pair(_))))
}

fn is_list(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(list_to_vec(&args[0]).is_some()))
}

fn is_symbol(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(args[0], Value::Symbol(_))))
}

fn is_string(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(args[0], Value::Str(_))))
}

fn is_boolean(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(args[0], Value::Bool(_))))
}

fn is_procedure(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(args[0].is_procedure()))
}

fn is_vector(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(args[0], Value::Vector(_))))
}

fn not(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(!args[0].is_true()))
}

fn is_eq(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(args[0].eq(&args[1])))
}

fn is_equal(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(equal(&args[0], &args[1])))
}

/// `equal?`: structural equality, terminating on cyclic data (see the module docs).
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    let mut todo = vec![(a.clone(), b.clone())];
    let mut assumed: HashSet<(usize, usize)> = HashSet::new();
    // Handles to the objects in `assumed`, so their addresses stay theirs.
    let mut keep: Vec<(Value, Value)> = Vec::new();
    while let Some((x, y)) = todo.pop() {
        match (&x, &y) {
            (Value::Pair(p), Value::Pair(q)) => {
                if Gc::ptr_eq(p, q)
                    || !assumed.insert((Gc::as_ptr(p) as usize, Gc::as_ptr(q) as usize))
                {
                    continue;
                }
                let (car_p, cdr_p) = p.get();
                let (car_q, cdr_q) = q.get();
                todo.push((cdr_p, cdr_q));
                todo.push((car_p, car_q));
            }
            (Value::Vector(v), Value::Vector(w)) => {
                if Gc::ptr_eq(v, w)
                    || !assumed.insert((Gc::as_ptr(v) as usize, Gc::as_ptr(w) as usize))
                {
                    continue;
                }
                let (xs, ys) = (v.to_vec(), w.to_vec());
                if xs.len() != ys.len() {
                    return false;
                }
                todo.extend(xs.into_iter().zip(ys).rev());
            }
            (Value::Str(s), Value::Str(t)) => {
                if s.as_str() != t.as_str() {
                    return false;
                }
                continue;
            }
            _ => {
                if !x.eq(&y) {
                    return false;
                }
                continue;
            }
        }
        keep.push((x, y));
    }
    true
}

fn make_vector(args: &[Value]) -> Result<Value> {
    let len = index_arg("make-vector", &args[0])?;
    if len > MAX_VECTOR_LEN {
        return Err(error!(
            Range,
            "make-vector: {len} elements is more than the limit of {MAX_VECTOR_LEN}"
        ));
    }
    let fill = args.get(1).cloned().unwrap_or(Value::Int(0));
    Ok(Value::Vector(Gc::new(Vector::new(vec![fill; len]))))
}

fn vector(args: &[Value]) -> Result<Value> {
    Ok(Value::Vector(Gc::new(Vector::new(args.to_vec()))))
}

fn vector_ref(args: &[Value]) -> Result<Value> {
    let vector = vector_of("vector-ref", &args[0])?;
    let index = index_arg("vector-ref", &args[1])?;
    vector.get(index).ok_or_else(|| {
        error!(
            Range,
            "vector-ref: index {index} is out of range for a vector of length {}",
            vector.len()
        )
    })
}

fn vector_set(args: &[Value]) -> Result<Value> {
    let vector = vector_of("vector-set!", &args[0])?;
    let index = index_arg("vector-set!", &args[1])?;
    if vector.set(index, args[2].clone()) {
        Ok(Value::Unspecified)
    } else {
        Err(error!(
            Range,
            "vector-set!: index {index} is out of range for a vector of length {}",
            vector.len()
        ))
    }
}

fn vector_length(args: &[Value]) -> Result<Value> {
    let len = vector_of("vector-length", &args[0])?.len();
    i64::try_from(len)
        .map(Value::Int)
        .map_err(|_| error!(Range, "vector-length: too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list_of(items: &[i64]) -> Value {
        Value::list(items.iter().map(|n| Value::Int(*n)))
    }

    #[test]
    fn equal_compares_structure_and_terminates_on_cycles() {
        assert!(equal(&list_of(&[1, 2]), &list_of(&[1, 2])));
        assert!(!equal(&list_of(&[1, 2]), &list_of(&[1, 3])));
        assert!(equal(&Value::string("ab"), &Value::string("ab")));
        let make_cycle = || {
            let l = list_of(&[1, 2]);
            let Value::Pair(first) = &l else {
                panic!("a list")
            };
            let Value::Pair(second) = first.cdr() else {
                panic!("a list")
            };
            second.set_cdr(l.clone());
            (l, second)
        };
        let (a, a_end) = make_cycle();
        let (b, b_end) = make_cycle();
        assert!(equal(&a, &b));
        assert!(
            matches!(length(std::slice::from_ref(&a)), Err(e) if e.kind == crate::error::ErrorKind::Type)
        );
        a_end.set_cdr(Value::Nil);
        b_end.set_cdr(Value::Nil);
    }

    #[test]
    fn append_shares_the_last_list_and_checks_the_others() {
        let tail = list_of(&[3]);
        let joined = append(&[list_of(&[1, 2]), tail.clone()]).expect("two lists");
        assert!(equal(&joined, &list_of(&[1, 2, 3])));
        assert!(append(&[Value::Int(1), tail]).is_err());
        assert!(matches!(append(&[]), Ok(Value::Nil)));
    }

    #[test]
    fn vectors_check_bounds_and_size() {
        let v = make_vector(&[Value::Int(2), Value::Bool(true)]).expect("a vector");
        assert!(vector_set(&[v.clone(), Value::Int(1), Value::Int(7)]).is_ok());
        assert!(matches!(
            vector_ref(&[v.clone(), Value::Int(1)]),
            Ok(Value::Int(7))
        ));
        assert!(vector_ref(&[v.clone(), Value::Int(2)]).is_err());
        assert!(vector_ref(&[v, Value::Int(-1)]).is_err());
        assert!(make_vector(&[Value::Int(1 << 40)]).is_err());
    }
}
