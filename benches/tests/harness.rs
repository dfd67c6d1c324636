//! End-to-end checks of the pause-time harness binary: short runs on a small heap produce
//! the report and every file (the CSVs, the heap timeline, the JSON, the SVG; this is the
//! CI run of the harness), a two-runtime list writes the comparison, W3 (cyclic churn)
//! runs on every runtime and tricolor's cycles free its garbage, bad command lines exit
//! with code 2 and a message naming the flag and its range or choices, and a missing Go
//! toolchain is reported, not fatal (with Go on `PATH`, the Go peer runs too).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{non_empty, out_dir, succeeded};

const BIN: &str = env!("CARGO_BIN_EXE_tricolor-gc-bench");

fn bench(args: &[&str]) -> Output {
    bench_env(args, &[])
}

/// [`bench`] with extra environment variables.
fn bench_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run tricolor-gc-bench")
}

/// A `secs` run of `runtime` (a list too) on a 4 MiB live set into a fresh directory (one
/// per runtime and workload, so tests running at once never share one).
fn short_run(runtime: &str, secs: &str, extra: &[&str]) -> (Output, PathBuf) {
    short_run_env(runtime, secs, extra, &[])
}

/// [`short_run`] with extra environment variables for the harness.
fn short_run_env(
    runtime: &str,
    secs: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Output, PathBuf) {
    let workload = extra
        .iter()
        .position(|a| *a == "--workload")
        .map_or(String::new(), |i| format!("-{}", extra[i + 1]));
    let out = out_dir(BIN, &format!("{}{workload}", runtime.replace(',', "+")));
    let dir = out.to_str().expect("utf-8 path").to_string();
    let mut args = vec![
        "--runtime",
        runtime,
        "--live-mib",
        "4",
        "--duration",
        secs,
        "--out",
        &dir,
    ];
    args.extend_from_slice(extra);
    (bench_env(&args, env), out)
}

/// The rows of a CSV under its expected header.
fn csv_rows(path: &Path, header: &str) -> Vec<Vec<String>> {
    let text = non_empty(path);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header), "{} header", path.display());
    lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Checks `<runtime>.timeline.csv`: its columns, times increasing, the RSS and live
/// lines on every row, and the heap lines on every row iff `heap`.
fn check_timeline(out: &Path, runtime: &str, heap: bool) {
    let rows = csv_rows(
        &out.join(format!("{runtime}.timeline.csv")),
        "t_ms,heap_bytes,heap_goal_bytes,rss_bytes,live_bytes",
    );
    assert!(
        rows.len() >= 20,
        "a 1 s run samples every ~5 ms: {}",
        rows.len()
    );
    let t: Vec<f64> = rows
        .iter()
        .map(|r| r[0].parse().expect("t_ms is a number"))
        .collect();
    assert!(t.windows(2).all(|w| w[0] < w[1]), "t_ms is not increasing");
    for r in &rows {
        assert_eq!(r.len(), 5, "{r:?}");
        assert!(r[3].parse::<u64>().is_ok(), "rss_bytes on every row: {r:?}");
        assert_eq!(!r[1].is_empty(), heap, "heap_bytes: {r:?}");
        assert_eq!(!r[2].is_empty(), heap, "heap_goal_bytes: {r:?}");
    }
    assert!(
        rows.iter().any(|r| !r[4].is_empty()),
        "live_bytes somewhere"
    );
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&non_empty(path)).expect("JSON parses")
}

fn is_svg(path: &Path) -> bool {
    let svg = non_empty(path);
    svg.starts_with("<svg") || svg.starts_with("<?xml")
}

