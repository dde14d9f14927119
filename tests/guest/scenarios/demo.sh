# SPDX-License-Identifier: GPL-2.0-or-later
# demo: the README's demo VM. A shell on the console; the power button (the
# host's Ctrl-A p) shuts the guest down cleanly through busybox acpid.
. /lib/vireo.sh

mkdir -p /etc/acpi
echo "PWRF power" > /etc/acpid.conf
cat > /etc/acpi/power <<'HANDLER'
#!/bin/sh
echo "vireo demo: power button pressed, shutting down"
. /lib/vireo.sh
power_off
HANDLER
chmod 755 /etc/acpi/power
[ -e /dev/input/event0 ] && acpid -c /etc/acpi -a /etc/acpid.conf
hostname vireo-demo
cat <<'BANNER'

  Vireo demo VM: the stock Debian cloud kernel with a busybox userland.
  Try: cat /proc/cpuinfo | grep 'model name'; free -m; dmesg | tail
  'poweroff -f' or the host's power button (Ctrl-A p) ends it; Ctrl-A x turns it off.

BANNER
setsid cttyhack sh -l
exit 0
