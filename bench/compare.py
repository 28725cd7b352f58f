#!/usr/bin/python3
# compare.py: compare indicator results number by number (value, numerator, denominator, class
# counts per district and _all) between a reference report (planmetrics --json) and peer outputs.
#   bench/compare.py REF.json PEER.json [PEER.json ...] [--rtol 1e-6] [--summary OUT.json]
# Exit 0 when every number agrees within rtol (relative; absolute 1e-9 near zero), 1 otherwise.
import argparse
import json
import math
import sys


def close(a, b, rtol, atol=1e-9):
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= max(atol, rtol * max(abs(a), abs(b)))


def rel(a, b):
    try:
        a, b = float(a), float(b)
        m = max(abs(a), abs(b))
        return abs(a - b) / m if m else 0.0
    except (TypeError, ValueError):
        return math.inf


def by_id(doc):
    return {i["id"]: i for i in doc.get("indicators", [])}


def compare(ref, peer, rtol, ids=None):
    """List of (indicator, district, field, ref value, peer value, relative difference) that differ,
    the number of numbers compared, and the largest relative difference among agreeing numbers."""
    bad, n, worst = [], 0, 0.0
    r_ind, p_ind = by_id(ref), by_id(peer)
    for iid, pi in p_ind.items():
        if ids and iid not in ids:
            continue
        ri = r_ind.get(iid)
        if ri is None:
            bad.append((iid, "-", "missing in reference", None, None, math.inf))
            continue
        rres = {r["district"]: r for r in ri["results"]}
        for pr in pi["results"]:
            d = pr["district"]
            rr = rres.get(d)
            if rr is None:
                bad.append((iid, d, "district missing in reference", None, None, math.inf))
                continue
            for f in ("value", "numerator", "denominator"):
                if f not in pr:
                    continue
                n += 1
                if close(rr.get(f), pr.get(f), rtol):
                    if rr.get(f) is not None and pr.get(f) is not None:
                        worst = max(worst, rel(rr[f], pr[f]))
                else:
                    bad.append((iid, d, f, rr.get(f), pr.get(f), rel(rr.get(f), pr.get(f))))
            if "classes" in pr:
                rc = {c["label"]: c["count"] for c in rr.get("classes") or []}
                for c in pr["classes"]:
                    n += 1
                    if rc.get(c["label"]) != c["count"]:
                        bad.append((iid, d, "class " + c["label"], rc.get(c["label"]), c["count"], math.inf))
        missing = set(rres) - {r["district"] for r in pi["results"]}
        for d in sorted(missing):
            bad.append((iid, d, "district missing in peer", None, None, math.inf))
    return bad, n, worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ref")
    ap.add_argument("peers", nargs="+")
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--summary", help="write a JSON summary here")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    ref = json.load(open(a.ref))
    summary, ok = [], True
    for p in a.peers:
        peer = json.load(open(p))
        bad, n, worst = compare(ref, peer, a.rtol)
        tool = peer.get("tool", p)
        summary.append({"peer": tool, "file": p, "compared": n, "differences": len(bad), "max_rel_diff_agreeing": worst,
                        "diffs": [list(map(lambda x: x if not isinstance(x, float) or math.isfinite(x) else None, b))
                                  for b in bad[:200]]})
        ok = ok and not bad
        if not a.quiet:
            print("%-12s %5d numbers, %d differ (rtol %g); largest relative difference among agreeing: %.2e"
                  % (tool, n, len(bad), a.rtol, worst))
            for b in bad[:20]:
                print("   %-22s %-8s %-14s ref=%r peer=%r rel=%.3g" % b)
            if len(bad) > 20:
                print("   ... %d more" % (len(bad) - 20))
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(summary, f, indent=1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
