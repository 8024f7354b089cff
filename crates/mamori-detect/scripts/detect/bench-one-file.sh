#!/usr/bin/env bash
# Parallel scanning of one large file (issue 16, Part 4), recorded in docs/benchmarks.md.
# From the repository root:
#   bash crates/mamori-detect/scripts/detect/bench-one-file.sh [SIZE_MB] [RUNS]
# Times one file of SIZE_MB (default 200) MB at --threads 1 and --threads 2: the median of RUNS
# (default 3) of wall time and of CPU time (user + system), MB/s (10^6 bytes) and peak RSS, for
# a text file (three parts real Japanese prose to one part generated documents: memos, CSV and
# JSON lines, scanned as text), a CSV file (generated member lists under one header, every row
# with personal data) and the same CSV in Shift_JIS. Before timing it checks that both thread
# counts print the same findings (`--reveal` JSONL, byte for byte).
# Needs GNU time (apt-get install time). BENCH_NICE=-10 runs the scans at that nice value (on a
# shared machine); the default is 0. BENCH_IDLE=P waits before each run until the
# machine was P % idle (see below). The wall-time speedup is only meaningful when the second
# core is free: on a saturated machine the scheduler gives the scan the same CPU share whatever
# its thread count, and the CPU columns are the ones to read.
# Everything is generated under $BENCH_DIR (default /tmp/mamori-bench-one); nothing is committed.
set -euo pipefail
SIZE_MB=${1:-200}
RUNS=${2:-3}
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../../../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/mamori-bench-one}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-detect}
(cd "$REPO" && cargo build --release -q -p mamori-detect --bins)
BIN=$CARGO_TARGET_DIR/release
SCAN="$BIN/mamori-detect-scan"   # the same runner::run as `mamori scan`
NICE=(nice -n "${BENCH_NICE:-0}")
BYTES=$((SIZE_MB * 1000 * 1000))
mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"

# 1. The files, cut to exactly BYTES at a line break.
if [ ! -d dense ]; then "$BIN/mamori-detect-gen" --seed 4242 --bulk-mb 64 --out dense > /dev/null; fi
if [ ! -f prose-unit.txt ]; then
  SEEDS=${SEEDS:-$REPO/../shared/seeds}
  : > prose-unit.txt
  while [ "$(stat -c %s prose-unit.txt)" -lt $((2 * 1024 * 1024)) ]; do cat "$SEEDS"/*.txt >> prose-unit.txt; done
fi
# Cuts standard input to at most BYTES bytes, at a line break.
cut_to() { python3 -c "
import sys
b = sys.stdin.buffer.read($BYTES)
sys.stdout.buffer.write(b[:b.rfind(b'\\n') + 1])"; }
if [ ! -f one.txt ]; then
  : > one.tmp
  while [ "$(stat -c %s one.tmp)" -lt "$BYTES" ]; do
    for f in dense/*; do cat prose-unit.txt prose-unit.txt prose-unit.txt "$f" >> one.tmp; done
  done
  cut_to < one.tmp > one.txt && rm one.tmp
fi
if [ ! -f one.csv ]; then
  head -1 dense/bulk00000.csv > one.tmp
  while [ "$(stat -c %s one.tmp)" -lt "$BYTES" ]; do
    for f in dense/*.csv; do tail -n +2 "$f" >> one.tmp; done
  done
  cut_to < one.tmp > one.csv && rm one.tmp
  python3 -c "
open('one-sjis.csv', 'wb').write(open('one.csv', encoding='utf-8').read().encode('cp932', 'replace'))"
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Idle share of both cores over one second, in percent (from /proc/stat).
idle_pct() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local tot=0 i
  for i in 1 2 3 4 5 6 7 8; do tot=$((tot + b[i] - a[i])); done
  echo $((100 * (b[4] - a[4]) / (tot > 0 ? tot : 1)))
}
# BENCH_IDLE=P: before each run, wait (at most BENCH_IDLE_WAIT seconds, default 120)
# until the machine was at least P % idle for a second. Only P near 100 shows the speedup: with
# one other busy process the kernel's fair share (autogroups) leaves the scan one core.
wait_idle() {
  local want=${BENCH_IDLE:-0} waited=0 idle
  [ "$want" -gt 0 ] || return 0
  while idle=$(idle_pct); [ "$idle" -lt "$want" ] && [ "$waited" -lt "${BENCH_IDLE_WAIT:-120}" ]; do
    waited=$((waited + 1))
  done
  echo "$idle" >> idle.txt
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; idle now $(idle_pct) %; nice ${BENCH_NICE:-0}"
printf '%-14s %8s %8s %8s %10s %9s %8s %9s\n' file threads wall_s cpu_s MB/s_wall speedup cpu/1t rss_MiB
: > idle.txt; : > pairs.txt
for f in one.txt one.csv one-sjis.csv; do
  size=$(stat -c %s "$f")
  # Same findings on one and two threads.
  "$SCAN" --reveal --threads 1 "$f" | md5sum > t1.md5
  "$SCAN" --reveal --threads 2 "$f" | md5sum > t2.md5
  cmp -s t1.md5 t2.md5 || { echo "$f: findings differ between --threads 1 and 2" >&2; exit 1; }
  # Runs alternate between one and two threads, so that both see the same load.
  : > runs1.txt; : > runs2.txt
  for i in $(seq 1 "$RUNS"); do
    for t in 1 2; do
      wait_idle
      "${NICE[@]}" /usr/bin/time -f "%e %U %S %M" "$SCAN" --threads "$t" "$f" 2>> "runs$t.txt" > /dev/null
    done
  done
  echo "$f pairs (wall 1 thread / 2 threads): $(paste -d' ' "runs1.txt" "runs2.txt" | awk '{printf "%.2f/%.2f ", $1, $5}')" >> pairs.txt
  base_wall=""; base_cpu=""
  for t in 1 2; do
    wall=$(awk '{print $1}' "runs$t.txt" | median)
    cpu=$(awk '{print $2 + $3}' "runs$t.txt" | median)
    rss=$(awk '{print $4}' "runs$t.txt" | median)
    [ -n "$base_wall" ] || { base_wall=$wall; base_cpu=$cpu; }
    printf '%-14s %8s %8.2f %8.2f %10.1f %8.2fx %7.2fx %9.1f\n' "$f" "$t" "$wall" "$cpu" \
      "$(echo "$size/1000000/$wall" | bc -l)" "$(echo "$base_wall/$wall" | bc -l)" \
      "$(echo "$cpu/$base_cpu" | bc -l)" "$(echo "$rss/1024" | bc -l)"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat pairs.txt
if [ -s idle.txt ]; then echo "idle before each run (%): $(tr '\n' ' ' < idle.txt)"; fi
