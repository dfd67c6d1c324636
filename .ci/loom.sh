#!/usr/bin/env bash
# loom models of the collector's protocol (gc-core/tests/loom_protocol.rs; DESIGN §9).
#
# The models do not link gc-core (its library does not compile under
# `--cfg tricolor_loom`; see gc-core/loom/Cargo.toml), so they run from the small package
# gc-core/loom/, which compiles that one file as its test `loom_protocol`. A separate target
# dir keeps the RUSTFLAGS change from invalidating the normal build.
#
# Measured runtime (2-core CI-like machine, release, LOOM_MAX_PREEMPTIONS=3): about 40 s to
# build loom and the models from a cold target/loom, 5 s warm; the 16 models run in about
# 1.5 s together. They also pass at a bound of 20 (about 1 s, up to 16,500 executions for
# the largest model of the first nine); `termination_vs_buffered_shade` explores 479,254
# executions in 21 s at a bound of 6, `count_zero_vs_cycle` 328,527 in 15 s at a bound of 6.
# The `#[ignore = "finds: ..."]` models fail on purpose (findings); run them with
#   .ci/loom.sh --ignored
set -euxo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="$PWD/target/loom"
export RUSTFLAGS="--cfg tricolor_loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
cargo test --release --manifest-path gc-core/loom/Cargo.toml --test loom_protocol -- "$@"
