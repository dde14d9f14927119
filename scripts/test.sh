#!/bin/bash
# The whole test suite: installs dependencies, builds, runs `meson test`
# (unit, fuzz replay and real-guest tests). Fixtures are cached in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
if [ ! -e build/build.ninja ]; then
	meson setup build
fi
meson compile -C build
meson test -C build --print-errorlogs "$@"
