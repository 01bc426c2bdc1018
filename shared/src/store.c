/* store.c - object storage: the file:// and s3:// backends.
 *
 * file://DIR: the layout is the local gateway's (deploy/local/gateway/storage.c), so an
 * object put here is served by its /storage/ GET with the right ETag:
 *   DIR/<key>          the object's bytes (mode 0644)
 *   DIR/.meta/<key>    {"size":N,"etag":"<md5 hex>","content_type":"...","ino":N}
 *   DIR/.../.put-XXXX  writes in progress, renamed into place
 * Keys with a segment starting with "." are refused, so no key reaches the
 * metadata tree or a temporary file. A put is atomic: bytes and metadata go
 * to temporary files in their target folders, are fsync'd and renamed
 * (metadata first); a reader whose metadata does not describe the file it
 * opened (inode or size differ: a put raced it) hashes the file instead.
 * Objects whose real path leaves DIR (a symlinked folder) are refused.
 *
 * s3://BUCKET?endpoint=URL&region=R&path_style=1&max_keys=N: requests go
 * through httpc with libcurl's SigV4 (CURLOPT_AWS_SIGV4 "aws:amz:R:s3"),
 * which on curl 7.88 wants x-amz-content-sha256 sent by us. Keys are
 * percent-encoded per segment (RFC 3986 unreserved bytes and "/" kept).
 * Listing is ListObjectsV2, its XML read by a small scanner (only the
 * elements used, entities decoded). Presigned URLs are query-string SigV4
 * computed here (store_s3_presign), valid for the host header only.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/evp.h>

#include "arena.h"
#include "crypto.h"
#include "httpc.h"
#include "json.h"
#include "kv.h"
#include "log.h"
#include "urlsign.h"

#define STORE_DEFAULT_DIR  ".data/objects"
#define STORE_DEFAULT_BASE "http://127.0.0.1:8080"
#define STORE_META_DIR     ".meta"
/* Folder depth store_list descends (keys are a few segments deep). */
#define STORE_LIST_DEPTH 32
/* Largest metadata file read back. */
#define STORE_META_MAX 1024
/* s3://: defaults, the longest presigned URL life (SigV4's own limit), the
 * largest listing page and the caps on what a response may hold. */
#define STORE_S3_REGION    "us-east-1"
#define STORE_S3_TTL_MAX   604800L
#define STORE_S3_PAGE_MAX  1000
#define STORE_S3_LIST_MAX  (16u << 20)
#define STORE_S3_SMALL_MAX (64u << 10)
#define STORE_S3_GET_CEIL  ((size_t)1 << 40)

enum store_backend { STORE_UNSET, STORE_FILE, STORE_S3, STORE_BAD };

struct store_cfg {
	enum store_backend backend;
	char dir[PATH_MAX]; /* file://: the root, no trailing slash */
	char base[512];     /* GATEWAY_PUBLIC_URL, no trailing slash */
	/* s3:// */
	char bucket[256];
	char endpoint[512]; /* scheme://host[:port], no trailing slash */
	char region[64];
	bool path_style;
	unsigned max_keys; /* listing page size */
};

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_cfg store_cfg_cached;

/* ---- configuration ---- */

static int store_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into out (cap bytes with the NUL); -1 when
 * malformed, too long or decoding to a control byte. */
static int store_pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)s[i];

		if (ch == '%') {
			if (i + 2 >= n || store_hexval(s[i + 1]) < 0 || store_hexval(s[i + 2]) < 0)
				return -1;
			ch = store_hexval(s[i + 1]) * 16 + store_hexval(s[i + 2]);
			i += 2;
		}
		if (ch < 0x20 || ch == 0x7f || j + 1 >= cap)
			return -1;
		out[j++] = (char)ch;
	}
	out[j] = '\0';
	return 0;
}

/* An http(s)://HOST[:PORT] URL without path, query or credentials. */
static bool store_endpoint_ok(const char *e)
{
	const char *h = strncmp(e, "https://", 8) == 0  ? e + 8
	                : strncmp(e, "http://", 7) == 0 ? e + 7
	                                                : NULL;

	if (h == NULL || *h == '\0' || *h == ':')
		return false;
	for (; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || *h == '.' || *h == '-' || *h == ':' ||
		      *h == '[' || *h == ']'))
			return false;
	return true;
}

/* Parses "BUCKET?name=value&..." (after "s3://") into c; -1 (logged). */
static int store_s3_parse(const char *spec, struct store_cfg *c)
{
	const char *q = strchr(spec, '?'), *p;
	size_t blen = q ? (size_t)(q - spec) : strlen(spec);
	char val[512];

	snprintf(c->region, sizeof(c->region), "%s", STORE_S3_REGION);
	c->max_keys = STORE_S3_PAGE_MAX;
	if (blen == 0 || blen >= sizeof(c->bucket)) {
		log_error("storage: STORAGE_URL s3://BUCKET needs a bucket name");
		return -1;
	}
	for (size_t i = 0; i < blen; i++)
		if (!((spec[i] >= 'a' && spec[i] <= 'z') || (spec[i] >= 'A' && spec[i] <= 'Z') ||
		      (spec[i] >= '0' && spec[i] <= '9') || spec[i] == '.' || spec[i] == '-' ||
		      spec[i] == '_')) {
			log_error("storage: the bucket name in STORAGE_URL is not valid");
			return -1;
		}
	memcpy(c->bucket, spec, blen);
	c->bucket[blen] = '\0';
	for (p = q ? q + 1 : NULL; p != NULL && *p != '\0';) {
		const char *amp = strchr(p, '&'), *eq;
		size_t len = amp ? (size_t)(amp - p) : strlen(p), nlen;

		eq = memchr(p, '=', len);
		nlen = eq ? (size_t)(eq - p) : len;
		if (eq == NULL || store_pct_decode(eq + 1, len - nlen - 1, val, sizeof(val)) != 0) {
			log_error("storage: STORAGE_URL has a malformed parameter");
			return -1;
		}
		if (nlen == 8 && strncmp(p, "endpoint", 8) == 0) {
			snprintf(c->endpoint, sizeof(c->endpoint), "%s", val);
		} else if (nlen == 6 && strncmp(p, "region", 6) == 0) {
			size_t rl = strlen(val);

			if (rl == 0 || rl >= sizeof(c->region) ||
			    strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789-") != rl) {
				log_error("storage: the region in STORAGE_URL is not valid");
				return -1;
			}
			memcpy(c->region, val, rl + 1);
		} else if (nlen == 10 && strncmp(p, "path_style", 10) == 0) {
			if (strcmp(val, "1") == 0 || strcmp(val, "true") == 0) {
				c->path_style = true;
			} else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0) {
				c->path_style = false;
			} else {
				log_error("storage: path_style in STORAGE_URL must be 0 or 1");
				return -1;
			}
		} else if (nlen == 8 && strncmp(p, "max_keys", 8) == 0) {
			char *end;
			long v;

			errno = 0;
			v = strtol(val, &end, 10);
			if (val[0] == '\0' || *end != '\0' || errno != 0 || v < 1 ||
			    v > STORE_S3_PAGE_MAX) {
				log_error("storage: max_keys in STORAGE_URL must be 1-1000");
				return -1;
			}
			c->max_keys = (unsigned)v;
		} else {
			log_error("storage: STORAGE_URL has an unknown parameter %.*s", (int)nlen,
			          p);
			return -1;
		}
		p = amp ? amp + 1 : NULL;
	}
	if (c->endpoint[0] == '\0')
		snprintf(c->endpoint, sizeof(c->endpoint), "https://s3.%s.amazonaws.com",
		         c->region);
	for (size_t n = strlen(c->endpoint); n > 0 && c->endpoint[n - 1] == '/'; n--)
		c->endpoint[n - 1] = '\0';
	if (!store_endpoint_ok(c->endpoint)) {
		log_error("storage: the endpoint in STORAGE_URL must be http(s)://HOST[:PORT]");
		return -1;
	}
	return 0;
}

