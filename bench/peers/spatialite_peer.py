#!/usr/bin/python3
# spatialite_peer.py: the benchmark indicators as SpatiaLite 5 SQL, run through Python's sqlite3
# with mod_spatialite loaded. Layers are loaded into a SpatiaLite database with ogr2ogr (R*Tree
# spatial index per layer), then each indicator is one SQL statement (spatialite_sql.py).
#   --phase all (default) | setup | run | teardown   (as postgis_peer.py; db in WORKDIR)
# Timings: load_s (ogr2ogr per layer, index included), compute_s per indicator.
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from peerlib import common  # noqa: E402
import spatialite_sql as Q  # noqa: E402


def db_path(a):
    return os.path.join(a.workdir, "spatialite-%s.sqlite" % common.scale_name(a.k))


def setup(a, out):
    db = db_path(a)
    if os.path.exists(db):
        os.remove(db)
    first = True
    for l in common.LAYERS:
        with peerlib.Timer(out.timings["load_s"], l):
            cmd = ["ogr2ogr", "--config", "OGR_SQLITE_SYNCHRONOUS", "OFF", "-f", "SQLite", db,
                   peerlib.layer_path(a, l), "-nln", l, "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid",
                   "-lco", "SPATIAL_INDEX=YES", "-gt", "65536"]
            cmd += ["-dsco", "SPATIALITE=YES"] if first else ["-update"]
            subprocess.run(cmd, check=True)
        first = False


def connect(a):
    c = sqlite3.connect(db_path(a))
    c.enable_load_extension(True)
    c.load_extension("mod_spatialite")
    c.execute("PRAGMA cache_size = -262144")  # 256 MB page cache
    c.execute("PRAGMA temp_store = MEMORY")
    return c


def run(a, out):
    c = connect(a)
    names = [r[0] for r in c.execute("SELECT name FROM districts ORDER BY fid")]
    for iid in a.ids:
        ind = common.IND_BY_ID[iid]
        t0 = time.perf_counter()
        metric = ind["metric"]
        rows, classes = {}, None
        if metric == "transfer_coverage":
            rows = {nm: peerlib.share(0, 0) for nm in names}
            for d, num, den in c.execute(Q.transfer(ind)):
                rows[d] = peerlib.share(int(num), int(den))
        elif metric == "length":
            for d, v in c.execute(Q.length(ind)):
                rows[d] = peerlib.amount(float(v or 0.0))
        elif metric == "count":
            rows = {nm: peerlib.amount(0) for nm in names}
            for d, v in c.execute(Q.count(ind)):
                rows[d] = peerlib.amount(int(v))
        elif metric == "coverage":
            rows = {nm: peerlib.share(0.0, 0.0) for nm in names}
            for d, num, den in c.execute(Q.coverage(ind)):
                rows[d] = peerlib.share(float(num or 0.0), float(den or 0.0))
            classes = {"_labels": [cl["label"] for cl in ind["classes"]]}
            for d, lab, n in c.execute(Q.coverage_classes(ind)):
                classes.setdefault(d, {})[lab] = int(n)
        out.timings["compute_s"][iid] = time.perf_counter() - t0
        out.add(iid, rows, names, classes)
    c.close()


def main():
    phase = "all"
    if "--phase" in sys.argv:
        i = sys.argv.index("--phase")
        phase = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    a = peerlib.parse_args("spatialite")
    a.workdir = a.workdir or tempfile.gettempdir()
    os.makedirs(a.workdir, exist_ok=True)
    out = peerlib.Output("spatialite", a)
    if phase in ("all", "setup"):
        setup(a, out)
    try:
        if phase in ("all", "run"):
            run(a, out)
    finally:
        if phase in ("all", "teardown") and not a.keep and os.path.exists(db_path(a)):
            os.remove(db_path(a))
    if phase != "teardown":
        out.write()


if __name__ == "__main__":
    main()
