# SPDX-License-Identifier: GPL-2.0-or-later
# powerbutton: busybox acpid waits for the ACPI power button (KEY_POWER on
# /dev/input/event*, from button.ko through evdev.ko) and runs its handler,
# which reports and powers off. The host presses the button after
# "VIREO-READY powerbutton". Guard: 60 s without the event fails.
. /lib/vireo.sh

if [ ! -e /dev/input/event0 ]; then
	fail "no /dev/input/event0: no input device (is button.ko/evdev.ko loaded? see module results)"
	exit 1
fi
# input devices the kernel registered, e.g. "Power Button"
sed -n 's/^N: Name="\(.*\)"$/\1/p' /proc/bus/input/devices | while IFS= read -r dev; do
	echo "VIREO-LOG input device: $dev"
done
if grep -q 'Name="Power Button"' /proc/bus/input/devices; then
	result powerbutton_input yes
else
	result powerbutton_input no
	fail "no 'Power Button' input device (ACPI: fixed-feature button or PNP0C0C/LNXPWRBN in the DSDT)"
fi

# busybox acpid: KEY_POWER press -> "button/power PWRF 00000080" (built-in
# map) -> action from /etc/acpid.conf ("PWRF power") -> /etc/acpi/power,
# run directly because it is a file (run-parts if it were a directory).
mkdir -p /etc/acpi /var/log
echo "PWRF power" > /etc/acpid.conf
cat > /etc/acpi/power <<'HANDLER'
#!/bin/sh
. /lib/vireo.sh
result powerbutton handled
power_off
HANDLER
chmod 755 /etc/acpi/power

acpid -d -c /etc/acpi -a /etc/acpid.conf &	# -d: log to the console, foreground
sleep 0.2
if ! kill -0 $! 2>/dev/null; then
	fail "acpid exited at start"
	exit 1
fi
echo "VIREO-READY powerbutton"
i=0
while [ $i -lt 60 ]; do
	sleep 1
	i=$((i + 1))
done
fail "powerbutton: no power button event within 60 s"
exit 1
