#!/usr/bin/python3
"""network_check.py: checks network_dump's output against an independent implementation.

1. The graph is built again in Python from the project layer read through GDAL (not through
   planmetrics' loader), with the rules of METRICS.md §5 (`connect: vertices`): nodes at line ends
   and at vertices shared by lines, ends closer than 0.5 m merged. Sizes, lengths, components,
   dangling ends and islands must agree.
2. networkx runs Dijkstra on the dumped edges from a super-source that carries each seed's leg (to
   both ends of the seed's edge) and must give every node distance (rtol 1e-9), the same reached
   node set (up to nodes within 1e-6 m of the cutoff), the same nearest source (smaller id on ties),
   the same distance to every snapped point (with the same-edge case) and the same reached length.
3. Snapping is checked by brute force over every segment of every non-island edge (numpy).

usage: network_check.py --db PROJECT --layer LAYER --dump DIR [--where SQL] [--skip-graph]
(the filter defaults to the one network_dump used, DIR/where.txt)
Exit 0 when everything agrees, 1 otherwise (each difference printed).
"""
import argparse
import collections
import math
import sys

import networkx as nx
import numpy as np
from osgeo import ogr

RTOL = 1e-9
MERGE_M = 0.5

problems = []


def problem(msg):
    problems.append(msg)
    if len(problems) <= 30:
        print("DIFF:", msg)


def close(a, b, rtol=RTOL, atol=1e-9):
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))



def ring_entry_points(pts, step, out):
    """planmetrics' entry points of a ring (METRICS.md §5) given as (x, y) pairs: its first
    vertex, a point every `step` metres along it and every vertex but the closing one; appended
    to out. Shared by tests/network_indicators.py and bench/peers/lc_networkx_peer.py."""
    n = len(pts)
    along, nxt = 0.0, step
    px = py = 0.0
    for i in range(n):
        x, y = float(pts[i][0]), float(pts[i][1])
        if i > 0:
            length = math.hypot(x - px, y - py)
            while length > 0 and nxt <= along + length:
                t = (nxt - along) / length
                if 0 < t < 1:
                    out.append((px + t * (x - px), py + t * (y - py)))
                nxt += step
            along += length
        if i + 1 < n or n == 1:
            out.append((x, y))
        px, py = x, y

def read_csv(path):
    with open(path) as f:
        header = f.readline().rstrip("\n").split(",")
        for line in f:
            yield dict(zip(header, line.rstrip("\n").split(",", len(header) - 1)))


def read_info(path):
    info = {}
    with open(path) as f:
        for line in f:
            k, v = line.split()
            info[k] = float(v)
    return info


# ---------------------------------------------------------------------------------------------
# 1. the graph, independently

