/* search.c - full-text search over public articles, English and Chinese.
 *
 * The index (sql/004_search.sql) holds "index text": ASCII letters
 * lower-cased, runs of [a-z0-9] as words, runs of Han characters as
 * overlapping bigrams (a lone character as itself). text_tsquery() (text.h)
 * cuts a query with the same rules, so the two always agree: English words
 * become prefix terms ('postgre':*), Chinese runs their bigrams, all ANDed.
 * Results are ranked by ts_rank_cd (title A > summary B > body C), then
 * id; pages are offsets carried in a signed cursor bound to the query.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "arena.h"
#include "cursor.h"
#include "db.h"
#include "fn.h"
#include "json.h"
#include "text.h"
#include "articles.h"
#include "public.h"

/* The SQL is defined at the end of the file; handlers name it. */
static const char *const SQL_SEARCH;

#define SEARCH_LIMIT_DEFAULT 20
#define SEARCH_LIMIT_MAX     100
/* Longest query, in characters. */
#define SEARCH_Q_MAX 200
/* Deepest page offset a cursor may carry: ranking is not a keyset. */
#define SEARCH_OFFSET_MAX 10000
/* Snippets: characters of context before the first hit, and total length. */
#define SNIPPET_BEFORE 30
#define SNIPPET_CHARS  160

/* ---- query terms: text_search_terms() / text_tsquery() (text.h) ---- */

/* The tsquery for q (articles.h): the shared tokeniser's. */
const char *search_tsquery(struct arena *a, const char *q)
{
	return text_tsquery(a, q);
}

static bool is_word_ascii(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

struct search_terms {
	struct text_term *v;
	size_t n;
};

/* ---- snippets ---- */

static bool ascii_ieq(const char *s, const char *lower, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lower[i])
			return false;
	}
	return true;
}

/* Byte offset of the first occurrence of any term in s, or -1. ASCII terms
 * match case-insensitively at the start of a word. */
static long first_hit(const char *s, const struct search_terms *t)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < t->n; k++) {
			const struct text_term *term = &t->v[k];

			if (term->len > n - i)
				continue;
			if (term->ascii) {
				if (i > 0 && is_word_ascii((unsigned char)s[i - 1]))
					continue;
				if (ascii_ieq(s + i, term->text, term->len))
					return (long)i;
			} else if (memcmp(s + i, term->text, term->len) == 0) {
				return (long)i;
			}
		}
	}
	return -1;
}

/* Plain text around byte offset hit of s (or its start): at most
 * SNIPPET_CHARS characters, whitespace collapsed, Markdown marks and
 * control characters dropped, "…" where it was cut. Never HTML. */
