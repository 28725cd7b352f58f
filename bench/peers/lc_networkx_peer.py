#!/usr/bin/python3
"""lc_networkx_peer.py: the life circle of bench/lcrun (bench/common.py LC_INDICATOR) computed in
networkx, from the generated GeoPackages, without planmetrics.

    bench/peers/lc_networkx_peer.py --k 1 --json OUT [--gaps]

What it does, as METRICS.md §5 defines it and an analyst with networkx would write it:
- graph: the roads (`highway IS NOT NULL`) split at every vertex shared by lines and at their
  ends, ends closer than 0.5 m merged (`connect: vertices`); edge weight = its length (segment
  lengths summed in vertex order); pieces shorter than min_piece_m (200 m) are islands, never
  snapped to. An undirected nx.Graph (parallel edges: the shortest).
- snapping: every point to the nearest point of the nearest non-island edge (numpy, over the
  segments in a grid of max_snap_m cells around it); farther than max_snap_m: unroutable.
- homes: the residential polygons at their representative point (GEOS PointOnSurface through
  Shapely), weighted by area; district = every district polygon covering the point.
- facilities: pois points of each type; parks from their boundary (a point every 20 m and every
  vertex of the exterior ring).
- one multi-source Dijkstra per type (nx.single_source_dijkstra_path_length from a super-source
  joined to both ends of every seed's edge by leg + the way along the edge), with cutoff = the
  type's within_m (with --gaps: no cutoff, to give each unserved home's distances as planmetrics'
  gaps do); then a lookup per home: min over its edge's ends (node distance + the way along the
  edge) and over seeds on the same edge, plus its own leg; served when <= within_m.
- served share per district and `_all`, per type and for `require: all`; sums in home order.

Reading the files (SQLite on the GeoPackage, WKB parsed by numpy/Shapely) is timed apart and left
out of the compute time, as the other peers' loading is. Progress lines (`PEER {...}`) go to
stderr after each step, so that a run stopped by a timeout still tells how far it got.
"""
import argparse
import json
import math
import os
import resource
import sqlite3
import struct
import sys
import time

import networkx as nx
import numpy as np
import shapely.geometry
import shapely.vectorized
import shapely.wkb
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "tests"))
import common  # noqa: E402
from network_check import ring_entry_points  # noqa: E402  (the entry points, as the test checker)

MERGE_M = 0.5
STEP_M = 20.0
MIN_PIECE_M = 200.0


class Clock:
    """Wall and CPU time of each step; each step is announced on stderr when done."""

    def __init__(self):
        self.steps = []
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        self.last = (self.t0, self.c0)

    def step(self, name, compute=True, **extra):
        t, c = time.perf_counter(), time.process_time()
        s = {"step": name, "wall": t - self.last[0], "cpu": c - self.last[1], "compute": compute}
        s.update(extra)
        self.steps.append(s)
        self.last = (t, c)
        sys.stderr.write("PEER %s\n" % json.dumps(dict(s, elapsed=t - self.t0)))
        sys.stderr.flush()


# ---- reading the GeoPackages ------------------------------------------------------------------
def gpkg_rows(path, table, where=None):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    col = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                      (table,)).fetchone()[0]
    rows = con.execute("SELECT fid, %s FROM %s%s ORDER BY fid" %
                       (col, table, " WHERE " + where if where else "")).fetchall()
    con.close()
    return rows


def wkb_of(blob):
    """The WKB inside a GeoPackage geometry blob (None when empty)."""
    flags = blob[3]
    if flags & 0x10:
        return None
    return blob[8 + (0, 32, 48, 48, 64)[(flags >> 1) & 7]:]