def python_graph(db, layer, where, min_piece):
    ds = ogr.Open(db)
    lyr = ds.GetLayerByName(layer)
    if where:
        if lyr.SetAttributeFilter(where) != 0:
            sys.exit("bad filter")
    parts = []
    for feat in lyr:
        g = feat.GetGeometryRef()
        if g is None:
            continue
        geoms = [g] if g.GetGeometryCount() == 0 else [g.GetGeometryRef(i) for i in range(g.GetGeometryCount())]
        for part in geoms:
            pts = []
            for p in part.GetPoints() or []:
                xy = (p[0] + 0.0, p[1] + 0.0)
                if not pts or pts[-1] != xy:
                    pts.append(xy)
            if len(pts) >= 2:
                parts.append(pts)
    count = collections.Counter()
    at_end, interior = set(), set()
    for pts in parts:
        for k, xy in enumerate(pts):
            count[xy] += 1
            (at_end if k == 0 or k == len(pts) - 1 else interior).add(xy)
    cand = [xy for xy in count if xy in at_end or count[xy] >= 2]
    index = {xy: i for i, xy in enumerate(cand)}
    parent = list(range(len(cand)))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    cells = collections.defaultdict(list)
    for i, (x, y) in enumerate(cand):
        cells[(math.floor(x / MERGE_M), math.floor(y / MERGE_M))].append(i)
    merged_pairs = 0
    for i, (x, y) in enumerate(cand):
        if (x, y) not in at_end:
            continue
        cx, cy = math.floor(x / MERGE_M), math.floor(y / MERGE_M)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for j in cells.get((cx + dx, cy + dy), ()):
                    if j != i and (x - cand[j][0]) ** 2 + (y - cand[j][1]) ** 2 < MERGE_M ** 2:
                        a, b = find(i), find(j)
                        if a != b:
                            parent[max(a, b)] = min(a, b)
                            merged_pairs += 1
    node = {xy: find(index[xy]) for xy in cand}
    n_nodes = len(set(node.values()))
    edges = []  # (u, v, length)
    edge_coords = []  # the vertices of each edge, from u to v
    for pts in parts:
        start, length = 0, 0.0
        for k in range(1, len(pts)):
            length += math.hypot(pts[k][0] - pts[k - 1][0], pts[k][1] - pts[k - 1][1])
            if pts[k] in node:
                edges.append((node[pts[start]], node[pts[k]], length))
                edge_coords.append(pts[start:k + 1])
                start, length = k, 0.0
    g = nx.MultiGraph()
    g.add_nodes_from(set(node.values()))
    for u, v, w in edges:
        g.add_edge(u, v, weight=w)
    comps = sorted((sum(d["weight"] for _, _, d in g.subgraph(c).edges(data=True)) for c in nx.connected_components(g)),
                   reverse=True)
    degree = collections.Counter()
    for u, v, _ in edges:
        degree[u] += 1
        degree[v] += 1
    return {
        "nodes": n_nodes,
        "edges": len(edges),
        "components": len(comps),
        "merged": len(cand) - n_nodes,
        "dangling": sum(1 for n in degree if degree[n] == 1),
        "length_m": sum(w for _, _, w in edges),
        "largest_length_m": comps[0] if comps else 0.0,
        "islands": sum(1 for c in comps if c < min_piece),
        "island_length_m": sum(c for c in comps if c < min_piece),
        "skipped": None,
        "comp_lengths": comps,
        "edge_list": [(u, v, w, c) for (u, v, w), c in zip(edges, edge_coords)],
    }


def check_graph(args, info):
    py = python_graph(args.db, args.layer, args.where, info["min_piece"])
    for key in ("nodes", "edges", "components", "merged", "dangling", "islands"):
        if int(info[key]) != py[key]:
            problem(f"graph {key}: planmetrics {int(info[key])}, python {py[key]}")
    for key in ("length_m", "largest_length_m", "island_length_m"):
        if not close(info[key], py[key], 1e-9, 1e-6):
            problem(f"graph {key}: planmetrics {info[key]!r}, python {py[key]!r}")
    print(f"graph: {py['nodes']} nodes, {py['edges']} edges, {py['components']} components, "
          f"{py['merged']} merged ends, {py['dangling']} dangling, {py['length_m']:.1f} m "
          f"(python and planmetrics agree)" if not problems else "graph: differences above")


# ---------------------------------------------------------------------------------------------
# 2. distances with networkx

