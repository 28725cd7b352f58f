/* plan.c: plan files (METRICS.md §3): parse the YAML with libyaml, validate it strictly, fill pm_plan. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "engine/internal.h"
#include "planmetrics/plan.h"
#include "planmetrics/store.h"

static const char *const TOP_KEYS[] = {"plan", "title", "crs", "timezone", "db", "districts", "layers", "network",
                                       "indicators", NULL};
static const char *const LAYER_KEYS[] = {"path",  "encoding",    "src_crs",  "x",
                                         "y",     "source_layer", "where",   "label_field",
                                         "optional", "attribution", NULL};
static const char *const DISTRICT_KEYS[] = {"layer", "name_field", "only", NULL};
static const char *const REF_KEYS[] = {"layer", "where", NULL};
static const char *const FACILITY_KEYS[] = {"name", "layer", "where", "within_m", NULL};
static const char *const NETWORK_KEYS[] = {"layer", "where", "connect", "max_snap_m",
                                           "min_piece_m", "access_width_m", NULL};
static const char *const TARGET_KEYS[] = {"op", "value", "unit", NULL};
static const char *const CLASS_KEYS[] = {"min_area_m2", "max_area_m2", "radius_m", "label", NULL};
static const char *const OPS[] = {">=", ">", "<=", "<", "=="};

/* --- Small helpers --- */

/* Optimal-string-alignment distance (case-insensitive), capped for long strings. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return 100;
  size_t d[64][64];
  for (size_t i = 0; i <= la; i++) d[i][0] = i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
      size_t cost = ca == cb ? 0 : 1;
      size_t v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  }
  return d[la][lb];
}

/* The closest candidate when it is close enough to be a typo, else NULL. */
static const char *closest(const char *word, const char *const *cand, size_t n) {
  const char *best = NULL;
  size_t best_d = 100;
  for (size_t i = 0; i < n && cand[i]; i++) {
    size_t dist = edit_distance(word, cand[i]);
    /* a forgotten unit suffix: threshold -> threshold_m, max_area -> max_area_m2 */
    if (strlen(word) >= 4 && strlen(word) < strlen(cand[i]) &&
        strncasecmp(cand[i], word, strlen(word)) == 0 && cand[i][strlen(word)] == '_')
      dist = 1;
    if (dist < best_d && dist <= 2 && 2 * dist < strlen(cand[i])) {
      best = cand[i];
      best_d = dist;
    }
  }
  return best;
}

/* Append to a fixed buffer, truncating with "..." when full. */
static void buf_add(char *buf, size_t cap, const char *text) {
  size_t len = strlen(buf);
  if (len + strlen(text) + 4 >= cap) {
    if (len + 4 < cap && (len < 3 || strcmp(buf + len - 3, "...") != 0)) strcat(buf, "...");
    return;
  }
  strcat(buf, text);
}

static int is_identifier(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n == 0 || n > max || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) return 0;
  return 1;
}

/* --- Parser state and error reporting --- */

typedef struct parser {
  pm_context *ctx;
  const char *path;
  yaml_document_t *doc;
  pm_plan *plan;
} parser;

static int line_of(const yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 0; }

static yaml_node_t *node_at(parser *p, int index) { return yaml_document_get_node(p->doc, index); }

static pm_status fail(parser *p, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static pm_status fail(parser *p, const yaml_node_t *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *msg = len >= 0 ? malloc((size_t)len + 1) : NULL;
  if (!msg) return pm_error(p->ctx, PM_ENOMEM, "out of memory");
  va_start(ap, fmt);
  vsnprintf(msg, (size_t)len + 1, fmt, ap);
  va_end(ap);
  pm_status st = n ? pm_error(p->ctx, PM_EINPUT, "%s:%d: %s", p->path, line_of(n), msg)
                   : pm_error(p->ctx, PM_EINPUT, "%s: %s", p->path, msg);
  free(msg);
  return st;
}

static const char *text_of(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static int is_null(const yaml_node_t *n) {
  if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
  const char *s = text_of(n);
  return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
         strcmp(s, "NULL") == 0;
}

/* How a node looks, for "must be X, not Y" messages. */
static void describe(const yaml_node_t *n, char *buf, size_t cap) {
  if (n->type == YAML_MAPPING_NODE)
    snprintf(buf, cap, "a mapping");
  else if (n->type == YAML_SEQUENCE_NODE)
    snprintf(buf, cap, "a list");
  else if (is_null(n))
    snprintf(buf, cap, "nothing");
  else if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
    snprintf(buf, cap, "'%.80s'", text_of(n));
  else
    snprintf(buf, cap, "the quoted text \"%.80s\"", text_of(n));
}

static yaml_node_pair_t *map_find(parser *p, yaml_node_t *map, const char *key) {
  for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
    yaml_node_t *k = node_at(p, pr->key);
    if (k && k->type == YAML_SCALAR_NODE && strcmp(text_of(k), key) == 0) return pr;
  }
  return NULL;
}

static size_t map_size(const yaml_node_t *map) {
  return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

/* Keys are plain names, each once, and (when allowed is given) one of allowed. `what` is
 * appended to messages, e.g. " in layer bus_stops". */
static pm_status check_map(parser *p, yaml_node_t *map, const char *const *allowed,
                           const char *what) {
  for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
    yaml_node_t *k = node_at(p, pr->key);
    if (!k || k->type != YAML_SCALAR_NODE || is_null(k))
      return fail(p, k, "every key%s must be a plain name followed by ':'", what);
    const char *key = text_of(k);
    if (strlen(key) != k->data.scalar.length)
      return fail(p, k, "key%s contains a NUL character", what);
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pr; q++) {
      yaml_node_t *k2 = node_at(p, q->key);
      if (strcmp(text_of(k2), key) == 0)
        return fail(p, k, "key '%s' appears twice%s (first at line %d); keep one", key, what,
                    line_of(k2));
    }
    if (!allowed) continue;
    size_t n_allowed = 0;
    int ok = 0;
    for (; allowed[n_allowed]; n_allowed++)
      if (strcmp(allowed[n_allowed], key) == 0) ok = 1;
    if (ok) continue;
    const char *guess = closest(key, allowed, n_allowed);
    if (guess) return fail(p, k, "unknown key '%s'%s (did you mean %s?)", key, what, guess);
    char list[512] = "";
    for (size_t i = 0; i < n_allowed; i++) {
      if (i) buf_add(list, sizeof list, ", ");
      buf_add(list, sizeof list, allowed[i]);
    }
    return fail(p, k, "unknown key '%s'%s; allowed keys: %s", key, what, list);
  }
  return PM_OK;
}

/* Text value: a scalar, not null; `empty_ok` lets "" through. The copy is the caller's. */
static pm_status get_text(parser *p, const char *key, const char *what, yaml_node_t *v,
                          int empty_ok, char **out) {
  char got[128];
  if (v->type != YAML_SCALAR_NODE) {
    describe(v, got, sizeof got);
    return fail(p, v, "key '%s'%s must be text, not %s", key, what, got);
  }
  if (is_null(v))
    return fail(p, v, "key '%s'%s has no value; give one or remove the key", key, what);
  if (strlen(text_of(v)) != v->data.scalar.length)
    return fail(p, v, "key '%s'%s contains a NUL character", key, what);
  if (!empty_ok && !*text_of(v))
    return fail(p, v, "key '%s'%s is empty; give a value or remove the key", key, what);
  free(*out);
  *out = NULL;
  return pm_strdup(p->ctx, out, text_of(v));
}