def wkb_parts(w, out):
    """Append the coordinate arrays (n x 2) of the lines/rings/points of WKB w to out."""
    def rd(off):
        o = "<" if w[off] == 1 else ">"
        t = struct.unpack_from(o + "I", w, off + 1)[0] % 1000
        return o, t, off + 5
    stack = [0]
    while stack:
        off = stack.pop()
        o, t, p = rd(off)
        if t == 1:
            out.append(np.frombuffer(w, o + "f8", 2, p).reshape(1, 2))
        elif t == 2:
            n = struct.unpack_from(o + "I", w, p)[0]
            out.append(np.frombuffer(w, o + "f8", 2 * n, p + 4).reshape(n, 2))
        elif t == 3:  # exterior ring only (entry points and lines never need holes here)
            n = struct.unpack_from(o + "I", w, p + 4)[0]
            out.append(np.frombuffer(w, o + "f8", 2 * n, p + 8).reshape(n, 2))
        elif t in (5, 6):
            n = struct.unpack_from(o + "I", w, p)[0]
            q, subs = p + 4, []
            for _ in range(n):
                subs.append(q)
                q = skip_wkb(w, q)
            stack.extend(reversed(subs))
        else:
            sys.exit("lc_networkx_peer: unexpected WKB type %d" % t)


def skip_wkb(w, off):
    o = "<" if w[off] == 1 else ">"
    t = struct.unpack_from(o + "I", w, off + 1)[0] % 1000
    p = off + 5
    if t == 1:
        return p + 16
    if t == 2:
        return p + 4 + 16 * struct.unpack_from(o + "I", w, p)[0]
    if t == 3:
        nr = struct.unpack_from(o + "I", w, p)[0]
        p += 4
        for _ in range(nr):
            p += 4 + 16 * struct.unpack_from(o + "I", w, p)[0]
        return p
    n = struct.unpack_from(o + "I", w, p)[0]
    p += 4
    for _ in range(n):
        p = skip_wkb(w, p)
    return p


