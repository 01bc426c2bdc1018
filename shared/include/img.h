/* img.h - image sniffing, decoding, transforms and JPEG encoding.
 *
 * Untrusted uploads go through img_sniff() first: it reads the type from the
 * magic number and the dimensions from the header without decoding, so a
 * caller can refuse a 20000x20000 image before any pixel buffer exists.
 * Decoding: JPEG with libjpeg-turbo's TurboJPEG API at the smallest DCT
 * scale (1/8 .. 1) that still covers the target size; PNG and GIF (first
 * frame) with stb_image, composited over white. WebP is recognised but not
 * decoded (no decoder in Debian's build set). Pixels are always 8-bit RGB,
 * rows packed (stride = 3 * width). Resizing is stb_image_resize, encoding
 * TurboJPEG. EXIF comes from libexif.
 */
#ifndef IMG_H
#define IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum img_type { IMG_UNKNOWN, IMG_JPEG, IMG_PNG, IMG_GIF, IMG_WEBP };

struct img_info {
	enum img_type type;
	uint32_t width, height; /* as stored, before any EXIF orientation */
};

/* 8-bit RGB pixels, heap-owned: free with img_free(). */
struct img {
	int width, height;
	unsigned char *px; /* width * height * 3 bytes */
};

/* EXIF fields the album keeps (JPEG only). */
struct img_exif {
	int orientation;   /* 1-8; 1 when absent or out of range */
	char taken_at[40]; /* "YYYY-MM-DD HH:MM:SS+HH:MM" (UTC when the
	                    * photo has no offset); "" when absent/invalid */
	char camera[128];  /* "Make Model", printable ASCII; "" when absent */
	bool has_gps;
	double gps_lat, gps_lon; /* decimal degrees, south and west negative */
};

/* 0 and *out filled when data starts with a JPEG, PNG, GIF or WebP header
 * whose dimensions could be read (both non-zero); -1 otherwise (unknown
 * magic, or a header cut short: out->type then still says what the magic
 * number was, IMG_UNKNOWN for none). Reads only the header. */
int img_sniff(const void *data, size_t len, struct img_info *out);
/* "jpeg", "png", "gif", "webp" or "unknown". */
const char *img_type_name(enum img_type t);

/* Decodes data (already sniffed as info) to RGB. A JPEG is decoded at the
 * smallest libjpeg-turbo scale factor whose long edge is >= min_long and
 * short edge >= min_short (both 0: full size); other types at full size.
 * Refuses (NULL) anything whose stored size exceeds max_pixels, so callers
 * check the cap again here. NULL with a reason in err on failure (corrupt or
 * truncated data, unsupported type, out of memory). */
struct img *img_decode(const void *data, size_t len, const struct img_info *info, unsigned min_long,
                       unsigned min_short, uint64_t max_pixels, char *err, size_t errlen);

/* A new w x h image (pixels uninitialised); NULL when out of memory or the
 * size is not positive. Free with img_free(). */
struct img *img_new(int width, int height);
void img_free(struct img *im);

/* src resized to w x h (stb_image_resize); NULL on failure. */
struct img *img_resize(const struct img *src, int w, int h);
/* The rectangle (x, y, w, h) of src as a new image; NULL when out of range. */
struct img *img_crop(const struct img *src, int x, int y, int w, int h);
/* src transformed to display upright for EXIF orientation 1-8 (5-8 swap
 * width and height); a copy for 1 or an unknown value. NULL when out of
 * memory. */
struct img *img_orient(const struct img *src, int orientation);

/* Width and height scaled so the long edge is at most long_edge (never
 * upscaled; each at least 1). */
void img_fit(int w, int h, int long_edge, int *out_w, int *out_h);

/* JPEG (4:2:0, the given quality 1-100) of im into a malloc'd buffer: 0 and
 * *out / *len (caller frees with free()), or -1. */
int img_encode_jpeg(const struct img *im, int quality, unsigned char **out, size_t *len);

/* Parses the EXIF of a JPEG with libexif. Always fills *out (defaults when
 * there is no EXIF); returns 0 when EXIF was found, -1 when there was none. */
int img_exif_read(const void *data, size_t len, struct img_exif *out);

/* 64-bit DCT perceptual hash: im to 32x32 grayscale (luma), 2-D DCT-II, the
 * 8x8 lowest frequencies; bit (8 * v + u) is set when coefficient (u, v)
 * is above the median of the 63 AC coefficients among them (the DC term is
 * compared too, so it is set for any image brighter than the median). Similar
 * images have hashes a small Hamming distance apart. */
uint64_t img_phash(const struct img *im);
/* The dominant colour as "#rrggbb": a 4-bit-per-channel histogram (4096
 * buckets) over every pixel; the mean colour of the fullest bucket. */
void img_dominant_color(const struct img *im, char out[8]);

#endif
