#!/usr/bin/python3
"""network_indicators.py: planmetrics' walking-network indicators and network queries recomputed
independently, value by value.

Nothing here calls planmetrics' library: the project layers are read through GDAL, the graph is
built again by network_check.python_graph (METRICS.md §5, `connect: vertices`), points are snapped
by brute force over every segment of every edge outside islands (numpy), and distances come from
networkx's Dijkstra from a super-source whose edges carry each access point's leg to both ends of
its edge (plus the walk along a shared edge). Then:

  run mode (--run REPORT.json): every indicator of the recorded run measured with distance:
    network is recomputed from its recorded parameters (pm_indicators.params):
    - transfer_coverage, basis station (with or without entrances): per district and `_all`,
      numerator, denominator and value; every gap (failing station) with its walked distance to
      the nearest stop and the straight-line distance to that stop;
    - coverage: the reached network of each radius class (its length against the run's "reached"
      details, rtol 1e-6); population points (or weighted features) by their own walked
      distance: numerator and denominator exactly, each gap's walked distance to the nearest
      source; land by area (a polygon population layer, or the districts): the reached network
      widened by access_width_m, intersected with the land: value within 0.05 percentage points.
  query mode (--queries LAYER): `planmetrics network info`, `query reach` from every feature of
    LAYER, and `query route` between pairs of its features, against the same reference.

usage: network_indicators.py --db PROJECT --run REPORT.json
       network_indicators.py --db PROJECT --pm PLANMETRICS --queries LAYER --network LAYER
                             [--within M] [--pairs N]
Exit 0 when everything agrees, 1 otherwise (each difference printed).
"""
import argparse
import collections
import json
import math
import os
import subprocess
import sys

import networkx as nx
import numpy as np
from osgeo import ogr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import network_check  # noqa: E402

ogr.UseExceptions()
STEP_M = 20.0  # §5: polygon sources are entered from their boundary every 20 m
QUADSEGS = 8   # planmetrics widens the reached network with 8 segments a quarter circle
problems = []


def problem(msg):
    problems.append(msg)
    if len(problems) <= 40:
        print("DIFF:", msg)


def close(a, b, rtol=1e-9, atol=1e-6):
    if a is None or b is None:
        return a is None and b is None
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


class Snap:
    __slots__ = ("x", "y", "ok", "edge", "pos", "leg")

    def __init__(self, x, y, ok, edge, pos, leg):
        self.x, self.y, self.ok, self.edge, self.pos, self.leg = x, y, ok, edge, pos, leg


