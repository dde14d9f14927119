# SPDX-License-Identifier: GPL-2.0-or-later
# input: the synthetic keyboard and mouse through the guest's own drivers.
# hyperv_keyboard hands the keyboard's codes to atkbd ("AT Translated Set 2
# keyboard"), hid_hyperv makes a HID mouse of the mouse; vireo-evdump
# prints what each input device reports, a line per frame. After
# "VIREO-READY input" the host (scenarios/input.host) presses every key of
# its table (backend/vsp/keymap_xt.c) in order, then Ctrl+Alt+Del, holds
# two keys and lets go of them with release-keys, then moves, clicks and
# scrolls the mouse. The guest compares what arrived with what the host
# sends, line for line:
#   kbd_match=yes    every key came as itself, pressed (1) then released (0)
#   mouse_match=yes  positions, buttons and wheels as sent
#   cad=sigint       the kernel saw Ctrl+Alt+Del and signalled its cad_pid
#                    (made the keyboard's vireo-evdump)
# Repeats (value 2) of keys held are left out: they depend on timing.
# tests/unit/test-keymap.c checks that KEYS and REMAP below, and the keys
# lines of input.host, are the table's.
. /lib/vireo.sh

# Every key of the table, in its (evdev) order.
KEYS="
1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30
31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60
61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 85 86 87 88 89 90 91
92 93 94 95 96 97 98 99 100 102 103 104 105 106 107 108 109 110 111 113 114 115 116 117 119 121 122 123 124 125
126 127 128 140 142 143 155 156 157 158 159 163 164 165 166 172 173 183 184 185 186 187 188 189 190 191 192 193 194 217
226
"
# Keys Linux has no default code for (F16-F22, F24): setkeycodes SCAN:KEY.
REMAP="0x67:186 0x68:187 0x69:188 0x6a:189 0x6b:190 0x6c:191 0x6d:192 0x6f:194"

KBD_NAME="AT Translated Set 2 keyboard"
MOUSE_NAME="Microsoft Vmbus HID-compliant Mouse"
GUARD=60    # seconds after VIREO-READY for everything to arrive

vireo-evdump --list | while IFS= read -r line; do
	echo "VIREO-LOG input $line" >> "$VIREO_OUT"
done

# The drivers bind asynchronously (hid_hyperv probes async): wait for both.
i=0
while [ $i -lt 100 ]; do
	grep -q "Name=\"$KBD_NAME\"" /proc/bus/input/devices && grep -q "Name=\"$MOUSE_NAME\"" /proc/bus/input/devices && break
	sleep 0.2
	i=$((i + 1))
done
for d in hyperv_keyboard hid_hyperv; do
	if ls /sys/bus/vmbus/drivers/$d/ 2>/dev/null | grep -q -- '-'; then
		result "driver.$d" bound
	else
		result "driver.$d" unbound
	fi
done
grep -q "Name=\"$KBD_NAME\"" /proc/bus/input/devices && result kbd_input yes || result kbd_input no
grep -q "Name=\"$MOUSE_NAME\"" /proc/bus/input/devices && result mouse_input yes || result mouse_input no

remap_args=
for r in $REMAP; do
	remap_args="$remap_args --setkeycode $r"
done
# shellcheck disable=SC2086
vireo-evdump --name "$KBD_NAME" --repeat-delay 10000 --report-sigint $remap_args > /tmp/kbd.ev 2> /tmp/kbd.err &
kbd_pid=$!
# Ctrl+Alt+Del: by default the kernel reboots at once; told not to, it
# sends SIGINT to cad_pid (init), here the keyboard's vireo-evdump.
echo 0 > /proc/sys/kernel/ctrl-alt-del || fail "cannot write /proc/sys/kernel/ctrl-alt-del"
echo "$kbd_pid" > /proc/sys/kernel/cad_pid || fail "cannot write /proc/sys/kernel/cad_pid"
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

# What must arrive, a line per frame.
: > /tmp/kbd.want
for c in $KEYS; do
	echo "ev key.$c=1" >> /tmp/kbd.want
	echo "ev key.$c=0" >> /tmp/kbd.want
done
# ctrl-alt-del: Left Ctrl, Left Alt, Delete down, then up in reverse
for e in 29=1 56=1 111=1 111=0 56=0 29=0; do
	echo "ev key.$e" >> /tmp/kbd.want
done
# key 30 down, key 48 down, release-keys (in code order)
for e in 30=1 48=1 30=0 48=0; do
	echo "ev key.$e" >> /tmp/kbd.want
done

# The mouse, as input.host drives it (BTN_LEFT 272 .. BTN_EXTRA 276,
# REL_HWHEEL 6, REL_WHEEL 8, their hi-res axes 12 and 11 at 120 a step).
cat > /tmp/mouse.want <<'EOF'
ev key.272=1 abs.0=16400 abs.1=16405
ev key.272=0 abs.0=32767 abs.1=32767
ev key.274=1 abs.0=16384 abs.1=8192
ev key.272=1 key.274=0 abs.0=32767 abs.1=32767
ev key.272=0
ev key.273=1 abs.0=0 abs.1=0
ev key.273=0
ev key.272=1 key.273=1 key.274=1 key.275=1 key.276=1 abs.0=100 abs.1=200
ev key.272=0 key.273=0 key.274=0 key.275=0 key.276=0
ev rel.8=3 rel.11=360
ev rel.8=-2 rel.11=-240
ev rel.6=4 rel.12=480
ev rel.6=-1 rel.8=1 rel.11=120 rel.12=-120
ev rel.8=127 rel.11=15240
ev rel.8=127 rel.11=15240
ev rel.8=46 rel.11=5520
EOF

echo "VIREO-READY input"

# Wait for as many frames as expected (key repeats aside), then compare.
kbd_frames() {
	grep '^ev ' /tmp/kbd.ev | grep -v '=2$' | wc -l
}
mouse_frames() {
	grep -c '^ev ' /tmp/mouse.ev
}
want_kbd=$(wc -l < /tmp/kbd.want)
want_mouse=$(wc -l < /tmp/mouse.want)
now() {
	read -r _now _rest < /proc/uptime
	echo "${_now%.*}"
}
deadline=$(($(now) + GUARD))
while [ "$(now)" -lt "$deadline" ]; do
	[ "$(kbd_frames)" -ge "$want_kbd" ] && [ "$(mouse_frames)" -ge "$want_mouse" ] && break
	sleep 0.5
done
sleep 0.5   # anything extra that was still coming
kill -0 "$kbd_pid" 2>/dev/null || fail "vireo-evdump (kbd) stopped early: $(cat /tmp/kbd.err)"
kill -0 "$mouse_pid" 2>/dev/null || fail "vireo-evdump (mouse) stopped early: $(cat /tmp/mouse.err)"
kill "$kbd_pid" "$mouse_pid" 2>/dev/null

grep '^ev ' /tmp/kbd.ev | grep -v '=2$' > /tmp/kbd.got
grep '^ev ' /tmp/mouse.ev > /tmp/mouse.got
result kbd_frames "$(wc -l < /tmp/kbd.got)"
result kbd_repeats "$(grep -c '^ev .*=2$' /tmp/kbd.ev)"
result mouse_frames "$(wc -l < /tmp/mouse.got)"
result dropped "$(cat /tmp/kbd.ev /tmp/mouse.ev | grep -c '^dropped')"
grep -q '^signal INT$' /tmp/kbd.ev && result cad sigint || result cad none

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

exit 0
