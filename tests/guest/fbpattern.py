#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The host side of tests/guest/tools/vireo-fbtool's test pattern, and a PNG reader.

    fbpattern.py check FILE SEED WIDTH HEIGHT [X Y W H SEED2]

The pattern is a pure function of (x, y, seed): R = (x * 7 + seed) & 255,
G = (y * 5 + seed * 3) & 255, B = (x ^ y) & 255 (vireo-fbtool.c says the
same). A rectangle drawn with `vireo-fbtool rect X Y W H SEED2` holds the
same function with SEED2, at the screen's coordinates.

read_png() decodes the PNGs the worker's screenshot command writes, with
nothing but zlib: 8-bit RGB or RGBA, not interlaced, all five filters,
checksums checked.
"""

import struct
import sys
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PngError(Exception):
    pass


def pattern_rgb(x, y, seed):
    return ((x * 7 + seed) & 255, (y * 5 + seed * 3) & 255, (x ^ y) & 255)


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(ftype, line, prev, bpp):
    if ftype == 0:
        return line
    out = bytearray(line)
    n = len(out)
    if ftype == 1:
        for i in range(bpp, n):
            out[i] = (out[i] + out[i - bpp]) & 255
    elif ftype == 2:
        for i in range(n):
            out[i] = (out[i] + prev[i]) & 255
    elif ftype == 3:
        for i in range(n):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + prev[i]) >> 1)) & 255
    elif ftype == 4:
        for i in range(n):
            left = out[i - bpp] if i >= bpp else 0
            upleft = prev[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + _paeth(left, prev[i], upleft)) & 255
    else:
        raise PngError(f"unknown filter type {ftype}")
    return bytes(out)


def read_png(path):
    """(width, height, rows): each row the RGB bytes of one line."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(PNG_SIGNATURE):
        raise PngError(f"{path}: not a PNG (no signature)")
    pos = len(PNG_SIGNATURE)
    ihdr = None
    idat = []
    while True:
        if pos + 8 > len(data):
            raise PngError(f"{path}: truncated (no IEND)")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc_end = pos + 12 + length
        if crc_end > len(data) or len(body) != length:
            raise PngError(f"{path}: chunk {ctype!r} runs past the end")
        (crc,) = struct.unpack(">I", data[pos + 8 + length:crc_end])
        if zlib.crc32(ctype + body) & 0xffffffff != crc:
            raise PngError(f"{path}: chunk {ctype!r}: bad CRC")
        pos = crc_end
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if ihdr is None:
        raise PngError(f"{path}: no IHDR")
    width, height, depth, color, comp, filt, interlace = ihdr
    if depth != 8 or color not in (2, 6) or comp != 0 or filt != 0 or interlace != 0:
        raise PngError(f"{path}: only 8-bit RGB/RGBA, not interlaced (have depth {depth}, color type "
                       f"{color}, interlace {interlace})")
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise PngError(f"{path}: {len(raw)} bytes of image data, {height * (stride + 1)} expected")
    rows = []
    prev = bytes(stride)
    for y in range(height):
        off = y * (stride + 1)
        line = _unfilter(raw[off], raw[off + 1:off + 1 + stride], prev, bpp)
        prev = line
        if bpp == 4:
            rgb = bytearray(width * 3)
            rgb[0::3], rgb[1::3], rgb[2::3] = line[0::4], line[1::4], line[2::4]
            line = bytes(rgb)
        rows.append(line)
    return width, height, rows


def pattern_row(y, seed, width, x0=0):
    """RGB bytes of pixels x0 .. x0 + width - 1 of row y."""
    row = bytearray(width * 3)
    row[0::3] = bytes(((x0 + i) * 7 + seed) & 255 for i in range(width))
    row[1::3] = bytes([(y * 5 + seed * 3) & 255]) * width
    row[2::3] = bytes(((x0 + i) ^ y) & 255 for i in range(width))
    return bytes(row)


def check_pattern(path, seed, width, height, rect=None):
    """Errors (a list, empty when the PNG is exactly the pattern)."""
    try:
        w, h, rows = read_png(path)
    except (OSError, PngError, zlib.error) as e:
        return [f"{path}: {e}"]
    if (w, h) != (width, height):
        return [f"{path}: {w}x{h}, expected {width}x{height}"]
    errors = []
    bad_rows = 0
    for y in range(h):
        want = bytearray(pattern_row(y, seed, w))
        if rect:
            rx, ry, rw, rh, rseed = rect
            if ry <= y < ry + rh:
                want[rx * 3:(rx + rw) * 3] = pattern_row(y, rseed, rw, rx)
        if rows[y] == want:
            continue
        bad_rows += 1
        if len(errors) < 3:
            x = next(i for i in range(w) if rows[y][3 * i:3 * i + 3] != want[3 * i:3 * i + 3])
            got = tuple(rows[y][3 * x:3 * x + 3])
            errors.append(f"{path}: pixel ({x},{y}) is RGB {got}, the pattern has {tuple(want[3 * x:3 * x + 3])}")
    if bad_rows:
        errors.append(f"{path}: {bad_rows} of {h} rows differ from the pattern")
    return errors


def main(argv):
    if len(argv) not in (6, 11) or argv[1] != "check":
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    nums = [int(a, 0) for a in argv[3:]]
    seed, width, height = nums[:3]
    rect = tuple(nums[3:8]) if len(nums) == 8 else None
    errors = check_pattern(argv[2], seed, width, height, rect)
    for e in errors:
        print(e)
    if not errors:
        print(f"{argv[2]}: {width}x{height}, pattern {seed}" + (f", rectangle {rect}" if rect else "") + ": exact")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
