# spatialite_sql.py: the benchmark indicators as SpatiaLite 5 SQL (SQLite 3.40). Same row shapes as
# postgis_sql.py. Spatial filters go through the layers' R*Tree tables (idx_<layer>_geom), the
# SpatiaLite idiom; exact tests follow with GEOS predicates and distances.
from peerlib import common

TRIM = "' ' || char(9, 10, 11, 12, 13, 12288)"


def near_ids(table, g, r):
    """Row ids of `table` whose bounding box comes within r of the box of geometry expression g."""
    return (f"SELECT pkid FROM idx_{table}_geom WHERE xmin <= MbrMaxX({g}) + {r} AND xmax >= MbrMinX({g}) - {r}"
            f" AND ymin <= MbrMaxY({g}) + {r} AND ymax >= MbrMinY({g}) - {r}")


def transfer(ind):
    thr, catch, fld = ind["threshold_m"], ind["catchment_m"], ind["entrance_station_field"]
    en, to, fr = ind["entrances"], ind["to"], ind["from"]
    base = f"""
WITH RECURSIVE
st AS (SELECT fid AS s, name, geom FROM {fr}),
sd AS MATERIALIZED (SELECT st.s, d.name AS district FROM st JOIN districts d
       ON d.fid IN ({near_ids('districts', 'st.geom', 0)}) AND ST_Covers(d.geom, st.geom)),
ina AS MATERIALIZED (SELECT DISTINCT s FROM sd),
named0 AS (SELECT e.fid AS e, st.s, row_number() OVER (PARTITION BY e.fid ORDER BY ST_Distance(e.geom, st.geom), st.s) AS rn
           FROM {en} e JOIN st ON e.{fld} <> '' AND st.name = e.{fld}),
named AS MATERIALIZED (SELECT e, s FROM named0 WHERE rn = 1),
fb0 AS (SELECT e.fid AS e, st.s, ST_Distance(e.geom, st.geom) AS d FROM {en} e
        JOIN {fr} st0 ON st0.fid IN ({near_ids(fr, 'e.geom', catch)}) JOIN st ON st.s = st0.fid
        WHERE e.fid NOT IN (SELECT e FROM named)),
fallback AS (SELECT e, s FROM (SELECT e, s, row_number() OVER (PARTITION BY e ORDER BY d, s) AS rn
             FROM fb0 WHERE d <= {catch}) WHERE rn = 1),
owner AS MATERIALIZED (SELECT e, s FROM named UNION ALL SELECT e, s FROM fallback),
ap AS MATERIALIZED (SELECT o.s, e.geom FROM owner o JOIN {en} e ON e.fid = o.e
       UNION ALL SELECT st.s, st.geom FROM st WHERE st.s NOT IN (SELECT s FROM owner)),
cand0 AS (SELECT ap.s, b.fid AS j, ST_Distance(ap.geom, b.geom) AS d FROM ap
          JOIN {to} b ON b.fid IN ({near_ids(to, 'ap.geom', catch)}) WHERE ap.s IN (SELECT s FROM ina)),
cand AS MATERIALIZED (SELECT s, j, min(d) AS d FROM cand0 WHERE d <= {catch} GROUP BY s, j)"""
    if ind["basis"] == "station":
        return base + f""",
cov AS (SELECT ina.s, COALESCE(b.d <= {thr}, 0) AS c FROM ina
        LEFT JOIN (SELECT s, min(d) AS d FROM cand GROUP BY s) b ON b.s = ina.s)
SELECT district, count(*) FILTER (WHERE c), count(*) FROM sd JOIN cov ON cov.s = sd.s GROUP BY district
UNION ALL SELECT '_all', count(*) FILTER (WHERE c), count(*) FROM cov"""
    if ind["basis"] == "route":
        sep = ind["routes_sep"]
        rf = ind["routes_field"]
        return base + f""",
split(j, part, rest) AS (SELECT fid, NULL, {rf} || '{sep}' FROM {to} WHERE {rf} IS NOT NULL
    UNION ALL SELECT j, substr(rest, 1, instr(rest, '{sep}') - 1), substr(rest, instr(rest, '{sep}') + {len(sep)})
    FROM split WHERE rest <> ''),
sr AS MATERIALIZED (SELECT DISTINCT j, trim(part, {TRIM}) AS route FROM split WHERE part IS NOT NULL),
pairs AS MATERIALIZED (SELECT c.s, sr.route, min(c.d) AS d FROM cand c JOIN sr ON sr.j = c.j WHERE sr.route <> ''
          GROUP BY c.s, sr.route)
SELECT district, count(*) FILTER (WHERE d <= {thr}), count(*) FROM sd JOIN pairs ON pairs.s = sd.s GROUP BY district
UNION ALL SELECT '_all', count(*) FILTER (WHERE d <= {thr}), count(*) FROM pairs"""
    return base + f""",
sb AS MATERIALIZED (SELECT j, min(d) AS d FROM cand GROUP BY j),
sdist AS (SELECT DISTINCT c.j, sd.district FROM cand c JOIN sd ON sd.s = c.s)
SELECT district, count(*) FILTER (WHERE sb.d <= {thr}), count(*) FROM sdist JOIN sb ON sb.j = sdist.j GROUP BY district
UNION ALL SELECT '_all', count(*) FILTER (WHERE d <= {thr}), count(*) FROM sb"""


