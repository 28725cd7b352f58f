#!/usr/bin/python3
"""network_peer.py: the walking-network searches of bench/netbench in networkx and pgRouting, on the
graph, sources and results netbench dumped; every distance is compared with planmetrics' (rtol 1e-9).

    bench/peers/network_peer.py --dump DIR --json OUT [--peers networkx,pgrouting] [--sources 200]

The seeds sit inside edges with a leg, as planmetrics snaps them. networkx: a super-source joined to
both ends of each seed's edge with the leg plus the way along the edge (multi-source: one for all
stops; single-source: one per source). pgRouting 3.4: each seed is a vertex splitting its edge
(pos, length - pos); single-source calls pgr_drivingDistance(edges within the cutoff's box, vertex,
cutoff - leg, directed := false) per source, and once with all sources in one array on the whole
graph (equicost := false: a tree per source); multi-source adds a super-source joined to every
stop's vertex by its leg and searches the whole graph. A throwaway cluster (initdb as postgres,
deleted at the end), as bench/peers/postgis_peer.py does.
"""
import argparse
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

RTOL = 1e-9
PGBIN = "/usr/lib/postgresql/15/bin"


def read_csv(path):
    with open(path) as f:
        r = csv.reader(f)
        header = next(r)
        return header, list(r)


class Compare:
    def __init__(self):
        self.n = 0
        self.bad = []
        self.max_rel = 0.0

    def check(self, what, mine, ref, cutoff):
        """mine, ref: {node: distance}. Nodes within 1e-6 m of the cutoff may be in one set only."""
        for n, d in ref.items():
            m = mine.get(n)
            if m is None:
                if cutoff - d > 1e-6:
                    self.bad.append("%s: node %s at %r not reached by planmetrics" % (what, n, d))
                continue
            self.n += 1
            rel = abs(m - d) / max(abs(d), 1e-300)
            self.max_rel = max(self.max_rel, rel if abs(m - d) > 1e-9 else 0.0)
            if abs(m - d) > 1e-9 + RTOL * abs(d):
                self.bad.append("%s: node %s planmetrics %r, peer %r" % (what, n, m, d))
        for n, m in mine.items():
            if n not in ref and m < cutoff - 1e-6:
                self.bad.append("%s: node %s at %r not reached by the peer" % (what, n, m))

    def result(self):
        return {"compared": self.n, "differences": len(self.bad), "max_rel": self.max_rel,
                "diffs": self.bad[:10]}


def load_dump(d):
    info = json.load(open(os.path.join(d, "netbench.json")))
    _, erows = read_csv(os.path.join(d, "edges.csv"))
    edges = [(int(r[1]), int(r[2]), float(r[3])) for r in erows]

    def snaps(name):
        _, rows = read_csv(os.path.join(d, name))
        return [{"edge": int(r[1]), "u": int(r[2]), "v": int(r[3]), "len": float(r[4]), "pos": float(r[5]),
                 "leg": float(r[6])} for r in rows]

    _, mrows = read_csv(os.path.join(d, "multi.csv"))
    multi = {int(r[0]): float(r[1]) for r in mrows}
    _, srows = read_csv(os.path.join(d, "single.csv"))
    single = {}
    for r in srows:
        single.setdefault(int(r[0]), {})[int(r[1])] = float(r[2])
    return info, edges, snaps("stops.csv"), snaps("sources.csv"), multi, single


# ---------------------------------------------------------------------------------------------

def run_networkx(info, edges, stops, sources, multi, single, n_src):
    import networkx as nx
    cutoff = info["cutoff_m"]
    out = {"version": nx.__version__}
    t = time.perf_counter()
    best = {}
    for u, v, w in edges:  # parallel edges: the shorter counts
        k = (u, v) if u <= v else (v, u)
        if k not in best or w < best[k]:
            best[k] = w
    g = nx.Graph()
    g.add_weighted_edges_from((u, v, w) for (u, v), w in best.items())
    out["build_s"] = time.perf_counter() - t
    cmp = Compare()

    def seed(s, node="S"):
        for n, off in ((s["u"], s["leg"] + s["pos"]), (s["v"], s["leg"] + (s["len"] - s["pos"]))):
            if not g.has_edge(node, n) or g[node][n]["weight"] > off:
                g.add_edge(node, n, weight=off)

    for s in stops:
        seed(s)
    t = time.perf_counter()
    ref = nx.single_source_dijkstra_path_length(g, "S", cutoff=cutoff)
    out["multi_s"] = time.perf_counter() - t
    g.remove_node("S")
    ref.pop("S", None)
    cmp.check("multi", multi, ref, cutoff)
    spent = 0.0
    n = min(n_src, len(sources))
    for k in range(n):
        seed(sources[k])
        t = time.perf_counter()
        ref = nx.single_source_dijkstra_path_length(g, "S", cutoff=cutoff)
        spent += time.perf_counter() - t
        g.remove_node("S")
        ref.pop("S", None)
        cmp.check("single %d" % k, single.get(k, {}), ref, cutoff)
    out["single_searches"] = n
    out["single_us"] = 1e6 * spent / n if n else None
    out["compare"] = cmp.result()
    return out


