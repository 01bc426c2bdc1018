/* store.c - object storage; the file:// backend (s3:// comes with the album
 * issue: until then every call on an s3:// URL fails and says so).
 *
 * The layout is the local gateway's (deploy/local/gateway/storage.c), so an
 * object put here is served by its /storage/ GET with the right ETag:
 *   DIR/<key>          the object's bytes (mode 0644)
 *   DIR/.meta/<key>    {"size":N,"etag":"<md5 hex>","content_type":"...","ino":N}
 *   DIR/.../.put-XXXX  writes in progress, renamed into place
 * Keys with a segment starting with "." are refused, so no key reaches the
 * metadata tree or a temporary file. A put is atomic: bytes and metadata go
 * to temporary files in their target folders, are fsync'd and renamed
 * (metadata first); a reader whose metadata does not describe the file it
 * opened (inode or size differ: a put raced it) hashes the file instead.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
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
#include "json.h"
#include "log.h"
#include "urlsign.h"

#define STORE_DEFAULT_DIR  ".data/objects"
#define STORE_DEFAULT_BASE "http://127.0.0.1:8080"
#define STORE_META_DIR     ".meta"
/* Folder depth store_list descends (keys are a few segments deep). */
#define STORE_LIST_DEPTH 32
/* Largest metadata file read back. */
#define STORE_META_MAX 1024

enum store_backend { STORE_UNSET, STORE_FILE, STORE_S3, STORE_BAD };

struct store_cfg {
	enum store_backend backend;
	char dir[PATH_MAX]; /* file://: the root, no trailing slash */
	char base[512];     /* GATEWAY_PUBLIC_URL, no trailing slash */
};

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_cfg store_cfg_cached;

/* ---- configuration ---- */

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
			c->backend = STORE_S3;
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

