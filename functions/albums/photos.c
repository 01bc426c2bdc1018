/* photos.c - a user's photos: the list per album, one photo, edits (the
 * description, the user's tags, a move to another album), the trash
 * (delete, restore, list), purge, and the scheduled purge of old trash.
 *
 * Every query is scoped to the caller: another user's photo or album is a
 * 404, for reads and writes alike (a move into someone else's album too).
 * URLs are presigned GETs valid ALBUM_URL_TTL_S; thumbnail and display URLs
 * are null until the photo is ready, the original's until it is uploaded.
 *
 * Tags: the owner's tags (source 'user') are replaced as a whole by an edit;
 * image tagging's ('auto') stay. At most 30, each trimmed and 1..50
 * characters, duplicates (ignoring case) dropped, the first spelling kept;
 * a user tag spelled exactly like an auto tag leaves the auto tag in place.
 *
 * Delete moves a photo to the trash (again: still 204); restore takes it
 * out (404 when it is not in the trash); purge deletes the row, then its
 * objects (any photo of the caller's, in the trash or not). The scheduled
 * purge deletes photos trashed more than ALBUM_TRASH_DAYS days ago, in
 * batches that skip rows another purge holds. An object that cannot be
 * deleted is logged with its key (album_purge_objects) for a later sweep.
 *
 * File order: helpers, the photo view, handlers, then SQL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cJSON.h>

#include "albums.h"
#include "arena.h"
#include "auth.h"
#include "cursor.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "store.h"

#define PHOTO_LIMIT_DEFAULT 30
#define PHOTO_LIMIT_MAX     100
#define PHOTO_DESC_MAX      2000
#define PHOTO_TAGS_MAX      30
#define PHOTO_TAG_MAX       50
/* Elements looked at before deciding a tags array is too long. */
#define PHOTO_TAGS_INPUT_MAX 200
/* The scheduled purge: rows per batch, batches per run, and the time left
 * (ms before the platform's deadline) under which it stops early. */
#define PURGE_BATCH              100
#define PURGE_MAX_BATCHES        100
#define PURGE_DEADLINE_MARGIN_MS 5000

static const char *const SQL_ALBUM_OWNED;
static const char *const SQL_LIST;
static const char *const SQL_TRASH;
static const char *const SQL_GET;
static const char *const SQL_LOCK;
static const char *const SQL_ALBUM_LOCK;
static const char *const SQL_UPDATE;
static const char *const SQL_COVER_CLEAR;
static const char *const SQL_TAGS_CLEAR;
static const char *const SQL_TAGS_ADD;
static const char *const SQL_TRASH_ONE;
static const char *const SQL_RESTORE;
static const char *const SQL_PURGE;
static const char *const SQL_PURGE_OLD;

/* ---- helpers ---- */

static int photo_not_found(struct res *res)
{
	return res_error(res, 404, "not_found", "no such photo", NULL);
}

/* A presigned GET for column col of row i, or JSON null. */
static void photo_add_url(struct arena *a, cJSON *obj, const char *name, const PGresult *r, int i,
                          const char *col, bool available)
{
	int c = PQfnumber(r, col);
	const char *url = NULL;

	if (available && c >= 0 && !PQgetisnull(r, i, c))
		url = store_presign_get(a, PQgetvalue(r, i, c), album_cfg()->url_ttl_s);
	if (url != NULL)
		cJSON_AddStringToObject(obj, name, url);
	else
		cJSON_AddNullToObject(obj, name);
}

/* Row i of a photo query as the API's photo. With full, the EXIF fields
 * go under "exif" and the original's URL is added. */
