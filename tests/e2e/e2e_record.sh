#!/usr/bin/env bash
# e2e_record.sh: reports and exports come from the recorded run only. A run records every
# indicator's resolved parameters and its districts layer; `report --html` and `export --qgs` give
# byte-identical files with the plan file present, edited, moved or deleted; a project database of
# planmetrics 0.1 (schema 1) still opens (reports say what to rerun) and is migrated by the next
# run; a database of a newer planmetrics is refused.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || { echo "e2e_record: needs the sqlite3 command"; exit 1; }

# The Porto demo plan in a scratch directory that resolves ../data like plans/ does.
mkdir -p "$WORK/p/plans"
ln -s "$PM_SOURCE_DIR/data" "$WORK/p/data"
PLAN=$WORK/p/plans/porto.yaml
cp "$PM_SOURCE_DIR/plans/porto-demo.yaml" "$PLAN"
DB=$WORK/porto.sqlite

expect_exit 1 "run the Porto plan" "$PM" run "$PLAN" --db "$DB" --json "$WORK/run.json" --quiet

# What the run recorded.
params=$(sqlite3 "$DB" "SELECT params FROM pm_indicators WHERE run_id = 1 AND indicator_id = 'transfer_50m'")
contains "resolved parameters recorded" "$params" '"threshold_m": 50'
contains "defaults applied in the record" "$params" '"catchment_m": 300'
contains "basis recorded" "$params" '"basis": "station"'
check "every indicator has its parameters" \
  test "$(sqlite3 "$DB" "SELECT count(*) FROM pm_indicators WHERE run_id = 1")" = \
       "$(sqlite3 "$DB" "SELECT count(DISTINCT indicator_id) FROM pm_results WHERE run_id = 1")"
check "districts layer recorded" \
  test "$(sqlite3 "$DB" "SELECT districts_layer || '.' || districts_field FROM pm_runs")" = "freguesias.name"
check "schema version 2" test "$(sqlite3 "$DB" "PRAGMA user_version")" = 2

outputs() { # outputs TAG: HTML report and QGIS export of run 1, in $WORK/TAG/ (same file names)
  mkdir -p "$WORK/$1"
  expect_exit 0 "report --html ($1)" "$PM" report --db "$DB" --run 1 --html "$WORK/$1/run.html" --quiet
  expect_exit 0 "export --qgs ($1)" "$PM" export --db "$DB" --run 1 --gpkg "$WORK/$1/run.gpkg" \
    --qgs "$WORK/$1/run.qgs" --quiet
}
outputs present
# Edit the plan (another threshold and note), then move it, then delete it.
sed -i 's/threshold_m: 50/threshold_m: 80/' "$PLAN"
outputs edited
mv "$PLAN" "$WORK/p/moved.yaml"
outputs moved
rm "$WORK/p/moved.yaml"
outputs deleted
for tag in edited moved deleted; do
  check "HTML identical with the plan $tag" cmp -s "$WORK/present/run.html" "$WORK/$tag/run.html"
  check "QGIS project identical with the plan $tag" cmp -s "$WORK/present/run.qgs" "$WORK/$tag/run.qgs"
done
contains "legend threshold from the run" "$(cat "$WORK/deleted/run.html")" "from the run&#39;s parameters"

# A database of planmetrics 0.1: no parameters, no districts layer, user_version 0.
cp "$DB" "$WORK/old.sqlite"
sqlite3 "$WORK/old.sqlite" "DROP TABLE pm_indicators; ALTER TABLE pm_runs DROP COLUMN districts_layer;
  ALTER TABLE pm_runs DROP COLUMN districts_field; ALTER TABLE pm_runs DROP COLUMN timezone;
  PRAGMA user_version = 0;"
expect_exit 0 "report --html of a 0.1 database" "$PM" report --db "$WORK/old.sqlite" --html "$WORK/old.html"
contains "says what to rerun (HTML)" "$ERR" "run the plan again"
expect_exit 0 "export of a 0.1 database" "$PM" export --db "$WORK/old.sqlite" --gpkg "$WORK/old.gpkg"
contains "says what to rerun (export)" "$ERR" "run the plan again"
check "reading migrates nothing" test "$(sqlite3 "$WORK/old.sqlite" "PRAGMA user_version")" = 0
cp "$PM_SOURCE_DIR/plans/porto-demo.yaml" "$WORK/p/plans/porto.yaml"
expect_exit 1 "run on a 0.1 database" "$PM" run "$WORK/p/plans/porto.yaml" --db "$WORK/old.sqlite" --quiet
check "migrated to schema 2" test "$(sqlite3 "$WORK/old.sqlite" "PRAGMA user_version")" = 2
check "the new run has its parameters" \
  test "$(sqlite3 "$WORK/old.sqlite" "SELECT count(*) FROM pm_indicators WHERE run_id = 2")" -gt 0
check "the old run is still there" \
  test "$(sqlite3 "$WORK/old.sqlite" "SELECT count(*) FROM pm_runs")" = 2
expect_exit 0 "report of the old run after migration" "$PM" report --db "$WORK/old.sqlite" --run 1 \
  --html "$WORK/old1.html" --quiet
check "the old run's maps survive the migration" cmp -s "$WORK/old.html" "$WORK/old1.html"
check "the old geometry column is gone" \
  test "$(sqlite3 "$WORK/old.sqlite" "SELECT count(*) FROM pragma_table_info('pm_details') WHERE name = 'geom'")" = 0

# QGIS opens every geometry table of a project database as a typed layer in the project CRS,
# the run's details included (new and migrated databases).
QGIS_PY=
for py in ${PM_QGIS_PYTHON:-} python3 /usr/bin/python3; do
  if "$py" -c "import qgis.core" 2>/dev/null; then QGIS_PY=$py; break; fi
done
if [ -z "$QGIS_PY" ]; then
  echo "SKIPPED: QGIS checks (python3-qgis is not importable; scripts/install-deps.sh --qgis)"
  [ -n "${CI:-}" ] && bad "QGIS checks cannot run in CI: python3-qgis is not importable"
else
  mkdir -p "$WORK/xdg" && chmod 700 "$WORK/xdg"
  for db in "$DB" "$WORK/old.sqlite"; do
    expect_exit 0 "QGIS opens every table of $(basename "$db") with its type and CRS" env \
      QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR="$WORK/xdg" "$QGIS_PY" \
      "$PM_SOURCE_DIR/tests/qgis/check_db.py" "$db"
  done
fi

# A database written by a newer planmetrics is refused, and left as it was.
cp "$DB" "$WORK/new.sqlite"
sqlite3 "$WORK/new.sqlite" "PRAGMA user_version = 99"
before=$(sha256sum "$WORK/new.sqlite")
expect_exit 2 "newer schema refused (info)" "$PM" info --db "$WORK/new.sqlite"
contains "says to upgrade" "$ERR" "newer planmetrics"
expect_exit 2 "newer schema refused (run)" "$PM" run "$WORK/p/plans/porto.yaml" --db "$WORK/new.sqlite"
check "newer database unchanged" test "$(sha256sum "$WORK/new.sqlite")" = "$before"
finish
