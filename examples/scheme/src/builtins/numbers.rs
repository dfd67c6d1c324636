//! Numeric builtins over a two-level tower: exact 64-bit integers and floats.
//!
//! # Rules
//! - An operation on two integers stays exact; overflow is an "out of range" error (there
//!   are no bignums), never a wrap or a panic.
//! - Mixing an integer with a float gives a float.
//! - `/` of two integers is exact when the division is (`(/ 6 3)` is `2`), else a float
//!   (there are no rationals). Dividing by an exact `0` is an error; dividing by `0.0`
//!   follows IEEE (`+inf.0`).
//! - Comparisons are variadic and chain (`(< 1 2 3)`).

use crate::error::{error, Result};
use crate::printer;
use crate::value::{Builtin, Value};

use super::wrong_type;

/// The numeric builtins.
pub(crate) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "+",
        min_args: 0,
        max_args: None,
        func: add,
    },
    Builtin {
        name: "-",
        min_args: 1,
        max_args: None,
        func: sub,
    },
    Builtin {
        name: "*",
        min_args: 0,
        max_args: None,
        func: mul,
    },
    Builtin {
        name: "/",
        min_args: 1,
        max_args: None,
        func: div,
    },
    Builtin {
        name: "=",
        min_args: 1,
        max_args: None,
        func: num_eq,
    },
    Builtin {
        name: "<",
        min_args: 1,
        max_args: None,
        func: lt,
    },
    Builtin {
        name: ">",
        min_args: 1,
        max_args: None,
        func: gt,
    },
    Builtin {
        name: "<=",
        min_args: 1,
        max_args: None,
        func: le,
    },
    Builtin {
        name: ">=",
        min_args: 1,
        max_args: None,
        func: ge,
    },
    Builtin {
        name: "quotient",
        min_args: 2,
        max_args: Some(2),
        func: quotient,
    },
    Builtin {
        name: "remainder",
        min_args: 2,
        max_args: Some(2),
        func: remainder,
    },
    Builtin {
        name: "modulo",
        min_args: 2,
        max_args: Some(2),
        func: modulo,
    },
    Builtin {
        name: "abs",
        min_args: 1,
        max_args: Some(1),
        func: abs,
    },
    Builtin {
        name: "number?",
        min_args: 1,
        max_args: Some(1),
        func: is_number,
    },
    Builtin {
        name: "integer?",
        min_args: 1,
        max_args: Some(1),
        func: is_integer,
    },
    Builtin {
        name: "zero?",
        min_args: 1,
        max_args: Some(1),
        func: is_zero,
    },
    Builtin {
        name: "number->string",
        min_args: 1,
        max_args: Some(1),
        func: number_to_string,
    },
    Builtin {
        name: "string->number",
        min_args: 1,
        max_args: Some(1),
        func: string_to_number,
    },
];

#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn of(who: &str, value: &Value) -> Result<Num> {
        match value {
            Value::Int(n) => Ok(Num::Int(*n)),
            Value::Float(x) => Ok(Num::Float(*x)),
            other => Err(wrong_type(who, "a number", other)),
        }
    }

    fn float(self) -> f64 {
        match self {
            Num::Int(n) => n as f64,
            Num::Float(x) => x,
        }
    }

    fn value(self) -> Value {
        match self {
            Num::Int(n) => Value::Int(n),
            Num::Float(x) => Value::Float(x),
        }
    }
}

fn overflow(who: &str) -> crate::error::Error {
    error!(Range, "{who}: integer overflow (integers are 64-bit)")
}

/// Folds `args` with an integer op (checked) and a float op.
fn fold(
    who: &str,
    init: Num,
    args: &[Value],
    int_op: fn(i64, i64) -> Option<i64>,
    float_op: fn(f64, f64) -> f64,
) -> Result<Value> {
    let mut acc = init;
    for arg in args {
        acc = match (acc, Num::of(who, arg)?) {
            (Num::Int(a), Num::Int(b)) => Num::Int(int_op(a, b).ok_or_else(|| overflow(who))?),
            (a, b) => Num::Float(float_op(a.float(), b.float())),
        };
    }
    Ok(acc.value())
}

