/* public.c - the public side of the blog: health, the article list (filters,
 * total, keyset cursor), one article (tags, prev/next, related), the hot list,
 * categories, the tag cloud, the quote of the day and view counting.
 *
 * Readers see an article when it is published or scheduled and its
 * published_at has come; drafts and future articles answer 404 and appear in
 * no list, count, neighbour or related list. The list pages with an opaque
 * keyset cursor on (published_at, id), so a page never repeats or skips an
 * article when new ones appear; a cursor carries a fingerprint of the filters
 * it was issued for, and is refused under other filters.
 *
 * Index use (checked with EXPLAIN on 003's indexes):
 *   list           articles_public_idx (published_at DESC, id DESC)
 *   ?category=     articles_category_idx (category_id, published_at, id), or
 *                  articles_public_idx when the category is common
 *   ?tag=          article_tags_tag_idx (tag_id, article_id), then the pkey
 *   hot            articles_hot_idx (view_count DESC, id DESC)
 *   prev/next      articles_public_idx, one row each way
 *   related        candidates from article_tags_tag_idx and the GIN index
 *                  articles_terms_idx (sql/005_public_indexes.sql); ~10 ms at
 *                  20k articles
 *   counts         "total", categories and the tag cloud count their rows
 *                  (a scan; a few ms at 20k articles)
 *   view counting  article_views pkey; pruning article_views_window_idx
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "arena.h"
#include "config.h"
#include "crypto.h"
#include "cursor.h"
#include "db.h"
#include "fn.h"
#include "json.h"
#include "log.h"
#include "articles.h"
#include "public.h"

/* The SQL is defined at the end of the file; handlers name it. */
static const char *const SQL_HEALTH;
static const char *const SQL_LIST_SELECT;
static const char *const SQL_LIST_ORDER;
static const char *const SQL_COUNT_SELECT;
static const char *const SQL_COUNT_ALL;
static const char *const SQL_COUNT_CATEGORY;
static const char *const SQL_GET_BY_ID;
static const char *const SQL_GET_BY_SLUG;
static const char *const SQL_HOT;
static const char *const SQL_VIEW;
static const char *const SQL_VIEW_PRUNE;
static const char *const SQL_CATEGORIES;
static const char *const SQL_TAGS;
static const char *const SQL_QUOTE;

#define ARTICLES_LIMIT_DEFAULT 20
#define ARTICLES_LIMIT_MAX     100
#define HOT_LIMIT_DEFAULT      10
#define HOT_LIMIT_MAX          50
#define TAGS_LIMIT_DEFAULT     50
#define TAGS_LIMIT_MAX         200
/* Filter values longer than this are refused before any query (bytes). */
#define FILTER_MAX_BYTES 400
/* Slugs are at most 200 characters (001/003); longer ones name nothing. */
#define SLUG_MAX_CHARS 200

/* ---- configuration (read on first use) ---- */

static long view_window_minutes = 60;
static long view_prune_one_in = 100;

/* 1..10080 minutes (a week). */
static int parse_window(const char *v, void *dest, char *err, size_t errlen)
{
	long n;

	if (config_parse_long(v, &n, err, errlen) != 0 || n < 1 || n > 10080) {
		snprintf(err, errlen, "must be an integer from 1 to 10080");
		return -1;
	}
	*(long *)dest = n;
	return 0;
}

static const struct config_var public_vars[] = {
        {"VIEW_WINDOW_MINUTES", "60", parse_window, &view_window_minutes,
         "a client's views of one article count once per window of this many minutes"},
        {"VIEW_PRUNE_ONE_IN", "100", config_parse_long, &view_prune_one_in,
         "1 in N view requests deletes view records older than two windows (0: never)"},
};

/* Reads public_vars (cold start); 0, or -1 with the bad variable named. */
int public_init(char *err, size_t errlen)
{
	return config_load(public_vars, sizeof(public_vars) / sizeof(public_vars[0]), err, errlen);
}

/* ---- helpers ---- */

/* Optional text query parameter: NULL when absent or empty; -1 (400 naming
 * it) when not UTF-8 or too long. */
static int query_text(struct req *req, struct res *res, const char *name, const char **out)
{
	const char *v = req_query(req, name);

	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	if (strlen(v) > FILTER_MAX_BYTES || json_utf8_len(v) < 0) {
		res_errorf(res, 400, "invalid_parameter", name,
		           "%s must be UTF-8 text of at most %d bytes", name, FILTER_MAX_BYTES);
		return -1;
	}
	*out = v;
	return 0;
}

