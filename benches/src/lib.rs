//! Shared workload code for the benchmarks and the pause-time harness.