# ---------------------------------------------------------------------------------------------

def as_postgres(cmd, **kw):
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, check=True, **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run_pgrouting(info, edges, stops, sources, multi, single, n_src, dump, workdir, n_array):
    import psycopg2
    cutoff = info["cutoff_m"]
    root = tempfile.mkdtemp(prefix="pm-bench-pgr-", dir=workdir)
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pgdata, port = os.path.join(root, "data"), free_port()
    as_postgres([PGBIN + "/initdb", "-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"],
                stdout=subprocess.DEVNULL)
    with open(os.path.join(pgdata, "postgresql.auto.conf"), "a") as f:
        f.write("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"
                "max_parallel_workers_per_gather = 1\nwork_mem = '256MB'\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\n" % (port, root))
    as_postgres([PGBIN + "/pg_ctl", "-D", pgdata, "-l", os.path.join(root, "log"), "-w", "start"],
                stdout=subprocess.DEVNULL)
    out = {}
    try:
        conn = psycopg2.connect(host="127.0.0.1", port=port, dbname="postgres", user="postgres")
        conn.autocommit = True
        c = conn.cursor()
        c.execute("CREATE EXTENSION pgrouting CASCADE")
        c.execute("SELECT pgr_version()")
        out["version"] = c.fetchone()[0]
        n_nodes, n_edges = info["nodes"], info["edges"]
        t = time.perf_counter()
        c.execute("CREATE TABLE nodes (node bigint PRIMARY KEY, x float8, y float8)")
        with open(os.path.join(dump, "nodes.csv")) as f:
            c.copy_expert("COPY nodes FROM STDIN WITH (FORMAT csv, HEADER true)", f)
        c.execute("CREATE TABLE edges (id bigint, source bigint, target bigint, cost float8)")
        with open(os.path.join(dump, "edges.csv")) as f:
            c.copy_expert("COPY edges FROM STDIN WITH (FORMAT csv, HEADER true)", f)
        c.execute("ALTER TABLE edges ADD COLUMN p point")
        c.execute("UPDATE edges e SET p = point(n.x, n.y) FROM nodes n WHERE n.node = e.source")
        c.execute("CREATE INDEX ON edges USING gist (p)")
        # each source's edge split at its snap point: vertex n_nodes + k, edges (u, V, pos), (V, v, len - pos)
        c.execute("CREATE TABLE extra (k int, id bigint, source bigint, target bigint, cost float8)")
        rows = []
        for k, s in enumerate(sources[:max(n_src, n_array)]):
            vk = n_nodes + k
            rows += [(k, n_edges + 2 * k, s["u"], vk, s["pos"]), (k, n_edges + 2 * k + 1, vk, s["v"], s["len"] - s["pos"])]
        c.executemany("INSERT INTO extra VALUES (%s, %s, %s, %s, %s)", rows)
        c.execute("CREATE INDEX ON extra (k)")
        # the stops for the multi-source search: vertex base + i, and a super-source S joined by the legs
        base = n_nodes + len(sources) + 1
        S = base - 1
        c.execute("CREATE TABLE multi_extra (id bigint, source bigint, target bigint, cost float8)")
        rows = []
        eid = n_edges + 2 * len(sources)
        for i, s in enumerate(stops):
            vi = base + i
            rows += [(eid, s["u"], vi, s["pos"]), (eid + 1, vi, s["v"], s["len"] - s["pos"]), (eid + 2, S, vi, s["leg"])]
            eid += 3
        c.executemany("INSERT INTO multi_extra VALUES (%s, %s, %s, %s)", rows)
        c.execute("ANALYZE")
        out["load_s"] = time.perf_counter() - t
        cmp = Compare()

        # multi-source: the whole graph plus the stops, from S
        sql = "SELECT id, source, target, cost FROM edges UNION ALL SELECT id, source, target, cost FROM multi_extra"
        t = time.perf_counter()
        c.execute("SELECT node, agg_cost FROM pgr_drivingDistance(%s, %s::bigint, %s, directed := false)", (sql, S, cutoff))
        ref = {n: d for n, d in c.fetchall() if n < n_nodes}
        out["multi_s"] = time.perf_counter() - t
        cmp.check("multi", multi, ref, cutoff)

        # single-source: one call per source, the edges within the cutoff's box around the source
        n = min(n_src, len(sources))
        xy = {}
        c.execute("SELECT node, x, y FROM nodes WHERE node = ANY(%s)", ([s["u"] for s in sources[:n]],))
        for node, x, y in c.fetchall():
            xy[node] = (x, y)
        spent = 0.0
        for k in range(n):
            s = sources[k]
            x, y = xy[s["u"]]
            r = cutoff + s["leg"] + s["len"] + 1  # the box around u holds every edge the source reaches
            sql = ("SELECT id, source, target, cost FROM edges WHERE p <@ box(point(%r, %r), point(%r, %r)) "
                   "UNION ALL SELECT id, source, target, cost FROM extra WHERE k = %d" % (x - r, y - r, x + r, y + r, k))
            t = time.perf_counter()
            c.execute("SELECT node, agg_cost FROM pgr_drivingDistance(%s, %s::bigint, %s, directed := false)",
                      (sql, n_nodes + k, cutoff - s["leg"]))
            rows = c.fetchall()
            spent += time.perf_counter() - t
            ref = {nd: d + s["leg"] for nd, d in rows if nd < n_nodes}
            cmp.check("single %d" % k, single.get(k, {}), ref, cutoff)
        out["single_searches"] = n
        out["single_us"] = 1e6 * spent / n if n else None

        # all of the first n_array sources in one call on the whole graph, equicost := false; each
        # source's own cutoff cannot be given, so the common cutoff is used and results are filtered
        m = min(n_array, len(sources))
        if m:
            sql = ("SELECT id, source, target, cost FROM edges UNION ALL "
                   "SELECT id, source, target, cost FROM extra WHERE k < %d" % m)
            t = time.perf_counter()
            c.execute("SELECT from_v, node, agg_cost FROM pgr_drivingDistance(%s, %s::bigint[], %s, "
                      "directed := false, equicost := false)", (sql, [n_nodes + k for k in range(m)], cutoff))
            rows = c.fetchall()
            out["array_s"] = time.perf_counter() - t
            out["array_searches"] = m
            per = {}
            for fv, nd, d in rows:
                k = fv - n_nodes
                if nd < n_nodes and d + sources[k]["leg"] <= cutoff:
                    per.setdefault(k, {})[nd] = d + sources[k]["leg"]
            for k in range(m):
                cmp.check("array %d" % k, single.get(k, {}), per.get(k, {}), cutoff)
        out["compare"] = cmp.result()
        conn.close()
    finally:
        as_postgres([PGBIN + "/pg_ctl", "-D", pgdata, "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", required=True, help="netbench --out folder")
    ap.add_argument("--json", required=True)
    ap.add_argument("--peers", default="networkx,pgrouting")
    ap.add_argument("--sources", type=int, default=200, help="single-source searches compared and timed")
    ap.add_argument("--array", type=int, default=20, help="sources in pgRouting's one-call array search")
    ap.add_argument("--workdir", default="/tmp")
    a = ap.parse_args()
    info, edges, stops, sources, multi, single = load_dump(a.dump)
    res = {}
    for peer in a.peers.split(","):
        t = time.perf_counter()
        if peer == "networkx":
            res[peer] = run_networkx(info, edges, stops, sources, multi, single, a.sources)
        elif peer == "pgrouting":
            res[peer] = run_pgrouting(info, edges, stops, sources, multi, single, a.sources, a.dump, a.workdir, a.array)
        else:
            sys.exit("unknown peer " + peer)
        res[peer]["wall_s"] = time.perf_counter() - t
        cmpr = res[peer]["compare"]
        print("%s: %d distances compared, %d differences%s" % (peer, cmpr["compared"], cmpr["differences"],
              "".join("\n  " + d for d in cmpr["diffs"][:5])), file=sys.stderr)
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)
    return 1 if any(r["compare"]["differences"] for r in res.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