/* Hex fingerprint of the filters, "" when there are none: a cursor issued
 * under one set of filters must not page another list. */
static const char *filter_fingerprint(struct arena *a, const struct public_filter *f)
{
	if (!f->category && !f->tag && !f->q)
		return "";
	return cursor_fingerprint(
	        a, arena_printf(a, "c%zu:%s|t%zu:%s|q%zu:%s", f->category ? strlen(f->category) : 0,
	                        f->category ? f->category : "", f->tag ? strlen(f->tag) : 0,
	                        f->tag ? f->tag : "", f->q ? strlen(f->q) : 0, f->q ? f->q : ""));
}

/* Cursor payload "<published_at epoch microseconds>,<id>[,<fingerprint>]" to
 * the two SQL parameters (an exact UTC timestamp literal and the id). 0, -1
 * when malformed, -2 when issued under other filters. */
static int articles_cursor_params(struct arena *a, const char *cursor, const char *fp, char **ts,
                                  char **id)
{
	long long us, n;
	int rc = cursor_keyset_decode(a, cursor, fp, &us, &n);

	if (rc != 0)
		return rc;
	*ts = cursor_us_timestamp(a, us);
	if (*ts == NULL)
		return -1;
	*id = arena_printf(a, "%lld", n);
	return 0;
}

/* The filters' WHERE clauses (constant SQL, $n numbered from params[*n]),
 * appended to sql; their values appended to params. */
static char *list_where(struct arena *a, const char *sql, const struct public_filter *f,
                        const char *tsq, const char **params, int *n)
{
	if (f->category) {
		params[*n] = f->category;
		*n += 1;
		sql = arena_printf(
		        a, "%s AND a.category_id = (SELECT id FROM categories WHERE slug = $%d)",
		        sql, *n);
	}
	if (f->tag) {
		params[*n] = f->tag;
		*n += 1;
		sql = arena_printf(a,
		                   "%s AND a.id IN (SELECT x.article_id FROM article_tags x"
		                   " WHERE x.tag_id = (SELECT id FROM tags WHERE slug = $%d))",
		                   sql, *n);
	}
	if (tsq) {
		params[*n] = tsq;
		*n += 1;
		sql = arena_printf(a, "%s AND a.search @@ to_tsquery('simple', $%d)", sql, *n);
	}
	return (char *)sql;
}

/* Lower-case hex HMAC(APP_SECRET, client ip "\n" user agent): the client's
 * identity for view counting, never stored raw (req_client_ip: the
 * platform's address, not a header the client writes). */
static const char *client_hash(struct req *req)
{
	const char *ua = req_header(req, "user-agent");
	const char *key = g_cfg.app_secret ? g_cfg.app_secret : "";
	const char *ip = req_client_ip(req);
	unsigned char mac[32];
	char *msg;

	msg = arena_printf(req->arena, "%s\n%s", ip, ua ? ua : "");
	crypto_hmac_sha256(key, strlen(key), msg, strlen(msg), mac);
	return crypto_hex(req->arena, mac, sizeof(mac));
}

/* Rows as list items: the cursor column page_us is dropped. */
static cJSON *list_items(const PGresult *r, int max)
{
	cJSON *items = cJSON_CreateArray();

	for (int i = 0; i < PQntuples(r) && i < max; i++) {
		cJSON *item = db_row_json(r, i);

		cJSON_DeleteItemFromObject(item, "page_us");
		cJSON_AddItemToArray(items, item);
	}
	return items;
}

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

/* One page of the public list (public.h): filters, then the keyset, then
 * one row more than asked to tell whether another page exists. */
