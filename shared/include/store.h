/* store.h - object storage for photos, thumbnails and uploaded images.
 *
 * STORAGE_URL chooses the backend:
 *   file://DIR   objects under DIR (default .data/objects); presigned URLs are
 *                the gateway's /storage/ URLs (urlsign.h), based on
 *                GATEWAY_PUBLIC_URL (default http://127.0.0.1:8080)
 *   s3://BUCKET?endpoint=URL&region=R&path_style=1
 *                S3, COS or MinIO via libcurl SigV4 with AWS_ACCESS_KEY_ID /
 *                AWS_SECRET_ACCESS_KEY (not yet: the album issue adds it)
 * Keys are built by the server (ids), never from client file names, and
 * checked with urlsign_key_valid(). Calls are synchronous and thread-safe.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <time.h>

struct arena;

struct store_object {
	size_t size;
	char etag[80];          /* quoted hex MD5, like S3 */
	char content_type[100];
	time_t modified;
};

/* 0, or -1 with the reason logged (bad key, I/O, backend). */
int store_put(const char *key, const void *data, size_t len, const char *content_type);
/* 0 and *data (arena, NUL-terminated) / *len; -1 when missing or on error
 * (errno ENOENT when missing). max caps the size read. */
int store_get(struct arena *a, const char *key, size_t max, void **data, size_t *len);
int store_head(const char *key, struct store_object *out);  /* -1/ENOENT when missing */
int store_delete(const char *key);                          /* missing is success */
/* Keys under prefix, sorted, at most max (arena, NULL-terminated). */
const char **store_list(struct arena *a, const char *prefix, size_t max, size_t *n);
/* Presigned URLs valid for ttl_s seconds (arena). NULL on a bad key. */
char *store_presign_get(struct arena *a, const char *key, long ttl_s);
char *store_presign_put(struct arena *a, const char *key, long ttl_s);

/* A stable, non-expiring public URL for key (arena), for objects that are
 * public by nature (the blog editor's images): for file:// it is
 * GATEWAY_PUBLIC_URL "/media/" key (the gateway serves /media/uploads/...
 * read-only). NULL on a bad key or a backend without public URLs. */
char *store_public_url(struct arena *a, const char *key);

/* Forgets the configuration so the next call re-reads STORAGE_URL and
 * GATEWAY_PUBLIC_URL (tests). */
void store_reset(void);

#endif
