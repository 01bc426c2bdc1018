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
 *   sharepage.c  the link's web page (GET/POST /s/{token}): HTML from the
 *              templates of frontend/blog/templates/share
 *
 * Every handler but the public share endpoint and page starts with
 * auth_require_user() and scopes every query to that user: another user's
 * album or photo is a 404, for reads and writes alike.
 */
#ifndef ALBUMS_H
#define ALBUMS_H

#include <stddef.h>
#include <stdint.h>

#include "fn.h"
#include "tmpl.h"

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

/* What share_resolve found. */
enum share_result {
	SHARE_SHOWN,             /* *out holds what the link shows */
	SHARE_NOT_FOUND,         /* unknown, expired, revoked, or its target gone */
	SHARE_PASSWORD_REQUIRED, /* the link has a password and none was given */
	SHARE_PASSWORD_INVALID,  /* the password given is not the link's */
	SHARE_FAILED,            /* res holds the error (bad cursor or limit: 400; database) */
};
/* The link of the request's {token} path parameter, checked with password
 * (NULL: none given), and what it shows, as GET /api/public/shares/{token}
 * answers it: {album, photos, next_cursor} (paged by the query's limit and
 * cursor) or {photo}, with short-lived image URLs. *out is set only for
 * SHARE_SHOWN; the caller frees it with cJSON_Delete (or hands it to
 * res_json). */
enum share_result share_resolve(struct req *req, struct res *res, const char *password,
                                cJSON **out);

/* sharepage.c */
int share_page_get(struct req *req, struct res *res);  /* GET /s/{token} */
int share_page_post(struct req *req, struct res *res); /* POST /s/{token} (password) */
/* Compiles the page's templates (share_templates); for albums_init. 0, or
 * -1 with the reason in err. */
int share_page_init(char *err, size_t errlen);
/* The templates deploy/embed compiled in from frontend/blog/templates/share. */
extern const struct tmpl_source share_templates[];

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
