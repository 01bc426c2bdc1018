/* storage.c - the file:// object store at /storage/<key>, signed URLs only.
 *
 * The objects and their layout under cfg->storage_dir are store.c's (the
 * gateway and the functions read the same STORAGE_URL): a PUT here is
 * store_put_object (atomic, MD5 ETag, .meta sidecar), a GET opens the object
 * with store_file_open. Keys whose segments start with "." are refused
 * (400), so no key can reach the metadata tree or a temporary file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "arena.h"
#include "gateway.h"
#include "kv.h"
#include "log.h"
#include "store.h"
#include "urlsign.h"

#define STORAGE_PREFIX "/storage/"
/* Public, read-only: images uploaded for articles (store_public_url), like
 * an S3 prefix with a public-read bucket policy. Nothing else is public. */
#define MEDIA_PREFIX      "/media/"
#define MEDIA_PUBLIC_KEYS "uploads/"

struct storage {
	char *dir;        /* as configured */
	char *bucket;     /* the S3 events' bucket name */
	size_t max;       /* largest PUT body */
	struct asyncq *q; /* borrowed; NULL: no events */
};

/* The first bucket an S3 event of the template names, else "local". */
static char *first_bucket(const struct gw_config *cfg)
{
	char err[256];
	struct tpl *t = cfg->template_path ? tpl_load(cfg->template_path, err, sizeof(err)) : NULL;
	char *b = NULL;

	for (size_t i = 0; t && !b && i < t->n_functions; i++)
		for (size_t j = 0; !b && j < t->functions[i].n_s3; j++)
			if (t->functions[i].s3[j].bucket && t->functions[i].s3[j].bucket[0])
				b = strdup(t->functions[i].s3[j].bucket);
	tpl_free(t);
	return b ? b : strdup("local");
}

struct storage *storage_new(const struct gw_config *cfg, struct asyncq *q)
{
	struct storage *s = calloc(1, sizeof(*s));

	if (s == NULL || cfg == NULL || cfg->storage_dir == NULL)
		goto fail;
	s->dir = strdup(cfg->storage_dir);
	s->bucket = first_bucket(cfg);
	if (s->dir == NULL || s->bucket == NULL)
		goto fail;
	s->max = cfg->storage_max;
	s->q = q;
	return s;
fail:
	storage_free(s);
	return NULL;
}

void storage_free(struct storage *s)
{
	if (s == NULL)
		return;
	free(s->dir);
	free(s->bucket);
	free(s);
}

/* A key we store: signable, and no segment that starts with "." (those
 * name the metadata tree and uploads in progress). */
static bool key_ok(const char *key)
{
	if (!urlsign_key_valid(key) || key[0] == '.')
		return false;
	return strstr(key, "/.") == NULL;
}

static int reply_error(struct gw_reply *out, unsigned status, const char *code, const char *message)
{
	if (static_error(out, status, code, message) != 0)
		return -1;
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(out->resp, "Allow", "GET, HEAD, PUT");
	return 0;
}

/* Stores the body (store_put_object), queues the object-created event and
 * answers 200 with the ETag, like S3. */
static int do_put(struct storage *s, const char *key, const char *body, size_t len,
                  struct gw_reply *out)
{
	struct MHD_Response *r = NULL;
	struct store_object o;
	char etag[sizeof(o.etag)];
	size_t n;
	int rc = -1;

	if (store_put_object(key, body, len, static_content_type(key), &o) != 0) {
		switch (errno) {
		case ENAMETOOLONG:
		case EINVAL:
			return reply_error(out, MHD_HTTP_BAD_REQUEST, "invalid_key",
			                   "the object key is not valid");
		case ENOTDIR:
		case EEXIST:
			return reply_error(out, MHD_HTTP_CONFLICT, "key_conflict",
			                   "the key is a prefix of other objects, or below one");
		case EACCES:
			return reply_error(out, MHD_HTTP_NOT_FOUND, "not_found", "no such object");
		default:
			return -1; /* store.c logged why */
		}
	}
	/* the event carries the bare hex MD5 */
	n = strlen(o.etag);
	if (n >= 2 && o.etag[0] == '"' && o.etag[n - 1] == '"' && n - 2 < sizeof(etag)) {
		memcpy(etag, o.etag + 1, n - 2);
		etag[n - 2] = '\0';
	} else {
		snprintf(etag, sizeof(etag), "%s", o.etag);
	}
	if (s->q != NULL && asyncq_object_created(s->q, s->bucket, key, len, etag) != 0) {
		log_error("storage: %s stored but its object-created event was not queued", key);
		return reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
		                   "stored, but the object-created event was not queued; retry");
	}
	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (r == NULL || MHD_add_response_header(r, "ETag", o.etag) != MHD_YES)
		goto out;
	out->status = MHD_HTTP_OK;
	out->resp = r;
	r = NULL;
	rc = 0;