def check_search(args, info):
    cutoff, n_sources = info["cutoff"], int(info["sources"])
    edges = {}
    g = nx.MultiGraph()
    for r in read_csv(f"{args.dump}/edges.csv"):
        e, u, v, w = int(r["edge"]), int(r["from"]), int(r["to"]), float(r["length"])
        edges[e] = (u, v, w, r["island"] == "1", r["coords"])
        g.add_edge(u, v, weight=w)
    snaps = []
    for r in read_csv(f"{args.dump}/snaps.csv"):
        snaps.append({"status": int(r["status"]), "edge": int(r["edge"]), "pos": float(r["pos"]),
                      "leg": float(r["leg"]), "x": float(r["x"]), "y": float(r["y"])})

    # snapping, by brute force over every segment of every non-island edge
    seg = []
    for e, (u, v, w, island, coords) in edges.items():
        if island:
            continue
        pts = [tuple(map(float, p.split())) for p in coords.split(";")]
        for k in range(1, len(pts)):
            seg.append((pts[k - 1][0], pts[k - 1][1], pts[k][0], pts[k][1], e))
    seg = np.array(seg)
    ax, ay, bx, by, se = seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3], seg[:, 4].astype(np.int64)
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    for i, s in enumerate(snaps):
        t = np.clip(((s["x"] - ax) * dx + (s["y"] - ay) * dy) / np.where(l2 > 0, l2, 1), 0, 1)
        d = np.hypot(s["x"] - (ax + t * dx), s["y"] - (ay + t * dy))
        best = d.min()
        if not close(best, s["leg"], 1e-9, 1e-7):
            problem(f"snap point {i}: leg {s['leg']!r}, brute force {best!r}")
        mine = d[se == s["edge"]].min() if s["edge"] >= 0 else math.inf
        if not close(mine, best, 1e-9, 1e-7):
            problem(f"snap point {i}: edge {s['edge']} at {mine!r}, nearest edge at {best!r}")
        if (s["status"] == 0) != (best <= info["max_snap"]):
            problem(f"snap point {i}: status {s['status']} with leg {best!r}")
    n_ok = sum(1 for s in snaps if s["status"] == 0)
    print(f"snapping: {len(snaps)} points ({len(snaps) - n_ok} unroutable) agree with brute force")

    # single-source from each source point: a super-source carrying the leg
    def from_seed(k):
        s = snaps[k]
        u, v, w, _, _ = edges[s["edge"]]
        g.add_edge("S", u, weight=s["leg"] + s["pos"])
        g.add_edge("S", v, weight=s["leg"] + (w - s["pos"]))
        dist = nx.single_source_dijkstra_path_length(g, "S", cutoff=cutoff)
        g.remove_node("S")
        dist.pop("S", None)
        return dist

    single = collections.defaultdict(dict)
    for r in read_csv(f"{args.dump}/single.csv"):
        single[int(r["source"])][int(r["node"])] = float(r["dist"])
    per_source = {}
    compared = 0
    for k in range(n_sources):
        if snaps[k]["status"] != 0:
            continue
        ref = from_seed(k)
        per_source[k] = ref
        mine = single[k]
        for n, d in ref.items():
            if n not in mine:
                if cutoff - d > 1e-6:
                    problem(f"single {k}: node {n} at {d!r} not reached")
            elif not close(mine[n], d):
                problem(f"single {k}: node {n} {mine[n]!r} vs networkx {d!r}")
            compared += 1
        for n, d in mine.items():
            if n not in ref and d < cutoff - 1e-6:
                problem(f"single {k}: node {n} reached at {d!r}, networkx does not reach it")
    print(f"single-source: {len(per_source)} searches, {compared} node distances agree with networkx")

    # multi-source: every seed on one super-source; the source is the nearest (smaller id on ties)
    for k in per_source:
        s = snaps[k]
        u, v, w, _, _ = edges[s["edge"]]
        for node, off in ((u, s["leg"] + s["pos"]), (v, s["leg"] + (w - s["pos"]))):
            if not g.has_edge("S", node) or g["S"][node][0]["weight"] > off:
                if g.has_edge("S", node):
                    g.remove_edge("S", node)
                g.add_edge("S", node, weight=off)
    ref = nx.single_source_dijkstra_path_length(g, "S", cutoff=cutoff) if per_source else {}
    if per_source:
        g.remove_node("S")
    ref.pop("S", None)
    multi = {int(r["node"]): (float(r["dist"]), int(r["source"])) for r in read_csv(f"{args.dump}/multi.csv")}
    for n, d in ref.items():
        if n not in multi:
            if cutoff - d > 1e-6:
                problem(f"multi: node {n} at {d!r} not reached")
            continue
        if not close(multi[n][0], d):
            problem(f"multi: node {n} {multi[n][0]!r} vs networkx {d!r}")
        cands = sorted((per_source[k][n], k) for k in per_source if n in per_source[k])
        best_d, best_k = cands[0]
        near_tie = len(cands) > 1 and close(cands[1][0], best_d, 1e-12, 1e-12) and cands[1][0] != best_d
        if multi[n][1] != best_k and not near_tie:
            problem(f"multi: node {n} source {multi[n][1]}, nearest is {best_k}")
    for n, (d, _) in multi.items():
        if n not in ref and d < cutoff - 1e-6:
            problem(f"multi: node {n} reached, networkx does not reach it")
    print(f"multi-source: {len(ref)} node distances and sources agree with networkx")

    # the distance to every snapped point (through its edge's ends or along the edge itself)
    targets = {int(r["point"]): (float(r["dist"]), int(r["source"])) for r in read_csv(f"{args.dump}/targets.csv")}
    n_reached = 0
    for i, q in enumerate(snaps):
        best = (math.inf, -1)
        if q["status"] == 0:
            u, v, w, _, _ = edges[q["edge"]]
            for k, dist in per_source.items():
                c = [dist[u] + q["pos"]] if u in dist else []
                c += [dist[v] + (w - q["pos"])] if v in dist else []
                if snaps[k]["edge"] == q["edge"]:
                    c.append(snaps[k]["leg"] + abs(snaps[k]["pos"] - q["pos"]))
                if c:
                    best = min(best, (min(c) + q["leg"], k))
        if best[0] <= cutoff:
            n_reached += 1
            if i not in targets:
                if cutoff - best[0] > 1e-6:
                    problem(f"point {i}: at {best[0]!r} from source {best[1]}, not reached")
            elif not close(targets[i][0], best[0]):
                problem(f"point {i}: {targets[i][0]!r} vs {best[0]!r}")
            elif targets[i][1] != best[1] and targets[i][0] != best[0]:
                problem(f"point {i}: source {targets[i][1]} vs {best[1]}")
        elif i in targets and targets[i][0] < cutoff - 1e-6:
            problem(f"point {i}: reached at {targets[i][0]!r}, reference does not reach it")
    print(f"points: {n_reached} of {len(snaps)} within {cutoff:g} m of a source, distances agree")

    # reached length: per edge, the union of what each source reaches
    by_edge_nodes = collections.defaultdict(list)
    for e, (u, v, w, _, _) in edges.items():
        by_edge_nodes[u].append(e)
        by_edge_nodes[v].append(e)

    def reach_of(k, dist):
        iv = collections.defaultdict(list)
        for n in dist:
            for e in by_edge_nodes[n]:
                u, v, w, _, _ = edges[e]
                if u in dist and dist[u] <= cutoff:
                    iv[e].append((0.0, min(w, cutoff - dist[u])))
                if v in dist and dist[v] <= cutoff:
                    iv[e].append((max(0.0, w - (cutoff - dist[v])), w))
        s = snaps[k]
        r = cutoff - s["leg"]
        if r >= 0:
            w = edges[s["edge"]][2]
            iv[s["edge"]].append((max(0.0, s["pos"] - r), min(w, s["pos"] + r)))
        return iv

    def union_length(ivs):
        total, end = 0.0, -math.inf
        for a, b in sorted(ivs):
            if b <= end:
                continue
            total += b - max(a, end)
            end = b
        return total

    all_iv = collections.defaultdict(list)
    mine_single = {}
    with open(f"{args.dump}/reached.txt") as f:
        for line in f:
            p = line.split()
            if p[0] == "multi":
                mine_multi = float(p[1])
            else:
                mine_single[int(p[1])] = float(p[2])
    for k, dist in per_source.items():
        iv = reach_of(k, dist)
        length = sum(union_length(set(v)) for v in iv.values())
        if not close(mine_single[k], length, 1e-9, 1e-6):
            problem(f"reached length from source {k}: {mine_single[k]!r} vs {length!r}")
        for e, v in iv.items():
            all_iv[e].extend(v)
    length = sum(union_length(set(v)) for v in all_iv.values())
    if not close(mine_multi, length, 1e-9, 1e-6):
        problem(f"reached length (multi): {mine_multi!r} vs {length!r}")
    print(f"reached network: {length:.1f} m (multi-source) and {len(per_source)} single-source lengths agree")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--layer", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--where")
    ap.add_argument("--skip-graph", action="store_true")
    args = ap.parse_args()
    info = read_info(f"{args.dump}/info.txt")
    if args.where is None:
        with open(f"{args.dump}/where.txt") as f:
            args.where = f.read().strip() or None
    if not args.skip_graph:
        check_graph(args, info)
    check_search(args, info)
    if problems:
        print(f"{len(problems)} differences")
        return 1
    print("all agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
