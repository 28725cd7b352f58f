# postgis_sql.py: the benchmark indicators as PostGIS SQL. Every query returns rows
# (district, numerator, denominator) for percentages or (district, amount) for km and counts,
# '_all' last; the coverage query adds (district, class label, count) rows for count_by_class.
from peerlib import common

TRIM = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(12288)"


def transfer(ind):
    thr, catch, fld = ind["threshold_m"], ind["catchment_m"], ind["entrance_station_field"]
    base = f"""
WITH st AS (SELECT fid AS s, name, geom FROM {ind['from']}),
sd AS (SELECT st.s, d.name AS district FROM st JOIN districts d ON ST_Covers(d.geom, st.geom)),
ina AS (SELECT DISTINCT s FROM sd),
named AS (SELECT DISTINCT ON (e.fid) e.fid AS e, st.s FROM {ind['entrances']} e
          JOIN st ON e.{fld} <> '' AND st.name = e.{fld}
          ORDER BY e.fid, ST_Distance(e.geom, st.geom), st.s),
fallback AS (SELECT e.fid AS e, n.s FROM {ind['entrances']} e
             CROSS JOIN LATERAL (SELECT st.s FROM st WHERE ST_DWithin(e.geom, st.geom, {catch})
                                 ORDER BY ST_Distance(e.geom, st.geom), st.s LIMIT 1) n
             WHERE NOT EXISTS (SELECT 1 FROM named WHERE named.e = e.fid)),
owner AS (SELECT * FROM named UNION ALL SELECT * FROM fallback),
ap AS (SELECT o.s, e.geom FROM owner o JOIN {ind['entrances']} e ON e.fid = o.e
       UNION ALL SELECT st.s, st.geom FROM st WHERE NOT EXISTS (SELECT 1 FROM owner o WHERE o.s = st.s)),
cand AS (SELECT ap.s, b.fid AS j, min(ST_Distance(ap.geom, b.geom)) AS d
         FROM ap JOIN ina USING (s) JOIN {ind['to']} b ON ST_DWithin(ap.geom, b.geom, {catch})
         GROUP BY ap.s, b.fid)"""
    if ind["basis"] == "station":
        return base + f""",
cov AS (SELECT ina.s, COALESCE(b.d <= {thr}, false) AS c FROM ina
        LEFT JOIN (SELECT s, min(d) AS d FROM cand GROUP BY s) b USING (s))
SELECT district, count(*) FILTER (WHERE c), count(*) FROM sd JOIN cov USING (s) GROUP BY district
UNION ALL SELECT '_all', count(*) FILTER (WHERE c), count(*) FROM cov"""
    if ind["basis"] == "route":
        return base + f""",
sr AS (SELECT DISTINCT b.fid AS j, btrim(x, {TRIM}) AS route
       FROM {ind['to']} b, unnest(string_to_array(b.{ind['routes_field']}, '{ind['routes_sep']}')) x),
pairs AS (SELECT c.s, sr.route, min(c.d) AS d FROM cand c JOIN sr USING (j) WHERE sr.route <> ''
          GROUP BY c.s, sr.route)
SELECT district, count(*) FILTER (WHERE d <= {thr}), count(*) FROM sd JOIN pairs USING (s) GROUP BY district
UNION ALL SELECT '_all', count(*) FILTER (WHERE d <= {thr}), count(*) FROM pairs"""
    return base + f""",
sb AS (SELECT j, min(d) AS d FROM cand GROUP BY j),
sdist AS (SELECT DISTINCT c.j, sd.district FROM cand c JOIN sd USING (s))
SELECT district, count(*) FILTER (WHERE sb.d <= {thr}), count(*) FROM sdist JOIN sb USING (j) GROUP BY district
UNION ALL SELECT '_all', count(*) FILTER (WHERE d <= {thr}), count(*) FROM sb"""


