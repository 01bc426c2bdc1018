/* albums.c - a user's albums: list (sorted, paged, with cover and photo
 * count), create, get, edit, delete; the function's configuration and the
 * helpers the other files share (ids, object purge).
 *
 * Every query is scoped to the caller (owner_id = $n): another user's album
 * is a 404, for reads and writes alike. Names are unique per user (409
 * conflict naming "name"). The cover is cover_photo_id when that photo is
 * ready and not in the trash, else the album's newest ready photo.
 *
 * Deleting an album deletes its photos: the album row is locked (so no
 * upload can add a photo meanwhile), the photos' object keys collected, the
 * rows deleted in that transaction (photos cascade), and only after the
 * commit are the objects deleted. An object that cannot be deleted is logged
 * with its key ("orphan object") for a later sweep: the rows are gone either
 * way, so a retry of the DELETE is a 404.
 *
 * File order: configuration, helpers, the album view, handlers, then SQL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "albums.h"
#include "arena.h"
#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "cursor.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "store.h"

#define ALBUM_LIMIT_DEFAULT 50
#define ALBUM_LIMIT_MAX     100
#define ALBUM_NAME_MAX      100
#define ALBUM_DESC_MAX      2000
#define ALBUM_ID_LEN        22
/* Cursors carry at most 512 bytes: room for a name of this much base64. */
#define ALBUM_CURSOR_NAME_MAX 480

static const char *const SQL_LIST_ORDER;
static const char *const SQL_LIST_NAME;
static const char *const SQL_LIST_CREATED;
static const char *const SQL_LIST_UPDATED;
static const char *const SQL_GET;
static const char *const SQL_INSERT;
static const char *const SQL_COVER_CHECK;
static const char *const SQL_UPDATE;
static const char *const SQL_LOCK;
static const char *const SQL_PHOTO_KEYS;
static const char *const SQL_DELETE;

/* ---- configuration ---- */

static struct album_config album_config = {
        .url_ttl_s = 3600,
        .quota_bytes = (size_t)1 << 30,
        .quota_photos = 10000,
        .trash_days = 30,
        .direct_max = (size_t)6 << 20,
};

static const struct config_var album_vars[] = {
        {"ALBUM_URL_TTL_S", "3600", config_parse_long, &album_config.url_ttl_s,
         "seconds a photo's presigned GET URL stays valid"},
        {"ALBUM_QUOTA_BYTES", "1G", config_parse_size, &album_config.quota_bytes,
         "bytes of photos per user (app_users.quota_bytes overrides)"},
        {"ALBUM_QUOTA_PHOTOS", "10000", config_parse_long, &album_config.quota_photos,
         "photos per user (app_users.quota_photos overrides)"},
        {"ALBUM_TRASH_DAYS", "30", config_parse_long, &album_config.trash_days,
         "days a photo stays in the trash before the scheduled purge"},
        {"ALBUM_DIRECT_MAX", "6M", config_parse_size, &album_config.direct_max,
         "largest photo sent straight to the function (413 above)"},
};

/* Loads album_vars, then upload.c's and search.c's variables, at cold
 * start; a bad value stops the function there. */
