#!/usr/bin/env bash
# Fails when the committed artifacts or Go bindings do not match a fresh build of the sources.
# CI runs this; fix a failure by running contracts/build.sh and committing the result.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$here/build.sh" "$tmp/artifacts" "$tmp/bindings"

status=0
compare() { # compare <committed dir> <fresh dir> <glob>
  local committed="$1" fresh="$2" glob="$3" f base
  for f in "$fresh"/$glob; do
    base="$(basename "$f")"
    if [ ! -f "$committed/$base" ]; then
      echo "check.sh: missing from the repository: ${committed#"$root"/}/$base"
      status=1
    elif ! cmp -s "$f" "$committed/$base"; then
      echo "check.sh: differs from a fresh build: ${committed#"$root"/}/$base"
      diff -u "$committed/$base" "$f" | diff_summary
      status=1
    fi
  done
  for f in "$committed"/$glob; do
    [ -e "$f" ] || continue
    base="$(basename "$f")"
    if [ ! -f "$fresh/$base" ]; then
      echo "check.sh: not produced by the sources (stale): ${committed#"$root"/}/$base"
      status=1
    fi
  done
}
diff_summary() { # first lines of the diff, with long lines (bytecode) cut short
  head -n 20 | cut -c1-160 | sed 's/^/    /'
}

compare "$here/artifacts" "$tmp/artifacts" '*.json'
compare "$root/internal/chain/bindings" "$tmp/bindings" '*_gen.go'

if [ "$status" -ne 0 ]; then
  echo "check.sh: committed contract artifacts are out of date; run contracts/build.sh and commit"
  exit 1
fi
echo "check.sh: artifacts and bindings match the sources"
