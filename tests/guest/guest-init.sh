#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the Vireo real-guest initramfs (L2), busybox sh.
#
# Everything the tests read comes back as lines on the serial console:
#   VIREO-GUEST-INIT uptime=S          /init started (boot-time marker)
#   VIREO-RESULT key=value             a result; key is [A-Za-z0-9_.-]+
#   VIREO-FAIL text                    something failed (the harness fails the test)
#   VIREO-READY what                   the guest waits for a host action
#   VIREO-REBOOTING                    the guest is about to reset itself
#   VIREO-SCENARIO-START name=NAME / VIREO-SCENARIO-END rc=N
# Kernel command line: vireo.scenario=NAME runs /scenarios/NAME.sh;
# vireo.shell=1 opens a shell on the console instead of powering off.
# Plain /sbin/poweroff, /sbin/reboot and /sbin/halt (what orderly_poweroff()
# runs) do not signal us: they are scripts, see orderly_shutdown in /lib/vireo.sh.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc 2>/dev/null
read -r up _ < /proc/uptime
echo "VIREO-GUEST-INIT uptime=$up"
# With quiet, keep the kernel off the console: its messages would split our
# result lines mid-way. Scenarios read dmesg themselves.
case " $(cat /proc/cmdline) " in
*" quiet "*) dmesg -n 1 ;;
esac
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp

. /lib/vireo.sh

scenario=
shell=
for w in $(cat /proc/cmdline); do
	case "$w" in
	vireo.scenario=*) scenario=${w#vireo.scenario=} ;;
	vireo.shell=1) shell=1 ;;
	esac
done

result kernel "$(uname -r)"
loaded=0
failed=0
while read -r m; do
	[ -n "$m" ] || continue
	if out=$(insmod "/modules/$m.ko" 2>&1); then
		loaded=$((loaded + 1))
		result "module.$m" loaded
	else
		failed=$((failed + 1))
		result "module.$m" failed
		echo "VIREO-FAIL insmod $m ($out)" >> "$VIREO_OUT"
	fi
done < /modules/load.list
echo "VIREO-MODULES-LOADED uptime=$(uptime_s) loaded=$loaded failed=$failed" >> "$VIREO_OUT"

rc=0
case "$scenario" in
"")
	fail "no scenario: put vireo.scenario=NAME on the kernel command line (have: $(cd /scenarios && ls | sed 's/\.sh$//' | tr '\n' ' '))"
	rc=2 ;;
*[!A-Za-z0-9_-]*)
	fail "bad scenario name '$scenario'"
	rc=2 ;;
*)
	if [ -f "/scenarios/$scenario.sh" ]; then
		echo "VIREO-SCENARIO-START name=$scenario" >> "$VIREO_OUT"
		sh "/scenarios/$scenario.sh"
		rc=$?
	else
		fail "unknown scenario '$scenario' (have: $(cd /scenarios && ls | sed 's/\.sh$//' | tr '\n' ' '))"
		rc=2
	fi ;;
esac
echo "VIREO-SCENARIO-END rc=$rc" >> "$VIREO_OUT"
if [ -n "$shell" ]; then
	echo "vireo: vireo.shell=1: shell on the console; 'poweroff -f' to end"
	setsid cttyhack sh
fi
power_off
# PID 1 must not exit (the kernel would panic): wait for the host's timeout
while :; do sleep 3600; done