static char *snippet_of(struct arena *a, const char *s, long hit)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), start = 0, i, chars = 0, o = 0;
	char *out = arena_alloc(a, SNIPPET_CHARS * 4 + 16);
	bool space = false;

	if (hit > 0) {
		start = (size_t)hit;
		/* SNIPPET_BEFORE characters back, on a character boundary. */
		for (int back = 0; back < SNIPPET_BEFORE && start > 0; back++) {
			start--;
			while (start > 0 && (u[start] & 0xC0) == 0x80)
				start--;
		}
	}
	if (start > 0) {
		memcpy(out, "\xE2\x80\xA6", 3);
		o = 3;
	}
	for (i = start; i < n && chars < SNIPPET_CHARS;) {
		uint32_t c;
		size_t len = text_utf8_next(u + i, n - i, &c);

		if (c == TEXT_UTF8_INVALID || c < 0x20 || c == 0x7F || c == ' ') {
			space = o > 0;
		} else if (c == '#' || c == '*' || c == '`' || c == '>' || c == '|') {
			/* Markdown marks: not worth showing. */
		} else {
			if (space) {
				out[o++] = ' ';
				chars++;
				space = false;
			}
			memcpy(out + o, s + i, len);
			o += len;
			chars++;
		}
		i += len;
	}
	if (i < n) {
		memcpy(out + o, "\xE2\x80\xA6", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* The snippet for a result: around the first hit in the summary, else in
 * the body, else the summary's (or body's) beginning. */
static char *search_snippet(struct arena *a, const char *summary, const char *body,
                            const struct search_terms *t)
{
	long hit = first_hit(summary, t);

	if (hit >= 0)
		return snippet_of(a, summary, hit);
	hit = first_hit(body, t);
	if (hit >= 0)
		return snippet_of(a, body, hit);
	return snippet_of(a, *summary ? summary : body, 0);
}

/* ---- the handler ---- */

/* One page of results for q (public.h). */
int search_page(struct arena *a, const char *q, const char *cursor, uint64_t limit, cJSON **items,
                const char **next)
{
	const char *params[3];
	const char *tsq;
	struct search_terms terms;
	PGresult *r;
	long offset = 0;
	char *fp;
	int rows;

	*items = NULL;
	*next = NULL;
	tsq = search_tsquery(a, q);
	if (tsq == NULL)
		return PUBLIC_ERR_NO_TERM;
	fp = cursor_fingerprint(a, tsq);
	if (cursor) {
		offset = cursor_offset_decode(a, cursor, fp, SEARCH_OFFSET_MAX);
		if (offset < 0)
			return PUBLIC_ERR_CURSOR;
	}

	/* One row more than asked tells whether another page exists. */
	params[0] = tsq;
	params[1] = arena_printf(a, "%" PRIu64, limit + 1);
	params[2] = arena_printf(a, "%ld", offset);
	r = db_query(a, SQL_SEARCH, 3, params);
	if (!r)
		return PUBLIC_ERR_DB;

	terms.n = text_search_terms(a, q, &terms.v);
	rows = PQntuples(r);
	*items = cJSON_CreateArray();
	for (int i = 0; i < rows && (uint64_t)i < limit; i++) {
		cJSON *item = db_row_json(r, i);
		const char *summary = PQgetvalue(r, i, 3);
		const char *body = PQgetvalue(r, i, 9);

		cJSON_DeleteItemFromObject(item, "body_head");
		cJSON_AddStringToObject(item, "snippet", search_snippet(a, summary, body, &terms));
		cJSON_AddItemToArray(*items, item);
	}
	if ((uint64_t)rows > limit && offset + (long)limit <= SEARCH_OFFSET_MAX)
		*next = cursor_offset_encode(a, fp, offset + (long)limit);
	return 0;
}

/* GET /api/search?q=&limit=&cursor=: public articles matching every term of
 * q, best first; items as the list's plus "rank" and a plain-text "snippet". */
int articles_search(struct req *req, struct res *res)
{
	const char *q = req_query(req, "q");
	const char *cursor = req_query(req, "cursor");
	const char *next;
	cJSON *root, *items;
	uint64_t limit;
	long qlen;
	int rc;

	if (q == NULL || *q == '\0')
		return res_error(res, 400, "invalid_parameter", "q is required", "q");
	qlen = json_utf8_len(q);
	if (qlen < 0)
		return res_error(res, 400, "invalid_parameter", "q must be UTF-8 text", "q");
	if (qlen > SEARCH_Q_MAX)
		return res_errorf(res, 400, "invalid_parameter", "q",
		                  "q is longer than %d characters", SEARCH_Q_MAX);
	if (req_query_u64(req, res, "limit", SEARCH_LIMIT_DEFAULT, 1, SEARCH_LIMIT_MAX, &limit))
		return res->status;
	rc = search_page(req->arena, q, cursor, limit, &items, &next);
	if (rc == PUBLIC_ERR_NO_TERM)
		return res_error(
		        res, 400, "invalid_parameter",
		        "q has no word to search for (letters, digits or Chinese characters)", "q");
	if (rc == PUBLIC_ERR_CURSOR)
		return res_error(res, 400, "invalid_cursor",
		                 "the cursor is malformed, expired or from another query",
		                 "cursor");
	if (rc != 0)
		return db_fail(res);

	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "items", items);
	if (next)
		cJSON_AddStringToObject(root, "next_cursor", next);
	else
		cJSON_AddNullToObject(root, "next_cursor");
	return res_json(res, 200, root);
}

/* ---- SQL ---- */

/* clang-format off */
/* Columns 0-7 as the public list, 8 the rank (rounded for JSON), 9 the
 * body's head for the snippet (not sent). */
/* Ranks the matches on the index entries and the search column only, then
 * fetches the wide columns for the one page: projecting body_md for every
 * match before the sort made a common word's search four times slower. */
static const char *const SQL_SEARCH =
	"WITH hits AS ("
	"  SELECT a.id, ts_rank_cd(a.search, q.query) AS rank"
	"  FROM articles a, to_tsquery('simple', $1) AS q (query)"
	"  WHERE a.search @@ q.query"
	"   AND a.status IN ('published', 'scheduled') AND a.published_at <= now()"
	"  ORDER BY 2 DESC, a.id DESC"
	"  LIMIT $2::int OFFSET $3::int)"
	" SELECT a.id, a.title, a.slug, a.summary, a.cover_url, a.published_at, a.updated_at,"
	"  a.view_count, round(h.rank::numeric, 6)::float8 AS rank,"
	"  left(a.body_md, 20000) AS body_head"
	" FROM hits h JOIN articles a ON a.id = h.id"
	" ORDER BY h.rank DESC, h.id DESC";
/* clang-format on */
