/* imgtype.c - upload image types: magic number, declared type, names. */
#include "imgtype.h"

#include <string.h>

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
