#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# peer-qemu.sh: QEMU/KVM as the reference L2 VMM (benchmark peer, and the
# stand-in used to validate the real-guest harness). It takes vireo-worker's
# command line and follows its exit status convention, so the harness and the
# benchmark drive both the same way:
#
#   peer-qemu.sh --kernel K [--initrd I] [--cmdline C] [--memory 512M] [--cpus N]
#                [--serial stdio] [--control PATH] [--on-reboot exit|restart]
#                [--machine microvm|q35] [--qemu BIN]
#     Boots K (bzImage, or an ELF vmlinux with a PVH note) with KVM; the
#     guest console is on stdout. Exit status: 0 guest powered off, 10 guest
#     reset itself (with --on-reboot exit, the default), 1 QEMU failed.
#   peer-qemu.sh --ctl PATH power-button
#     Presses the ACPI power button of the instance started with --control
#     PATH (QMP system_powerdown through the FIFOs PATH.in / PATH.out);
#     prints "ok" like vireo-worker-ctl.
#   peer-qemu.sh --print-carry [--machine M] [--qemu BIN]
#     Lists what a host without QEMU needs to run this (for nested-host.py):
#     "exe PATH" and "file PATH" lines.
#
# The machine is microvm by default (qboot firmware, x-option-roms=off,
# ACPI, RTC/CMOS, PIC/PIT, ISA serial): QEMU's fastest Linux boot. The
# environment variables QEMU and PEER_MACHINE set the defaults.
set -u

qemu=${QEMU:-qemu-system-x86_64}
machine=${PEER_MACHINE:-microvm}
kernel= initrd= cmdline= memory=512M cpus=1 serial=stdio control= on_reboot=exit
mode=run
ctl_path= ctl_cmd=

die() {
	echo "peer-qemu: $*" >&2
	exit 1
}

need_arg() {
	[ $# -ge 2 ] || die "$1 needs a value"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) need_arg "$@"; kernel=$2; shift 2 ;;
	--kernel=*) kernel=${1#*=}; shift ;;
	--initrd) need_arg "$@"; initrd=$2; shift 2 ;;
	--initrd=*) initrd=${1#*=}; shift ;;
	--cmdline) need_arg "$@"; cmdline=$2; shift 2 ;;
	--cmdline=*) cmdline=${1#*=}; shift ;;
	--memory|-m) need_arg "$@"; memory=$2; shift 2 ;;
	--memory=*) memory=${1#*=}; shift ;;
	--cpus|-c) need_arg "$@"; cpus=$2; shift 2 ;;
	--cpus=*) cpus=${1#*=}; shift ;;
	--serial) need_arg "$@"; serial=$2; shift 2 ;;
	--serial=*) serial=${1#*=}; shift ;;
	--control) need_arg "$@"; control=$2; shift 2 ;;
	--control=*) control=${1#*=}; shift ;;
	--on-reboot) need_arg "$@"; on_reboot=$2; shift 2 ;;
	--on-reboot=*) on_reboot=${1#*=}; shift ;;
	--machine) need_arg "$@"; machine=$2; shift 2 ;;
	--machine=*) machine=${1#*=}; shift ;;
	--qemu) need_arg "$@"; qemu=$2; shift 2 ;;
	--qemu=*) qemu=${1#*=}; shift ;;
	--name|--name=*|--timing|--force-kvm)	# vireo-worker options without meaning here
		case "$1" in --name) shift ;; esac; shift ;;
	--ctl)
		[ $# -ge 3 ] || die "usage: peer-qemu.sh --ctl PATH COMMAND"
		mode=ctl; ctl_path=$2; ctl_cmd=$3; shift 3 ;;
	--print-carry) mode=carry; shift ;;
	-h|--help) sed -n '3,32p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

case "$machine" in
microvm|q35) ;;
*) die "--machine: microvm or q35, not '$machine'" ;;
esac

