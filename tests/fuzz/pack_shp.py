#!/usr/bin/env python3
"""pack_shp.py IN.shp OUT: one fuzz input of fuzz_ingest_shp from a shapefile: the lengths of
the .shp and the .shx (little-endian u32), then the .shp, the .shx and the .dbf."""
import struct
import sys

base = sys.argv[1][:-4]
shp, shx, dbf = (open(base + ext, "rb").read() for ext in (".shp", ".shx", ".dbf"))
with open(sys.argv[2], "wb") as out:
    out.write(struct.pack("<II", len(shp), len(shx)) + shp + shx + dbf)