static cJSON *photo_json(struct arena *a, const PGresult *r, int i, bool full)
{
	cJSON *item = db_row_json(r, i);
	const char *status = PQgetvalue(r, i, PQfnumber(r, "status"));
	bool ready = strcmp(status, "ready") == 0;

	photo_add_url(a, item, "thumb_url", r, i, "thumb_key", ready);
	photo_add_url(a, item, "display_url", r, i, "display_key", ready);
	if (full) {
		cJSON *exif = cJSON_CreateObject();
		cJSON *lat = cJSON_DetachItemFromObject(item, "gps_lat");
		cJSON *lon = cJSON_DetachItemFromObject(item, "gps_lon");

		photo_add_url(a, item, "original_url", r, i, "object_key",
		              strcmp(status, "uploading") != 0);
		cJSON_AddItemToObject(exif, "camera", cJSON_DetachItemFromObject(item, "camera"));
		if (cJSON_IsNumber(lat) && cJSON_IsNumber(lon)) {
			cJSON *gps = cJSON_AddObjectToObject(exif, "gps");

			cJSON_AddItemToObject(gps, "lat", lat);
			cJSON_AddItemToObject(gps, "lon", lon);
		} else {
			cJSON_Delete(lat);
			cJSON_Delete(lon);
			cJSON_AddNullToObject(exif, "gps");
		}
		cJSON_AddItemToObject(exif, "orientation",
		                      cJSON_DetachItemFromObject(item, "orientation"));
		cJSON_AddItemToObject(item, "exif", exif);
	}
	cJSON_DeleteItemFromObject(item, "thumb_key");
	cJSON_DeleteItemFromObject(item, "display_key");
	cJSON_DeleteItemFromObject(item, "object_key");
	cJSON_DeleteItemFromObject(item, "page_us");
	return item;
}

/* The full view of photo id for owner, with status; 404 when none. */
static int photo_view(struct req *req, struct res *res, const char *owner, const char *id,
                      int status)
{
	const char *params[2] = {owner, id};
	PGresult *r = db_query(req->arena, SQL_GET, 2, params);

	if (r == NULL)
		return db_fail(res);
	if (PQntuples(r) != 1)
		return photo_not_found(res);
	return res_json(res, status, photo_json(req->arena, r, 0, true));
}

/* Cursor payload "<tag>,<epoch us>,<id>" into params[2..3]; 0 / -1. */
static int photo_cursor_parse(struct arena *a, char tag, const char *cursor, const char *params[4])
{
	const char *p = cursor_decode(a, cursor), *comma;
	char *us, *end;

	if (p == NULL || p[0] != tag || p[1] != ',')
		return -1;
	p += 2;
	comma = strchr(p, ',');
	if (comma == NULL || comma == p || comma - p > 20)
		return -1;
	us = arena_strndup(a, p, (size_t)(comma - p));
	errno = 0;
	(void)strtoll(us, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	if (!album_id_valid(comma + 1))
		return -1;
	params[2] = us;
	params[3] = comma + 1;
	return 0;
}

/* A page of photos from sql ($1 owner or album, $2 limit, $3/$4 cursor). */
static int photo_page(struct req *req, struct res *res, const char *sql, char tag,
                      const char *first)
{
	const char *cursor = req_query(req, "cursor");
	const char *params[4] = {first, NULL, NULL, NULL};
	cJSON *root, *items;
	PGresult *r;
	uint64_t limit;
	int rows;

	if (req_query_u64(req, res, "limit", PHOTO_LIMIT_DEFAULT, 1, PHOTO_LIMIT_MAX, &limit) != 0)
		return res->status;
	if (cursor != NULL && photo_cursor_parse(req->arena, tag, cursor, params) != 0)
		return res_error(res, 400, "invalid_cursor",
		                 "the cursor is malformed or was not issued for this list",
		                 "cursor");
	/* One row more than asked tells whether another page exists. */
	params[1] = arena_printf(req->arena, "%" PRIu64, limit + 1);
	r = db_query(req->arena, sql, 4, params);
	if (r == NULL)
		return db_fail(res);
	rows = PQntuples(r);
	root = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(root, "items");
	for (int i = 0; i < rows && (uint64_t)i < limit; i++)
		cJSON_AddItemToArray(items, photo_json(req->arena, r, i, false));
	if ((uint64_t)rows > limit) {
		int last = (int)limit - 1;
		char *payload = arena_printf(req->arena, "%c,%s,%s", tag,
		                             PQgetvalue(r, last, PQfnumber(r, "page_us")),
		                             PQgetvalue(r, last, PQfnumber(r, "id")));

		cJSON_AddStringToObject(root, "next_cursor", cursor_encode(req->arena, payload));
	} else {
		cJSON_AddNullToObject(root, "next_cursor");
	}
	return res_json(res, 200, root);
}

/* ---- lists and one photo ---- */

/* GET /api/albums/{id}/photos ?limit=1..100 (30) &cursor=: the album's
 * photos not in the trash, newest first. */
int photos_list(struct req *req, struct res *res)
{
	struct auth_user me;
	const char *id = req_param(req, "id");
	const char *params[2];
	PGresult *r;

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	if (!album_id_valid(id))
		return res_error(res, 404, "not_found", "no such album", NULL);
	params[0] = id;
	params[1] = album_owner(req->arena, &me);
	r = db_query(req->arena, SQL_ALBUM_OWNED, 2, params);
	if (r == NULL)
		return db_fail(res);
	if (PQntuples(r) != 1)
		return res_error(res, 404, "not_found", "no such album", NULL);
	/* The album is the caller's, and so is every photo in it. */
	return photo_page(req, res, SQL_LIST, 'p', id);
}

/* GET /api/photos/trash ?limit=&cursor=: the caller's trash, most recently
 * trashed first. */
int trash_list(struct req *req, struct res *res)
{
	struct auth_user me;

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	return photo_page(req, res, SQL_TRASH, 't', album_owner(req->arena, &me));
}

/* GET /api/photos/{id}: one photo with EXIF and the original's URL. */
int photos_get(struct req *req, struct res *res)
{
	struct auth_user me;
	const char *id = req_param(req, "id");

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	if (!album_id_valid(id))
		return photo_not_found(res);
	return photo_view(req, res, album_owner(req->arena, &me), id, 200);
}

/* ---- edit ---- */

/* Length of the white space (ASCII, NBSP, ideographic space) at s, 0 when
 * none. */
static size_t photo_space_at(const unsigned char *s)
{
	if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		return 1;
	if (s[0] == 0xc2 && s[1] == 0xa0)
		return 2;
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3;
	return 0;
}

/* s trimmed (arena), or NULL when it holds a control character. */
static char *photo_trim(struct arena *a, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end;
	size_t k;

	while ((k = photo_space_at(p)) > 0)
		p += k;
	end = p + strlen((const char *)p);
	/* Trailing spaces: walk forward, remembering where the last run began. */
	{
		const unsigned char *q = p, *cut = end;

		while (q < end) {
			k = photo_space_at(q);
			if (k > 0) {
				if (cut == end)
					cut = q;
				q += k;
			} else {
				if (*q < 0x20 || *q == 0x7f)
					return NULL;
				cut = end;
				q++;
			}
		}
		end = cut;
	}
	return arena_strndup(a, (const char *)p, (size_t)(end - p));
}

/* No control characters but tab and line breaks. */
static bool photo_text_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)
			return false;
	return true;
}

