#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vireo-connect under Xvfb against the worker's real console server.

    run-viewer-xvfb.py --viewer PATH --worker PATH [--inline] [--out DIR]

The worker side is connect-test-worker: console_server.c and the display
of the real worker, showing vireo-fbtool's pattern, printing the input it
gets. What a person would do, and what must come of it:

  1. the window shows the pattern exactly (a screenshot of the window,
     cut where the viewer says the picture is), at 100 % and after the
     guest draws into a rectangle (damage);
  2. a click into the picture grabs the keyboard, and the title says how to
     release it; typed keys arrive as evdev codes; Ctrl+Alt+Left releases
     the keyboard (the guest sees Ctrl and Alt, not Left);
  3. the pointer lands on the guest pixel under it, and there is never a
     second pointer: the host's is hidden over the picture while the guest
     draws its own, the desktop's over the toolbar, the guest's shape once
     it sends one;
  4. the toolbar's Ctrl+Alt+Del and Type clipboard reach the guest as keys;
  5. a new guest resolution resizes the window; the toolbar's +, 100 %,
     full screen and Fit lay the picture out as they say, and back;
  6. killing the worker shows "off" (title and message) without a crash;
     a new worker on the same socket is found again and shown.
Exit status 0 when all of it held.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from viewerlib import KEY, Lines, TestError, Viewer, check_pattern, main_under_xvfb, say, wait_picture  # noqa: E402

W, H = 1024, 768


