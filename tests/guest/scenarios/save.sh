# SPDX-License-Identifier: GPL-2.0-or-later
# save: the worker's save and restore (`save DIR`, `--restore DIR`) of a
# guest that is busy with everything at once. The host side is
# scenarios/save.host:
#  1. the guest draws pattern 11 on /dev/fb0 (hyperv_fb), starts the KVP
#     daemon and an event reader on the synthetic keyboard, and prints
#     "VIREO-READY save";
#  2. from then on it counts, every half second: the count goes to a file
#     in RAM (/tmp) and to the console ("VIREO-LOG tick=N"), and it watches
#     its two clocks: uptime (CLOCK_BOOTTIME) must never go back nor jump,
#     the wall clock may jump forward once (the time the VM spent saved:
#     time sync steps it after the restore);
#  3. meanwhile the host saves the VM (the worker exits 14), waits, starts
#     a new worker from the saved state, and checks the devices;
#  4. the host's KVP record VireoSave=check makes the guest report: how far
#     it counted and whether the file in RAM agrees (counter_ok), whether
#     it is the same boot (boot_id_same), the largest step of uptime
#     between two ticks (uptime_step_max_cs), how often and where the wall
#     clock jumped (wall_jumps, jump_tick), how many ticks came after the
#     jump, and which keys it got (keys): then "VIREO-READY checked";
#  5. the host's shutdown request ends it.
# Guard: 300 s without a shutdown fails.
. /lib/vireo.sh

KBD_NAME="AT Translated Set 2 keyboard"
TICK=0.5

if ! fb_wait; then
	fail "no /dev/fb0 after 30 s (hyperv_fb did not bind)"
	exit 1
fi
# fbcon would draw its console over the pattern (see video.sh).
_i=0
while [ $_i -lt 20 ]; do
	for c in /sys/class/vtconsole/vtcon*; do
		case "$(cat "$c/name" 2>/dev/null)" in
		*"frame buffer"*) [ "$(cat "$c/bind")" = 1 ] && echo 0 > "$c/bind" && _i=99 ;;
		esac
	done
	[ $_i = 99 ] && break
	sleep 0.5
	_i=$((_i + 1))
done
rm -f /tmp/fbcmd /tmp/fbout
mkfifo /tmp/fbcmd
vireo-fbtool serve < /tmp/fbcmd > /tmp/fbout 2>&1 &
exec 3> /tmp/fbcmd
echo "pattern 11" >&3
i=0
while ! grep -qE '^(done|error) ' /tmp/fbout && [ $i -lt 240 ]; do
	sleep 0.25
	i=$((i + 1))
done
drawn=$(grep -E '^(done|error) ' /tmp/fbout | head -n 1)
result drawn "${drawn:-nothing}"
case "$drawn" in done*) ;; *) fail "vireo-fbtool pattern 11: ${drawn:-no answer}" ;; esac

kvp_guest_setup
kvp_daemon_start || fail "hv_kvp_daemon exited at start (status $KVP_RC)"

# The keyboard's events, one line per frame, from now on.
i=0
while [ $i -lt 100 ] && ! grep -q "Name=\"$KBD_NAME\"" /proc/bus/input/devices; do
	sleep 0.2
	i=$((i + 1))
done
vireo-evdump --name "$KBD_NAME" --repeat-delay 10000 > /tmp/kbd.ev 2> /tmp/kbd.err &
i=0
while [ $i -lt 50 ] && ! grep -q '^ready ' /tmp/kbd.ev 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
grep -q '^ready ' /tmp/kbd.ev || fail "vireo-evdump did not start: $(cat /tmp/kbd.err)"

boot_id=$(cat /proc/sys/kernel/random/boot_id)
# Uptime in hundredths, from /proc/uptime.
uptime_cs() {
	read -r _u _rest < /proc/uptime
	_s=${_u%.*}
	_c=${_u#*.}
	echo $((_s * 100 + ${_c#0}))
}
host_says() {
	[ -s /var/lib/hyperv/.kvp_pool_0 ] && kvp_records /var/lib/hyperv/.kvp_pool_0 | grep -qxF "VireoSave=$1"
}

n=0
echo 0 > /tmp/counter
last_up=$(uptime_cs)
# The wall clock minus uptime, in seconds: constant while both run, larger
# by the time the VM stood saved once time sync has stepped the clock.
skew0=$(( $(date +%s) - last_up / 100 ))
step_max=0
up_back=0
jumps=0
jump_tick=none
echo "VIREO-READY save"
t=0
while [ $t -lt 600 ]; do
	n=$((n + 1))
	echo $n > /tmp/counter
	up=$(uptime_cs)
	step=$((up - last_up))
	[ $step -lt 0 ] && up_back=$((up_back + 1))
	[ $step -gt $step_max ] && step_max=$step
	last_up=$up
	skew=$(( $(date +%s) - up / 100 ))
	# Whole seconds of both clocks: 2 s tells a jump from rounding.
	if [ $((skew - skew0)) -ge 2 ]; then
		jumps=$((jumps + 1))
		jump_tick=$n
		echo "VIREO-LOG wall clock jumped by $((skew - skew0)) s at tick $n"
		skew0=$skew
	fi
	echo "VIREO-LOG tick=$n uptime_cs=$up"
	if host_says check; then
		result ticks "$n"
		[ "$(cat /tmp/counter)" = "$n" ] && result counter_ok yes || result counter_ok no
		[ "$(cat /proc/sys/kernel/random/boot_id)" = "$boot_id" ] && result boot_id_same yes || result boot_id_same no
		result uptime_step_max_cs "$step_max"
		result uptime_back "$up_back"
		result wall_jumps "$jumps"
		result jump_tick "$jump_tick"
		[ "$jump_tick" != none ] && result ticks_after_jump "$((n - jump_tick))"
		# Presses (value 1) of the keys, in the order they came.
		keys=$(sed -n 's/^ev key\.\([0-9]*\)=1$/\1/p' /tmp/kbd.ev | tr '\n' ',' | sed 's/,$//')
		result keys "${keys:-none}"
		echo "VIREO-READY checked"
		break
	fi
	sleep $TICK
	t=$((t + 1))
done
# Wait for the host's shutdown (it does not come back here).
t=0
while [ $t -lt 600 ]; do
	sleep 0.5
	t=$((t + 1))
done
fail "save: no shutdown request from the host within 300 s"
exit 1
