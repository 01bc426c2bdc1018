/* img.c - image sniffing, decoding, transforms and JPEG encoding.
 *
 * TurboJPEG decodes JPEGs with DCT scaling (most of a thumbnail's speed);
 * Debian's libstb.so carries the stb_image and stb_image_resize
 * implementations (so no STB_*_IMPLEMENTATION here) built with the default
 * malloc/free, which is why stb's pixel buffers are released with free().
 */
#include "img.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libexif/exif-data.h>
#include <stb_image.h>
#include <stb_image_resize.h>
#include <turbojpeg.h>

#include "log.h"

/* Sides above this are refused outright (stb's own limit is 1 << 24). */
#define IMG_MAX_SIDE 65535

/* Sniffing (img_sniff, img_type_name) lives in imgtype.c: it needs none of
 * the decoders, so a function that only checks uploads does not load them. */

/* ---- pixel buffers ---- */

struct img *img_new(int width, int height)
{
	struct img *im;

	if (width <= 0 || height <= 0 || width > (1 << 24) || height > (1 << 24) ||
	    (size_t)width * (size_t)height > SIZE_MAX / 4)
		return NULL;
	im = malloc(sizeof(*im));
	if (im == NULL)
		return NULL;
	im->width = width;
	im->height = height;
	im->px = malloc((size_t)width * (size_t)height * 3);
	if (im->px == NULL) {
		free(im);
		return NULL;
	}
	return im;
}

void img_free(struct img *im)
{
	if (im == NULL)
		return;
	free(im->px);
	free(im);
}

/* ---- decoding ---- */

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "%s", msg);
}

/* The TurboJPEG scale whose output still covers min_long x min_short with
 * the fewest pixels; 1/1 when none smaller does (or no target is given). */
static tjscalingfactor jpeg_pick_scale(int w, int h, unsigned min_long, unsigned min_short)
{
	tjscalingfactor best = {1, 1};
	tjscalingfactor *sf;
	long long best_area = (long long)w * h;
	int n = 0;

	if (min_long == 0 && min_short == 0)
		return best;
	sf = tjGetScalingFactors(&n);
	for (int i = 0; sf != NULL && i < n; i++) {
		int sw, sh;
		unsigned lo, sh_edge;

		if (sf[i].num >= sf[i].denom)
			continue; /* never upscale in the decoder */
		sw = TJSCALED(w, sf[i]);
		sh = TJSCALED(h, sf[i]);
		lo = (unsigned)(sw > sh ? sw : sh);
		sh_edge = (unsigned)(sw > sh ? sh : sw);
		if (lo >= min_long && sh_edge >= min_short && (long long)sw * sh < best_area) {
			best = sf[i];
			best_area = (long long)sw * sh;
		}
	}
	return best;
}

static struct img *decode_jpeg(const unsigned char *data, size_t len, unsigned min_long,
                               unsigned min_short, uint64_t max_pixels, char *err, size_t errlen)
{
	tjhandle tj = NULL;
	struct img *im = NULL, *ret = NULL;
	int w, h, subsamp, cs, sw, sh;
	tjscalingfactor sf;

	if (len > ULONG_MAX) {
		set_err(err, errlen, "the file is too large");
		return NULL;
	}
	tj = tjInitDecompress();
	if (tj == NULL) {
		set_err(err, errlen, "cannot start the JPEG decoder");
		goto out;
	}
	if (tjDecompressHeader3(tj, data, (unsigned long)len, &w, &h, &subsamp, &cs) != 0) {
		set_err(err, errlen, "the JPEG header is corrupt");
		goto out;
	}
	if (w <= 0 || h <= 0 || w > IMG_MAX_SIDE || h > IMG_MAX_SIDE ||
	    (uint64_t)w * (uint64_t)h > max_pixels) {
		set_err(err, errlen, "the JPEG is too large");
		goto out;
	}
	sf = jpeg_pick_scale(w, h, min_long, min_short);
	sw = TJSCALED(w, sf);
	sh = TJSCALED(h, sf);
	im = img_new(sw, sh);
	if (im == NULL) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	if (tjDecompress2(tj, data, (unsigned long)len, im->px, sw, 0, sh, TJPF_RGB,
	                  TJFLAG_FASTDCT) != 0) {
		const char *why = tjGetErrorStr2(tj);

		/* Warnings (e.g. extraneous bytes) still give a whole image; a
		 * premature end does not. */
		if (tjGetErrorCode(tj) != TJERR_WARNING || why == NULL ||
		    strstr(why, "Premature end") != NULL) {
			if (why != NULL && strstr(why, "Premature end") != NULL)
				set_err(err, errlen, "the JPEG is truncated");
			else
				set_err(err, errlen, "the JPEG data is corrupt");
			goto out;
		}
		log_debug("img: jpeg warning: %s", why);
	}
	ret = im;
	im = NULL;
out:
	img_free(im);
	if (tj != NULL)
		tjDestroy(tj);
	return ret;
}

