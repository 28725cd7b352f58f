/* query_internal.h: what the ad-hoc query verbs share (internal to queries/). */
#ifndef PM_QUERIES_QUERY_INTERNAL_H
#define PM_QUERIES_QUERY_INTERNAL_H

#include "planmetrics/query.h"

/* PM_ENOTFOUND when the project has no layer `layer`, naming the layers it has (so a typo is
 * obvious); role says what the layer is for ("from", "districts", "network"). */
pm_status pm__query_check_layer(pm_context *ctx, pm_store *store, const char *layer,
                                const char *role);
/* Load `layer` (checked as above) with an optional filter (NULL or "": all). Caller owns *out. */
pm_status pm__query_load(pm_context *ctx, pm_store *store, const char *layer, const char *where,
                         const char *role, pm_features **out);

#endif
