/* feeds.c - RSS 2.0, Atom 1.0 and sitemap.xml for the public articles.
 *
 * Feeds carry the latest FEED_ITEMS public articles, site-wide or for one
 * category (?category=<slug>) or tag (?tag=<slug>); the sitemap lists the
 * home page, every category page and every public article. Links are
 * SITE_URL (default http://127.0.0.1:8080) + /articles/<slug>, the slug
 * percent-encoded. Every value goes out through text_xml_escape (or a CDATA
 * section from text_xml_cdata), so titles and bodies cannot break the XML.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "db.h"
#include "fn.h"
#include "kv.h"
#include "log.h"
#include "text.h"
#include "articles.h"

/* The SQL is defined at the end of the file; handlers name it. */
static const char *const SQL_CATEGORY_BY_SLUG;
static const char *const SQL_TAG_BY_SLUG;
static const char *const SQL_FEED_ALL;
static const char *const SQL_FEED_CATEGORY;
static const char *const SQL_FEED_TAG;
static const char *const SQL_SITEMAP_ARTICLES;
static const char *const SQL_SITEMAP_CATEGORIES;

#define FEED_ITEMS 20
#define STR_(x)    #x
#define STR(x)     STR_(x)
/* The sitemap protocol's limit per file. */
#define SITEMAP_MAX_URLS 50000

/* Feed article columns. */
enum { F_ID, F_TITLE, F_SLUG, F_SUMMARY, F_HTML, F_PUBLISHED, F_UPDATED, F_AUTHOR };

/* ---- an output buffer (malloc'd, released with the request arena) ---- */

struct xbuf {
	char *p;
	size_t len;
	size_t cap;
};

static void xbuf_release(void *p)
{
	struct xbuf *b = p;

	free(b->p);
	b->p = NULL;
}

static struct xbuf *xbuf_new(struct arena *a)
{
	struct xbuf *b = arena_alloc(a, sizeof(*b));

	return arena_defer(a, xbuf_release, b);
}

static void xbuf_add(struct xbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			log_error("feeds: out of memory (%zu bytes)", cap);
			abort();
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* Appends each string argument in turn, up to a NULL. */
static void xbuf_cat(struct xbuf *b, ...) __attribute__((sentinel));
static void xbuf_cat(struct xbuf *b, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, b);
	while ((s = va_arg(ap, const char *)) != NULL)
		xbuf_add(b, s);
	va_end(ap);
}

/* ---- site settings and formatting ---- */

/* The public page of an article, XML-escaped. */
static const char *article_link(struct arena *a, const char *site, const char *slug)
{
	return text_xml_escape(a,
	                       arena_printf(a, "%s/articles/%s", site, kv_escape(a, slug)));
}

static bool epoch_tm(const char *epoch, struct tm *tm)
{
	char *end;
	long long v = strtoll(epoch, &end, 10);
	time_t t;

	if (end == epoch || *end != '\0')
		v = 0;
	t = (time_t)v;
	return gmtime_r(&t, tm) != NULL;
}

/* RFC 822 (RSS): "Wed, 02 Oct 2002 13:00:00 +0000", English names whatever
 * the locale. */
static const char *date_rfc822(struct arena *a, const char *epoch)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	if (!epoch_tm(epoch, &tm))
		return "Thu, 01 Jan 1970 00:00:00 +0000";
	return arena_printf(a, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
	                    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
	                    tm.tm_min, tm.tm_sec);
}

