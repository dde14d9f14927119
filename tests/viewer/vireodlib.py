# SPDX-License-Identifier: GPL-2.0-or-later
"""A private session bus and a real vireod on it, for the viewer's tests."""

import os
import re
import shutil
import subprocess
import time

from viewerlib import TestError, say

BUS_NAME = "org.vireo.Vireo1"
MANAGER_PATH = "/org/vireo/Vireo1"
# How long vireod may take to take its name.
VIREOD_TIMEOUT_S = 30


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
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


def create_machine(env, spec):
    """CreateMachine with a GVariant a{sv} text: the new VM's object path."""
    reply = gdbus(env, "--object-path", MANAGER_PATH, "--method", "org.vireo.Vireo1.Manager.CreateMachine", spec)
    m = re.search(r"'(/[^']+)'", reply)
    if not m:
        raise TestError(f"CreateMachine answered {reply}")
    return m.group(1)


def machine_property(env, path, name):
    """A VM's property, as gdbus prints it (strings quoted)."""
    return gdbus(env, "--object-path", path, "--method", "org.freedesktop.DBus.Properties.Get",
                 "org.vireo.Vireo1.Machine", name)


def machine_string(env, path, name):
    """A VM's string property (gdbus prints it as (<'text'>,))."""
    out = machine_property(env, path, name)
    m = re.fullmatch(r"\(<'(.*)'>,\)", out)
    if not m:
        raise TestError(f"{name} of {path}: gdbus printed {out}")
    return m.group(1)


def emulated_host(env, path):
    return "true" in machine_property(env, path, "EmulatedHost")


def turn_off(env, path, timeout=60):
    """A VM that may still run, off: vireod leaves running VMs running when
    it stops, and a test must not leave its worker (or QEMU) behind."""
    try:
        if machine_string(env, path, "State") in ("Off", "Saved", "Failed"):
            return
        gdbus(env, "--object-path", path, "--method", "org.vireo.Vireo1.Machine.TurnOff")
        end = time.monotonic() + timeout
        while machine_string(env, path, "State") != "Off" and time.monotonic() < end:
            time.sleep(0.2)
    except (TestError, subprocess.TimeoutExpired) as e:
        say(f"(turning {path} off after the test: {e})")


def close_all(v, vd, bus, env=None, paths=()):
    """The viewer closed as a desktop would, the VMs at paths turned off,
    then vireod and the bus: the viewer's exit status (0 when there was none)."""
    rc = v.close() if v else 0
    if vd:
        for p in paths:
            turn_off(env, p)
        vd.stop()
    bus.stop()
    return rc
