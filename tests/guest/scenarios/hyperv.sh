# SPDX-License-Identifier: GPL-2.0-or-later
# hyperv: what the guest kernel made of the Hyper-V interface (CPUID leaves,
# MSRs, hypercall page, VMBus ACPI device), read from its log and sysfs.
. /lib/vireo.sh

dmesg > /tmp/dmesg.txt
if grep -q 'Hypervisor detected: Microsoft Hyper-V' /tmp/dmesg.txt; then
	result hv_detected yes
else
	result hv_detected no
fi
result hv_priv_low "$(sed -n 's/.*Hyper-V: privilege flags low \(0x[0-9a-f]*\).*/\1/p' /tmp/dmesg.txt | head -n 1)"
result hv_hints "$(sed -n 's/.*Hyper-V: .* hints \(0x[0-9a-f]*\).*/\1/p' /tmp/dmesg.txt | head -n 1)"
result clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
# The VMBus ACPI device (_CID VMBUS) as the ACPI core enumerated it.
if grep -qs VMBUS /sys/bus/acpi/devices/*/modalias; then
	result vmbus_acpi yes
else
	result vmbus_acpi no
fi
# hv_vmbus reached our VMBus host through the hypercall page and the SynIC.
result vmbus_version "$(sed -n 's/.*hv_vmbus: Vmbus version:\([0-9.]*\).*/\1/p' /tmp/dmesg.txt | head -n 1)"
if grep -q 'hv_vmbus: Unable to connect to host' /tmp/dmesg.txt; then
	result vmbus_contact refused
elif [ -d /sys/bus/vmbus ]; then
	result vmbus_contact connected
else
	result vmbus_contact none
fi
# Every Hyper-V MSR the guest touches (SynIC included) is emulated: none may fault.
result unchecked_msr "$(grep -c 'unchecked MSR access error' /tmp/dmesg.txt)"
grep -E 'Hyper-V|hv_vmbus|unchecked MSR' /tmp/dmesg.txt | sed 's/^/VIREO-LOG /'
exit 0
