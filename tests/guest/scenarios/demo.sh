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
# What the host's KVP reads (vireoctl show, the manager's list): a name,
# an OS and an address, through Debian's hv_kvp_daemon.
KVP_HOSTNAME=vireo-demo
KVP_FQDN=vireo-demo.vireo.test
kvp_guest_setup > /dev/null
printf 'NAME="Vireo demo (Debian cloud kernel, busybox)"\nVERSION_ID=12\n' > /etc/os-release
kvp_daemon_start > /dev/null 2>&1 || true
banner() {
	cat <<'BANNER'

  Vireo demo VM: the stock Debian cloud kernel with a busybox userland.
  Try: cat /proc/cpuinfo | grep 'model name'; free -m; dmesg | tail
  'poweroff' (or Shut Down on the host) ends it cleanly.

BANNER
}
# A shell on the screen too (the synthetic video and keyboard: what the
# manager's thumbnail and vireo-connect show), besides the serial console.
i=0
while [ ! -e /dev/fb0 ] && [ $i -lt 20 ]; do
	sleep 0.25
	i=$((i + 1))
done
if [ -e /dev/fb0 ] && [ -e /dev/tty1 ]; then
	banner > /dev/tty1
	# openvt gives the shell VT 1 as its controlling terminal (Ctrl-C works).
	openvt -c 1 -- sh -l
fi
banner
setsid cttyhack sh -l
exit 0
