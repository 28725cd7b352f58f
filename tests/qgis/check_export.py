#!/usr/bin/env python3
"""check_export.py: open a planmetrics export in a real (headless) QGIS and check it.

usage: check_export.py --gpkg OUT.gpkg --project OUT.qgz [--png MAP.png] [--crs EPSG:32651]
                       [--districts LAYER]
                       [--expect LAYER=COUNT]... [--renderer LAYER=TYPE]... [--each-group]
                       [--graduated LAYER=FIELD]... [--walked LAYER]...

Checks, with the QGIS Python API (python3-qgis, QT_QPA_PLATFORM=offscreen):
  - every feature table of the GeoPackage opens as a valid QGIS layer in the right CRS, with the
    feature count SQLite reports, and with its default style from layer_styles applied (the
    renderer type of the stored QML);
  - the project opens, its CRS is right, every layer is valid with the same counts and styles,
    the drawing order is points, lines, polygons, district layers last, and the default view
    lies inside the plan area;
  - the layer panel: every layer-tree entry resolves to a valid layer of the project with the
    entry's name, and every layer of the GeoPackage has exactly one entry (QGIS replaces saved
    layer ids it does not accept, which leaves entries pointing at nothing);
  - with --png, the map of the visible layers renders to a PNG that is not blank: many colours,
    the green and red of covered / not covered among them.
With --each-group, also one map per indicator group (MAP_<group>.png), as a visual report.
With --graduated, the layer (a walking network's reached parts) is drawn by QGIS's graduated
renderer on FIELD, in contiguous ranges that hold every feature's value, nearest darkest; with
--walked, the layer (walked paths to the nearest stop) is categorized and its legend says so.
Prints one line per failed check and exits 1 on any failure.
"""
import argparse
import os
import re
import sqlite3
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def gpkg_tables(path):
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name")]
        counts = {t: con.execute('SELECT count(*) FROM "%s"' % t.replace('"', '""')).fetchone()[0]
                  for t in tables}
        styles = {}
        for name, qml, default in con.execute(
                "SELECT f_table_name, styleQML, useAsDefault FROM layer_styles"):
            m = re.search(r'<renderer-v2 type="([^"]+)"', qml or "")
            styles[name] = (m.group(1) if m else None, default)
        srs = {r[0]: r[1] for r in con.execute(
            "SELECT c.table_name, s.organization || ':' || s.organization_coordsys_id "
            "FROM gpkg_contents c JOIN gpkg_spatial_ref_sys s USING (srs_id) "
            "WHERE c.data_type = 'features'")}
    finally:
        con.close()
    return tables, counts, styles, srs


def renderer_type(layer):
    r = layer.renderer()
    return r.type() if r else None


def rank(layer, districts="districts"):
    if layer.name().endswith("_districts") or layer.name() == districts:
        return 3
    gt = layer.geometryType()
    return {QgsWkbTypes.PointGeometry: 0, QgsWkbTypes.LineGeometry: 1}.get(gt, 2)


def check_panel(root, project, tables):
    """The layer panel as a user sees it: each entry shows a layer that loaded."""
    entries = root.findLayers()
    shown = []
    for node in entries:
        lyr = node.layer()
        if lyr is None:
            fail("layer panel: entry %s (id %s) points at no layer" % (node.name(), node.layerId()))
            continue
        if not lyr.isValid():
            fail("layer panel: entry %s shows an invalid layer" % node.name())
        if lyr.name() != node.name():
            fail("layer panel: entry %s shows layer %s" % (node.name(), lyr.name()))
        if project.mapLayer(node.layerId()) is not lyr:
            fail("layer panel: entry %s is not a layer of the project" % node.name())
        shown.append(lyr.name())
    if sorted(shown) != sorted(tables):
        fail("layer panel shows %s; the GeoPackage has %s" % (sorted(shown), sorted(tables)))
    print("layer panel: %d entries, %d resolve to a layer" % (len(entries), len(shown)))


def near(c, rgb, tol=24):
    return all(abs(a - b) <= tol for a, b in zip((c.red(), c.green(), c.blue()), rgb))


