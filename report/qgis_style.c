/* qgis_style.c: QGIS 3 styles (QML renderers, labels) and QGIS projects (.qgs/.qgz) for export. */
#include "report/qgis_style.h"

#include "planmetrics/metrics.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The QGIS version the documents claim: the oldest 3.x whose readers understand everything
 * written here (3.22 reads both <prop> and <Option> symbol properties; later versions too). */
#define QGIS_VERSION "3.22.0-Białowieża"

/* Colours (RGBA as QGIS writes them). Green/red are ColorBrewer RdYlGn ends. */
#define C_GREEN "26,152,80,255"
#define C_LIGHT_GREEN "145,207,96,255"
#define C_ORANGE "252,141,89,255"
#define C_RED "215,48,39,255"
#define C_GREY "150,150,150,255"
#define C_LIGHT_GREY "189,189,189,255"
#define C_BLUE "33,113,181,255"
#define C_DARK "64,64,64,255"
#define C_WHITE "255,255,255,255"

/* ---------- growing string buffer ---------- */

typedef struct sbuf {
  char *s;
  size_t n, cap;
  int oom;
} sbuf;

static void sb_add_len(sbuf *b, const char *s, size_t len) {
  if (b->oom) return;
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + len + 1) cap *= 2;
    char *p = realloc(b->s, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, len);
  b->n += len;
  b->s[b->n] = '\0';
}

static void sb_add(sbuf *b, const char *s) { sb_add_len(b, s, strlen(s)); }

static void sb_addf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_addf(sbuf *b, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (len < 0) {
    b->oom = 1;
    return;
  }
  if ((size_t)len < sizeof small) {
    sb_add_len(b, small, (size_t)len);
    return;
  }
  char *big = malloc((size_t)len + 1);
  if (!big) {
    b->oom = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)len + 1, fmt, ap);
  va_end(ap);
  sb_add_len(b, big, (size_t)len);
  free(big);
}

/* XML-escaped text (attribute-safe: quotes escaped too). */
static void sb_xml(sbuf *b, const char *s) {
  if (!s) return;
  for (const char *p = s; *p; p++) {
    switch (*p) {
      case '&': sb_add(b, "&amp;"); break;
      case '<': sb_add(b, "&lt;"); break;
      case '>': sb_add(b, "&gt;"); break;
      case '"': sb_add(b, "&quot;"); break;
      case '\'': sb_add(b, "&apos;"); break;
      case '\n': sb_add(b, "&#10;"); break;
      default: sb_add_len(b, p, 1);
    }
  }
}

static pm_status sb_finish(pm_context *ctx, sbuf *b, char **out) {
  if (b->oom || !b->s) {
    free(b->s);
    return pm_error(ctx, PM_ENOMEM, "out of memory writing a QGIS style");
  }
  *out = b->s;
  return PM_OK;
}

/* ---------- symbols ---------- */

typedef struct kv {
  const char *k;
  char v[64];
} kv;

/* One symbol: a single simple layer of the kind's type. width is the marker size, line width
 * or fill outline width in mm; color the fill/line colour, outline the marker/fill outline
 * ("" for none). */
typedef struct sym {
  pm_geom_kind kind;
  const char *color;
  const char *outline;
  double size;
  double outline_width;
  const char *brush; /* fill style: NULL solid, or a Qt brush such as "b_diagonal" */
} sym;

static void props_xml(sbuf *b, const kv *p, size_t n, const char *ind) {
  /* QGIS >= 3.20 reads the <Option> map, older 3.x the <prop> list: write both, as QGIS does. */
  sb_addf(b, "%s<Option type=\"Map\">\n", ind);
  for (size_t i = 0; i < n; i++)
    sb_addf(b, "%s <Option name=\"%s\" type=\"QString\" value=\"%s\"/>\n", ind, p[i].k, p[i].v);
  sb_addf(b, "%s</Option>\n", ind);
  for (size_t i = 0; i < n; i++) sb_addf(b, "%s<prop k=\"%s\" v=\"%s\"/>\n", ind, p[i].k, p[i].v);
}

#define SET(key, ...)                                         \
  do {                                                        \
    p[n].k = key;                                             \
    snprintf(p[n].v, sizeof p[n].v, __VA_ARGS__);             \
    n++;                                                      \
  } while (0)

