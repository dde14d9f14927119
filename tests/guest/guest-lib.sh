# SPDX-License-Identifier: GPL-2.0-or-later
# /lib/vireo.sh: helpers for the guest /init and the scenarios (busybox sh).
# Source it: . /lib/vireo.sh

# vireo.quiet=1 (the demo VM): harness lines go to /tmp/vireo.log, not the console
case " $(cat /proc/cmdline 2>/dev/null) " in
*" vireo.quiet=1 "*) VIREO_OUT=/tmp/vireo.log ;;
*) VIREO_OUT=/dev/console ;;
esac

# result KEY VALUE: one result line for the harness
result() {
	echo "VIREO-RESULT $1=$2" >> "$VIREO_OUT"
}

fail() {
	echo "VIREO-FAIL $*" >> "$VIREO_OUT"
}

uptime_s() {
	read -r _u _rest < /proc/uptime
	echo "$_u"
}

# Wait until the console has sent everything written so far: tcsetattr with
# TCSADRAIN (what busybox stty uses) waits for the tty output to drain, so no
# line is lost when the machine powers off or resets right after.
drain_console() {
	stty -F /dev/console onlcr 2>/dev/null
}

# power_off: ACPI S5 through reboot(RB_POWER_OFF)
power_off() {
	drain_console
	sync
	poweroff -f
	fail "poweroff -f returned"
}

# reboot_now: reboot(RB_AUTOBOOT): ACPI reset register, then the keyboard
# controller, then a triple fault (the kernel's default order on x86)
reboot_now() {
	echo "VIREO-REBOOTING"
	drain_console
	sync
	reboot -f
	fail "reboot -f returned"
}
