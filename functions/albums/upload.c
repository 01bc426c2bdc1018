/* upload.c - getting a photo's bytes in: a photo in state `uploading` with a
 * presigned PUT URL, the idempotent `complete`, small direct uploads, and
 * the per-user quotas.
 *
 * Presigned upload: POST /api/albums/{id}/photos declares the type and size;
 * the photo row (state uploading, size_bytes = the declared size, so pending
 * uploads count against the quota) and its key photos/o/<photo id>.<ext>
 * are made here, and the client PUTs the bytes straight to storage. The
 * storage trigger (S3/COS ObjectCreated, or the local gateway's event) or
 * POST /api/photos/{id}/complete then starts the `thumbnails` pipeline.
 *
 * Complete is idempotent: a photo past `uploading` is answered as it is (a
 * failed photo stays failed). For an uploading photo the object must exist
 * (409 upload_missing); an object larger than declared (beyond
 * UPLOAD_SIZE_SLACK), empty, over ALBUM_MAX_UPLOAD or over the quota marks
 * the photo failed and is deleted (422). Otherwise, in one transaction, the
 * photo becomes `processing` and an S3-shaped ObjectCreated event for its
 * key is queued for `thumbnails` (fn_invoke_async); if the queue refuses,
 * the transaction rolls back, the photo stays `uploading` and the answer is
 * 503 with Retry-After, so the client retries complete.
 *
 * Direct upload (up to ALBUM_DIRECT_MAX, the FaaS payload limit): a raw
 * image body or multipart/form-data with a "file" part; the magic number
 * decides the type and must agree with the declared one (415). The row is
 * inserted and the object stored inside one transaction (a failed put rolls
 * the row back), then the pipeline is started as for complete; when that
 * fails the row and the object are removed again (503): no orphan rows, no
 * orphan objects.
 *
 * Quotas: the caller's photos not purged (trashed ones count until purged),
 * their size_bytes summed and counted, plus the new photo, against
 * app_users.quota_bytes / quota_photos or ALBUM_QUOTA_BYTES /
 * ALBUM_QUOTA_PHOTOS: over either is 422 quota_exceeded naming the limit,
 * and nothing is stored. The user's row is locked for the check and the
 * insert, so two concurrent uploads cannot both squeeze under the limit.
 *
 * File order: configuration, image types, quota, photo view, pipeline
 * start, handlers, then SQL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "albums.h"
#include "arena.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "imgtype.h"
#include "invoke.h"
#include "json.h"
#include "log.h"
#include "multipart.h"
#include "store.h"

/* Presigned PUT URLs are valid this long. */
#define UPLOAD_PUT_TTL_S 900
/* How much larger than declared an uploaded object may be. */
#define UPLOAD_SIZE_SLACK (64 * 1024)
/* Room for a multipart envelope around a direct upload. */
#define UPLOAD_ENVELOPE (64 * 1024)
#define UPLOAD_DESC_MAX 2000
#define UPLOAD_TAG_MAX  50
#define UPLOAD_TAGS_MAX 30
/* The pipeline's function name. */
#define UPLOAD_PIPELINE "thumbnails"

static const char *const SQL_QUOTA_LOCK;
static const char *const SQL_ALBUM_SHARE;
static const char *const SQL_INSERT;
static const char *const SQL_TAG_INSERT;
static const char *const SQL_PHOTO;
static const char *const SQL_PHOTO_STATE;
static const char *const SQL_START;
static const char *const SQL_FAIL;
static const char *const SQL_DELETE_UPLOADING;

/* ---- configuration ---- */

static size_t upload_max = (size_t)30 << 20;

static const struct config_var upload_vars[] = {
        {"ALBUM_MAX_UPLOAD", "30M", config_parse_size, &upload_max,
         "largest photo a presigned upload may declare (413 above)"},
};

/* Reads upload_vars (cold start; the defaults until then). 0, or -1 after
 * printing the bad variable. */
int album_upload_init(void)
{
	char err[200];

	if (config_load(upload_vars, sizeof(upload_vars) / sizeof(upload_vars[0]), err,
	                sizeof(err)) != 0) {
		log_error("configuration error: %s", err);
		return -1;
	}
	if (upload_max < 1) {
		log_error("configuration error: ALBUM_MAX_UPLOAD must be at least 1");
		return -1;
	}
	return 0;
}

