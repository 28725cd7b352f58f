#!/usr/bin/python3
"""network_indicators.py: planmetrics' walking-network indicators and network queries recomputed
independently, value by value.

Nothing here calls planmetrics' library: the project layers are read through GDAL, the graph is
built again by network_check.python_graph (METRICS.md §5, `connect: vertices`), points are snapped
by brute force over every segment of every edge outside islands (numpy; a grid of cells only
skips the segments that cannot be nearest), and distances come from networkx's Dijkstra from a
super-source whose edges carry each access point's leg to both ends of its edge (plus the walk
along a shared edge). Then:

  run mode (--run REPORT.json): every computed indicator of the recorded run measured with
    distance: network, and every life_circle and connectivity, is recomputed from its recorded
    parameters (pm_indicators.params):
    - transfer_coverage, basis station (with or without entrances): per district and `_all`,
      numerator, denominator and value; every gap (failing station) with its walked distance to
      the nearest stop and the straight-line distance to that stop;
    - coverage: the reached network of each radius class (its length against the run's "reached"
      details, rtol 1e-6); population points (or weighted features) by their own walked
      distance: numerator and denominator exactly, each gap's walked distance to the nearest
      source; land by area (a polygon population layer, or the districts): the reached network
      widened by access_width_m, intersected with the land: value within 0.05 percentage points.
    - life_circle (distance network or euclidean): per district and `_all` the served weight
      (homes: points, or polygons at their representative point, weighted by weight_field, else
      area, else 1) exactly, per facility type its served share (the `facilities` array),
      `require` all or k; every gap (unserved home): the types it lacks, the largest of their
      distances (exactly) and each one's distance in the note (to the metre it is printed to).
      Walking: one search per type from all its facilities (points, or polygon boundaries every
      20 m and at every vertex) over the whole network, each home read at its own snapped
      distance; straight lines: brute force over every facility's points and boundary segments
      (numpy), 0 inside a polygon.
    - connectivity (any `connect`): independently of the graph above, with shapely: the lines
      clipped to the district (`_all`: the plan area), the pieces as connected components of
      a union-find over identical vertices (vertices; crossings: over the lines noded by
      unary_union) with line ends joined to ends or shared vertices closer than 0.5 m; the
      dissolved length of each piece and of everything (unary_union), the largest piece's share,
      and every other piece's length (rtol 1e-8) and straight-line gap to the largest (1e-6 m).
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
import re
import subprocess
import sys

import networkx as nx
import numpy as np
import shapely.ops
import shapely.prepared
import shapely.wkb
from osgeo import ogr
from shapely.geometry import Point

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


def rel(a, b):
    """The relative difference of two numbers (0 when both are missing or equal)."""
    if a is None or b is None or a == b:
        return 0.0 if a == b else math.inf
    return abs(a - b) / max(abs(a), abs(b))


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
        self.snaps = {}
        # Only to save time: every segment listed in each cell its bounding box touches. A point's
        # nearest segment, when at most one cell away, is among those of the 3 x 3 cells around
        # it; farther, every segment is searched. Same arithmetic and order either way.
        self.cell = max(float(max_snap), 1.0)
        cells = collections.defaultdict(list)
        c = self.cell
        for k, (x0, x1, y0, y1) in enumerate(zip(np.minimum(self.ax, self.bx) // c,
                                                  np.maximum(self.ax, self.bx) // c,
                                                  np.minimum(self.ay, self.by) // c,
                                                  np.maximum(self.ay, self.by) // c)):
            for i in range(int(x0), int(x1) + 1):
                for j in range(int(y0), int(y1) + 1):
                    cells[(i, j)].append(k)
        self.cells = cells

    def snap(self, x, y):
        s = self.snaps.get((x, y))
        if s is None:
            s = self.snaps[(x, y)] = self._snap(x, y)
        return s

    def _nearest(self, x, y, k):
        t = np.clip(((x - self.ax[k]) * self.dx[k] + (y - self.ay[k]) * self.dy[k]) /
                    np.where(self.l2[k] > 0, self.l2[k], 1), 0, 1)
        d = np.hypot(x - (self.ax[k] + t * self.dx[k]), y - (self.ay[k] + t * self.dy[k]))
        i = int(np.argmin(d))  # the first of equals, as over every segment (k ascending)
        return float(d[i]), int(k[i]), float(t[i])

    def _snap(self, x, y):
        if len(self.ax) == 0:
            return Snap(x, y, False, -1, 0.0, math.inf)
        ci, cj = int(x // self.cell), int(y // self.cell)
        near = [k for i in (ci - 1, ci, ci + 1) for j in (cj - 1, cj, cj + 1)
                for k in self.cells.get((i, j), ())]
        leg = math.inf
        if near:
            leg, i, t = self._nearest(x, y, np.unique(np.array(near, dtype=np.int64)))
        if leg > self.cell:
            leg, i, t = self._nearest(x, y, np.arange(len(self.ax)))
        return Snap(x, y, leg <= self.max_snap, int(self.se[i]),
                    float(self.sstart[i] + t * self.slen[i]), leg)

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

    @staticmethod
    def by_edge(seeds):
        """The routable seeds of each edge (for dist_to, when many points are looked up)."""
        out = collections.defaultdict(list)
        for s in seeds:
            if s.ok:
                out[s.edge].append(s)
        return out

    def dist_to(self, dist, seeds, q):
        """d of §5 from the seeds of a search (a list, or by_edge of it) to snapped point q (inf
        when not reached)."""
        if not q.ok:
            return math.inf
        u, v, w, _ = self.edges[q.edge]
        same = seeds.get(q.edge, ()) if isinstance(seeds, dict) else \
            [s for s in seeds if s.ok and s.edge == q.edge]
        c = [s.leg + abs(s.pos - q.pos) for s in same]
        if u in dist:
            c.append(dist[u] + q.pos)
        if v in dist:
            c.append(dist[v] + (w - q.pos))
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
    network_check.ring_entry_points(ring.GetPoints() or [], STEP_M, out)


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
    searches, by_edge = {}, {}
    bufs = []
    mine_len = reached_lengths(ds, run_id, ind["id"])
    for r in sorted(seeds_of):
        dist = net.search(seeds_of[r], r)
        searches[r] = dist
        by_edge[r] = net.by_edge(seeds_of[r])
        iv = net.reached(dist, seeds_of[r], r)
        length = sum(b - a for ivs in iv.values() for a, b in ivs)
        got = mine_len.get(r, 0.0)
        if not close(got, length, 1e-6, 1e-3):
            problem(f"{ind['id']}: reached network of the {r:g} m sources {got!r} m, "
                    f"reference {length!r} m")
        # each reached stretch widened, all united in cascade (the same region as widening the
        # whole at once, ten times faster)
        reached = shapely.wkb.loads(bytes(net.reached_geometry(iv).ExportToWkb()))
        bufs += [ln.buffer(width if width > 0 else 1e-6, QUADSEGS) for ln in reached.geoms]
    covered = ogr.CreateGeometryFromWkb(shapely.ops.unary_union(bufs).wkb) if bufs else \
        ogr.Geometry(ogr.wkbPolygon)
    # the nearest source of anything, along the network, without a limit (gaps)
    nearest_dist = net.search(all_seeds)
    all_by_edge = net.by_edge(all_seeds)

    def nearest(x, y):
        q = net.snap(x, y)
        return net.dist_to(nearest_dist, all_by_edge, q)

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
            cov = any(net.dist_to(searches[r], by_edge[r], q) <= r for r in searches)
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
# life_circle

def point(x, y):
    p = ogr.Geometry(ogr.wkbPoint)
    p.AddPoint_2D(x, y)
    return p


class Straight:
    """Straight-line distance from a point to the nearest of some geometries, by brute force over
    every point and every boundary segment (numpy); 0 inside a polygon."""

    def __init__(self, geoms):
        self.pts, self.seg, self.polys = [], [], []
        for g in geoms:
            self._add(g)
        p = np.array(self.pts) if self.pts else np.zeros((0, 2))
        self.px, self.py = p[:, 0], p[:, 1]
        s = np.array(self.seg) if self.seg else np.zeros((0, 4))
        self.ax, self.ay = s[:, 0], s[:, 1]
        self.dx, self.dy = s[:, 2] - s[:, 0], s[:, 3] - s[:, 1]
        self.l2 = self.dx * self.dx + self.dy * self.dy

    def _add(self, g):
        t = ogr.GT_Flatten(g.GetGeometryType())
        if t == ogr.wkbPoint:
            self.pts.append((g.GetX(), g.GetY()))
        elif t in (ogr.wkbLineString, ogr.wkbLinearRing):
            pts = g.GetPoints() or []
            for k in range(1, len(pts)):
                self.seg.append((pts[k - 1][0], pts[k - 1][1], pts[k][0], pts[k][1]))
            if len(pts) == 1:
                self.pts.append((pts[0][0], pts[0][1]))
        else:
            if t == ogr.wkbPolygon:
                self.polys.append((g.GetEnvelope(), g.Clone()))
            for i in range(g.GetGeometryCount()):
                self._add(g.GetGeometryRef(i))

    def dist(self, x, y):
        d = math.inf
        if len(self.px):
            d = float(np.min(np.hypot(self.px - x, self.py - y)))
        if len(self.ax):
            t = np.clip(((x - self.ax) * self.dx + (y - self.ay) * self.dy) /
                        np.where(self.l2 > 0, self.l2, 1), 0, 1)
            d = min(d, float(np.min(np.hypot(x - (self.ax + t * self.dx),
                                             y - (self.ay + t * self.dy)))))
        if d > 0:
            pt = None
            for (x0, x1, y0, y1), g in self.polys:
                if x0 <= x <= x1 and y0 <= y <= y1:
                    pt = pt or point(x, y)
                    if g.Contains(pt):
                        return 0.0
        return d


def check_life_circle(ds, net, p, ind, districts):
    types, within, geoms = [], {}, collections.defaultdict(list)
    for f in p["facilities"]:
        if f["name"] not in within:
            types.append(f["name"])
            within[f["name"]] = f["within_m"]
        geoms[f["name"]] += [g for _, g, _ in read_layer(ds, f["layer"], f["where"])]
    req = str(p.get("require") or "all")
    need = len(types) if req == "all" else int(req)
    if net is not None:
        # one search per type from every entry point of its facilities, over the whole network
        # (the gaps want the distance to the nearest of each type, however far)
        reach = {}
        for t in types:
            seeds = [net.snap(x, y) for g in geoms[t] for x, y in boundary_points(g)]
            reach[t] = (net.search(seeds), net.by_edge(seeds))
    else:
        straight = {t: Straight(geoms[t]) for t in types}
    wf = p.get("weight_field")
    layer = p["homes"]["layer"]
    num, den = collections.Counter(), collections.Counter()
    tnum = {t: collections.Counter() for t in types}
    ref_gaps = {}
    n_homes = n_unroutable = n_edge = 0
    for fid, g, attrs in read_layer(ds, layer, p["homes"]["where"], (wf,) if wf else ()):
        if wf:
            v = attrs[wf]
            w = 0.0 if v is None or str(v).strip() == "" else float(v)
        elif ogr.GT_Flatten(g.GetGeometryType()) in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
            w = g.GetArea()
        else:
            w = 1.0
        x, y = xy_of(g)
        slots = districts.slots_of_point(x, y)
        if not slots:
            continue
        n_homes += 1
        unroutable = False
        if net is not None:
            q = net.snap(x, y)
            unroutable = not q.ok
            n_unroutable += unroutable
            d = {t: net.dist_to(*reach[t], q) for t in types}
        else:
            d = {t: straight[t].dist(x, y) for t in types}
        ok = {t: not unroutable and d[t] <= within[t] for t in types}
        n_edge += any(abs(d[t] - within[t]) < 1e-6 for t in types)
        served = sum(ok.values()) >= need
        for s in slots:
            den[s] += w
            num[s] += w if served else 0
            for t in types:
                tnum[t][s] += w if ok[t] else 0
        if not served and w > 0:
            ref_gaps[f"{layer}#{fid}"] = (slots, w, d, ok, unroutable, x, y)
    compare_shares(ind, num, den)
    dev_w = max((rel(r.get("numerator"), num[r["district"]]) for r in ind["results"]
                 if den[r["district"]] > 0), default=0.0)
    dev_d = 0.0
    for r in ind["results"]:
        s = r["district"]
        fac = r.get("facilities") or []
        if [f["name"] for f in fac] != types:
            problem(f"{ind['id']} {s}: facility types {[f['name'] for f in fac]}, "
                    f"reference {types}")
            continue
        for f in fac:
            t = f["name"]
            v = 100.0 * tnum[t][s] / den[s] if den[s] > 0 else None
            if not close(f.get("numerator"), tnum[t][s], 1e-9, 1e-6) or \
                    not close(f.get("denominator"), den[s], 1e-9, 1e-6) or \
                    not close(f.get("value"), v, 1e-8, 1e-6):
                problem(f"{ind['id']} {s} {t}: {f.get('numerator')}/{f.get('denominator')} = "
                        f"{f.get('value')}, reference {tnum[t][s]}/{den[s]} = {v}")
            if req == "all" and r.get("value") is not None and f.get("value") is not None and \
                    r["value"] > f["value"] + 1e-9:
                problem(f"{ind['id']} {s}: require all {r['value']} > {t} {f['value']}")
        # gaps: the unserved homes of this slot, with the types they lack and their distances
        mine = {g["id"]: g for g in r["gaps"]}
        want = {gid for gid, v in ref_gaps.items() if s in v[0]}
        for gid in sorted(set(mine) - want):
            problem(f"{ind['id']} {s}: gap {gid} is served (or outside) in the reference")
        for gid in sorted(want - set(mine)):
            problem(f"{ind['id']} {s}: unserved {gid} is not a gap")
        if r.get("n_gaps") != len(want):
            problem(f"{ind['id']} {s}: n_gaps {r.get('n_gaps')}, reference {len(want)}")
        for gid in sorted(set(mine) & want):
            g = mine[gid]
            slots, w, d, ok, unroutable, x, y = ref_gaps[gid]
            lacks = [t for t in types if not ok[t]]
            worst = None if unroutable else max(d[t] for t in lacks)
            if worst is not None and math.isinf(worst):
                worst = None
            home = slots[0] if slots[0] != "_all" else None
            if g.get("nearest") != ", ".join(lacks):
                problem(f"{ind['id']} {s}: gap {gid} lacks {g.get('nearest')!r}, reference "
                        f"{', '.join(lacks)!r}")
            if worst is not None and g.get("distance_m") is not None:
                dev_d = max(dev_d, abs(g["distance_m"] - worst))
            if not close(g.get("distance_m"), worst, 1e-9, 1e-6):
                problem(f"{ind['id']} {s}: gap {gid} at {g.get('distance_m')!r} m, reference "
                        f"{worst!r} m")
            if not close(g.get("shortfall"), w, 1e-9, 1e-6) or g.get("district") != home or \
                    not close(g.get("x"), x, 0, 1e-3) or not close(g.get("y"), y, 0, 1e-3):
                problem(f"{ind['id']} {s}: gap {gid} weight {g.get('shortfall')} in "
                        f"{g.get('district')} at ({g.get('x')}, {g.get('y')}), reference {w} in "
                        f"{home} at ({x}, {y})")
            note = g.get("note") or ""
            if unroutable != note.startswith("unroutable"):
                problem(f"{ind['id']}: gap {gid} note {note!r}, reference unroutable {unroutable}")
            for t in lacks:
                if math.isinf(d[t]):
                    if f"{t} (none reachable)" not in note:
                        problem(f"{ind['id']}: gap {gid} note {note!r}: {t} none reachable")
                    continue
                m = re.search(re.escape(t) + r" (\d+) m \(within ", note)
                if not m or abs(int(m.group(1)) - d[t]) > 0.5 + 1e-6:
                    problem(f"{ind['id']}: gap {gid} note {note!r}: {t} at {d[t]!r} m")
    a = next(r for r in ind["results"] if r["district"] == "_all")
    shares = ", ".join(f"{t} {f.get('value')}" for t, f in zip(types, a.get("facilities") or []))
    nd = len(ind["results"]) - 1
    print(f"{ind['id']}: {n_homes} homes ({'walked' if net else 'straight line'}"
          f"{', %d unroutable' % n_unroutable if n_unroutable else ''}"
          f"{', %d districts' % nd if nd else ''}), require {req} of {len(types)} types: _all "
          f"{a.get('value')} % ({shares}); "
          f"{len([v for v in ref_gaps.values() if '_all' in v[0]])} gaps in _all"
          f"{'; %d homes within 1e-6 m of a within_m' % n_edge if n_edge else ''}: agree "
          f"(largest differences: served weight {dev_w:.1e} relative, gap distances "
          f"{dev_d:.1e} m)")


# ---------------------------------------------------------------------------------------------
# connectivity

MERGE_M = 0.5
# Lengths agree to the report's 10 significant digits (5e-10); 1e-8 leaves room for the two
# dissolves adding up segments in other orders, and still sees a centimetre in ten kilometres.
LEN_RTOL = 1e-8


def shp(g):
    return shapely.wkb.loads(bytes(g.ExportToWkb()))


def line_parts(g, out):
    if g.is_empty:
        return
    if g.geom_type in ("LineString", "LinearRing"):
        out.append(g)
    elif hasattr(g, "geoms"):
        for h in g.geoms:
            line_parts(h, out)


def pieces_of(parts, connect):
    """[(length, dissolved geometry)] of the connected pieces of the lines, longest first, and the
    dissolved length of all of them."""
    if connect == "crossings":
        noded = []
        line_parts(shapely.ops.unary_union(parts), noded)
        parts = noded
    parent = {}

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a, b):
        a, b = find(a), find(b)
        if a != b:
            parent[max(a, b)] = min(a, b)

    kept, count, ends = [], collections.Counter(), set()
    for ln in parts:
        pts = []
        for c in ln.coords:
            if not pts or pts[-1] != (c[0], c[1]):
                pts.append((c[0], c[1]))
        if len(pts) < 2:
            continue
        kept.append((pts, ln))
        for xy in pts:
            count[xy] += 1
            parent.setdefault(xy, xy)
        ends.update((pts[0], pts[-1]))
        for xy in pts[1:]:
            union(pts[0], xy)
    # a line end joins any end or shared vertex closer than 0.5 m
    cells = collections.defaultdict(list)
    for xy in count:
        if xy in ends or count[xy] >= 2:
            cells[(math.floor(xy[0] / MERGE_M), math.floor(xy[1] / MERGE_M))].append(xy)
    for x, y in ends:
        cx, cy = math.floor(x / MERGE_M), math.floor(y / MERGE_M)
        for i in (-1, 0, 1):
            for j in (-1, 0, 1):
                for o in cells.get((cx + i, cy + j), ()):
                    if (x - o[0]) ** 2 + (y - o[1]) ** 2 < MERGE_M ** 2:
                        union((x, y), o)
    groups = collections.defaultdict(list)
    for pts, ln in kept:
        groups[find(pts[0])].append(ln)
    pieces = []
    for lns in groups.values():
        u = shapely.ops.unary_union(lns)
        pieces.append((u.length, u))
    pieces.sort(key=lambda t: -t[0])
    total = shapely.ops.unary_union([ln for _, ln in kept]).length if kept else 0.0
    return pieces, total


def check_connectivity(ds, p, ind, districts):
    lines = [shp(g) for _, g, _ in read_layer(ds, p["layer"]["layer"], p["layer"]["where"])]
    connect = p.get("connect") or "vertices"
    regions = {}
    if districts.geom:
        regions = {n: shp(g) for n, g in zip(districts.names, districts.geom)}
        regions["_all"] = shp(districts.all)
    summary = []
    dev_len = dev_gap = 0.0
    for r in ind["results"]:
        s = r["district"]
        region = regions.get(s)
        parts = []
        if region is None:
            for g in lines:
                line_parts(g, parts)
        else:
            pr = shapely.prepared.prep(region)
            for g in lines:
                if pr.covers(g):
                    line_parts(g, parts)
                elif pr.intersects(g):
                    line_parts(g.intersection(region), parts)
        pieces, total = pieces_of(parts, connect)
        largest = pieces[0][0] if pieces else 0.0
        if total > 0:
            dev_len = max(dev_len, rel(r.get("numerator"), largest),
                          rel(r.get("denominator"), total))
        if total <= 0:
            if r.get("value") is not None:
                problem(f"{ind['id']} {s}: value {r['value']}, reference none (no lines)")
        elif not close(r.get("numerator"), largest, LEN_RTOL, 1e-6) or \
                not close(r.get("denominator"), total, LEN_RTOL, 1e-6) or \
                not close(r.get("value"), 100 * largest / total, 2 * LEN_RTOL, 1e-6):
            problem(f"{ind['id']} {s}: {r.get('numerator')} of {r.get('denominator')} m = "
                    f"{r.get('value')} %, reference {largest} of {total} m = "
                    f"{100 * largest / total if total else None} %")
        gaps = r["gaps"] or []
        if r.get("n_gaps") != max(0, len(pieces) - 1) or len(gaps) != r.get("n_gaps"):
            problem(f"{ind['id']} {s}: {r.get('n_gaps')} gaps ({len(gaps)} listed), reference "
                    f"{max(0, len(pieces) - 1)} pieces besides the largest")
        if len(pieces) > 1 and close(pieces[0][0], pieces[1][0], 1e-6, 1e-6):
            print(f"{ind['id']} {s}: two largest pieces of the same length: gaps not compared")
            continue
        # each listed piece (longest first) against an unused reference piece of the same
        # length, the nearest in gap (pieces of equal length may come in any order)
        free = list(range(1, len(pieces)))
        gap_of = {}
        last = math.inf
        for k, g in enumerate(gaps):
            length = g["shortfall"] * 1000
            if g["id"] != f"{s} piece {k + 2}" or length > last * (1 + 1e-9):
                problem(f"{ind['id']} {s}: gap {k} is {g['id']!r} of {length} m after {last} m")
            last = length
            cands = [i for i in free if close(pieces[i][0], length, LEN_RTOL, 1e-6)]
            if not cands:
                problem(f"{ind['id']} {s}: {g['id']} of {length!r} m: no such piece in the "
                        f"reference")
                continue

            def gap(i):
                if i not in gap_of:
                    gap_of[i] = pieces[i][1].distance(pieces[0][1])
                return gap_of[i]

            i = min(cands, key=lambda i: abs(gap(i) - (g["distance_m"] or 0)))
            free.remove(i)
            dev_len = max(dev_len, rel(length, pieces[i][0]))
            dev_gap = max(dev_gap, abs((g["distance_m"] or 0) - gap(i)))
            if not close(g["distance_m"], gap(i), 1e-9, 1e-6):
                problem(f"{ind['id']} {s}: {g['id']} ({length:.3f} m) {g['distance_m']!r} m from "
                        f"the largest piece, reference {gap(i)!r} m")
            if g.get("x") is None or pieces[i][1].distance(Point(g["x"], g["y"])) > 1e-3:
                problem(f"{ind['id']} {s}: {g['id']}'s link starts at ({g.get('x')}, "
                        f"{g.get('y')}), not on the piece")
        if s == "_all" or len(summary) < 3:
            summary.append(f"{s} {len(pieces)} pieces, {largest:.1f} of {total:.1f} m")
    print(f"{ind['id']} (connect {connect}): {'; '.join(summary)}: shares, piece lengths and gaps "
          f"agree (largest differences: lengths {dev_len:.1e} relative, gaps {dev_gap:.1e} m)")


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
        m = ind["metric"]
        if ind.get("status") != "computed" or \
                (ind.get("distance") != "network" and m not in ("life_circle", "connectivity")):
            continue
        p = params[ind["id"]]
        names = [r["district"] for r in ind["results"] if r["district"] != "_all"]
        districts = Districts(ds, d_layer, d_field, names)
        if m == "connectivity":
            check_connectivity(ds, p, ind, districts)
            n += 1
            continue
        if m == "life_circle" and ind.get("distance") == "euclidean":
            check_life_circle(ds, None, p, ind, districts)
            n += 1
            continue
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
        elif ind["metric"] == "life_circle":
            check_life_circle(ds, net, p, ind, districts)
        else:
            print(f"{ind['id']}: metric {ind['metric']} not checked")
            continue
        n += 1
    if n == 0:
        problem("no indicator of the run checked")


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
