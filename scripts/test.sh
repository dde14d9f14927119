#!/bin/bash
# The whole test suite: installs dependencies, then
#   1. build/          the normal build: unit, fuzz-replay and real-guest tests
#   2. build-sanitize/ the same tests with ASan and UBSan (the worker under
#                      test in the real-guest scenarios is the sanitized one)
#   3. build-fuzz/     clang with libFuzzer: a short fuzzing run of each target
# Guest fixtures are fetched once per build folder and cached there.
# Extra arguments go to every `meson test` (e.g. --suite unit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh

stage() {
	local dir=$1; shift
	local -a setup_args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do setup_args+=("$1"); shift; done
	shift
	echo "== $dir: meson setup ${setup_args[*]}"
	if [ ! -e "$dir/build.ninja" ]; then
		meson setup "$dir" "${setup_args[@]}"
	fi
	meson compile -C "$dir"
	meson test -C "$dir" --print-errorlogs "$@"
}

stage build -- "$@"
stage build-sanitize -Db_sanitize=address,undefined -Db_lundef=false -- "$@"
CC=clang stage build-fuzz -Dfuzz=true -- --suite libfuzzer --suite fuzz "$@"
# One closing line for every stage together, in the plain form CI reads.
python3 - build build-sanitize build-fuzz <<'PY'
import json, sys
ok = bad = skip = 0
for d in sys.argv[1:]:
    with open(f"{d}/meson-logs/testlog.json") as f:
        for line in f:
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                ok += 1
            elif r == "SKIP":
                skip += 1
            else:
                bad += 1
print(f"{ok} passed, {bad} failed, {skip} skipped")
PY