static void symbol_xml(sbuf *b, int name, const sym *s) {
  kv p[24];
  size_t n = 0;
  const char *type, *cls;
  int no_outline = !s->outline || !*s->outline;
  if (s->kind == PM_KIND_POINT) {
    type = "marker";
    cls = "SimpleMarker";
    SET("angle", "0");
    SET("color", "%s", s->color);
    SET("horizontal_anchor_point", "1");
    SET("joinstyle", "bevel");
    SET("name", "circle");
    SET("offset", "0,0");
    SET("offset_unit", "MM");
    SET("outline_color", "%s", no_outline ? "0,0,0,0" : s->outline);
    SET("outline_style", "%s", no_outline ? "no" : "solid");
    SET("outline_width", "%g", s->outline_width);
    SET("outline_width_unit", "MM");
    SET("scale_method", "diameter");
    SET("size", "%g", s->size);
    SET("size_unit", "MM");
    SET("vertical_anchor_point", "1");
  } else if (s->kind == PM_KIND_LINE) {
    type = "line";
    cls = "SimpleLine";
    SET("capstyle", "round");
    SET("customdash", "5;2");
    SET("customdash_unit", "MM");
    SET("joinstyle", "round");
    SET("line_color", "%s", s->color);
    SET("line_style", "solid");
    SET("line_width", "%g", s->size);
    SET("line_width_unit", "MM");
    SET("offset", "0");
    SET("offset_unit", "MM");
    SET("use_custom_dash", "0");
  } else {
    type = "fill";
    cls = "SimpleFill";
    SET("color", "%s", s->color ? s->color : "0,0,0,0");
    SET("joinstyle", "bevel");
    SET("offset", "0,0");
    SET("offset_unit", "MM");
    SET("outline_color", "%s", no_outline ? "0,0,0,0" : s->outline);
    SET("outline_style", "%s", no_outline ? "no" : "solid");
    SET("outline_width", "%g", s->outline_width);
    SET("outline_width_unit", "MM");
    SET("style", "%s", !s->color ? "no" : s->brush ? s->brush : "solid");
  }
  sb_addf(b,
          "   <symbol name=\"%d\" type=\"%s\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">\n"
          "    <layer class=\"%s\" pass=\"0\" enabled=\"1\" locked=\"0\">\n",
          name, type, cls);
  props_xml(b, p, n, "     ");
  sb_add(b, "    </layer>\n   </symbol>\n");
}

#undef SET

/* ---------- which renderer ---------- */

/* The registry's row for a result layer's role: of its metric kind, or of a query's table
 * layers when it has none (NULL when unknown). */
static const pm_detail_role *role_of(const pm_qgis_layer *l) {
  return l->metric ? pm_metric_role(l->metric, l->role) : pm_query_role(l->role);
}

/* How the registry says a result layer's role is drawn (PM_ROLE_MEASURED when unknown). */
static pm_role_style style_of(const pm_qgis_layer *l) {
  const pm_detail_role *r = role_of(l);
  return r ? r->style : PM_ROLE_MEASURED;
}

/* Roles whose `covered` is a verdict worth colouring green/red. */
static int role_is_verdict(const pm_qgis_layer *l) {
  const pm_detail_role *r = role_of(l);
  return r && r->by_covered;
}

typedef enum rtype { R_SINGLE, R_CATEGORIZED, R_RULES, R_GRADUATED, R_REACHED } rtype;

static rtype renderer_of(const pm_qgis_layer *l) {
  if (l->cls == PM_QGIS_DISTRICTS) {
    if (l->has_target) return R_RULES;
    return isnan(l->value_min) ? R_SINGLE : R_GRADUATED;
  }
  if (l->cls == PM_QGIS_RESULT && style_of(l) == PM_ROLE_REACHED && l->kind == PM_KIND_LINE &&
      isfinite(l->value_max))
    return R_REACHED;
  if (l->cls == PM_QGIS_RESULT && l->has_covered && role_is_verdict(l)) return R_CATEGORIZED;
  return R_SINGLE;
}

const char *pm_qgis_renderer_type(const pm_qgis_layer *l) {
  switch (renderer_of(l)) {
    case R_CATEGORIZED: return "categorizedSymbol";
    case R_RULES: return "RuleRenderer";
    case R_GRADUATED:
    case R_REACHED: return "graduatedSymbol";
    default: return "singleSymbol";
  }
}

/* The symbol of a single-symbol layer. */
static sym single_symbol(const pm_qgis_layer *l) {
  sym s = {l->kind, C_GREY, C_WHITE, 2.0, 0.2, NULL};
  if (l->kind == PM_KIND_LINE) s.size = 0.6;
  if (l->kind == PM_KIND_POLYGON) {
    s.color = "150,150,150,90";
    s.outline = C_GREY;
    s.outline_width = 0.3;
  }
  if (l->cls == PM_QGIS_INPUT) {
    if (l->is_district_input) return (sym){PM_KIND_POLYGON, NULL, C_DARK, 0, 0.5, NULL};
    if (l->kind == PM_KIND_POINT) return (sym){PM_KIND_POINT, "66,146,198,200", "", 1.2, 0, NULL};
    if (l->kind == PM_KIND_LINE) return (sym){PM_KIND_LINE, "115,115,115,255", "", 0.3, 0, NULL};
    return (sym){PM_KIND_POLYGON, "224,224,224,120", C_GREY, 0, 0.26, NULL};
  }
  if (l->cls == PM_QGIS_DISTRICTS) return (sym){PM_KIND_POLYGON, "189,189,189,150", C_DARK, 0, 0.5, NULL};
  switch (style_of(l)) {
    case PM_ROLE_PASS:
      if (l->kind == PM_KIND_POLYGON)
        return (sym){PM_KIND_POLYGON, "26,152,80,90", C_GREEN, 0, 0.4, NULL};
      s.color = C_GREEN;
      break;
    case PM_ROLE_SOURCE:
      s.color = l->kind == PM_KIND_POLYGON ? "0,109,44,160" : "0,109,44,255";
      s.size = 1.8;
      break;
    case PM_ROLE_IGNORED:
      s.color = l->kind == PM_KIND_POLYGON ? "120,120,120,140" : "120,120,120,255";
      break;
    case PM_ROLE_ROUTE:
      return (sym){PM_KIND_LINE, C_BLUE, "", 1.2, 0, NULL};
    case PM_ROLE_REACHED: /* without distances to grade it by: as what is measured */
    case PM_ROLE_MEASURED:
      s.color = l->kind == PM_KIND_POLYGON ? "33,113,181,110" : C_BLUE;
      if (l->kind == PM_KIND_POLYGON) s.outline = C_BLUE;
      if (l->kind == PM_KIND_LINE) s.size = 0.8;
      if (l->kind == PM_KIND_POINT) s.size = 2.4;
      break;
    case PM_ROLE_FAIL:
      s.color = C_RED;
      if (l->kind == PM_KIND_POLYGON) s.outline = C_RED, s.brush = "b_diagonal";
      break;
    default:
      s.color = l->kind == PM_KIND_POLYGON ? "117,107,177,110" : "117,107,177,255";
  }
  return s;
}

