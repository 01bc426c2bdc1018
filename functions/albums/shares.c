/* shares.c - share links for an album or a photo: create, list, revoke, and
 * the public endpoint that shows what a link shares.
 *
 * A link's token is 32 random bytes in base64url, shown once in the create
 * answer; only its SHA-256 (hex) is stored, so a database leak names no
 * usable link. A link may expire (expires_in_s) and may carry a password
 * (argon2id, auth_password_hash), sent to the public endpoint in the
 * X-Share-Password header. Revoking sets revoked_at; a revoked, expired or
 * unknown token is the same 404, so a token's history is not revealed.
 *
 * share_resolve is the one way from a token to what it shows, for the JSON
 * endpoint here and the web page (sharepage.c) alike: the same lookup,
 * expiry, revocation, password check and data.
 *
 * The public endpoint shows exactly what is shared and nothing of the owner:
 * for an album its name and description and its photos that are ready and
 * not in the trash (cursor-paged), for a photo that photo while it is ready
 * and not in the trash; each with thumbnail and display URLs valid
 * SHARE_URL_TTL_S seconds. Every query names the share's owner, so a photo
 * moved to another user's album could never show.
 *
 * File order: helpers, handlers, then SQL.
 */
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
#include "crypto.h"
#include "cursor.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "store.h"

#define SHARE_TOKEN_BYTES     32
#define SHARE_TOKEN_LEN       43 /* base64url of 32 bytes, unpadded */
#define SHARE_EXPIRES_MIN     60
#define SHARE_EXPIRES_MAX     31536000
#define SHARE_PASSWORD_MIN    4
#define SHARE_PASSWORD_MAX    128
#define SHARE_URL_TTL_S       300
#define SHARE_LIMIT_DEFAULT   50
#define SHARE_LIMIT_MAX       100
#define SHARE_PASSWORD_HEADER "x-share-password"

static const char *const SQL_INSERT_ALBUM;
static const char *const SQL_INSERT_PHOTO;
static const char *const SQL_LIST;
static const char *const SQL_LIST_AFTER;
static const char *const SQL_REVOKE;
static const char *const SQL_LOOKUP;
static const char *const SQL_PUBLIC_ALBUM;
static const char *const SQL_PUBLIC_PHOTOS;
static const char *const SQL_PUBLIC_PHOTOS_AFTER;
static const char *const SQL_PUBLIC_PHOTO;

/* ---- helpers ---- */

static int share_not_found(struct res *res, const char *what)
{
	return res_errorf(res, 404, "not_found", NULL, "%s not found", what);
}

/* The SHA-256 of a token, hex (arena). */
static char *share_token_hash(struct arena *a, const char *token)
{
	unsigned char sum[32];

	crypto_sha256(token, strlen(token), sum);
	return crypto_hex(a, sum, sizeof(sum));
}

/* True when s could be one of our tokens (43 base64url characters). */
static bool share_token_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= SHARE_TOKEN_LEN)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return n == SHARE_TOKEN_LEN;
}

/* Cursor payload "<created_at in epoch microseconds>|<id>" for row i of
 * r, whose columns ts_col and id_col hold them. */
static char *share_cursor_make(struct arena *a, const PGresult *r, int i, int ts_col, int id_col)
{
	return cursor_encode(
	        a, arena_printf(a, "%s|%s", PQgetvalue(r, i, ts_col), PQgetvalue(r, i, id_col)));
}

/* Splits a cursor into its timestamp and id (arena); -1 when tampered. */
static int share_cursor_parse(struct arena *a, const char *cursor, const char **ts, const char **id)
{
	char *p = cursor_decode(a, cursor), *bar;

	if (p == NULL || (bar = strchr(p, '|')) == NULL || bar == p || !album_id_valid(bar + 1))
		return -1;
	for (const char *c = p; c < bar; c++)
		if (!((*c >= '0' && *c <= '9') || (c == p && *c == '-')))
			return -1;
	*bar = '\0';
	*ts = p;
	*id = bar + 1;
	return 0;
}

