#!/usr/bin/python3
# geopandas_peer.py: the benchmark indicators with GeoPandas 0.12 / Shapely 1.8 (Debian 12), written
# the way an analyst would: read_file, spatial index joins, unary_union, overlay per district.
# Definitions follow METRICS.md and the choices documented in queries/*.c (see bench/README.md).
import math
import os
import sys
import warnings

import numpy as np
import pandas as pd
import geopandas as gpd
from shapely.geometry import box
from shapely.ops import unary_union

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from peerlib import common  # noqa: E402

warnings.filterwarnings("ignore", "CRS mismatch")
a = peerlib.parse_args("geopandas")
out = peerlib.Output("geopandas", a)
frames = {}


def layer(name):
    if name not in frames:
        with peerlib.Timer(out.timings["load_s"], name):
            frames[name] = gpd.read_file(peerlib.layer_path(a, name))
    return frames[name]


def districts():
    d = layer("districts")
    if "_all" not in frames:
        frames["_all"] = unary_union(list(d.geometry))
    return d, frames["_all"]


def point_districts(pts):
    """(row position in pts, district name) for every district covering each point."""
    d, _ = districts()
    j = gpd.sjoin(gpd.GeoDataFrame(geometry=pts.reset_index(drop=True)), d[["NAME", "geometry"]],
                  predicate="intersects", how="inner")
    return pd.DataFrame({"i": j.index.values, "district": j["NAME"].values})


def near_pairs(left, right, dist):
    """Pairs (i, j) of positions with distance(left[i], right[j]) <= dist, and that distance."""
    boxes = gpd.GeoSeries([box(x0 - dist, y0 - dist, x1 + dist, y1 + dist)
                           for x0, y0, x1, y1 in left.bounds.values])
    li, rj = right.sindex.query_bulk(boxes)
    lg = left.iloc[li].reset_index(drop=True)
    rg = right.iloc[rj].reset_index(drop=True)
    dd = lg.distance(rg).values
    keep = dd <= dist
    return pd.DataFrame({"i": li[keep], "j": rj[keep], "d": dd[keep]})


# ---- transfer_coverage ----------------------------------------------------------------------
def access_points(ind):
    """Access-point table: station position s and geometry (entrances, else the station point)."""
    st = layer(ind["from"]).reset_index(drop=True)
    en = layer(ind["entrances"]).reset_index(drop=True)
    catch = ind["catchment_m"]
    owner = np.full(len(en), -1)
    by_name = {}
    for s, nm in enumerate(st["name"].values):
        if isinstance(nm, str):
            by_name.setdefault(nm, []).append(s)
    want = en[ind["entrance_station_field"]].values
    for e in range(len(en)):
        cands = by_name.get(want[e]) if isinstance(want[e], str) and want[e] else None
        if cands:
            dd = [en.geometry.iloc[e].distance(st.geometry.iloc[s]) for s in cands]
            owner[e] = cands[int(np.argmin(dd))]
    # the rest: the nearest station within the catchment (ties: the first station)
    rest = np.where(owner < 0)[0]
    if len(rest):
        p = near_pairs(en.geometry.iloc[rest].reset_index(drop=True), st.geometry, catch)
        p = p.sort_values(["i", "d", "j"]).drop_duplicates("i")
        owner[rest[p["i"].values]] = p["j"].values
    has = set(owner[owner >= 0].tolist())
    ap_s = list(owner[owner >= 0])
    ap_g = list(en.geometry.values[owner >= 0])
    for s in range(len(st)):
        if s not in has:
            ap_s.append(s)
            ap_g.append(st.geometry.values[s])
    return st, gpd.GeoSeries(ap_g), np.array(ap_s)


def transfer(ind):
    st, ap_geom, ap_s = access_points(ind)
    sp = layer(ind["to"]).reset_index(drop=True)
    thr, catch = ind["threshold_m"], ind["catchment_m"]
    sd = point_districts(st.geometry)  # station -> districts
    in_area = set(sd["i"].tolist())
    p = near_pairs(ap_geom, sp.geometry, catch)
    p["s"] = ap_s[p["i"].values]
    p = p[p["s"].isin(in_area)]
    cand = p.groupby(["s", "j"], as_index=False)["d"].min()  # stop j in s's catchment at distance d
    names = list(layer("districts")["NAME"])
    rows = {nm: peerlib.share(0, 0) for nm in names}
    if ind["basis"] == "station":
        best = cand.groupby("s")["d"].min()
        cov = pd.Series(0, index=sorted(in_area))
        cov.loc[best.index[best.values <= thr]] = 1
        items = pd.DataFrame({"s": cov.index, "c": cov.values})
        per = sd.merge(items, left_on="i", right_on="s")
        for dn, g in per.groupby("district"):
            rows[dn] = peerlib.share(int(g["c"].sum()), len(g))
        rows["_all"] = peerlib.share(int(items["c"].sum()), len(items))
    elif ind["basis"] == "route":
        rt = sp[ind["routes_field"]].map(lambda t: peerlib.split_routes(t, ind["routes_sep"]))
        ex = pd.DataFrame({"j": np.repeat(np.arange(len(sp)), rt.map(len).values),
                           "route": [r for rs in rt for r in rs]})
        pairs = cand.merge(ex, on="j").groupby(["s", "route"], as_index=False)["d"].min()
        pairs["c"] = (pairs["d"] <= thr).astype(int)
        per = sd.merge(pairs, left_on="i", right_on="s")
        for dn, g in per.groupby("district"):
            rows[dn] = peerlib.share(int(g["c"].sum()), len(g))
        rows["_all"] = peerlib.share(int(pairs["c"].sum()), len(pairs))
    else:
        best = cand.groupby("j")["d"].min()
        cov = (best <= thr).astype(int)
        per = cand.merge(sd, left_on="s", right_on="i")[["j", "district"]].drop_duplicates()
        per["c"] = cov.loc[per["j"].values].values
        for dn, g in per.groupby("district"):
            rows[dn] = peerlib.share(int(g["c"].sum()), len(g))
        rows["_all"] = peerlib.share(int(cov.sum()), len(cov))
    out.add(ind["id"], rows, names)


