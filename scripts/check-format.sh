#!/bin/sh
# Check C sources against .clang-format (GStreamer style, see that file).
#   scripts/check-format.sh            every tracked *.c / *.h
#   scripts/check-format.sh FILE...    only these files
#   scripts/check-format.sh --fix ...  rewrite them in place instead
# Exit 0 when every file is formatted, 1 with a unified diff per file that is
# not, 2 when clang-format (14 or newer) is missing.
set -eu
cd "$(dirname "$0")/.."

fix=0
if [ "${1:-}" = "--fix" ]; then
  fix=1
  shift
fi

CLANG_FORMAT=${CLANG_FORMAT:-}
if [ -z "$CLANG_FORMAT" ]; then
  for c in clang-format-14 clang-format; do
    if command -v "$c" >/dev/null 2>&1; then
      CLANG_FORMAT=$c
      break
    fi
  done
fi
if [ -z "$CLANG_FORMAT" ]; then
  echo "check-format: clang-format not found (apt-get install clang-format)" >&2
  exit 2
fi

if [ $# -eq 0 ]; then
  # shellcheck disable=SC2046
  set -- $(git ls-files '*.c' '*.h')
fi

bad=0
for f in "$@"; do
  case "$f" in
    *.c|*.h) ;;
    *) continue ;;
  esac
  if [ $fix -eq 1 ]; then
    "$CLANG_FORMAT" --style=file -i "$f"
    continue
  fi
  if ! "$CLANG_FORMAT" --style=file "$f" | diff -u --label "$f" --label "$f (clang-format)" "$f" - ; then
    bad=$((bad + 1))
  fi
done
if [ $bad -gt 0 ]; then
  echo "check-format: $bad file(s) not formatted; run scripts/check-format.sh --fix FILE..." >&2
  exit 1
fi
exit 0
