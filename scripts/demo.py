#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot the demo VM with its console on this terminal.

    demo.py --fixtures DIR --worker PATH [--cpus 2] [--memory 512M] [--path auto|direct|nested]

On a hardware KVM the worker runs here. Where /dev/kvm cannot run a stock
kernel (PVM) or is missing, it runs inside the nested test host: QEMU with
emulated AMD-V boots a small Linux host whose kvm-amd the worker uses. In
that case QEMU's own escape key is Ctrl-] (Ctrl-] x ends QEMU), so that
Ctrl-A reaches the worker (Ctrl-A p power button, Ctrl-A x turn off).
"""

import argparse
import importlib.util
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUEST = os.path.join(ROOT, "tests", "guest")
sys.path.insert(0, GUEST)
from fixturelib import choose_kvm_path  # noqa: E402
CMDLINE = "console=ttyS0 quiet vireo.scenario=demo vireo.quiet=1"


def load_nested_host():
    spec = importlib.util.spec_from_file_location("nested_host", os.path.join(GUEST, "nested-host.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--worker", required=True)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--path", choices=["auto", "direct", "nested"], default="auto")
    a = ap.parse_args()

    subprocess.run([sys.executable, os.path.join(GUEST, "build-fixtures.py"), a.fixtures], check=True)
    kernel = os.path.join(a.fixtures, "vmlinuz")
    initrd = os.path.join(a.fixtures, "guest.cpio.gz")
    path, why = choose_kvm_path(a.path)
    worker_args = ["--kernel", kernel, "--initrd", initrd, "--cmdline", CMDLINE, "--memory", a.memory,
                   "--cpus", str(a.cpus), "--serial", "stdio", "--name", "demo"]
    if path == "direct":
        print(f"demo: running the demo VM on /dev/kvm ({why}). Ctrl-A x turns it off.", flush=True)
        os.execv(a.worker, [a.worker] + worker_args)

    print(f"demo: {why}.\ndemo: running the demo VM inside the nested test host (emulated AMD-V, slow: "
          f"about a minute to the shell). Ctrl-A p: power button, Ctrl-A x: turn off, Ctrl-] x: end QEMU.",
          flush=True)
    nh = load_nested_host()
    carry = nh.expand_carry([a.worker], [kernel, initrd])
    l1_args = ["--kernel", "/vireo/vmlinuz", "--initrd", "/vireo/guest.cpio.gz", "--cmdline", CMDLINE,
               "--memory", a.memory, "--cpus", str(a.cpus), "--serial", "stdio", "--name", "demo"]
    # cttyhack gives the worker the console as its terminal, so it can take raw keystrokes.
    job = "#!/bin/sh\nsetsid cttyhack /vireo/bin/vireo-worker " + " ".join(shlex.quote(x) for x in l1_args) + "\n"
    initramfs = nh.build_l1_initramfs(os.path.abspath(a.fixtures), carry, job)
    cmd = ["qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-cpu", "EPYC,+svm,+npt", "-m", "3072",
           "-smp", "1", "-nographic", "-echr", "0x1d", "-nic", "none", "-vga", "none", "-no-reboot",
           "-kernel", kernel, "-initrd", initramfs, "-append", nh.L1_CMDLINE]
    try:
        rc = subprocess.call(cmd)
    finally:
        os.unlink(initramfs)
    sys.exit(rc)


if __name__ == "__main__":
    main()
