#!/usr/bin/python3
"""check_db.py DB: a headless QGIS opens every geometry table of a planmetrics project database
with SpatiaLite's provider as a valid layer with a known geometry type and the project's CRS
(pm_details_* included: the run's detail geometries). Exit 1 naming the tables that fail."""
import sqlite3
import sys

from qgis.core import QgsApplication, QgsVectorLayer, QgsWkbTypes

db = sys.argv[1]
con = sqlite3.connect(db)
tables = con.execute("SELECT f_table_name, f_geometry_column, srid FROM geometry_columns").fetchall()
srids = {s for _, _, s in tables}
con.close()
app = QgsApplication([], False)
app.initQgis()
bad = []
for table, column, srid in tables:
    layer = QgsVectorLayer(f"dbname='{db}' table=\"{table}\" ({column})", table, "spatialite")
    kind = QgsWkbTypes.displayString(layer.wkbType()) if layer.isValid() else "invalid"
    crs = layer.crs().authid() if layer.isValid() else ""
    ok = layer.isValid() and layer.wkbType() not in (QgsWkbTypes.Unknown, QgsWkbTypes.NoGeometry) \
        and crs == f"EPSG:{srid}"
    print(f"{table}: {kind}, {crs or 'no CRS'}, {layer.featureCount() if layer.isValid() else 0} features")
    if not ok:
        bad.append(table)
    del layer  # layers must be gone before exitQgis, or the provider crashes on exit
app.exitQgis()
if len(srids) != 1:
    print(f"geometry tables in several CRSs: {sorted(srids)}")
    sys.exit(1)
if bad:
    print("QGIS cannot open as typed layers with the project CRS: " + ", ".join(bad))
    sys.exit(1)
if not any(t.startswith("pm_details") for t, _, _ in tables):
    print("no pm_details_* tables: the run's detail geometries are not registered")
    sys.exit(1)
