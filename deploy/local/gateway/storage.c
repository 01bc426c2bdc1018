/* storage.c - the file:// object store at /storage/<key>, signed URLs only.
 *
 * Layout under cfg->storage_dir (DIR):
 *   DIR/<key>             the object's bytes
 *   DIR/.meta/<key>       {"size":N,"etag":"<md5 hex>","content_type":"...",
 *                          "ino":N} written at PUT time
 *   DIR/.../.put-XXXXXX   uploads in progress (renamed into place)
 * Keys whose segments start with "." are refused (400), so no key can reach
 * the metadata tree or a temporary file. A PUT is atomic: the bytes and the
 * metadata go to temporary files in the target directories, are fsync'd and
 * renamed; a reader finding metadata that does not describe the file it
 * opened (a PUT racing it) hashes the file instead. The ETag is the hex MD5
 * of the content, as S3 gives for a single-part PUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <openssl/evp.h>

#include "arena.h"
#include "gateway.h"
#include "json.h"
#include "kv.h"
#include "log.h"
#include "urlsign.h"

#define STORAGE_PREFIX "/storage/"
/* Public, read-only: images uploaded for articles (store_public_url), like
 * an S3 prefix with a public-read bucket policy. Nothing else is public. */
#define MEDIA_PREFIX "/media/"
#define MEDIA_PUBLIC_KEYS "uploads/"
#define META_DIR       ".meta"

struct storage {
	char *dir;        /* as configured */
	char *bucket;     /* the S3 events' bucket name */
	size_t max;       /* largest PUT body */
	struct asyncq *q; /* borrowed; NULL: no events */
};

struct meta {
	unsigned long long size;
	unsigned long long ino;
	char etag[33];
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

/* mkdir -p path (mode 0755); 0 / -1. */
static int mkdirs(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0) {
			struct stat st;

			if (errno != EEXIST)
				return -1;
			if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
				errno = ENOTDIR; /* an object where a folder should be */
				return -1;
			}
		}
		buf[i] = i < n ? '/' : '\0';
	}
	return 0;
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
	if (mkdirs(s->dir) != 0)
		log_warn("storage: cannot create %s yet: %s", s->dir, strerror(errno));
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

/* real is below root (realpath'd, no trailing slash). */
static bool below(const char *root, const char *real)
{
	size_t n = strlen(root);

	return strncmp(real, root, n) == 0 && real[n] == '/';
}

static int hexmd5_fd(int fd, char out[33])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ssize_t n;
	int rc = -1;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		goto out;
	for (off_t off = 0;; off += n) {
		n = pread(fd, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 16)
		goto out;
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[32] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void hexmd5_buf(const void *data, size_t len, char out[33])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data ? data : "", len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
		memset(md, 0, 16);
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[32] = '\0';
}

/* Reads DIR/.meta/<key>; 0 when it parses. */
static int meta_read(const char *path, struct meta *m)
{
	char buf[1024];
	cJSON *o = NULL;
	const cJSON *size, *ino, *etag;
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = -1;

	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -1;
	o = json_parse_limited(buf, (size_t)n, 2);
	size = cJSON_GetObjectItemCaseSensitive(o, "size");
	ino = cJSON_GetObjectItemCaseSensitive(o, "ino");
	etag = cJSON_GetObjectItemCaseSensitive(o, "etag");
	if (!cJSON_IsNumber(size) || !cJSON_IsNumber(ino) || !cJSON_IsString(etag) ||
	    strlen(etag->valuestring) != 32 || size->valuedouble < 0 || ino->valuedouble < 0)
		goto out;
	m->size = (unsigned long long)size->valuedouble;
	m->ino = (unsigned long long)ino->valuedouble;
	memcpy(m->etag, etag->valuestring, 33);
	rc = 0;
out:
	cJSON_Delete(o);
	return rc;
}

/* Writes all of data to fd; 0 / -1. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Creates dir/.put-XXXXXX holding data (fsync'd). Fills tmp with its path
 * and *ino with its inode. 0 / -1 (nothing left behind). */
static int write_tmp(const char *dir, const char *data, size_t len, char tmp[PATH_MAX],
                     unsigned long long *ino)
{
	struct stat st;
	int fd, n = snprintf(tmp, PATH_MAX, "%s/.put-XXXXXX", dir);

	if (n < 0 || n >= PATH_MAX)
		return -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0644) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0 ||
	    fstat(fd, &st) != 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (ino)
		*ino = (unsigned long long)st.st_ino;
	return 0;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* dirname of path into out. */
static void parent_of(const char *path, char out[PATH_MAX])
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	memcpy(out, path, n);
	out[n] = '\0';
}