int public_list_page(struct arena *a, const struct public_filter *f, const char *cursor,
                     uint64_t limit, cJSON **items, const char **next)
{
	const char *params[6] = {NULL};
	const char *tsq = NULL, *fp;
	char *ts = NULL, *id = NULL, *sql;
	PGresult *r;
	int n = 0, rows, rc;

	*items = NULL;
	*next = NULL;
	fp = filter_fingerprint(a, f);
	if (cursor && (rc = articles_cursor_params(a, cursor, fp, &ts, &id)) != 0)
		return rc == -2 ? PUBLIC_ERR_FILTERS : PUBLIC_ERR_CURSOR;
	if (f->q && (tsq = search_tsquery(a, f->q)) == NULL) {
		/* No searchable term: nothing matches. */
		*items = cJSON_CreateArray();
		return 0;
	}
	sql = list_where(a, SQL_LIST_SELECT, f, tsq, params, &n);
	if (cursor) {
		params[n] = ts;
		params[n + 1] = id;
		n += 2;
		sql = arena_printf(
		        a, "%s AND (a.published_at, a.id) < ($%d::timestamptz, $%d::bigint)", sql,
		        n - 1, n);
	}
	params[n++] = arena_printf(a, "%" PRIu64, limit + 1);
	sql = arena_printf(a, "%s%s $%d::int", sql, SQL_LIST_ORDER, n);
	r = db_query(a, sql, n, params);
	if (!r)
		return PUBLIC_ERR_DB;

	rows = PQntuples(r);
	*items = list_items(r, (int)limit);
	if ((uint64_t)rows > limit) {
		int last = (int)limit - 1;
		int us_col = PQfnumber(r, "page_us");

		*next = cursor_keyset_encode(a, PQgetvalue(r, last, us_col), PQgetvalue(r, last, 0),
		                             fp);
	}
	return 0;
}

/* Public list, newest first: ?limit=1..100 (20), ?cursor=next_cursor,
 * ?category=<slug>, ?tag=<slug>, ?q=<text>; "total" counts every match. */
int articles_list(struct req *req, struct res *res)
{
	const char *cursor = req_query(req, "cursor");
	const char *params[6] = {NULL};
	const char *tsq = NULL, *next;
	struct public_filter f;
	char *count_sql;
	cJSON *root, *items;
	PGresult *c;
	uint64_t limit;
	int n = 0, rc;

	if (req_query_u64(req, res, "limit", ARTICLES_LIMIT_DEFAULT, 1, ARTICLES_LIMIT_MAX, &limit))
		return res->status;
	if (query_text(req, res, "category", &f.category) || query_text(req, res, "tag", &f.tag) ||
	    query_text(req, res, "q", &f.q))
		return res->status;
	rc = public_list_page(req->arena, &f, cursor, limit, &items, &next);
	if (rc == PUBLIC_ERR_DB)
		return db_fail(res);
	if (rc != 0)
		return res_error(
		        res, 400, "invalid_cursor",
		        rc == PUBLIC_ERR_FILTERS
		                ? "the cursor was issued for other filters"
		                : "the cursor is malformed or was not issued by this server",
		        "cursor");
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "items", items);
	if (next)
		cJSON_AddStringToObject(root, "next_cursor", next);
	else
		cJSON_AddNullToObject(root, "next_cursor");
	if (f.q && (tsq = search_tsquery(req->arena, f.q)) == NULL) {
		cJSON_AddNumberToObject(root, "total", 0);
		return res_json(res, 200, root);
	}

	/* The count: from article_counts (006) when only a category filters,
	 * else counted over the filters. */
	if (!f.tag && !f.q) {
		params[0] = f.category;
		c = db_query(req->arena, f.category ? SQL_COUNT_CATEGORY : SQL_COUNT_ALL,
		             f.category ? 1 : 0, params);
	} else {
		count_sql = list_where(req->arena, SQL_COUNT_SELECT, &f, tsq, params, &n);
		c = db_query(req->arena, count_sql, n, params);
	}
	if (!c) {
		cJSON_Delete(root);
		return db_fail(res);
	}
	cJSON_AddNumberToObject(root, "total", strtod(PQgetvalue(c, 0, 0), NULL));
	return res_json(res, 200, root);
}

/* The public article with this slug (public.h). */
int public_article_by_slug(struct arena *a, const char *slug, cJSON **out)
{
	long chars = slug ? json_utf8_len(slug) : -1;
	PGresult *r;

	*out = NULL;
	if (chars < 1 || chars > SLUG_MAX_CHARS)
		return 1;
	r = db_query(a, SQL_GET_BY_SLUG, 1, &slug);
	if (!r)
		return PUBLIC_ERR_DB;
	if (PQntuples(r) == 0)
		return 1;
	*out = db_row_json(r, 0);
	return 0;
}

/* One public article by id (all digits) or by slug, with its body, category,
 * tags, prev (the older neighbour), next (the newer one) and related. */
