#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot benchmark: vireo-worker against qemu-system-x86_64 -M microvm.

    boot-bench.py --fixtures DIR --worker PATH --bench-run PATH [--rounds N]
                  [--path auto|direct|nested] [--cpus 2] [--memory 512M]

Both VMMs boot the same kernel (bzImage) and initramfs with the same command
line (the "boot" scenario, quiet) and the same vCPUs and RAM, alternated
ours/peer in one run, on the same KVM: /dev/kvm when it is a hardware KVM,
else the nested test host (one L1 boot for all rounds). bench-run measures
each run alike (see bench-run.c). QEMU's first-KVM_RUN time comes from its
kvm_run_exit trace, which costs it time per exit, so that metric is taken
from separate traced peer runs and the other metrics from untraced ones.
Prints "metric ours peer ratio" lines (ratio = ours / peer, medians).
"""

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.join(os.path.dirname(HERE), "guest")
sys.path.insert(0, GUEST)
from fixturelib import choose_kvm_path, qemu_microvm_args, qemu_microvm_carry  # noqa: E402

CMDLINE = "console=ttyS0 quiet vireo.scenario=boot"



def job_script(a, worker, bench_run, qemu, kernel, initrd):
    common = f"--kernel {kernel} --initrd {initrd} --memory {a.memory} --cpus {a.cpus}"
    ours = (f"{bench_run} --label ours -- {worker} {common} --cmdline {shlex.quote(CMDLINE)} "
            f"--serial stdio --timing")
    peer_args = qemu_microvm_args(a.memory, a.cpus, kernel, initrd, CMDLINE, "stdio")
    peer = f"{bench_run} --label peer -- {qemu} {peer_args}"
    peer_traced = f"{bench_run} --label peer-traced -- {qemu} {peer_args} -msg timestamp=on -trace kvm_run_exit"
    lines = ["set -u", f"for r in $(seq {a.rounds}); do", f"  {ours}", f"  {peer}", f"  {peer_traced}", "done"]
    return "\n".join(lines) + "\n"


def parse(output):
    runs = {}
    for line in output.splitlines():
        if not line.startswith("bench "):
            continue
        parts = line.split()
        label = parts[1]
        kv = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
        runs.setdefault(label, []).append({k: float(v) for k, v in kv.items()})
    return runs


def median(runs, key):
    vals = [r[key] for r in runs if r.get(key, -1) >= 0]
    return statistics.median(vals) if vals else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--worker", required=True)
    ap.add_argument("--bench-run", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--path", choices=["auto", "direct", "nested"], default="auto")
    a = ap.parse_args()

    subprocess.run([sys.executable, os.path.join(GUEST, "build-fixtures.py"), a.fixtures], check=True)
    kernel = os.path.join(a.fixtures, "vmlinuz")
    initrd = os.path.join(a.fixtures, "guest.cpio.gz")
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        sys.exit("bench: qemu-system-x86_64 not found (Debian package qemu-system-x86)")
    path, why = choose_kvm_path(a.path)
    print(f"bench: using {'the nested test host' if path == 'nested' else '/dev/kvm directly'} ({why}); "
          f"{a.rounds} rounds, ours/peer alternated", flush=True)

    if path == "direct":
        script = job_script(a, a.worker, a.bench_run, qemu, kernel, initrd)
        proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
        out = proc.stdout
        sys.stderr.write(proc.stderr[-4000:] if proc.returncode else "")
    else:
        script = job_script(a, "/vireo/bin/vireo-worker", "/vireo/bin/bench-run",
                            "/vireo/bin/qemu-system-x86_64", "/vireo/vmlinuz", "/vireo/guest.cpio.gz")
        cmd = [sys.executable, os.path.join(GUEST, "nested-host.py"), "--fixtures", a.fixtures,
               "--exe", a.worker, "--exe", a.bench_run, "--exe", qemu,
               "--file", kernel, "--file", initrd, "--command", script,
               "--timeout", str(120 + 90 * a.rounds), "--l1-cpus", "1"] + qemu_microvm_carry()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        out = proc.stdout
        if proc.returncode:
            sys.stderr.write(out[-6000:] + proc.stderr[-2000:])
            sys.exit(f"bench: the nested test host failed (status {proc.returncode})")

    runs = parse(out)
    ours, peer, traced = runs.get("ours", []), runs.get("peer", []), runs.get("peer-traced", [])
    bad = [r for r in ours + peer + traced if r.get("exit") != 0 or r.get("marker_s", -1) < 0]
    if len(ours) != a.rounds or len(peer) != a.rounds or bad:
        sys.stderr.write(out[-6000:])
        sys.exit(f"bench: expected {a.rounds} clean runs of each, got ours={len(ours)} peer={len(peer)} "
                 f"with {len(bad)} failed (no marker or non-zero exit)")

    rows = [
        ("boot_to_first_kvm_run_s", median(ours, "first_run_s"), median(traced, "first_run_s")),
        ("boot_to_guest_init_s", median(ours, "marker_s"), median(peer, "marker_s")),
        ("boot_to_poweroff_wall_s", median(ours, "wall_s"), median(peer, "wall_s")),
        ("boot_to_poweroff_cpu_s", median(ours, "cpu_s"), median(peer, "cpu_s")),
        ("vmm_overhead_rss_kib", median(ours, "overhead_kb"), median(peer, "overhead_kb")),
    ]
    print("metric ours peer ratio")
    for name, o, p in rows:
        if o is None or p is None or p == 0:
            print(f"{name} {o} {p} n/a")
        else:
            print(f"{name} {o:.3f} {p:.3f} {o / p:.2f}")


if __name__ == "__main__":
    main()