out:
	if (r != NULL)
		MHD_destroy_response(r);
	return rc;
}

/* If-None-Match against the object's quoted ETag ("*" matches too). */
static bool none_match(struct MHD_Connection *con, const char *quoted)
{
	const char *inm = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "If-None-Match");
	size_t n = strlen(quoted);

	for (const char *p = inm; p && *p;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, quoted, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

/* Serves the object (store_file_open) with its ETag and stored type. */
static int do_get(struct MHD_Connection *con, const char *key, struct gw_reply *out)
{
	struct store_object o;
	struct stat st;
	int fd, rc = -1;

	fd = store_file_open(key, &o);
	if (fd < 0) {
		if (errno == ENOENT || errno == EINVAL || errno == ENAMETOOLONG)
			return reply_error(out, MHD_HTTP_NOT_FOUND, "not_found", "no such object");
		return -1;
	}
	if (fstat(fd, &st) != 0)
		goto out;
	if (static_file_reply(&fd, &st, none_match(con, o.etag), o.content_type, o.etag,
	                      "private, max-age=60", out) != 0) {
		log_error("storage: cannot build the response for %s", key);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int storage_reply(struct storage *s, struct MHD_Connection *con, const char *method,
                  const char *url, const char *body, size_t len, struct gw_reply *out)
{
	const char *raw, *expires, *sig, *signed_for;
	char *key;
	struct arena *a = NULL;
	bool put;
	int rc;

	bool media = strncmp(url, MEDIA_PREFIX, strlen(MEDIA_PREFIX)) == 0;

	if (!media && strncmp(url, STORAGE_PREFIX, strlen(STORAGE_PREFIX)) != 0)
		return reply_error(out, MHD_HTTP_NOT_FOUND, "not_found", "no such object");
	put = strcmp(method, "PUT") == 0;
	if ((media || !put) && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_error(out, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
		                   media ? "media allows GET and HEAD"
		                         : "storage allows GET, HEAD and PUT");
	/* url is the raw path (as urlsign_url encoded the key): decoded once */
	raw = url + strlen(media ? MEDIA_PREFIX : STORAGE_PREFIX);
	a = arena_new();
	key = kv_unescape(a, raw, strlen(raw), false);
	if (key == NULL || !key_ok(key)) {
		rc = reply_error(out, MHD_HTTP_BAD_REQUEST, "invalid_key",
		                 "the object key is not valid");
		goto out;
	}
	if (media) {
		if (strncmp(key, MEDIA_PUBLIC_KEYS, strlen(MEDIA_PUBLIC_KEYS)) != 0) {
			rc = reply_error(out, MHD_HTTP_NOT_FOUND, "not_found", "no such object");
			goto out;
		}
		goto serve;
	}
	expires = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "X-Expires");
	sig = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "X-Signature");
	/* HEAD works with a URL signed for GET, as with S3 */
	signed_for = put ? "PUT" : "GET";
	switch (urlsign_check(signed_for, key, expires, sig, time(NULL))) {
	case URLSIGN_OK:
		break;
	case URLSIGN_EXPIRED:
		rc = reply_error(out, MHD_HTTP_FORBIDDEN, "url_expired", "the URL has expired");
		goto out;
	default:
		rc = reply_error(out, MHD_HTTP_FORBIDDEN, "signature_invalid",
		                 "the URL signature is missing or does not match");
		goto out;
	}
	if (put && len > s->max) {
		rc = reply_error(out, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
		                 "the object is larger than GW_STORAGE_MAX");
		goto out;
	}
serve:
	rc = put ? do_put(s, key, body, len, out) : do_get(con, key, out);
out:
	arena_free(a);
	return rc;
}
