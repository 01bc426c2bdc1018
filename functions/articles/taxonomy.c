/* taxonomy.c - the admin's categories and tags, and image uploads for the
 * Markdown editor.
 *
 * Categories and tags have a unique name and a unique slug (from the name by
 * text_slug() unless given); a clash is 409 conflict naming the field.
 * Deleting a category leaves its articles without one (ON DELETE SET NULL);
 * deleting a tag takes it off every article (article_tags cascades).
 *
 * An upload is the raw image (Content-Type image/jpeg, png, gif or webp) or
 * a multipart/form-data body with a "file" part. The type is decided by the
 * magic number and must agree with the declared one (415 otherwise); the
 * size is capped by UPLOAD_MAX_BYTES (413). The object key is built here,
 * uploads/<yyyy>/<mm>/<32 random hex>.<ext>, never from the client's file
 * name, and the answer carries a stable public URL (store_public_url).
 *
 * File order: categories and tags, uploads, then the SQL and the two table
 * descriptions that name it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "arena.h"
#include "articles.h"
#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "imgtype.h"
#include "json.h"
#include "log.h"
#include "multipart.h"
#include "store.h"
#include "text.h"

/* ---- categories and tags: one implementation, two tables ---- */

struct taxon {
	const char *what;         /* "category" / "tag", for messages */
	size_t name_max;          /* characters (the table's CHECK) */
	size_t slug_max;          /* characters, and bytes for text_slug */
	bool has_sort;            /* categories have sort_order */
	const char *sql_insert;   /* $1 name, $2 slug[, $3 sort_order]; ON CONFLICT DO NOTHING */
	const char *sql_update;   /* $1 id, $2 name, $3 slug[, $4 sort_order]; NULL keeps */
	const char *sql_delete;   /* $1 id */
	const char *sql_conflict; /* $1 name, $2 slug, $3 id to ignore -> (name?, slug?) */
};

/* The two tables, defined with their SQL at the end of the file. */
static const struct taxon CATEGORY;
static const struct taxon TAG;
static const char *const SQL_TAGS_ALL;

/* The input of a create or an update; NULL / has_sort false = not given. */
struct taxon_input {
	const char *name, *slug, *sort;
};

/* Fills res with an error and returns -1 (for helpers that return 0/-1). */
static int reject(struct res *res, int status, const char *code, const char *field,
                  const char *message)
{
	res_error(res, status, code, message, field);
	return -1;
}

/* A slug as the tables allow it: runs of [a-z0-9] or non-ASCII bytes joined
 * by single hyphens. */
static bool slug_valid(const char *s)
{
	bool prev_sep = true;

	if (s == NULL || *s == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '-') {
			if (prev_sep)
				return false;
			prev_sep = true;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p >= 0x80))
			return false;
		prev_sep = false;
	}
	return !prev_sep;
}

/* name without surrounding ASCII white space (arena); NULL when that leaves
 * nothing or it holds a control character. */
static const char *name_clean(struct arena *a, const char *name)
{
	size_t n;

	while (*name == ' ' || *name == '\t' || *name == '\n' || *name == '\r')
		name++;
	n = strlen(name);
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t' || name[n - 1] == '\n' ||
	                 name[n - 1] == '\r'))
		n--;
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return NULL;
	return arena_strndup(a, name, n);
}

/* Reads and validates the body. On create, name is required and the slug
 * defaults to text_slug(name). 0, or -1 with res filled. */
static int taxon_input_read(struct req *req, struct res *res, const struct taxon *t, bool create,
                            struct taxon_input *in)
{
	const cJSON *body;
	const char *name = NULL, *slug = NULL;
	int64_t sort = 0;

	memset(in, 0, sizeof(*in));
	if (json_body(req, res, &body) != 0)
		return -1;
	if (json_str(res, body, "name", create, 1, t->name_max, &name) != 0 ||
	    json_str(res, body, "slug", false, 1, t->slug_max, &slug) != 0)
		return -1;
	if (t->has_sort &&
	    json_i64(res, body, "sort_order", false, INT32_MIN, INT32_MAX, &sort) != 0)
		return -1;
	if (name != NULL) {
		in->name = name_clean(req->arena, name);
		if (in->name == NULL)
			return reject(
			        res, 422, "validation_failed", "name",
			        "name must have visible characters and no control characters");
	}
	if (slug != NULL && !slug_valid(slug))
		return reject(res, 422, "validation_failed", "slug",
		              "slug must be lower-case letters, digits or non-ASCII characters "
		              "joined by single hyphens");
	in->slug = slug;
	if (create && in->slug == NULL) {
		in->slug = text_slug(req->arena, in->name, t->slug_max);
		if (in->slug == NULL || !slug_valid(in->slug))
			return reject(
			        res, 422, "validation_failed", "slug",
			        arena_printf(req->arena,
			                     "the name gives no slug; send a slug for this %s",
			                     t->what));
	}
	if (t->has_sort && json_has(body, "sort_order"))
		in->sort = arena_printf(req->arena, "%lld", (long long)sort);
	if (!create && in->name == NULL && in->slug == NULL && in->sort == NULL)
		return reject(res, 422, "validation_failed", NULL,
		              t->has_sort ? "send name, slug or sort_order to change"
		                          : "send name or slug to change");
	return 0;
}

