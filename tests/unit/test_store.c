/* test_store.c - the file:// object store: round trip, metadata the gateway
 * reads, atomic replace, listing, bad keys, signed and public URLs, the
 * gateway's entry points, symlink escapes; s3:// configuration and URLs
 * (requests to S3 are tested against s3rver in test_store_s3.py, the
 * presign against AWS's example in test_sigv4.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/evp.h>

#include "arena.h"
#include "config.h"
#include "kv.h"
#include "store.h"
#include "urlsign.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static const char secret[] = "integration-test-secret-0123456789";

struct fx {
	char dir[64];
	struct arena *a;
};

/* rm -rf of the fixture folder (paths built here, no symlinks inside). */
static void rmtree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	while (d && (e = readdir(d)) != NULL) {
		char sub[PATH_MAX];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) < (int)sizeof(sub))
			rmtree(sub);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char url[128];

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(url, sizeof(url), "file://%s/objects/", fx->dir);
	setenv("STORAGE_URL", url, 1);
	setenv("GATEWAY_PUBLIC_URL", "http://gw.test:8080/", 1);
	g_cfg.app_secret = secret;
	store_reset();
	fx->a = arena_new();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	arena_free(fx->a);
	rmtree(fx->dir);
	free(fx);
	unsetenv("STORAGE_URL");
	unsetenv("GATEWAY_PUBLIC_URL");
	store_reset();
	return 0;
}

static char *path_of(struct fx *fx, const char *sub, const char *key)
{
	return arena_printf(fx->a, "%s/objects/%s%s", fx->dir, sub, key);
}

static void md5_hex(const void *data, size_t len, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(data, len, md, &n, EVP_md5(), NULL), 1);
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The whole file, NUL-terminated (test helper, arena). */
static char *slurp(struct arena *a, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = arena_alloc(a, 65536);
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Files in a folder whose names start with ".put-" (writes left behind). */
static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, ".put-", 5) == 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

