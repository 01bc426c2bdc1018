/* pages.c - the public blog as server-rendered HTML: home, category and tag
 * archives, search results, the article with its comment thread, about, and
 * the 404/400 pages, from the templates compiled in from
 * frontend/blog/templates (tmpl.h; layout.html is the page, the rest
 * partials).
 *
 * Data comes from the queries the JSON API runs (public.h), so a page shows
 * exactly what the API serves: drafts and future articles never, the same
 * keyset cursors (a cursor of /api/articles?category=x pages
 * /category/x too), the same search ranking. Every page makes a handful of
 * round trips: one for the site's chrome (category menu, tag cloud, hot
 * list, quote of the day), one for its list or article, and the article
 * page one more for its approved comments.
 *
 * Escaping is the template's: every value is HTML-escaped on output; the one
 * raw value is the article's HTML, rendered here from its Markdown by the
 * safe renderer (text.h: raw HTML off, dangerous URL schemes dropped) rather
 * than trusted from the body_html column. Links are built from slugs and
 * signed cursors, percent-encoded.
 *
 * The site's URL, name and description are site.c's (SITE_URL, SITE_TITLE,
 * SITE_DESCRIPTION).
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
#include "db.h"
#include "json.h"
#include "kv.h"
#include "log.h"
#include "text.h"
#include "articles.h"
#include "public.h"

/* The SQL is defined at the end of the file; handlers name it. */
static const char *const SQL_CHROME;
static const char *const SQL_TAG;
static const char *const SQL_COMMENTS;

/* Articles per list page. */
#define PAGE_SIZE 10
/* Longest search query, in characters (as /api/search). */
#define SEARCH_Q_MAX 200
/* Slugs are at most 200 characters (003). */
#define SLUG_MAX_CHARS 200
/* Comment threads nest this deep on the page; deeper replies join their
 * parent's list. */
#define COMMENT_DEPTH_MAX 6

/* Content-Security-Policy: scripts and styles only from the site itself,
 * no inline script or style, images from anywhere (covers may be remote). */
#define PAGE_CSP                                                                                   \
	"default-src 'self'; script-src 'self'; style-src 'self'; "                                \
	"img-src 'self' data: https: http:; connect-src 'self'; object-src 'none'; "               \
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

/* ---- configuration and templates (cold start) ---- */

static struct tmpl_set *templates;

/* Compiles the templates once; a template error stops the function at
 * start-up with "templates: <template>:<line>: <reason>". */
int pages_init(char *err, size_t errlen)
{
	char terr[160] = "";

	if (templates == NULL) {
		templates = tmpl_set_new(blog_templates, terr, sizeof(terr));
		if (templates == NULL) {
			snprintf(err, errlen, "templates: %s", terr);
			return -1;
		}
		if (!tmpl_has(templates, "layout")) {
			snprintf(err, errlen, "templates: no layout template");
			return -1;
		}
	}
	return 0;
}

/* ---- small helpers ---- */

/* A copy of obj's field, or null: templates look a missing name up in
 * the enclosing context, so every object a partial renders has all its
 * fields. */
static cJSON *field_dup(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
}

/* obj's RFC 3339 time field as the templates show it (tmpl_date). */
static cJSON *date_of(const cJSON *obj, const char *name)
{
	return tmpl_date(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, name)));
}

/* Copies of src's fields named in names (NULL-terminated) into dst, null
 * for those src lacks (field_dup). */
static void fields_dup(cJSON *dst, const cJSON *src, const char *const *names)
{
	for (; *names; names++)
		cJSON_AddItemToObject(dst, *names, field_dup(src, *names));
}

/* An absolute URL for u: as it is when it has a scheme, else under SITE_URL. */
static const char *absolute_url(struct arena *a, const char *u)
{
	if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0)
		return u;
	return arena_printf(a, "%s%s%s", g_site.url, u[0] == '/' ? "" : "/", u);
}

/* A list or search item as the card partial renders it. */
static cJSON *card_json(const cJSON *item)
{
	static const char *const fields[] = {"title",    "slug",    "summary", "cover_url",
	                                     "category", "snippet", NULL};
	cJSON *c = cJSON_CreateObject();

	fields_dup(c, item, fields);
	cJSON_AddItemToObject(c, "date", date_of(item, "published_at"));
	return c;
}