/* ---- helpers ---- */

static int upload_not_found(struct res *res, const char *what)
{
	return res_errorf(res, 404, "not_found", NULL, "%s not found", what);
}

static int upload_internal(struct res *res)
{
	return res_error(res, 500, "internal_error", "internal error", NULL);
}

static int upload_storage_failed(struct res *res)
{
	res_header_set(res, "Retry-After", "1");
	return res_error(res, 503, "storage_unavailable", "the object store failed; retry", NULL);
}

static long long upload_ll(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Locks the caller's user row and checks that adding one photo of add
 * bytes stays within both quotas (photo except, when given, left out of the
 * usage). 0 within; 1 over, *over naming the limit (arena); -1 with res
 * filled (404 when the user is gone, or the database error). Runs inside
 * the caller's transaction. */
static int upload_quota(struct req *req, struct res *res, const char *owner, long long add,
                        const char *except, const char **over)
{
	char dbytes[32], dphotos[32];
	const char *p[4] = {owner, dbytes, dphotos, except};
	long long limit_b, limit_n, used_b, used_n;
	PGresult *r;

	snprintf(dbytes, sizeof(dbytes), "%zu", album_cfg()->quota_bytes);
	snprintf(dphotos, sizeof(dphotos), "%ld", album_cfg()->quota_photos);
	r = db_query(req->arena, SQL_QUOTA_LOCK, 4, p);
	if (r == NULL)
		return db_fail(res), -1;
	if (PQntuples(r) != 1)
		return upload_not_found(res, "user"), -1;
	limit_b = upload_ll(r, 0, 0);
	limit_n = upload_ll(r, 0, 1);
	used_b = upload_ll(r, 0, 2);
	used_n = upload_ll(r, 0, 3);
	if (used_n + 1 > limit_n) {
		*over = arena_printf(req->arena,
		                     "photo count quota exceeded: %lld of %lld photos used", used_n,
		                     limit_n);
		return 1;
	}
	if (add > limit_b - used_b) {
		*over = arena_printf(req->arena,
		                     "storage quota exceeded: %lld of %lld bytes used, this photo "
		                     "needs %lld",
		                     used_b, limit_b, add);
		return 1;
	}
	return 0;
}

/* The photo as the API shows it (caller owns), NULL when gone or on a
 * database error (db_last_error() tells). */
static cJSON *upload_photo_json(struct arena *a, const char *owner, const char *id)
{
	const char *p[2] = {id, owner};
	PGresult *r = db_query(a, SQL_PHOTO, 2, p);

	if (r == NULL || PQntuples(r) != 1)
		return NULL;
	return db_row_json(r, 0);
}

/* Answers status with {"photo": ...} read back. */
static int upload_answer(struct req *req, struct res *res, int status, const char *owner,
                         const char *id)
{
	cJSON *photo = upload_photo_json(req->arena, owner, id), *root;

	if (photo == NULL)
		return db_last_error() == DB_OK ? upload_not_found(res, "photo") : db_fail(res);
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "photo", photo);
	return res_json(res, status, root);
}

/* The bucket name S3 events carry: the s3:// URL's, else "local" (the local
 * gateway's). Arena-owned. */
static const char *upload_bucket(struct arena *a)
{
	const char *url = getenv("STORAGE_URL");
	size_t n;

	if (url == NULL || strncmp(url, "s3://", 5) != 0)
		return "local";
	url += 5;
	n = strcspn(url, "/?");
	return n > 0 ? arena_strndup(a, url, n) : "local";
}

/* An S3 ObjectCreated:Put notification (AWS's documented shape, as the
 * local gateway sends) for key; malloc'd, caller frees. Keys are
 * [A-Za-z0-9/._-] only, so no escaping is needed. */