int albums_init(void)
{
	char err[200];

	if (config_load(album_vars, sizeof(album_vars) / sizeof(album_vars[0]), err, sizeof(err)) !=
	    0) {
		log_error("configuration error: %s", err);
		return -1;
	}
	if (album_config.url_ttl_s < 1) {
		log_error("configuration error: ALBUM_URL_TTL_S must be at least 1");
		return -1;
	}
	/* The other files' own variables (upload.c prints its error itself). */
	if (album_upload_init() != 0)
		return -1;
	if (search_init(err, sizeof(err)) != 0) {
		log_error("configuration error: %s", err);
		return -1;
	}
	if (share_page_init(err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

/* The configuration (the defaults until albums_init ran). */
const struct album_config *album_cfg(void)
{
	return &album_config;
}

/* ---- shared helpers ---- */

/* 22 chars of base64url from 16 random bytes. */
char *album_new_id(struct arena *a)
{
	unsigned char raw[16];

	if (crypto_random(raw, sizeof(raw)) != 0) {
		log_error("album: the random source failed");
		return NULL;
	}
	return crypto_b64_encode(a, raw, sizeof(raw), true);
}

/* Exactly 22 characters of the base64url alphabet. */
int album_id_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= ALBUM_ID_LEN)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return n == ALBUM_ID_LEN;
}

/* store_delete of each key given; a failure is logged with the key (an
 * orphan object for a later sweep) and the others are still tried. */
int album_purge_objects(const char *object_key, const char *thumb_key, const char *display_key)
{
	const char *keys[3] = {object_key, thumb_key, display_key};
	int rc = 0;

	for (size_t i = 0; i < 3; i++) {
		if (keys[i] == NULL || keys[i][0] == '\0')
			continue;
		if (store_delete(keys[i]) != 0) {
			log_error("album: orphan object %s: delete failed, left for a sweep",
			          keys[i]);
			rc = -1;
		}
	}
	return rc;
}

/* Each row's keys to album_purge_objects; counts the rows that failed. */
int album_purge_rows(const PGresult *r)
{
	int failed = 0;

	for (int i = 0; i < PQntuples(r); i++) {
		const char *k[3];

		for (int c = 0; c < 3; c++)
			k[c] = PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
		if (album_purge_objects(k[0], k[1], k[2]) != 0)
			failed++;
	}
	return failed;
}

/* me->id in decimal. */
const char *album_owner(struct arena *a, const struct auth_user *me)
{
	return arena_printf(a, "%" PRId64, me->id);
}

/* ---- helpers ---- */

/* s without surrounding ASCII white space (arena); NULL when that leaves
 * nothing or s holds a control character. */
static const char *album_name_clean(struct arena *a, const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return NULL;
	return arena_strndup(a, s, n);
}

static int album_not_found(struct res *res)
{
	return res_error(res, 404, "not_found", "no such album", NULL);
}

/* Row i of an album query as the API's album: the helper columns
 * (cover_id, cover_thumb_key, page_*) become "cover" or go. */
static cJSON *album_json(struct arena *a, const PGresult *r, int i)
{
	cJSON *item = db_row_json(r, i);
	int cid = PQfnumber(r, "cover_id"), ckey = PQfnumber(r, "cover_thumb_key");

	if (cid >= 0 && !PQgetisnull(r, i, cid)) {
		cJSON *cover = cJSON_CreateObject();
		const char *url = NULL;

		cJSON_AddStringToObject(cover, "photo_id", PQgetvalue(r, i, cid));
		if (ckey >= 0 && !PQgetisnull(r, i, ckey))
			url = store_presign_get(a, PQgetvalue(r, i, ckey), album_cfg()->url_ttl_s);
		if (url != NULL)
			cJSON_AddStringToObject(cover, "thumb_url", url);
		else
			cJSON_AddNullToObject(cover, "thumb_url");
		cJSON_AddItemToObject(item, "cover", cover);
	} else {
		cJSON_AddNullToObject(item, "cover");
	}
	cJSON_DeleteItemFromObject(item, "cover_id");
	cJSON_DeleteItemFromObject(item, "cover_thumb_key");
	cJSON_DeleteItemFromObject(item, "page_us");
	return item;
}

/* The album view of id for owner, with status; 404 when none. */
static int album_view(struct req *req, struct res *res, const char *owner, const char *id,
                      int status)
{
	const char *params[2] = {owner, id};
	PGresult *r = db_query(req->arena, SQL_GET, 2, params);

	if (r == NULL)
		return db_fail(res);
	if (PQntuples(r) != 1)
		return album_not_found(res);
	return res_json(res, status, album_json(req->arena, r, 0));
}

/* ---- list ---- */

/* One sort order: its name, the cursor tag, the query. Each query takes $1
 * owner, $2 limit, and NULL or the cursor's values from $3 on. */
struct album_sort {
	const char *name;
	char tag;
	const char *const *sql;
};

static const struct album_sort album_sorts[] = {
        {"order", 'o', &SQL_LIST_ORDER},
        {"name", 'n', &SQL_LIST_NAME},
        {"created", 'c', &SQL_LIST_CREATED},
        {"updated", 'u', &SQL_LIST_UPDATED},
};

/* A decimal integer that fills s (arena copy), or NULL. */
static const char *album_int_field(struct arena *a, const char *s, size_t n)
{
	char *copy = arena_strndup(a, s, n), *end;

	if (n == 0 || n > 20)
		return NULL;
	errno = 0;
	(void)strtoll(copy, &end, 10);
	if (errno != 0 || *end != '\0' || end == copy)
		return NULL;
	return copy;
}

/* Cursor payloads: "o,<sort_order>,<created us>,<id>", "n,<id>[,<name in
 * base64url>]" (a name too long for a cursor is looked up by id),
 * "c,<created us>,<id>", "u,<updated us>,<id>". Fills params[2..4]; 0, or
 * -1 when malformed or issued for another sort. */
static int album_cursor_parse(struct arena *a, const struct album_sort *s, const char *cursor,
                              const char *params[5])
{
	const char *p = cursor_decode(a, cursor), *c1, *c2;

	if (p == NULL || p[0] != s->tag || p[1] != ',')
		return -1;
	p += 2;
	if (s->tag == 'n') {
		unsigned char *name;
		size_t n;

		params[2] = arena_strndup(a, p, ALBUM_ID_LEN);
		if (!album_id_valid(params[2]))
			return -1;
		p += ALBUM_ID_LEN;
		if (*p == '\0')
			return 0; /* the name is looked up */
		if (*p != ',')
			return -1;
		name = crypto_b64_decode(a, p + 1, strlen(p + 1), true, &n);
		if (name == NULL || n == 0 || strlen((const char *)name) != n ||
		    json_utf8_len((const char *)name) < 0)
			return -1;
		params[3] = (const char *)name;
		return 0;
	}
	c1 = strchr(p, ',');
	if (c1 == NULL)
		return -1;
	params[2] = album_int_field(a, p, (size_t)(c1 - p));
	if (params[2] == NULL)
		return -1;
	p = c1 + 1;
	if (s->tag == 'o') {
		c2 = strchr(p, ',');
		if (c2 == NULL)
			return -1;
		params[3] = album_int_field(a, p, (size_t)(c2 - p));
		params[4] = c2 + 1;
		return params[3] != NULL && album_id_valid(params[4]) ? 0 : -1;
	}
	params[3] = p;
	return album_id_valid(p) ? 0 : -1;
}

/* The cursor after row i. */
static char *album_cursor_make(struct arena *a, const struct album_sort *s, const PGresult *r,
                               int i)
{
	const char *id = PQgetvalue(r, i, PQfnumber(r, "id"));
	const char *us =
	        PQfnumber(r, "page_us") >= 0 ? PQgetvalue(r, i, PQfnumber(r, "page_us")) : "";
	char *payload;

	switch (s->tag) {
	case 'o':
		payload = arena_printf(a, "o,%s,%s,%s",
		                       PQgetvalue(r, i, PQfnumber(r, "sort_order")), us, id);
		break;
	case 'n': {
		const char *name = PQgetvalue(r, i, PQfnumber(r, "name"));
		char *b64 = crypto_b64_encode(a, name, strlen(name), true);

		payload = strlen(b64) <= ALBUM_CURSOR_NAME_MAX ? arena_printf(a, "n,%s,%s", id, b64)
		                                               : arena_printf(a, "n,%s", id);
		break;
	}
	default:
		payload = arena_printf(a, "%c,%s,%s", s->tag, us, id);
		break;
	}
	return cursor_encode(a, payload);
}

/* GET /api/albums ?sort=order|name|created|updated (order), ?limit=1..100
 * (50), ?cursor=: the caller's albums with cover and photo count. */
int albums_list(struct req *req, struct res *res)
{
	struct auth_user me;
	const char *sort = req_query(req, "sort");
	const char *cursor = req_query(req, "cursor");
	const struct album_sort *s = &album_sorts[0];
	const char *params[5] = {NULL, NULL, NULL, NULL, NULL};
	cJSON *root, *items;
	PGresult *r;
	uint64_t limit;
	int rows;

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	if (req_query_u64(req, res, "limit", ALBUM_LIMIT_DEFAULT, 1, ALBUM_LIMIT_MAX, &limit) != 0)
		return res->status;
	if (sort != NULL && sort[0] != '\0') {
		s = NULL;
		for (size_t i = 0; i < sizeof(album_sorts) / sizeof(album_sorts[0]); i++)
			if (strcmp(sort, album_sorts[i].name) == 0)
				s = &album_sorts[i];
		if (s == NULL)
			return res_error(res, 400, "invalid_parameter",
			                 "sort must be order, name, created or updated", "sort");
	}
	if (cursor != NULL && album_cursor_parse(req->arena, s, cursor, params) != 0)
		return res_error(res, 400, "invalid_cursor",
		                 "the cursor is malformed or was not issued for this list",
		                 "cursor");
	params[0] = album_owner(req->arena, &me);
	/* One row more than asked tells whether another page exists. */
	params[1] = arena_printf(req->arena, "%" PRIu64, limit + 1);
	r = db_query(req->arena, *s->sql, s->tag == 'o' ? 5 : 4, params);
	if (r == NULL)
		return db_fail(res);

	rows = PQntuples(r);
	root = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(root, "items");
	for (int i = 0; i < rows && (uint64_t)i < limit; i++)
		cJSON_AddItemToArray(items, album_json(req->arena, r, i));
	if ((uint64_t)rows > limit)
		cJSON_AddStringToObject(root, "next_cursor",
		                        album_cursor_make(req->arena, s, r, (int)limit - 1));
	else
		cJSON_AddNullToObject(root, "next_cursor");
	return res_json(res, 200, root);
}

/* ---- create, get, update ---- */

struct album_input {
	const char *name, *description, *sort_order;
	bool cover_given;  /* cover_photo_id present (a string or null) */
	const char *cover; /* NULL: clear the cover */
};

/* Reads and validates the body; name is required on create. 0, or -1 with
 * res filled. */
static int album_input_read(struct req *req, struct res *res, bool create, struct album_input *in)
{
	const cJSON *body, *cover;
	const char *name = NULL;
	int64_t sort = 0;

	memset(in, 0, sizeof(*in));
	if (json_body(req, res, &body) != 0)
		return -1;
	if (json_str(res, body, "name", create, 1, ALBUM_NAME_MAX, &name) != 0 ||
	    json_str(res, body, "description", false, 0, ALBUM_DESC_MAX, &in->description) != 0 ||
	    json_i64(res, body, "sort_order", false, INT32_MIN, INT32_MAX, &sort) != 0)
		return -1;
	if (name != NULL) {
		in->name = album_name_clean(req->arena, name);
		if (in->name == NULL) {
			res_error(res, 422, "validation_failed",
			          "name must have visible characters and no control characters",
			          "name");
			return -1;
		}
	}
	if (json_has(body, "sort_order"))
		in->sort_order = arena_printf(req->arena, "%" PRId64, sort);
	cover = cJSON_GetObjectItemCaseSensitive(body, "cover_photo_id");
	if (!create && cover != NULL) {
		in->cover_given = true;
		if (cJSON_IsString(cover) && album_id_valid(cover->valuestring)) {
			in->cover = cover->valuestring;
		} else if (cJSON_IsString(cover)) {
			res_error(res, 404, "not_found", "no such photo", "cover_photo_id");
			return -1;
		} else if (!cJSON_IsNull(cover)) {
			res_error(res, 422, "validation_failed",
			          "cover_photo_id must be a photo id or null", "cover_photo_id");
			return -1;
		}
	}
	if (!create && in->name == NULL && in->description == NULL && in->sort_order == NULL &&
	    !in->cover_given) {
		res_error(res, 422, "validation_failed",
		          "send name, description, sort_order or cover_photo_id to change", NULL);
		return -1;
	}
	return 0;
}

static int album_name_taken(struct res *res)
{
	return res_error(res, 409, "conflict", "you already have an album with this name", "name");
}

/* POST /api/albums {name, description?, sort_order?}: 201 with the album. */
int albums_create(struct req *req, struct res *res)
{
	struct auth_user me;
	struct album_input in;
	const char *params[5];
	const char *id;
	PGresult *r;

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	if (album_input_read(req, res, true, &in) != 0)
		return res->status;
	id = album_new_id(req->arena);
	if (id == NULL)
		return res_error(res, 500, "internal", "cannot make an id", NULL);
	params[0] = id;
	params[1] = album_owner(req->arena, &me);
	params[2] = in.name;
	params[3] = in.description != NULL ? in.description : "";
	params[4] = in.sort_order != NULL ? in.sort_order : "0";
	r = db_query(req->arena, SQL_INSERT, 5, params);
	if (r == NULL)
		return db_fail(res);
	if (PQntuples(r) != 1)
		return album_name_taken(res);
	return album_view(req, res, params[1], id, 201);
}

/* GET /api/albums/{id}. */
int albums_get(struct req *req, struct res *res)
{
	struct auth_user me;
	const char *id = req_param(req, "id");

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	if (!album_id_valid(id))
		return album_not_found(res);
	return album_view(req, res, album_owner(req->arena, &me), id, 200);
}

/* PUT /api/albums/{id}: the fields present change. A cover must be a ready
 * photo of this album, not in the trash (422); an id that names no photo
 * of the caller is a 404 naming cover_photo_id. */
int albums_update(struct req *req, struct res *res)
{
	struct auth_user me;
	struct album_input in;
	const char *id = req_param(req, "id");
	const char *owner, *params[7];
	PGresult *r;
	int rc;

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	if (!album_id_valid(id))
		return album_not_found(res);
	if (album_input_read(req, res, false, &in) != 0)
		return res->status;
	owner = album_owner(req->arena, &me);
	if (db_begin() != 0)
		return db_fail(res);
	params[0] = id;
	params[1] = owner;
	r = db_query(req->arena, SQL_LOCK, 2, params);
	if (r == NULL)
		goto db_error;
	if (PQntuples(r) != 1) {
		rc = album_not_found(res);
		goto rollback;
	}
	if (in.cover != NULL) {
		params[0] = in.cover;
		r = db_query(req->arena, SQL_COVER_CHECK, 2, params);
		if (r == NULL)
			goto db_error;
		if (PQntuples(r) != 1) {
			rc = res_error(res, 404, "not_found", "no such photo", "cover_photo_id");
			goto rollback;
		}
		if (strcmp(PQgetvalue(r, 0, 0), id) != 0 ||
		    strcmp(PQgetvalue(r, 0, 1), "ready") != 0 || !PQgetisnull(r, 0, 2)) {
			rc = res_error(
			        res, 422, "validation_failed",
			        "the cover must be a ready photo of this album, not in the trash",
			        "cover_photo_id");
			goto rollback;
		}
	}
	params[0] = id;
	params[1] = owner;
	params[2] = in.name;
	params[3] = in.description;
	params[4] = in.sort_order;
	params[5] = in.cover_given ? "t" : "f";
	params[6] = in.cover;
	r = db_query(req->arena, SQL_UPDATE, 7, params);
	if (r == NULL) {
		if (db_last_error() == DB_UNIQUE) {
			rc = album_name_taken(res);
			goto rollback;
		}
		goto db_error;
	}
	if (PQntuples(r) != 1) {
		rc = album_not_found(res);
		goto rollback;
	}
	if (db_commit() != 0)
		goto db_error;
	rc = album_view(req, res, owner, id, 200);
	goto out;

db_error:
	rc = db_fail(res);
rollback:
	db_rollback();
out:
	return rc;
}

/* ---- delete ---- */

/* DELETE /api/albums/{id}: the album, its photos and their objects; 204. */
int albums_delete(struct req *req, struct res *res)
{
	struct auth_user me;
	const char *id = req_param(req, "id");
	const char *params[2];
	PGresult *keys = NULL, *r;
	long n;
	int rc, failed = 0;

	if (auth_require_user(req, res, &me) != 0)
		return res->status;
	if (!album_id_valid(id))
		return album_not_found(res);
	params[0] = id;
	params[1] = album_owner(req->arena, &me);
	if (db_begin() != 0)
		return db_fail(res);
	/* The lock keeps uploads from adding a photo whose keys we would miss. */
	r = db_query(req->arena, SQL_LOCK, 2, params);
	if (r == NULL)
		goto db_error;
	if (PQntuples(r) != 1) {
		rc = album_not_found(res);
		goto rollback;
	}
	keys = db_query(req->arena, SQL_PHOTO_KEYS, 1, params);
	if (keys == NULL)
		goto db_error;
	n = db_exec(req->arena, SQL_DELETE, 2, params);
	if (n < 0)
		goto db_error;
	if (n == 0) {
		rc = album_not_found(res);
		goto rollback;
	}
	if (db_commit() != 0)
		goto db_error;
	failed = album_purge_rows(keys);
	if (failed > 0)
		log_warn("album %s deleted; objects of %d photos were left behind", id, failed);
	rc = res_empty(res, 204);
	goto out;

db_error:
	rc = db_fail(res);
rollback:
	db_rollback();
out:
	return rc;
}

/* ---- SQL ---- */

/* clang-format off */

/* The album columns: photo_count counts every photo not in the trash
 * (whatever its status); the cover is cover_photo_id when ready and not
 * trashed, else the newest ready photo. page_us feeds cursors. */
#define ALBUM_COLUMNS \
	"SELECT a.id, a.name, a.description, a.sort_order, a.created_at, a.updated_at," \
	"  (SELECT count(*) FROM photos p" \
	"    WHERE p.album_id = a.id AND p.owner_id = a.owner_id" \
	"      AND p.trashed_at IS NULL) AS photo_count," \
	"  c.id AS cover_id, c.thumb_key AS cover_thumb_key"
#define ALBUM_FROM \
	" FROM albums a" \
	" LEFT JOIN LATERAL (SELECT p.id, p.thumb_key FROM photos p" \
	"   WHERE p.album_id = a.id AND p.owner_id = a.owner_id AND p.trashed_at IS NULL" \
	"     AND p.status = 'ready'" \
	"   ORDER BY (p.id IS NOT DISTINCT FROM a.cover_photo_id) DESC, p.created_at DESC," \
	"     p.id DESC LIMIT 1) c ON true" \
	" WHERE a.owner_id = $1::bigint"
#define ALBUM_US(col) ", (extract(epoch FROM a." col ") * 1000000)::bigint AS page_us"
#define ALBUM_AT(n) "('epoch'::timestamptz + $" n "::bigint * interval '1 microsecond')"

/* $3 sort_order, $4 created us, $5 id. */
static const char *const SQL_LIST_ORDER =
	ALBUM_COLUMNS ALBUM_US("created_at") ALBUM_FROM
	"  AND ($3::int IS NULL OR a.sort_order > $3::int"
	"       OR (a.sort_order = $3::int AND (a.created_at < " ALBUM_AT("4")
	"           OR (a.created_at = " ALBUM_AT("4") " AND a.id > $5::text))))"
	" ORDER BY a.sort_order, a.created_at DESC, a.id"
	" LIMIT $2::int";

/* $3 id, $4 name (NULL: the name album $3 has now; none when it is gone). */
static const char *const SQL_LIST_NAME =
	ALBUM_COLUMNS ALBUM_FROM
	"  AND ($3::text IS NULL OR (a.name, a.id) > (COALESCE($4::text,"
	"       (SELECT n.name FROM albums n WHERE n.id = $3::text AND n.owner_id = $1::bigint)),"
	"       $3::text))"
	" ORDER BY a.name, a.id"
	" LIMIT $2::int";

/* $3 created us, $4 id. */
static const char *const SQL_LIST_CREATED =
	ALBUM_COLUMNS ALBUM_US("created_at") ALBUM_FROM
	"  AND ($3::bigint IS NULL OR (a.created_at, a.id) < (" ALBUM_AT("3") ", $4::text))"
	" ORDER BY a.created_at DESC, a.id DESC"
	" LIMIT $2::int";

/* $3 updated us, $4 id. */
static const char *const SQL_LIST_UPDATED =
	ALBUM_COLUMNS ALBUM_US("updated_at") ALBUM_FROM
	"  AND ($3::bigint IS NULL OR (a.updated_at, a.id) < (" ALBUM_AT("3") ", $4::text))"
	" ORDER BY a.updated_at DESC, a.id DESC"
	" LIMIT $2::int";

/* $1 owner, $2 id. */
static const char *const SQL_GET =
	ALBUM_COLUMNS ALBUM_FROM " AND a.id = $2::text";

/* A name the user already has inserts nothing. */
static const char *const SQL_INSERT =
	"INSERT INTO albums (id, owner_id, name, description, sort_order)"
	" VALUES ($1::text, $2::bigint, $3::text, $4::text, $5::int)"
	" ON CONFLICT (owner_id, name) DO NOTHING RETURNING id";

/* $1 photo id, $2 owner -> (album_id, status, trashed_at). */
static const char *const SQL_COVER_CHECK =
	"SELECT album_id, status, trashed_at FROM photos"
	" WHERE id = $1::text AND owner_id = $2::bigint";

/* $3..$5 NULL keep; $6 whether to set the cover to $7 (NULL clears). */
static const char *const SQL_UPDATE =
	"UPDATE albums SET name = COALESCE($3::text, name),"
	"  description = COALESCE($4::text, description),"
	"  sort_order = COALESCE($5::int, sort_order),"
	"  cover_photo_id = CASE WHEN $6::bool THEN $7::text ELSE cover_photo_id END,"
	"  updated_at = now()"
	" WHERE id = $1::text AND owner_id = $2::bigint RETURNING id";

static const char *const SQL_LOCK =
	"SELECT id FROM albums WHERE id = $1::text AND owner_id = $2::bigint FOR UPDATE";

static const char *const SQL_PHOTO_KEYS =
	"SELECT object_key, thumb_key, display_key FROM photos"
	" WHERE album_id = $1::text FOR UPDATE";

/* Photos (and their tags and shares) cascade. */
static const char *const SQL_DELETE =
	"DELETE FROM albums WHERE id = $1::text AND owner_id = $2::bigint";

/* clang-format on */
