#!/usr/bin/env python3
"""Print one line "N passed, N failed[, N skipped]" from meson test logs.

Arguments: meson testlog.json files, or pseudo-results "fuzz:pass", "fuzz:fail",
"build-failed:NAME". Exit status 1 when anything failed or was skipped: a test that
cannot run counts against the run (it is never silently skipped).
"""
import json
import sys

passed = failed = skipped = 0
failures = []  # named before the summary line: CI shows only the tail of the log
for arg in sys.argv[1:]:
    if arg.startswith("build-failed:"):
        failed += 1
        failures.append(f"{arg}: the build or set-up of this step failed")
        continue
    if ":" in arg and not arg.endswith(".json"):
        name, result = arg.split(":", 1)
        if result == "pass":
            passed += 1
        else:
            failed += 1
            failures.append(f"{name}: {result}")
        continue
    try:
        with open(arg) as log:
            for line in log:
                line = line.strip()
                if not line:
                    continue
                entry = json.loads(line)
                result = entry.get("result")
                where = f"{arg}: {entry.get('name')} ({result}, {entry.get('duration', 0):.0f} s)"
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                    failures.append("skipped " + where)
                else:
                    failed += 1
                    failures.append("FAILED " + where)
    except OSError as e:
        print(f"cannot read {arg}: {e}", file=sys.stderr)
        failed += 1
        failures.append(f"{arg}: log missing")

for failure in failures:
    print(failure)
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or skipped else 0)
