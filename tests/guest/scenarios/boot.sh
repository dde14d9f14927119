# SPDX-License-Identifier: GPL-2.0-or-later
# boot: CPUs, memory, ACPI messages, work on CPU 1; /init powers off after.
. /lib/vireo.sh

result cpus "$(nproc)"
result cpus_online "$(cat /sys/devices/system/cpu/online)"
result mem_kb "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"

dmesg > /tmp/dmesg.txt
grep -E 'ACPI (BIOS )?(Error|Warning)' /tmp/dmesg.txt > /tmp/acpi.txt
while IFS= read -r line; do
	echo "VIREO-ACPI-LOG $line"
done < /tmp/acpi.txt
result acpi_errors "$(grep -c . /tmp/acpi.txt)"

# Run a little work pinned to CPU 1, then read which CPU the process is on
# (field 39 of /proc/self/stat) from CPU 1 itself.
if grep -qw 1 /sys/devices/system/cpu/cpu1/online 2>/dev/null; then
	ran=$(taskset -c 1 sh -c 'i=0; while [ $i -lt 5000 ]; do i=$((i + 1)); done; exec awk "{ print \$39 }" /proc/self/stat' 2>&1)
	if [ "$ran" = 1 ]; then
		result cpu1_ran yes
	else
		result cpu1_ran no
		fail "work pinned to CPU 1 reported: $ran"
	fi
else
	result cpu1_ran no
fi

# Informational: local APIC timer interrupts per CPU, clock source
result loc_irqs "$(awk '$1 == "LOC:" { s = ""; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s = s (i > 2 ? "," : "") $i; print s }' /proc/interrupts)"
result clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
result uptime "$(uptime_s)"
exit 0
