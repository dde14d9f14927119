#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The manager with the demo VM ready, from the build tree (run-demo.sh runs
# this when there is a display): vireod on the session bus (started here
# when nothing owns org.vireo.Vireo1 yet; the session is made here when
# there is none), the demo guest's files, the demo VM created through
# vireoctl when it is not there yet and started, then vireo's window.
#
#   scripts/demo-manager.sh [BUILDDIR]        (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
name=demo

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ ! -S "${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/bus" ]; then
	echo "demo: no session bus: starting one for the manager and vireod (dbus-run-session)"
	exec dbus-run-session -- "$0" "$@"
fi

# The demo guest: the Debian kernel and the busybox initramfs (cached).
python3 tests/guest/build-fixtures.py "$build/tests/guest/fixtures" > /dev/null

owned() {
	gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
		--method org.freedesktop.DBus.NameHasOwner org.vireo.Vireo1 2>/dev/null | grep -q true
}
if ! owned; then
	echo "demo: starting vireod ($build/backend/service/vireod, log in $build/vireod-demo.log)"
	setsid "$build/backend/service/vireod" > "$build/vireod-demo.log" 2>&1 < /dev/null &
	for _ in $(seq 100); do
		owned && break
		sleep 0.1
	done
	owned || { echo "demo: vireod did not start; see $build/vireod-demo.log" >&2; exit 1; }
fi

ctl="$build/backend/cli/vireoctl"
if ! "$ctl" show "$name" > /dev/null 2>&1; then
	"$ctl" new "$name" --memory 512M --cpus 2
fi
# Started in the background, so that the window shows it starting (on a
# host whose KVM cannot run stock guests, inside the emulated host: slow,
# the first time also building that host's image). Already running is fine.
if "$ctl" show "$name" | grep -qE '^State: +(Off|Failed)'; then
	echo "demo: starting the VM \"$name\" (vireoctl start; progress in the manager)"
	"$ctl" start "$name" > "$build/demo-start.log" 2>&1 &
fi
exec "$build/app/vireo"