static char *upload_event(struct arena *a, const char *key, long long size)
{
	cJSON *root = cJSON_CreateObject(), *recs, *rec, *s3, *b, *o, *x;
	const char *bucket = upload_bucket(a);
	char when[32];
	struct tm tm;
	time_t now = time(NULL);
	char *out;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
		when[0] = '\0';
	recs = cJSON_AddArrayToObject(root, "Records");
	rec = cJSON_CreateObject();
	cJSON_AddItemToArray(recs, rec);
	cJSON_AddStringToObject(rec, "eventVersion", "2.1");
	cJSON_AddStringToObject(rec, "eventSource", "aws:s3");
	cJSON_AddStringToObject(rec, "awsRegion",
	                        getenv("AWS_REGION") ? getenv("AWS_REGION") : "local");
	cJSON_AddStringToObject(rec, "eventTime", when);
	cJSON_AddStringToObject(rec, "eventName", "ObjectCreated:Put");
	x = cJSON_AddObjectToObject(rec, "userIdentity");
	cJSON_AddStringToObject(x, "principalId", "albums");
	s3 = cJSON_AddObjectToObject(rec, "s3");
	cJSON_AddStringToObject(s3, "s3SchemaVersion", "1.0");
	cJSON_AddStringToObject(s3, "configurationId", "albums-complete");
	b = cJSON_AddObjectToObject(s3, "bucket");
	cJSON_AddStringToObject(b, "name", bucket);
	cJSON_AddStringToObject(b, "arn", arena_printf(a, "arn:aws:s3:::%s", bucket));
	o = cJSON_AddObjectToObject(s3, "object");
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddNumberToObject(o, "size", (double)size);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

enum start_result { START_OK, START_DONE, START_QUEUE_FAILED, START_DB_FAILED };

/* Moves an uploading photo to processing and queues the pipeline's event,
 * in one transaction: START_OK; START_DONE when the photo is no longer
 * uploading (another call got there first); START_QUEUE_FAILED (rolled
 * back, the photo stays uploading) or START_DB_FAILED (db_last_error()). */
static enum start_result upload_start(struct arena *a, const char *owner, const char *id,
                                      const char *key, long long size)
{
	char sz[32];
	const char *p[3] = {id, owner, sz};
	enum start_result rc = START_DB_FAILED;
	char *event = NULL;
	long n;

	snprintf(sz, sizeof(sz), "%lld", size);
	if (db_begin() != 0)
		return START_DB_FAILED;
	n = db_exec(a, SQL_START, 3, p);
	if (n < 0)
		goto out;
	if (n == 0) {
		rc = START_DONE;
		goto out;
	}
	event = upload_event(a, key, size);
	if (event == NULL || fn_invoke_async(UPLOAD_PIPELINE, event, strlen(event)) != 0) {
		log_error("photo %s: the pipeline could not be queued; it stays uploading", id);
		rc = START_QUEUE_FAILED;
		goto out;
	}
	if (db_commit() != 0)
		goto out;
	rc = START_OK;
out:
	free(event);
	if (rc != START_OK)
		db_rollback();
	return rc;
}

static int upload_queue_failed(struct res *res)
{
	res_header_set(res, "Retry-After", "5");
	return res_error(res, 503, "pipeline_unavailable",
	                 "the photo could not be queued for processing; retry", NULL);
}

/* Reads description (0..2000) and tags (array of 1..50-character strings,
 * at most 30) from obj. 0, or -1 with res filled. */
static int upload_meta(struct res *res, const cJSON *obj, const char **desc, const cJSON **tags)
{
	const cJSON *t, *it;

	*desc = "";
	*tags = NULL;
	if (obj == NULL)
		return 0;
	if (json_str(res, obj, "description", false, 0, UPLOAD_DESC_MAX, desc))
		return -1;
	t = cJSON_GetObjectItemCaseSensitive(obj, "tags");
	if (t == NULL || cJSON_IsNull(t))
		return 0;
	if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) > UPLOAD_TAGS_MAX) {
		res_errorf(res, 422, "validation_failed", "tags",
		           "tags must be an array of at most %d strings", UPLOAD_TAGS_MAX);
		return -1;
	}
	cJSON_ArrayForEach(it, t)
	{
		long len = cJSON_IsString(it) ? json_utf8_len(it->valuestring) : -1;

		if (len < 1 || len > UPLOAD_TAG_MAX) {
			res_errorf(res, 422, "validation_failed", "tags",
			           "each tag is 1 to %d characters of text", UPLOAD_TAG_MAX);
			return -1;
		}
	}
	*tags = t;
	return 0;
}

struct new_photo {
	const char *owner, *album, *id, *key, *mime, *desc;
	const cJSON *tags;
	long long size;
	const char *status;
};

/* In the caller's open transaction: quota, the album (locked against its
 * deletion), the row and its tags. 0, or -1 with res filled. */
