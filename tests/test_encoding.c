/* test_encoding.c: attribute text encodings: UTF-8 validity, GBK/GB18030 detection, recoding. */
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* 青浦区 in UTF-8 and in GBK (the bytes of the Shanghai districts .dbf). */
static const char QP_UTF8[] = "\xe9\x9d\x92\xe6\xb5\xa6\xe5\x8c\xba";
static const char QP_GBK[] = "\xc7\xe0\xc6\xd6\xc7\xf8";
/* 长宁区 */
static const char CN_UTF8[] = "\xe9\x95\xbf\xe5\xae\x81\xe5\x8c\xba";
static const char CN_GBK[] = "\xb3\xa4\xc4\xfe\xc7\xf8";

static void utf8_valid(void **state) {
  (void)state;
  assert_true(pm_utf8_valid("", 0));
  assert_true(pm_utf8_valid("Qingpu", 6));
  assert_true(pm_utf8_valid(QP_UTF8, strlen(QP_UTF8)));
  assert_true(pm_utf8_valid("caf\xc3\xa9", 5));
  /* GBK bytes are not UTF-8: C7 E0 is a lead byte followed by another lead byte. */
  assert_false(pm_utf8_valid(QP_GBK, strlen(QP_GBK)));
  /* A truncated 3-byte sequence, a lone continuation byte, an overlong encoding of '/'. */
  assert_false(pm_utf8_valid("\xe9\x9d", 2));
  assert_false(pm_utf8_valid("a\x80" "b", 3));
  assert_false(pm_utf8_valid("\xc0\xaf", 2));
  /* A UTF-16 surrogate (U+D800) and a code point above U+10FFFF are not UTF-8 either. */
  assert_false(pm_utf8_valid("\xed\xa0\x80", 3));
  assert_false(pm_utf8_valid("\xf4\x90\x80\x80", 4));
  assert_true(pm_utf8_valid("\xf0\x9f\x9a\x87", 4)); /* U+1F687, a metro sign */
  /* Only the first len bytes count. */
  assert_true(pm_utf8_valid("ab\xff", 2));
}

static void gb18030_plausible(void **state) {
  (void)state;
  assert_true(pm_gb18030_plausible(QP_GBK, strlen(QP_GBK)));
  assert_true(pm_gb18030_plausible(CN_GBK, strlen(CN_GBK)));
  /* Plain ASCII has no multi-byte character: nothing to detect. */
  assert_false(pm_gb18030_plausible("Qingpu", 6));
  assert_false(pm_gb18030_plausible("", 0));
  /* 0xFF is never a GB18030 lead byte, and 0x80 alone is not a character. */
  assert_false(pm_gb18030_plausible("\xc7\xe0\xff", 3));
  assert_false(pm_gb18030_plausible("\x80", 1));
  /* A lead byte at the very end has no trail byte. */
  assert_false(pm_gb18030_plausible("a\xc7", 2));
  /* A four-byte GB18030 sequence (U+0080), and one cut short. */
  assert_true(pm_gb18030_plausible("\x81\x30\x81\x30", 4));
  assert_false(pm_gb18030_plausible("\x81\x30\x81", 3));
  /* len limits the text: the GBK name without its broken tail is plausible. */
  assert_true(pm_gb18030_plausible("\xc7\xe0\xff", 2));
}

static void recode_gbk(void **state) {
  pm_context *ctx = *state;
  char *out = NULL;
  assert_int_equal(pm_recode_to_utf8(ctx, QP_GBK, "GBK", &out), PM_OK);
  assert_string_equal(out, QP_UTF8);
  free(out);
  assert_int_equal(pm_recode_to_utf8(ctx, CN_GBK, "GB18030", &out), PM_OK);
  assert_string_equal(out, CN_UTF8);
  free(out);
  assert_int_equal(pm_recode_to_utf8(ctx, "\x81\x30\x81\x30", "GB18030", &out), PM_OK);
  assert_string_equal(out, "\xc2\x80"); /* U+0080 */
  free(out);
  assert_int_equal(pm_recode_to_utf8(ctx, CN_GBK, "CP936", &out), PM_OK);
  assert_string_equal(out, CN_UTF8);
  free(out);
  /* ASCII is the same in every one of these encodings. */
  assert_int_equal(pm_recode_to_utf8(ctx, "Songjiang 2024", "GBK", &out), PM_OK);
  assert_string_equal(out, "Songjiang 2024");
  free(out);
  /* Latin-1: é is E9. */
  assert_int_equal(pm_recode_to_utf8(ctx, "caf\xe9", "ISO-8859-1", &out), PM_OK);
  assert_string_equal(out, "caf\xc3\xa9");
  free(out);
}

static void recode_invalid(void **state) {
  pm_context *ctx = *state;
  char *out = (char *)"not touched";
  /* 0xFF is not GBK. */
  assert_int_equal(pm_recode_to_utf8(ctx, "\xc7\xe0\xff", "GBK", &out), PM_EINPUT);
  assert_null(out);
  assert_non_null(strstr(pm_context_message(ctx), "GBK"));
  /* A name cut in the middle of a character (a lead byte at the end) is not silently shortened. */
  assert_int_equal(pm_recode_to_utf8(ctx, "\xc7\xe0\xc6", "GBK", &out), PM_EINPUT);
  assert_null(out);
  /* An encoding iconv does not know. */
  assert_int_equal(pm_recode_to_utf8(ctx, "abc", "FOO", &out), PM_EINPUT);
  assert_null(out);
  assert_non_null(strstr(pm_context_message(ctx), "FOO"));
  /* GBK bytes read as UTF-8. */
  assert_int_equal(pm_recode_to_utf8(ctx, QP_GBK, "UTF-8", &out), PM_EINPUT);
  assert_null(out);
  assert_non_null(strstr(pm_context_message(ctx), "UTF-8"));
  /* UTF-8 given as UTF-8 (either spelling) is copied. */
  assert_int_equal(pm_recode_to_utf8(ctx, QP_UTF8, "utf8", &out), PM_OK);
  assert_string_equal(out, QP_UTF8);
  free(out);
}

static void encoding_known(void **state) {
  (void)state;
  assert_true(pm_encoding_known("GBK"));
  assert_true(pm_encoding_known("GB18030"));
  assert_true(pm_encoding_known("UTF-8"));
  assert_true(pm_encoding_known("CP1252"));
  assert_true(pm_encoding_known("BIG5"));
  assert_false(pm_encoding_known("FOO"));
  assert_false(pm_encoding_known("GBK-9"));
  assert_false(pm_encoding_known(""));
  assert_false(pm_encoding_known(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(utf8_valid),     cmocka_unit_test(gb18030_plausible),
      pm_test_case(recode_gbk),     pm_test_case(recode_invalid),
      cmocka_unit_test(encoding_known),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