/* ASCII case-insensitive equality (the database also folds the rest). */
static bool photo_tag_same(const char *x, const char *y)
{
	for (;; x++, y++) {
		char cx = *x >= 'A' && *x <= 'Z' ? (char)(*x + 32) : *x;
		char cy = *y >= 'A' && *y <= 'Z' ? (char)(*y + 32) : *y;

		if (cx != cy)
			return false;
		if (cx == '\0')
			return true;
	}
}

/* The tags array as a JSON array text of clean, distinct tags (arena).
 * 0, or -1 with res filled (field "tags"). */
static int photo_tags_read(struct req *req, struct res *res, const cJSON *arr, char **out)
{
	const char *kept[PHOTO_TAGS_MAX];
	size_t n = 0;
	const cJSON *el;
	cJSON *json;
	char *text;

	if (!cJSON_IsArray(arr)) {
		res_error(res, 422, "validation_failed", "tags must be an array of strings",
		          "tags");
		return -1;
	}
	if (cJSON_GetArraySize(arr) > PHOTO_TAGS_INPUT_MAX) {
		res_errorf(res, 422, "validation_failed", "tags", "at most %d tags",
		           PHOTO_TAGS_MAX);
		return -1;
	}
	cJSON_ArrayForEach(el, arr)
	{
		char *tag;
		long len;
		bool dup = false;

		if (!cJSON_IsString(el) || el->valuestring == NULL) {
			res_error(res, 422, "validation_failed", "each tag must be a string",
			          "tags");
			return -1;
		}
		len = json_utf8_len(el->valuestring);
		tag = len < 0 ? NULL : photo_trim(req->arena, el->valuestring);
		if (tag == NULL) {
			res_error(res, 422, "validation_failed",
			          "tags must be valid UTF-8 without control characters", "tags");
			return -1;
		}
		len = json_utf8_len(tag);
		if (len < 1 || len > PHOTO_TAG_MAX) {
			res_errorf(res, 422, "validation_failed", "tags",
			           "each tag must be 1 to %d characters", PHOTO_TAG_MAX);
			return -1;
		}
		for (size_t i = 0; i < n && !dup; i++)
			dup = photo_tag_same(kept[i], tag);
		if (dup)
			continue;
		if (n == PHOTO_TAGS_MAX) {
			res_errorf(res, 422, "validation_failed", "tags", "at most %d tags",
			           PHOTO_TAGS_MAX);
			return -1;
		}
		kept[n++] = tag;
	}
	json = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(json, cJSON_CreateString(kept[i]));
	text = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	if (text == NULL)
		abort();
	*out = arena_strdup(req->arena, text);
	cJSON_free(text);
	return 0;
}

