/* test_img.c - image sniffing, decoding, orientation, resizing, encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "img.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

/* ---- headers ---- */

static const unsigned char jpeg_hdr[] = {
        0xFF, 0xD8, /* SOI */
        0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',  'F',  0,    1,
        1,    0,    0,    1,    0,    1,    0,    0,          /* APP0 */
        0xFF, 0xFF,                                           /* a fill byte */
        0xFF, 0xC2, 0x00, 0x11, 0x08, 0x0B, 0xB8, 0x0F, 0xA0, /* SOF2 3000 high, 4000 wide */
        0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
};

/* PNG signature + IHDR of a 20000x20000 RGB image (CRC not checked). */
static const unsigned char png_hdr[] = {
        0x89, 'P',  'N',  'G',  '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0x00,
        0x00, 0x4E, 0x20, 0x00, 0x00, 0x4E, 0x20, 8,    2, 0, 0, 0,  0,   0,   0,   0,
};

static const unsigned char gif_hdr[] = {'G',  'I',  'F',  '8',  '9', 'a', 0x40,
                                        0x01, 0xF0, 0x00, 0xF7, 0,   0};

/* RIFF WEBP with a VP8X chunk: canvas 1024x768 (stored minus one, 24 bits). */
static const unsigned char webp_vp8x[] = {
        'R', 'I', 'F', 'F', 0x30, 0, 0, 0, 'W', 'E',  'B',  'P',  'V',  'P',  '8',
        'X', 10,  0,   0,   0,    0, 0, 0, 0,   0xFF, 0x03, 0x00, 0xFF, 0x02, 0x00,
};

/* VP8L: signature 0x2f, then 14 bits width-1 (99), 14 bits height-1 (49). */
static const unsigned char webp_vp8l[] = {
        'R',
        'I',
        'F',
        'F',
        0x30,
        0,
        0,
        0,
        'W',
        'E',
        'B',
        'P',
        'V',
        'P',
        '8',
        'L',
        10,
        0,
        0,
        0,
        0x2f,
        99,
        (49 << 6) & 0xff,
        (49 >> 2) & 0xff,
        0,
        0,
        0,
        0,
        0,
        0,
};

/* VP8 (lossy): frame tag, start code, 640 x 480 little-endian. */
static const unsigned char webp_vp8[] = {
        'R', 'I', 'F', 'F', 0x30, 0,    0,    0,    'W',  'E',  'B',  'P',  'V',  'P',  '8',
        ' ', 10,  0,   0,   0,    0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01,
};

struct sniff_case {
	const char *name;
	const unsigned char *data;
	size_t len;
	enum img_type type;
	uint32_t w, h;
};

static void test_sniff_dims(void **state)
{
	static const struct sniff_case cases[] = {
	        {"jpeg", jpeg_hdr, sizeof(jpeg_hdr), IMG_JPEG, 4000, 3000},
	        {"png 20000x20000", png_hdr, sizeof(png_hdr), IMG_PNG, 20000, 20000},
	        {"gif", gif_hdr, sizeof(gif_hdr), IMG_GIF, 320, 240},
	        {"webp vp8x", webp_vp8x, sizeof(webp_vp8x), IMG_WEBP, 1024, 768},
	        {"webp vp8l", webp_vp8l, sizeof(webp_vp8l), IMG_WEBP, 100, 50},
	        {"webp vp8", webp_vp8, sizeof(webp_vp8), IMG_WEBP, 640, 480},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct img_info info;

		print_message("# %s\n", cases[i].name);
		assert_int_equal(img_sniff(cases[i].data, cases[i].len, &info), 0);
		assert_int_equal(info.type, cases[i].type);
		assert_int_equal(info.width, cases[i].w);
		assert_int_equal(info.height, cases[i].h);
	}
}

/* Every prefix too short to hold the dimensions fails, keeping the type
 * when the magic number was there. */