/* limit and the decoded cursor of a listing; 0, or -1 with res filled. */
static int share_page_args(struct req *req, struct res *res, uint64_t *limit, const char **ts,
                           const char **id)
{
	const char *cursor = req_query(req, "cursor");

	*ts = NULL;
	*id = NULL;
	if (req_query_u64(req, res, "limit", SHARE_LIMIT_DEFAULT, 1, SHARE_LIMIT_MAX, limit))
		return -1;
	if (cursor != NULL && cursor[0] != '\0' && share_cursor_parse(req->arena, cursor, ts, id))
		return res_error(res, 400, "invalid_cursor", "the cursor is not valid", "cursor"),
		       -1;
	return 0;
}

/* A presigned GET URL for key with the share's short TTL, or JSON null. */
static void share_add_url(struct arena *a, cJSON *obj, const char *name, const PGresult *r, int i,
                          int col)
{
	char *url = NULL;

	if (!PQgetisnull(r, i, col))
		url = store_presign_get(a, PQgetvalue(r, i, col), SHARE_URL_TTL_S);
	if (url != NULL)
		cJSON_AddStringToObject(obj, name, url);
	else
		cJSON_AddNullToObject(obj, name);
}

/* One public photo: the fields a share shows, the keys turned into URLs.
 * Columns: id, width, height, description, taken_at, thumb_key,
 * display_key, page_us (for the cursor). */
static cJSON *share_photo_json(struct arena *a, const PGresult *r, int i)
{
	cJSON *o = db_row_json(r, i);

	share_add_url(a, o, "thumb_url", r, i, 5);
	share_add_url(a, o, "display_url", r, i, 6);
	cJSON_DeleteItemFromObject(o, "thumb_key");
	cJSON_DeleteItemFromObject(o, "display_key");
	cJSON_DeleteItemFromObject(o, "page_us");
	return o;
}

/* ---- handlers ---- */

/* POST /api/shares {album_id | photo_id, expires_in_s?, password?} -> 201
 * {id, token, url (the web page), api_url (the JSON), expires_at,
 * has_password, album_id, photo_id, created_at}; the token is never shown
 * again. */
int shares_create(struct req *req, struct res *res)
{
	struct auth_user me;
	const cJSON *body;
	const char *album = NULL, *photo = NULL, *password = NULL, *target, *id, *token;
	const char *owner, *phash = NULL, *hash, *p[6];
	char expires[32];
	unsigned char raw[SHARE_TOKEN_BYTES];
	int64_t expires_in = 0;
	PGresult *r;
	cJSON *root;

	if (auth_require_user(req, res, &me))
		return res->status;
	if (json_body(req, res, &body) || json_str(res, body, "album_id", false, 1, 100, &album) ||
	    json_str(res, body, "photo_id", false, 1, 100, &photo) ||
	    json_i64(res, body, "expires_in_s", false, SHARE_EXPIRES_MIN, SHARE_EXPIRES_MAX,
	             &expires_in) ||
	    json_str(res, body, "password", false, SHARE_PASSWORD_MIN, SHARE_PASSWORD_MAX,
	             &password))
		return res->status;
	if ((album == NULL) == (photo == NULL))
		return res_error(res, 422, "validation_failed",
		                 "give exactly one of album_id and photo_id",
		                 album == NULL ? "album_id" : "photo_id");
	target = album ? album : photo;
	if (!album_id_valid(target))
		return share_not_found(res, album ? "album" : "photo");

	id = album_new_id(req->arena);
	if (id == NULL || crypto_random(raw, sizeof(raw)) != 0)
		return res_error(res, 500, "internal_error", "internal error", NULL);
	token = crypto_b64_encode(req->arena, raw, sizeof(raw), true);
	hash = share_token_hash(req->arena, token);
	if (password != NULL) {
		phash = auth_password_hash(req->arena, password);
		if (phash == NULL)
			return res_error(res, 500, "internal_error", "internal error", NULL);
	}
	owner = album_owner(req->arena, &me);
	snprintf(expires, sizeof(expires), "%" PRId64, expires_in);
	p[0] = id;
	p[1] = owner;
	p[2] = target;
	p[3] = hash;
	p[4] = phash;
	p[5] = expires_in > 0 ? expires : NULL;
	/* inserted only when the target is the caller's: one statement, no race */
	r = db_query(req->arena, album ? SQL_INSERT_ALBUM : SQL_INSERT_PHOTO, 6, p);
	if (r == NULL)
		return db_last_error() == DB_FOREIGN_KEY
		               ? share_not_found(res, album ? "album" : "photo")
		               : db_fail(res);
	if (PQntuples(r) != 1)
		return share_not_found(res, album ? "album" : "photo");

	root = db_row_json(r, 0);
	cJSON_AddStringToObject(root, "token", token);
	cJSON_AddStringToObject(root, "url", arena_printf(req->arena, "/s/%s", token));
	cJSON_AddStringToObject(root, "api_url",
	                        arena_printf(req->arena, "/api/public/shares/%s", token));
	log_info("user %" PRId64 " shared %s %s as %s", me.id, album ? "album" : "photo", target,
	         id);
	return res_json(res, 201, root);
}

