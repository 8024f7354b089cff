#!/usr/bin/env bash
# The browser tests: mamori in Debian's headless Chromium, driven by playwright-core, run by
# Node's built-in test runner. Installs what it needs (Chromium, Japanese fonts, playwright-core
# from the lock file), builds the mamori binary unless MAMORI_BIN names one, and ends with the
# runner's `# pass N` / `# fail N` summary; exits non-zero when a test fails.
#
#   tests/browser/run.sh                         # all browser tests
#   UPDATE_SCREENSHOT=1 tests/browser/run.sh     # also refresh docs/screenshot.png
#
# Environment: MAMORI_BIN (a built mamori binary), CHROMIUM (default /usr/bin/chromium).
# Screenshots of every run are kept in tests/browser/test-results/ (git-ignored).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

say() { printf '[browser-tests] %s\n' "$*" >&2; }

# 1. Chromium and fonts that have Japanese glyphs, from Debian's packages.
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
need=()
[[ -x "$chromium_bin" ]] || need+=(chromium)
if ! command -v fc-list >/dev/null 2>&1 || [[ -z "$(fc-list :lang=ja 2>/dev/null | head -n 1)" ]]; then
  need+=(fonts-noto-cjk)
fi
if ((${#need[@]})); then
  if [[ "$(id -u)" != 0 ]]; then
    say "missing: ${need[*]} — install them (apt-get install -y ${need[*]}) or set CHROMIUM"
    exit 1
  fi
  say "installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
[[ -x "$chromium_bin" ]] || { say "no Chromium at $chromium_bin"; exit 1; }

# 2. playwright-core, exactly as the lock file says; again whenever the lock file changes.
command -v node >/dev/null || { say "node is not installed"; exit 1; }
lock_sum="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
stamp="$here/node_modules/.mamori-lock-sha256"
if [[ ! -d "$here/node_modules/playwright-core" || ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
  say "npm ci"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" >"$stamp"
fi

# 3. The mamori binary: the one given, or a fresh debug build of this checkout.
if [[ -z "${MAMORI_BIN:-}" ]]; then
  say "cargo build -p mamori-cli"
  (cd "$root" && cargo build --quiet -p mamori-cli)
  target_dir="${CARGO_TARGET_DIR:-target}"
  [[ "$target_dir" == /* ]] || target_dir="$root/$target_dir"
  MAMORI_BIN="$target_dir/debug/mamori"
fi
[[ "$MAMORI_BIN" == /* ]] || MAMORI_BIN="$root/$MAMORI_BIN" # relative to the repository root
[[ -x "$MAMORI_BIN" ]] || { say "no mamori binary at $MAMORI_BIN"; exit 1; }
export MAMORI_BIN CHROMIUM="$chromium_bin"

# 4. The tests. One file at a time: each starts its own server and browser. A file may take two
# minutes; pages.test.mjs, which opens every page of every role on both databases, gets 25.
cd "$here"
files=()
for f in ./*.test.mjs; do [[ "$f" == ./pages.test.mjs ]] || files+=("$f"); done
status=0
node --test --test-reporter=tap --test-concurrency=1 --test-timeout=120000 "${files[@]}" || status=1
node --test --test-reporter=tap --test-concurrency=1 --test-timeout=1500000 ./pages.test.mjs || status=1
exit "$status"