static void test_sniff_truncated(void **state)
{
	static const struct {
		const unsigned char *data;
		size_t need; /* shortest length that works */
		size_t magic;
		enum img_type type;
	} cases[] = {
	        {jpeg_hdr, 31, 3, IMG_JPEG},
	        {png_hdr, 24, 8, IMG_PNG},
	        {gif_hdr, 10, 6, IMG_GIF},
	        {webp_vp8x, 30, 12, IMG_WEBP},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		for (size_t n = 0; n < cases[i].need; n++) {
			struct img_info info;

			assert_int_equal(img_sniff(cases[i].data, n, &info), -1);
			assert_int_equal(info.type,
			                 n >= cases[i].magic ? cases[i].type : IMG_UNKNOWN);
			assert_int_equal(info.width, 0);
		}
		{
			struct img_info info;
			assert_int_equal(img_sniff(cases[i].data, cases[i].need, &info), 0);
		}
	}
}

static void test_sniff_rejects(void **state)
{
	static const char text[] = "hello, this is not a picture at all";
	unsigned char zero_png[sizeof(png_hdr)];
	unsigned char sos_first[] = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 1, 2, 3, 4, 5, 6};
	struct img_info info;

	(void)state;
	assert_int_equal(img_sniff(text, sizeof(text) - 1, &info), -1);
	assert_int_equal(info.type, IMG_UNKNOWN);
	assert_int_equal(img_sniff("", 0, &info), -1);
	memcpy(zero_png, png_hdr, sizeof(png_hdr));
	memset(zero_png + 16, 0, 4); /* width 0 */
	assert_int_equal(img_sniff(zero_png, sizeof(zero_png), &info), -1);
	assert_int_equal(img_sniff(sos_first, sizeof(sos_first), &info), -1);
	assert_int_equal(info.type, IMG_JPEG);
	assert_string_equal(img_type_name(IMG_PNG), "png");
	assert_string_equal(img_type_name(IMG_UNKNOWN), "unknown");
}

/* The pixel cap is checked from the header: a 20000x20000 PNG is refused
 * without a pixel buffer (the test would need 1.2 GB otherwise). */
static void test_decode_over_cap(void **state)
{
	struct img_info info;
	char err[100];

	(void)state;
	assert_int_equal(img_sniff(png_hdr, sizeof(png_hdr), &info), 0);
	assert_null(img_decode(png_hdr, sizeof(png_hdr), &info, 0, 0, 100000000, err, sizeof(err)));
	assert_string_equal(err, "the image is too large");
}

/* ---- orientation ---- */

/* 2x3 source, pixel value = letter:  a b / c d / e f */
static void test_orient(void **state)
{
	static const struct {
		int o, w, h;
		const char *px;
	} cases[] = {
	        {1, 2, 3, "abcdef"}, {2, 2, 3, "badcfe"}, {3, 2, 3, "fedcba"}, {4, 2, 3, "efcdab"},
	        {5, 3, 2, "acebdf"}, {6, 3, 2, "ecafdb"}, {7, 3, 2, "fdbeca"}, {8, 3, 2, "bdface"},
	        {0, 2, 3, "abcdef"}, {9, 2, 3, "abcdef"},
	};
	struct img *src = img_new(2, 3);

	(void)state;
	assert_non_null(src);
	for (int i = 0; i < 6; i++)
		memset(src->px + i * 3, 'a' + i, 3);
	for (size_t i = 0; i < N(cases); i++) {
		struct img *d = img_orient(src, cases[i].o);

		print_message("# orientation %d\n", cases[i].o);
		assert_non_null(d);
		assert_int_equal(d->width, cases[i].w);
		assert_int_equal(d->height, cases[i].h);
		for (int p = 0; p < 6; p++)
			for (int c = 0; c < 3; c++)
				assert_int_equal(d->px[p * 3 + c], cases[i].px[p]);
		img_free(d);
	}
	img_free(src);
}

/* ---- sizes ---- */

