#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The README's run command on a desktop, under Xvfb: scripts/demo-manager.sh
(what scripts/run-demo.sh runs when there is a display) opens the
manager's window with the demo VM running.

    run-demo-manager.py --build DIR --cache DIR [--out DIR]

With a session bus of the test's own and no vireod on it, the script must
start vireod, create the VM "demo" (512 MiB, 2 vCPUs, the demo guest),
start it and open the manager. Checked: the VM reaches Running and its
guest answers (heartbeat, and the host name its KVP daemon reports), its
CPU use shows, the manager's window is on the screen
(OUT/demo-manager.png), "vireoctl connect demo" opens its console window,
and a second
run of the command with the VM running starts nothing and makes no second
VM. On a host whose KVM cannot run stock guests the VM runs inside the
emulated host (DIR --cache: its image, kept in the build folder).
Exit status 0 when all of it held.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "viewer"))
from viewerlib import TestError, main_under_xvfb, say  # noqa: E402
from vireodlib import BUS_NAME, SessionBus, name_owned  # noqa: E402

# The first start may build the emulated host's image; then a boot of the
# demo guest takes seconds (natively) to a minute (emulated).
START_TIMEOUT_S = 900
SETUP_TIMEOUT_S = 300
GUEST_TIMEOUT_S = 180
# The manager's session: X11 GTK without GL, English strings, no settings kept.
GTK_ENV = {"GDK_BACKEND": "x11", "GSK_RENDERER": "cairo", "GDK_DEBUG": "gl-disable,vulkan-disable",
           "NO_AT_BRIDGE": "1", "LC_ALL": "C.UTF-8", "LANGUAGE": "C", "GSETTINGS_BACKEND": "memory"}


def vireoctl(args, env, *argv, timeout=60):
    p = subprocess.run([os.path.join(args.build, "backend", "cli", "vireoctl")] + list(argv), env=env,
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def show(args, env):
    rc, out, err = vireoctl(args, env, "show", "demo", "--json")
    if rc != 0:
        raise TestError(f"vireoctl show demo: {err.strip()}")
    return json.loads(out)


def wait_guest(args, env):
    end = time.monotonic() + GUEST_TIMEOUT_S
    while True:
        vm = show(args, env)
        if vm["heartbeat"] == "ok" and vm["guest_hostname"] == "vireo-demo.vireo.test":
            return vm
        if vm["state"] != "Running":
            raise TestError(f"the demo VM is {vm['state']}: {vm['state_reason']}")
        if time.monotonic() > end:
            raise TestError(f"the demo guest did not answer within {GUEST_TIMEOUT_S} s: heartbeat "
                            f"{vm['heartbeat']!r}, host name {vm['guest_hostname']!r}")
        time.sleep(1)


def vireod_pid(env):
    """Who owns vireod's name on the bus: the script started it, the test stops it."""
    p = subprocess.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus", "--object-path",
                        "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.GetConnectionUnixProcessID",
                        BUS_NAME], env=env, capture_output=True, text=True, timeout=30)
    out = p.stdout.strip()
    return int(out.strip("(),").split()[-1]) if p.returncode == 0 and out else None


def windows(x):
    return x.run("xdotool", "search", "--onlyvisible", "--name", "^Vireo$", check=False).split()


