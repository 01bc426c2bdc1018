/* thumbnails - the photo pipeline: for every new original under photos/o/
 * (the S3/COS ObjectCreated trigger, or the albums function's `complete`,
 * which sends the same S3-shaped event with fn_invoke_async), check it and
 * make its derived objects:
 *
 *   1. the photo row by object_key (none: skipped; ready: already done, so
 *      a repeated event changes nothing)
 *   2. the object (at most ALBUM_MAX_UPLOAD bytes)
 *   3. type from the magic number and dimensions from the header, before
 *      any decoding: unsupported, or over THUMB_MAX_PIXELS -> failed
 *   4. EXIF (JPEG): taken_at, camera, GPS, orientation
 *   5. render.c: thumbnail photos/t/<id>.jpg, display size photos/d/<id>.jpg
 *      (outputs live outside photos/o/, so they never re-trigger this)
 *   6. one UPDATE: ready with every derived column
 *
 * A photo that cannot be processed is marked failed with a reason and
 * answered 200 (retrying cannot help); a temporary error (database, storage)
 * is answered 500 so the async queue retries. Records are independent: each
 * is processed whatever happened to the others.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "fn.h"
#include "img.h"
#include "log.h"
#include "store.h"
#include "thumbnails.h"

#define ORIGINAL_PREFIX "photos/o/"

static int thumbs_s3(struct req *req, struct res *res);

static const struct route routes[] = {
        {"EVENT", "/events/s3", thumbs_s3},
        ROUTES_END,
};

static struct {
	long max_pixels;   /* THUMB_MAX_PIXELS */
	size_t max_upload; /* ALBUM_MAX_UPLOAD */
} g_thumbs;

/* A whole number from 1 to 10^10. */
static int parse_pixels(const char *v, void *dest, char *err, size_t errlen)
{
	long n;

	if (config_parse_long(v, &n, err, errlen) != 0 || n < 1 || n > 10000000000L) {
		(void)snprintf(err, errlen, "must be an integer from 1 to 10000000000");
		return -1;
	}
	*(long *)dest = n;
	return 0;
}

static const struct config_var thumbs_vars[] = {
        {"THUMB_MAX_PIXELS", "100000000", parse_pixels, &g_thumbs.max_pixels,
         "largest image (width x height) the pipeline decodes; larger photos fail"},
        {"ALBUM_MAX_UPLOAD", "30M", config_parse_size, &g_thumbs.max_upload,
         "largest original the pipeline reads; larger photos fail"},
};

/* What happened to one record. */
enum outcome { OUT_READY, OUT_ALREADY, OUT_FAILED, OUT_SKIPPED, OUT_RETRY };

static const char *const outcome_names[] = {"ready", "already_ready", "failed", "skipped", "error"};

/* ---- the records ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* An S3 event key is form-encoded ('+' for space, %XX); NULL when malformed. */
static char *key_decode(struct arena *a, const char *s)
{
	size_t n = strlen(s), j = 0;
	char *out = arena_alloc(a, n + 1);

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[j++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return NULL;
			hi = hexval(s[i + 1]);
			lo = hi < 0 ? -1 : hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			out[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

static const char *str_at(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b != NULL)
		x = cJSON_GetObjectItemCaseSensitive(x, b);
	if (c != NULL)
		x = cJSON_GetObjectItemCaseSensitive(x, c);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* The object key of an ObjectCreated record (S3 or COS); NULL for other
 * events or a record without a usable key. */
static char *record_key(struct arena *a, const cJSON *rec)
{
	const char *name, *key;

	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rec, "cos"))) {
		/* COS: "/<appid>/<bucket>/<key>" */
		name = str_at(rec, "event", "eventName", NULL);
		key = str_at(rec, "cos", "cosObject", "key");
		if (name == NULL || strstr(name, "ObjectCreated") == NULL || key == NULL)
			return NULL;
		if (key[0] == '/') {
			const char *p = strchr(key + 1, '/');

			p = p ? strchr(p + 1, '/') : NULL;
			if (p == NULL)
				return NULL;
			key = p + 1;
		}
		return key_decode(a, key);
	}
	name = str_at(rec, "eventName", NULL, NULL);
	key = str_at(rec, "s3", "object", "key");
	if (name == NULL || strstr(name, "ObjectCreated") == NULL || key == NULL)
		return NULL;
	return key_decode(a, key);
}

/* ---- the database ---- */

/* An upload may differ a little from its declared size (as upload.c's
 * complete allows); more is refused. */
#define DECLARED_SLACK (64 * 1024)

static const char sql_find[] =
        "SELECT id, status, size_bytes FROM photos WHERE object_key = $1";

static const char sql_processing[] =
        "UPDATE photos SET status = 'processing', failure_reason = NULL, updated_at = now() "
        "WHERE id = $1 AND status <> 'ready'";

