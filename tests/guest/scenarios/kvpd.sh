# SPDX-License-Identifier: GPL-2.0-or-later
# kvpd: the guest userland of KVP where there is no KVP device (run it on
# the KVM interface): Debian's hv_kvp_daemon loads (its libraries and loader
# resolve), its helper scripts answer through the /bin/bash shim, the
# pool-file reader of /lib/vireo.sh decodes records, and the daemon stops at
# the missing /dev/vmbus/hv_kvp, saying so in syslog.
. /lib/vireo.sh

kvp_guest_setup
out=$(hv_kvp_daemon --help 2>&1)
case "$out" in
*Usage:*) result kvpd_runs yes ;;
*) result kvpd_runs no; fail "hv_kvp_daemon --help: $out" ;;
esac
result dns_helper "$(/usr/libexec/hypervkvpd/hv_get_dns_info 2>&1 | tr '\n' ' ' | sed 's/ $//')"
result dhcp_helper "$(/usr/libexec/hypervkvpd/hv_get_dhcp_info dummy0 2>&1 | tr '\n' ' ' | sed 's/ $//')"

# two records as the daemon writes them: key[512], value[2048], NUL-padded
rec() {
	printf '%s' "$1"; head -c $((512 - ${#1})) /dev/zero
	printf '%s' "$2"; head -c $((2048 - ${#2})) /dev/zero
}
{ rec K1 V1; rec Key2 "two words"; } > /tmp/pool
result kvp_reader "$(kvp_records /tmp/pool | tr '\n' ';')"

if [ -e /dev/vmbus/hv_kvp ]; then
	result kvp_dev yes
else
	result kvp_dev no
fi
if kvp_daemon_start; then
	result kvpd running
	kill "$KVP_PID"
else
	result kvpd "exited-$KVP_RC"
	result kvpd_error "$(sed -n 's/.*KVP[^:]*: \(open \/dev\/vmbus\/hv_kvp failed.*\)/\1/p' /var/log/messages | head -n 1)"
fi
exit 0