/* PUT /api/photos/{id} {description?, tags?, album_id?}: 200 with the
 * photo. A move needs an album of the caller's (404 naming album_id
 * otherwise) and takes the photo off its old album's cover. */
int photos_update(struct req *req, struct res *res)
{
	struct auth_user me;
	const char *id = req_param(req, "id");
	const char *owner, *description = NULL, *album = NULL, *params[4];
	char *tags = NULL;
	const cJSON *body, *tags_in;
	PGresult *r;
	int rc;

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	if (!album_id_valid(id))
		return photo_not_found(res);
	if (json_body(req, res, &body) != 0 ||
	    json_str(res, body, "description", false, 0, PHOTO_DESC_MAX, &description) != 0 ||
	    json_str(res, body, "album_id", false, 1, 0, &album) != 0)
		return res->status;
	if (description != NULL && !photo_text_ok(description))
		return res_error(res, 422, "validation_failed",
		                 "description must not hold control characters", "description");
	tags_in = cJSON_GetObjectItemCaseSensitive(body, "tags");
	if (tags_in != NULL && !cJSON_IsNull(tags_in) &&
	    photo_tags_read(req, res, tags_in, &tags) != 0)
		return res->status;
	if (description == NULL && tags == NULL && album == NULL)
		return res_error(res, 422, "validation_failed",
		                 "send description, tags or album_id to change", NULL);
	owner = album_owner(req->arena, &me);
	if (album != NULL && !album_id_valid(album))
		return res_error(res, 404, "not_found", "no such album", "album_id");

	if (db_begin() != 0)
		return db_fail(res);
	params[0] = id;
	params[1] = owner;
	r = db_query(req->arena, SQL_LOCK, 2, params);
	if (r == NULL)
		goto db_error;
	if (PQntuples(r) != 1) {
		rc = photo_not_found(res);
		goto rollback;
	}
	if (album != NULL && strcmp(album, PQgetvalue(r, 0, 0)) == 0)
		album = NULL; /* already there */
	if (album != NULL) {
		params[0] = album;
		r = db_query(req->arena, SQL_ALBUM_LOCK, 2, params);
		if (r == NULL)
			goto db_error;
		if (PQntuples(r) != 1) {
			rc = res_error(res, 404, "not_found", "no such album", "album_id");
			goto rollback;
		}
		params[0] = id;
		if (db_exec(req->arena, SQL_COVER_CLEAR, 2, params) < 0)
			goto db_error;
	}
	params[0] = id;
	params[2] = description;
	params[3] = album;
	if (db_exec(req->arena, SQL_UPDATE, 4, params) != 1)
		goto db_error;
	if (tags != NULL) {
		params[1] = tags;
		if (db_exec(req->arena, SQL_TAGS_CLEAR, 1, params) < 0 ||
		    db_exec(req->arena, SQL_TAGS_ADD, 2, params) < 0)
			goto db_error;
	}
	if (db_commit() != 0)
		goto db_error;
	rc = photo_view(req, res, owner, id, 200);
	goto out;

db_error:
	rc = db_fail(res);
rollback:
	db_rollback();
out:
	return rc;
}

/* ---- trash and purge ---- */

/* Runs sql ($1 id, $2 owner) on the caller's photo id: 204, or 404 with
 * missing when no row changed. */
static int photo_trash_set(struct req *req, struct res *res, const char *sql, const char *missing)
{
	struct auth_user me;
	const char *id = req_param(req, "id");
	const char *params[2];
	long n;

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	if (!album_id_valid(id))
		return photo_not_found(res);
	params[0] = id;
	params[1] = album_owner(req->arena, &me);
	n = db_exec(req->arena, sql, 2, params);
	if (n < 0)
		return db_fail(res);
	if (n == 0)
		return res_error(res, 404, "not_found", missing, NULL);
	return res_empty(res, 204);
}