if [ $mode = carry ]; then
	q=$(command -v "$qemu") || die "$qemu not found (Debian package qemu-system-x86)"
	echo "exe $q"
	for f in qboot.rom bios-microvm.bin pvh.bin linuxboot_dma.bin linuxboot.bin kvmvapic.bin; do
		[ -e "/usr/share/qemu/$f" ] && echo "file /usr/share/qemu/$f"
	done
	if [ "$machine" = q35 ]; then
		for f in /usr/share/seabios/bios-256k.bin /usr/share/seabios/bios.bin; do
			[ -e "$f" ] && echo "file $f"
		done
	fi
	exit 0
fi

if [ $mode = ctl ]; then
	case "$ctl_cmd" in
	power-button) qmp='{"execute":"system_powerdown"}' ;;
	turn-off) qmp='{"execute":"quit"}' ;;
	reset) qmp='{"execute":"system_reset"}' ;;
	*) die "--ctl: unknown command '$ctl_cmd' (power-button, turn-off, reset)" ;;
	esac
	[ -p "$ctl_path.in" ] || die "$ctl_path.in: no such QMP FIFO (is a peer running with --control $ctl_path?)"
	before=$(grep -c '"return"' "$ctl_path.log" 2>/dev/null)
	echo "$qmp" > "$ctl_path.in" || die "$ctl_path.in: cannot write"
	i=0
	while [ $i -lt 50 ]; do
		now=$(grep -c '"return"' "$ctl_path.log" 2>/dev/null)
		if [ "${now:-0}" -gt "${before:-0}" ]; then
			echo "ok $ctl_cmd"
			exit 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "error: no QMP reply within 5 s"
	exit 1
fi

[ -n "$kernel" ] || die "--kernel is required"
[ -r "$kernel" ] || die "$kernel: cannot read the kernel"
[ -z "$initrd" ] || [ -r "$initrd" ] || die "$initrd: cannot read the initrd"
[ "$serial" = stdio ] || die "--serial: only stdio is supported by the QEMU peer"
case "$on_reboot" in exit|restart) ;; *) die "--on-reboot: exit or restart, not '$on_reboot'" ;; esac
command -v "$qemu" >/dev/null 2>&1 || die "$qemu not found (Debian package qemu-system-x86)"
[ -w /dev/kvm ] || die "/dev/kvm is not usable here"

# QMP on two FIFOs: the control path for --ctl, and the SHUTDOWN event that
# tells a guest power-off from a guest reset.
tmpdir=
if [ -n "$control" ]; then
	base=$control
else
	tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/peer-qemu.XXXXXX") || die "mktemp failed"
	base=$tmpdir/qmp
fi
rm -f "$base.in" "$base.out" "$base.log"
mkfifo "$base.in" "$base.out" || die "mkfifo $base.in $base.out failed"
: > "$base.log"
# Hold both FIFOs open read-write: QEMU's opens do not block, and QEMU never
# sees an end of file on its input when a --ctl writer goes away.
exec 3<>"$base.in" 4<>"$base.out"
cat "$base.out" >> "$base.log" &
reader=$!
echo '{"execute":"qmp_capabilities"}' >&3

case "$machine" in
microvm) mopt="microvm,x-option-roms=off,rtc=on,acpi=on,pit=on,pic=on,isa-serial=on" ;;
q35) mopt="q35" ;;
esac
set -- -M "$mopt" -accel kvm -cpu host -smp "$cpus" -m "$memory" \
	-nodefaults -no-user-config -display none -serial stdio \
	-qmp "pipe:$base" -kernel "$kernel" -append "$cmdline"
[ -n "$initrd" ] && set -- "$@" -initrd "$initrd"
[ "$on_reboot" = exit ] && set -- "$@" -no-reboot

"$qemu" "$@" < /dev/null
rc=$?
i=0	# let the reader copy QEMU's last QMP event
while [ $i -lt 20 ] && ! grep -q '"SHUTDOWN"' "$base.log"; do
	sleep 0.05
	i=$((i + 1))
done
kill $reader 2>/dev/null
exec 3>&- 4>&-
if [ $rc -ne 0 ]; then
	echo "peer-qemu: $qemu exited with status $rc" >&2
	status=1
elif grep '"SHUTDOWN"' "$base.log" | grep -q '"guest-reset"'; then
	status=10
else
	status=0
fi
rm -f "$base.in" "$base.out"
[ -n "$tmpdir" ] && rm -rf "$tmpdir"
exit $status