static pm_status get_number(parser *p, const char *key, const char *what, yaml_node_t *v,
                            int nonneg, int allow_inf, double *out) {
  size_t kl = strlen(key);
  const char *unit = kl > 3 && strcmp(key + kl - 3, "_m2") == 0   ? " of square metres"
                     : kl > 2 && strcmp(key + kl - 2, "_m") == 0 ? " of metres"
                                                                   : "";
  char got[160];
  if (v->type != YAML_SCALAR_NODE || is_null(v)) {
    describe(v, got, sizeof got);
    return fail(p, v, "key '%s'%s must be a number%s, not %s", key, what, unit, got);
  }
  double x;
  if (!pm__parse_decimal(text_of(v), allow_inf, &x)) {
    describe(v, got, sizeof got);
    double y;
    int quoted_number = v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
                        pm__parse_decimal(text_of(v), allow_inf, &y);
    size_t tl = strlen(text_of(v));
    int percent = tl > 1 && text_of(v)[tl - 1] == '%';
    return fail(p, v, "key '%s'%s must be a number%s, not %s%s", key, what, unit, got,
                quoted_number ? " (remove the quotes)"
                : strchr(text_of(v), ',') ? " (write numbers without thousands separators)"
                : percent ? " (write the number without '%': the unit is the indicator's unit)"
                          : "");
  }
  if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
    describe(v, got, sizeof got);
    return fail(p, v, "key '%s'%s must be a number%s, not %s (remove the quotes)", key, what, unit,
                got);
  }
  if (nonneg && x < 0)
    return fail(p, v, "key '%s'%s must be >= 0 (got %s)", key, what, text_of(v));
  *out = x;
  return PM_OK;
}

static pm_status get_bool(parser *p, const char *key, const char *what, yaml_node_t *v, int *out) {
  if (v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
    const char *s = text_of(v);
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes")) return *out = 1, PM_OK;
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no")) return *out = 0, PM_OK;
  }
  char got[128];
  describe(v, got, sizeof got);
  return fail(p, v, "key '%s'%s must be true or false, not %s", key, what, got);
}

/* "4549", "epsg:4549" -> "EPSG:4549"; other texts unchanged. */
static pm_status normalize_crs(parser *p, char **crs) {
  const char *s = *crs;
  const char *digits = NULL;
  if (strncasecmp(s, "EPSG:", 5) == 0)
    digits = s + 5;
  else if (isdigit((unsigned char)s[0]))
    digits = s;
  if (!digits || !*digits || strlen(digits) > 9) return PM_OK;
  for (const char *c = digits; *c; c++)
    if (!isdigit((unsigned char)*c)) return PM_OK;
  char *n = NULL;
  pm_status st = pm_asprintf(p->ctx, &n, "EPSG:%s", digits);
  if (st) return st;
  free(*crs);
  *crs = n;
  return PM_OK;
}

/* A path relative to the plan's directory (absolute paths stay as given). */
/* Remove "." and "dir/.." components lexically, so messages show data/x.shp rather than
 * plans/../data/x.shp. Leading ".." of a relative path are kept. Works in place. */
static void normalize_path(char *path) {
  int absolute = path[0] == '/';
  size_t len = strlen(path) + 2; /* measured before strtok cuts the string */
  char *parts[256];
  size_t n = 0;
  for (char *tok = strtok(path + absolute, "/"); tok && n < 256; tok = strtok(NULL, "/")) {
    if (strcmp(tok, ".") == 0) continue;
    if (strcmp(tok, "..") == 0 && n > 0 && strcmp(parts[n - 1], "..") != 0) {
      n--;
      continue;
    }
    if (strcmp(tok, "..") == 0 && absolute) continue;
    parts[n++] = tok;
  }
  /* Rebuild; parts point into path, so copy through a buffer. */
  char *buf = malloc(len);
  if (!buf) return;
  size_t k = 0;
  if (absolute) buf[k++] = '/';
  for (size_t i = 0; i < n; i++) k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? "/" : "", parts[i]);
  if (k == 0) buf[k++] = '.';
  buf[k] = '\0';
  memcpy(path, buf, k + 1);
  free(buf);
}

static pm_status resolve_path(parser *p, const char *rel, char **out) {
  free(*out);
  *out = NULL;
  pm_status st;
  if (rel[0] == '/' || strcmp(p->plan->dir, ".") == 0) st = pm_strdup(p->ctx, out, rel);
  else if (strcmp(p->plan->dir, "/") == 0) st = pm_asprintf(p->ctx, out, "/%s", rel);
  else st = pm_asprintf(p->ctx, out, "%s/%s", p->plan->dir, rel);
  if (!st && *out) normalize_path(*out);
  return st;
}

/* --- Layer references --- */

static pm_status check_declared(parser *p, yaml_node_t *at, const char *name, const char *key,
                                const char *what) {
  if (pm_plan_find_layer(p->plan, name)) return PM_OK;
  if (p->plan->n_layers == 0)
    return fail(p, at,
                "layer '%s' (key '%s'%s) is not declared: the plan has no layers: section; add "
                "`layers: {%s: {path: ...}}`",
                name, key, what, name);
  const char **names = calloc(p->plan->n_layers, sizeof *names);
  if (!names) return pm_error(p->ctx, PM_ENOMEM, "out of memory");
  char list[512] = "";
  for (size_t i = 0; i < p->plan->n_layers; i++) {
    names[i] = p->plan->layers[i].name;
    if (i) buf_add(list, sizeof list, ", ");
    buf_add(list, sizeof list, names[i]);
  }
  const char *guess = closest(name, names, p->plan->n_layers);
  pm_status st;
  if (guess)
    st = fail(p, at, "layer '%s' (key '%s'%s) is not declared under layers: (did you mean %s?)",
              name, key, what, guess);
  else
    st = fail(p, at,
              "layer '%s' (key '%s'%s) is not declared under layers:; declared layers: %s; add "
              "it with its path",
              name, key, what, list);
  free(names);
  return st;
}

/* A filter is pasted into a WHERE clause: it must be one condition (pm__filter_check). */
static pm_status check_filter(parser *p, yaml_node_t *v, const char *key, const char *what,
                              const char *filter) {
  char why[256];
  if (pm__filter_check(filter, why, sizeof why)) return PM_OK;
  return fail(p, v,
              "%s%s: the filter \"%.200s\" is not one condition on the layer's fields: %s; write "
              "a condition such as highway = 'bus_stop'",
              key, what, filter, why);
}

static pm_status set_where(parser *p, const char *key, const char *what, yaml_node_t *v,
                           pm_layer_ref *ref) {
  if (ref->where)
    return fail(p, v, "the filter of '%s'%s is given twice (by '%s' and inside the layer "
                      "reference); keep one",
                key, what, key);
  pm_status st = get_text(p, key, what, v, 0, &ref->where);
  return st ? st : check_filter(p, v, key, what, ref->where);
}

/* `name` or {layer: name, where: "..."}. */
static pm_status parse_ref(parser *p, const char *key, const char *what, yaml_node_t *v,
                           pm_layer_ref *ref) {
  pm_status st;
  char sub[300];
  if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
    if ((st = get_text(p, key, what, v, 0, &ref->layer))) return st;
    return check_declared(p, v, ref->layer, key, what);
  }
  if (v->type != YAML_MAPPING_NODE) {
    char got[128];
    describe(v, got, sizeof got);
    return fail(p, v, "key '%s'%s must be a layer name or {layer: name, where: \"...\"}, not %s",
                key, what, got);
  }
  snprintf(sub, sizeof sub, " in '%s'%s", key, what);
  if ((st = check_map(p, v, REF_KEYS, sub))) return st;
  yaml_node_pair_t *lp = map_find(p, v, "layer");
  if (!lp) return fail(p, v, "key '%s'%s needs 'layer:' naming a declared layer", key, what);
  yaml_node_t *lv = node_at(p, lp->value);
  if ((st = get_text(p, "layer", sub, lv, 0, &ref->layer))) return st;
  if ((st = check_declared(p, lv, ref->layer, key, what))) return st;
  yaml_node_pair_t *wp = map_find(p, v, "where");
  if (wp && (st = set_where(p, key, what, node_at(p, wp->value), ref))) return st;
  return PM_OK;
}

/* A reference, a list of references, or one mapping. */
static pm_status parse_refs(parser *p, const char *key, const char *what, yaml_node_t *v,
                            pm_layer_refs *refs) {
  yaml_node_item_t *items = NULL;
  size_t n = 1;
  if (v->type == YAML_SEQUENCE_NODE) {
    items = v->data.sequence.items.start;
    n = (size_t)(v->data.sequence.items.top - items);
    if (n == 0) return fail(p, v, "key '%s'%s is an empty list; name at least one layer", key, what);
  }
  refs->v = calloc(n, sizeof *refs->v);
  if (!refs->v) return pm_error(p->ctx, PM_ENOMEM, "out of memory");
  refs->n = n;
  for (size_t i = 0; i < n; i++) {
    yaml_node_t *item = items ? node_at(p, items[i]) : v;
    if (items && item->type == YAML_SEQUENCE_NODE)
      return fail(p, item, "key '%s'%s: list items must be layer names or {layer: ..., where: ...}",
                  key, what);
    pm_status st = parse_ref(p, key, what, item, &refs->v[i]);
    if (st) return st;
  }
  return PM_OK;
}

