/* albums.h - the photo-album function's handlers, one file per concern:
 *
 *   albums.c   albums: list (cover, photo count, sort), create, get, rename /
 *              describe / reorder, delete (its photos and their objects go)
 *   photos.c   photos: list per album (cursor), get, edit description and
 *              tags, move, trash, restore, purge, the trash list, the
 *              scheduled purge of old trash
 *   upload.c   uploads: a photo in state `uploading` + presigned PUT URL,
 *              the idempotent `complete`, small direct uploads, quotas
 *   search.c   search by tag / text / date / colour, the tag cloud,
 *              near-duplicates by perceptual hash
 *   shares.c   share links: create, list, revoke, and the public endpoint
 *
 * Every handler but the public share endpoint starts with
 * auth_require_user() and scopes every query to that user: another user's
 * album or photo is a 404, for reads and writes alike.
 */
#ifndef ALBUMS_H
#define ALBUMS_H

#include <stddef.h>
#include <stdint.h>

#include "fn.h"

struct arena;
struct auth_user;
struct pg_result;

/* albums.c */
int albums_list(struct req *req, struct res *res);
int albums_create(struct req *req, struct res *res);
int albums_get(struct req *req, struct res *res);
int albums_update(struct req *req, struct res *res);
int albums_delete(struct req *req, struct res *res);

/* photos.c */
int photos_list(struct req *req, struct res *res);
int photos_get(struct req *req, struct res *res);
int photos_update(struct req *req, struct res *res);
int photos_delete(struct req *req, struct res *res);    /* to the trash */
int photos_restore(struct req *req, struct res *res);
int photos_purge(struct req *req, struct res *res);
int trash_list(struct req *req, struct res *res);
int trash_purge_scheduled(struct req *req, struct res *res); /* EVENT /events/schedule */

/* upload.c */
int photos_create(struct req *req, struct res *res);    /* POST /api/albums/{id}/photos */
int photos_complete(struct req *req, struct res *res);
int photos_upload_direct(struct req *req, struct res *res);
/* Reads upload.c's variable (ALBUM_MAX_UPLOAD, default 30M: the largest
 * size a presigned upload may declare); for albums_init(). 0, or -1 after
 * printing the bad variable. The default applies until it runs. */
int album_upload_init(void);

/* search.c */
int photos_search(struct req *req, struct res *res);
int photo_tags_cloud(struct req *req, struct res *res);
int photos_similar(struct req *req, struct res *res);
/* Reads search.c's settings (SEARCH_MIN_RANK, COLOR_MAX_DISTANCE,
 * SIMILAR_MAX_DISTANCE; defaults until it runs): for albums_init. 0, or -1
 * with the bad variable named in err. */
int search_init(char *err, size_t errlen);

/* shares.c */
int shares_create(struct req *req, struct res *res);
int shares_list(struct req *req, struct res *res);
int shares_delete(struct req *req, struct res *res);
int shares_public(struct req *req, struct res *res);

/* Configuration (albums.c), read once at cold start by albums_init(). */
struct album_config {
	long url_ttl_s;     /* ALBUM_URL_TTL_S: presigned GET URLs (3600) */
	size_t quota_bytes; /* ALBUM_QUOTA_BYTES: per user, unless app_users says (1G) */
	long quota_photos;  /* ALBUM_QUOTA_PHOTOS: per user, unless app_users says (10000) */
	long trash_days;    /* ALBUM_TRASH_DAYS: the scheduled purge's age (30) */
	size_t direct_max;  /* ALBUM_DIRECT_MAX: largest direct upload (6M) */
};

/* fn_app.init: loads the table; 0, or -1 after printing the bad variable. */
int albums_init(void);
/* The loaded configuration (borrowed, static). */
const struct album_config *album_cfg(void);

/* Shared helpers (albums.c). */

/* A new unguessable public id: 22 chars of base64url from 16 random bytes
 * (arena); NULL when the random source fails. */
char *album_new_id(struct arena *a);
/* True when s looks like one of our ids (so a bad id is a 404 without a
 * query). */
int album_id_valid(const char *s);
/* Deletes every object of a photo (original, thumbnail, display size):
 * store_delete of each non-NULL key. 0, or -1 when one failed (logged). */
int album_purge_objects(const char *object_key, const char *thumb_key, const char *display_key);
/* album_purge_objects for every row of r (columns 0..2: object, thumb,
 * display key, NULL when null); the number of rows whose objects were not
 * all deleted. */
int album_purge_rows(const struct pg_result *r);
/* The caller's user id as the decimal text queries bind (arena). */
const char *album_owner(struct arena *a, const struct auth_user *me);

#endif
