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
