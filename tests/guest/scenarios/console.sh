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
# The pointer too: the host moves it and presses buttons through the
# console socket (surface pixels, INPUT_BUTTON_* masks) and through VNC
# (pixels, RFB button masks, the wheel as buttons 4 and 5); the guest
# watches its Hyper-V mouse and, from each of its frames, rebuilds where
# the pointer is and which buttons are down. That must be, frame by frame,
# the pixel scaled to the mouse's 0..32767 axes by input_abs_axis()
# (backend/vsp/include/vsp/input.h) for this screen's size, computed here:
#   mouse_match=yes
# Then KEY_R (19) from a viewer asks it to draw pattern 99 in the rectangle
# 100,50 200x120: that viewer's next frame must show it (the change reached
# the viewer as damage). The host's shutdown request ends it. Guard: 300 s.
. /lib/vireo.sh

SEED=23
KBD_NAME="AT Translated Set 2 keyboard"
MOUSE_NAME="Microsoft Vmbus HID-compliant Mouse"
GUARD=300

# What console.host sends, in the mouse's terms: X Y (pixels) BUTTONS
# (INPUT_BUTTON_*: 1 left, 2 right, 4 middle, 8 side, 16 extra) WHEEL.
# Each differs from the one before, so each is one frame of the mouse.
# From the console socket (vireo-console-client --pointer X,Y,BUTTONS),
# the last pixel and a point past it (both the axis' end), every button:
POINTER_CONSOLE="
700 500 1 0
1 1 2 0
1023 767 4 0
5000 5000 0 0
333 222 31 0
333 222 0 0
"
# From VNC (vireo-vnc-send --pointer X,Y,MASK): RFB's mask 1 is left, 2
# middle, 4 right; 8 and 16 pressed are one wheel step up and down.
POINTER_VNC="
640 360 1 0
2 3 2 0
9999 9999 4 0
512 384 0 0
512 384 0 1
100 700 0 -1
800 100 1 0
800 100 0 0
"

if ! fb_wait; then
	result fb no
	fail "no /dev/fb0 after 30 s (hyperv_fb did not bind)"
	exit 1