/* 409 naming the field another row already uses, when one does; 0 when
 * none does; -1 with res filled when the check itself failed. */
static int taxon_conflict(struct req *req, struct res *res, const struct taxon *t,
                          const struct taxon_input *in, const char *id)
{
	const char *params[] = {in->name, in->slug, id};
	PGresult *r;
	const char *field;

	if (in->name == NULL && in->slug == NULL)
		return 0;
	r = db_query(req->arena, t->sql_conflict, 3, params);
	if (r == NULL) {
		db_fail(res);
		return -1;
	}
	if (PQntuples(r) != 1)
		return 0;
	field = strcmp(PQgetvalue(r, 0, 0), "t") == 0   ? "name"
	        : strcmp(PQgetvalue(r, 0, 1), "t") == 0 ? "slug"
	                                                : NULL;
	if (field == NULL)
		return 0;
	res_errorf(res, 409, "conflict", field, "another %s already has this %s", t->what, field);
	return 1;
}

static int taxon_create(struct req *req, struct res *res, const struct taxon *t)
{
	struct taxon_input in;
	struct auth_admin me;
	const char *params[3];
	PGresult *r;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if (taxon_input_read(req, res, t, true, &in) != 0)
		return res->status;
	params[0] = in.name;
	params[1] = in.slug;
	params[2] = in.sort;
	r = db_query(req->arena, t->sql_insert, t->has_sort ? 3 : 2, params);
	if (r == NULL)
		return db_fail(res);
	if (PQntuples(r) == 0) {
		/* ON CONFLICT DO NOTHING: name or slug is taken */
		if (taxon_conflict(req, res, t, &in, "0") != 0)
			return res->status;
		return res_errorf(res, 409, "conflict", NULL, "this %s already exists", t->what);
	}
	log_info("admin %lld created %s %s", (long long)me.id, t->what, PQgetvalue(r, 0, 0));
	return res_json(res, 201, db_row_json(r, 0));
}

static int taxon_update(struct req *req, struct res *res, const struct taxon *t)
{
	struct taxon_input in;
	struct auth_admin me;
	const char *params[4];
	uint64_t id;
	PGresult *r;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if (req_param_u64(req, res, "id", 1, INT64_MAX, &id) != 0)
		return res->status;
	if (taxon_input_read(req, res, t, false, &in) != 0)
		return res->status;
	params[0] = arena_printf(req->arena, "%llu", (unsigned long long)id);
	params[1] = in.name;
	params[2] = in.slug;
	params[3] = in.sort;
	if (taxon_conflict(req, res, t, &in, params[0]) != 0)
		return res->status;
	r = db_query(req->arena, t->sql_update, t->has_sort ? 4 : 3, params);
	if (r == NULL) {
		/* a concurrent write took the name or slug after the check */
		if (db_last_error() == DB_UNIQUE &&
		    taxon_conflict(req, res, t, &in, params[0]) != 0)
			return res->status;
		return db_fail(res);
	}
	if (PQntuples(r) == 0)
		return res_errorf(res, 404, "not_found", NULL, "no such %s", t->what);
	log_info("admin %lld updated %s %s", (long long)me.id, t->what, params[0]);
	return res_json(res, 200, db_row_json(r, 0));
}

static int taxon_delete(struct req *req, struct res *res, const struct taxon *t)
{
	struct auth_admin me;
	const char *params[1];
	uint64_t id;
	long n;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if (req_param_u64(req, res, "id", 1, INT64_MAX, &id) != 0)
		return res->status;
	params[0] = arena_printf(req->arena, "%llu", (unsigned long long)id);
	n = db_exec(req->arena, t->sql_delete, 1, params);
	if (n < 0)
		return db_fail(res);
	if (n == 0)
		return res_errorf(res, 404, "not_found", NULL, "no such %s", t->what);
	log_info("admin %lld deleted %s %s", (long long)me.id, t->what, params[0]);
	return res_empty(res, 204);
}

/* POST /api/categories {name, slug?, sort_order?} -> 201 the category. */
int categories_create(struct req *req, struct res *res)
{
	return taxon_create(req, res, &CATEGORY);
}