int articles_get(struct req *req, struct res *res)
{
	const char *v = req_param(req, "id");
	const char *params[1];
	cJSON *art;
	PGresult *r;
	uint64_t id;
	int rc;

	if (v && *v && v[strspn(v, "0123456789")] == '\0') {
		if (req_param_u64(req, res, "id", 1, INT64_MAX, &id))
			return res->status;
		params[0] = arena_printf(req->arena, "%" PRIu64, id);
		r = db_query(req->arena, SQL_GET_BY_ID, 1, params);
		if (!r)
			return db_fail(res);
		if (PQntuples(r) == 0)
			return res_error(res, 404, "not_found", "no such article", NULL);
		return res_json(res, 200, db_row_json(r, 0));
	}
	rc = public_article_by_slug(req->arena, v, &art);
	if (rc == PUBLIC_ERR_DB)
		return db_fail(res);
	if (rc != 0)
		return res_error(res, 404, "not_found", "no such article", NULL);
	return res_json(res, 200, art);
}

/* The most viewed public articles: ?limit=1..50 (10), view_count desc, id desc. */
int articles_hot(struct req *req, struct res *res)
{
	const char *params[1];
	cJSON *root;
	PGresult *r;
	uint64_t limit;

	if (req_query_u64(req, res, "limit", HOT_LIMIT_DEFAULT, 1, HOT_LIMIT_MAX, &limit))
		return res->status;
	params[0] = arena_printf(req->arena, "%" PRIu64, limit);
	r = db_query(req->arena, SQL_HOT, 1, params);
	if (!r)
		return db_fail(res);
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "items", list_items(r, (int)limit));
	return res_json(res, 200, root);
}

/* Counts a view of a public article: once per client (HMAC of ip and user
 * agent) per VIEW_WINDOW_MINUTES window. 204; 404 when not public. */
int articles_view(struct req *req, struct res *res)
{
	const char *params[3];
	PGresult *r;
	uint64_t id;
	uint32_t dice = 1;

	if (req_param_u64(req, res, "id", 1, INT64_MAX, &id))
		return res->status;
	params[0] = arena_printf(req->arena, "%" PRIu64, id);
	params[1] = client_hash(req);
	params[2] = arena_printf(req->arena, "%ld", view_window_minutes);
	/* One statement: the insert and the bump commit together or not at all. */
	r = db_query(req->arena, SQL_VIEW, 3, params);
	if (!r)
		return db_fail(res);
	if (strcmp(PQgetvalue(r, 0, 0), "0") == 0)
		return res_error(res, 404, "not_found", "no such article", NULL);

	/* Now and then, forget views older than two windows. A failure here
	 * costs nothing but table size: the view itself was counted. */
	if (view_prune_one_in > 0 && crypto_random(&dice, sizeof(dice)) == 0 &&
	    dice % (uint32_t)view_prune_one_in == 0) {
		if (db_exec(req->arena, SQL_VIEW_PRUNE, 1, &params[2]) < 0)
			log_warn("article_views prune failed");
	}
	return res_empty(res, 204);
}

/* Every category by sort_order, name, with its count of public articles. */
int categories_list(struct req *req, struct res *res)
{
	PGresult *r = db_query(req->arena, SQL_CATEGORIES, 0, NULL);
	cJSON *root;

	if (!r)
		return db_fail(res);
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "items", db_rows_json(r));
	return res_json(res, 200, root);
}

/* The tag cloud: tags on at least one public article, most used first, then
 * by name; ?limit=1..200 (50). */
int tags_cloud(struct req *req, struct res *res)
{
	const char *params[1];
	cJSON *root;
	PGresult *r;
	uint64_t limit;

	if (req_query_u64(req, res, "limit", TAGS_LIMIT_DEFAULT, 1, TAGS_LIMIT_MAX, &limit))
		return res->status;
	params[0] = arena_printf(req->arena, "%" PRIu64, limit);
	r = db_query(req->arena, SQL_TAGS, 1, params);
	if (!r)
		return db_fail(res);
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "items", db_rows_json(r));
	return res_json(res, 200, root);
}

/* The quote of the UTC day: quotes by id, index = days since 1970 mod count;
 * the same all day for everyone. 404 when there are no quotes. */
int quote_today(struct req *req, struct res *res)
{
	PGresult *r = db_query(req->arena, SQL_QUOTE, 0, NULL);

	if (!r)
		return db_fail(res);
	if (PQntuples(r) == 0)
		return res_error(res, 404, "not_found", "there are no quotes", NULL);
	return res_json(res, 200, db_row_json(r, 0));
}

