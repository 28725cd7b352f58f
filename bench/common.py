# common.py: what every benchmark script shares: scale names, the indicator set, plan writing.
import importlib.machinery
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
LAYERS = ["districts", "roads", "rivers", "remediation_zones", "parks", "residential",
          "metro_stations", "entrances", "bus_stops"]
CRS_EPSG = 32651
GREENWAY_TYPES = ("footway", "cycleway", "path", "pedestrian")

# The indicators every tool computes (METRICS.md §2), with the plan-file keys planmetrics reads.
# Peers read the same dicts, so a changed parameter changes every tool at once.
INDICATORS = [
    {"id": "transfer_station", "metric": "transfer_coverage", "from": "metro_stations",
     "to": "bus_stops", "entrances": "entrances", "entrance_station_field": "station",
     "threshold_m": 50, "catchment_m": 300, "basis": "station"},
    {"id": "transfer_route", "metric": "transfer_coverage", "from": "metro_stations",
     "to": "bus_stops", "entrances": "entrances", "entrance_station_field": "station",
     "threshold_m": 50, "catchment_m": 300, "basis": "route", "routes_field": "routes",
     "routes_sep": ";"},
    {"id": "transfer_stop", "metric": "transfer_coverage", "from": "metro_stations",
     "to": "bus_stops", "entrances": "entrances", "entrance_station_field": "station",
     "threshold_m": 50, "catchment_m": 300, "basis": "stop"},
    {"id": "greenway_km", "metric": "length", "layer": "roads",
     "where": "highway IN ('footway','cycleway','path','pedestrian')",
     "near": ["rivers", "parks"], "near_m": 30},
    {"id": "river_remediation_km", "metric": "length", "layer": "rivers",
     "within": ["remediation_zones"]},
    {"id": "park_coverage", "metric": "coverage", "sources": "parks", "population": "residential",
     "classes": [{"min_area_m2": 400, "max_area_m2": 10000, "radius_m": 300, "label": "pocket park"},
                 {"min_area_m2": 10000, "radius_m": 500, "label": "park"}],
     "count_by_class": True},
    {"id": "pocket_parks", "metric": "count", "layer": "parks", "min_area_m2": 400,
     "max_area_m2": 10000},
]
IND_BY_ID = {i["id"]: i for i in INDICATORS}

# The walking network of the twins (bench/twinrun): the generated roads, every one of them (they
# have a `highway` field but not the other OSM tags the walkable default reads, so the filter is
# given). A twin `X_walk` is `X` measured along it (plans/README.md).
NETWORK = {"layer": "roads", "where": "highway IS NOT NULL"}
WALK_IDS = ["transfer_station", "transfer_route", "transfer_stop", "park_coverage"]


def walk_twin(ind):
    """The indicator X as its twin X_walk (distance: network)."""
    return dict(ind, id=ind["id"] + "_walk", distance="network")


def scale_name(k):
    """k = 1 -> 'k1', 0.1 -> 'k0.1', 10 -> 'k10'."""
    k = float(k)
    return "k%d" % k if k == int(k) else "k%g" % k


# Generated data lives outside the work tree by default (about 1.2 GB at k = 10), where nothing that
# cleans the repository can remove it half-way through a run; PM_BENCH_DATA moves it.
DATA_ROOT = os.environ.get("PM_BENCH_DATA", "/tmp/pm-bench-data")


def data_dir(k):
    return os.path.join(DATA_ROOT, scale_name(k))


def layers_of(ind):
    """Layers an indicator reads (districts always)."""
    out = ["districts"]
    for key in ("from", "to", "entrances", "layer", "sources", "population"):
        if key in ind:
            out.append(ind[key])
    for key in ("near", "within"):
        out.extend(ind.get(key, []))
    return list(dict.fromkeys(out))


def quadsegs_for(r):
    """queries/length.c quadsegs_for: chord within 5 cm of the arc, 8..32 segments per quadrant."""
    tol = 0.05
    if r <= tol * 2:
        return 8
    q = math.ceil(math.acos(-1.0) / (4.0 * math.acos(1.0 - tol / r)))
    return 8 if q < 8 else 32 if q > 32 else int(q)


# queries/length.c widens `near` buffers by this much so that d == near_m counts.
INCLUSIVE_EPS_M = 1e-6
# queries/coverage.c COV_QUADSEGS
COVERAGE_QUADSEGS = 32


def _yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def _yaml_value(v):
    if isinstance(v, list):
        return "[" + ", ".join(_yaml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (k, _yaml_value(x)) for k, x in v.items()) + "}"
    return _yaml_scalar(v)