def check_png(image, path):
    w, h = image.width(), image.height()
    colours, non_white, green, red = set(), 0, 0, 0
    step = 2
    for y in range(0, h, step):
        for x in range(0, w, step):
            c = QColor(image.pixel(x, y))
            colours.add(c.rgb())
            if (c.red(), c.green(), c.blue()) != (255, 255, 255):
                non_white += 1
            if near(c, (0x1a, 0x98, 0x50)):
                green += 1
            if near(c, (0xd7, 0x30, 0x27)):
                red += 1
    total = (w // step) * (h // step)
    print("%s: %dx%d, %d colours, %.1f%% not white, %d green and %d red samples"
          % (path, w, h, len(colours), 100.0 * non_white / total, green, red))
    if len(colours) < 8:
        fail("%s: only %d colours; the map looks blank" % (path, len(colours)))
    if non_white < total * 0.02:
        fail("%s: %.2f%% of the map is drawn; the map looks blank" % (path, 100.0 * non_white / total))
    if green == 0:
        fail("%s: no covered (green #1a9850) features drawn" % path)
    if red == 0:
        fail("%s: no uncovered (red #d73027) features drawn" % path)


def render(layers, project, extent, path):
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(project.crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(1200, 1000))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    if not image.save(path, "PNG"):
        fail("%s: cannot save the rendered map" % path)
    print("rendered %s: %s" % (path, [l.name() for l in layers]))
    return image


def render_checks(root, project, order, extent, png, each_group):
    visible = [l for l in order if root.findLayer(l.id()) and root.findLayer(l.id()).isVisible()]
    if not visible:
        fail("no layer is visible in the project")
    image = render(visible, project, extent, png)
    check_png(image, png)
    if each_group:
        base = os.path.splitext(png)[0]
        outline = [l for l in order if l.name() == "districts"]
        for group in root.findGroups():
            ids = set(group.findLayerIds())
            members = [l for l in order if l.id() in ids]
            if group.name() != "input layers" and members:
                name = group.name().split(" ")[0]
                render(members + outline, project, extent, "%s_%s.png" % (base, name))


def check_graduated(project, spec):
    name, field = spec.split("=")
    lyrs = project.mapLayersByName(name)
    if not lyrs:
        fail("%s: not in the project" % name)
        return
    lyr = lyrs[0]
    r = lyr.renderer()
    if r is None or r.type() != "graduatedSymbol":
        fail("%s: renderer %s, expected graduatedSymbol" % (name, r and r.type()))
        return
    if r.classAttribute() != field:
        fail("%s: graduated on %s, expected %s" % (name, r.classAttribute(), field))
    ranges = r.ranges()
    if len(ranges) < 2:
        fail("%s: %d classes; a graduated map needs several" % (name, len(ranges)))
    for a, b in zip(ranges, ranges[1:]):
        if abs(a.upperValue() - b.lowerValue()) > 1e-9:
            fail("%s: ranges %s and %s do not meet" % (name, a.label(), b.label()))
        if a.symbol().color().lightness() > b.symbol().color().lightness():
            fail("%s: %s is lighter than the farther %s" % (name, a.label(), b.label()))
    outside = 0
    for f in lyr.getFeatures():
        v = f[field]
        if not any(x.lowerValue() <= v <= x.upperValue() for x in ranges):
            outside += 1
    if outside:
        fail("%s: %d features fall in no class" % (name, outside))
    print("%s: graduated on %s in %d classes (%s ... %s)"
          % (name, field, len(ranges), ranges[0].label(), ranges[-1].label()))


def check_walked(project, name):
    lyrs = project.mapLayersByName(name)
    if not lyrs:
        fail("%s: not in the project" % name)
        return
    r = lyrs[0].renderer()
    if r is None or r.type() != "categorizedSymbol":
        fail("%s: renderer %s, expected categorizedSymbol" % (name, r and r.type()))
        return
    labels = [c.label() for c in r.categories()]
    if not any("walked path" in x for x in labels):
        fail("%s: the legend %s does not say the lines are walked paths" % (name, labels))
    print("%s: %s" % (name, labels))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpkg", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--png", help="render the visible layers to this PNG and check it")
    ap.add_argument("--crs", default="EPSG:32651")
    ap.add_argument("--districts", default="districts", help="the layer of district polygons")
    ap.add_argument("--expect", action="append", default=[], help="LAYER=COUNT")
    ap.add_argument("--renderer", action="append", default=[], help="LAYER=TYPE")
    ap.add_argument("--each-group", action="store_true", help="also one PNG per indicator group")
    ap.add_argument("--graduated", action="append", default=[], help="LAYER=FIELD")
    ap.add_argument("--walked", action="append", default=[], help="LAYER")
    args = ap.parse_args()

    app = QgsApplication([], False)
    app.initQgis()
    try:
        tables, counts, styles, srs = gpkg_tables(args.gpkg)
        for spec in args.expect:
            name, n = spec.split("=")
            if counts.get(name) != int(n):
                fail("%s: %s features in the GeoPackage, expected %s" % (name, counts.get(name), n))
        for t in tables:
            if srs.get(t) != args.crs:
                fail("%s: GeoPackage CRS %s, expected %s" % (t, srs.get(t), args.crs))
            if t not in styles or styles[t][1] != 1:
                fail("%s: no default style in layer_styles" % t)

        # 1. each GeoPackage layer on its own: valid, CRS, count, default style applied
        for t in tables:
            lyr = QgsVectorLayer("%s|layername=%s" % (args.gpkg, t), t, "ogr")
            if not lyr.isValid():
                fail("%s: QGIS cannot open the GeoPackage layer" % t)
                continue
            if lyr.crs().authid() != args.crs:
                fail("%s: CRS %s in QGIS, expected %s" % (t, lyr.crs().authid(), args.crs))
            if lyr.featureCount() != counts[t]:
                fail("%s: QGIS counts %d features, SQLite %d" % (t, lyr.featureCount(), counts[t]))
            want = styles.get(t, (None, 0))[0]
            if renderer_type(lyr) != want:
                fail("%s: default style not applied (renderer %s, layer_styles has %s)"
                     % (t, renderer_type(lyr), want))
        for spec in args.renderer:
            name, want = spec.split("=")
            if styles.get(name, (None,))[0] != want:
                fail("%s: renderer %s in layer_styles, expected %s"
                     % (name, styles.get(name, (None,))[0], want))

        # 2. the project
        project = QgsProject.instance()
        if not project.read(args.project):
            fail("%s: QGIS cannot read the project: %s" % (args.project, project.error()))
            return 1
        if project.crs().authid() != args.crs:
            fail("project CRS %s, expected %s" % (project.crs().authid(), args.crs))
        layers = {l.name(): l for l in project.mapLayers().values()}
        if sorted(layers) != sorted(tables):
            fail("project layers %s differ from the GeoPackage's %s" % (sorted(layers), tables))
        for name, lyr in layers.items():
            if not lyr.isValid():
                fail("%s: invalid in the project (source %s)" % (name, lyr.source()))
                continue
            if lyr.crs().authid() != args.crs:
                fail("%s: CRS %s in the project" % (name, lyr.crs().authid()))
            if lyr.featureCount() != counts.get(name):
                fail("%s: %d features in the project, %s in the GeoPackage"
                     % (name, lyr.featureCount(), counts.get(name)))
            want = styles.get(name, (None, 0))[0]
            if renderer_type(lyr) != want:
                fail("%s: project renderer %s, style %s" % (name, renderer_type(lyr), want))
        root = project.layerTreeRoot()
        check_panel(root, project, tables)
        order = root.customLayerOrder() if root.hasCustomLayerOrder() else root.layerOrder()
        ranks = [rank(l, args.districts) for l in order]
        if ranks != sorted(ranks):
            fail("drawing order is not points, lines, polygons, districts: %s"
                 % [l.name() for l in order])
        extent = project.viewSettings().defaultViewExtent()
        if extent.isEmpty():
            fail("the project has no default view extent")
        print("project: %d layers, order %s, view %s"
              % (len(layers), [l.name() for l in order], extent.toString(0)))
        for spec in args.graduated:
            check_graduated(project, spec)
        for name in args.walked:
            check_walked(project, name)

        # 3. render the visible layers in the project's order
        if args.png:
            render_checks(root, project, order, extent, args.png, args.each_group)
    finally:
        app.exitQgis()
    print("check_export: %s" % ("%d failed" % len(FAILS) if FAILS else "all checks passed"))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
