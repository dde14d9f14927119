# SPDX-License-Identifier: GPL-2.0-or-later
# display-bench: the guest side of tests/bench/display-bench.py (not a
# test: the benchmark runs it). The guest draws, with vireo-fbtool bench,
# whatever the keys typed by the viewers under test ask for (F a whole
# screen, S the small rectangle, C screens back to back until the next C,
# Q the end); the viewers time it on the host. The small rectangle comes
# from the kernel command line, vireo.bench_rect=X,Y,W,H, so that the
# benchmark says it once. At the end the tool's own counts and drawing
# times (on the guest's clock) become results bench.KEY. The host's
# shutdown request ends it. Guard: 900 s.
. /lib/vireo.sh

KBD_NAME="AT Translated Set 2 keyboard"
GUARD=900

rect="96 96 64 64"
for w in $(cat /proc/cmdline); do
	case "$w" in vireo.bench_rect=*) rect=$(echo "${w#vireo.bench_rect=}" | tr ',' ' ') ;; esac
done

if ! fb_wait; then
	fail "no /dev/fb0 after 30 s (hyperv_fb did not bind)"
	exit 1
fi
info=$(vireo-fbtool info) || { fail "vireo-fbtool info failed"; exit 1; }
for kv in $info; do
	case "$kv" in xres=*|yres=*|stride=*) result "${kv%%=*}" "${kv#*=}" ;; esac
done
# fbcon would draw its text console (and cursor) over the pictures.
fbcon_unbind

# The keyboard's event device, from its block in /proc/bus/input/devices.
kbd_event() {
	awk -v name="N: Name=\"$KBD_NAME\"" '
		$0 == name { hit = 1 }
		/^$/ { hit = 0 }
		hit && /^H: Handlers=/ { sub(/^H: Handlers=/, ""); for (i = 1; i <= NF; i++) if ($i ~ /^event[0-9]+$/) { print $i; exit } }
	' /proc/bus/input/devices
}
i=0
ev=
while [ -z "$ev" ] && [ $i -lt 100 ]; do
	ev=$(kbd_event)
	[ -n "$ev" ] || sleep 0.2
	i=$((i + 1))
done
if [ -z "$ev" ]; then
	fail "no \"$KBD_NAME\" input device"
	exit 1
fi

out=$(vireo-fbtool pattern 5) || { fail "vireo-fbtool pattern 5: $out"; exit 1; }
# shellcheck disable=SC2086
vireo-fbtool bench "/dev/input/$ev" $rect > /tmp/bench.out 2>&1 &
bench_pid=$!
i=0
while ! grep -qs '^bench-ready ' /tmp/bench.out && [ $i -lt 100 ]; do
	kill -0 $bench_pid 2>/dev/null || break
	sleep 0.2
	i=$((i + 1))
done
if ! grep -q '^bench-ready ' /tmp/bench.out; then
	fail "vireo-fbtool bench did not start: $(cat /tmp/bench.out)"
	exit 1
fi
result bench_input "/dev/input/$ev"
result bench_rect "$(echo $rect | tr ' ' ',')"
echo "VIREO-READY display-bench"

t=0
while kill -0 $bench_pid 2>/dev/null && [ $t -lt $((GUARD * 2)) ]; do
	sleep 0.5
	t=$((t + 1))
done
line=$(grep '^bench ' /tmp/bench.out)
if [ -z "$line" ]; then
	fail "vireo-fbtool bench ended without its counts: $(tail -n 3 /tmp/bench.out)"
	exit 1
fi
for kv in ${line#bench }; do
	result "bench.${kv%%=*}" "${kv#*=}"
done
echo "VIREO-READY display-bench-done"

while [ $t -lt $((GUARD * 2)) ]; do
	sleep 0.5
	t=$((t + 1))
done
fail "display-bench: no shutdown request from the host within $GUARD s"
exit 1