/* PUT /api/categories/{id} {name?, slug?, sort_order?} -> 200 the category. */
int categories_update(struct req *req, struct res *res)
{
	return taxon_update(req, res, &CATEGORY);
}

/* DELETE /api/categories/{id} -> 204; its articles stay, uncategorised. */
int categories_delete(struct req *req, struct res *res)
{
	return taxon_delete(req, res, &CATEGORY);
}

/* POST /api/tags {name, slug?} -> 201 the tag. */
int tags_create(struct req *req, struct res *res)
{
	return taxon_create(req, res, &TAG);
}

/* PUT /api/tags/{id} {name?, slug?} -> 200 the tag. */
int tags_update(struct req *req, struct res *res)
{
	return taxon_update(req, res, &TAG);
}

/* DELETE /api/tags/{id} -> 204; the tag leaves every article. */
int tags_delete(struct req *req, struct res *res)
{
	return taxon_delete(req, res, &TAG);
}

/* GET /api/admin/tags -> every tag by name with its count of articles of
 * any status (the public cloud lists only tags of published articles). */
int admin_tags_list(struct req *req, struct res *res)
{
	struct auth_admin me;
	PGresult *r;
	cJSON *root;

	if (auth_require_admin(req, res, &me))
		return res->status;
	r = db_query(req->arena, SQL_TAGS_ALL, 0, NULL);
	if (!r)
		return db_fail(res);
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "items", db_rows_json(r));
	return res_json(res, 200, root);
}

/* ---- uploads ---- */

/* Room for a multipart envelope around an image of UPLOAD_MAX_BYTES. */
#define UPLOAD_ENVELOPE (64 * 1024)

static size_t upload_max;

static const struct config_var upload_vars[] = {
        {"UPLOAD_MAX_BYTES", "5M", config_parse_size, &upload_max,
         "largest image the editor may upload (413 above)"},
};

/* Reads upload_vars (cold start); 0, or -1 with the bad variable named. */
int uploads_init(char *err, size_t errlen)
{
	return config_load(upload_vars, sizeof(upload_vars) / sizeof(upload_vars[0]), err, errlen);
}

/* The image type a declared media type names (image/pjpeg too),
 * IMG_UNKNOWN when not one of ours. */
static enum img_type upload_declared(const char *mt)
{
	if (strcmp(mt, "image/pjpeg") == 0)
		return IMG_JPEG;
	return imgtype_declared(mt);
}

static int upload_too_large(struct res *res)
{
	return res_errorf(res, 413, "payload_too_large", NULL, "the image is larger than %zu bytes",
	                  upload_max);
}

static int upload_bad_type(struct res *res, const char *why)
{
	return res_error(res, 415, "unsupported_media_type", why, NULL);
}

/* POST /api/uploads: the raw image or multipart "file" -> 201 {key, url,
 * content_type, size}. */
