/* imgtype.h - the image types uploads take (JPEG, PNG, GIF, WebP): the type
 * a body's magic number says (img_sniff), the type a declared media type
 * names, and each type's canonical media type and file extension.
 */
#ifndef IMGTYPE_H
#define IMGTYPE_H

#include <stddef.h>

#include "img.h"

/* The type data starts with by its magic number alone (img_sniff's type,
 * whether or not the header's dimensions could be read); IMG_UNKNOWN when
 * none of ours. */
enum img_type imgtype_sniff(const void *data, size_t len);
/* The type a lower-cased media type names: image/jpeg (and image/jpg),
 * image/png, image/gif, image/webp; IMG_UNKNOWN for anything else. */
enum img_type imgtype_declared(const char *media_type);
/* "image/jpeg", "image/png", "image/gif", "image/webp"; NULL for unknown. */
const char *imgtype_mime(enum img_type t);
/* "jpg", "png", "gif", "webp"; NULL for unknown. */
const char *imgtype_ext(enum img_type t);

#endif
