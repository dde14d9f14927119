#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vireo-connect on a running VM, by its name, through a real vireod that
runs it inside the emulated host, under Xvfb.

    run-viewer-emuhost.py --viewer PATH --vireod PATH --emuhost PATH --ctl PATH
                          --fixtures DIR --cache DIR [--out DIR] [--guest-tool PATH]...

The VM boots the fixtures' Debian kernel with the scenario emuhost, which
draws vireo-fbtool's pattern 41 at 1024x768. Everything is done from the
viewer's toolbar, as a person would:

  1. the VM is off: Start (the button) starts it through vireod, and the
     window shows the guest's pattern exactly;
  2. Pause and Resume (one button) go through vireod, and the title follows;
  3. Reset: the guest boots again and draws again;
  4. Save, then Start: restored, the picture there without a new drawing;
  5. the worker is killed inside the emulated host: the window says the VM
     is off, with vireod's reason, and the viewer stays;
  6. Start again: the viewer finds the new worker by itself and shows the
     pattern of the new boot;
  7. Turn off, Start, and Shut down (through the guest) each end it.
Exit status 0 when all of it held.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from viewerlib import TestError, Viewer, main_under_xvfb, say, wait_picture  # noqa: E402
from vireodlib import SessionBus, Vireod, close_all, create_machine, emulated_host, machine_string  # noqa: E402

VM = "emu-view"
SEED, W, H = 41, 1024, 768
# The first start may build the emulated host's image (minutes, from
# Debian's packages); later ones boot L1 and the guest in about 30 s.
START_TIMEOUT_S = 900
STEP_TIMEOUT_S = 120


