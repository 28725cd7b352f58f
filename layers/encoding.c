/* encoding.c: attribute text encodings: validity checks, GBK/GB18030 detection, recoding (GDAL CPL). */
#include <cpl_string.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "planmetrics/ingest.h"

int pm_utf8_valid(const char *s, size_t len) { return CPLIsUTF8(s, (int)len) ? 1 : 0; }

int pm_gb18030_plausible(const char *s, size_t len) {
  int high = 0;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] >= 0x80) high = 1;
  if (!high) return 0;
  char *copy = malloc(len + 1);
  if (!copy) return 0;
  memcpy(copy, s, len);
  copy[len] = '\0';
  int ok = CPLCanRecode(copy, "GB18030", CPL_ENC_UTF8) ? 1 : 0;
  free(copy);
  return ok;
}

int pm_encoding_known(const char *encoding) {
  if (!encoding || !*encoding) return 0;
  return CPLCanRecode("a", encoding, CPL_ENC_UTF8) ? 1 : 0;
}

static int is_utf8_name(const char *e) {
  return strcasecmp(e, "UTF-8") == 0 || strcasecmp(e, "UTF8") == 0;
}

pm_status pm_recode_to_utf8(pm_context *ctx, const char *s, const char *encoding, char **out) {
  *out = NULL;
  if (is_utf8_name(encoding)) {
    if (!pm_utf8_valid(s, strlen(s)))
      return pm_error(ctx, PM_EINPUT, "text is not valid UTF-8");
    *out = strdup(s);
    return *out ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  if (!CPLCanRecode(s, encoding, CPL_ENC_UTF8))
    return pm_error(ctx, PM_EINPUT, "text is not valid %s", encoding);
  char *r = CPLRecode(s, encoding, CPL_ENC_UTF8);
  if (!r) return pm_error(ctx, PM_ENOMEM, "out of memory");
  *out = strdup(r);
  CPLFree(r);
  return *out ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory");
}
