//! End-to-end checks of the `binary-trees` runner: a small `--runtime all` run (three child
//! processes) prints the table with tricolor, Box and Arc and no peer collector and writes
//! it as markdown and SVG, and a bad command line exits with code 2 and a message naming
//! the flag and its range.

mod common;

use std::process::{Command, Output};

use common::{non_empty, out_dir, succeeded};

const BIN: &str = env!("CARGO_BIN_EXE_binary-trees");

fn binary_trees(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run binary-trees")
}

#[test]
fn small_run_of_all_lists_tricolor_box_and_arc() {
    let out = out_dir(BIN, "binary-trees-all");
    let stdout = succeeded(&binary_trees(&[
        "--depth",
        "10",
        "--runtime",
        "all",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]));
    let rows: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for runtime in ["tricolor", "box", "arc"] {
        assert!(rows.contains(&runtime), "no {runtime} row:\n{stdout}");
    }
    for peer in ["rust-gc", "dumpster", "gc-arena"] {
        assert!(!rows.contains(&peer), "all ran the peer {peer}:\n{stdout}");
    }
    assert!(!stdout.contains("FAILED"), "{stdout}");
    let boxed = stdout
        .lines()
        .find(|l| l.starts_with("box "))
        .expect("a box row");
    assert!(boxed.contains(" 1.00 "), "box is its own baseline: {boxed}");

    let md = non_empty(&out.join("binary-trees.md"));
    assert!(
        md.contains("| runtime | wall s per run | median s |"),
        "{md}"
    );
    for runtime in ["tricolor", "box", "arc"] {
        assert!(
            md.contains(&format!("| {runtime} | ")),
            "no {runtime} row:\n{md}"
        );
    }
    let svg = non_empty(&out.join("binary-trees.svg"));
    assert!(
        svg.contains("<svg") && svg.contains("tricolor"),
        "not the chart"
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("files written: ") && last.contains("binary-trees.svg"),
        "the report ends with the files: {last}"
    );
}

#[test]
fn every_bad_flag_exits_2_naming_the_flag_and_its_range() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--depth", "abc"],
            "invalid value 'abc' for '--depth <N>': expected a whole number from 4 to 25",
        ),
        (
            &["--depth", "26"],
            "'--depth <N>': expected a whole number from 4 to 25",
        ),
        (
            &["--repeat", "0"],
            "'--repeat <K>': expected a whole number from 1 to 100",
        ),
        (
            &["--runtime", "go"],
            "'--runtime <NAME>': expected a comma-separated list of",
        ),
        (&["--bogus"], "unexpected argument '--bogus'"),
    ];
    for (args, message) in cases {
        let o = binary_trees(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(o.stdout.is_empty(), "no table on a usage error");
    }
}

#[test]
fn help_names_every_flag_and_runtime() {
    let o = binary_trees(&["--help"]);
    let text = succeeded(&o);
    for needle in [
        "--depth",
        "--runtime",
        "--repeat",
        "--json",
        "--help",
        "tricolor",
        "box",
        "arc",
        "rust-gc",
        "dumpster",
        "gc-arena",
        "every",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}");
    }
}