fn add(args: &[Value]) -> Result<Value> {
    fold("+", Num::Int(0), args, i64::checked_add, |a, b| a + b)
}

fn mul(args: &[Value]) -> Result<Value> {
    fold("*", Num::Int(1), args, i64::checked_mul, |a, b| a * b)
}

fn sub(args: &[Value]) -> Result<Value> {
    if let [only] = args {
        return fold(
            "-",
            Num::Int(0),
            std::slice::from_ref(only),
            i64::checked_sub,
            |a, b| a - b,
        );
    }
    let first = Num::of("-", &args[0])?;
    fold("-", first, &args[1..], i64::checked_sub, |a, b| a - b)
}

fn divide(a: Num, b: Num) -> Result<Num> {
    match (a, b) {
        (_, Num::Int(0)) => Err(error!(DivisionByZero, "/")),
        (Num::Int(a), Num::Int(b)) => {
            if a.wrapping_rem(b) == 0 {
                a.checked_div(b).map(Num::Int).ok_or_else(|| overflow("/"))
            } else {
                Ok(Num::Float(a as f64 / b as f64))
            }
        }
        (a, b) => Ok(Num::Float(a.float() / b.float())),
    }
}

fn div(args: &[Value]) -> Result<Value> {
    let (mut acc, rest) = match args {
        [only] => (Num::Int(1), std::slice::from_ref(only)),
        [first, rest @ ..] => (Num::of("/", first)?, rest),
        [] => return Err(error!(Arity, "/: expected at least 1 argument, got 0")),
    };
    for arg in rest {
        acc = divide(acc, Num::of("/", arg)?)?;
    }
    Ok(acc.value())
}

/// Chains a comparison over `args`.
fn compare(who: &str, args: &[Value], holds: fn(std::cmp::Ordering) -> bool) -> Result<Value> {
    let mut all = true;
    let mut previous = Num::of(who, &args[0])?;
    for arg in &args[1..] {
        let next = Num::of(who, arg)?;
        let ordering = match (previous, next) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.float().partial_cmp(&b.float()),
        };
        // Keep checking the types of the remaining operands even once the chain fails.
        all &= ordering.is_some_and(holds);
        previous = next;
    }
    Ok(Value::Bool(all))
}

fn num_eq(args: &[Value]) -> Result<Value> {
    compare("=", args, |o| o.is_eq())
}

fn lt(args: &[Value]) -> Result<Value> {
    compare("<", args, |o| o.is_lt())
}

fn gt(args: &[Value]) -> Result<Value> {
    compare(">", args, |o| o.is_gt())
}

fn le(args: &[Value]) -> Result<Value> {
    compare("<=", args, |o| o.is_le())
}

fn ge(args: &[Value]) -> Result<Value> {
    compare(">=", args, |o| o.is_ge())
}

fn int_arg(who: &str, value: &Value) -> Result<i64> {
    match value {
        Value::Int(n) => Ok(*n),
        other => Err(wrong_type(who, "an integer", other)),
    }
}

fn int_division(who: &str, args: &[Value], op: fn(i64, i64) -> Option<i64>) -> Result<Value> {
    let a = int_arg(who, &args[0])?;
    let b = int_arg(who, &args[1])?;
    if b == 0 {
        return Err(error!(DivisionByZero, "{who}"));
    }
    op(a, b).map(Value::Int).ok_or_else(|| overflow(who))
}

fn quotient(args: &[Value]) -> Result<Value> {
    int_division("quotient", args, i64::checked_div)
}

fn remainder(args: &[Value]) -> Result<Value> {
    int_division("remainder", args, i64::checked_rem)
}

fn modulo(args: &[Value]) -> Result<Value> {
    int_division("modulo", args, i64::checked_rem_euclid).map(|v| match (v, &args[1]) {
        // `rem_euclid` is never negative; Scheme's `modulo` takes the divisor's sign.
        (Value::Int(r), Value::Int(b)) if *b < 0 && r != 0 => Value::Int(r + b),
        (v, _) => v,
    })
}

