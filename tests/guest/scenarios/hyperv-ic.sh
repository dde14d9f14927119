# SPDX-License-Identifier: GPL-2.0-or-later
# hyperv-ic: the integration services (hv_utils: heartbeat, shutdown,
# timesync, KVP with Debian's hv_kvp_daemon) against the host's VMBus
# devices. The host side is scenarios/hyperv-ic.host:
#  1. the guest reports the VMBus devices, their classes and drivers, starts
#     the KVP daemon and prints "VIREO-READY hyperv-ic";
#  2. it then reports each record of the daemon's pools 0-3 as it appears
#     (kvp_poolN.KEY=VALUE) and relays hv_utils' kernel messages;
#  3. the pool-0 record VireoPhase=busy (a host "kvp set") starts one
#     spinning loop per CPU, then "VIREO-READY busy";
#  4. the host's shutdown request ends it: hv_utils runs /sbin/poweroff
#     (orderly_shutdown in /lib/vireo.sh, which reports shutdown=poweroff).
# vireo.ic_busy=1 on the kernel command line: spin from step 1 on.
# Guard: 300 s after the ready line without a shutdown fails.
. /lib/vireo.sh

# class id -> service (the Hyper-V integration-service GUIDs)
ic_name() {
	case "$1" in
	57164f39-9115-4e78-ab55-382f3bd5422d) echo heartbeat ;;
	0e0b6031-5213-4934-818b-38d90ced39db) echo shutdown ;;
	9527e630-d0ae-497b-adce-e80ab0175caf) echo timesync ;;
	a9a0f4e7-5a45-4d96-b827-8a841e8c03e6) echo kvp ;;
	*) echo other ;;
	esac
}

class_of() {
	tr -d '{}\n' < "$1/class_id" 2>/dev/null
}

bound_ics() {
	n=0
	for d in /sys/bus/vmbus/drivers/hv_utils/*; do
		[ -e "$d/class_id" ] && n=$((n + 1))
	done
	echo $n
}

# hv_utils' messages so far (IC versions, requests) as VIREO-LOG lines,
# "TimeSync IC version 4.0" as ic_version.timesync=4.0 (once each)
seen=0
relay_dmesg() {
	dmesg | grep -E 'hv_utils|hv_vmbus' > /tmp/hv.log
	tail -n +$((seen + 1)) /tmp/hv.log | while IFS= read -r line; do
		echo "VIREO-LOG $line"
		v=$(echo "$line" | sed -n 's/.*hv_utils: \([A-Za-z]*\) IC version \([0-9.]*\).*/\1 \2/p')
		[ -n "$v" ] && result "ic_version.$(echo "${v% *}" | tr 'A-Z' 'a-z')" "${v#* }"
	done
	seen=$(wc -l < /tmp/hv.log)
}

if [ ! -d /sys/bus/vmbus ]; then
	result vmbus_devices 0
	fail "no /sys/bus/vmbus: hv_vmbus did not load (is the worker on --hv-interface=hyperv?)"
	exit 1
fi
# Offers arrive after hv_vmbus connected; hv_utils binds as they do.
i=0
while [ $i -lt 60 ] && [ "$(bound_ics)" -lt 4 ]; do
	sleep 0.5
	i=$((i + 1))
done
result vmbus_wait_s "$((i / 2))"
classes=
n=0
for d in /sys/bus/vmbus/devices/*; do
	[ -e "$d/class_id" ] || continue
	n=$((n + 1))
	c=$(class_of "$d")
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
	echo "VIREO-LOG vmbus device $(basename "$d") class=$c ($(ic_name "$c")) driver=${drv:-none}"
	classes="$classes $c"
done
result vmbus_devices "$n"
result vmbus_classes "$(echo $classes | tr ' ' '\n' | sort | tr '\n' ',' | sed 's/,$//')"
result hv_utils_bound "$(bound_ics)"
for ic in heartbeat shutdown timesync kvp; do
	state=missing
	for d in /sys/bus/vmbus/devices/*; do
		[ -e "$d/class_id" ] || continue
		[ "$(ic_name "$(class_of "$d")")" = $ic ] || continue
		drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
		if [ "$drv" = hv_utils ]; then state=bound; else state="unbound(${drv:-no driver})"; fi
	done
	result "ic.$ic" "$state"
	[ "$state" = bound ] || fail "the $ic integration service is $state"
done
# timesync registers a PTP clock named hyperv; KVP a misc device for the daemon
ptp=no
for c in /sys/class/ptp/*/clock_name; do
	[ "$(cat "$c" 2>/dev/null)" = hyperv ] && ptp=yes
done
result ptp_hyperv "$ptp"
i=0
while [ ! -e /dev/vmbus/hv_kvp ] && [ $i -lt 20 ]; do
	sleep 0.5
	i=$((i + 1))
done
[ -e /dev/vmbus/hv_kvp ] && result kvp_dev yes || result kvp_dev no

kvp_guest_setup
daemon_gone=0
if kvp_daemon_start; then
	result kvpd running
else
	daemon_gone=1
	result kvpd "exited-$KVP_RC"
	fail "hv_kvp_daemon exited at start (status $KVP_RC)"
fi
relay_dmesg

busy=0
start_busy() {
	c=0
	while [ $c -lt "$(nproc)" ]; do
		taskset -c $c sh -c 'while :; do :; done' &
		c=$((c + 1))
	done
	busy=1
	result busy_spinners "$c"
}
case " $(cat /proc/cmdline) " in
*" vireo.ic_busy=1 "*) start_busy ;;
esac

echo "VIREO-READY hyperv-ic"

: > /tmp/kvp-seen
pools_sum=
report_pools() {
	sum=$(cat /var/lib/hyperv/.kvp_pool_[0-3] 2>/dev/null | md5sum)
	[ "$sum" = "$pools_sum" ] && return
	pools_sum=$sum
	for p in 0 1 2 3; do
		f=/var/lib/hyperv/.kvp_pool_$p
		[ -s "$f" ] || continue
		kvp_records "$f" | while IFS= read -r kv; do
			grep -qxF "$p:$kv" /tmp/kvp-seen && continue
			echo "$p:$kv" >> /tmp/kvp-seen
			result "kvp_pool$p.$(echo "${kv%%=*}" | tr -c 'A-Za-z0-9_.\n-' '_')" "${kv#*=}"
		done
	done
}

# Wait for the host's shutdown (it does not come back here).
t=0
while [ $t -lt 600 ]; do
	report_pools
	relay_dmesg
	if [ $busy = 0 ] && grep -qxF "0:VireoPhase=busy" /tmp/kvp-seen; then
		start_busy
		echo "VIREO-READY busy"
	fi
	if [ $daemon_gone = 0 ] && ! kill -0 "$KVP_PID" 2>/dev/null; then
		daemon_gone=1
		fail "hv_kvp_daemon exited"
		kvp_daemon_log
	fi
	sleep 0.5
	t=$((t + 1))
done
fail "hyperv-ic: no shutdown request from the host within 300 s"
exit 1