/* PNG and GIF through stb_image; alpha is composited over white. */
static struct img *decode_stb(const unsigned char *data, size_t len, uint64_t max_pixels, char *err,
                              size_t errlen)
{
	int w = 0, h = 0, comp = 0, want;
	unsigned char *px;
	struct img *im;

	if (len > INT_MAX || !stbi_info_from_memory(data, (int)len, &w, &h, &comp)) {
		set_err(err, errlen, "the image header is corrupt");
		return NULL;
	}
	if (w <= 0 || h <= 0 || w > IMG_MAX_SIDE || h > IMG_MAX_SIDE ||
	    (uint64_t)w * (uint64_t)h > max_pixels) {
		set_err(err, errlen, "the image is too large");
		return NULL;
	}
	want = (comp == 2 || comp == 4) ? 4 : 3;
	px = stbi_load_from_memory(data, (int)len, &w, &h, &comp, want);
	if (px == NULL) {
		log_debug("img: stb_image: %s", stbi_failure_reason());
		set_err(err, errlen, "the image data is corrupt or truncated");
		return NULL;
	}
	if (want == 4) {
		/* RGBA -> RGB over white, in place (the write index never passes
		 * the read index) */
		size_t n = (size_t)w * (size_t)h;

		for (size_t i = 0; i < n; i++) {
			unsigned a = px[4 * i + 3];

			for (int c = 0; c < 3; c++)
				px[3 * i + c] = (unsigned char)((px[4 * i + c] * a +
				                                 255 * (255 - a) + 127) /
				                                255);
		}
	}
	im = malloc(sizeof(*im));
	if (im == NULL) {
		free(px);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	im->width = w;
	im->height = h;
	im->px = px;
	return im;
}

struct img *img_decode(const void *data, size_t len, const struct img_info *info, unsigned min_long,
                       unsigned min_short, uint64_t max_pixels, char *err, size_t errlen)
{
	set_err(err, errlen, "");
	if (data == NULL || info == NULL || info->width == 0 || info->height == 0) {
		set_err(err, errlen, "unsupported image type");
		return NULL;
	}
	if ((uint64_t)info->width * info->height > max_pixels) {
		set_err(err, errlen, "the image is too large");
		return NULL;
	}
	switch (info->type) {
	case IMG_JPEG:
		return decode_jpeg(data, len, min_long, min_short, max_pixels, err, errlen);
	case IMG_PNG:
	case IMG_GIF:
		return decode_stb(data, len, max_pixels, err, errlen);
	case IMG_WEBP:
		set_err(err, errlen, "WebP images cannot be decoded here (no WebP decoder)");
		return NULL;
	default:
		set_err(err, errlen, "unsupported image type");
		return NULL;
	}
}

/* ---- transforms ---- */

struct img *img_resize(const struct img *src, int w, int h)
{
	struct img *dst;

	if (src == NULL)
		return NULL;
	dst = img_new(w, h);
	if (dst == NULL)
		return NULL;
	if (w == src->width && h == src->height) {
		memcpy(dst->px, src->px, (size_t)w * (size_t)h * 3);
		return dst;
	}
	if (!stbir_resize_uint8(src->px, src->width, src->height, 0, dst->px, w, h, 0, 3)) {
		img_free(dst);
		return NULL;
	}
	return dst;
}

struct img *img_crop(const struct img *src, int x, int y, int w, int h)
{
	struct img *dst;

	if (src == NULL || x < 0 || y < 0 || w <= 0 || h <= 0 || x > src->width - w ||
	    y > src->height - h)
		return NULL;
	dst = img_new(w, h);
	if (dst == NULL)
		return NULL;
	for (int r = 0; r < h; r++)
		memcpy(dst->px + (size_t)r * w * 3,
		       src->px + ((size_t)(y + r) * src->width + (size_t)x) * 3, (size_t)w * 3);
	return dst;
}

struct img *img_orient(const struct img *src, int orientation)
{
	int sw, sh, dw, dh;
	struct img *dst;

	if (src == NULL)
		return NULL;
	sw = src->width;
	sh = src->height;
	if (orientation < 1 || orientation > 8)
		orientation = 1;
	dw = orientation >= 5 ? sh : sw;
	dh = orientation >= 5 ? sw : sh;
	dst = img_new(dw, dh);
	if (dst == NULL)
		return NULL;
	if (orientation == 1) {
		memcpy(dst->px, src->px, (size_t)sw * (size_t)sh * 3);
		return dst;
	}
	for (int y = 0; y < dh; y++) {
		unsigned char *d = dst->px + (size_t)y * dw * 3;

		for (int x = 0; x < dw; x++, d += 3) {
			int sx, sy;

			/* clang-format off */
			switch (orientation) {
			case 2: sx = sw - 1 - x; sy = y; break;           /* mirror */
			case 3: sx = sw - 1 - x; sy = sh - 1 - y; break;  /* 180 */
			case 4: sx = x; sy = sh - 1 - y; break;           /* flip */
			case 5: sx = y; sy = x; break;                    /* transpose */
			case 6: sx = y; sy = sh - 1 - x; break;           /* 90 clockwise */
			case 7: sx = sw - 1 - y; sy = sh - 1 - x; break;  /* transverse */
			default: sx = sw - 1 - y; sy = x; break;          /* 8: 90 counter-clockwise */
			}
			/* clang-format on */
			memcpy(d, src->px + ((size_t)sy * sw + (size_t)sx) * 3, 3);
		}
	}
	return dst;
}

void img_fit(int w, int h, int long_edge, int *out_w, int *out_h)
{
	int lo = w > h ? w : h;

	if (lo <= long_edge || lo <= 0) {
		*out_w = w;
		*out_h = h;
		return;
	}
	if (w >= h) {
		*out_w = long_edge;
		*out_h = (int)(((long long)h * long_edge + w / 2) / w);
	} else {
		*out_h = long_edge;
		*out_w = (int)(((long long)w * long_edge + h / 2) / h);
	}
	if (*out_w < 1)
		*out_w = 1;
	if (*out_h < 1)
		*out_h = 1;
}

/* ---- encoding ---- */

int img_encode_jpeg(const struct img *im, int quality, unsigned char **out, size_t *len)
{
	tjhandle tj = NULL;
	unsigned char *buf = NULL;
	unsigned long size, cap;
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (im == NULL || quality < 1 || quality > 100)
		return -1;
	cap = tjBufSize(im->width, im->height, TJSAMP_420);
	if (cap == (unsigned long)-1)
		return -1;
	buf = malloc(cap);
	tj = tjInitCompress();
	if (buf == NULL || tj == NULL)
		goto out;
	size = cap;
	if (tjCompress2(tj, im->px, im->width, 0, im->height, TJPF_RGB, &buf, &size, TJSAMP_420,
	                quality, TJFLAG_NOREALLOC) != 0) {
		log_error("img: jpeg encode failed: %s", tjGetErrorStr2(tj));
		goto out;
	}
	*out = buf;
	*len = size;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (tj != NULL)
		tjDestroy(tj);
	return rc;
}

/* ---- EXIF ---- */

/* e's ASCII value copied into out (printable ASCII only, trimmed). */
static void exif_ascii(ExifEntry *e, char *out, size_t outlen)
{
	size_t j = 0;

	out[0] = '\0';
	if (e == NULL || e->data == NULL || e->format != EXIF_FORMAT_ASCII || outlen == 0)
		return;
	for (size_t i = 0; i < e->size && e->data[i] != '\0' && j + 1 < outlen; i++) {
		unsigned char c = e->data[i];

		if (c >= 0x20 && c < 0x7f)
			out[j++] = (char)c;
	}
	while (j > 0 && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
	if (out[0] == ' ') {
		size_t k = 0;

		while (out[k] == ' ')
			k++;
		memmove(out, out + k, j - k + 1);
	}
}

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY:MM:DD HH:MM:SS" (+ offset "+HH:MM") -> "YYYY-MM-DD HH:MM:SS+HH:MM". */
static void exif_time(const char *dt, const char *off, char *out, size_t outlen)
{
	int y, mo, d, h, mi, s, oh = 0, om = 0;
	char sign = '+';

	out[0] = '\0';
	if (strlen(dt) < 19 || dt[4] != ':' || dt[7] != ':' || dt[10] != ' ' || dt[13] != ':' ||
	    dt[16] != ':')
		return;
	y = digits(dt, 4);
	mo = digits(dt + 5, 2);
	d = digits(dt + 8, 2);
	h = digits(dt + 11, 2);
	mi = digits(dt + 14, 2);
	s = digits(dt + 17, 2);
	if (y < 1800 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || s < 0 || s > 59)
		return;
	if (strlen(off) == 6 && (off[0] == '+' || off[0] == '-') && off[3] == ':') {
		int a = digits(off + 1, 2), b = digits(off + 4, 2);

		if (a >= 0 && a <= 14 && b >= 0 && b <= 59) {
			sign = off[0];
			oh = a;
			om = b;
		}
	}
	/* Day 31 of a 30-day month etc. still passes; the database rejects it,
	 * so check with a calendar. */
	{
		static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
			return;
	}
	(void)snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d%c%02d:%02d", y, mo, d, h, mi, s,
	               sign, oh, om);
}

/* Degrees, minutes, seconds rationals -> decimal degrees; -1 when invalid. */
static int exif_gps_coord(ExifEntry *e, ExifByteOrder bo, double *out)
{
	double v = 0, scale = 1;

	if (e == NULL || e->format != EXIF_FORMAT_RATIONAL || e->components < 3 || e->size < 24)
		return -1;
	for (int i = 0; i < 3; i++) {
		ExifRational r = exif_get_rational(e->data + 8 * i, bo);

		if (r.denominator == 0)
			return -1;
		v += (double)r.numerator / (double)r.denominator / scale;
		scale *= 60;
	}
	*out = v;
	return 0;
}

int img_exif_read(const void *data, size_t len, struct img_exif *out)
{
	char make[48], model[72], dt[32], off[16], ref[4];
	ExifData *ed = NULL;
	ExifEntry *e;
	ExifByteOrder bo;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->orientation = 1;
	if (data == NULL || len < 4 || len > UINT_MAX)
		return -1;
	ed = exif_data_new();
	if (ed == NULL)
		return -1;
	/* Following the specification would "fix" the data on load, adding
	 * mandatory tags with made-up values (the current date among them). */
	exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
	exif_data_load_data(ed, data, (unsigned int)len);
	if (ed->ifd[EXIF_IFD_0]->count == 0 && ed->ifd[EXIF_IFD_EXIF]->count == 0)
		goto out;
	bo = exif_data_get_byte_order(ed);

	e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
	if (e != NULL && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->size >= 2) {
		int o = exif_get_short(e->data, bo);

		if (o >= 1 && o <= 8)
			out->orientation = o;
	}

	exif_ascii(exif_content_get_entry(ed->ifd[EXIF_IFD_EXIF], EXIF_TAG_DATE_TIME_ORIGINAL), dt,
	           sizeof(dt));
	exif_ascii(exif_content_get_entry(ed->ifd[EXIF_IFD_EXIF], EXIF_TAG_OFFSET_TIME_ORIGINAL),
	           off, sizeof(off));
	exif_time(dt, off, out->taken_at, sizeof(out->taken_at));

	exif_ascii(exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_MAKE), make, sizeof(make));
	exif_ascii(exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_MODEL), model,
	           sizeof(model));
	if (make[0] != '\0' && strncmp(model, make, strlen(make)) != 0)
		(void)snprintf(out->camera, sizeof(out->camera), "%s%s%s", make,
		               model[0] ? " " : "", model);
	else
		(void)snprintf(out->camera, sizeof(out->camera), "%s", model);

	if (ed->ifd[EXIF_IFD_GPS]->count > 0) {
		double lat, lon;
		char lonref[4];

		exif_ascii(exif_content_get_entry(ed->ifd[EXIF_IFD_GPS], EXIF_TAG_GPS_LATITUDE_REF),
		           ref, sizeof(ref));
		exif_ascii(
		        exif_content_get_entry(ed->ifd[EXIF_IFD_GPS], EXIF_TAG_GPS_LONGITUDE_REF),
		        lonref, sizeof(lonref));
		if (exif_gps_coord(
		            exif_content_get_entry(ed->ifd[EXIF_IFD_GPS], EXIF_TAG_GPS_LATITUDE),
		            bo, &lat) == 0 &&
		    exif_gps_coord(
		            exif_content_get_entry(ed->ifd[EXIF_IFD_GPS], EXIF_TAG_GPS_LONGITUDE),
		            bo, &lon) == 0 &&
		    lat <= 90 && lon <= 180) {
			out->has_gps = true;
			out->gps_lat = ref[0] == 'S' ? -lat : lat;
			out->gps_lon = lonref[0] == 'W' ? -lon : lon;
		}
	}
	rc = 0;