/* DELETE /api/photos/{id}: to the trash; 204, again 204 when already there. */
int photos_delete(struct req *req, struct res *res)
{
	return photo_trash_set(req, res, SQL_TRASH_ONE, "no such photo");
}

/* POST /api/photos/{id}/restore: out of the trash; 204, 404 when the
 * caller has no such photo in the trash. */
int photos_restore(struct req *req, struct res *res)
{
	return photo_trash_set(req, res, SQL_RESTORE, "no such photo in the trash");
}

/* POST /api/photos/{id}/purge: the row, then every object; 204. */
int photos_purge(struct req *req, struct res *res)
{
	struct auth_user me;
	const char *id = req_param(req, "id");
	const char *params[2];
	PGresult *r;

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	if (!album_id_valid(id))
		return photo_not_found(res);
	params[0] = id;
	params[1] = album_owner(req->arena, &me);
	r = db_query(req->arena, SQL_PURGE, 2, params);
	if (r == NULL)
		return db_fail(res);
	if (PQntuples(r) != 1)
		return photo_not_found(res);
	album_purge_rows(r);
	return res_empty(res, 204);
}

static int64_t photo_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* EVENT /events/schedule (a timer): purges the photos trashed more than
 * ALBUM_TRASH_DAYS days ago, PURGE_BATCH at a time, until none is left, the
 * batch cap is reached or the deadline nears; 200 {"purged": n, "more":
 * whether it stopped early, "object_failures": photos with objects left}. */
int trash_purge_scheduled(struct req *req, struct res *res)
{
	const char *params[2];
	cJSON *root;
	long purged = 0;
	int failures = 0, batches = 0;
	bool more = false;

	/* Timers and the platform's direct invoke only: never an HTTP client. */
	if (req->kind != REQ_SCHEDULE && req->kind != REQ_DIRECT)
		return res_error(res, 404, "not_found", "no such resource", NULL);
	params[0] = arena_printf(req->arena, "%ld", album_cfg()->trash_days);
	params[1] = arena_printf(req->arena, "%d", PURGE_BATCH);
	for (;;) {
		PGresult *r = db_query(req->arena, SQL_PURGE_OLD, 2, params);

		if (r == NULL)
			return db_fail(res);
		purged += PQntuples(r);
		failures += album_purge_rows(r);
		batches++;
		if (PQntuples(r) < PURGE_BATCH)
			break;
		if (batches >= PURGE_MAX_BATCHES ||
		    (req->ctx.deadline_ms > 0 &&
		     req->ctx.deadline_ms - photo_now_ms() < PURGE_DEADLINE_MARGIN_MS)) {
			more = true;
			break;
		}
	}
	if (purged > 0)
		log_info("trash purge: %ld photos older than %ld days purged", purged,
		         album_cfg()->trash_days);
	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "purged", (double)purged);
	cJSON_AddBoolToObject(root, "more", more);
	cJSON_AddNumberToObject(root, "object_failures", failures);
	return res_json(res, 200, root);
}

/* ---- SQL ---- */

/* clang-format off */

static const char *const SQL_ALBUM_OWNED =
	"SELECT 1 FROM albums WHERE id = $1::text AND owner_id = $2::bigint";

/* The list columns; tags: the owner's first, then by name. page_us feeds
 * the cursor. */
#define PHOTO_COLUMNS \
	"SELECT p.id, p.album_id, p.status, p.failure_reason, p.width, p.height, p.taken_at," \
	"  p.description, p.caption," \
	"  COALESCE((SELECT json_agg(json_build_object('tag', t.tag, 'source', t.source)" \
	"             ORDER BY t.source DESC, t.tag)" \
	"            FROM photo_tags t WHERE t.photo_id = p.id), '[]'::json) AS tags," \
	"  p.color, p.thumb_key, p.display_key, p.created_at"
#define PHOTO_AT(n) "('epoch'::timestamptz + $" n "::bigint * interval '1 microsecond')"