/* Cards for every item of a list (items is consumed). */
static cJSON *cards_json(cJSON *items)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *it;

	cJSON_ArrayForEach(it, items) cJSON_AddItemToArray(out, card_json(it));
	cJSON_Delete(items);
	return out;
}

/* "1 view", "12 views" and the like. */
static char *count_text(struct arena *a, double n, const char *one, const char *many)
{
	return arena_printf(a, "%.0f %s", n, n == 1 ? one : many);
}

/* ---- the page being built ---- */

struct page {
	struct req *req;
	struct res *res;
	cJSON *root; /* the template's data; deleted with the arena */
	cJSON *meta; /* root.meta: title, description, canonical, og_* */
};

static void page_init(struct page *pg, struct req *req, struct res *res)
{
	cJSON *site;
	char year[8];
	time_t now = time(NULL);
	struct tm tm;

	pg->req = req;
	pg->res = res;
	pg->root = arena_defer(req->arena, (void (*)(void *))cJSON_Delete, cJSON_CreateObject());
	site = cJSON_AddObjectToObject(pg->root, "site");
	cJSON_AddStringToObject(site, "title", g_site.title);
	cJSON_AddStringToObject(site, "description", g_site.description);
	cJSON_AddStringToObject(site, "url", g_site.url);
	gmtime_r(&now, &tm);
	snprintf(year, sizeof(year), "%04d", (tm.tm_year + 1900) % 10000);
	cJSON_AddStringToObject(pg->root, "year", year);
	pg->meta = cJSON_AddObjectToObject(pg->root, "meta");
	cJSON_AddStringToObject(pg->meta, "description", g_site.description);
	cJSON_AddStringToObject(pg->meta, "og_type", "website");
}

/* The page's <title> (and og:title): "title - site", or the site's name
 * alone when title is NULL; canonical = SITE_URL + path. */
static void page_meta(struct page *pg, const char *title, const char *path)
{
	struct arena *a = pg->req->arena;

	cJSON_AddStringToObject(pg->meta, "title",
	                        title ? arena_printf(a, "%s \xE2\x80\x93 %s", title, g_site.title)
	                              : g_site.title);
	cJSON_AddStringToObject(pg->meta, "og_title", title ? title : g_site.title);
	cJSON_AddStringToObject(pg->meta, "canonical", arena_printf(a, "%s%s", g_site.url, path));
}

static void page_description(struct page *pg, const char *text)
{
	if (text && *text)
		cJSON_ReplaceItemInObjectCaseSensitive(pg->meta, "description",
		                                       cJSON_CreateString(text));
}

/* The chrome every page shows: the category menu (current marks the
 * category shown), the tag cloud, the hot list and the quote of the day,
 * in one round trip. Returns 0 or PUBLIC_ERR_DB. */
static int page_chrome(struct page *pg, const char *current_category)
{
	PGresult *r = db_query(pg->req->arena, SQL_CHROME, 0, NULL);
	cJSON *row, *cats, *tags, *it;
	double lo = 0, hi = 0;
	bool first = true;

	if (!r)
		return PUBLIC_ERR_DB;
	row = db_row_json(r, 0);
	cats = cJSON_DetachItemFromObjectCaseSensitive(row, "categories");
	cJSON_ArrayForEach(it, cats)
	{
		const char *slug =
		        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "slug"));

		cJSON_AddBoolToObject(it, "current",
		                      current_category && slug &&
		                              strcmp(slug, current_category) == 0);
	}
	cJSON_AddItemToObject(pg->root, "categories", cats);

	/* Tag weights 1..5 by use, for the cloud's type sizes. */
	tags = cJSON_DetachItemFromObjectCaseSensitive(row, "tags");
	cJSON_ArrayForEach(it, tags)
	{
		double n =
		        cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "article_count"));

		if (first || n < lo)
			lo = n;
		if (first || n > hi)
			hi = n;
		first = false;
	}
	cJSON_ArrayForEach(it, tags)
	{
		double n =
		        cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "article_count"));

		cJSON_AddNumberToObject(it, "weight",
		                        hi > lo ? 1 + (int)(4 * (n - lo) / (hi - lo)) : 3);
	}
	cJSON_AddBoolToObject(pg->root, "has_tags", cJSON_GetArraySize(tags) > 0);
	cJSON_AddItemToObject(pg->root, "tags", tags);
	it = cJSON_DetachItemFromObjectCaseSensitive(row, "hot");
	cJSON_AddBoolToObject(pg->root, "has_hot", cJSON_GetArraySize(it) > 0);
	cJSON_AddItemToObject(pg->root, "hot", it);
	cJSON_AddItemToObject(pg->root, "quote",
	                      cJSON_DetachItemFromObjectCaseSensitive(row, "quote"));
	cJSON_Delete(row);
	return 0;
}

