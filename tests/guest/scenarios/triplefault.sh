# SPDX-License-Identifier: GPL-2.0-or-later
# triplefault: reboots with the kernel's triple-fault method (the harness puts
# reboot=t on the command line), so the VMM must report a triple fault, not a reboot.
. /lib/vireo.sh

case " $(cat /proc/cmdline) " in
*" reboot=t "*) ;;
*) fail "triplefault needs reboot=t on the kernel command line"; exit 1 ;;
esac
result reboot_method triple
reboot_now
exit 1