static int upload_insert(struct req *req, struct res *res, const struct new_photo *np)
{
	char sz[32];
	const char *pa[2] = {np->album, np->owner};
	const char *pi[8] = {np->id,   np->owner, np->album, np->key,
	                     np->mime, sz,        np->desc,  np->status};
	const char *over = NULL;
	const cJSON *it;
	PGresult *r;
	int q;

	snprintf(sz, sizeof(sz), "%lld", np->size);
	q = upload_quota(req, res, np->owner, np->size, NULL, &over);
	if (q < 0)
		return -1;
	if (q > 0)
		return res_error(res, 422, "quota_exceeded", over, NULL), -1;
	r = db_query(req->arena, SQL_ALBUM_SHARE, 2, pa);
	if (r == NULL)
		return db_fail(res), -1;
	if (PQntuples(r) != 1)
		return upload_not_found(res, "album"), -1;
	if (db_exec(req->arena, SQL_INSERT, 8, pi) != 1)
		return db_fail(res), -1;
	cJSON_ArrayForEach(it, np->tags)
	{
		const char *pt[2] = {np->id, it->valuestring};

		if (db_exec(req->arena, SQL_TAG_INSERT, 2, pt) < 0)
			return db_fail(res), -1;
	}
	return 0;
}

/* ---- handlers ---- */

/* POST /api/albums/{id}/photos {content_type, size, description?, tags?}
 * -> 201 {photo, upload: {url, method, headers, expires_at}}. */
int photos_create(struct req *req, struct res *res)
{
	struct auth_user me;
	const char *album = req_param(req, "id"), *ctype, *url;
	enum img_type type;
	const cJSON *body;
	struct new_photo np = {0};
	int64_t size;
	char expires[32];
	time_t exp;
	struct tm tm;
	cJSON *root, *up, *hdrs, *photo;

	if (auth_require_user(req, res, &me))
		return res->status;
	if (!album_id_valid(album))
		return upload_not_found(res, "album");
	if (json_body(req, res, &body) || json_str(res, body, "content_type", true, 1, 100, &ctype))
		return res->status;
	type = imgtype_declared(ctype);
	if (type == IMG_UNKNOWN)
		return res_error(
		        res, 422, "validation_failed",
		        "content_type must be image/jpeg, image/png, image/webp or image/gif",
		        "content_type");
	if (json_i64(res, body, "size", true, 1, INT64_MAX, &size))
		return res->status;
	if ((uint64_t)size > upload_max)
		return res_errorf(res, 413, "payload_too_large", "size",
		                  "a photo may be at most %zu bytes", upload_max);
	if (upload_meta(res, body, &np.desc, &np.tags))
		return res->status;

	np.owner = album_owner(req->arena, &me);
	np.album = album;
	np.id = album_new_id(req->arena);
	if (np.id == NULL)
		return upload_internal(res);
	np.key = arena_printf(req->arena, "photos/o/%s.%s", np.id, imgtype_ext(type));
	np.mime = imgtype_mime(type);
	np.size = size;
	np.status = "uploading";
	url = store_presign_put(req->arena, np.key, UPLOAD_PUT_TTL_S);
	if (url == NULL)
		return upload_internal(res);

	if (db_begin() != 0)
		return db_fail(res);
	if (upload_insert(req, res, &np) != 0) {
		db_rollback();
		return res->status;
	}
	photo = upload_photo_json(req->arena, np.owner, np.id);
	if (photo == NULL || db_commit() != 0) {
		cJSON_Delete(photo);
		db_rollback();
		return db_fail(res);
	}

	exp = time(NULL) + UPLOAD_PUT_TTL_S;
	if (gmtime_r(&exp, &tm) == NULL ||
	    strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		expires[0] = '\0';
	log_info("user %" PRId64 " created photo %s (%s, %" PRId64 " bytes declared)", me.id, np.id,
	         imgtype_mime(type), size);
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "photo", photo);
	up = cJSON_AddObjectToObject(root, "upload");
	cJSON_AddStringToObject(up, "url", url);
	cJSON_AddStringToObject(up, "method", "PUT");
	hdrs = cJSON_AddObjectToObject(up, "headers");
	cJSON_AddStringToObject(hdrs, "Content-Type", imgtype_mime(type));
	cJSON_AddStringToObject(up, "expires_at", expires);
	res_header_set(res, "Location", arena_printf(req->arena, "/api/photos/%s", np.id));
	return res_json(res, 201, root);
}

