# SPDX-License-Identifier: GPL-2.0-or-later
# reboot: counts boots in CMOS RAM byte 0x40 (CMOS survives a reset).
# First boot (count 0): store 1 and reboot -f. Later boots: clear it and power off.
#
# Access: /dev/port when the kernel has it (CONFIG_DEVPORT: Debian's cloud
# kernel does not), else /bin/vireo-cmos (a tiny static program from
# build-fixtures.py doing ioperm + in/out on ports 0x70/0x71). /dev/nvram is
# not used for the count: it refuses all reads and writes (EIO) unless the
# checksum at 0x2e-0x2f matches bytes 0x10-0x2d, which only PC firmware keeps
# up to date; its verdict is reported as cmos_checksum (information only).
. /lib/vireo.sh

INDEX=64	# 0x40

if [ -c /dev/port ]; then
	via=port
elif [ -x /bin/vireo-cmos ]; then
	via=vireo-cmos
else
	fail "no /dev/port and no /bin/vireo-cmos: cannot reach CMOS RAM"
	exit 1
fi
result cmos_via "$via"
if [ -r /proc/driver/nvram ]; then
	cks=$(sed -n 's/^Checksum status *: *//p' /proc/driver/nvram)
	result cmos_checksum "$(echo ${cks:-unknown} | tr ' ' _)"
fi

octal() {
	printf '\\%o' "$1"
}

cmos_read() {
	if [ "$via" = port ]; then
		printf "$(octal $INDEX)" | dd of=/dev/port bs=1 seek=112 count=1 conv=notrunc 2>/tmp/io.err || return 1
		dd if=/dev/port bs=1 skip=113 count=1 2>/tmp/io.err | od -An -tu1 | tr -d ' \n'
	else
		printf "$(octal $INDEX)" | vireo-cmos 2>/tmp/io.err | od -An -tu1 | tr -d ' \n'
	fi
}

cmos_write() {
	if [ "$via" = port ]; then
		printf "$(octal $INDEX)" | dd of=/dev/port bs=1 seek=112 count=1 conv=notrunc 2>/tmp/io.err &&
			printf "$(octal "$1")" | dd of=/dev/port bs=1 seek=113 count=1 conv=notrunc 2>/tmp/io.err
	else
		printf "$(octal $INDEX)$(octal "$1")" | vireo-cmos > /dev/null 2>/tmp/io.err
	fi
}

n=$(cmos_read)
if [ -z "$n" ]; then
	fail "reading CMOS byte 0x40 via $via failed: $(cat /tmp/io.err)"
	exit 1
fi
result boot_count "$n"
if [ "$n" = 0 ]; then
	if ! cmos_write 1; then
		fail "writing CMOS byte 0x40 via $via failed: $(cat /tmp/io.err)"
		exit 1
	fi
	check=$(cmos_read)
	if [ "$check" != 1 ]; then
		fail "CMOS byte 0x40 reads back '$check' after writing 1"
		exit 1
	fi
	reboot_now
	exit 1
fi
cmos_write 0 || fail "clearing CMOS byte 0x40 via $via failed: $(cat /tmp/io.err)"
exit 0