/* The covered / not covered symbol of a verdict layer. */
static sym verdict_symbol(const pm_qgis_layer *l, const char *color, const char *fill) {
  pm_role_style st = style_of(l);
  if (l->kind == PM_KIND_POINT) /* the measured places (stations, homes) larger than the rest */
    return (sym){PM_KIND_POINT, color, C_WHITE, st == PM_ROLE_VERDICT ? 3.2 : 2.2, 0.45, NULL};
  if (l->kind == PM_KIND_LINE) /* connections thinner than the lines measured, walked paths wider */
    return (sym){PM_KIND_LINE, color, "",
                 l->walked                                  ? 0.9
                 : st == PM_ROLE_VERDICT || st == PM_ROLE_PAIR ? 0.5
                                                               : 0.8,
                 0, NULL};
  /* uncovered land is hatched, so the district colour underneath stays readable */
  if (st == PM_ROLE_FAIL) return (sym){PM_KIND_POLYGON, color, color, 0, 0.4, "b_diagonal"};
  return (sym){PM_KIND_POLYGON, fill, color, 0, 0.4, NULL};
}

static void renderer_open(sbuf *b, const char *type, const char *extra) {
  sb_addf(b,
          " <renderer-v2 type=\"%s\"%s forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\" "
          "referencescale=\"-1\">\n",
          type, extra);
}

static void renderer_close(sbuf *b) { sb_add(b, "  <rotation/>\n  <sizescale/>\n </renderer-v2>\n"); }

static void single_xml(sbuf *b, const pm_qgis_layer *l) {
  sym s = single_symbol(l);
  renderer_open(b, "singleSymbol", "");
  sb_add(b, "  <symbols>\n");
  symbol_xml(b, 0, &s);
  sb_add(b, "  </symbols>\n");
  renderer_close(b);
}

static void categorized_xml(sbuf *b, const pm_qgis_layer *l) {
  sym yes = verdict_symbol(l, C_GREEN, "26,152,80,110");
  sym no = verdict_symbol(l, C_RED, "215,48,39,110");
  sym other = verdict_symbol(l, C_GREY, "150,150,150,90");
  renderer_open(b, "categorizedSymbol", " attr=\"covered\"");
  /* A walked path is the way along the network to the nearest stop, not a straight line: the
   * legend says so. */
  const char *yes_label = "covered", *no_label = "not covered";
  if (l->walked && l->kind == PM_KIND_LINE) {
    int pair = style_of(l) == PM_ROLE_PAIR;
    yes_label = pair ? "walked path to the route's nearest stop, within the threshold"
                     : "walked path to the nearest stop, transfer within the threshold";
    no_label = pair ? "walked path to the route's nearest stop, beyond the threshold"
                    : "walked path to the nearest stop, beyond the threshold";
  }
  sb_add(b, "  <categories>\n   <category render=\"true\" symbol=\"0\" value=\"1\" label=\"");
  sb_xml(b, yes_label);
  sb_add(b, "\"/>\n   <category render=\"true\" symbol=\"1\" value=\"0\" label=\"");
  sb_xml(b, no_label);
  sb_add(b,
         "\"/>\n"
         "   <category render=\"true\" symbol=\"2\" value=\"\" label=\"not applicable\"/>\n"
         "  </categories>\n"
         "  <symbols>\n");
  symbol_xml(b, 0, &yes);
  symbol_xml(b, 1, &no);
  symbol_xml(b, 2, &other);
  sb_add(b, "  </symbols>\n");
  renderer_close(b);
}

/* Met or missed, and by how much relative to the target: within 10 % of it is "close". */
static void rules_xml(sbuf *b, const pm_qgis_layer *l) {
  static const char *const colors[] = {C_GREEN, C_LIGHT_GREEN, C_ORANGE, C_RED, C_LIGHT_GREY};
  static const char *const filters[] = {
      "\"met\" = 1 AND abs(\"value\" - \"target\") > 0.1 * abs(\"target\")",
      "\"met\" = 1 AND abs(\"value\" - \"target\") <= 0.1 * abs(\"target\")",
      "\"met\" = 0 AND abs(\"value\" - \"target\") <= 0.1 * abs(\"target\")",
      "\"met\" = 0 AND abs(\"value\" - \"target\") > 0.1 * abs(\"target\")",
      "\"met\" IS NULL"};
  char target[96];
  snprintf(target, sizeof target, "%s %g%s%s", l->target_op ? l->target_op : "", l->target,
           l->unit && strcmp(l->unit, "%") != 0 ? " " : "", l->unit ? l->unit : "");
  char labels[5][160];
  snprintf(labels[0], sizeof labels[0], "met (%s) by more than 10 %% of the target", target);
  snprintf(labels[1], sizeof labels[1], "met (%s), within 10 %% of the target", target);
  snprintf(labels[2], sizeof labels[2], "missed (%s), within 10 %% of the target", target);
  snprintf(labels[3], sizeof labels[3], "missed (%s) by more than 10 %% of the target", target);
  snprintf(labels[4], sizeof labels[4], "no value");
  renderer_open(b, "RuleRenderer", "");
  sb_add(b, "  <rules key=\"{pm-root}\">\n");
  for (int i = 0; i < 5; i++) {
    sb_addf(b, "   <rule key=\"{pm-rule-%d}\" symbol=\"%d\" filter=\"", i, i);
    sb_xml(b, filters[i]);
    sb_add(b, "\" label=\"");
    sb_xml(b, labels[i]);
    sb_add(b, "\"/>\n");
  }
  sb_add(b, "  </rules>\n  <symbols>\n");
  for (int i = 0; i < 5; i++) {
    char fill[32];
    int r = 0, g = 0, bl = 0;
    sscanf(colors[i], "%d,%d,%d", &r, &g, &bl);
    snprintf(fill, sizeof fill, "%d,%d,%d,120", r, g, bl);
    sym s = {PM_KIND_POLYGON, fill, C_DARK, 0, 0.5, NULL};
    symbol_xml(b, i, &s);
  }
  sb_add(b, "  </symbols>\n");
  renderer_close(b);
}

