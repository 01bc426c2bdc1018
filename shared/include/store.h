/* store.h - object storage for photos, thumbnails and uploaded images.
 *
 * STORAGE_URL chooses the backend:
 *   file://DIR   objects under DIR (default .data/objects); presigned URLs are
 *                the gateway's /storage/ URLs (urlsign.h), based on
 *                GATEWAY_PUBLIC_URL (default http://127.0.0.1:8080)
 *   s3://BUCKET?endpoint=URL&region=R&path_style=1
 *                S3, COS or MinIO via libcurl SigV4 with AWS_ACCESS_KEY_ID /
 *                AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN). endpoint
 *                defaults to https://s3.<region>.amazonaws.com, region to
 *                us-east-1, path_style to 0 (virtual-host style:
 *                https://BUCKET.s3.<region>.amazonaws.com/KEY); max_keys=N
 *                (1-1000, default 1000) is the page size of a listing.
 *                Presigned URLs are query-string SigV4 (store_s3_presign);
 *                the public URL is the plain object URL (for a prefix the
 *                bucket policy makes public-read, e.g. uploads/).
 * Keys are built by the server (ids), never from client file names, and
 * checked with urlsign_key_valid(). Calls are synchronous and thread-safe.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
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

/* store_put, and out (may be NULL) describes what was stored (size, quoted
 * ETag, content type, time). */
int store_put_object(const char *key, const void *data, size_t len, const char *content_type,
		     struct store_object *out);

/* file:// only (the local gateway serves objects with it): opens key for
 * reading and fills meta like store_head. Returns the fd (O_CLOEXEC, the
 * caller closes it), or -1 with errno ENOENT when missing (or when the file
 * resolves outside the storage folder), ENOTSUP on another backend. */
int store_file_open(const char *key, struct store_object *meta);

/* The parameters of an s3:// store; strings borrowed. */
struct store_s3_params {
	const char *endpoint;      /* "https://s3.eu-west-1.amazonaws.com", no path */
	const char *bucket;
	const char *region;
	bool path_style;           /* ENDPOINT/BUCKET/KEY, else BUCKET.HOST/KEY */
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL or "": none */
};

/* A query-string SigV4 presigned URL (arena) for method on key, signed at
 * now and valid ttl_s seconds (1..604800), with the host as only signed
 * header and UNSIGNED-PAYLOAD. NULL on a bad key, ttl or parameters. Pure:
 * no environment, no clock (tests check it against AWS's example). */
char *store_s3_presign(struct arena *a, const struct store_s3_params *p, const char *method,
		       const char *key, time_t now, long ttl_s);

/* Forgets the configuration so the next call re-reads STORAGE_URL and
 * GATEWAY_PUBLIC_URL (tests). */
void store_reset(void);

#endif
