#!/usr/bin/env python3
"""png_colors.py: count a screenshot's pixels near given colours (plain Python, no imaging library).

usage: png_colors.py FILE.png RRGGBB [RRGGBB...]
Prints "WIDTHxHEIGHT" then one "RRGGBB COUNT" line per colour (each channel within 40 of it),
counted on every other pixel of every other row (a quarter of the pixels: enough to tell whether a
colour is there, and four times faster).
Reads 8-bit, non-interlaced RGB or RGBA PNGs, which is what Chromium's --screenshot writes.
"""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG file")
    pos, idat, width = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise SystemExit(f"{path}: only 8-bit non-interlaced RGB/RGBA PNGs are supported")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if width is None:
        raise SystemExit(f"{path}: no IHDR chunk")
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    width, height, bpp, rows = read_png(sys.argv[1])
    targets = [tuple(int(c[i:i + 2], 16) for i in (0, 2, 4)) for c in sys.argv[2:]]
    counts = [0] * len(targets)
    for line in rows[::2]:
        for i in range(0, len(line), 2 * bpp):
            r, g, b = line[i], line[i + 1], line[i + 2]
            for k, (tr, tg, tb) in enumerate(targets):
                if abs(r - tr) <= 40 and abs(g - tg) <= 40 and abs(b - tb) <= 40:
                    counts[k] += 1
    print(f"{width}x{height}")
    for c, n in zip(sys.argv[2:], counts):
        print(c, n)


if __name__ == "__main__":
    main()
