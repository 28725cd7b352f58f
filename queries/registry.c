/* registry.c: the metric kinds, listed once: their parameters, defaults, inputs and compute
 * functions; indicator specs built, checked, cleared and recorded (canonical JSON) from it. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <json-c/json.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "queries/metric_internal.h"

/* Adding a kind: one file in queries/ defining `const pm_metric_kind pm__kind_<name>`, and its
 * name here. */
#define PM_METRIC_KINDS(X)                                                                    \
  X(transfer_coverage) X(length) X(coverage) X(area_share) X(count) X(line_coverage)             \
  X(life_circle) X(connectivity) X(manual)

#define DECLARE(name) extern const pm_metric_kind pm__kind_##name;
PM_METRIC_KINDS(DECLARE)
#undef DECLARE

#define ENTRY(name) &pm__kind_##name,
static const pm_metric_kind *const KINDS[] = {PM_METRIC_KINDS(ENTRY)};
#undef ENTRY

#define OFF(f) offsetof(pm_indicator_spec, f)
static const pm_param COMMON[] = {
    {"id", PM_PARAM_ID, OFF(id), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "a unique name such as transfer_50m"},
    {"title", PM_PARAM_TEXT, OFF(title), 0, NULL, NULL, NULL, NULL, "the indicator as the plan words it"},
    {"metric", PM_PARAM_METRIC, OFF(metric), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the metric kind"},
    {"unit", PM_PARAM_UNIT, OFF(unit), 0, NULL, NULL, NULL, NULL,
     "the unit of the value (the metric's own by default)"},
    {"note", PM_PARAM_TEXT, OFF(note), 0, NULL, NULL, NULL, NULL,
     "a note shown with the indicator in reports"},
    {"target", PM_PARAM_TARGET, 0, 0, NULL, NULL, NULL, NULL,
     "the plan's target: a number, \">= 80\" or {op, value, unit}"},
};
#undef OFF

const pm_metric_kind *const *pm_metric_kinds(size_t *n) {
  *n = PM_ARRAY_LEN(KINDS);
  return KINDS;
}

const pm_metric_kind *pm_metric_kind_find(const char *name) {
  for (size_t i = 0; name && i < PM_ARRAY_LEN(KINDS); i++)
    if (strcmp(KINDS[i]->name, name) == 0) return KINDS[i];
  return NULL;
}

const pm_param *pm_metric_common_params(size_t *n) {
  *n = PM_ARRAY_LEN(COMMON);
  return COMMON;
}

const pm_param *pm_metric_param(const pm_metric_kind *k, const char *name) {
  for (size_t i = 0; i < PM_ARRAY_LEN(COMMON); i++)
    if (strcmp(COMMON[i].name, name) == 0) return &COMMON[i];
  for (size_t i = 0; k && i < k->n_params; i++)
    if (strcmp(k->params[i].name, name) == 0) return &k->params[i];
  return NULL;
}

const pm_detail_role *pm_metric_role(const char *metric, const char *role) {
  const pm_metric_kind *k = pm_metric_kind_find(metric);
  for (size_t i = 0; k && role && i < k->n_roles; i++)
    if (strcmp(k->roles[i].role, role) == 0) return &k->roles[i];
  return NULL;
}

/* The layers of the network queries (query reach, query route) as GeoPackage tables. */
static const pm_detail_role QUERY_ROLES[] = {
    {"reached", PM_ROLE_REACHED, NULL, 0},
    {"service_area", PM_ROLE_PASS, NULL, 0},
    {"route", PM_ROLE_ROUTE, NULL, 0},
};

const pm_detail_role *pm_query_role(const char *style) {
  for (size_t i = 0; style && i < PM_ARRAY_LEN(QUERY_ROLES); i++)
    if (strcmp(QUERY_ROLES[i].role, style) == 0) return &QUERY_ROLES[i];
  return NULL;
}

const char *const *pm_metric_units(const pm_metric_kind *k, const pm_indicator_spec *spec) {
  return k->units_of ? k->units_of(spec) : k->units;
}

/* ---------- specs ---------- */

void pm_indicator_spec_init(pm_indicator_spec *s) {
  memset(s, 0, sizeof *s);
  s->target_value = NAN;
  s->manual_value = NAN;
  for (size_t k = 0; k < PM_ARRAY_LEN(KINDS); k++)
    for (size_t i = 0; i < KINDS[k]->n_params; i++) {
      const pm_param *p = &KINDS[k]->params[i];
      if (p->type == PM_PARAM_DIST || p->type == PM_PARAM_AREA || p->type == PM_PARAM_AREA_MAX)
        *(double *)((char *)s + p->offset) = NAN;
    }
  s->network.max_snap_m = s->network.min_piece_m = s->network.access_width_m = NAN;
}

/* The network block's numbers and their defaults (METRICS.md §5). */
static const struct {
  const char *name;
  size_t off;
  const char *dflt;
} NETWORK_NUMBERS[] = {
    {"max_snap_m", offsetof(pm_network_spec, max_snap_m), "100"},
    {"min_piece_m", offsetof(pm_network_spec, min_piece_m), "200"},
    {"access_width_m", offsetof(pm_network_spec, access_width_m), "50"},
};

static void ref_clear(pm_layer_ref *r) {
  free(r->layer);
  free(r->where);
  r->layer = r->where = NULL;
}

static void refs_clear(pm_layer_refs *r) {
  for (size_t i = 0; i < r->n; i++) ref_clear(&r->v[i]);
  free(r->v);
  r->v = NULL;
  r->n = 0;
}

static void classes_clear(pm_indicator_spec *s) {
  for (size_t i = 0; i < s->n_classes; i++) free(s->classes[i].label);
  free(s->classes);
  s->classes = NULL;
  s->n_classes = 0;
}

/* Every field any kind declares is freed through the tables, so a new parameter is freed
 * without touching this function. */
static void free_param(pm_indicator_spec *s, const pm_param *p) {
  void *f = (char *)s + p->offset;
  switch (p->type) {
    case PM_PARAM_ID: case PM_PARAM_METRIC: case PM_PARAM_TEXT: case PM_PARAM_UNIT:
    case PM_PARAM_CHOICE:
      free(*(char **)f);
      *(char **)f = NULL;
      break;
    case PM_PARAM_REF: ref_clear(f); break;
    case PM_PARAM_REFS: refs_clear(f); break;
    case PM_PARAM_CLASSES: classes_clear(s); break;
    case PM_PARAM_FACILITIES:
      for (size_t i = 0; i < s->n_facilities; i++) {
        free(s->facilities[i].name);
        ref_clear(&s->facilities[i].layer);
      }
      free(s->facilities);
      s->facilities = NULL;
      s->n_facilities = 0;
      break;
    case PM_PARAM_NETWORK:
      ref_clear(&((pm_network_spec *)f)->layer);
      free(((pm_network_spec *)f)->connect);
      ((pm_network_spec *)f)->connect = NULL;
      break;
    default: break;
  }
}

void pm_indicator_spec_clear(pm_indicator_spec *s) {
  if (!s) return;
  for (size_t i = 0; i < PM_ARRAY_LEN(COMMON); i++) free_param(s, &COMMON[i]);
  for (size_t k = 0; k < PM_ARRAY_LEN(KINDS); k++)
    for (size_t i = 0; i < KINDS[k]->n_params; i++) free_param(s, &KINDS[k]->params[i]);
  pm_indicator_spec_init(s);
}

const char *pm_metric_param_range(const pm_param *p, double v) {
  switch (p->type) {
    case PM_PARAM_DIST:
      if (!(v >= 0)) return "must be >= 0";
      if (v > PM_MAX_DIST_M) return "is beyond 1,000 km (1000000 m): check the unit, distances are in metres";
      return NULL;
    case PM_PARAM_AREA:
    case PM_PARAM_AREA_MAX:
      if (!(v >= 0)) return "must be >= 0";
      if (v > PM_MAX_AREA_M2 && !(p->type == PM_PARAM_AREA_MAX && isinf(v)))
        return "is beyond 1,000,000 km2 (1e12 m2): check the unit, areas are in square metres";
      return NULL;
    default:
      return isfinite(v) ? NULL : "must be a finite number";
  }
}

static pm_status set_text_field(pm_context *ctx, char **field, const char *v) {
  free(*field);
  *field = NULL;
  return pm_strdup(ctx, field, v);
}

static int choice_ok(const char *choices, const char *v) {
  size_t vl = strlen(v);
  for (const char *c = choices; *c;) {
    size_t l = strcspn(c, "|");
    if (l == vl && strncmp(c, v, l) == 0) return 1;
    c += l + (c[l] == '|');
  }
  return 0;
}

pm_status pm_indicator_spec_set(pm_context *ctx, pm_indicator_spec *s, const char *key,
                                const char *value) {
  const pm_metric_kind *k = pm_metric_kind_find(s->metric);
  const pm_param *p = pm_metric_param(k, key);
  const char *id = s->id ? s->id : "(unnamed)";
  if (!p)
    return pm_error(ctx, PM_EINPUT, "indicator %s: '%s' is not a parameter of metric %s", id, key,
                    s->metric ? s->metric : "(none)");
  if (!value) return pm_error(ctx, PM_EINPUT, "indicator %s: no value for '%s'", id, key);
  void *f = (char *)s + p->offset;
  double x;
  switch (p->type) {
    case PM_PARAM_ID: case PM_PARAM_METRIC: case PM_PARAM_TEXT: case PM_PARAM_UNIT:
      if (!*value && p->type != PM_PARAM_UNIT)
        return pm_error(ctx, PM_EINPUT, "indicator %s: '%s' is empty", id, key);
      return set_text_field(ctx, f, value);
    case PM_PARAM_CHOICE:
      if (!choice_ok(p->choices, value))
        return pm_error(ctx, PM_EINPUT, "indicator %s: %s '%s' must be one of %s", id, key, value,
                        p->choices);
      return set_text_field(ctx, f, value);
    case PM_PARAM_REF:
      return set_text_field(ctx, &((pm_layer_ref *)f)->layer, value);
    case PM_PARAM_NETWORK:
      return set_text_field(ctx, &((pm_network_spec *)f)->layer.layer, value);
    case PM_PARAM_WHERE:
      return set_text_field(ctx, &((pm_layer_ref *)f)->where, value);
    case PM_PARAM_DIST: case PM_PARAM_AREA: case PM_PARAM_AREA_MAX: case PM_PARAM_NUMBER: {
      if (!pm__parse_decimal(value, p->type == PM_PARAM_AREA_MAX, &x))
        return pm_error(ctx, PM_EINPUT, "indicator %s: %s '%s' is not a number", id, key, value);
      const char *why = pm_metric_param_range(p, x);
      if (why) return pm_error(ctx, PM_EINPUT, "indicator %s: %s %s (got %s)", id, key, why, value);
      if (p->type == PM_PARAM_NUMBER) {
        s->has_manual_value = 1;
        s->manual_value = x;
      } else {
        *(double *)f = x;
      }
      return PM_OK;
    }
    case PM_PARAM_BOOL:
      if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
        *(int *)f = value[0] == 't';
        return PM_OK;
      }
      return pm_error(ctx, PM_EINPUT, "indicator %s: %s must be true or false, not '%s'", id, key,
                      value);
    default:
      return pm_error(ctx, PM_EINPUT, "indicator %s: '%s' cannot be set from text", id, key);
  }
}