out:
	exif_data_unref(ed);
	return rc;
}

/* ---- perceptual hash and colour ---- */

#define PHASH_N 32
#define PHASH_K 8

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

uint64_t img_phash(const struct img *im)
{
	double gray[PHASH_N][PHASH_N], rows[PHASH_N][PHASH_K], coef[PHASH_K * PHASH_K];
	double sorted[PHASH_K * PHASH_K - 1], cosv[PHASH_K][PHASH_N], median;
	uint64_t hash = 0;

	if (im == NULL || im->width <= 0 || im->height <= 0)
		return 0;
	/* box-average luma into a 32x32 grid: every pixel counts once */
	for (int gy = 0; gy < PHASH_N; gy++) {
		int y0 = (int)((long long)gy * im->height / PHASH_N);
		int y1 = (int)((long long)(gy + 1) * im->height / PHASH_N);

		if (y1 <= y0)
			y1 = y0 + 1;
		for (int gx = 0; gx < PHASH_N; gx++) {
			int x0 = (int)((long long)gx * im->width / PHASH_N);
			int x1 = (int)((long long)(gx + 1) * im->width / PHASH_N);
			double sum = 0;

			if (x1 <= x0)
				x1 = x0 + 1;
			for (int y = y0; y < y1 && y < im->height; y++) {
				const unsigned char *p = im->px + ((size_t)y * im->width + x0) * 3;

				for (int x = x0; x < x1 && x < im->width; x++, p += 3)
					sum += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
			}
			gray[gy][gx] = sum / ((double)(y1 - y0) * (x1 - x0));
		}
	}
	for (int u = 0; u < PHASH_K; u++)
		for (int x = 0; x < PHASH_N; x++)
			cosv[u][x] = cos((2 * x + 1) * u * M_PI / (2.0 * PHASH_N));
	/* separable DCT-II, only the low 8x8 frequencies */
	for (int y = 0; y < PHASH_N; y++)
		for (int u = 0; u < PHASH_K; u++) {
			double s = 0;

			for (int x = 0; x < PHASH_N; x++)
				s += gray[y][x] * cosv[u][x];
			rows[y][u] = s;
		}
	for (int v = 0; v < PHASH_K; v++)
		for (int u = 0; u < PHASH_K; u++) {
			double s = 0;

			for (int y = 0; y < PHASH_N; y++)
				s += rows[y][u] * cosv[v][y];
			coef[v * PHASH_K + u] = s;
		}
	memcpy(sorted, coef + 1, sizeof(sorted));
	qsort(sorted, sizeof(sorted) / sizeof(sorted[0]), sizeof(sorted[0]), cmp_double);
	median = sorted[(sizeof(sorted) / sizeof(sorted[0])) / 2];
	for (int i = 0; i < PHASH_K * PHASH_K; i++)
		if (coef[i] > median)
			hash |= UINT64_C(1) << i;
	return hash;
}