/* Renders the layout over the page's data and sends it with status. */
static int page_send(struct page *pg, int status)
{
	struct res *res = pg->res;
	size_t len = 0;
	char *html = tmpl_render(templates, "layout", pg->root, pg->req->arena, &len);

	if (html == NULL) {
		log_error("pages: rendering failed for %s", pg->req->path);
		return res_body(res, 500, "text/plain; charset=utf-8", "internal error\n", 15,
		                false);
	}
	res_header_set(res, "Cache-Control", "no-cache");
	res_header_set(res, "Content-Security-Policy", PAGE_CSP);
	res_header_set(res, "X-Content-Type-Options", "nosniff");
	res_header_set(res, "Referrer-Policy", "strict-origin-when-cross-origin");
	res_header_set(res, "X-Frame-Options", "DENY");
	return res_body(res, status, "text/html; charset=utf-8", html, len, false);
}

/* An error page (404, 400, 503...) with the chrome when it can be had. */
static int page_error(struct page *pg, int status, const char *heading, const char *message)
{
	static const char *const bodies[] = {"home", "archive", "search", "article", "about"};
	cJSON *e;

	/* The error replaces whatever the page had begun to show. */
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(pg->root, bodies[i]);
	if (!cJSON_GetObjectItemCaseSensitive(pg->root, "categories") && status < 500)
		(void)page_chrome(pg, NULL);
	e = cJSON_AddObjectToObject(pg->root, "error");
	cJSON_AddNumberToObject(e, "status", status);
	cJSON_AddStringToObject(e, "heading", heading);
	cJSON_AddStringToObject(e, "message", message);
	cJSON_DeleteItemFromObjectCaseSensitive(pg->meta, "title");
	cJSON_DeleteItemFromObjectCaseSensitive(pg->meta, "og_title");
	cJSON_DeleteItemFromObjectCaseSensitive(pg->meta, "canonical");
	page_meta(pg, heading, pg->req->path);
	cJSON_AddTrueToObject(pg->meta, "noindex");
	return page_send(pg, status);
}

static int page_not_found(struct page *pg)
{
	return page_error(pg, 404, "Page not found",
	                  "There is nothing at this address. It may have moved, or it was "
	                  "never published.");
}

static int page_bad_cursor(struct page *pg)
{
	return page_error(pg, 400, "Bad page link",
	                  "This page link is malformed or belongs to another list. Start again "
	                  "from the first page.");
}

/* The database failed: 503 (with Retry-After) when it is unavailable, else
 * 500, as an HTML page. */
static int page_db_fail(struct page *pg)
{
	if (db_last_error() == DB_UNAVAILABLE) {
		res_header_set(pg->res, "Retry-After", "1");
		return page_error(pg, 503, "Temporarily unavailable",
		                  "The blog cannot reach its database just now. Please try again "
		                  "in a moment.");
	}
	return page_error(pg, 500, "Something went wrong",
	                  "The page could not be built. Please try again later.");
}

/* A slug path parameter that can name something: 1..200 characters of
 * UTF-8; NULL otherwise. */
static const char *slug_param(struct req *req)
{
	const char *v = req_param(req, "slug");
	long n = v ? json_utf8_len(v) : -1;

	return n >= 1 && n <= SLUG_MAX_CHARS ? v : NULL;
}

/* One page of the list under f into obj (items as cards, next_href from
 * base + "cursor=..."), the caller's status or 0. */
