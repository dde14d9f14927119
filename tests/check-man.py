#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A man page against its program's --help.

    check-man.py PROGRAM PAGE {commands|options}

groff must format PAGE without a warning, and every command (the indented
words of the program's --help: vireoctl) or every long option (--name:
vireo-connect) that --help lists must be described in the page. Exit
status 0 when both hold.
"""

import re
import shutil
import subprocess
import sys


def help_items(program, kind):
    p = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        sys.exit(f"{program} --help: exit status {p.returncode}: {p.stderr.strip()}")
    if kind == "commands":
        items = set()
        for line in p.stdout.splitlines():
            m = re.match(r"^  ([a-z][a-z-]*)\b(.*)", line)
            if m:
                items.add(m.group(1))
                # "pause VM | resume VM | reset VM": each one
                items.update(re.findall(r"\| ([a-z][a-z-]*) ", m.group(2) + " "))
    else:
        items = set(re.findall(r"(?<![\w-])--([a-z][a-z-]+)", p.stdout))
    if not items:
        sys.exit(f"{program} --help lists no {kind}: {p.stdout!r}")
    return items


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("commands", "options"):
        sys.exit(__doc__.split("\n\n")[1])
    program, page, kind = sys.argv[1:]
    if not shutil.which("groff"):
        sys.exit("groff is not installed (Debian package groff-base, scripts/setup-debian.sh): "
                 f"{page} is UNCHECKED")
    g = subprocess.run(["groff", "-man", "-ww", "-z", page], capture_output=True, text=True, timeout=30)
    if g.returncode != 0 or g.stderr.strip():
        sys.exit(f"{page}: groff says: {g.stderr.strip() or 'exit status %d' % g.returncode}")
    text = open(page, encoding="utf-8").read()
    # An item is described where a .B or .BR line (what a .TP entry starts
    # with) names it, not where prose mentions it.
    plain = text.replace("\\-", "-").replace("\\fB", " ").replace("\\fR", " ").replace("\\fI", " ")
    heads = [line for line in plain.splitlines() if re.match(r"\.BR? ", line)]
    missing = []
    for item in sorted(help_items(program, kind)):
        want = item if kind == "commands" else "--" + item
        if not any(re.search(rf"(?<![\w-]){re.escape(want)}(?![\w-])", h) for h in heads):
            missing.append(want)
    if missing:
        sys.exit(f"{page} does not describe what {program} --help lists: {', '.join(missing)}")
    print(f"{page}: formats cleanly and describes all {len(help_items(program, kind))} {kind} of --help")


if __name__ == "__main__":
    main()
