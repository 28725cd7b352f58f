/* features_internal.h: building a pm_features selection feature by feature (engine and store). */
#ifndef PM_ENGINE_FEATURES_INTERNAL_H
#define PM_ENGINE_FEATURES_INTERNAL_H

#include "planmetrics/features.h"

/* An empty selection named layer ("features" when NULL); NULL (PM_ENOMEM recorded) on failure.
 * Caller frees with pm_features_destroy. */
pm_features *pm__features_new(pm_context *ctx, const char *layer);
/* Append one feature (its attribute slots NULL); takes ownership of g and label, also on failure.
 * *cap is the caller's record of the arrays' capacity (start at 0). */
pm_status pm__features_push(pm_context *ctx, pm_features *fs, size_t *cap, int64_t fid,
                            GEOSGeometry *g, char *label);

#endif