static void store_cfg_load(struct store_cfg *c)
{
	const char *url = getenv("STORAGE_URL");
	const char *base = getenv("GATEWAY_PUBLIC_URL");
	const char *dir = STORE_DEFAULT_DIR;
	size_t n;
	int w;

	memset(c, 0, sizeof(*c));
	c->backend = STORE_FILE;
	if (url != NULL && url[0] != '\0') {
		if (strncmp(url, "s3://", 5) == 0) {
			c->backend = store_s3_parse(url + 5, c) == 0 ? STORE_S3 : STORE_BAD;
		} else if (strncmp(url, "file://", 7) == 0 && url[7] != '\0') {
			dir = url + 7;
		} else {
			log_error("storage: STORAGE_URL must be file://DIR or s3://BUCKET");
			c->backend = STORE_BAD;
		}
	}
	w = snprintf(c->dir, sizeof(c->dir), "%s", dir);
	if (w < 0 || (size_t)w >= sizeof(c->dir)) {
		log_error("storage: the STORAGE_URL folder is too long");
		c->backend = STORE_BAD;
		c->dir[0] = '\0';
	}
	for (n = strlen(c->dir); n > 1 && c->dir[n - 1] == '/'; n--)
		c->dir[n - 1] = '\0';

	if (base == NULL || base[0] == '\0')
		base = STORE_DEFAULT_BASE;
	if ((strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) ||
	    strlen(base) >= sizeof(c->base)) {
		log_warn("storage: GATEWAY_PUBLIC_URL must be an http(s) URL; using %s",
		         STORE_DEFAULT_BASE);
		base = STORE_DEFAULT_BASE;
	}
	snprintf(c->base, sizeof(c->base), "%s", base);
	for (n = strlen(c->base); n > 0 && c->base[n - 1] == '/'; n--)
		c->base[n - 1] = '\0';
}

/* A copy of the configuration, read from the environment on first use. */
static void store_config(struct store_cfg *out)
{
	pthread_mutex_lock(&store_lock);
	if (store_cfg_cached.backend == STORE_UNSET)
		store_cfg_load(&store_cfg_cached);
	*out = store_cfg_cached;
	pthread_mutex_unlock(&store_lock);
}

/* Forgets the cached configuration; the next call reads the environment. */
void store_reset(void)
{
	pthread_mutex_lock(&store_lock);
	memset(&store_cfg_cached, 0, sizeof(store_cfg_cached));
	pthread_mutex_unlock(&store_lock);
}

/* c filled: 0 for file://, 1 for s3://, -1 (logged, errno ENOTSUP) when
 * STORAGE_URL is not usable. */
static int store_backend(struct store_cfg *c)
{
	store_config(c);
	if (c->backend == STORE_FILE)
		return 0;
	if (c->backend == STORE_S3)
		return 1;
	log_error("storage: STORAGE_URL is not usable");
	errno = ENOTSUP;
	return -1;
}

/* ---- keys and paths ---- */

/* A key we store: signable, and no segment starting with "." (those name
 * the metadata tree and writes in progress). */
static bool store_key_ok(const char *key)
{
	return urlsign_key_valid(key) && key[0] != '.' && strstr(key, "/.") == NULL;
}

/* DIR/<key> and DIR/.meta/<key>; -1 when too long. */
static int store_paths(const struct store_cfg *c, const char *key, char path[PATH_MAX],
                       char mpath[PATH_MAX])
{
	int n = snprintf(path, PATH_MAX, "%s/%s", c->dir, key);
	int m = snprintf(mpath, PATH_MAX, "%s/" STORE_META_DIR "/%s", c->dir, key);

	if (n < 0 || n >= PATH_MAX || m < 0 || m >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A usable Content-Type value: 1-99 printable ASCII bytes. */
static bool store_ctype_ok(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n >= sizeof(((struct store_object *)0)->content_type))
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] < 0x20 || t[i] > 0x7e)
			return false;
	return true;
}

/* The content type the key's extension implies (the gateway's choice). */
static const char *store_ctype_guess(const char *key)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	        {"jpg", "image/jpeg"},
	        {"jpeg", "image/jpeg"},
	        {"png", "image/png"},
	        {"gif", "image/gif"},
	        {"webp", "image/webp"},
	        {"svg", "image/svg+xml"},
	        {"json", "application/json"},
	        {"txt", "text/plain; charset=utf-8"},
	        {"html", "text/html; charset=utf-8"},
	};
	const char *slash = strrchr(key, '/'), *dot = strrchr(key, '.');

	if (dot != NULL && (slash == NULL || dot > slash))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* ---- files ---- */

/* mkdir -p path (0755); 0 / -1 (ENOTDIR when an object is in the way). */
static int store_mkdirs(const char *path)
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
				errno = ENOTDIR;
				return -1;
			}
		}
		buf[i] = i < n ? '/' : '\0';
	}
	return 0;
}

/* The folder part of path (path has at least one '/'). */
static void store_parent(const char *path, char out[PATH_MAX])
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	memcpy(out, path, n);
	out[n] = '\0';
	if (n == 0) {
		out[0] = slash ? '/' : '.';
		out[1] = '\0';
	}
}

static int store_write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* dir/.put-XXXXXX holding data, mode 0644, fsync'd; tmp gets its path and
 * *ino its inode. 0, or -1 with nothing left behind. */