/* No target: five equal-interval classes of value, light to dark blue. */
static void graduated_xml(sbuf *b, const pm_qgis_layer *l) {
  static const char *const ramp[] = {"239,243,255,190", "189,215,231,190", "107,174,214,190",
                                     "49,130,189,190", "8,81,156,190"};
  double lo = l->value_min, hi = l->value_max;
  int n = hi > lo ? 5 : 1;
  renderer_open(b, "graduatedSymbol", " attr=\"value\" graduatedMethod=\"GraduatedColor\"");
  sb_add(b, "  <ranges>\n");
  for (int i = 0; i < n; i++) {
    double a = lo + (hi - lo) * i / n, z = i == n - 1 ? hi : lo + (hi - lo) * (i + 1) / n;
    char label[128];
    snprintf(label, sizeof label, "%.4g – %.4g%s%s", a, z,
             l->unit && strcmp(l->unit, "%") != 0 ? " " : "", l->unit ? l->unit : "");
    sb_addf(b, "   <range render=\"true\" symbol=\"%d\" lower=\"%.17g\" upper=\"%.17g\" label=\"", i,
            a, z);
    sb_xml(b, label);
    sb_add(b, "\"/>\n");
  }
  sb_add(b, "  </ranges>\n  <symbols>\n");
  for (int i = 0; i < n; i++) {
    sym s = {PM_KIND_POLYGON, ramp[n == 1 ? 2 : i], C_DARK, 0, 0.5, NULL};
    symbol_xml(b, i, &s);
  }
  sb_add(b, "  </symbols>\n  <classificationMethod id=\"EqualInterval\"/>\n");
  renderer_close(b);
}

/* The reached network, graduated on distance_m (each part's 50 m band: its upper bound): classes
 * of whole bands, at most 10, near dark blue to far light green (ColorBrewer YlGnBu, reversed). */
static void reached_xml(sbuf *b, const pm_qgis_layer *l) {
  static const int ramp[][3] = {{8, 29, 88},    {37, 52, 148},  {34, 94, 168},  {29, 145, 192},
                                {65, 182, 196}, {127, 205, 187}, {199, 233, 180}};
  const int nramp = (int)(sizeof ramp / sizeof ramp[0]);
  const double band = 50;
  double hi = l->value_max;
  int nb = (int)ceil(hi / band - 1e-9);
  if (nb < 1) nb = 1;
  int per = (nb + 9) / 10, n = (nb + per - 1) / per;
  renderer_open(b, "graduatedSymbol", " attr=\"distance_m\" graduatedMethod=\"GraduatedColor\"");
  sb_add(b, "  <ranges>\n");
  for (int i = 0; i < n; i++) {
    double a = i * per * band, z = i == n - 1 ? hi : (i + 1) * per * band;
    char label[128];
    snprintf(label, sizeof label, "walked %.0f – %.0f m", a, z);
    sb_addf(b, "   <range render=\"true\" symbol=\"%d\" lower=\"%.17g\" upper=\"%.17g\" label=\"", i,
            a, z);
    sb_xml(b, label);
    sb_add(b, "\"/>\n");
  }
  sb_add(b, "  </ranges>\n  <symbols>\n");
  for (int i = 0; i < n; i++) {
    double t = n == 1 ? 0 : (double)i / (n - 1) * (nramp - 1);
    int k = (int)floor(t);
    if (k >= nramp - 1) k = nramp - 2;
    double f = t - k;
    char color[32];
    snprintf(color, sizeof color, "%d,%d,%d,255",
             (int)lround(ramp[k][0] + f * (ramp[k + 1][0] - ramp[k][0])),
             (int)lround(ramp[k][1] + f * (ramp[k + 1][1] - ramp[k][1])),
             (int)lround(ramp[k][2] + f * (ramp[k + 1][2] - ramp[k][2])));
    sym s = {PM_KIND_LINE, color, "", 0.9, 0, NULL};
    symbol_xml(b, i, &s);
  }
  sb_add(b, "  </symbols>\n  <classificationMethod id=\"EqualInterval\"/>\n");
  renderer_close(b);
}