static pm_status check_choice(parser *p, const char *key, const char *what, yaml_node_t *v,
                              const char *value, const char *const *choices, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(value, choices[i]) == 0) return PM_OK;
  char list[256] = "";
  for (size_t i = 0; i < n; i++) {
    if (i) buf_add(list, sizeof list, i + 1 == n ? " or " : ", ");
    buf_add(list, sizeof list, choices[i]);
  }
  const char *guess = closest(value, choices, n);
  if (guess)
    return fail(p, v, "%s '%s'%s must be %s (did you mean %s?)", key, value, what, list, guess);
  return fail(p, v, "%s '%s'%s must be %s", key, value, what, list);
}

/* A walking network block (METRICS.md §5), the plan's `network:` or an indicator's:
 * {layer, where, connect, max_snap_m, min_piece_m, access_width_m}, or just a layer name. Each
 * number has its own sensible range: beyond it the value is a typing error. */
static pm_status parse_network(parser *p, const char *what, yaml_node_t *v, pm_network_spec *n) {
  pm_status st;
  char sub[300];
  snprintf(sub, sizeof sub, " in network%s", what);
  if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
    if ((st = get_text(p, "network", what, v, 0, &n->layer.layer))) return st;
    return check_declared(p, v, n->layer.layer, "network", what);
  }
  if (v->type != YAML_MAPPING_NODE)
    return fail(p, v,
                "network%s must be {layer: roads, where: ..., connect: vertices, max_snap_m: 100, "
                "min_piece_m: 200, access_width_m: 50} or a layer name",
                what);
  if ((st = check_map(p, v, NETWORK_KEYS, sub))) return st;
  yaml_node_pair_t *q = map_find(p, v, "layer");
  if (!q) return fail(p, v, "network%s needs 'layer:' naming the line layer to walk along", what);
  yaml_node_t *lv = node_at(p, q->value);
  if ((st = get_text(p, "layer", sub, lv, 0, &n->layer.layer)) ||
      (st = check_declared(p, lv, n->layer.layer, "network", what)))
    return st;
  if ((q = map_find(p, v, "where")) && (st = get_text(p, "where", sub, node_at(p, q->value), 0,
                                                     &n->layer.where)))
    return st;
  if ((q = map_find(p, v, "connect"))) {
    yaml_node_t *cv = node_at(p, q->value);
    static const char *const CONNECT[] = {"vertices", "crossings"};
    if ((st = get_text(p, "connect", sub, cv, 0, &n->connect)) ||
        (st = check_choice(p, "connect", sub, cv, n->connect, CONNECT, PM_ARRAY_LEN(CONNECT))))
      return st;
  }
  static const struct {
    const char *key;
    size_t off;
    double lo, hi;
    int lo_open;
    const char *why;
  } NUM[] = {
      {"max_snap_m", offsetof(pm_network_spec, max_snap_m), 0, 5000, 1,
       "a point farther than 5 km from every path is not on this network"},
      {"min_piece_m", offsetof(pm_network_spec, min_piece_m), 0, 1e6, 0, "check the unit"},
      {"access_width_m", offsetof(pm_network_spec, access_width_m), 0, 500, 0,
       "the reached paths are widened by this to cover the land beside them"},
  };
  for (size_t i = 0; i < PM_ARRAY_LEN(NUM); i++) {
    if (!(q = map_find(p, v, NUM[i].key))) continue;
    yaml_node_t *nv = node_at(p, q->value);
    double x;
    if ((st = get_number(p, NUM[i].key, sub, nv, 1, 0, &x))) return st;
    if ((NUM[i].lo_open ? !(x > NUM[i].lo) : !(x >= NUM[i].lo)) || x > NUM[i].hi)
      return fail(p, nv, "key '%s'%s must be %s %g and at most %g metres (%s); got %s", NUM[i].key,
                  sub, NUM[i].lo_open ? "above" : "at least", NUM[i].lo, NUM[i].hi, NUM[i].why,
                  text_of(nv));
    *(double *)((char *)n + NUM[i].off) = x;
  }
  return PM_OK;
}

static pm_status copy_network(pm_context *ctx, const pm_network_spec *from, pm_network_spec *to) {
  pm_status st = PM_OK;
  if (from->layer.layer) st = pm_strdup(ctx, &to->layer.layer, from->layer.layer);
  if (!st && from->layer.where) st = pm_strdup(ctx, &to->layer.where, from->layer.where);
  if (!st && from->connect) st = pm_strdup(ctx, &to->connect, from->connect);
  to->max_snap_m = from->max_snap_m;
  to->min_piece_m = from->min_piece_m;
  to->access_width_m = from->access_width_m;
  return st;
}

/* A life circle's facility types: a list of {name, layer, where, within_m}. */
static pm_status parse_facilities(parser *p, const char *what, yaml_node_t *v,
                                  pm_indicator_spec *s) {
  if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start)
    return fail(p, v,
                "key 'facilities'%s must be a non-empty list of {name, layer, where, within_m}, "
                "e.g. - {name: school, layer: schools, within_m: 500}",
                what);
  yaml_node_item_t *items = v->data.sequence.items.start;
  size_t n = (size_t)(v->data.sequence.items.top - items);
  if (!(s->facilities = calloc(n, sizeof *s->facilities)))
    return pm_error(p->ctx, PM_ENOMEM, "out of memory");
  s->n_facilities = n;
  char sub[300];
  snprintf(sub, sizeof sub, " in facilities%s", what);
  pm_status st;
  for (size_t i = 0; i < n; i++) {
    yaml_node_t *c = node_at(p, items[i]);
    pm_facility_spec *f = &s->facilities[i];
    f->within_m = NAN;
    if (c->type != YAML_MAPPING_NODE)
      return fail(p, c, "each item of 'facilities'%s must be {name, layer, where, within_m}", what);
    if ((st = check_map(p, c, FACILITY_KEYS, sub))) return st;
    yaml_node_pair_t *q;
    if (!(q = map_find(p, c, "name")))
      return fail(p, c, "facility%s needs 'name:' (e.g. school, clinic, market)", what);
    yaml_node_t *nv = node_at(p, q->value);
    if ((st = get_text(p, "name", sub, nv, 0, &f->name))) return st;

    if (!(q = map_find(p, c, "layer")))
      return fail(p, c, "facility %s%s needs 'layer:' (the layer of its features)", f->name, what);
    yaml_node_t *lv = node_at(p, q->value);
    if ((st = get_text(p, "layer", sub, lv, 0, &f->layer.layer)) ||
        (st = check_declared(p, lv, f->layer.layer, "facilities", what)))
      return st;
    if ((q = map_find(p, c, "where")) &&
        (st = get_text(p, "where", sub, node_at(p, q->value), 0, &f->layer.where)))
      return st;
    if (!(q = map_find(p, c, "within_m")))
      return fail(p, c, "facility %s%s needs 'within_m:' (the walking distance that serves)",
                  f->name, what);
    yaml_node_t *wv = node_at(p, q->value);
    if ((st = get_number(p, "within_m", sub, wv, 1, 0, &f->within_m))) return st;
    if (f->within_m > PM_MAX_DIST_M)
      return fail(p, wv, "key 'within_m'%s is beyond 1,000 km (got %s): check the unit", sub,
                  text_of(wv));
    /* a type may come from several layers (OSM points and areas): same name, same distance */
    for (size_t j = 0; j < i; j++)
      if (strcmp(s->facilities[j].name, f->name) == 0 &&
          s->facilities[j].within_m != f->within_m)
        return fail(p, wv,
                    "facility '%s'%s is given again with another within_m (%g m, then %s m); a "
                    "type listed once per layer keeps one distance",
                    f->name, what, s->facilities[j].within_m, text_of(wv));
  }
  return PM_OK;
}