static int store_write_tmp(const char *dir, const void *data, size_t len, char tmp[PATH_MAX],
                           unsigned long long *ino)
{
	struct stat st;
	int fd, n = snprintf(tmp, PATH_MAX, "%s/.put-XXXXXX", dir);

	if (n < 0 || n >= PATH_MAX) {
		tmp[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		tmp[0] = '\0';
		return -1;
	}
	if (fchmod(fd, 0644) != 0 || store_write_all(fd, data, len) != 0 || fsync(fd) != 0 ||
	    fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		tmp[0] = '\0';
		errno = e;
		return -1;
	}
	close(fd);
	if (ino != NULL)
		*ino = (unsigned long long)st.st_ino;
	return 0;
}

static void store_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static void store_hex(const unsigned char md[16], char out[33])
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[32] = '\0';
}

static int store_md5_buf(const void *data, size_t len, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data ? data : "", len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
		return -1;
	store_hex(md, out);
	return 0;
}

static int store_md5_fd(int fd, char out[33])
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	off_t off = 0;
	int rc = -1;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		goto out;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
		off += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 16)
		goto out;
	store_hex(md, out);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

struct store_meta {
	unsigned long long size, ino;
	char etag[33];
	char content_type[100];
};

/* Reads a metadata file; 0 when it parses (content_type "" when absent). */
static int store_meta_read(const char *mpath, struct store_meta *m)
{
	char buf[STORE_META_MAX];
	const cJSON *size, *ino, *etag, *ctype;
	cJSON *o = NULL;
	ssize_t n;
	int fd = open(mpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = -1;

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
	ctype = cJSON_GetObjectItemCaseSensitive(o, "content_type");
	if (!cJSON_IsNumber(size) || !cJSON_IsNumber(ino) || !cJSON_IsString(etag) ||
	    strlen(etag->valuestring) != 32 || size->valuedouble < 0 || ino->valuedouble < 0)
		goto out;
	m->size = (unsigned long long)size->valuedouble;
	m->ino = (unsigned long long)ino->valuedouble;
	memcpy(m->etag, etag->valuestring, 33);
	m->content_type[0] = '\0';
	if (cJSON_IsString(ctype) && store_ctype_ok(ctype->valuestring))
		snprintf(m->content_type, sizeof(m->content_type), "%s", ctype->valuestring);
	rc = 0;
out:
	cJSON_Delete(o);
	return rc;
}

/* real (a resolved path) is root's realpath or below it. */
static bool store_inside(const struct store_cfg *c, const char *real, bool may_be_root)
{
	char root[PATH_MAX];
	size_t n;

	if (realpath(c->dir, root) == NULL)
		return false;
	n = strlen(root);
	if (strcmp(real, root) == 0)
		return may_be_root;
	if (n == 1)
		return real[0] == '/';
	return strncmp(real, root, n) == 0 && real[n] == '/';
}

/* The file open on fd (at path) really is below the storage folder. */
static bool store_fd_inside(const struct store_cfg *c, int fd, const char *path)
{
	char link[64], real[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n > 0 && real[0] == '/') {
		real[n] = '\0';
	} else if (realpath(path, real) == NULL) {
		return false;
	}
	return store_inside(c, real, false);
}

/* ---- objects ---- */

static int store_s3_put(struct arena *a, const struct store_cfg *c, const char *key,
                        const void *data, size_t len, const char *content_type,
                        struct store_object *out);

/* Writes key atomically with its gateway metadata; 0 / -1 (logged). */
int store_put(const char *key, const void *data, size_t len, const char *content_type)
{
	return store_put_object(key, data, len, content_type, NULL);
}

/* Writes key (file://: atomically with its gateway metadata) and describes
 * what was stored in out; 0 / -1 (logged, errno kept). */
int store_put_object(const char *key, const void *data, size_t len, const char *content_type,
                     struct store_object *out)
{
	char path[PATH_MAX], mpath[PATH_MAX], dir[PATH_MAX], mdir[PATH_MAX], real[PATH_MAX];
	char tmp[PATH_MAX] = "", mtmp[PATH_MAX] = "", etag[33];
	unsigned long long ino = 0;
	struct store_cfg c;
	struct stat st;
	cJSON *m = NULL;
	char *json = NULL;
	int rc = -1, e = EIO, b;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	b = store_backend(&c);
	if (b < 0)
		return -1;
	if (!store_key_ok(key) || (data == NULL && len > 0)) {
		log_error("storage: put refused: invalid key or data");
		errno = EINVAL;
		return -1;
	}
	if (content_type == NULL || content_type[0] == '\0')
		content_type = store_ctype_guess(key);
	if (!store_ctype_ok(content_type)) {
		log_error("storage: put %s refused: invalid content type", key);
		errno = EINVAL;
		return -1;
	}
	if (b == 1) {
		struct arena *a = arena_new();

		rc = store_s3_put(a, &c, key, data, len, content_type, out);
		e = errno;
		arena_free(a);
		errno = e;
		return rc;
	}
	if (store_paths(&c, key, path, mpath) != 0) {
		log_error("storage: put refused: the key is too long");
		return -1;
	}
	store_parent(path, dir);
	store_parent(mpath, mdir);
	if (store_mkdirs(dir) != 0 || store_mkdirs(mdir) != 0) {
		e = errno;
		log_error("storage: cannot create the folder for %s: %s", key, strerror(e));
		goto out;
	}
	/* a symlinked folder must not lead the write out of the store */
	if (realpath(dir, real) == NULL || !store_inside(&c, real, true)) {
		e = EACCES;
		log_error("storage: cannot put %s: its folder is outside the store", key);
		goto out;
	}
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		e = EEXIST;
		log_error("storage: cannot put %s: the key is a prefix of other objects", key);
		goto out;
	}
	if (store_md5_buf(data, len, etag) != 0) {
		log_error("storage: cannot hash %s", key);
		goto out;
	}
	if (store_write_tmp(dir, data, len, tmp, &ino) != 0) {
		e = errno;
		log_error("storage: cannot write %s: %s", key, strerror(e));
		goto out;
	}
	m = cJSON_CreateObject();
	cJSON_AddNumberToObject(m, "size", (double)len);
	cJSON_AddStringToObject(m, "etag", etag);
	cJSON_AddStringToObject(m, "content_type", content_type);
	cJSON_AddNumberToObject(m, "ino", (double)ino);
	json = cJSON_PrintUnformatted(m);
	if (json == NULL || store_write_tmp(mdir, json, strlen(json), mtmp, NULL) != 0) {
		log_error("storage: cannot write the metadata of %s", key);
		goto out;
	}
	/* metadata first: a reader seeing it before the bytes hashes the file */
	if (rename(mtmp, mpath) != 0) {
		e = errno;
		log_error("storage: cannot store the metadata of %s: %s", key, strerror(e));
		goto out;
	}
	mtmp[0] = '\0';
	if (rename(tmp, path) != 0) {
		e = errno;
		log_error("storage: cannot store %s: %s", key, strerror(e));
		goto out;
	}
	tmp[0] = '\0';
	store_fsync_dir(dir);
	store_fsync_dir(mdir);
	if (out != NULL) {
		out->size = len;
		snprintf(out->etag, sizeof(out->etag), "\"%s\"", etag);
		snprintf(out->content_type, sizeof(out->content_type), "%s", content_type);
		out->modified = stat(path, &st) == 0 ? st.st_mtime : time(NULL);
	}
	rc = 0;
out:
	if (tmp[0])
		unlink(tmp);
	if (mtmp[0])
		unlink(mtmp);
	free(json);
	cJSON_Delete(m);
	if (rc != 0)
		errno = e;
	return rc;
}

