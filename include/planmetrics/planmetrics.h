/* planmetrics.h: the whole public API of libplanmetrics. */
#ifndef PLANMETRICS_H
#define PLANMETRICS_H

#include "planmetrics/context.h"
#include "planmetrics/store.h"
#include "planmetrics/crs.h"
#include "planmetrics/ingest.h"
#include "planmetrics/features.h"
#include "planmetrics/districts.h"
#include "planmetrics/network.h"
#include "planmetrics/result.h"
#include "planmetrics/plan.h"
#include "planmetrics/metrics.h"
#include "planmetrics/runner.h"
#include "planmetrics/report.h"
#include "planmetrics/history.h"
#include "planmetrics/query.h"
#include "planmetrics/export.h"
#include "planmetrics/html.h"

#include "planmetrics/version.h"

#endif
