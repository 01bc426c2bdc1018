/* render.c - one original to its thumbnail, display size, hash and colour.
 *
 * Peak memory is the scaled decode plus the display size: the decoder
 * already shrinks a 4000x3000 JPEG to 1500x1125 (3/8), the resize makes the
 * display size from that, and the orientation is applied to the (small)
 * display size rather than to the decoded image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img.h"
#include "thumbnails.h"

void thumbs_out_release(struct thumbs_out *out)
{
	if (out == NULL)
		return;
	free(out->thumb);
	free(out->display);
	memset(out, 0, sizeof(*out));
}

/* The centre square of src, resized to side x side. */
static struct img *square(const struct img *src, int side)
{
	int s = src->width < src->height ? src->width : src->height;
	struct img *crop, *sq;

	if (side > s)
		side = s;
	crop = img_crop(src, (src->width - s) / 2, (src->height - s) / 2, s, s);
	if (crop == NULL)
		return NULL;
	sq = img_resize(crop, side, side);
	img_free(crop);
	return sq;
}

int thumbs_render(const void *data, size_t len, const struct img_info *info, int orientation,
                  uint64_t max_pixels, struct thumbs_out *out, char *err, size_t errlen)
{
	struct img *dec = NULL, *raw = NULL, *disp = NULL, *sq = NULL, *thumb = NULL;
	int dw, dh, rc = -1;
	const char *why = "out of memory";

	memset(out, 0, sizeof(*out));
	dec = img_decode(data, len, info, THUMBS_DISPLAY_EDGE, THUMBS_THUMB_SIDE, max_pixels, err,
	                 errlen);
	if (dec == NULL)
		return -1;
	/* the display size from the stored dimensions, so a scaled decode's
	 * rounding does not change the aspect ratio */
	img_fit((int)info->width, (int)info->height, THUMBS_DISPLAY_EDGE, &dw, &dh);
	raw = img_resize(dec, dw, dh);
	if (raw == NULL)
		goto out;
	if ((dw < dh ? dw : dh) >= THUMBS_THUMB_SIDE) {
		img_free(dec);
		dec = NULL;
	}
	if (orientation >= 2 && orientation <= 8) {
		disp = img_orient(raw, orientation);
		img_free(raw);
	} else {
		disp = raw; /* upright already: no copy */
	}
	raw = NULL;
	if (disp == NULL)
		goto out;
	if (dec == NULL) {
		thumb = square(disp, THUMBS_THUMB_SIDE);
	} else {
		/* a narrow display size: crop from the larger decode */
		sq = square(dec, THUMBS_THUMB_SIDE);
		if (sq != NULL && orientation >= 2 && orientation <= 8)
			thumb = img_orient(sq, orientation);
		else
			thumb = sq, sq = NULL;
	}
	if (thumb == NULL)
		goto out;
	out->phash = img_phash(disp);
	img_dominant_color(disp, out->color);
	why = "cannot encode the JPEG outputs";
	if (img_encode_jpeg(thumb, THUMBS_QUALITY, &out->thumb, &out->thumb_len) != 0 ||
	    img_encode_jpeg(disp, THUMBS_QUALITY, &out->display, &out->display_len) != 0)
		goto out;
	out->width = orientation >= 5 && orientation <= 8 ? (int)info->height : (int)info->width;
	out->height = orientation >= 5 && orientation <= 8 ? (int)info->width : (int)info->height;
	rc = 0;
out:
	if (rc != 0) {
		(void)snprintf(err, errlen, "%s", why);
		thumbs_out_release(out);
	}
	img_free(dec);
	img_free(raw);
	img_free(disp);
	img_free(sq);
	img_free(thumb);
	return rc;
}