/* Opens the object file: a regular file, not through a symlink. -1 with
 * errno ENOENT when there is no such object. */
static int store_open(const struct store_cfg *c, const char *key, char mpath[PATH_MAX],
                      struct stat *st)
{
	char path[PATH_MAX];
	int fd;

	if (store_paths(c, key, path, mpath) != 0) {
		errno = ENOENT;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR || errno == EISDIR)
			errno = ENOENT;
		return -1;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || !store_fd_inside(c, fd, path)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	return fd;
}

static int store_s3_get(struct arena *a, const struct store_cfg *c, const char *key, size_t max,
                        void **data, size_t *len);
static int store_s3_head(const struct store_cfg *c, const char *key, struct store_object *out);
static int store_s3_delete(const struct store_cfg *c, const char *key);
static const char **store_s3_list(struct arena *a, const struct store_cfg *c, const char *prefix,
                                  size_t max, size_t *n);
static char *store_s3_url(struct arena *a, const struct store_cfg *c, const char *method,
                          const char *key, long ttl_s);

/* Reads key (at most max bytes) into the arena; -1/ENOENT when missing. */
int store_get(struct arena *a, const char *key, size_t max, void **data, size_t *len)
{
	char mpath[PATH_MAX];
	struct store_cfg c;
	struct stat st;
	unsigned char *buf;
	size_t size, got = 0;
	int fd, e, b;

	*data = NULL;
	*len = 0;
	b = store_backend(&c);
	if (b < 0)
		return -1;
	if (!store_key_ok(key)) {
		log_error("storage: get refused: invalid key");
		errno = EINVAL;
		return -1;
	}
	if (b == 1)
		return store_s3_get(a, &c, key, max, data, len);
	fd = store_open(&c, key, mpath, &st);
	if (fd < 0) {
		e = errno;
		if (e != ENOENT)
			log_error("storage: cannot open %s: %s", key, strerror(e));
		errno = e;
		return -1;
	}
	if ((unsigned long long)st.st_size > (unsigned long long)max) {
		log_warn("storage: %s is larger than the %zu bytes allowed", key, max);
		close(fd);
		errno = EFBIG;
		return -1;
	}
	size = (size_t)st.st_size;
	buf = arena_alloc(a, size + 1);
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			log_error("storage: cannot read %s: %s", key, strerror(e));
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

/* Fills out for the object open on fd (st: its fstat; mpath: its metadata
 * file); 0 / -1 (logged). */
static int store_file_describe(const char *key, int fd, const struct stat *st, const char *mpath,
                               struct store_object *out)
{
	struct store_meta m;

	if (store_meta_read(mpath, &m) != 0) {
		memset(&m, 0, sizeof(m));
		m.ino = ~0ULL;
	}
	if (m.ino != (unsigned long long)st->st_ino || m.size != (unsigned long long)st->st_size) {
		/* no metadata, or a put replaced the file between the two opens */
		if (store_md5_fd(fd, m.etag) != 0) {
			log_error("storage: cannot hash %s", key);
			errno = EIO;
			return -1;
		}
	}
	out->size = (size_t)st->st_size;
	snprintf(out->etag, sizeof(out->etag), "\"%s\"", m.etag);
	snprintf(out->content_type, sizeof(out->content_type), "%s",
	         m.content_type[0] ? m.content_type : store_ctype_guess(key));
	out->modified = st->st_mtime;
	return 0;
}

/* The object's fd and description (file:// only); -1/ENOENT when missing. */
static int store_file_open_cfg(const struct store_cfg *c, const char *key, struct store_object *out)
{
	char mpath[PATH_MAX];
	struct stat st;
	int fd, e;

	fd = store_open(c, key, mpath, &st);
	if (fd < 0) {
		e = errno;
		if (e != ENOENT)
			log_error("storage: cannot open %s: %s", key, strerror(e));
		errno = e;
		return -1;
	}
	if (store_file_describe(key, fd, &st, mpath, out) != 0) {
		close(fd);
		errno = EIO;
		return -1;
	}
	return fd;
}

/* Opens key of the file:// store for reading with its description. */
int store_file_open(const char *key, struct store_object *meta)
{
	struct store_cfg c;
	int b;

	memset(meta, 0, sizeof(*meta));
	b = store_backend(&c);
	if (b < 0)
		return -1;
	if (b != 0) {
		errno = ENOTSUP;
		return -1;
	}
	if (!store_key_ok(key)) {
		errno = EINVAL;
		return -1;
	}
	return store_file_open_cfg(&c, key, meta);
}

/* Size, quoted ETag, type and mtime of key; -1/ENOENT when missing. */
int store_head(const char *key, struct store_object *out)
{
	struct store_cfg c;
	int fd, b;

	memset(out, 0, sizeof(*out));
	b = store_backend(&c);
	if (b < 0)
		return -1;
	if (!store_key_ok(key)) {
		log_error("storage: head refused: invalid key");
		errno = EINVAL;
		return -1;
	}
	if (b == 1)
		return store_s3_head(&c, key, out);
	fd = store_file_open_cfg(&c, key, out);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Removes key and its metadata; a missing key is success. */
int store_delete(const char *key)
{
	char path[PATH_MAX], mpath[PATH_MAX];
	struct store_cfg c;
	struct stat st;
	int b = store_backend(&c);

	if (b < 0)
		return -1;
	if (b == 1 && store_key_ok(key))
		return store_s3_delete(&c, key);
	if (!store_key_ok(key) || store_paths(&c, key, path, mpath) != 0) {
		log_error("storage: delete refused: invalid key");
		errno = EINVAL;
		return -1;
	}
	/* a folder (a prefix of other keys) is no object: nothing to delete */
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) != 0 && errno != ENOENT) {
		log_error("storage: cannot delete %s: %s", key, strerror(errno));
		return -1;
	}
	if (unlink(mpath) != 0 && errno != ENOENT && errno != EISDIR && errno != ENOTDIR &&
	    errno != EPERM) {
		log_error("storage: cannot delete the metadata of %s: %s", key, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- listing ---- */

struct store_walk {
	struct arena *a;
	const char *prefix;
	size_t plen, max;
	const char **keys;
	size_t n, cap;
	int rc;
};

struct store_entry {
	const char *name;
	const char *key; /* rel + name, "/" appended for a folder */
	bool dir;
};

static int store_entry_cmp(const void *x, const void *y)
{
	const struct store_entry *a = x, *b = y;

	return strcmp(a->key, b->key);
}

/* Walks the folder dirpath holding keys that start with rel ("" or "a/b/")
 * in key order: a folder sorts as its name plus "/", the first byte all of
 * its keys share after the name, so the walk yields byte-sorted keys and
 * can stop after max. */
static void store_walk_dir(struct store_walk *w, const char *dirpath, const char *rel, int depth)
{
	struct store_entry *ents = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	if (w->n >= w->max || w->rc != 0)
		return;
	if (depth > STORE_LIST_DEPTH) {
		log_warn("storage: list stops below %s: folders nest too deep", rel);
		return;
	}
	d = opendir(dirpath);
	if (d == NULL) {
		if (errno != ENOENT && errno != ENOTDIR) {
			log_error("storage: cannot list %s: %s", rel, strerror(errno));
			w->rc = -1;
		}
		return;
	}
	while ((e = readdir(d)) != NULL) {
		bool dir = e->d_type == DT_DIR;
		size_t klen;
		char *key;

		/* ".", "..", the metadata tree and writes in progress */
		if (e->d_name[0] == '.')
			continue;
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			dir = S_ISDIR(st.st_mode);
			if (!dir && !S_ISREG(st.st_mode))
				continue;
		} else if (!dir && e->d_type != DT_REG) {
			continue;
		}
		key = arena_printf(w->a, "%s%s%s", rel, e->d_name, dir ? "/" : "");
		klen = strlen(key);
		if (dir ? strncmp(key, w->prefix, klen < w->plen ? klen : w->plen) != 0
		        : strncmp(key, w->prefix, w->plen) != 0 || !store_key_ok(key))
			continue;
		if (n == cap) {
			struct store_entry *bigger;

			cap = cap ? 2 * cap : 16;
			bigger = arena_alloc(w->a, cap * sizeof(*bigger));
			if (n > 0)
				memcpy(bigger, ents, n * sizeof(*ents));
			ents = bigger;
		}
		ents[n].name = arena_strdup(w->a, e->d_name);
		ents[n].key = key;
		ents[n].dir = dir;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(ents, n, sizeof(*ents), store_entry_cmp);
	for (size_t i = 0; i < n && w->n < w->max && w->rc == 0; i++) {
		if (ents[i].dir) {
			char *sub = arena_printf(w->a, "%s/%s", dirpath, ents[i].name);

			store_walk_dir(w, sub, ents[i].key, depth + 1);
			continue;
		}
		if (w->n + 1 >= w->cap) {
			const char **bigger;

			w->cap = w->cap ? 2 * w->cap : 16;
			bigger = arena_alloc(w->a, w->cap * sizeof(*bigger));
			if (w->n > 0)
				memcpy(bigger, w->keys, w->n * sizeof(*bigger));
			w->keys = bigger;
		}
		w->keys[w->n++] = ents[i].key;
	}
}

/* Keys under prefix in byte order, at most max, NULL-terminated (arena). */
const char **store_list(struct arena *a, const char *prefix, size_t max, size_t *n)
{
	struct store_walk w = {0};
	struct store_cfg c;
	const char *slash;
	char *rel, *dirpath, *trimmed;
	size_t plen, rlen;
	int b;

	*n = 0;
	b = store_backend(&c);
	if (b < 0)
		return NULL;
	if (prefix == NULL)
		prefix = "";
	plen = strlen(prefix);
	/* a prefix is a key, or the start of one, possibly ending in "/" */
	trimmed = arena_strndup(a, prefix, plen);
	while (plen > 0 && trimmed[plen - 1] == '/')
		trimmed[--plen] = '\0';
	if (plen > 0 && (!store_key_ok(trimmed) || strlen(prefix) - plen > 1)) {
		log_error("storage: list refused: invalid prefix");
		errno = EINVAL;
		return NULL;
	}
	if (b == 1)
		return store_s3_list(a, &c, prefix, max, n);
	slash = strrchr(prefix, '/');
	rlen = slash ? (size_t)(slash - prefix) + 1 : 0;
	rel = arena_strndup(a, prefix, rlen);
	dirpath = rlen ? arena_printf(a, "%s/%.*s", c.dir, (int)(rlen - 1), prefix)
	               : arena_strdup(a, c.dir);
	w.a = a;
	w.prefix = prefix;
	w.plen = strlen(prefix);
	w.max = max;
	store_walk_dir(&w, dirpath, rel, 0);
	if (w.rc != 0)
		return NULL;
	if (w.keys == NULL)
		w.keys = arena_alloc(a, sizeof(*w.keys));
	w.keys[w.n] = NULL;
	*n = w.n;
	return w.keys;
}

/* ---- URLs ---- */

/* s percent-encoded (RFC 3986: unreserved bytes kept, and "/" when
 * keep_slash), arena. */
static char *store_uri_encode(struct arena *a, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), j = 0;
	char *enc = arena_alloc(a, 3 * n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~' ||
		    (ch == '/' && keep_slash)) {
			enc[j++] = (char)ch;
		} else {
			enc[j++] = '%';
			enc[j++] = hex[ch >> 4];
			enc[j++] = hex[ch & 15];
		}
	}
	enc[j] = '\0';
	return enc;
}

static char *store_presign(struct arena *a, const char *method, const char *key, long ttl_s)
{
	struct store_cfg c;
	char *url;
	int b = store_backend(&c);

	if (b < 0)
		return NULL;
	if (!store_key_ok(key)) {
		log_error("storage: cannot sign a URL for an invalid key");
		return NULL;
	}
	if (b == 1)
		return store_s3_url(a, &c, method, key, ttl_s);
	url = urlsign_url(a, c.base, method, key, ttl_s);
	if (url == NULL)
		log_error("storage: cannot sign a URL (is APP_SECRET set?)");
	return url;
}

/* A URL signed for GET, valid ttl_s seconds (arena). */
char *store_presign_get(struct arena *a, const char *key, long ttl_s)
{
	return store_presign(a, "GET", key, ttl_s);
}

/* A URL signed for PUT, valid ttl_s seconds (arena). */
char *store_presign_put(struct arena *a, const char *key, long ttl_s)
{
	return store_presign(a, "PUT", key, ttl_s);
}

/* file://: GATEWAY_PUBLIC_URL "/media/" key; s3://: the object's URL
 * (percent-encoded, arena). */
char *store_public_url(struct arena *a, const char *key)
{
	struct store_cfg c;
	int b = store_backend(&c);

	if (b < 0)
		return NULL;
	if (!store_key_ok(key)) {
		log_error("storage: no public URL for an invalid key");
		return NULL;
	}
	if (b == 1)
		return store_s3_url(a, &c, NULL, key, 0);
	return arena_printf(a, "%s/media/%s", c.base, store_uri_encode(a, key, true));
}

/* ---- s3:// ---- */

/* Where a request for key (NULL: the bucket) goes: *origin "scheme://host",
 * *host the Host header (a default port left out), *path the encoded
 * path. 0 / -1 on bad parameters. */
static int store_s3_target(struct arena *a, const struct store_s3_params *p, const char *key,
                           char **origin, char **host, char **path)
{
	const char *hp, *scheme;
	size_t hlen;

	if (p->endpoint == NULL || p->bucket == NULL || p->bucket[0] == '\0' ||
	    !store_endpoint_ok(p->endpoint))
		return -1;
	if (strncmp(p->endpoint, "https://", 8) == 0) {
		scheme = "https";
		hp = p->endpoint + 8;
	} else {
		scheme = "http";
		hp = p->endpoint + 7;
	}
	hlen = strlen(hp);
	while (hlen > 0 && hp[hlen - 1] == '/')
		hlen--;
	if (scheme[4] == 's' && hlen > 4 && strncmp(hp + hlen - 4, ":443", 4) == 0)
		hlen -= 4;
	else if (scheme[4] == '\0' && hlen > 3 && strncmp(hp + hlen - 3, ":80", 3) == 0)
		hlen -= 3;
	if (p->path_style)
		*host = arena_strndup(a, hp, hlen);
	else
		*host = arena_printf(a, "%s.%.*s", p->bucket, (int)hlen, hp);
	*origin = arena_printf(a, "%s://%s", scheme, *host);
	if (p->path_style)
		*path = key ? arena_printf(a, "/%s/%s", p->bucket, store_uri_encode(a, key, true))
		            : arena_printf(a, "/%s", p->bucket);
	else
		*path = key ? arena_printf(a, "/%s", store_uri_encode(a, key, true))
		            : arena_strdup(a, "/");
	return 0;
}

static void store_hmac(const unsigned char *key, size_t klen, const char *msg,
                       unsigned char out[32])
{
	crypto_hmac_sha256(key, klen, msg, strlen(msg), out);
}

/* A query-string SigV4 URL for method on key (see store.h). */
char *store_s3_presign(struct arena *a, const struct store_s3_params *p, const char *method,
                       const char *key, time_t now, long ttl_s)
{
	unsigned char digest[32], kdate[32], kregion[32], kservice[32], ksigning[32], sig[32];
	char amzdate[20], day[12], *origin, *host, *path, *scope, *query, *creq, *sts, *secret;
	const char *token;
	struct tm tm;

	if (p == NULL || method == NULL || key == NULL || !store_key_ok(key) || ttl_s < 1 ||
	    ttl_s > STORE_S3_TTL_MAX || p->region == NULL || p->region[0] == '\0' ||
	    p->access_key == NULL || p->access_key[0] == '\0' || p->secret_key == NULL ||
	    p->secret_key[0] == '\0' || method[0] == '\0' ||
	    strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method))
		return NULL;
	if (store_s3_target(a, p, key, &origin, &host, &path) != 0)
		return NULL;
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(amzdate, sizeof(amzdate), "%Y%m%dT%H%M%SZ", &tm) == 0 ||
	    strftime(day, sizeof(day), "%Y%m%d", &tm) == 0)
		return NULL;
	token = p->session_token != NULL && p->session_token[0] != '\0' ? p->session_token : NULL;
	scope = arena_printf(a, "%s/%s/s3/aws4_request", day, p->region);
	/* parameters in byte order of their names, values encoded once */
	query = arena_printf(
	        a,
	        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=%s"
	        "&X-Amz-Expires=%ld%s%s&X-Amz-SignedHeaders=host",
	        store_uri_encode(a, arena_printf(a, "%s/%s", p->access_key, scope), false), amzdate,
	        ttl_s, token ? "&X-Amz-Security-Token=" : "",
	        token ? store_uri_encode(a, token, false) : "");
	creq = arena_printf(a, "%s\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", method, path, query,
	                    host);
	crypto_sha256(creq, strlen(creq), digest);
	sts = arena_printf(a, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amzdate, scope,
	                   crypto_hex(a, digest, sizeof(digest)));
	secret = arena_printf(a, "AWS4%s", p->secret_key);
	store_hmac((const unsigned char *)secret, strlen(secret), day, kdate);
	store_hmac(kdate, sizeof(kdate), p->region, kregion);
	store_hmac(kregion, sizeof(kregion), "s3", kservice);
	store_hmac(kservice, sizeof(kservice), "aws4_request", ksigning);
	store_hmac(ksigning, sizeof(ksigning), sts, sig);
	return arena_printf(a, "%s%s?%s&X-Amz-Signature=%s", origin, path, query,
	                    crypto_hex(a, sig, sizeof(sig)));
}

