//! End-to-end checks of the pause-time harness binary: a short run on a small heap produces
//! its report, CSV, JSON and SVG (this is the CI run of the harness), and bad command lines
//! exit with code 2 and a message naming the problem.

mod common;

use std::process::{Command, Output};

use common::{non_empty, out_dir, succeeded};

const BIN: &str = env!("CARGO_BIN_EXE_tricolor-gc-bench");

fn bench(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run tricolor-gc-bench")
}

#[test]
fn short_arc_run_writes_report_csv_json_and_svg() {
    let out = out_dir(BIN, "arc");
    let o = bench(&[
        "--runtime",
        "arc",
        "--live-mib",
        "4",
        "--duration",
        "2",
        "--quiet",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    let stdout = succeeded(&o);
    for needle in [
        "runtime arc",
        "Mnodes/s",
        "loop gaps",
        "max loop gap",
        "pauses        n/a",
        "peak RSS",
    ] {
        assert!(
            stdout.contains(needle),
            "report lacks {needle:?}:\n{stdout}"
        );
    }
    assert!(o.stderr.is_empty(), "--quiet still wrote to stderr");

    let csv = non_empty(&out.join("arc.csv"));
    assert_eq!(csv.lines().next(), Some("kind,thread,t_ms,duration_us"));

    let json: serde_json::Value =
        serde_json::from_str(&non_empty(&out.join("arc.json"))).expect("JSON parses");
    for key in [
        "runtime",
        "alloc_rate_mnodes_s",
        "gap",
        "pause",
        "cycles",
        "peak_rss_mib",
        "max_gap_per_thread_us",
    ] {
        assert!(json.get(key).is_some(), "JSON lacks {key}: {json}");
    }
    assert_eq!(json["runtime"], "arc");
    assert!(
        json["pause"].is_null(),
        "Arc has no collector: pause must be null"
    );
    assert!(json["alloc_rate_mnodes_s"].as_f64().expect("a number") > 0.0);
    assert!(json["gap"]["count"].as_u64().expect("a count") > 0);
    assert!(json["gap"]["max_us"].as_f64().expect("a max") > 0.0);

    let svg = non_empty(&out.join("arc.svg"));
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "not an SVG"
    );
}

#[test]
fn bad_flag_value_exits_2_with_a_clear_message() {
    let o = bench(&["--live-mib", "x"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(
            "invalid value 'x' for '--live-mib <N>': expected a whole number from 1 to 65536"
        ),
        "{stderr}"
    );
    let o = bench(&["--frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unexpected argument '--frobnicate'"));
}

#[test]
fn threads_on_a_single_threaded_runtime_exit_2_naming_it() {
    let o = bench(&["--threads", "2", "--runtime", "rust-gc"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("--runtime rust-gc"), "{stderr}");
    assert!(stderr.contains("single-threaded"), "{stderr}");
}

#[test]
fn help_lists_every_flag() {
    let o = bench(&["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--runtime",
        "--live-mib",
        "--duration",
        "--threads",
        "--replace-fraction",
        "--churn-depth",
        "--live-depth",
        "--gap-threshold-us",
        "--seed",
        "--out",
        "--quiet",
        "--help",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn short_tricolor_run_records_collector_pauses() {
    let out = out_dir(BIN, "tricolor");
    let o = bench(&[
        "--live-mib",
        "8",
        "--duration",
        "2",
        "--threads",
        "2",
        "--quiet",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    let stdout = succeeded(&o);
    assert!(
        stdout.contains("runtime tricolor"),
        "tricolor is the default:\n{stdout}"
    );
    assert!(
        !stdout.contains("pauses        n/a"),
        "tricolor reports its pauses:\n{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&non_empty(&out.join("tricolor.json"))).expect("JSON parses");
    assert_eq!(json["runtime"], "tricolor");
    assert!(
        json["cycles"].as_u64().unwrap_or(0) >= 1,
        "a 2 s churn runs cycles: {json}"
    );
    assert!(!json["pause"].is_null(), "pauses are measured: {json}");
    let csv = non_empty(&out.join("tricolor.csv"));
    assert!(
        csv.lines().any(|l| l.starts_with("pause,")),
        "CSV has pause samples"
    );
    let svg = non_empty(&out.join("tricolor.svg"));
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"));
}
