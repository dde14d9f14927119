#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vireo-connect through a real vireod on a private session bus, under Xvfb.

    run-viewer-vireod.py --viewer PATH --vireod PATH --emuhost PATH [--out DIR]

The VM is made with vireod's CreateMachine and stays off (no guest, no
worker): what is checked is what the viewer takes from vireod.

  1. vireod runs its VMs inside an emulated host (VIREO_HOST_PATH=emulated,
     QEMU installed, vireo-emuhost beside): vireod says EmulatedHost true
     and the title is "NAME - Off - Vireo (emulated host: slow)";
  2. vireod goes away: the title says Unknown, with no stale tag;
  3. vireod comes back running VMs natively (VIREO_HOST_PATH=native): the
     same viewer, never restarted, shows "NAME - Off - Vireo".
Exit status 0 when all of it held.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from viewerlib import TestError, Viewer, main_under_xvfb, say  # noqa: E402

VM = "title-vm"
BUS_NAME = "org.vireo.Vireo1"
# How long vireod may take to take its name, and a title to follow it.
VIREOD_TIMEOUT_S = 30
TITLE_TIMEOUT_S = 30


class SessionBus:
    """A dbus-daemon of the test's own: its address on a pipe."""

    def __init__(self):
        if not shutil.which("dbus-daemon"):
            raise TestError("dbus-daemon is not installed (Debian package dbus-daemon, scripts/setup-debian.sh)")
        r, w = os.pipe()
        self.proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", f"--print-address={w}"],
                                     pass_fds=(w,), stdout=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as f:
            self.address = f.readline().strip()
        if not self.address:
            self.stop()
            raise TestError("dbus-daemon did not say its address")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def gdbus(env, *args):
    p = subprocess.run(["gdbus", "call", "--session", "--dest", BUS_NAME] + list(args), env=env,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise TestError(f"gdbus call {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout.strip()


def name_owned(env):
    p = subprocess.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus", "--object-path",
                        "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.NameHasOwner", BUS_NAME],
                       env=env, capture_output=True, text=True, timeout=60)
    return p.returncode == 0 and "true" in p.stdout


class Vireod:
    def __init__(self, exe, env, host_path, log):
        self.env = dict(env, VIREO_HOST_PATH=host_path)
        self.logf = open(log, "ab")
        self.proc = subprocess.Popen([exe], env=self.env, stdout=self.logf, stderr=subprocess.STDOUT)
        end = time.monotonic() + VIREOD_TIMEOUT_S
        while not name_owned(env):
            if self.proc.poll() is not None:
                raise TestError(f"vireod ended (status {self.proc.returncode}); its log: {log}")
            if time.monotonic() > end:
                raise TestError(f"vireod did not take {BUS_NAME} within {VIREOD_TIMEOUT_S} s")
            time.sleep(0.1)
        say(f"vireod up (VIREO_HOST_PATH={host_path})")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.logf.close()


def emulated_host(env, path):
    out = gdbus(env, "--object-path", path, "--method", "org.freedesktop.DBus.Properties.Get",
                "org.vireo.Vireo1.Machine", "EmulatedHost")
    return "true" in out


def run(args, x, out):
    if not shutil.which("qemu-system-x86_64"):
        raise TestError("qemu-system-x86_64 is not installed (Debian package qemu-system-x86): vireod cannot "
                        "run VMs inside an emulated host")
    home = os.path.join(out, "home")
    shutil.rmtree(home, ignore_errors=True)
    dirs = {k: os.path.join(home, k.lower()) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR")}
    for d in dirs.values():
        os.makedirs(d, mode=0o700)
    bus = SessionBus()
    # The X server's environment is the viewer's: it gets the bus too.
    x.env.update(DBUS_SESSION_BUS_ADDRESS=bus.address, VIREO_EMUHOST=os.path.abspath(args.emuhost), **dirs)
    env = x.env
    log = os.path.join(out, "vireod.log")
    vd, v = None, None
    try:
        vd = Vireod(args.vireod, env, "emulated", log)
        reply = gdbus(env, "--object-path", "/org/vireo/Vireo1", "--method",
                      "org.vireo.Vireo1.Manager.CreateMachine", f"{{'Name': <'{VM}'>}}")
        m = re.search(r"'(/[^']+)'", reply)
        if not m:
            raise TestError(f"CreateMachine answered {reply}")
        path = m.group(1)
        if not emulated_host(env, path):
            raise TestError(f"VIREO_HOST_PATH=emulated, but vireod says EmulatedHost false for {path}")
        v = Viewer(x, [args.viewer, "--verbose", VM])
        v.wait(r"vireod state Off", TITLE_TIMEOUT_S)
        t = v.wait_title(rf"^{VM} - Off - Vireo \(emulated host: slow\)$", TITLE_TIMEOUT_S)
        v.screenshot(os.path.join(out, "window-emulated.png"))
        say(f"emulated host: the title is '{t}'")

        vd.stop()
        vd = None
        t = v.wait_title(rf"^{VM} - Unknown - Vireo$", TITLE_TIMEOUT_S)
        say(f"vireod gone: the title is '{t}'")

        vd = Vireod(args.vireod, env, "native", log)
        if emulated_host(env, path):
            raise TestError(f"VIREO_HOST_PATH=native, but vireod says EmulatedHost true for {path}")
        t = v.wait_title(rf"^{VM} - Off - Vireo$", TITLE_TIMEOUT_S)
        say(f"native: the title is '{t}'")
        if not v.alive():
            raise TestError("the viewer ended")
    finally:
        rc = v.close() if v else 0
        if vd:
            vd.stop()
        bus.stop()
    if rc != 0:
        raise TestError(f"closing the window ended the viewer with status {rc}")
    say("PASSED")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--viewer", required=True)
    ap.add_argument("--vireod", required=True)
    ap.add_argument("--emuhost", required=True, help="vireo-emuhost (vireod needs one to run VMs emulated)")
    ap.add_argument("--out", help="keep screenshots and vireod's log here (default: a temporary folder)")
    return main_under_xvfb(ap.parse_args(), "viewer-vireod-", run)


if __name__ == "__main__":
    sys.exit(main())