# ---- length -----------------------------------------------------------------------------------
def length(ind):
    d, allu = districts()
    lines = layer(ind["layer"])
    if "where" in ind:
        lines = lines[lines["highway"].isin(common.GREENWAY_TYPES)]
    m = unary_union(list(lines.geometry))
    if ind.get("within"):
        region = unary_union([g for l in ind["within"] for g in layer(l).geometry])
        m = m.intersection(region)
    if ind.get("near"):
        r = ind["near_m"]
        src = gpd.GeoSeries(pd.concat([layer(l).geometry for l in ind["near"]], ignore_index=True))
        region = unary_union(list(src.buffer(r + common.INCLUSIVE_EPS_M, resolution=common.quadsegs_for(r))))
        m = m.intersection(region)
    rows = {}
    for nm, g in zip(d["NAME"], d.geometry):
        rows[nm] = peerlib.amount(m.intersection(g).length / 1000.0)
    rows["_all"] = peerlib.amount(m.intersection(allu).length / 1000.0)
    out.add(ind["id"], rows, list(d["NAME"]))


# ---- coverage ---------------------------------------------------------------------------------
def coverage(ind):
    d, allu = districts()
    parks = layer(ind["sources"])
    res = layer(ind["population"])
    cls = ind["classes"]
    area = parks.geometry.area.values
    radius = np.full(len(parks), np.nan)
    klass = np.full(len(parks), -1)
    for k in range(len(cls) - 1, -1, -1):
        lo, hi = cls[k]["min_area_m2"], cls[k].get("max_area_m2", math.inf)
        sel = (area >= lo) & (area < hi)
        radius[sel] = cls[k]["radius_m"]
        klass[sel] = k
    keep = klass >= 0
    src = parks[keep].reset_index(drop=True)
    bufs = src.geometry.buffer(radius[keep], resolution=common.COVERAGE_QUADSEGS)
    covered = unary_union(list(bufs))
    rows, classes = {}, {"_labels": [c["label"] for c in cls]}
    tot_num = tot_den = 0.0
    res_idx = res.sindex
    for nm, g in zip(d["NAME"], d.geometry):
        hit = res_idx.query(g, predicate="intersects")
        land = unary_union(list(res.geometry.iloc[hit])).intersection(g)
        den = land.area
        num = land.intersection(covered).area
        rows[nm] = peerlib.share(num, den)
        tot_num += num
        tot_den += den
    rows["_all"] = peerlib.share(tot_num, tot_den)  # districts tile the plan area
    rp = point_districts(src.geometry.representative_point())
    rp["k"] = klass[keep][rp["i"].values]
    for nm, g in rp.groupby("district"):
        classes[nm] = {cls[k]["label"]: int((g["k"] == k).sum()) for k in range(len(cls))}
    u = rp.drop_duplicates("i")
    classes["_all"] = {cls[k]["label"]: int((u["k"] == k).sum()) for k in range(len(cls))}
    out.add(ind["id"], rows, list(d["NAME"]), classes)


# ---- count ------------------------------------------------------------------------------------
def count(ind):
    d, _ = districts()
    pk = layer(ind["layer"])
    a_ = pk.geometry.area
    sel = pk[(a_ >= ind["min_area_m2"]) & (a_ <= ind["max_area_m2"])]
    rp = point_districts(sel.geometry.representative_point())
    rows = {nm: peerlib.amount(0) for nm in d["NAME"]}
    for nm, g in rp.groupby("district"):
        rows[nm] = peerlib.amount(len(g))
    rows["_all"] = peerlib.amount(rp["i"].nunique())
    out.add(ind["id"], rows, list(d["NAME"]))


KINDS = {"transfer_coverage": transfer, "length": length, "coverage": coverage, "count": count}
for iid in a.ids:
    ind = common.IND_BY_ID[iid]
    layers = common.layers_of(ind)
    for l in layers:
        layer(l)
    with peerlib.Timer(out.timings["compute_s"], iid):
        KINDS[ind["metric"]](ind)
out.write()
