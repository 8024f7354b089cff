#!/usr/bin/env bash
# Benchmark of names in prose (issue 16, part 1), recorded in docs/benchmarks.md. From the
# repository root:
#   bash crates/mamori-detect/scripts/prose/bench.sh
# Needs: a checkout of ku-nlp/KWDLC at $KWDLC_DIR (default /tmp/kwdlc, its knp/ and id/ folders),
# pip (hironsancorpus is downloaded from PyPI), GNU time, and for the peer a venv at
# $PRESIDIO_VENV (default /tmp/presidio-venv) made with `pip install presidio-analyzer ja-ginza`.
# Everything is generated under $BENCH_DIR (default /tmp/mamori-prose-bench); nothing is committed.
#
# 1. Accuracy on KWDLC's test documents (never tuned on), mamori with and without the prose
#    analyser and Presidio + GiNZA, through one scorer (scripts/prose/eval.py).
# 2. Throughput per core (CPU time) on prose (the case studies in shared/seeds, repeated), with
#    the analyser and without it, and on the generator's mixed corpus; Presidio's on the test set.
# 3. Peak memory on one 2 GB file of prose, dictionary and model included.
# 4. The generator's labelled sample (seed 777): accuracy must not drop.
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../../../.." && pwd)
KWDLC_DIR=${KWDLC_DIR:-/tmp/kwdlc}
BENCH_DIR=${BENCH_DIR:-/tmp/mamori-prose-bench}
PRESIDIO_VENV=${PRESIDIO_VENV:-/tmp/presidio-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
(cd "$REPO" && cargo build --release -q -p mamori-detect --bins)
BIN=$CARGO_TARGET_DIR/release
SCAN="$BIN/mamori-detect-scan"
mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
mbsi() { echo "scale=1; $1/1000000/$2" | bc; }

# -- corpora
if [ ! -f hironsan/iob_sents.txt ]; then
  mkdir -p hironsan
  pip download -q --no-deps -d hironsan hironsancorpus==0.1.2
  tar xzf hironsan/hironsancorpus-0.1.2.tar.gz -C hironsan
  cp hironsan/hironsancorpus-0.1.2/hironsan/corpus/iob_sents.txt hironsan/
fi
[ -d "$KWDLC_DIR/knp" ] || { echo "no KWDLC checkout at $KWDLC_DIR (git clone https://github.com/ku-nlp/KWDLC)"; exit 1; }
[ -f prose/test-labels.jsonl ] || python3 "$SCRIPT_DIR/corpora.py" "$KWDLC_DIR" hironsan/iob_sents.txt prose

# -- 1. accuracy on the held-out test documents
"$SCAN" --reveal --format jsonl prose/test > mamori.jsonl 2>/dev/null
"$SCAN" --reveal --no-prose --format jsonl prose/test > mamori-noprose.jsonl 2>/dev/null
TEST_BYTES=$(du -sb prose/test | cut -f1)
echo "== person names, KWDLC test documents ($(ls prose/test | wc -l) documents, $TEST_BYTES bytes, $(wc -l < prose/test-labels.jsonl) names)"
echo "mamori              $(python3 "$SCRIPT_DIR/eval.py" prose mamori.jsonl)"
echo "mamori --no-prose   $(python3 "$SCRIPT_DIR/eval.py" prose mamori-noprose.jsonl)"
if [ -x "$PRESIDIO_VENV/bin/python" ]; then
  (cd prose && "$PRESIDIO_VENV/bin/python" "$REPO/crates/mamori-detect/scripts/detect/presidio_scan.py" test test/*.txt) > presidio.jsonl 2> presidio.err
  echo "presidio + ginza    $(python3 "$SCRIPT_DIR/eval.py" prose presidio.jsonl)  ($(tail -1 presidio.err))"
else
  echo "(no Presidio venv at $PRESIDIO_VENV; skipped)"
fi

# -- 2. throughput per core
if [ ! -d prose-corpus ]; then
  mkdir prose-corpus
  : > unit.txt
  while [ "$(stat -c %s unit.txt)" -lt $((2 * 1024 * 1024)) ]; do cat "$REPO"/../shared/seeds/*.txt >> unit.txt; done
  for i in $(seq 1 32); do cp unit.txt "prose-corpus/p$i.txt"; done
fi
PB=$(du -sb prose-corpus | cut -f1)
with=$(for _ in 1 2 3; do cpu "$SCAN" --threads 1 prose-corpus; done | median)
without=$(for _ in 1 2 3; do cpu "$SCAN" --threads 1 --no-prose prose-corpus; done | median)
echo "== throughput, prose ($PB bytes), one thread, CPU seconds (median of 3)"
echo "with names analysed   ${with}s  $(mbsi "$PB" "$with") MB/s"
echo "--no-prose            ${without}s  $(mbsi "$PB" "$without") MB/s"
if [ ! -d mixed ]; then
  "$BIN/mamori-detect-gen" --seed 4242 --bulk-mb 64 --out dense >/dev/null
  mkdir mixed
  n=0
  for f in dense/*; do n=$((n + 1)); if [ $((n % 4)) -eq 0 ]; then cp "$f" mixed/; else cp unit.txt "mixed/prose$n.txt"; fi; done
fi
MB=$(du -sb mixed | cut -f1)
mixed=$(for _ in 1 2 3; do cpu "$SCAN" --threads 1 mixed; done | median)
mixed0=$(for _ in 1 2 3; do cpu "$SCAN" --threads 1 --no-prose mixed; done | median)
echo "== throughput, mixed ($MB bytes), one thread, CPU seconds (median of 3)"
echo "with names analysed   ${mixed}s  $(mbsi "$MB" "$mixed") MB/s"
echo "--no-prose            ${mixed0}s  $(mbsi "$MB" "$mixed0") MB/s"

# -- 3. peak memory on one 2 GB file
if [ ! -f big.txt ]; then
  while [ "$(stat -c %s big.txt 2>/dev/null || echo 0)" -lt 2000000000 ]; do cat prose-corpus/*.txt >> big.txt; done
fi
rss=$(/usr/bin/time -f %M "$SCAN" --threads 2 big.txt 2>&1 >/dev/null | tail -1)
echo "== one file of $(stat -c %s big.txt) bytes, --threads 2: peak RSS ${rss} KiB"

# -- 4. the generator's labelled sample
rm -rf sample && "$BIN/mamori-detect-gen" --seed 777 --docs 36 --out sample >/dev/null
mv sample/labels.jsonl labels.jsonl
"$SCAN" --reveal sample > sample.jsonl 2>/dev/null
echo "== generator sample, seed 777"
"$BIN/mamori-detect-score" labels.jsonl sample.jsonl --prefix sample