class Net:
    """The graph of a line layer, with brute-force snapping and Dijkstra searches."""

    def __init__(self, db, layer, where, min_piece, max_snap):
        gr = network_check.python_graph(db, layer, where, min_piece)
        self.summary = gr
        self.edges = gr["edge_list"]  # (u, v, length, coords from u to v)
        self.max_snap = max_snap
        self.g = nx.MultiGraph()
        for u, v, w, _ in self.edges:
            self.g.add_edge(u, v, weight=w)
        comp_len = {}
        for comp in nx.connected_components(self.g):
            length = sum(d["weight"] for _, _, d in self.g.subgraph(comp).edges(data=True))
            for n in comp:
                comp_len[n] = length
        self.island = [comp_len[u] < min_piece for u, _, _, _ in self.edges]
        seg = []
        for e, (u, v, w, pts) in enumerate(self.edges):
            if self.island[e]:
                continue
            along = 0.0
            for k in range(1, len(pts)):
                length = math.hypot(pts[k][0] - pts[k - 1][0], pts[k][1] - pts[k - 1][1])
                seg.append((pts[k - 1][0], pts[k - 1][1], pts[k][0], pts[k][1], e, along, length))
                along += length
        s = np.array(seg) if seg else np.zeros((0, 7))
        self.ax, self.ay, self.bx, self.by = s[:, 0], s[:, 1], s[:, 2], s[:, 3]
        self.se, self.sstart, self.slen = s[:, 4].astype(np.int64), s[:, 5], s[:, 6]
        self.dx, self.dy = self.bx - self.ax, self.by - self.ay
        self.l2 = self.dx * self.dx + self.dy * self.dy

    def snap(self, x, y):
        if len(self.ax) == 0:
            return Snap(x, y, False, -1, 0.0, math.inf)
        t = np.clip(((x - self.ax) * self.dx + (y - self.ay) * self.dy) /
                    np.where(self.l2 > 0, self.l2, 1), 0, 1)
        d = np.hypot(x - (self.ax + t * self.dx), y - (self.ay + t * self.dy))
        i = int(np.argmin(d))
        leg = float(d[i])
        return Snap(x, y, leg <= self.max_snap, int(self.se[i]),
                    float(self.sstart[i] + t[i] * self.slen[i]), leg)

    def search(self, seeds, cutoff=math.inf):
        """Node distances from the nearest of the (routable) seeds, up to cutoff."""
        best = {}
        for s in seeds:
            if not s.ok:
                continue
            u, v, w, _ = self.edges[s.edge]
            for n, off in ((u, s.leg + s.pos), (v, s.leg + (w - s.pos))):
                if off < best.get(n, math.inf):
                    best[n] = off
        if not best:
            return {}
        for n, off in best.items():
            self.g.add_edge("S", n, weight=off)
        dist = nx.single_source_dijkstra_path_length(
            self.g, "S", cutoff=None if math.isinf(cutoff) else cutoff)
        self.g.remove_node("S")
        dist.pop("S", None)
        return dist

    def dist_to(self, dist, seeds, q):
        """d of §5 from the seeds of a search to snapped point q (inf when not reached)."""
        if not q.ok:
            return math.inf
        u, v, w, _ = self.edges[q.edge]
        c = []
        if u in dist:
            c.append(dist[u] + q.pos)
        if v in dist:
            c.append(dist[v] + (w - q.pos))
        for s in seeds:
            if s.ok and s.edge == q.edge:
                c.append(s.leg + abs(s.pos - q.pos))
        return min(c) + q.leg if c else math.inf

    def reached(self, dist, seeds, cutoff):
        """Per edge, the disjoint intervals [a, b] of positions within cutoff of the seeds."""
        iv = collections.defaultdict(list)
        for e, (u, v, w, _) in enumerate(self.edges):
            if u in dist and dist[u] <= cutoff:
                iv[e].append((0.0, min(w, cutoff - dist[u])))
            if v in dist and dist[v] <= cutoff:
                iv[e].append((max(0.0, w - (cutoff - dist[v])), w))
        for s in seeds:
            if s.ok and cutoff - s.leg >= 0:
                w = self.edges[s.edge][2]
                r = cutoff - s.leg
                iv[s.edge].append((max(0.0, s.pos - r), min(w, s.pos + r)))
        out = {}
        for e, ivs in iv.items():
            merged = []
            for a, b in sorted(ivs):
                if merged and a <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            out[e] = [(a, b) for a, b in merged if b > a]
        return out

    def substring(self, e, a, b):
        pts = self.edges[e][3]
        out, along = [], 0.0
        for k in range(1, len(pts)):
            (x0, y0), (x1, y1) = pts[k - 1], pts[k]
            length = math.hypot(x1 - x0, y1 - y0)
            lo, hi = along, along + length
            if hi >= a and lo <= b and length > 0:
                ta, tb = max(0.0, (a - lo) / length), min(1.0, (b - lo) / length)
                p = (x0 + ta * (x1 - x0), y0 + ta * (y1 - y0))
                q = (x0 + tb * (x1 - x0), y0 + tb * (y1 - y0))
                if not out or out[-1] != p:
                    out.append(p)
                out.append(q)
            along = hi
        return out

    def reached_geometry(self, intervals):
        m = ogr.Geometry(ogr.wkbMultiLineString)
        for e, ivs in intervals.items():
            for a, b in ivs:
                pts = self.substring(e, a, b)
                if len(pts) >= 2:
                    ls = ogr.Geometry(ogr.wkbLineString)
                    for x, y in pts:
                        ls.AddPoint_2D(x, y)
                    m.AddGeometry(ls)
        return m


# ---------------------------------------------------------------------------------------------
# project layers, read through GDAL

def read_layer(ds, name, where=None, fields=()):
    """[(fid, geometry clone, {field: value} of the fields asked for)] in fid order."""
    lyr = ds.GetLayerByName(name)
    if lyr is None:
        sys.exit(f"no layer {name}")
    lyr.SetAttributeFilter(where)
    out = []
    for f in lyr:
        g = f.GetGeometryRef()
        if g is None or g.IsEmpty():
            continue
        out.append((f.GetFID(), g.Clone(), {k: f.GetField(k) for k in fields}))
    lyr.SetAttributeFilter(None)
    return sorted(out, key=lambda t: t[0])