# ---- the graph ---------------------------------------------------------------------------------
class Graph:
    def __init__(self, parts):
        # vertices of every part, consecutive duplicates dropped; parts of fewer than 2 kept out
        clean = []
        for a in parts:
            if len(a) > 1:
                keep = np.ones(len(a), bool)
                keep[1:] = (a[1:, 0] != a[:-1, 0]) | (a[1:, 1] != a[:-1, 1])
                a = a[keep]
            if len(a) >= 2:
                clean.append(a)
        lens = np.array([len(a) for a in clean], np.int64)
        xy = np.concatenate(clean)
        first = np.concatenate([[0], np.cumsum(lens)[:-1]])
        last = first + lens - 1
        nv = len(xy)
        part = np.repeat(np.arange(len(clean)), lens)
        end = np.zeros(nv, bool)
        end[first] = True
        end[last] = True
        # identical coordinates are one position
        key = np.empty(nv, dtype=[("x", "f8"), ("y", "f8")])
        key["x"], key["y"] = xy[:, 0] + 0.0, xy[:, 1] + 0.0
        uniq, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
        pos_end = np.zeros(len(uniq), bool)
        pos_end[inv[end]] = True
        cand = pos_end | (cnt >= 2)  # node positions: line ends and vertices shared by lines
        ci = np.flatnonzero(cand)
        cxy = np.stack([uniq["x"][ci], uniq["y"][ci]], axis=1)
        # ends closer than 0.5 m to another node position are one node
        pairs = cKDTree(cxy).query_pairs(MERGE_M, output_type="ndarray")
        if len(pairs):
            d = cxy[pairs[:, 0]] - cxy[pairs[:, 1]]
            ok = (d[:, 0] ** 2 + d[:, 1] ** 2 < MERGE_M ** 2) & (pos_end[ci[pairs[:, 0]]] | pos_end[ci[pairs[:, 1]]])
            pairs = pairs[ok]
        m = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(ci), len(ci))) \
            if len(pairs) else sparse.coo_matrix((len(ci), len(ci)))
        self.n_nodes, node_of_cand = csgraph.connected_components(m, directed=False)
        node_of_pos = np.full(len(uniq), -1, np.int64)
        node_of_pos[ci] = node_of_cand
        vnode = node_of_pos[inv]  # node at each vertex, or -1
        # edges: between consecutive node vertices of a part
        nvx = np.flatnonzero(vnode >= 0)
        a, b = nvx[:-1], nvx[1:]
        same = part[a] == part[b]
        self.ev0, self.ev1 = a[same], b[same]  # first and last vertex of each edge
        self.eu, self.ev = vnode[self.ev0], vnode[self.ev1]
        ne = len(self.ev0)
        # segment lengths, and each edge's length summed in vertex order (as planmetrics does)
        seg = np.zeros(nv)
        d = xy[1:] - xy[:-1]
        seg[:-1] = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
        self.length = np.zeros(ne)
        along = np.zeros(nv)  # position of each vertex along its edge (the segment starting there)
        seg_edge = np.full(nv, -1, np.int64)
        cur = self.ev0.copy()
        live = np.arange(ne)
        while len(live):
            c = cur[live]
            along[c] = self.length[live]
            seg_edge[c] = live
            self.length[live] += seg[c]
            cur[live] += 1
            live = live[cur[live] < self.ev1[live]]
        self.xy, self.seg, self.along, self.seg_edge = xy, seg, along, seg_edge
        self.n_parts = len(clean)
        # pieces and islands
        g = sparse.coo_matrix((np.ones(ne), (self.eu, self.ev)), shape=(self.n_nodes, self.n_nodes))
        self.n_comps, comp = csgraph.connected_components(g, directed=False)
        clen = np.bincount(comp[self.eu], weights=self.length, minlength=self.n_comps)
        self.island = clen[comp[self.eu]] < MIN_PIECE_M
        self.total_length = float(self.length.sum())

    def nx_graph(self):
        """nx.Graph of the edges (the shortest of parallel edges; loops left out)."""
        u, v, w = self.eu, self.ev, self.length
        keep = u != v
        u, v, w = np.minimum(u, v)[keep], np.maximum(u, v)[keep], w[keep]
        o = np.lexsort((w, v, u))
        u, v, w = u[o], v[o], w[o]
        first = np.ones(len(u), bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        G = nx.Graph()
        G.add_nodes_from(range(self.n_nodes))
        G.add_weighted_edges_from(zip(u[first].tolist(), v[first].tolist(), w[first].tolist()))
        return G


class Snapper:
    """Nearest point of the nearest non-island edge, over the segments in a grid of cells of
    max_snap_m: a segment within max_snap_m of a point has its nearest point in the square of
    half-side max_snap_m around it, so in one of the (at most 3 x 3) cells that square meets."""

    def __init__(self, g, max_snap):
        self.g, self.r = g, float(max_snap)
        s = np.flatnonzero(g.seg_edge >= 0)
        s = s[~g.island[g.seg_edge[s]]]
        self.s = s
        a, b = g.xy[s], g.xy[s + 1]
        self.ax, self.ay = a[:, 0], a[:, 1]
        self.dx, self.dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        self.len2 = self.dx * self.dx + self.dy * self.dy
        C = self.r
        x0 = np.floor(np.minimum(a[:, 0], b[:, 0]) / C).astype(np.int64)
        x1 = np.floor(np.maximum(a[:, 0], b[:, 0]) / C).astype(np.int64)
        y0 = np.floor(np.minimum(a[:, 1], b[:, 1]) / C).astype(np.int64)
        y1 = np.floor(np.maximum(a[:, 1], b[:, 1]) / C).astype(np.int64)
        nxc, nyc = x1 - x0 + 1, y1 - y0 + 1
        cnt = nxc * nyc
        idx = np.repeat(np.arange(len(s)), cnt)
        k = np.arange(len(idx)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        cx, cy = x0[idx] + k % nxc[idx], y0[idx] + k // nxc[idx]
        key = cx * 2 ** 32 + cy
        o = np.argsort(key, kind="stable")
        self.cell_seg = idx[o]
        self.keys, self.start = np.unique(key[o], return_index=True)
        self.end = np.append(self.start[1:], len(o))

    def snap(self, px, py, chunk=100000):
        """(edge, pos, leg, ok) arrays for points (px, py)."""
        n = len(px)
        edge = np.full(n, -1, np.int64)
        pos = np.zeros(n)
        leg = np.full(n, np.inf)
        C, r, g = self.r, self.r, self.g
        for c0 in range(0, n, chunk):
            x, y = px[c0:c0 + chunk], py[c0:c0 + chunk]
            m = len(x)
            gx0, gx1 = np.floor((x - r) / C).astype(np.int64), np.floor((x + r) / C).astype(np.int64)
            gy0, gy1 = np.floor((y - r) / C).astype(np.int64), np.floor((y + r) / C).astype(np.int64)
            pi, si = [], []
            for ox in range(3):
                for oy in range(3):
                    cx, cy = gx0 + ox, gy0 + oy
                    ok = (cx <= gx1) & (cy <= gy1)
                    key = cx * 2 ** 32 + cy
                    j = np.searchsorted(self.keys, key)
                    j = np.minimum(j, len(self.keys) - 1)
                    ok &= self.keys[j] == key
                    p = np.flatnonzero(ok)
                    lo, hi = self.start[j[p]], self.end[j[p]]
                    cnt = hi - lo
                    rp = np.repeat(p, cnt)
                    k = np.arange(len(rp)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
                    pi.append(rp)
                    si.append(self.cell_seg[np.repeat(lo, cnt) + k])
            pi, si = np.concatenate(pi), np.concatenate(si)
            if not len(pi):
                continue
            qx, qy = x[pi], y[pi]
            ax, ay, dx, dy, l2 = self.ax[si], self.ay[si], self.dx[si], self.dy[si], self.len2[si]
            t = np.where(l2 > 0, ((qx - ax) * dx + (qy - ay) * dy) / np.where(l2 > 0, l2, 1), 0.0)
            t = np.clip(t, 0.0, 1.0)
            ex, ey = ax + t * dx - qx, ay + t * dy - qy
            d2 = ex * ex + ey * ey
            o = np.lexsort((si, d2, pi))  # per point: nearest first
            firsts = np.ones(len(o), bool)
            firsts[1:] = pi[o][1:] != pi[o][:-1]
            b = o[firsts]
            P, S, T, D2 = pi[b], si[b], t[b], d2[b]
            v = self.s[S]
            e = g.seg_edge[v]
            p_ = np.where(T == 1, g.along[v] + g.seg[v], g.along[v] + T * g.seg[v])
            p_ = np.minimum(p_, g.length[e])
            edge[c0 + P], pos[c0 + P], leg[c0 + P] = e, p_, np.sqrt(D2)
        ok = leg <= self.r
        return edge, pos, leg, ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=float, default=1.0)
    ap.add_argument("--json", required=True)
    ap.add_argument("--gaps", action="store_true", help="no cutoff: also every unserved home's distances")
    a = ap.parse_args()
    data = common.data_dir(a.k)
    ind = common.LC_INDICATOR
    net = common.LC_NETWORK
    max_snap = float(net.get("max_snap_m", 100))
    clock = Clock()

    # -- reading (not compute) --
    parts = []
    for _, blob in gpkg_rows(os.path.join(data, "roads.gpkg"), "roads", net.get("where")):
        w = wkb_of(blob)
        if w is not None:
            wkb_parts(w, parts)
    homes = [(fid, shapely.wkb.loads(bytes(wkb_of(b)))) for fid, b in
             gpkg_rows(os.path.join(data, "residential.gpkg"), "residential")]
    fac = []
    for f in ind["facilities"]:
        rings = []
        for _, blob in gpkg_rows(os.path.join(data, f["layer"] + ".gpkg"), f["layer"], f.get("where")):
            w = wkb_of(blob)
            if w is not None:
                rings.append([])
                wkb_parts(w, rings[-1])
        fac.append(rings)
    districts = [(name, shapely.wkb.loads(bytes(wkb_of(b)))) for _, b, name in
                 sqlite3.connect("file:%s?mode=ro" % os.path.join(data, "districts.gpkg"), uri=True)
                 .execute("SELECT fid, geom, NAME FROM districts ORDER BY fid")]
    clock.step("read the GeoPackages", compute=False, roads=len(parts), homes=len(homes))

    # -- the graph --
    g = Graph(parts)
    del parts
    clock.step("graph: nodes, edges, lengths, pieces (numpy, scipy)", nodes=g.n_nodes, edges=len(g.eu),
               pieces=g.n_comps)
    G = g.nx_graph()
    clock.step("nx.Graph")
    snapper = Snapper(g, max_snap)
    clock.step("snapping grid")

    # -- homes: representative point, weight, districts, snap --
    hx = np.empty(len(homes))
    hy = np.empty(len(homes))
    hw = np.empty(len(homes))
    for i, (_, geom) in enumerate(homes):
        p = geom.representative_point()
        hx[i], hy[i], hw[i] = p.x, p.y, geom.area
    clock.step("homes: representative points and areas")
    names = [n for n, _ in districts]
    slot_pairs = []  # (home, district) for every district covering the home
    found = np.zeros(len(homes), bool)
    for j, (_, dg) in enumerate(districts):
        x0, y0, x1, y1 = dg.bounds
        cand = np.flatnonzero((hx >= x0) & (hx <= x1) & (hy >= y0) & (hy <= y1))
        hit = cand[shapely.vectorized.contains(dg, hx[cand], hy[cand])]
        found[hit] = True
        slot_pairs.append(np.stack([hit, np.full(len(hit), j)], axis=1))
    # a point on a boundary is in no district's interior: it belongs to every district whose
    # polygon covers it (planmetrics: boundary included)
    for i in np.flatnonzero(~found):
        p = shapely.geometry.Point(hx[i], hy[i])
        for j, (_, dg) in enumerate(districts):
            if dg.intersects(p):
                slot_pairs.append(np.array([[i, j]]))
    sp = np.concatenate(slot_pairs)
    sp = sp[np.lexsort((sp[:, 1], sp[:, 0]))]  # home order, then district order
    in_plan = np.zeros(len(homes), bool)
    in_plan[sp[:, 0]] = True
    clock.step("homes: districts (shapely.vectorized, prepared)")
    he, hp, hl, hok = snapper.snap(hx, hy)
    clock.step("homes: snap", unroutable=int((~hok & in_plan).sum()))

    # -- one multi-source pass per type, then a lookup per home --
    types = []  # distinct names in order, with within_m and their entries
    for f, rings in zip(ind["facilities"], fac):
        t = next((t for t in types if t["name"] == f["name"]), None)
        if t is None:
            t = {"name": f["name"], "within": float(f["within_m"]), "pts": []}
            types.append(t)
        for r in rings:
            for arr in r:
                if len(arr) == 1:
                    t["pts"].append((float(arr[0, 0]), float(arr[0, 1])))
                else:  # a polygon's exterior ring (the only ring wkb_parts keeps)
                    ring_entry_points(arr, STEP_M, t["pts"])
    S = g.n_nodes  # the super-source
    dist_home = np.full((len(types), len(homes)), np.inf)
    for ti, t in enumerate(types):
        pts = np.array(t["pts"], dtype=float).reshape(-1, 2)
        se, sp_, sl, sok = snapper.snap(pts[:, 0], pts[:, 1])
        se, sp_, sl = se[sok], sp_[sok], sl[sok]
        clock.step("%s: %d entry points, snap" % (t["name"], len(pts)))
        L = g.length[se]
        nodes = np.concatenate([g.eu[se], g.ev[se]])
        offs = np.concatenate([sl + sp_, sl + (L - sp_)])
        o = np.lexsort((offs, nodes))
        nodes, offs = nodes[o], offs[o]
        firsts = np.ones(len(nodes), bool)
        firsts[1:] = nodes[1:] != nodes[:-1]
        G.add_weighted_edges_from(zip([S] * int(firsts.sum()), nodes[firsts].tolist(), offs[firsts].tolist()))
        cutoff = None if a.gaps else t["within"]
        dist = nx.single_source_dijkstra_path_length(G, S, cutoff=cutoff)
        G.remove_node(S)
        dist.pop(S, None)
        clock.step("%s: Dijkstra%s" % (t["name"], "" if a.gaps else " (cutoff %g m)" % t["within"]),
                   reached=len(dist))
        D = np.full(g.n_nodes + 1, np.inf)
        D[np.fromiter(dist.keys(), np.int64, len(dist))] = np.fromiter(dist.values(), float, len(dist))
        e = np.where(hok, he, 0)
        best = np.minimum(D[g.eu[e]] + hp, D[g.ev[e]] + (g.length[e] - hp))
        # seeds on the home's own edge: along the edge
        oe = np.argsort(se, kind="stable")
        ses, sps, sls = se[oe], sp_[oe], sl[oe]
        lo, hi = np.searchsorted(ses, e, "left"), np.searchsorted(ses, e, "right")
        cnt = np.where(hok, hi - lo, 0)
        if cnt.sum():
            rh = np.repeat(np.arange(len(homes)), cnt)
            k = np.arange(len(rh)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            si = np.repeat(lo, cnt) + k
            np.minimum.at(best, rh, sls[si] + np.abs(sps[si] - hp[rh]))
        dist_home[ti] = np.where(hok, best + hl, np.inf)
        clock.step("%s: lookup per home" % t["name"])

    # -- shares per district and _all, summed in home order --
    within = np.array([t["within"] for t in types])[:, None]
    ok = (dist_home <= within) & hok[None, :]
    served = ok.all(axis=0) if ind.get("require", "all") == "all" else ok.sum(axis=0) >= int(ind["require"])
    nslots = len(names) + 1
    slot_h = np.concatenate([sp[:, 0], np.flatnonzero(in_plan)])
    slot_j = np.concatenate([sp[:, 1], np.full(int(in_plan.sum()), len(names))])
    o = np.argsort(slot_h, kind="stable")  # home order; a home's districts, then _all
    slot_h, slot_j = slot_h[o], slot_j[o]
    w = hw[slot_h]
    den = np.bincount(slot_j, weights=w, minlength=nslots)
    num = np.bincount(slot_j, weights=w * served[slot_h], minlength=nslots)
    tnum = [np.bincount(slot_j, weights=w * ok[ti][slot_h], minlength=nslots) for ti in range(len(types))]
    gaps = np.bincount(slot_j, weights=(~served[slot_h]) & (w > 0), minlength=nslots)
    clock.step("shares per district")

    results = []
    for j in range(nslots):
        r = {"district": names[j] if j < len(names) else "_all", "numerator": float(num[j]),
             "denominator": float(den[j]), "value": 100.0 * num[j] / den[j] if den[j] > 0 else None,
             "n_gaps": int(gaps[j]),
             "facilities": [{"name": t["name"], "numerator": float(tnum[ti][j])} for ti, t in enumerate(types)]}
        results.append(r)
    out = {"peer": "networkx %s" % nx.__version__, "k": a.k, "indicator": ind["id"],
           "graph": {"nodes": g.n_nodes, "edges": int(len(g.eu)), "pieces": int(g.n_comps),
                     "islands_edges": int(g.island.sum()), "length_km": g.total_length / 1000},
           "homes": len(homes), "steps": clock.steps, "results": results,
           "compute_wall": sum(s["wall"] for s in clock.steps if s["compute"]),
           "compute_cpu": sum(s["cpu"] for s in clock.steps if s["compute"]),
           "read_wall": sum(s["wall"] for s in clock.steps if not s["compute"]),
           "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if a.gaps:
        # per unserved home (weight > 0, in the plan area): the largest distance among the types it lacks
        fids = np.array([f for f, _ in homes])
        bad = np.flatnonzero(~served & (hw > 0) & in_plan)
        worst = np.where(ok[:, bad], -np.inf, dist_home[:, bad]).max(axis=0)
        # (None: unroutable, or no facility of a lacking type reachable at all; planmetrics' null)
        out["gaps"] = {"residential#%d" % int(fids[i]): (None if not hok[i] or np.isinf(wv) else float(wv))
                       for i, wv in zip(bad, worst)}
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