def length(ind):
    where = "WHERE highway IN (%s)" % ",".join("'%s'" % t for t in common.GREENWAY_TYPES) if "where" in ind else ""
    sql = f"WITH m0 AS (SELECT ST_Union(geom) AS g FROM {ind['layer']} {where})"
    cur = "m0"
    if ind.get("within"):
        parts = " UNION ALL ".join(f"SELECT geom FROM {l}" for l in ind["within"])
        sql += f""",
w AS (SELECT ST_Union(geom) AS g FROM ({parts}) x),
m1 AS (SELECT ST_Intersection({cur}.g, w.g) AS g FROM {cur}, w)"""
        cur = "m1"
    if ind.get("near"):
        r = ind["near_m"]
        q = common.quadsegs_for(r)
        # only features near some selected line can matter (the same pruning planmetrics does)
        parts = " UNION ALL ".join(
            f"SELECT x.geom FROM {l} x WHERE EXISTS (SELECT 1 FROM {ind['layer']} y {where.replace('WHERE', 'WHERE') or 'WHERE true'}"
            f" AND ST_DWithin(x.geom, y.geom, {r + 0.001}))" for l in ind["near"])
        sql += f""",
nr AS (SELECT ST_Union(ST_Buffer(geom, {r + common.INCLUSIVE_EPS_M!r}, 'quad_segs={q}')) AS g FROM ({parts}) x),
m2 AS (SELECT ST_Intersection({cur}.g, nr.g) AS g FROM {cur}, nr)"""
        cur = "m2"
    sql += f"""
SELECT d.name, ST_Length(ST_Intersection({cur}.g, d.geom)) / 1000.0 FROM districts d, {cur}
UNION ALL SELECT '_all', ST_Length(ST_Intersection({cur}.g, (SELECT ST_Union(geom) FROM districts))) / 1000.0 FROM {cur}"""
    return sql


def _class_case(ind, what):
    out = "CASE"
    for c in ind["classes"]:
        hi = f" AND a < {c['max_area_m2']}" if "max_area_m2" in c else ""
        val = c["radius_m"] if what == "radius" else "'%s'" % c["label"]
        out += f" WHEN a >= {c['min_area_m2']}{hi} THEN {val}"
    return out + " END"


def coverage(ind):
    """Rows (district, covered m2, land m2) then (district, '#class', label, count)."""
    return f"""
WITH src AS (SELECT fid, geom, ST_Area(geom) AS a FROM {ind['sources']}),
cls AS (SELECT fid, geom, {_class_case(ind, 'radius')} AS r, {_class_case(ind, 'label')} AS label FROM src),
ok AS (SELECT * FROM cls WHERE r IS NOT NULL),
land AS (SELECT d.name, d.geom AS dg, ST_Intersection(ST_Union(p.geom), d.geom) AS g
         FROM districts d JOIN {ind['population']} p ON ST_Intersects(d.geom, p.geom) GROUP BY d.name, d.geom),
covd AS (SELECT d.name, ST_Union(ST_Buffer(ok.geom, ok.r, 'quad_segs={common.COVERAGE_QUADSEGS}')) AS g
         FROM districts d JOIN ok ON ST_DWithin(d.geom, ok.geom, ok.r) GROUP BY d.name),
per AS (SELECT land.name, COALESCE(ST_Area(ST_Intersection(land.g, covd.g)), 0) AS num, ST_Area(land.g) AS den
        FROM land LEFT JOIN covd USING (name))
SELECT name, num, den FROM per
UNION ALL SELECT '_all', sum(num), sum(den) FROM per"""


def coverage_classes(ind):
    return f"""
WITH src AS (SELECT fid, geom, ST_Area(geom) AS a FROM {ind['sources']}),
ok AS (SELECT fid, ST_PointOnSurface(geom) AS pt, {_class_case(ind, 'label')} AS label FROM src),
pd AS (SELECT ok.fid, ok.label, d.name FROM ok JOIN districts d ON ST_Covers(d.geom, ok.pt) WHERE ok.label IS NOT NULL)
SELECT name, label, count(*) FROM pd GROUP BY name, label
UNION ALL SELECT '_all', label, count(DISTINCT fid) FROM pd GROUP BY label"""


def count(ind):
    return f"""
WITH p AS (SELECT fid, ST_PointOnSurface(geom) AS pt FROM {ind['layer']}
           WHERE ST_Area(geom) >= {ind['min_area_m2']} AND ST_Area(geom) <= {ind['max_area_m2']}),
pd AS (SELECT p.fid, d.name FROM p JOIN districts d ON ST_Covers(d.geom, p.pt))
SELECT name, count(*) FROM pd GROUP BY name
UNION ALL SELECT '_all', count(DISTINCT fid) FROM pd"""
