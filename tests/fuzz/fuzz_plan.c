/* fuzz_plan.c: fuzz target: a plan file through the parser and validator (pm_plan_load). Any
 * input must end in a plan or an error message, never a crash, a hang or a leak. */
#include <stdio.h>

#include "fuzz.h"
#include "planmetrics/planmetrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static pm_context *ctx;
  static char path[300];
  if (!ctx) {
    if (pm_context_create(&ctx) != PM_OK) return 0;
    snprintf(path, sizeof path, "%s/plan.yaml", pm_fuzz_dir());
  }
  if (pm_fuzz_write(path, data, size)) return 0;
  pm_plan *plan = NULL;
  if (pm_plan_load(ctx, path, &plan) == PM_OK) pm_plan_destroy(plan);
  pm_context_clear_error(ctx);
  return 0;
}