/* GET /api/shares?limit&cursor -> 200 {shares: [...], next_cursor?}: the
 * caller's links, newest first, without tokens. */
int shares_list(struct req *req, struct res *res)
{
	struct auth_user me;
	const char *ts, *after, *owner, *p[4];
	char lim[24];
	uint64_t limit;
	PGresult *r;
	cJSON *root, *items;
	int n;

	if (auth_require_user(req, res, &me))
		return res->status;
	if (share_page_args(req, res, &limit, &ts, &after))
		return res->status;
	owner = album_owner(req->arena, &me);
	snprintf(lim, sizeof(lim), "%" PRIu64, limit + 1);
	p[0] = owner;
	p[1] = lim;
	p[2] = ts;
	p[3] = after;
	r = db_query(req->arena, ts ? SQL_LIST_AFTER : SQL_LIST, ts ? 4 : 2, p);
	if (r == NULL)
		return db_fail(res);
	n = PQntuples(r);
	root = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(root, "shares");
	for (int i = 0; i < n && (uint64_t)i < limit; i++) {
		cJSON *o = db_row_json(r, i);

		cJSON_DeleteItemFromObject(o, "page_us");
		cJSON_AddItemToArray(items, o);
	}
	if ((uint64_t)n > limit)
		cJSON_AddStringToObject(root, "next_cursor",
		                        share_cursor_make(req->arena, r, (int)limit - 1,
		                                          PQfnumber(r, "page_us"), 0));
	else
		cJSON_AddNullToObject(root, "next_cursor");
	return res_json(res, 200, root);
}

/* DELETE /api/shares/{id} -> 204: the link stops working (revoked_at). */
int shares_delete(struct req *req, struct res *res)
{
	struct auth_user me;
	const char *id = req_param(req, "id"), *p[2];
	long n;

	if (auth_require_user(req, res, &me))
		return res->status;
	if (!album_id_valid(id))
		return share_not_found(res, "share");
	p[0] = id;
	p[1] = album_owner(req->arena, &me);
	n = db_exec(req->arena, SQL_REVOKE, 2, p);
	if (n < 0)
		return db_fail(res);
	if (n == 0)
		return share_not_found(res, "share");
	log_info("share %s revoked", id);
	return res_empty(res, 204);
}

/* The shared album's data: {album: {name, description}, photos: [...],
 * next_cursor}, or NULL with why in *why (res filled when SHARE_FAILED). */
