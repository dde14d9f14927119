#!/bin/bash
# Installs, builds and runs the demo VM: the stock Debian kernel with a small
# busybox userland. With a display, in the manager's window (vireo, with
# vireod); without one, or with --console, its console on this terminal
# (Ctrl-A x turns it off, Ctrl-A p presses its power button). On a host
# whose /dev/kvm cannot run a stock kernel (PVM, see README), the console
# demo runs inside the nested test host.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
if [ ! -e build/build.ninja ]; then
	meson setup build
fi
meson compile -C build
# With a display: the manager's window with the demo VM in it
# (scripts/demo-manager.sh). On a terminal, or with --console: the demo
# VM's console here.
console=0
args=()
for a in "$@"; do
	if [ "$a" = --console ]; then console=1; else args+=("$a"); fi
done
if [ $console = 0 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
	exec scripts/demo-manager.sh build
fi
exec python3 scripts/demo.py --fixtures build/tests/guest/fixtures \
	--worker build/backend/worker/vireo-worker --cpus 2 --memory 512M ${args[@]+"${args[@]}"}