/* $1 album (the caller's, checked), $2 limit, $3/$4 the cursor. */
static const char *const SQL_LIST =
	PHOTO_COLUMNS ", (extract(epoch FROM p.created_at) * 1000000)::bigint AS page_us"
	" FROM photos p"
	" WHERE p.album_id = $1::text AND p.trashed_at IS NULL"
	"  AND ($3::bigint IS NULL OR (p.created_at, p.id) < (" PHOTO_AT("3") ", $4::text))"
	" ORDER BY p.created_at DESC, p.id DESC"
	" LIMIT $2::int";

/* $1 owner, $2 limit, $3/$4 the cursor (trashed_at). */
static const char *const SQL_TRASH =
	PHOTO_COLUMNS ", p.trashed_at,"
	"  (extract(epoch FROM p.trashed_at) * 1000000)::bigint AS page_us"
	" FROM photos p"
	" WHERE p.owner_id = $1::bigint AND p.trashed_at IS NOT NULL"
	"  AND ($3::bigint IS NULL OR (p.trashed_at, p.id) < (" PHOTO_AT("3") ", $4::text))"
	" ORDER BY p.trashed_at DESC, p.id DESC"
	" LIMIT $2::int";

/* $1 owner, $2 id: the full view. */
static const char *const SQL_GET =
	PHOTO_COLUMNS ", p.object_key, p.content_type, p.size_bytes, p.camera, p.gps_lat,"
	"  p.gps_lon, p.orientation, p.trashed_at, p.updated_at"
	" FROM photos p WHERE p.owner_id = $1::bigint AND p.id = $2::text";

/* $1 id, $2 owner -> album_id. */
static const char *const SQL_LOCK =
	"SELECT album_id FROM photos WHERE id = $1::text AND owner_id = $2::bigint FOR UPDATE";

/* The move's target, kept from being deleted until the commit. */
static const char *const SQL_ALBUM_LOCK =
	"SELECT 1 FROM albums WHERE id = $1::text AND owner_id = $2::bigint FOR KEY SHARE";

/* A photo moving out is no longer its old album's cover. */
static const char *const SQL_COVER_CLEAR =
	"UPDATE albums SET cover_photo_id = NULL, updated_at = now()"
	" WHERE cover_photo_id = $1::text AND owner_id = $2::bigint";

/* $3 description, $4 album (NULL keeps). */
static const char *const SQL_UPDATE =
	"UPDATE photos SET description = COALESCE($3::text, description),"
	"  album_id = COALESCE($4::text, album_id), updated_at = now()"
	" WHERE id = $1::text AND owner_id = $2::bigint";

static const char *const SQL_TAGS_CLEAR =
	"DELETE FROM photo_tags WHERE photo_id = $1::text AND source = 'user'";

/* $2 a JSON array of tags, already distinct ignoring ASCII case; lower()
 * folds the rest, the first spelling wins; an auto tag of the same
 * spelling stays as it is. */
static const char *const SQL_TAGS_ADD =
	"INSERT INTO photo_tags (photo_id, tag, source)"
	" SELECT $1::text, d.tag, 'user' FROM ("
	"   SELECT DISTINCT ON (lower(e.tag)) e.tag, e.n"
	"   FROM json_array_elements_text($2::json) WITH ORDINALITY AS e(tag, n)"
	"   ORDER BY lower(e.tag), e.n) d"
	" ON CONFLICT (photo_id, tag) DO NOTHING";

static const char *const SQL_TRASH_ONE =
	"UPDATE photos SET trashed_at = COALESCE(trashed_at, now())"
	" WHERE id = $1::text AND owner_id = $2::bigint";

static const char *const SQL_RESTORE =
	"UPDATE photos SET trashed_at = NULL, updated_at = now()"
	" WHERE id = $1::text AND owner_id = $2::bigint AND trashed_at IS NOT NULL";

/* Tags and shares cascade; a cover pointing here becomes NULL. */
static const char *const SQL_PURGE =
	"DELETE FROM photos WHERE id = $1::text AND owner_id = $2::bigint"
	" RETURNING object_key, thumb_key, display_key";

/* $1 days, $2 batch size; rows another purge holds are skipped. */
static const char *const SQL_PURGE_OLD =
	"DELETE FROM photos WHERE id IN ("
	"   SELECT id FROM photos"
	"   WHERE trashed_at < now() - $1::int * interval '1 day'"
	"   ORDER BY trashed_at LIMIT $2::int FOR UPDATE SKIP LOCKED)"
	" RETURNING object_key, thumb_key, display_key";

/* clang-format on */