/* --- Indicator parts --- */

/* A number parameter: YAML syntax, then the registry's range. */
static pm_status get_param_number(parser *p, const pm_param *prm, const char *what, yaml_node_t *v,
                                  double *out) {
  pm_status st = get_number(p, prm->name, what, v, prm->type != PM_PARAM_NUMBER,
                            prm->type == PM_PARAM_AREA_MAX, out);
  if (st) return st;
  const char *why = pm_metric_param_range(prm, *out);
  if (why) return fail(p, v, "key '%s'%s %s (got %s)", prm->name, what, why, text_of(v));
  return PM_OK;
}

/* A number the registry does not list as a parameter (a coverage class's areas and radius),
 * range-checked as one of the given type. */
static pm_status get_ranged(parser *p, const char *key, pm_param_type type, const char *what,
                            yaml_node_t *v, double *out) {
  pm_param prm;
  memset(&prm, 0, sizeof prm);
  prm.name = key;
  prm.type = type;
  return get_param_number(p, &prm, what, v, out);
}


static pm_status parse_target(parser *p, const char *what, yaml_node_t *v, pm_indicator_spec *s,
                              yaml_node_t **unit_node) {
  pm_status st;
  const char *op = ">=";
  yaml_node_t *op_node = v, *value_node = v;
  char sub[300];
  snprintf(sub, sizeof sub, " in target%s", what);
  *unit_node = NULL;
  if (v->type == YAML_MAPPING_NODE) {
    if ((st = check_map(p, v, TARGET_KEYS, sub))) return st;
    yaml_node_pair_t *pp = map_find(p, v, "op");
    yaml_node_pair_t *vp = map_find(p, v, "value");
    yaml_node_pair_t *up = map_find(p, v, "unit");
    if (!vp) return fail(p, v, "target%s needs 'value:' (a number), e.g. {op: \">=\", value: 80}", what);
    value_node = node_at(p, vp->value);
    if (pp) {
      op_node = node_at(p, pp->value);
      if (op_node->type != YAML_SCALAR_NODE || is_null(op_node))
        return fail(p, op_node, "target op%s must be one of >=, >, <=, <, == (quote it: op: \">=\")",
                    what);
      op = text_of(op_node);
    }
    if (up) {
      char *unit = NULL;
      *unit_node = node_at(p, up->value);
      if ((st = get_text(p, "unit", sub, *unit_node, 1, &unit))) return st;
      free(unit);
    }
  } else if (v->type == YAML_SCALAR_NODE && !is_null(v) &&
             v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
    /* ">= 80": operator and number in one quoted text */
    const char *t = text_of(v);
    size_t k = 0;
    while (t[k] && strchr("<>=!", t[k])) k++;
    if (k > 0 && k <= 2) {
      char opbuf[3] = {0};
      memcpy(opbuf, t, k);
      const char *num = t + k;
      while (*num == ' ') num++;
      double x;
      if (pm__parse_decimal(num, 0, &x)) {
        size_t i = 0;
        for (; i < PM_ARRAY_LEN(OPS); i++)
          if (strcmp(OPS[i], opbuf) == 0) break;
        if (i == PM_ARRAY_LEN(OPS))
          return fail(p, v, "target op '%s'%s is not one of >=, >, <=, <, ==", opbuf, what);
        memcpy(s->target_op, OPS[i], strlen(OPS[i]) + 1);
        s->target_value = x;
        s->has_target = 1;
        return PM_OK;
      }
    }
    return fail(p, v,
                "target%s must be a number, a text such as \">= 80\", or {op: \">=\", value: 80, "
                "unit: \"%%\"}; got \"%.80s\"",
                what, t);
  } else if (v->type != YAML_SCALAR_NODE) {
    return fail(p, v,
                "target%s must be a number or {op: \">=\", value: 80, unit: \"%%\"}, not a list",
                what);
  } else if (!is_null(v) && strchr("<>=!", text_of(v)[0])) {
    /* `target: <= 80` unquoted (`>` does not even get here: YAML fails first) */
    const char *t = text_of(v);
    size_t k = strspn(t, "<>=!");
    return fail(p, v, "target%s: quote the operator: op: \"%.*s\" (e.g. target: \"%s\")", what,
                (int)(k < 3 ? k : 2), t, t);
  }
  size_t i = 0;
  for (; i < PM_ARRAY_LEN(OPS); i++)
    if (strcmp(OPS[i], op) == 0) break;
  if (i == PM_ARRAY_LEN(OPS)) {
    const char *hint = !strcmp(op, "=>") || !strcmp(op, "\xe2\x89\xa5") ? ">="
                       : !strcmp(op, "=<") || !strcmp(op, "\xe2\x89\xa4") ? "<="
                       : !strcmp(op, "=")                                ? "=="
                                                                         : NULL;
    if (hint)
      return fail(p, op_node, "target op '%s'%s is not one of >=, >, <=, <, == (did you mean %s?)",
                  op, what, hint);
    return fail(p, op_node, "target op '%s'%s is not one of >=, >, <=, <, ==", op, what);
  }
  if ((st = value_node == v ? get_number(p, "target", what, v, 0, 0, &s->target_value)
                            : get_number(p, "value", sub, value_node, 0, 0, &s->target_value)))
    return st;
  memcpy(s->target_op, OPS[i], strlen(OPS[i]) + 1);
  s->has_target = 1;
  return PM_OK;
}

static int class_cmp(const void *a, const void *b) {
  const pm_size_class *x = a, *y = b;
  return (x->min_area_m2 > y->min_area_m2) - (x->min_area_m2 < y->min_area_m2);
}

static pm_status parse_classes(parser *p, const char *what, yaml_node_t *v, pm_indicator_spec *s) {
  if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start)
    return fail(p, v,
                "key 'classes'%s must be a non-empty list of {min_area_m2, max_area_m2, radius_m, "
                "label}",
                what);
  yaml_node_item_t *items = v->data.sequence.items.start;
  size_t n = (size_t)(v->data.sequence.items.top - items);
  s->classes = calloc(n, sizeof *s->classes);
  if (!s->classes) return pm_error(p->ctx, PM_ENOMEM, "out of memory");
  s->n_classes = n;
  char sub[300];
  snprintf(sub, sizeof sub, " in classes%s", what);
  pm_status st;
  for (size_t i = 0; i < n; i++) {
    yaml_node_t *c = node_at(p, items[i]);
    pm_size_class *k = &s->classes[i];
    k->min_area_m2 = 0;
    k->max_area_m2 = INFINITY;
    if (c->type != YAML_MAPPING_NODE)
      return fail(p, c, "each item of 'classes'%s must be {min_area_m2, max_area_m2, radius_m, label}",
                  what);
    if ((st = check_map(p, c, CLASS_KEYS, sub))) return st;
    yaml_node_pair_t *pr;
    if ((pr = map_find(p, c, "min_area_m2")) &&
        (st = get_ranged(p, "min_area_m2", PM_PARAM_AREA, sub, node_at(p, pr->value),
                         &k->min_area_m2)))
      return st;
    if ((pr = map_find(p, c, "max_area_m2")) && !is_null(node_at(p, pr->value)) &&
        (st = get_ranged(p, "max_area_m2", PM_PARAM_AREA_MAX, sub, node_at(p, pr->value),
                         &k->max_area_m2)))
      return st;
    if (!(pr = map_find(p, c, "radius_m")))
      return fail(p, c, "class%s needs 'radius_m:' (the service radius in metres)", what);
    if ((st = get_ranged(p, "radius_m", PM_PARAM_DIST, sub, node_at(p, pr->value), &k->radius_m)))
      return st;
    if ((pr = map_find(p, c, "label")) &&
        (st = get_text(p, "label", sub, node_at(p, pr->value), 0, &k->label)))
      return st;
    if (!(k->min_area_m2 < k->max_area_m2))
      return fail(p, c, "class%s: min_area_m2 must be below max_area_m2", what);
    for (size_t j = 0; j < i; j++) {
      const pm_size_class *o = &s->classes[j];
      if (k->min_area_m2 < o->max_area_m2 && o->min_area_m2 < k->max_area_m2)
        return fail(p, c,
                    "class%s overlaps the class at line %d; a source must fall in one class "
                    "(classes run from min_area_m2 inclusive to max_area_m2 exclusive)",
                    what, line_of(node_at(p, items[j])));
    }
  }
  qsort(s->classes, n, sizeof *s->classes, class_cmp);
  return PM_OK;
}


