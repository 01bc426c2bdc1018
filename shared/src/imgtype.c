/* imgtype.c - image types from headers alone: img_sniff and img_type_name
 * (declared in img.h) and the upload helpers of imgtype.h. Kept apart from
 * img.c so that checking an upload loads no decoder library. */
#include "imgtype.h"

#include <stdint.h>
#include <string.h>

/* ---- sniffing ---- */

static uint32_t be16(const unsigned char *p)
{
	return ((uint32_t)p[0] << 8) | p[1];
}

static uint32_t be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t le24(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}

/* Walks the JPEG markers from SOI to the first frame header (SOFn). */
static int sniff_jpeg(const unsigned char *p, size_t len, struct img_info *out)
{
	size_t i = 2;

	while (i < len) {
		unsigned m;
		uint32_t seglen;

		if (p[i] != 0xFF)
			return -1;
		while (i < len && p[i] == 0xFF) /* fill bytes */
			i++;
		if (i >= len)
			return -1;
		m = p[i++];
		if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7))
			continue; /* no length */
		if (m == 0xD9 || m == 0xDA || m == 0x00)
			return -1; /* image data (or the end) before any frame header */
		if (len - i < 2)
			return -1;
		seglen = be16(p + i);
		if (seglen < 2)
			return -1;
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
			if (seglen < 7 || len - i < 7)
				return -1;
			out->height = be16(p + i + 3);
			out->width = be16(p + i + 5);
			return 0;
		}
		if (len - i < seglen)
			return -1;
		i += seglen;
	}
	return -1;
}

/* RIFF....WEBP then the first chunk: VP8 (lossy), VP8L (lossless), VP8X. */
static int sniff_webp(const unsigned char *p, size_t len, struct img_info *out)
{
	const unsigned char *c = p + 12, *d = p + 20;

	if (len < 30)
		return -1;
	if (memcmp(c, "VP8 ", 4) == 0) {
		/* 3-byte frame tag, start code 9d 01 2a, 14-bit width and height */
		if (d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a)
			return -1;
		out->width = le16(d + 6) & 0x3fff;
		out->height = le16(d + 8) & 0x3fff;
		return 0;
	}
	if (memcmp(c, "VP8L", 4) == 0) {
		uint32_t bits;

		if (d[0] != 0x2f)
			return -1;
		bits = (uint32_t)d[1] | ((uint32_t)d[2] << 8) | ((uint32_t)d[3] << 16) |
		       ((uint32_t)d[4] << 24);
		out->width = (bits & 0x3fff) + 1;
		out->height = ((bits >> 14) & 0x3fff) + 1;
		return 0;
	}
	if (memcmp(c, "VP8X", 4) == 0) {
		out->width = le24(d + 4) + 1;
		out->height = le24(d + 7) + 1;
		return 0;
	}
	return -1;
}

/* Type from the magic number, dimensions from the header; no decoding. */
int img_sniff(const void *data, size_t len, struct img_info *out)
{
	static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	const unsigned char *p = data;
	int rc = -1;

	out->type = IMG_UNKNOWN;
	out->width = out->height = 0;
	if (p == NULL)
		return -1;
	if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
		out->type = IMG_JPEG;
		rc = sniff_jpeg(p, len, out);
	} else if (len >= 8 && memcmp(p, png_sig, 8) == 0) {
		out->type = IMG_PNG;
		/* the first chunk must be IHDR, 13 bytes long */
		if (len >= 24 && be32(p + 8) == 13 && memcmp(p + 12, "IHDR", 4) == 0) {
			out->width = be32(p + 16);
			out->height = be32(p + 20);
			rc = 0;
		}
	} else if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) {
		out->type = IMG_GIF;
		if (len >= 10) {
			out->width = le16(p + 6);
			out->height = le16(p + 8);
			rc = 0;
		}
	} else if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) {
		out->type = IMG_WEBP;
		rc = sniff_webp(p, len, out);
	}
	if (rc == 0 && (out->width == 0 || out->height == 0 || out->width > INT32_MAX ||
	                out->height > INT32_MAX))
		rc = -1;
	if (rc != 0)
		out->width = out->height = 0;
	return rc;
}

const char *img_type_name(enum img_type t)
{
	/* clang-format off */
	switch (t) {
	case IMG_JPEG: return "jpeg";
	case IMG_PNG: return "png";
	case IMG_GIF: return "gif";
	case IMG_WEBP: return "webp";
	default: return "unknown";
	}
	/* clang-format on */
}

/* One row per type we take. */
struct imgtype_row {
	enum img_type type;
	const char *mime, *ext;
};

static const struct imgtype_row imgtype_rows[] = {
        {IMG_JPEG, "image/jpeg", "jpg"},
        {IMG_PNG, "image/png", "png"},
        {IMG_GIF, "image/gif", "gif"},
        {IMG_WEBP, "image/webp", "webp"},
};

#define IMGTYPE_ROWS (sizeof(imgtype_rows) / sizeof(imgtype_rows[0]))

static const struct imgtype_row *imgtype_row(enum img_type t)
{
	for (size_t i = 0; i < IMGTYPE_ROWS; i++)
		if (imgtype_rows[i].type == t)
			return &imgtype_rows[i];
	return NULL;
}

/* img_sniff's verdict on the magic number; the dimensions do not matter. */
enum img_type imgtype_sniff(const void *data, size_t len)
{
	struct img_info info;

	(void)img_sniff(data, len, &info);
	return info.type;
}

/* The canonical names, plus image/jpg for JPEG. */
enum img_type imgtype_declared(const char *media_type)
{
	if (media_type == NULL)
		return IMG_UNKNOWN;
	if (strcmp(media_type, "image/jpg") == 0)
		return IMG_JPEG;
	for (size_t i = 0; i < IMGTYPE_ROWS; i++)
		if (strcmp(media_type, imgtype_rows[i].mime) == 0)
			return imgtype_rows[i].type;
	return IMG_UNKNOWN;
}

/* The row's media type. */
const char *imgtype_mime(enum img_type t)
{
	const struct imgtype_row *r = imgtype_row(t);

	return r != NULL ? r->mime : NULL;
}

/* The row's extension. */
const char *imgtype_ext(enum img_type t)
{
	const struct imgtype_row *r = imgtype_row(t);

	return r != NULL ? r->ext : NULL;
}