/* A failed photo keeps its row (the owner sees the reason and deletes it)
 * but not its object: size 0, nothing stored, nothing counted in the quota. */
static const char sql_failed[] =
        "UPDATE photos SET status = 'failed', failure_reason = $2, size_bytes = 0, "
        "updated_at = now() WHERE id = $1 AND status <> 'ready'";

static const char sql_ready[] =
        "UPDATE photos SET status = 'ready', failure_reason = NULL, "
        "width = $2, height = $3, taken_at = COALESCE($4::timestamptz, taken_at), "
        "camera = $5, gps_lat = $6, gps_lon = $7, orientation = $8, phash = $9, "
        "color = $10, thumb_key = $11, display_key = $12, updated_at = now() "
        "WHERE id = $1";

/* Marks the photo failed and removes its original (no orphan object);
 * OUT_FAILED, or OUT_RETRY when the database fails. */
static enum outcome mark_failed(struct arena *a, const char *id, const char *key,
                                const char *reason)
{
	const char *p[2] = {id, reason};

	log_info("thumbnails: photo %s failed: %s", id, reason);
	if (db_exec(a, sql_failed, 2, p) < 0)
		return OUT_RETRY;
	if (store_delete(key) != 0)
		log_error("thumbnails: orphan object %s of failed photo %s", key, id);
	return OUT_FAILED;
}

/* "image is 20000x20000, over the 100 megapixel limit" */
static char *too_large(struct arena *a, const struct img_info *info)
{
	long mp = g_thumbs.max_pixels;

	if (mp % 1000000 == 0)
		return arena_printf(
		        a, "image is %" PRIu32 "x%" PRIu32 ", over the %ld megapixel limit",
		        info->width, info->height, mp / 1000000);
	return arena_printf(a, "image is %" PRIu32 "x%" PRIu32 ", over the %ld pixel limit",
	                    info->width, info->height, mp);
}

/* ---- one record ---- */

/* Stores both outputs and marks the photo ready. */
static enum outcome finish(struct arena *a, const char *id, const struct thumbs_out *o,
                           const struct img_exif *ex, const char **reason)
{
	char *tkey = arena_printf(a, "photos/t/%s.jpg", id);
	char *dkey = arena_printf(a, "photos/d/%s.jpg", id);
	const char *p[12];
	long n;

	if (store_put(tkey, o->thumb, o->thumb_len, "image/jpeg") != 0 ||
	    store_put(dkey, o->display, o->display_len, "image/jpeg") != 0) {
		*reason = "cannot store the outputs";
		return OUT_RETRY;
	}
	p[0] = id;
	p[1] = arena_printf(a, "%d", o->width);
	p[2] = arena_printf(a, "%d", o->height);
	p[3] = ex->taken_at[0] ? ex->taken_at : NULL;
	p[4] = ex->camera[0] ? ex->camera : NULL;
	p[5] = ex->has_gps ? arena_printf(a, "%.7f", ex->gps_lat) : NULL;
	p[6] = ex->has_gps ? arena_printf(a, "%.7f", ex->gps_lon) : NULL;
	p[7] = arena_printf(a, "%d", ex->orientation);
	p[8] = arena_printf(a, "%" PRId64, (int64_t)o->phash);
	p[9] = o->color;
	p[10] = tkey;
	p[11] = dkey;
	n = db_exec(a, sql_ready, 12, p);
	if (n < 0) {
		*reason = "database error";
		return OUT_RETRY;
	}
	if (n == 0) {
		/* purged while we worked: leave no orphan outputs behind */
		store_delete(tkey);
		store_delete(dkey);
		*reason = "the photo was deleted meanwhile";
		return OUT_SKIPPED;
	}
	log_info("thumbnails: photo %s ready (%dx%d)", id, o->width, o->height);
	return OUT_READY;
}