/* The keys a kind accepts (common ones first), as a list for messages and "did you mean". */
static size_t kind_keys(const pm_metric_kind *k, const char **keys, size_t cap, char *list,
                        size_t list_cap) {
  size_t nc = 0, n = 0;
  const pm_param *common = pm_metric_common_params(&nc);
  list[0] = '\0';
  for (size_t part = 0; part < 2; part++) {
    const pm_param *ps = part ? k->params : common;
    size_t np = part ? k->n_params : nc;
    for (size_t i = 0; i < np && n < cap; i++) {
      if (n) buf_add(list, list_cap, ", ");
      buf_add(list, list_cap, ps[i].name);
      keys[n++] = ps[i].name;
    }
  }
  return n;
}

/* Whether some other kind has a parameter of that name (for "not a parameter of metric X"). */
static int other_kind_has(const char *key) {
  size_t nk = 0;
  const pm_metric_kind *const *kinds = pm_metric_kinds(&nk);
  for (size_t i = 0; i < nk; i++)
    if (pm_metric_param(kinds[i], key)) return 1;
  return 0;
}

static pm_status parse_param(parser *p, const pm_param *prm, const char *what, yaml_node_t *v,
                             pm_indicator_spec *s, yaml_node_t **target_unit) {
  const char *key = prm->name;
  void *field = (char *)s + prm->offset;
  pm_status st;
  switch (prm->type) {
    case PM_PARAM_ID:
    case PM_PARAM_METRIC:
      return PM_OK; /* read first, by parse_indicator */
    case PM_PARAM_TEXT: return get_text(p, key, what, v, 0, field);
    case PM_PARAM_UNIT: return get_text(p, key, what, v, 1, field);
    case PM_PARAM_CHOICE: {
      if ((st = get_text(p, key, what, v, 0, field))) return st;
      const char *choices[16];
      size_t n = 0;
      char buf[256];
      snprintf(buf, sizeof buf, "%s", prm->choices);
      for (char *c = strtok(buf, "|"); c && n < PM_ARRAY_LEN(choices); c = strtok(NULL, "|"))
        choices[n++] = c;
      return check_choice(p, key, what, v, *(char **)field, choices, n);
    }
    case PM_PARAM_TARGET: return parse_target(p, what, v, s, target_unit);
    case PM_PARAM_REF: return parse_ref(p, key, what, v, field);
    case PM_PARAM_WHERE: return set_where(p, key, what, v, field);
    case PM_PARAM_REFS: return parse_refs(p, key, what, v, field);
    case PM_PARAM_DIST:
    case PM_PARAM_AREA:
    case PM_PARAM_AREA_MAX: return get_param_number(p, prm, what, v, field);
    case PM_PARAM_CLASSES: return parse_classes(p, what, v, s);
    case PM_PARAM_NETWORK: return parse_network(p, what, v, field);
    case PM_PARAM_FACILITIES: return parse_facilities(p, what, v, s);
    case PM_PARAM_BOOL: return get_bool(p, key, what, v, field);
    case PM_PARAM_NUMBER:
      if (is_null(v)) {
        s->has_manual_value = 0;
        return PM_OK;
      }
      if ((st = get_param_number(p, prm, what, v, &s->manual_value))) return st;
      s->has_manual_value = 1;
      return PM_OK;
  }
  return PM_OK;
}

/* A target within reach of the indicator's unit: a share between 0 and 100 %, anything else at
 * most PM_PLAN_MAX_TARGET in size (a larger number is a unit mistake). */
static pm_status check_target(parser *p, yaml_node_t *ind, const pm_indicator_spec *s,
                              const char *what) {
  yaml_node_pair_t *tp = map_find(p, ind, "target");
  yaml_node_t *at = tp ? node_at(p, tp->value) : ind;
  yaml_node_pair_t *vp = at->type == YAML_MAPPING_NODE ? map_find(p, at, "value") : NULL;
  if (vp) at = node_at(p, vp->value);
  double v = s->target_value;
  if (s->unit && strcmp(s->unit, "%") == 0 && !(v >= 0 && v <= 100))
    return fail(p, at, "target%s is %g %%: a share lies between 0 and 100 %%", what, v);
  if (!(fabs(v) <= PM_PLAN_MAX_TARGET))
    return fail(p, at, "target%s is %g: beyond %g, check the unit (%s)", what, v,
                PM_PLAN_MAX_TARGET, s->unit && *s->unit ? s->unit : "no unit");
  return PM_OK;
}