/* District name and value at the centre of each district. */
static void district_labels_xml(sbuf *b) {
  sb_add(b,
         " <labeling type=\"simple\">\n"
         "  <settings calloutType=\"simple\">\n"
         "   <text-style fieldName=\"");
  sb_xml(b,
         "\"district\" || '\\n' || coalesce(to_string(round(\"value\", 2)) || "
         "coalesce(' ' || nullif(\"unit\", 'count'), ''), 'no value')");
  sb_add(b,
         "\" isExpression=\"1\" fontSize=\"9\" fontSizeUnit=\"Point\" fontWeight=\"75\" "
         "textColor=\"20,20,20,255\" textOpacity=\"1\" multilineHeight=\"1\" allowHtml=\"0\" "
         "capitalization=\"0\" blendMode=\"0\" fontItalic=\"0\" useSubstitutions=\"0\">\n"
         "    <text-buffer bufferDraw=\"1\" bufferSize=\"1\" bufferSizeUnits=\"MM\" "
         "bufferColor=\"255,255,255,255\" bufferOpacity=\"0.85\" bufferJoinStyle=\"128\" "
         "bufferNoFill=\"1\" bufferBlendMode=\"0\"/>\n"
         "   </text-style>\n"
         "   <text-format multilineAlign=\"1\" wrapChar=\"\" autoWrapLength=\"0\" "
         "formatNumbers=\"0\" decimals=\"3\" plussign=\"0\"/>\n"
         "   <placement placement=\"1\" centroidInside=\"1\" centroidWhole=\"0\" dist=\"0\" "
         "distUnits=\"MM\" priority=\"5\" fitInPolygonOnly=\"0\" offsetType=\"0\" "
         "quadOffset=\"4\" xOffset=\"0\" yOffset=\"0\" offsetUnits=\"MM\" "
         "polygonPlacementFlags=\"2\" placementFlags=\"10\"/>\n"
         "   <rendering drawLabels=\"1\" obstacle=\"1\" obstacleFactor=\"1\" obstacleType=\"1\" "
         "scaleVisibility=\"0\" scaleMin=\"0\" scaleMax=\"0\" displayAll=\"0\" "
         "upsidedownLabels=\"0\" labelPerPart=\"0\" mergeLines=\"0\" limitNumLabels=\"0\" "
         "maxNumLabels=\"2000\" minFeatureSize=\"0\" zIndex=\"0\" unplacedVisibility=\"0\" "
         "fontLimitPixelSize=\"0\" fontMinPixelSize=\"0\" fontMaxPixelSize=\"10000\"/>\n"
         "  </settings>\n"
         " </labeling>\n");
}

static int has_labels(const pm_qgis_layer *l) { return l->cls == PM_QGIS_DISTRICTS; }

pm_status pm_qgis_layer_style_body(pm_context *ctx, const pm_qgis_layer *l, char **out) {
  sbuf b = {0};
  switch (renderer_of(l)) {
    case R_CATEGORIZED: categorized_xml(&b, l); break;
    case R_RULES: rules_xml(&b, l); break;
    case R_GRADUATED: graduated_xml(&b, l); break;
    case R_REACHED: reached_xml(&b, l); break;
    default: single_xml(&b, l);
  }
  if (has_labels(l)) district_labels_xml(&b);
  sb_add(&b,
         " <blendMode>0</blendMode>\n"
         " <featureBlendMode>0</featureBlendMode>\n"
         " <layerOpacity>1</layerOpacity>\n"
         " <previewExpression>");
  sb_xml(&b, l->cls == PM_QGIS_DISTRICTS ? "\"district\""
             : l->cls == PM_QGIS_RESULT  ? "coalesce(\"name\", \"id\")"
                                         : "");
  sb_add(&b, "</previewExpression>\n");
  return sb_finish(ctx, &b, out);
}

pm_status pm_qgis_layer_qml(pm_context *ctx, const pm_qgis_layer *l, char **out) {
  char *body = NULL;
  pm_status st = pm_qgis_layer_style_body(ctx, l, &body);
  if (st) return st;
  sbuf b = {0};
  sb_addf(&b,
          "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
          "<qgis version=\"%s\" styleCategories=\"AllStyleCategories\" labelsEnabled=\"%d\" "
          "hasScaleBasedVisibilityFlag=\"0\" minScale=\"100000000\" maxScale=\"0\" "
          "readOnly=\"0\">\n",
          QGIS_VERSION, has_labels(l));
  sb_add(&b, body);
  sb_add(&b, "</qgis>\n");
  free(body);
  return sb_finish(ctx, &b, out);
}

/* ---------- project ---------- */