#[test]
fn short_arc_run_writes_the_report_and_every_file() {
    let (o, out) = short_run("arc", "1", &["--quiet"]);
    let stdout = succeeded(&o);
    for needle in [
        "runtime arc",
        "Mnodes/s",
        "loop gaps",
        "max loop gap",
        "pauses        n/a",
        "peak RSS",
        "timeline",
    ] {
        assert!(
            stdout.contains(needle),
            "report lacks {needle:?}:\n{stdout}"
        );
    }
    assert!(o.stderr.is_empty(), "--quiet still wrote to stderr");
    let last = stdout.lines().last().unwrap_or_default();
    for file in [
        "arc.csv",
        "arc.timeline.csv",
        "arc.cycles.csv",
        "arc.json",
        "arc.svg",
    ] {
        assert!(last.contains(file), "the last line lists {file}: {last}");
    }

    let csv = non_empty(&out.join("arc.csv"));
    assert_eq!(csv.lines().next(), Some("kind,thread,t_ms,duration_us"));
    check_timeline(&out, "arc", false);
    let cycles = csv_rows(&out.join("arc.cycles.csv"), "cycle,phase,start_ms,end_ms");
    assert!(cycles.is_empty(), "Arc has no collector cycles");

    let json = json(&out.join("arc.json"));
    for key in [
        "runtime",
        "alloc_rate_mnodes_s",
        "gap",
        "pause",
        "cycles",
        "peak_rss_mib",
        "max_gap_per_thread_us",
        "timeline",
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
    assert!(json["timeline"]["samples"].as_u64().expect("a count") >= 20);
    assert!(is_svg(&out.join("arc.svg")), "not an SVG");
}

#[test]
fn short_tricolor_run_records_pauses_heap_timeline_and_cycles() {
    // Count-zero reclamation keeps W2's 4 MiB live set under its heap goal, so the churn
    // starts no cycle by itself; forced cycles every 100 ms give the timeline some.
    let (o, out) = short_run_env(
        "tricolor",
        "2",
        &["--threads", "2", "--quiet"],
        &[("TRICOLOR_FORCE_PERIOD_MS", "100")],
    );
    let stdout = succeeded(&o);
    assert!(stdout.contains("runtime tricolor"), "{stdout}");
    assert!(
        !stdout.contains("pauses        n/a"),
        "tricolor reports its pauses:\n{stdout}"
    );
    let json = json(&out.join("tricolor.json"));
    assert_eq!(json["workload"], "W2", "W2 is the default");
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
    check_timeline(&out, "tricolor", true);
    let cycles = csv_rows(
        &out.join("tricolor.cycles.csv"),
        "cycle,phase,start_ms,end_ms",
    );
    assert!(!cycles.is_empty(), "the timeline shows the cycles");
    for r in &cycles {
        let (start, end): (f64, f64) = (r[2].parse().unwrap(), r[3].parse().unwrap());
        assert!(["mark", "sweep"].contains(&r[1].as_str()), "{r:?}");
        assert!(0.0 <= start && start <= end, "{r:?}");
    }
    let in_json = json["timeline"]["cycles"].as_array().expect("cycles");
    assert_eq!(in_json.len() * 2, cycles.len(), "two phases per cycle");
    let svg = non_empty(&out.join("tricolor.svg"));
    assert!(svg.contains("heap over time") && svg.contains("mark phase"));
}

#[test]
fn a_two_runtime_list_writes_compare_md_and_svg() {
    let (o, out) = short_run("arc,box", "1", &["--quiet"]);
    let stdout = succeeded(&o);
    assert!(
        o.stderr.is_empty(),
        "--quiet children still wrote to stderr"
    );
    let md = non_empty(&out.join("compare.md"));
    assert!(
        md.contains("| runtime | Mnodes/s | peak RSS | RSS / live | max gap |"),
        "{md}"
    );
    assert!(md.contains("| arc | ") && md.contains("| box | "), "{md}");
    assert!(is_svg(&out.join("compare.svg")));
    let svg = non_empty(&out.join("compare.svg"));
    for needle in [
        "allocation rate",
        "peak RSS over the live set",
        "longest mutator gap",
    ] {
        assert!(svg.contains(needle), "compare.svg lacks {needle}");
    }
    for runtime in ["arc", "box"] {
        assert!(
            out.join(format!("{runtime}.json")).is_file(),
            "{runtime}.json"
        );
    }
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("files written: ") && last.ends_with("compare.svg"),
        "the report ends with the files: {last}"
    );
}