static void test_roundtrip(void **state)
{
	struct fx *fx = *state;
	static const unsigned char bytes[] = {0x89, 'P', 'N', 'G', 0, 1, 2, 0, 0xff};
	const char *key = "uploads/2026/01/abc.png";
	struct store_object o;
	char want[33], quoted[40];
	struct stat st;
	void *data = NULL;
	size_t len = 0;

	assert_int_equal(store_put(key, bytes, sizeof(bytes), "image/png"), 0);
	assert_int_equal(store_get(fx->a, key, 1024, &data, &len), 0);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(data, bytes, sizeof(bytes));
	assert_int_equal(((unsigned char *)data)[len], 0); /* NUL-terminated */

	assert_int_equal(store_head(key, &o), 0);
	md5_hex(bytes, sizeof(bytes), want);
	snprintf(quoted, sizeof(quoted), "\"%s\"", want);
	assert_string_equal(o.etag, quoted);
	assert_int_equal(o.size, sizeof(bytes));
	assert_string_equal(o.content_type, "image/png");
	assert_true(o.modified > time(NULL) - 60 && o.modified <= time(NULL) + 1);

	/* the object is a plain file at DIR/<key>, world-readable */
	assert_int_equal(stat(path_of(fx, "", key), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	/* too big for max: refused, not truncated */
	data = NULL;
	assert_int_equal(store_get(fx->a, key, sizeof(bytes) - 1, &data, &len), -1);
	assert_null(data);
	assert_int_equal(store_get(fx->a, key, sizeof(bytes), &data, &len), 0);

	/* an empty object */
	assert_int_equal(store_put("empty.txt", "", 0, NULL), 0);
	assert_int_equal(store_get(fx->a, "empty.txt", 10, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(store_head("empty.txt", &o), 0);
	assert_string_equal(o.etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
	assert_string_equal(o.content_type, "text/plain; charset=utf-8");
}

/* DIR/.meta/<key> is what deploy/local/gateway/storage.c reads: size, the
 * hex MD5 (unquoted), and the inode of the object file. */
static void test_metadata_for_gateway(void **state)
{
	struct fx *fx = *state;
	const char *key = "photos/p1/orig.jpg", *body = "\xff\xd8\xff hello";
	char want[33];
	struct stat st;
	cJSON *m;
	char *text;

	assert_int_equal(store_put(key, body, strlen(body), "image/jpeg"), 0);
	text = slurp(fx->a, path_of(fx, ".meta/", key), NULL);
	assert_non_null(text);
	m = cJSON_Parse(text);
	assert_non_null(m);
	assert_int_equal(stat(path_of(fx, "", key), &st), 0);
	md5_hex(body, strlen(body), want);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(m, "size")));
	assert_int_equal((long)cJSON_GetObjectItem(m, "size")->valuedouble, (long)strlen(body));
	assert_string_equal(cJSON_GetObjectItem(m, "etag")->valuestring, want);
	assert_string_equal(cJSON_GetObjectItem(m, "content_type")->valuestring, "image/jpeg");
	assert_true((unsigned long long)cJSON_GetObjectItem(m, "ino")->valuedouble ==
	            (unsigned long long)st.st_ino);
	cJSON_Delete(m);
}

/* A second put replaces the object whole; no temporary file stays; the
 * metadata follows the new file. */
static void test_atomic_replace(void **state)
{
	struct fx *fx = *state;
	const char *key = "docs/a.txt";
	struct store_object o;
	char want[33], quoted[40], *dir;
	struct stat before, after;
	void *data;
	size_t len;

	assert_int_equal(store_put(key, "first version", 13, "text/plain"), 0);
	assert_int_equal(stat(path_of(fx, "", key), &before), 0);
	assert_int_equal(store_put(key, "v2", 2, "text/plain"), 0);
	assert_int_equal(stat(path_of(fx, "", key), &after), 0);
	/* renamed into place: a new inode, never rewritten in place */
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(store_get(fx->a, key, 100, &data, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(data, "v2", 2);
	assert_int_equal(store_head(key, &o), 0);
	md5_hex("v2", 2, want);
	snprintf(quoted, sizeof(quoted), "\"%s\"", want);
	assert_string_equal(o.etag, quoted);
	dir = arena_printf(fx->a, "%s/objects/docs", fx->dir);
	assert_int_equal(count_tmp(dir), 0);
	assert_int_equal(count_tmp(arena_printf(fx->a, "%s/objects/.meta/docs", fx->dir)), 0);

	/* stale metadata (another inode) is not trusted: head hashes the file.
	 * The replacement is made beside the old file and renamed over it, so
	 * it cannot reuse the old inode number (an unlink first could). */
	{
		char *tmp = arena_printf(fx->a, "%s.swap", path_of(fx, "", key));
		FILE *f = fopen(tmp, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite("zz", 1, 2, f), 2);
		fclose(f);
		assert_int_equal(rename(tmp, path_of(fx, "", key)), 0);
	}
	assert_int_equal(store_head(key, &o), 0);
	md5_hex("zz", 2, want);
	snprintf(quoted, sizeof(quoted), "\"%s\"", want);
	assert_string_equal(o.etag, quoted);
}

static void test_missing_and_delete(void **state)
{
	struct fx *fx = *state;
	struct store_object o;
	struct stat st;
	void *data = NULL;
	size_t len = 7;

	errno = 0;
	assert_int_equal(store_get(fx->a, "no/such.txt", 10, &data, &len), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(data);
	assert_int_equal(len, 0);
	errno = 0;
	assert_int_equal(store_head("no/such.txt", &o), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_delete("no/such.txt"), 0);

	assert_int_equal(store_put("d/x.bin", "abc", 3, NULL), 0);
	assert_int_equal(store_head("d/x.bin", &o), 0);
	assert_string_equal(o.content_type, "application/octet-stream");
	assert_int_equal(store_delete("d/x.bin"), 0);
	assert_int_equal(stat(path_of(fx, "", "d/x.bin"), &st), -1);
	assert_int_equal(stat(path_of(fx, ".meta/", "d/x.bin"), &st), -1);
	errno = 0;
	assert_int_equal(store_get(fx->a, "d/x.bin", 10, &data, &len), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_delete("d/x.bin"), 0);

	/* a folder is not an object: get says missing, delete leaves it */
	assert_int_equal(store_put("d/sub/y.txt", "y", 1, NULL), 0);
	errno = 0;
	assert_int_equal(store_get(fx->a, "d/sub", 10, &data, &len), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_delete("d/sub"), 0);
	assert_int_equal(store_get(fx->a, "d/sub/y.txt", 10, &data, &len), 0);
	/* and a put onto a folder fails rather than destroying it */
	assert_int_equal(store_put("d/sub", "x", 1, NULL), -1);
}

static void test_list(void **state)
{
	struct fx *fx = *state;
	/* put in scrambled order; "a-c" sorts before "a/..." ('-' < '/') */
	static const char *const put[] = {"b",
	                                  "a/b",
	                                  "a-c",
	                                  "a/a/z",
	                                  "uploads/2026/02/y.png",
	                                  "uploads/2026/01/x.png",
	                                  "uploads/2027/01/q.gif"};
	static const char *const all[] = {"a-c",
	                                  "a/a/z",
	                                  "a/b",
	                                  "b",
	                                  "uploads/2026/01/x.png",
	                                  "uploads/2026/02/y.png",
	                                  "uploads/2027/01/q.gif"};
	static const struct {
		const char *prefix;
		size_t max, n;
		const char *first, *last;
	} cases[] = {
	        {"", 100, 7, "a-c", "uploads/2027/01/q.gif"},
	        {NULL, 100, 7, "a-c", "uploads/2027/01/q.gif"},
	        {"a", 100, 3, "a-c", "a/b"},
	        {"a/", 100, 2, "a/a/z", "a/b"},
	        {"uploads/", 100, 3, "uploads/2026/01/x.png", "uploads/2027/01/q.gif"},
	        {"uploads/2026", 100, 2, "uploads/2026/01/x.png", "uploads/2026/02/y.png"},
	        {"uploads/2026/0", 100, 2, "uploads/2026/01/x.png", "uploads/2026/02/y.png"},
	        {"uploads/2026/02/y.png", 100, 1, "uploads/2026/02/y.png", "uploads/2026/02/y.png"},
	        {"uploads/", 2, 2, "uploads/2026/01/x.png", "uploads/2026/02/y.png"},
	        {"", 1, 1, "a-c", "a-c"},
	        {"zzz", 100, 0, NULL, NULL},
	        {"nothing/here/", 100, 0, NULL, NULL},
	};
	const char **keys;
	size_t n;

	for (size_t i = 0; i < N(put); i++)
		assert_int_equal(store_put(put[i], put[i], strlen(put[i]), NULL), 0);
	/* a write in progress and a hidden file are never listed */
	{
		FILE *f = fopen(path_of(fx, "", "uploads/2026/01/.put-AbCdEf"), "w");

		assert_non_null(f);
		fclose(f);
	}
	keys = store_list(fx->a, "", 100, &n);
	assert_non_null(keys);
	assert_int_equal(n, N(all));
	for (size_t i = 0; i < N(all); i++)
		assert_string_equal(keys[i], all[i]);
	assert_null(keys[n]);

	for (size_t i = 0; i < N(cases); i++) {
		keys = store_list(fx->a, cases[i].prefix, cases[i].max, &n);
		assert_non_null(keys);
		if (n != cases[i].n)
			fail_msg("prefix %s: %zu keys, want %zu",
			         cases[i].prefix ? cases[i].prefix : "(null)", n, cases[i].n);
		assert_null(keys[n]);
		if (n > 0) {
			assert_string_equal(keys[0], cases[i].first);
			assert_string_equal(keys[n - 1], cases[i].last);
		}
	}
	/* a prefix that could climb out is refused */
	assert_null(store_list(fx->a, "../", 10, &n));
	assert_int_equal(n, 0);
	assert_null(store_list(fx->a, ".meta/", 10, &n));
}

static void test_bad_keys(void **state)
{
	struct fx *fx = *state;
	static const char *const bad[] = {
	        "",        "/abs",      "a//b",   "a/",   "..",     "../x",  "a/../b",      "a/./b",
	        ".meta/x", "a/.hidden", ".put-1", "a\\b", "a\x01z", "a\x7f", "bad\xff\xfe",
	};
	struct store_object o;
	struct stat st;
	void *data;
	size_t len;

	for (size_t i = 0; i < N(bad); i++) {
		assert_int_equal(store_put(bad[i], "x", 1, NULL), -1);
		assert_int_equal(store_get(fx->a, bad[i], 10, &data, &len), -1);
		assert_int_equal(store_head(bad[i], &o), -1);
		assert_int_equal(store_delete(bad[i]), -1);
		assert_null(store_presign_get(fx->a, bad[i], 60));
		assert_null(store_presign_put(fx->a, bad[i], 60));
		assert_null(store_public_url(fx->a, bad[i]));
	}
	assert_int_equal(store_put(NULL, "x", 1, NULL), -1);
	/* nothing escaped the root */
	assert_int_equal(stat(arena_printf(fx->a, "%s/x", fx->dir), &st), -1);
	/* a content type that would break a header */
	assert_int_equal(store_put("ok.txt", "x", 1, "text/plain\r\nX-Evil: 1"), -1);
}

/* Split <base>/storage/<key>?X-Expires=E&X-Signature=S and check it. */
static enum urlsign_result check_url(struct arena *a, const char *url, const char *method,
                                     const char *want_key)
{
	static const char base[] = "http://gw.test:8080/storage/";
	const char *q, *e, *s;
	char *key;

	assert_non_null(url);
	assert_int_equal(strncmp(url, base, strlen(base)), 0);
	q = strchr(url, '?');
	assert_non_null(q);
	key = kv_unescape(a, url + strlen(base), (size_t)(q - url - strlen(base)), false);
	assert_string_equal(key, want_key);
	assert_int_equal(strncmp(q, "?X-Expires=", 11), 0);
	e = q + 11;
	s = strstr(e, "&X-Signature=");
	assert_non_null(s);
	return urlsign_check(method, key, arena_strndup(a, e, (size_t)(s - e)), s + 13, time(NULL));
}

static void test_urls(void **state)
{
	struct fx *fx = *state;
	const char *key = "photos/a b/ü.jpg";
	char *get = store_presign_get(fx->a, key, 600);
	char *put = store_presign_put(fx->a, key, 600);
	char *pub;

	assert_int_equal(check_url(fx->a, get, "GET", key), URLSIGN_OK);
	assert_int_equal(check_url(fx->a, put, "PUT", key), URLSIGN_OK);
	/* a GET URL does not authorise a PUT, nor the reverse */
	assert_int_equal(check_url(fx->a, get, "PUT", key), URLSIGN_BAD);
	assert_int_equal(check_url(fx->a, put, "GET", key), URLSIGN_BAD);

	pub = store_public_url(fx->a, "uploads/2026/01/0123abcd.png");
	assert_non_null(pub);
	assert_string_equal(pub, "http://gw.test:8080/media/uploads/2026/01/0123abcd.png");
	pub = store_public_url(fx->a, key);
	assert_string_equal(pub, "http://gw.test:8080/media/photos/a%20b/%C3%BC.jpg");

	/* the default base when GATEWAY_PUBLIC_URL is unset */
	unsetenv("GATEWAY_PUBLIC_URL");
	store_reset();
	pub = store_public_url(fx->a, "x.png");
	assert_string_equal(pub, "http://127.0.0.1:8080/media/x.png");
}

/* store_put_object describes what it stored; store_file_open gives the
 * object's fd with the same description store_head gives. */
static void test_put_object_and_open(void **state)
{
	struct fx *fx = *state;
	struct store_object o, h, m;
	char md5[33], buf[16];
	int fd;

	md5_hex("pixels", 6, md5);
	assert_int_equal(store_put_object("photos/o/1.png", "pixels", 6, "image/png", &o), 0);
	assert_int_equal(o.size, 6);
	assert_string_equal(o.etag, arena_printf(fx->a, "\"%s\"", md5));
	assert_string_equal(o.content_type, "image/png");
	assert_true(o.modified > 0);
	assert_int_equal(store_head("photos/o/1.png", &h), 0);
	assert_string_equal(h.etag, o.etag);

	fd = store_file_open("photos/o/1.png", &m);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "pixels", 6);
	close(fd);
	assert_int_equal(m.size, 6);
	assert_string_equal(m.etag, o.etag);
	assert_string_equal(m.content_type, "image/png");

	errno = 0;
	assert_int_equal(store_file_open("photos/o/none.png", &m), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_file_open("../x", &m), -1);
	assert_int_equal(errno, EINVAL);

	/* a put below an object, or onto a folder, keeps errno for the gateway */
	assert_int_equal(store_put_object("photos/o/1.png/x", "x", 1, NULL, NULL), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(store_put_object("photos/o", "x", 1, NULL, NULL), -1);
	assert_int_equal(errno, EEXIST);
}

/* A symlinked folder does not lead reads or writes out of the store. */
static void test_symlink_escape(void **state)
{
	struct fx *fx = *state;
	char *outside = arena_printf(fx->a, "%s/outside", fx->dir);
	struct store_object o;
	void *data;
	size_t len;
	FILE *f;

	assert_int_equal(mkdir(outside, 0755), 0);
	assert_int_equal(store_put("x/keep.txt", "k", 1, NULL), 0);
	assert_int_equal(symlink(outside, path_of(fx, "", "link")), 0);
	assert_int_equal(symlink(outside, path_of(fx, ".meta/", "link")), 0);
	f = fopen(arena_printf(fx->a, "%s/secret.txt", outside), "w");
	assert_non_null(f);
	fputs("secret", f);
	fclose(f);

	assert_int_equal(store_get(fx->a, "link/secret.txt", 100, &data, &len), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_head("link/secret.txt", &o), -1);
	assert_int_equal(store_file_open("link/secret.txt", &o), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_put("link/new.txt", "n", 1, NULL), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(access(arena_printf(fx->a, "%s/new.txt", outside), F_OK), -1);
}

/* STORAGE_URL=s3://...: the configuration is parsed and checked, URLs need
 * no network; a bad s3:// URL makes every call fail instead of writing
 * locally. */
static void test_s3_config(void **state)
{
	static const char *const bad[] = {
	        "s3://",
	        "s3://bucket?endpoint=ftp://h",
	        "s3://bucket?endpoint=http://h/path",
	        "s3://bucket?region=EU_WEST",
	        "s3://bucket?path_style=yes",
	        "s3://bucket?max_keys=0",
	        "s3://bucket?max_keys=1001",
	        "s3://bucket?nope=1",
	        "s3://bucket?endpoint",
	        "s3://bu/cket",
	        "ftp://nope",
	};
	struct fx *fx = *state;
	struct store_object o;
	void *data;
	size_t len, n;
	const char *want;
	char *url;

	for (size_t i = 0; i < N(bad); i++) {
		setenv("STORAGE_URL", bad[i], 1);
		store_reset();
		assert_int_equal(store_put("k.txt", "x", 1, NULL), -1);
		assert_int_equal(store_get(fx->a, "k.txt", 10, &data, &len), -1);
		assert_int_equal(store_head("k.txt", &o), -1);
		assert_int_equal(store_delete("k.txt"), -1);
		assert_null(store_list(fx->a, "", 10, &n));
		assert_null(store_presign_get(fx->a, "k.txt", 60));
		assert_null(store_public_url(fx->a, "k.txt"));
	}

	setenv("STORAGE_URL", "s3://media-1?endpoint=http%3A%2F%2F127.0.0.1%3A9000%2F&path_style=1",
	       1);
	store_reset();
	assert_string_equal(store_public_url(fx->a, "uploads/a b.png"),
	                    "http://127.0.0.1:9000/media-1/uploads/a%20b.png");
	assert_int_equal(store_file_open("uploads/a b.png", &o), -1);
	assert_int_equal(errno, ENOTSUP);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_null(store_presign_get(fx->a, "k.txt", 60));
	assert_int_equal(store_put("k.txt", "x", 1, NULL), -1);
	assert_int_equal(errno, EACCES);

	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	setenv("STORAGE_URL", "s3://examplebucket?region=ap-guangzhou", 1);
	store_reset();
	url = store_presign_put(fx->a, "photos/o/1.jpg", 900);
	assert_non_null(url);
	want = "https://examplebucket.s3.ap-guangzhou.amazonaws.com/photos/o/1.jpg"
	       "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F";
	assert_memory_equal(url, want, strlen(want));
	assert_non_null(strstr(url, "%2Fap-guangzhou%2Fs3%2Faws4_request&X-Amz-Date="));
	assert_non_null(strstr(url, "&X-Amz-Expires=900&X-Amz-SignedHeaders=host&"));
	assert_null(store_presign_get(fx->a, "photos/o/1.jpg", 604801));
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_metadata_for_gateway, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_atomic_replace, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_missing_and_delete, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_urls, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_put_object_and_open, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_symlink_escape, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_s3_config, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