int uploads_create(struct req *req, struct res *res)
{
	enum img_type declared = IMG_UNKNOWN, actual;
	struct multipart_part part = {0};
	struct auth_admin me;
	const char *header, *params, *key, *url;
	unsigned char rnd[16];
	struct tm tm;
	time_t now;
	char *mt;
	cJSON *root;

	if (auth_require_admin(req, res, &me))
		return res->status;

	header = req_header(req, "content-type");
	if (header == NULL)
		return upload_bad_type(res, "send an image (image/jpeg, image/png, image/gif, "
		                            "image/webp) or multipart/form-data");
	mt = multipart_media_type(req->arena, header, &params);
	if (strcmp(mt, "multipart/form-data") == 0) {
		const char *boundary = multipart_param(req->arena, params, "boundary");
		enum multipart_result found;

		if (boundary == NULL || !multipart_boundary_valid(boundary))
			return res_error(res, 400, "invalid_multipart",
			                 "the multipart boundary is missing or invalid", NULL);
		if (req->body_len > upload_max + UPLOAD_ENVELOPE)
			return upload_too_large(res);
		found = multipart_find(req->arena, req->body, req->body_len, boundary, "file",
		                       &part);
		if (found == MULTIPART_MALFORMED)
			return res_error(res, 400, "invalid_multipart",
			                 "the multipart body is malformed", NULL);
		if (found == MULTIPART_NO_PART)
			return res_error(res, 422, "validation_failed",
			                 "the form has no \"file\" part", "file");
		/* a part without a type, or a generic one, is judged by its bytes */
		if (part.ctype != NULL && strcmp(part.ctype, "application/octet-stream") != 0) {
			declared = upload_declared(part.ctype);
			if (declared == IMG_UNKNOWN)
				return upload_bad_type(res,
				                       "the file is not a supported image type");
		}
	} else {
		declared = upload_declared(mt);
		if (declared == IMG_UNKNOWN)
			return upload_bad_type(res,
			                       "only JPEG, PNG, GIF and WebP images are accepted");
		part.data = req->body;
		part.len = req->body_len;
	}
	if (part.len > upload_max)
		return upload_too_large(res);
	if (part.len == 0)
		return res_error(res, 422, "validation_failed", "the file is empty", "file");
	actual = imgtype_sniff(part.data, part.len);
	if (actual == IMG_UNKNOWN)
		return upload_bad_type(res, "the file is not a JPEG, PNG, GIF or WebP image");
	if (declared != IMG_UNKNOWN && declared != actual)
		return upload_bad_type(res, "the file's content does not match its declared type");

	now = time(NULL);
	if (crypto_random(rnd, sizeof(rnd)) != 0 || gmtime_r(&now, &tm) == NULL)
		return res_error(res, 500, "internal_error", "internal error", NULL);
	key = arena_printf(req->arena, "uploads/%04d/%02d/%s.%s", tm.tm_year + 1900, tm.tm_mon + 1,
	                   crypto_hex(req->arena, rnd, sizeof(rnd)), imgtype_ext(actual));
	if (store_put(key, part.data, part.len, imgtype_mime(actual)) != 0)
		return res_error(res, 500, "storage_failed", "the image could not be stored", NULL);
	url = store_public_url(req->arena, key);
	if (url == NULL)
		return res_error(res, 500, "storage_failed", "the image has no public URL", NULL);
	log_info("admin %lld uploaded %s (%zu bytes)", (long long)me.id, key, part.len);
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "key", key);
	cJSON_AddStringToObject(root, "url", url);
	cJSON_AddStringToObject(root, "content_type", imgtype_mime(actual));
	cJSON_AddNumberToObject(root, "size", (double)part.len);
	res_header_set(res, "Location", url);
	return res_json(res, 201, root);
}

/* ---- SQL ---- */

static const char SQL_CATEGORY_INSERT[] = "INSERT INTO categories (name, slug, sort_order) "
                                          "VALUES ($1, $2, COALESCE($3::integer, 0)) "
                                          "ON CONFLICT DO NOTHING "
                                          "RETURNING id, name, slug, sort_order, created_at";

static const char SQL_CATEGORY_UPDATE[] =
        "UPDATE categories SET name = COALESCE($2, name), slug = COALESCE($3, slug), "
        "sort_order = COALESCE($4::integer, sort_order) "
        "WHERE id = $1::bigint "
        "RETURNING id, name, slug, sort_order, created_at";

static const char SQL_CATEGORY_DELETE[] = "DELETE FROM categories WHERE id = $1::bigint";

static const char SQL_CATEGORY_CONFLICT[] =
        "SELECT COALESCE(bool_or(name = $1::text), false), COALESCE(bool_or(slug = $2::text), "
        "false) "
        "FROM categories WHERE (name = $1::text OR slug = $2::text) AND id <> $3::bigint";

static const char SQL_TAG_INSERT[] = "INSERT INTO tags (name, slug) VALUES ($1, $2) "
                                     "ON CONFLICT DO NOTHING "
                                     "RETURNING id, name, slug, created_at";

static const char SQL_TAG_UPDATE[] =
        "UPDATE tags SET name = COALESCE($2, name), slug = COALESCE($3, slug) "
        "WHERE id = $1::bigint "
        "RETURNING id, name, slug, created_at";

static const char SQL_TAG_DELETE[] = "DELETE FROM tags WHERE id = $1::bigint";

static const char SQL_TAG_CONFLICT[] =
        "SELECT COALESCE(bool_or(name = $1::text), false), COALESCE(bool_or(slug = $2::text), "
        "false) "
        "FROM tags WHERE (name = $1::text OR slug = $2::text) AND id <> $3::bigint";

static const char *const SQL_TAGS_ALL =
        "SELECT t.id, t.name, t.slug, count(x.article_id) AS article_count "
        "FROM tags t LEFT JOIN article_tags x ON x.tag_id = t.id "
        "GROUP BY t.id ORDER BY t.name";

static const struct taxon CATEGORY = {
        "category",
        80,
        100,
        true,
        SQL_CATEGORY_INSERT,
        SQL_CATEGORY_UPDATE,
        SQL_CATEGORY_DELETE,
        SQL_CATEGORY_CONFLICT,
};

static const struct taxon TAG = {
        "tag", 50, 60, false, SQL_TAG_INSERT, SQL_TAG_UPDATE, SQL_TAG_DELETE, SQL_TAG_CONFLICT,
};