def xy_of(g):
    p = g if g.GetGeometryType() in (ogr.wkbPoint, ogr.wkbPoint25D) else g.PointOnSurface()
    return p.GetX(), p.GetY()


def ring_points(ring, out):
    """A ring's first vertex, a point every STEP_M along it and every vertex (not the closing one)."""
    pts = ring.GetPoints() or []
    n = len(pts)
    along, nxt = 0.0, STEP_M
    for i in range(n):
        x, y = pts[i][0], pts[i][1]
        if i > 0:
            px, py = pts[i - 1][0], pts[i - 1][1]
            length = math.hypot(x - px, y - py)
            while length > 0 and nxt <= along + length:
                t = (nxt - along) / length
                if 0 < t < 1:
                    out.append((px + t * (x - px), py + t * (y - py)))
                nxt += STEP_M
            along += length
        if i + 1 < n or n == 1:
            out.append((x, y))


def boundary_points(g):
    out = []
    t = ogr.GT_Flatten(g.GetGeometryType())
    if t in (ogr.wkbMultiPolygon, ogr.wkbGeometryCollection):
        for i in range(g.GetGeometryCount()):
            out += boundary_points(g.GetGeometryRef(i))
    elif t == ogr.wkbPolygon:
        ring_points(g.GetGeometryRef(0), out)
    else:
        out.append(xy_of(g))
    return out


class Districts:
    """The run's districts (slots in the run's order) and `_all`; a point belongs to every district
    polygon that covers it (boundary included)."""

    def __init__(self, ds, layer, field, names):
        self.names = names
        self.geom = []
        if layer:
            for name in names:
                u = None
                for _, g, a in read_layer(ds, layer, fields=(field,)):
                    if a.get(field) == name:
                        u = g if u is None else u.Union(g)
                if u is None:
                    sys.exit(f"district {name} not found in {layer}")
                self.geom.append(u)
        self.all = None
        for g in self.geom:
            self.all = g if self.all is None else self.all.Union(g)

    def slots_of_point(self, x, y):
        p = ogr.Geometry(ogr.wkbPoint)
        p.AddPoint_2D(x, y)
        if not self.geom:
            return ["_all"]
        s = [self.names[i] for i, g in enumerate(self.geom) if g.Intersects(p)]
        return s + ["_all"] if s else []

    def clip(self, slot, g):
        if not self.geom:
            return g
        return g.Intersection(self.all if slot == "_all" else self.geom[self.names.index(slot)])


# ---------------------------------------------------------------------------------------------
# transfer_coverage, basis station