/* In the caller's open transaction: marks an uploading photo failed with
 * message as its reason and commits; then deletes its object (after the
 * commit, so a failed commit leaves the upload as it was) and answers 422
 * code/message. A photo no longer uploading is answered as it is (200).
 * On a database failure: rolled back, res filled. */
static int upload_reject(struct req *req, struct res *res, const char *owner, const char *id,
                         const char *key, const char *code, const char *message)
{
	const char *p[3] = {id, owner, message};
	long n = db_exec(req->arena, SQL_FAIL, 3, p);

	if (n < 0 || db_commit() != 0) {
		db_rollback();
		return db_fail(res);
	}
	if (n == 0) /* no longer uploading: a concurrent call decided */
		return upload_answer(req, res, 200, owner, id);
	if (store_delete(key) != 0)
		log_error("photo %s: orphan object %s (delete failed)", id, key);
	log_info("photo %s failed: %s", id, message);
	return res_error(res, 422, code, message, NULL);
}

/* POST /api/photos/{id}/complete -> 202 {photo} (processing started), 200
 * {photo} (already past uploading), 409 upload_missing, 422 (rejected: the
 * photo is failed and its object gone), 503 (retry). */
int photos_complete(struct req *req, struct res *res)
{
	struct auth_user me;
	struct store_object head;
	const char *id = req_param(req, "id"), *owner, *key, *status, *over = NULL;
	const char *p[2];
	int q;
	long long declared, used;
	enum start_result sr;
	PGresult *r;

	if (auth_require_user(req, res, &me))
		return res->status;
	if (!album_id_valid(id))
		return upload_not_found(res, "photo");
	owner = album_owner(req->arena, &me);
	p[0] = id;
	p[1] = owner;
	r = db_query(req->arena, SQL_PHOTO_STATE, 2, p);
	if (r == NULL)
		return db_fail(res);
	if (PQntuples(r) != 1)
		return upload_not_found(res, "photo");
	status = PQgetvalue(r, 0, 0);
	key = PQgetvalue(r, 0, 1);
	declared = upload_ll(r, 0, 2);
	if (strcmp(status, "uploading") != 0)
		return upload_answer(req, res, 200, owner, id);

	if (store_head(key, &head) != 0) {
		if (errno == ENOENT)
			return res_error(res, 409, "upload_missing",
			                 "the photo's bytes have not been uploaded yet", NULL);
		return upload_storage_failed(res);
	}
	used = (long long)head.size;
	if (head.size == 0 || (unsigned long long)head.size > upload_max ||
	    used > declared + UPLOAD_SIZE_SLACK) {
		const char *why = head.size == 0 ? "the uploaded file is empty"
		                                 : "the uploaded file is larger than declared";

		if (db_begin() != 0)
			return db_fail(res);
		return upload_reject(req, res, owner, id, key, "upload_rejected", why);
	}
	/* the real size against the quota, this photo's reservation aside */
	if (db_begin() != 0)
		return db_fail(res);
	q = upload_quota(req, res, owner, used, id, &over);
	if (q > 0)
		return upload_reject(req, res, owner, id, key, "quota_exceeded", over);
	if (q < 0) {
		db_rollback();
		return res->status;
	}
	db_rollback(); /* only the lock was taken */

	sr = upload_start(req->arena, owner, id, key, used);
	if (sr == START_QUEUE_FAILED)
		return upload_queue_failed(res);
	if (sr == START_DB_FAILED)
		return db_fail(res);
	if (sr == START_OK)
		log_info("photo %s uploaded (%lld bytes), processing", id, used);
	return upload_answer(req, res, sr == START_OK ? 202 : 200, owner, id);
}

static int upload_too_large(struct res *res)
{
	return res_errorf(res, 413, "payload_too_large", NULL,
	                  "a direct upload may be at most %zu bytes; use a presigned upload",
	                  album_cfg()->direct_max);
}

static int upload_bad_type(struct res *res, const char *why)
{
	return res_error(res, 415, "unsupported_media_type", why, NULL);
}

/* The direct upload's image (raw body or multipart "file") and, from a
 * multipart form, its "description". 0, or -1 with res filled. */
