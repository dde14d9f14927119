# SPDX-License-Identifier: GPL-2.0-or-later
# console: the worker's console socket and VNC export, read by viewers on
# the host (scenarios/console.host). The guest draws vireo-fbtool's pattern
# 23 on hyperv_fb's /dev/fb0 and watches its keyboard (vireo-evdump); the
# host takes the picture through the console socket (shared memfd, and
# pixels inline) and through VNC (gvnccapture), each must be the pattern
# exactly; then it types through the console socket (evdev codes 30 48 46)
# and through VNC (keysyms Shift_L+A, F1, KP_Enter, exclam, XF86AudioMute),
# and the guest compares what its keyboard reported, line for line:
#   kbd_match=yes
# Then KEY_R (19) from a viewer asks it to draw pattern 99 in the rectangle
# 100,50 200x120: that viewer's next frame must show it (the change reached
# the viewer as damage). The host's shutdown request ends it. Guard: 300 s.
. /lib/vireo.sh

SEED=23
KBD_NAME="AT Translated Set 2 keyboard"
GUARD=300

i=0
while [ ! -e /dev/fb0 ] && [ $i -lt 60 ]; do
	sleep 0.5
	i=$((i + 1))
done
if [ ! -e /dev/fb0 ]; then
	result fb no
	fail "no /dev/fb0 after 30 s (hyperv_fb did not bind)"
	exit 1
fi
result fb yes
info=$(vireo-fbtool info) || { fail "vireo-fbtool info failed"; exit 1; }
for kv in $info; do
	case "$kv" in xres=*|yres=*) result "${kv%%=*}" "${kv#*=}" ;; esac
done

# fbcon would draw its text console (and cursor) over the pattern.
for c in /sys/class/vtconsole/vtcon*; do
	case "$(cat "$c/name" 2>/dev/null)" in
	*"frame buffer"*) echo 0 > "$c/bind" ;;
	esac
done

i=0
while ! grep -q "Name=\"$KBD_NAME\"" /proc/bus/input/devices && [ $i -lt 100 ]; do
	sleep 0.2
	i=$((i + 1))
done
vireo-evdump --name "$KBD_NAME" --repeat-delay 10000 > /tmp/kbd.ev 2> /tmp/kbd.err &
kbd_pid=$!
i=0
while ! grep -q '^ready ' /tmp/kbd.ev 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if ! grep -q '^ready ' /tmp/kbd.ev; then
	fail "vireo-evdump did not start: $(cat /tmp/kbd.err)"
	exit 1
fi

# What must arrive: the console socket's keys, each pressed and released,
# then VNC's: a keysym becomes the evdev code of its key on a US keyboard
# (A with Shift held is KEY_A, exclam is KEY_1), keys of a combination
# pressed in order and released in reverse.
: > /tmp/kbd.want
for e in 30=1 30=0 48=1 48=0 46=1 46=0 \
	 42=1 30=1 30=0 42=0 59=1 59=0 96=1 96=0 2=1 2=0 113=1 113=0; do
	echo "ev key.$e" >> /tmp/kbd.want
done

out=$(vireo-fbtool pattern $SEED) || { fail "vireo-fbtool pattern $SEED: $out"; exit 1; }
result drawn "$out"
echo "VIREO-READY console"

want=$(wc -l < /tmp/kbd.want)
i=0
while [ $i -lt $((GUARD * 5)) ]; do
	[ "$(grep '^ev ' /tmp/kbd.ev | grep -vc '=2$')" -ge "$want" ] && break
	sleep 0.2
	i=$((i + 1))
done
sleep 0.5   # anything extra that was still coming
grep '^ev ' /tmp/kbd.ev | grep -v '=2$' > /tmp/kbd.got
result kbd_frames "$(wc -l < /tmp/kbd.got)"
if cmp -s /tmp/kbd.want /tmp/kbd.got; then
	result kbd_match yes
else
	result kbd_match no
	awk 'NR == FNR { want[FNR] = $0; nw = FNR; next }
		{ got[FNR] = $0; ng = FNR }
		END {
			n = nw > ng ? nw : ng
			for (i = 1; i <= n; i++)
				if (want[i] != got[i]) {
					printf "VIREO-FAIL keys: frame %d: want \"%s\", got \"%s\"\n", i, want[i], got[i]
					exit
				}
		}' /tmp/kbd.want /tmp/kbd.got >> "$VIREO_OUT"
fi
echo "VIREO-READY console-keys"

t=0
drawn_rect=0
while [ $t -lt $((GUARD * 5)) ]; do
	if [ $drawn_rect = 0 ] && grep -q '^ev key.19=1$' /tmp/kbd.ev; then
		out=$(vireo-fbtool rect 100 50 200 120 99) || fail "vireo-fbtool rect: $out"
		result rect "$out"
		drawn_rect=1
		kill "$kbd_pid" 2>/dev/null
	fi
	sleep 0.2
	t=$((t + 1))
done
fail "console: no shutdown request from the host within $GUARD s"
exit 1
