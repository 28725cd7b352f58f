#!/usr/bin/python3
# compare_db.py: are two project databases the same as stored layers? Every layer table row by row
# (fid, the geometry blob as stored, AsBinary(geom), every field), the `layers` metadata (ingest
# time aside), the spatial index entries, SpatiaLite's registration, triggers and layer statistics
# (timestamps aside). Also checks that each spatial index passes SQLite's rtreecheck() and
# SpatiaLite's CheckSpatialIndex(), and answers a query through the SpatialIndex virtual table;
# the databases are left as they were.
#   bench/compare_db.py A.sqlite B.sqlite      exit 0 when the same, 1 with the differences listed
import sqlite3
import sys


def connect(path):
    c = sqlite3.connect(path, isolation_level=None)
    c.enable_load_extension(True)
    c.load_extension("mod_spatialite")
    return c


def rows(c, sql, *args):
    return c.execute(sql, args).fetchall()


def layer_names(c):
    return [r[0] for r in rows(c, "SELECT name FROM layers ORDER BY name")]


def table_dump(c, t):
    cols = [r[1] for r in rows(c, 'PRAGMA table_info("%s")' % t)]
    sel = ", ".join('"%s"' % x for x in cols) + ", AsBinary(geom)"
    return cols, rows(c, 'SELECT %s FROM "%s" ORDER BY fid' % (sel, t))


def snapshot(c):
    s = {}
    for t in layer_names(c):
        s["table " + t] = table_dump(c, t)
        s["index " + t] = rows(c, 'SELECT pkid, xmin, xmax, ymin, ymax FROM "idx_%s_geom" ORDER BY pkid' % t)
        s["triggers " + t] = sorted(rows(c, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                           "AND lower(tbl_name) = lower(?)", t))
        s["schema " + t] = rows(c, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", t)
    cols = [r[1] for r in rows(c, "PRAGMA table_info(layers)") if r[1] != "ingested_at"]
    s["layers"] = rows(c, "SELECT %s FROM layers ORDER BY name" % ", ".join(cols))
    s["geometry_columns"] = rows(c, "SELECT * FROM geometry_columns ORDER BY f_table_name")
    s["statistics"] = rows(c, "SELECT f_table_name, f_geometry_column, row_count, extent_min_x, extent_min_y, "
                              "extent_max_x, extent_max_y FROM geometry_columns_statistics ORDER BY 1, 2")
    s["field_infos"] = rows(c, "SELECT * FROM geometry_columns_field_infos ORDER BY 1, 2, 3")
    s["history"] = sorted(rows(c, "SELECT table_name, geometry_column, event FROM spatialite_history"))
    s["srs"] = rows(c, "SELECT count(*), sum(length(srtext)) FROM spatial_ref_sys")
    return s


def checks(c, path):
    bad = []
    for t in layer_names(c):
        rc = rows(c, "SELECT rtreecheck('idx_%s_geom')" % t)[0][0]
        if rc != "ok":
            bad.append("%s: rtreecheck(idx_%s_geom): %s" % (path, t, rc))
        if rows(c, "SELECT CheckSpatialIndex(?, 'geom')", t)[0][0] != 1:
            bad.append("%s: CheckSpatialIndex('%s', 'geom') is not 1" % (path, t))
        ext = rows(c, 'SELECT min(MbrMinX(geom)), min(MbrMinY(geom)), max(MbrMaxX(geom)), max(MbrMaxY(geom)), '
                      'count(*) FROM "%s"' % t)[0]
        if ext[4]:
            # a window on the lower-left quarter: the index must find every row whose box meets it
            # (and may find a few more: it keeps boxes rounded outwards to 32-bit floats)
            x0, y0, x1, y1 = ext[0], ext[1], (ext[0] + ext[2]) / 2, (ext[1] + ext[3]) / 2
            via = set(r[0] for r in rows(c, "SELECT ROWID FROM SpatialIndex WHERE f_table_name = ? AND "
                                            "search_frame = BuildMbr(?, ?, ?, ?)", t, x0, y0, x1, y1))
            direct = set(r[0] for r in rows(c, 'SELECT fid FROM "%s" WHERE MbrIntersects(geom, '
                                               "BuildMbr(?, ?, ?, ?))" % t, x0, y0, x1, y1))
            if not direct <= via:
                bad.append("%s: %s: the SpatialIndex query misses %d of the %d rows a full scan finds"
                           % (path, t, len(direct - via), len(direct)))
    return bad


def main():
    a, b = sys.argv[1], sys.argv[2]
    ca, cb = connect(a), connect(b)
    sa, sb = snapshot(ca), snapshot(cb)
    bad = []
    for c, path in ((ca, a), (cb, b)):
        c.execute("BEGIN")  # CheckSpatialIndex logs into spatialite_history: leave no trace
        try:
            bad += checks(c, path)
        finally:
            c.execute("ROLLBACK")
    for k in sorted(set(sa) | set(sb)):
        if sa.get(k) != sb.get(k):
            va, vb = sa.get(k), sb.get(k)
            detail = ""
            if isinstance(va, list) and isinstance(vb, list):
                n = next((i for i, (x, y) in enumerate(zip(va, vb)) if x != y), min(len(va), len(vb)))
                detail = " (%d vs %d rows; first difference at %d: %r vs %r)" % (
                    len(va), len(vb), n, va[n] if n < len(va) else None, vb[n] if n < len(vb) else None)
            bad.append("differs: %s%s" % (k, detail[:600]))
    for x in bad:
        print(x)
    print("SAME" if not bad else "DIFFERENT (%d)" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