static void test_fit_and_resize(void **state)
{
	static const struct {
		int w, h, edge, ow, oh;
	} cases[] = {
	        {4000, 3000, 1280, 1280, 960}, {3000, 4000, 1280, 960, 1280},
	        {800, 600, 1280, 800, 600},    {1280, 1280, 1280, 1280, 1280},
	        {10000, 10, 1280, 1280, 1},    {10, 10000, 320, 1, 320},
	        {4032, 3024, 1280, 1280, 960},
	};
	struct img *src = img_new(64, 48), *r, *c;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		int ow, oh;

		img_fit(cases[i].w, cases[i].h, cases[i].edge, &ow, &oh);
		assert_int_equal(ow, cases[i].ow);
		assert_int_equal(oh, cases[i].oh);
	}
	assert_non_null(src);
	memset(src->px, 200, 64 * 48 * 3);
	r = img_resize(src, 16, 12);
	assert_non_null(r);
	assert_int_equal(r->width, 16);
	assert_int_equal(r->height, 12);
	assert_in_range(r->px[5 * 16 * 3 + 7], 198, 202);
	c = img_crop(src, 8, 0, 48, 48);
	assert_non_null(c);
	assert_int_equal(c->width, 48);
	assert_null(img_crop(src, 20, 0, 48, 48));
	assert_null(img_crop(src, -1, 0, 4, 4));
	img_free(r);
	img_free(c);
	img_free(src);
}

/* ---- JPEG ---- */

/* A w x h image: left half red, right half blue, with a gradient. */
static struct img *test_picture(int w, int h)
{
	struct img *im = img_new(w, h);

	assert_non_null(im);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			unsigned char *p = im->px + ((size_t)y * w + x) * 3;

			p[0] = x < w / 2 ? 220 : 20;
			p[1] = (unsigned char)(y * 100 / h);
			p[2] = x < w / 2 ? 20 : 220;
		}
	return im;
}

static void test_jpeg_round_trip(void **state)
{
	struct img *im = test_picture(64, 48), *back;
	struct img_info info;
	unsigned char *jpg = NULL;
	size_t len = 0;
	char err[100];

	(void)state;
	assert_int_equal(img_encode_jpeg(im, 82, &jpg, &len), 0);
	assert_true(len > 100);
	assert_int_equal(img_sniff(jpg, len, &info), 0);
	assert_int_equal(info.type, IMG_JPEG);
	assert_int_equal(info.width, 64);
	assert_int_equal(info.height, 48);
	back = img_decode(jpg, len, &info, 0, 0, 100000000, err, sizeof(err));
	assert_non_null(back);
	assert_int_equal(back->width, 64);
	assert_int_equal(back->height, 48);
	/* well inside each half, the colours survive */
	assert_in_range(back->px[(10 * 64 + 8) * 3], 190, 250);
	assert_in_range(back->px[(10 * 64 + 8) * 3 + 2], 0, 60);
	assert_in_range(back->px[(10 * 64 + 56) * 3 + 2], 190, 250);
	free(jpg);
	assert_int_equal(img_encode_jpeg(im, 0, &jpg, &len), -1);
	assert_null(jpg);
	img_free(back);
	img_free(im);
}

/* The decoder picks the smallest DCT scale still covering the target. */
static void test_jpeg_scaled_decode(void **state)
{
	static const struct {
		unsigned lo, sh;
		int w, h;
	} cases[] = {
	        {0, 0, 800, 600},     /* full size */
	        {100, 50, 100, 75},   /* 1/8 */
	        {300, 100, 300, 225}, /* 3/8 */
	        {401, 0, 500, 375},   /* 5/8 */
	        {2000, 0, 800, 600},  /* never upscaled */
	        {0, 400, 600, 450},   /* short edge decides: 6/8 */
	};
	struct img *im = test_picture(800, 600);
	struct img_info info;
	unsigned char *jpg = NULL;
	size_t len = 0;
	char err[100];

	(void)state;
	assert_int_equal(img_encode_jpeg(im, 82, &jpg, &len), 0);
	assert_int_equal(img_sniff(jpg, len, &info), 0);
	for (size_t i = 0; i < N(cases); i++) {
		struct img *d = img_decode(jpg, len, &info, cases[i].lo, cases[i].sh, 100000000,
		                           err, sizeof(err));

		print_message("# target %u/%u\n", cases[i].lo, cases[i].sh);
		assert_non_null(d);
		assert_int_equal(d->width, cases[i].w);
		assert_int_equal(d->height, cases[i].h);
		img_free(d);
	}
	/* the cap is checked again at decode time */
	assert_null(img_decode(jpg, len, &info, 0, 0, 1000, err, sizeof(err)));
	/* cut in half: a truncated JPEG fails with a reason */
	assert_null(img_decode(jpg, len / 2, &info, 0, 0, 100000000, err, sizeof(err)));
	assert_string_equal(err, "the JPEG is truncated");
	/* garbage after a valid header */
	memset(jpg + len / 3, 0x55, len / 3);
	{
		struct img *d = img_decode(jpg, len, &info, 0, 0, 100000000, err, sizeof(err));
		/* libjpeg may recover from corrupt entropy data (a warning) or
		 * fail: either way no crash, and a failure says why */
		if (d == NULL)
			assert_true(err[0] != '\0');
		img_free(d);
	}
	free(jpg);
	img_free(im);
}