fn go_on_path() -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|d| d.join("go").is_file())
}

#[test]
fn w3_runs_on_every_runtime_and_every_output_names_it() {
    let (o, out) = short_run("all", "0.5", &["--workload", "w3", "--quiet"]);
    let stdout = succeeded(&o);
    let md = non_empty(&out.join("compare.md"));
    assert!(
        md.starts_with("W3: 4 MiB live, 0.5 s churn"),
        "compare.md names the workload: {md}"
    );
    let svg = non_empty(&out.join("compare.svg"));
    assert!(
        svg.contains("W3: 4 MiB live"),
        "compare.svg names the workload"
    );
    let mut ran = vec!["tricolor", "box", "arc", "rust-gc", "dumpster", "gc-arena"];
    if go_on_path() {
        ran.push("go");
    } else {
        assert!(md.contains("| go | skipped: no Go toolchain"), "{md}");
    }
    for runtime in ran {
        assert!(
            stdout.contains(&format!("workload W3, runtime {runtime}")),
            "the {runtime} report names W3:\n{stdout}"
        );
        assert!(md.contains(&format!("| {runtime} | ")), "{md}");
        let json = json(&out.join(format!("{runtime}.json")));
        assert_eq!(json["workload"], "W3", "{runtime}: {json}");
        assert!(
            json["nodes_allocated"].as_u64().unwrap_or(0) > 0,
            "{runtime} churned: {json}"
        );
        let svg = non_empty(&out.join(format!("{runtime}.svg")));
        assert!(
            svg.contains(&format!("W3 {runtime}: heap over time")),
            "{runtime}.svg names the workload"
        );
    }
}

#[test]
fn a_w3_tricolor_run_frees_cyclic_garbage_by_cycles() {
    let (o, out) = short_run("tricolor", "1", &["--workload", "w3", "--quiet"]);
    let stdout = succeeded(&o);
    assert!(stdout.contains("workload W3, runtime tricolor"), "{stdout}");
    assert!(stdout.contains(" by cycles (tracing)"), "{stdout}");
    let json = json(&out.join("tricolor.json"));
    assert_eq!(json["workload"], "W3");
    assert!(json["cycles"].as_u64().unwrap_or(0) > 0, "{json}");
    let by_cycles = json["freed_by_cycles"]
        .as_u64()
        .expect("tricolor counts frees");
    assert!(by_cycles > 0, "cycles freed the cyclic garbage: {json}");
    // Every dropped W3 tree is a cycle (its root is held by its children's parent edges):
    // no count of it reaches zero, so counts free nothing and the frees are the cycles'.
    assert_eq!(json["freed_by_counts"].as_u64(), Some(0), "{json}");
    assert!(
        by_cycles
            <= json["live_nodes"].as_u64().unwrap() + json["nodes_allocated"].as_u64().unwrap(),
        "cannot free more than was allocated: {json}"
    );
}

#[test]
fn a_missing_go_toolchain_is_reported_not_fatal() {
    let out = out_dir(BIN, "no-go");
    let dir = out.to_str().expect("utf-8 path");
    let without_go = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("PATH", "")
            .output()
            .expect("run tricolor-gc-bench")
    };
    let o = without_go(&["--runtime", "go", "--quiet", "--out", dir]);
    let stdout = succeeded(&o);
    assert_eq!(
        stdout.trim(),
        "tricolor-gc-bench: go skipped: no Go toolchain: `go` is not on PATH"
    );
    let o = without_go(&[
        "--runtime",
        "arc,go",
        "--live-mib",
        "4",
        "--duration",
        "0.5",
        "--quiet",
        "--out",
        dir,
    ]);
    let stdout = succeeded(&o);
    assert_eq!(stdout.matches("go skipped").count(), 1, "{stdout}");
    let md = non_empty(&out.join("compare.md"));
    assert!(md.contains("| go | skipped: no Go toolchain"), "{md}");
}

