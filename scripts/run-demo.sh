#!/bin/bash
# Installs, builds and runs the demo VM: the stock Debian kernel with a small
# busybox userland, its console on this terminal (Ctrl-A x turns it off,
# Ctrl-A p presses its power button). On a host whose /dev/kvm cannot run a
# stock kernel (PVM, see README), it runs inside the nested test host.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
if [ ! -e build/build.ninja ]; then
	meson setup build
fi
meson compile -C build
exec python3 scripts/demo.py --fixtures build/tests/guest/fixtures \
	--worker build/backend/worker/vireo-worker --cpus 2 --memory 512M "$@"