/* ---- SQL ---- */

/* clang-format off */
static const char *const SQL_HEALTH = "SELECT 1";

/* Visible to readers: published or scheduled (status is one of three, by
 * the articles_status_valid check, so `<> 'draft'` says it and matches the
 * partial indexes of 001/003 exactly), and its time has come. */
#define PUBLIC(t) PUBLIC_VISIBLE_SQL(t)

#define CATEGORY_JSON(c) \
	"json_build_object('id', " c ".id, 'name', " c ".name, 'slug', " c ".slug)"

/* A list item; page_us feeds the cursor and is not sent. */
#define LIST_COLUMNS \
	"SELECT a.id, a.title, a.slug, a.summary, a.cover_url, a.published_at, a.updated_at," \
	"  a.view_count," \
	"  CASE WHEN c.id IS NULL THEN NULL ELSE " CATEGORY_JSON("c") " END AS category," \
	"  COALESCE((SELECT json_agg(json_build_object('name', t.name, 'slug', t.slug)" \
	"             ORDER BY t.name)" \
	"    FROM article_tags x JOIN tags t ON t.id = x.tag_id WHERE x.article_id = a.id)," \
	"   '[]') AS tags," \
	"  (extract(epoch FROM a.published_at) * 1000000)::bigint AS page_us" \
	" FROM articles a LEFT JOIN categories c ON c.id = a.category_id" \
	" WHERE" PUBLIC("a")

/* Filters and the keyset are appended (list_where), then SQL_LIST_ORDER
 * and the limit parameter. */
static const char *const SQL_LIST_SELECT = LIST_COLUMNS;
static const char *const SQL_LIST_ORDER = " ORDER BY a.published_at DESC, a.id DESC LIMIT";
static const char *const SQL_COUNT_SELECT =
	"SELECT count(*) FROM articles a WHERE" PUBLIC("a");

/* Non-draft articles (article_counts, kept by trigger) minus those whose
 * time has not come: no scan over every article. */
#define NOT_YET(t) " " t ".status <> 'draft' AND " t ".published_at > now()"
static const char *const SQL_COUNT_ALL =
	"SELECT COALESCE((SELECT n FROM article_counts WHERE category_id = 0), 0)"
	" - (SELECT count(*) FROM articles a WHERE" NOT_YET("a") ")";
static const char *const SQL_COUNT_CATEGORY =
	"SELECT COALESCE((SELECT k.n FROM article_counts k JOIN categories c"
	"   ON c.id = k.category_id WHERE c.slug = $1), 0)"
	" - (SELECT count(*) FROM articles a JOIN categories c ON c.id = a.category_id"
	"   WHERE c.slug = $1 AND" NOT_YET("a") ")";

/* One article: a is the article; prev/next are its true neighbours in
 * (published_at, id) order among public articles; related ranks candidates
 * by shared tags, then shared terms, then recency, and keeps up to 5 that
 * share anything. */
#define RELATED_TIME(r) \
	"to_char(" r ".published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* Candidates, RELATED_PER_TAG at most from each tag of a (the newest by
 * creation, from article_tags_tag_idx alone) and as many sharing a term
 * (articles_terms_idx, 005): the cost of an article stays bounded however
 * many articles a popular tag has. */