static int upload_direct_read(struct req *req, struct res *res, struct multipart_part *part,
                              enum img_type *type, const char **desc)
{
	enum img_type declared = IMG_UNKNOWN;
	const char *header = req_header(req, "content-type"), *params;
	size_t max = album_cfg()->direct_max;
	char *mt;

	*desc = "";
	if (header == NULL)
		return upload_bad_type(res, "send an image (image/jpeg, image/png, image/gif, "
		                            "image/webp) or multipart/form-data"),
		       -1;
	mt = multipart_media_type(req->arena, header, &params);
	if (strcmp(mt, "multipart/form-data") == 0) {
		const char *boundary = multipart_param(req->arena, params, "boundary");
		struct multipart_part dpart;
		enum multipart_result found;

		if (boundary == NULL || !multipart_boundary_valid(boundary))
			return res_error(res, 400, "invalid_multipart",
			                 "the multipart boundary is missing or invalid", NULL),
			       -1;
		if (req->body_len > max + UPLOAD_ENVELOPE)
			return upload_too_large(res), -1;
		found = multipart_find(req->arena, req->body, req->body_len, boundary, "file",
		                       part);
		if (found == MULTIPART_MALFORMED)
			return res_error(res, 400, "invalid_multipart",
			                 "the multipart body is malformed", NULL),
			       -1;
		if (found == MULTIPART_NO_PART)
			return res_error(res, 422, "validation_failed",
			                 "the form has no \"file\" part", "file"),
			       -1;
		/* a part without a type, or a generic one, is judged by its bytes */
		if (part->ctype != NULL && strcmp(part->ctype, "application/octet-stream") != 0) {
			declared = imgtype_declared(part->ctype);
			if (declared == IMG_UNKNOWN)
				return upload_bad_type(res,
				                       "the file is not a supported image type"),
				       -1;
		}
		if (multipart_find(req->arena, req->body, req->body_len, boundary, "description",
		                   &dpart) == MULTIPART_FOUND) {
			char *d = arena_strndup(req->arena, (const char *)dpart.data, dpart.len);
			long n = json_utf8_len(d);

			if (strlen(d) != dpart.len || n < 0 || n > UPLOAD_DESC_MAX)
				return res_errorf(res, 422, "validation_failed", "description",
				                  "description is at most %d characters of text",
				                  UPLOAD_DESC_MAX),
				       -1;
			*desc = d;
		}
	} else {
		declared = imgtype_declared(mt);
		if (declared == IMG_UNKNOWN)
			return upload_bad_type(res,
			                       "only JPEG, PNG, GIF and WebP images are accepted"),
			       -1;
		part->data = req->body;
		part->len = req->body_len;
	}
	if (part->len > max)
		return upload_too_large(res), -1;
	if (part->len == 0)
		return res_error(res, 422, "validation_failed", "the file is empty", "file"), -1;
	*type = imgtype_sniff(part->data, part->len);
	if (*type == IMG_UNKNOWN)
		return upload_bad_type(res, "the file is not a JPEG, PNG, GIF or WebP image"), -1;
	if (declared != IMG_UNKNOWN && declared != *type)
		return upload_bad_type(res, "the file's content does not match its declared type"),
		       -1;
	return 0;
}

/* POST /api/albums/{id}/photos/direct: a raw image body or multipart
 * "file" (and optional "description") -> 201 {photo} in state processing. */