pm_status pm_indicator_spec_defaults(pm_context *ctx, pm_indicator_spec *s) {
  const char *id = s->id ? s->id : "(unnamed)";
  if (!s->metric) return pm_error(ctx, PM_EINPUT, "indicator %s: no metric given", id);
  const pm_metric_kind *k = pm_metric_kind_find(s->metric);
  if (!k) {
    char list[200] = "";
    for (size_t i = 0; i < PM_ARRAY_LEN(KINDS); i++)
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
               KINDS[i]->name);
    return pm_error(ctx, PM_EINPUT, "indicator %s: unknown metric '%s' (%s)", id, s->metric, list);
  }
  pm_status st = PM_OK;
  for (size_t i = 0; !st && i < k->n_params; i++) {
    const pm_param *p = &k->params[i];
    if (!p->dflt) continue;
    void *f = (char *)s + p->offset;
    int unset = p->type == PM_PARAM_DIST || p->type == PM_PARAM_AREA || p->type == PM_PARAM_AREA_MAX
                    ? isnan(*(double *)f)
                : p->type == PM_PARAM_BOOL ? 0
                : p->type == PM_PARAM_REF  ? ((pm_layer_ref *)f)->layer == NULL
                                           : *(char **)f == NULL;
    if (unset) st = pm_indicator_spec_set(ctx, s, p->name, p->dflt);
  }
  if (!st && s->distance && strcmp(s->distance, "network") == 0) {
    if (!s->network.connect) st = pm_strdup(ctx, &s->network.connect, "vertices");
    for (size_t i = 0; !st && i < PM_ARRAY_LEN(NETWORK_NUMBERS); i++) {
      double *v = (double *)((char *)&s->network + NETWORK_NUMBERS[i].off);
      if (isnan(*v)) pm__parse_decimal(NETWORK_NUMBERS[i].dflt, 0, v);
    }
  }
  if (!st && k->defaults) st = k->defaults(ctx, s);
  const char *const *units = pm_metric_units(k, s);
  if (!st && !s->unit) st = pm_strdup(ctx, &s->unit, units ? units[0] : "");
  return st;
}