def check_transfer(ds, net, p, ind, dist_slots):
    thr, catch = p["threshold_m"], p["catchment_m"]
    if p["basis"] != "station":
        print(f"{ind['id']}: basis {p['basis']} not checked")
        return
    stations = read_layer(ds, p["from"]["layer"], p["from"]["where"])
    stops = read_layer(ds, p["to"]["layer"], p["to"]["where"])
    st_xy = [xy_of(g) for _, g, _ in stations]
    # entrances: the nearest station within catchment_m (straight line), ties to the lower fid
    aps = collections.defaultdict(list)
    if p.get("entrances") and p["entrances"]["layer"]:
        if p.get("entrance_station_field"):
            print(f"{ind['id']}: entrance_station_field not checked")
            return
        for _, eg, _ in read_layer(ds, p["entrances"]["layer"], p["entrances"]["where"]):
            best = min(((eg.Distance(g), fid, i) for i, (fid, g, _) in enumerate(stations)),
                       default=None)
            if best and best[0] <= catch:
                aps[best[2]].append(xy_of(eg))
    stop_snap = [net.snap(*xy_of(g)) for _, g, _ in stops]
    num, den = collections.Counter(), collections.Counter()
    gaps = {}
    for i, (fid, g, _) in enumerate(stations):
        slots = dist_slots(*st_xy[i])
        if not slots:
            continue
        pts = aps[i] or [st_xy[i]]
        seeds = [net.snap(x, y) for x, y in pts]
        best, best_j, second = math.inf, None, math.inf
        if any(s.ok for s in seeds):
            dist = net.search(seeds)
            for j, q in enumerate(stop_snap):
                d = net.dist_to(dist, seeds, q)
                if d < best:
                    best, best_j, second = d, j, best
                elif d < second:
                    second = d
        ok = best <= thr
        for s in slots:
            den[s] += 1
            num[s] += ok
        if not ok:
            straight = None
            if best_j is not None and not close(second, best, 0, 1e-9):
                straight = min(stops[best_j][1].Distance(ogr.CreateGeometryFromWkt(
                    f"POINT ({x!r} {y!r})")) for x, y in pts)
            gaps[f"{p['from']['layer']}#{fid}"] = (best, straight)
    compare_shares(ind, num, den)
    for r in ind["results"]:
        mine = {g["id"]: g for g in r["gaps"]}
        for gid, g in mine.items():
            if gid not in gaps:
                problem(f"{ind['id']} {r['district']}: gap {gid} is not a failing station")
                continue
            d, straight = gaps[gid]
            if not close(g["distance_m"], None if math.isinf(d) else d, 1e-9, 1e-6):
                problem(f"{ind['id']} {r['district']}: gap {gid} walked {g['distance_m']!r}, "
                        f"reference {d!r}")
            if straight is not None and not close(g.get("straight_line_m"), straight, 1e-9, 1e-6):
                problem(f"{ind['id']}: gap {gid} straight {g.get('straight_line_m')!r}, "
                        f"reference {straight!r}")
            if g.get("straight_line_m") is not None and g["distance_m"] is not None and \
                    g["distance_m"] < g["straight_line_m"] - 1e-6:
                problem(f"{ind['id']}: gap {gid} walked {g['distance_m']} < straight "
                        f"{g['straight_line_m']}")
        if r["district"] == "_all" and len(mine) != len(gaps):
            problem(f"{ind['id']}: {len(mine)} gaps in _all, reference {len(gaps)}")
    n_gaps = sum(len(r["gaps"]) for r in ind["results"] if r["district"] == "_all")
    print(f"{ind['id']}: {den['_all']} stations, {num['_all']} within {thr:g} m walked, "
          f"{n_gaps} gaps: values, walked and straight-line gap distances agree")


def compare_shares(ind, num, den):
    for r in ind["results"]:
        s = r["district"]
        if den[s] == 0:
            if r.get("value") is not None:
                problem(f"{ind['id']} {s}: value {r['value']}, reference none (empty)")
            continue
        v = 100.0 * num[s] / den[s]
        if not close(r.get("numerator"), num[s], 1e-9, 1e-6) or \
                not close(r.get("denominator"), den[s], 1e-9, 1e-6) or \
                not close(r.get("value"), v, 1e-8, 1e-6):
            problem(f"{ind['id']} {s}: {r.get('numerator')}/{r.get('denominator')} = "
                    f"{r.get('value')}, reference {num[s]}/{den[s]} = {v}")


# ---------------------------------------------------------------------------------------------
# coverage

