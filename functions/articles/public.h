/* public.h - the public reading queries that the JSON API (public.c,
 * search.c) and the server-rendered pages (pages.c) share, so a page shows
 * exactly what the API serves: the same visibility rules, the same keyset
 * cursors, the same ranking.
 *
 * Results are cJSON trees the caller owns (hand them to a parent or
 * cJSON_Delete them); strings are arena-owned. Return codes: 0 done,
 * PUBLIC_ERR_DB (db_last_error() tells which; callers answer db_fail()),
 * PUBLIC_ERR_CURSOR (malformed or forged cursor), PUBLIC_ERR_FILTERS (a
 * cursor issued for other filters or another query).
 */
#ifndef ARTICLES_PUBLIC_H
#define ARTICLES_PUBLIC_H

#include <stdint.h>

#include <cJSON.h>

struct arena;

#define PUBLIC_ERR_DB      (-1)
#define PUBLIC_ERR_CURSOR  (-2)
#define PUBLIC_ERR_FILTERS (-3)
/* search_page: the query has no searchable term. */
#define PUBLIC_ERR_NO_TERM (-4)

/* SQL: the article row t is visible to readers, published or scheduled
 * and its time has come (drafts and future articles never are). */
#define PUBLIC_VISIBLE_SQL(t) " " t ".status <> 'draft' AND " t ".published_at <= now()"

/* SQL for the articles t scheduled for the future (few: a range scan of
 * articles_public_idx); trigger-kept counts of non-drafts less these are the
 * public counts. */
#define PUBLIC_FUTURE_SQL(t) " " t ".status <> 'draft' AND " t ".published_at > now()"

/* SQL: every category (id, name, slug, sort_order, article_count: its
 * public articles) by sort_order, name; from article_counts (006). */
#define PUBLIC_CATEGORIES_SQL                                                                      \
	"SELECT c.id, c.name, c.slug, c.sort_order,"                                               \
	"  COALESCE(k.n, 0) - (SELECT count(*) FROM articles a"                                    \
	"                      WHERE a.category_id = c.id AND" PUBLIC_FUTURE_SQL("a") ")"          \
	"   AS article_count"                                                                      \
	" FROM categories c LEFT JOIN article_counts k ON k.category_id = c.id"                    \
	" ORDER BY c.sort_order, c.name"

/* SQL: the tag cloud, tags on at least one public article (id, name, slug,
 * article_count), most used first, then by name; limit is the SQL text of
 * the LIMIT ("$1::int", "30"). From tag_counts (009). */
#define PUBLIC_TAG_CLOUD_SQL(limit)                                                                \
	"SELECT t.id, t.name, t.slug, k.n - COALESCE(f.n, 0) AS article_count"                     \
	" FROM tag_counts k JOIN tags t ON t.id = k.tag_id"                                        \
	" LEFT JOIN (SELECT x.tag_id, count(*) AS n FROM articles a"                               \
	"            JOIN article_tags x ON x.article_id = a.id"                                   \
	"            WHERE" PUBLIC_FUTURE_SQL("a") " GROUP BY x.tag_id) f ON f.tag_id = k.tag_id"  \
	" WHERE k.n - COALESCE(f.n, 0) > 0"                                                        \
	" ORDER BY article_count DESC, t.name LIMIT " limit

/* SQL: the quote of the UTC day (text, author, date): quotes by id, index =
 * days since 1970 mod their count; the same all day for everyone. */
#define PUBLIC_QUOTE_SQL                                                                           \
	"SELECT q.text, q.author, to_char(d.day, 'YYYY-MM-DD') AS date"                            \
	" FROM (SELECT (now() AT TIME ZONE 'UTC')::date AS day) d,"                                \
	"  LATERAL (SELECT text, author FROM quotes ORDER BY id"                                   \
	"   OFFSET (d.day - date '1970-01-01')"                                                    \
	"          % GREATEST((SELECT count(*) FROM quotes), 1) LIMIT 1) q"

/* The list's filters (NULL when absent): category slug, tag slug, text. */
struct public_filter {
	const char *category;
	const char *tag;
	const char *q;
};

/* One page of public articles under f, newest first, after cursor (NULL:
 * the first page): *items the list items (array), *next the next page's
 * cursor or NULL on the last page. A q without a searchable term matches
 * nothing (after the cursor is checked). (public.c) */
int public_list_page(struct arena *a, const struct public_filter *f, const char *cursor,
                     uint64_t limit, cJSON **items, const char **next);

/* The public article with this slug (body, category, tags, prev, next,
 * related), as GET /api/articles/{slug} answers it: 0 with *out, 1 when
 * there is none (or the slug cannot be one), PUBLIC_ERR_DB. (public.c) */
int public_article_by_slug(struct arena *a, const char *slug, cJSON **out);

/* One page of search results for q, best first (items as the list's plus
 * "rank" and a plain-text "snippet"), after cursor (NULL: the first page):
 * 0, PUBLIC_ERR_NO_TERM, PUBLIC_ERR_CURSOR (also for another query's
 * cursor), PUBLIC_ERR_DB. q is valid UTF-8 of bounded length. (search.c) */
int search_page(struct arena *a, const char *q, const char *cursor, uint64_t limit, cJSON **items,
                const char **next);

#endif