void img_dominant_color(const struct img *im, char out[8])
{
	uint32_t *count = NULL;
	uint64_t *sum = NULL;
	size_t n, best = 0;

	(void)snprintf(out, 8, "#000000");
	if (im == NULL || im->width <= 0 || im->height <= 0)
		return;
	count = calloc(4096, sizeof(*count));
	sum = calloc(4096 * 3, sizeof(*sum));
	if (count == NULL || sum == NULL)
		goto out;
	n = (size_t)im->width * (size_t)im->height;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = im->px + i * 3;
		size_t b = ((size_t)(p[0] >> 4) << 8) | ((size_t)(p[1] >> 4) << 4) | (p[2] >> 4);

		count[b]++;
		sum[b * 3] += p[0];
		sum[b * 3 + 1] += p[1];
		sum[b * 3 + 2] += p[2];
	}
	for (size_t b = 1; b < 4096; b++)
		if (count[b] > count[best])
			best = b;
	if (count[best] > 0)
		(void)snprintf(out, 8, "#%02x%02x%02x",
		               (unsigned)((sum[best * 3] + count[best] / 2) / count[best]),
		               (unsigned)((sum[best * 3 + 1] + count[best] / 2) / count[best]),
		               (unsigned)((sum[best * 3 + 2] + count[best] / 2) / count[best]));
out:
	free(count);
	free(sum);
}
