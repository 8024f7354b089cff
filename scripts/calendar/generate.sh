#!/usr/bin/env bash
# Regenerates the Japanese national-holiday table in crates/mamori-domain/src/calendar.rs and the
# two independent fixtures that the cross-check test compares it with.
#
# Run it once a year, after the Cabinet Office publishes the following year's holidays (February),
# then raise LAST_YEAR here and review the diff. It needs python3 with venv, and npm; nothing it
# installs is used at build or run time.
#
#   primary table  : PyPI `holidays` (Open World Holidays Framework), country JP, Japanese names
#   fixture 1      : the Cabinet Office's syukujitsu.csv as shipped by npm `japanese-public-holidays`
#   fixture 2      : npm `@holiday-jp/holiday_jp` (holiday_jp dataset)
set -euo pipefail

FIRST_YEAR=1955
LAST_YEAR=2027
HOLIDAYS_VERSION=0.109
CAO_MIRROR=japanese-public-holidays@3.2.38
HOLIDAY_JP=@holiday-jp/holiday_jp@2.5.1

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "holidays==$HOLIDAYS_VERSION"

(cd "$work" && npm pack --silent "$CAO_MIRROR" "$HOLIDAY_JP" >/dev/null)
mkdir -p "$work/cao" "$work/hjp"
tar xzf "$work"/japanese-public-holidays-*.tgz -C "$work/cao"
tar xzf "$work"/holiday-jp-holiday_jp-*.tgz -C "$work/hjp"

fixtures="$root/crates/mamori-domain/tests/fixtures"
mkdir -p "$fixtures"
cp "$work/cao/package/index.csv" "$fixtures/cao_syukujitsu.csv"
(cd "$work/hjp/package" && node -e '
  const m = require("./lib/holidays.js");
  const days = m.holidays || m;
  const last = Number(process.argv[1]);
  console.log("date,name");
  for (const k of Object.keys(days).sort()) {
    if (Number(k.slice(0, 4)) <= last) console.log(k + "," + days[k].name);
  }' "$LAST_YEAR") > "$fixtures/holiday_jp.csv"

"$work/venv/bin/python" "$here/generate.py" "$FIRST_YEAR" "$LAST_YEAR" \
  "$root/crates/mamori-domain/src/calendar.rs"
echo "calendar regenerated for $FIRST_YEAR..=$LAST_YEAR; now run: cargo test -p mamori-domain calendar"