def ctl(args, sock, command):
    p = subprocess.run([args.ctl, sock, command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace").strip()
    say(f"control {command}: {out}")
    return out


def start_from_toolbar(v, env, path, out, name, timeout):
    v.catch_up()
    v.click_button("start")
    v.wait(r"action start", STEP_TIMEOUT_S)
    m = v.wait(r"vireod state (Running|Failed|Off)", timeout)
    if m.group(1) != "Running":
        raise TestError(f"Start from the toolbar ended {m.group(1)}: {machine_string(env, path, 'StateReason')}")
    v.wait(rf"surface {W}x{H} ", STEP_TIMEOUT_S)
    wait_picture(v, out, name, SEED, W, H, timeout=STEP_TIMEOUT_S)
    t = v.wait_title(rf"^{VM} - Running - Vireo \(emulated host: slow\)$", STEP_TIMEOUT_S)
    say(f"started from the toolbar: the window shows the guest's pattern exactly; the title is '{t}'")


def run(args, x, out):
    if not shutil.which("qemu-system-x86_64"):
        raise TestError("qemu-system-x86_64 is not installed (Debian package qemu-system-x86): vireod cannot "
                        "run VMs inside an emulated host")
    p = subprocess.run([sys.executable, os.path.join(HERE, "..", "guest", "build-fixtures.py"), args.fixtures]
                       + [a for t in args.guest_tool for a in ("--guest-tool", t)])
    if p.returncode != 0:
        raise TestError("the guest fixtures could not be built")
    home = os.path.join(out, "home")
    shutil.rmtree(home, ignore_errors=True)
    dirs = {k: os.path.join(home, k.lower()) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME")}
    for d in dirs.values():
        os.makedirs(d, mode=0o700)
    # The VM's sockets go here: a socket's path has at most 107 bytes.
    dirs["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="vireo-viewer-emuhost-")
    # The emulated host's image is built once into the build folder and kept.
    dirs["XDG_CACHE_HOME"] = os.path.abspath(args.cache)
    os.makedirs(dirs["XDG_CACHE_HOME"], exist_ok=True)
    bus = SessionBus()
    x.env.update(DBUS_SESSION_BUS_ADDRESS=bus.address, VIREO_EMUHOST=os.path.abspath(args.emuhost), **dirs)
    env = x.env
    vd, v, path = None, None, None
    kernel, initrd = os.path.join(args.fixtures, "vmlinuz"), os.path.join(args.fixtures, "guest.cpio.gz")
    try:
        vd = Vireod(args.vireod, env, "emulated", os.path.join(out, "vireod.log"))
        path = create_machine(env, f"{{'Name': <'{VM}'>, 'MemoryMiB': <uint64 256>, 'Cpus': <uint32 1>, "
                                   f"'BootSource': <'kernel'>, 'Kernel': <'{kernel}'>, 'Initrd': <'{initrd}'>, "
                                   "'Cmdline': <'console=ttyS0 quiet vireo.scenario=emuhost'>}")
        if not emulated_host(env, path):
            raise TestError(f"VIREO_HOST_PATH=emulated, but vireod says EmulatedHost false for {path}")
        v = Viewer(x, [args.viewer, "--verbose", "--zoom", "100", VM])
        v.wait(r"vireod state Off", STEP_TIMEOUT_S)
        v.wait(r"message The virtual machine is turned off", STEP_TIMEOUT_S)
        v.wait_title(rf"^{VM} - Off - Vireo \(emulated host: slow\)$", STEP_TIMEOUT_S)

        # 1. Start from the toolbar
        start_from_toolbar(v, env, path, out, "first-boot", START_TIMEOUT_S)

        # 2. Pause and Resume
        v.click_button("pause")
        v.wait(r"vireod state Paused", STEP_TIMEOUT_S)
        v.wait_title(rf"^{VM} - Paused - Vireo \(emulated host: slow\)$", STEP_TIMEOUT_S)
        v.screenshot(os.path.join(out, "window-paused.png"))
        v.click_button("pause")
        v.wait(r"vireod state Running", STEP_TIMEOUT_S)
        say("Pause and Resume from the toolbar went through vireod")

        # 3. Reset: the same worker boots the guest again, which draws again
        v.click_button("reset")
        v.wait(r"vm-state running restarted", STEP_TIMEOUT_S)
        v.wait(rf"surface {W}x{H} ", STEP_TIMEOUT_S)
        wait_picture(v, out, "after-reset", SEED, W, H, timeout=STEP_TIMEOUT_S)
        say("Reset from the toolbar: the guest booted again and drew its pattern")

        # 4. Save, and Start restores it: the picture is there without a new drawing
        v.click_button("save")
        v.wait(r"vireod state Saved", STEP_TIMEOUT_S)
        v.wait(r"message The virtual machine is saved\. Start it to restore it\.", STEP_TIMEOUT_S)
        v.catch_up()
        v.click_button("start")
        v.wait(r"vireod state Running", STEP_TIMEOUT_S)
        v.wait(r"vm-state running restored", STEP_TIMEOUT_S)
        wait_picture(v, out, "restored", SEED, W, H, timeout=STEP_TIMEOUT_S)
        reason = machine_string(env, path, "StateReason")
        if reason != "restored from its saved state":
            raise TestError(f"Start of the saved VM, but vireod says: {reason}")
        say("Save and Start from the toolbar: restored, the picture exact")

        # 5. the worker killed inside the emulated host
        control = os.path.join(os.path.dirname(machine_string(env, path, "ConsoleSocket")), "control")
        ctl(args, control, "emuhost kill-worker")
        v.wait(r"vireod state Off", STEP_TIMEOUT_S)
        # The window says why, in vireod's words.
        m = v.wait(r"message The virtual machine is turned off\. Start it to connect\. "
                   r"\(the worker process ended unexpectedly \(signal 9", STEP_TIMEOUT_S)
        reason = machine_string(env, path, "StateReason")
        v.wait_title(rf"^{VM} - Off - Vireo \(emulated host: slow\)$", STEP_TIMEOUT_S)
        v.screenshot(os.path.join(out, "window-worker-killed.png"))
        if not v.alive():
            raise TestError("the viewer died with the worker")
        say(f"the killed worker shows as Off ({m.string.strip()}; vireod: {reason})")

        # 6. Start again: the viewer finds the new worker
        start_from_toolbar(v, env, path, out, "second-boot", START_TIMEOUT_S)

        # 7. Turn off, Start, Shut down (through the guest)
        for button, why in (("turn-off", "turned off"), ("shut-down", "the guest shut down")):
            v.catch_up()
            v.click_button(button)
            v.wait(r"vireod state Off", STEP_TIMEOUT_S)
            reason = machine_string(env, path, "StateReason")
            if reason != why:
                raise TestError(f"{button} from the toolbar, but vireod says: {reason}")
            say(f"{button} from the toolbar: {reason}")
            if button == "turn-off":
                start_from_toolbar(v, env, path, out, "third-boot", START_TIMEOUT_S)
    finally:
        rc = close_all(v, vd, bus, env, [path] if path else [])
        shutil.rmtree(dirs["XDG_RUNTIME_DIR"], ignore_errors=True)
    if rc != 0:
        raise TestError(f"closing the window ended the viewer with status {rc}")
    say("PASSED")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--viewer", required=True)
    ap.add_argument("--vireod", required=True)
    ap.add_argument("--emuhost", required=True)
    ap.add_argument("--ctl", required=True, help="vireo-worker-ctl")
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--cache", required=True, help="XDG_CACHE_HOME for the emulated host's image (kept)")
    ap.add_argument("--out", help="screenshots and vireod's log (default: a temporary folder)")
    ap.add_argument("--guest-tool", action="append", default=[], metavar="PATH",
                    help="passed to build-fixtures.py (the guest's vireo-fbtool and vireo-evdump)")
    args = ap.parse_args()
    args.fixtures = os.path.abspath(args.fixtures)
    return main_under_xvfb(args, "viewer-emuhost-", run)


if __name__ == "__main__":
    sys.exit(main())
