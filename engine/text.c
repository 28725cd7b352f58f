/* text.c: UTF-8 text: decoding, display width on a terminal, JSON string escaping, decimal numbers,
 * and row filters checked before they reach SQL (one copy each). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"

/* Decode one UTF-8 character at p. Returns its length (1-4), or 0 when the bytes at p are not
 * valid UTF-8 (the caller then skips one byte). Never reads past a NUL. */
size_t pm__utf8_next(const unsigned char *p, uint32_t *cp) {
  unsigned char c = p[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n;
  uint32_t v, min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    v = c & 0x1F;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    v = c & 0x0F;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    v = c & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (p[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

typedef struct cp_range {
  uint32_t lo, hi;
} cp_range;

/* Combining marks and zero-width characters: they take no column. */
static const cp_range ZERO_WIDTH[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
    {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x2028, 0x202E}, {0x2060, 0x2064},
    {0x20D0, 0x20FF}, {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF},
    {0xE0100, 0xE01EF}};

/* East Asian Wide and Fullwidth characters (Unicode EAW W/F, the ranges that occur in practice):
 * Hangul jamo, CJK radicals and punctuation, kana, CJK ideographs, Hangul syllables, fullwidth
 * forms (（）、，：), emoji. */
static const cp_range WIDE[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
    {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F},
    {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD}};

static int in_ranges(uint32_t c, const cp_range *r, size_t n) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c < r[mid].lo)
      hi = mid;
    else if (c > r[mid].hi)
      lo = mid + 1;
    else
      return 1;
  }
  return 0;
}

int pm__utf8_cp_width(uint32_t c) {
  if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 0;
  if (in_ranges(c, ZERO_WIDTH, sizeof ZERO_WIDTH / sizeof ZERO_WIDTH[0])) return 0;
  if (in_ranges(c, WIDE, sizeof WIDE / sizeof WIDE[0])) return 2;
  return 1;
}

size_t pm__utf8_width(const char *utf8) {
  size_t w = 0;
  if (!utf8) return 0;
  const unsigned char *p = (const unsigned char *)utf8;
  while (*p) {
    uint32_t cp;
    size_t n = pm__utf8_next(p, &cp);
    if (n == 0) {
      w += 1; /* shown as a replacement character */
      p++;
      continue;
    }
    w += (size_t)pm__utf8_cp_width(cp);
    p += n;
  }
  return w;
}

void pm__json_string(FILE *f, const char *s) {
  if (!s) {
    fputs("null", f);
    return;
  }
  fputc('"', f);
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    /* Plain ASCII needs no escaping: write each run of it at once. */
    const unsigned char *q = p;
    while (*q >= 0x20 && *q < 0x7F && *q != '"' && *q != '\\') q++;
    if (q > p) {
      fwrite(p, 1, (size_t)(q - p), f);
      p = q;
      continue;
    }
    uint32_t cp;
    size_t n = pm__utf8_next(p, &cp);
    if (n == 0) {
      fputs("\xEF\xBF\xBD", f); /* U+FFFD for a byte that is not UTF-8 */
      p++;
      continue;
    }
    switch (cp) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\b': fputs("\\b", f); break;
    case '\f': fputs("\\f", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      /* U+2028/2029 are valid JSON but break JavaScript string literals; escape them too. */
      if (cp < 0x20 || cp == 0x7F || cp == 0x2028 || cp == 0x2029)
        fprintf(f, "\\u%04x", (unsigned)cp);
      else
        fwrite(p, 1, n, f);
    }
    p += n;
  }
  fputc('"', f);
}

int pm__parse_decimal(const char *s, int allow_inf, double *out) {
  const char *p = s;
  if (*p == '+' || *p == '-') p++;
  if (allow_inf && (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0)) {
    *out = s[0] == '-' ? -INFINITY : INFINITY;
    return 1;
  }
  int digits = 0;
  while (isdigit((unsigned char)*p)) p++, digits++;
  if (*p == '.') {
    p++;
    while (isdigit((unsigned char)*p)) p++, digits++;
  }
  if (!digits) return 0;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!isdigit((unsigned char)*p)) return 0;
    while (isdigit((unsigned char)*p)) p++;
  }
  if (*p) return 0;
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

/* Words that would turn a condition into a query of its own (subqueries, compound SELECTs). */
static const char *const FILTER_WORDS[] = {"SELECT", "UNION",  "INTERSECT", "EXCEPT",
                                           "FROM",   "WITH",   "VALUES",    "ORDER",
                                           "LIMIT",  "GROUP",  "HAVING",    "WINDOW",
                                           "OVER",   "RECURSIVE"};

int pm__filter_check(const char *expr, char *why, size_t size) {
  const char *p = expr;
  int depth = 0, tokens = 0;
  if (strlen(expr) > PM_FILTER_MAX) {
    snprintf(why, size, "it is longer than %d characters", PM_FILTER_MAX);
    return 0;
  }
  while (*p) {
    unsigned char c = (unsigned char)*p;
    if (isspace(c)) {
      p++;
      continue;
    }
    tokens++;
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
      char close = c == '[' ? ']' : (char)c;
      const char *s = p++;
      for (;;) {
        if (!*p) {
          snprintf(why, size, "the %s opened by %c at character %zu is not closed",
                   c == '\'' ? "text" : "quoted name", c, (size_t)(s - expr) + 1);
          return 0;
        }
        if (*p == close && close != ']' && p[1] == close) { /* '' or "" inside */
          p += 2;
          continue;
        }
        if (*p++ == close) break;
      }
      continue;
    }
    if (c == ';') {
      snprintf(why, size, "a ';' would end the condition and start another statement");
      return 0;
    }
    if ((c == '-' && p[1] == '-') || (c == '/' && p[1] == '*')) {
      snprintf(why, size, "comments (-- or /* */) are not allowed in a filter");
      return 0;
    }
    if (c == '(') depth++;
    if (c == ')' && --depth < 0) {
      snprintf(why, size, "the ')' at character %zu closes a parenthesis the filter did not open",
               (size_t)(p - expr) + 1);
      return 0;
    }
    if (isalpha(c) || c == '_') {
      const char *s = p;
      while (isalnum((unsigned char)*p) || *p == '_' || *p == '$') p++;
      size_t len = (size_t)(p - s);
      for (size_t i = 0; i < PM_ARRAY_LEN(FILTER_WORDS); i++)
        if (strlen(FILTER_WORDS[i]) == len && strncasecmp(FILTER_WORDS[i], s, len) == 0) {
          snprintf(why, size, "'%.*s' belongs to a query, not a condition: a filter tests the "
                   "layer's own fields and reads no other table", (int)len, s);
          return 0;
        }
      continue;
    }
    p++;
  }
  if (!tokens) {
    snprintf(why, size, "it is empty");
    return 0;
  }
  if (depth > 0) {
    snprintf(why, size, "%d '(' %s not closed", depth, depth == 1 ? "is" : "are");
    return 0;
  }
  return 1;
}