static cJSON *share_album_data(struct req *req, struct res *res, const char *owner,
                               const char *album, enum share_result *why)
{
	const char *ts, *after, *p[5];
	char lim[24];
	uint64_t limit;
	PGresult *a, *r;
	cJSON *root, *items;
	int n;

	*why = SHARE_FAILED;
	if (share_page_args(req, res, &limit, &ts, &after))
		return NULL;
	p[0] = album;
	p[1] = owner;
	a = db_query(req->arena, SQL_PUBLIC_ALBUM, 2, p);
	if (a == NULL)
		return db_fail(res), NULL;
	if (PQntuples(a) != 1) {
		*why = SHARE_NOT_FOUND;
		return NULL;
	}
	snprintf(lim, sizeof(lim), "%" PRIu64, limit + 1);
	p[2] = lim;
	p[3] = ts;
	p[4] = after;
	r = db_query(req->arena, ts ? SQL_PUBLIC_PHOTOS_AFTER : SQL_PUBLIC_PHOTOS, ts ? 5 : 3, p);
	if (r == NULL)
		return db_fail(res), NULL;
	n = PQntuples(r);
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "album", db_row_json(a, 0));
	items = cJSON_AddArrayToObject(root, "photos");
	for (int i = 0; i < n && (uint64_t)i < limit; i++)
		cJSON_AddItemToArray(items, share_photo_json(req->arena, r, i));
	if ((uint64_t)n > limit)
		cJSON_AddStringToObject(root, "next_cursor",
		                        share_cursor_make(req->arena, r, (int)limit - 1,
		                                          PQfnumber(r, "page_us"), 0));
	else
		cJSON_AddNullToObject(root, "next_cursor");
	*why = SHARE_SHOWN;
	return root;
}

/* The shared photo's data: {photo}, or NULL with why in *why. */
static cJSON *share_photo_data(struct req *req, struct res *res, const char *owner,
                               const char *photo, enum share_result *why)
{
	const char *p[2] = {photo, owner};
	PGresult *ph = db_query(req->arena, SQL_PUBLIC_PHOTO, 2, p);
	cJSON *root;

	*why = SHARE_FAILED;
	if (ph == NULL)
		return db_fail(res), NULL;
	if (PQntuples(ph) != 1) {
		*why = SHARE_NOT_FOUND;
		return NULL;
	}
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "photo", share_photo_json(req->arena, ph, 0));
	*why = SHARE_SHOWN;
	return root;
}

/* Looks the token up (unknown, expired and revoked alike are not found),
 * checks the password with argon2id (its cost, about 80 ms a try, is the
 * brake on guessing), then loads what the link shows. */
enum share_result share_resolve(struct req *req, struct res *res, const char *password, cJSON **out)
{
	const char *token = req_param(req, "token"), *p[1], *owner;
	enum share_result why = SHARE_NOT_FOUND;
	PGresult *r;
	cJSON *root;

	*out = NULL;
	if (!share_token_valid(token))
		return SHARE_NOT_FOUND;
	p[0] = share_token_hash(req->arena, token);
	r = db_query(req->arena, SQL_LOOKUP, 1, p);
	if (r == NULL)
		return db_fail(res), SHARE_FAILED;
	if (PQntuples(r) != 1)
		return SHARE_NOT_FOUND;
	owner = PQgetvalue(r, 0, 0);
	if (!PQgetisnull(r, 0, 3)) {
		if (password == NULL || password[0] == '\0')
			return SHARE_PASSWORD_REQUIRED;
		if (strlen(password) > SHARE_PASSWORD_MAX ||
		    !auth_password_verify(PQgetvalue(r, 0, 3), password))
			return SHARE_PASSWORD_INVALID;
	}
	if (!PQgetisnull(r, 0, 1))
		root = share_album_data(req, res, owner, PQgetvalue(r, 0, 1), &why);
	else
		root = share_photo_data(req, res, owner, PQgetvalue(r, 0, 2), &why);
	if (root == NULL)
		return why;
	*out = root;
	return SHARE_SHOWN;
}

/* GET /api/public/shares/{token} (no sign-in; X-Share-Password when the
 * link has one) -> 200 the album page or {photo}; 404 for an unknown,
 * expired or revoked link alike; 401 share_password_required /
 * share_password_invalid. */
int shares_public(struct req *req, struct res *res)
{
	cJSON *root;

	res_header_set(res, "Cache-Control", "private, no-store");
	res_header_set(res, "Referrer-Policy", "no-referrer");
	switch (share_resolve(req, res, req_header(req, SHARE_PASSWORD_HEADER), &root)) {
	case SHARE_SHOWN:
		return res_json(res, 200, root);
	case SHARE_NOT_FOUND:
		return share_not_found(res, "share");
	case SHARE_PASSWORD_REQUIRED:
		return res_error(res, 401, "share_password_required",
		                 "this link needs a password (X-Share-Password)", NULL);
	case SHARE_PASSWORD_INVALID:
		return res_error(res, 401, "share_password_invalid", "the password is not right",
		                 NULL);
	case SHARE_FAILED:
		break;
	}
	return res->status;
}

