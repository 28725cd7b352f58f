/* metrics_doc.c: the reference of every metric kind and its parameters, written from the registry
 * (`planmetrics metrics`, and the generated table in docs/metrics.md). */
#include <stdio.h>
#include <string.h>

#include "planmetrics/metrics.h"
#include "planmetrics/report.h"

static const char *type_name(const pm_param *p) {
  switch (p->type) {
    case PM_PARAM_ID: return "identifier";
    case PM_PARAM_METRIC: return "metric kind";
    case PM_PARAM_TEXT: return "text";
    case PM_PARAM_UNIT: return "unit";
    case PM_PARAM_CHOICE: return p->choices;
    case PM_PARAM_TARGET: return "target";
    case PM_PARAM_REF: return "layer";
    case PM_PARAM_WHERE: return "filter (OGR SQL)";
    case PM_PARAM_REFS: return "layer(s)";
    case PM_PARAM_DIST: return "metres";
    case PM_PARAM_AREA: return "m2";
    case PM_PARAM_AREA_MAX: return "m2 or .inf";
    case PM_PARAM_BOOL: return "true/false";
    case PM_PARAM_NUMBER: return "number or null";
    case PM_PARAM_CLASSES: return "classes";
    case PM_PARAM_NETWORK: return "network";
    case PM_PARAM_FACILITIES: return "facility types";
  }
  return "?";
}

static void param_row(FILE *f, const pm_param *p, int markdown) {
  char dflt[64];
  snprintf(dflt, sizeof dflt, "%s", p->dflt ? p->dflt : (p->flags & PM_PARAM_REQUIRED) ? "required" : "");
  char what[400];
  snprintf(what, sizeof what, "%s%s%s%s", p->help, p->needs ? " (needs " : "",
           p->needs ? p->needs : "", p->needs ? ")" : "");
  if (markdown) {
    char type[128];
    snprintf(type, sizeof type, "%s", type_name(p));
    for (char *c = type; *c; c++)
      if (*c == '|') *c = '/'; /* a table cell cannot hold '|' */
    fprintf(f, "| `%s` | %s | %s | %s |\n", p->name, type, dflt, what);
  }
  else
    fprintf(f, "  %-24s %-18s %-9s %s\n", p->name, type_name(p), dflt, what);
}

static void units_text(const pm_metric_kind *k, char *buf, size_t size) {
  buf[0] = '\0';
  if (!k->units) {
    snprintf(buf, size, "any (as the plan says)");
    return;
  }
  for (size_t i = 0; k->units[i]; i++)
    snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", k->units[i]);
  if (k->units_of) snprintf(buf + strlen(buf), size - strlen(buf), " (depends on the parameters)");
}

pm_status pm_report_write_metrics(FILE *f, int markdown) {
  size_t nk = 0, nc = 0;
  const pm_metric_kind *const *kinds = pm_metric_kinds(&nk);
  const pm_param *common = pm_metric_common_params(&nc);
  if (markdown) {
    fputs("Every indicator has these keys:\n\n| key | type | default | what |\n|---|---|---|---|\n", f);
    for (size_t i = 0; i < nc; i++) param_row(f, &common[i], 1);
  } else {
    fputs("Every indicator: ", f);
    for (size_t i = 0; i < nc; i++) fprintf(f, "%s%s", i ? ", " : "", common[i].name);
    fputs("\n", f);
  }
  for (size_t k = 0; k < nk; k++) {
    const pm_metric_kind *m = kinds[k];
    char units[128];
    units_text(m, units, sizeof units);
    if (markdown) {
      fprintf(f, "\n#### `%s`\n\n%s. Unit: %s.\n\n", m->name, m->summary, units);
      fputs("| key | type | default | what |\n|---|---|---|---|\n", f);
    } else {
      fprintf(f, "\n%s: %s\n  unit: %s\n", m->name, m->summary, units);
    }
    for (size_t i = 0; i < m->n_params; i++) param_row(f, &m->params[i], markdown);
    if (m->n_roles) {
      fputs(markdown ? "\nDetail layers (export and maps): " : "  detail layers: ", f);
      for (size_t i = 0; i < m->n_roles; i++)
        fprintf(f, markdown ? "%s`%s`" : "%s%s", i ? ", " : "", m->roles[i].role);
      fputs(markdown ? ".\n" : "\n", f);
    }
  }
  return ferror(f) ? PM_EIO : PM_OK;
}