def check_coverage(ds, net, p, ind, districts, run_id):
    width = p["network"]["access_width_m"]
    if p.get("entrances") and p["entrances"]["layer"]:
        print(f"{ind['id']}: source entrances not checked")
        return
    classes = [(c["min_area_m2"], math.inf if c["max_area_m2"] is None else c["max_area_m2"],
                c["radius_m"]) for c in p["classes"]]
    largest = max(range(len(classes)), key=lambda k: classes[k][0])
    items = []  # (fid, geometry, radius)
    for fid, g, _ in read_layer(ds, p["sources"]["layer"], p["sources"]["where"]):
        t = ogr.GT_Flatten(g.GetGeometryType())
        if t in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
            a = g.GetArea()
            k = next((k for k, (lo, hi, _) in enumerate(classes) if lo <= a < hi), None)
            if k is None:
                continue
        else:
            k = largest
        r = p["radius_m"] if p["radius_m"] is not None else classes[k][2]
        items.append((fid, g, r))
    seeds_of = collections.defaultdict(list)  # radius -> snapped access points
    all_seeds, seed_item = [], []
    for idx, (fid, g, r) in enumerate(items):
        for x, y in boundary_points(g):
            s = net.snap(x, y)
            seeds_of[r].append(s)
            all_seeds.append(s)
            seed_item.append(idx)
    searches = {}
    covered = None
    mine_len = reached_lengths(ds, run_id, ind["id"])
    for r in sorted(seeds_of):
        dist = net.search(seeds_of[r], r)
        searches[r] = dist
        iv = net.reached(dist, seeds_of[r], r)
        length = sum(b - a for ivs in iv.values() for a, b in ivs)
        got = mine_len.get(r, 0.0)
        if not close(got, length, 1e-6, 1e-3):
            problem(f"{ind['id']}: reached network of the {r:g} m sources {got!r} m, "
                    f"reference {length!r} m")
        buf = net.reached_geometry(iv).Buffer(width if width > 0 else 1e-6, QUADSEGS)
        covered = buf if covered is None else covered.Union(buf)
    if covered is None:
        covered = ogr.Geometry(ogr.wkbPolygon)
    # the nearest source of anything, along the network, without a limit (gaps)
    nearest_dist = net.search(all_seeds)

    def nearest(x, y):
        q = net.snap(x, y)
        return net.dist_to(nearest_dist, all_seeds, q)

    pop = p["population"]
    num, den = collections.Counter(), collections.Counter()
    ref_gaps = {}
    if pop and pop["layer"] and (p["weight_field"] or not is_polygon_layer(ds, pop["layer"])):
        wf = (p["weight_field"],) if p["weight_field"] else ()
        for fid, g, attrs in read_layer(ds, pop["layer"], pop["where"], wf):
            w = float(attrs[p["weight_field"]] or 0) if p["weight_field"] else 1.0
            x, y = xy_of(g)
            slots = districts.slots_of_point(x, y)
            if not slots:
                continue
            q = net.snap(x, y)
            cov = any(net.dist_to(searches[r], seeds_of[r], q) <= r for r in searches)
            for s in slots:
                den[s] += w
                num[s] += w if cov else 0
            if not cov and w > 0:
                ref_gaps[f"{pop['layer']}#{fid}"] = nearest(x, y)
        kind = "points"
        compare_shares(ind, num, den)
    else:
        pop_geom = {}
        if pop and pop["layer"]:
            m = ogr.Geometry(ogr.wkbMultiPolygon)
            for fid, g, _ in read_layer(ds, pop["layer"], pop["where"]):
                pop_geom[fid] = g
                for part in ([g] if ogr.GT_Flatten(g.GetGeometryType()) == ogr.wkbPolygon
                             else [g.GetGeometryRef(i) for i in range(g.GetGeometryCount())]):
                    m.AddGeometry(part)
            land = m.UnionCascaded()
            kind = "land by area"
        else:
            land, kind = None, "district land by area"
        for r in ind["results"]:
            s = r["district"]
            base = districts.clip(s, land) if land is not None else \
                (districts.all if s == "_all" else districts.geom[districts.names.index(s)])
            a = base.GetArea()
            c = base.Intersection(covered).GetArea() if a > 0 else 0.0
            num[s], den[s] = c, a
            v = 100 * c / a if a > 0 else None
            if v is None or r.get("value") is None:
                if (v is None) != (r.get("value") is None):
                    problem(f"{ind['id']} {s}: value {r.get('value')}, reference {v}")
            elif abs(r["value"] - v) > 0.05 or not close(r["denominator"], a, 1e-6, 1e-3):
                problem(f"{ind['id']} {s}: {r['numerator']}/{r['denominator']} = {r['value']} %, "
                        f"reference {c}/{a} = {v} %")
    n_checked = 0
    for r in ind["results"]:
        if r["district"] != "_all":
            continue
        for g in r["gaps"]:
            gid = g["id"]
            if kind == "points":
                if gid not in ref_gaps:
                    problem(f"{ind['id']}: gap {gid} is covered in the reference")
                    continue
                d = ref_gaps[gid]
            else:
                if not (pop and pop["layer"]):
                    continue  # the districts' land: one gap per district, no distance
                fid = int(gid.rsplit("#", 1)[1]) if "#" in gid else None
                if fid not in pop_geom:
                    problem(f"{ind['id']}: gap {gid} is not a population feature")
                    continue
                d = nearest(*xy_of(pop_geom[fid]))
            if d is not None and not close(g["distance_m"], None if math.isinf(d) else d, 1e-9, 1e-6):
                problem(f"{ind['id']}: gap {gid} walked {g['distance_m']!r}, reference {d!r}")
            if g.get("straight_line_m") is not None and g["distance_m"] is not None and \
                    g["distance_m"] < g["straight_line_m"] - 1e-6:
                problem(f"{ind['id']}: gap {gid} walked {g['distance_m']} < straight "
                        f"{g['straight_line_m']}")
            n_checked += 1
        if kind == "points" and len(r["gaps"]) != len(ref_gaps):
            problem(f"{ind['id']}: {len(r['gaps'])} gaps in _all, reference {len(ref_gaps)}")
    a = next(r for r in ind["results"] if r["district"] == "_all")
    print(f"{ind['id']}: {len(items)} sources, radii {sorted(searches)}; {kind}: _all "
          f"{a.get('value')} %; reached lengths, values and {n_checked} gap distances agree")