#define RELATED_PER_TAG "50"
#define RELATED \
	"  COALESCE((SELECT json_agg(json_build_object('id', s.id, 'slug', s.slug," \
	"              'title', s.title, 'summary', s.summary, 'cover_url', s.cover_url," \
	"              'published_at', " RELATED_TIME("s") ")" \
	"             ORDER BY s.shared_tags DESC, s.shared_terms DESC, s.published_at DESC," \
	"              s.id DESC)" \
	"    FROM (SELECT r.id, r.slug, r.title, r.summary, r.cover_url, r.published_at," \
	"            (SELECT count(*) FROM article_tags y JOIN article_tags z" \
	"              ON z.tag_id = y.tag_id AND z.article_id = a.id" \
	"              WHERE y.article_id = r.id) AS shared_tags," \
	"            cardinality(ARRAY(SELECT unnest(r.terms) INTERSECT" \
	"              SELECT unnest(a.terms))) AS shared_terms" \
	"          FROM (SELECT y.id FROM article_tags z" \
	"                 CROSS JOIN LATERAL (SELECT x.article_id AS id FROM article_tags x" \
	"                  WHERE x.tag_id = z.tag_id AND x.article_id <> a.id" \
	"                  ORDER BY x.article_id DESC LIMIT " RELATED_PER_TAG ") y" \
	"                 WHERE z.article_id = a.id" \
	"                UNION" \
	"                SELECT t.id FROM (SELECT t.id FROM articles t" \
	"                 WHERE t.terms && a.terms AND t.id <> a.id AND" PUBLIC("t") \
	"                 ORDER BY t.id DESC LIMIT " RELATED_PER_TAG ") t) cand (id)" \
	"           JOIN articles r ON r.id = cand.id" \
	"          WHERE" PUBLIC("r") \
	"          ORDER BY shared_tags DESC, shared_terms DESC, r.published_at DESC," \
	"           r.id DESC" \
	"          LIMIT 5) s)," \
	"   '[]') AS related"

#define ARTICLE_ONE(match) \
	"WITH a AS (SELECT * FROM articles a WHERE " match " AND" PUBLIC("a") ")" \
	" SELECT a.id, a.title, a.slug, a.summary, a.body_md, a.body_html, a.cover_url," \
	"  a.published_at, a.created_at, a.updated_at, a.view_count," \
	"  (SELECT " CATEGORY_JSON("c") " FROM categories c WHERE c.id = a.category_id)" \
	"   AS category," \
	"  COALESCE((SELECT json_agg(json_build_object('name', t.name, 'slug', t.slug," \
	"              'source', x.source) ORDER BY x.source DESC, t.name)" \
	"    FROM article_tags x JOIN tags t ON t.id = x.tag_id WHERE x.article_id = a.id)," \
	"   '[]') AS tags," \
	"  (SELECT json_build_object('id', p.id, 'slug', p.slug, 'title', p.title)" \
	"    FROM articles p WHERE" PUBLIC("p") \
	"     AND (p.published_at, p.id) < (a.published_at, a.id)" \
	"    ORDER BY p.published_at DESC, p.id DESC LIMIT 1) AS prev," \
	"  (SELECT json_build_object('id', p.id, 'slug', p.slug, 'title', p.title)" \
	"    FROM articles p WHERE" PUBLIC("p") \
	"     AND (p.published_at, p.id) > (a.published_at, a.id)" \
	"    ORDER BY p.published_at, p.id LIMIT 1) AS next," \
	RELATED \
	" FROM a"

static const char *const SQL_GET_BY_ID = ARTICLE_ONE("a.id = $1::bigint");
static const char *const SQL_GET_BY_SLUG = ARTICLE_ONE("a.slug = $1");

static const char *const SQL_HOT =
	LIST_COLUMNS
	" ORDER BY a.view_count DESC, a.id DESC LIMIT $1::int";

/* $1 article, $2 client hash, $3 window minutes. found: the article is
 * public; counted: this client's first view in the window. Only an inserted
 * view row bumps view_count, in the same statement. */
static const char *const SQL_VIEW =
	"WITH a AS (SELECT id FROM articles a WHERE a.id = $1::bigint AND" PUBLIC("a") "),"
	" ins AS (INSERT INTO article_views (article_id, client_hash, window_start)"
	"   SELECT id, $2, date_bin(make_interval(mins => $3::int), now(),"
	"                           timestamptz '1970-01-01 00:00:00+00')"
	"   FROM a ON CONFLICT DO NOTHING RETURNING article_id),"
	" upd AS (UPDATE articles SET view_count = view_count + 1"
	"   WHERE id IN (SELECT article_id FROM ins) RETURNING id)"
	" SELECT (SELECT count(*) FROM a) AS found, (SELECT count(*) FROM upd) AS counted";

/* $1 window minutes: rows older than two windows can no longer conflict. */
static const char *const SQL_VIEW_PRUNE =
	"DELETE FROM article_views"
	" WHERE window_start < now() - 2 * make_interval(mins => $1::int)";

static const char *const SQL_CATEGORIES = PUBLIC_CATEGORIES_SQL;

static const char *const SQL_TAGS = PUBLIC_TAG_CLOUD_SQL("$1::int");

static const char *const SQL_QUOTE = PUBLIC_QUOTE_SQL;
/* clang-format on */