/* <spatialrefsys> of the EPSG code, as QGIS writes it (QGIS reads the authid first). */
static pm_status srs_xml(pm_context *ctx, int srid, char **out) {
  OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
  if (!srs || OSRImportFromEPSG(srs, srid) != OGRERR_NONE) {
    if (srs) OSRDestroySpatialReference(srs);
    return pm_error(ctx, PM_ECRS, "EPSG:%d: unknown to PROJ; cannot write the QGIS project", srid);
  }
  char *wkt = NULL, *proj4 = NULL;
  const char *wkt_opts[] = {"FORMAT=WKT2_2019", NULL};
  if (OSRExportToWktEx(srs, &wkt, wkt_opts) != OGRERR_NONE) wkt = NULL;
  if (OSRExportToProj4(srs, &proj4) != OGRERR_NONE) proj4 = NULL;
  char acronym[32] = "";
  const char *pp = proj4 ? strstr(proj4, "+proj=") : NULL;
  if (pp) sscanf(pp + 6, "%31[A-Za-z0-9_]", acronym);
  const char *ell = OSRGetAuthorityCode(srs, "GEOGCS|DATUM|SPHEROID");
  sbuf b = {0};
  sb_add(&b, "<spatialrefsys nativeFormat=\"Wkt\">\n<wkt>");
  sb_xml(&b, wkt ? wkt : "");
  sb_add(&b, "</wkt>\n<proj4>");
  sb_xml(&b, proj4 ? proj4 : "");
  sb_addf(&b, "</proj4>\n<srid>%d</srid>\n<authid>EPSG:%d</authid>\n<description>", srid, srid);
  sb_xml(&b, OSRGetName(srs) ? OSRGetName(srs) : "");
  sb_add(&b, "</description>\n<projectionacronym>");
  sb_xml(&b, acronym);
  sb_add(&b, "</projectionacronym>\n<ellipsoidacronym>");
  if (ell) sb_addf(&b, "EPSG:%s", ell);
  sb_addf(&b, "</ellipsoidacronym>\n<geographicflag>%s</geographicflag>\n</spatialrefsys>\n",
          OSRIsGeographic(srs) ? "true" : "false");
  CPLFree(wkt);
  CPLFree(proj4);
  OSRDestroySpatialReference(srs);
  return sb_finish(ctx, &b, out);
}

/* Drawing rank: points on top (0), lines, polygons, district layers at the bottom (3). */
static int rank_of(const pm_qgis_layer *l) {
  if (l->cls == PM_QGIS_DISTRICTS || l->is_district_input) return 3;
  if (l->kind == PM_KIND_POINT) return 0;
  if (l->kind == PM_KIND_LINE) return 1;
  return 2;
}

typedef struct order_item {
  const pm_qgis_layer *l;
  size_t pos;
} order_item;