int photos_upload_direct(struct req *req, struct res *res)
{
	struct auth_user me;
	struct multipart_part part = {0};
	enum img_type type;
	const char *album = req_param(req, "id");
	struct new_photo np = {0};
	enum start_result sr;

	if (auth_require_user(req, res, &me))
		return res->status;
	if (!album_id_valid(album))
		return upload_not_found(res, "album");
	if (upload_direct_read(req, res, &part, &type, &np.desc))
		return res->status;

	np.owner = album_owner(req->arena, &me);
	np.album = album;
	np.id = album_new_id(req->arena);
	if (np.id == NULL)
		return upload_internal(res);
	np.key = arena_printf(req->arena, "photos/o/%s.%s", np.id, imgtype_ext(type));
	np.mime = imgtype_mime(type);
	np.size = (long long)part.len;
	np.status = "uploading";

	/* the row and the object together: a failed put rolls the row back */
	if (db_begin() != 0)
		return db_fail(res);
	if (upload_insert(req, res, &np) != 0) {
		db_rollback();
		return res->status;
	}
	if (store_put(np.key, part.data, part.len, imgtype_mime(type)) != 0) {
		db_rollback();
		store_delete(np.key); /* a partial object, if the backend left one */
		return upload_storage_failed(res);
	}
	if (db_commit() != 0) {
		db_rollback();
		if (store_delete(np.key) != 0)
			log_error("photo %s: orphan object %s (delete failed)", np.id, np.key);
		return db_fail(res);
	}

	sr = upload_start(req->arena, np.owner, np.id, np.key, np.size);
	if (sr == START_QUEUE_FAILED || sr == START_DB_FAILED) {
		const char *p[2] = {np.id, np.owner};

		/* undo: nothing of this upload stays behind */
		if (db_exec(req->arena, SQL_DELETE_UPLOADING, 2, p) < 0)
			log_error("photo %s: orphan row (delete failed)", np.id);
		else if (store_delete(np.key) != 0)
			log_error("photo %s: orphan object %s (delete failed)", np.id, np.key);
		return sr == START_QUEUE_FAILED ? upload_queue_failed(res) : db_fail(res);
	}
	log_info("user %" PRId64 " uploaded photo %s directly (%zu bytes)", me.id, np.id, part.len);
	res_header_set(res, "Location", arena_printf(req->arena, "/api/photos/%s", np.id));
	return upload_answer(req, res, 201, np.owner, np.id);
}

/* ---- SQL ---- */

/* The limits (the user's own or the defaults $2, $3) and the usage of the
 * photos not purged, but photo $4; the user row locked for the insert. */
static const char *const SQL_QUOTA_LOCK =
        "SELECT COALESCE(u.quota_bytes, $2::bigint), COALESCE(u.quota_photos, $3::bigint),"
        " (SELECT COALESCE(sum(size_bytes), 0) FROM photos p"
        "   WHERE p.owner_id = u.id AND p.id IS DISTINCT FROM $4::text),"
        " (SELECT count(*) FROM photos p"
        "   WHERE p.owner_id = u.id AND p.id IS DISTINCT FROM $4::text)"
        " FROM app_users u WHERE u.id = $1::bigint FOR UPDATE OF u";

/* The album, locked against a concurrent delete (which takes FOR UPDATE). */
static const char *const SQL_ALBUM_SHARE =
        "SELECT id FROM albums WHERE id = $1::text AND owner_id = $2::bigint FOR SHARE";

static const char *const SQL_INSERT =
        "INSERT INTO photos (id, owner_id, album_id, object_key, content_type, size_bytes,"
        " description, status)"
        " VALUES ($1, $2::bigint, $3, $4, $5, $6::bigint, $7, $8)";

static const char *const SQL_TAG_INSERT =
        "INSERT INTO photo_tags (photo_id, tag, source) VALUES ($1, $2, 'user')"
        " ON CONFLICT DO NOTHING";

static const char *const SQL_PHOTO =
        "SELECT p.id, p.album_id, p.status, p.failure_reason, p.content_type, p.size_bytes,"
        " p.width, p.height, p.taken_at, p.description, p.created_at, p.updated_at,"
        " COALESCE((SELECT json_agg(t.tag ORDER BY t.tag) FROM photo_tags t"
        "           WHERE t.photo_id = p.id), '[]'::json) AS tags"
        " FROM photos p WHERE p.id = $1::text AND p.owner_id = $2::bigint";

static const char *const SQL_PHOTO_STATE = "SELECT status, object_key, size_bytes FROM photos"
                                           " WHERE id = $1::text AND owner_id = $2::bigint";

/* Only an uploading photo starts processing (idempotent; a concurrent
 * complete waits on the row lock and then matches nothing). */
static const char *const SQL_START =
        "UPDATE photos SET status = 'processing', size_bytes = $3::bigint, updated_at = now()"
        " WHERE id = $1::text AND owner_id = $2::bigint AND status = 'uploading'";

/* A rejected upload: failed, and its bytes no longer count. */
static const char *const SQL_FAIL =
        "UPDATE photos SET status = 'failed', failure_reason = $3, size_bytes = 0,"
        " updated_at = now()"
        " WHERE id = $1::text AND owner_id = $2::bigint AND status = 'uploading'";

static const char *const SQL_DELETE_UPLOADING =
        "DELETE FROM photos WHERE id = $1::text AND owner_id = $2::bigint AND status = 'uploading'";
