#!/usr/bin/env bash
# e2e_twins.sh: the invariant of the walking network on every shipped plan. A walk is never shorter
# than the straight line (METRICS.md §5), so an indicator `X_walk` (distance: network), the twin of
# `X` (the same indicator with straight-line distances; plans/README.md), is never above it: in
# every district both report, walk value <= straight value (the shares of stations served, of land
# covered...). And every gap of a network indicator is walked at least as far as the straight line
# to the same target. Each shipped plan runs; a plan without twins only has its gaps checked.
source "$(dirname "$0")/lib.sh"
PLANS=$PM_SOURCE_DIR/plans
n_pairs=0
for plan in "$PLANS"/*.yaml; do
  name=$(basename "$plan" .yaml)
  "$PM" run "$plan" --db "$WORK/$name.sqlite" --json "$WORK/$name.json" --quiet >/dev/null 2>"$WORK/err"
  rc=$?
  check "$name: runs (exit $rc: $(head -c 300 "$WORK/err"))" test "$rc" -le 1
  out=$(python3 - "$WORK/$name.json" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
inds = {i["id"]: i for i in rep["indicators"]}
bad, pairs, gaps = [], 0, 0
for iid, walk in inds.items():
    if walk.get("distance") == "network":
        for r in walk["results"]:
            for g in r.get("gaps") or []:  # null: no data
                d, s = g.get("distance_m"), g.get("straight_line_m")
                if d is not None and s is not None:
                    gaps += 1
                    if d < s - 1e-6:
                        bad.append(f"{iid} {r['district']} gap {g['id']}: walked {d} < straight {s}")
    if not iid.endswith("_walk"):
        continue
    twin = inds.get(iid[: -len("_walk")])
    if twin is None:
        bad.append(f"{iid}: no twin {iid[:-5]} in the plan (plans/README.md: X and X_walk)")
        continue
    if walk.get("distance") != "network" or twin.get("distance") != "euclidean":
        bad.append(f"{iid}: distance {walk.get('distance')}, its twin {twin.get('distance')}")
        continue
    if walk["metric"] != twin["metric"]:
        bad.append(f"{iid}: metric {walk['metric']}, its twin {twin['metric']}")
    pairs += 1
    straight = {r["district"]: r for r in twin["results"]}
    for r in walk["results"]:
        s = straight.get(r["district"])
        if s is None:
            bad.append(f"{iid}: district {r['district']} not in {twin['id']}")
            continue
        if r.get("denominator") is not None and s.get("denominator") is not None and \
                abs(r["denominator"] - s["denominator"]) > 1e-6 * max(1, abs(s["denominator"])):
            bad.append(f"{iid} {r['district']}: denominator {r['denominator']}, twin {s['denominator']}")
        if r.get("value") is not None and s.get("value") is not None and r["value"] > s["value"] + 1e-9:
            bad.append(f"{iid} {r['district']}: {r['value']} walked > {s['value']} straight")
print(f"{pairs} twin pairs, {gaps} walked gaps")
for b in bad:
    print("BAD:", b)
PY
)
  echo "$name: $(head -1 <<<"$out")"
  check "$name: twins and gaps hold ($(grep BAD <<<"$out" | head -5))" test -z "$(grep BAD <<<"$out")"
  n_pairs=$((n_pairs + $(head -1 <<<"$out" | cut -d' ' -f1)))
done
check "the shipped plans carry twins (found $n_pairs)" test "$n_pairs" -ge 3
finish
