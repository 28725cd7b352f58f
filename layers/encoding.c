/* encoding.c: attribute text encodings: strict UTF-8 and GB18030 checks (for detection) and
 * recoding to UTF-8 with iconv, which refuses invalid bytes instead of dropping them. */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "planmetrics/ingest.h"

/* RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. */
int pm_utf8_valid(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c == 0xE0) n = 2, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) n = 2;
    else if (c == 0xED) n = 2, hi = 0x9F;
    else if (c == 0xF0) n = 3, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) n = 3;
    else if (c == 0xF4) n = 3, hi = 0x8F;
    else return 0;
    if (len - i - 1 < n) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t k = 2; k <= n; k++)
      if ((s[i + k] & 0xC0) != 0x80) return 0;
    i += n + 1;
  }
  return 1;
}

/* GB18030's byte structure (GBK is its two-byte part): ASCII; a lead byte 81-FE followed by a
 * trail byte 40-7E or 80-FE; or four bytes 81-FE 30-39 81-FE 30-39. */
int pm_gb18030_plausible(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  int multi = 0;
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c == 0x80 || c == 0xFF || i + 1 >= len) return 0;
    unsigned t = s[i + 1];
    if ((t >= 0x40 && t <= 0x7E) || (t >= 0x80 && t <= 0xFE)) {
      i += 2;
    } else if (t >= 0x30 && t <= 0x39 && i + 3 < len && s[i + 2] >= 0x81 && s[i + 2] <= 0xFE &&
               s[i + 3] >= 0x30 && s[i + 3] <= 0x39) {
      i += 4;
    } else {
      return 0;
    }
    multi = 1;
  }
  return multi;
}

static int is_utf8_name(const char *e) {
  return strcasecmp(e, "UTF-8") == 0 || strcasecmp(e, "UTF8") == 0;
}

int pm_encoding_known(const char *encoding) {
  if (!encoding || !*encoding) return 0; /* iconv reads "" as the locale's: not a name */
  if (is_utf8_name(encoding)) return 1;
  iconv_t cd = iconv_open("UTF-8", encoding);
  if (cd == (iconv_t)-1) return 0;
  iconv_close(cd);
  return 1;
}

pm_status pm_recode_to_utf8(pm_context *ctx, const char *s, const char *encoding, char **out) {
  *out = NULL;
  size_t len = strlen(s);
  if (is_utf8_name(encoding)) {
    if (!pm_utf8_valid(s, len)) return pm_error(ctx, PM_EINPUT, "text is not valid UTF-8");
    *out = strdup(s);
    return *out ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  iconv_t cd = iconv_open("UTF-8", encoding);
  if (cd == (iconv_t)-1)
    return pm_error(ctx, PM_EINPUT,
                    "encoding %s is not known; use e.g. GBK, GB18030, UTF-8, BIG5 or CP1252",
                    encoding);
  /* One input byte never needs more than 4 bytes of UTF-8. */
  size_t cap = len * 4 + 1;
  char *buf = malloc(cap);
  if (!buf) {
    iconv_close(cd);
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  char *in = (char *)s, *o = buf;
  size_t in_left = len, out_left = cap - 1;
  int bad = iconv(cd, &in, &in_left, &o, &out_left) == (size_t)-1; /* EILSEQ, or EINVAL: cut */
  if (!bad) bad = iconv(cd, NULL, NULL, &o, &out_left) == (size_t)-1; /* stateful encodings */
  iconv_close(cd);
  if (bad) {
    free(buf);
    return pm_error(ctx, PM_EINPUT, "text is not valid %s", encoding);
  }
  *o = '\0';
  *out = buf;
  return PM_OK;
}
