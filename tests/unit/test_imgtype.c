/* test_imgtype.c - magic numbers, declared media types, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "imgtype.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static void test_sniff(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		enum img_type want;
	} cases[] = {
	        /* the magic alone decides, even when the header is cut short */
	        {"\xff\xd8\xff", 3, IMG_JPEG},
	        {"\xff\xd8\xff\xe0garbage", 11, IMG_JPEG},
	        {"\x89PNG\r\n\x1a\n", 8, IMG_PNG},
	        {"GIF87a", 6, IMG_GIF},
	        {"GIF89a\x01\x00\x01\x00", 10, IMG_GIF},
	        {"RIFF\0\0\0\0WEBP", 12, IMG_WEBP},
	        {"\xff\xd8", 2, IMG_UNKNOWN},
	        {"\x89PNG\r\n\x1a", 7, IMG_UNKNOWN},
	        {"GIF90a", 6, IMG_UNKNOWN},
	        {"RIFF\0\0\0\0WAVE", 12, IMG_UNKNOWN},
	        {"<svg xmlns=", 11, IMG_UNKNOWN},
	        {"", 0, IMG_UNKNOWN},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_int_equal(imgtype_sniff(cases[i].data, cases[i].len), cases[i].want);
	assert_int_equal(imgtype_sniff(NULL, 0), IMG_UNKNOWN);
}

static void test_declared(void **state)
{
	static const struct {
		const char *mt;
		enum img_type want;
	} cases[] = {
	        {"image/jpeg", IMG_JPEG}, {"image/jpg", IMG_JPEG},   {"image/png", IMG_PNG},
	        {"image/gif", IMG_GIF},   {"image/webp", IMG_WEBP},  {"image/pjpeg", IMG_UNKNOWN},
	        {"image/svg+xml", IMG_UNKNOWN}, {"IMAGE/JPEG", IMG_UNKNOWN}, {"", IMG_UNKNOWN},
	        {"image/jpeg ", IMG_UNKNOWN},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_int_equal(imgtype_declared(cases[i].mt), cases[i].want);
	assert_int_equal(imgtype_declared(NULL), IMG_UNKNOWN);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(imgtype_mime(IMG_JPEG), "image/jpeg");
	assert_string_equal(imgtype_ext(IMG_JPEG), "jpg");
	assert_string_equal(imgtype_mime(IMG_PNG), "image/png");
	assert_string_equal(imgtype_ext(IMG_PNG), "png");
	assert_string_equal(imgtype_mime(IMG_GIF), "image/gif");
	assert_string_equal(imgtype_ext(IMG_GIF), "gif");
	assert_string_equal(imgtype_mime(IMG_WEBP), "image/webp");
	assert_string_equal(imgtype_ext(IMG_WEBP), "webp");
	assert_null(imgtype_mime(IMG_UNKNOWN));
	assert_null(imgtype_ext(IMG_UNKNOWN));
	/* every canonical media type names its own type back */
	for (int t = IMG_JPEG; t <= IMG_WEBP; t++)
		assert_int_equal(imgtype_declared(imgtype_mime((enum img_type)t)), t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sniff),
	        cmocka_unit_test(test_declared),
	        cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