def is_polygon_layer(ds, name):
    lyr = ds.GetLayerByName(name)
    return ogr.GT_Flatten(lyr.GetGeomType()) in (ogr.wkbPolygon, ogr.wkbMultiPolygon)


def reached_lengths(ds, run_id, ind_id):
    """Length of the run's "reached" details per radius class ("... (sources of 300 m)")."""
    lyr = ds.GetLayerByName("pm_details_lines")
    lyr.SetAttributeFilter(f"run_id = {run_id} AND indicator_id = '{ind_id}' AND role = 'reached'")
    out = collections.Counter()
    for f in lyr:
        r = float(f.GetField("id").rsplit("sources of ", 1)[1].split(" m")[0])
        out[r] += f.GetGeometryRef().Length()
    lyr.SetAttributeFilter(None)
    return out


# ---------------------------------------------------------------------------------------------

def run_mode(args):
    rep = json.load(open(args.run))
    ds = ogr.Open(args.db)
    con = ds.ExecuteSQL("SELECT max(run_id) AS r FROM pm_runs")
    run_id = con.GetNextFeature().GetField("r")
    ds.ReleaseResultSet(con)
    sql = ds.ExecuteSQL(f"SELECT indicator_id, params FROM pm_indicators WHERE run_id = {run_id}")
    params = {f.GetField(0): json.loads(f.GetField(1)) for f in sql}
    ds.ReleaseResultSet(sql)
    sql = ds.ExecuteSQL(f"SELECT districts_layer, districts_field FROM pm_runs WHERE run_id = {run_id}")
    f = sql.GetNextFeature()
    d_layer, d_field = f.GetField(0), f.GetField(1)
    ds.ReleaseResultSet(sql)
    nets = {}
    n = 0
    for ind in rep["indicators"]:
        if ind.get("distance") != "network":
            continue
        p = params[ind["id"]]
        names = [r["district"] for r in ind["results"] if r["district"] != "_all"]
        districts = Districts(ds, d_layer, d_field, names)
        nw = p["network"]
        key = (nw["layer"], nw["where"], nw["min_piece_m"], nw["max_snap_m"])
        if nw["connect"] != "vertices":
            print(f"{ind['id']}: connect {nw['connect']} not checked")
            continue
        if key not in nets:
            nets[key] = Net(args.db, nw["layer"], nw["where"], nw["min_piece_m"], nw["max_snap_m"])
        net = nets[key]
        info = ind["network"]
        if info["nodes"] != net.summary["nodes"] or info["edges"] != net.summary["edges"]:
            problem(f"{ind['id']}: network {info['nodes']} nodes {info['edges']} edges, "
                    f"reference {net.summary['nodes']}, {net.summary['edges']}")
        if ind["metric"] == "transfer_coverage":
            check_transfer(ds, net, p, ind, districts.slots_of_point)
        elif ind["metric"] == "coverage":
            check_coverage(ds, net, p, ind, districts, run_id)
        else:
            print(f"{ind['id']}: metric {ind['metric']} not checked")
            continue
        n += 1
    if n == 0:
        problem("no network indicator in the run")