pm_status pm_indicator_spec_create(pm_context *ctx, pm_indicator_spec *s, const char *metric,
                                   const char *id) {
  pm_indicator_spec_init(s);
  pm_status st = pm_strdup(ctx, &s->metric, metric);
  if (!st && id) st = pm_strdup(ctx, &s->id, id);
  if (!st) st = pm_indicator_spec_defaults(ctx, s);
  if (st) pm_indicator_spec_clear(s);
  return st;
}

/* ---------- canonical JSON ---------- */

/* The shortest "%.{15,16,17}g" that reads back as the same double. */
static void put_number(FILE *f, double v) {
  if (!isfinite(v)) {
    fputs("null", f);
    return;
  }
  char buf[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  fputs(buf, f);
}

static void put_ref(FILE *f, const pm_layer_ref *r) {
  if (!r->layer) {
    fputs("null", f);
    return;
  }
  fputs("{\"layer\": ", f);
  pm__json_string(f, r->layer);
  fputs(", \"where\": ", f);
  pm__json_string(f, r->where);
  fputc('}', f);
}

static void put_param(FILE *f, const pm_indicator_spec *s, const pm_param *p) {
  const void *fld = (const char *)s + p->offset;
  switch (p->type) {
    case PM_PARAM_ID: case PM_PARAM_METRIC: case PM_PARAM_TEXT: case PM_PARAM_UNIT:
    case PM_PARAM_CHOICE:
      pm__json_string(f, *(char *const *)fld);
      break;
    case PM_PARAM_TARGET:
      if (!s->has_target) {
        fputs("null", f);
        break;
      }
      fputs("{\"op\": ", f);
      pm__json_string(f, s->target_op);
      fputs(", \"value\": ", f);
      put_number(f, s->target_value);
      fputc('}', f);
      break;
    case PM_PARAM_REF: put_ref(f, fld); break;
    case PM_PARAM_REFS: {
      const pm_layer_refs *r = fld;
      if (!r->n) {
        fputs("null", f);
        break;
      }
      fputc('[', f);
      for (size_t i = 0; i < r->n; i++) {
        if (i) fputs(", ", f);
        put_ref(f, &r->v[i]);
      }
      fputc(']', f);
      break;
    }
    case PM_PARAM_DIST: case PM_PARAM_AREA: case PM_PARAM_AREA_MAX:
      put_number(f, *(const double *)fld);
      break;
    case PM_PARAM_BOOL: fputs(*(const int *)fld ? "true" : "false", f); break;
    case PM_PARAM_NUMBER:
      if (s->has_manual_value) put_number(f, s->manual_value);
      else fputs("null", f);
      break;
    case PM_PARAM_CLASSES:
      if (!s->n_classes) {
        fputs("null", f);
        break;
      }
      fputc('[', f);
      for (size_t i = 0; i < s->n_classes; i++) {
        const pm_size_class *c = &s->classes[i];
        fputs(i ? ", {\"min_area_m2\": " : "{\"min_area_m2\": ", f);
        put_number(f, c->min_area_m2);
        fputs(", \"max_area_m2\": ", f);
        put_number(f, c->max_area_m2); /* open (infinite) as null */
        fputs(", \"radius_m\": ", f);
        put_number(f, c->radius_m);
        fputs(", \"label\": ", f);
        pm__json_string(f, c->label);
        fputc('}', f);
      }
      fputc(']', f);
      break;
    case PM_PARAM_NETWORK: {
      const pm_network_spec *n = fld;
      if (!n->layer.layer || !s->distance || strcmp(s->distance, "network") != 0) {
        fputs("null", f);
        break;
      }
      fputs("{\"layer\": ", f);
      pm__json_string(f, n->layer.layer);
      fputs(", \"where\": ", f);
      pm__json_string(f, n->layer.where);
      fputs(", \"connect\": ", f);
      pm__json_string(f, n->connect);
      for (size_t i = 0; i < PM_ARRAY_LEN(NETWORK_NUMBERS); i++) {
        fprintf(f, ", \"%s\": ", NETWORK_NUMBERS[i].name);
        put_number(f, *(const double *)((const char *)n + NETWORK_NUMBERS[i].off));
      }
      fputc('}', f);
      break;
    }
    case PM_PARAM_FACILITIES:
      if (!s->n_facilities) {
        fputs("null", f);
        break;
      }
      fputc('[', f);
      for (size_t i = 0; i < s->n_facilities; i++) {
        const pm_facility_spec *x = &s->facilities[i];
        fputs(i ? ", {\"name\": " : "{\"name\": ", f);
        pm__json_string(f, x->name);
        fputs(", \"layer\": ", f);
        pm__json_string(f, x->layer.layer);
        fputs(", \"where\": ", f);
        pm__json_string(f, x->layer.where);
        fputs(", \"within_m\": ", f);
        put_number(f, x->within_m);
        fputc('}', f);
      }
      fputc(']', f);
      break;
    case PM_PARAM_WHERE: break; /* written inside its reference */
  }
}

pm_status pm_indicator_spec_to_json(pm_context *ctx, const pm_indicator_spec *s, char **out) {
  *out = NULL;
  const pm_metric_kind *k = pm_metric_kind_find(s->metric);
  if (!k) return pm_error(ctx, PM_EINPUT, "indicator %s: unknown metric '%s'", s->id ? s->id : "?",
                          s->metric ? s->metric : "(none)");
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return pm_error(ctx, PM_ENOMEM, "out of memory");
  fputc('{', f);
  int first = 1;
  for (int part = 0; part < 2; part++) {
    const pm_param *ps = part ? k->params : COMMON;
    size_t n = part ? k->n_params : PM_ARRAY_LEN(COMMON);
    for (size_t i = 0; i < n; i++) {
      if (ps[i].type == PM_PARAM_WHERE) continue;
      if (!first) fputs(", ", f);
      first = 0;
      pm__json_string(f, ps[i].name);
      fputs(": ", f);
      put_param(f, s, &ps[i]);
    }
  }
  fputc('}', f);
  if (fclose(f) != 0 || !buf) {
    free(buf);
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  *out = buf;
  return PM_OK;
}

static pm_status json_bad(pm_context *ctx, const char *key, const char *what) {
  return pm_error(ctx, PM_EINPUT, "recorded parameters: '%s' %s", key, what);
}

static pm_status read_ref(pm_context *ctx, const char *key, json_object *v, pm_layer_ref *r) {
  json_object *l = NULL, *w = NULL;
  if (!json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, "layer", &l) ||
      !json_object_is_type(l, json_type_string))
    return json_bad(ctx, key, "is not a layer reference");
  pm_status st = set_text_field(ctx, &r->layer, json_object_get_string(l));
  if (!st && json_object_object_get_ex(v, "where", &w) && json_object_is_type(w, json_type_string))
    st = set_text_field(ctx, &r->where, json_object_get_string(w));
  return st;
}

static double read_number(json_object *v) {
  return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)
             ? json_object_get_double(v)
             : NAN;
}

