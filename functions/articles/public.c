/* public.c - the public side of the blog: health, article list, one article.
 *
 * Readers see an article when it is published or scheduled and its
 * published_at has come; drafts and future articles answer 404 / are not
 * listed. The list pages with an opaque keyset cursor on (published_at, id),
 * so a page never repeats or skips an article when new ones appear.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "arena.h"
#include "cursor.h"
#include "db.h"
#include "fn.h"
#include "articles.h"

/* The SQL is defined at the end of the file; handlers name it. */
static const char *const SQL_HEALTH;
static const char *const SQL_LIST_FIRST;
static const char *const SQL_LIST_AFTER;
static const char *const SQL_GET;

#define ARTICLES_LIMIT_DEFAULT 20
#define ARTICLES_LIMIT_MAX     100

/* ---- handlers ---- */

/* 200 when the database answers, 503 (with the error shape) when not. */
int health_get(struct req *req, struct res *res)
{
	cJSON *root;

	if (db_query(req->arena, SQL_HEALTH, 0, NULL)) {
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "status", "ok");
		cJSON_AddStringToObject(root, "database", "up");
		return res_json(res, 200, root);
	}
	/* Whatever went wrong, the function cannot serve: 503 and retry. */
	res_header_set(res, "Retry-After", "1");
	root = cJSON_CreateObject();
	cJSON *err = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(err, "code", "db_unavailable");
	cJSON_AddStringToObject(err, "message", "the database is unavailable");
	cJSON_AddStringToObject(root, "status", "degraded");
	cJSON_AddStringToObject(root, "database", "down");
	return res_json(res, 503, root);
}

/* Cursor payload "<published_at epoch microseconds>,<id>" to the two SQL
 * parameters (an exact UTC timestamp literal and the id). */
static int articles_cursor_params(struct arena *a, const char *cursor, char **ts, char **id)
{
	const char *p = cursor_decode(a, cursor);
	long long us, n, secs, frac;
	struct tm tm;
	time_t t;
	char *end;

	if (!p || !((p[0] >= '0' && p[0] <= '9') || p[0] == '-'))
		return -1;
	errno = 0;
	us = strtoll(p, &end, 10);
	if (errno || end == p || *end != ',' || !(end[1] >= '0' && end[1] <= '9'))
		return -1;
	p = end + 1;
	n = strtoll(p, &end, 10);
	if (errno || *end || n < 1)
		return -1;
	secs = us / 1000000;
	frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return -1;
	*ts = arena_printf(a, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900,
	                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	*id = arena_printf(a, "%lld", n);
	return 0;
}

/* Public list, newest first: ?limit=1..100 (20), ?cursor=next_cursor. */
int articles_list(struct req *req, struct res *res)
{
	const char *cursor = req_query(req, "cursor");
	const char *params[3] = {NULL, NULL, NULL};
	char *ts = NULL, *id = NULL, *limit_s;
	cJSON *root, *items;
	PGresult *r;
	uint64_t limit;
	int rows;

	if (req_query_u64(req, res, "limit", ARTICLES_LIMIT_DEFAULT, 1, ARTICLES_LIMIT_MAX, &limit))
		return res->status;
	if (cursor && articles_cursor_params(req->arena, cursor, &ts, &id))
		return res_error(res, 400, "invalid_cursor",
		                 "the cursor is malformed or was not issued by this server",
		                 "cursor");
	/* One row more than asked tells whether another page exists. */
	limit_s = arena_printf(req->arena, "%" PRIu64, limit + 1);
	if (cursor) {
		params[0] = ts;
		params[1] = id;
		params[2] = limit_s;
		r = db_query(req->arena, SQL_LIST_AFTER, 3, params);
	} else {
		params[0] = limit_s;
		r = db_query(req->arena, SQL_LIST_FIRST, 1, params);
	}
	if (!r)
		return db_fail(res);

	rows = PQntuples(r);
	root = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(root, "items");
	for (int i = 0; i < rows && (uint64_t)i < limit; i++) {
		cJSON *item = db_row_json(r, i);

		cJSON_DeleteItemFromObject(item, "page_us");
		cJSON_AddItemToArray(items, item);
	}
	if ((uint64_t)rows > limit) {
		int last = (int)limit - 1;
		char *payload = arena_printf(req->arena, "%s,%s", PQgetvalue(r, last, 8),
		                             PQgetvalue(r, last, 0));

		cJSON_AddStringToObject(root, "next_cursor", cursor_encode(req->arena, payload));
	} else {
		cJSON_AddNullToObject(root, "next_cursor");
	}
	return res_json(res, 200, root);
}

/* One public article by id, with its body (Markdown and rendered HTML). */
int articles_get(struct req *req, struct res *res)
{
	const char *params[1];
	PGresult *r;
	uint64_t id;

	if (req_param_u64(req, res, "id", 1, INT64_MAX, &id))
		return res->status;
	params[0] = arena_printf(req->arena, "%" PRIu64, id);
	r = db_query(req->arena, SQL_GET, 1, params);
	if (!r)
		return db_fail(res);
	if (PQntuples(r) == 0)
		return res_error(res, 404, "not_found", "no such article", NULL);
	return res_json(res, 200, db_row_json(r, 0));
}

/* ---- SQL ---- */

/* clang-format off */
static const char *const SQL_HEALTH = "SELECT 1";

/* Visible to readers: published or scheduled, and its time has come.
 * Column 8 (page_us) feeds the cursor and is not sent. */
#define ARTICLES_LIST_COLUMNS \
	"SELECT id, title, slug, summary, cover_url, published_at, updated_at, view_count," \
	"  (extract(epoch FROM published_at) * 1000000)::bigint AS page_us" \
	" FROM articles" \
	" WHERE status IN ('published', 'scheduled') AND published_at <= now()"

static const char *const SQL_LIST_FIRST =
	ARTICLES_LIST_COLUMNS
	" ORDER BY published_at DESC, id DESC"
	" LIMIT $1::int";

static const char *const SQL_LIST_AFTER =
	ARTICLES_LIST_COLUMNS
	"  AND (published_at, id) < ($1::timestamptz, $2::bigint)"
	" ORDER BY published_at DESC, id DESC"
	" LIMIT $3::int";

static const char *const SQL_GET =
	"SELECT id, title, slug, summary, body_md, body_html, cover_url, published_at,"
	"  created_at, updated_at, view_count"
	" FROM articles"
	" WHERE id = $1::bigint AND status IN ('published', 'scheduled')"
	"  AND published_at <= now()";
/* clang-format on */