def pm_json(args, *cmd):
    out = subprocess.run([args.pm, *cmd, "--db", args.db, "--json", "--quiet"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        problem(f"planmetrics {' '.join(cmd)}: exit {out.returncode}: {out.stderr.strip()}")
        return None
    return json.loads(out.stdout)


def access_points(g):
    t = ogr.GT_Flatten(g.GetGeometryType())
    if t in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
        return boundary_points(g)
    if t == ogr.wkbMultiPoint:
        return [(g.GetGeometryRef(i).GetX(), g.GetGeometryRef(i).GetY())
                for i in range(g.GetGeometryCount())]
    if t == ogr.wkbPoint:
        return [(g.GetX(), g.GetY())]
    sys.exit("query mode: points or polygons only")


def query_mode(args):
    ds = ogr.Open(args.db)
    lyr = ds.GetLayerByName(args.network)
    fields = [lyr.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(lyr.GetLayerDefn().GetFieldCount())]
    info = pm_json(args, "network", "info", "--layer", args.network)
    if info is None:
        return
    where = info["network"]["where"]
    net = Net(args.db, args.network, where, 200, 100)
    s = net.summary
    for k_pm, k_py in (("nodes", "nodes"), ("edges", "edges"), ("components", "components"),
                       ("dangling_ends", "dangling"), ("islands", "islands")):
        if info["network"][k_pm] != s[k_py]:
            problem(f"network info {k_pm}: {info['network'][k_pm]}, reference {s[k_py]}")
    if not close(info["network"]["length_km"], s["length_m"] / 1000, 0, 0.0006):
        problem(f"network info length_km {info['network']['length_km']}, reference {s['length_m']}")
    if len(info["pieces"]) != s["components"] - 1:
        problem(f"network info: {len(info['pieces'])} pieces listed, reference {s['components'] - 1}")
    for piece, length in zip(info["pieces"], s["comp_lengths"][1:]):
        if not close(piece["length_m"], length, 0, 0.06):
            problem(f"piece {piece['piece']}: {piece['length_m']} m, reference {length} m")
    print(f"network info: {s['nodes']} nodes, {s['edges']} edges, {s['components']} pieces "
          f"({'highway' in fields and 'OSM walkable default' or 'every line'}) agree")

    feats = read_layer(ds, args.queries)
    seeds = {fid: [net.snap(x, y) for x, y in access_points(g)] for fid, g, _ in feats}
    reach = pm_json(args, "query", "reach", "--from", args.queries, "--within", str(args.within),
                    "--network", args.network)
    if reach is not None:
        rows = {r["from_fid"]: r for r in reach}
        for fid, _, _ in feats:
            sd = seeds[fid]
            r = rows.get(fid)
            routable = any(s.ok for s in sd)
            if r is None or r["routable"] != routable:
                problem(f"reach {args.queries}#{fid}: routable {r and r['routable']}, reference {routable}")
                continue
            if not routable:
                continue
            dist = net.search(sd, args.within)
            iv = net.reached(dist, sd, args.within)
            length = sum(b - a for ivs in iv.values() for a, b in ivs)
            nodes = sum(1 for d in dist.values() if d <= args.within)
            near_cut = sum(1 for d in dist.values() if abs(d - args.within) < 1e-6)
            if not close(r["reached_km"], length / 1000, 0, 0.0006):
                problem(f"reach {args.queries}#{fid}: {r['reached_km']} km, reference {length / 1000}")
            if abs(r["reached_nodes"] - nodes) > near_cut:
                problem(f"reach {args.queries}#{fid}: {r['reached_nodes']} nodes, reference {nodes}")
        print(f"query reach: {len(rows)} features of {args.queries} within {args.within:g} m: "
              f"reached lengths and junctions agree")
    # routes between pairs of features, spread over the layer
    fids = [fid for fid, _, _ in feats]
    n_routes = 0
    for k in range(min(args.pairs, len(fids) // 2)):
        a, b = fids[(k * 7) % len(fids)], fids[(k * 13 + len(fids) // 2) % len(fids)]
        if a == b:
            continue
        out = pm_json(args, "query", "route", "--from", f"{args.queries}:{a}",
                      "--to", f"{args.queries}:{b}", "--network", args.network)
        if out is None:
            continue
        row = out[0]
        sa, sb = seeds[a], seeds[b]
        d = math.inf
        if any(s.ok for s in sa):
            dist = net.search(sa)
            d = min((net.dist_to(dist, sa, q) for q in sb), default=math.inf)
        want = None if math.isinf(d) else d
        if not close(row["walk_m"], want, 0, 0.006):
            problem(f"route {a} -> {b}: {row['walk_m']} m, reference {want} m ({row['note']})")
        if row["walk_m"] is not None and row["walk_m"] < row["straight_m"] - 0.01:
            problem(f"route {a} -> {b}: walk {row['walk_m']} < straight {row['straight_m']}")
        n_routes += 1
    print(f"query route: {n_routes} walks between features of {args.queries} agree")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--run")
    ap.add_argument("--pm")
    ap.add_argument("--queries")
    ap.add_argument("--network", default="roads")
    ap.add_argument("--within", type=float, default=400)
    ap.add_argument("--pairs", type=int, default=25)
    args = ap.parse_args()
    if args.run:
        run_mode(args)
    if args.queries:
        query_mode(args)
    if problems:
        print(f"{len(problems)} differences")
        return 1
    print("all agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