/* c's parameters with the credentials from the environment; -1 (logged,
 * errno EACCES) when they are missing. */
static int store_s3_params_of(const struct store_cfg *c, struct store_s3_params *p)
{
	memset(p, 0, sizeof(*p));
	p->endpoint = c->endpoint;
	p->bucket = c->bucket;
	p->region = c->region;
	p->path_style = c->path_style;
	p->access_key = getenv("AWS_ACCESS_KEY_ID");
	p->secret_key = getenv("AWS_SECRET_ACCESS_KEY");
	p->session_token = getenv("AWS_SESSION_TOKEN");
	if (p->access_key == NULL || p->access_key[0] == '\0' || p->secret_key == NULL ||
	    p->secret_key[0] == '\0' || strchr(p->access_key, ':') != NULL) {
		log_error("storage: s3:// needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
		errno = EACCES;
		return -1;
	}
	return 0;
}

/* Presigned (method set) or plain (method NULL) URL of key (arena). */
static char *store_s3_url(struct arena *a, const struct store_cfg *c, const char *method,
                          const char *key, long ttl_s)
{
	struct store_s3_params p;
	char *origin, *host, *path, *url;

	if (method == NULL) {
		memset(&p, 0, sizeof(p));
		p.endpoint = c->endpoint;
		p.bucket = c->bucket;
		p.path_style = c->path_style;
		if (store_s3_target(a, &p, key, &origin, &host, &path) != 0)
			return NULL;
		return arena_printf(a, "%s%s", origin, path);
	}
	if (store_s3_params_of(c, &p) != 0)
		return NULL;
	url = store_s3_presign(a, &p, method, key, time(NULL), ttl_s);
	if (url == NULL)
		log_error("storage: cannot presign a URL for %s (ttl 1-%ld s)", key,
		          STORE_S3_TTL_MAX);
	return url;
}

/* One signed request; 0 when a response arrived (res filled), -1 (logged,
 * errno EFBIG over max, else EIO/EACCES) on transport failure. */
static int store_s3_call(struct arena *a, const struct store_cfg *c, const char *method,
                         const char *key, const char *query, const char *ctype, const void *body,
                         size_t len, size_t max, struct httpc_res *res)
{
	struct store_s3_params p;
	struct httpc_req req = {0};
	unsigned char sum[32];
	const char *hdrs[4];
	char *origin, *host, *path;
	size_t nh = 0;

	memset(res, 0, sizeof(*res));
	if (store_s3_params_of(c, &p) != 0)
		return -1;
	if (store_s3_target(a, &p, key, &origin, &host, &path) != 0) {
		log_error("storage: the s3 endpoint or bucket is not usable");
		errno = EINVAL;
		return -1;
	}
	crypto_sha256(body != NULL ? body : "", len, sum);
	hdrs[nh++] = arena_printf(a, "x-amz-content-sha256: %s", crypto_hex(a, sum, sizeof(sum)));
	if (ctype != NULL)
		hdrs[nh++] = arena_printf(a, "Content-Type: %s", ctype);
	if (p.session_token != NULL && p.session_token[0] != '\0')
		hdrs[nh++] = arena_printf(a, "x-amz-security-token: %s", p.session_token);
	hdrs[nh] = NULL;
	req.method = method;
	req.url = query ? arena_printf(a, "%s%s?%s", origin, path, query)
	                : arena_printf(a, "%s%s", origin, path);
	req.headers = hdrs;
	if (strcmp(method, "PUT") == 0) {
		req.body = body != NULL ? body : "";
		req.body_len = len;
	}
	req.max_response = max;
	req.aws_sigv4 = arena_printf(a, "aws:amz:%s:s3", p.region);
	req.userpwd = arena_printf(a, "%s:%s", p.access_key, p.secret_key);
	if (httpc_do(a, &req, res) != 0) {
		int e = strcmp(res->error, "response too large") == 0 ? EFBIG : EIO;

		if (e == EFBIG)
			log_warn("storage: %s is larger than the %zu bytes allowed", key ? key : "",
			         max);
		else
			log_error("storage: s3 %s %s: %s", method, key ? key : "(bucket)",
			          res->error);
		errno = e;
		return -1;
	}
	return 0;
}

/* Logs an S3 error answer and sets errno; always -1. */
static int store_s3_fail(struct arena *a, const char *what, const char *key,
                         const struct httpc_res *res)
{
	const char *code = strstr(res->body ? res->body : "", "<Code>"), *end = NULL;

	if (code != NULL) {
		code += 6;
		end = strstr(code, "</Code>");
	}
	log_error("storage: s3 %s %s: HTTP %ld %s", what, key ? key : "", res->status,
	          end ? arena_strndup(a, code, (size_t)(end - code)) : "");
	errno = res->status == 403 ? EACCES : EIO;
	return -1;
}

static int store_s3_put(struct arena *a, const struct store_cfg *c, const char *key,
                        const void *data, size_t len, const char *content_type,
                        struct store_object *out)
{
	struct httpc_res res;
	const char *etag;

	if (store_s3_call(a, c, "PUT", key, NULL, content_type, data, len, STORE_S3_SMALL_MAX,
	                  &res) != 0)
		return -1;
	if (res.status != 200)
		return store_s3_fail(a, "PUT", key, &res);
	if (out != NULL) {
		char md5[33];

		etag = kv_get(&res.headers, "etag");
		if (etag != NULL && strlen(etag) < sizeof(out->etag))
			snprintf(out->etag, sizeof(out->etag), "%s", etag);
		else if (store_md5_buf(data, len, md5) == 0)
			snprintf(out->etag, sizeof(out->etag), "\"%s\"", md5);
		out->size = len;
		snprintf(out->content_type, sizeof(out->content_type), "%s", content_type);
		out->modified = time(NULL);
	}
	return 0;
}

static int store_s3_get(struct arena *a, const struct store_cfg *c, const char *key, size_t max,
                        void **data, size_t *len)
{
	struct httpc_res res;
	/* room for an error document even when max is tiny */
	size_t cap = max < STORE_S3_SMALL_MAX  ? STORE_S3_SMALL_MAX
	             : max > STORE_S3_GET_CEIL ? STORE_S3_GET_CEIL
	                                       : max;

	if (store_s3_call(a, c, "GET", key, NULL, NULL, NULL, 0, cap, &res) != 0)
		return -1;
	if (res.status == 404) {
		errno = ENOENT;
		return -1;
	}
	if (res.status != 200)
		return store_s3_fail(a, "GET", key, &res);
	if (res.body_len > max) {
		log_warn("storage: %s is larger than the %zu bytes allowed", key, max);
		errno = EFBIG;
		return -1;
	}
	*data = res.body;
	*len = res.body_len;
	return 0;
}

static int store_s3_head(const struct store_cfg *c, const char *key, struct store_object *out)
{
	struct arena *a = arena_new();
	struct httpc_res res;
	const char *v;
	struct tm tm;
	int rc = -1, e = EIO;

	if (store_s3_call(a, c, "HEAD", key, NULL, NULL, NULL, 0, STORE_S3_GET_CEIL, &res) != 0) {
		e = errno;
		goto out;
	}
	if (res.status == 404) {
		e = ENOENT;
		goto out;
	}
	if (res.status != 200) {
		store_s3_fail(a, "HEAD", key, &res);
		e = errno;
		goto out;
	}
	v = kv_get(&res.headers, "content-length");
	if (v != NULL) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		if (v[0] >= '0' && v[0] <= '9' && *end == '\0' && errno == 0 && n <= SIZE_MAX)
			out->size = (size_t)n;
	}
	v = kv_get(&res.headers, "etag");
	if (v != NULL && strlen(v) < sizeof(out->etag))
		snprintf(out->etag, sizeof(out->etag), "%s", v);
	v = kv_get(&res.headers, "content-type");
	snprintf(out->content_type, sizeof(out->content_type), "%s",
	         v != NULL && store_ctype_ok(v) ? v : store_ctype_guess(key));
	v = kv_get(&res.headers, "last-modified");
	memset(&tm, 0, sizeof(tm));
	if (v != NULL) {
		const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);

		if (end != NULL && *end == '\0')
			out->modified = timegm(&tm);
	}
	rc = 0;
