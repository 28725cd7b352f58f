#!/usr/bin/python3
# postgis_peer.py: the benchmark indicators in PostGIS (Debian postgresql-15 + postgis 3.3).
# A throwaway cluster: initdb in a temp folder (as user postgres, since root cannot run a server),
# started on 127.0.0.1 on a free port, layers loaded with ogr2ogr (GiST indexes), ANALYZE, the
# queries of postgis_sql.py, then the cluster stopped and deleted.
#   --phase all       (default) setup, every indicator, teardown
#   --phase setup     start and load, leave the cluster running (state in WORKDIR/postgis.json)
#   --phase run       run --indicator on the running cluster of WORKDIR
#   --phase teardown  stop and delete it
# Timings: load_s (ogr2ogr + index + ANALYZE per layer), compute_s per indicator (query wall time
# seen by the client), backend_peak_kb (VmHWM of the server process that ran the query).
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from peerlib import common  # noqa: E402
import postgis_sql as Q  # noqa: E402

PGBIN = "/usr/lib/postgresql/15/bin"
GEOM_TYPES = {"districts": "POLYGON", "parks": "POLYGON", "residential": "POLYGON", "remediation_zones": "POLYGON",
              "roads": "LINESTRING", "rivers": "LINESTRING", "metro_stations": "POINT", "entrances": "POINT",
              "bus_stops": "POINT"}


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


def state_path(a):
    return os.path.join(a.workdir, "postgis.json")


def setup(a, out):
    root = tempfile.mkdtemp(prefix="pm-bench-pg-", dir=a.workdir)
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pgdata = os.path.join(root, "data")
    port = free_port()
    as_postgres([PGBIN + "/initdb", "-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--no-locale"], stdout=subprocess.DEVNULL)
    with open(os.path.join(pgdata, "postgresql.auto.conf"), "a") as f:
        # at most 2 cores (leader + 1 worker); otherwise the defaults, a bit more work_mem
        f.write("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"
                "max_parallel_workers_per_gather = 1\nwork_mem = '64MB'\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\n" % (port, root))
    as_postgres([PGBIN + "/pg_ctl", "-D", pgdata, "-l", os.path.join(root, "log"), "-w", "start"],
                stdout=subprocess.DEVNULL)
    st = {"root": root, "pgdata": pgdata, "port": port}
    common.write_json(state_path(a), st)
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-q", "-c", "CREATE DATABASE bench"],
                   check=True)
    conn = connect(st)
    conn.cursor().execute("CREATE EXTENSION postgis")
    conn.close()
    pg = "PG:host=127.0.0.1 port=%d dbname=bench user=postgres" % port
    for l in common.LAYERS:
        with peerlib.Timer(out.timings["load_s"], l):
            subprocess.run(["ogr2ogr", "-f", "PostgreSQL", pg, peerlib.layer_path(a, l), "-nln", l,
                            "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid", "-lco", "SPATIAL_INDEX=GIST",
                            "-nlt", GEOM_TYPES[l]],
                           check=True)
            conn = connect(st)
            conn.cursor().execute("ANALYZE %s" % l)
            conn.close()
    return st


def connect(st):
    import psycopg2
    c = psycopg2.connect(host="127.0.0.1", port=st["port"], dbname=st.get("db", "bench"), user="postgres")
    c.autocommit = True
    return c


def teardown(a):
    st = json.load(open(state_path(a)))
    as_postgres([PGBIN + "/pg_ctl", "-D", st["pgdata"], "-m", "fast", "-w", "stop"], stdout=subprocess.DEVNULL)
    shutil.rmtree(st["root"], ignore_errors=True)
    os.remove(state_path(a))


def vm_hwm_kb(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def run(a, out, st):
    conn = connect(st)
    cur = conn.cursor()
    cur.execute("SELECT name FROM districts ORDER BY fid")
    names = [r[0] for r in cur.fetchall()]
    out.timings["backend_peak_kb"] = {}
    for iid in a.ids:
        ind = common.IND_BY_ID[iid]
        # a fresh backend per indicator, so that its peak memory is this query's
        conn.close()
        conn = connect(st)
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        t0 = time.perf_counter()
        metric = ind["metric"]
        rows, classes = {}, None
        if metric == "transfer_coverage":
            cur.execute(Q.transfer(ind))
            rows = {nm: peerlib.share(0, 0) for nm in names}
            for d, num, den in cur.fetchall():
                rows[d] = peerlib.share(int(num), int(den))
        elif metric == "length":
            cur.execute(Q.length(ind))
            for d, v in cur.fetchall():
                rows[d] = peerlib.amount(float(v or 0.0))
        elif metric == "count":
            cur.execute(Q.count(ind))
            rows = {nm: peerlib.amount(0) for nm in names}
            for d, v in cur.fetchall():
                rows[d] = peerlib.amount(int(v))
        elif metric == "coverage":
            cur.execute(Q.coverage(ind))
            rows = {nm: peerlib.share(0.0, 0.0) for nm in names}
            for d, num, den in cur.fetchall():
                rows[d] = peerlib.share(float(num), float(den))
            cur.execute(Q.coverage_classes(ind))
            classes = {"_labels": [c["label"] for c in ind["classes"]]}
            for d, lab, n in cur.fetchall():
                classes.setdefault(d, {})[lab] = int(n)
        out.timings["compute_s"][iid] = time.perf_counter() - t0
        out.timings["backend_peak_kb"][iid] = vm_hwm_kb(pid)
        out.add(iid, rows, names, classes)
    conn.close()


def main():
    sys.argv, phase = peerlib_phase(sys.argv)
    a = peerlib.parse_args("postgis")
    a.workdir = a.workdir or tempfile.gettempdir()
    os.makedirs(a.workdir, exist_ok=True)
    out = peerlib.Output("postgis", a)
    if phase in ("all", "setup"):
        st = setup(a, out)
    else:
        st = json.load(open(state_path(a)))
    try:
        if phase in ("all", "run"):
            run(a, out, st)
    finally:
        if phase in ("all", "teardown"):
            teardown(a)
    if phase != "teardown":
        out.write()


def peerlib_phase(argv):
    phase = "all"
    rest = []
    i = 0
    while i < len(argv):
        if argv[i] == "--phase":
            phase = argv[i + 1]
            i += 2
            continue
        rest.append(argv[i])
        i += 1
    return rest, phase


if __name__ == "__main__":
    main()