static pm_status parse_indicator(parser *p, yaml_node_t *n, size_t idx, pm_indicator_spec *s) {
  pm_status st;
  char what[200];
  s->line = line_of(n);
  if (n->type != YAML_MAPPING_NODE) {
    char got[128];
    describe(n, got, sizeof got);
    return fail(p, n, "indicator #%zu must be a mapping (id:, metric:, ...), not %s", idx + 1, got);
  }
  snprintf(what, sizeof what, " in indicator #%zu", idx + 1);
  if ((st = check_map(p, n, NULL, what))) return st;

  yaml_node_pair_t *pr = map_find(p, n, "id");
  if (!pr)
    return fail(p, n, "indicator #%zu has no id: add `id: some_name` (letters, digits, '_')",
                idx + 1);
  yaml_node_t *idn = node_at(p, pr->value);
  if ((st = get_text(p, "id", what, idn, 0, &s->id))) return st;
  if (!is_identifier(s->id, 60))
    return fail(p, idn,
                "indicator id '%s' is not usable: use letters, digits and '_', starting with a "
                "letter (at most 60 characters), e.g. transfer_50m",
                s->id);
  for (size_t i = 0; i < idx; i++)
    if (p->plan->indicators[i].id && strcmp(p->plan->indicators[i].id, s->id) == 0)
      return fail(p, idn, "indicator id '%s' is used twice (first at line %d); ids must be unique",
                  s->id, p->plan->indicators[i].line);
  snprintf(what, sizeof what, " in indicator %s", s->id);

  size_t nk = 0;
  const pm_metric_kind *const *kinds = pm_metric_kinds(&nk);
  const char *kind_names[32];
  char metrics_list[300] = "";
  for (size_t i = 0; i < nk && i < PM_ARRAY_LEN(kind_names); i++) {
    kind_names[i] = kinds[i]->name;
    if (i) buf_add(metrics_list, sizeof metrics_list, ", ");
    buf_add(metrics_list, sizeof metrics_list, kinds[i]->name);
  }
  pr = map_find(p, n, "metric");
  if (!pr) return fail(p, n, "indicator %s has no metric: add `metric:` with one of %s", s->id, metrics_list);
  yaml_node_t *mn = node_at(p, pr->value);
  if ((st = get_text(p, "metric", what, mn, 0, &s->metric))) return st;
  const pm_metric_kind *k = pm_metric_kind_find(s->metric);
  if (!k) {
    const char *guess = closest(s->metric, kind_names, nk);
    if (guess)
      return fail(p, mn, "unknown metric '%s'%s (did you mean %s?)", s->metric, what, guess);
    return fail(p, mn, "unknown metric '%s'%s; use one of %s", s->metric, what, metrics_list);
  }

  const char *allowed[64];
  char allowed_list[600];
  size_t n_allowed = kind_keys(k, allowed, PM_ARRAY_LEN(allowed), allowed_list, sizeof allowed_list);

  yaml_node_t *target_unit = NULL;
  for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
    yaml_node_t *kn = node_at(p, pr->key), *v = node_at(p, pr->value);
    const char *key = text_of(kn);
    const pm_param *prm = pm_metric_param(k, key);
    if (!prm) {
      if (other_kind_has(key))
        return fail(p, kn, "key '%s'%s is not a parameter of metric %s; allowed: %s", key, what,
                    s->metric, allowed_list);
      const char *guess = closest(key, allowed, n_allowed);
      if (guess) return fail(p, kn, "unknown key '%s'%s (did you mean %s?)", key, what, guess);
      return fail(p, kn, "unknown key '%s'%s; keys of metric %s: %s", key, what, s->metric,
                  allowed_list);
    }
    if ((st = parse_param(p, prm, what, v, s, &target_unit))) return st;
  }

  /* distance: network walks along the indicator's network, else the plan's. */
  const pm_param *dp = pm_metric_param(k, "distance");
  const char *distance = s->distance ? s->distance : dp ? dp->dflt : NULL;
  if (distance && strcmp(distance, "network") == 0 && !s->network.layer.layer) {
    yaml_node_pair_t *dk = map_find(p, n, "distance");
    if (!p->plan->network.layer.layer)
      return fail(p, dk ? node_at(p, dk->value) : n,
                  "indicator %s: %s needs the walking network: add a `network:` block to the plan "
                  "(e.g. network: {layer: roads}) or to the indicator%s",
                  s->id, dk ? "distance: network" : "its distance (network by default)",
                  dk ? "" : ", or measure straight lines with distance: euclidean");
    if ((st = copy_network(p->ctx, &p->plan->network, &s->network))) return st;
  }

  /* Required keys and keys that only make sense together. */
  for (size_t i = 0; i < n_allowed; i++) {
    const pm_param *prm = pm_metric_param(k, allowed[i]);
    yaml_node_pair_t *a = map_find(p, n, prm->name);
    if ((prm->flags & PM_PARAM_REQUIRED) && !a)
      return fail(p, n, "indicator %s (metric %s) needs key '%s': %s", s->id, s->metric,
                  prm->name, prm->help);
    if (a && prm->needs && !map_find(p, n, prm->needs)) {
      const pm_param *need = pm_metric_param(k, prm->needs);
      return fail(p, node_at(p, a->key), "indicator %s: '%s' needs '%s' (%s)", s->id, prm->name,
                  prm->needs, need ? need->help : "");
    }
  }
  char msg[400];
  const char *bad = k->check ? k->check(s, msg, sizeof msg) : NULL;
  if (bad) {
    yaml_node_pair_t *a = map_find(p, n, bad);
    return fail(p, a ? node_at(p, a->value) : n, "%s", msg);
  }

  if ((st = pm_indicator_spec_defaults(p->ctx, s))) return st;
  /* The metric fixes the unit it reports in; refuse others here rather than when running. */
  yaml_node_pair_t *a;
  const char *const *units = pm_metric_units(k, s);
  if (units && (a = map_find(p, n, "unit"))) {
    int ok = 0;
    char list[100] = "";
    for (size_t i = 0; units[i]; i++) {
      if (strcmp(units[i], s->unit) == 0) ok = 1;
      if (i) buf_add(list, sizeof list, " or ");
      buf_add(list, sizeof list, units[i]);
    }
    if (!ok)
      return fail(p, node_at(p, a->value),
                  "unit '%s'%s: metric %s%s reports in %s; write unit: \"%s\" or leave unit out",
                  s->unit, what, s->metric, s->share_of.layer ? " with share_of" : "", list,
                  units[0]);
  }
  if (target_unit && strcmp(text_of(target_unit), s->unit) != 0)
    return fail(p, target_unit,
                "target unit '%s'%s differs from the indicator's unit '%s'; write the target in "
                "'%s' (or set unit: on the indicator)",
                text_of(target_unit), what, s->unit, s->unit);
  return s->has_target ? check_target(p, n, s, what) : PM_OK;
}

/* --- Top-level sections --- */

static pm_status parse_layers(parser *p, yaml_node_t *v) {
  pm_status st;
  if (is_null(v)) return PM_OK;
  if (v->type != YAML_MAPPING_NODE)
    return fail(p, v, "'layers' must be a mapping of layer names to {path: ..., ...}");
  if ((st = check_map(p, v, NULL, " in layers"))) return st;
  size_t n = map_size(v);
  if (n == 0) return PM_OK;
  p->plan->layers = calloc(n, sizeof *p->plan->layers);
  if (!p->plan->layers) return pm_error(p->ctx, PM_ENOMEM, "out of memory");
  p->plan->n_layers = n;
  size_t i = 0;
  for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++, i++) {
    yaml_node_t *k = node_at(p, pr->key), *lv = node_at(p, pr->value);
    pm_plan_layer *l = &p->plan->layers[i];
    const char *name = text_of(k);
    l->line = line_of(k);
    if (pm_store_check_layer_name(p->ctx, name) != PM_OK)
      return fail(p, k,
                  "layer name '%s' is not usable: use letters, digits and '_' starting with a "
                  "letter (at most 60 characters), not a name reserved by the project database "
                  "(pm_*, idx_*, sqlite_*, geometry_*, vector_*...)",
                  name);
    for (size_t j = 0; j < i; j++)
      if (strcasecmp(p->plan->layers[j].name, name) == 0)
        return fail(p, k,
                    "layers '%s' (line %d) and '%s' (line %d) differ only in case: layer names "
                    "do not tell upper from lower case (they are tables of the project database), "
                    "so both would be one layer; rename one",
                    p->plan->layers[j].name, p->plan->layers[j].line, name, l->line);
    if ((st = pm_strdup(p->ctx, &l->name, name))) return st;
    char what[200];
    snprintf(what, sizeof what, " in layer %s", name);
    char *path = NULL;
    if (lv->type == YAML_SCALAR_NODE && !is_null(lv)) {
      if ((st = get_text(p, "path", what, lv, 0, &path))) return st;
    } else if (lv->type == YAML_MAPPING_NODE) {
      if ((st = check_map(p, lv, LAYER_KEYS, what))) return st;
      yaml_node_pair_t *q = map_find(p, lv, "path");
      if (!q) return fail(p, lv, "layer %s needs 'path:' (the source file, relative to the plan)", name);
      if ((st = get_text(p, "path", what, node_at(p, q->value), 0, &path))) return st;
      struct {
        const char *key;
        char **field;
      } texts[] = {{"encoding", &l->encoding},         {"src_crs", &l->src_crs},
                   {"x", &l->x},                       {"y", &l->y},
                   {"source_layer", &l->source_layer}, {"where", &l->where},
                   {"label_field", &l->label_field}, {"attribution", &l->attribution}};
      for (size_t t = 0; t < PM_ARRAY_LEN(texts); t++)
        if ((q = map_find(p, lv, texts[t].key)) &&
            (st = get_text(p, texts[t].key, what, node_at(p, q->value), 0, texts[t].field))) {
          free(path);
          return st;
        }
      if (l->where && (q = map_find(p, lv, "where")) &&
          (st = check_filter(p, node_at(p, q->value), "where", what, l->where))) {
        free(path);
        return st;
      }
      if ((q = map_find(p, lv, "optional")) &&
          (st = get_bool(p, "optional", what, node_at(p, q->value), &l->optional))) {
        free(path);
        return st;
      }
      if (!l->x != !l->y) {
        free(path);
        return fail(p, lv, "layer %s: give both 'x' and 'y' (the coordinate columns) or neither",
                    name);
      }
      if (l->src_crs && (st = normalize_crs(p, &l->src_crs))) {
        free(path);
        return st;
      }
    } else {
      return fail(p, lv, "layer %s must be {path: ..., ...} or a path", name);
    }
    st = resolve_path(p, path, &l->path);
    free(path);
    if (st) return st;
  }
  return PM_OK;
}