/* RFC 3339 UTC (Atom, sitemap): "2002-10-02T13:00:00Z". */
static const char *date_rfc3339(struct arena *a, const char *epoch)
{
	struct tm tm;

	if (!epoch_tm(epoch, &tm))
		return "1970-01-01T00:00:00Z";
	return arena_printf(a, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const char *now_epoch(struct arena *a)
{
	return arena_printf(a, "%lld", (long long)time(NULL));
}

/* ---- the shared feed query ---- */

struct feed {
	PGresult *rows;
	const char *title; /* plain text */
	const char *query; /* "" or "?category=<slug>" (URL-encoded) */
};

/* Resolves ?category / ?tag and loads the articles. Returns 0, or the status
 * set in res (400/404/5xx). */
static int feed_load(struct req *req, struct res *res, struct feed *f)
{
	const char *category = req_query(req, "category");
	const char *tag = req_query(req, "tag");
	const char *params[1];
	PGresult *r;

	f->title = g_site.title;
	f->query = "";
	if (category && tag)
		return res_error(res, 400, "invalid_parameter",
		                 "give either category or tag, not both", "tag");
	if (category || tag) {
		const char *field = category ? "category" : "tag";

		params[0] = category ? category : tag;
		r = db_query(req->arena, category ? SQL_CATEGORY_BY_SLUG : SQL_TAG_BY_SLUG, 1,
		             params);
		if (!r)
			return db_fail(res);
		if (PQntuples(r) == 0)
			return res_errorf(res, 404, "not_found", field, "no such %s", field);
		f->title = arena_printf(req->arena, "%s - %s%s", g_site.title, category ? "" : "#",
		                        PQgetvalue(r, 0, 1));
		f->query = arena_printf(req->arena, "?%s=%s", field,
		                        kv_escape(req->arena, params[0]));
		params[0] = PQgetvalue(r, 0, 0);
		r = db_query(req->arena, category ? SQL_FEED_CATEGORY : SQL_FEED_TAG, 1, params);
	} else {
		r = db_query(req->arena, SQL_FEED_ALL, 0, NULL);
	}
	if (!r)
		return db_fail(res);
	f->rows = r;
	return 0;
}

static int xml_send(struct res *res, const char *type, struct xbuf *b)
{
	res_header_set(res, "Cache-Control", "public, max-age=300");
	return res_body(res, 200, type, b->p, b->len, false);
}

/* ---- handlers ---- */

/* GET /rss.xml[?category=|?tag=]: RSS 2.0 with content:encoded. */
int feed_rss(struct req *req, struct res *res)
{
	struct arena *a = req->arena;
	const char *site = g_site.url;
	struct xbuf *b = xbuf_new(a);
	struct feed f;
	int rows;

	if (feed_load(req, res, &f))
		return res->status;
	rows = PQntuples(f.rows);
	xbuf_cat(b,
	         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	         "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\""
	         " xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n<title>",
	         text_xml_escape(a, f.title), "</title>\n<link>", text_xml_escape(a, site),
	         "/</link>\n<description>", text_xml_escape(a, f.title),
	         "</description>\n<atom:link href=\"",
	         text_xml_escape(a, arena_printf(a, "%s/rss.xml%s", site, f.query)),
	         "\" rel=\"self\" type=\"application/rss+xml\"/>\n<lastBuildDate>",
	         date_rfc822(a, rows ? PQgetvalue(f.rows, 0, F_UPDATED) : now_epoch(a)),
	         "</lastBuildDate>\n", NULL);
	for (int i = 0; i < rows; i++) {
		xbuf_cat(b, "<item>\n<title>", text_xml_escape(a, PQgetvalue(f.rows, i, F_TITLE)),
		         "</title>\n<link>", article_link(a, site, PQgetvalue(f.rows, i, F_SLUG)),
		         "</link>\n<guid isPermaLink=\"false\">",
		         text_xml_escape(a, arena_printf(a, "%s/api/articles/%s", site,
		                                         PQgetvalue(f.rows, i, F_ID))),
		         "</guid>\n<pubDate>", date_rfc822(a, PQgetvalue(f.rows, i, F_PUBLISHED)),
		         "</pubDate>\n<description>",
		         text_xml_escape(a, PQgetvalue(f.rows, i, F_SUMMARY)),
		         "</description>\n<content:encoded>",
		         text_xml_cdata(a, PQgetvalue(f.rows, i, F_HTML)),
		         "</content:encoded>\n</item>\n", NULL);
	}
	xbuf_add(b, "</channel>\n</rss>\n");
	return xml_send(res, "application/rss+xml; charset=utf-8", b);
}

/* GET /atom.xml[?category=|?tag=]: Atom 1.0, content type="html". */
int feed_atom(struct req *req, struct res *res)
{
	struct arena *a = req->arena;
	const char *site = g_site.url;
	struct xbuf *b = xbuf_new(a);
	const char *self;
	struct feed f;
	int rows;

	if (feed_load(req, res, &f))
		return res->status;
	rows = PQntuples(f.rows);
	self = text_xml_escape(a, arena_printf(a, "%s/atom.xml%s", site, f.query));
	xbuf_cat(b,
	         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	         "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title type=\"text\">",
	         text_xml_escape(a, f.title), "</title>\n<id>", self,
	         "</id>\n<link rel=\"self\" href=\"", self, "\"/>\n<link rel=\"alternate\" href=\"",
	         text_xml_escape(a, site), "/\"/>\n<updated>",
	         date_rfc3339(a, rows ? PQgetvalue(f.rows, 0, F_UPDATED) : now_epoch(a)),
	         "</updated>\n<author><name>", text_xml_escape(a, g_site.title),
	         "</name></author>\n", NULL);
	for (int i = 0; i < rows; i++) {
		const char *author = PQgetvalue(f.rows, i, F_AUTHOR);
		const char *link = article_link(a, site, PQgetvalue(f.rows, i, F_SLUG));

		xbuf_cat(b, "<entry>\n<title type=\"text\">",
		         text_xml_escape(a, PQgetvalue(f.rows, i, F_TITLE)),
		         "</title>\n<link rel=\"alternate\" href=\"", link, "\"/>\n<id>",
		         text_xml_escape(a, arena_printf(a, "%s/api/articles/%s", site,
		                                         PQgetvalue(f.rows, i, F_ID))),
		         "</id>\n<published>", date_rfc3339(a, PQgetvalue(f.rows, i, F_PUBLISHED)),
		         "</published>\n<updated>",
		         date_rfc3339(a, PQgetvalue(f.rows, i, F_UPDATED)), "</updated>\n", NULL);
		if (*author)
			xbuf_cat(b, "<author><name>", text_xml_escape(a, author),
			         "</name></author>\n", NULL);
		xbuf_cat(b, "<summary type=\"text\">",
		         text_xml_escape(a, PQgetvalue(f.rows, i, F_SUMMARY)),
		         "</summary>\n<content type=\"html\">",
		         text_xml_escape(a, PQgetvalue(f.rows, i, F_HTML)),
		         "</content>\n</entry>\n", NULL);
	}
	xbuf_add(b, "</feed>\n");
	return xml_send(res, "application/atom+xml; charset=utf-8", b);
}

/* GET /sitemap.xml: the home page, category pages and public articles
 * (sitemap protocol 0.9), each with its last modification. */
int sitemap_xml(struct req *req, struct res *res)
{
	struct arena *a = req->arena;
	const char *site = g_site.url;
	const char *esite = text_xml_escape(a, site);
	struct xbuf *b = xbuf_new(a);
	PGresult *arts, *cats;
	const char *limit[1];
	int na, nc;

	limit[0] = arena_printf(a, "%d", SITEMAP_MAX_URLS - 1);
	arts = db_query(a, SQL_SITEMAP_ARTICLES, 1, limit);
	if (!arts)
		return db_fail(res);
	na = PQntuples(arts);
	limit[0] = arena_printf(a, "%d", SITEMAP_MAX_URLS - 1 - na);
	cats = db_query(a, SQL_SITEMAP_CATEGORIES, 1, limit);
	if (!cats)
		return db_fail(res);
	nc = PQntuples(cats);

	xbuf_cat(b,
	         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	         "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
	         "<url><loc>",
	         esite, "/</loc>", NULL);
	/* Articles come newest first: the first one dates the home page. */
	if (na)
		xbuf_cat(b, "<lastmod>", date_rfc3339(a, PQgetvalue(arts, 0, 2)), "</lastmod>",
		         NULL);
	xbuf_add(b, "<changefreq>daily</changefreq></url>\n");
	for (int i = 0; i < nc; i++) {
		xbuf_cat(b, "<url><loc>", esite, "/categories/",
		         text_xml_escape(a, kv_escape(a, PQgetvalue(cats, i, 0))), "</loc>",
		         NULL);
		if (!PQgetisnull(cats, i, 1))
			xbuf_cat(b, "<lastmod>", date_rfc3339(a, PQgetvalue(cats, i, 1)),
			         "</lastmod>", NULL);
		xbuf_add(b, "</url>\n");
	}
	for (int i = 0; i < na; i++)
		xbuf_cat(b, "<url><loc>", article_link(a, site, PQgetvalue(arts, i, 0)),
		         "</loc><lastmod>", date_rfc3339(a, PQgetvalue(arts, i, 1)),
		         "</lastmod></url>\n", NULL);
	xbuf_add(b, "</urlset>\n");
	return xml_send(res, "application/xml; charset=utf-8", b);
}

/* ---- SQL ---- */

/* clang-format off */
static const char *const SQL_CATEGORY_BY_SLUG =
	"SELECT id, name FROM categories WHERE slug = $1";

static const char *const SQL_TAG_BY_SLUG =
	"SELECT id, name FROM tags WHERE slug = $1";

/* Visible to readers: published or scheduled, and its time has come. The
 * updated time is never before publication (scheduled articles). */
#define FEED_COLUMNS \
	"SELECT a.id, a.title, a.slug, a.summary, a.body_html," \
	"  floor(extract(epoch FROM a.published_at))::bigint," \
	"  floor(extract(epoch FROM greatest(a.updated_at, a.published_at)))::bigint," \
	"  coalesce(nullif(u.display_name, ''), u.username, '')" \
	" FROM articles a LEFT JOIN admin_users u ON u.id = a.author_id" \
	" WHERE a.status IN ('published', 'scheduled') AND a.published_at <= now()"
#define FEED_ORDER \
	" ORDER BY a.published_at DESC, a.id DESC LIMIT " STR(FEED_ITEMS)

static const char *const SQL_FEED_ALL =
	FEED_COLUMNS FEED_ORDER;

static const char *const SQL_FEED_CATEGORY =
	FEED_COLUMNS " AND a.category_id = $1::bigint" FEED_ORDER;

static const char *const SQL_FEED_TAG =
	FEED_COLUMNS
	" AND EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = a.id AND t.tag_id = $1::bigint)"
	FEED_ORDER;

/* slug, lastmod, and (first row) the newest publication for the home page. */
static const char *const SQL_SITEMAP_ARTICLES =
	"SELECT slug, floor(extract(epoch FROM greatest(updated_at, published_at)))::bigint,"
	"  floor(extract(epoch FROM published_at))::bigint"
	" FROM articles"
	" WHERE status IN ('published', 'scheduled') AND published_at <= now()"
	" ORDER BY published_at DESC, id DESC"
	" LIMIT $1::int";

static const char *const SQL_SITEMAP_CATEGORIES =
	"SELECT c.slug,"
	"  (SELECT floor(extract(epoch FROM max(greatest(a.updated_at, a.published_at))))::bigint"
	"   FROM articles a WHERE a.category_id = c.id"
	"    AND a.status IN ('published', 'scheduled') AND a.published_at <= now())"
	" FROM categories c"
	" ORDER BY c.sort_order, c.name"
	" LIMIT $1::int";
/* clang-format on */