static int page_list(struct page *pg, const struct public_filter *f, const char *base, cJSON *obj)
{
	const char *cursor = req_query(pg->req, "cursor");
	const char *next = NULL;
	cJSON *items = NULL;
	int rc;

	if (cursor && *cursor == '\0')
		cursor = NULL;
	rc = public_list_page(pg->req->arena, f, cursor, PAGE_SIZE, &items, &next);
	if (rc == PUBLIC_ERR_DB)
		return page_db_fail(pg);
	if (rc != 0)
		return page_bad_cursor(pg);
	cJSON_AddItemToObject(obj, "items", cards_json(items));
	if (next)
		cJSON_AddStringToObject(obj, "next_href",
		                        arena_printf(pg->req->arena, "%scursor=%s", base,
		                                     kv_escape(pg->req->arena, next)));
	return 0;
}

/* "?cursor=..." of this request, for canonical URLs of later pages. */
static const char *cursor_suffix(struct page *pg, const char *sep)
{
	const char *cursor = req_query(pg->req, "cursor");

	if (cursor == NULL || *cursor == '\0')
		return "";
	return arena_printf(pg->req->arena, "%scursor=%s", sep, kv_escape(pg->req->arena, cursor));
}

/* ---- handlers ---- */

/* GET / (?cursor=): the newest articles, PAGE_SIZE a page, with the chrome. */
int page_home(struct req *req, struct res *res)
{
	struct public_filter f = {NULL, NULL, NULL};
	struct page pg;
	cJSON *home;
	bool first = req_query(req, "cursor") == NULL || *req_query(req, "cursor") == '\0';
	int status;

	page_init(&pg, req, res);
	home = cJSON_AddObjectToObject(pg.root, "home");
	cJSON_AddStringToObject(home, "heading", first ? "Latest articles" : "Older articles");
	cJSON_AddStringToObject(home, "empty_text", "No articles yet.");
	if ((status = page_list(&pg, &f, "/?", home)) != 0)
		return status;
	if (page_chrome(&pg, NULL))
		return page_db_fail(&pg);
	page_meta(&pg, first ? NULL : "Older articles",
	          arena_printf(req->arena, "/%s", cursor_suffix(&pg, "?")));
	cJSON_AddBoolToObject(pg.root, "nav_home", first);
	return page_send(&pg, 200);
}

/* GET /category/{slug} (?cursor=): the category's articles; 404 page when
 * there is no such category. */
int page_category(struct req *req, struct res *res)
{
	const char *slug = slug_param(req);
	struct public_filter f = {slug, NULL, NULL};
	const cJSON *cat = NULL, *it;
	struct page pg;
	cJSON *arch;
	const char *name, *path;
	int status;

	page_init(&pg, req, res);
	if (page_chrome(&pg, slug))
		return page_db_fail(&pg);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pg.root, "categories"))
	{
		const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "slug"));

		if (slug && s && strcmp(s, slug) == 0)
			cat = it;
	}
	if (cat == NULL)
		return page_not_found(&pg);
	name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cat, "name"));
	path = arena_printf(req->arena, "/category/%s", kv_escape(req->arena, slug));
	arch = cJSON_AddObjectToObject(pg.root, "archive");
	cJSON_AddStringToObject(arch, "kind", "Category");
	cJSON_AddStringToObject(arch, "name", name);
	cJSON_AddStringToObject(arch, "count_text",
	                        count_text(req->arena,
	                                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
	                                           cat, "article_count")),
	                                   "article", "articles"));
	cJSON_AddStringToObject(arch, "empty_text", "No articles in this category yet.");
	if ((status = page_list(&pg, &f, arena_printf(req->arena, "%s?", path), arch)) != 0)
		return status;
	page_meta(&pg, name, arena_printf(req->arena, "%s%s", path, cursor_suffix(&pg, "?")));
	page_description(&pg, arena_printf(req->arena, "Articles in the category %s.", name));
	return page_send(&pg, 200);
}

/* GET /tag/{slug} (?cursor=): the tag's articles; 404 page when there is no
 * such tag. */