class Worker:
    def __init__(self, exe, sock, w, h, seed):
        self.proc = subprocess.Popen([exe, sock, str(w), str(h), str(seed)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = Lines(self.proc, "worker")
        self.out.wait(r"^ready$", 10)

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def keys(self, n, timeout=20):
        """The next n key lines: [(code, down)]."""
        got = []
        while len(got) < n:
            m = self.out.wait(r"^key (\d+) (\d)$", timeout, f"{len(got)} of {n} keys came")
            got.append((int(m.group(1)), int(m.group(2))))
        return got

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def press(*codes):
    """Each key pressed and released, in order."""
    return [e for c in codes for e in ((c, 1), (c, 0))]


def expect_keys(worker, want, what):
    got = worker.keys(len(want))
    if got != want:
        raise TestError(f"{what}: the worker got keys {got}, expected {want}")
    say(f"{what}: {len(want)} key events as expected")


def wait_cursor(x, xcursor, ok, what, timeout=10):
    """Until the X server's pointer (vireo-xcursor: size and opaque pixels) is ok(w, h, n)."""
    end = time.monotonic() + timeout
    while True:
        line = x.run(xcursor).strip()
        m = re.match(r"cursor (\d+)x(\d+) hot \d+,\d+ opaque=(\d+)$", line)
        if not m:
            raise TestError(f"vireo-xcursor said: {line}")
        if ok(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            return
        if time.monotonic() > end:
            raise TestError(f"{what}: the X server shows {line}")
        time.sleep(0.1)


def run(args, x, out):
    sock = os.path.join(out, "console.sock")
    worker = Worker(args.worker, sock, W, H, 23)
    argv = [args.viewer, "--socket", sock, "--verbose", "--zoom", "100",
            "--screenshot-dir", out] + (["--inline"] if args.inline else [])
    v = Viewer(x, argv)
    mode = "inline" if args.inline else "shared"
    try:
        v.wait(rf"surface {W}x{H} {mode}", 20)
        v.wait(r"presented frames=[1-9]", 20)
        v.wait_title(r"^connect-test-vm - Running - Vireo$")
        v.catch_up()
        if v.view[2:4] != (W, H) or v.view[4] != 1.0:
            raise TestError(f"at 100 % the picture should be {W}x{H} at scale 1, the viewer lays out {v.view}")

        # 1. the picture, then a change as damage
        wait_picture(v, out, "picture", 23, W, H)
        say("the window shows the guest's pattern exactly")
        worker.send("rect 100 50 200 120 99")
        v.wait(r"presented frames=", 10)
        wait_picture(v, out, "picture-rect", 23, W, H, (100, 50, 200, 120, 99))
        say("a damaged rectangle reached the window")

        # 2. grab, keys, release
        px, py = v.view[0], v.view[1]
        v.focus()
        v.click(px + 100, py + 200)
        v.wait(r"grab on", 10)
        if "Ctrl+Alt+Left" not in v.title():
            raise TestError(f"grabbed, the title '{v.title()}' does not say how to release the keyboard")
        m = worker.out.wait(r"^pointer (\d+) (\d+) 1 0 0$", 10, "the click")
        if (int(m.group(1)), int(m.group(2))) != (100, 200):
            raise TestError(f"the click at picture pixel 100,200 reached the guest at {m.group(1)},{m.group(2)}")
        worker.out.wait(r"^pointer 100 200 0 0 0$", 10, "the button's release")
        v.keys("a", "b", "c", "Return")
        v.x.run("xdotool", "keydown", "Shift_L", "key", "a", "keyup", "Shift_L")
        v.keys("F1", "KP_Enter")
        expect_keys(worker, press(KEY["a"], KEY["b"], KEY["c"], KEY["Return"])
                    + [(KEY["Shift_L"], 1), (KEY["a"], 1), (KEY["a"], 0), (KEY["Shift_L"], 0)]
                    + press(KEY["F1"], KEY["KP_Enter"]), "typed keys")
        v.x.run("xdotool", "keydown", "Control_L", "keydown", "Alt_L", "key", "Left", "keyup", "Alt_L", "keyup", "Control_L")
        v.wait(r"grab off", 10)
        expect_keys(worker, [(KEY["Control_L"], 1), (KEY["Alt_L"], 1), (KEY["Alt_L"], 0), (KEY["Control_L"], 0)],
                    "the release combination")
        if "Ctrl+Alt+Left" in v.title():
            raise TestError(f"released, the title still says '{v.title()}'")

        # 3. the pointer, and never a second one: over the picture the host's
        # pointer is hidden while the guest draws its own, and takes the
        # guest's shape once it has one; over the toolbar it is the desktop's
        v.move(px + 517, py + 333)
        worker.out.wait(r"^pointer 517 333 0 0 0$", 10, "the pointer at 517,333")
        say("the pointer lands on the guest pixel under it")
        wait_cursor(x, args.xcursor, lambda w, h, n: n == 0, "no host pointer over the picture")
        bx, by, bw, bh = v.buttons["ctrl-alt-del"]
        v.move(bx + bw // 2, by + bh // 2)
        wait_cursor(x, args.xcursor, lambda w, h, n: n > 0, "the desktop's pointer over the toolbar")
        worker.send("cursor 20 20")
        v.move(px + 300, py + 300)
        wait_cursor(x, args.xcursor, lambda w, h, n: (w, h, n) == (16, 16, 256), "the guest's 16x16 pointer shape")
        say("one pointer at a time: hidden, the desktop's, the guest's shape")

        # 4. toolbar: Ctrl+Alt+Del, Type clipboard
        v.click_button("ctrl-alt-del")
        expect_keys(worker, [(KEY["Control_L"], 1), (KEY["Alt_L"], 1), (KEY["Delete"], 1), (KEY["Delete"], 0),
                             (KEY["Alt_L"], 0), (KEY["Control_L"], 0)], "the Ctrl+Alt+Del button")
        x.set_clipboard(b"Hi 1!\n")
        v.click_button("type-clipboard")
        expect_keys(worker, [(KEY["Shift_L"], 1), (KEY["h"], 1), (KEY["h"], 0), (KEY["Shift_L"], 0)]
                    + press(KEY["i"], KEY["space"], KEY["1"])
                    + [(KEY["Shift_L"], 1), (KEY["1"], 1), (KEY["1"], 0), (KEY["Shift_L"], 0)]
                    + press(KEY["Return"]), "Type clipboard")
        v.click_button("screenshot")
        m = v.wait(r"notice Screenshot saved: (\S+)", 10)
        check_pattern(m.group(1), 23, W, H, (100, 50, 200, 120, 99))
        say("Screenshot saved the guest's picture")

        # 5. a new resolution
        worker.send("size 800 600 9")
        v.wait(r"surface 800x600", 10)
        v.wait(r"presented frames=", 10)
        v.catch_up()
        if v.view[2:4] != (800, 600):
            raise TestError(f"after the guest went to 800x600 the picture is laid out as {v.view}")
        wait_picture(v, out, "picture-800", 9, 800, 600)
        say("the window followed the guest to 800x600")

        # 5b. the view from the toolbar: +, 100 %, Fit, full screen (the
        # toolbar hides there: Ctrl+Alt+Pause leaves it), and back
        v.click_button("zoom-in")
        m = v.wait(r"view x=-?\d+ y=-?\d+ w=(\d+) h=(\d+) scale=1\.250", 10, "the picture at 125 %")
        if (int(m.group(1)), int(m.group(2))) != (1000, 750):
            raise TestError(f"at 125 % the 800x600 picture is laid out {m.group(1)}x{m.group(2)}")
        v.click_button("zoom-100")
        v.wait(r"view x=-?\d+ y=-?\d+ w=800 h=600 scale=1\.000", 10, "the picture at 100 % again")
        v.catch_up()
        v.click_button("zoom-fit")
        v.click_button("full-screen")
        m = v.wait(r"view x=-?\d+ y=-?\d+ w=(\d+) h=(\d+) scale=([0-9.]+) window=1600x1200", 15,
                   "the picture fitted to the full screen (1600x1200)")
        w, h, scale = int(m.group(1)), int(m.group(2)), float(m.group(3))
        if (w, h, scale) != (1600, 1200, 2.0):
            raise TestError(f"full screen, fitted: the 800x600 picture is {w}x{h} at scale {scale}, not 1600x1200 at 2")
        v.screenshot(os.path.join(out, "window-full-screen.png"))
        v.focus()
        v.x.run("xdotool", "keydown", "Control_L", "keydown", "Alt_L", "key", "Pause", "keyup", "Alt_L",
                "keyup", "Control_L")
        v.wait(r"view x=-?\d+ y=-?\d+ w=800 h=600 scale=1\.000 window=(?!1600x1200)", 15,
               "Ctrl+Alt+Pause back from full screen")
        wait_picture(v, out, "picture-800-back", 9, 800, 600)
        say(f"+, 100 %, Fit and full screen lay the picture out as they say ({w}x{h} at {scale} in full screen)")

        # 6. the worker dies, another comes
        worker.kill()
        v.wait(r"disconnected: ", 10)
        v.wait(r"state Off", 10)
        v.wait(r"message The virtual machine is off", 10)
        if not v.alive():
            raise TestError("the viewer died with the worker")
        v.wait_title(r" - Off - Vireo$")
        v.screenshot(os.path.join(out, "window-off.png"))
        say("the worker's death shows as Off")
        worker = Worker(args.worker, sock, W, H, 41)
        v.wait(r"connected " + sock, 15)
        v.wait(rf"surface {W}x{H}", 10)
        v.wait(r"presented frames=[1-9]", 10)
        v.wait_title(r"^connect-test-vm - Running - Vireo$")
        wait_picture(v, out, "picture-back", 41, W, H)
        say("the viewer reconnected to the new worker and shows its picture")
    finally:
        rc = v.close()
        worker.kill()
    if rc != 0:
        raise TestError(f"closing the window ended the viewer with status {rc}")
    say("PASSED" + (" (inline pixels)" if args.inline else " (shared memfd)"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--viewer", required=True)
    ap.add_argument("--worker", required=True, help="connect-test-worker")
    ap.add_argument("--xcursor", required=True, help="vireo-xcursor")
    ap.add_argument("--inline", action="store_true")
    ap.add_argument("--out", help="keep screenshots here (default: a temporary folder)")
    return main_under_xvfb(ap.parse_args(), "viewer-xvfb-", run)


if __name__ == "__main__":
    sys.exit(main())