fi
result fb yes
info=$(vireo-fbtool info) || { fail "vireo-fbtool info failed"; exit 1; }
for kv in $info; do
	case "$kv" in
	xres=*) XRES=${kv#*=}; result xres "$XRES" ;;
	yres=*) YRES=${kv#*=}; result yres "$YRES" ;;
	esac
done

# fbcon would draw its text console (and cursor) over the pattern.
fbcon_unbind

# hid_hyperv probes asynchronously: wait for both devices.
i=0
while [ $i -lt 100 ]; do
	grep -q "Name=\"$KBD_NAME\"" /proc/bus/input/devices && grep -q "Name=\"$MOUSE_NAME\"" /proc/bus/input/devices && break
	sleep 0.2
	i=$((i + 1))
done
vireo-evdump --name "$KBD_NAME" --repeat-delay 10000 > /tmp/kbd.ev 2> /tmp/kbd.err &
kbd_pid=$!
vireo-evdump --name "$MOUSE_NAME" > /tmp/mouse.ev 2> /tmp/mouse.err &
mouse_pid=$!
i=0
while [ $i -lt 50 ]; do
	grep -q '^ready ' /tmp/kbd.ev 2>/dev/null && grep -q '^ready ' /tmp/mouse.ev 2>/dev/null && break
	sleep 0.1
	i=$((i + 1))
done
for f in kbd mouse; do
	if ! grep -q '^ready ' /tmp/$f.ev; then
		fail "vireo-evdump ($f) did not start: $(cat /tmp/$f.err)"
		exit 1
	fi
done

# What must arrive: the console socket's keys, each pressed and released,
# then VNC's: a keysym becomes the evdev code of its key on a US keyboard
# (A with Shift held is KEY_A, exclam is KEY_1), keys of a combination
# pressed in order and released in reverse.
: > /tmp/kbd.want
for e in 30=1 30=0 48=1 48=0 46=1 46=0 \
	 42=1 30=1 30=0 42=0 59=1 59=0 96=1 96=0 2=1 2=0 113=1 113=0; do
	echo "ev key.$e" >> /tmp/kbd.want
done

# input_abs_axis(V, SIZE): pixel V of SIZE on the mouse's 0..32767 axis,
# the last pixel and anything past it at the end, rounded to nearest.
abs_axis() {
	if [ "$2" -le 1 ]; then
		echo 0
	elif [ "$1" -ge $(($2 - 1)) ]; then
		echo 32767
	else
		echo $((($1 * 32767 + ($2 - 1) / 2) / ($2 - 1)))
	fi
}
: > /tmp/mouse.want
echo "$POINTER_CONSOLE$POINTER_VNC" | while read -r px py pb pw; do
	[ -n "$px" ] || continue
	echo "x=$(abs_axis "$px" "$XRES") y=$(abs_axis "$py" "$YRES") buttons=$pb wheel=$pw hwheel=0" >> /tmp/mouse.want
done
# The state after each of the mouse's frames (a frame lists only what
# changed): position, buttons as INPUT_BUTTON_* (BTN_LEFT 272 is bit 0 ..
# BTN_EXTRA 276 bit 4), the wheel steps of the frame (REL_WHEEL 8,
# REL_HWHEEL 6; their hi-res axes aside).
mouse_states() {
	awk '/^ev / {
		w = 0; hw = 0
		for (i = 2; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "abs.0") x = kv[2]
			else if (kv[1] == "abs.1") y = kv[2]
			else if (kv[1] ~ /^key[.]27[2-6]$/) b[substr(kv[1], 5) - 272] = kv[2]
			else if (kv[1] == "rel.8") w = kv[2]
			else if (kv[1] == "rel.6") hw = kv[2]
		}
		m = 0; bit = 1
		for (i = 0; i < 5; i++) { if (b[i]) m += bit; bit *= 2 }
		printf "x=%d y=%d buttons=%d wheel=%d hwheel=%d\n", x, y, m, w, hw
	}' /tmp/mouse.ev
}

out=$(vireo-fbtool pattern $SEED) || { fail "vireo-fbtool pattern $SEED: $out"; exit 1; }
result drawn "$out"
echo "VIREO-READY console"

want=$(wc -l < /tmp/kbd.want)
want_mouse=$(wc -l < /tmp/mouse.want)
i=0
while [ $i -lt $((GUARD * 5)) ]; do
	[ "$(grep '^ev ' /tmp/kbd.ev | grep -vc '=2$')" -ge "$want" ] &&
		[ "$(grep -c '^ev ' /tmp/mouse.ev)" -ge "$want_mouse" ] && break
	sleep 0.2
	i=$((i + 1))
done
sleep 0.5   # anything extra that was still coming
kill -0 "$mouse_pid" 2>/dev/null || fail "vireo-evdump (mouse) stopped early: $(cat /tmp/mouse.err)"
kill "$mouse_pid" 2>/dev/null
grep '^ev ' /tmp/kbd.ev | grep -v '=2$' > /tmp/kbd.got
mouse_states > /tmp/mouse.got
result kbd_frames "$(wc -l < /tmp/kbd.got)"
result mouse_frames "$(wc -l < /tmp/mouse.got)"
result mouse_dropped "$(grep -c '^dropped' /tmp/mouse.ev)"
# compare NAME: result NAME_match, and the first difference when there is one
compare() {
	if cmp -s "/tmp/$1.want" "/tmp/$1.got"; then
		result "$1_match" yes
		return
	fi
	result "$1_match" no
	awk -v name="$1" 'NR == FNR { want[FNR] = $0; nw = FNR; next }
		{ got[FNR] = $0; ng = FNR }
		END {
			n = nw > ng ? nw : ng
			for (i = 1; i <= n; i++)
				if (want[i] != got[i]) {
					printf "VIREO-FAIL %s: frame %d: want \"%s\", got \"%s\"\n", name, i, want[i], got[i]
					exit
				}
		}' "/tmp/$1.want" "/tmp/$1.got" >> "$VIREO_OUT"
}
compare kbd
compare mouse
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