def write_plan(path, plan_id, data_rel, indicators, fmt="gpkg", layers=None, network=None):
    """Write a plan file naming layers data_rel/<layer>.<fmt> (relative to the plan's folder);
    network: the plan's `network:` block (a dict), or None."""
    if layers is None:
        layers = []
        for ind in indicators:
            layers.extend(layers_of(ind))
        layers = [l for l in LAYERS if l in set(layers) | {"districts"}]
    lines = ["# Generated by bench/gen; do not edit.",
             "plan: %s" % plan_id,
             "crs: EPSG:%d" % CRS_EPSG,
             "districts: {layer: districts, name_field: NAME}"]
    if network:
        lines.append("network: %s" % _yaml_value(network))
    lines.append("layers:")
    for l in layers:
        extra = ", label_field: NAME" if l == "districts" else ""
        lines.append("  %s: {path: %s%s}" % (l, json.dumps(os.path.join(data_rel, "%s.%s" % (l, fmt))), extra))
    lines.append("indicators:" if indicators else "indicators: []")
    for ind in indicators:
        first = True
        for key, v in ind.items():
            lines.append(("  - " if first else "    ") + "%s: %s" % (key, _yaml_value(v)))
            first = False
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
    os.replace(tmp, path)


def load_run():
    """bench/run as a module: its build, measuring and machine helpers."""
    loader = importlib.machinery.SourceFileLoader("bench_run", os.path.join(BENCH_DIR, "run"))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def time_cmd(cmd, timeout=None):
    """Run cmd under /usr/bin/time: {wall, cpu (user + system), rss (peak kB), rc}; None when it
    failed (exit code other than 0 or 1, printed) or ran past timeout."""
    fd, tf = tempfile.mkstemp(prefix="pm-bench-time-")
    os.close(fd)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", tf] + cmd, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired:
        os.remove(tf)
        return None
    wall = time.perf_counter() - t0
    parts = open(tf).read().split()
    os.remove(tf)
    if p.returncode not in (0, 1):
        sys.stderr.write("command failed (%d): %s\n%s\n" % (p.returncode, " ".join(cmd), p.stderr.decode()[-3000:]))
        return None
    return {"wall": wall, "rss": int(parts[-3]), "cpu": float(parts[-2]) + float(parts[-1]), "rc": p.returncode}


def write_section(results_md, lines, begin, end):
    """Replace the section of RESULTS.md between the markers begin and end, else put it before the
    notes bench/run appends (bench/NOTES.md), else at the end."""
    text = open(results_md).read() if os.path.exists(results_md) else ""
    block = "\n".join(lines) + "\n"
    if begin in text and end in text:
        a, b = text.index(begin), text.index(end) + len(end)
        text = text[:a] + block.rstrip("\n") + text[b:]
    else:
        notes = os.path.join(BENCH_DIR, "NOTES.md")
        first = open(notes).readline() if os.path.exists(notes) else None
        if first and first in text:
            i = text.index(first)
            text = text[:i] + block + "\n" + text[i:]
        else:
            text = text.rstrip("\n") + "\n\n" + block
    with open(results_md, "w") as f:
        f.write(text)
# ---- the life circle of bench/lcrun (METRICS.md §5 life_circle) -----------------------------
# Facility points of bench/poigen: layer `pois` (field `type`), placed beside the generated roads.
# per_k: points at k = 1 (scaled by k like every other count). The counts are chosen so that each
# type alone serves most homes and `require: all` about half (a plan mid-way to its target), not
# to mimic Shanghai's real numbers.
POI_TYPES = [
    # (type, points at k = 1)
    ("kindergarten", 50000),
    ("primary_school", 15000),
    ("market", 50000),
    ("elderly_care", 15000),
    ("clinic", 10000),
]
# The six facility types and their walking distances (GB 50180-2018's circles are 300, 500 and
# 800-1000 m; the generated blocks are large, so a home's representative point is ~130 m from its
# street and the shortest distance here is 500 m); the sixth, parks, is the generated park polygons
# (entered from their boundary every 20 m).
LC_FACILITIES = [
    {"name": "kindergarten", "layer": "pois", "where": "type = 'kindergarten'", "within_m": 500},
    {"name": "primary school", "layer": "pois", "where": "type = 'primary_school'", "within_m": 800},
    {"name": "market", "layer": "pois", "where": "type = 'market'", "within_m": 500},
    {"name": "elderly care", "layer": "pois", "where": "type = 'elderly_care'", "within_m": 800},
    {"name": "clinic", "layer": "pois", "where": "type = 'clinic'", "within_m": 1000},
    {"name": "park", "layer": "parks", "within_m": 1000},
]
# Homes are the residential block polygons; their representative point lies up to ~180 m from
# the nearest street (grid cells are 153-357 m across), so the snap limit is raised from the
# default 100 m to 200 m: every home is routable.
LC_NETWORK = {"layer": "roads", "where": "highway IS NOT NULL", "max_snap_m": 200}
LC_INDICATOR = {"id": "life_circle", "metric": "life_circle", "homes": "residential",
                "facilities": LC_FACILITIES, "require": "all", "distance": "network"}
LC_LAYERS = ["districts", "roads", "parks", "residential", "pois"]
