/* articles.h - the articles function's handlers, one file per concern:
 *
 *   public.c    health, list (filters, total, cursor), one article by id or
 *               slug (tags, prev/next, related), hot, categories, tag cloud,
 *               quote of the day, view counting
 *   search.c    full-text search (English and Chinese), the list's q filter
 *   feeds.c     RSS 2.0, Atom, sitemap.xml
 *   admin.c     writing articles: create, edit, delete, status, schedule,
 *               Markdown, slugs, automatic summary and keyword tags
 *   taxonomy.c  categories and tags CRUD, image upload for the editor
 *   public.h    the reading functions public.c and search.c share with pages.c
 *   pages.c     the public site as server-rendered HTML (home, archives,
 *               search, article with comments, about) from the templates
 *               compiled in from frontend/blog/templates
 *   editor.c    the admin's dashboard counts and Markdown preview
 *   site.c      SITE_URL / SITE_TITLE / SITE_DESCRIPTION
 *
 * Every handler follows fn.h: it returns the HTTP status it set in res.
 */
#ifndef ARTICLES_H
#define ARTICLES_H

#include "fn.h"
#include "tmpl.h"

/* Start-up: each reads its part of the function's configuration; 0, or -1
 * with the bad variable named in err. */
int public_init(char *err, size_t errlen);
int uploads_init(char *err, size_t errlen);
int pages_init(char *err, size_t errlen);
int site_init(char *err, size_t errlen);

/* site.c: the blog's identity, set by site_init (defaults otherwise). url
 * is http(s) without a trailing slash. */
struct site {
	const char *url, *title, *description;
};
extern struct site g_site;

/* public.c */
int health_get(struct req *req, struct res *res);
int articles_list(struct req *req, struct res *res);
int articles_get(struct req *req, struct res *res);
int articles_hot(struct req *req, struct res *res);
int articles_view(struct req *req, struct res *res);
int categories_list(struct req *req, struct res *res);
int tags_cloud(struct req *req, struct res *res);
int quote_today(struct req *req, struct res *res);

/* search.c */
int articles_search(struct req *req, struct res *res);
/* The tsquery text for a user's query q (English words and Han bigrams
 * ANDed), to bind as $n in `search @@ to_tsquery('simple', $n)`; NULL when
 * q has no searchable term. Arena-owned. */
const char *search_tsquery(struct arena *a, const char *q);

/* feeds.c */
int feed_rss(struct req *req, struct res *res);
int feed_atom(struct req *req, struct res *res);
int sitemap_xml(struct req *req, struct res *res);

/* admin.c */
int admin_articles_list(struct req *req, struct res *res);
int admin_articles_get(struct req *req, struct res *res);
int admin_articles_create(struct req *req, struct res *res);
int admin_articles_update(struct req *req, struct res *res);
int admin_articles_delete(struct req *req, struct res *res);

/* taxonomy.c */
int categories_create(struct req *req, struct res *res);
int categories_update(struct req *req, struct res *res);
int categories_delete(struct req *req, struct res *res);
int tags_create(struct req *req, struct res *res);
int tags_update(struct req *req, struct res *res);
int tags_delete(struct req *req, struct res *res);
int admin_tags_list(struct req *req, struct res *res);
int uploads_create(struct req *req, struct res *res);

/* pages.c: text/html responses */
int page_home(struct req *req, struct res *res);
int page_article(struct req *req, struct res *res);
int page_category(struct req *req, struct res *res);
int page_tag(struct req *req, struct res *res);
int page_search(struct req *req, struct res *res);
int page_about(struct req *req, struct res *res);

/* editor.c */
int admin_stats(struct req *req, struct res *res);
int admin_preview(struct req *req, struct res *res);

/* The page templates (frontend/blog/templates), compiled in by deploy/embed. */
extern const struct tmpl_source blog_templates[];

#endif