#[test]
fn with_go_on_path_the_go_peer_runs() {
    if !go_on_path() {
        eprintln!("no Go toolchain on PATH: the Go peer's run is not checked");
        return;
    }
    let (o, out) = short_run("go", "1", &["--quiet"]);
    let stdout = succeeded(&o);
    assert!(stdout.contains("runtime go (go1."), "{stdout}");
    let json = json(&out.join("go.json"));
    assert!(json["cycles"].as_u64().unwrap_or(0) >= 1, "{json}");
    assert!(json["pause"]["count"].as_u64().unwrap_or(0) >= 2, "{json}");
    check_timeline(&out, "go", true);
    let cycles = csv_rows(&out.join("go.cycles.csv"), "cycle,phase,start_ms,end_ms");
    assert!(cycles.iter().any(|r| r[1] == "mark termination (stw)"));
}

#[test]
fn stderr_that_is_not_a_terminal_gets_no_progress_line() {
    let (o, _) = short_run("arc", "0.5", &[]);
    succeeded(&o);
    assert!(
        o.stderr.is_empty(),
        "progress on a pipe: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every flag with a bad value: the flag and its range or choices must be named, status 2.
#[test]
fn every_bad_flag_exits_2_naming_the_flag_and_what_it_accepts() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--live-mib", "x"], "'--live-mib <N>'", "from 1 to 65536"),
        (&["--live-mib", "0"], "'--live-mib <N>'", "from 1 to 65536"),
        (
            &["--duration", "0"],
            "'--duration <SECS>'",
            "from 0.1 to 86400",
        ),
        (
            &["--duration", "nan"],
            "'--duration <SECS>'",
            "from 0.1 to 86400",
        ),
        (&["--threads", "257"], "'--threads <N>'", "from 1 to 256"),
        (
            &["--replace-fraction", "1.5"],
            "'--replace-fraction <F>'",
            "from 0 to 1",
        ),
        (
            &["--churn-depth", "21"],
            "'--churn-depth <D>'",
            "from 0 to 20",
        ),
        (
            &["--live-depth", "17"],
            "'--live-depth <D>'",
            "from 0 to 16",
        ),
        (
            &["--gap-threshold-us", "0"],
            "'--gap-threshold-us <N>'",
            "from 1 to 10000000",
        ),
        (
            &["--seed=-1"],
            "'--seed <N>'",
            "from 0 to 18446744073709551615",
        ),
        (&["--out", ""], "'--out <DIR>'", "expected a directory"),
        (
            &["--runtime", "java"],
            "'--runtime <NAMES>'",
            "tricolor, box, arc",
        ),
        (&["--runtime", "arc,java"], "'--runtime <NAMES>'", "or all"),
        (
            &["--workload", "w4"],
            "'--workload <NAME>'",
            "[possible values: w2, w3]",
        ),
    ];
    for (args, flag, range) in cases {
        let o = bench(args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(flag),
            "{args:?} does not name {flag}: {stderr}"
        );
        assert!(
            stderr.contains(range),
            "{args:?} does not name {range}: {stderr}"
        );
        assert!(o.stdout.is_empty(), "{args:?} printed a report");
    }
    let o = bench(&["--frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unexpected argument '--frobnicate'"));
    let o = bench(&["--threads"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("'--threads <N>'"));
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
fn help_lists_every_flag_range_and_output_column() {
    let o = bench(&["--help"]);
    let text = succeeded(&o);
    for needle in [
        "--runtime",
        "--workload",
        "w2: Acyclic churn",
        "w3: Cyclic churn",
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
        "range: 1..=65536",
        "tricolor, box, arc, rust-gc, dumpster, gc-arena, go",
        "t_ms,heap_bytes,heap_goal_bytes,rss_bytes,live_bytes",
        "cycle,phase,start_ms,end_ms",
        "compare.svg",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}");
    }
    assert!(!text.contains("--position"), "--position is internal");
}
