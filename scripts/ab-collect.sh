#!/usr/bin/env bash
# A/B of `collect/quiet_32k` between bench binaries, run alternately (BENCHMARKS.md §16).
#
# This VM's speed swings by 1.5x over minutes, so two binaries measured one after the
# other in long runs compare noise. This runs each binary for a short criterion run, in
# turn, ROUNDS times, with TRICOLOR_TRACE=1, and prints per binary the median over the
# rounds (and the minimum) of: the median collect() per live object, and the medians of
# the count, roots and mark passes per live object from the trace lines.
#
# Usage: scripts/ab-collect.sh ROUNDS BIN...
#   BIN: a bench binary (target/release/deps/gc-<hash>), copied aside after each build:
#   cargo bench -p tricolor-gc-bench --bench gc --no-run; cp target/release/deps/gc-<hash> /tmp/gc_a
set -euo pipefail

rounds=$1
shift
out=$(mktemp -d)
for round in $(seq "$rounds"); do
    for bin in "$@"; do
        log="$out/$(basename "$bin").$round.log"
        TRICOLOR_TRACE=1 "$bin" --bench "collect/quiet" --measurement-time 1 --warm-up-time 0.5 \
            >"$log" 2>&1
        # One line per round: total, then the count/roots/mark medians, in ns per object.
        total=$(sed -n 's/.*median of .* collect() calls .* = \([0-9.]*\) ns per live.*/\1/p' "$log")
        line="$(basename "$bin") $total"
        for pass in count roots mark; do
            per_object=$(grep '^gc [0-9]* (collect())' "$log" |
                sed -n "s/.* $pass \([0-9.]*\) ms,.*/\1/p" | sort -g |
                awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] * 1e6 / 32768 }')
            line="$line $per_object"
        done
        echo "$line" >>"$out/rounds"
    done
done
echo "binary: median over $rounds rounds (min) of ns per live object: collect() / count / roots / mark"
for bin in "$@"; do
    name=$(basename "$bin")
    for col in 2 3 4 5; do
        awk -v name="$name" -v col="$col" '$1 == name { print $col }' "$out/rounds" | sort -g |
            awk '{ v[NR] = $1 } END { printf " %.1f (%.1f)", v[int((NR + 1) / 2)], v[1] }'
    done | sed "s/^/$name:/"
    echo
done
rm -r "$out"
