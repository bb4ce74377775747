#!/usr/bin/env bash
# Replace (or append) one named section of docs/benchmarks.md with stdin.
#   some-benchmark | benchmarks/lib/update-section.sh motiondetect
# Each benchmark owns the text between <!-- BEGIN name --> and <!-- END name -->,
# so benchmarks can run independently without clobbering each other's figures.
set -euo pipefail
name=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
doc=$root/docs/benchmarks.md
body=$(cat)
[ -f "$doc" ] || printf '# Benchmarks\n\nEvery figure below was written by a command in `benchmarks/`; see each section for the command, machine and method.\n' > "$doc"
tmp=$(mktemp)
awk -v name="$name" -v body="$body" '
  BEGIN { b = "<!-- BEGIN " name " -->"; e = "<!-- END " name " -->"; done = 0 }
  $0 == b { print b; print body; skipping = 1; done = 1; next }
  $0 == e { skipping = 0; print e; next }
  !skipping { print }
  END { if (!done) { print ""; print b; print body; print e } }
' "$doc" > "$tmp"
mv "$tmp" "$doc"
