//! Errors in file mode: every kind prints `FILE:LINE: error: KIND: ...` on stderr and
//! exits with status 1, after the output of the forms before it; and the limits that
//! keep deep programs from crashing (tail calls, deep recursion, deep nesting).

mod common;

use common::{run_source, scheme};

/// Runs `source` and checks the error report: the line, the kind, a detail, status 1.
fn assert_error(
    name: &str,
    source: &str,
    env: &[(&str, &str)],
    line: u32,
    kind: &str,
    detail: &str,
) {
    let (run, path) = run_source(name, source, env);
    assert_eq!(run.code, Some(1), "{name}: status; stderr:\n{}", run.stderr);
    let prefix = format!("{path}:{line}: error: {kind}: ");
    let report = run
        .stderr
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{name}: no `{prefix}` in stderr:\n{}", run.stderr));
    assert!(
        report.contains(detail),
        "{name}: `{detail}` missing from `{report}`"
    );
    assert_eq!(
        run.stdout, "before\n",
        "{name}: the forms before the error ran"
    );
}

#[test]
fn every_error_kind_reports_its_line_and_exits_with_1() {
    let cases: &[(&str, &str, u32, &str, &str)] = &[
        ("unbound", "(display \"before\")\n(newline)\n(foo 1)\n", 3, "unbound variable", "foo"),
        (
            "wrong-type",
            "(display \"before\")\n(newline)\n(define (f x)\n  (car x))\n(f 5)\n",
            4,
            "wrong type",
            "car: expected a pair, got 5",
        ),
        (
            "closure-arity",
            "(display \"before\")\n(newline)\n(define (f x) x)\n\n(f 1 2)\n",
            5,
            "wrong number of arguments",
            "f: expected 1 argument, got 2",
        ),
        (
            "builtin-arity",
            "(display \"before\")\n(newline)\n(cons 1)\n",
            3,
            "wrong number of arguments",
            "cons: expected 2 arguments, got 1",
        ),
        (
            "not-a-procedure",
            "(display \"before\")\n(newline)\n(5 1)\n",
            3,
            "wrong type",
            "not a procedure: 5",
        ),
        (
            "division-by-zero",
            "(display \"before\")\n(newline)\n(define x 0)\n(/ 10 x)\n",
            4,
            "division by zero",
            "/",
        ),
        (
            "out-of-range",
            "(display \"before\")\n(newline)\n(vector-ref (make-vector 3 0) 3)\n",
            3,
            "out of range",
            "index 3",
        ),
        (
            "overflow",
            "(display \"before\")\n(newline)\n(* 9223372036854775807 2)\n",
            3,
            "out of range",
            "integer overflow",
        ),
        (
            "use-before-definition",
            "(display \"before\")\n(newline)\n(letrec ((a b)\n         (b 1))\n  a)\n",
            3,
            "unbound variable",
            "b (used before its definition)",
        ),
        (
            "set-undefined",
            "(display \"before\")\n(newline)\n(set! nowhere 1)\n",
            3,
            "unbound variable",
            "nowhere",
        ),
        (
            "syntax",
            "(display \"before\")\n(newline)\n(if)\n",
            3,
            "syntax error",
            "if",
        ),
        (
            "thread",
            "(display \"before\")\n(newline)\n(define t (spawn (lambda ()\n  (car '()))))\n(join t)\n",
            5,
            "thread error",
            "line 4: wrong type: car: expected a pair, got ()",
        ),
    ];
    for (name, source, line, kind, detail) in cases {
        assert_error(name, source, &[], *line, kind, detail);
    }
}

#[test]
fn unbalanced_parentheses_are_reported_before_anything_runs() {
    for (name, source, line, detail) in [
        (
            "unclosed",
            "(display \"x\")\n(define (f x)\n  (+ x 1)\n",
            2,
            "opened at line 2 is never closed",
        ),
        (
            "extra-close",
            "(display \"x\")\n(+ 1 2))\n",
            2,
            "unexpected ')'",
        ),
    ] {
        let (run, path) = run_source(name, source, &[]);
        assert_eq!(run.code, Some(1), "{name}");
        assert_eq!(
            run.stdout, "",
            "{name}: nothing runs when the file does not parse"
        );
        let expected = format!("{path}:{line}: error: syntax error: unbalanced parentheses: ");
        assert!(
            run.stderr.starts_with(&expected) && run.stderr.contains(detail),
            "{name}: stderr was {:?}",
            run.stderr
        );
    }
}

#[test]
fn runaway_recursion_is_a_clean_error() {
    let source = "(display \"before\")\n(newline)\n(define (down n)\n  (+ 1 (down n)))\n(down 0)\n";
    // The default limit (1,000,000 pending frames) and a small one.
    assert_error("runaway", source, &[], 4, "recursion too deep", "1000000");
    assert_error(
        "runaway-small",
        source,
        &[("SCHEME_MAX_DEPTH", "1000")],
        4,
        "recursion too deep",
        "1000",
    );
}

#[test]
fn deep_non_tail_recursion_works() {
    // 100,000 pending `cons`es: far past any Rust stack if evaluation recursed.
    let source = "(define (build n)\n  (if (= n 0) '() (cons n (build (- n 1)))))\n\
                  (define (sum l) (if (null? l) 0 (+ (car l) (sum (cdr l)))))\n\
                  (define l (build 100000))\n(display (length l))\n(newline)\n(display (sum l))\n(newline)\n";
    let (run, _) = run_source("deep", source, &[]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, "100000\n5000050000\n");
}

#[test]
fn tail_calls_run_in_constant_space() {
    // With at most 50 pending frames allowed, only proper tail calls can finish these.
    let source = "(define (loop n) (if (= n 0) 'done (loop (- n 1))))\n(display (loop 1000000))\n\
                  (define (even? n) (if (= n 0) #t (odd? (- n 1))))\n\
                  (define (odd? n) (if (= n 0) #f (even? (- n 1))))\n(display (even? 100001))\n\
                  (define (count n) (cond ((= n 0) 'ok) (else (and #t (or #f (count (- n 1)))))))\n\
                  (display (count 100000))\n(let lp ((i 0)) (when (< i 100000) (lp (+ i 1))))\n";
    let (run, _) = run_source("tail", source, &[("SCHEME_MAX_DEPTH", "50")]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, "done#fok");
}

#[test]
fn deeply_nested_source_is_read_or_refused_without_a_crash() {
    // The reader's limit is 10,000 open brackets and quotes; `(write '` takes two.
    let inner = 10_000 - 2;
    let nested = format!("(write '{}{})", "(".repeat(inner), ")".repeat(inner));
    let (run, _) = run_source("nested", &nested, &[]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout.len(), 2 * inner);
    let too_deep = format!(
        "(write '{}{})",
        "(".repeat(inner + 1),
        ")".repeat(inner + 1)
    );
    let (run, path) = run_source("too-nested", &too_deep, &[]);
    assert_eq!(run.code, Some(1));
    assert!(run
        .stderr
        .starts_with(&format!("{path}:1: error: syntax error: expression nested")));
}

#[test]
fn a_missing_file_is_reported() {
    let run = scheme(&["/nonexistent/program.scm"], &[], "");
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("cannot read /nonexistent/program.scm"));
}