/* A textured picture: smooth blobs the hash can see. */
static struct img *blobs(int w, int h, int phase)
{
	struct img *im = img_new(w, h);

	assert_non_null(im);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			unsigned char *p = im->px + ((size_t)y * w + x) * 3;
			int v = ((x * 5 / w + y * 3 / h + phase) % 4) * 60 + (x + y) % 7;

			p[0] = p[1] = p[2] = (unsigned char)v;
		}
	return im;
}

/* The same picture after a JPEG round trip and a resize hashes within a few
 * bits; a different picture is far away. */
static void test_phash(void **state)
{
	struct img *a = blobs(256, 192, 0), *b = blobs(256, 192, 1), *small, *back;
	struct img_info info;
	unsigned char *jpg = NULL;
	size_t len = 0;
	uint64_t ha, hb;
	char err[100];

	(void)state;
	assert_int_equal(img_encode_jpeg(a, 82, &jpg, &len), 0);
	assert_int_equal(img_sniff(jpg, len, &info), 0);
	back = img_decode(jpg, len, &info, 0, 0, 100000000, err, sizeof(err));
	assert_non_null(back);
	small = img_resize(a, 128, 96);
	assert_non_null(small);
	ha = img_phash(a);
	hb = img_phash(b);
	print_message("# phash a=%016llx b=%016llx\n", (unsigned long long)ha,
	              (unsigned long long)hb);
	assert_true(__builtin_popcountll(ha ^ img_phash(back)) <= 6);
	assert_true(__builtin_popcountll(ha ^ img_phash(small)) <= 6);
	assert_true(__builtin_popcountll(ha ^ hb) >= 16);
	assert_int_equal(img_phash(a), ha); /* deterministic */
	free(jpg);
	img_free(back);
	img_free(small);
	img_free(a);
	img_free(b);
}

static void test_exif_absent(void **state)
{
	struct img *im = test_picture(16, 16);
	struct img_exif ex;
	unsigned char *jpg = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(img_encode_jpeg(im, 82, &jpg, &len), 0);
	assert_int_equal(img_exif_read(jpg, len, &ex), -1);
	assert_int_equal(ex.orientation, 1);
	assert_string_equal(ex.taken_at, "");
	assert_false(ex.has_gps);
	assert_int_equal(img_exif_read(NULL, 0, &ex), -1);
	free(jpg);
	img_free(im);
}

static void test_dominant_color(void **state)
{
	struct img *im = img_new(10, 10);
	char col[8];

	(void)state;
	for (int i = 0; i < 100; i++) {
		unsigned char *p = im->px + i * 3;
		/* 70 pixels of #3366cc (one bucket), 30 of white */
		p[0] = i < 70 ? 0x33 : 255;
		p[1] = i < 70 ? 0x66 : 255;
		p[2] = i < 70 ? 0xcc : 255;
	}
	img_dominant_color(im, col);
	assert_string_equal(col, "#3366cc");
	img_free(im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sniff_dims),      cmocka_unit_test(test_sniff_truncated),
	        cmocka_unit_test(test_sniff_rejects),   cmocka_unit_test(test_decode_over_cap),
	        cmocka_unit_test(test_orient),          cmocka_unit_test(test_fit_and_resize),
	        cmocka_unit_test(test_jpeg_round_trip), cmocka_unit_test(test_jpeg_scaled_decode),
	        cmocka_unit_test(test_exif_absent),     cmocka_unit_test(test_phash),
	        cmocka_unit_test(test_dominant_color),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
