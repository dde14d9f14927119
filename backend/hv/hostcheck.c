// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "hv/hostcheck.h"

const char *hostcheck_class_name(enum host_kvm_class cls)
{
	switch (cls) {
	case HOST_KVM_HARDWARE: return "hardware-kvm";
	case HOST_KVM_PVM: return "pvm";
	case HOST_KVM_ABSENT: return "no-kvm";
	case HOST_KVM_NO_ACCESS: return "kvm-no-access";
	case HOST_KVM_UNUSABLE: return "kvm-unusable";
	}
	return "unknown";
}

void hostcheck_classify(const char *sysfs_root, const char *dev_kvm, struct host_kvm_info *info)
{
	char path[512];
	struct stat st;

	memset(info, 0, sizeof(*info));
	if (stat(dev_kvm, &st) < 0) {
		info->cls = HOST_KVM_ABSENT;
		snprintf(info->reason, sizeof(info->reason),
			 "%s does not exist: no KVM module is loaded or the CPU has no virtualization", dev_kvm);
		return;
	}
	/* PVM runs guest kernel code by emulation and fails on stock kernels
	 * (cmpxchg16b, xrstor, int3 self-tests): it can only be recognised by name. */
	snprintf(path, sizeof(path), "%s/module/kvm_pvm", sysfs_root);
	if (stat(path, &st) == 0) {
		info->cls = HOST_KVM_PVM;
		snprintf(info->reason, sizeof(info->reason),
			 "%s is PVM (module kvm_pvm), a KVM without hardware virtualization that cannot run stock kernels",
			 dev_kvm);
		return;
	}
	int fd = open(dev_kvm, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		info->cls = e == EACCES || e == EPERM ? HOST_KVM_NO_ACCESS : HOST_KVM_UNUSABLE;
		snprintf(info->reason, sizeof(info->reason), "cannot open %s: %s%s", dev_kvm, strerror(e),
			 info->cls == HOST_KVM_NO_ACCESS ? " (add the user to the kvm group)" : "");
		return;
	}
	int api = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (api != KVM_API_VERSION) {
		info->cls = HOST_KVM_UNUSABLE;
		snprintf(info->reason, sizeof(info->reason), "%s speaks KVM API %d, need %d", dev_kvm, api,
			 KVM_API_VERSION);
		return;
	}
	info->cls = HOST_KVM_HARDWARE;
	snprintf(info->reason, sizeof(info->reason), "%s is a hardware-assisted KVM", dev_kvm);
}
