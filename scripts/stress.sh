#!/bin/bash
# Runs a test binary K copies at a time, R rounds, beside a CPU hog, and keeps the logs of
# the runs that failed: races that an idle 2-core machine hides show up under this load
# (docs/collector.md, "A sweep assist that straddled cycles"). Build the binary first, e.g.
#   cargo test --release --test sweep_threads --no-run
# then: scripts/stress.sh target/release/deps/sweep_threads-<hash> 150 4
set -u
bin=${1:?usage: scripts/stress.sh TEST_BINARY [ROUNDS] [COPIES]}
rounds=${2:-150}
copies=${3:-4}
out=$(mktemp -d /tmp/stress.XXXXXX)
yes > /dev/null &
hog=$!
trap 'kill $hog 2>/dev/null' EXIT
failures=0
for round in $(seq 1 "$rounds"); do
  for copy in $(seq 1 "$copies"); do
    "$bin" > "$out/run-$copy.log" 2>&1 &
  done
  wait $(jobs -p | grep -v "^$hog$")
  for copy in $(seq 1 "$copies"); do
    if ! grep -q "test result: ok" "$out/run-$copy.log"; then
      failures=$((failures + 1))
      cp "$out/run-$copy.log" "$out/failed-$round-$copy.log"
    fi
  done
done
echo "$failures failures in $((rounds * copies)) runs; logs of failed runs in $out"