static enum outcome process(struct arena *a, const char *key, const char **photo_id,
                            const char **reason)
{
	struct thumbs_out out = {0};
	struct img_exif ex;
	struct img_info info;
	const char *p[1] = {key};
	const char *id, *status;
	long long declared;
	void *data = NULL;
	size_t len = 0;
	PGresult *r;
	char err[160] = "";
	enum outcome rc;

	if (key == NULL || strncmp(key, ORIGINAL_PREFIX, strlen(ORIGINAL_PREFIX)) != 0) {
		*reason = "not an original (photos/o/)";
		return OUT_SKIPPED;
	}
	r = db_query(a, sql_find, 1, p);
	if (r == NULL) {
		*reason = "database error";
		return OUT_RETRY;
	}
	if (PQntuples(r) == 0) {
		/* The row is created before the upload URL exists: an original
		 * without one belongs to a photo deleted meanwhile. */
		*reason = "no photo has this object key (object removed)";
		if (store_delete(key) != 0)
			log_error("thumbnails: orphan object %s", key);
		return OUT_SKIPPED;
	}
	id = PQgetvalue(r, 0, 0);
	status = PQgetvalue(r, 0, 1);
	declared = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	*photo_id = id;
	if (strcmp(status, "ready") == 0)
		return OUT_ALREADY;
	if (strcmp(status, "failed") == 0) {
		/* A late event for a photo already refused: it stays refused. */
		*reason = "the photo failed already";
		return OUT_SKIPPED;
	}
	p[0] = id;
	if (db_exec(a, sql_processing, 1, p) < 0) {
		*reason = "database error";
		return OUT_RETRY;
	}

	if (store_get(a, key, g_thumbs.max_upload, &data, &len) != 0) {
		if (errno == ENOENT)
			*reason = "the uploaded object is missing";
		else if (errno == EFBIG)
			*reason = arena_printf(a, "the file is larger than the %zu byte limit",
			                       g_thumbs.max_upload);
		else
			return *reason = "storage error", OUT_RETRY;
		return mark_failed(a, id, key, *reason);
	}
	if (len == 0)
		return mark_failed(a, id, key, *reason = "the file is empty");
	/* The quota was checked against the declared size: a presigned PUT of
	 * more than that (plus slack) is refused here. */
	if (declared > 0 && (long long)len > declared + DECLARED_SLACK)
		return mark_failed(a, id, key,
		                   *reason = arena_printf(a,
		                                          "the upload is %zu bytes, more than the "
		                                          "%lld declared",
		                                          len, declared));
	if (img_sniff(data, len, &info) != 0) {
		*reason = info.type == IMG_UNKNOWN ? "unsupported image type"
		                                   : "the image header is truncated or corrupt";
		return mark_failed(a, id, key, *reason);
	}
	if ((uint64_t)info.width * info.height > (uint64_t)g_thumbs.max_pixels)
		return mark_failed(a, id, key, *reason = too_large(a, &info));
	if (info.type == IMG_JPEG)
		img_exif_read(data, len, &ex);
	else
		img_exif_read(NULL, 0, &ex); /* the defaults */

	if (thumbs_render(data, len, &info, ex.orientation, (uint64_t)g_thumbs.max_pixels, &out,
	                  err, sizeof(err)) != 0)
		return mark_failed(a, id, key, *reason = arena_strdup(a, err));
	rc = finish(a, id, &out, &ex, reason);
	thumbs_out_release(&out);
	return rc;
}

/* EVENT /events/s3: every record in turn; 500 when any needs a retry. */
static int thumbs_s3(struct req *req, struct res *res)
{
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(req->event, "Records");
	const cJSON *rec;
	cJSON *root, *results;
	int retry = 0, total = 0;

	if (!cJSON_IsArray(recs))
		return res_error(res, 400, "invalid_event", "the event has no Records", NULL);
	root = cJSON_CreateObject();
	results = cJSON_AddArrayToObject(root, "results");
	cJSON_ArrayForEach(rec, recs)
	{
		const char *photo_id = NULL, *reason = NULL;
		char *key = record_key(req->arena, rec);
		enum outcome o = process(req->arena, key, &photo_id, &reason);
		cJSON *item = cJSON_CreateObject();

		total++;
		if (o == OUT_RETRY) {
			retry++;
			log_warn("thumbnails: %s needs a retry: %s", key ? key : "(no key)",
			         reason ? reason : "temporary error");
		}
		if (key != NULL)
			cJSON_AddStringToObject(item, "key", key);
		else
			cJSON_AddNullToObject(item, "key");
		if (photo_id != NULL)
			cJSON_AddStringToObject(item, "photo_id", photo_id);
		cJSON_AddStringToObject(item, "outcome", outcome_names[o]);
		if (reason != NULL)
			cJSON_AddStringToObject(item, "reason", reason);
		cJSON_AddItemToArray(results, item);
	}
	if (retry > 0) {
		cJSON *e = cJSON_AddObjectToObject(root, "error");

		cJSON_AddStringToObject(e, "code", "temporary_error");
		cJSON_AddStringToObject(
		        e, "message",
		        arena_printf(req->arena, "%d of %d records hit a temporary error; retry",
		                     retry, total));
		return res_json(res, 500, root);
	}
	return res_json(res, 200, root);
}

/* Cold start: the function's own configuration. */
static int thumbs_init(void)
{
	char err[256] = "";

	if (config_load(thumbs_vars, sizeof(thumbs_vars) / sizeof(thumbs_vars[0]), err,
	                sizeof(err)) != 0) {
		log_error("configuration error: %s", err);
		return -1;
	}
	return 0;
}

static const struct fn_app app = {"thumbnails", routes, thumbs_init};

/* The function entry point: fn_main picks the runtime. */
int main(int argc, char **argv)
{
	return fn_main(argc, argv, &app);
}
