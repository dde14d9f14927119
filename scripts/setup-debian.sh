#!/bin/bash
# Installs what Vireo needs to build, test and run on Debian 12. Idempotent.
set -euo pipefail

packages=(
	# build; groff-base checks the man pages
	gcc clang meson ninja-build pkg-config python3 groff-base
	# Linux's evdev key codes (linux/input-event-codes.h) for the keyboard's table
	linux-libc-dev
	libglib2.0-dev libglib2.0-bin
	# vireod and vireoctl (JSON output), the D-Bus peer tools of the tests
	libjson-glib-dev dbus-daemon
	# screenshots of the VM's display
	libpng-dev
	# the VNC export and its keysym table (libvncserver-dev ships libvncclient too)
	libvncserver-dev libxkbcommon-dev xkb-data
	# tests: ACPI peer, nested test host, guest fixtures, fuzzing runtime
	acpica-tools qemu-system-x86 qemu-utils busybox-static cpio xz-utils zstd lz4
	libclang-rt-14-dev
	# tests: a stock VNC client for the VNC export (gvnccapture)
	gvncviewer
	# vireo-connect, the console viewer: SDL2, SDL2_ttf and its font
	libsdl2-dev libsdl2-ttf-dev fonts-dejavu-core
	# tests: the pointer the X server shows (XFixes)
	libxfixes-dev
	# tests: the viewer in a real X server, driven and screenshotted
	xvfb xauth xdotool x11-utils imagemagick xclip
	# vireo, the manager: GTK 4, libadwaita, its SVG icons; its data files'
	# validators and translations
	libgtk-4-dev libadwaita-1-dev librsvg2-common desktop-file-utils appstream gettext
	# tests: the manager's GUI test carries xkbcomp into the nested test host
	x11-xkb-utils
)

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: run me as root (apt-get install), or install: ${packages[*]}" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

stamp=/var/lib/apt/periodic/vireo-update-stamp
if [ ${#missing[@]} -gt 0 ] || [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +360 2>/dev/null)" ]; then
	echo "setup: apt-get update"
	apt-get update -qq
	mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: all build and test dependencies are installed"
