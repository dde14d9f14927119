#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vireo-connect under Xvfb on a real guest (tiers 2 and 3 together).

    run-viewer-guest.py --fixtures DIR --worker PATH --ctl PATH --viewer PATH
        --forwarder PATH [--path auto|direct|nested] [--out DIR] [--timeout S]

The worker boots the stock Debian kernel with scenarios/viewer.sh, which
draws vireo-fbtool's pattern and reports its keyboard's events live; the
viewer runs here, under Xvfb, on the worker's console socket. On the
nested path (no hardware KVM here) the worker runs inside L1 and its
console and control sockets are forwarded to this host (nested-host.py
Forwarder, one virtio-serial port each); the viewer asks for the pixels
inline, since no memfd crosses. The job runs the worker twice, with the
patterns 23 and 41. What must happen:

  1. the window shows the guest's pattern exactly (a screenshot of it);
  2. keys typed into the window (xdotool, after a click grabbed the
     keyboard) arrive in the guest as those keys;
  3. turning the worker off shows "Off" (title and message), the viewer
     alive; the second worker's guest is found again and its pattern shown;
  4. closing the viewer ends it with status 0.
"""

import argparse
import os
import runpy
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.join(HERE, "..", "guest")
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, GUEST)
from viewerlib import KEY, LineQueue, TestError, Viewer, main_under_xvfb, say, wait_picture  # noqa: E402
from fixturelib import L1_CRASHED, L2CrashWatch, choose_kvm_path, run_main, stop_process_group, stream_lines  # noqa: E402

W, H = 1024, 768
SEEDS = (23, 41)
NESTED = []     # the nested host of this run: did its kernel crash?


def load_nested_host():
    # nested-host.py is a program (its name has a dash): its functions as a namespace.
    return types.SimpleNamespace(**runpy.run_path(os.path.join(GUEST, "nested-host.py"), run_name="nested_host"))


class Console(LineQueue):
    """The guest's (and L1's) console lines; a VIREO-FAIL line fails the wait."""

    def __init__(self):
        super().__init__("console", fail=r"VIREO-FAIL")

    def feed(self, text):
        text = text.replace("\r", "")
        if "VIREO-" in text:
            print(f"  [console] {text.strip()}", flush=True)
        self.put(text)


def worker_argv(worker, kernel, initrd, console, control, seed):
    cmdline = f"console=ttyS0 quiet panic=-1 vireo.scenario=viewer vireo.seed={seed}"
    return [worker, "--kernel", kernel, "--initrd", initrd, "--cmdline", cmdline, "--memory", "512M",
            "--cpus", "1", "--serial", "stdio", "--console", console, "--control", control]


class NestedHost:
    """The worker twice in L1, its sockets forwarded to here."""

    def __init__(self, args, con, run_dir):
        self.nh = load_nested_host()
        self.con = con
        self.console = os.path.join(run_dir, "console.sock")
        self.control = os.path.join(run_dir, "control.sock")
        kernel = os.path.join(args.fixtures, "vmlinuz")
        initrd = os.path.join(args.fixtures, "guest.cpio.gz")
        wk = "/vireo/bin/" + os.path.basename(args.worker)
        runs = []
        for seed in SEEDS:
            argv = worker_argv(wk, "/vireo/guest/vmlinuz", "/vireo/guest/guest.cpio.gz", "/tmp/console",
                               "/tmp/control", seed)
            runs += [f"rm -f /tmp/console /tmp/control",
                     f"echo VIREO-VIEWER-WORKER-START seed={seed}",
                     " ".join(shlex.quote(a) for a in argv) + " < /dev/null 2>&1",
                     f'echo "VIREO-VIEWER-WORKER-EXIT seed={seed} rc=$?"']
        self.job = "#!/bin/sh\n" + "\n".join(runs) + "\n"
        self.forwards = [self.nh.Forwarder("console", "/tmp/console", self.console),
                         self.nh.Forwarder("control", "/tmp/control", self.control)]
        carry = self.nh.expand_carry([f"{args.worker}:{wk}", f"{args.forwarder}:/vireo/bin/vireo-l1-forward"],
                                     [f"{kernel}:/vireo/guest/vmlinuz", f"{initrd}:/vireo/guest/guest.cpio.gz"])
        self.initrd = self.nh.build_l1_initramfs(args.fixtures, carry, self.job, self.forwards)
        self.args = args
        self.res = None
        self.crash_watch = L2CrashWatch("viewer-guest", at_start=True)

    def start(self):
        def run():
            try:
                self.res = self.nh.run_l1(self.args.fixtures, self.initrd, self.args.timeout, log=self.args.log,
                                          on_line=lambda text, t: (self.con.feed(text),
                                                                   self.crash_watch.on_line(text)), echo=False,
                                          forwards=self.forwards)
            finally:
                os.unlink(self.initrd)
                self.con.end("the host ended")
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        # The forwarded sockets exist once QEMU runs.
        end = time.monotonic() + 60
        while not os.path.exists(self.console) and time.monotonic() < end and self.thread.is_alive():
            time.sleep(0.1)
        if not os.path.exists(self.console):
            raise TestError("the forwarded console socket never appeared")

    def finish(self, timeout):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TestError("L1 did not end")
        if self.res is None or self.res.job_rc is None:
            raise TestError("L1 ended without the job's status")


class DirectHost:
    """The worker twice on this host's /dev/kvm."""

    def __init__(self, args, con, run_dir):
        self.args, self.con = args, con
        self.console = os.path.join(run_dir, "console.sock")
        self.control = os.path.join(run_dir, "control.sock")

    def start(self):
        kernel = os.path.join(self.args.fixtures, "vmlinuz")
        initrd = os.path.join(self.args.fixtures, "guest.cpio.gz")

        def run():
            deadline = time.monotonic() + self.args.timeout
            for seed in SEEDS:
                for p in (self.console, self.control):
                    if os.path.exists(p):
                        os.unlink(p)
                self.con.feed(f"VIREO-VIEWER-WORKER-START seed={seed}")
                proc = subprocess.Popen(worker_argv(self.args.worker, kernel, initrd, self.console, self.control,
                                                    seed), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
                try:
                    stream_lines(proc, deadline, self.con.feed)
                finally:
                    stop_process_group(proc)
                self.con.feed(f"VIREO-VIEWER-WORKER-EXIT seed={seed} rc={proc.returncode}")
            self.con.end("the host ended")
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def finish(self, timeout):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TestError("the worker did not end")


def ctl(args, sock, command):
    p = subprocess.run([args.ctl, sock, command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode(errors="replace").strip()
    say(f"control {command}: {out}")
    return out


def guest_keys(con, want, timeout):
    """The guest's next keyboard frames are exactly want [(code, value)]."""
    got = []
    while len(got) < len(want):
        m = con.wait(r"VIREO-EV ev key\.(\d+)=([01])$", timeout)
        got.append((int(m.group(1)), int(m.group(2))))
    if got != want:
        raise TestError(f"the guest's keyboard reported {got}, the viewer was typed {want}")


def run(args, x, out):
    if not args.no_build_fixtures:
        p = subprocess.run([sys.executable, os.path.join(GUEST, "build-fixtures.py"), args.fixtures]
                           + [a for t in args.guest_tool for a in ("--guest-tool", t)])
        if p.returncode != 0:
            raise TestError("the guest fixtures could not be built")
    con = Console()
    path, why = choose_kvm_path(args.path)
    say(f"{'nested test host' if path == 'nested' else '/dev/kvm directly'} ({why})")
    run_dir = tempfile.mkdtemp(prefix="vireo-viewer-run-")
    host = NestedHost(args, con, run_dir) if path == "nested" else DirectHost(args, con, run_dir)
    if path == "nested":
        NESTED.append(host)
    host.start()
    # Started before any worker listens: it waits, and finds each worker by itself.
    argv = [args.viewer, "--socket", host.console, "--verbose", "--zoom", "100"]
    if path == "nested":
        argv.append("--inline")
    v = Viewer(x, argv)
    try:
        for n, seed in enumerate(SEEDS):
            con.wait(r"VIREO-EV ready ", 240)
            con.wait(rf"VIREO-READY viewer seed={seed}", 60)
            v.wait(rf"surface {W}x{H} ", 120)
            # 1. the picture: the guest drew before it said READY
            wait_picture(v, out, f"guest-{seed}", seed, W, H, timeout=120)
            v.wait_title(r" - Running - Vireo$", 30)
            say(f"the window shows the guest's pattern {seed} exactly")
            # 2. keys into the guest
            px, py = v.view[0], v.view[1]
            v.focus()
            v.click(px + 200, py + 100)
            v.wait(r"grab on", 20)
            v.keys("a", "b", "c")
            guest_keys(con, [(KEY["a"], 1), (KEY["a"], 0), (KEY["b"], 1), (KEY["b"], 0),
                             (KEY["c"], 1), (KEY["c"], 0)], 60)
            say("keys typed into the window arrived in the guest")
            # 3. the worker goes: the viewer shows it, then finds the next one
            ctl(args, host.control, "turn-off")
            con.wait(rf"VIREO-VIEWER-WORKER-EXIT seed={seed} ", 60)
            v.wait(r"disconnected: ", 60)
            v.wait_title(r" - Off - Vireo$", 30)
            v.wait(r"message The virtual machine is off", 30)
            if not v.alive():
                raise TestError("the viewer died with the worker")
            v.screenshot(os.path.join(out, f"window-off-{seed}.png"))
            say("the worker's end shows as Off" + (", waiting for the next one" if n == 0 else ""))
    except Exception:
        # Every worker off, so that the host ends: the failure stays the one reported.
        v.close()
        for _ in SEEDS:
            if os.path.exists(host.control):
                try:
                    ctl(args, host.control, "turn-off")
                except (OSError, subprocess.TimeoutExpired):
                    pass
            time.sleep(3)
        try:
            host.finish(60)
        except TestError as e:
            say(f"(after the failure: {e})")
        raise
    rc = v.close()
    host.finish(120)
    if rc != 0:
        raise TestError(f"the viewer ended with status {rc}")
    say("PASSED")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--worker", required=True)
    ap.add_argument("--ctl", required=True, help="vireo-worker-ctl")
    ap.add_argument("--viewer", required=True)
    ap.add_argument("--forwarder", required=True, help="vireo-l1-forward")
    ap.add_argument("--path", choices=["auto", "direct", "nested"], default=os.environ.get("VIREO_GUEST_PATH", "auto"))
    ap.add_argument("--out", help="screenshots (default: a temporary folder)")
    ap.add_argument("--log", help="L1's console log")
    ap.add_argument("--timeout", type=float, default=500)
    ap.add_argument("--guest-tool", action="append", default=[], metavar="PATH",
                    help="passed to build-fixtures.py (the guest's vireo-fbtool and vireo-evdump)")
    ap.add_argument("--no-build-fixtures", action="store_true")
    args = ap.parse_args()
    args.fixtures = os.path.abspath(args.fixtures)
    rc = main_under_xvfb(args, "viewer-guest-", run)
    crashed = [h.res for h in NESTED if h.res is not None and h.res.l1_crashed]
    if rc != 0 and crashed:
        say(crashed[0].crash_report())
        return L1_CRASHED
    return NESTED[0].crash_watch.verdict(rc) if NESTED else rc


if __name__ == "__main__":
    run_main("viewer-guest", main)