out:
	arena_free(a);
	if (rc != 0)
		errno = e;
	return rc;
}

static int store_s3_delete(const struct store_cfg *c, const char *key)
{
	struct arena *a = arena_new();
	struct httpc_res res;
	int rc = -1, e = EIO;

	if (store_s3_call(a, c, "DELETE", key, NULL, NULL, NULL, 0, STORE_S3_SMALL_MAX, &res) !=
	    0) {
		e = errno;
		goto out;
	}
	if (res.status != 204 && res.status != 200 && res.status != 404) {
		store_s3_fail(a, "DELETE", key, &res);
		e = errno;
		goto out;
	}
	rc = 0;
out:
	arena_free(a);
	if (rc != 0)
		errno = e;
	return rc;
}

/* The text of the first <tag>...</tag> element in [p, end) (raw, entities
 * not decoded) and its length; *next is set past it. NULL when none. */
static const char *store_xml_find(const char *p, const char *end, const char *tag, size_t *len,
                                  const char **next)
{
	size_t tl = strlen(tag);

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *v;

		if (lt == NULL)
			return NULL;
		p = lt + 1;
		if ((size_t)(end - lt) < tl + 2 || memcmp(lt + 1, tag, tl) != 0 ||
		    lt[tl + 1] != '>')
			continue;
		for (v = lt + tl + 2, p = v; p < end;) {
			const char *c = memchr(p, '<', (size_t)(end - p));

			if (c == NULL)
				return NULL;
			if ((size_t)(end - c) >= tl + 3 && c[1] == '/' &&
			    memcmp(c + 2, tag, tl) == 0 && c[tl + 2] == '>') {
				*len = (size_t)(c - v);
				*next = c + tl + 3;
				return v;
			}
			p = c + 1;
		}
		return NULL;
	}
	return NULL;
}