static pm_status read_param(pm_context *ctx, pm_indicator_spec *s, const pm_param *p,
                            json_object *v) {
  void *f = (char *)s + p->offset;
  if (json_object_is_type(v, json_type_null)) return PM_OK; /* left as not given */
  switch (p->type) {
    case PM_PARAM_ID: case PM_PARAM_METRIC: case PM_PARAM_TEXT: case PM_PARAM_UNIT:
    case PM_PARAM_CHOICE:
      if (!json_object_is_type(v, json_type_string)) return json_bad(ctx, p->name, "is not text");
      return set_text_field(ctx, f, json_object_get_string(v));
    case PM_PARAM_TARGET: {
      json_object *op = NULL, *val = NULL;
      if (!json_object_object_get_ex(v, "op", &op) || !json_object_object_get_ex(v, "value", &val))
        return json_bad(ctx, p->name, "is not {op, value}");
      const char *o = json_object_get_string(op);
      if (!o || strlen(o) > 2) return json_bad(ctx, p->name, "has an unknown operator");
      memcpy(s->target_op, o, strlen(o) + 1);
      s->target_value = read_number(val);
      s->has_target = 1;
      return PM_OK;
    }
    case PM_PARAM_REF: return read_ref(ctx, p->name, v, f);
    case PM_PARAM_REFS: {
      pm_layer_refs *r = f;
      if (!json_object_is_type(v, json_type_array)) return json_bad(ctx, p->name, "is not a list");
      size_t n = json_object_array_length(v);
      refs_clear(r);
      if (!(r->v = calloc(n ? n : 1, sizeof *r->v))) return pm_error(ctx, PM_ENOMEM, "out of memory");
      r->n = n;
      for (size_t i = 0; i < n; i++) {
        pm_status st = read_ref(ctx, p->name, json_object_array_get_idx(v, i), &r->v[i]);
        if (st) return st;
      }
      return PM_OK;
    }
    case PM_PARAM_DIST: case PM_PARAM_AREA: case PM_PARAM_AREA_MAX:
      *(double *)f = read_number(v);
      return PM_OK;
    case PM_PARAM_BOOL:
      *(int *)f = json_object_get_boolean(v);
      return PM_OK;
    case PM_PARAM_NUMBER:
      s->manual_value = read_number(v);
      s->has_manual_value = isfinite(s->manual_value);
      return PM_OK;
    case PM_PARAM_CLASSES: {
      if (!json_object_is_type(v, json_type_array)) return json_bad(ctx, p->name, "is not a list");
      size_t n = json_object_array_length(v);
      classes_clear(s);
      if (!(s->classes = calloc(n ? n : 1, sizeof *s->classes)))
        return pm_error(ctx, PM_ENOMEM, "out of memory");
      s->n_classes = n;
      for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(v, i), *x = NULL;
        pm_size_class *k = &s->classes[i];
        k->min_area_m2 = json_object_object_get_ex(c, "min_area_m2", &x) ? read_number(x) : 0;
        k->max_area_m2 = json_object_object_get_ex(c, "max_area_m2", &x) ? read_number(x) : NAN;
        if (isnan(k->max_area_m2)) k->max_area_m2 = INFINITY;
        k->radius_m = json_object_object_get_ex(c, "radius_m", &x) ? read_number(x) : NAN;
        if (json_object_object_get_ex(c, "label", &x) && json_object_is_type(x, json_type_string)) {
          pm_status st = set_text_field(ctx, &k->label, json_object_get_string(x));
          if (st) return st;
        }
      }
      return PM_OK;
    }
    case PM_PARAM_NETWORK: {
      pm_network_spec *n = f;
      json_object *x = NULL;
      pm_status st = PM_OK;
      if (json_object_object_get_ex(v, "layer", &x) && json_object_is_type(x, json_type_string))
        st = set_text_field(ctx, &n->layer.layer, json_object_get_string(x));
      if (!st && json_object_object_get_ex(v, "where", &x) &&
          json_object_is_type(x, json_type_string))
        st = set_text_field(ctx, &n->layer.where, json_object_get_string(x));
      if (!st && json_object_object_get_ex(v, "connect", &x) &&
          json_object_is_type(x, json_type_string))
        st = set_text_field(ctx, &n->connect, json_object_get_string(x));
      for (size_t i = 0; !st && i < PM_ARRAY_LEN(NETWORK_NUMBERS); i++)
        if (json_object_object_get_ex(v, NETWORK_NUMBERS[i].name, &x))
          *(double *)((char *)n + NETWORK_NUMBERS[i].off) = read_number(x);
      return st;
    }
    case PM_PARAM_FACILITIES: {
      if (!json_object_is_type(v, json_type_array)) return json_bad(ctx, p->name, "is not a list");
      size_t n = json_object_array_length(v);
      if (!(s->facilities = calloc(n ? n : 1, sizeof *s->facilities)))
        return pm_error(ctx, PM_ENOMEM, "out of memory");
      s->n_facilities = n;
      for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(v, i), *x = NULL;
        pm_facility_spec *fs = &s->facilities[i];
        pm_status st = PM_OK;
        if (json_object_object_get_ex(o, "name", &x) && json_object_is_type(x, json_type_string))
          st = set_text_field(ctx, &fs->name, json_object_get_string(x));
        if (!st && json_object_object_get_ex(o, "layer", &x) &&
            json_object_is_type(x, json_type_string))
          st = set_text_field(ctx, &fs->layer.layer, json_object_get_string(x));
        if (!st && json_object_object_get_ex(o, "where", &x) &&
            json_object_is_type(x, json_type_string))
          st = set_text_field(ctx, &fs->layer.where, json_object_get_string(x));
        fs->within_m = json_object_object_get_ex(o, "within_m", &x) ? read_number(x) : NAN;
        if (st) return st;
      }
      return PM_OK;
    }
    case PM_PARAM_WHERE: return PM_OK;
  }
  return PM_OK;
}