static int do_put(struct storage *s, const char *root, const char *key, const char *body,
                  size_t len, struct gw_reply *out)
{
	char path[PATH_MAX], mpath[PATH_MAX], dir[PATH_MAX], mdir[PATH_MAX], real[PATH_MAX];
	char tmp[PATH_MAX] = "", mtmp[PATH_MAX] = "", etag[33], quoted[40];
	struct MHD_Response *r = NULL;
	char *json = NULL;
	cJSON *m = NULL;
	unsigned long long ino = 0;
	struct stat st;
	int rc = -1;

	if (snprintf(path, sizeof(path), "%s/%s", root, key) >= (int)sizeof(path) ||
	    snprintf(mpath, sizeof(mpath), "%s/" META_DIR "/%s", root, key) >= (int)sizeof(mpath))
		return reply_error(out, MHD_HTTP_BAD_REQUEST, "invalid_key", "the key is too long");
	parent_of(path, dir);
	parent_of(mpath, mdir);
	if (mkdirs(dir) != 0 || mkdirs(mdir) != 0 || realpath(dir, real) == NULL) {
		if (errno == ENOTDIR || errno == EEXIST)
			return reply_error(out, MHD_HTTP_CONFLICT, "key_conflict",
			                   "a prefix of the key is an object");
		log_error("storage: cannot create the folder for %s: %s", key, strerror(errno));
		goto out;
	}
	if (strcmp(real, root) != 0 && !below(root, real))
		return reply_error(out, MHD_HTTP_NOT_FOUND, "not_found", "no such object");
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return reply_error(out, MHD_HTTP_CONFLICT, "key_conflict",
		                   "the key is a prefix of other objects");
	hexmd5_buf(body, len, etag);
	if (write_tmp(dir, body, len, tmp, &ino) != 0) {
		log_error("storage: cannot write %s: %s", key, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	m = cJSON_CreateObject();
	cJSON_AddNumberToObject(m, "size", (double)len);
	cJSON_AddStringToObject(m, "etag", etag);
	cJSON_AddStringToObject(m, "content_type", static_content_type(key));
	cJSON_AddNumberToObject(m, "ino", (double)ino);
	json = cJSON_PrintUnformatted(m);
	if (json == NULL || write_tmp(mdir, json, strlen(json), mtmp, NULL) != 0) {
		log_error("storage: cannot write the metadata of %s", key);
		mtmp[0] = '\0';
		goto out;
	}
	if (rename(mtmp, mpath) != 0) {
		log_error("storage: cannot store the metadata of %s: %s", key, strerror(errno));
		goto out;
	}
	mtmp[0] = '\0';
	if (rename(tmp, path) != 0) {
		log_error("storage: cannot store %s: %s", key, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	fsync_dir(dir);
	fsync_dir(mdir);
	if (s->q != NULL && asyncq_object_created(s->q, s->bucket, key, len, etag) != 0) {
		log_error("storage: %s stored but its object-created event was not queued", key);
		rc = reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
		                 "stored, but the object-created event was not queued; retry");
		goto out;
	}
	/* 200 with an empty body and the ETag, like S3 */
	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
	if (r == NULL || MHD_add_response_header(r, "ETag", quoted) != MHD_YES)
		goto out;
	out->status = MHD_HTTP_OK;
	out->resp = r;
	r = NULL;
	rc = 0;
out:
	if (r != NULL)
		MHD_destroy_response(r);
	if (tmp[0])
		unlink(tmp);
	if (mtmp[0])
		unlink(mtmp);
	free(json);
	cJSON_Delete(m);
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

static int do_get(const char *root, struct MHD_Connection *con, const char *key,
                  struct gw_reply *out)
{
	char path[PATH_MAX], mpath[PATH_MAX], real[PATH_MAX], quoted[40];
	struct meta m;
	struct stat st;
	int fd = -1, rc = -1;

	if (snprintf(path, sizeof(path), "%s/%s", root, key) >= (int)sizeof(path) ||
	    snprintf(mpath, sizeof(mpath), "%s/" META_DIR "/%s", root, key) >= (int)sizeof(mpath))
		goto not_found;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
			goto out;
		goto not_found;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    static_fd_realpath(fd, path, real, sizeof(real)) != 0 || !below(root, real))
		goto not_found;
	if (meta_read(mpath, &m) != 0 || m.ino != (unsigned long long)st.st_ino ||
	    m.size != (unsigned long long)st.st_size) {
		/* no metadata, or a PUT replaced the file between the two opens */
		if (hexmd5_fd(fd, m.etag) != 0)
			goto out;
	}
	snprintf(quoted, sizeof(quoted), "\"%s\"", m.etag);
	if (static_file_reply(&fd, &st, none_match(con, quoted), static_content_type(key), quoted,
	                      "private, max-age=60", out) != 0) {
		log_error("storage: cannot build the response for %s", key);
		goto out;
	}
	rc = 0;
	goto out;
not_found:
	rc = reply_error(out, MHD_HTTP_NOT_FOUND, "not_found", "no such object");
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int storage_reply(struct storage *s, struct MHD_Connection *con, const char *method,
                  const char *url, const char *body, size_t len, struct gw_reply *out)
{
	const char *raw, *expires, *sig, *signed_for;
	char root[PATH_MAX], *key;
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
	if (mkdirs(s->dir) != 0 || realpath(s->dir, root) == NULL) {
		log_error("storage: %s is not usable: %s", s->dir, strerror(errno));
		rc = -1;
		goto out;
	}
	rc = put ? do_put(s, root, key, body, len, out) : do_get(root, con, key, out);
out:
	arena_free(a);
	return rc;
}
