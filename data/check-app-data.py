#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What ties the manager's data files together, beyond each one's validator.

    check-app-data.py --app-id ID --source DATA_DIR --desktop F --metainfo F --schema F

The desktop entry runs vireo with the application's icon; the metainfo has
the same id, launches that desktop entry, and each screenshot it lists is a
PNG committed in data/screenshots/; the schema has the application's id
and path, and every key a summary; the icons exist and are SVG.
"""

import argparse
import configparser
import os
import struct
import sys
import xml.etree.ElementTree as ET

errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for a in ("--app-id", "--source", "--desktop", "--metainfo", "--schema"):
        ap.add_argument(a, required=True)
    a = ap.parse_args()

    d = configparser.ConfigParser(interpolation=None)
    d.optionxform = str
    d.read(a.desktop, encoding="utf-8")
    e = d["Desktop Entry"]
    check(e.get("Icon") == a.app_id, f"desktop Icon is {e.get('Icon')!r}, not {a.app_id!r}")
    check(e.get("Exec", "").split()[0] == "vireo", f"desktop Exec is {e.get('Exec')!r}")

    m = ET.parse(a.metainfo).getroot()
    check(m.findtext("id") == a.app_id, f"metainfo id is {m.findtext('id')!r}")
    check(m.findtext("launchable") == a.app_id + ".desktop", f"metainfo launchable is {m.findtext('launchable')!r}")
    check(m.find("content_rating") is not None, "metainfo has no content_rating")
    check(m.find("releases/release") is not None, "metainfo has no release")
    shots = m.findall("screenshots/screenshot")
    check(len(shots) >= 2, f"metainfo lists {len(shots)} screenshots (the main window and the wizard)")
    check(any(s.get("type") == "default" for s in shots), "no default screenshot")
    for s in shots:
        url = s.findtext("image") or ""
        png = os.path.join(a.source, "screenshots", os.path.basename(url))
        if not os.path.exists(png):
            errors.append(f"screenshot {url}: {png} is not committed")
            continue
        size = png_size(png)
        check(size is not None, f"{png} is not a PNG")
        if size:
            check(size[0] >= 620 and size[1] >= 400, f"{png} is only {size[0]}x{size[1]}")
        check(bool(s.findtext("caption")), f"screenshot {url} has no caption")

    sc = ET.parse(a.schema).getroot().find("schema")
    check(sc.get("id") == a.app_id, f"schema id is {sc.get('id')!r}")
    check(sc.get("path") == "/" + a.app_id.replace(".", "/") + "/", f"schema path is {sc.get('path')!r}")
    keys = sc.findall("key")
    check(len(keys) > 0, "the schema has no keys")
    for k in keys:
        check(bool(k.findtext("summary")), f"schema key {k.get('name')} has no summary")

    for icon in (f"icons/hicolor/scalable/apps/{a.app_id}.svg",
                 "icons/hicolor/symbolic/apps/org.vireo.Vireo-symbolic.svg"):
        p = os.path.join(a.source, icon)
        if not os.path.exists(p):
            errors.append(f"icon {p} is missing")
            continue
        root = ET.parse(p).getroot()
        check(root.tag.endswith("svg"), f"{p} is not an SVG")

    for msg in errors:
        print(f"check-app-data: {msg}")
    if errors:
        return 1
    print(f"check-app-data: {a.app_id}: desktop entry, metainfo ({len(shots)} screenshots), schema "
          f"({len(keys)} keys) and icons agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