int page_tag(struct req *req, struct res *res)
{
	const char *slug = slug_param(req);
	struct public_filter f = {NULL, slug, NULL};
	struct page pg;
	cJSON *arch;
	const char *name, *path;
	PGresult *r;
	int status;

	page_init(&pg, req, res);
	if (slug == NULL)
		return page_not_found(&pg);
	r = db_query(req->arena, SQL_TAG, 1, &slug);
	if (!r)
		return page_db_fail(&pg);
	if (PQntuples(r) == 0)
		return page_not_found(&pg);
	name = PQgetvalue(r, 0, 0);
	path = arena_printf(req->arena, "/tag/%s", kv_escape(req->arena, slug));
	arch = cJSON_AddObjectToObject(pg.root, "archive");
	cJSON_AddStringToObject(arch, "kind", "Tag");
	cJSON_AddStringToObject(arch, "name", name);
	cJSON_AddStringToObject(
	        arch, "count_text",
	        count_text(req->arena, strtod(PQgetvalue(r, 0, 1), NULL), "article", "articles"));
	cJSON_AddStringToObject(arch, "empty_text", "No articles with this tag yet.");
	if ((status = page_list(&pg, &f, arena_printf(req->arena, "%s?", path), arch)) != 0)
		return status;
	if (page_chrome(&pg, NULL))
		return page_db_fail(&pg);
	page_meta(&pg, arena_printf(req->arena, "Tagged \xE2\x80\x9C%s\xE2\x80\x9D", name),
	          arena_printf(req->arena, "%s%s", path, cursor_suffix(&pg, "?")));
	page_description(&pg, arena_printf(req->arena, "Articles tagged %s.", name));
	return page_send(&pg, 200);
}

/* GET /search?q=&cursor=: ranked results as /api/search ranks them; the
 * empty form without q; 400 page for a bad query or cursor. */
int page_search(struct req *req, struct res *res)
{
	const char *q = req_query(req, "q");
	const char *cursor = req_query(req, "cursor");
	const char *next = NULL, *qenc;
	struct page pg;
	cJSON *s, *items = NULL;
	long qlen;
	int rc;

	page_init(&pg, req, res);
	cJSON_AddTrueToObject(pg.meta, "noindex");
	if (q == NULL || *q == '\0') {
		if (page_chrome(&pg, NULL))
			return page_db_fail(&pg);
		s = cJSON_AddObjectToObject(pg.root, "search");
		cJSON_AddStringToObject(s, "heading", "Search");
		cJSON_AddStringToObject(s, "status_text",
		                        "Type a word or two in the search box to find articles.");
		cJSON_AddArrayToObject(s, "items");
		page_meta(&pg, "Search", "/search");
		return page_send(&pg, 200);
	}
	qlen = json_utf8_len(q);
	if (qlen < 0 || qlen > SEARCH_Q_MAX)
		return page_error(&pg, 400, "Search query too long",
		                  "Search for at most 200 characters of text.");
	cJSON_AddStringToObject(pg.root, "search_q", q);
	if (cursor && *cursor == '\0')
		cursor = NULL;
	rc = search_page(req->arena, q, cursor, PAGE_SIZE, &items, &next);
	if (rc == PUBLIC_ERR_DB)
		return page_db_fail(&pg);
	if (rc == PUBLIC_ERR_CURSOR)
		return page_bad_cursor(&pg);
	if (page_chrome(&pg, NULL))
		return page_db_fail(&pg);

	qenc = kv_escape(req->arena, q);
	s = cJSON_AddObjectToObject(pg.root, "search");
	cJSON_AddStringToObject(
	        s, "heading",
	        arena_printf(req->arena, "Search results for \xE2\x80\x9C%s\xE2\x80\x9D", q));
	if (rc == PUBLIC_ERR_NO_TERM) {
		cJSON_AddStringToObject(s, "status_text",
		                        "Search for words, numbers or Chinese characters.");
		cJSON_AddArrayToObject(s, "items");
	} else {
		int n = cJSON_GetArraySize(items);

		cJSON_AddStringToObject(
		        s, "status_text",
		        n == 0 ? "No articles match your search."
		        : next ? arena_printf(req->arena, "Showing the best %d matches.", n)
		               : count_text(req->arena, n, "article found.", "articles found."));
		cJSON_AddItemToObject(s, "items", cards_json(items));
		if (next)
			cJSON_AddStringToObject(s, "next_href",
			                        arena_printf(req->arena, "/search?q=%s&cursor=%s",
			                                     qenc, kv_escape(req->arena, next)));
	}
	page_meta(&pg, arena_printf(req->arena, "Search: %s", q),
	          arena_printf(req->arena, "/search?q=%s%s", qenc, cursor_suffix(&pg, "&")));
	return page_send(&pg, 200);
}

