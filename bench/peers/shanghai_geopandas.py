#!/usr/bin/python3
# shanghai_geopandas.py: the rail-bus transfer indicators of plans/qingpu-2024-2026.yaml on the
# Shanghai sample data (data/shanghai), in GeoPandas 0.12 as an analyst would write them, for the
# "one process from nothing" comparison in bench/RESULTS.md: time it as a whole process (Python
# start-up, imports, reading, projecting, computing, writing the JSON).
#   bench/peers/shanghai_geopandas.py --json out.json [--data DIR]
# Definitions as in the plan and queries/transfer_coverage.c: stations whose `address` names an
# operating line ((';' || address) GLOB '*;[^(]*'), points in 青浦区 (boundary included), the
# project CRS the UTM zone of the districts (EPSG:32651); station basis: a station meets the target
# when a bus stop is within 50 m; route basis: a (station, route) pair exists when a stop of the
# route is within 300 m of the station, and meets the target when the route's nearest stop is
# within 50 m; routes from the stops' `address`, split on ';', trimmed, empty parts dropped.
import argparse
import json
import os
import sys
import time

T0 = time.perf_counter()
import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peerlib import split_routes  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ap = argparse.ArgumentParser()
ap.add_argument("--json", required=True)
ap.add_argument("--data", default=os.path.join(ROOT, "data", "shanghai"))
a = ap.parse_args()
T_IMPORT = time.perf_counter() - T0
CRS = 32651
DISTRICT = "青浦区"


def points(csv):
    df = pd.read_csv(os.path.join(a.data, csv))
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326).to_crs(CRS)


def operating(address):
    """(';' || address) GLOB '*;[^(]*': some ';' followed by a character other than '('."""
    if not isinstance(address, str):
        return False
    s = ";" + address
    return any(s[i] == ";" and s[i + 1] != "(" for i in range(len(s) - 1))


districts = gpd.read_file(os.path.join(a.data, "districts.shp"), encoding="GBK").to_crs(CRS)
area = districts[districts["NAME"] == DISTRICT].geometry.unary_union
stations = points("metro_stations.csv")
stops = points("bus_stops.csv")
T_READ = time.perf_counter() - T0

st = stations[stations["address"].map(operating)]
st = st[st.geometry.intersects(area)].reset_index(drop=True)  # intersects: the boundary counts
# every stop within 300 m of a station, with its distance (index on the stops, exact distance)
box = gpd.GeoSeries(st.geometry.buffer(300, 1).envelope.values)
si, sj = stops.sindex.query_bulk(box)
d = st.geometry.values[si].distance(stops.geometry.values[sj])
keep = d <= 300
pairs = pd.DataFrame({"s": si[keep], "j": sj[keep], "d": d[keep]})

best = pairs.groupby("s")["d"].min().reindex(range(len(st)))
covered = int((best <= 50).sum())
station_row = {"value": 100.0 * covered / len(st) if len(st) else None, "numerator": covered,
               "denominator": len(st)}

routes = stops["address"].map(split_routes)
ex = pd.DataFrame({"j": np.repeat(np.arange(len(stops)), routes.map(len).values),
                   "route": [r for rs in routes for r in rs]})
rp = pairs.merge(ex, on="j").groupby(["s", "route"], as_index=False)["d"].min()
met = int((rp["d"] <= 50).sum())
route_row = {"value": 100.0 * met / len(rp) if len(rp) else None, "numerator": met, "denominator": len(rp)}

out = {"tool": "geopandas", "indicators": [
    {"id": "transfer_50m", "metric": "transfer_coverage",
     "results": [dict(station_row, district=DISTRICT), dict(station_row, district="_all")]},
    {"id": "transfer_50m_route", "metric": "transfer_coverage",
     "results": [dict(route_row, district=DISTRICT), dict(route_row, district="_all")]}],
    "timings": {"import_s": T_IMPORT, "read_s": T_READ - T_IMPORT, "compute_s": time.perf_counter() - T0 - T_READ}}
with open(a.json, "w") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