/* XML character data with its entities decoded (arena); NULL when an
 * entity is unknown or malformed, or decodes to NUL or a non-character. */
static char *store_xml_text(struct arena *a, const char *s, size_t n)
{
	static const struct {
		const char *name;
		char ch;
	} named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
	char *out = arena_alloc(a, n + 1);
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		const char *semi;
		size_t elen;
		bool done = false;

		if (s[i] != '&') {
			if (s[i] == '<')
				return NULL;
			out[j++] = s[i];
			continue;
		}
		semi = memchr(s + i, ';', n - i);
		if (semi == NULL || semi - (s + i) > 12)
			return NULL;
		elen = (size_t)(semi - (s + i + 1));
		for (size_t k = 0; k < sizeof(named) / sizeof(named[0]) && !done; k++)
			if (strlen(named[k].name) == elen &&
			    memcmp(s + i + 1, named[k].name, elen) == 0) {
				out[j++] = named[k].ch;
				done = true;
			}
		if (!done) {
			const char *d = s + i + 2;
			bool hex = d < semi && (*d == 'x' || *d == 'X');
			uint32_t cp = 0;

			if (s[i + 1] != '#' || d + hex >= semi)
				return NULL;
			for (d += hex; d < semi; d++) {
				int v = hex ? store_hexval(*d)
				            : (*d >= '0' && *d <= '9' ? *d - '0' : -1);

				if (v < 0)
					return NULL;
				cp = cp * (hex ? 16 : 10) + (uint32_t)v;
				if (cp > 0x10FFFF)
					return NULL;
			}
			if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
				return NULL;
			if (cp < 0x80) {
				out[j++] = (char)cp;
			} else if (cp < 0x800) {
				out[j++] = (char)(0xC0 | (cp >> 6));
				out[j++] = (char)(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				out[j++] = (char)(0xE0 | (cp >> 12));
				out[j++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				out[j++] = (char)(0x80 | (cp & 0x3F));
			} else {
				out[j++] = (char)(0xF0 | (cp >> 18));
				out[j++] = (char)(0x80 | ((cp >> 12) & 0x3F));
				out[j++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				out[j++] = (char)(0x80 | (cp & 0x3F));
			}
		}
		i = (size_t)(semi - s);
	}
	out[j] = '\0';
	return out;
}

/* ListObjectsV2 pages until max keys or the end; keys we could not store
 * (invalid by store_key_ok) are skipped. */
static const char **store_s3_list(struct arena *a, const struct store_cfg *c, const char *prefix,
                                  size_t max, size_t *n)
{
	const char **keys = arena_alloc(a, sizeof(*keys));
	const char *token = NULL;
	size_t got = 0, cap = 0;

	while (got < max) {
		size_t page = max - got < c->max_keys ? max - got : c->max_keys, vlen;
		const char *body, *end, *p, *next, *v;
		struct httpc_res res;
		char *query;
		bool truncated;

		/* parameters sorted by name, as SigV4 canonicalises them */
		query = arena_printf(a, "%s%s%slist-type=2&max-keys=%zu&prefix=%s",
		                     token ? "continuation-token=" : "",
		                     token ? store_uri_encode(a, token, false) : "",
		                     token ? "&" : "", page, store_uri_encode(a, prefix, false));
		if (store_s3_call(a, c, "GET", NULL, query, NULL, NULL, 0, STORE_S3_LIST_MAX,
		                  &res) != 0)
			return NULL;
		if (res.status != 200) {
			store_s3_fail(a, "list", prefix, &res);
			return NULL;
		}
		body = res.body;
		end = body + res.body_len;
		for (p = body; (v = store_xml_find(p, end, "Contents", &vlen, &next)) != NULL;
		     p = next) {
			const char *kn, *k = store_xml_find(v, v + vlen, "Key", &vlen, &kn);
			char *key = k ? store_xml_text(a, k, vlen) : NULL;

			if (key == NULL || !store_key_ok(key) ||
			    strncmp(key, prefix, strlen(prefix)) != 0)
				continue;
			if (got + 1 >= cap) {
				const char **bigger;

				cap = cap ? 2 * cap : 64;
				bigger = arena_alloc(a, cap * sizeof(*bigger));
				if (got > 0)
					memcpy(bigger, keys, got * sizeof(*keys));
				keys = bigger;
			}
			keys[got++] = key;
			if (got >= max)
				break;
		}
		v = store_xml_find(body, end, "IsTruncated", &vlen, &next);
		truncated = v != NULL && vlen == 4 && memcmp(v, "true", 4) == 0;
		if (!truncated || got >= max)
			break;
		v = store_xml_find(body, end, "NextContinuationToken", &vlen, &next);
		token = v ? store_xml_text(a, v, vlen) : NULL;
		if (token == NULL || token[0] == '\0') {
			log_error(
			        "storage: s3 list: a truncated page without a continuation token");
			errno = EIO;
			return NULL;
		}
	}
	keys[got] = NULL;
	*n = got;
	return keys;
}
