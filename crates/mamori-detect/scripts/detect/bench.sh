#!/usr/bin/env bash
# Benchmark of mamori-detect, recorded in docs/benchmarks.md. From the repository root:
#   bash crates/mamori-detect/scripts/detect/bench.sh [SIZE_MB]
# Needs ripgrep and GNU time (apt-get install ripgrep time), and for Presidio a venv at
# $PRESIDIO_VENV (default /tmp/presidio-venv) made with `pip install presidio-analyzer ja-ginza`.
# Everything is generated under $BENCH_DIR (default /tmp/mamori-bench); nothing is committed.
set -euo pipefail
SIZE_MB=${1:-1024}
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../../../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/mamori-bench}
PRESIDIO_VENV=${PRESIDIO_VENV:-/tmp/presidio-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-detect}
(cd "$REPO" && cargo build --release -q -p mamori-detect --bins)
BIN=$CARGO_TARGET_DIR/release
SCAN="$BIN/mamori-detect-scan"   # the same runner::run as `mamori scan`
mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wall() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
# CPU seconds (user + system): per-core throughput that other processes on the machine do not skew.
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
# Throughput in MiB/s (2^20 bytes) as recorded since the first run; mamori's is also given in
# MB/s (10^6 bytes, the unit of the issue's 200 MB/s target).
mbps() { echo "scale=1; $1/1048576/$2" | bc; }
mbsi() { echo "scale=1; $1/1000000/$2" | bc; }

# 1. Corpora. "dense": generated documents only (members, orders, payments, memos, JSON lines;
#    nearly every line holds personal data). "mixed": a quarter generated documents, three
#    quarters real Japanese prose (the case studies in shared/seeds) with no personal data.
if [ ! -d dense ] || [ "$(du -sm dense | cut -f1)" -lt "$SIZE_MB" ]; then
  rm -rf dense mixed prose big.txt
  "$BIN/mamori-detect-gen" --seed 4242 --bulk-mb "$SIZE_MB" --out dense
