//! `binary-trees`: the one-shot wall-clock runner for workload W1 (DESIGN.md §10). The
//! program lives in the library (`tricolor_gc_bench::w1`) beside the pause-time harness,
//! with which it shares the runtime registry, the child-process runner and the
//! comparison report.

fn main() -> std::process::ExitCode {
    tricolor_gc_bench::w1::main()
}