static int cmp_order(const void *a, const void *b) {
  const order_item *x = a, *y = b;
  int rx = rank_of(x->l), ry = rank_of(y->l);
  if (rx != ry) return rx < ry ? -1 : 1;
  int ix = x->l->cls == PM_QGIS_INPUT, iy = y->l->cls == PM_QGIS_INPUT; /* results above inputs */
  if (ix != iy) return ix - iy;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* A layer's id in the project: the layer name, "_" and 16 hex digits of a hash of the name, as
 * QGIS's own "<name>_<uuid>" ids look. QGIS (3.22) throws away saved ids of 10 characters or
 * fewer and gives the layer a random one, so the layer-tree entries would point at nothing;
 * a hash of the name (not a time or a random number) keeps the same run's project byte-identical. */
static void layer_id(sbuf *b, const pm_qgis_layer *l) {
  uint64_t h = 14695981039346656037ULL; /* FNV-1a, 64 bits */
  for (const unsigned char *p = (const unsigned char *)l->name; *p; p++) {
    h ^= *p;
    h *= 1099511628211ULL;
  }
  sb_xml(b, l->name);
  sb_addf(b, "_%016llx", (unsigned long long)h);
}

/* Make `target` relative to directory `from` (both absolute, without "." or ".." parts): e.g.
 * "./out.gpkg", "../data/out.gpkg". Only the root in common: the absolute path. Caller frees. */
static char *relative_path(const char *from, const char *target) {
  /* common: length of the longest common prefix of whole directory components */
  size_t common = 0, i = 0;
  for (;; i++) {
    int from_end = from[i] == '\0' || from[i] == '/';
    if (from_end && target[i] == '/') common = i;
    if (from[i] == '\0' || from[i] != target[i]) break;
  }
  if (common == 0) return strdup(target);
  size_t ups = 0;
  for (const char *p = from + common; *p; p++)
    if (*p == '/') ups++;
  const char *rest = target + common + 1;
  char *out = malloc(2 + ups * 3 + strlen(rest) + 1);
  if (!out) return NULL;
  strcpy(out, ups ? "" : "./");
  for (size_t k = 0; k < ups; k++) strcat(out, "../");
  strcat(out, rest);
  return out;
}

/* Absolute form of a file path that may not exist yet (its directory must). Caller frees. */
static char *absolute_path(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[PATH_MAX];
  const char *base = slash ? slash + 1 : path;
  if (slash) {
    size_t dl = slash == path ? 1 : (size_t)(slash - path);
    if (dl >= sizeof dir) return NULL;
    memcpy(dir, path, dl);
    dir[dl] = '\0';
  } else {
    strcpy(dir, ".");
  }
  char real[PATH_MAX];
  if (!realpath(dir, real)) return NULL;
  size_t len = strlen(real) + 1 + strlen(base) + 1;
  char *out = malloc(len);
  if (!out) return NULL;
  snprintf(out, len, "%s%s%s", real, strcmp(real, "/") == 0 ? "" : "/", base);
  return out;
}

static void tree_layer(sbuf *b, const pm_qgis_layer *l, const char *source, int checked) {
  sb_add(b, "    <layer-tree-layer id=\"");
  layer_id(b, l);
  sb_add(b, "\" name=\"");
  sb_xml(b, l->name);
  sb_add(b, "\" source=\"");
  sb_xml(b, source);
  sb_add(b, "|layername=");
  sb_xml(b, l->name);
  sb_addf(b,
          "\" providerKey=\"ogr\" checked=\"%s\" expanded=\"%d\">\n"
          "     <customproperties/>\n    </layer-tree-layer>\n",
          checked ? "Qt::Checked" : "Qt::Unchecked", l->cls != PM_QGIS_INPUT);
}

static void extent_xml(sbuf *b, const char *ind, double minx, double miny, double maxx,
                       double maxy) {
  sb_addf(b,
          "%s<extent>\n%s <xmin>%.6f</xmin>\n%s <ymin>%.6f</ymin>\n%s <xmax>%.6f</xmax>\n"
          "%s <ymax>%.6f</ymax>\n%s</extent>\n",
          ind, ind, minx, ind, miny, ind, maxx, ind, maxy, ind);
}

static pm_status project_xml(pm_context *ctx, const pm_qgis_project *proj,
                             const pm_qgis_layer *layers, size_t n, const char *source,
                             const char *srs, char **out) {
  order_item *ord = malloc((n ? n : 1) * sizeof *ord);
  if (!ord) return pm_error(ctx, PM_ENOMEM, "out of memory writing the QGIS project");
  for (size_t i = 0; i < n; i++) ord[i] = (order_item){&layers[i], i};
  qsort(ord, n, sizeof *ord, cmp_order);
  /* a margin of 5 % around the plan area */
  double dx = (proj->maxx - proj->minx) * 0.05, dy = (proj->maxy - proj->miny) * 0.05;
  double minx = proj->minx - dx, miny = proj->miny - dy, maxx = proj->maxx + dx,
         maxy = proj->maxy + dy;

  sbuf b = {0};
  sb_addf(&b, "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
              "<qgis projectname=\"");
  sb_xml(&b, proj->title);
  sb_addf(&b, "\" version=\"%s\">\n <homePath path=\"\"/>\n <title>", QGIS_VERSION);
  sb_xml(&b, proj->title);
  sb_add(&b, "</title>\n <projectCrs>\n");
  sb_add(&b, srs);
  sb_add(&b, " </projectCrs>\n <layer-tree-group>\n  <customproperties/>\n");

  /* groups: one per indicator in run order (the first with layers on), then the inputs */
  const char *first_group = NULL;
  for (size_t i = 0; i < n; i++) {
    const pm_qgis_layer *g = &layers[i];
    if (!g->group) continue;
    int seen = 0;
    for (size_t k = 0; k < i; k++)
      if (layers[k].group && strcmp(layers[k].group, g->group) == 0) seen = 1;
    if (seen) continue;
    if (!first_group) first_group = g->group;
    int on = strcmp(first_group, g->group) == 0;
    sb_add(&b, "  <layer-tree-group name=\"");
    sb_xml(&b, g->group);
    if (g->group_title && *g->group_title) {
      sb_add(&b, " ");
      sb_xml(&b, g->group_title);
    }
    sb_addf(&b, "\" checked=\"%s\" expanded=\"%d\">\n   <customproperties/>\n",
            on ? "Qt::Checked" : "Qt::Unchecked", on);
    for (size_t k = 0; k < n; k++)
      if (ord[k].l->group && strcmp(ord[k].l->group, g->group) == 0)
        tree_layer(&b, ord[k].l, source, 1);
    sb_add(&b, "  </layer-tree-group>\n");
  }
  int any_input = 0;
  for (size_t i = 0; i < n; i++) any_input |= layers[i].cls == PM_QGIS_INPUT;
  if (any_input) {
    sb_add(&b, "  <layer-tree-group name=\"input layers\" checked=\"Qt::Checked\" expanded=\"1\">\n"
               "   <customproperties/>\n");
    for (size_t k = 0; k < n; k++)
      if (ord[k].l->cls == PM_QGIS_INPUT) tree_layer(&b, ord[k].l, source, ord[k].l->is_district_input);
    sb_add(&b, "  </layer-tree-group>\n");
  }
  sb_add(&b, "  <custom-order enabled=\"1\">\n");
  for (size_t k = 0; k < n; k++) {
    sb_add(&b, "   <item>");
    layer_id(&b, ord[k].l);
    sb_add(&b, "</item>\n");
  }
  sb_add(&b, "  </custom-order>\n </layer-tree-group>\n <projectlayers>\n");

  pm_status st = PM_OK;
  for (size_t k = 0; k < n && !st; k++) {
    const pm_qgis_layer *l = ord[k].l;
    char *body = NULL;
    if ((st = pm_qgis_layer_style_body(ctx, l, &body))) break;
    sb_addf(&b,
            "  <maplayer type=\"vector\" geometry=\"%s\" wkbType=\"%s\" labelsEnabled=\"%d\" "
            "styleCategories=\"AllStyleCategories\" hasScaleBasedVisibilityFlag=\"0\" "
            "minScale=\"100000000\" maxScale=\"0\" readOnly=\"0\">\n",
            l->kind == PM_KIND_POINT ? "Point" : l->kind == PM_KIND_LINE ? "Line" : "Polygon",
            l->wkb_name, has_labels(l));
    if (l->has_extent) extent_xml(&b, "   ", l->minx, l->miny, l->maxx, l->maxy);
    sb_add(&b, "   <id>");
    layer_id(&b, l);
    sb_add(&b, "</id>\n   <datasource>");
    sb_xml(&b, source);
    sb_add(&b, "|layername=");
    sb_xml(&b, l->name);
    sb_add(&b, "</datasource>\n   <layername>");
    sb_xml(&b, l->name);
    sb_add(&b, "</layername>\n   <srs>\n");
    sb_add(&b, srs);
    sb_add(&b, "   </srs>\n   <provider encoding=\"UTF-8\">ogr</provider>\n");
    sb_add(&b, body);
    sb_add(&b, "  </maplayer>\n");
    free(body);
  }
  sb_add(&b, " </projectlayers>\n <layerorder>\n");
  for (size_t k = 0; k < n; k++) {
    sb_add(&b, "  <layer id=\"");
    layer_id(&b, ord[k].l);
    sb_add(&b, "\"/>\n");
  }
  sb_add(&b, " </layerorder>\n <mapcanvas name=\"theMapCanvas\" annotationsVisible=\"1\">\n"
             "  <units>meters</units>\n");
  extent_xml(&b, "  ", minx, miny, maxx, maxy);
  sb_add(&b, "  <rotation>0</rotation>\n  <destinationsrs>\n");
  sb_add(&b, srs);
  sb_add(&b, "  </destinationsrs>\n  <rendermaptile>0</rendermaptile>\n </mapcanvas>\n"
             " <properties>\n"
             "  <Paths>\n   <Absolute type=\"bool\">false</Absolute>\n  </Paths>\n"
             "  <SpatialRefSys>\n   <ProjectionsEnabled type=\"int\">1</ProjectionsEnabled>\n"
             "  </SpatialRefSys>\n </properties>\n"
             " <ProjectViewSettings UseProjectScales=\"0\" rotation=\"0\">\n  <Scales/>\n");
  sb_addf(&b, "  <DefaultViewExtent xmin=\"%.6f\" ymin=\"%.6f\" xmax=\"%.6f\" ymax=\"%.6f\">\n",
          minx, miny, maxx, maxy);
  sb_add(&b, srs);
  sb_add(&b, "  </DefaultViewExtent>\n </ProjectViewSettings>\n</qgis>\n");
  free(ord);
  if (st) {
    free(b.s);
    return st;
  }
  return sb_finish(ctx, &b, out);
}

static int ends_with_ci(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* A .qgz is a zip holding <name>.qgs (QGIS adds the auxiliary .qgd itself when needed). */
static pm_status write_qgz(pm_context *ctx, const char *final_path, const char *write_path,
                           const char *xml) {
  const char *base = strrchr(final_path, '/');
  base = base ? base + 1 : final_path;
  size_t bl = strlen(base);
  char *entry = malloc(bl + 5);
  if (!entry) return pm_error(ctx, PM_ENOMEM, "out of memory writing the QGIS project");
  memcpy(entry, base, bl + 1);
  if (ends_with_ci(entry, ".qgz")) entry[bl - 4] = '\0';
  strcat(entry, ".qgs");
  CPLPushErrorHandler(CPLQuietErrorHandler);
  CPLErrorReset();
  pm_status st = PM_OK;
  void *zip = CPLCreateZip(write_path, NULL);
  if (!zip || CPLCreateFileInZip(zip, entry, NULL) != CE_None ||
      CPLWriteFileInZip(zip, xml, (int)strlen(xml)) != CE_None || CPLCloseFileInZip(zip) != CE_None)
    st = pm_error(ctx, PM_EIO, "%s: cannot write the QGIS project (%s)", final_path,
                  CPLGetLastErrorMsg()[0] ? CPLGetLastErrorMsg() : "zip error");
  if (zip && CPLCloseZip(zip) != CE_None && !st)
    st = pm_error(ctx, PM_EIO, "%s: cannot write the QGIS project (%s)", final_path,
                  CPLGetLastErrorMsg());
  CPLPopErrorHandler();
  free(entry);
  return st;
}

pm_status pm_qgis_write_project(pm_context *ctx, const pm_qgis_project *proj,
                                const pm_qgis_layer *layers, size_t n, const char *final_path,
                                const char *write_path) {
  char *gpkg_abs = absolute_path(proj->gpkg_path);
  char *qgs_abs = absolute_path(final_path);
  char *source = NULL, *srs = NULL, *xml = NULL;
  pm_status st = PM_OK;
  if (!gpkg_abs || !qgs_abs) {
    st = pm_error(ctx, PM_EIO, "%s: cannot resolve the directory (%s)",
                  gpkg_abs ? final_path : proj->gpkg_path, strerror(errno));
    goto done;
  }
  *strrchr(qgs_abs, '/') = '\0';
  if (!*qgs_abs) strcpy(qgs_abs, "/");
  if (!(source = relative_path(qgs_abs, gpkg_abs))) {
    st = pm_error(ctx, PM_ENOMEM, "out of memory writing the QGIS project");
    goto done;
  }
  if ((st = srs_xml(ctx, proj->srid, &srs))) goto done;
  if ((st = project_xml(ctx, proj, layers, n, source, srs, &xml))) goto done;
  if (ends_with_ci(final_path, ".qgz")) {
    st = write_qgz(ctx, final_path, write_path, xml);
  } else {
    FILE *f = fopen(write_path, "wb");
    if (!f) {
      st = pm_error(ctx, PM_EIO, "%s: cannot write the QGIS project (%s)", final_path,
                    strerror(errno));
      goto done;
    }
    size_t len = strlen(xml);
    int bad = fwrite(xml, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad)
      st = pm_error(ctx, PM_EIO, "%s: cannot write the QGIS project (%s)", final_path,
                    strerror(errno));
  }
done:
  free(gpkg_abs);
  free(qgs_abs);
  free(source);
  free(srs);
  free(xml);
  return st;
}