/* 0 with c filled for the file:// backend; -1 (logged) for any other. */
static int store_file_backend(struct store_cfg *c)
{
	store_config(c);
	if (c->backend == STORE_FILE)
		return 0;
	if (c->backend == STORE_S3)
		log_error("s3 storage is not available yet");
	else
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

/* ---- objects ---- */

/* Writes key atomically with its gateway metadata; 0 / -1 (logged). */
int store_put(const char *key, const void *data, size_t len, const char *content_type)
{
	char path[PATH_MAX], mpath[PATH_MAX], dir[PATH_MAX], mdir[PATH_MAX];
	char tmp[PATH_MAX] = "", mtmp[PATH_MAX] = "", etag[33];
	unsigned long long ino = 0;
	struct store_cfg c;
	struct stat st;
	cJSON *m = NULL;
	char *json = NULL;
	int rc = -1;

	if (store_file_backend(&c) != 0)
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
	if (store_paths(&c, key, path, mpath) != 0) {
		log_error("storage: put refused: the key is too long");
		return -1;
	}
	store_parent(path, dir);
	store_parent(mpath, mdir);
	if (store_mkdirs(dir) != 0 || store_mkdirs(mdir) != 0) {
		log_error("storage: cannot create the folder for %s: %s", key, strerror(errno));
		goto out;
	}
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		log_error("storage: cannot put %s: the key is a prefix of other objects", key);
		errno = EEXIST;
		goto out;
	}
	if (store_md5_buf(data, len, etag) != 0) {
		log_error("storage: cannot hash %s", key);
		goto out;
	}
	if (store_write_tmp(dir, data, len, tmp, &ino) != 0) {
		log_error("storage: cannot write %s: %s", key, strerror(errno));
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
		log_error("storage: cannot store the metadata of %s: %s", key, strerror(errno));
		goto out;
	}
	mtmp[0] = '\0';
	if (rename(tmp, path) != 0) {
		log_error("storage: cannot store %s: %s", key, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	store_fsync_dir(dir);
	store_fsync_dir(mdir);
	rc = 0;
out:
	if (tmp[0])
		unlink(tmp);
	if (mtmp[0])
		unlink(mtmp);
	free(json);
	cJSON_Delete(m);
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
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	return fd;
}

/* Reads key (at most max bytes) into the arena; -1/ENOENT when missing. */
int store_get(struct arena *a, const char *key, size_t max, void **data, size_t *len)
{
	char mpath[PATH_MAX];
	struct store_cfg c;
	struct stat st;
	unsigned char *buf;
	size_t size, got = 0;
	int fd, e;

	*data = NULL;
	*len = 0;
	if (store_file_backend(&c) != 0)
		return -1;
	if (!store_key_ok(key)) {
		log_error("storage: get refused: invalid key");
		errno = EINVAL;
		return -1;
	}
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

/* Size, quoted MD5 ETag, type and mtime of key; -1/ENOENT when missing. */
int store_head(const char *key, struct store_object *out)
{
	char mpath[PATH_MAX];
	struct store_meta m;
	struct store_cfg c;
	struct stat st;
	int fd, e, rc = -1;

	memset(out, 0, sizeof(*out));
	if (store_file_backend(&c) != 0)
		return -1;
	if (!store_key_ok(key)) {
		log_error("storage: head refused: invalid key");
		errno = EINVAL;
		return -1;
	}
	fd = store_open(&c, key, mpath, &st);
	if (fd < 0) {
		e = errno;
		if (e != ENOENT)
			log_error("storage: cannot open %s: %s", key, strerror(e));
		errno = e;
		return -1;
	}
	if (store_meta_read(mpath, &m) != 0) {
		memset(&m, 0, sizeof(m));
		m.ino = ~0ULL;
	}
	if (m.ino != (unsigned long long)st.st_ino || m.size != (unsigned long long)st.st_size) {
		/* no metadata, or a put replaced the file between the two opens */
		if (store_md5_fd(fd, m.etag) != 0) {
			log_error("storage: cannot hash %s", key);
			goto out;
		}
	}
	out->size = (size_t)st.st_size;
	snprintf(out->etag, sizeof(out->etag), "\"%s\"", m.etag);
	snprintf(out->content_type, sizeof(out->content_type), "%s",
	         m.content_type[0] ? m.content_type : store_ctype_guess(key));
	out->modified = st.st_mtime;
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Removes key and its metadata; a missing key is success. */
int store_delete(const char *key)
{
	char path[PATH_MAX], mpath[PATH_MAX];
	struct store_cfg c;
	struct stat st;

	if (store_file_backend(&c) != 0)
		return -1;
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

	*n = 0;
	if (store_file_backend(&c) != 0)
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

static char *store_presign(struct arena *a, const char *method, const char *key, long ttl_s)
{
	struct store_cfg c;
	char *url;

	if (store_file_backend(&c) != 0)
		return NULL;
	if (!store_key_ok(key)) {
		log_error("storage: cannot sign a URL for an invalid key");
		return NULL;
	}
	url = urlsign_url(a, c.base, method, key, ttl_s);
	if (url == NULL)
		log_error("storage: cannot sign a URL (is APP_SECRET set?)");
	return url;
}

/* A /storage/ URL signed for GET, valid ttl_s seconds (arena). */
char *store_presign_get(struct arena *a, const char *key, long ttl_s)
{
	return store_presign(a, "GET", key, ttl_s);
}

/* A /storage/ URL signed for PUT, valid ttl_s seconds (arena). */
char *store_presign_put(struct arena *a, const char *key, long ttl_s)
{
	return store_presign(a, "PUT", key, ttl_s);
}

/* GATEWAY_PUBLIC_URL "/media/" key, percent-encoded (arena). */
char *store_public_url(struct arena *a, const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	struct store_cfg c;
	size_t n, j = 0;
	char *enc;

	if (store_file_backend(&c) != 0)
		return NULL;
	if (!store_key_ok(key)) {
		log_error("storage: no public URL for an invalid key");
		return NULL;
	}
	/* percent-encoded per segment: unreserved bytes and "/" kept */
	n = strlen(key);
	enc = arena_alloc(a, 3 * n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)key[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~' ||
		    ch == '/') {
			enc[j++] = (char)ch;
		} else {
			enc[j++] = '%';
			enc[j++] = hex[ch >> 4];
			enc[j++] = hex[ch & 15];
		}
	}
	enc[j] = '\0';
	return arena_printf(a, "%s/media/%s", c.base, enc);
}
