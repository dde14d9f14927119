#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Keep the manager's translations complete.

    check-potfiles.py SOURCE_ROOT

- every file of app/ and data/ with a string marked for translation is in
  po/POTFILES.in, and every file listed there exists;
- in app/'s .ui files, every property and menu attribute a person reads
  (label, title, subtitle, tooltip, description, placeholder, accessible
  label) is marked translatable;
- in app/'s C files, no literal string goes straight into a widget's text
  (gtk_label_set_text, gtk_button_set_label, toasts, dialogs, ...) without
  _() around it.
"""

import os
import re
import sys
import xml.etree.ElementTree as ET

READABLE_PROPS = {"label", "title", "subtitle", "tooltip-text", "tooltip-markup", "description",
                  "placeholder-text", "text", "heading", "body", "accelerator-label"}
# Properties whose value names a thing rather than saying something.
NOT_TEXT = {"icon-name", "name", "section-name", "action-name", "accelerator"}
C_MARKS = re.compile(r"\b(?:_|N_|C_|NC_|g_dngettext|g_dgettext|ngettext)\s*\(")
C_SETTERS = re.compile(
    r"\b(gtk_label_set_(?:text|label|markup)|gtk_button_set_label|gtk_widget_set_tooltip_text|"
    r"adw_action_row_set_subtitle|adw_preferences_row_set_title|adw_window_title_set_(?:title|subtitle)|"
    r"adw_toast_new|adw_message_dialog_new|adw_message_dialog_add_response|adw_status_page_set_(?:title|description)|"
    r"gtk_window_set_title|adw_preferences_group_set_(?:title|description))\s*\(([^;]*);", re.S)
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def marked_in_c(text):
    return bool(C_MARKS.search(text))


def unmarked_c_literals(path, text):
    out = []
    for m in C_SETTERS.finditer(text):
        args = m.group(2)
        for lit in LITERAL.finditer(args):
            s = lit.group(1)
            if not re.search(r"[A-Za-z]{2}", s):
                continue      # "", "%s", punctuation
            before = args[:lit.start()].rstrip()
            if re.search(r"(?:\b_|\bC_|\bN_)\s*\(\s*(?:\"[^\"]*\"\s*,\s*)?$", before):
                continue
            if m.group(1) == "adw_message_dialog_add_response" and before.endswith(","):
                # the first string is the response id, the second its label
                if args[:lit.start()].count('"') == 0:
                    continue
            line = text[:m.start()].count("\n") + 1
            out.append(f"{path}:{line}: \"{s}\" reaches {m.group(1)} without _()")
    return out


def ui_problems(path):
    out = []
    root = ET.parse(path).getroot()
    marked = False
    for el in root.iter():
        if el.tag not in ("property", "attribute"):
            continue
        name = el.get("name")
        text = (el.text or "").strip()
        if el.get("translatable") == "yes":
            marked = True
            continue
        if not text or name in NOT_TEXT or name not in READABLE_PROPS:
            continue
        if el.tag == "property" and name == "label" and el.find("object") is not None:
            continue
        out.append(f"{path}: <{el.tag} name=\"{name}\">{text}</{el.tag}> is not translatable=\"yes\"")
    return marked, out


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "po", "POTFILES.in")) as f:
        listed = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    problems = []
    for rel in sorted(listed):
        if not os.path.exists(os.path.join(root, rel)):
            problems.append(f"po/POTFILES.in lists {rel}, which does not exist")
    need = set()
    for top in ("app", "data"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for fn in files:
                p = os.path.join(d, fn)
                rel = os.path.relpath(p, root)
                if fn.endswith((".c", ".h")):
                    with open(p, encoding="utf-8") as f:
                        text = f.read()
                    if marked_in_c(text):
                        need.add(rel)
                    if top == "app":
                        problems += unmarked_c_literals(rel, text)
                elif fn.endswith(".ui"):
                    marked, out = ui_problems(p)
                    problems += out
                    if marked:
                        need.add(rel)
                elif top == "data" and (fn.endswith(".desktop.in.in") or fn.endswith(".metainfo.xml.in.in")
                                        or fn.endswith(".gschema.xml.in")):
                    need.add(rel)
    for rel in sorted(need - listed):
        problems.append(f"{rel} has strings marked for translation but is not in po/POTFILES.in")
    for p in problems:
        print(f"check-potfiles: {p}")
    if problems:
        return 1
    print(f"check-potfiles: {len(listed)} files in POTFILES.in, every marked file listed, every .ui string marked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
