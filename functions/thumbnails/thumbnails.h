/* thumbnails.h - the photo pipeline run on each new original (photos/o/).
 *
 *   main.c    route table (EVENT /events/s3), configuration, the per-record
 *             flow: find the photo, fetch, check, EXIF, render, store, update
 *   render.c  the image work alone (decode, orient, both sizes, pHash,
 *             colour), shared with tests/bench/thumbbench.c
 */
#ifndef THUMBNAILS_H
#define THUMBNAILS_H

#include <stddef.h>
#include <stdint.h>

struct img_info;

#define THUMBS_THUMB_SIDE   320  /* square, centre-cropped */
#define THUMBS_DISPLAY_EDGE 1280 /* long edge of the display size */
#define THUMBS_QUALITY      82

/* What render makes of one original. Buffers are malloc'd: release with
 * thumbs_out_release(). */
struct thumbs_out {
	unsigned char *thumb, *display; /* JPEG */
	size_t thumb_len, display_len;
	int width, height; /* the original's, after orientation */
	uint64_t phash;
	char color[8]; /* "#rrggbb" */
};

/* Decodes data (sniffed as info; its pixel count already checked against
 * max_pixels) at the smallest JPEG scale that covers both outputs, applies
 * the EXIF orientation (1-8), and makes the square thumbnail (320, smaller
 * only for smaller images), the display size (long edge 1280, never
 * upscaled), the perceptual hash and the dominant colour of the display
 * size. 0, or -1 with a reason for the photo's failure_reason in err. */
int thumbs_render(const void *data, size_t len, const struct img_info *info, int orientation,
                  uint64_t max_pixels, struct thumbs_out *out, char *err, size_t errlen);
/* Frees the buffers of out (NULL ok) and zeroes it. */
void thumbs_out_release(struct thumbs_out *out);

#endif
