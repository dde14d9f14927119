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

# orderly_shutdown poweroff|reboot|halt: what /sbin/poweroff, /sbin/reboot
# and /sbin/halt do in this initramfs (build-fixtures.py makes them scripts:
# busybox's would signal PID 1, which only busybox init answers). The kernel
# runs them for orderly_poweroff() / orderly_reboot() (hv_utils' shutdown
# service) as children of kthreadd with no open files. Processes are left
# running: killing the scenario would end it with a signal status.
orderly_shutdown() {
	exec </dev/null >>/dev/console 2>&1
	result shutdown "$1"
	# The stubborn scenario plays a guest that will not go.
	if [ -e /tmp/vireo-ignore-shutdown ]; then
		result shutdown_ignored "$1"
		exit 0
	fi
	result shutdown_parent "$(cat "/proc/$PPID/comm" 2>/dev/null)"
	_req=$(dmesg | sed -n 's/.*hv_utils: \(.* request received - graceful .*\)/\1/p' | tail -n 1)
	[ -n "$_req" ] && echo "VIREO-LOG hv_utils: $_req" >> "$VIREO_OUT"
	case "$1" in
	reboot) reboot_now ;;
	halt) drain_console; sync; halt -f ;;
	*) power_off ;;
	esac
}

# kvp_records FILE: "key=value" per record of an hv_kvp_daemon pool file
# (records of a 512-byte key and a 2048-byte value, NUL-terminated UTF-8).
kvp_records() {
	_n=$(($(wc -c < "$1") / 2560))
	_i=0
	while [ $_i -lt $_n ]; do
		_k=$(dd if="$1" bs=2560 skip=$_i count=1 2>/dev/null | head -c 512 | tr '\0' '\n' | head -n 1)
		_v=$(dd if="$1" bs=2560 skip=$_i count=1 2>/dev/null | tail -c 2048 | tr '\0' '\n' | head -n 1)
		echo "$_k=$_v"
		_i=$((_i + 1))
	done
}

# kvp_guest_setup: what hv_kvp_daemon reports, set before it starts (it reads
# the FQDN once): host name, /etc/hosts, /etc/os-release, dummy0 with an
# IPv4 address (it reports non-loopback interfaces only), a name server for
# hv_get_dns_info. Results: net_addr, hostname.
KVP_HOSTNAME=vireo-guest
KVP_FQDN=vireo-guest.vireo.test
KVP_ADDR=10.0.2.15
kvp_guest_setup() {
	hostname "$KVP_HOSTNAME"
	printf '127.0.0.1 localhost\n%s %s %s\n' "$KVP_ADDR" "$KVP_FQDN" "$KVP_HOSTNAME" > /etc/hosts
	echo "hosts: files" > /etc/nsswitch.conf
	echo "nameserver 10.0.2.3" > /etc/resolv.conf
	printf 'NAME="Vireo test guest"\nVERSION_ID=12\n' > /etc/os-release
	ip link set lo up
	if ip link set dummy0 up 2>/tmp/ip.err && ip addr add "$KVP_ADDR/24" dev dummy0 2>>/tmp/ip.err; then
		result net_addr "$(ip -4 -o addr show dev dummy0 | awk '{ print $4 }')"
	else
		result net_addr none
		fail "dummy0: $(cat /tmp/ip.err) (is dummy.ko loaded?)"
	fi
	result hostname "$(hostname)"
}

# kvp_daemon_start: busybox syslogd (the daemon only speaks syslog), then
# hv_kvp_daemon -n in the background. Sets KVP_PID; returns 1 when it is
# gone after a second, its log relayed as VIREO-LOG lines.
kvp_daemon_start() {
	mkdir -p /var/lib/hyperv
	syslogd -O /var/log/messages
	hv_kvp_daemon -n > /tmp/kvpd.out 2>&1 &
	KVP_PID=$!
	sleep 1
	if ! kill -0 "$KVP_PID" 2>/dev/null; then
		wait "$KVP_PID"
		KVP_RC=$?
		kvp_daemon_log
		return 1
	fi
	return 0
}

kvp_daemon_log() {
	{ cat /tmp/kvpd.out; grep 'KVP' /var/log/messages; } 2>/dev/null | sed 's/^/VIREO-LOG kvpd: /' >> "$VIREO_OUT"
}

# The screen and keyboard of the synthetic devices, for scenarios that draw
# or listen. fb_wait: /dev/fb0 within 30 s (hyperv_fb bound), else 1.
fb_wait() {
	i=0
	while [ ! -e /dev/fb0 ] && [ $i -lt 60 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	[ -e /dev/fb0 ]
}

# fbcon would draw its text console (and cursor) over what a test draws.
fbcon_unbind() {
	for c in /sys/class/vtconsole/vtcon*; do
		case "$(cat "$c/name" 2>/dev/null)" in
		*"frame buffer"*) echo 0 > "$c/bind" ;;
		esac
	done
}

# input_wait NAME: the input device NAME within 20 s, else 1.
input_wait() {
	i=0
	while ! grep -q "Name=\"$1\"" /proc/bus/input/devices && [ $i -lt 100 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	grep -q "Name=\"$1\"" /proc/bus/input/devices
}