def run(args, x, out):
    bus = SessionBus()
    home = os.path.join(out, "home")
    shutil.rmtree(home, ignore_errors=True)
    runtime = tempfile.mkdtemp(prefix="vireo-demo-manager-")
    env = dict(x.env, DBUS_SESSION_BUS_ADDRESS=bus.address, XDG_CONFIG_HOME=os.path.join(home, "config"),
               XDG_DATA_HOME=os.path.join(home, "data"), XDG_RUNTIME_DIR=runtime,
               XDG_CACHE_HOME=os.path.abspath(args.cache), **GTK_ENV)
    script = os.path.join(ROOT, "scripts", "demo-manager.sh")
    app, app2, pid = None, None, None
    try:
        say(f"{script} {args.build}")
        app = subprocess.Popen(["bash", script, args.build], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        # The script fetches the demo guest's files (cached), starts vireod, then makes the VM.
        end = time.monotonic() + SETUP_TIMEOUT_S
        while not (name_owned(env) and vireoctl(args, env, "show", "demo")[0] == 0):
            if app.poll() is not None:
                raise TestError(f"the script ended (status {app.returncode}): {app.stdout.read().strip()}")
            if time.monotonic() > end:
                raise TestError(f"no VM \"demo\" on the bus {SETUP_TIMEOUT_S} s after the script started")
            time.sleep(0.5)
        pid = vireod_pid(env)
        rc, o, e = vireoctl(args, env, "wait", "demo", "Running", "--timeout", str(START_TIMEOUT_S),
                            timeout=START_TIMEOUT_S + 60)
        if rc != 0:
            raise TestError(f"the demo VM did not run: {(o + e).strip()}")
        vm = wait_guest(args, env)
        say(f"the demo VM runs: {vm['memory_mib']} MiB, {vm['cpus']} vCPUs, heartbeat {vm['heartbeat']}, "
            f"guest {vm['guest_hostname']} ({vm['guest_os']}), emulated host: {vm['emulated_host']}")
        if (vm["memory_mib"], vm["cpus"], vm["boot_source"]) != (512, 2, "demo"):
            raise TestError(f"the demo VM is {vm['memory_mib']} MiB, {vm['cpus']} vCPUs, boot {vm['boot_source']}")
        end = time.monotonic() + 60
        while not (ids := windows(x)) and time.monotonic() < end:
            time.sleep(0.5)
        if not ids:
            raise TestError("no window named Vireo on the screen")
        if app.poll() is not None:
            raise TestError(f"the manager ended (status {app.returncode}): {app.stdout.read()}")
        time.sleep(2)   # the list's thumbnail and numbers come in
        x.run("import", "-window", ids[0], "-depth", "8", "png24:" + os.path.join(out, "demo-manager.png"))
        say(f"the manager's window is up: {os.path.join(out, 'demo-manager.png')}")

        # The VM's CPU use shows once vireod has two samples of it.
        end = time.monotonic() + 30
        while show(args, env)["cpu_usage_percent"] <= 0 and time.monotonic() < end:
            time.sleep(1)
        if show(args, env)["cpu_usage_percent"] <= 0:
            raise TestError("the running demo VM shows no CPU use after 30 s")

        # vireoctl connect: the console window, by the VM's name through vireod.
        viewer = subprocess.Popen([os.path.join(args.build, "backend", "cli", "vireoctl"), "connect", "demo"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            want = "demo - Running - Vireo"
            end = time.monotonic() + 60
            title = ""
            while want not in title and time.monotonic() < end:
                ids = x.run("xdotool", "search", "--onlyvisible", "--class", "vireo-connect", check=False).split()
                title = x.run("xprop", "-id", ids[0], "_NET_WM_NAME", check=False) if ids else ""
                time.sleep(0.5)
            if want not in title:
                raise TestError(f"vireoctl connect demo: no window titled '{want}' ({title.strip() or 'none'})")
            say(f"vireoctl connect opened the console window: {title.split('=', 1)[-1].strip()}")
        finally:
            viewer.terminate()
            viewer.wait(15)

        # Again, as a person would run it a second time: the same window
        # comes forward (the manager is a unique application), one VM, still running.
        app2 = subprocess.run(["bash", script, args.build], env=env, capture_output=True, text=True, timeout=120)
        if app2.returncode != 0 or len(windows(x)) != 1:
            raise TestError(f"a second run of the command ended {app2.returncode} with {len(windows(x))} "
                            f"windows: {(app2.stdout + app2.stderr).strip()}")
        rc, o, _ = vireoctl(args, env, "list", "--json")
        vms = json.loads(o)
        if len(vms) != 1 or vms[0]["state"] != "Running" or vms[0]["uptime_s"] < vm["uptime_s"]:
            raise TestError(f"after a second run of the command: {o.strip()}")
        if "starting the VM" in app2.stdout:
            raise TestError(f"a second run started the running VM again: {app2.stdout.strip()}")
        say("a second run of the command changed nothing")
    finally:
        if app and app.poll() is None:
            app.terminate()
            try:
                app.wait(15)
            except subprocess.TimeoutExpired:
                app.kill()
        try:
            vireoctl(args, env, "stop", "demo", "--force", timeout=120)
        except subprocess.TimeoutExpired:
            say("(vireoctl stop demo --force did not return in 120 s)")
        if pid:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        bus.stop()
        shutil.rmtree(runtime, ignore_errors=True)
    say("PASSED")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="the build folder the script runs from")
    ap.add_argument("--cache", required=True, help="XDG_CACHE_HOME: the emulated host's image")
    ap.add_argument("--out", help="the screenshot and the home folder (default: a temporary folder)")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    return main_under_xvfb(args, "demo-manager-", run)


if __name__ == "__main__":
    sys.exit(main())