pm_status pm_indicator_spec_from_json(pm_context *ctx, const char *json, pm_indicator_spec *s) {
  pm_indicator_spec_init(s);
  json_object *root = json ? json_tokener_parse(json) : NULL;
  if (!root || !json_object_is_type(root, json_type_object)) {
    if (root) json_object_put(root);
    return pm_error(ctx, PM_EINPUT, "recorded parameters are not a JSON object");
  }
  json_object *m = NULL;
  const pm_metric_kind *k = NULL;
  if (json_object_object_get_ex(root, "metric", &m)) k = pm_metric_kind_find(json_object_get_string(m));
  pm_status st = k ? PM_OK
                   : pm_error(ctx, PM_EINPUT, "recorded parameters name an unknown metric '%s'",
                              m ? json_object_get_string(m) : "(none)");
  json_object_object_foreach(root, key, val) {
    if (st) break;
    const pm_param *p = pm_metric_param(k, key);
    if (p) st = read_param(ctx, s, p, val);
    /* a key this version does not know (recorded by a newer planmetrics) is skipped */
  }
  json_object_put(root);
  if (st) pm_indicator_spec_clear(s);
  return st;
}

/* ---------- computing ---------- */

pm_status pm_metric_compute(pm_context *ctx, const pm_indicator_spec *spec,
                            const pm_metric_input *in, const pm_districts *d,
                            pm_indicator_result *out) {
  const pm_metric_kind *k = pm_metric_kind_find(spec->metric);
  if (!k) return pm_error(ctx, PM_EINPUT, "indicator %s: unknown metric '%s'",
                          spec->id ? spec->id : "?", spec->metric ? spec->metric : "(none)");
  return k->compute(ctx, spec, in, d, out);
}

pm_status pm_metric_no_data(pm_context *ctx, const pm_indicator_spec *spec, const pm_districts *d,
                            const char *reason, pm_indicator_result *out) {
  pm_status st = pm__metric_begin(ctx, spec, spec->metric, NULL, d, out);
  if (st) return st;
  out->status = PM_IND_NO_DATA;
  if ((st = pm_strdup(ctx, &out->status_reason, reason))) return st;
  for (size_t i = 0; i < out->n_results; i++)
    if ((st = pm_strdup(ctx, &out->results[i].null_reason, reason))) return st;
  return pm__metric_finish(ctx, out);
}
