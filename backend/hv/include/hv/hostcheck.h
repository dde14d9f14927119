/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Can this host run a stock Linux guest on its /dev/kvm? */
#pragma once

enum host_kvm_class {
	HOST_KVM_HARDWARE,     /* a hardware-assisted KVM: stock guests run */
	HOST_KVM_PVM,          /* PVM: runs small real-mode code, not stock kernels */
	HOST_KVM_ABSENT,       /* no /dev/kvm */
	HOST_KVM_NO_ACCESS,    /* /dev/kvm exists, this user may not open it */
	HOST_KVM_UNUSABLE,     /* opens, but the API is too old or lacks what we need */
};

struct host_kvm_info {
	enum host_kvm_class cls;
	char reason[256];
};

/* sysfs_root is "/sys" except in tests; dev_kvm is "/dev/kvm" except in tests. */
void hostcheck_classify(const char *sysfs_root, const char *dev_kvm, struct host_kvm_info *info);
const char *hostcheck_class_name(enum host_kvm_class cls);
