/* hash.c: SHA-256 of source files and plan files (OpenSSL EVP), to detect unchanged inputs. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

static void to_hex(const unsigned char *md, unsigned len, char hex[65]) {
  static const char digits[] = "0123456789abcdef";
  for (unsigned i = 0; i < len && i < 32; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 15];
  }
  hex[64] = '\0';
}

int pm__sha256_files_raw(const char *const *paths, const int *optional, size_t n, char hex[65],
                         pm__hash_error *err) {
  memset(err, 0, sizeof *err);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(md);
    err->kind = PM__HASH_NO_DIGEST;
    return 0;
  }
  unsigned char buf[1 << 16];
  for (size_t i = 0; i < n && !err->kind; i++) {
    FILE *f = fopen(paths[i], "rb");
    if (!f) {
      if (optional && optional[i] && errno == ENOENT) continue;
      err->kind = PM__HASH_OPEN;
      err->errnum = errno;
      err->path = paths[i];
      break;
    }
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) EVP_DigestUpdate(md, buf, got);
    if (ferror(f)) {
      err->kind = PM__HASH_READ;
      err->errnum = errno;
      err->path = paths[i];
    }
    fclose(f);
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(md, out, &len);
  EVP_MD_CTX_free(md);
  if (!err->kind) to_hex(out, len, hex);
  return !err->kind;
}

pm_status pm__hash_error_report(pm_context *ctx, const pm__hash_error *err) {
  switch (err->kind) {
  case PM__HASH_OK: return PM_OK;
  case PM__HASH_NO_DIGEST: return pm_error(ctx, PM_ENOMEM, "cannot start a SHA-256 digest");
  case PM__HASH_OPEN: return pm_error(ctx, PM_EIO, "%s: cannot read (%s)", err->path, strerror(err->errnum));
  case PM__HASH_READ: break;
  }
  return pm_error(ctx, PM_EIO, "%s: read error (%s)", err->path, strerror(err->errnum));
}

pm_status pm__sha256_files(pm_context *ctx, const char *const *paths, const int *optional, size_t n,
                          char hex[65]) {
  pm__hash_error err;
  pm__sha256_files_raw(paths, optional, n, hex, &err);
  return pm__hash_error_report(ctx, &err);
}

void pm__sha256_buffer(const void *data, size_t len, char hex[65]) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
  to_hex(out, n, hex);
}