static pm_status parse_districts(parser *p, yaml_node_t *v) {
  pm_status st;
  const char *what = " in districts";
  yaml_node_t *ln = v;
  if (v->type == YAML_MAPPING_NODE) {
    if ((st = check_map(p, v, DISTRICT_KEYS, what))) return st;
    yaml_node_pair_t *q = map_find(p, v, "layer");
    if (!q) return fail(p, v, "districts needs 'layer:' naming the declared district polygons layer");
    ln = node_at(p, q->value);
    if ((q = map_find(p, v, "name_field")) &&
        (st = get_text(p, "name_field", what, node_at(p, q->value), 0, &p->plan->districts_name_field)))
      return st;
    if ((q = map_find(p, v, "only"))) {
      yaml_node_t *on = node_at(p, q->value);
      yaml_node_item_t *items = NULL;
      size_t n = 1;
      if (on->type == YAML_SEQUENCE_NODE) {
        items = on->data.sequence.items.start;
        n = (size_t)(on->data.sequence.items.top - items);
        if (n == 0) return fail(p, on, "'only'%s is an empty list; name districts or remove it", what);
      }
      p->plan->districts_only = calloc(n, sizeof(char *));
      if (!p->plan->districts_only) return pm_error(p->ctx, PM_ENOMEM, "out of memory");
      p->plan->n_districts_only = n;
      for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = items ? node_at(p, items[i]) : on;
        if ((st = get_text(p, "only", what, it, 0, &p->plan->districts_only[i]))) return st;
        for (size_t j = 0; j < i; j++)
          if (strcmp(p->plan->districts_only[j], p->plan->districts_only[i]) == 0)
            return fail(p, it, "district '%s' is listed twice in 'only'", p->plan->districts_only[i]);
      }
    }
  } else if (v->type != YAML_SCALAR_NODE || is_null(v)) {
    return fail(p, v, "'districts' must be {layer: name, name_field: NAME, only: [...]} or a layer name");
  }
  if ((st = get_text(p, "layer", what, ln, 0, &p->plan->districts_layer))) return st;
  return check_declared(p, ln, p->plan->districts_layer, "layer", what);
}

static pm_status parse_root(parser *p, yaml_node_t *root) {
  pm_status st;
  pm_plan *plan = p->plan;
  const char *what = " at the top level of the plan";
  if (root->type != YAML_MAPPING_NODE)
    return fail(p, root, "a plan file is a mapping of keys (plan:, layers:, indicators:, ...)");
  if ((st = check_map(p, root, TOP_KEYS, what))) return st;

  yaml_node_pair_t *q = map_find(p, root, "plan");
  if (!q) return fail(p, NULL, "missing key 'plan': name the plan on the first line, e.g. `plan: qingpu-2024-2026`");
  yaml_node_t *v = node_at(p, q->value);
  if ((st = get_text(p, "plan", what, v, 0, &plan->id))) return st;
  int ok = strlen(plan->id) <= 100 && isalnum((unsigned char)plan->id[0]);
  for (const char *c = plan->id; ok && *c; c++)
    ok = isalnum((unsigned char)*c) || *c == '_' || *c == '-' || *c == '.';
  if (!ok)
    return fail(p, v,
                "plan id '%s' is not usable: use letters, digits, '-', '_' and '.', starting with a "
                "letter or digit (it names the project database), e.g. qingpu-2024-2026",
                plan->id);

  if ((q = map_find(p, root, "title")) &&
      (st = get_text(p, "title", what, node_at(p, q->value), 0, &plan->title)))
    return st;

  if ((q = map_find(p, root, "crs"))) {
    v = node_at(p, q->value);
    if ((st = get_text(p, "crs", what, v, 0, &plan->crs))) return st;
    if (strcasecmp(plan->crs, "auto") == 0) {
      free(plan->crs);
      plan->crs = NULL;
    } else {
      if ((st = normalize_crs(p, &plan->crs))) return st;
      if (strncmp(plan->crs, "EPSG:", 5) != 0)
        return fail(p, v,
                    "crs '%s' must be auto or an EPSG code of a projected CRS in metres, e.g. "
                    "EPSG:4549 or 32651",
                    plan->crs);
    }
  }
  if (!plan->crs && (st = pm_strdup(p->ctx, &plan->crs, "auto"))) return st;

  if ((q = map_find(p, root, "timezone"))) {
    v = node_at(p, q->value);
    if ((st = get_text(p, "timezone", what, v, 0, &plan->timezone))) return st;
    if (!pm_timezone_valid(plan->timezone))
      return fail(p, v,
                  "timezone '%s' is not a time zone of the tz database; write its name, e.g. "
                  "Asia/Shanghai or Europe/Lisbon (or leave it out for this machine's zone)",
                  plan->timezone);
  }

  if ((q = map_find(p, root, "layers")) && (st = parse_layers(p, node_at(p, q->value)))) return st;
  if ((q = map_find(p, root, "districts")) && (st = parse_districts(p, node_at(p, q->value))))
    return st;
  if (!plan->districts_name_field && (st = pm_strdup(p->ctx, &plan->districts_name_field, "NAME")))
    return st;

  if ((q = map_find(p, root, "network")) &&
      (st = parse_network(p, " at the top level of the plan", node_at(p, q->value), &plan->network)))
    return st;

  if ((q = map_find(p, root, "indicators"))) {
    v = node_at(p, q->value);
    if (v->type != YAML_SEQUENCE_NODE && !is_null(v))
      return fail(p, v, "'indicators' must be a list: each item starts with '- id: ...'");
    size_t n = v->type == YAML_SEQUENCE_NODE
                   ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start)
                   : 0;
    if (n) {
      plan->indicators = calloc(n, sizeof *plan->indicators);
      if (!plan->indicators) return pm_error(p->ctx, PM_ENOMEM, "out of memory");
      for (size_t i = 0; i < n; i++) pm_indicator_spec_init(&plan->indicators[i]);
      plan->n_indicators = n;
      for (size_t i = 0; i < n; i++)
        if ((st = parse_indicator(p, node_at(p, v->data.sequence.items.start[i]), i,
                                  &plan->indicators[i])))
          return st;
    }
  }

  if ((q = map_find(p, root, "db"))) {
    char *db = NULL;
    if ((st = get_text(p, "db", what, node_at(p, q->value), 0, &db))) return st;
    st = resolve_path(p, db, &plan->db);
    free(db);
    return st;
  }
  char *name = NULL;
  if ((st = pm_asprintf(p->ctx, &name, "%s.sqlite", plan->id))) return st;
  st = resolve_path(p, name, &plan->db);
  free(name);
  return st;
}

/* --- Reading the file --- */

static pm_status read_file(pm_context *ctx, const char *path, char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return pm_error(ctx, PM_EIO, "%s: cannot read the plan file (%s)", path, strerror(errno));
  size_t cap = 8192, n = 0;
  char *buf = malloc(cap);
  pm_status st = PM_OK;
  while (buf) {
    if (n == cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0 || n > PM_PLAN_MAX_BYTES) break;
  }
  if (!buf)
    st = pm_error(ctx, PM_ENOMEM, "out of memory");
  else if (n > PM_PLAN_MAX_BYTES)
    st = pm_error(ctx, PM_EINPUT,
                  "%s: the plan file is larger than %d KB; a plan is a short text (layers and "
                  "indicators): check that this is the plan file",
                  path, PM_PLAN_MAX_BYTES / 1024);
  else if (ferror(f))
    st = pm_error(ctx, PM_EIO, "%s: cannot read the plan file (%s)", path, strerror(errno));
  fclose(f);
  if (st) {
    free(buf);
    return st;
  }
  *data = buf;
  *len = n;
  return PM_OK;
}

/* A comparison operator written bare at data[at] (">= 80", "op: >=", "{op: >, value: 3}"): YAML
 * reads ">" as the start of a folded text block and fails. Writes the hint for it into buf and
 * returns 1; 0 when data[at] is no such operator. */
static int operator_hint(const char *data, size_t len, size_t at, char *buf, size_t size) {
  if (at >= len || (data[at] != '>' && data[at] != '<')) return 0;
  size_t k = at + 1;
  if (k < len && data[k] == '=') k++;
  if (k < len && !strchr(" \t\r\n,}]", data[k]) && !(data[k] >= '0' && data[k] <= '9')) return 0;
  char op[3] = {0};
  memcpy(op, data + at, k - at);
  /* The key before it on its line: `target: >= 80` is the shorthand, quoted whole. */
  size_t b = at;
  while (b > 0 && data[b - 1] != '\n') b--;
  const char *key = NULL;
  for (size_t i = b; i + 7 <= at; i++)
    if (strncmp(data + i, "target:", 7) == 0) key = "target";
  size_t e = k;
  while (e < len && data[e] == ' ') e++;
  size_t num = e;
  while (e < len && ((data[e] >= '0' && data[e] <= '9') || data[e] == '.')) e++;
  if (key && e > num)
    snprintf(buf, size, " (quote the operator: op: \"%s\"; e.g. target: \"%s %.*s\" or target: "
                        "{op: \"%s\", value: %.*s})",
             op, op, (int)(e - num), data + num, op, (int)(e - num), data + num);
  else
    snprintf(buf, size, " (quote the operator: op: \"%s\")", op);
  return 1;
}