/* Approved comments of the article as nested threads (comment.html's
 * shape), oldest first; *count the number shown. NULL on a database error. */
static cJSON *comments_tree(struct arena *a, const char *article_id, int *count)
{
	struct node {
		const char *id;
		cJSON *replies; /* this comment's replies */
		cJSON *holder;  /* the list this comment is in */
		int depth;
	} * nodes;
	PGresult *r = db_query(a, SQL_COMMENTS, 1, &article_id);
	cJSON *roots;
	int n;

	if (!r)
		return NULL;
	n = PQntuples(r);
	*count = n;
	roots = cJSON_CreateArray();
	nodes = arena_alloc(a, sizeof(*nodes) * (size_t)(n > 0 ? n : 1));
	for (int i = 0; i < n; i++) {
		cJSON *row = db_row_json(r, i);
		cJSON *c = cJSON_CreateObject();
		int parent = -1;

		cJSON_AddItemToObject(c, "id", field_dup(row, "id"));
		cJSON_AddItemToObject(c, "author_name", field_dup(row, "author_name"));
		cJSON_AddItemToObject(c, "content", field_dup(row, "content"));
		cJSON_AddItemToObject(c, "date", date_of(row, "created_at"));
		cJSON_AddItemToObject(c, "admin_reply", field_dup(row, "admin_reply"));
		cJSON_AddItemToObject(c, "reply_date", date_of(row, "admin_reply_at"));
		nodes[i].id = PQgetvalue(r, i, 0);
		nodes[i].replies = cJSON_AddArrayToObject(c, "replies");
		cJSON_Delete(row);
		if (!PQgetisnull(r, i, 1)) {
			for (int k = 0; k < i; k++) {
				if (strcmp(nodes[k].id, PQgetvalue(r, i, 1)) == 0)
					parent = k;
			}
		}
		if (parent < 0) {
			nodes[i].holder = roots;
			nodes[i].depth = 1;
		} else if (nodes[parent].depth < COMMENT_DEPTH_MAX) {
			nodes[i].holder = nodes[parent].replies;
			nodes[i].depth = nodes[parent].depth + 1;
		} else {
			nodes[i].holder = nodes[parent].holder;
			nodes[i].depth = nodes[parent].depth;
		}
		cJSON_AddItemToArray(nodes[i].holder, c);
	}
	return roots;
}

/* Sets has_replies on each comment of list and below: every comment needs
 * it, or the template would find the enclosing comment's. */
static void comments_flags(cJSON *list)
{
	cJSON *c;

	cJSON_ArrayForEach(c, list)
	{
		cJSON *replies = cJSON_GetObjectItemCaseSensitive(c, "replies");

		cJSON_AddBoolToObject(c, "has_replies", cJSON_GetArraySize(replies) > 0);
		comments_flags(replies);
	}
}

/* The notice a form post's redirect asks for (?comment=...). */
static void comment_notice(struct page *pg, cJSON *art)
{
	static const struct {
		const char *code, *text;
		bool error;
	} notices[] = {
	        {"pending", "Thanks! Your comment is awaiting moderation.", false},
	        {"invalid",
	         "Your comment could not be posted: please give your name, a valid "
	         "email address or none, and a comment of at most 5000 characters.",
	         true},
	        {"rate_limited",
	         "You have posted several comments in a short time; please try "
	         "again later.",
	         true},
	        {"duplicate", "That comment was already submitted.", true},
	        {"error", "Your comment could not be posted just now; please try again.", true},
	};
	const char *code = req_query(pg->req, "comment");
	cJSON *n;

	if (code == NULL)
		return;
	for (size_t i = 0; i < sizeof(notices) / sizeof(notices[0]); i++) {
		if (strcmp(code, notices[i].code) == 0) {
			n = cJSON_AddObjectToObject(art, "comment_notice");
			cJSON_AddStringToObject(n, "text", notices[i].text);
			cJSON_AddBoolToObject(n, "error", notices[i].error);
			return;
		}
	}
}