fn abs(args: &[Value]) -> Result<Value> {
    match Num::of("abs", &args[0])? {
        Num::Int(n) => n
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| overflow("abs")),
        Num::Float(x) => Ok(Value::Float(x.abs())),
    }
}

fn is_number(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(matches!(
        args[0],
        Value::Int(_) | Value::Float(_)
    )))
}

fn is_integer(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(match args[0] {
        Value::Int(_) => true,
        Value::Float(x) => x.is_finite() && x.fract() == 0.0,
        _ => false,
    }))
}

fn is_zero(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(match Num::of("zero?", &args[0])? {
        Num::Int(n) => n == 0,
        Num::Float(x) => x == 0.0,
    }))
}

fn number_to_string(args: &[Value]) -> Result<Value> {
    Num::of("number->string", &args[0])?;
    Ok(Value::string(printer::to_string(
        &args[0],
        printer::Mode::Display,
    )))
}

fn string_to_number(args: &[Value]) -> Result<Value> {
    let Value::Str(text) = &args[0] else {
        return Err(wrong_type("string->number", "a string", &args[0]));
    };
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Value::Int(n));
    }
    let numeric = text
        .starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-' || c == '+')
        && !text.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E');
    match text.parse::<f64>() {
        Ok(x) if numeric => Ok(Value::Float(x)),
        _ => Ok(Value::Bool(false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: Result<Value>) -> i64 {
        match v {
            Ok(Value::Int(n)) => n,
            _ => panic!("expected an integer"),
        }
    }

    #[test]
    fn arithmetic_stays_exact_and_reports_overflow() {
        assert_eq!(int(add(&[Value::Int(2), Value::Int(3)])), 5);
        assert_eq!(int(sub(&[Value::Int(2)])), -2);
        assert_eq!(int(div(&[Value::Int(6), Value::Int(3)])), 2);
        assert!(matches!(div(&[Value::Int(1), Value::Int(2)]), Ok(Value::Float(x)) if x == 0.5));
        let e = add(&[Value::Int(i64::MAX), Value::Int(1)]).expect_err("overflow");
        assert_eq!(e.kind, crate::error::ErrorKind::Range);
        let e = div(&[Value::Int(1), Value::Int(0)]).expect_err("zero");
        assert_eq!(e.kind, crate::error::ErrorKind::DivisionByZero);
        assert!(div(&[Value::Int(i64::MIN), Value::Int(-1)]).is_err());
        assert!(
            matches!(div(&[Value::Float(1.0), Value::Float(0.0)]), Ok(Value::Float(x)) if x.is_infinite())
        );
    }

    #[test]
    fn modulo_takes_the_divisor_sign() {
        assert_eq!(int(modulo(&[Value::Int(-7), Value::Int(2)])), 1);
        assert_eq!(int(modulo(&[Value::Int(7), Value::Int(-2)])), -1);
        assert_eq!(int(remainder(&[Value::Int(-7), Value::Int(2)])), -1);
        assert_eq!(int(quotient(&[Value::Int(-7), Value::Int(2)])), -3);
    }

    #[test]
    fn comparisons_chain_across_types() {
        let t = |v: Result<Value>| matches!(v, Ok(Value::Bool(true)));
        assert!(t(lt(&[Value::Int(1), Value::Float(1.5), Value::Int(2)])));
        assert!(!t(lt(&[Value::Int(1), Value::Int(1)])));
        assert!(t(num_eq(&[Value::Int(1), Value::Float(1.0)])));
        assert!(lt(&[Value::Int(1), Value::Bool(true)]).is_err());
    }

    #[test]
    fn string_to_number_rejects_non_numbers() {
        assert_eq!(int(string_to_number(&[Value::string("42")])), 42);
        assert!(matches!(
            string_to_number(&[Value::string("inf")]),
            Ok(Value::Bool(false))
        ));
        assert!(
            matches!(string_to_number(&[Value::string("2.5")]), Ok(Value::Float(x)) if x == 2.5)
        );
    }
}
