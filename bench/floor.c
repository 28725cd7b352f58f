/* floor.c: the physical floor of a run: read every feature of every layer of the given datasets with
 * GDAL/OGR alone (attributes and geometry decoded, nothing else done) and report the count. */
#include <gdal.h>
#include <ogr_api.h>
#include <stdio.h>

int main(int argc, char **argv) {
  GDALAllRegister();
  long long n_feat = 0, n_coords = 0;
  for (int a = 1; a < argc; a++) {
    GDALDatasetH ds = GDALOpenEx(argv[a], GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
      fprintf(stderr, "floor: cannot open %s\n", argv[a]);
      return 2;
    }
    for (int l = 0; l < GDALDatasetGetLayerCount(ds); l++) {
      OGRLayerH lyr = GDALDatasetGetLayer(ds, l);
      OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
      int nf = OGR_FD_GetFieldCount(defn);
      OGRFeatureH f;
      OGR_L_ResetReading(lyr);
      while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
        for (int i = 0; i < nf; i++) (void)OGR_F_GetFieldAsString(f, i);
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (g) n_coords += OGR_G_WkbSize(g);
        OGR_F_Destroy(f);
        n_feat++;
      }
    }
    GDALClose(ds);
  }
  printf("%lld features, %lld WKB bytes\n", n_feat, n_coords);
  return 0;
}