/* GET /articles/{slug}: the article, its tags, neighbours, related articles
 * and approved comment threads, and the comment form; 404 page when it is
 * not public. */
int page_article(struct req *req, struct res *res)
{
	static const char *const article_fields[] = {"id",        "title",    "slug",
	                                             "cover_url", "category", NULL};
	const char *slug = slug_param(req);
	struct page pg;
	cJSON *art = NULL, *view, *it, *list, *comments;
	const char *title, *summary, *cover, *body, *id;
	char *html;
	int rc, ncomments = 0;
	double views;

	page_init(&pg, req, res);
	rc = slug ? public_article_by_slug(req->arena, slug, &art) : 1;
	if (rc == PUBLIC_ERR_DB)
		return page_db_fail(&pg);
	if (rc != 0)
		return page_not_found(&pg);
	arena_defer(req->arena, (void (*)(void *))cJSON_Delete, art);

	id = arena_printf(req->arena, "%.0f",
	                  cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(art, "id")));
	comments = comments_tree(req->arena, id, &ncomments);
	if (comments == NULL)
		return page_db_fail(&pg);
	comments_flags(comments);
	view = cJSON_AddObjectToObject(pg.root, "article");
	cJSON_AddItemToObject(view, "comments", comments);
	if (page_chrome(&pg, NULL))
		return page_db_fail(&pg);

	title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(art, "title"));
	summary = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(art, "summary"));
	cover = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(art, "cover_url"));
	body = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(art, "body_md"));
	html = text_markdown_html(req->arena, body ? body : "", body ? strlen(body) : 0);
	if (html == NULL) {
		log_error("pages: markdown rendering failed for article %s", id);
		return page_error(&pg, 500, "Something went wrong",
		                  "This article could not be shown. Please try again later.");
	}

	fields_dup(view, art, article_fields);
	cJSON_AddItemToObject(view, "date", date_of(art, "published_at"));
	cJSON_AddStringToObject(view, "content_html", html);
	views = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(art, "view_count"));
	cJSON_AddNumberToObject(view, "view_count", views);
	cJSON_AddStringToObject(view, "views_text", count_text(req->arena, views, "view", "views"));

	list = field_dup(art, "tags");
	cJSON_AddBoolToObject(view, "has_tags", cJSON_GetArraySize(list) > 0);
	cJSON_AddItemToObject(view, "tags", list);
	cJSON_AddItemToObject(view, "prev", field_dup(art, "prev"));
	cJSON_AddItemToObject(view, "next", field_dup(art, "next"));
	cJSON_AddBoolToObject(
	        view, "has_neighbours",
	        cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(art, "prev")) ||
	                cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(art, "next")));
	list = cJSON_AddArrayToObject(view, "related");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(art, "related"))
	{
		cJSON *c = card_json(it);

		cJSON_AddItemToArray(list, c);
	}
	cJSON_AddBoolToObject(view, "has_related", cJSON_GetArraySize(list) > 0);

	cJSON_AddBoolToObject(view, "has_comments", ncomments > 0);
	cJSON_AddStringToObject(view, "comments_heading",
	                        ncomments ? count_text(req->arena, ncomments, "comment", "comments")
	                                  : "Comments");
	comment_notice(&pg, view);

	page_meta(&pg, title,
	          arena_printf(req->arena, "/articles/%s", kv_escape(req->arena, slug)));
	page_description(&pg, summary);
	cJSON_ReplaceItemInObjectCaseSensitive(pg.meta, "og_type", cJSON_CreateString("article"));
	if (cover && *cover)
		cJSON_AddStringToObject(pg.meta, "og_image", absolute_url(req->arena, cover));
	it = cJSON_GetObjectItemCaseSensitive(view, "date");
	if (cJSON_IsObject(it))
		cJSON_AddItemToObject(pg.meta, "published", field_dup(it, "iso"));
	return page_send(&pg, 200);
}

/* The about page's text when no article has the slug "about". */
static const char ABOUT_HTML[] =
        "<p>This blog is served by small functions written in C: each page you read is "
        "rendered by one of them in a few milliseconds, from articles kept in "
        "PostgreSQL.</p>\n"
        "<p>Write an article with the slug <code>about</code> in the admin to replace "
        "this text.</p>\n";