/* ---- SQL ---- */

#define SHARE_COLS                                                                                 \
	"id, album_id, photo_id, expires_at, revoked_at, created_at,"                              \
	" password_hash IS NOT NULL AS has_password"

/* $1 id, $2 owner, $3 target, $4 token hash, $5 password hash, $6 seconds. */
static const char *const SQL_INSERT_ALBUM =
        "INSERT INTO shares (id, owner_id, album_id, token_hash, password_hash, expires_at)"
        " SELECT $1, a.owner_id, a.id, $4, $5,"
        "  now() + make_interval(secs => $6::double precision)"
        " FROM albums a WHERE a.id = $3::text AND a.owner_id = $2::bigint"
        " RETURNING " SHARE_COLS;

/* A photo in the trash cannot be shared. */
static const char *const SQL_INSERT_PHOTO =
        "INSERT INTO shares (id, owner_id, photo_id, token_hash, password_hash, expires_at)"
        " SELECT $1, p.owner_id, p.id, $4, $5,"
        "  now() + make_interval(secs => $6::double precision)"
        " FROM photos p WHERE p.id = $3::text AND p.owner_id = $2::bigint"
        "  AND p.trashed_at IS NULL"
        " RETURNING " SHARE_COLS;

static const char *const SQL_LIST =
        "SELECT " SHARE_COLS
        ", (extract(epoch FROM created_at) * 1000000)::bigint AS page_us FROM shares"
        " WHERE owner_id = $1::bigint"
        " ORDER BY created_at DESC, id DESC LIMIT $2::bigint";

static const char *const SQL_LIST_AFTER =
        "SELECT " SHARE_COLS
        ", (extract(epoch FROM created_at) * 1000000)::bigint AS page_us FROM shares"
        " WHERE owner_id = $1::bigint AND (created_at, id) < (timestamptz 'epoch' + $3::bigint * "
        "interval '1 microsecond', $4::text)"
        " ORDER BY created_at DESC, id DESC LIMIT $2::bigint";

static const char *const SQL_REVOKE = "UPDATE shares SET revoked_at = COALESCE(revoked_at, now())"
                                      " WHERE id = $1::text AND owner_id = $2::bigint";

static const char *const SQL_LOOKUP =
        "SELECT owner_id, album_id, photo_id, password_hash FROM shares"
        " WHERE token_hash = $1 AND revoked_at IS NULL"
        "  AND (expires_at IS NULL OR expires_at > now())";

static const char *const SQL_PUBLIC_ALBUM =
        "SELECT name, description FROM albums WHERE id = $1::text AND owner_id = $2::bigint";

#define SHARE_PHOTO_COLS                                                                           \
	"id, width, height, description, taken_at, thumb_key, display_key,"                        \
	" (extract(epoch FROM created_at) * 1000000)::bigint AS page_us"

static const char *const SQL_PUBLIC_PHOTOS =
        "SELECT " SHARE_PHOTO_COLS " FROM photos"
        " WHERE album_id = $1::text AND owner_id = $2::bigint AND status = 'ready'"
        "  AND trashed_at IS NULL"
        " ORDER BY created_at DESC, id DESC LIMIT $3::bigint";

static const char *const SQL_PUBLIC_PHOTOS_AFTER =
        "SELECT " SHARE_PHOTO_COLS " FROM photos"
        " WHERE album_id = $1::text AND owner_id = $2::bigint AND status = 'ready'"
        "  AND trashed_at IS NULL AND (created_at, id) < (timestamptz 'epoch' + $4::bigint * "
        "interval '1 microsecond', $5::text)"
        " ORDER BY created_at DESC, id DESC LIMIT $3::bigint";

static const char *const SQL_PUBLIC_PHOTO =
        "SELECT " SHARE_PHOTO_COLS " FROM photos"
        " WHERE id = $1::text AND owner_id = $2::bigint AND status = 'ready'"
        "  AND trashed_at IS NULL";
