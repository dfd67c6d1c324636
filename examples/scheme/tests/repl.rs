//! The REPL driven through a pipe: values printed in `write` form, multi-line forms,
//! errors with their session line numbers on stderr, and the session going on after
//! every kind of error.

mod common;

use common::scheme;

#[test]
fn the_repl_reads_evaluates_and_prints_from_a_pipe() {
    let input = "(define x 10)\n\
                 (+ x\n   5)\n\
                 (car 1)\n\
                 \"s\" (list 1 2.5 'a)\n\
                 )\n\
                 (undefined-thing)\n\
                 (display \"hi\") (newline)\n\
                 (define l (list 1 2))\n\
                 (set-cdr! (cdr l) l)\n\
                 l\n\
                 (/ 1 0)\n\
                 (* x 2)\n\
                 (+ 1";
    let run = scheme(&[], &[], input);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, "15\n\"s\"\n(1 2.5 a)\nhi\n#0=(1 2 . #0#)\n20\n");
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        errors,
        [
            "error: line 4: wrong type: car: expected a pair, got 1",
            "error: line 6: syntax error: unbalanced parentheses: unexpected ')'",
            "error: line 7: unbound variable: undefined-thing",
            "error: line 12: division by zero: /",
            "error: line 14: syntax error: unbalanced parentheses: the '(' opened at line 14 is never closed",
        ]
    );
}

#[test]
fn threads_work_from_the_repl() {
    let input = "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n\
                 (define ts (list (spawn (lambda () (fib 15))) (spawn (lambda () (fib 16)))))\n\
                 (+ (join (car ts)) (join (cadr ts)))\n\
                 (join (car ts))\n";
    let run = scheme(&[], &[], input);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, "1597\n610\n");
    assert_eq!(run.stderr, "");
}

#[test]
fn a_value_is_printed_on_a_line_of_its_own() {
    // `display` leaves no newline; the value printed next starts a fresh line.
    let run = scheme(
        &[],
        &[],
        "(display \"a\")\n(+ 1 2)\n(begin (display \"b\") 'c)\n(newline)\n",
    );
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, "a\n3\nb\nc\n\n");
}
