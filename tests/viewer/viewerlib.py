# SPDX-License-Identifier: GPL-2.0-or-later
"""vireo-connect in a real X server, driven and read like a person would.

Xvfb is the X server; xdotool types and clicks (XTEST, as a keyboard would);
ImageMagick's import takes the window's picture from the screen; the viewer's
--verbose lines tell what it did. Each wait has a generous limit and ends as
soon as what it waits for is there: nothing here measures speed.
"""

import os
import queue
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
import fbpattern  # noqa: E402

TOOLS = {"Xvfb": "xvfb", "xdotool": "xdotool", "import": "imagemagick", "convert": "imagemagick",
         "xclip": "xclip", "xprop": "x11-utils"}
SCREEN = "1600x1200x24"


class TestError(Exception):
    pass


def need_tools():
    missing = sorted({pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)})
    if missing:
        raise TestError("missing Debian packages: " + " ".join(missing) + " (scripts/setup-debian.sh)")


def say(msg):
    print(f"viewer-test: {msg}", flush=True)


class Xvfb:
    """A private X server: its display number comes back on a pipe (-displayfd)."""

    def __init__(self, log):
        r, w = os.pipe()
        self.log = log
        with open(log, "wb") as logf:
            self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", SCREEN, "-nolisten", "tcp",
                                          "-noreset"], pass_fds=(w,), stdout=logf, stderr=subprocess.STDOUT)
        os.close(w)
        # Up to the newline: closing the pipe before Xvfb wrote it all is fatal to Xvfb.
        data, end = b"", time.monotonic() + 30
        while not data.endswith(b"\n") and time.monotonic() < end:
            ready, _, _ = select.select([r], [], [], max(0.0, end - time.monotonic()))
            chunk = os.read(r, 64) if ready else b""
            if not chunk:
                break
            data += chunk
        os.close(r)
        if not data.strip():
            self.stop()
            raise TestError("Xvfb did not start")
        self.display = ":" + data.decode().strip()
        self.env = dict(os.environ, DISPLAY=self.display)
        self.env.pop("WAYLAND_DISPLAY", None)
        say(f"Xvfb on {self.display}")

    def run(self, *argv, check=True, input=None):
        if self.proc.poll() is not None:
            raise TestError(f"the X server ended (status {self.proc.returncode}); its log: {self.log}")
        p = subprocess.run(list(argv), env=self.env, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        if check and p.returncode != 0:
            raise TestError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.decode(errors='replace').strip()}")
        return p.stdout.decode(errors="replace")

    def set_clipboard(self, data):
        """The CLIPBOARD selection: xclip stays behind as its owner (and ends with the server)."""
        p = subprocess.Popen(["xclip", "-selection", "clipboard", "-i"], env=self.env, stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p.communicate(data, timeout=30)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class LineQueue:
    """Lines as they come, waited on in order with a deadline."""

    def __init__(self, name, fail=None):
        self.name, self.fail = name, re.compile(fail) if fail else None
        self.q = queue.Queue()
        self.all = []
        self.ended = None           # why there are no more lines

    def put(self, line):
        self.q.put(line)

    def end(self, why):
        self.ended = why
        self.q.put(None)

    def _take(self, timeout):
        line = self.q.get(timeout=timeout)
        if line is None:
            self.q.put(None)
        else:
            self.all.append(line)
        return line

    def wait(self, regex, timeout=30, what=None):
        """The first line from now on that matches (re.search): its match object."""
        rx = re.compile(regex)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TestError(f"{self.name}: no line matched /{regex}/ within {timeout:.0f} s"
                                + (f" ({what})" if what else ""))
            try:
                line = self._take(left)
            except queue.Empty:
                continue
            if line is None:
                raise TestError(f"{self.name}: {self.ended} before a line matched /{regex}/")
            if self.fail and self.fail.search(line):
                raise TestError(f"{self.name}: {line.strip()}")
            m = rx.search(line)
            if m:
                return m

    def drain(self):
        """Lines that came meanwhile, without waiting."""
        out = []
        while True:
            try:
                line = self._take(0)
            except queue.Empty:
                return out
            if line is None:
                return out
            out.append(line)


class Lines(LineQueue):
    """A process's stdout, line by line."""

    def __init__(self, proc, name):
        super().__init__(name)
        self.proc = proc
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            print(f"  [{self.name}] {line}", flush=True)
            self.put(line)
        self.end(f"ended (status {self.proc.wait()})")


class Viewer:
    def __init__(self, x, argv):
        self.x = x
        say("viewer: " + " ".join(argv))
        # Under ASan, LeakSanitizer's report at exit lists what libdbus (SDL's)
        # and the GL driver (unloaded by then, so unnamed) keep: not ours to
        # fix, and the viewer's own code is leak-checked by its unit tests.
        env = dict(x.env, ASAN_OPTIONS="detect_leaks=0:" + os.environ.get("ASAN_OPTIONS", ""))
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.out = Lines(self.proc, "viewer")
        self.view = None
        self.buttons = {}
        self.window = None

    def wait(self, regex, timeout=30, what=None):
        """Waits for a line, keeping track of the layout lines on the way."""
        rx = re.compile(regex)
        while True:
            m = self.out.wait(r".", timeout, what)
            line = m.string
            self._track(line)
            hit = rx.search(line)
            if hit:
                return hit

    def _track(self, line):
        m = re.search(r"view x=(-?\d+) y=(-?\d+) w=(\d+) h=(\d+) scale=([0-9.]+)", line)
        if m:
            self.view = tuple(int(v) for v in m.groups()[:4]) + (float(m.group(5)),)
        m = re.search(r"button (\S+) x=(\d+) y=(\d+) w=(\d+) h=(\d+)", line)
        if m:
            self.buttons[m.group(1)] = tuple(int(v) for v in m.groups()[1:])

    def catch_up(self):
        for line in self.out.drain():
            self._track(line)

    def find_window(self):
        if not self.window:
            # By class: xdotool cannot read a UTF-8 WM_NAME.
            ids = self.x.run("xdotool", "search", "--sync", "--onlyvisible", "--class", "vireo-connect").split()
            if not ids:
                raise TestError("no vireo-connect window")
            self.window = ids[0]
        return self.window

    def title(self):
        out = self.x.run("xprop", "-id", self.find_window(), "_NET_WM_NAME")
        m = re.search(r'= "(.*)"$', out.strip())
        if not m:
            raise TestError(f"the window has no title: {out.strip()}")
        return m.group(1)

    def wait_title(self, regex, timeout=15):
        """Polls the window's title (a property, not a stream) until it matches."""
        end = time.monotonic() + timeout
        while True:
            t = self.title()
            if re.search(regex, t):
                return t
            if time.monotonic() > end:
                raise TestError(f"the title is '{t}', not /{regex}/, {timeout} s on")
            time.sleep(0.1)

    def alive(self):
        return self.proc.poll() is None

    def screenshot(self, path):
        """The window as PNG (8-bit RGB), from the screen: what a person sees."""
        self.x.run("import", "-window", self.find_window(), "-depth", "8", "png24:" + path)

    def picture(self, shot, path):
        """The guest's picture cut out of a window screenshot, where the viewer says it is."""
        if not self.view:
            raise TestError("the viewer did not say where the picture is (no 'view' line)")
        x, y, w, h, _ = self.view
        self.x.run("convert", shot, "-crop", f"{w}x{h}+{x}+{y}", "+repage", "-depth", "8", "png24:" + path)
        return w, h

    def click(self, x, y, button=1):
        self.x.run("xdotool", "mousemove", "--window", self.find_window(), str(x), str(y), "click", str(button))

    def move(self, x, y):
        self.x.run("xdotool", "mousemove", "--window", self.find_window(), str(x), str(y))

    def click_button(self, name):
        if name not in self.buttons:
            raise TestError(f"the viewer did not lay out a '{name}' button")
        bx, by, bw, bh = self.buttons[name]
        self.click(bx + bw // 2, by + bh // 2)

    def keys(self, *names):
        self.x.run("xdotool", "key", "--delay", "40", *names)

    def focus(self):
        self.x.run("xdotool", "windowfocus", "--sync", self.find_window())

    def close(self, timeout=15):
        """Ends the viewer as a desktop's logout does (SIGTERM, which SDL turns
        into a quit request): its exit status. (xdotool windowclose destroys
        the window under the program's feet instead, which no window manager
        does.)"""
        if self.alive():
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                return self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()


def wait_picture(v, out, name, seed, width, height, rect=None, timeout=15):
    """Screenshots of the window until the picture in it is exactly the
    pattern: the window manager-less X server applies a resize a moment
    after the viewer asked for it, and the viewer draws again then."""
    end = time.monotonic() + timeout
    shot, pic = os.path.join(out, name + "-window.png"), os.path.join(out, name + ".png")
    while True:
        v.catch_up()
        v.screenshot(shot)
        v.picture(shot, pic)
        errors = fbpattern.check_pattern(pic, seed, width, height, rect)
        if not errors:
            return
        if time.monotonic() > end:
            raise TestError(f"{name}: after {timeout} s the window still does not show the pattern: "
                            + "; ".join(errors))
        time.sleep(0.2)


def main_under_xvfb(args, prefix, run):
    """run(args, x, out) with an X server of its own: the exit status."""
    try:
        need_tools()
        out = args.out or tempfile.mkdtemp(prefix=prefix)
        os.makedirs(out, exist_ok=True)
        x = Xvfb(os.path.join(out, "xvfb.log"))
        try:
            run(args, x, out)
        finally:
            x.stop()
    except TestError as e:
        say(f"FAILED: {e}")
        return 1
    return 0


def check_pattern(path, seed, width, height, rect=None):
    errors = fbpattern.check_pattern(path, seed, width, height, rect)
    if errors:
        raise TestError("; ".join(errors))


# evdev codes of the keys the tests type (linux/input-event-codes.h)
KEY = {"a": 30, "b": 48, "c": 46, "Return": 28, "Shift_L": 42, "F1": 59, "KP_Enter": 96, "Control_L": 29,
       "Alt_L": 56, "Delete": 111, "Left": 105, "h": 35, "i": 23, "1": 2, "space": 57}
