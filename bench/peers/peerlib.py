# peerlib.py: what the peer implementations share: arguments, result rows, route parsing, output.
import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402,F401

ROUTE_TRIM = " \t\r\n\v\f\u3000"  # what queries/transfer_coverage.c trims around a route name


def split_routes(text, sep=";"):
    """Route names of one stop: split, trimmed, empty parts dropped, each once (first order kept)."""
    if text is None:
        return []
    out = []
    for p in str(text).split(sep):
        p = p.strip(ROUTE_TRIM)
        if p and p not in out:
            out.append(p)
    return out


def parse_args(tool):
    ap = argparse.ArgumentParser(description="%s peer: the benchmark indicators on the synthetic city" % tool)
    ap.add_argument("--k", type=float, required=True, help="scale (data in $PM_BENCH_DATA/k{K})")
    ap.add_argument("--indicator", default="all", help="indicator id or 'all' (comma-separated list allowed)")
    ap.add_argument("--json", required=True, help="output file")
    ap.add_argument("--data", help="data folder (default $PM_BENCH_DATA/k{K}, /tmp/pm-bench-data/k{K})")
    ap.add_argument("--fmt", default="gpkg", choices=["gpkg", "shp"])
    ap.add_argument("--workdir", help="scratch folder (databases)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    a = ap.parse_args()
    a.data = a.data or common.data_dir(a.k)
    ids = [i["id"] for i in common.INDICATORS] if a.indicator == "all" else a.indicator.split(",")
    for i in ids:
        if i not in common.IND_BY_ID:
            ap.error("unknown indicator %s" % i)
    a.ids = ids
    return a


def layer_path(a, layer):
    return os.path.join(a.data, "%s.%s" % (layer, a.fmt))


def share(num, den):
    return {"value": (100.0 * num / den) if den else None, "numerator": num, "denominator": den}


def amount(v):
    return {"value": v, "numerator": v, "denominator": None}


class Output:
    """Collects results and timings, writes them as JSON shaped like planmetrics' report."""

    def __init__(self, tool, a):
        self.tool, self.a = tool, a
        self.indicators = []
        self.timings = {"load_s": {}, "compute_s": {}}
        self.notes = []
        self.t_start = time.perf_counter()

    def add(self, ind_id, rows, districts, classes=None):
        """rows: {district name or '_all': dict(value, numerator, denominator)}."""
        res = []
        for d in list(districts) + ["_all"]:
            r = dict(rows.get(d) or {"value": None, "numerator": None, "denominator": None})
            r["district"] = d
            if classes is not None:
                r["classes"] = [{"label": lab, "count": int(classes.get(d, {}).get(lab, 0))}
                                for lab in classes["_labels"]]
            res.append(r)
        self.indicators.append({"id": ind_id, "metric": common.IND_BY_ID[ind_id]["metric"], "results": res})

    def write(self):
        self.timings["total_s"] = time.perf_counter() - self.t_start
        self.timings["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        common.write_json(self.a.json, {"tool": self.tool, "k": self.a.k, "indicators": self.indicators,
                                        "timings": self.timings, "notes": self.notes})


class Timer:
    def __init__(self, store, key):
        self.store, self.key = store, key

    def __enter__(self):
        self.t = time.perf_counter()

    def __exit__(self, *exc):
        self.store[self.key] = self.store.get(self.key, 0.0) + time.perf_counter() - self.t
