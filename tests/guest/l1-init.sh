#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the nested test host (L1), busybox sh: loads kvm-amd, checks
# /dev/kvm, runs /job.sh (written by nested-host.py) with its output on the
# console, reports its exit status and powers L1 off. Console lines:
#   VIREO-L1-INIT uptime=S        /init started
#   VIREO-L1-KVM ok ...           /dev/kvm is there (module parameters follow)
#   VIREO-L1-FAIL text            L1 could not provide a KVM host
#   VIREO-L1-JOB-START uptime=S   the job starts
#   VIREO-L1-EXIT rc=N            the job's exit status (125: L1 failure)
# Files the job leaves in /vireo/out go back to the host before the exit line.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
read -r up _ < /proc/uptime
echo "VIREO-L1-INIT uptime=$up"
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /tmp /run /root /vireo/out
mount -t tmpfs tmpfs /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
# Loopback, for jobs that talk TCP to the worker (its VNC export on 127.0.0.1).
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null

ok=1
while read -r m; do
	[ -n "$m" ] || continue
	if ! out=$(insmod "/l1-modules/$m.ko" 2>&1); then
		echo "VIREO-L1-FAIL insmod $m: $out"
		ok=0
	fi
done < /l1-modules/load.list

if [ -c /dev/kvm ]; then
	p=/sys/module/kvm_amd/parameters
	echo "VIREO-L1-KVM ok npt=$(cat $p/npt 2>/dev/null) nested=$(cat $p/nested 2>/dev/null) avic=$(cat $p/avic 2>/dev/null)"
else
	echo "VIREO-L1-FAIL no /dev/kvm after loading the modules"
	ok=0
fi

# L1's pulse: a line every 5 s on the port vireo.pulse (there once
# virtio_console is loaded), apart from the console, so that the host tells
# an L1 whose kernel hangs (seen under QEMU TCG: every vCPU busy, nothing
# more ever printed) from a job that is merely quiet. Its pid is in
# /run/vireo-pulse.pid.
for n in /sys/class/virtio-ports/*/name; do
	[ "$(cat "$n" 2>/dev/null)" = vireo.pulse ] || continue
	port=/dev/$(basename "$(dirname "$n")")
	(
		exec 3> "$port"
		while :; do
			read -r up _ < /proc/uptime
			echo "$up" >&3
			sleep 5
		done
	) < /dev/null > /dev/null 2>&1 &
	echo $! > /run/vireo-pulse.pid
done

# Forwarded sockets (nested-host.py Forwarder): for each "NAME L1_SOCKET"
# line, vireo-l1-forward relays the port vireo.fwd.NAME to that socket.
if [ $ok = 1 ] && [ -e /vireo/forward.list ]; then
	while read -r name sock; do
		for n in /sys/class/virtio-ports/*/name; do
			[ "$(cat "$n" 2>/dev/null)" = "vireo.fwd.$name" ] || continue
			/vireo/bin/vireo-l1-forward "/dev/$(basename "$(dirname "$n")")" "$sock" \
				2> "/tmp/forward-$name.log" < /dev/null &
		done
	done < /vireo/forward.list
fi

if [ $ok = 1 ]; then
	read -r up _ < /proc/uptime
	echo "VIREO-L1-JOB-START uptime=$up"
	cd /tmp
	sh /job.sh < /dev/null
	rc=$?
else
	dmesg | grep -iE 'kvm|svm|npt' | sed 's/^/VIREO-L1-LOG /'
	rc=125
fi
# What the job left in /vireo/out goes back on the virtio-serial port
# vireo.out, when nested-host.py made one (--out).
for n in /sys/class/virtio-ports/*/name; do
	[ "$(cat "$n" 2>/dev/null)" = vireo.out ] || continue
	port=/dev/$(basename "$(dirname "$n")")
	if [ -n "$(ls -A /vireo/out)" ]; then
		tar -C /vireo/out -cf "$port" . || echo "VIREO-L1-FAIL sending /vireo/out back failed"
	fi
done
read -r up _ < /proc/uptime
echo "VIREO-L1-EXIT rc=$rc uptime=$up"
stty -F /dev/console onlcr 2>/dev/null	# drain the console (TCSADRAIN)
sync
poweroff -f
while :; do sleep 3600; done
