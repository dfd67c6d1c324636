#!/usr/bin/env bash
# loom models of the collector's protocol, run against the shipped protocol code
# (gc-core/tests/loom_protocol.rs; DESIGN §9; docs/collector.md, "What the loom models check").
#
# Under `--cfg tricolor_loom` gc-core compiles only sync.rs and its protocol modules (the
# op / stop protocol, the phase word, the mark work list, the count-zero hand-off), and the
# models are that build's unit tests (gc-core/src/lib.rs, "The loom build"), so this runs
# gc-core's `--lib` tests. A separate target dir keeps the RUSTFLAGS change from
# invalidating the normal build.
#
# Measured runtime, 2026-12-02 (2-core machine, release without debuginfo, LOOM_MAX_PREEMPTIONS=5),
# with two other builds running: 2 min 38 s warm for 29 models, most of it the count-zero
# model `reclaim_batch_vs_cycle_start` and its control (about 2.5 min together); its gated
# variant, the 30th model, adds about 1.5 min. Earlier, on a
# machine shared with other builds (load average 11): 2 min 14 s from a cold target/loom,
# 50 s of user CPU in all (so, estimated, about a minute on an idle machine). The 20 models
# take 29 s of it, mostly the two largest: `count_zero_vs_cycle` (117,706 executions) and
# `termination_vs_buffered_shade` (90,827); the others explore 105 to 3,965. Warm, the
# script takes the models' time. Every model also passes at a bound of 6 (131 s, up to
# 396,421 executions). The `#[should_panic]` models are controls and findings: they pass by
# failing (gc-core/tests/loom_protocol.rs, "Controls").
set -euxo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="$PWD/target/loom"
export RUSTFLAGS="--cfg tricolor_loom"
export CARGO_PROFILE_RELEASE_DEBUG=0
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-5}"
cargo test --release -p tricolor-gc-core --lib -- "$@"