fi
if [ ! -d mixed ]; then
  mkdir mixed
  SEEDS=${SEEDS:-$REPO/../shared/seeds}
  : > prose-unit.txt
  while [ "$(stat -c %s prose-unit.txt)" -lt $((2 * 1024 * 1024)) ]; do cat "$SEEDS"/*.txt >> prose-unit.txt; done
  n=0
  for f in dense/*; do
    n=$((n + 1))
    if [ $((n % 4)) -eq 0 ]; then cp "$f" mixed/; else cp prose-unit.txt "mixed/prose$n.txt"; fi
  done
fi

# "prose": the prose unit alone, 128 copies (~264 MiB): the case where the name detector, which
# looks at every kanji and katakana run, is nearly all the work.
if [ ! -d prose ]; then
  mkdir prose
  for i in $(seq 1 128); do cp prose-unit.txt "prose/p$i.txt"; done
fi

# Regexes for ripgrep equivalent to the detectors' candidates (no validation, no context, no
# names: ripgrep has no dictionary).
RG=(rg --no-config -e '0\d{1,4}[-(]?\d{1,4}[-)]?\d{4}' -e '\+81[- ]?\d{1,4}-\d{1,4}-\d{4}'
  -e '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'
  -e '\d{4}[- ]?\d{4}[- ]?\d{4}[- ]?\d{1,4}' -e '〒\s?\d{3}-\d{4}' -e '\d{4}\s?\d{4}\s?\d{4}'
  -e '(19|20)\d\d[/年-]\d{1,2}[/月-]\d{1,2}' -e '(明治|大正|昭和|平成|令和)(\d{1,2}|元)年\d{1,2}月\d{1,2}日'
  -e '(東京都|北海道|大阪府|京都府|\p{Han}{2,3}県)\p{Han}{1,6}[市区町村郡]\S{0,20}\d'
  -e '(普通|当座|貯蓄)\s?\d{7}' -e '[A-Z]{2}\d{7}')

for corpus in dense mixed prose; do
  BYTES=$(du -sb $corpus | cut -f1)
  echo "== $corpus: $BYTES bytes in $(ls $corpus | wc -l) files; findings: $("$SCAN" --threads 2 $corpus | wc -l)"
  mc=$(for i in 1 2 3; do cpu "$SCAN" --threads 1 $corpus; done | median)
  rcc=$(for i in 1 2 3; do cpu "${RG[@]}" -j 1 -c $corpus; done | median)
  roc=$(for i in 1 2 3; do cpu "${RG[@]}" -j 1 -o $corpus; done | median)
  echo "per core (CPU time): mamori ${mc}s $(mbps "$BYTES" "$mc") MiB/s = $(mbsi "$BYTES" "$mc") MB/s | rg -c ${rcc}s $(mbps "$BYTES" "$rcc") MiB/s | rg -o ${roc}s $(mbps "$BYTES" "$roc") MiB/s | mamori/rg-c $(echo "scale=2; $mc/$rcc" | bc)x mamori/rg-o $(echo "scale=2; $mc/$roc" | bc)x"
  for t in 1 2; do
    m=$(for i in 1 2 3; do wall "$SCAN" --threads $t $corpus; done | median)
    rc=$(for i in 1 2 3; do wall "${RG[@]}" -j $t -c $corpus; done | median)
    ro=$(for i in 1 2 3; do wall "${RG[@]}" -j $t -o $corpus; done | median)
    echo "wall, threads=$t: mamori ${m}s $(mbps "$BYTES" "$m") MiB/s = $(mbsi "$BYTES" "$m") MB/s | rg -c ${rc}s $(mbps "$BYTES" "$rc") MiB/s | rg -o ${ro}s $(mbps "$BYTES" "$ro") MiB/s | mamori/rg-c $(echo "scale=2; $m/$rc" | bc)x mamori/rg-o $(echo "scale=2; $m/$ro" | bc)x"
  done
done

# 2. Peak memory on one 2 GB file (mixed content).
if [ ! -f big.txt ]; then
  : > big.txt
  while [ "$(stat -c %s big.txt)" -lt $((2 * 1024 * 1024 * 1024)) ]; do cat mixed/* >> big.txt; done
fi
echo "== one file of $(stat -c %s big.txt) bytes"
/usr/bin/time -f "big.txt: %e s wall, peak RSS %M KiB" "$SCAN" --threads 2 big.txt > /dev/null

# 3. Accuracy on a fresh labelled sample, mamori and Presidio through the same scorer.
rm -rf sample sample-utf8 && "$BIN/mamori-detect-gen" --seed 777 --docs 36 --out sample > /dev/null
mv sample/labels.jsonl labels.jsonl   # the labels are not part of the scanned sample
"$SCAN" --reveal sample > mamori.jsonl
echo "== mamori on the whole sample (every format and encoding)"
"$BIN/mamori-detect-score" labels.jsonl mamori.jsonl --prefix sample
# Presidio reads text: the CSV/TSV/TXT/JSONL documents, converted to UTF-8.
mkdir sample-utf8
for f in sample/*.csv sample/*.tsv sample/*.txt sample/*.jsonl; do
  python3 -c "
import sys, codecs
b = open(sys.argv[1], 'rb').read()
encs = ('utf-16',) if b[:2] in (b'\\xff\\xfe', b'\\xfe\\xff') else ('utf-8-sig', 'euc_jp', 'cp932')
for enc in encs:
    try:
        t = b.decode(enc); break
    except Exception: pass
open(sys.argv[2], 'w', encoding='utf-8', newline='').write(t)" "$f" "sample-utf8/$(basename "$f")"
done
grep -E '"path":"doc[0-9]+_[a-z]+\.(csv|tsv|txt|jsonl)"' labels.jsonl > labels-text.jsonl
"$SCAN" --reveal sample-utf8 > mamori-text.jsonl
TEXT_BYTES=$(du -sb sample-utf8 | cut -f1)
mt=$(wall "$SCAN" --threads 1 sample-utf8)
echo "== the text sample: $TEXT_BYTES bytes; mamori ${mt}s on one core"
echo "-- mamori"; "$BIN/mamori-detect-score" labels-text.jsonl mamori-text.jsonl --prefix sample-utf8
if [ -x "$PRESIDIO_VENV/bin/python" ]; then
  "$PRESIDIO_VENV/bin/python" "$SCRIPT_DIR/presidio_scan.py" sample-utf8 sample-utf8/* > presidio.jsonl 2> presidio.err || { tail -5 presidio.err; exit 1; }
  echo "-- presidio ($(tail -1 presidio.err))"; "$BIN/mamori-detect-score" labels-text.jsonl presidio.jsonl
else
  echo "(no Presidio venv at $PRESIDIO_VENV; skipped)"
fi