def length(ind):
    lay = ind["layer"]
    cond = "highway IN (%s)" % ",".join("'%s'" % t for t in common.GREENWAY_TYPES) if "where" in ind else "1"
    sql = f"WITH m0 AS MATERIALIZED (SELECT GUnion(geom) AS g FROM {lay} WHERE {cond})"
    cur = "m0"
    if ind.get("within"):
        parts = " UNION ALL ".join(f"SELECT geom FROM {l}" for l in ind["within"])
        sql += f""",
w AS MATERIALIZED (SELECT GUnion(geom) AS g FROM ({parts})),
m1 AS MATERIALIZED (SELECT ST_Intersection({cur}.g, w.g) AS g FROM {cur}, w)"""
        cur = "m1"
    if ind.get("near"):
        r = ind["near_m"]
        q = common.quadsegs_for(r)
        ycond = "y." + cond if cond != "1" else "1"
        parts = " UNION ALL ".join(
            f"SELECT x.geom FROM {l} x WHERE EXISTS (SELECT 1 FROM {lay} y WHERE y.fid IN ({near_ids(lay, 'x.geom', r + 0.001)})"
            f" AND {ycond} AND ST_Distance(x.geom, y.geom) <= {r + 0.001})"
            for l in ind["near"])
        sql += f""",
nr AS MATERIALIZED (SELECT GUnion(ST_Buffer(geom, {r + common.INCLUSIVE_EPS_M!r}, {q})) AS g FROM ({parts})),
m2 AS MATERIALIZED (SELECT ST_Intersection({cur}.g, nr.g) AS g FROM {cur}, nr)"""
        cur = "m2"
    sql += f""",
du AS MATERIALIZED (SELECT GUnion(geom) AS g FROM districts)
SELECT d.name, COALESCE(ST_Length(ST_Intersection({cur}.g, d.geom)), 0) / 1000.0 FROM districts d, {cur}
UNION ALL SELECT '_all', COALESCE(ST_Length(ST_Intersection({cur}.g, du.g)), 0) / 1000.0 FROM {cur}, du"""
    return sql


def _class_case(ind, what):
    out = "CASE"
    for c in ind["classes"]:
        hi = f" AND a < {c['max_area_m2']}" if "max_area_m2" in c else ""
        val = c["radius_m"] if what == "radius" else "'%s'" % c["label"]
        out += f" WHEN a >= {c['min_area_m2']}{hi} THEN {val}"
    return out + " END"


def coverage(ind):
    src, pop = ind["sources"], ind["population"]
    rmax = max(c["radius_m"] for c in ind["classes"])
    return f"""
WITH src AS (SELECT fid, geom, ST_Area(geom) AS a FROM {src}),
ok AS MATERIALIZED (SELECT * FROM (SELECT fid, geom, {_class_case(ind, 'radius')} AS r FROM src) WHERE r IS NOT NULL),
land AS MATERIALIZED (SELECT d.name, ST_Intersection(GUnion(p.geom), d.geom) AS g FROM districts d
         JOIN {pop} p ON p.fid IN ({near_ids(pop, 'd.geom', 0)}) AND ST_Intersects(d.geom, p.geom) GROUP BY d.fid),
covd AS MATERIALIZED (SELECT d.name, GUnion(ST_Buffer(ok.geom, ok.r, {common.COVERAGE_QUADSEGS})) AS g FROM districts d
         JOIN ok ON ok.fid IN ({near_ids(src, 'd.geom', rmax)}) AND ST_Distance(d.geom, ok.geom) <= ok.r GROUP BY d.fid),
per AS MATERIALIZED (SELECT land.name, COALESCE(ST_Area(ST_Intersection(land.g, covd.g)), 0) AS num, ST_Area(land.g) AS den
        FROM land LEFT JOIN covd ON covd.name = land.name)
SELECT name, num, den FROM per
UNION ALL SELECT '_all', sum(num), sum(den) FROM per"""


def coverage_classes(ind):
    src = ind["sources"]
    return f"""
WITH src AS (SELECT fid, geom, ST_Area(geom) AS a FROM {src}),
ok AS MATERIALIZED (SELECT fid, ST_PointOnSurface(geom) AS pt, {_class_case(ind, 'label')} AS label FROM src),
pd AS MATERIALIZED (SELECT ok.fid, ok.label, d.name FROM ok JOIN districts d
       ON d.fid IN ({near_ids('districts', 'ok.pt', 0)}) AND ST_Covers(d.geom, ok.pt) WHERE ok.label IS NOT NULL)
SELECT name, label, count(*) FROM pd GROUP BY name, label
UNION ALL SELECT '_all', label, count(DISTINCT fid) FROM pd GROUP BY label"""


def count(ind):
    lay = ind["layer"]
    return f"""
WITH p AS MATERIALIZED (SELECT fid, ST_PointOnSurface(geom) AS pt FROM {lay}
           WHERE ST_Area(geom) >= {ind['min_area_m2']} AND ST_Area(geom) <= {ind['max_area_m2']}),
pd AS MATERIALIZED (SELECT p.fid, d.name FROM p JOIN districts d
       ON d.fid IN ({near_ids('districts', 'p.pt', 0)}) AND ST_Covers(d.geom, p.pt))
SELECT name, count(*) FROM pd GROUP BY name
UNION ALL SELECT '_all', count(DISTINCT fid) FROM pd"""
