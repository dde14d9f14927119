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
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from viewerlib import TestError, Viewer, main_under_xvfb, say  # noqa: E402
from vireodlib import SessionBus, Vireod, close_all, create_machine, emulated_host  # noqa: E402

VM = "title-vm"
# How long a title may take to follow vireod.
TITLE_TIMEOUT_S = 30


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
        path = create_machine(env, f"{{'Name': <'{VM}'>}}")
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
        rc = close_all(v, vd, bus)
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