static pm_status yaml_fail(parser *p, yaml_parser_t *yp, const char *data, size_t len) {
  if (yp->error == YAML_MEMORY_ERROR) return pm_error(p->ctx, PM_ENOMEM, "out of memory");
  const char *problem = yp->problem ? yp->problem : "unreadable YAML";
  size_t line, col;
  if (yp->error == YAML_READER_ERROR) {
    /* reader errors carry a byte offset, not a mark */
    line = 1;
    col = 1;
    for (size_t i = 0; i < yp->problem_offset && i < len; i++) {
      if (data[i] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    return pm_error(p->ctx, PM_EINPUT,
                    "%s:%zu:%zu: the plan file is not valid UTF-8 text (%s); save it as UTF-8",
                    p->path, line, col, problem);
  }
  line = yp->problem_mark.line + 1;
  col = yp->problem_mark.column + 1;
  /* The usual causes: tabs, unquoted operators or "%", wrong indentation. */
  const char *hint = "";
  char op_hint[160];
  size_t at = yp->problem_mark.index;
  if (operator_hint(data, len, at, op_hint, sizeof op_hint) ||
      (yp->context && strstr(yp->context, "block scalar") &&
       operator_hint(data, len, yp->context_mark.index, op_hint, sizeof op_hint)))
    hint = op_hint;
  else if (at < len && strchr("><%@`|*&!", data[at]) && data[at])
    hint = " (quote values that start with > < % @ ` | * & !, e.g. op: \">=\" or unit: \"%\")";
  else if (yp->context && strstr(yp->context, "flow"))
    hint = " (check the brackets: every [ needs its ], every { its }, items separated by ', ')";
  else if (strstr(problem, "mapping values are not allowed"))
    hint = " (quote a value that contains ': ', or fix the indentation)";
  else if (strstr(problem, "did not find expected") || strstr(problem, "could not find expected"))
    hint = " (check the indentation and that every 'key: value' has a space after ':')";
  size_t cur = 1, i = 0;
  for (; i < len && cur < line; i++)
    if (data[i] == '\n') cur++;
  for (; i < len && data[i] != '\n'; i++)
    if (data[i] == '\t') hint = " (YAML does not allow tabs: indent with spaces)";
  if (yp->context)
    return pm_error(p->ctx, PM_EINPUT, "%s:%zu:%zu: YAML syntax error: %s %s at line %zu%s",
                    p->path, line, col, problem, yp->context, yp->context_mark.line + 1, hint);
  return pm_error(p->ctx, PM_EINPUT, "%s:%zu:%zu: YAML syntax error: %s%s", p->path, line, col,
                  problem, hint);
}

/* Walk the YAML events once before building the document: nesting deeper than any plan needs
 * (5 levels) is refused at PM_PLAN_MAX_DEPTH, before libyaml spends minutes on, say, 100,000
 * '['. A syntax error is left to the loader, which explains it. */
static pm_status check_depth(parser *p, const char *data, size_t len) {
  yaml_parser_t yp;
  if (!yaml_parser_initialize(&yp)) return pm_error(p->ctx, PM_ENOMEM, "out of memory");
  yaml_parser_set_input_string(&yp, (const unsigned char *)data, len);
  pm_status st = PM_OK;
  int depth = 0, done = 0;
  while (!st && !done) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&yp, &ev)) break;
    if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
      if (++depth > PM_PLAN_MAX_DEPTH)
        st = pm_error(p->ctx, PM_EINPUT,
                      "%s:%zu: lists and mappings are nested more than %d levels deep here; a "
                      "plan needs 5 at most (check the brackets and the indentation)",
                      p->path, ev.start_mark.line + 1, PM_PLAN_MAX_DEPTH);
    } else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
      depth--;
    } else if (ev.type == YAML_STREAM_END_EVENT) {
      done = 1;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&yp);
  return st;
}

static pm_status dir_of(pm_context *ctx, const char *path, char **out) {
  const char *slash = strrchr(path, '/');
  if (!slash) return pm_strdup(ctx, out, ".");
  if (slash == path) return pm_strdup(ctx, out, "/");
  *out = strndup(path, (size_t)(slash - path));
  return *out ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory");
}

pm_status pm_plan_load(pm_context *ctx, const char *path, pm_plan **out) {
  *out = NULL;
  if (!path || !*path) return pm_error(ctx, PM_EINPUT, "no plan file given");
  char *data = NULL;
  size_t len = 0;
  pm_status st = read_file(ctx, path, &data, &len);
  if (st) return st;

  pm_plan *plan = calloc(1, sizeof *plan);
  if (plan) plan->network.max_snap_m = plan->network.min_piece_m = plan->network.access_width_m = NAN;
  if (!plan) {
    free(data);
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  char hex[65];
  pm__sha256_buffer(data, len, hex);
  if ((st = pm_strdup(ctx, &plan->path, path)) || (st = dir_of(ctx, path, &plan->dir)) ||
      (st = pm_strdup(ctx, &plan->hash, hex))) {
    free(data);
    pm_plan_destroy(plan);
    return st;
  }

  yaml_parser_t yp;
  yaml_document_t doc;
  parser p = {ctx, path, &doc, plan};
  if (!yaml_parser_initialize(&yp)) {
    free(data);
    pm_plan_destroy(plan);
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  yaml_parser_set_input_string(&yp, (const unsigned char *)data, len);
  st = check_depth(&p, data, len);
  if (st) {
    /* reported */
  } else if (!yaml_parser_load(&yp, &doc)) {
    st = yaml_fail(&p, &yp, data, len);
  } else {
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
      st = pm_error(ctx, PM_EINPUT, "%s: the plan file is empty; start with `plan: <id>`", path);
    } else {
      st = parse_root(&p, root);
      if (!st) {
        /* a second document ("---") would be silently ignored: refuse it */
        yaml_document_t doc2;
        if (!yaml_parser_load(&yp, &doc2)) {
          st = yaml_fail(&p, &yp, data, len);
        } else {
          yaml_node_t *r2 = yaml_document_get_root_node(&doc2);
          if (r2)
            st = fail(&p, r2, "a second YAML document starts here; a plan file holds one plan");
          yaml_document_delete(&doc2);
        }
      }
    }
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&yp);
  free(data);
  if (st) {
    pm_plan_destroy(plan);
    return st;
  }
  *out = plan;
  return PM_OK;
}

/* --- Plans --- */

void pm_plan_destroy(pm_plan *plan) {
  if (!plan) return;
  free(plan->path);
  free(plan->dir);
  free(plan->hash);
  free(plan->id);
  free(plan->title);
  free(plan->timezone);
  free(plan->network.layer.layer);
  free(plan->network.layer.where);
  free(plan->network.connect);
  free(plan->crs);
  free(plan->db);
  free(plan->districts_layer);
  free(plan->districts_name_field);
  for (size_t i = 0; i < plan->n_districts_only; i++) free(plan->districts_only[i]);
  free(plan->districts_only);
  for (size_t i = 0; i < plan->n_layers; i++) {
    pm_plan_layer *l = &plan->layers[i];
    free(l->name);
    free(l->path);
    free(l->encoding);
    free(l->src_crs);
    free(l->x);
    free(l->y);
    free(l->source_layer);
    free(l->where);
    free(l->label_field);
    free(l->attribution);
  }
  free(plan->layers);
  for (size_t i = 0; i < plan->n_indicators; i++) pm_indicator_spec_clear(&plan->indicators[i]);
  free(plan->indicators);
  free(plan);
}

const pm_plan_layer *pm_plan_find_layer(const pm_plan *plan, const char *name) {
  if (!plan || !name) return NULL;
  for (size_t i = 0; i < plan->n_layers; i++)
    if (plan->layers[i].name && strcmp(plan->layers[i].name, name) == 0) return &plan->layers[i];
  return NULL;
}