/* GET /about: the published article with the slug "about", else a short
 * built-in text. */
int page_about(struct req *req, struct res *res)
{
	struct page pg;
	cJSON *art = NULL, *about;
	const char *body, *summary;
	char *html = NULL;
	int rc;

	page_init(&pg, req, res);
	rc = public_article_by_slug(req->arena, "about", &art);
	if (rc == PUBLIC_ERR_DB)
		return page_db_fail(&pg);
	arena_defer(req->arena, (void (*)(void *))cJSON_Delete, art);
	if (page_chrome(&pg, NULL))
		return page_db_fail(&pg);
	about = cJSON_AddObjectToObject(pg.root, "about");
	if (art) {
		body = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(art, "body_md"));
		html = text_markdown_html(req->arena, body ? body : "", body ? strlen(body) : 0);
		summary = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(art, "summary"));
		cJSON_AddItemToObject(about, "title", field_dup(art, "title"));
		page_description(&pg, summary);
	} else {
		cJSON_AddStringToObject(about, "title", "About");
		page_description(&pg, arena_printf(req->arena, "About %s.", g_site.title));
	}
	cJSON_AddStringToObject(about, "content_html", html ? html : ABOUT_HTML);
	page_meta(&pg, "About", "/about");
	cJSON_AddBoolToObject(pg.root, "nav_about", true);
	return page_send(&pg, 200);
}

/* ---- SQL ---- */

/* clang-format off */
#define VISIBLE(t) PUBLIC_VISIBLE_SQL(t)

/* The chrome in one row: every category with its count of public articles
 * (the menu), the 30 most used tags (the cloud, by name), the 5 most viewed
 * articles, and the quote of the UTC day: the API's queries (public.h). */
static const char *const SQL_CHROME =
	"SELECT"
	" (SELECT COALESCE(json_agg(json_build_object('name', c.name, 'slug', c.slug,"
	"     'article_count', c.article_count) ORDER BY c.sort_order, c.name), '[]')"
	"   FROM (" PUBLIC_CATEGORIES_SQL ") c) AS categories,"
	" (SELECT COALESCE(json_agg(json_build_object('name', g.name, 'slug', g.slug,"
	"     'article_count', g.article_count) ORDER BY g.name), '[]')"
	"   FROM (" PUBLIC_TAG_CLOUD_SQL("30") ") g) AS tags,"
	" (SELECT COALESCE(json_agg(json_build_object('title', h.title, 'slug', h.slug,"
	"     'view_count', h.view_count) ORDER BY h.view_count DESC, h.id DESC), '[]')"
	"   FROM (SELECT a.id, a.title, a.slug, a.view_count FROM articles a"
	"         WHERE" VISIBLE("a")
	"         ORDER BY a.view_count DESC, a.id DESC LIMIT 5) h) AS hot,"
	" (SELECT json_build_object('text', q.text, 'author', q.author)"
	"   FROM (" PUBLIC_QUOTE_SQL ") q) AS quote";

/* $1 tag slug: its name and its count of public articles. */
static const char *const SQL_TAG =
	"SELECT t.name,"
	"  (SELECT count(*) FROM article_tags x JOIN articles a ON a.id = x.article_id"
	"    WHERE x.tag_id = t.id AND" VISIBLE("a") ")"
	" FROM tags t WHERE t.slug = $1";

/* $1 article id: its approved comments whose whole chain up to the top is
 * approved, oldest first (a parent always before its replies), at most
 * 200. Never the email or the client hash. */
static const char *const SQL_COMMENTS =
	"WITH RECURSIVE thread (id) AS ("
	"  SELECT id FROM comments"
	"  WHERE article_id = $1::bigint AND status = 'approved' AND parent_id IS NULL"
	"  UNION ALL"
	"  SELECT c.id FROM comments c JOIN thread t ON c.parent_id = t.id"
	"  WHERE c.status = 'approved'"
	")"
	" SELECT c.id, c.parent_id, c.author_name, c.content, c.created_at, c.admin_reply,"
	"  c.admin_reply_at"
	" FROM thread t JOIN comments c ON c.id = t.id"
	" ORDER BY c.created_at, c.id LIMIT 200";
/* clang-format on */
