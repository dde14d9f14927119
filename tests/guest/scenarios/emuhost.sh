# SPDX-License-Identifier: GPL-2.0-or-later
# emuhost: a VM of vireod that runs inside the emulated host (vireo-emuhost),
# driven by tests/service/test-emuhost.c on this host. The guest draws
# vireo-fbtool's pattern 41 on hyperv_fb's /dev/fb0 (the test reads it
# through the console socket, shared memory and inline) and watches its
# keyboard: the test types evdev codes 30 48 46 through the console socket,
# and the guest reports whether exactly those arrived, pressed and released:
#   VIREO-RESULT kbd_match=yes
# Then it waits for the host's Shut Down (hv_utils' shutdown service powers
# it off). Results go to the serial console, which the test reads through
# the VM's serial socket. Guard: 600 s.
. /lib/vireo.sh

SEED=41
KBD_NAME="AT Translated Set 2 keyboard"
GUARD=600

i=0
while [ ! -e /dev/fb0 ] && [ $i -lt 120 ]; do
	sleep 0.5
	i=$((i + 1))
done
if [ ! -e /dev/fb0 ]; then
	result fb no
	fail "no /dev/fb0 after 60 s (hyperv_fb did not bind)"
	power_off
fi
result fb yes
info=$(vireo-fbtool info) || fail "vireo-fbtool info failed"
for kv in $info; do
	case "$kv" in xres=*|yres=*) result "${kv%%=*}" "${kv#*=}" ;; esac
done

# fbcon would draw its text console (and cursor) over the pattern.
fbcon_unbind

i=0
while ! grep -q "Name=\"$KBD_NAME\"" /proc/bus/input/devices && [ $i -lt 200 ]; do
	sleep 0.2
	i=$((i + 1))
done
vireo-evdump --name "$KBD_NAME" --repeat-delay 10000 > /tmp/kbd.ev 2> /tmp/kbd.err &
i=0
while ! grep -q '^ready ' /tmp/kbd.ev 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
grep -q '^ready ' /tmp/kbd.ev || fail "vireo-evdump did not start: $(cat /tmp/kbd.err)"

: > /tmp/kbd.want
for e in 30=1 30=0 48=1 48=0 46=1 46=0; do
	echo "ev key.$e" >> /tmp/kbd.want
done

out=$(vireo-fbtool pattern $SEED) || fail "vireo-fbtool pattern $SEED: $out"
result drawn "$out"
echo "VIREO-READY emuhost"

want=$(wc -l < /tmp/kbd.want)
t=0
while [ $t -lt $((GUARD * 5)) ]; do
	[ "$(grep '^ev ' /tmp/kbd.ev | grep -vc '=2$')" -ge "$want" ] && break
	sleep 0.2
	t=$((t + 1))
done
sleep 0.5   # anything extra that was still coming
grep '^ev ' /tmp/kbd.ev | grep -v '=2$' > /tmp/kbd.got
result kbd_frames "$(wc -l < /tmp/kbd.got)"
if cmp -s /tmp/kbd.want /tmp/kbd.got; then
	result kbd_match yes
else
	result kbd_match no
	fail "keys: want $(tr '\n' ' ' < /tmp/kbd.want), got $(tr '\n' ' ' < /tmp/kbd.got)"
fi
echo "VIREO-READY emuhost-keys"

while [ $t -lt $((GUARD * 5)) ]; do
	sleep 0.2
	t=$((t + 1))
done
fail "emuhost: no shutdown request from the host within $GUARD s"
power_off
