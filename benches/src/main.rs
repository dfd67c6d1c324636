//! `tricolor-gc-bench`: the pause-time harness (DESIGN.md §10, workloads W2 and W3). The
//! program lives in the library (`tricolor_gc_bench::harness`) beside the binary-trees
//! runner, so both share one runtime registry, one child-process runner and one comparison
//! report.

fn main() -> std::process::ExitCode {
    tricolor_gc_bench::harness::main()
}
