# SPDX-License-Identifier: GPL-2.0-or-later
# viewer: the guest side of vireo-connect's real-guest test
# (tests/viewer/run-viewer-guest.py, which runs the viewer under Xvfb on
# the host). The guest draws vireo-fbtool's pattern vireo.seed=N (kernel
# command line) on hyperv_fb's /dev/fb0, then reports every key its
# keyboard gets as it comes, one console line each:
#   VIREO-EV ev key.30=1
# and waits for the host to turn it off. Guard: 300 s.
. /lib/vireo.sh

KBD_NAME="AT Translated Set 2 keyboard"
GUARD=300
SEED=23
for w in $(cat /proc/cmdline); do
	case "$w" in vireo.seed=*) SEED=${w#vireo.seed=} ;; esac
done

if ! fb_wait; then
	fail "no /dev/fb0 after 30 s (hyperv_fb did not bind)"
	exit 1
fi
fbcon_unbind
input_wait "$KBD_NAME" || { fail "no keyboard \"$KBD_NAME\""; exit 1; }
# Each frame of the keyboard as a console line, as it comes ("VIREO-EV
# ready /dev/input/eventN" first, once it listens).
vireo-evdump --name "$KBD_NAME" --repeat-delay 10000 2> /tmp/kbd.err | while read -r line; do
	echo "VIREO-EV $line"
done &
out=$(vireo-fbtool pattern "$SEED") || { fail "vireo-fbtool pattern $SEED: $out"; exit 1; }
result drawn "$out"
echo "VIREO-READY viewer seed=$SEED"
sleep $GUARD
fail "viewer: the host did not turn the VM off within $GUARD s"
exit 1
